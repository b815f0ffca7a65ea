"""Numba implementations of srcgrad's run-time helpers (``srcgrad.runtime``) for the
arguments generated code passes them (numbers, arrays of any dimension, and the
literal axes and flags of reductions): sums to a shape, casts, zeros and copies,
the expansions and masks of reductions, the products' adjoints (1-d and 2-d), the
write masks of integer-array writes and scatter-adds. Each is an ``overload`` of the
helper itself, so the code numba compiles is the code the Python backend runs; an
overload returns None for arguments it does not handle (the derivative then runs in
Python, after a ``CompiledFallbackWarning``)."""

from __future__ import annotations

from typing import Any

import numba
import numpy as np
from numba import literal_unroll, types
from numba.extending import overload, overload_method
from numba.np.numpy_support import as_dtype
from numba.np.unsafe.ndarray import to_fixed_tuple

from .. import runtime
from .literals import _NUMBER, NeedsPython, _axis_count, _static
from .reductions import _axes


@numba.njit
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
    if isinstance(g, _NUMBER) and isinstance(x, types.Array) and x.ndim == 0:
        return lambda g, x: g  # (a 0-d snapshot's adjoint: Python's shapes agree too)
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
    if isinstance(out, types.Array):
        def array(out):  # not a scalar: Python raises NotScalar, which names the line
            if out.ndim != 0:
                raise NeedsPython("seed of an array")
            return 1.0
        return array if isinstance(out.dtype, types.Float) else None
    return None


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

@overload(runtime.expand, prefer_literal=True)
def _expand_number(g, x, axis, keepdims):
    """The adjoint of a reduction of a number: the number's own."""
    if isinstance(x, _NUMBER) and isinstance(g, _NUMBER):
        return lambda g, x, axis, keepdims: g
    return None


# ---- results: where compiled code gives inf or NaN, Python may raise instead ---------
def _finite(value):  # a stub: numba's implementations below
    return True


@overload(_finite)
def _finite_impl(value):
    if isinstance(value, (types.Float, types.Complex)):
        return lambda value: np.isfinite(value)
    if isinstance(value, types.Array) and isinstance(value.dtype, (types.Float, types.Complex)):
        return lambda value: np.all(np.isfinite(value))
    if isinstance(value, types.List) and isinstance(value.dtype, (types.Float, types.Complex)):
        def each(value):
            for v in value:
                if not np.isfinite(v):
                    return False
            return True
        return each
    return lambda value: True  # integers, booleans, None: nothing to check


@overload(runtime.check_finite)
def _check_finite(values):
    if not isinstance(values, types.BaseTuple):
        return None

    def impl(values):
        for v in literal_unroll(values):
            if not _finite(v):
                raise NeedsPython("an inf or NaN: Python may raise where numba does not")
    return impl
