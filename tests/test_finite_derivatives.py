"""Derivatives that exist are finite (issue 20): at the points where a rule's textbook
formula divides by zero, srcgrad gives the true derivative (``x ** y`` in ``y`` at
``x == 0``, ``y > 0``; ``np.var`` everywhere; ``np.std`` of one element) or the
documented subgradient 0 (``np.std`` of data with no spread, ``np.linalg.norm`` at 0,
``np.hypot``/``math.hypot`` at (0, 0)), in reverse and forward mode and at second
order; where no derivative exists (``0 ** y`` in ``y`` for ``y <= 0``) the result is
NaN with an ``UndefinedDerivativeWarning`` at the user's line, never a silent NaN.

Spec rows cannot sample these points, so they are checked here against one-sided
differences where the derivative exists, and against the documented subgradient where
it does not.
"""

import math
import warnings

import numpy as np
import pytest

import srcgrad
from srcgrad.errors import UndefinedDerivativeWarning

H = 1e-6


def std_all(x):
    return np.std(x)


def var_all(x):
    return np.var(x)


def std_rows(x):
    return np.sum(np.std(x, axis=1) * np.array([1.0, 2.0]))


def nanstd_all(x):
    return np.nanstd(x)


def pow_op(x, y):
    return x ** y


def pow_np(x, y):
    return np.sum(np.power(x, y))


def pow_float(x, y):
    return np.sum(np.float_power(x, y))


def pow_math(x, y):
    return math.pow(x, y)


def norm_all(x):
    return np.linalg.norm(x)


def norm_rows(x):
    return np.sum(np.linalg.norm(x, axis=1))


def norm_p3(x):
    return np.linalg.norm(x, 3)


def hypot_np(x, y):
    return np.sum(np.hypot(x, y))


def hypot_math(x, y):
    return math.hypot(x, y)


def _one_sided(f, args, i, direction):
    """(f(args + h d) - f(args)) / h along ``direction`` in argument ``i``."""
    moved = list(args)
    moved[i] = args[i] + H * direction
    return (f(*moved) - f(*args)) / H


def _check_no_warning(fn, *args):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return fn(*args)


# ---- np.std and np.var on data with no spread ---------------------------------------

@pytest.mark.parametrize("x", [np.array([2.0]), np.array([2.0, 2.0, 2.0]),
                               np.full((2, 3), -1.5)], ids=["one", "constant", "matrix"])
def test_std_with_no_spread_has_the_subgradient_zero_both_modes(x):
    g = _check_no_warning(srcgrad.grad(std_all), x)
    np.testing.assert_array_equal(g, np.zeros_like(x))
    t = np.linspace(1.0, 2.0, x.size).reshape(x.shape)
    value, tangent = _check_no_warning(srcgrad.jvp, std_all, (x,), (t,))
    assert value == 0.0 and tangent == 0.0


def test_std_of_one_element_is_constant_so_zero_is_its_derivative():
    x = np.array([3.0])
    for d in (1.0, -1.0):
        assert _one_sided(std_all, (x,), 0, np.array([d])) == 0.0
    assert srcgrad.grad(std_all)(x)[0] == 0.0


def test_std_along_an_axis_with_one_constant_row_keeps_the_other_rows_gradient():
    x = np.array([[1.0, 1.0, 1.0], [0.5, 2.0, -1.0]])
    g = _check_no_warning(srcgrad.grad(std_rows), x)
    np.testing.assert_array_equal(g[0], np.zeros(3))
    c = x[1] - x[1].mean()
    np.testing.assert_allclose(g[1], 2.0 * c / (3 * np.std(x[1])), rtol=1e-12)


def test_nanstd_with_no_spread_is_zero():
    x = np.array([4.0, np.nan, 4.0])
    g = _check_no_warning(srcgrad.grad(nanstd_all), x)
    np.testing.assert_array_equal(g, np.zeros(3))


def test_var_with_no_spread_is_smooth_gradient_and_hessian():
    x = np.array([2.0, 2.0, 2.0, 2.0])
    np.testing.assert_array_equal(_check_no_warning(srcgrad.grad(var_all), x), np.zeros(4))
    n = x.size
    want = 2.0 / n * (np.eye(n) - np.ones((n, n)) / n)  # var is a quadratic form
    np.testing.assert_allclose(_check_no_warning(srcgrad.hessian(var_all), x), want,
                               rtol=1e-12, atol=1e-15)
    assert srcgrad.grad(var_all)(np.array([5.0]))[0] == 0.0


def test_std_second_order_at_no_spread_is_finite_and_zero():
    x = np.array([1.0, 1.0, 1.0])
    h = _check_no_warning(srcgrad.hessian(std_all), x)
    np.testing.assert_array_equal(h, np.zeros((3, 3)))


# ---- x ** y at x == 0 ------------------------------------------------------------------

@pytest.mark.parametrize("f", [pow_op, pow_np, pow_float], ids=lambda f: f.__name__)
def test_power_at_zero_base_is_zero_in_the_exponent_where_it_is_positive(f):
    x, y = np.array([0.0, 0.0, 1.5]), np.array([2.0, 1.0, 1.3])
    fs = (lambda a, b: np.sum(f(a, b))) if f is pow_op else f
    gy = _check_no_warning(srcgrad.grad(fs, wrt=1), x, y)
    want = np.array([0.0, 0.0, 1.5 ** 1.3 * math.log(1.5)])
    np.testing.assert_allclose(gy, want, rtol=1e-12)
    for d in (1.0, -1.0):  # 0 ** y is 0 on both sides of y > 0
        step = _one_sided(fs, (x, y), 1, np.array([d, d, 0.0]))
        assert step == 0.0
    t = np.array([1.0, -2.0, 0.0])
    _, tangent = _check_no_warning(srcgrad.jvp, fs, (x, y), (np.zeros(3), t))
    assert tangent == 0.0


@pytest.mark.parametrize("f", [pow_op, pow_math], ids=lambda f: f.__name__)
def test_power_of_floats_at_zero_base(f):
    gx, gy = _check_no_warning(srcgrad.grad(f, wrt=(0, 1)), 0.0, 2.0)
    assert (gx, gy) == (0.0, 0.0) and type(gy) is float
    gx, gy = _check_no_warning(srcgrad.grad(f, wrt=(0, 1)), 0.0, 1.0)
    assert (gx, gy) == (1.0, 0.0)
    _, tangent = _check_no_warning(srcgrad.jvp, f, (0.0, 3.0), (0.0, 1.0))
    assert tangent == 0.0


def exponent_only(y):
    return np.sum(np.power(np.zeros(2), y) + y ** 3.0)


def test_power_at_zero_base_second_order_in_the_exponent():
    y = np.array([2.0, 3.5])
    h = _check_no_warning(srcgrad.hessian(exponent_only), y)
    np.testing.assert_allclose(h, np.diag(6.0 * y), rtol=1e-12)


def test_power_of_floats_without_a_derivative_in_the_exponent_warns_at_the_users_line():
    with pytest.warns(UndefinedDerivativeWarning, match="no derivative in y") as caught:
        g = srcgrad.grad(pow_op, wrt=1)(0.0, 0.0)  # (0.0 ** -1.0 raises in Python)
    assert math.isnan(g)
    w = caught[0]
    assert w.filename == __file__ and w.lineno == pow_op.__code__.co_firstlineno + 1


@pytest.mark.parametrize("y", [0.0, -1.0])
def test_power_without_a_derivative_in_the_exponent_warns_at_the_users_line(y):
    with pytest.warns(UndefinedDerivativeWarning) as caught:
        g = srcgrad.grad(pow_np, wrt=1)(np.array([0.0, 2.0]), np.array([y, 1.0]))
    assert math.isnan(g[0]) and g[1] == pytest.approx(math.log(2.0) * 2.0)
    w = next(w for w in caught if w.category is UndefinedDerivativeWarning)
    assert w.filename == __file__ and w.lineno == pow_np.__code__.co_firstlineno + 1


# ---- norms at 0 --------------------------------------------------------------------------

@pytest.mark.parametrize("f, x", [(norm_all, np.zeros(3)), (norm_all, np.zeros((2, 2))),
                                  (norm_p3, np.zeros(3))], ids=["2", "fro", "p3"])
def test_norm_at_zero_has_the_subgradient_zero_both_modes(f, x):
    np.testing.assert_array_equal(_check_no_warning(srcgrad.grad(f), x), np.zeros_like(x))
    _, tangent = _check_no_warning(srcgrad.jvp, f, (x,), (np.ones_like(x),))
    assert tangent == 0.0


def test_norm_rows_one_at_zero_keeps_the_other_rows_gradient():
    x = np.array([[0.0, 0.0], [3.0, 4.0]])
    g = _check_no_warning(srcgrad.grad(norm_rows), x)
    np.testing.assert_allclose(g, [[0.0, 0.0], [0.6, 0.8]], rtol=1e-12)
    h = _check_no_warning(srcgrad.hessian(norm_rows), x)
    assert np.all(np.isfinite(h))
    np.testing.assert_array_equal(h[0], np.zeros((2, 2, 2)))
    np.testing.assert_array_equal(h[:, :, 0], np.zeros((2, 2, 2)))


def test_norm_second_order_at_zero_is_zero():
    h = _check_no_warning(srcgrad.hessian(norm_all), np.zeros(3))
    np.testing.assert_array_equal(h, np.zeros((3, 3)))


# ---- hypot at (0, 0) ---------------------------------------------------------------------

def test_np_hypot_at_the_origin_has_the_subgradient_zero():
    x, y = np.array([0.0, 3.0]), np.array([0.0, 4.0])
    gx, gy = _check_no_warning(srcgrad.grad(hypot_np, wrt=(0, 1)), x, y)
    np.testing.assert_allclose(gx, [0.0, 0.6], rtol=1e-12)
    np.testing.assert_allclose(gy, [0.0, 0.8], rtol=1e-12)
    _, tangent = _check_no_warning(srcgrad.jvp, hypot_np, (x, y), (np.ones(2), np.ones(2)))
    assert tangent == pytest.approx(1.4)
    # on an axis through the origin hypot is |x|: the one-sided slopes are +1 and -1
    assert _one_sided(hypot_np, (x, y), 0, np.array([1.0, 0.0])) == pytest.approx(1.0)


def test_math_hypot_at_the_origin_has_the_subgradient_zero():
    g = _check_no_warning(srcgrad.grad(hypot_math, wrt=(0, 1)), 0.0, 0.0)
    assert g == (0.0, 0.0) and all(type(v) is float for v in g)
    _, tangent = _check_no_warning(srcgrad.jvp, hypot_math, (0.0, 0.0), (1.0, 1.0))
    assert tangent == 0.0
    assert srcgrad.grad(hypot_math, wrt=(0, 1))(3.0, 4.0) == pytest.approx((0.6, 0.8))


# ---- where no derivative exists: a warning at the user's line, never a silent NaN ---------

def length(x):
    return np.sqrt(np.sum(x * x))


def test_sqrt_at_zero_warns_at_the_users_line_and_names_what_to_write():
    with pytest.warns(UndefinedDerivativeWarning, match="np.linalg.norm") as caught:
        g = srcgrad.grad(length)(np.zeros(3))
    assert np.all(np.isnan(g))
    w = next(w for w in caught if w.category is UndefinedDerivativeWarning)
    assert w.filename == __file__ and w.lineno == length.__code__.co_firstlineno + 1
    g = _check_no_warning(srcgrad.grad(length), np.array([3.0, 4.0]))
    np.testing.assert_allclose(g, [0.6, 0.8], rtol=1e-12)


def test_hypot_second_order_at_the_origin_is_zero():
    h = _check_no_warning(srcgrad.hessian(hypot_np, wrt=0), np.zeros(2), np.zeros(2))
    np.testing.assert_array_equal(h, np.zeros((2, 2)))


# ---- x ** y in x at x == 0 --------------------------------------------------------

def pow_x_only(x):
    return np.sum(x ** np.array([0.0, 0.0, 1.0, 2.0, 3.0]))


def pow_zero_exponent(x):
    return x ** 0.0


@pytest.mark.parametrize("f", [pow_op, pow_np, pow_float], ids=lambda f: f.__name__)
def test_power_at_zero_base_in_the_base_is_finite(f):
    fs = (lambda a, b: np.sum(f(a, b))) if f is pow_op else f
    x = np.zeros(4)
    y = np.array([0.0, 1.0, 2.0, 3.0])
    # x ** 0 == 1 is constant (0); x ** 1 has slope 1; x ** 2, x ** 3 slope 0 at 0
    want = np.array([0.0, 1.0, 0.0, 0.0])
    for d in (1.0, -1.0):  # one-sided differences, each way
        for k in range(4):
            e = np.zeros(4)
            e[k] = d
            assert abs(_one_sided(fs, (x, y), 0, e) - d * want[k]) < 1e-5
    g = _check_no_warning(srcgrad.grad(fs), x, y)
    np.testing.assert_array_equal(g, want)
    _, tangent = _check_no_warning(srcgrad.jvp, pow_x_only, (np.zeros(5),), (np.ones(5),))
    assert tangent == 1.0


@pytest.mark.parametrize("y, want", [(0.0, 0.0), (1.0, 1.0), (2.0, 0.0)])
def test_power_of_floats_at_zero_base_in_the_base(y, want):
    for f in (pow_op, pow_math):
        assert _check_no_warning(srcgrad.grad(f), 0.0, y) == want


def test_power_at_zero_base_second_order_in_the_base():
    # d2/dx2 of x ** 0, x ** 0, x, x ** 2, x ** 3 at 0: 0, 0, 0, 2, 0
    h = _check_no_warning(srcgrad.hessian(pow_x_only), np.zeros(5))
    np.testing.assert_array_equal(h, np.diag([0.0, 0.0, 0.0, 2.0, 0.0]))
    assert _check_no_warning(srcgrad.grad(srcgrad.grad(pow_zero_exponent)), 0.0) == 0.0


def pow_half(x):
    return np.sum(x ** 0.5)


def cbrt_all(x):
    return np.sum(np.cbrt(x))


@pytest.mark.parametrize("f", [pow_half, cbrt_all], ids=lambda f: f.__name__)
def test_an_infinite_slope_at_zero_warns_at_the_users_line(f):
    with pytest.warns(UndefinedDerivativeWarning, match="infinite derivative") as record:
        g = srcgrad.grad(f)(np.array([0.0, 8.0]))
    assert g[0] == np.inf
    slope = 0.5 / np.sqrt(8.0) if f is pow_half else 1 / (3 * 4.0)
    assert g[1] == pytest.approx(slope, rel=1e-12)
    w = record[0]
    assert w.filename == __file__ and w.lineno == f.__code__.co_firstlineno + 1
    with pytest.warns(UndefinedDerivativeWarning, match="infinite derivative"):
        srcgrad.jvp(f, (np.array([0.0, 8.0]),), (np.ones(2),))


def test_cbrt_away_from_zero_does_not_warn():
    g = _check_no_warning(srcgrad.grad(cbrt_all), np.array([-8.0, 1.0]))
    np.testing.assert_allclose(g, [1 / 12, 1 / 3], rtol=1e-12)
