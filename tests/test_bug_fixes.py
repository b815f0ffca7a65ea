"""Regression tests for bugs found in earlier sessions, one class per bug.

Each test failed before its fix. Expected numbers come from central differences
(``tests/numeric.py``) or hand-derived formulas, never from srcgrad itself.
"""

from __future__ import annotations

import inspect

import numeric
import numpy as np
import pytest

import srcgrad
from srcgrad import NoDerivativeRule, SrcgradError


def _line_of(fn, token: str) -> str:
    """``file:line:`` of the first line of ``fn`` holding ``token``."""
    lines, first = inspect.getsourcelines(fn)
    hits = [first + i for i, text in enumerate(lines) if token in text]
    return f"{inspect.getsourcefile(fn)}:{hits[0]}:"


def _refused(cls, call, *args):
    with pytest.raises(cls) as info:
        call(*args)
    return str(info.value)


# -- a partials rule's None: not differentiable there (a located error) ---------------------

def _nan_replaced_by_x(x):
    y = np.array([np.nan, 1.0]) * x
    return np.sum(np.nan_to_num(y, nan=x))  # NAN


def _custom_none(x):
    return _scaled(2.0, x)  # CUSTOM


def _scaled(a, b):
    return a * b


srcgrad.defpartials(_scaled, "a, b", "b", None)


def _copysign(x, y):
    return np.copysign(x, y) * 2.0


class TestPartialsNone:
    @pytest.mark.parametrize("transform", [
        lambda f: srcgrad.grad(f)(2.0),
        lambda f: srcgrad.jvp(f, (2.0,), (1.0,)),
        lambda f: srcgrad.hessian(f)(2.0),
    ], ids=["grad", "jvp", "hessian"])
    def test_differentiated_value_in_a_none_parameter_is_refused(self, transform):
        """nan_to_num's nan= has a derivative (where x is NaN), which the rule does not
        give: a silent zero before."""
        msg = _refused(NoDerivativeRule, transform, _nan_replaced_by_x)
        assert _line_of(_nan_replaced_by_x, "# NAN") in msg and "'nan'" in msg

    def test_user_partials_none_is_refused(self):
        msg = _refused(NoDerivativeRule, srcgrad.grad(_custom_none), 3.0)
        assert _line_of(_custom_none, "# CUSTOM") in msg and "'b'" in msg

    def test_declared_zero_partial_is_zero(self):
        """copysign(x, y) is a step in y: zero=("y",) keeps its derivative zero."""
        x, y = 1.5, -2.0
        gx, gy = srcgrad.grad(_copysign, wrt=("x", "y"))(x, y)
        assert gy == 0.0
        assert gx == pytest.approx(numeric.gradient(_copysign, (x, y), 0))


# -- refusals that say what to write instead --------------------------------------------------

_XP, _FP = np.array([0.3, 1.7, 1.1]), np.array([1.0, 3.0, 2.0])


def _interp_period(x):
    return np.sum(np.interp(x, _XP, _FP, period=2.0))  # PERIOD


def _interp_as_hinted(x):
    period = 2.0
    xp = _XP % period
    o = np.argsort(xp)
    xp, fp = xp[o], _FP[o]
    xp = np.concatenate([xp[-1:] - period, xp, xp[:1] + period])
    fp = np.concatenate([fp[-1:], fp, fp[:1]])
    return np.sum(np.interp(x % period, xp, fp))


def _select_runtime(x):
    conds = []
    for k in range(2):
        conds.append(x > k)
    return np.sum(np.select(conds, [x, 2 * x], default=0.0))  # SELECT


def _select_as_hinted(x):
    conds = []
    for k in range(2):
        conds.append(x > k)
    choices = [x, 2 * x]
    out = np.zeros_like(x)
    for k in range(1, -1, -1):
        out = np.where(conds[k], choices[k], out)
    return np.sum(out)


class TestHints:
    def test_interp_period_says_what_to_write(self):
        msg = _refused(SrcgradError, srcgrad.grad(_interp_period), np.array([0.5, 1.5]))
        assert _line_of(_interp_period, "# PERIOD") in msg
        assert "np.interp(x % period, xp, fp)" in msg

    def test_the_hinted_interp_is_periodic_interp(self):
        x = np.array([0.5, 1.5, 2.9, -0.4])
        assert _interp_as_hinted(x) == pytest.approx(_interp_period(x))
        np.testing.assert_allclose(srcgrad.grad(_interp_as_hinted)(x),
                                   numeric.gradient(_interp_period, (x,), 0), rtol=1e-7)

    def test_select_of_runtime_lists_says_what_to_write(self):
        msg = _refused(NoDerivativeRule, srcgrad.grad(_select_runtime), np.array([0.5, 1.5]))
        assert _line_of(_select_runtime, "# SELECT") in msg and "np.where" in msg

    def test_the_hinted_select_is_select(self):
        x = np.array([0.5, 1.5, -2.0])
        assert _select_as_hinted(x) == pytest.approx(_select_runtime(x))
        np.testing.assert_allclose(srcgrad.grad(_select_as_hinted)(x),
                                   numeric.gradient(_select_runtime, (x,), 0), rtol=1e-7)


# -- forward mode: a tuple-valued rule's shares add entry by entry ----------------------------

def _pair(a, b):
    return (a * b, a + b)


def _pair_jvp(dot, other):
    return (dot * other, dot)


srcgrad.defvjp(_pair, "a, b", result="list", a="g[0] * b + g[1]", b="g[0] * a + g[1]",
               jvp_a="_pair_jvp(dot, b)", jvp_b="_pair_jvp(dot, a)")


def _of_pair(x, y):
    p, s = _pair(x, y)
    return p * s


def _lstsq_both(a, b):
    x, res, _, s = np.linalg.lstsq(a, b, rcond=None)
    return np.concatenate([x, res, s])


class TestForwardTupleShares:
    def test_custom_tuple_rule_in_two_arguments(self):
        args, dirs = (2.0, 3.0), (1.0, -0.5)
        _, tangent = srcgrad.jvp(_of_pair, args, dirs)
        assert tangent == pytest.approx(numeric.directional(_of_pair, args, dirs), rel=1e-9)

    def test_lstsq_in_a_and_b(self):
        rng = np.random.default_rng(0)
        args = (rng.normal(size=(5, 3)), rng.normal(size=5))
        dirs = (rng.normal(size=(5, 3)), rng.normal(size=5))
        _, tangent = srcgrad.jvp(_lstsq_both, args, dirs)
        np.testing.assert_allclose(tangent, numeric.directional(_lstsq_both, args, dirs),
                                   rtol=1e-7, atol=1e-9)


# -- a Python int in wrt used as a size, bound or index: refused where it is used -------------

def _loop_count(x, n):
    s = 0.0
    for i in range(n):  # RANGE
        s = s + x * i
    return s


def _size(x, n):
    return np.sum(np.zeros(n) + x)  # ZEROS


def _bound(x, n):
    return np.sum(x[:n] ** 2)  # BOUND


def _index(x, n):
    return x[n] * 2.0  # INDEX


def _as_number(x, n):
    return x * n ** 2


_X4 = np.arange(4.0) + 0.5
_TRANSFORMS = {
    "grad": lambda f, x: srcgrad.grad(f, wrt="n")(x, 2),
    "value_and_grad": lambda f, x: srcgrad.value_and_grad(f, wrt=("x", "n"))(x, 2),
    "vjp": lambda f, x: srcgrad.vjp(f, x, 2)[1](1.0),
    "jvp": lambda f, x: srcgrad.jvp(f, (x, 2), (np.ones_like(x), 1.0)),
    "hessian": lambda f, x: srcgrad.hessian(f, wrt="n")(x, 2),
}


class TestIntegerUses:
    @pytest.mark.parametrize("transform", list(_TRANSFORMS), ids=list(_TRANSFORMS))
    @pytest.mark.parametrize("f, x, token", [
        (_loop_count, 1.5, "# RANGE"), (_size, 1.5, "# ZEROS"), (_bound, _X4, "# BOUND"),
        (_index, _X4, "# INDEX")], ids=["range", "zeros", "slice", "index"])
    def test_refused_at_the_use(self, f, x, token, transform):
        msg = _refused(NoDerivativeRule, _TRANSFORMS[transform], f, x)
        assert _line_of(f, token) in msg and "used as an integer" in msg
        assert "does not exist" in msg and "out of wrt" in msg

    def test_left_out_of_wrt_or_fixed_in_jvp(self):
        """The same functions differentiated in x alone (n given a None tangent in jvp)."""
        assert srcgrad.grad(_loop_count)(1.5, 3) == pytest.approx(3.0)
        np.testing.assert_allclose(srcgrad.grad(_bound)(_X4, 2), [1.0, 3.0, 0.0, 0.0])
        assert srcgrad.jvp(_loop_count, (1.5, 3), (1.0, None)) == pytest.approx((4.5, 3.0))

    def test_an_int_used_as_a_number_is_a_float(self):
        """x * n**2 differentiated in an int n: 2 x n, second derivative 2 x."""
        assert srcgrad.grad(_as_number, wrt="n")(1.5, 3) == pytest.approx(9.0)
        assert srcgrad.jvp(_as_number, (1.5, 3), (0.0, 1.0))[1] == pytest.approx(9.0)
        assert srcgrad.vjp(_as_number, 1.5, 3)[1](1.0) == pytest.approx((9.0, 9.0))
        assert srcgrad.hessian(_as_number, wrt="n")(1.5, 3) == pytest.approx(3.0)
        assert srcgrad.grad(lambda x: x**2)(3) == pytest.approx(6.0)


# -- second order of entries and slices of tuple-valued results -------------------------------

def _svd_entries(x):
    u, s, vt = np.linalg.svd(x.reshape(3, 2), full_matrices=False)
    return np.sum(s[:1] ** 2) + np.sum(u[:, 0] ** 2 * x[:3])


def _svd_values(x):
    s = np.linalg.svd(x.reshape(3, 2), compute_uv=False)
    return np.sum(s[1:] ** 3)


def _gradient_axes(x):
    gx, gy = np.gradient(x.reshape(3, 2) ** 2)
    return np.sum(gx[1:] * gy[:2])


def _gradient_one_axis(x):
    g = np.gradient(x.reshape(3, 2) ** 2, axis=0)
    return np.sum(g[1:] ** 2)


def _gradient_1d(x):
    g = np.gradient(x ** 3)
    return np.sum(g[1:3] ** 2)


def _split_slice(x):
    parts = np.split(x ** 2, 3)
    return np.sum(parts[1:][0] ** 2)


def _split_reversed(x):
    parts = np.array_split(x ** 2, [1, 4])
    return np.sum(parts[::-1][0] ** 2) + np.sum(parts[1][1:] * x[:2])


def _eigh_entries(x):
    a = x.reshape(3, 2)
    w, v = np.linalg.eigh(a.T @ a)
    return np.sum(w[1:] ** 2) + np.sum(v[:, 0] ** 2 * w)


def _qr_entries(x):
    q, r = np.linalg.qr(x.reshape(3, 2))
    return np.sum(r[0] ** 2 * r[1]) + np.sum(q[:, 1] * x[:3])


def _svd_slice(x):
    res = np.linalg.svd(x.reshape(3, 2), full_matrices=False)
    return np.sum(res[1:][0] ** 2 * res[1:][1][0])


_X6 = np.array([0.9, -0.4, 0.3, 1.2, -0.7, 0.5])
_SECOND = [_svd_entries, _svd_values, _gradient_axes, _gradient_one_axis, _gradient_1d,
           _split_slice, _split_reversed, _eigh_entries, _qr_entries, _svd_slice]
if hasattr(np, "unstack"):
    def _unstack_entries(x):
        a, b = np.unstack(x.reshape(2, 3) ** 2)
        return np.sum(a[1:] * b[:2])

    _SECOND.append(_unstack_entries)


def _hessian_by_differences(f, x, h=1e-5):
    g = srcgrad.grad(f)
    return np.stack([(g(x + h * e) - g(x - h * e)) / (2 * h) for e in np.eye(x.size)], 1)


class TestSecondOrderOfTupleResults:
    @pytest.mark.parametrize("f", _SECOND, ids=lambda f: f.__name__)
    def test_forward_over_reverse_and_reverse_over_reverse(self, f):
        """hessian (forward over reverse) and jacobian(grad, mode="reverse") (reverse over
        reverse; a slice of a list's adjoint read the slice's position before: unslice's
        rule named its parameter ``index``, which rule text reserves)."""
        expected = _hessian_by_differences(f, _X6)
        np.testing.assert_allclose(srcgrad.hessian(f)(_X6), expected, rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(srcgrad.jacobian(srcgrad.grad(f), mode="reverse")(_X6),
                                   expected, rtol=1e-6, atol=1e-7)

    @pytest.mark.parametrize("f", _SECOND, ids=lambda f: f.__name__)
    def test_grad_of_grad(self, f):
        v = np.array([0.3, -0.2, 0.5, 0.1, 0.4, -0.6])

        def along(t):
            return f(_X6 + t * v)

        g = srcgrad.grad(along)
        expected = (g(0.2 + 1e-5) - g(0.2 - 1e-5)) / 2e-5
        assert srcgrad.grad(srcgrad.grad(along))(0.2) == pytest.approx(expected, rel=1e-6)

    def test_rule_text_names_are_reserved(self):
        table = srcgrad.rules.Table({"np": np})
        with pytest.raises(srcgrad.InternalError):
            table.vjp(np.take, "a, index", a="g[index]")


def _eigh_slice(x):
    a = x.reshape(3, 2)
    res = np.linalg.eigh(a.T @ a)
    return np.sum(res[:1][0] ** 2)


def _gradient_slice(x):
    gs = np.gradient(x.reshape(3, 2) ** 2)
    return np.sum(gs[1:][0] ** 2)


def _list_slice(x):
    parts = [x[:2] ** 2, x[2:4] ** 2, x[4:] ** 2]
    return np.sum(parts[1:][0] ** 2)


class TestSlicesOfTupleResults:
    def test_eigh_slice_second_order(self):
        """The tangent of a list's adjoint was passed to fit (broadcast): a ValueError."""
        expected = _hessian_by_differences(_eigh_slice, _X6)
        np.testing.assert_allclose(srcgrad.hessian(_eigh_slice)(_X6), expected,
                                   rtol=1e-6, atol=1e-7)

    @pytest.mark.xfail(strict=True, raises=SrcgradError, reason=(
        "np.gradient's result is of kind 'any' (one array for one axis), so the adjoint of "
        "gs[1:] is scattered as into an array (gs_bar[1:] += ...), which concatenates a "
        "list: a located run-time ValueError (never a wrong number: gradient_grad's zip "
        "is strict)"))
    def test_slice_of_np_gradient(self):
        np.testing.assert_allclose(srcgrad.grad(_gradient_slice)(_X6),
                                   numeric.gradient(_gradient_slice, (_X6,), 0), rtol=1e-7)

    def test_slice_of_a_list_reverse_over_reverse(self):
        """The gradient's xs.pop() is made a new list (xs[:-1]) for reverse over reverse,
        which reads the list before the pop (the storage verifier's InternalError); a pop's
        adjoint list was copied with np.copy (an array) before, now as a list."""
        np.testing.assert_allclose(
            srcgrad.jacobian(srcgrad.grad(_list_slice), mode="reverse")(_X6),
            _hessian_by_differences(_list_slice, _X6), rtol=1e-6, atol=1e-7)


def _zeros_shape(x, n):
    return np.sum(np.zeros((n, 2)) + x)  # SHAPE


def test_an_int_in_a_shape_tuple_is_refused():
    msg = _refused(NoDerivativeRule, srcgrad.grad(_zeros_shape, wrt="n"), 1.5, 3)
    assert _line_of(_zeros_shape, "# SHAPE") in msg and "used as an integer" in msg


def _default_size(x, n=3):
    return np.sum(np.zeros(n) + x)


def test_a_default_int_is_held_fixed_by_jvp():
    assert srcgrad.jvp(_default_size, (1.5,), (1.0,)) == pytest.approx((4.5, 3.0))


def _cubes(x, n):
    return np.sum(x[:n] ** 3)


def _squares(x, n):
    return x[:n] ** 2


def _cubes_of_entry(p, n):
    return np.sum(p["w"][:n] ** 3)


def test_an_int_size_outside_wrt_stays_a_constant():
    """Transforms that differentiate every argument inside (jacobian, hessian of a
    structured argument, the jacobian of a gradient) hold an int outside wrt fixed."""
    x = np.array([0.5, 1.0, 2.0])
    expected_j, expected_h = np.diag([1.0, 2.0])[:, [0, 1, 1]], np.diag([3.0, 6.0, 0.0])
    expected_j[1, 2] = 0.0
    for mode in ("forward", "reverse"):
        np.testing.assert_allclose(srcgrad.jacobian(_squares, mode=mode)(x, 2), expected_j)
        np.testing.assert_allclose(srcgrad.jacobian(srcgrad.grad(_cubes), mode=mode)(x, 2),
                                   expected_h)
    np.testing.assert_allclose(srcgrad.hessian(_cubes_of_entry)({"w": x}, 2),
                               expected_h)
