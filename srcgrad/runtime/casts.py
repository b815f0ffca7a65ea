"""Run-time helpers for ``x.astype(dtype)``. Public and stable.

Lowering turns ``x.astype(float)``, ``x.astype(np.float32)`` and ``x.astype("float32")``
into ``cast(x, "float32")`` (a float dtype: differentiated, its adjoint cast back to
``x``'s dtype), and ``x.astype(int)``, ``x.astype(bool)`` into ``cast_off(x, "int64")``
(declared a step function). The dtype is always a name NumPy accepts (``np.dtype(...).name``).

Contract (that of ``srcgrad.runtime``): plain functions of NumPy values, with no srcgrad
state and no side effect on their arguments; names, parameters and results are stable.
``__all__`` lists the functions generated code may call.
"""

from __future__ import annotations

import numpy as np

__all__ = ["cast", "cast_off"]


def cast(x, dtype):
    """``x.astype(dtype)`` for a float dtype (a Python number becomes a NumPy scalar)."""
    return _astype(x, dtype)


def cast_off(x, dtype):
    """``x.astype(dtype)`` for a dtype that is not a float (int, bool): no derivative."""
    return _astype(x, dtype)


def _astype(x, dtype):
    if isinstance(x, (np.ndarray, np.generic)):
        return x.astype(dtype)
    return np.asarray(x).astype(dtype)[()]
