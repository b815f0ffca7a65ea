"""The operator module's arithmetic, %, and x.astype(...) as users write them: each
gradient against central differences and forward mode against reverse mode; the
step-function warning for the non-differentiable ones; what is refused is located."""

import warnings

import numpy as np
import pytest
from fixtures import operator_programs as op
from numeric import gradient

import srcgrad
from srcgrad.errors import UnsupportedSyntax, ZeroGradientWarning

RNG = np.random.default_rng(20)
X = np.array([0.31, 1.42, 2.23, -0.64])
Y = np.array([0.52, -1.33, 0.87, 1.74])


def check(f, args, wrt=0):
    """grad against central differences, and jvp along a random direction against it."""
    got = srcgrad.grad(f, wrt=wrt)(*args)
    np.testing.assert_allclose(got, gradient(f, args, wrt), rtol=1e-6, atol=1e-9)
    v = RNG.normal(size=np.shape(args[wrt]))
    tangents = tuple(v if i == wrt else np.zeros(np.shape(a)) for i, a in enumerate(args))
    value, dot = srcgrad.jvp(f, args, tangents)
    np.testing.assert_allclose(value, f(*args), rtol=1e-12)
    np.testing.assert_allclose(dot, np.sum(got * v), rtol=1e-9, atol=1e-12)
    return got


@pytest.mark.parametrize("wrt", [0, 1])
def test_operator_functions_called_directly(wrt):
    check(op.direct, (X, Y), wrt)


def test_reduce_with_operator_mul():
    got = check(op.product, (X,))
    np.testing.assert_allclose(got, [X[1] * X[2] * X[3], X[0] * X[2] * X[3],
                                     X[0] * X[1] * X[3], X[0] * X[1] * X[2]], rtol=1e-12)


@pytest.mark.parametrize("wrt", [0, 1])
def test_reduce_with_operator_add(wrt):
    check(op.folded_sum, (X, Y), wrt)


@pytest.mark.parametrize("wrt", [0, 1])
def test_operator_function_passed_to_a_helper(wrt):
    check(op.passed, (X, Y), wrt)


@pytest.mark.parametrize("wrt", [0, 1])
def test_operator_matmul(wrt):
    check(op.chained_matmul, (RNG.normal(size=(3, 4)), X), wrt)


@pytest.mark.parametrize("wrt", [0, 1])
def test_modulo_of_arrays(wrt):
    # no entry of x, x / y, y / 0.4... sits on a jump
    check(op.modulo, (X, np.array([0.9, 0.95, 1.05, 1.1])), wrt)


def test_modulo_derivative_in_the_divisor_is_minus_floor():
    x, y = np.array([2.5, -0.7]), np.array([0.8, 0.3])
    got = srcgrad.grad(lambda x, y: np.sum(x % y), wrt=1)(x, y)
    np.testing.assert_allclose(got, -np.floor(x / y), rtol=0)
    check(op.phases, (np.array([0.2, 1.3, -0.4]),))


def test_astype_float_and_int():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check(op.casts, (X,))


def test_astype_float32_gradient_in_the_input_dtype():
    g = srcgrad.grad(op.cast_float32)(X)
    assert g.dtype == np.float64
    np.testing.assert_allclose(g, 2 * X.astype(np.float32), rtol=1e-6)
    g32 = srcgrad.grad(op.cast_float32)(X.astype(np.float32))
    assert g32.dtype == np.float32


def test_astype_int_warns_as_a_step_function():
    with pytest.warns(ZeroGradientWarning, match="step function"):
        g = srcgrad.grad(lambda x: np.sum(x.astype(int) * 1.0))(X)
    np.testing.assert_array_equal(g, np.zeros(4))


def test_floordiv_warns_as_a_step_function():
    import operator
    with pytest.warns(ZeroGradientWarning, match="step function"):
        g = srcgrad.grad(lambda x: np.sum(operator.floordiv(x, 0.3) * 1.0))(X)
    np.testing.assert_array_equal(g, np.zeros(4))


def test_astype_dtype_from_data_is_refused():
    with pytest.raises(UnsupportedSyntax, match="known while lowering") as e:
        srcgrad.grad(op.cast_dtype_from_data)(X, np.array(1.0))
    assert "operator_programs.py" in str(e.value)


def test_astype_with_copy_keyword_is_refused():
    with pytest.raises(UnsupportedSyntax, match="one argument"):
        srcgrad.grad(lambda x: np.sum(x.astype(float, copy=False)))(X)


@pytest.mark.parametrize("wrt", [0, 1])
def test_r_joins_pieces_scalars_and_slices(wrt):
    check(op.joined, (X, Y), wrt)


@pytest.mark.parametrize("wrt", [0, 1])
def test_r_joins_matrices_along_the_first_axis(wrt):
    check(op.joined_matrices, (RNG.normal(size=(2, 3)), RNG.normal(size=(1, 3))), wrt)


@pytest.mark.parametrize("wrt", [0, 1])
def test_c_makes_columns(wrt):
    check(op.columns, (X, Y), wrt)


@pytest.mark.parametrize("wrt", [0, 1])
def test_c_joins_a_matrix_and_a_column(wrt):
    check(op.columns_of_a_matrix, (RNG.normal(size=(4, 2)), X), wrt)


def test_r_and_c_second_order():
    h = srcgrad.hessian(op.columns)(X, Y)
    def row(i):
        return gradient(lambda x: srcgrad.grad(op.columns)(x, Y)[i], (X,), 0)
    np.testing.assert_allclose(h, np.array([row(i) for i in range(4)]), rtol=1e-6, atol=1e-8)


def test_r_string_directive_is_refused():
    with pytest.raises(UnsupportedSyntax, match="string directive") as e:
        srcgrad.grad(op.directive)(X)
    assert "np.concatenate" in str(e.value)


def test_r_slice_with_bounds_from_data_is_refused():
    with pytest.raises(UnsupportedSyntax, match="bounds known while lowering"):
        srcgrad.grad(op.slice_from_data)(X)


def test_asarray_with_a_dtype():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check(op.asarray_dtypes, (X,))


def test_asarray_to_int_carries_no_derivative():
    # it used to be differentiated as the identity
    with pytest.warns(ZeroGradientWarning, match="step function"):
        g = srcgrad.grad(op.asarray_int_only)(X)
    np.testing.assert_array_equal(g, np.zeros(4))


def test_asarray_to_float32():
    g = srcgrad.grad(op.asarray_float32)(X)
    np.testing.assert_allclose(g, 2 * X.astype(np.float32), rtol=1e-6)
    assert srcgrad.grad(op.asarray_float32)(X.astype(np.float32)).dtype == np.float32


def test_a_cast_to_complex_is_differentiated():
    # (refused before complex numbers were: docs/complex.md)
    def f(x):
        z = x.astype(np.complex128) * (1 + 2j)
        return np.sum(np.abs(z) ** 2 + np.real(z * 1j))

    np.testing.assert_allclose(srcgrad.grad(f)(X), 10 * X - 2, rtol=1e-12)


@pytest.mark.parametrize("wrt", [0, 1])
def test_map_with_an_operator_function(wrt):
    check(op.mapped, (X, Y), wrt)


def test_map_over_tuple_arguments():
    xs, ys = (1.5, -0.5, 2.0), (2.0, 4.0, -0.25)
    got = srcgrad.grad(op.mapped_pairs, wrt=1)(xs, ys)
    assert isinstance(got, tuple)
    np.testing.assert_allclose(got, [-x / y ** 2 for x, y in zip(xs, ys)], rtol=1e-12)


def test_asarray_dtype_none_and_positional_order():
    check(lambda x: np.sum(np.asarray(x, dtype=None) ** 2), (X,))
    check(lambda x: np.sum(np.asarray(x * x, "float64", "C") ** 2), (X,))


@pytest.mark.parametrize("f", [op.filled_with_ints, op.filled_by_type])
def test_an_integer_dtype_given_to_a_constructor_carries_no_derivative(f):
    """An integer array made from y does not vary with y (a step function, warned);
    a float one does; x's gradient holds the integer values."""
    x, y = np.array([1.0, 2.0, 3.0]), 2.5
    with pytest.warns(ZeroGradientWarning):
        gx, gy = srcgrad.grad(f, wrt=(0, 1))(x, y)
    assert gy == pytest.approx(gradient(f, (x, y), 1), abs=1e-9)
    np.testing.assert_allclose(gx, gradient(f, (x, y), 0), rtol=1e-9)
