"""Programs that used to crash srcgrad (issues 12 and 22): each now gives numbers that
agree with central finite differences, or a located SrcgradError (never an
InternalError, never a raw Python exception)."""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest

import srcgrad
from srcgrad.errors import InternalError, SrcgradError

EPS = 1e-6


def _leaves(tree, path=()):
    """Paths to the float leaves (and array entries) of nested lists, tuples and dicts."""
    if isinstance(tree, dict):
        return [p for k, v in tree.items() for p in _leaves(v, (*path, k))]
    if isinstance(tree, (list, tuple)):
        return [p for i, v in enumerate(tree) for p in _leaves(v, (*path, i))]
    if isinstance(tree, np.ndarray):
        return [(*path, idx) for idx in np.ndindex(tree.shape)]
    return [path]


def _get(tree, path):
    for k in path:
        tree = tree[k]
    return tree


def _bumped(args, path, delta):
    """``args`` with the leaf at ``path`` moved by ``delta`` (tuples rebuilt)."""
    def bump(tree, rest):
        if not rest:
            return tree + delta
        if isinstance(tree, np.ndarray):
            out = tree.copy()
            out[rest[0]] += delta
            return out
        if isinstance(tree, tuple):
            return tuple(bump(v, rest[1:]) if i == rest[0] else v for i, v in enumerate(tree))
        out = copy.copy(tree)
        out[rest[0]] = bump(tree[rest[0]], rest[1:])
        return out
    return bump(list(args), path)


def central(f, args, i):
    """The central-difference gradient of scalar ``f`` in argument ``i``, shaped like it."""
    grad = copy.deepcopy(args[i])
    grad = np.zeros(np.shape(grad)) if not isinstance(grad, (list, tuple, dict)) else grad
    out = {}
    for path in _leaves(args[i], (i,)):
        hi = f(*_bumped(args, path, EPS))
        lo = f(*_bumped(args, path, -EPS))
        out[path[1:]] = (hi - lo) / (2 * EPS)
    if not isinstance(args[i], (list, tuple, dict)):
        return np.array(out[()]) if np.ndim(args[i]) == 0 else \
            np.array([out[(idx,)] for idx in np.ndindex(np.shape(args[i]))]).reshape(
                np.shape(args[i]))
    return out, grad


def assert_grad_matches(f, args, i, got):
    want = central(f, args, i)
    if isinstance(want, tuple):
        want, _ = want
        for path, value in want.items():
            np.testing.assert_allclose(_get(got, path), value, rtol=1e-5, atol=1e-7)
    else:
        np.testing.assert_allclose(np.asarray(got, dtype=float), want, rtol=1e-5, atol=1e-7)


def assert_located(fn, file_fragment=__file__):
    """``fn()`` raises a SrcgradError (not InternalError) located in the user's file."""
    with pytest.raises(SrcgradError) as info:
        fn()
    exc = info.value
    assert not isinstance(exc, InternalError), str(exc)
    assert exc.loc is not None and exc.loc.file == file_fragment, str(exc)
    assert exc.hint, str(exc)
    assert "^" in str(exc)
    return exc


# -- 2: a for loop over a list argument --------------------------------------------
def loop_over_list(xs, y):
    total = 0.0
    for v in xs:
        total = total + v * v * (1.0 + total)
    return total * y


def loop_over_list_of_arrays(xs, y):
    total = 0.0
    for v in xs:
        total = total + np.sum(np.sin(v) * y)
    return total


def enumerate_zip_over_lists(xs, ws):
    total = 0.0
    for i, v in enumerate(xs):
        total = total + v * (i + 1.0)
    for v, w in zip(xs, ws):
        total = total + v * w * w
    return total


def comprehension_over_list(xs):
    return sum(v ** 3 for v in xs)


def loop_over_dict(d):
    total = 0.0
    for v in d:
        total = total + v
    return total


@pytest.mark.parametrize("f, args", [
    (loop_over_list, ([0.1, 0.2, 0.3], 2.0)),
    (loop_over_list, ((0.5, -0.2), 1.5)),
    (loop_over_list_of_arrays, ([np.array([0.1, 0.4]), np.array([-0.3, 0.7])],
                                np.array([1.5, -0.5]))),
    (enumerate_zip_over_lists, ([0.3, -0.1, 0.8], [1.0, 2.0, 3.0])),
    (comprehension_over_list, ([0.3, -0.1, 0.8],)),
])
def test_loop_over_list_argument(f, args):
    wrt = tuple(range(len(args)))
    grads = srcgrad.grad(f, wrt=wrt)(*args)
    value, grads2 = srcgrad.value_and_grad(f, wrt=wrt)(*args)
    assert value == pytest.approx(f(*args))
    for i in wrt:
        assert_grad_matches(f, args, i, grads[i])
        assert_grad_matches(f, args, i, grads2[i])


def test_loop_over_list_argument_forward_mode():
    xs, y = [0.1, 0.2, 0.3], 2.0
    dxs, dy = [1.0, -0.5, 0.25], 0.5
    value, tangent = srcgrad.jvp(loop_over_list, (xs, y), (dxs, dy))
    want = (loop_over_list([a + EPS * b for a, b in zip(xs, dxs)], y + EPS * dy)
            - loop_over_list([a - EPS * b for a, b in zip(xs, dxs)], y - EPS * dy)) / (2 * EPS)
    assert value == pytest.approx(loop_over_list(xs, y))
    assert tangent == pytest.approx(want, rel=1e-6)


def test_loop_over_dict_argument_iterates_its_keys():
    # A dict's keys are known, so the loop is unrolled; `total + "a"` is Python's own
    # TypeError, raised as the function itself raises it.
    with pytest.raises(TypeError):
        loop_over_dict({"a": 1.0, "b": 2.0})
    with pytest.raises(TypeError):
        srcgrad.grad(loop_over_dict)({"a": 1.0, "b": 2.0})


# -- 3: a comprehension's list, summed and indexed --------------------------------
def list_summed_and_indexed(x):
    sq = [x[i] ** 2 for i in range(x.shape[0])]
    return sum(sq) * sq[0]


def list_copied_then_indexed(x):
    sq = [x[i] * x[0] for i in range(x.shape[0])]
    other = sq
    return sum(other) * sq[1] + other[2]


@pytest.mark.parametrize("f", [list_summed_and_indexed, list_copied_then_indexed])
def test_list_summed_and_indexed(f):
    x = np.array([0.3, -0.7, 1.1])
    assert_grad_matches(f, (x,), 0, srcgrad.grad(f)(x))
    value, g = srcgrad.value_and_grad(f)(x)
    assert value == pytest.approx(f(x))
    assert_grad_matches(f, (x,), 0, g)
    _, pullback = srcgrad.vjp(f, x)
    assert_grad_matches(f, (x,), 0, pullback(1.0)[0])
    v = np.array([1.0, 0.5, -2.0])
    _, tangent = srcgrad.jvp(f, (x,), (v,))
    assert tangent == pytest.approx((f(x + EPS * v) - f(x - EPS * v)) / (2 * EPS), rel=1e-6)


# -- 4: a dict display written into -------------------------------------------------
def dict_written(x, y):
    d = {"a": x * y, "b": math.exp(y)}
    d["c"] = d["a"] + 1.0
    d["a"] = d["a"] * 3.0
    d["b"] += x
    return d["c"] * d["b"] + d["a"]


def dict_argument_written(p, x):
    p["W"] = p["W"] * x
    return p["W"] * p["b"]


def dict_written_through_alias(x):
    d = {"a": x}
    e = d
    d["a"] = x * 2.0
    return e["a"]


def _write_entry(d, x):
    d["a"] = x
    return x


def dict_written_by_helper(x):
    d = {"a": x}
    y = _write_entry(d, x * 2.0)
    return d["a"] * y


@pytest.mark.parametrize("f, args", [
    (dict_written, (0.5, 0.3)),
    (dict_argument_written, ({"W": 0.5, "b": -1.5}, 2.0)),
])
def test_dict_written_into(f, args):
    wrt = tuple(range(len(args)))
    grads = srcgrad.grad(f, wrt=wrt)(*copy.deepcopy(args))
    for i in wrt:
        assert_grad_matches(lambda *a: f(*copy.deepcopy(a)), args, i, grads[i])
    tangents = tuple(copy.deepcopy(a) for a in args)
    value, tangent = srcgrad.jvp(f, copy.deepcopy(args), tangents)
    assert value == pytest.approx(f(*copy.deepcopy(args)))


def test_dict_written_into_vjp():
    value, pullback = srcgrad.vjp(dict_written, 0.5, 0.3)
    gx, gy = pullback(1.0)
    assert value == pytest.approx(dict_written(0.5, 0.3))
    assert_grad_matches(dict_written, (0.5, 0.3), 0, gx)
    assert_grad_matches(dict_written, (0.5, 0.3), 1, gy)


def dict_set_in_a_branch(x):
    d = {"a": x}
    if x > 0:
        d["a"] = x * 2.0
    return d["a"]


@pytest.mark.parametrize("f", [dict_written_through_alias, dict_written_by_helper])
def test_dict_written_through_another_name_is_refused(f):
    assert_located(lambda: srcgrad.grad(f)(0.7))


def test_dict_set_in_a_branch_is_merged_entry_by_entry():
    for x in (0.7, -0.7):
        assert_grad_matches(dict_set_in_a_branch, (x,), 0, srcgrad.grad(dict_set_in_a_branch)(x))


# -- 6: outputs that depend on no argument, or some ---------------------------------
def constant(x, y):
    return 2.0


def only_second(x, y):
    return np.sum(y * y)


@pytest.mark.parametrize("f", [constant, only_second])
def test_outputs_independent_of_arguments(f):
    x, y = 0.7, np.array([0.5, -1.0, 2.0])
    value, pullback = srcgrad.vjp(f, x, y)
    assert value == pytest.approx(f(x, y))
    gx, gy = pullback(1.0)
    assert isinstance(gx, float) and gx == 0.0
    assert np.shape(gy) == y.shape
    assert_grad_matches(f, (x, y), 1, gy)
    gx2, gy2 = srcgrad.grad(f, wrt=(0, 1))(x, y)
    assert gx2 == 0.0
    assert_grad_matches(f, (x, y), 1, gy2)
    value, g = srcgrad.value_and_grad(f, wrt="y")(x, y)
    assert value == pytest.approx(f(x, y))
    assert_grad_matches(f, (x, y), 1, g)
    _, tangent = srcgrad.jvp(f, (x, y), (1.0, np.ones(3)))
    assert tangent == pytest.approx(np.sum(2 * y) if f is only_second else 0.0)
    assert_grad_matches(f, (x, y), 1, srcgrad.jacobian(f, wrt=1, mode="reverse")(x, y))
    assert_grad_matches(f, (x, y), 1, srcgrad.jacobian(f, wrt=1, mode="forward")(x, y))
    np.testing.assert_allclose(srcgrad.hessian(f, wrt=1)(x, y),
                               2 * np.eye(3) if f is only_second else np.zeros((3, 3)))
    assert srcgrad.hessian(f, wrt=0)(x, y) == 0.0


# -- 7: tuples (and dicts) carried through a loop ------------------------------------
def tuple_from_constants(x):
    st = (0.0, 0.3)
    for _i in range(3):
        p, q = st
        st = (q, np.tanh(p + x))
    return st[0] + st[1]


def tuple_from_values(x, y):
    st = (x, y * 2.0)
    for _i in range(4):
        p, q = st
        st = (q * x, p + q * 0.5)
    return st[0] * st[1]


def tuple_in_nested_loops(x):
    st = (x, 1.0)
    for _i in range(2):
        for _j in range(3):
            a, b = st
            st = (a * b, math.sin(a) + b)
    return st[0] + st[1]


def dict_in_loop(x):
    d = {"s": 0.0, "p": 1.0}
    for i in range(3):
        d["s"] = d["s"] + x * i
        d["p"] = d["p"] * (x + d["s"])
    return d["p"]


def tuple_growing_in_loop(x):
    st = (x, x)
    for _i in range(2):
        st = (st[0], st[1], x)
    return st[0]


def tuple_in_while(x):
    st = (x, 0.0)
    while st[0] < 3.0:
        st = (st[0] * 2.0, st[1] + 1.0)
    return st[1] * x


@pytest.mark.parametrize("f, args", [
    (tuple_from_constants, (0.4,)),
    (tuple_from_values, (0.4, -0.3)),
    (tuple_in_nested_loops, (0.6,)),
    (dict_in_loop, (0.8,)),
    (tuple_in_while, (0.5,)),
])
def test_loop_carried_structure(f, args):
    wrt = tuple(range(len(args)))
    grads = srcgrad.grad(f, wrt=wrt)(*args)
    for i in wrt:
        assert_grad_matches(f, args, i, grads[i])
    value, pullback = srcgrad.vjp(f, *args)
    assert value == pytest.approx(f(*args))
    for i, g in enumerate(pullback(1.0)):
        assert_grad_matches(f, args, i, g)
    tangents = tuple(1.0 for _ in args)
    _, tangent = srcgrad.jvp(f, args, tangents)
    want = (f(*(a + EPS for a in args)) - f(*(a - EPS for a in args))) / (2 * EPS)
    assert tangent == pytest.approx(want, rel=1e-6)


@pytest.mark.parametrize("f", [tuple_growing_in_loop])
def test_loop_carried_structure_refused(f):
    assert_located(lambda: srcgrad.grad(f)(0.5))


# -- 1: what is not a plain function -------------------------------------------------
class Model:
    def __init__(self, W):
        self.W = W

    def loss(self, x):
        return np.sum(np.tanh(self.W @ x) ** 2)

    @staticmethod
    def square(x):
        return np.sum(x ** 2)

    @classmethod
    def cube(cls, x):
        return np.sum(x ** 3)

    def __call__(self, x):
        return np.sum(np.sin(self.W @ x))


MODEL = Model(np.arange(6.0).reshape(2, 3) / 5)
X = np.array([0.1, 0.2, -0.3])
_NAMESPACE: dict = {}
exec("def made_by_exec(x):\n    return x * x\n", _NAMESPACE)  # noqa: S102


# (bound methods, MODEL.loss and Model.cube, are differentiated: tests/test_methods.py)
@pytest.mark.parametrize("target", [MODEL, np.sin, math.exp, _NAMESPACE["made_by_exec"]])
@pytest.mark.parametrize("api", ["grad", "value_and_grad", "vjp", "jvp", "hessian", "jacobian"])
def test_not_a_plain_function_is_refused_at_the_call(target, api):
    calls = {
        "grad": lambda: srcgrad.grad(target)(X),
        "value_and_grad": lambda: srcgrad.value_and_grad(target)(X),
        "vjp": lambda: srcgrad.vjp(target, X),
        "jvp": lambda: srcgrad.jvp(target, (X,), (X,)),
        "hessian": lambda: srcgrad.hessian(target)(X),
        "jacobian": lambda: srcgrad.jacobian(target)(X),
    }
    exc = assert_located(calls[api])
    assert "self" in exc.message or "source" in exc.message


def test_method_of_the_class_reads_the_fields_of_self():
    # (was refused at self.W; since issue 14 self is a structure: tests/test_pytrees.py)
    assert_grad_matches(Model.loss, (MODEL, X), 1, srcgrad.grad(Model.loss, wrt=1)(MODEL, X))


def test_staticmethod_is_a_plain_function():
    assert_grad_matches(Model.square, (X,), 0, srcgrad.grad(Model.square)(X))


# -- 5: derivatives of srcgrad's own derivatives -------------------------------------
def uses_numpy(x, y):
    return np.sum(np.sin(x) * x) * y + np.sum(x ** 3) * y * y


def _fd_direction(g, args, tangents):
    plus = [a + EPS * t for a, t in zip(args, tangents)]
    minus = [a - EPS * t for a, t in zip(args, tangents)]
    hi, lo = g(*plus), g(*minus)
    if isinstance(hi, tuple):
        return tuple((np.asarray(h) - np.asarray(ell)) / (2 * EPS) for h, ell in zip(hi, lo))
    return (np.asarray(hi) - np.asarray(lo)) / (2 * EPS)


ARGS5 = (np.array([0.3, -0.5, 0.9]), 0.7)
TANGENTS5 = (np.array([1.0, 0.5, -0.25]), -0.5)


def _grad_by_differences(x, y):
    return central(uses_numpy, (x, y), 0)


@pytest.mark.parametrize("wrt", [0, 1, (0, 1)])
def test_jvp_of_grad(wrt):
    g = srcgrad.grad(uses_numpy, wrt=wrt)
    value, tangent = srcgrad.jvp(g, ARGS5, TANGENTS5)
    expected_value = g(*ARGS5)
    want = _fd_direction(g, ARGS5, TANGENTS5)  # g agrees with differences (below)
    if isinstance(wrt, tuple):
        for v, e, t, w in zip(value, expected_value, tangent, want):
            np.testing.assert_allclose(v, e)
            np.testing.assert_allclose(t, w, rtol=1e-5, atol=1e-7)
    else:
        np.testing.assert_allclose(value, expected_value)
        np.testing.assert_allclose(tangent, want, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(srcgrad.grad(uses_numpy)(*ARGS5), _grad_by_differences(*ARGS5),
                               rtol=1e-5, atol=1e-7)


def test_jvp_of_value_and_grad():
    g = srcgrad.value_and_grad(uses_numpy)
    (value, gx), (value_dot, gx_dot) = srcgrad.jvp(g, ARGS5, TANGENTS5)
    assert value == pytest.approx(uses_numpy(*ARGS5))
    assert value_dot == pytest.approx(_fd_direction(uses_numpy, ARGS5, TANGENTS5), rel=1e-6)
    np.testing.assert_allclose(gx, _grad_by_differences(*ARGS5), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(gx_dot, _fd_direction(lambda x, y: g(x, y)[1], ARGS5,
                                                     TANGENTS5), rtol=1e-5, atol=1e-7)


def test_vjp_of_grad_and_jacobian_of_grad():
    x, y = ARGS5
    value, pullback = srcgrad.vjp(srcgrad.grad(uses_numpy), x, y)
    np.testing.assert_allclose(value, _grad_by_differences(x, y), rtol=1e-5, atol=1e-7)
    ct = np.array([0.5, -1.0, 2.0])
    cx, cy = pullback(ct)
    # d/dx and d/dy of <ct, grad_x f>, by differences of the (checked) gradient
    np.testing.assert_allclose(cx, central(lambda x, y: ct @ srcgrad.grad(uses_numpy)(x, y),
                                           (x, y), 0), rtol=1e-5, atol=1e-7)
    assert cy == pytest.approx(float(central(
        lambda x, y: ct @ srcgrad.grad(uses_numpy)(x, y), (x, y), 1)), rel=1e-5)
    hess = srcgrad.hessian(uses_numpy)(x, y)
    for mode in ("forward", "reverse"):
        np.testing.assert_allclose(srcgrad.jacobian(srcgrad.grad(uses_numpy), mode=mode)(x, y),
                                   hess, rtol=1e-9, atol=1e-12)


def test_grad_of_grad_still_works():
    def f(x):
        return math.sin(x) * x
    assert srcgrad.grad(srcgrad.grad(f))(0.3) == pytest.approx(
        -math.sin(0.3) * 0.3 + 2 * math.cos(0.3))


@pytest.mark.parametrize("call", [
    lambda: srcgrad.vjp(srcgrad.value_and_grad(uses_numpy), *ARGS5),
    lambda: srcgrad.vjp(srcgrad.grad(uses_numpy, wrt=(0, 1)), *ARGS5),
    lambda: srcgrad.grad(srcgrad.value_and_grad(uses_numpy))(*ARGS5),
    lambda: srcgrad.jvp(srcgrad.hessian(uses_numpy), ARGS5, TANGENTS5),
    lambda: srcgrad.grad(srcgrad.hvp(uses_numpy))(*ARGS5, X),
])
def test_other_derivatives_of_derivatives_are_refused(call):
    assert_located(call)
