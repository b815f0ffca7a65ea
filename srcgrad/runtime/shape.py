"""Run-time helpers for shape, layout and construction: adjoints of ``np.take``,
``repeat``, ``tile``, ``diag``, ``diagonal``, ``rot90``, ``pad``, the stacks and splits,
``append``, ``resize``, ``take_along_axis``, ``matvec``/``vecmat``, ``linspace`` and
``meshgrid``. Public and stable.

Generated code calls them (``from srcgrad.runtime.shape import take_grad``).
``<fn>_grad(g, ...)`` is the adjoint contribution to an input of ``np.<fn>`` given the
output's adjoint ``g``: every one is linear in ``g``. For a list-valued function (the
splits, ``meshgrid``) ``g`` is a list with one adjoint per output; for a function of a
sequence (the stacks) ``index`` says which element's adjoint is asked. A scatter
(``take_grad``) adds up the adjoints of repeated indices. Some return a view of ``g``
(``rot90_grad``, ``pad_grad``, the stacks' and ``append_grad``): ``srcgrad.ir.SAME_BUFFER``
lists them.

Contract (that of ``srcgrad.runtime``): plain functions of NumPy values, with no srcgrad
state and no side effect on their arguments; names, parameters and results are stable.
``__all__`` lists the functions generated code may call.
"""

from __future__ import annotations

import numpy as np

from . import unbroadcast

__all__ = [
    "append_grad", "column_stack_grad", "diag_grad", "diagonal_grad", "dstack_grad", "hsplit_grad",
    "hstack_grad", "linspace_grad", "meshgrid_grad", "outer_last", "pad_grad", "repeat_grad",
    "resize_grad", "rot90_grad", "split_grad", "take_along_axis_grad", "take_grad", "tile_grad",
    "unstack_grad", "vstack_grad",
]


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


def linspace_grad(g, x, num, endpoint, axis, part):
    """Adjoint of ``np.linspace(start, stop, num, endpoint, axis=axis)`` for ``x``.

    The start (part 0) weighs each sample by 1 - t, the stop (part 1) by t."""
    t = np.linspace(0.0, 1.0, num, endpoint=endpoint)
    t = np.moveaxis(np.reshape(t, (-1,) + (1,) * (np.ndim(g) - 1)), 0, axis)
    return unbroadcast(np.sum(g * (t if part else 1.0 - t), axis=axis), x)


def meshgrid_grad(g, index, indexing, *xs):
    """Adjoint of ``np.meshgrid(x0, x1, ...)`` for ``xs[index]``.

    Output ``index`` summed over all axes but its own (the first two swapped for 'xy' indexing)."""
    own = 1 - index if indexing == "xy" and len(xs) > 1 and index < 2 else index
    e = np.asarray(g[index])
    return np.reshape(np.sum(e, axis=tuple(d for d in range(e.ndim) if d != own)),
                      np.shape(xs[index]))
