"""Numba implementations of what generated code calls that numba lacks: imported
(registering them) when the numba backend first compiles.

Each is an ``overload`` of the function the code calls, so the code numba is given
is the code the Python backend runs: NumPy reductions over an axis (numba's
``np.max``/``np.min`` take no ``axis``; ``np.sum`` no tuple of axes), and srcgrad's
run-time helpers. An overload returns None for argument types it does not handle,
leaving them to numba's own implementations (or to a typing error, which makes the
derivative run in Python: ``CompiledFallbackWarning``).
"""

from __future__ import annotations

import math
from typing import Any

import numba
import numpy as np
from numba import types
from numba.extending import overload, overload_method
from numba.np.numpy_support import as_dtype
from numba.np.unsafe.ndarray import to_fixed_tuple

from .. import runtime


def _static(t: Any) -> Any:
    """The value of an argument known when compiling (a default, a literal), else a
    marker that it is not known."""
    if t is None or isinstance(t, (bool, int)):
        return t
    if isinstance(t, types.Omitted):
        return t.value
    if isinstance(t, types.NoneType):
        return None
    if isinstance(t, types.Literal):
        return t.literal_value
    return _UNKNOWN


_UNKNOWN = object()


def _axis_count(axis: Any) -> int | None:
    """How many axes ``axis`` names: 1 for an integer, n for a tuple of n integers."""
    if isinstance(axis, types.Integer):
        return 1
    if isinstance(axis, types.BaseTuple) and all(isinstance(t, types.Integer) for t in axis):
        return len(axis)
    return None


@numba.njit(cache=True)
def _axes(axis: Any, ndim: int) -> np.ndarray:
    """The axes an ``axis`` argument (an integer or a tuple of them) names, made
    non-negative, as a mask over the ``ndim`` axes."""
    mask = np.zeros(ndim, np.bool_)
    for a in np.atleast_1d(np.array(axis)):
        if a < -ndim or a >= ndim:
            raise ValueError("axis out of bounds for the array")
        mask[a % ndim] = True
    return mask


@numba.njit  # (not cached: numba cannot cache it, "dynamic globals")
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
        if n == 0 and code != 0 and outer * after:
            raise ValueError("zero-size array to reduction operation which has no identity")
        if not np.any(mask[hi:]):
            _reduce_run(flat.reshape((outer, n, after)), code, out.reshape((outer, after)))
            return
        part = np.zeros(outer * after, out.dtype)  # this run, then the others
        _reduce_run(flat.reshape((outer, n, after)), code, part.reshape((outer, after)))
        flat = part
        shape[lo:hi] = 1
        mask[lo:hi] = False


@numba.njit(cache=True)
def _prod(shape: np.ndarray) -> int:
    n = 1
    for s in shape:
        n *= s
    return n


@numba.njit(cache=True)
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


@numba.njit(cache=True)
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
                out /= max(a.size, 1) // max(out.size, 1)
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
             "    if n == 0 and code != 0 and outer * inner:",
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


# ---- srcgrad's run-time helpers (``srcgrad.runtime``), on arrays and floats ----------
@numba.njit(cache=True)
def _summed_to(g: np.ndarray, shape: np.ndarray) -> np.ndarray:
    """``g`` summed down to ``shape`` (as many entries as ``g`` has axes: the
    broadcast shape padded with leading 1s), flat in C order."""
    nd = g.ndim
    gshape = np.array(g.shape)
    strides = np.zeros(nd, np.int64)
    size = 1
    for d in range(nd - 1, -1, -1):
        if shape[d] != 1:
            strides[d] = size
        size *= shape[d]
    out = np.zeros(size, g.dtype)
    flat = np.ascontiguousarray(g).ravel()
    for f in range(flat.size):
        rest, at = f, 0
        for d in range(nd - 1, -1, -1):
            at += (rest % gshape[d]) * strides[d]
            rest //= gshape[d]
        out[at] += flat[f]
    return out


@overload(runtime.sum_to)
def _sum_to(g, shape):
    if not isinstance(g, types.Array) or not isinstance(shape, types.BaseTuple):
        return None
    nd, out_nd = g.ndim, len(shape)
    if out_nd > nd:
        return None

    def impl(g, shape):
        padded = np.ones(nd, np.int64)
        padded[nd - out_nd:] = np.array(shape)
        return _summed_to(g, padded).reshape(shape)

    return impl


@overload(runtime.unbroadcast)
def _unbroadcast(g, x):
    if isinstance(x, (types.Float, types.Integer)):
        if isinstance(g, types.Array):
            return lambda g, x: float(np.sum(g))
        return lambda g, x: g
    if not isinstance(x, types.Array) or not isinstance(g, types.Array) or g.ndim < x.ndim:
        return None
    nd, out_nd = g.ndim, x.ndim

    def impl(g, x):
        padded = np.ones(nd, np.int64)
        padded[nd - out_nd:] = np.array(x.shape)
        return _summed_to(g, padded).reshape(x.shape)

    return impl


@overload(runtime.as_dtype_of)
def _as_dtype_of(g, x):
    if isinstance(x, types.Array) and isinstance(g, types.Array):
        if g.dtype == x.dtype:
            return (lambda g, x: g.copy()) if not g.mutable else (lambda g, x: g)
        dtype = as_dtype(x.dtype)
        return lambda g, x: g.astype(dtype)
    if isinstance(x, types.Array) and isinstance(g, (types.Float, types.Integer)):
        dtype = as_dtype(x.dtype)
        return lambda g, x: dtype.type(g)
    if isinstance(x, (types.Float, types.Integer)):
        return lambda g, x: g
    return None


@overload(runtime.zeros_like)
def _zeros_like(x):
    if isinstance(x, (types.Float, types.Integer, types.Boolean)):
        return lambda x: 0.0
    if isinstance(x, types.List) and isinstance(x.dtype, (types.Float, types.Integer)):
        return lambda x: [0.0] * len(x)
    if isinstance(x, types.Array):
        dtype = as_dtype(x.dtype) if isinstance(x.dtype, (types.Float, types.Complex)) \
            else np.dtype(np.float64)
        return lambda x: np.zeros(x.shape, dtype)
    return None


@overload(runtime.copy_adjoint)
def _copy_adjoint(x):
    if isinstance(x, types.Array):
        return lambda x: x.copy()
    if isinstance(x, (types.Float, types.Integer, types.Complex)):
        return lambda x: x
    return None


def _kept_shape(axis: Any, keepdims: Any) -> Any:
    """For ``keep``, ``expand``, ``argmax_mask``: whether the reduced axes must be put
    back (None if that is not known when compiling)."""
    keep = _static(keepdims)
    if not isinstance(keep, bool):
        return None
    if _static(axis) is None:
        return False
    if _axis_count(axis) is None:
        return None
    return not keep


@overload(runtime.keep, prefer_literal=True)
def _keep(g, x, axis, keepdims):
    put_back = _kept_shape(axis, keepdims)
    if put_back is None or not isinstance(x, (types.Array, types.BaseTuple)):
        return None
    if not put_back:
        return lambda g, x, axis, keepdims: g
    nd = x.ndim if isinstance(x, types.Array) else len(x)

    def impl(g, x, axis, keepdims):
        shape = np.array(_shape_of(x))
        shape[_axes(axis, nd)] = 1
        return np.ascontiguousarray(g).reshape(to_fixed_tuple(shape, nd))

    return impl


@overload(runtime.expand, prefer_literal=True)
def _expand(g, x, axis, keepdims):
    put_back = _kept_shape(axis, keepdims)
    if put_back is None or not isinstance(x, (types.Array, types.BaseTuple)):
        return None

    def impl(g, x, axis, keepdims):
        return np.broadcast_to(runtime.keep(g, x, axis, keepdims), _shape_of(x))

    return impl


@overload(runtime.argmax_mask, prefer_literal=True)
def _argmax_mask(a, ans, axis, keepdims):
    put_back = _kept_shape(axis, keepdims)
    if put_back is None or not isinstance(a, types.Array):
        return None
    if _static(axis) is None:
        def whole(a, ans, axis, keepdims):
            hit = a == ans
            return hit / np.sum(hit)
        return whole

    def impl(a, ans, axis, keepdims):
        hit = a == runtime.keep(ans, a, axis, keepdims)
        return hit / np.sum(hit, axis=axis, keepdims=True)

    return impl


def _shape_of(x):  # a stub: numba's implementation below
    return x if isinstance(x, tuple) else np.shape(x)


@overload(_shape_of)
def _shape_of_impl(x):
    if isinstance(x, types.Array):
        return lambda x: x.shape
    return lambda x: x


@overload(runtime.pick)
def _pick(i, ans, *xs):
    def impl(i, ans, *xs):
        for j in range(len(xs)):
            if xs[j] == ans:
                return 1.0 if j == i else 0.0
        return 0.0

    return impl


for _scalar in (types.Float, types.Integer, types.Boolean):  # x.copy() of a number
    overload_method(_scalar, "copy")(lambda x: (lambda x: x))


@overload(runtime.seed)
def _seed(out):
    if isinstance(out, types.Float):
        one = as_dtype(out).type(1.0)
        return lambda out: one
    if isinstance(out, (types.Integer, types.Boolean)):
        return lambda out: 1.0
    return None  # an array: NotScalar is raised by the Python backend


@overload(runtime.fit)
def _fit(t, ans):
    if isinstance(ans, types.Array) and isinstance(t, types.Array) and t.ndim == ans.ndim:
        def same(t, ans):
            if t.shape == ans.shape:
                return t
            return np.broadcast_to(t, ans.shape).copy()
        return same
    if isinstance(ans, types.Array):
        return lambda t, ans: np.broadcast_to(t, ans.shape).copy()
    if isinstance(ans, (types.Float, types.Integer)) and \
            isinstance(t, (types.Float, types.Integer)):
        return lambda t, ans: t
    return None


@overload(runtime.stop_gradient)
def _stop_gradient(x):
    return lambda x: x


class NeedsPython(Exception):
    """Raised by compiled code where Python's helper would warn (a derivative that does
    not exist at these arguments): the call runs again in Python, which warns at the
    user's line; the compiled code stays for the next call."""


# ---- products: the adjoints of a @ b and np.dot(a, b), for 1-d and 2-d operands -----
def _matrices(*ts):
    return all(isinstance(t, types.Array) and 1 <= t.ndim <= 2 for t in ts)


@overload(runtime.matmul_grad_a)
def _matmul_grad_a(g, a, b):
    if not _matrices(a, b):
        return None
    if a.ndim == 1 and b.ndim == 1:
        return lambda g, a, b: g * b
    if b.ndim == 1:
        return lambda g, a, b: np.outer(g, b)
    if a.ndim == 1:
        return lambda g, a, b: np.dot(b, g)
    return lambda g, a, b: np.dot(g, b.T)


@overload(runtime.matmul_grad_b)
def _matmul_grad_b(g, a, b):
    if not _matrices(a, b):
        return None
    if a.ndim == 1 and b.ndim == 1:
        return lambda g, a, b: g * a
    if a.ndim == 1:
        return lambda g, a, b: np.outer(a, g)
    return lambda g, a, b: np.dot(a.T, g)


overload(runtime.dot_grad_a)(_matmul_grad_a)  # (the same products for 1-d and 2-d)
overload(runtime.dot_grad_b)(_matmul_grad_b)


# ---- in-place writes with integer arrays: which write each element keeps -----------
@overload(runtime.write_marks)
def _write_marks(g):
    if isinstance(g, types.Array):
        return lambda g: np.full(g.shape, -1)
    return None


@overload(runtime.write_order)
def _write_order(c):
    if isinstance(c, types.Array):
        return lambda c: np.arange(c.size).reshape(c.shape)
    return None


@overload(runtime.kept)
def _kept(c, back):
    if isinstance(c, types.Array) and isinstance(back, types.Array):
        return lambda c, back: np.where(back == runtime.write_order(c), c, 0.0)
    return None


@overload(runtime.add_at)
def _add_at(a, index, v):
    if not isinstance(a, types.Array):
        return None
    if isinstance(index, (types.SliceType, types.Integer)):
        def plain(a, index, v):
            a[index] += v
        return plain
    if isinstance(index, types.Array) and index.ndim == 1 and \
            isinstance(index.dtype, types.Integer):
        if isinstance(v, types.Array):
            def each(a, index, v):
                w = np.broadcast_to(v, (index.size,) + a.shape[1:])
                for k in range(index.size):
                    a[index[k]] += w[k]
            return each

        def scalar(a, index, v):
            for k in range(index.size):
                a[index[k]] += v
        return scalar
    return None


# ---- finite derivatives (runtime/finite.py): where one does not exist, Python's run ---
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
    if isinstance(d, types.Float) and isinstance(x, (types.Float, types.Array)):
        return lambda x, d: x / d if d != 0 else x * 0.0
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


_NUMBER = (types.Float, types.Integer)


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


@overload(runtime.expand, prefer_literal=True)
def _expand_number(g, x, axis, keepdims):
    """The adjoint of a reduction of a number: the number's own."""
    if isinstance(x, _NUMBER) and isinstance(g, _NUMBER):
        return lambda g, x, axis, keepdims: g
    return None
