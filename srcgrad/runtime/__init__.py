"""The run-time helpers that generated derivative code calls: a public, stable package.

The code ``srcgrad show`` and ``srcgrad.derivative_source`` print imports what it
calls from here (``from srcgrad.runtime import seed, unbroadcast``) and from the
package's modules (``from srcgrad.runtime.linalg import det_grad``), so that a
derivative can be pasted into a file next to the user's code, read, run and
shipped. Besides NumPy, ``math`` and SciPy, generated code calls nothing else. Each
module's ``__all__`` lists exactly the helpers generated code may call from it; each
has a one-line contract (the first line of its docstring). Their names, parameters
and results are stable: changing one is a breaking change of srcgrad, since shipped
code calls them.

This module holds the core, which any derivative may call (broadcasting, reductions
and products of any rank, seeds, zeros, dtypes, writes and checks). Each module holds
the adjoints and tangents of one family of functions, its docstring says which:
``casts`` (``x.astype``), ``linalg`` (products and ``numpy.linalg``), ``finite``
(the finite derivatives at the points where a formula divides by zero), ``decomp``
(decompositions), ``fft`` (``numpy.fft``), ``shape`` (layout and construction),
``ported`` (functions ported code uses: ``np.gradient``, ``np.interp``, the
convolutions), ``sorting`` (order statistics), ``checkpoints`` (the snapshots and
schedule of a checkpointed loop: the one stateful helper), ``special``
(``scipy.special.logsumexp``; SciPy is not imported), ``stats``
(``scipy.stats``'s multivariate densities; neither), ``matfuncs`` (``scipy.linalg`` and
``scipy.signal.convolve``; imported when called) and ``second_order`` (tangents of
the adjoint helpers, which Hessian-vector product code calls).

Contract: each helper is a plain function of NumPy values (and Python numbers,
lists and tuples) with no srcgrad state and no side effect on its arguments.
They exist where an adjoint depends on what is only known at run time (shapes:
broadcasting, axis reductions, matrix products of any rank; which argument of a
``max`` won; the float type of the output) or is more than an expression (a
scatter, a decomposition's adjoint). Everything else is inlined by the rule
tables. Two exceptions may escape them: ``seed`` raises ``NotScalar`` for a
non-scalar output, ``disjoint_write`` raises ``ViewChanged``; both are importable
from here (and a derivative srcgrad does not provide raises NotImplementedError,
naming the case). Other names, modules aside, are srcgrad's own.

Layering: the package imports NumPy, the standard library and itself, nothing else
of srcgrad (the rule tables import it, not the other way round). Its modules call
the core, so this module imports them at its end.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "above", "add_adjoints", "add_at", "argmax_mask", "as_dtype_of", "as_input", "average_weights",
    "below", "between", "check_finite", "copy_adjoint", "diff_grad", "disjoint_write", "dot_grad_a",
    "dot_grad_b", "expand", "fit", "keep", "kept", "ln", "matmul_grad_a", "matmul_grad_b",
    "pick", "piece", "seed", "signum", "split_like", "stop_gradient", "sum_grad", "sum_to",
    "transpose_grad", "unbroadcast", "unslice", "unstack", "weights_grad", "write_marks",
    "write_order", "zeros_like",
]

_SCALARS = (int, float, bool)
_FLOAT = np.dtype(float)


def sum_to(g, shape):
    """Sum ``g`` down to ``shape`` (``unbroadcast`` for a shape known in advance)."""
    gshape = np.shape(g)
    if gshape == shape:
        return g
    extra = len(gshape) - len(shape)
    if extra > 0:
        g = np.sum(g, axis=tuple(range(extra)))
        gshape = gshape[extra:]
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and gshape[i] != 1)
    return np.sum(g, axis=axes, keepdims=True) if axes else g


def unbroadcast(g, x):
    """Sum ``g`` down to the shape of ``x``: the adjoint of NumPy broadcasting."""
    try:
        if g.shape == x.shape:  # the common case, kept cheap: no broadcasting happened
            return g
    except AttributeError:  # a Python scalar on either side
        pass
    shape = np.shape(x)
    if np.shape(g) == shape:
        return g
    g = sum_to(g, shape)
    return float(g) if isinstance(x, _SCALARS) and not foreign.is_foreign(g) else g


def zeros_like(x):
    """The zero adjoint of ``x``: a float for Python scalars, a list for a list or tuple
    (a tuple-valued primitive such as ``np.linalg.qr``), else a float array (complex
    for a complex array)."""
    if isinstance(x, (*_SCALARS, complex)):
        return 0.0
    if isinstance(x, (list, tuple)):  # (numbers, the common case, without a call each)
        return [0.0 if type(e) is float else zeros_like(e) for e in x]
    if foreign.is_foreign(x):  # in x's library (Dask: x's chunks), not a NumPy array
        return np.zeros_like(x, dtype=_float_dtype(x))
    return np.zeros(np.shape(x), _float_dtype(x))


def _float_dtype(x):
    """``x``'s dtype if it is a float or complex type (float32 adjoints stay float32),
    else float64."""
    dtype = getattr(x, "dtype", None)
    return dtype if dtype is not None and dtype.kind in "fc" else np.float64


def as_dtype_of(g, x):
    """``g`` as the gradient handed to the user for the parameter ``x``: in ``x``'s float
    dtype (float32 in, float32 out, even where the function computed in float64 on
    the way), and an array of its own (never a read-only broadcast view)."""
    dtype = getattr(x, "dtype", None)
    if dtype is not None and dtype.kind in "fc" and getattr(g, "dtype", dtype) != dtype:
        if dtype.kind == "f" and np.iscomplexobj(g):  # transform/complexity's invariant
            raise AssertionError("srcgrad bug: a complex adjoint for a real parameter")
        return foreign.astype(g, dtype) if foreign.is_foreign(g) else np.asarray(g, dtype=dtype)
    if isinstance(g, np.ndarray) and not g.flags.writeable:
        return g.copy()
    return g


def add_at(a, index, v):
    """``np.add.at(a, index, v)``: ``a[index] += v`` adding up repeated positions (what
    code for the numba backend calls, which has a compiled counterpart)."""
    np.add.at(a, index, v)


def check_finite(values):
    """Nothing in Python. Code for the numba backend calls it on what it returns: the
    compiled counterpart has the call run again in Python where a value is inf or NaN,
    since compiled code gives those silently where Python raises (``math.sqrt(-1.0)``,
    a float power that overflows)."""


def copy_adjoint(x):
    """A copy of an adjoint that can be changed in place (lists copied deeply)."""
    if isinstance(x, list):
        return [copy_adjoint(e) for e in x]
    if isinstance(x, np.ndarray):
        return np.copy(x)
    return x.copy() if foreign.is_foreign(x) else x


def add_adjoints(a, b):
    """``a + b`` for adjoints and tangents, entry by entry for lists and tuples (the
    tangent of a tuple-valued function is a tuple: ``+`` would concatenate)."""
    if isinstance(a, list):
        return [add_adjoints(x, y) for x, y in zip(a, b, strict=True)]
    if isinstance(a, tuple):
        return tuple(add_adjoints(x, y) for x, y in zip(a, b, strict=True))
    return a + b


def write_order(c):
    """Position numbers shaped like ``c = g[index]``: which value each write carries."""
    if foreign.is_foreign(c):
        return foreign.write_order(c)
    return np.arange(np.size(c)).reshape(np.shape(c))


def write_marks(g):
    """A blank buffer shaped like ``g`` for ``write_order`` numbers (-1: not written)."""
    if foreign.is_foreign(g):
        return np.full_like(g, -1, dtype=np.int64)
    return np.full(np.shape(g), -1)


def kept(c, back):
    """``c`` where a write survived: ``x[[0, 0]] = v`` keeps only v's last element
    (NumPy assigns in order), so an overwritten element's adjoint is 0. ``back`` is
    the position each written element finally holds (``write_order`` read back)."""
    return np.where(back == write_order(c), c, 0.0)


def unstack(g, axis):
    """Adjoint of ``np.stack(xs, axis)`` (or ``np.array(xs)``): one array per element."""
    if foreign.is_foreign(g):  # (np.array would make each a NumPy array)
        return [e.copy() for e in np.moveaxis(g, axis, 0)]
    return [np.array(e) for e in np.moveaxis(g, axis, 0)]


def as_input(g, x):
    """Adjoint of ``np.array(x)``: a list again if ``x`` was a list, nested as ``x`` is
    (``np.array(rows)`` of lists of rows)."""
    if not isinstance(x, list) or isinstance(g, list):  # (a list's adjoint already)
        return g
    if isinstance(g, list) and any(map(foreign.is_foreign, g)):  # (unstack: np.asarray)
        return [as_input(e, xe) for e, xe in zip(g, x)]
    return [as_input(e, xe) for e, xe in zip(unstack(g, 0), x)]


def unslice(g, xs, index):
    """Adjoint of ``xs[index]`` for a list ``xs`` and a slice ``index``: ``g``'s entries
    at the positions the slice read, zeros (like ``xs``'s entries) elsewhere."""
    out = [zeros_like(e) for e in xs]
    for i, e in zip(range(len(xs))[index], g):
        out[i] = copy_adjoint(e)
    return out


def sum_grad(g, x):
    """Adjoint of builtin ``sum(x)``: over a list's elements, or an array's first axis."""
    if isinstance(x, list):
        return [unbroadcast(g, e) for e in x]
    return expand(g, x, None, False)


def split_like(g, xs, axis):
    """Adjoint of ``np.concatenate(xs, axis)``: ``g`` cut back into the pieces."""
    sizes = [np.shape(e)[axis] for e in xs]
    if foreign.is_foreign(g):
        return foreign.split(g, sizes, axis)
    return np.split(g, np.cumsum(sizes)[:-1], axis=axis)


def piece(g, i, axis, *xs):
    """The ``i``-th piece of ``g`` for ``np.concatenate([x0, x1, ...], axis)``."""
    return split_like(g, xs, axis)[i]


def expand(g, x, axis, keepdims):
    """Broadcast the adjoint of a reduction of ``x`` over ``axis`` back to ``x``'s shape
    (``x`` may be given by its shape, a tuple)."""
    shape = x if isinstance(x, tuple) else np.shape(x)
    if axis is not None and not keepdims:
        g = keep(g, shape, axis, False)
    if foreign.is_foreign(x):  # a Dask or CuPy array of x's chunks, never a NumPy one
        return foreign.broadcast(g, x)
    return np.broadcast_to(g, shape)  # a read-only view: adjoints are never
    # written in place unless the transform made them (sums, copies)


def keep(g, x, axis, keepdims):
    """``expand`` without the broadcast: ``g`` with the reduced axes of ``x`` kept as
    size 1, for a product with an array of ``x``'s shape to broadcast."""
    if axis is None or keepdims:
        return g
    shape = list(x if isinstance(x, tuple) else np.shape(x))
    for a in axis if isinstance(axis, tuple) else (axis,):
        shape[a] = 1
    return np.reshape(g, shape)


def argmax_mask(a, ans, axis, keepdims):
    """Where ``a`` attains the max (or min) ``ans`` of a reduction, ties sharing equally."""
    if axis is not None and not keepdims:
        ans = keep(ans, a, axis, False)
    hit = a == ans
    return hit / hit.sum(axis=axis, keepdims=True)  # bool / int: a float array


def pick(i, ans, *xs):
    """1.0 if ``xs[i]`` is the argument that builtin max/min returned, else 0.0.

    Python's max and min return the first extreme argument, so ties go to it.
    """
    for j, x in enumerate(xs):
        if x == ans:
            return 1.0 if j == i else 0.0
    return 0.0


def between(a, lo, hi):
    """The partial of ``np.clip(a, lo, hi)`` with respect to ``a``: 1 inside the bounds.

    Its shape is the output's: array bounds may broadcast ``a``.
    """
    inside = np.ones_like(a, dtype=bool) if foreign.is_foreign(a) else \
        np.ones(np.shape(a), dtype=bool)
    if lo is not None:
        inside = inside & (a >= lo)
    if hi is not None:
        inside = inside & (a <= hi)
    return inside.astype(float)


def below(a, lo, hi):
    """The partial of ``np.clip(a, lo, hi)`` with respect to ``lo``.

    NumPy computes ``minimum(maximum(a, lo), hi)``, so ``lo`` is the result
    where ``a < lo`` unless ``hi`` is lower still.
    """
    picked = a < lo
    return picked if hi is None else picked & (lo <= hi)


def above(a, lo, hi):
    """The partial of ``np.clip(a, lo, hi)`` with respect to ``hi``: 1 where ``hi`` is
    the result, that is where ``maximum(a, lo) > hi``."""
    return (a if lo is None else np.maximum(a, lo)) > hi


def signum(x):
    """``np.sign(x)``, except that a Python scalar gives a Python float."""
    if isinstance(x, _SCALARS):
        return float(np.sign(x))
    return np.sign(x)


def ln(x):
    """``np.log(x)``, except that a Python scalar gives a Python float (``math.log``,
    which raises ValueError where ``np.log`` would give NaN or -inf)."""
    if isinstance(x, _SCALARS):
        return math.log(x)
    return np.log(x)


def dot_grad_a(g, a, b):
    """Adjoint of ``a`` in ``np.dot(a, b)``."""
    na, nb = np.ndim(a), np.ndim(b)
    if na == 0 or nb == 0:
        return unbroadcast(g * b, a) if na == 0 else g * b
    if nb == 1:
        return np.multiply.outer(g, b)
    # dot contracts the last axis of a with the second-to-last of b.
    g_axes = tuple(range(na - 1, np.ndim(g)))
    b_axes = tuple(i for i in range(nb) if i != nb - 2)
    return np.tensordot(g, b, axes=(g_axes, b_axes))


def dot_grad_b(g, a, b):
    """Adjoint of ``b`` in ``np.dot(a, b)``."""
    na, nb = np.ndim(a), np.ndim(b)
    if na == 0 or nb == 0:
        return unbroadcast(g * a, b) if nb == 0 else g * a
    lead = tuple(range(na - 1))
    if nb == 1:
        return np.tensordot(a, g, axes=(lead, lead))
    contracted = np.tensordot(a, g, axes=(lead, lead))  # shape: a.shape[-1], rest of g
    # Move b's contracted axis (second-to-last) into place.
    return np.moveaxis(contracted, 0, nb - 2) if nb > 2 else contracted


def matmul_grad_a(g, a, b):
    """Adjoint of ``a`` in ``a @ b`` (batched, with 1-d promotion)."""
    if np.ndim(b) == 1:
        ga = np.expand_dims(g, -1) * b
    elif np.ndim(a) == 1:
        ga = np.matmul(np.expand_dims(g, -2), np.swapaxes(b, -1, -2))[..., 0, :]
    else:
        ga = np.matmul(g, np.swapaxes(b, -1, -2))
    return unbroadcast(ga, a)


def matmul_grad_b(g, a, b):
    """Adjoint of ``b`` in ``a @ b`` (batched, with 1-d promotion)."""
    if np.ndim(a) == 1 and np.ndim(b) == 1:
        return g * a
    if np.ndim(a) == 1:
        gb = np.expand_dims(a, -1) * np.expand_dims(g, -2)
    elif np.ndim(b) == 1:
        gb = np.matmul(np.swapaxes(a, -1, -2), np.expand_dims(g, -1))[..., 0]
    else:
        gb = np.matmul(np.swapaxes(a, -1, -2), g)
    return unbroadcast(gb, b)


def transpose_grad(g, axes):
    """Adjoint of ``np.transpose(a, axes)``: the inverse permutation."""
    if axes is None:
        return np.transpose(g)
    inverse = np.argsort(np.mod(axes, np.ndim(g)))  # axes may be negative
    return np.transpose(g, tuple(map(int, inverse)) if foreign.is_foreign(g) else inverse)


class NotScalar(Exception):
    """Raised by ``seed`` when a gradient is asked of a non-scalar output."""

    def __init__(self, shape, complex_: bool = False):
        super().__init__(shape)
        self.shape, self.complex = shape, complex_


def seed(out):
    """The output's adjoint for a gradient: 1.0 in the output's float type, once ``out``
    is known to be a scalar."""
    if np.ndim(out) != 0:
        raise NotScalar(np.shape(out))
    if isinstance(out, np.floating):
        return out.dtype.type(1.0)  # a float32 output seeds float32 adjoints
    if isinstance(out, float):  # (the common case first: no dtype to look up)
        return 1.0
    if isinstance(out, complex) or getattr(out, "dtype", _FLOAT).kind == "c":
        raise NotScalar((), complex_=True)
    return 1.0


def stop_gradient(x):
    """``x`` itself; srcgrad sends no derivative through it."""
    return x


class ViewChanged(ValueError):
    """A write would change what an earlier view read still shows (``disjoint_write``)."""


def disjoint_write(v, a, n, *index):
    """``v``, once it is sure that writing it into ``a[index[n:]]`` leaves ``a[index[:n]]``
    unchanged: a value read earlier as that view, and still used after the write, would
    change with it in Python, while the derivative follows the value that was read."""
    if not isinstance(a, np.ndarray):
        return v  # a list: writing an entry replaces it, it changes no other value
    read, write = index[:n], index[n:]
    read = read if len(read) != 1 else read[0]
    shown = a[read]
    if isinstance(shown, np.ndarray) and np.shares_memory(shown, a) and \
            _overlaps(a, read, write if len(write) != 1 else write[0]):
        raise ViewChanged("this write changes part of an array that a view read earlier "
                          "and used later still shows (x[i] of a matrix is a view, and "
                          "changes with it); srcgrad follows the value that was read")
    return v


def _overlaps(a, read, write) -> bool:
    """Whether ``a[write] = ...`` changes an entry of the view ``a[read]``. A write of
    one entry (``a[0, 0]``) is taken as a 0-d view; an integer-array index by the
    entries it marks."""
    parts = write if isinstance(write, tuple) else (write,)
    if all(isinstance(p, (int, np.integer, slice, type(None), type(Ellipsis))) for p in parts):
        return bool(np.shares_memory(a[read], a[(*parts, Ellipsis)]))
    marked = np.zeros(np.shape(a), dtype=bool)
    marked[write] = True
    return bool(np.any(marked[read]))


def fit(t, ans):
    """A tangent broadcast to the shape of the value it belongs to (forward mode). A
    list's or tuple's tangent (the adjoint of a tuple-valued primitive, copied) is one
    tangent per entry, never broadcast: returned as it is."""
    if isinstance(ans, (list, tuple)) and isinstance(t, (list, tuple)) and len(t) == len(ans):
        return t
    if np.shape(t) == np.shape(ans):
        return t
    return np.broadcast_to(t, np.shape(ans)).copy()


def diff_grad(g, n, axis):
    """Adjoint of ``np.diff(a, n, axis)``: the transposed difference, applied n times."""
    for _ in range(n):
        g = -np.diff(g, axis=axis, prepend=0.0, append=0.0)
    return g


def average_weights(a, axis, weights):
    """The weights of ``np.average(a, axis, weights)`` at ``a``'s shape (ones if None)."""
    if weights is None:
        return np.ones_like(a, dtype=float) if foreign.is_foreign(a) else np.ones(np.shape(a))
    w = foreign.astype(weights, np.dtype(float)) if foreign.is_foreign(weights) else \
        np.asarray(weights, dtype=float)
    if w.shape != np.shape(a):  # 1-d weights along an integer axis
        shape = [1] * np.ndim(a)
        shape[axis] = w.size
        w = w.reshape(shape)
    return foreign.broadcast(w, a) if foreign.is_foreign(a) else np.broadcast_to(w, np.shape(a))


def weights_grad(c, weights, axis):
    """A contribution at ``a``'s shape, summed back to the shape of 1-d weights."""
    if np.shape(c) == np.shape(weights):
        return c
    axis = axis % np.ndim(c)
    return np.sum(c, axis=tuple(i for i in range(np.ndim(c)) if i != axis))


# The package's modules (``srcgrad.runtime.linalg`` is there once this is imported):
# they call the helpers above, so they are imported once those are defined.
from . import casts, decomp, fft, finite, linalg, ported, second_order, sorting, special, transposes  # noqa: E402, F401, E501
from . import checkpoints as checkpoints  # noqa: E402 - checkpointed loops' snapshots
from . import complexes as complexes  # noqa: E402 - complex numbers (rules/complexes.py)
from . import foreign as foreign  # noqa: E402 - the core's work on Dask and CuPy arrays
from . import matfuncs as matfuncs  # noqa: E402 - SciPy's helpers (scipy_linalg, scipy_stats)
from . import shape as shape  # noqa: E402 - (its name is also a parameter's, above)
from . import stats as stats  # noqa: E402
