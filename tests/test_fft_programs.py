"""np.fft in user programs, end to end (issue 20): real inputs with complex values
inside, through srcgrad.grad, jvp, vjp and hessian.

Every gradient is checked against central differences (tests/numeric.py), some against
hand formulas (a circular convolution's gradient is a circular correlation; the Hessian
of a power spectrum is the dense quadratic form 2 Re(A^H A)). The ``ag_`` programs are
autograd's FFT tests (tests/test_fft.py there: its functions, arguments and shapes) made
scalar: the real and imaginary parts of the transform weighted by constants, so every
entry's adjoint is exercised.
"""

from __future__ import annotations

import numeric
import numpy as np
import pytest

import srcgrad

RNG = np.random.default_rng(20)
P3 = np.exp(1j * np.arange(3.0))  # a complex constant: irfft's input off the Hermitian
W = {shape: RNG.standard_normal(shape) for shape in ((4,), (6,), (8,), (3, 4), (5, 5))}


def _both(y, w):
    return np.sum(np.real(y) * w) + np.sum(np.imag(y) * (w - 0.5))


def power(x):
    return np.sum(np.abs(np.fft.rfft(x)) ** 2)


def power_conj(x):
    spectrum = np.fft.rfft(x)
    return np.sum(np.real(spectrum * np.conj(spectrum)))


def filtered(x, h):
    return np.sum(np.real(np.fft.ifft(np.fft.fft(x) * h)) ** 2)


def convolved(x, k, w):
    return np.sum(np.real(np.fft.ifft(np.fft.fft(x) * np.fft.fft(k))) * w)


def smoothness(x):
    return np.sum(np.arange(4.0) ** 2 * np.abs(np.fft.rfft(x, norm="ortho")) ** 2)


def image(a, w):
    return np.sum(np.abs(np.fft.fft2(a, norm="forward")) * w)


def shifted(x, w):
    return np.sum(np.abs(np.fft.fftshift(np.fft.fft(x, 8))) * w)


def round_trip(x):
    return np.sum(np.fft.irfft(np.fft.rfft(x) * P3, 5) ** 2)


def n_d(x, w):
    return _both(np.fft.ifftn(np.fft.fftn(x, s=(4, 5), axes=(0, 1)) ** 2, axes=(1,)), w)


PROGRAMS = [
    (power, (RNG.standard_normal(6),), (0,)),
    (power_conj, (RNG.standard_normal(6),), (0,)),
    (filtered, (RNG.standard_normal(6), RNG.standard_normal(6)), (0, 1)),
    (convolved, (RNG.standard_normal(6), RNG.standard_normal(6), W[(6,)]), (0, 1)),
    (smoothness, (RNG.standard_normal(6),), (0,)),
    (image, (RNG.standard_normal((3, 4)), W[(3, 4)]), (0,)),
    (shifted, (RNG.standard_normal(6), W[(8,)]), (0,)),
    (round_trip, (RNG.standard_normal(4),), (0,)),
    (n_d, (RNG.standard_normal((3, 4)), RNG.standard_normal((4, 5))), (0,)),
]


@pytest.mark.parametrize("program", PROGRAMS, ids=lambda p: p[0].__name__)
def test_programs_gradients_match_central_differences(program):
    f, args, wrt = program
    for i in wrt:
        got = srcgrad.grad(f, wrt=i)(*args)
        np.testing.assert_allclose(got, numeric.gradient(f, args, i), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("program", PROGRAMS, ids=lambda p: p[0].__name__)
def test_programs_tangents_match_central_differences(program):
    f, args, wrt = program
    tangents = tuple(RNG.standard_normal(np.shape(a)) if i in wrt else np.zeros(np.shape(a))
                     for i, a in enumerate(args))
    _, got = srcgrad.jvp(f, args, tangents)
    want = sum(np.sum(numeric.gradient(f, args, i) * tangents[i]) for i in wrt)
    assert got == pytest.approx(want, rel=1e-6, abs=1e-8)


def test_circular_convolution_gradient_is_the_hand_formula():
    """d/dx_i of sum_j w_j (x * k)_j with (x * k)_j = sum_i x_i k_((j - i) mod n) is
    sum_j w_j k_((j - i) mod n); and in k, the same with x."""
    x, k, w = PROGRAMS[3][1]
    n = len(x)
    gx, gk = srcgrad.grad(convolved, wrt=(0, 1))(x, k, w)
    idx = (np.arange(n)[None, :] - np.arange(n)[:, None]) % n  # [i, j] -> (j - i) mod n
    np.testing.assert_allclose(gx, (k[idx] * w[None, :]).sum(axis=1), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(gk, (x[idx] * w[None, :]).sum(axis=1), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("f", [power_conj, power],
                         ids=lambda f: f.__name__)
def test_power_hessian_is_the_dense_quadratic_form(f):
    """power(x) = |A x|^2 with A the rows rfft keeps: its Hessian is 2 Re(A^H A)."""
    x = PROGRAMS[0][1][0]
    a = np.fft.rfft(np.eye(6), axis=0)  # column k: rfft of the unit vector e_k
    np.testing.assert_allclose(srcgrad.hessian(f)(x), 2 * np.real(a.conj().T @ a),
                               rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("f", [filtered, smoothness, round_trip, n_d],
                         ids=lambda f: f.__name__)
def test_reverse_over_reverse_matches_differences_of_the_gradient(f):
    args = next(p[1] for p in PROGRAMS if p[0] is f)
    u = RNG.standard_normal(np.shape(args[0]))
    _, back = srcgrad.vjp(srcgrad.grad(f), *args)
    want = numeric.gradient(lambda *a: np.sum(srcgrad.grad(f)(*a) * u), args, 0)
    np.testing.assert_allclose(back(u)[0], want, rtol=1e-6, atol=1e-8)


def test_float32_input_keeps_a_float32_gradient():
    x = RNG.standard_normal(6)
    got = srcgrad.grad(smoothness)(x.astype(np.float32))
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, numeric.gradient(smoothness, (x,), 0), rtol=1e-4,
                               atol=1e-4)


# autograd's tests: (the program, the input's shape, the weights' shape); irfft's inputs
# are rfft's outputs times a complex constant (their zero-frequency entries get imaginary
# parts).
def ag_fft(x, w):
    return _both(np.fft.fft(x), w)


def ag_fft_ortho_axis(x, w):
    return _both(np.fft.fft(x, axis=0, norm="ortho"), w)


def ag_fft_n(x, w):
    return _both(np.fft.fft(x, 3) + np.fft.ifft(x, 7)[:, :3], w)


def ag_rfft_n(x, w):
    return _both(np.fft.rfft(x, 2) + np.fft.rfft(x, 6, axis=0)[:, :2], w)


def ag_irfft_n(x, w):
    return np.sum(np.fft.irfft(np.fft.rfft(x) * P3, 2) * w[:, :2]) + \
        np.sum(np.fft.irfft(np.fft.rfft(x) * P3, 6, norm="ortho") * w[:, :1])


def ag_fft_s(x, w):
    return _both(np.fft.fft2(x, s=(7, 3), axes=(0, 2))[:5, :3, 0], w) + \
        _both(np.fft.ifftn(x, s=(7, 3), axes=(0, 2))[1:6, 0], w)


def ag_rfft_s(x, w):
    return _both(np.fft.rfft2(x, s=(6, 2), axes=(0, 2))[:4, :3, 0], w[:4, :3]) + \
        _both(np.fft.rfftn(x, axes=(0, 2))[:, 0], w[:4, :3])


def ag_irfft_s(x, w):
    spectrum = np.fft.rfftn(x) * P3
    return np.sum(np.fft.irfft2(spectrum, s=(6, 2), axes=(0, 2))[:4, :4, 0] * w[:4, :4]) + \
        np.sum(np.fft.irfftn(spectrum)[1] * w[:4, :4])


def ag_shifts(x, w):
    return np.sum(np.fft.fftshift(x) * w) + np.sum(np.fft.ifftshift(x, axes=1) * w ** 2) + \
        np.sum(np.fft.fftshift(x[:4, :4], axes=(0,)) * w[:4, :4])


AUTOGRAD = [(ag_fft, (5, 5), (5, 5)), (ag_fft_ortho_axis, (5, 5), (5, 5)),
            (ag_fft_n, (5, 5), (5, 3)), (ag_rfft_n, (4, 4), (4, 2)),
            (ag_irfft_n, (4, 4), (4, 4)), (ag_fft_s, (5, 5, 5), (5, 3)),
            (ag_rfft_s, (4, 4, 4), (5, 5)), (ag_irfft_s, (4, 4, 4), (5, 5)),
            (ag_shifts, (5, 5), (5, 5))]


@pytest.mark.parametrize("case", AUTOGRAD, ids=lambda c: c[0].__name__)
def test_autograds_fft_programs(case):
    f, shape, wshape = case
    x, w = RNG.standard_normal(shape) / 10.0, RNG.standard_normal(wshape)
    np.testing.assert_allclose(srcgrad.grad(f)(x, w), numeric.gradient(f, (x, w), 0),
                               rtol=1e-6, atol=1e-8)


# ---- complex arguments: the gradient is df/dx - i df/dy (JAX's convention) ----------
def c_fft(z, w):
    return np.sum(np.abs(np.fft.fft(z, 6, norm="ortho")) ** 2 * w)


def c_irfft(z, w):
    return np.sum(np.fft.irfft(z, 6) * w) + np.sum(np.fft.hfft(z, 7)[:6] ** 2 * w)


def c_nd(z, w):
    return np.sum(np.real(np.fft.fftshift(np.fft.ifftn(z, s=(3, 6), axes=(0, 1))) * w))


def c_irfftn(z, w):
    return np.sum(np.fft.irfft2(z, s=(3, 6)) * w)


COMPLEX = [(c_fft, (5,), (6,)), (c_irfft, (4,), (6,)), (c_nd, (3, 4), (3, 6)),
           (c_irfftn, (3, 4), (3, 6))]


@pytest.mark.parametrize("case", COMPLEX, ids=lambda c: c[0].__name__)
def test_complex_arguments_gradients_match_differences_of_both_parts(case):
    """irfft's inputs include imaginary parts at zero frequency (and Nyquist), which it
    ignores: their gradient is 0."""
    f, shape, wshape = case
    z = RNG.standard_normal(shape) + 1j * RNG.standard_normal(shape)
    w = RNG.standard_normal(wshape)
    got = srcgrad.grad(f)(z, w)
    np.testing.assert_allclose(got, numeric.complex_gradient(f, (z, w), 0), rtol=1e-6,
                               atol=1e-8)
    if f is c_irfft:
        assert got[0].imag == 0


def test_complex64_argument_keeps_a_complex64_gradient():
    f, shape, wshape = COMPLEX[1]
    z = RNG.standard_normal(shape) + 1j * RNG.standard_normal(shape)
    w = RNG.standard_normal(wshape)
    got = srcgrad.grad(f)(z.astype(np.complex64), w.astype(np.float32))
    assert got.dtype == np.complex64
    np.testing.assert_allclose(got, numeric.complex_gradient(f, (z, w), 0), rtol=1e-4,
                               atol=1e-4)
