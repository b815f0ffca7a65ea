"""Finite derivatives where a rule's formula divides by zero: the public, stable
run-time helpers of the rules whose textbook formula is 0/0 (or 0 * inf) at a point
where a derivative, or a documented subgradient, exists. Contract: each helper in
``__all__`` is a plain function of NumPy values and Python numbers.

- ``ratio(x, d)``: ``x / d``, and 0 where ``d == 0``. The gradient of a norm-like
  function (``np.std``, ``np.linalg.norm``, ``np.hypot``, ``math.hypot``) is
  ``x / ans``; at the tip of the cone (``ans == 0``) the function has no derivative and
  srcgrad takes the subgradient 0 (the centre of the subdifferential, the unit ball):
  the result is 0 in every direction there. Its own derivatives (second order) are
  taken the same way, so they are 0 at the tip too.
- ``pow_log(p, x)``: ``p * log(x)``, the partial of ``x ** y`` in ``y``
  (``p = x ** y``). At ``x == 0`` with ``y > 0`` (``p == 0``) it is the true
  derivative, 0; at ``x == 0`` with ``y <= 0`` no derivative exists: the result is
  NaN and a warning is given (never a silent NaN).
- ``pow_slope(c, x, y)``: ``c * x ** (y - 1)``; with ``c = y`` the partial of ``x ** y``
  in ``x``. Where ``c == 0`` it is 0 (``x ** 0 == 1`` is constant: its derivative at
  ``x == 0`` is 0, not ``0 * inf``); at ``x == 0`` with ``y >= 1`` it is ``0 ** (y - 1)``
  times ``c`` (1 for ``y == 1``, else 0); at ``x == 0`` with ``y < 1`` (and ``c != 0``) the
  derivative is infinite: the result is inf and a warning is given.
- ``cbrt_slope(r)``: ``1 / (3 r ** 2)``, the derivative of ``np.cbrt`` (``r`` its result):
  inf where ``r == 0``, with a warning, as ``sqrt_slope``.
- ``sqrt_slope(r)``: ``0.5 / r``, the derivative of ``np.sqrt`` (``r`` its result). At 0
  it is infinite: the result is inf as before, and a warning names the user's line,
  since what follows is usually inf * 0 = NaN (``np.sqrt(np.sum(x ** 2))`` at 0: write
  ``np.linalg.norm(x)``, whose subgradient there is 0).

- ``spread_divisor(a, ans, ddof)``: ``np.size(a) / np.size(ans) - ddof``, the divisor
  of ``np.var``/``np.std``'s derivative; 1 where ``a`` is empty (every term it divides is
  then an empty sum: the derivative of a function of no entries is zero, not 0/0).

On Dask and CuPy arrays (``foreign``) each gives the same numbers, computing
nothing eagerly, and so without the warnings, which need the values.

Python scalars in give Python floats out (scalar code stays scalar code). The helpers
read no srcgrad state except ``REPORT``, the hook srcgrad installs so that the warning
names the user's line a generated derivative differentiates (it returns False for
code it did not generate, such as shown code pasted into a file: that warns from here).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable

import numpy as np

from . import foreign

__all__ = ["cbrt_slope", "pow_log", "pow_slope", "ratio", "spread_divisor", "sqrt_slope"]

_SCALARS = (int, float, bool)


# Installed by srcgrad: called with the message, it issues the warning at the user's line
# that the calling generated code differentiates, and says whether it found one.
REPORT: Callable[[str], bool] | None = None


def _undefined(message: str) -> None:
    if REPORT is None or not REPORT(message):
        warnings.warn(message, RuntimeWarning, stacklevel=3)


def ratio(x, d):
    """``x / d`` where ``d != 0`` and 0 where ``d == 0`` (the subgradient 0 at a cone's tip)."""
    if isinstance(x, _SCALARS) and isinstance(d, _SCALARS):
        return 0.0 if d == 0 else x / d
    if foreign.is_foreign(x) or foreign.is_foreign(d):
        return foreign.ratio(x, d)
    zero = np.asarray(d) == 0
    if not np.any(zero):
        return x / d
    safe = np.array(d, copy=True)  # d's own type: float32 stays float32
    safe[zero] = 1
    out = np.asarray(x / safe)
    return np.where(zero, np.zeros_like(out), out)[()]  # (a 0-d result: a NumPy scalar)


def spread_divisor(a, ans, ddof):
    """``np.size(a) / np.size(ans) - ddof`` (the count var and std divide by); 1 for an
    empty ``a`` (NumPy's result is NaN there and the derivative an empty sum)."""
    n = math.prod(np.shape(a))  # (np.size would compute a Dask array)
    if n == 0:
        return 1.0
    return n / math.prod(np.shape(ans)) - ddof


def pow_log(p, x):
    """``p * log(x)`` (``p = x ** y``): the partial of ``x ** y`` in ``y``; 0 where
    ``x == 0`` and ``y > 0``, NaN and a warning where ``x == 0`` and ``y <= 0``."""
    if isinstance(p, _SCALARS) and isinstance(x, _SCALARS):
        if x != 0:
            return p * math.log(x)
        if p == 0:
            return 0.0
        _undefined(_NO_POW_LOG)
        return math.nan
    if foreign.is_foreign(p) or foreign.is_foreign(x):
        return foreign.pow_log(p, x)
    x = np.asarray(x)
    zero = x == 0
    if not np.any(zero):
        return p * np.log(x)
    vanishes = np.asarray(p) == 0
    if np.any(zero & ~vanishes):
        _undefined(_NO_POW_LOG)
    logs = np.log(np.where(zero, 1.0, x))
    out = np.where(zero, np.where(vanishes, 0.0, np.nan), np.where(zero, 0.0, p) * logs)
    return out.astype(np.result_type(p, x, 1.0))[()]


_NO_POW_LOG = ("x ** y has no derivative in y at x == 0 for y <= 0 (0 ** y jumps there); "
               "the derivative is NaN")


def pow_slope(c, x, y):
    """``c * x ** (y - 1)`` (``c = y``: the partial of ``x ** y`` in ``x``); 0 where
    ``c == 0``; inf and a warning where ``x == 0``, ``y < 1`` and ``c != 0``."""
    if isinstance(c, _SCALARS) and isinstance(x, _SCALARS) and isinstance(y, _SCALARS):
        if c == 0:
            return 0.0
        if x == 0 and y < 1:  # (0.0 ** -1.0 raises in Python)
            _undefined(_NO_POW_SLOPE)
            return math.copysign(math.inf, c)
        return c * x ** (y - 1)
    if foreign.is_foreign(c) or foreign.is_foreign(x) or foreign.is_foreign(y):
        return foreign.pow_slope(c, x, y)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.asarray(c * np.power(x, np.subtract(y, 1)))
    vanishes = np.asarray(c) == 0
    if np.any(vanishes):
        out = np.where(vanishes, np.zeros_like(out), out)
    if np.any((np.asarray(x) == 0) & (np.asarray(y) < 1) & ~vanishes):
        _undefined(_NO_POW_SLOPE)
    return out[()]


_NO_POW_SLOPE = ("x ** y has an infinite derivative in x at x == 0 for 0 < y < 1 (and none "
                 "for y < 0), so the derivative through it is inf or NaN here")


def cbrt_slope(r):
    """``1 / (3 r ** 2)``, the derivative of ``np.cbrt`` (``r`` its result): inf where
    ``r == 0``, with a warning."""
    if isinstance(r, _SCALARS):
        if r == 0:
            _undefined(_NO_CBRT_SLOPE)
            return math.inf
        return 1 / (3 * r * r)
    if foreign.is_foreign(r):
        return 1 / (3 * r * r)
    r = np.asarray(r)
    if np.any(r == 0):
        _undefined(_NO_CBRT_SLOPE)
    with np.errstate(divide="ignore"):
        return (1 / (3 * r * r))[()]


_NO_CBRT_SLOPE = ("np.cbrt has an infinite derivative at 0, so the derivative through it is "
                  "inf or NaN here")


def sqrt_slope(r):
    """``0.5 / r``, the derivative of ``np.sqrt`` (``r`` its result): inf where ``r == 0``,
    with a warning."""
    if isinstance(r, _SCALARS):
        if r == 0:
            _undefined(_NO_SQRT_SLOPE)
            return math.inf
        return 0.5 / r
    if foreign.is_foreign(r):
        return 0.5 / r
    r = np.asarray(r)
    if not np.any(r == 0):
        return 0.5 / r
    _undefined(_NO_SQRT_SLOPE)
    with np.errstate(divide="ignore"):
        return 0.5 / r


_NO_SQRT_SLOPE = ("np.sqrt has an infinite derivative at 0, so the derivative through it "
                  "is inf or NaN here; for the length of a vector write np.linalg.norm(x), "
                  "whose derivative at 0 is the subgradient 0")
