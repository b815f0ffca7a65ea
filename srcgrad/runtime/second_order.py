"""Run-time helpers for second order: tangents of the nonlinear adjoint helpers of
``srcgrad.runtime.linalg`` and ``srcgrad.runtime.decomp``. Public and stable.

Forward mode applied to reverse-mode code (``hvp``, ``hessian``, ``derivative_source(f,
order=2)``) differentiates the adjoint helpers that code calls. Most are linear in the
adjoint they transform, and their tangent is the helper itself; the adjoints of the
nonlinear functions (norms, determinants, solves, matrix powers, decompositions) also
depend nonlinearly on the primal input and result they are passed. Here are those
dependencies: ``<helper>_jvp_<param>(dot, <the helper's parameters>)`` is the directional
derivative of ``<helper>``'s result along the tangent ``dot`` of its parameter ``<param>``,
the others held fixed (``cross_grad_jvp`` and ``einsum_grad_jvp`` take the parameter's
position as an argument). Generated code calls them (``from srcgrad.runtime.second_order
import det_grad_jvp_a``) and adds the shares up. Reverse mode over them is not provided;
the transposes of the linear helpers, for reverse mode over reverse-mode code, are in
``srcgrad.runtime.transposes``.

Contract (that of ``srcgrad.runtime``): plain functions of NumPy values, with no srcgrad
state and no side effect on their arguments; names, parameters and results are stable.
``__all__`` lists the functions generated code may call.
"""

from __future__ import annotations

import numpy as np

from . import decomp, linalg
from .finite import ratio

__all__ = [
    "cholesky_grad_jvp_l", "cross_grad_jvp", "det_grad_jvp_a", "eigh_grad_jvp_r",
    "eigvalsh_grad_jvp_a", "einsum_grad_jvp", "matrix_power_grad_jvp_a", "norm_grad_jvp_n",
    "norm_grad_jvp_x", "pinv_grad_jvp_a", "pinv_grad_jvp_p", "qr_grad_jvp_r", "slogdet_grad_jvp_a",
    "solve_grad_a_jvp_a", "svd_grad_jvp_a", "svd_grad_jvp_r", "svdvals_grad_jvp_x",
]


def _t(a):
    return np.swapaxes(a, -1, -2)


def _mm(*ms):
    out = ms[0]
    for m in ms[1:]:
        out = np.matmul(out, m)
    return out


def cross_grad_jvp(dot, g, a, b, axisa, axisb, axisc, axis, which, param):
    """Share of ``param`` (0: a, 1: b) in the tangent of ``cross_grad(..., which)``.

    The adjoint of a reads b (and the other way round), and its own operand only for
    its shape."""
    if param == which:
        return np.zeros(np.shape(a if which == 0 else b))
    a, b = (dot, b) if param == 0 else (a, dot)
    return linalg.cross_grad(g, a, b, axisa, axisb, axisc, axis, which)


def einsum_grad_jvp(dot, g, subscripts, which, index, *operands):
    """Share of operand ``index`` in the tangent of ``einsum_grad``.

    ``einsum_grad(g, subscripts, which, *operands)`` is multilinear in the other
    operands; operand ``which`` gives a shape."""
    if index == which:
        return np.zeros(np.shape(operands[which]), np.result_type(g, 1.0))
    ops = list(operands)
    ops[index] = dot
    return linalg.einsum_grad(g, subscripts, which, *ops)


def _norm_parts(g, x, n, ord, axis, keepdims):
    x = np.asarray(x)
    axes, matrix = linalg._norm_axes(x, ord, axis)
    g, n = (v if keepdims else np.expand_dims(v, axes) for v in (g, n))
    euclid = ord is None or (ord == "fro" if isinstance(ord, str) else ord == 2 and not matrix)
    power = 2 if euclid else None if matrix else ord  # None: a matrix norm
    return x, axes, g, n, power


def _flat(power):
    """A norm whose gradient is piecewise constant (a count, a max, the 1-norm)."""
    return power is not None and power in (0, 1, np.inf, -np.inf)


def norm_grad_jvp_x(dot, g, x, n, ord, axis, keepdims):
    """Share of ``x`` in the tangent of ``norm_grad(g, x, n, ...)``, ``n`` held fixed."""
    x, axes, g, n, power = _norm_parts(g, x, n, ord, axis, keepdims)
    if power is None:  # matrix norms: nuc and 2/-2 through the SVD, the rest flat
        if ord not in ("nuc", 2, -2):
            return np.zeros(x.shape)
        xm, dm = (np.moveaxis(np.asarray(v), axes, (-2, -1)) for v in (x, dot))
        u, s, vh = np.linalg.svd(xm, full_matrices=False)
        du, _, dvh = decomp.svd_jvp(dm, xm, (u, s, vh), False, True, False)
        k = slice(None) if ord == "nuc" else slice(0, 1) if ord == 2 else slice(-1, None)
        out = np.matmul(du[..., :, k], vh[..., k, :]) + np.matmul(u[..., :, k], dvh[..., k, :])
        return g * np.moveaxis(out, (-2, -1), axes)
    if _flat(power):
        return np.zeros(np.broadcast_shapes(np.shape(g), x.shape))
    return g * (power - 1) * ratio(ratio(np.abs(x), n) ** (power - 2) * dot, n)


def norm_grad_jvp_n(dot, g, x, n, ord, axis, keepdims):
    """Share of the norm ``n`` in the tangent of ``norm_grad(g, x, n, ...)``."""
    x, axes, g, n, power = _norm_parts(g, x, n, ord, axis, keepdims)
    if power is None or _flat(power):  # the matrix norms' gradients do not read n
        return np.zeros(np.broadcast_shapes(np.shape(g), x.shape))
    dn = dot if keepdims else np.expand_dims(dot, axes)
    return -g * (power - 1) * np.sign(x) * ratio(ratio(np.abs(x), n) ** (power - 1) * dn, n)


def det_grad_jvp_a(dot, g, a, d):
    """Share of ``a`` in the tangent of ``det_grad(g, a, d)``: d inv(a) = -inv da inv."""
    inv = np.linalg.inv(a)
    return -np.asarray(g * d)[..., None, None] * _t(_mm(inv, dot, inv))


def slogdet_grad_jvp_a(dot, g, a):
    """Share of ``a`` in the tangent of ``slogdet_grad(g, a, ans)``."""
    inv = np.linalg.inv(a)
    return -np.asarray(g[1])[..., None, None] * _t(_mm(inv, dot, inv))


def solve_grad_a_jvp_a(dot, g, a, x):
    """Share of ``a`` in the tangent of ``solve_grad_a(g, a, x)``.

    d solve(a^T, g) is
    -solve(a^T, da^T solve(a^T, g))."""
    gb = np.linalg.solve(_t(a), g)
    return linalg.solve_grad_a(-np.matmul(_t(dot), gb), a, x)


def matrix_power_grad_jvp_a(dot, g, a, n):
    """Share of ``a`` in the tangent of ``matrix_power_grad(g, a, n)``."""
    a = np.asarray(a)
    ps = linalg._powers(a, n)
    dps = [np.zeros(a.shape, np.result_type(a, dot, 1.0))]  # d(a^k) = d(a^(k-1)) a + a^(k-1) da
    for k in range(1, n):
        dps.append(np.matmul(dps[-1], a) + np.matmul(ps[k - 1], dot))
    total = np.zeros(a.shape, np.result_type(a, dot, g, 1.0))
    for k in range(n):
        total = total + _mm(_t(dps[k]), g, _t(ps[n - 1 - k])) \
            + _mm(_t(ps[k]), g, _t(dps[n - 1 - k]))
    return total


def _pinv_grad_jvp(g, a, p, da, dp, hermitian):
    """Tangent of ``pinv_grad(g, a, p, hermitian)`` along (da, dp) (either may be None)."""
    a = decomp._read(a, False) if hermitian else np.asarray(a)
    zero = np.zeros(np.shape(a))
    da = zero if da is None else decomp._read(da, False) if hermitian else da
    dp = np.zeros(np.shape(p)) if dp is None else dp
    gt, pt, dpt = _t(g), _t(p), _t(dp)
    left = gt - _mm(a, p, gt)
    right = gt - _mm(gt, p, a)
    out = -_mm(dpt, g, pt) - _mm(pt, g, dpt) \
        - _mm(np.matmul(da, p) + np.matmul(a, dp), gt, p, pt) \
        + np.matmul(left, np.matmul(dp, pt) + np.matmul(p, dpt)) \
        + np.matmul(np.matmul(dpt, p) + np.matmul(pt, dp), right) \
        - _mm(pt, p, gt, np.matmul(dp, a) + np.matmul(p, da))
    return decomp._read_adjoint(out, False) if hermitian else out


def pinv_grad_jvp_a(dot, g, a, p, hermitian):
    """Share of ``a`` in the tangent of ``pinv_grad(g, a, p, hermitian)``."""
    return _pinv_grad_jvp(g, a, p, dot, None, hermitian)


def pinv_grad_jvp_p(dot, g, a, p, hermitian):
    """Share of the pseudo-inverse ``p`` in the tangent of ``pinv_grad(g, a, p, hermitian)``."""
    return _pinv_grad_jvp(g, a, p, None, dot, hermitian)


def cholesky_grad_jvp_l(dot, g, a, ans, upper):
    """Share of the factor ``ans`` in the tangent of ``cholesky_grad(g, a, ans, upper)``.

    With F = L^-T Phi(L^T G)
    L^-1, dF = -L^-T dL^T F + L^-T Phi(dL^T G) L^-1 - F dL L^-1."""
    low, gl, dl = (_t(ans), _t(g), _t(dot)) if upper else (ans, np.asarray(g), dot)
    full = decomp._solve_right(np.linalg.solve(_t(low), decomp._phi(np.matmul(_t(low), gl))),
                               low)
    inner = decomp._phi(np.matmul(_t(dl), gl))
    out = np.linalg.solve(_t(low), -np.matmul(_t(dl), full)
                          + decomp._solve_right(inner, low)) \
        - decomp._solve_right(np.matmul(full, dl), low)
    return decomp._read_adjoint(out, upper)


def _eigh_read_jvp(dot, a, upper):
    """(w, V) of eigh(a) and their tangents along the symmetric reading of ``dot``."""
    w, v = np.linalg.eigh(a, "U" if upper else "L")
    m = _mm(_t(v), decomp._read(dot, upper), v)
    return w, v, np.diagonal(m, axis1=-2, axis2=-1), np.matmul(v, decomp._gaps(w) * m)


def eigvalsh_grad_jvp_a(dot, g, a, UPLO):
    """Share of ``a`` in the tangent of ``eigvalsh_grad(g, a, UPLO)`` = V diag(g) V^T."""
    _, v, _, dv = _eigh_read_jvp(dot, a, UPLO == "U")
    gr = np.asarray(g)[..., None, :]
    out = np.matmul(dv * gr, _t(v)) + np.matmul(v * gr, _t(dv))
    return decomp._read_adjoint(out, UPLO == "U")


def eigh_grad_jvp_r(dot, g, a, ans, UPLO):
    """Share of ``(w, V)`` in the tangent of ``eigh_grad(g, a, (w, V), UPLO)``."""
    w, v = ans
    dw, dv = decomp._part(dot, 0, ans), decomp._part(dot, 1, ans)
    gw, gv = decomp._part(g, 0, ans), decomp._part(g, 1, ans)
    f = decomp._gaps(w)
    df = -f * f * (dw[..., None, :] - dw[..., :, None])
    vtgv = np.matmul(_t(v), gv)
    inner = gw[..., None, :] * np.eye(np.shape(w)[-1]) + f * vtgv
    dinner = df * vtgv + f * np.matmul(_t(dv), gv)
    out = _mm(dv, inner, _t(v)) + _mm(v, dinner, _t(v)) + _mm(v, inner, _t(dv))
    return decomp._read_adjoint(out, UPLO == "U")


def qr_grad_jvp_r(dot, g, a, ans, mode):
    """Share of ``(Q, R)`` in the tangent of ``qr_grad(g, a, (Q, R), mode)``.

    With X = Qbar + Q copyltu(M),
    M = R Rbar^T - Qbar^T Q and out = X R^-T, d out = (dX - out dR^T) R^-T."""
    decomp._qr_check(a, mode)
    q, r = ans
    dq, dr = decomp._part(dot, 0, ans), decomp._part(dot, 1, ans)
    gq, gr = decomp._part(g, 0, ans), decomp._part(g, 1, ans)
    m = np.matmul(r, _t(gr)) - np.matmul(_t(gq), q)
    dm = np.matmul(dr, _t(gr)) - np.matmul(_t(gq), dq)
    out = _t(np.linalg.solve(r, _t(gq + np.matmul(q, decomp._copyltu(m)))))
    dx = np.matmul(dq, decomp._copyltu(m)) + np.matmul(q, decomp._copyltu(dm))
    return _t(np.linalg.solve(r, _t(dx - np.matmul(out, _t(dr)))))


def _scaled_factors_jvp(dot, g, a, hermitian):
    """Tangent of U diag(g) V^T (the reduced SVD of ``a``) along ``dot``."""
    u, s, vh = np.linalg.svd(a, full_matrices=False, hermitian=hermitian)
    du, _, dvh = decomp.svd_jvp(dot, a, (u, s, vh), False, True, hermitian)
    gr = np.asarray(g)[..., None, :]
    out = np.matmul(du * gr, vh) + np.matmul(u * gr, dvh)
    return decomp._read_adjoint(out, False) if hermitian else out


def svdvals_grad_jvp_x(dot, g, x):
    """Share of ``x`` in the tangent of ``svdvals_grad(g, x)`` = U diag(g) V^T."""
    return _scaled_factors_jvp(dot, g, x, False)


def svd_grad_jvp_a(dot, g, a, ans, full_matrices, compute_uv, hermitian):
    """Share of ``a``: it is only read for its shape when the factors are given."""
    if compute_uv:
        return np.zeros(np.shape(a))
    return _scaled_factors_jvp(dot, g, a, hermitian)


def svd_grad_jvp_r(dot, g, a, ans, full_matrices, compute_uv, hermitian):
    """Share of ``(U, s, Vh)`` in the tangent of ``svd_grad``.

    Townsend's adjoint differentiated term by term; zero when the factors are recomputed
    from ``a``."""
    if not compute_uv:
        return np.zeros(np.shape(a))
    u, s, v = decomp._svd_parts(a, ans, full_matrices, compute_uv, hermitian)
    du, ds, dv = decomp._part(dot, 0, ans), decomp._part(dot, 1, ans), \
        _t(decomp._part(dot, 2, ans))
    k = np.shape(s)[-1]
    eye = np.eye(k)
    gu, gs, gv = decomp._part(g, 0, ans), decomp._part(g, 1, ans), _t(decomp._part(g, 2, ans))
    f = decomp._gaps(s * s)
    dw = 2 * s * ds
    df = -f * f * (dw[..., None, :] - dw[..., :, None])
    utgu, vtgv = np.matmul(_t(u), gu), np.matmul(_t(v), gv)
    dutgu, dvtgv = np.matmul(_t(du), gu), np.matmul(_t(dv), gv)
    sa, sb = utgu - _t(utgu), vtgv - _t(vtgv)
    dsa, dsb = dutgu - _t(dutgu), dvtgv - _t(dvtgv)
    sr, sl = s[..., None, :], s[..., :, None]
    dsr, dsl = ds[..., None, :], ds[..., :, None]
    inner = (f * sa) * sr + gs[..., None, :] * eye + sl * (f * sb)
    dinner = (df * sa + f * dsa) * sr + (f * sa) * dsr + dsl * (f * sb) \
        + sl * (df * sb + f * dsb)
    out = _mm(du, inner, _t(v)) + _mm(u, dinner, _t(v)) + _mm(u, inner, _t(dv))
    m, n = np.shape(a)[-2:]
    if m > k:
        left = gu - np.matmul(u, utgu)
        dleft = -np.matmul(du, utgu) - np.matmul(u, dutgu)
        out = out + np.matmul(dleft, _t(v / sr)) \
            + np.matmul(left, _t(dv / sr - v * dsr / (sr * sr)))
    if n > k:
        right = gv - np.matmul(v, vtgv)
        dright = -np.matmul(dv, vtgv) - np.matmul(v, dvtgv)
        out = out + np.matmul(du / sr - u * dsr / (sr * sr), _t(right)) \
            + np.matmul(u / sr, _t(dright))
    return decomp._read_adjoint(out, False) if hermitian else out
