"""The core helpers' work on arrays of other libraries than NumPy (Dask, CuPy): public
and stable like the rest of the package (``__all__``), though generated code calls the
core, which calls these.

Contract: ``is_foreign(x)`` says whether ``x`` is such an array (it is no NumPy array
or scalar, and NumPy hands calls on it to its type: ``__array_function__``); the
other functions here are what the core helpers of ``srcgrad.runtime`` (and its
``finite`` module) do for one, with the numbers the NumPy code gives. Each computes
through NumPy functions that dispatch to the array's library, so that a Dask array
in gives a Dask array out, nothing computed yet, and a CuPy array stays on its
device. What the NumPy code does with a NumPy array made of a shape
(``np.zeros(np.shape(x))``, ``np.broadcast_to(g, shape)``) is made from the array
itself here (``np.zeros_like(x)``, ``g + np.zeros_like(x)``: Dask keeps ``x``'s
chunks), never as one NumPy array the size of the data. The helpers of
``finite`` warn where a derivative is infinite or undefined, which needs the
values: here they give the same numbers without the warning. Imports NumPy alone.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["astype", "broadcast", "is_foreign", "pow_log", "pow_slope", "ratio", "split",
           "write_order"]


def is_foreign(x) -> bool:
    """An array of another library than NumPy, which NumPy dispatches to."""
    return not isinstance(x, (np.ndarray, np.generic)) and hasattr(type(x), "__array_function__")


def broadcast(g, x):
    """``g`` broadcast to the shape of the array ``x``, as an array of ``x``'s library
    (and chunks), in ``g``'s dtype."""
    return np.zeros_like(x, dtype=np.result_type(g)) + g


def astype(g, dtype):
    """``np.asarray(g, dtype)`` without leaving ``g``'s library."""
    return g if g.dtype == dtype else g.astype(dtype)


def write_order(c):
    """``write_order``: position numbers shaped like ``c``, in ``c``'s library."""
    shape = np.shape(c)
    return np.arange(math.prod(shape), like=c).reshape(shape)


def split(g, sizes, axis):
    """``np.split(g, np.cumsum(sizes)[:-1], axis)`` by slicing (Dask has no np.split)."""
    pieces, start = [], 0
    lead = (slice(None),) * (axis % np.ndim(g))
    for n in sizes:
        pieces.append(g[(*lead, slice(start, start + n))])
        start += n
    return pieces


def ratio(x, d):
    """``finite.ratio``: ``x / d``, and 0 where ``d == 0``."""
    zero = d == 0
    return np.where(zero, 0.0, x / np.where(zero, 1, d))


def pow_log(p, x):
    """``finite.pow_log``: ``p * log(x)``; 0 where ``x == 0`` and ``p == 0``, NaN where
    ``x == 0`` and ``p != 0``."""
    zero = x == 0
    logs = np.log(np.where(zero, 1.0, x))
    return np.where(zero, np.where(p == 0, 0.0, np.nan), np.where(zero, 0.0, p) * logs)


def pow_slope(c, x, y):
    """``finite.pow_slope``: ``c * x ** (y - 1)``, and 0 where ``c == 0``."""
    return np.where(c == 0, 0.0, c * np.power(x, np.subtract(y, 1)))
