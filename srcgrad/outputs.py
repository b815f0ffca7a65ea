"""Structured outputs: vjp, jvp and jacobian of functions returning tuples, lists, dicts,
NamedTuples or dataclasses, and ``grad(f, has_aux=True)`` (for ``api``).

Contract. The output is taken apart as ``pytrees`` takes arguments apart (JAX's pytrees
are the reference); each output leaf that is a float or an array of floats is
differentiated by the function lowered once per leaf (the ``structures`` key
``frontend.OUTPUT`` selects the leaf: one generated derivative per leaf, per
argument structure). An output leaf that is not floats (an int, a bool, a str, None)
is a constant of the derivative.

- ``vjp``: ``vjp_fn(cotangent)`` takes a cotangent of the output's structure (each
  differentiated leaf an array of its shape; a constant leaf's entry is not read) and
  returns the sum over the leaves of their vector-Jacobian products, per argument in
  its structure: one reverse pass per leaf.
- ``jvp``: the value (``f``'s own, called once) and the tangent in the output's
  structure, a constant leaf's tangent None: one forward pass per leaf.
- ``jacobian``: the output's structure outside, the argument's structure inside (as
  ``jax.jacobian``): at each differentiated output leaf, the argument's structure
  holding arrays of shape ``out_leaf.shape + arg_leaf.shape``; None at a constant leaf.
- ``aux_gradient``: ``f`` returns ``(loss, aux)``; the gradient of the loss (output
  leaf 0), ``(grad, aux)`` or with the value ``((loss, aux), grad)``; aux is not
  differentiated (it is ``f``'s own, called once more).
"""

from __future__ import annotations

import contextlib
import functools
import weakref
from collections.abc import Callable

import numpy as np

from . import arrays, checks, lazy, pytrees, runtime
from .build import Derivative, _call, _caller_loc, _Entry, _entry, _guarded, _kind, _params
from .callpaths import run_foreign
from .errors import StructuredOutput, UsageError
from .frontend import OUTPUT

_RETURNS_STRUCTURE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def returns_structure(entry: _Entry, structures: tuple) -> bool:
    """Whether ``entry``'s function, for arguments of these structures, returns a
    structure (its lowering raises ``StructuredOutput``); remembered per generation."""
    generation, known = _RETURNS_STRUCTURE.get(entry, (None, set()))
    entry.stale()
    if generation != entry.generation:
        known = set()
        _RETURNS_STRUCTURE[entry] = (entry.generation, known)
    if structures in known:
        return True
    try:
        _guarded(entry.f, lambda: entry.lowered(structures))
    except StructuredOutput:
        known.add(structures)
        return True
    return False


def taken_apart(out: object) -> tuple[object, list, list[tuple | None], list[str]]:
    """(structure, leaves, selector paths, readable paths) of an output; the selector
    path of a constant leaf is None."""
    structure, leaves = pytrees.flatten(out)
    paths = [tuple(sel for sel, _ in steps) for steps in pytrees.leaf_steps(structure)]
    selected = [p if _differentiable(x) else None for p, x in zip(paths, leaves)]
    names = [p for p, _ in pytrees.leaf_paths(structure, leaves, "out")]
    return structure, leaves, selected, names


def _differentiable(leaf: object) -> bool:
    """An output leaf with a derivative: floats, or complex numbers (jacobian refuses
    those: its rows would be complex)."""
    return (checks._real(leaf, integers=False) or checks._complex(leaf)) and \
        not checks.integer_number(leaf)


def _same_structure(t: checks.Transform, what: str, value: object, out: object) -> list:
    """``value``'s leaves, refused unless it has the output's structure."""
    mine, leaves = pytrees.flatten(value)
    if pytrees.strip_static(mine) != pytrees.strip_static(pytrees.flatten(out)[0]):
        raise UsageError(f"{t.name}: {what} is {checks.describe(value)}, another structure "
                         f"than the output, {checks.describe(out)}", _caller_loc(),
                         "Give it the output's structure (np.zeros_like for each entry).")
    return leaves


def vjp(f: Callable, t: checks.Transform, entry: _Entry, flat: pytrees.Flat, out: object,
        args: tuple, backend: str = "python") -> Callable:
    """The ``vjp_fn`` of a function returning the structure ``out`` (module docstring)."""
    _, leaves, paths, names = taken_apart(out)
    kinds = tuple(map(_kind, flat.leaves))
    every = tuple(range(len(kinds)))
    cplx = checks.complex_positions(flat.leaves)
    made = [None if p is None else
            entry.derivative(every, "param", kinds, (*flat.structures, (OUTPUT, p)),
                             complex_=cplx, backend=backend)
            for p in paths]

    def vjp_fn(cotangent):
        cts = _same_structure(t, "the cotangent", cotangent, out)
        total: list | None = None
        for d, c, leaf, name in zip(made, cts, leaves, names):
            if d is None:
                continue
            checks.like(t, f"the cotangent of {name}", c, leaf, name)
            seeded = len(d.ir.params) > len(flat.leaves)
            with checks.blaming(f, t, args, d):
                part = list(_call(d, (*flat.leaves, c) if seeded else tuple(flat.leaves))[1:])
            total = part if total is None else [a + b for a, b in zip(total, part)]
        if total is None:  # no output leaf is differentiated
            total = [np.zeros(np.shape(x)) if isinstance(x, np.ndarray) else 0.0
                     for x in flat.leaves]
        it = iter(total)
        return tuple(flat.rebuild(i, [next(it) for _ in flat.indices(i)])
                     for i in range(len(args)))

    return vjp_fn


def jvp(f: Callable, t: checks.Transform, entry: _Entry, flat: pytrees.Flat, dots: list,
        args: tuple, wrt: tuple[int, ...], backend: str = "python") -> tuple[object, object]:
    """``(f(*args), tangent)`` of a function returning a structure (module docstring),
    along ``dots``, the tangents of the leaves ``wrt``."""
    with checks.blaming(f, t, args):
        out = f(*(np.copy(a) if isinstance(a, np.ndarray) else a for a in args))
    if not pytrees.is_structured(out):  # (its lowering said otherwise: a bug)
        raise UsageError(f"{f.__name__} returned {checks.describe(out)} where its code "
                         "returns a structure", _caller_loc())
    structure, _, paths, _ = taken_apart(out)
    kinds = tuple(map(_kind, flat.leaves))
    tangents: list[object] = []
    for p in paths:
        if p is None:
            tangents.append(None)
            continue
        d = entry.derivative(wrt, "forward", kinds, (*flat.structures, (OUTPUT, p)),
                             complex_=checks.complex_positions(flat.leaves), backend=backend)
        with checks.blaming(f, t, args, d):
            tangents.append(_call(d, (*flat.leaves, *dots))[1])
    return out, pytrees.unflatten(structure, tangents, out)


def jacobian(f: Callable, t: checks.Transform, i: int, args: tuple, out: object, mode: str,
             vjp_of: Callable, jvp_of: Callable) -> object:
    """The Jacobian with respect to argument ``i`` of a function returning the
    structure ``out``: the output's structure outside, the argument's inside."""
    flat = pytrees.Flat(_params(f), args)
    structure, leaves, paths, _ = taken_apart(out)
    outs = [k for k, p in enumerate(paths) if p is not None]
    mine = list(flat.indices(i))
    shapes = [np.shape(flat.leaves[k]) for k in mine]  # type: ignore[call-overload]
    n_in = sum(int(np.prod(s)) for s in shapes)
    n_out = sum(int(np.size(leaves[k])) for k in outs)
    blocks: dict[tuple[int, int], list] = {(k, b): [] for k in outs for b in range(len(mine))}
    if mode == "forward" or (mode == "auto" and n_in <= n_out):
        for b, (k_in, shape) in enumerate(zip(mine, shapes)):
            for e in range(int(np.prod(shape))):
                dots: list = [np.zeros(np.shape(x)) if isinstance(x, np.ndarray) else 0.0
                              for x in flat.leaves]
                one = np.zeros(shape)
                one.flat[e] = 1.0
                dots[k_in] = one if isinstance(flat.leaves[k_in], np.ndarray) else 1.0
                tangents = tuple(flat.rebuild(a, [dots[j] for j in flat.indices(a)])
                                 for a in range(len(args)))
                column = pytrees.flatten(jvp_of(f, args, tangents)[1])[1]
                for k in outs:
                    blocks[k, b].append(np.asarray(column[k], dtype=float))
        last = -1  # the input entries go last
    else:
        _, pullback = vjp_of(f, *args)
        for k in outs:
            for e in range(int(np.size(leaves[k]))):
                cts: list[object] = [np.zeros(np.shape(x)) if isinstance(x, np.ndarray) else 0.0
                       for x in leaves]
                one = np.zeros(np.size(leaves[k]))
                one[e] = 1.0
                cts[k] = one.reshape(np.shape(leaves[k])) if np.ndim(leaves[k]) else 1.0
                row = pullback(pytrees.unflatten(structure, cts, out))[i]
                for b, x in enumerate(pytrees.flatten(row, _params(f)[i] == "self")[1]):
                    blocks[k, b].append(np.asarray(x, dtype=float))
        last = 0
    per_out: list = []
    for k, leaf in enumerate(leaves):
        if k not in outs:
            per_out.append(None)
            continue
        arrays: list[object] = []
        for b, s in enumerate(shapes):
            got = blocks[k, b]
            whole = np.reshape(np.stack(got, axis=last), np.shape(leaf) + s)
            arrays.append(whole if whole.ndim else float(whole))
        per_out.append(flat.rebuild(i, arrays))
    return pytrees.unflatten(structure, per_out, out)


def _aux_value(f: Callable, t: checks.Transform, args: tuple) -> object:
    """``f(*args)`` for has_aux (on copies of NumPy, Dask and CuPy arrays, which f may
    write into: a Dask array's ``__setitem__`` changes the caller's object too); with
    Dask arrays, computing nothing (``lazy``), as the derivative does after it."""
    foreign = "dask" in arrays.foreign(pytrees.Flat(_params(f), args).leaves)
    try:
        with checks.blaming(f, t, args), \
                lazy.nothing_computed() if foreign else contextlib.nullcontext():
            return f(*(np.copy(a) if isinstance(a, np.ndarray) else
                       a.copy() if arrays.foreign((a,)) else a for a in args))
    except arrays.NotLazy as exc:
        raise UsageError(f"{f.__name__} needs the value of a Dask array now: {exc.message}",
                         checks._failed_at(f, exc, None), exc.hint) from None


def aux_gradient(f: Callable, wrt: object, with_value: bool) -> Callable:
    """``grad(f, wrt, has_aux=True)`` (or ``value_and_grad``): see the module docstring."""
    t = checks.VALUE_AND_GRAD if with_value else checks.GRAD
    indices, single = checks.wrt(f, wrt, t)
    entry = _entry(f)
    params = _params(f)

    @functools.wraps(f)
    def gradient(*args, **kwargs):
        args = checks.bind(f, args, kwargs)
        checks.arguments(f, t, args, indices)
        out = _aux_value(f, t, args)
        if not isinstance(out, (tuple, list)) or len(out) != 2:
            raise UsageError(f"{t.name}(has_aux=True) of {f.__name__}: it returns "
                             f"{checks.describe(out)}, not a pair (loss, aux)", _caller_loc(),
                             "Return (loss, aux): the scalar to differentiate, then "
                             "anything to carry out alongside it.")
        flat = pytrees.Flat(params, args)
        wrt_leaves = tuple(j for i in indices for j in flat.indices(i))
        d: Derivative = entry.derivative(wrt_leaves, "one", tuple(map(_kind, flat.leaves)),
                                         (*flat.structures, (OUTPUT, (0,))),
                                         complex_=checks.complex_positions(flat.leaves))
        try:
            with checks.blaming(f, t, args, d):
                value, *grads = (run_foreign(d, flat.leaves) if arrays.foreign(flat.leaves)
                                 else _call(d, tuple(flat.leaves)))
        except runtime.NotScalar as exc:
            raise checks.non_scalar(f, t, exc.shape, d.primal.loc, exc.complex) from None
        it = iter(grads)
        shaped = tuple(flat.rebuild(i, [next(it) for _ in flat.indices(i)]) for i in indices)
        result = shaped[0] if single else shaped
        return ((value, out[1]), result) if with_value else (result, out[1])

    gradient.__srcgrad_derivative__ = (t.name, f)  # type: ignore[attr-defined]
    return gradient  # (jvp, vjp and grad of it refuse it: build._check_callable)
