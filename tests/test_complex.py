"""Complex numbers, in the convention of JAX and autograd (rules/complexes.py).

Every gradient here is checked against finite differences of the real and imaginary
parts separately (``numeric.complex_gradient``: ``df/dx - 1j df/dy``), every tangent
against a finite difference along the tangent; no expected value comes from srcgrad.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from numeric import complex_directional, complex_gradient, directional, gradient

import srcgrad
from srcgrad import UnsupportedSyntax, UsageError

RNG = np.random.default_rng(7)
Z = np.array([0.8 + 0.3j, -0.4 + 0.9j, 1.1 - 0.5j])
RIGHT = np.array([1.3 + 0.4j, 0.7 - 0.6j, 2.0 + 0.1j])  # Re z > 0: away from branch cuts
SMALL = np.array([0.3 + 0.2j, -0.25 + 0.1j, 0.1 - 0.35j])  # |z| < 1
W = np.array([0.5 - 1.2j, 1.5 + 0.3j, -0.7 + 0.8j])


def check_grad(f, *args, i=0):
    got = srcgrad.grad(f, wrt=i)(*args)
    want = complex_gradient(f, args, i)
    assert np.shape(got) == np.shape(want)
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-9)
    return got


# ---- the convention ---------------------------------------------------------------

def test_gradient_of_squared_modulus_is_twice_the_conjugate():
    def f(z):
        return np.sum(np.abs(z) ** 2)

    np.testing.assert_allclose(srcgrad.grad(f)(Z), 2 * np.conj(Z), rtol=1e-12)
    check_grad(f, Z)


def test_python_complex_scalar():
    def f(z):
        return abs(z) ** 2

    g = srcgrad.grad(f)(3 + 4j)
    assert isinstance(g, complex)
    assert g == pytest.approx(6 - 8j)


def test_real_part_of_a_holomorphic_function_has_its_derivative_as_gradient():
    # For f = Re(h(z)) with h holomorphic, df/dx - i df/dy = h'(z) (Cauchy-Riemann).
    def f(z):
        return np.sum(np.real(z ** 3))

    np.testing.assert_allclose(srcgrad.grad(f)(Z), 3 * Z ** 2, rtol=1e-12)


# ---- functions whose real rules hold for complex operands (HOLOMORPHIC) --------------

HOLOMORPHIC = [
    ("add", lambda z: z + W * z, Z),
    ("sub", lambda z: z - 2.5 * z ** 2, Z),
    ("truediv", lambda z: W / (z + 3), Z),
    ("pow_int", lambda z: z ** 3, Z),
    ("pow_complex_exponent", lambda z: 1.5 ** z, Z),
    ("neg", lambda z: -z * z, Z),
    ("matmul", lambda z: np.outer(z, W) @ z, Z),
    ("square", lambda z: np.square(z), Z),
    ("reciprocal", lambda z: np.reciprocal(z), Z),
    ("sqrt", lambda z: np.sqrt(z), RIGHT),
    ("exp", lambda z: np.exp(z), Z),
    ("expm1", lambda z: np.expm1(z), Z),
    ("exp2", lambda z: np.exp2(z), Z),
    ("log", lambda z: np.log(z), RIGHT),
    ("log1p", lambda z: np.log1p(z), RIGHT),
    ("log2", lambda z: np.log2(z), RIGHT),
    ("log10", lambda z: np.log10(z), RIGHT),
    ("sin", lambda z: np.sin(z), Z),
    ("cos", lambda z: np.cos(z), Z),
    ("tan", lambda z: np.tan(z), SMALL),
    ("sinh", lambda z: np.sinh(z), Z),
    ("cosh", lambda z: np.cosh(z), Z),
    ("tanh", lambda z: np.tanh(z), SMALL),
    ("arcsin", lambda z: np.arcsin(z), SMALL),
    ("arccos", lambda z: np.arccos(z), SMALL),
    ("arctan", lambda z: np.arctan(z), SMALL),
    ("arcsinh", lambda z: np.arcsinh(z), SMALL),
    ("arccosh", lambda z: np.arccosh(z), RIGHT + 1),
    ("arctanh", lambda z: np.arctanh(z), SMALL),
    ("sum_axis", lambda z: np.sum(np.reshape(z * W, (3, 1)) * z, axis=0), Z),
    ("mean", lambda z: np.mean(np.outer(z, z), axis=1), Z),
    ("prod", lambda z: np.prod(z) * z, Z),
    ("cumsum", lambda z: np.cumsum(z * z), Z),
    ("cumprod", lambda z: np.cumprod(z), Z),
    ("dot", lambda z: np.dot(z, W) * z, Z),
    ("inner", lambda z: np.inner(z, z) * W, Z),
    ("tensordot", lambda z: np.tensordot(np.outer(z, W), z, axes=1), Z),
    ("einsum", lambda z: np.einsum("i,j,j->i", z, W, z), Z),
    ("kron", lambda z: np.kron(z, z[:2]), Z),
    ("trace", lambda z: np.trace(np.outer(z, z)) * z, Z),
    ("diff", lambda z: np.diff(z * z), Z),
    ("inv", lambda z: np.linalg.inv(np.outer(z, W) + 2 * np.eye(3)) @ z, Z),
    ("solve", lambda z: np.linalg.solve(np.outer(W, z) + 3 * np.eye(3), z), Z),
    ("det", lambda z: np.linalg.det(np.outer(z, W) + np.diag(z)) * z, Z),
    ("matrix_power", lambda z: np.linalg.matrix_power(np.outer(z, W), 2) @ z, Z),
    ("where", lambda z: np.where(np.array([True, False, True]), z * z, W * z), Z),
    ("stack", lambda z: np.stack([z, z * z])[1], Z),
    ("concatenate", lambda z: np.concatenate([z, W * z])[2:5], Z),
    ("shapes", lambda z: np.ravel(np.transpose(np.reshape(np.tile(z, 2), (2, 3)))), Z),
    ("flip_roll", lambda z: np.roll(np.flip(z * W), 1), Z),
    ("indexing", lambda z: z[::-1][1:] * z[0], Z),
    ("T", lambda z: (np.outer(z, W).T @ z), Z),
]


@pytest.mark.parametrize("name, h, z", HOLOMORPHIC, ids=[r[0] for r in HOLOMORPHIC])
def test_holomorphic_reverse(name, h, z):
    # A real loss that reads both parts of h(z): its gradient is conj(h'(z) ...) exactly
    # when h's rule is right for complex operands.
    def loss(z):
        return np.sum(np.abs(h(z) * (1 + 0.5j)) ** 2) + np.real(np.sum(h(z) * (0.3 - 0.8j)))

    check_grad(loss, z)


@pytest.mark.parametrize("name, h, z", HOLOMORPHIC, ids=[r[0] for r in HOLOMORPHIC])
def test_holomorphic_forward(name, h, z):
    t = W[::-1].copy()
    value, tangent = srcgrad.jvp(h, (z,), (t,))
    np.testing.assert_allclose(value, h(z), rtol=1e-12)
    np.testing.assert_allclose(tangent, complex_directional(h, (z,), (t,)), rtol=1e-6,
                               atol=1e-9)


@pytest.mark.parametrize("name, h, z", HOLOMORPHIC[::6], ids=[r[0] for r in HOLOMORPHIC[::6]])
def test_holomorphic_vjp_is_the_transpose_of_jvp(name, h, z):
    # <ct, J t> = <J^T ct, t> under the bilinear pairing Re(sum(a * b)).
    t = W[::-1].copy()
    out, pull = srcgrad.vjp(h, z)
    ct = np.asarray(RNG.normal(size=np.shape(out)) + 1j * RNG.normal(size=np.shape(out)))
    (z_bar,) = pull(ct)
    _, tangent = srcgrad.jvp(h, (z,), (t,))
    assert np.real(np.sum(ct * tangent)) == pytest.approx(np.real(np.sum(z_bar * t)),
                                                          rel=1e-10)


# ---- functions of complex numbers that are not holomorphic ----------------------------

NONHOLOMORPHIC = [
    ("abs", lambda z: np.sum(np.abs(z) * np.array([1.0, 2.0, 3.0]))),
    ("builtin_abs", lambda z: abs(z[0] * z[1]) + abs(z[2])),
    ("real", lambda z: np.sum(np.real(z * W) ** 2)),
    ("imag", lambda z: np.sum(np.imag(z * W) ** 3)),
    ("attributes", lambda z: np.sum(z.real ** 2 * z.imag)),
    ("conj", lambda z: np.real(np.sum(np.conj(z) * z * W))),
    ("conj_method", lambda z: np.imag(np.sum(z.conj() ** 2 * W))),
    ("conjugate", lambda z: np.real(np.sum(np.conjugate(z) ** 3))),
    ("angle", lambda z: np.sum(np.angle(z * W) ** 2)),
    ("angle_deg", lambda z: np.sum(np.angle(z, deg=True))),
    ("vdot", lambda z: np.real(np.vdot(z, W * z))),
    ("var", lambda z: np.var(z * W)),
    ("complex_pow", lambda z: np.sum(np.abs(z ** W))),
    ("hermitian_form", lambda z: np.real(np.conj(z) @ np.outer(W, np.conj(W)) @ z)),
]


@pytest.mark.parametrize("name, f", NONHOLOMORPHIC, ids=[r[0] for r in NONHOLOMORPHIC])
def test_nonholomorphic_reverse(name, f):
    check_grad(f, RIGHT)


@pytest.mark.parametrize("name, f", NONHOLOMORPHIC, ids=[r[0] for r in NONHOLOMORPHIC])
def test_nonholomorphic_forward(name, f):
    t = W.copy()
    value, tangent = srcgrad.jvp(f, (RIGHT,), (t,))
    assert np.isrealobj(tangent)
    assert tangent == pytest.approx(float(complex_directional(f, (RIGHT,), (t,))), rel=1e-6)


def test_complex64_keeps_its_precision():
    z = RIGHT.astype(np.complex64)
    g = srcgrad.grad(lambda z: np.sum(np.abs(z) ** 2))(z)
    assert g.dtype == np.complex64
    np.testing.assert_allclose(g, 2 * np.conj(z), rtol=1e-6)


# ---- real arguments, complex values inside -------------------------------------------

def test_real_input_complex_intermediates():
    def f(x):
        return np.abs(np.exp(1j * x) * x)  # |x| for real x: derivative sign(x)

    assert srcgrad.grad(f)(1.3) == pytest.approx(1.0)
    assert srcgrad.grad(f)(-0.7) == pytest.approx(-1.0)


def test_a_fourier_coefficient_of_real_data():
    n = np.arange(8)

    def power(x, k):
        return np.abs(np.sum(x * np.exp(-2j * np.pi * k * n / 8))) ** 2

    x = RNG.normal(size=8)
    g = srcgrad.grad(power)(x, 3)
    assert np.isrealobj(g)
    np.testing.assert_allclose(g, gradient(lambda x: power(x, 3), (x,), 0), rtol=1e-7)


def test_complex_constant_from_a_builtin_and_a_module_array():
    def f(a, b):
        z = complex(a, b)
        return abs(z * z + PHASES[1])

    a, b = 0.7, -1.2
    ga, gb = srcgrad.grad(f, wrt=(0, 1))(a, b)
    assert isinstance(ga, float) and isinstance(gb, float)
    assert ga == pytest.approx(gradient(f, (a, b), 0), rel=1e-7)
    assert gb == pytest.approx(gradient(f, (a, b), 1), rel=1e-7)


PHASES = np.exp(1j * np.array([0.1, 0.2, 0.3]))


def test_real_imag_conj_of_real_values_are_cheap_identities_and_zeros():
    def f(x):
        return np.sum(np.real(x) * 2 + np.imag(x) + np.conj(x) ** 2 + np.angle(x))

    x = np.array([0.5, 1.5, 2.0])
    np.testing.assert_allclose(srcgrad.grad(f)(x), 2 + 2 * x)
    _, t = srcgrad.jvp(f, (x,), (np.ones(3),))
    assert t == pytest.approx(np.sum(2 + 2 * x))


def test_real_if_close():
    def f(x):
        return np.sum(np.real_if_close(np.exp(1j * x) * np.exp(-1j * x) * x) ** 2)

    x = np.array([0.5, -1.5])
    np.testing.assert_allclose(srcgrad.grad(f)(x), 2 * x, rtol=1e-12)


def test_second_order_through_complex_intermediates():
    def f(x):
        return np.sum(np.real(np.exp(1j * x * x)))  # cos(x^2)

    x = np.array([0.3, 1.1])
    h = srcgrad.hessian(f)(x)
    np.testing.assert_allclose(np.diag(h), -2 * np.sin(x ** 2) - 4 * x ** 2 * np.cos(x ** 2),
                               rtol=1e-10)


def test_loop_carrying_a_complex_value():
    def f(x, theta):
        z = 1.0 + 0.0j
        for _ in range(5):
            z = z * np.exp(1j * theta) + x
        return np.abs(z) ** 2

    g = srcgrad.grad(f, wrt=(0, 1))(0.3, 0.7)
    assert g[0] == pytest.approx(gradient(f, (0.3, 0.7), 0), rel=1e-7)
    assert g[1] == pytest.approx(gradient(f, (0.3, 0.7), 1), rel=1e-7)


def test_complex_argument_in_a_loop_and_a_branch():
    def f(z, flip):
        acc = 0.0
        for k in range(3):
            if flip:
                acc = acc + np.abs(z[k] - 1j) ** 2
            else:
                acc = acc + np.real(z[k] ** 2)
        return acc

    check_grad(f, Z, True)
    check_grad(f, Z, False)


# ---- what is refused, and how ------------------------------------------------------------

def test_complex_output_of_grad_is_a_usage_error():
    with pytest.raises(UsageError, match="complex number.*real scalar") as e:
        srcgrad.grad(lambda z: np.sum(z * z))(Z)
    assert "np.abs" in e.value.hint and "vjp" in e.value.hint


def test_complex_value_reaching_a_real_rule_is_refused_where_it_is():
    def f(z):
        return np.sum(np.abs(np.maximum(z, 0)))

    with pytest.raises(UnsupportedSyntax, match="np.maximum of complex values") as e:
        srcgrad.grad(f)(Z)
    assert e.value.loc is not None and "np.maximum" in e.value.loc.text


def test_complex_values_from_real_inputs_are_refused_too():
    def f(x):
        return np.max(np.exp(1j * x))  # max of complex numbers: no rule for them

    with pytest.raises(UnsupportedSyntax, match="np.max of complex"):
        srcgrad.grad(f)(np.array([0.1, 0.2]))


def test_transforms_without_complex_support_refuse_complex_arguments():
    with pytest.raises(UsageError, match="complex"):
        srcgrad.hessian(lambda z: np.sum(np.abs(z) ** 2))(Z)
    with pytest.raises(UsageError, match="inside a tuple"):
        srcgrad.grad(lambda p: np.sum(np.abs(p[0]) ** 2))((Z, 1.0))


@pytest.mark.parametrize("f", [
    lambda x: np.sum(np.abs(np.exp(1j * x) * x + 0.5) ** 3),
    lambda x: np.sum(np.angle(x + 1j * x ** 2 + 0.5j)),
    lambda x: np.sum(np.real(np.sqrt(np.conj(1j * x + 2.0)) * np.imag(np.exp(1j * x)))),
], ids=["abs", "angle", "conj_sqrt_imag"])
def test_second_order_through_abs_angle_and_conj_of_complex_values(f):
    x = np.array([0.3, 1.0, -0.7])
    v = np.array([0.2, -0.4, 0.9])
    hv = srcgrad.hvp(f)(x, v)
    np.testing.assert_allclose(hv, directional(srcgrad.grad(f), (x,), (v,)), rtol=1e-7,
                               atol=1e-9)


def test_complex_tangent_and_cotangent_only_for_complex_values():
    with pytest.raises(UsageError, match="tangent"):
        srcgrad.jvp(lambda x: x * 2, (np.ones(2),), (np.ones(2) * 1j,))
    out, pull = srcgrad.vjp(lambda z: z * 2, Z)
    np.testing.assert_allclose(pull(np.ones(3) * 1j)[0], 2j * np.ones(3))
    assert math.isfinite(abs(out[0]))


# ---- eigenvalues of a general matrix (complex even for a real one) ----------------------

A = np.array([[0.5, -1.2, 0.3], [0.9, 0.2, -0.4], [0.1, 0.7, -0.6]])  # complex pair


def test_eigvals_of_a_real_matrix():
    assert np.iscomplexobj(np.linalg.eigvals(A))

    def f(a):
        w = np.linalg.eigvals(a)
        return np.sum(np.abs(w) ** 2 + np.real(w ** 3))

    g = srcgrad.grad(f)(A)
    assert np.isrealobj(g)
    np.testing.assert_allclose(g, gradient(f, (A,), 0), rtol=1e-6, atol=1e-9)
    t = np.arange(9.0).reshape(3, 3) / 9
    _, tangent = srcgrad.jvp(f, (A,), (t,))
    assert tangent == pytest.approx(float(np.sum(g * t)), rel=1e-9)


def test_eigvals_of_a_complex_matrix():
    def f(a):
        return np.real(np.sum(np.linalg.eigvals(a) ** 2 * (1 - 2j)))

    c = A + 0.3j * A.T
    check_grad(f, c)


def test_eig_through_its_eigenvalues_and_not_its_eigenvectors():
    def through_values(a):
        w, v = np.linalg.eig(a)
        return np.sum(np.abs(w))

    np.testing.assert_allclose(srcgrad.grad(through_values)(A),
                               gradient(through_values, (A,), 0), rtol=1e-6)

    def through_vectors(a):
        w, v = np.linalg.eig(a)
        return np.sum(np.abs(v))

    with pytest.raises(srcgrad.SrcgradError, match="eigenvectors"):
        srcgrad.grad(through_vectors)(A)


# ---- ported from autograd's tests/test_complex.py (its cases, as user programs) ----------

def test_autograd_real_type():
    def fun(x):
        return np.sum(np.real(x))

    assert np.isrealobj(srcgrad.grad(fun)(np.array([5.0, 1.0])))
    assert isinstance(srcgrad.grad(lambda x: np.real(x) * 2)(5.0), float)


def test_autograd_real_if_close_type():
    def fun(x):
        return np.sum(np.real_if_close(x))

    g = srcgrad.grad(fun)(np.array([5.0, 1.0]))
    assert np.isrealobj(g) and g == pytest.approx([1.0, 1.0])


@pytest.mark.parametrize("x", [0.7, -0.7, 0.6 + 0.8j, -0.3 - 1.1j])
def test_autograd_angle_and_abs(x):
    def angle(x):
        return np.angle(x)

    def modulus(x):
        return np.abs(x)

    for f in (angle, modulus):
        want = complex_gradient(f, (x,), 0) if isinstance(x, complex) else \
            gradient(f, (x,), 0)
        assert srcgrad.grad(f)(x) == pytest.approx(want, rel=1e-7, abs=1e-10)


# ---- every path that takes complex arguments -----------------------------------------

def test_structured_output_and_aux_with_a_complex_argument():
    def pair(z):
        return np.abs(z) ** 2, np.exp(z)

    (out_a, out_b), pull = srcgrad.vjp(pair, Z)
    (z_bar,) = pull((np.ones(3), np.ones(3) * (1 - 1j)))
    np.testing.assert_allclose(z_bar, 2 * np.conj(Z) + (1 - 1j) * np.exp(Z), rtol=1e-12)
    _, (ta, tb) = srcgrad.jvp(pair, (Z,), (W,))
    np.testing.assert_allclose(ta, 2 * np.real(np.conj(Z) * W), rtol=1e-12)
    np.testing.assert_allclose(tb, np.exp(Z) * W, rtol=1e-12)

    def with_aux(z):
        return np.sum(np.abs(z) ** 2), z * 2

    g, aux = srcgrad.grad(with_aux, has_aux=True)(Z)
    np.testing.assert_allclose(g, 2 * np.conj(Z), rtol=1e-12)


def test_complex_argument_beside_a_dict_argument():
    def f(p, z):
        return np.sum(np.abs(p["w"] * z) ** 2)

    p = {"w": np.array([1.0, 2.0, 0.5])}
    gz = srcgrad.grad(f, wrt=1)(p, Z)
    np.testing.assert_allclose(gz, 2 * p["w"] ** 2 * np.conj(Z), rtol=1e-12)
    gp = srcgrad.grad(f)(p, Z)
    np.testing.assert_allclose(gp["w"], 2 * p["w"] * np.abs(Z) ** 2, rtol=1e-12)


def test_one_gradient_function_called_with_real_then_complex_then_real():
    g = srcgrad.grad(lambda z: np.sum(np.abs(z) ** 2))
    x = np.array([1.0, -2.0, 0.5])
    np.testing.assert_allclose(g(x), 2 * x)
    np.testing.assert_allclose(g(Z), 2 * np.conj(Z))
    np.testing.assert_allclose(g(x), 2 * x)
    assert g(1.5) == pytest.approx(3.0) and g(1.5 + 2j) == pytest.approx(3.0 - 4j)


def test_shown_code_of_a_complex_example():
    def f(z):
        return np.sum(np.abs(z) ** 2)

    text = srcgrad.derivative_source(f, example=(Z,))
    assert "abs_slope(z)" in text and "np.real" not in text


def test_jacobian_of_a_complex_output_is_refused_not_its_real_part():
    for mode in ("forward", "reverse"):
        with pytest.raises(UsageError, match="complex"):
            srcgrad.jacobian(lambda x: np.exp(1j * x), mode=mode)(np.array([0.3, 0.7]))
        with pytest.raises(UsageError, match="complex"):
            srcgrad.jacobian(lambda x: (x, np.exp(1j * x)), mode=mode)(np.array([0.3]))


scipy_linalg = pytest.importorskip("scipy.linalg")


def test_sqrtm_of_a_complex_matrix_and_a_real_one_with_a_complex_root():
    def f(a):
        return np.sum(np.abs(scipy_linalg.sqrtm(a)) ** 2)

    c = np.array([[2.0 + 1.0j, 0.3], [0.1j, 1.5 - 0.5j]])
    check_grad(f, c)
    negative = np.array([[-1.0, 0.2], [0.1, 2.0]])  # an eigenvalue below 0: a complex root
    assert np.iscomplexobj(scipy_linalg.sqrtm(negative))
    with pytest.raises(srcgrad.SrcgradError, match="sqrtm of this real matrix is complex"):
        srcgrad.grad(f)(negative)
    off_the_cut = negative + 0.5j * np.eye(2)  # (-1 itself is on sqrt's branch cut)
    check_grad(f, off_the_cut)


def test_shown_code_of_complex_arguments_calls_the_complex_only_helpers():
    """The helpers test_runtime's programs (real arguments) never show: each appears in
    the code shown for a complex argument, and that code gives srcgrad's numbers."""
    def accumulate(z, x):
        v = x * 1.0
        for _ in range(2):
            v = v * (0.5 + 0.5j) + z  # a real value carried into a complex one
        w = z ** x[0]  # complex ** real, differentiated in the exponent: clog
        return np.sum(np.abs(v) ** 2) + np.real(np.sum(w)) + np.sum(np.real(z) * x)

    text = srcgrad.derivative_source(accumulate, wrt=(0, 1), example=(Z, X3))
    for name in ("into_complex", "complex_copy", "clog"):
        assert f"{name}(" in text, name
    second = srcgrad.derivative_source(lambda x: np.sum(np.abs(np.exp(1j * x) + 0.5)),
                                       order=2)
    assert "abs_slope_jvp(" in second
    check_grad(lambda z: accumulate(z, X3), Z)


def test_reverse_over_reverse_through_abs_of_complex_values():
    """vjp of a gradient runs abs_slope's reverse rule (abs_slope_vjp): the Hessian is
    symmetric, so it equals the gradient's derivative along the cotangent."""
    def f(x):
        return np.sum(np.abs(np.exp(1j * x) * x + 0.5) ** 3)

    x, v = np.array([0.3, 1.0, -0.7]), np.array([0.2, -0.4, 0.9])
    _, pull = srcgrad.vjp(srcgrad.grad(f), x)
    np.testing.assert_allclose(pull(v)[0], directional(srcgrad.grad(f), (x,), (v,)),
                               rtol=1e-7)


X3 = np.array([1.5, -0.5, 2.0])
