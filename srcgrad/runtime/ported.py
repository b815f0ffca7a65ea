"""Run-time helpers for the NumPy functions ported code uses (issue 20): adjoints and
tangents of ``np.gradient``, ``np.rollaxis``, ``np.interp``, ``np.convolve``,
``np.correlate`` ``np.polyder`` and
``np.linalg.lstsq``. Public and stable.

``<fn>_grad(g, ...)`` is the adjoint contribution to an input of ``np.<fn>`` given the
output's adjoint ``g``; each is linear in ``g``. ``interp_slope`` is the derivative of
``np.interp`` in ``x`` (piecewise constant: the slope of the segment ``x`` falls in, the
right one at a knot, the last at the last knot, zero outside ``[xp[0], xp[-1]]``);
``interp_fp_jvp`` its tangent in ``fp``, ``interp_slope_vjp`` the transpose of
``interp_slope`` in ``fp``. The 1-D convolutions take NumPy's windows: ``same`` and
``valid`` are slices of the ``full`` result, found by ``window_start``.

Contract (that of ``srcgrad.runtime``): plain functions of NumPy values, with no srcgrad
state and no side effect on their arguments; none returns a view of its argument.
``__all__`` lists the functions generated code may call.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "col_outer", "convolve_grad", "correlate_grad_a", "correlate_grad_v", "gradient_grad",
    "interp_fp_grad", "interp_fp_jvp", "interp_slope", "interp_slope_vjp",
    "lstsq_gram", "lstsq_jvp_a", "lstsq_jvp_b", "poly_powers", "polyder_grad",
    "rollaxis_dest",
]


def _float(*xs):
    """The float dtype of a result computed from ``xs`` (float32 kept)."""
    dt = np.result_type(*[np.asarray(x) for x in xs])
    return dt if np.issubdtype(dt, np.floating) else np.dtype(np.float64)


def rollaxis_dest(ndim, axis, start):
    """Where ``np.rollaxis(a, axis, start)`` puts ``axis``: ``np.moveaxis``'s destination."""
    axis = axis + ndim if axis < 0 else axis
    start = start + ndim if start < 0 else start
    return start - 1 if axis < start else start


# ---- np.gradient ---------------------------------------------------------------------

def _gradient_axes(ndim, axis):
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if np.ndim(axis) == 0 else tuple(axis)
    return tuple(int(a) + ndim if a < 0 else int(a) for a in axes)


def _spacings(varargs, count):
    if not varargs:
        return [1.0] * count
    if len(varargs) == 1 and np.ndim(varargs[0]) == 0:
        return [varargs[0]] * count
    return list(varargs)


def _gradient_matrix(n, h, edge_order, dtype):
    """The matrix D of np.gradient along one axis of length n: out = D @ f."""
    return np.gradient(np.eye(n), h, axis=0, edge_order=edge_order).astype(dtype, copy=False)


def gradient_grad(g, f, axis, edge_order, *varargs):
    """Adjoint of ``np.gradient(f, *varargs, axis=axis, edge_order=edge_order)`` in ``f``:
    ``g`` is the output's adjoint (one array, or one per axis: a list or a stacked array)."""
    shape = np.shape(f)
    axes = _gradient_axes(len(shape), axis)
    gs = [g] if len(axes) == 1 else list(g)
    dtype = _float(*gs)
    out = np.zeros(shape, dtype)
    for gk, ax, h in zip(gs, axes, _spacings(varargs, len(axes)), strict=True):
        d = _gradient_matrix(shape[ax], h, edge_order, dtype)
        moved = np.tensordot(d.T, np.moveaxis(np.asarray(gk, dtype), ax, 0), axes=(1, 0))
        out += np.moveaxis(moved, 0, ax)
    return out


# ---- np.interp -----------------------------------------------------------------------

def _segments(x, xp):
    """Per ``x``: its segment's left knot index, the fraction along it, and whether it is
    inside ``[xp[0], xp[-1]]``."""
    x = np.asarray(x)
    xp = np.asarray(xp, dtype=float)
    n = len(xp)
    i = np.clip(np.searchsorted(xp, x, side="right") - 1, 0, max(n - 2, 0))
    inside = (x >= xp[0]) & (x <= xp[-1])
    if n < 2:
        return i, np.zeros(np.shape(x)), inside, np.ones(np.shape(x))
    width = xp[i + 1] - xp[i]
    return i, (x - xp[i]) / width, inside, width


def interp_slope(x, xp, fp):
    """The derivative of ``np.interp(x, xp, fp)`` in ``x``: its segment's slope (0 outside)."""
    fp = np.asarray(fp)
    i, _, inside, width = _segments(x, xp)
    if len(fp) < 2:
        return np.zeros(np.shape(x), _float(fp))
    slope = (fp[np.minimum(i + 1, len(fp) - 1)] - fp[i]) / width
    return np.where(inside, slope, 0.0).astype(_float(fp, x), copy=False)


def interp_slope_vjp(c, x, xp):
    """The transpose of ``interp_slope(x, xp, fp)`` in ``fp``, applied to ``c``."""
    i, _, inside, width = _segments(x, xp)
    out = np.zeros(len(xp), _float(c))
    if len(xp) < 2:
        return out
    w = np.broadcast_to(np.where(inside, c / width, 0.0), np.shape(i))
    np.add.at(out, np.ravel(i) + 1, np.ravel(w))
    np.add.at(out, np.ravel(i), -np.ravel(w))
    return out


def _weights(x, xp, left, right):
    """Per ``x``: (index, weight) of the two ``fp`` entries ``np.interp`` mixes."""
    x = np.asarray(x)
    i, t, inside, _ = _segments(x, xp)
    n = len(xp)
    lo = np.where(inside, 1.0 - t, 0.0)
    hi = np.where(inside, t, 0.0)
    if left is None:
        lo = np.where(x < xp[0], 1.0, lo)
    if right is None:  # beyond the last knot: fp[-1]
        hi = np.where(x > xp[-1], 1.0, hi)
        i = np.where(x > xp[-1], max(n - 2, 0), i)
    if n < 2:
        return i, lo + hi, i, np.zeros(np.shape(x))
    return i, lo, i + 1, hi


def interp_fp_grad(c, x, xp, left, right):
    """Adjoint of ``np.interp(x, xp, fp, left, right)`` in ``fp``: ``c`` scattered onto the
    knots by the interpolation weights."""
    i, lo, j, hi = _weights(x, xp, left, right)
    out = np.zeros(len(xp), _float(c))
    c = np.broadcast_to(c, np.shape(i))
    np.add.at(out, np.ravel(i), np.ravel(c * lo))
    np.add.at(out, np.ravel(j), np.ravel(c * hi))
    return out


def interp_fp_jvp(t, x, xp, left, right):
    """Tangent of ``np.interp(x, xp, fp, left, right)`` for ``fp``'s tangent ``t``."""
    i, lo, j, hi = _weights(x, xp, left, right)
    t = np.asarray(t)
    return (t[i] * lo + t[j] * hi).astype(_float(t), copy=False)


# ---- np.convolve, np.correlate ----------------------------------------------------------

def _window_start(n, m, mode, flipped):
    """Where ``mode``'s result starts in the ``full`` one, for lengths ``n`` and ``m``
    (``flipped``: ``np.correlate``, which, unlike ``np.convolve``, does not swap them)."""
    if mode == "full":
        return 0
    k = min(n, m) - 1
    if mode == "valid":
        return k
    if mode != "same":
        raise ValueError(f"mode {mode!r} is not 'full', 'same' or 'valid'")
    return k - k // 2 if flipped and n < m else k // 2


def _full(g, n, m, start):
    g = np.asarray(g)
    out = np.zeros(n + m - 1, _float(g))
    out[start:start + len(g)] = g
    return out


def convolve_grad(g, a, v, mode):
    """Adjoint of ``np.convolve(a, v, mode)`` in ``a`` (in ``v``: swap them)."""
    n, m = len(a), len(v)
    return np.correlate(_full(g, n, m, _window_start(n, m, mode, False)), v, "valid")


def correlate_grad_a(g, a, v, mode):
    """Adjoint of ``np.correlate(a, v, mode)`` in ``a``."""
    n, m = len(a), len(v)
    return np.correlate(_full(g, n, m, _window_start(n, m, mode, True)), np.flip(v), "valid")


def correlate_grad_v(g, a, v, mode):
    """Adjoint of ``np.correlate(a, v, mode)`` in ``v``."""
    n, m = len(a), len(v)
    return np.flip(np.correlate(_full(g, n, m, _window_start(n, m, mode, True)), a, "valid"))


# ---- np.polyval, np.polyder ------------------------------------------------------

def polyder_grad(g, p, m):
    """Adjoint of ``np.polyder(p, m)`` in ``p`` (1-D coefficients, highest power first)."""
    n = len(p)
    out = np.zeros(n, _float(g))
    if n > m:
        powers = np.arange(n - 1, m - 1, -1)
        factor = np.ones(n - m)
        for k in range(m):
            factor = factor * (powers - k)
        out[:n - m] = np.asarray(g) * factor
    return out


def poly_powers(x, n, d):
    """The ``d``-th derivative in ``x`` of the powers ``x**(n-1), ..., x**0`` of each entry
    of ``x`` (flattened): shape ``(size, n)``; ``d = 0`` is ``np.polyval``'s Vandermonde
    matrix (a power below zero is a zero column, never ``0 ** -1``)."""
    x = np.ravel(x)
    k = np.arange(n - 1, -1, -1)
    factor = np.ones(n)
    for j in range(d):
        factor = factor * (k - j)
    shifted = np.maximum(k - d, 0)
    return np.where(k >= d, factor * x[:, None] ** shifted, 0.0).astype(_float(x), copy=False)


# ---- np.linalg.lstsq ------------------------------------------------------------------

def col_outer(u, v):
    """``u v^T`` column by column: ``np.outer`` of vectors, ``u @ v.T`` of matrices (the
    shape of ``np.linalg.lstsq``'s ``a`` from a ``b``-shaped and an ``x``-shaped value)."""
    u, v = np.asarray(u), np.asarray(v)
    if u.ndim == 1:
        return np.multiply.outer(u, v)
    return u @ np.swapaxes(v, -1, -2)


def lstsq_gram(a, rank):
    """``a^T a``, the matrix of the normal equations, after checking that ``a`` is tall
    (or square) with full column rank: only there is the least-squares solution smooth."""
    m, n = np.shape(a)
    if m < n or rank < n:
        raise ValueError(f"srcgrad differentiates np.linalg.lstsq(a, b) for an a of full "
                         f"column rank (rows >= columns); this a has shape {(m, n)} and "
                         f"rank {rank}. Use np.linalg.pinv(a) @ b, or regularize.")
    return np.swapaxes(a, -1, -2) @ a


class _Outputs(tuple):
    """The tangent of a tuple-valued function as one argument's share: shares add up
    entry by entry (not by concatenation)."""

    def __add__(self, other):
        return _Outputs(x + y for x, y in zip(self, other, strict=True))

    __radd__ = __add__


def _lstsq_jvp(da, db, a, b, ans):
    x = ans[0]
    r = b - a @ x
    dx = np.linalg.solve(lstsq_gram(a, ans[2]), np.swapaxes(da, -1, -2) @ r
                         + np.swapaxes(a, -1, -2) @ (db - da @ x))
    dres = 2 * np.sum(r * (db - da @ x), axis=0) if np.size(ans[1]) else np.zeros(0)
    u, _, vt = np.linalg.svd(a, full_matrices=False)
    ds = np.sum(u * (da @ np.swapaxes(vt, -1, -2)), axis=0)
    return _Outputs((dx, np.reshape(dres, np.shape(ans[1])), 0.0, ds))


def lstsq_jvp_a(dot, a, b, ans):
    """Tangent of ``(x, residuals, rank, s) = np.linalg.lstsq(a, b)`` for ``a``'s tangent
    ``dot`` (full column rank)."""
    return _lstsq_jvp(dot, np.zeros(np.shape(b)), a, b, ans)


def lstsq_jvp_b(dot, a, b, ans):
    """Tangent of ``np.linalg.lstsq(a, b)``'s outputs for ``b``'s tangent ``dot``."""
    return _lstsq_jvp(np.zeros(np.shape(a)), dot, a, b, ans)
