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


HELPERS = {f.__name__: f for f in (take_grad, repeat_grad, tile_grad, diag_grad, diagonal_grad,
                                   pad_grad, rot90_grad)}
table = Table({"np": np, **{name: getattr(runtime, name) for name in ("expand", "unbroadcast")},
               **HELPERS})
P, V, N = table.partials, table.vjp, table.nondiff

BACK = "np.reshape(g, np.shape({}))"
V(np.ravel, "a, order='C'", a="np.reshape(g, np.shape(a), order=order)", linear=True)
V(np.squeeze, "a, axis=None", a=BACK.format("a"), linear=True)
V(np.expand_dims, "a, axis", a=BACK.format("a"), linear=True)
V(np.atleast_1d, "ary", ary=BACK.format("ary"), linear=True)
V(np.atleast_2d, "ary", ary=BACK.format("ary"), linear=True)
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
