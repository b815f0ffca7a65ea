"""Run-time helpers for ``scipy.special``: the adjoint and tangent of
``special.logsumexp``. Public and stable.

Generated code calls them (``from srcgrad.runtime.special import lse_expand,
lse_weights``) where it differentiates ``special.logsumexp``; the other ``scipy.special``
rules are inlined expressions. This module does not import SciPy (an optional dependency
of srcgrad): the functions compute with NumPy. ``lse_expand`` may return a view of its
first argument (``srcgrad.ir.SAME_BUFFER`` lists it).

Contract (that of ``srcgrad.runtime``): plain functions of NumPy values, with no srcgrad
state and no side effect on their arguments; names, parameters and results are stable.
``__all__`` lists the functions generated code may call.
"""

from __future__ import annotations

import numpy as np

from . import expand

__all__ = [
    "lse_expand", "lse_weights",
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
