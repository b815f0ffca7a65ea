"""Run-time helpers for ``scipy.special``'s ``logsumexp`` and for NumPy functions called
the way code ported from autograd calls them (issue 20). Public and stable.

Generated code calls them (``from srcgrad.runtime.special import lse_expand,
lse_weights``) where it differentiates ``special.logsumexp``; the other ``scipy.special``
rules are inlined expressions. The others serve ``rules/numpy_aliases.py``:

- ``rows_grad(c, a, kind)``: the adjoint of ``np.<kind>(a)`` (kind: ``"hstack"``,
  ``"vstack"``, ``"column_stack"``, ``"dstack"``) given one array or list ``a``, which
  NumPy reads as the sequence of its rows; an array for an array, a list for a list.
  ``rows_stack(c, kind)`` is ``np.<kind>(c)``, its transpose.
- ``cumulative_sum_grad(c, axis, include_initial)``: the adjoint of
  ``np.cumulative_sum(x, axis=axis, include_initial=...)`` (a reversed cumulative sum,
  without its first entry when the result has the initial zero); its transpose is
  ``np.cumulative_sum`` itself.
- ``norm_axes``, ``norm_last``, ``norm_flat``, ``norm_kept(shape, axis)``: for
  ``np.linalg.vector_norm`` over ``axis`` (None: all), the reduced axes, where they are
  moved (the last ones), the shape with them flattened into one last axis, and the
  shape of the result without kept dimensions; integers and tuples only.

This module does not import SciPy (an optional dependency of srcgrad): the functions
compute with NumPy. ``lse_expand`` may return a view of its first argument
(``srcgrad.ir.SAME_BUFFER`` lists it); the others return new arrays.

Contract (that of ``srcgrad.runtime``): plain functions of NumPy values, with no srcgrad
state and no side effect on their arguments; names, parameters and results are stable.
``__all__`` lists the functions generated code may call.
"""

from __future__ import annotations

import numpy as np

from . import expand
from . import shape as _shape

_PIECES = {"hstack": _shape.hstack_grad, "vstack": _shape.vstack_grad,
           "column_stack": _shape.column_stack_grad, "dstack": _shape.dstack_grad}

__all__ = [
    "cumulative_sum_grad", "expn_any", "lse_expand", "lse_weights", "norm_axes", "norm_flat",
    "norm_kept", "norm_last", "rows_grad", "rows_stack",
]


def lse_expand(g, a, axis, keepdims):
    """``expand`` for logsumexp, whose keepdims result of a 0-d ``a`` has shape (1,)."""
    if np.ndim(a) == 0:
        return np.reshape(g, np.shape(a))
    return expand(g, a, axis, keepdims)


def lse_weights(a, ans, axis, keepdims, b):
    """d logsumexp(a, axis, b) / da: b * exp(a - ans), ans broadcast back over ``axis``."""
    w = np.exp(np.asarray(a) - lse_expand(ans, a, axis, keepdims))
    return w if b is None else w * b


def rows_grad(c, a, kind):
    """Adjoint of ``np.<kind>(a)`` for one array or list ``a`` (the sequence of its rows)."""
    rows = list(a)
    pieces = [_PIECES[kind](c, i, *rows) for i in range(len(rows))]
    if isinstance(a, list):  # copies: the pieces may be views of c
        return [np.array(p) for p in pieces]
    return np.reshape(np.stack(pieces), np.shape(a))


def rows_stack(c, kind):
    """``np.<kind>(c)``: the transpose of ``rows_grad`` (c shaped as its ``a``)."""
    return getattr(np, kind)(c if isinstance(c, list) else np.asarray(c))


def cumulative_sum_grad(c, axis, include_initial):
    """Adjoint of ``np.cumulative_sum(x, axis, include_initial)``: the reversed cumulative
    sum of ``c``, without its first entry when the result starts with the initial 0."""
    c = np.asarray(c)
    ax = 0 if axis is None else axis
    out = np.flip(np.cumsum(np.flip(c, axis=ax), axis=ax), axis=ax)
    if include_initial:
        out = np.take(out, np.arange(1, np.shape(out)[ax]), axis=ax)
    return out


def norm_axes(shape, axis):
    """The axes ``np.linalg.vector_norm`` reduces (``axis`` normalized; None: all)."""
    n = len(shape)
    if axis is None:
        return tuple(range(n))
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    return tuple(int(a) % n for a in axes)


def norm_last(shape, axis):
    """Where ``norm_axes`` are moved: the last positions, in order."""
    k = len(norm_axes(shape, axis))
    return tuple(range(len(shape) - k, len(shape)))


def norm_kept(shape, axis):
    """The shape of the norm without kept dimensions: the axes not reduced."""
    shape = tuple(map(int, shape))  # (a shape: integers, never an array)
    axes = norm_axes(shape, axis)
    return tuple(d for i, d in enumerate(shape) if i not in axes)


def norm_flat(shape, axis):
    """The shape of ``x`` with the reduced axes moved last and flattened into one."""
    shape = tuple(map(int, shape))  # (a shape: integers, never an array)
    axes = norm_axes(shape, axis)
    return (*norm_kept(shape, axis), int(np.prod([shape[a] for a in axes], dtype=np.int64)))


def expn_any(n, x):
    """The exponential integral E_n(x) for any integer n, negative ones included (SciPy's
    ``expn`` takes n >= 0): dE_n/dx = -E_{n-1}, so the derivatives of ``expn`` are these.
    For n = -m <= 0: E_{-m}(x) = m! e^-x / x^(m+1) * sum_{k<=m} x^k / k!."""
    import math

    import scipy.special

    n_arr = np.asarray(n)
    if np.all(n_arr >= 0):
        return scipy.special.expn(n, x)
    m = -int(np.min(n_arr))
    if np.any(n_arr != -m):
        return np.vectorize(expn_any)(n, x)
    x = np.asarray(x, dtype=float)
    series = sum(x ** k / math.factorial(k) for k in range(m + 1))
    return math.factorial(m) * np.exp(-x) / x ** (m + 1) * series
