"""Rules for shape and layout functions (issue 6).

Same form as rules/numpy.py: one line per primitive, both modes.
"""

import numpy as np

from .. import runtime
from .registry import Table


def take_grad(g, a, indices, axis):
    """Adjoint of ``np.take(a, indices, axis)``: scatter-add ``g`` (repeats accumulate)."""
    out = np.zeros(np.shape(a))
    indices = np.asarray(indices)
    if axis is None:
        np.add.at(out.reshape(-1), indices, g)  # a view: out is contiguous
        return out
    axis = axis % out.ndim
    span = list(range(axis, axis + indices.ndim))
    np.add.at(np.moveaxis(out, axis, 0), indices,
              np.moveaxis(g, span, list(range(indices.ndim))))
    return out


def repeat_grad(g, a, repeats, axis):
    """Adjoint of ``np.repeat``: a take of each index ``repeats`` times."""
    n = np.size(a) if axis is None else np.shape(a)[axis]
    return take_grad(g, a, np.repeat(np.arange(n), repeats), axis)


def tile_grad(g, a, reps):
    """Adjoint of ``np.tile``: sum the copies back onto ``a``'s shape."""
    reps = (reps,) if np.ndim(reps) == 0 else tuple(reps)
    shape = np.shape(a)
    d = max(len(shape), len(reps))
    shape1 = (1,) * (d - len(shape)) + tuple(shape)
    reps = (1,) * (d - len(reps)) + reps
    split = [n for pair in zip(reps, shape1) for n in pair]
    g = np.reshape(g, split)
    return np.reshape(np.sum(g, axis=tuple(range(0, 2 * d, 2))), shape)


def _diag_index(n, k):
    i = np.arange(n)
    return (i, i + k) if k >= 0 else (i - k, i)


def diag_grad(g, v, k):
    """Adjoint of ``np.diag(v, k)``: a diagonal back from 2-d, or a 1-d vector into 2-d."""
    if np.ndim(v) == 1:
        return np.diagonal(g, k).copy()
    out = np.zeros(np.shape(v))
    out[_diag_index(np.shape(g)[0], k)] = g
    return out


def diagonal_grad(g, a, offset, axis1, axis2):
    """Adjoint of ``np.diagonal``: ``g`` (diagonal last) written onto the diagonal."""
    out = np.zeros(np.shape(a))
    view = np.moveaxis(out, (axis1, axis2), (-2, -1))
    i, j = _diag_index(np.shape(g)[-1], offset)
    view[..., i, j] = g
    return out


def rot90_grad(g, k, axes):
    """Adjoint of ``np.rot90``: rotate back (``axes`` None is NumPy's default (0, 1))."""
    return np.rot90(g, -k, (0, 1) if axes is None else axes)


def pad_grad(g, array, pad_width):
    """Adjoint of ``np.pad`` (constant mode): the interior of ``g``."""
    ndim = np.ndim(array)
    widths = np.broadcast_to(np.asarray(pad_width, dtype=int), (ndim, 2))
    index = tuple(slice(lo, lo + n) for (lo, _), n in zip(widths, np.shape(array)))
    return np.reshape(g[index], np.shape(array))


def _stack_piece(g, index, axis, arrays, xs):
    sizes = [np.shape(e)[axis] for e in arrays]
    return np.reshape(np.split(g, np.cumsum(sizes)[:-1], axis=axis)[index], np.shape(xs[index]))


def hstack_grad(g, index, *xs):
    """Adjoint of ``np.hstack([x0, x1, ...])`` for element ``index``."""
    arrays = [np.atleast_1d(x) for x in xs]
    return _stack_piece(g, index, 0 if arrays[0].ndim == 1 else 1, arrays, xs)


def vstack_grad(g, index, *xs):
    """Adjoint of ``np.vstack([x0, x1, ...])`` for element ``index``."""
    return _stack_piece(g, index, 0, [np.atleast_2d(x) for x in xs], xs)


def column_stack_grad(g, index, *xs):
    """Adjoint of ``np.column_stack([x0, x1, ...])`` for element ``index``."""
    arrays = [np.array(x, ndmin=2).T if np.ndim(x) < 2 else x for x in xs]
    return _stack_piece(g, index, 1, arrays, xs)


def split_grad(g, ary, axis):
    """Adjoint of ``np.split``/``np.array_split``: the list adjoint joined back."""
    return np.reshape(np.concatenate([np.asarray(e) for e in g], axis=axis), np.shape(ary))


def hsplit_grad(g, ary):
    """Adjoint of ``np.hsplit``: joined back along axis 1 (axis 0 for a 1-d array)."""
    return split_grad(g, ary, 1 if np.ndim(ary) > 1 else 0)


def unstack_grad(g, x, axis):
    """Adjoint of ``np.unstack(x, axis)``: the list adjoint stacked back."""
    return np.reshape(np.stack([np.asarray(e) for e in g], axis=axis), np.shape(x))


def dstack_grad(g, index, *xs):
    """Adjoint of ``np.dstack([x0, x1, ...])`` for element ``index``."""
    return _stack_piece(g, index, 2, [np.atleast_3d(x) for x in xs], xs)


def append_grad(g, arr, values, axis, part):
    """Adjoint of ``np.append(arr, values, axis)``: part 0 for ``arr``, 1 for ``values``."""
    if axis is None:
        g, axis, n = np.ravel(g), 0, np.size(arr)
    else:
        n = np.shape(arr)[axis]
    return np.reshape(np.split(g, [n], axis=axis)[part], np.shape(values if part else arr))


def resize_grad(g, a):
    """Adjoint of ``np.resize(a, shape)``: the cyclic copies of ``a`` summed back."""
    n = np.size(a)
    sources = np.arange(np.size(g)) % n
    return np.reshape(np.bincount(sources, weights=np.ravel(g), minlength=n), np.shape(a))


def take_along_axis_grad(g, arr, indices, axis):
    """Adjoint of ``np.take_along_axis``: scatter-add ``g`` (repeats accumulate)."""
    out = np.zeros(np.shape(arr))
    indices = np.asarray(indices)
    if axis is None:
        np.add.at(out.reshape(-1), indices, g)
        return out
    axis = axis % out.ndim
    index = tuple(indices if d == axis else
                  np.arange(n).reshape((1,) * d + (n,) + (1,) * (out.ndim - d - 1))
                  for d, n in enumerate(out.shape))
    np.add.at(out, index, np.broadcast_to(g, np.broadcast_shapes(*(np.shape(i) for i in index))))
    return out


def outer_last(a, b):
    """``a[..., :, None] * b[..., None, :]``: the adjoint shape of a matrix in matvec/vecmat."""
    return np.expand_dims(a, -1) * np.expand_dims(b, -2)


HELPERS = {f.__name__: f for f in (take_grad, repeat_grad, tile_grad, diag_grad, diagonal_grad,
                                   pad_grad, rot90_grad, hstack_grad, vstack_grad,
                                   column_stack_grad, split_grad, take_along_axis_grad, outer_last,
                                   hsplit_grad, unstack_grad, dstack_grad, append_grad,
                                   resize_grad)}
table = Table({"np": np, **{name: getattr(runtime, name) for name in ("expand", "unbroadcast")},
               **HELPERS})
P, V, N = table.partials, table.vjp, table.nondiff

BACK = "np.reshape(g, np.shape({}))"
V(np.ravel, "a, order='C'", a="np.reshape(g, np.shape(a), order=order)", linear=True)
V(np.squeeze, "a, axis=None", a=BACK.format("a"), linear=True)
V(np.expand_dims, "a, axis", a=BACK.format("a"), linear=True)
V(np.atleast_1d, "ary", ary=BACK.format("ary"), linear=True)
V(np.atleast_2d, "ary", ary=BACK.format("ary"), linear=True)
V(np.atleast_3d, "ary", ary=BACK.format("ary"), linear=True)
V(np.swapaxes, "a, axis1, axis2", a="np.swapaxes(g, axis1, axis2)", linear=True)
V(np.moveaxis, "a, source, destination", a="np.moveaxis(g, destination, source)", linear=True)
V(np.broadcast_to, "array, shape, subok=False", array="unbroadcast(g, array)", linear=True)
V(np.flip, "m, axis=None", m="np.flip(g, axis)", linear=True)
V(np.fliplr, "m", m="np.fliplr(g)", linear=True)
V(np.flipud, "m", m="np.flipud(g)", linear=True)
V(np.roll, "a, shift, axis=None", a="np.roll(g, np.negative(shift), axis)", linear=True)
V(np.rot90, "m, k=1, axes=None", m="rot90_grad(g, k, axes)", linear=True)
V(np.tile, "A, reps", A="tile_grad(g, A, reps)", linear=True)
V(np.repeat, "a, repeats, axis=None", a="repeat_grad(g, a, repeats, axis)", linear=True)
V(np.take, "a, indices, axis=None", a="take_grad(g, a, indices, axis)", linear=True)
V(np.diag, "v, k=0", v="diag_grad(g, v, k)", linear=True)
V(np.diagonal, "a, offset=0, axis1=0, axis2=1", a="diagonal_grad(g, a, offset, axis1, axis2)",
  linear=True)
V(np.tril, "m, k=0", m="np.tril(g, k)", linear=True)
V(np.triu, "m, k=0", m="np.triu(g, k)", linear=True)
V(np.pad, "array, pad_width, mode='constant'", array="pad_grad(g, array, pad_width)",
  linear=True)
V(np.hstack, "*xs", seq=True, linear=True, xs="hstack_grad(g, index, *xs)")
V(np.vstack, "*xs", seq=True, linear=True, xs="vstack_grad(g, index, *xs)")
V(np.column_stack, "*xs", seq=True, linear=True, xs="column_stack_grad(g, index, *xs)")
V(np.split, "ary, indices_or_sections, axis=0", result="list", linear=True,
  ary="split_grad(g, ary, axis)")
V(np.array_split, "ary, indices_or_sections, axis=0", result="list", linear=True,
  ary="split_grad(g, ary, axis)")
V(np.hsplit, "ary, indices_or_sections", result="list", linear=True,
  ary="hsplit_grad(g, ary)")
V(np.vsplit, "ary, indices_or_sections", result="list", linear=True,
  ary="split_grad(g, ary, 0)")
V(np.dsplit, "ary, indices_or_sections", result="list", linear=True,
  ary="split_grad(g, ary, 2)")
if hasattr(np, "unstack"):  # NumPy 2.1
    V(np.unstack, "x, *, axis=0", result="list", linear=True, x="unstack_grad(g, x, axis)")
V(np.dstack, "*xs", seq=True, linear=True, xs="dstack_grad(g, index, *xs)")
V(np.append, "arr, values, axis=None", linear=True,
  arr="append_grad(g, arr, values, axis, 0)", values="append_grad(g, arr, values, axis, 1)")
V(np.resize, "a, new_shape", linear=True, a="resize_grad(g, a)")
V(np.take_along_axis, "arr, indices, axis=-1", linear=True,
  arr="take_along_axis_grad(g, arr, indices, axis)")
if hasattr(np, "matrix_transpose"):
    V(np.matrix_transpose, "x", x="np.matrix_transpose(g)", linear=True)
if hasattr(np.linalg, "matrix_transpose") and np.linalg.matrix_transpose is not getattr(
        np, "matrix_transpose", None):
    V(np.linalg.matrix_transpose, "x", x="np.matrix_transpose(g)", linear=True,
      name="np.linalg.matrix_transpose")
VECDOT = dict(x1="unbroadcast(np.expand_dims(g, axis) * x2, x1)",
              x2="unbroadcast(np.expand_dims(g, axis) * x1, x2)",
              jvp_x1="np.vecdot(dot, x2, axis=axis)", jvp_x2="np.vecdot(x1, dot, axis=axis)")
if hasattr(np, "vecdot"):
    V(np.vecdot, "x1, x2, axis=-1", **VECDOT)
if hasattr(np.linalg, "vecdot") and np.linalg.vecdot is not getattr(np, "vecdot", None):
    V(np.linalg.vecdot, "x1, x2, axis=-1", name="np.linalg.vecdot", **VECDOT)
if hasattr(np, "matvec"):
    V(np.matvec, "x1, x2", x1="unbroadcast(outer_last(g, x2), x1)",
      x2="unbroadcast(np.vecmat(g, x1), x2)",
      jvp_x1="np.matvec(dot, x2)", jvp_x2="np.matvec(x1, dot)")
if hasattr(np, "vecmat"):
    V(np.vecmat, "x1, x2", x1="unbroadcast(np.matvec(x2, g), x1)",
      x2="unbroadcast(outer_last(x1, g), x2)",
      jvp_x1="np.vecmat(dot, x2)", jvp_x2="np.vecmat(x1, dot)")
