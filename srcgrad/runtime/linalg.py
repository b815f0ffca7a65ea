"""Run-time helpers for linear algebra: adjoints and tangents of NumPy's products and of
the ``numpy.linalg`` functions with one result. Public and stable.

Generated code calls them (``from srcgrad.runtime.linalg import det_grad``) where it
differentiates ``np.trace``, ``np.inner``, ``np.tensordot``, ``np.einsum``, ``np.cross``,
``np.kron``, ``np.linalg.solve``, ``np.linalg.det``, ``np.linalg.norm`` or
``np.linalg.matrix_power``. ``<fn>_grad(g, ...)`` is the adjoint contribution to an input of
``<fn>`` given the output's adjoint ``g`` (``_a``, ``_b``: to the first or the second
operand); ``<fn>_jvp(dot, ...)`` is an input's share of the output's tangent given that
input's tangent ``dot``; ``ans`` is the function's result, passed in, never recomputed.
``einsum_grad`` and ``einsum_jvp`` may return a view of their first argument (of one
operand, ``np.einsum`` gives a view): ``srcgrad.ir.SAME_BUFFER`` lists them.

Contract (that of ``srcgrad.runtime``): plain functions of NumPy values, with no srcgrad
state and no side effect on their arguments; names, parameters and results are stable.
A case whose derivative srcgrad does not provide raises NotImplementedError naming it
(``np.einsum`` in its sublist form, ``np.cross`` of 2-vectors, a negative matrix power).
``__all__`` lists the functions generated code may call.
"""

from __future__ import annotations

import string

import numpy as np

from . import foreign, unbroadcast
from .finite import ratio

__all__ = [
    "cross_grad", "det_grad", "det_jvp", "einsum_grad", "einsum_jvp", "inner_grad_a",
    "inner_grad_b", "kron_grad_a", "kron_grad_b", "matrix_power_grad", "matrix_power_jvp",
    "norm_grad", "norm_jvp", "solve_grad_a", "solve_jvp_a", "tensordot_grad_a", "tensordot_grad_b",
    "trace_grad",
]


def _t(a):
    return np.swapaxes(a, -1, -2)


def _array(x):
    """``np.asarray(x)``, but a Dask or CuPy array stays one (``foreign``)."""
    return x if foreign.is_foreign(x) else np.asarray(x)


def trace_grad(g, a, offset, axis1, axis2):
    """Adjoint of np.trace: g spread on the traced diagonal."""
    a = np.asarray(a)
    eye = np.eye(a.shape[axis1], a.shape[axis2], k=offset)
    out = np.asarray(g)[..., None, None] * eye
    return np.moveaxis(out, (-2, -1), (axis1 % a.ndim, axis2 % a.ndim))


def inner_grad_a(g, a, b):
    """Adjoint of ``a`` in ``np.inner(a, b)``: g contracted with b's leading axes."""
    a, b, g = np.asarray(a), np.asarray(b), np.asarray(g)
    if a.ndim == 0 or b.ndim == 0:
        return np.sum(g * b) if a.ndim == 0 else g * b
    return np.tensordot(g, b, axes=(list(range(a.ndim - 1, g.ndim)), list(range(b.ndim - 1))))


def inner_grad_b(g, a, b):
    """Adjoint of ``b`` in ``np.inner(a, b)``: g contracted with a's leading axes."""
    a, b, g = np.asarray(a), np.asarray(b), np.asarray(g)
    if a.ndim == 0 or b.ndim == 0:
        return np.sum(g * a) if b.ndim == 0 else g * a
    return np.tensordot(g, a, axes=(list(range(a.ndim - 1)), list(range(a.ndim - 1))))


def solve_grad_a(g, a, ans):
    """Adjoint of ``a`` in ``ans = np.linalg.solve(a, b)``: -solve(a^T, g) ans^T."""
    gb = np.linalg.solve(_t(a), g)
    if np.ndim(ans) == np.ndim(a) - 1:
        return -np.outer(gb, ans)
    return -np.matmul(gb, _t(ans))


def solve_jvp_a(dot, a, ans):
    """Share of ``a`` in the tangent of ``ans = np.linalg.solve(a, b)``: -solve(a, dot ans)."""
    if np.ndim(ans) == np.ndim(a) - 1:
        return np.linalg.solve(a, -np.matmul(dot, ans))
    return np.linalg.solve(a, -np.matmul(dot, ans))


def det_grad(g, a, ans):
    """Adjoint of ``ans = np.linalg.det(a)``: g ans inv(a)^T (a invertible)."""
    return np.asarray(g * ans)[..., None, None] * _t(np.linalg.inv(a))


def det_jvp(dot, a, ans):
    """Tangent of ``ans = np.linalg.det(a)``: ans trace(solve(a, dot))."""
    return ans * np.trace(np.linalg.solve(a, dot), axis1=-2, axis2=-1)


def _tensordot_axes(axes, a, b):
    """The contracted axes of ``a`` and ``b`` in np.tensordot, as non-negative lists."""
    if isinstance(axes, (int, np.integer)):
        pair = (list(range(a.ndim - int(axes), a.ndim)), list(range(int(axes))))
    else:
        pair = ([axes[0]] if np.ndim(axes[0]) == 0 else list(axes[0]),
                [axes[1]] if np.ndim(axes[1]) == 0 else list(axes[1]))
    return [int(i) % a.ndim for i in pair[0]], [int(i) % b.ndim for i in pair[1]]


def tensordot_grad_a(g, a, b, axes):
    """Adjoint of ``a`` in np.tensordot: g contracted with b's free axes."""
    a, b, g = _array(a), _array(b), _array(g)
    ca, cb = _tensordot_axes(axes, a, b)
    free_a = [i for i in range(a.ndim) if i not in ca]
    free_b = [i for i in range(b.ndim) if i not in cb]
    out = np.tensordot(g, b, axes=(list(range(len(free_a), g.ndim)), free_b))
    order = free_a + [ca[cb.index(j)] for j in sorted(cb)]
    return np.transpose(out, tuple(int(i) for i in np.argsort(order)))


def tensordot_grad_b(g, a, b, axes):
    """Adjoint of ``b`` in np.tensordot: a's free axes contracted with g."""
    a, b, g = _array(a), _array(b), _array(g)
    ca, cb = _tensordot_axes(axes, a, b)
    free_a = [i for i in range(a.ndim) if i not in ca]
    free_b = [i for i in range(b.ndim) if i not in cb]
    out = np.tensordot(a, g, axes=(free_a, list(range(len(free_a)))))
    order = [cb[ca.index(i)] for i in sorted(ca)] + free_b
    return np.transpose(out, tuple(int(i) for i in np.argsort(order)))


def _einsum_terms(subscripts, shapes):
    """Explicit subscripts of np.einsum for these operand shapes (ellipses spelled as
    letters), the output's, and each label's size (the broadcast one)."""
    if not isinstance(subscripts, str):
        raise NotImplementedError("np.einsum derivative: only the subscripts-string form")
    text = subscripts.replace(" ", "")
    ins, arrow, out = text.partition("->")
    ins = ins.split(",")
    spare = [c for c in string.ascii_letters if c not in text]
    widths = [len(shape) - len(t.replace("...", "")) for t, shape in zip(ins, shapes)]
    ell = "".join(spare[:max([w for t, w in zip(ins, widths) if "..." in t], default=0)])
    terms = [t.replace("...", ell[len(ell) - w:]) for t, w in zip(ins, widths)]
    if arrow:
        out = out.replace("...", ell)
    else:  # implicit: the broadcast dimensions, then the labels seen once, sorted
        plain = "".join(ins).replace(".", "")
        out = ell + "".join(sorted(c for c in set(plain) if plain.count(c) == 1))
    size = {}
    for t, shape in zip(terms, shapes):
        for c, n in zip(t, shape):
            if size.get(c, 1) == 1:  # broadcasting: 1 takes the other size, 0 included
                size[c] = n
    return terms, out, size


def einsum_grad(g, subscripts, index, *operands):
    """Adjoint of operand ``index`` of ``np.einsum(subscripts, *operands)``.

    g and the other operands summed into its subscripts (identities for a repeated
    label, ones for a label only it has)."""
    arrays = [_array(o) for o in operands]
    terms, out, size = _einsum_terms(subscripts, [a.shape for a in arrays])
    g = _array(g)
    kind = np.result_type(g, 1.0)  # identities and ones keep g's precision
    fresh = (c for c in string.ascii_letters if c not in "".join(terms) + out)
    pieces = [(out, g)] + [(t, a) for j, (t, a) in enumerate(zip(terms, arrays))
                                       if j != index]
    target = ""
    for k, c in enumerate(terms[index]):
        if c in terms[index][:k]:  # a diagonal: its own label, tied to c by an identity
            d = next(fresh)
            pieces.append((c + d, np.eye(size[c], dtype=kind)))
            c = d
        target += c
    seen = "".join(t for t, _ in pieces)
    if foreign.is_foreign(arrays[index]) and target == terms[index]:
        # ones of the operand's own kind (Dask keeps its chunks): never a NumPy array
        # of the data's size
        pieces.append((target, np.ones_like(arrays[index], dtype=kind)))
    else:
        pieces += [(c, np.ones(size[c], kind)) for c in set(target) if c not in seen]
    res = np.einsum(",".join(t for t, _ in pieces) + "->" + target, *(a for _, a in pieces))
    res = np.broadcast_to(res, tuple(size[c] for c in terms[index]))
    shape = arrays[index].shape
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and res.shape[i] != 1)
    return np.sum(res, axis=axes, keepdims=True) if axes else res


def einsum_jvp(dot, subscripts, index, *operands):
    """Operand ``index``'s share of np.einsum's tangent: the op with it replaced by ``dot``."""
    ops = list(operands)
    ops[index] = dot
    return np.einsum(subscripts, *ops)


def cross_grad(g, a, b, axisa, axisb, axisc, axis, which):
    """Adjoint of ``a`` (which=0) or ``b`` (which=1) in np.cross of 3-vectors.

    <g, a x b> = <a, b x g> = <b, g x a>."""
    if axis is not None:
        axisa = axisb = axisc = axis
    g = np.moveaxis(np.asarray(g), axisc, -1)
    a, b = np.moveaxis(np.asarray(a), axisa, -1), np.moveaxis(np.asarray(b), axisb, -1)
    if a.shape[-1] != 3 or b.shape[-1] != 3:
        raise NotImplementedError("np.cross derivative: only 3-vectors")
    x, out = (a, np.cross(b, g)) if which == 0 else (b, np.cross(g, a))
    return np.moveaxis(unbroadcast(out, x), -1, axisa if which == 0 else axisb)


def _kron_parts(a, b):
    a, b = np.asarray(a), np.asarray(b)
    nd = max(a.ndim, b.ndim)
    sa = (1,) * (nd - a.ndim) + a.shape
    sb = (1,) * (nd - b.ndim) + b.shape
    inter = tuple(x for pair in zip(sa, sb) for x in pair)
    return a, b, nd, sa, sb, inter


def kron_grad_a(g, a, b):
    """Adjoint of ``a`` in ``np.kron(a, b)``: each block of g weighted by b, summed."""
    a, b, nd, sa, sb, inter = _kron_parts(a, b)
    gr = np.reshape(g, inter)
    bb = np.reshape(b, tuple(x for s in sb for x in (1, s)))
    return np.reshape(np.sum(gr * bb, axis=tuple(range(1, 2 * nd, 2))), a.shape)


def kron_grad_b(g, a, b):
    """Adjoint of ``b`` in ``np.kron(a, b)``: the blocks of g weighted by a's entries, summed."""
    a, b, nd, sa, sb, inter = _kron_parts(a, b)
    gr = np.reshape(g, inter)
    aa = np.reshape(a, tuple(x for s in sa for x in (s, 1)))
    return np.reshape(np.sum(gr * aa, axis=tuple(range(0, 2 * nd, 2))), b.shape)


def _norm_axes(x, ord, axis):
    """The axes np.linalg.norm reduces (non-negative) and whether it is a matrix norm."""
    if axis is None:
        axis = tuple(range(x.ndim))
        if ord is None:  # the 2-norm of all entries, whatever x.ndim
            return axis, False
    elif not isinstance(axis, (tuple, list)):
        axis = (axis,)
    return tuple(int(i) % x.ndim for i in axis), len(axis) == 2


def _vector_norm_partial(x, n, ord, axis):
    """d norm / dx of a vector norm along ``axis`` (``n`` the norm, axis kept)."""
    if ord == 0:  # a count of nonzeros
        return np.zeros(x.shape, np.result_type(x, 1.0))
    if ord in (np.inf, -np.inf):
        a = np.abs(x)
        pick = np.max if ord > 0 else np.min
        return np.sign(x) * (a == pick(a, axis=axis, keepdims=True))
    return np.sign(x) * ratio(np.abs(x), n) ** (ord - 1)


def _matrix_norm_partial(x, ord):
    """d norm / dx of a matrix norm over the last two axes (ord not None nor 'fro')."""
    if ord in ("nuc", 2, -2):
        u, _, vh = np.linalg.svd(x, full_matrices=False)
        if ord == "nuc":
            return np.matmul(u, vh)
        k = slice(0, 1) if ord == 2 else slice(-1, None)  # largest or smallest value
        return np.matmul(u[..., :, k], vh[..., k, :])
    if ord in (1, -1, np.inf, -np.inf):
        within = -2 if ord in (1, -1) else -1  # column sums for 1, row sums for inf
        sums = np.sum(np.abs(x), axis=within, keepdims=True)
        pick = np.max if ord > 0 else np.min
        return np.sign(x) * (sums == pick(sums, axis=-3 - within, keepdims=True))
    raise NotImplementedError(f"np.linalg.norm derivative: matrix ord {ord!r}")


def _norm_partial(x, n, ord, axes, matrix):
    """d norm / dx, x's shape (``n`` the norm with the reduced axes kept)."""
    if ord is None or (ord == "fro" if isinstance(ord, str) else ord == 2 and not matrix):
        return ratio(x, n)  # at 0 the subgradient 0
    if not matrix:
        return _vector_norm_partial(x, n, ord, axes[0])
    moved = _matrix_norm_partial(np.moveaxis(x, axes, (-2, -1)), ord)
    return np.moveaxis(moved, (-2, -1), axes)


def norm_grad(g, x, ans, ord, axis, keepdims):
    """Adjoint of np.linalg.norm, any ord: g times the norm's gradient."""
    x = _array(x)
    axes, matrix = _norm_axes(x, ord, axis)
    g, n = (v if keepdims else np.expand_dims(v, axes) for v in (g, ans))
    return g * _norm_partial(x, n, ord, axes, matrix)


def norm_jvp(dot, x, ans, ord, axis, keepdims):
    """Tangent of np.linalg.norm, any ord: the gradient's inner product with ``dot``."""
    x = np.asarray(x)
    axes, matrix = _norm_axes(x, ord, axis)
    n = ans if keepdims else np.expand_dims(ans, axes)
    out = np.sum(_norm_partial(x, n, ord, axes, matrix) * dot, axis=axes)
    return np.reshape(out, np.shape(ans))


def _powers(a, n):
    if not isinstance(n, (int, np.integer)) or n < 0:
        raise NotImplementedError("np.linalg.matrix_power derivative: only n >= 0")
    out = [np.broadcast_to(np.eye(a.shape[-1], dtype=np.result_type(a, 1.0)), a.shape)]
    for _ in range(1, n):
        out.append(np.matmul(out[-1], a))
    return out


def matrix_power_grad(g, a, n):
    """Adjoint of ``np.linalg.matrix_power(a, n)``, n >= 0: sum of (a^k)^T g (a^(n-1-k))^T."""
    a = np.asarray(a)
    ps = [_t(p) for p in _powers(a, n)]
    total = np.zeros(a.shape, np.result_type(a, 1.0))
    for k in range(n):
        total = total + np.matmul(np.matmul(ps[k], g), ps[n - 1 - k])
    return total


def matrix_power_jvp(dot, a, n):
    """Tangent of ``np.linalg.matrix_power(a, n)``, n >= 0: sum of a^k dot a^(n-1-k)."""
    a = np.asarray(a)
    ps = _powers(a, n)
    total = np.zeros(a.shape, np.result_type(a, 1.0))
    for k in range(n):
        total = total + np.matmul(np.matmul(ps[k], dot), ps[n - 1 - k])
    return total
