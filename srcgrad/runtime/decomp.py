"""Run-time helpers for matrix decompositions: adjoints and tangents of
``np.linalg.slogdet``, ``cholesky``, ``qr``, ``eigh``, ``eigvalsh``, ``svd``, ``svdvals``
and ``pinv``. Public and stable.

Generated code calls them (``from srcgrad.runtime.decomp import svd_grad``).
``<fn>_grad(g, a, ans, ...)`` is the adjoint of ``a`` given the output's adjoint ``g``;
for a tuple result (slogdet, qr, eigh, svd) ``g`` is a list with one entry per output
(a zero, possibly a float 0.0, for an output the program never reads).
``<fn>_jvp(dot, a, ans, ...)`` is the result's tangent given ``a``'s tangent ``dot``, a
tuple in the result's order for a tuple result. ``ans`` is the function's result. The
functions that read one triangle of ``a`` (cholesky, eigh, eigvalsh, and svd and pinv
with ``hermitian=True``) put the adjoint on that triangle, as LAPACK reads it.
The formulas hold where the derivative exists: distinct eigenvalues and nonzero distinct
singular values, full-rank matrices for pinv.

Contract (that of ``srcgrad.runtime``): plain functions of NumPy values, with no srcgrad
state and no side effect on their arguments; names, parameters and results are stable.
A case whose derivative srcgrad does not provide raises NotImplementedError naming it
(``qr`` of a wide matrix or another mode, ``svd`` with full non-square factors).
``__all__`` lists the functions generated code may call.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "cholesky_grad", "cholesky_jvp", "eigh_grad", "eigh_jvp", "eigvalsh_grad", "eigvalsh_jvp",
    "pinv_grad", "pinv_jvp", "qr_grad", "qr_jvp", "slogdet_grad", "slogdet_jvp", "svd_grad",
    "svd_jvp", "svdvals_grad", "svdvals_jvp",
]


def _t(a):
    return np.swapaxes(a, -1, -2)


def slogdet_grad(g, a, ans):
    """Adjoint of ``(sign, logabsdet) = slogdet(a)``: only logabsdet is differentiable."""
    return np.asarray(g[1])[..., None, None] * _t(np.linalg.inv(a))


def slogdet_jvp(dot, a, ans):
    """Tangent of ``(sign, logabsdet) = slogdet(a)``: (0, trace(solve(a, dot)))."""
    return (np.zeros(np.shape(ans[0])),
            np.trace(np.linalg.solve(a, dot), axis1=-2, axis2=-1))


def _mm(*ms):
    """The matrix product of several (stacked) matrices, left to right."""
    out = ms[0]
    for m in ms[1:]:
        out = np.matmul(out, m)
    return out


def _solve_right(x, a):
    """``x @ inv(a)`` for stacked matrices, by a solve."""
    return _t(np.linalg.solve(_t(a), _t(x)))


def _part(g, i, ans):
    """Output ``i``'s adjoint as an array of that output's shape (it may be a zero float)."""
    return np.zeros(np.shape(ans[i])) + g[i]


def _read(dot, upper):
    """Tangent of the symmetric matrix a LAPACK routine reads from one triangle of ``a``."""
    if upper:
        return np.triu(dot) + _t(np.triu(dot, 1))
    return np.tril(dot) + _t(np.tril(dot, -1))


def _read_adjoint(g, upper):
    """Adjoint of ``_read``: a gradient ``g`` for symmetric inputs, folded onto the
    triangle that is read (off-diagonal entries count twice)."""
    if upper:
        return np.triu(g) + np.triu(_t(g), 1)
    return np.tril(g) + np.tril(_t(g), -1)


def _phi(x):
    """The lower triangle of ``x`` with its diagonal halved."""
    return np.tril(x) - 0.5 * (np.eye(x.shape[-1]) * x)


def cholesky_grad(g, a, ans, upper):
    """Adjoint of the Cholesky factor (Murray 2016): L^-T Phi(L^T Lbar) L^-1, read back."""
    low, gl = (_t(ans), _t(g)) if upper else (ans, np.asarray(g))
    inner = _phi(np.matmul(_t(low), gl))
    full = _solve_right(np.linalg.solve(_t(low), inner), low)
    return _read_adjoint(full, upper)


def cholesky_jvp(dot, a, ans, upper):
    """Tangent of the Cholesky factor: dL = L Phi(L^-1 dA L^-T)."""
    low = _t(ans) if upper else ans
    x = np.linalg.solve(low, _read(dot, upper))
    dl = np.matmul(low, _phi(_t(np.linalg.solve(low, _t(x)))))
    return _t(dl) if upper else dl


def _qr_check(a, mode):
    if mode != "reduced":
        raise NotImplementedError("np.linalg.qr derivative: only mode='reduced'")
    if np.shape(a)[-2] < np.shape(a)[-1]:
        raise NotImplementedError("np.linalg.qr derivative: only m >= n (tall or square)")


def _copyltu(m):
    """The symmetric matrix with ``m``'s lower triangle."""
    return np.tril(m) + _t(np.tril(m, -1))


def qr_grad(g, a, ans, mode):
    """Adjoint of the reduced QR, m >= n: (Qbar + Q copyltu(R Rbar^T - Qbar^T Q)) R^-T."""
    _qr_check(a, mode)
    q, r = ans
    gq, gr = _part(g, 0, ans), _part(g, 1, ans)
    m = np.matmul(r, _t(gr)) - np.matmul(_t(gq), q)
    return _t(np.linalg.solve(r, _t(gq + np.matmul(q, _copyltu(m)))))


def qr_jvp(dot, a, ans, mode):
    """Tangent of the reduced QR, m >= n.

    C = Q^T dA R^-1, Omega its skew lower part,
    dR = (C - Omega) R, dQ = dA R^-1 - Q (C - Omega)."""
    _qr_check(a, mode)
    q, r = ans
    dar = _solve_right(dot, r)
    c = np.matmul(_t(q), dar)
    low = np.tril(c, -1)
    upper = c - low + _t(low)
    return np.matmul(q, -upper) + dar, np.matmul(upper, r)


def _gaps(w):
    """F[..., i, j] = 1 / (w_j - w_i) off the diagonal, 0 on it."""
    diff = w[..., None, :] - w[..., :, None]
    eye = np.eye(np.shape(w)[-1], dtype=bool)
    return np.where(eye, 0.0, 1.0 / np.where(eye, 1.0, diff))


def eigh_grad(g, a, ans, UPLO):
    """Adjoint of eigh: V (diag(wbar) + F * (V^T Vbar)) V^T, read back onto UPLO."""
    w, v = ans
    gw, gv = _part(g, 0, ans), _part(g, 1, ans)
    inner = gw[..., None, :] * np.eye(np.shape(w)[-1]) + _gaps(w) * np.matmul(_t(v), gv)
    return _read_adjoint(_mm(v, inner, _t(v)), UPLO == "U")


def eigh_jvp(dot, a, ans, UPLO):
    """Tangent of eigh: M = V^T dA V, dw = diag(M), dV = V (F * M)."""
    w, v = ans
    m = _mm(_t(v), _read(dot, UPLO == "U"), v)
    return np.diagonal(m, axis1=-2, axis2=-1), np.matmul(v, _gaps(w) * m)


def eigvalsh_grad(g, a, UPLO):
    """Adjoint of eigvalsh: V diag(wbar) V^T, read back onto UPLO."""
    v = np.linalg.eigh(a, UPLO)[1]
    return _read_adjoint(np.matmul(v * np.asarray(g)[..., None, :], _t(v)), UPLO == "U")


def eigvalsh_jvp(dot, a, UPLO):
    """Tangent of eigvalsh: diag(V^T dA V)."""
    v = np.linalg.eigh(a, UPLO)[1]
    return np.einsum("...ji,...jk,...ki->...i", v, _read(dot, UPLO == "U"), v)


def _svd_parts(a, ans, full_matrices, compute_uv, hermitian):
    """(U, s, V) of the reduced SVD of the matrix numpy actually decomposes."""
    if not compute_uv:
        u, s, vh = np.linalg.svd(a, full_matrices=False, hermitian=hermitian)
        return u, s, _t(vh)
    m, n = np.shape(a)[-2:]
    if full_matrices and m != n:
        # Full U (or Vh) of a non-square matrix: its extra columns are not unique.
        raise NotImplementedError("np.linalg.svd derivative: full_matrices=True only for "
                                  "square matrices; pass full_matrices=False")
    u, s, vh = ans
    return u, s, _t(vh)


def svd_grad(g, a, ans, full_matrices, compute_uv, hermitian):
    """Adjoint of the SVD (Townsend 2016), for distinct nonzero singular values."""
    u, s, v = _svd_parts(a, ans, full_matrices, compute_uv, hermitian)
    k = np.shape(s)[-1]
    eye = np.eye(k)
    if not compute_uv:
        out = np.matmul(u * np.asarray(g)[..., None, :], _t(v))
        return _read_adjoint(out, False) if hermitian else out
    gu, gs, gv = _part(g, 0, ans), _part(g, 1, ans), _t(_part(g, 2, ans))
    f = _gaps(s * s)
    utgu, vtgv = np.matmul(_t(u), gu), np.matmul(_t(v), gv)
    sr = s[..., None, :]  # right-multiplication by diag(s)
    inner = (f * (utgu - _t(utgu))) * sr + gs[..., None, :] * eye \
        + s[..., :, None] * (f * (vtgv - _t(vtgv)))
    out = _mm(u, inner, _t(v))
    m, n = np.shape(a)[-2:]
    if m > k:
        out = out + _mm(gu - np.matmul(u, utgu), _t(v / sr))
    if n > k:
        out = out + np.matmul(u / sr, _t(gv - np.matmul(v, vtgv)))
    return _read_adjoint(out, False) if hermitian else out


def svd_jvp(dot, a, ans, full_matrices, compute_uv, hermitian):
    """Tangent of the SVD (Townsend 2016), for distinct nonzero singular values.

    P = U^T dA V, ds = diag(P),
    dU = U (F * (P S + S P^T)) + (I - U U^T) dA V S^-1, dV likewise."""
    u, s, v = _svd_parts(a, ans, full_matrices, compute_uv, hermitian)
    dot = _read(dot, False) if hermitian else dot
    p = _mm(_t(u), dot, v)
    ds = np.diagonal(p, axis1=-2, axis2=-1)
    if not compute_uv:
        return ds
    f = _gaps(s * s)
    sr, sl = s[..., None, :], s[..., :, None]
    du = np.matmul(u, f * (p * sr + sl * _t(p)))
    dv = np.matmul(v, f * (sl * p + _t(p) * sr))
    m, n = np.shape(a)[-2:]
    if m > s.shape[-1]:
        du = du + np.matmul(dot, v / sr) - np.matmul(u, p / sr)
    if n > s.shape[-1]:
        dv = dv + np.matmul(_t(dot), u / sr) - np.matmul(v, _t(p) / sr)
    return du, ds, _t(dv)


def svdvals_grad(g, x):
    """Adjoint of svdvals: U diag(sbar) V^T."""
    return svd_grad(g, x, None, False, False, False)


def svdvals_jvp(dot, x):
    """Tangent of svdvals: diag(U^T dot V)."""
    return svd_jvp(dot, x, None, False, False, False)


def pinv_grad(g, a, ans, hermitian):
    """Adjoint of the pseudo-inverse P of a full-rank matrix (Golub and Pereyra 1973).

    -P^T G P^T + (I - A P) G^T P P^T + P^T P G^T (I - P A)."""
    a = _read(a, False) if hermitian else np.asarray(a)
    p, gt = ans, _t(g)
    pt = _t(p)
    out = -_mm(pt, g, pt) + _mm(gt - _mm(a, p, gt), p, pt) + _mm(pt, p, gt - _mm(gt, p, a))
    return _read_adjoint(out, False) if hermitian else out


def pinv_jvp(dot, a, ans, hermitian):
    """Tangent of the pseudo-inverse P of a full-rank matrix.

    -P dA P + P P^T dA^T (I - A P) + (I - P A) dA^T P^T P."""
    a = _read(a, False) if hermitian else np.asarray(a)
    dot = _read(dot, False) if hermitian else dot
    p, dt = ans, _t(dot)
    pt = _t(p)
    return -_mm(p, dot, p) + _mm(p, pt, dt - _mm(dt, a, p)) + _mm(dt - _mm(p, a, dt), pt, p)
