"""Spec rows for srcgrad/rules/shape.py (joined into rulespec's tables)."""

# ruff: noqa: F405
from rulespec import *  # noqa: F403 - the shapes, domains and Spec of the main table

M23 = (((2, 3),),)
M234 = (((2, 3, 4),),)
IDX = "IDX = np.array([[0, 2, 2, 1], [1, 1, 0, 2]])"

DIFF_SHAPE: list = [
    Spec(np.ravel, "np.ravel(x)", (((),), ((3,),), ((2, 3),), ((2, 3, 4),))),
    Spec(np.ravel, "np.ravel(x, order='F')", M23),
    Spec(np.squeeze, "np.squeeze(x)", (((1, 3),), ((2, 1, 3, 1),), ((1,),))),
    Spec(np.squeeze, "np.squeeze(x, axis=1)", (((2, 1, 3),),)),
    Spec(np.squeeze, "np.squeeze(x, 0)", (((1, 3),),)),
    Spec(np.expand_dims, "np.expand_dims(x, 0)", (((),), ((3,),), ((2, 3),))),
    Spec(np.expand_dims, "np.expand_dims(x, axis=-1)", (((3,),), ((2, 3),))),
    Spec(np.expand_dims, "np.expand_dims(x, (0, 2))", M23),
    Spec(np.atleast_1d, "np.atleast_1d(x)", (((),), ((3,),), ((2, 3),))),
    Spec(np.atleast_2d, "np.atleast_2d(x)", (((),), ((3,),), ((2, 3),))),
    Spec(np.swapaxes, "np.swapaxes(x, 0, 1)", (((2, 3),), ((2, 3, 4),))),
    Spec(np.swapaxes, "np.swapaxes(x, 0, -1)", M234),
    Spec(np.moveaxis, "np.moveaxis(x, 0, -1)", (((2, 3),), ((2, 3, 4),))),
    Spec(np.moveaxis, "np.moveaxis(x, (0, 1), (2, 0))", M234),
    Spec(np.broadcast_to, "np.broadcast_to(x, (2, 3))", (((3,),), ((2, 1),), ((),), ((1, 3),))),
    Spec(np.broadcast_to, "np.broadcast_to(x, (4, 2, 3))", (((2, 3),), ((2, 1),))),
    Spec(np.flip, "np.flip(x)", (((3,),), ((2, 3),))),
    Spec(np.flip, "np.flip(x, 1)", (((2, 3),), ((2, 3, 4),))),
    Spec(np.flip, "np.flip(x, axis=0)", (((2, 3),),)),
    Spec(np.fliplr, "np.fliplr(x)", (((2, 3),), ((2, 3, 4),))),
    Spec(np.flipud, "np.flipud(x)", (((3,),), ((2, 3),))),
    Spec(np.roll, "np.roll(x, 1)", (((3,),), ((2, 3),))),
    Spec(np.roll, "np.roll(x, -2, axis=1)", (((2, 3),), ((2, 3, 4),))),
    Spec(np.roll, "np.roll(x, (1, 2), axis=(0, 1))", M23),
    Spec(np.rot90, "np.rot90(x)", (((2, 3),), ((2, 3, 4),))),
    Spec(np.rot90, "np.rot90(x, 2)", M23),
    Spec(np.rot90, "np.rot90(x, k=3)", M23),
    Spec(np.rot90, "np.rot90(x, 1, (1, 2))", M234),
    Spec(np.tile, "np.tile(x, 2)", (((),), ((3,),), ((2, 3),))),
    Spec(np.tile, "np.tile(x, (2, 1))", (((3,),), ((2, 3),))),
    Spec(np.tile, "np.tile(x, (3, 1, 2))", M23),
    Spec(np.repeat, "np.repeat(x, 2)", (((),), ((3,),), ((2, 3),))),
    Spec(np.repeat, "np.repeat(x, 3, axis=1)", (((2, 3),), ((2, 3, 4),))),
    Spec(np.repeat, "np.repeat(x, 2, -1)", (((3,),), ((2, 3),))),
    Spec(np.take, "np.take(x, [0, 2, 2, 1])", (((3,),), ((2, 3),))),
    Spec(np.take, "np.take(x, [[0, 1], [1, 1]], axis=1)", (((2, 3),), ((2, 3, 4),))),
    Spec(np.take, "np.take(x, [1, 0, 1], axis=0)", (((2, 3),),)),
    Spec(np.take, "np.take(x, 2, axis=-1)", (((2, 3),),)),
    Spec(np.diag, "np.diag(x)", (((3,),), ((2, 3),), ((3, 3),))),
    Spec(np.diag, "np.diag(x, 1)", (((3,),), ((2, 3),), ((3, 2),))),
    Spec(np.diag, "np.diag(x, k=-1)", (((3,),), ((2, 3),), ((3, 2),))),
    Spec(np.diagonal, "np.diagonal(x)", (((2, 3),), ((3, 2),), ((2, 3, 4),))),
    Spec(np.diagonal, "np.diagonal(x, 1)", (((2, 3),), ((3, 3),))),
    Spec(np.diagonal, "np.diagonal(x, -1, 1, 2)", M234),
    Spec(np.diagonal, "np.diagonal(x, offset=1, axis1=2, axis2=0)", M234),
    Spec(np.tril, "np.tril(x)", (((3, 3),), ((2, 3),), ((2, 3, 4),))),
    Spec(np.tril, "np.tril(x, -1)", (((3, 3),),)),
    Spec(np.tril, "np.tril(x, k=1)", (((2, 3),),)),
    Spec(np.triu, "np.triu(x)", (((3, 3),), ((2, 3),), ((2, 3, 4),))),
    Spec(np.triu, "np.triu(x, 1)", (((3, 3),),)),
    Spec(np.triu, "np.triu(x, k=-1)", (((2, 3),),)),
    Spec(np.pad, "np.pad(x, 1)", (((3,),), ((2, 3),))),
    Spec(np.pad, "np.pad(x, (1, 2))", (((3,),), ((2, 3),))),
    Spec(np.pad, "np.pad(x, ((0, 1), (2, 0)))", M23),
    Spec(np.pad, "np.pad(x, 2, mode='constant')", M23),
    Spec(np.pad, "np.pad(x, 1) * np.pad(x, 1)", M23, label="np.pad(x,1)**2"),
    Spec(np.hstack, "np.hstack([x, y])", (((3,), (2,)), ((2, 3), (2, 1)), ((), (2,)))),
    Spec(np.hstack, "np.hstack([x, y, x * y])", (((2, 3), (2, 3)),)),
    Spec(np.vstack, "np.vstack([x, y])", (((3,), (3,)), ((2, 3), (1, 3)), ((3,), (2, 3)))),
    Spec(np.vstack, "np.vstack([x, y, x])", (((2, 3, 4), (1, 3, 4)),)),
    Spec(np.column_stack, "np.column_stack([x, y])", (((3,), (3,)), ((3, 2), (3,)),
                                                      ((), ()))),
    Spec(np.split, "np.split(x, 2)[1] * 2.0", (((4,),), ((4, 3),))),
    Spec(np.split, "np.sum(np.stack(np.split(x, 3)) ** 2)", (((6,),), ((3, 2),))),
    Spec(np.split, "np.split(x, 3, axis=1)[0] * np.split(x, 3, axis=1)[2]", (((2, 3),),)),
    Spec(np.split, "np.split(x, [1, 3])[1]", (((4,),),)),
    Spec(np.array_split, "np.array_split(x, 2)[0] * 3.0", (((5,),), ((3, 2),))),
    Spec(np.array_split, "np.sum(np.concatenate(np.array_split(x, 3, axis=-1), axis=-1) ** 2)",
         (((2, 4),),)),
    Spec(np.atleast_3d, "np.atleast_3d(x)", (((),), ((3,),), ((2, 3),), ((2, 3, 4),))),
    Spec(np.hsplit, "np.hsplit(x, 3)[1] * 2.0", (((2, 3),), ((6,),), ((2, 3, 4),))),
    Spec(np.hsplit, "np.hsplit(x, [1])[0] * np.hsplit(x, [1])[1][:, :1]", (((2, 3),),)),
    Spec(np.vsplit, "np.vsplit(x, 2)[1] * 2.0", (((4, 3),), ((2, 3, 4),))),
    Spec(np.vsplit, "np.vsplit(x, [1, 3])[1] ** 2", (((4, 3),),)),
    Spec(np.dsplit, "np.dsplit(x, 2)[0] * np.dsplit(x, 2)[1]", (((2, 3, 4),),)),
    Spec(np.dstack, "np.dstack([x, y])", (((3,), (3,)), ((2, 3), (2, 3)), ((), ()),
                                          ((2, 3, 2), (2, 3)))),
    Spec(np.dstack, "np.dstack([x, y, x * y])", (((2, 3), (2, 3)),)),
    Spec(np.append, "np.append(x, y)", (((3,), (2,)), ((2, 3), ()), ((), (2, 3)))),
    Spec(np.append, "np.append(x, y, axis=0)", (((2, 3), (1, 3)),)),
    Spec(np.append, "np.append(x, y, 1)", (((2, 3), (2, 2)),)),
    Spec(np.append, "np.append(x, x * 2.0)", (((3,),),), label="np.append(x,2x)"),
    Spec(np.resize, "np.resize(x, (3, 4))", (((3,),), ((2, 3),), ((),))),
    Spec(np.resize, "np.resize(x, 2)", (((3,),), ((2, 3),))),
    Spec(np.take_along_axis, "np.take_along_axis(x, IDX, axis=1)", (((2, 3),),), pre=IDX),
    Spec(np.take_along_axis, "np.take_along_axis(x, IDX.T, axis=0)", (((3, 2),),), pre=IDX),
    Spec(np.take_along_axis, "np.take_along_axis(x, IDX[0], None)", (((6,),), ((2, 3),)),
         pre=IDX),
    Spec(np.take_along_axis, "np.take_along_axis(x, IDX[:1], -1) ** 2", (((2, 3),),),
         pre=IDX),
]
if hasattr(np, "concat"):  # NumPy 2: np.concat is np.concatenate
    DIFF_SHAPE += [
        Spec(np.concatenate, "np.concat([x, y])", (((3,), (2,)),)),
        Spec(np.concatenate, "np.concat([x, y * x], axis=-1)", (((2, 3), (2, 3)),)),
        Spec(np.concatenate, "np.concat(xs, axis=1)", (((2, 3), (2, 1)),), overload=1,
             pre="xs = []; xs.append(x); xs.append(y)"),
    ]
if hasattr(np, "unstack"):  # NumPy 2.1
    DIFF_SHAPE += [
        Spec(np.unstack, "np.unstack(x)[1] * 2.0", (((3,),), ((2, 3),), ((2, 3, 4),))),
        Spec(np.unstack, "np.unstack(x, axis=1)[0] * np.unstack(x, axis=1)[2]", (((2, 3),),)),
        Spec(np.unstack, "np.sum(np.stack(np.unstack(x, axis=-1)) ** 2)", (((2, 3),),)),
    ]
if hasattr(np, "matrix_transpose"):
    DIFF_SHAPE += [
        Spec(np.matrix_transpose, "np.matrix_transpose(x) * 2.0", (((2, 3),), ((2, 3, 4),))),
    ]
if hasattr(np.linalg, "matrix_transpose") and np.linalg.matrix_transpose is not getattr(
        np, "matrix_transpose", None):
    DIFF_SHAPE += [Spec(np.linalg.matrix_transpose, "np.linalg.matrix_transpose(x)",
                        (((2, 3),), ((2, 3, 4),)))]
if hasattr(np, "vecdot"):
    DIFF_SHAPE += [
        Spec(np.vecdot, "np.vecdot(x, y)", (((3,), (3,)), ((2, 3), (3,)), ((2, 3), (4, 1, 3)))),
        Spec(np.vecdot, "np.vecdot(x, y, axis=0)", (((3, 2), (3, 2)),)),
    ]
if hasattr(np.linalg, "vecdot") and np.linalg.vecdot is not getattr(np, "vecdot", None):
    DIFF_SHAPE += [
        Spec(np.linalg.vecdot, "np.linalg.vecdot(x, y)", (((3,), (3,)), ((2, 3), (3,)))),
        Spec(np.linalg.vecdot, "np.linalg.vecdot(x, y, axis=0)", (((3, 2), (3, 2)),)),
    ]
if hasattr(np, "matvec"):
    DIFF_SHAPE += [Spec(np.matvec, "np.matvec(x, y)",
                        (((2, 3), (3,)), ((4, 2, 3), (3,)), ((2, 3), (4, 3))))]
if hasattr(np, "vecmat"):
    DIFF_SHAPE += [Spec(np.vecmat, "np.vecmat(x, y)",
                        (((3,), (3, 2)), ((4, 3), (3, 2)), ((3,), (4, 3, 2))))]
NONDIFF_SHAPE: list = []
