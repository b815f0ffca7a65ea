"""Returns nested at any depth of ifs and loops, in-place operators through aliases,
and eval/exec: checked against central finite differences in grad,
value_and_grad, vjp and jvp, on every path combination of each program.

The programs are module-level functions of this file (srcgrad reads source). Each
takes ``x`` (shape (3,)) and ``y`` (a float); the signs of ``x[0]`` and ``x[1]``
(and of ``y``) pick the branches, so ``SIGNS`` covers every path.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import srcgrad

EPS = 1e-6


# ---- returns nested inside ifs and loops -------------------------------------------

def inner_return(x, y):
    if x[0] > 0.0:
        if x[1] > 0.0:
            return 5.0 * x[2]
        s = 3.0 * x[0]
    else:
        s = 7.0 * x[1]
    return s * y


def return_in_loop_in_if(x, y):
    if x[0] > 0.0:
        for _ in range(2):
            if x[1] > 0.0:
                return 5.0 * x[2] * y
    return 3.0 * x[0]


def return_in_while_in_if(x, y):
    t = x[2]
    if x[0] > 0.0:
        k = 0
        while k < 3:
            t = t * 1.5 + x[0]
            if x[1] > 0.0:
                if y > 0.0:
                    return t * y
            k = k + 1
    return t * x[1]


def three_deep(x, y):
    s = x[0] * x[1]
    if y > 0.0:
        if x[0] > 0.0:
            if x[1] > 0.0:
                return s * s
            s = s + x[2]
        s = s * y
    return s + x[2] * x[2]


def unbound_only_after_return(x, y):
    """``s`` is assigned on every path that reaches its read in the loop."""
    acc = 0.0
    for i in range(2):
        if x[0] > 0.0:
            if x[1] > 0.0:
                s = x[1] * x[i]
            else:
                return x[2] * y
        else:
            s = x[2]
        acc = acc + s * y
    return acc


def return_in_nested_loops(x, y):
    acc = y
    if x[0] > 0.0:
        for i in range(3):
            for j in range(2):
                acc = acc * 0.5 + x[i]
                if x[1] > 0.0:
                    if j == 1:
                        return acc * x[2]
        acc = acc + x[1]
    return acc * acc


def break_and_continue_nested(x, y):
    acc = 0.0
    for i in range(3):
        if x[0] > 0.0:
            if i == 0:
                continue
            if x[1] > 0.0:
                if i == 2:
                    break
        acc = acc + x[i] * y
    return acc + x[2]


def _helper_nested_return(x, y):
    if x[0] > 0.0:
        if x[1] > 0.0:
            return 2.0 * x[2] * y
        u = x[0] * x[0]
    else:
        u = x[1] * y
    return u + 1.0


def _helper_return_in_loop(x, y):
    if y > 0.0:
        for i in range(3):
            if x[1] > 0.0:
                return x[i] * y
    return x[0] * 4.0


def calls_helpers(x, y):
    a = _helper_nested_return(x, y)
    b = _helper_return_in_loop(x, y)
    return a * b + _helper_nested_return(x, -y)


def nested_def_return(x, y):
    def pick(v):
        if x[0] > 0.0:
            if x[1] > 0.0:
                return v * 3.0
            w = v + x[1]
        else:
            w = v * y
        return w * w

    return pick(x[2]) + pick(y)


RETURN_PROGRAMS = [inner_return, return_in_loop_in_if, return_in_while_in_if, three_deep,
                   unbound_only_after_return, return_in_nested_loops,
                   break_and_continue_nested, calls_helpers, nested_def_return]

# Every sign combination of x[0], x[1], y: all branch outcomes of the programs above.
SIGNS = list(itertools.product((1.0, -1.0), repeat=3))


def _point(signs):
    s0, s1, sy = signs
    return np.array([0.7 * s0, 0.4 * s1, 1.3]), 0.9 * sy


def _fd(f, x, y):
    """Central differences of f at (x, y): (d/dx, d/dy)."""
    gx = np.zeros_like(x)
    for i in range(x.size):
        e = np.zeros_like(x)
        e[i] = EPS
        gx[i] = (f(x + e, y) - f(x - e, y)) / (2 * EPS)
    gy = (f(x.copy(), y + EPS) - f(x.copy(), y - EPS)) / (2 * EPS)  # f may write x
    return gx, gy


def check_all_apis(f, x, y):
    want = f(x.copy(), y)
    gx, gy = _fd(f, x, y)
    got_x, got_y = srcgrad.grad(f, wrt=(0, 1))(x.copy(), y)
    np.testing.assert_allclose(got_x, gx, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(got_y, gy, rtol=1e-6, atol=1e-6)
    value, (vx, vy) = srcgrad.value_and_grad(f, wrt=(0, 1))(x.copy(), y)
    assert value == pytest.approx(want, rel=1e-12)
    np.testing.assert_allclose(vx, gx, rtol=1e-6, atol=1e-6)
    assert vy == pytest.approx(gy, rel=1e-6, abs=1e-6)
    value, vjp_fn = srcgrad.vjp(f, x.copy(), y)
    assert value == pytest.approx(want, rel=1e-12)
    cx, cy = vjp_fn(2.0)
    np.testing.assert_allclose(cx, 2.0 * gx, rtol=1e-6, atol=1e-6)
    assert cy == pytest.approx(2.0 * gy, rel=1e-6, abs=1e-6)
    tx, ty = np.array([0.3, -1.1, 0.6]), 0.8
    value, tangent = srcgrad.jvp(f, (x.copy(), y), (tx, ty))
    assert value == pytest.approx(want, rel=1e-12)
    assert tangent == pytest.approx(gx @ tx + gy * ty, rel=1e-6, abs=1e-6)


@pytest.mark.parametrize("signs", SIGNS, ids=lambda s: "".join("+-"[v < 0] for v in s))
@pytest.mark.parametrize("f", RETURN_PROGRAMS, ids=lambda f: f.__name__)
def test_nested_returns_every_path(f, signs):
    check_all_apis(f, *_point(signs))


def test_paths_really_differ():
    """The sign combinations take different returns (the test above can fail)."""
    for f in (inner_return, return_in_loop_in_if, three_deep, calls_helpers):
        values = {round(float(f(*_point(s))), 9) for s in SIGNS}
        assert len(values) >= 3, f.__name__


# ---- eval, exec and friends ----------------------------------------------------------

def uses_eval(x, y):
    return eval("x[0] * y") + x[1]


def uses_exec(x, y):
    exec("y = 2.0 * y")
    return x[0] * y


def uses_compile(x, y):
    code = compile("x[0]", "<s>", "eval")
    return x[1] * y + code


def uses_locals(x, y):
    names = locals()
    return names["x"][0] * y


def uses_globals(x, y):
    return globals()["EPS"] * x[0] * y


def uses_vars(x, y):
    return vars()["y"] * x[0]


def uses_setattr(x, y):
    setattr(np, "scale" + "_factor", y)
    return x[0] * y


def uses_getattr(x, y):
    return getattr(x, "T" + "")[0] * y


def uses_eval_in_helper(x, y):
    return _helper_with_eval(x) * y


def _helper_with_eval(x):
    return 2.0 * eval("x[0]")


DYNAMIC = [(uses_eval, "eval"), (uses_exec, "exec"), (uses_compile, "compile"),
           (uses_locals, "locals"), (uses_globals, "globals"), (uses_vars, "vars"),
           (uses_setattr, "setattr"), (uses_getattr, "getattr"),
           (uses_eval_in_helper, "eval")]


@pytest.mark.parametrize(("f", "word"), DYNAMIC, ids=lambda v: getattr(v, "__name__", v))
@pytest.mark.parametrize("api", ["grad", "jvp", "source"])
def test_dynamic_code_is_a_located_error(f, word, api):
    x, y = _point((1.0, 1.0, 1.0))
    call = {"grad": lambda: srcgrad.grad(f, wrt=(0, 1))(x, y),
            "jvp": lambda: srcgrad.jvp(f, (x, y), (x, 1.0)),
            "source": lambda: srcgrad.derivative_source(f, wrt=(0, 1))}[api]
    with pytest.raises(srcgrad.UnsupportedSyntax) as info:
        call()
    text = str(info.value)
    assert f"{word}()" in text and "test_lowering_fixes.py:" in text
    line = text.splitlines()[1]
    caret = text.splitlines()[2]
    assert line[caret.index("^"):].startswith(word)


# ---- writes through aliases ----------------------------------------------------------

def alias_after_write(x, y):
    D = np.zeros(3)
    D[0] = x[0]
    D[2] = x[1] * y
    M = D
    return np.sum(M * M) + D[0] * y


def alias_after_write_in_loop(x, y):
    D = np.zeros(3)
    for i in range(3):
        D[i] = x[i] * y
    M = D
    return np.sum(M * x) + D[1]


@pytest.mark.parametrize("f", [alias_after_write, alias_after_write_in_loop],
                         ids=lambda f: f.__name__)
def test_alias_made_after_the_last_write(f):
    check_all_apis(f, *_point((1.0, -1.0, 1.0)))


def alias_then_write(x, y):
    D = np.zeros(3)
    M = D
    M[0] = x[0] * y
    return np.sum(D * x)


def alias_inside_loop_with_write(x, y):
    D = np.zeros(3)
    acc = 0.0
    for i in range(3):
        M = D
        D[i] = x[i] * y
        acc = acc + np.sum(M)
    return acc


@pytest.mark.parametrize("f", [alias_then_write, alias_inside_loop_with_write],
                         ids=lambda f: f.__name__)
def test_write_while_an_alias_is_live_is_refused(f):
    with pytest.raises(srcgrad.UnsupportedSyntax, match="alias"):
        srcgrad.grad(f)(*_point((1.0, 1.0, 1.0)))


# ---- in-place operators through aliases ---------------------------------------------

def inplace_through_a_name(x, y):
    v = np.tanh(x)
    w = v
    w += 0.5 * np.sin(x)
    return np.sum(v * v) * y


def inplace_while_iterating(x, y):
    v = np.stack([x, 2.0 * x])
    c = 0.0
    for r in v:
        c = c + np.sum(np.tanh(r))
        v += 0.25
    return c + np.sum(v) * y


def inplace_row_view(x, y):
    m = np.stack([x, x * y])
    r = m[0]
    r *= 2.0
    return np.sum(m * m)


def inplace_reshape_view(x, y):
    m = x * y
    flat = m.reshape(3, 1)
    flat -= 1.0
    return np.sum(m * x)


def inplace_list_element(x, y):
    xs = [x * y, x + y]
    first = xs[0]
    first /= 2.0
    return np.sum(np.stack(xs))


def _helper_inplace_param(a, y):
    a += y
    return np.sum(a * a)


def inplace_helper_param(x, y):
    v = np.sin(x)
    s = _helper_inplace_param(v, y)
    return s + np.sum(v)


def inplace_alias_in_loop(x, y):
    v = np.cos(x)
    w = v
    for _ in range(2):
        w += x * y
    return np.sum(v * w)


INPLACE_REFUSED = [inplace_through_a_name, inplace_while_iterating, inplace_row_view,
                   inplace_reshape_view, inplace_list_element, inplace_helper_param,
                   inplace_alias_in_loop]


@pytest.mark.parametrize("f", INPLACE_REFUSED, ids=lambda f: f.__name__)
def test_inplace_through_an_alias_is_refused(f):
    x, y = _point((1.0, 1.0, 1.0))
    with pytest.raises(srcgrad.UnsupportedSyntax, match="in place") as info:
        srcgrad.grad(f, wrt=(0, 1))(x, y)
    text = str(info.value)
    assert "test_lowering_fixes.py:" in text
    line = text.splitlines()[1].strip()  # the user's `w op= t`, rewritten in the hint
    name, op = line.split()[0], line.split()[1][:-1]
    assert f"Write {name} = {name} {op} " in text
    caret = text.splitlines()[2]
    assert "=" in text.splitlines()[1][caret.index("^"):]  # points at the `w op= t` line


def inplace_scalar_alias(x, y):
    s = y
    t = 1.0 * x[0]  # (t = x[0] would be refused: for a 2-d x it is a view of x)
    for i in range(3):
        s += x[i] * t
        t *= 1.5
    return s * y + t


def inplace_own_array(x, y):
    w = np.tanh(x)
    w += 0.5 * np.sin(x) * y
    w *= w
    return np.sum(w)


def inplace_alias_not_read_again(x, y):
    v = np.tanh(x)
    w = v
    w += 0.5 * np.sin(x) * y
    return np.sum(w * w)


def inplace_parameter(x, y):
    x += y * x
    y *= 2.0
    return np.sum(x * x) + y


@pytest.mark.parametrize("f", [inplace_scalar_alias, inplace_own_array,
                               inplace_alias_not_read_again,
                               inplace_parameter],
                         ids=lambda f: f.__name__)
def test_inplace_without_a_live_alias(f):
    check_all_apis(f, *_point((1.0, -1.0, 1.0)))


# -- tuples merged at an if (found by the fuzzer) ----------------------------------------
@pytest.mark.parametrize("name", ["f", "g"])
@pytest.mark.parametrize("y", [0.7, -0.7])
def test_tuples_merged_entry_by_entry(name, y):
    from fixtures import merged_tuples

    _check_vector_and_float(getattr(merged_tuples, name), np.array([0.3, -0.2, 0.5]), y)


def _check_vector_and_float(f, x, y):
    """Value, gradient (both arguments), jvp and vjp of f(x, y) against differences."""
    from numeric import gradient

    value, (gx, gy) = srcgrad.value_and_grad(f, wrt=(0, 1))(x, y)
    assert value == f(x, y)
    np.testing.assert_allclose(gx, gradient(f, (x, y), 0), rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(gy, gradient(f, (x, y), 1), rtol=1e-7, atol=1e-9)
    _, dot = srcgrad.jvp(f, (x, y), (np.ones(np.shape(x)), 1.0))
    np.testing.assert_allclose(dot, gx.sum() + gy, rtol=1e-9)
    _, pullback = srcgrad.vjp(f, x, y)
    np.testing.assert_allclose(pullback(1.0)[0], gx, rtol=1e-12)


def test_a_tuple_in_one_branch_only_is_refused():
    from fixtures import merged_tuples

    with pytest.raises(srcgrad.SrcgradError, match="tuple in one branch") as info:
        srcgrad.grad(merged_tuples.h)(np.ones(3), 0.7)
    assert "merged_tuples.py:" in str(info.value)


def test_helper_locals_named_like_the_callers_temporaries():
    from fixtures import merged_tuples
    from numeric import gradient

    f = merged_tuples.caller_of_temp_names
    x, y = np.array([[0.3, -0.2], [0.5, 0.7]]), np.array([1.5, -0.5])
    for i in (0, 1):
        np.testing.assert_allclose(srcgrad.grad(f, wrt=i)(x, y), gradient(f, (x, y), i),
                                   rtol=1e-7, atol=1e-9)
    _, dot = srcgrad.jvp(f, (x, y), (np.ones((2, 2)), np.zeros(2)))
    np.testing.assert_allclose(dot, gradient(f, (x, y), 0).sum(), rtol=1e-7)


@pytest.mark.parametrize("x", [-1.0, 11.0, 5.0])
@pytest.mark.parametrize("y", [4.5, 3.0, 7.0, 150.0, 1.0])
def test_code_after_nested_jumps_runs_once_on_every_path(x, y):
    from fixtures.settled_twice import f
    from numeric import gradient

    value, (gx, gy) = srcgrad.value_and_grad(f, wrt=(0, 1))(x, y)
    assert value == f(x, y)
    assert gy == pytest.approx(gradient(f, (x, y), 1), rel=1e-9)
    assert gx == 0.0
    _, dot = srcgrad.jvp(f, (x, y), (0.0, 1.0))
    assert dot == pytest.approx(gy, rel=1e-12)


@pytest.mark.parametrize("x", [[0.1, 0.5, 0.2], [0.1, 0.2, 0.25], [0.7, 0.2, 0.1]])
def test_tuples_returned_from_inside_a_loop(x):
    from fixtures.merged_tuples import uses_first_large as f
    from numeric import gradient

    x = np.array(x)
    value, g = srcgrad.value_and_grad(f)(x, 0.3)
    assert value == f(x, 0.3)
    np.testing.assert_allclose(g, gradient(f, (x, 0.3), 0), rtol=1e-7, atol=1e-9)
    _, dot = srcgrad.jvp(f, (x, 0.3), (np.ones(3), 0.0))
    np.testing.assert_allclose(dot, g.sum(), rtol=1e-12)


@pytest.mark.parametrize("name", ["uses_same_value_twice", "carried_from_one_value"])
@pytest.mark.parametrize("x", [[0.1, 0.5, 0.7], [0.4, -0.2, -0.3], [0.3, 0.2, -6.0]])
def test_one_value_merged_or_carried_twice(name, x):
    from fixtures import merged_tuples

    _check_vector_and_float(getattr(merged_tuples, name), np.array(x), 0.8)


def _tuple_looped_twice(x, ps):
    s = 0.0
    if x > 0:
        for p in ps:
            s = s + p * x
    for p in ps:
        s = s + p * x
    return s


def test_a_tuple_looped_over_twice_once_in_a_branch():
    """The second loop used the list built for the first, in a branch that did not run
    (UnboundLocalError from generated code; found while removing the mixins)."""
    assert srcgrad.grad(_tuple_looped_twice)(1.0, (2.0, 3.0)) == 10.0
    assert srcgrad.grad(_tuple_looped_twice)(-1.0, (2.0, 3.0)) == 5.0
    assert srcgrad.grad(_tuple_looped_twice, wrt=1)(-1.0, (2.0, 3.0)) == (-1.0, -1.0)
    _, dot = srcgrad.jvp(_tuple_looped_twice, (1.0, (2.0, 3.0)), (1.0, (0.0, 0.0)))
    assert dot == 10.0
