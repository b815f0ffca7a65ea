"""Run-time helpers for order statistics: adjoints and tangents of ``np.median``,
``np.quantile``, ``np.percentile`` (the default linear method) and ``np.partition``.
Public and stable.

Generated code calls them (``from srcgrad.runtime.sorting import quantile_grad``). Each
result is a weighted pick of ``a``'s entries, the weights set by the sort order, which
is held fixed (ties split as the sort puts them): ``median_weights`` gives the weights,
``<fn>_grad(g, ...)`` the adjoint of ``a`` given the output's adjoint ``g``, and
``<fn>_jvp(dot, ...)`` the output's tangent given ``a``'s tangent ``dot``.

Contract (that of ``srcgrad.runtime``): plain functions of NumPy values, with no srcgrad
state and no side effect on their arguments; names, parameters and results are stable.
``__all__`` lists the functions generated code may call.
"""

from __future__ import annotations

import numpy as np

from . import expand

__all__ = [
    "median_weights", "partition_grad", "partition_jvp", "quantile_grad", "quantile_jvp",
]


def _sorted_weights(a, axis, weights_of):
    """Weights on ``a``'s entries along the reduced ``axis`` (None, int or tuple), given
    in sorted order by ``weights_of(n)`` (n the reduced size), put back where they sort."""
    a = np.asarray(a, dtype=float)
    axes = tuple(range(a.ndim)) if axis is None else \
        tuple(int(d) % a.ndim for d in np.atleast_1d(axis))
    last = tuple(range(a.ndim - len(axes), a.ndim))
    moved = np.moveaxis(a, axes, last)
    flat = moved.reshape(moved.shape[:a.ndim - len(axes)] + (-1,))
    out = np.empty(flat.shape)
    np.put_along_axis(out, np.argsort(flat, axis=-1),
                      np.broadcast_to(weights_of(flat.shape[-1]), flat.shape), axis=-1)
    return np.moveaxis(out.reshape(moved.shape), last, axes)


def _middle(n):
    """Median weights in sorted order: the middle entry, or half each to the two."""
    w = np.zeros(n)
    w[(n - 1) // 2] += 0.5
    w[n // 2] += 0.5
    return w


def median_weights(a, axis):
    """d median / d a: 1 at the middle entry of each reduced slice (0.5 each for two)."""
    return _sorted_weights(a, axis, _middle)


def _linear(q):
    """Weights in sorted order of the default (linear) quantile ``q``."""
    def weights(n):
        pos = q * (n - 1)
        lo = int(np.floor(pos))
        w = np.zeros(n)
        w[lo] += 1.0 - (pos - lo)
        w[min(lo + 1, n - 1)] += pos - lo
        return w
    return weights


def quantile_grad(g, a, q, axis, keepdims):
    """Adjoint of ``np.quantile(a, q, axis, keepdims=...)`` (linear method) for ``a``."""
    q, g = np.asarray(q, dtype=float), np.asarray(g)
    out = np.zeros(np.shape(a))
    for i in np.ndindex(q.shape):
        out += expand(g[i], a, axis, keepdims) * _sorted_weights(a, axis, _linear(q[i]))
    return out


def quantile_jvp(dot, a, q, axis, keepdims):
    """The tangent of ``np.quantile`` (linear method) along ``dot``."""
    q = np.asarray(q, dtype=float)
    parts = [np.sum(dot * _sorted_weights(a, axis, _linear(q[i])), axis=axis,
                    keepdims=keepdims) for i in np.ndindex(q.shape)]
    return np.reshape(parts, q.shape + np.shape(parts[0]))


def _partition_source(a, ans, axis):
    """For each entry of ``np.partition(a, kth, axis)``, its position in ``a`` (along the
    axis; ``a`` flattened for axis None): ranks of ``ans`` looked up in ``a``'s order."""
    if axis is None:
        a, axis = np.ravel(a), -1
    rank = np.argsort(np.argsort(ans, axis=axis), axis=axis)
    return np.take_along_axis(np.argsort(a, axis=axis), rank, axis=axis)


def partition_grad(g, a, ans, axis):
    """Adjoint of ``np.partition``: ``g`` scattered back to the source positions."""
    out = np.zeros(np.shape(a) if axis is not None else np.size(a))
    np.put_along_axis(out, _partition_source(a, ans, axis), g, axis=-1 if axis is None else axis)
    return np.reshape(out, np.shape(a))


def partition_jvp(dot, a, ans, axis):
    """The tangent of ``np.partition``: ``dot`` gathered from the source positions."""
    if axis is None:
        dot = np.ravel(dot)
    return np.take_along_axis(dot, _partition_source(a, ans, axis),
                              axis=-1 if axis is None else axis)
