"""Numba implementations of NumPy's reductions over axes, the forms numba lacks:
``np.max``/``np.amax``/``np.min``/``np.amin``/``np.sum``/``np.mean`` over an axis or
a tuple of axes, with or without ``keepdims`` (numba's ``np.max`` takes no axis, its
``np.sum`` no tuple and no ``keepdims``); and ``np.full`` of a shape of distinct
literal sizes. An overload returns None for what it does not handle, leaving it to
numba's own implementation. Axes known when compiling (literals) give source
written for them, with no small arrays made per call (``_run_reduction``)."""

from __future__ import annotations

from typing import Any

import numba
import numpy as np
from numba import types
from numba.extending import overload
from numba.np.numpy_support import as_dtype
from numba.np.unsafe.ndarray import to_fixed_tuple

from .literals import _axis_count, _static


@numba.njit
def _axes(axis: Any, ndim: int) -> np.ndarray:
    """The axes an ``axis`` argument (an integer or a tuple of them) names, made
    non-negative, as a mask over the ``ndim`` axes."""
    mask = np.zeros(ndim, np.bool_)
    for a in np.atleast_1d(np.array(axis)):
        if a < -ndim or a >= ndim:
            raise ValueError("axis out of bounds for the array")
        if mask[a % ndim]:
            raise ValueError("duplicate value in 'axis'")
        mask[a % ndim] = True
    return mask


@numba.njit
def _reduced(flat: np.ndarray, shape: np.ndarray, mask: np.ndarray, code: int,
             out: np.ndarray) -> None:
    """Reduce ``flat`` (an array of ``shape``, in C order) over the axes in ``mask``
    into ``out`` (the other axes, in C order): code 0 sums, 1 takes the max, 2 the
    min (NaN wins, as in NumPy). Axes next to each other reduce as one, in loops
    that run along memory; runs of them one after the other."""
    shape, mask = shape.copy(), mask.copy()
    nd = shape.size
    while True:
        lo = 0
        while lo < nd and not mask[lo]:
            lo += 1
        hi = lo
        while hi < nd and mask[hi]:
            hi += 1
        outer, n, after = _prod(shape[:lo]), _prod(shape[lo:hi]), _prod(shape[hi:])
        if n == 0 and code != 0:
            raise ValueError("zero-size array to reduction operation which has no identity")
        if not np.any(mask[hi:]):
            _reduce_run(flat.reshape((outer, n, after)), code, out.reshape((outer, after)))
            return
        part = np.zeros(outer * after, out.dtype)  # this run, then the others
        _reduce_run(flat.reshape((outer, n, after)), code, part.reshape((outer, after)))
        flat = part
        shape[lo:hi] = 1
        mask[lo:hi] = False


@numba.njit
def _prod(shape: np.ndarray) -> int:
    n = 1
    for s in shape:
        n *= s
    return n


@numba.njit
def _reduce_run(x: np.ndarray, code: int, y: np.ndarray) -> None:
    """``x`` of shape (outer, n, inner) reduced over its middle axis into ``y``, of
    shape (outer, inner), in loops that run along memory."""
    outer, n, inner = x.shape
    if inner == 1 and n:  # along rows: the running value in a register
        for o in range(outer):
            acc = x[o, 0, 0]
            for k in range(1, n):
                v = x[o, k, 0]
                if code == 0:
                    acc += v
                elif acc == acc and (v != v or (v > acc if code == 1 else v < acc)):
                    acc = v
            y[o, 0] = acc
        return
    for o in range(outer):
        if n == 0:
            continue
        if code != 0:
            y[o] = x[o, 0]
        for k in range(0 if code == 0 else 1, n):
            for i in range(inner):
                v = x[o, k, i]
                if code == 0:
                    y[o, i] += v
                elif y[o, i] == y[o, i] and (v != v or (v > y[o, i] if code == 1
                                                        else v < y[o, i])):
                    y[o, i] = v


@numba.njit
def _out_shape(shape: np.ndarray, mask: np.ndarray, keep: bool) -> np.ndarray:
    out = np.empty(shape.size if keep else shape.size - np.sum(mask), np.int64)
    k = 0
    for d in range(shape.size):
        if keep or not mask[d]:
            out[k] = 1 if mask[d] else shape[d]
            k += 1
    return out


_CODES = {"sum": 0, "mean": 0, "max": 1, "min": 2}


def _reduction(kind: str) -> Any:
    """The overload of ``np.<kind>`` over an axis (an integer or a tuple) with or
    without ``keepdims``: the forms numba lacks (None for the others)."""

    def typer(a, axis=None, keepdims=False):
        if not isinstance(a, types.Array) or _axis_count(axis) is None:
            return None
        keep = _static(keepdims)
        if not isinstance(keep, bool):
            return None
        if kind == "sum" and isinstance(axis, types.Integer) and \
                isinstance(keepdims, (bool, types.Omitted)):
            return None  # numba's own (which takes no keepdims argument)
        nd = a.ndim
        out_nd = nd if keep else nd - _axis_count(axis)
        if isinstance(a.dtype, (types.Integer, types.Boolean)) and kind in ("sum", "mean"):
            dtype = np.dtype(np.int64 if kind == "sum" else np.float64)
        else:
            dtype = as_dtype(a.dtype)
        code, mean = _CODES[kind], kind == "mean"
        if kind == "sum" and isinstance(axis, types.BaseTuple) and len(axis) == 1 and \
                isinstance(keepdims, (bool, types.Omitted)):
            return lambda a, axis=None, keepdims=False: np.sum(a, axis=axis[0])  # numba's
        fixed = _static_axes(axis, nd)
        if fixed is not None:  # the axes known when compiling: shapes spelled out
            return _run_reduction(nd, fixed, keep, code, mean, dtype)

        def impl(a, axis=None, keepdims=False):
            mask = _axes(axis, nd)
            shape = np.array(a.shape)
            out_shape = _out_shape(shape, mask, keep)
            out = np.zeros(np.prod(out_shape), dtype)
            _reduced(np.ascontiguousarray(a).ravel(), shape, mask, code, out)
            if mean:
                reduced = 1
                for d in range(nd):
                    if mask[d]:
                        reduced *= shape[d]
                out /= reduced  # (0 / 0 for an empty axis: NaN, as NumPy's mean)
            if out_nd == 0:
                return out[0]
            return out.reshape(to_fixed_tuple(out_shape, out_nd))

        return impl

    return typer


def _static_axes(axis: Any, nd: int) -> list[int] | None:
    """The axes a literal ``axis`` names, in order and non-negative, when they are one
    run of neighbouring axes (what ``_run_reduction`` handles); else None."""
    if isinstance(axis, types.IntegerLiteral):
        values = [axis.literal_value]
    elif isinstance(axis, types.BaseTuple) and all(
            isinstance(t, types.IntegerLiteral) for t in axis):
        values = [t.literal_value for t in axis]
    else:
        return None
    if any(not -nd <= v < nd for v in values):
        return None  # (the general path raises numpy's error)
    axes = sorted({v % nd for v in values})
    if len(axes) < len(values):
        return None  # a repeated axis: the general path raises NumPy's error
    return axes if axes == list(range(axes[0], axes[-1] + 1)) else None


def _run_reduction(nd: int, axes: list[int], keep: bool, code: int, mean: bool,
                   dtype: np.dtype) -> Any:
    """The reduction over the neighbouring ``axes`` of an ``nd``-d array, as source
    written for them: the shapes are products of ``a.shape``'s entries, no small
    arrays are made per call."""
    def product(dims: range) -> str:
        return " * ".join(f"s[{d}]" for d in dims) or "1"
    lo, hi = axes[0], axes[-1] + 1
    kept = [f"s[{d}]" if d not in axes else "1" for d in range(nd) if keep or d not in axes]
    shape = f"({', '.join(kept)},)" if kept else "()"
    # (unannotated, as the typer: numba compares the two signatures' parameters)
    lines = ["def impl(a, axis=None, keepdims=False):",
             "    s = a.shape",
             f"    outer, n, inner = {product(range(lo))}, {product(range(lo, hi))}, "
             f"{product(range(hi, nd))}",
             "    out = np.zeros(outer * inner, dtype)",
             "    if n == 0 and code != 0:",
             "        raise ValueError('zero-size array to reduction operation which has no "
             "identity')",
             "    _reduce_run(np.ascontiguousarray(a).reshape((outer, n, inner)), code, "
             "out.reshape((outer, inner)))"]
    if mean:
        lines.append("    out /= n")
    lines.append("    return out[0]" if not kept else f"    return out.reshape({shape})")
    namespace = {"__name__": __name__, "np": np, "dtype": dtype, "code": code,
                 "_reduce_run": _reduce_run}
    exec("\n".join(lines) + "\n", namespace)  # noqa: S102 - source written here
    return namespace["impl"]


for _kind, _fns in (("max", (np.max, np.amax)), ("min", (np.min, np.amin)),
                    ("sum", (np.sum,)), ("mean", (np.mean,))):
    for _fn in _fns:
        overload(_fn, prefer_literal=True)(_reduction(_kind))


# ---- shapes numba types differently from NumPy ---------------------------------------
@overload(np.full)
def _full(shape, fill_value):
    """A shape of distinct literal sizes (``(2, 3)``) is a heterogeneous tuple to numba,
    which its own ``np.full`` refuses."""
    if isinstance(shape, types.Tuple) and not isinstance(shape, types.UniTuple) and \
            all(isinstance(t, types.Integer) for t in shape):
        n = len(shape)
        return lambda shape, fill_value: np.full(
            to_fixed_tuple(np.array(shape, np.int64), n), fill_value)
    return None

