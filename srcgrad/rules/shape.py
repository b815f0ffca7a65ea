"""Rules for shape and layout functions (issue 6).

Same form as rules/numpy.py: one line per primitive, both modes. The adjoints that are
more than an expression are functions of ``srcgrad.runtime.shape``.
"""

from typing import Any

import numpy as np

from .. import runtime
from ..runtime import shape
from .registry import Table, exported

table = Table({"np": np, **{name: getattr(runtime, name) for name in ("expand", "unbroadcast")},
               **exported(shape)})
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
VECDOT: dict[str, Any] = dict(x1="unbroadcast(np.expand_dims(g, axis) * x2, x1)",
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
