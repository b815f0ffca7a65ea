"""Run-time helpers for reverse mode over reverse-mode code: transposes of the adjoint
helpers, and the adjoint sweep's writes made out of place. Public and stable.

``vjp`` of ``srcgrad.grad(f)`` and ``jacobian(srcgrad.grad(f), mode="reverse")``
differentiate f's generated gradient code in reverse mode. Most helpers that code calls
are linear in the adjoint ``c`` they transform; the adjoint of ``c`` is then the helper's
transpose applied to the incoming adjoint ``g`` (``g`` has the shape of the helper's
result, the transpose's result that of ``c``). ``srcgrad.rules.helpers`` spells most
transposes with NumPy (the transpose of ``take_grad`` is ``np.take``); ``<helper>_vjp``
here are those that need more than one call. The adjoint sweep writes into its own
buffers in place (``x_bar[i] = 0``, ``x_bar[i] += c``), values reverse mode reads again
after the sweep: ``written`` and ``added_at`` make those writes into copies.

Contract (that of ``srcgrad.runtime``): plain functions of NumPy values, with no srcgrad
state and no side effect on their arguments; names, parameters and results are stable.
``__all__`` lists the functions generated code may call. None returns its first argument
or a view of it (so none is in ``ir.SAME_BUFFER``): reverse mode may add into their
results in place.
"""

from __future__ import annotations

import numpy as np

from . import copy_adjoint, keep, sum_to, unbroadcast, zeros_like

__all__ = [
    "added_at", "append_grad_vjp", "as_input_vjp", "at_vjp", "copyitem_vjp",
    "det_grad_vjp_a", "det_grad_vjp_c", "det_grad_vjp_d", "droplast_vjp", "expand_vjp",
    "gradient_grad_vjp", "hsplit_grad_vjp", "linspace_grad_vjp", "lse_expand_vjp",
    "meshgrid_grad_vjp", "piece_vjp", "rot90_grad_vjp", "solve_grad_a_vjp_a",
    "solve_grad_a_vjp_c", "solve_grad_a_vjp_x", "stack_piece_vjp", "sum_grad_vjp",
    "unstack_vjp", "written", "written_vjp",
]

def expand_vjp(g, c, axis, keepdims):
    """Adjoint of ``c`` in ``expand(c, x, axis, keepdims)``: ``g`` summed back to ``c``."""
    kept = np.shape(keep(c, np.shape(g), axis, keepdims))
    out = np.reshape(sum_to(g, kept), np.shape(c))
    return float(out) if isinstance(c, (int, float)) else np.copy(out)  # never g itself


def lse_expand_vjp(g, c, a, axis, keepdims):
    """Adjoint of ``c`` in ``lse_expand(c, a, axis, keepdims)``."""
    if np.ndim(a) == 0:
        return np.reshape(np.copy(g), np.shape(c))
    return expand_vjp(g, c, axis, keepdims)


def sum_grad_vjp(g, c, x):
    """Adjoint of ``c`` in ``sum_grad(c, x)``: the list's adjoints (or ``g``) summed."""
    if isinstance(x, list):
        total = zeros_like(c)
        for e in g:
            total = total + unbroadcast(e, c)
        return total
    return expand_vjp(g, c, None, False)


def unstack_vjp(g, c, axis):
    """Adjoint of ``c`` in ``unstack(c, axis)``: the list adjoint stacked back."""
    return np.reshape(np.stack([np.asarray(e) for e in g], axis=axis), np.shape(c))


def as_input_vjp(g, c, x):
    """Adjoint of ``c`` in ``as_input(c, x)``: stacked back if ``x`` was a list."""
    return unstack_vjp(g, c, 0) if isinstance(x, list) else np.copy(g)


def piece_vjp(g, i, axis, *xs):
    """Adjoint of ``c`` in ``piece(c, i, axis, *xs)``: ``g`` in piece ``i``, zeros around."""
    parts = [np.zeros(np.shape(x)) for x in xs]
    parts[i] = g
    return np.concatenate(parts, axis=axis)


def rot90_grad_vjp(g, k, axes):
    """Adjoint of ``c`` in ``rot90_grad(c, k, axes)``: the rotation itself."""
    return np.rot90(g, k, (0, 1) if axes is None else axes).copy()


def _index(index):
    return index[0] if len(index) == 1 else tuple(index)


def at_vjp(g, v, *index):
    """Adjoint of ``v`` in ``x[index] += v`` (``addat``, ``scatter``): ``g[index]``
    summed back to ``v``'s shape (repeated indices gather repeatedly)."""
    return unbroadcast(np.copy(g[_index(index)]), v)


def copyitem_vjp(g, x, *index):
    """Adjoint of ``x`` in ``x[index].copy()``: ``g`` added into zeros at ``index``."""
    out = np.zeros(np.shape(x), np.result_type(g, 1.0))
    np.add.at(out, _index(index), g)
    return out


def droplast_vjp(g, xs):
    """Adjoint of ``xs`` in ``xs.pop()`` (the list without its last entry): ``g`` and a
    zero adjoint for the entry dropped."""
    return [*(copy_adjoint(e) for e in g), zeros_like(xs[-1])]


def written(x, v, *index):
    """``x[index] = v`` out of place: a copy of ``x`` with ``v`` written (reverse mode over
    gradient code makes the adjoint sweep's in-place writes into such copies). For a list
    (the adjoint of a tuple-valued primitive) a new list, the entry replaced."""
    if isinstance(x, list):
        return _entry_replaced(x, index, v)
    out = np.array(x, dtype=np.result_type(x, v, 1.0))
    out[_index(index)] = v
    return out


def written_vjp(g, v, *index):
    """Adjoint of ``v`` in ``written(x, v, *index)``: ``g[index]`` where the write
    survived (a repeated index keeps the last value written), summed to ``v``'s shape."""
    index = _index(index)
    if isinstance(g, list):
        return unbroadcast(np.copy(g[index]), v)
    read = np.asarray(g[index])
    order = np.arange(read.size).reshape(read.shape)
    marks = np.full(np.shape(g), -1)
    marks[index] = order
    return unbroadcast(np.where(marks[index] == order, read, 0.0), v)


def added_at(x, v, *index):
    """``x[index] += v`` out of place, repeated indices adding up (``np.add.at``); for a
    list, a new list with ``v`` added to the entry."""
    if isinstance(x, list):
        return _entry_replaced(x, index, x[_index(index)] + v)
    out = np.array(x, dtype=np.result_type(x, v, 1.0))
    np.add.at(out, _index(index), v)
    return out


def _entry_replaced(xs, index, v):
    out = list(xs)
    out[_index(index)] = v
    return out


def stack_piece_vjp(stack, g, which, *xs):
    """Adjoint of ``c`` in ``hstack_grad(c, which, *xs)`` (and ``vstack``, ``column_stack``,
    ``dstack``, given as ``stack``): ``g`` stacked in place ``which``, zeros elsewhere."""
    parts = [np.zeros(np.shape(x)) for x in xs]
    parts[which] = g
    return stack(parts)


def hsplit_grad_vjp(g, c, ary):
    """Adjoint of the list ``c`` in ``hsplit_grad(c, ary)``: ``g`` cut like ``c``."""
    axis = 1 if np.ndim(ary) > 1 else 0
    sizes = np.cumsum([np.shape(e)[axis] for e in c])[:-1]
    return [np.copy(e) for e in np.split(g, sizes, axis=axis)]


def append_grad_vjp(g, arr, values, axis, part):
    """Adjoint of ``c`` in ``append_grad(c, arr, values, axis, part)``: ``g`` in its part
    of ``np.append(arr, values, axis)``, zeros in the other."""
    parts = [np.zeros(np.shape(arr)), np.zeros(np.shape(values))]
    parts[part] = g
    return np.append(*parts, axis=axis)


def linspace_grad_vjp(g, c, x, num, endpoint, axis, part):
    """Adjoint of ``c`` in ``linspace_grad(c, x, num, endpoint, axis, part)``."""
    t = np.linspace(0.0, 1.0, num, endpoint=endpoint)
    weights = t if part else 1.0 - t
    out = np.expand_dims(np.asarray(g), axis) * \
        np.moveaxis(np.reshape(weights, (-1,) + (1,) * np.ndim(g)), 0, axis)
    return np.broadcast_to(out, np.shape(c)).copy()


def meshgrid_grad_vjp(g, c, which, indexing, *xs):
    """Adjoint of the list ``c`` in ``meshgrid_grad(c, which, indexing, *xs)``: ``g``
    spread along output ``which``, zeros for the others."""
    out = [np.zeros(np.shape(e)) for e in c]
    own = 1 - which if indexing == "xy" and len(xs) > 1 and which < 2 else which
    shape = [1] * np.ndim(c[which])
    shape[own] = -1
    out[which] = np.broadcast_to(np.reshape(g, shape), np.shape(c[which])).copy()
    return out


def _t(a):
    return np.swapaxes(a, -1, -2)


def det_grad_vjp_c(g, a, d):
    """Adjoint of ``c`` in ``det_grad(c, a, d)`` = c d inv(a)^T."""
    return d * np.sum(g * _t(np.linalg.inv(a)), axis=(-2, -1))


def det_grad_vjp_d(g, c, a):
    """Adjoint of ``d`` in ``det_grad(c, a, d)``."""
    return c * np.sum(g * _t(np.linalg.inv(a)), axis=(-2, -1))


def det_grad_vjp_a(g, c, a, d):
    """Adjoint of ``a`` in ``det_grad(c, a, d)``: d inv^T = -(inv da inv)^T."""
    inv = np.linalg.inv(a)
    return -np.asarray(c * d)[..., None, None] * _t(np.matmul(np.matmul(inv, g), inv))


def solve_grad_a_vjp_c(g, c, a, x):
    """Adjoint of ``c`` in ``solve_grad_a(c, a, x)`` = -solve(a^T, c) x^T."""
    return -np.linalg.solve(a, np.matmul(g, x))


def solve_grad_a_vjp_x(g, c, a, x):
    """Adjoint of ``x`` in ``solve_grad_a(c, a, x)``."""
    gb = np.linalg.solve(_t(a), c)
    return -np.matmul(_t(g), gb)


def solve_grad_a_vjp_a(g, c, a, x):
    """Adjoint of ``a`` in ``solve_grad_a(c, a, x)``: solve(a^T, c) solve(a, g x)^T."""
    gb = np.linalg.solve(_t(a), c)
    right = np.linalg.solve(a, np.matmul(g, x))
    if np.ndim(x) == np.ndim(a) - 1:
        return np.outer(gb, right)
    return np.matmul(gb, _t(right))


def gradient_grad_vjp(g, f, axis, edge_order, *varargs):
    """Adjoint of ``c`` in ``gradient_grad(c, f, axis, edge_order, *varargs)``:
    ``np.gradient`` of ``g``, its outputs stacked when there are several."""
    out = np.gradient(g, *varargs, axis=axis, edge_order=edge_order)
    return np.stack(out) if isinstance(out, (tuple, list)) else out
