"""np.fft's adjoints (srcgrad.runtime.fft) against numbers.

Each transform is (real-)linear in its array, so its adjoint is fixed by the pairing
``<ct, t> = Re(sum(ct * t))`` (JAX's: no conjugation): the helper must satisfy
``<ct, L(x)> == <L^T(ct), x>`` for every ``ct`` and ``x``, and equal the transpose of the
dense matrix of ``L`` built column by column from NumPy's transform of unit inputs (real
and imaginary units, for a complex input). The helpers' own transposes (second order
takes them) are the primitives: checked by the same identity.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from srcgrad.runtime import fft as rfft_mod

FFT = np.fft
NORMS = (None, "backward", "ortho", "forward")

# (primitive, its adjoint helper, is the input real, the input's shape, keywords)
ONE_D = [
    (FFT.fft, rfft_mod.fft_grad, False, (6,), {}),
    (FFT.fft, rfft_mod.fft_grad, True, (6,), {}),
    (FFT.fft, rfft_mod.fft_grad, False, (3, 5), {"n": 3, "axis": 1}),
    (FFT.fft, rfft_mod.fft_grad, False, (5, 3), {"n": 8, "axis": 0}),
    (FFT.ifft, rfft_mod.ifft_grad, False, (7,), {}),
    (FFT.ifft, rfft_mod.ifft_grad, True, (2, 5), {"n": 4}),
    (FFT.ifft, rfft_mod.ifft_grad, False, (4, 3), {"n": 6, "axis": -2}),
    (FFT.rfft, rfft_mod.rfft_grad, True, (6,), {}),
    (FFT.rfft, rfft_mod.rfft_grad, True, (7,), {}),
    (FFT.rfft, rfft_mod.rfft_grad, True, (3, 7), {"n": 4, "axis": 1}),
    (FFT.rfft, rfft_mod.rfft_grad, True, (5, 2), {"n": 9, "axis": 0}),
    (FFT.irfft, rfft_mod.irfft_grad, False, (4,), {}),
    (FFT.irfft, rfft_mod.irfft_grad, False, (5,), {"n": 9}),
    (FFT.irfft, rfft_mod.irfft_grad, False, (2, 6), {"n": 4}),
    (FFT.irfft, rfft_mod.irfft_grad, False, (6, 2), {"n": 14, "axis": 0}),
    (FFT.irfft, rfft_mod.irfft_grad, True, (5,), {}),
    (FFT.hfft, rfft_mod.hfft_grad, False, (5,), {}),
    (FFT.hfft, rfft_mod.hfft_grad, False, (2, 4), {"n": 9, "axis": 0}),
    (FFT.hfft, rfft_mod.hfft_grad, False, (3, 5), {"n": 4}),
    (FFT.ihfft, rfft_mod.ihfft_grad, True, (7,), {}),
    (FFT.ihfft, rfft_mod.ihfft_grad, True, (3, 6), {"n": 9}),
    (FFT.ihfft, rfft_mod.ihfft_grad, True, (6, 2), {"n": 4, "axis": 0}),
]
N_D = [
    (FFT.fftn, rfft_mod.fftn_grad, False, (3, 4), {}),
    (FFT.fftn, rfft_mod.fftn_grad, True, (2, 3, 2), {"axes": (0, 2)}),
    (FFT.fftn, rfft_mod.fftn_grad, False, (3, 4), {"s": (2, 6), "axes": (0, 1)}),
    (FFT.fftn, rfft_mod.fftn_grad, False, (3, 4), {"s": (5, -1), "axes": (1, 0)}),
    (FFT.fftn, rfft_mod.fftn_grad, False, (3, 4), {"s": (5, 2), "axes": (1, 1)}),
    (FFT.fftn, rfft_mod.fftn_grad, False, (3, 4), {"s": (None, 6), "axes": (1, 1)}),
    (FFT.ifftn, rfft_mod.ifftn_grad, False, (2, 3, 2), {}),
    (FFT.ifftn, rfft_mod.ifftn_grad, False, (3, 4), {"s": (4, 3), "axes": (0, 1)}),
    (FFT.fft2, rfft_mod.fftn_grad, False, (2, 3, 4), {"axes": (-2, -1)}),
    (FFT.ifft2, rfft_mod.ifftn_grad, True, (3, 4), {"s": (2, 5), "axes": (-2, -1)}),
    (FFT.rfftn, rfft_mod.rfftn_grad, True, (3, 4), {}),
    (FFT.rfftn, rfft_mod.rfftn_grad, True, (2, 3, 5), {"s": (3, 4), "axes": (0, 2)}),
    (FFT.rfftn, rfft_mod.rfftn_grad, True, (3, 4), {"axes": (1, 0)}),
    (FFT.rfft2, rfft_mod.rfftn_grad, True, (3, 5), {"s": (4, 7), "axes": (-2, -1)}),
    (FFT.irfftn, rfft_mod.irfftn_grad, False, (3, 4), {}),
    (FFT.irfftn, rfft_mod.irfftn_grad, False, (3, 4), {"s": (4, 5), "axes": (0, 1)}),
    (FFT.irfftn, rfft_mod.irfftn_grad, False, (2, 3, 3), {"axes": (2, 0)}),
    (FFT.irfftn, rfft_mod.irfftn_grad, False, (3, 4), {"s": (None, None), "axes": (0, 1)}),
    (FFT.irfft2, rfft_mod.irfftn_grad, False, (3, 4), {"s": (2, 8), "axes": (-2, -1)}),
    (FFT.irfft2, rfft_mod.irfftn_grad, False, (3, 4), {"axes": (-2, -1)}),
]
CASES = ONE_D + N_D


def _id(case) -> str:
    prim, _, real, shape, kw = case
    return f"{prim.__name__}-{'real' if real else 'complex'}-{shape}-{kw}"


def _random(rng, shape, real, dtype=np.float64):
    x = rng.standard_normal(shape)
    if not real:
        x = x + 1j * rng.standard_normal(shape)
    return x.astype(dtype if real else np.result_type(dtype, 1j))


def _call(fn, x, kw, norm):
    if fn.__name__.endswith("n") or fn.__name__.endswith("2"):
        with warnings.catch_warnings():  # an s with None (deprecated in NumPy 2): a case
            warnings.simplefilter("ignore", DeprecationWarning)
            return fn(x, s=kw.get("s"), axes=kw.get("axes"), norm=norm)
    return fn(x, n=kw.get("n"), axis=kw.get("axis", -1), norm=norm)


def _pair(ct, t) -> float:
    return float(np.real(np.sum(ct * t)))


def _dense_transpose(prim, real, x, kw, norm, ct):
    """The adjoint from the dense real matrix of x -> prim(x): with the pairing, a
    complex coordinate pairs as (re, im) . (re, -im), so the adjoint is J^T applied to
    (re ct, -im ct), read back as re - i * im."""
    units = [1.0] if real else [1.0, 1j]
    cols = []
    for unit in units:
        for k in np.ndindex(x.shape):
            e = np.zeros(x.shape, dtype=float if real else complex)
            e[k] = unit
            y = np.asarray(_call(prim, e, kw, norm))
            cols.append(np.concatenate([np.real(y).ravel(), np.imag(y).ravel()]))
    jac = np.array(cols).T  # (2 * outputs, units * inputs)
    ct = np.broadcast_to(ct, np.shape(_call(prim, x, kw, norm)))
    w = jac.T @ np.concatenate([np.real(ct).ravel(), -np.imag(ct).ravel()])
    if real:
        return w.reshape(x.shape)
    re, im = np.split(w, 2)
    return (re - 1j * im).reshape(x.shape)


@pytest.mark.parametrize("norm", NORMS)
@pytest.mark.parametrize("case", CASES, ids=_id)
def test_adjoint_is_the_transpose_of_the_dense_matrix(case, norm):
    prim, grad, real, shape, kw = case
    rng = np.random.default_rng(7)
    x = _random(rng, shape, real)
    y = _call(prim, x, kw, norm)
    ct = _random(rng, np.shape(y), False)  # complex even for a real output (its re counts)
    got = _grad(grad, ct, x, kw, norm)
    want = _dense_transpose(prim, real, x, kw, norm, ct)
    assert np.shape(got) == x.shape
    assert np.iscomplexobj(got) == (not real)
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)
    # the pairing identity <ct, L x> == <L^T ct, x>, on a second random input
    x2 = _random(rng, shape, real)
    assert _pair(ct, _call(prim, x2, kw, norm)) == pytest.approx(_pair(got, x2), rel=1e-10)


def _grad(grad, ct, x, kw, norm):
    return grad(ct, x, **kw, norm=norm)


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_float32_stays_single_precision(case):
    prim, grad, real, shape, kw = case
    rng = np.random.default_rng(3)
    x = _random(rng, shape, real, np.float32)
    y = _call(prim, x, kw, "ortho")
    ct = _random(rng, np.shape(y), np.isrealobj(y), np.float32)
    got = _grad(grad, ct, x, kw, "ortho")
    assert got.dtype == x.dtype  # float32 -> float32, complex64 -> complex64
    want = _grad(grad, ct.astype(np.complex128 if np.iscomplexobj(ct) else float),
                 x.astype(np.complex128 if not real else float), kw, "ortho")
    np.testing.assert_allclose(got, want, rtol=2e-5, atol=2e-5)


# ---- second order: each helper's transpose is the primitive ---------------------------

@pytest.mark.parametrize("norm", (None, "ortho", "forward"))
@pytest.mark.parametrize("case", CASES, ids=_id)
def test_the_primitive_is_the_transpose_of_the_adjoint(case, norm):
    """What rules/fft.py declares for second order: <u, grad(c)> == <prim(u), c> for u
    of the input's kind and any c (the helper is real-linear in c)."""
    prim, grad, real, shape, kw = case
    rng = np.random.default_rng(11)
    x = _random(rng, shape, real)
    c = _random(rng, np.shape(_call(prim, x, kw, norm)), False)
    u = _random(rng, shape, real)
    assert _pair(u, _grad(grad, c, x, kw, norm)) == \
        pytest.approx(_pair(_call(prim, u, kw, norm), c), rel=1e-10)


def _callees(template) -> set:
    from srcgrad import ir

    return {s.op.obj for s in template.stmts if isinstance(s.op, ir.Callee)}


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_the_rules_call_the_helpers_checked_here(case):
    """rules/fft.py: the primitive's adjoint is the helper these tests check, and the
    helper's own adjoint (second order) is the primitive (its 1-d or n-d form)."""
    from srcgrad.rules import fft as rules

    prim, grad, _, _, _ = case
    (rule,) = rules.table.rules[prim]
    assert _callees(rule.vjps["a"]) == {grad} and rule.linear and rule.complex
    real = prim.__name__.startswith("irfft") or prim is FFT.hfft
    assert rule.dtype == ("real" if real else "complex")
    (helper,) = rules.helper_table.rules[grad]
    nd = grad.__name__.replace("_grad", "")
    assert _callees(helper.vjps["c"]) == {getattr(np.fft, nd)} and helper.linear


def test_the_shifts_transpose_to_each_other():
    from srcgrad.rules import fft as rules

    rng = np.random.default_rng(4)
    for shift, inverse in ((FFT.fftshift, FFT.ifftshift), (FFT.ifftshift, FFT.fftshift)):
        (rule,) = rules.table.rules[shift]
        assert _callees(rule.vjps["x"]) == {inverse}
        for shape, axes in (((5,), None), ((4, 5), None), ((4, 5), 1), ((3, 4, 5), (0, 2))):
            x, ct = _random(rng, shape, False), _random(rng, shape, False)
            assert _pair(ct, shift(x, axes)) == pytest.approx(_pair(inverse(ct, axes), x))


def test_defaults_match_numpy():
    """A helper called with the defaults transposes the primitive called with its
    defaults (irfft's n = 2 (m - 1); fftn's s and axes: every axis)."""
    rng = np.random.default_rng(5)
    for prim, grad, real, shape in ((FFT.fft, rfft_mod.fft_grad, False, (3, 4)),
                                    (FFT.rfft, rfft_mod.rfft_grad, True, (3, 5)),
                                    (FFT.irfft, rfft_mod.irfft_grad, False, (3, 5)),
                                    (FFT.fftn, rfft_mod.fftn_grad, False, (2, 3)),
                                    (FFT.irfftn, rfft_mod.irfftn_grad, False, (3, 4))):
        x, x2 = _random(rng, shape, real), _random(rng, shape, real)
        ct = _random(rng, np.shape(prim(x)), False)
        assert _pair(ct, prim(x2)) == pytest.approx(_pair(grad(ct, x), x2), rel=1e-10)


def test_irfft_ignores_the_imaginary_parts_of_zero_and_nyquist():
    """irfft reads only the real part of a[0] (and of a[n/2] for an even n): their
    adjoints are real, so the pairing gives the imaginary tangents nothing."""
    rng = np.random.default_rng(2)
    a = _random(rng, (5,), False)
    c = rng.standard_normal(8)
    got = rfft_mod.irfft_grad(c, a)
    assert got[0].imag == 0 and got[4].imag == 0
    assert np.all(got[1:4].imag != 0)


def test_the_adjoint_is_not_a_view_of_the_cotangent():
    g = np.arange(4.0) + 0j
    out = rfft_mod.fft_grad(g, g, n=None)
    out[...] = 0
    assert g[1] == 1

