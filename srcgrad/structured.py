"""Jacobians and second derivatives of functions of structured arguments (tuples, lists, dicts,
NamedTuples, dataclasses, registered classes, ``self``: ``pytrees``), for ``api``.

Contract. The derivative is built over the leaves (the lowered function's parameters,
as for ``grad``) and the result is given back in the argument's structure:

- ``hvp(f)(*args, v)``: ``v`` has the structure of the differentiated argument (the
  same containers and classes, an array of each leaf's shape at each leaf; its static
  fields are not read); ``H v`` comes back in that structure too. One forward pass
  over the generated gradient per leaf of the argument (``build._forward_over_gradient``),
  each along all of ``v``.
- ``hessian(f)(*args)`` of a structured argument is the Hessian with respect to its
  leaves flattened: an array of shape ``(n, n)``, ``n`` the number of floats in the
  leaves, in ``pytrees`` order (depth-first through fields and entries, each leaf
  raveled in C order), one ``hvp`` per column.
- ``jacobian(f)(*args)`` of a structured argument: the argument's structure holding,
  for each leaf, the array of shape ``out.shape + leaf.shape``.
- ``jvp`` and ``vjp`` of ``grad(f)``: per leaf, in the arguments' structures.
- ``grad(grad(f, wrt=i), wrt=j)``: the inner derivative (argument ``i``) must be a
  scalar argument, not a structure; argument ``j`` may be structured, and the result
  has its structure (one forward pass per leaf of ``j``, per entry of that leaf).
"""

from __future__ import annotations

import numbers
from collections.abc import Callable

import numpy as np

from . import checks, pytrees, runtime
from .build import (
    Derivative,
    _call,
    _caller_loc,
    _Entry,
    _forward_over_gradient,
    _guarded,
    _higher_order,
    _kind,
    _params,
)
from .errors import NonScalarOutput, UsageError


def zeros_like_leaves(leaves: list[object]) -> list[object]:
    """A zero tangent per leaf (0.0 for a number or a constant leaf)."""
    return [np.zeros(np.shape(x)) if isinstance(x, np.ndarray) else 0.0 for x in leaves]


def vector_leaves(f: Callable, t: checks.Transform, name: str, v: object, primal: object
                  ) -> list[object]:
    """The leaves of ``v``, refused unless it has ``primal``'s structure and shapes."""
    checks.tangents(f, t, (primal,), (v,), names=(name,))
    return pytrees.flatten(v, name == "self")[1]


def hvp(f: Callable, entry: _Entry, t: checks.Transform, i: int, args: tuple, v: object
        ) -> object:
    """``H v`` for structured arguments (see the module docstring)."""
    name = _params(f)[i]
    flat = pytrees.Flat(_params(f), args)
    v_leaves = vector_leaves(f, t, name, v, args[i])
    wrt = tuple(flat.indices(i))
    kinds = tuple(map(_kind, flat.leaves))
    tangents = zeros_like_leaves(flat.leaves)
    for k, dot in zip(wrt, v_leaves):
        tangents[k] = dot
    out = []
    for k in range(len(wrt)):
        d = _guarded(f, lambda k=k: _forward_over_gradient(entry, wrt, kinds, k,
                                                           flat.structures))
        try:
            with checks.blaming(f, t, args, d):
                out.append(_call(d, (*flat.leaves, *tangents))[1])
        except runtime.NotScalar as exc:
            raise checks.non_scalar(f, t, exc.shape, d.primal.loc, exc.complex) from None
    return flat.rebuild(i, out)


def hessian(product: Callable, f: Callable, i: int, args: tuple) -> np.ndarray:
    """The Hessian of ``f`` with respect to the leaves of argument ``i`` flattened
    (see the module docstring); ``product`` is ``hvp(f)``."""
    name = _params(f)[i]
    structure, leaves = pytrees.flatten(args[i], name == "self")
    shapes = [np.shape(x) for x in leaves]  # type: ignore[call-overload]
    sizes = [int(np.prod(s)) for s in shapes]
    n = sum(sizes)
    columns = []
    for k in range(n):
        e = np.zeros(n)
        e[k] = 1.0
        parts: list[object] = []
        start = 0
        for shape, size, leaf in zip(shapes, sizes, leaves):
            part = e[start:start + size].reshape(shape)
            parts.append(part if isinstance(leaf, np.ndarray) else float(part))
            start += size
        hv = product(*args, pytrees.unflatten(structure, parts, args[i]))
        columns.append(np.concatenate([np.ravel(x) for x in pytrees.flatten(  # type: ignore
            hv, name == "self")[1]]) if n else np.zeros(0))
    return np.stack(columns, axis=1) if columns else np.zeros((0, 0))


def grad_of_grad(f: Callable, entry: _Entry, i: int, js: tuple, args: tuple,
                 made: dict[tuple, Derivative]) -> object:
    """``grad`` along ``js`` of ``grad(f, wrt=i)`` with structured arguments (see the
    module docstring)."""
    params = _params(f)
    flat = pytrees.Flat(params, args)
    for k in (i, *js[:-1]):
        if flat.parts[k][0] is not None:
            raise UsageError(f"grad of a gradient of {f.__name__}: argument {params[k]!r} "
                             "is structured; the inner derivatives must be with respect to "
                             "a scalar argument", _caller_loc(),
                             "Differentiate the structured argument last: grad(grad(f, "
                             "wrt='x'), wrt='params'), or use srcgrad.hvp or hessian.")
        if np.ndim(args[k]) != 0:
            raise NonScalarOutput(f"grad of a gradient of {f.__name__}: an inner derivative "
                                  "is an array here; use srcgrad.hessian")
    j = js[-1]
    kinds = tuple(map(_kind, flat.leaves))
    inner = (flat.starts[i], *(flat.starts[k] for k in js[:-1]))
    out = []
    for leaf_index in flat.indices(j):
        key = (kinds, flat.structures, leaf_index)
        if key not in made:
            made[key] = _guarded(f, lambda li=leaf_index: _higher_order(
                entry, inner[0], kinds, (*inner[1:], li), flat.structures))
        x = np.asarray(flat.leaves[leaf_index], dtype=float)
        entries = []
        for k in range(max(x.size, 1)):
            e = np.zeros(x.shape)
            e.flat[k] = 1.0
            ones = (1.0,) * (len(js) - 1)
            entries.append(_call(made[key], (*flat.leaves, *ones, e if x.ndim else 1.0))[1])
        out.append(entries[0] if x.ndim == 0 else np.reshape(entries, x.shape))
    return flat.rebuild(j, out)


def jacobian(f: Callable, t: checks.Transform, i: int, args: tuple, mode: str,
             jvp: Callable, vjp: Callable) -> object:
    """The Jacobian with structured arguments: for each leaf of argument ``i``, the
    array of shape ``out.shape + leaf.shape``, in the argument's structure. By ``jvp``
    (one per entry of the leaves) or ``vjp`` (one per entry of the output), as
    ``api.jacobian``'s ``mode`` says."""
    flat = pytrees.Flat(_params(f), args)
    with checks.blaming(f, t, args):
        value = f(*args)
    if pytrees.is_structured(value) or not isinstance(value, (numbers.Number, np.ndarray,
                                                              np.generic)):
        raise UsageError(f"jacobian of {f.__name__}: it returns {checks.describe(value)}, "
                         "not a number or an array", _caller_loc(),
                         "For the derivative of a structured argument's gradient use "
                         "srcgrad.hvp or srcgrad.hessian.")
    out = np.asarray(value)
    mine = list(flat.indices(i))
    shapes = [np.shape(flat.leaves[k]) for k in mine]  # type: ignore[call-overload]
    n = sum(int(np.prod(s)) for s in shapes)
    blocks: list[list[np.ndarray]] = [[] for _ in mine]
    if mode == "forward" or (mode == "auto" and n <= out.size):
        for b, (k, shape) in enumerate(zip(mine, shapes)):
            for e in range(int(np.prod(shape))):
                dots = zeros_like_leaves(flat.leaves)
                d = np.zeros(shape)
                d.flat[e] = 1.0
                dots[k] = d if isinstance(flat.leaves[k], np.ndarray) else 1.0
                tangents = tuple(flat.rebuild(a, [dots[j] for j in flat.indices(a)])
                                 for a in range(len(args)))
                blocks[b].append(np.asarray(jvp(f, args, tangents)[1], dtype=float))
        leaves = [np.reshape(np.stack(c, axis=-1) if c else np.zeros(out.shape + (0,)),
                             out.shape + s) for c, s in zip(blocks, shapes)]
    else:
        _, pullback = vjp(f, *args)
        for j in range(out.size):
            e_j = np.zeros(out.size)
            e_j[j] = 1.0
            ct = pullback(e_j.reshape(out.shape) if out.ndim else 1.0)[i]
            for b, leaf in enumerate(pytrees.flatten(ct, _params(f)[i] == "self")[1]):
                blocks[b].append(np.asarray(leaf, dtype=float))
        leaves = [np.reshape(np.stack(r) if r else np.zeros((0,) + s), out.shape + s)
                  for r, s in zip(blocks, shapes)]
    return flat.rebuild(i, [x if x.ndim else float(x) for x in leaves])


def vjp_of_gradient(g: Callable, entry: _Entry, i: int, args: tuple
                    ) -> tuple[object, Callable]:
    """vjp of ``grad(g, wrt=i)`` with structured arguments: (the gradient, in argument
    ``i``'s structure; a pullback taking a cotangent of that structure and giving each
    argument's cotangent in its structure: H_ji ct, by forward mode over the gradient
    with respect to argument j's leaves along ``ct``)."""
    t = checks.VJP_OF_GRAD
    params = _params(g)
    flat = pytrees.Flat(params, args)
    kinds = tuple(map(_kind, flat.leaves))
    d = _guarded(g, lambda: entry.derivative(tuple(flat.indices(i)), "one", kinds,
                                             flat.structures))
    gradient = flat.rebuild(i, list(_call(d, tuple(flat.leaves))[1:]))

    def vjp_fn(cotangent: object) -> tuple:
        dots = zeros_like_leaves(flat.leaves)
        for k, c in zip(flat.indices(i), vector_leaves(g, t, params[i], cotangent, args[i])):
            dots[k] = c
        out = []
        for j in range(len(args)):
            # a None or str leaf is a constant: its cotangent is 0
            wrt = tuple(k for k in flat.indices(j) if not _constant(flat.leaves[k]))
            found = {}
            for n, k in enumerate(wrt):
                dd = _guarded(g, lambda n=n, wrt=wrt: _forward_over_gradient(
                    entry, wrt, kinds, n, flat.structures))
                found[k] = _call(dd, (*flat.leaves, *dots))[1]
            out.append(flat.rebuild(j, [found.get(k, 0.0) for k in flat.indices(j)]))
        return tuple(out)

    return gradient, vjp_fn


def _constant(value: object) -> bool:
    return value is None or isinstance(value, str)
