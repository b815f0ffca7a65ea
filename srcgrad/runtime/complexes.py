"""Run-time helpers of the derivative rules for complex values (``rules/complexes.py``).

Each partial is the ``a`` of ``dv = Re(a * dz)`` for a real-valued function ``v`` of
``z``: the rule's contribution to ``z`` is ``g * a`` (``g``, the adjoint of the real
``v``, is real) and ``v``'s tangent is the real part of ``a * dz`` (the transforms
take it). On real operands each helper gives the real function's derivative, so one
rule serves both. The rest: the adjoints and tangents of ``np.linalg.eig``/``eigvals``,
and the helpers the transforms call where real and complex values meet
(``into_complex``, ``complex_copy``). Public and stable: ``__all__`` lists each helper
generated code may call, and each docstring states its contract.
"""

from __future__ import annotations

import numpy as np

__all__ = ["abs_slope", "abs_slope_jvp", "abs_slope_vjp", "angle_curvature", "angle_slope", "clog",
           "complex_copy", "eig_grad", "eig_grad_jvp_ans", "eig_jvp", "eigvals_grad",
           "eigvals_grad_jvp_a", "eigvals_jvp", "imag_slope", "into_complex", "match_real",
           "real_root"]


def abs_slope(z):
    """``conj(z) / |z|``: the partial of ``|z|`` (the sign for a real ``z``); 0 at 0,
    the subgradient the real rule takes too."""
    if not np.iscomplexobj(z):
        return np.sign(z)
    if np.ndim(z) == 0:
        r = abs(z)
        return 0j if r == 0 else z.conjugate() / r
    r = np.abs(z)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(r == 0, 0, np.conj(z) / np.where(r == 0, 1, r))


def angle_slope(z, deg=False):
    """``-1j / z``: the partial of ``np.angle(z)`` (``Im(dz / z)``), times 180/pi for
    degrees; 0 for a real ``z`` (its angle is a step, 0 or pi) and at ``z == 0``."""
    if not np.iscomplexobj(z):
        return 0.0
    scale = 180 / np.pi if deg else 1.0
    if np.ndim(z) == 0:
        return 0j if z == 0 else -1j * scale / z
    with np.errstate(divide="ignore", invalid="ignore"):
        a = np.where(z == 0, 0, -1j / np.where(z == 0, 1, z))
    return a * scale


def imag_slope(z):
    """``-1j``, the partial of ``np.imag(z)`` (``Im(dz) = Re(-1j * dz)``); 0 for a real
    ``z``, whose imaginary part is the constant 0."""
    return -1j if np.iscomplexobj(z) else 0.0


def match_real(t, ans):
    """``t`` as the adjoint or tangent of ``ans``: its real part when ``ans`` is real
    (``np.real_if_close`` decides the result's type by its values)."""
    return t if np.iscomplexobj(ans) else np.real(t)


def clog(x):
    """``np.log`` for the partial of ``x ** y`` in ``y`` at a complex or negative base
    (the principal branch, the one ``x ** y`` takes); 0 where ``x == 0``."""
    x = np.asarray(x, dtype=complex)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(x == 0, 0, np.log(np.where(x == 0, 1, x)))


def _eig_matched(a, w):
    """The eigenvectors of ``a`` for its eigenvalues ``w``, in ``w``'s order (eig and
    eigvals order them the same way; matched by value in case they do not)."""
    values, vectors = np.linalg.eig(a)
    order = np.argmin(np.abs(np.asarray(w)[..., :, None] - values[..., None, :]), axis=-1)
    return np.take_along_axis(vectors, order[..., None, :], axis=-1)


def _eigvals_transpose(g, v):
    """``V^-T diag(g) V^T``: for A = V diag(w) V^-1, dw = diag(V^-1 dA V), so under the
    pairing Re(sum(g * dw)) the adjoint of A is (V diag(g) V^-1)^T."""
    vt = np.swapaxes(v, -1, -2)
    return np.linalg.solve(vt, np.asarray(g)[..., :, None] * vt)


def eigvals_grad(g, a, ans):
    """Adjoint of ``np.linalg.eigvals`` (distinct eigenvalues)."""
    return _eigvals_transpose(g, _eig_matched(a, ans))


def eigvals_jvp(dot, a, ans):
    """Tangent of ``np.linalg.eigvals``: diag(V^-1 dA V)."""
    v = _eig_matched(a, ans)
    return np.einsum("...ij,...ji->...i", np.linalg.solve(v, dot), v)


def eig_grad(g, a, ans):
    """Adjoint of ``np.linalg.eig`` through its eigenvalues; the eigenvectors' adjoint
    is not provided (a located error if one reaches it)."""
    gw, gv = g
    if np.any(np.asarray(gv) != 0):
        raise NotImplementedError(
            "reverse mode through np.linalg.eig's eigenvectors is not supported; "
            "differentiate through the eigenvalues (np.linalg.eigvals), use forward mode "
            "(srcgrad.jvp), or np.linalg.eigh's eigenvectors for a symmetric matrix")
    return _eigvals_transpose(gw, ans[1])


def _eig_tangents(dot, w, v):
    """(dw, M) for A = V diag(w) V^-1 moved along ``dot``: dw = diag(V^-1 dA V) and
    dV = V M before normalization, M = F * (V^-1 dA V), F_ij = 1 / (w_j - w_i) off the
    diagonal (distinct eigenvalues)."""
    inner = np.linalg.solve(v, np.matmul(dot, v))
    gaps = w[..., None, :] - w[..., :, None]
    n = np.shape(w)[-1]
    with np.errstate(divide="ignore"):
        f = np.where(np.eye(n, dtype=bool), 0, 1 / np.where(np.eye(n, dtype=bool), 1, gaps))
    return np.diagonal(inner, axis1=-2, axis2=-1), f * inner


def eig_jvp(dot, a, ans):
    """Tangent of ``np.linalg.eig``: the eigenvalues' ``diag(V^-1 dA V)``, and the
    eigenvectors' ``V M`` kept to LAPACK's normalization (unit norm, largest component
    real): less each column's own direction's real part, and turned by the phase that
    keeps that component real."""
    w, v = ans
    dw, m = _eig_tangents(dot, w, v)
    dv = np.matmul(v, m)
    dv = dv - v * np.real(np.sum(np.conj(v) * dv, axis=-2, keepdims=True))
    if np.iscomplexobj(v):
        big = np.argmax(np.abs(v), axis=-2)[..., None, :]
        top, dtop = (np.take_along_axis(x, big, axis=-2) for x in (v, dv))
        dv = dv - 1j * v * np.imag(dtop) / np.real(top)
    return dw, dv


def eigvals_grad_jvp_a(dot, g, a, ans):
    """Tangent of ``eigvals_grad(g, a, ans)`` along ``dot`` (a's tangent): with
    X = V^-T G V^T and dV = V M, dX = V^-T (G M^T - M^T G) V^T (V's column scaling
    cancels in X)."""
    v = _eig_matched(a, ans)
    return _transposed_change(dot, g, ans, v)


def eig_grad_jvp_ans(dot, g, a, ans):
    """Tangent of ``eig_grad(g, a, ans)`` along the tangent of ans (its eigenvectors'
    ``dV``, which already holds M: dV = V M up to normalization, which cancels)."""
    w, v = ans
    m = np.linalg.solve(v, dot[1])
    return _conjugated(np.asarray(g[0]), m, v)


def _transposed_change(dot, g, w, v):
    _, m = _eig_tangents(dot, w, v)
    return _conjugated(np.asarray(g), m, v)


def _conjugated(gw, m, v):
    """V^-T (G M^T - M^T G) V^T for G = diag(gw)."""
    mt = np.swapaxes(m, -1, -2)
    inner = gw[..., :, None] * mt - mt * gw[..., None, :]
    vt = np.swapaxes(v, -1, -2)
    return np.linalg.solve(vt, np.matmul(inner, vt))


def into_complex(x):
    """``x`` itself: a real value flowing into a variable that may hold complex numbers
    (a loop's carried value, a branch's result). Its derivative rule makes ``x``'s
    adjoint the real part of what flows back (``transform/complexity.promote``)."""
    return x


def complex_copy(c, like):
    """A copy of ``c`` in the complex dtype of ``c`` and ``like`` together: the buffer
    a complex value's adjoint is summed into in place (its first terms may be real)."""
    return np.array(c, dtype=np.result_type(c, like, 1j))


def abs_slope_jvp(dot, z):
    """Tangent of ``abs_slope(z) = conj(z) / r`` (r = |z|): conj(dz) / r minus
    conj(z) Re(conj(z) dz) / r**3; 0 for a real z (a sign) and at 0."""
    if not np.iscomplexobj(z):
        return np.zeros(np.shape(z)) if np.ndim(z) else 0.0
    r = np.abs(z)
    safe = np.where(r == 0, 1, r)
    t = np.conj(dot) / safe - np.conj(z) * np.real(np.conj(z) * dot) / safe ** 3
    return np.where(r == 0, 0, t)


def abs_slope_vjp(g, z):
    """Adjoint of ``abs_slope`` (the transpose of ``abs_slope_jvp`` under the pairing
    Re(sum(g * t))): conj(g) / r - Re(g conj(z)) conj(z) / r**3."""
    if not np.iscomplexobj(z):
        return np.zeros(np.shape(z)) if np.ndim(z) else 0.0
    r = np.abs(z)
    safe = np.where(r == 0, 1, r)
    c = np.conj(g) / safe - np.real(g * np.conj(z)) * np.conj(z) / safe ** 3
    return np.where(r == 0, 0, c)


def angle_curvature(z, deg=False):
    """The derivative of ``angle_slope(z) = -1j / z``: ``1j / z**2`` (times 180/pi in
    degrees); 0 for a real z and at 0."""
    if not np.iscomplexobj(z):
        return 0.0
    scale = 180 / np.pi if deg else 1.0
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(z == 0, 0, 1j * scale / np.where(z == 0, 1, z) ** 2)


def real_root(root, a):
    """``root``, the square root of the matrix ``a`` (scipy.linalg.sqrtm), once it is
    sure that a real ``a`` has a real root: a real matrix with negative eigenvalues has
    a complex one, which srcgrad's analysis took for real (its dtype follows ``a``'s)."""
    if np.iscomplexobj(root) and not np.iscomplexobj(a):
        raise NotImplementedError(
            "scipy.linalg.sqrtm of this real matrix is complex (it has negative "
            "eigenvalues); pass the matrix as complex numbers (A.astype(complex)) to "
            "differentiate through its complex root")
    return root
