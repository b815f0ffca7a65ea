"""Numba implementations of the run-time helpers for derivatives that a formula would
make infinite or NaN (``runtime/finite.py``), and of the small elementwise ones
(``between``, ``signum``, ``ln``), ``transpose_grad`` and ``lse_expand``. Where
Python's helper warns (no derivative exists at these arguments), the compiled one
raises ``NeedsPython``: that call runs in Python, which warns at the user's line."""

from __future__ import annotations

import math

import numpy as np
from numba import types
from numba.extending import overload

from .. import runtime
from .literals import _NUMBER, NeedsPython, _static


@overload(runtime.finite.sqrt_slope)
def _sqrt_slope(r):
    if isinstance(r, (types.Float, types.Array)):
        def impl(r):
            if np.any(r == 0):
                raise NeedsPython("sqrt_slope at 0")
            return 0.5 / r
        return impl
    return None


@overload(runtime.finite.ratio)
def _ratio(x, d):
    if isinstance(d, types.Float) and isinstance(x, types.Float):
        return lambda x, d: x / d if d != 0 else 0.0
    if isinstance(d, types.Float) and isinstance(x, types.Array):
        return lambda x, d: x / d if d != 0 else np.zeros_like(x / 1.0)
    if isinstance(d, types.Array) and isinstance(x, (types.Float, types.Array)):
        return lambda x, d: np.where(d == 0, 0.0, x / np.where(d == 0, 1.0, d))
    return None


@overload(runtime.finite.cbrt_slope)
def _cbrt_slope(r):
    if isinstance(r, (types.Float, types.Array)):
        def impl(r):
            if np.any(r == 0):
                raise NeedsPython("cbrt_slope at 0")
            return 1 / (3 * r * r)
        return impl
    return None


@overload(runtime.finite.pow_slope)
def _pow_slope(c, x, y):
    if all(isinstance(t, _NUMBER) for t in (c, x, y)):
        def scalar(c, x, y):
            if c == 0:
                return 0.0
            if (x == 0 and y < 1) or (x < 0 and y != math.floor(y)):
                raise NeedsPython("pow_slope: no real derivative")  # Python warns
            return c * x ** (y - 1)
        return scalar
    if not all(isinstance(t, (*_NUMBER, types.Array)) for t in (c, x, y)):
        return None

    def impl(c, x, y):
        out = c * np.power(x, y - 1.0)
        ones = np.ones_like(out)
        vanishes = (c * ones) == 0
        if np.any(((x * ones) == 0) & ((y * ones) < 1) & ~vanishes):
            raise NeedsPython("pow_slope at 0")
        return np.where(vanishes, 0.0, out)
    return impl


@overload(runtime.finite.spread_divisor)
def _spread_divisor(a, ans, ddof):
    if not isinstance(ddof, _NUMBER):
        return None

    def impl(a, ans, ddof):
        n = np.size(a)
        if n == 0:
            return 1.0
        return n / np.size(ans) - ddof
    return impl


@overload(runtime.between)
def _between(a, lo, hi):
    if not isinstance(a, types.Array):
        return None
    low, high = _static(lo) is not None, _static(hi) is not None

    def impl(a, lo, hi):
        inside = np.ones(a.shape, np.bool_)
        if low:
            inside = inside & (a >= lo)
        if high:
            inside = inside & (a <= hi)
        return inside.astype(np.float64)
    return impl


@overload(runtime.signum)
def _signum(x):
    if isinstance(x, _NUMBER):
        return lambda x: float(np.sign(x))
    if isinstance(x, types.Array):
        return lambda x: np.sign(x)
    return None


@overload(runtime.ln)
def _ln(x):
    if isinstance(x, _NUMBER):
        return lambda x: math.log(x)
    if isinstance(x, types.Array):
        return lambda x: np.log(x)
    return None


@overload(runtime.transpose_grad)
def _transpose_grad(g, axes):
    if isinstance(g, types.Array) and _static(axes) is None:
        return lambda g, axes: np.transpose(g)
    return None


@overload(runtime.special.lse_expand, prefer_literal=True)
def _lse_expand(g, a, axis, keepdims):
    if isinstance(a, types.Array) and a.ndim > 0:
        return lambda g, a, axis, keepdims: runtime.expand(g, a, axis, keepdims)
    return None
