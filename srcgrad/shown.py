"""Which derivative ``derivative_source`` and ``srcgrad show`` print, and the module
they print it as.

Contract: ``display(f, wrt, mode, optimized)`` builds, through ``build``'s cache
(so from the same pipeline as calls), the derivative shown for ``f``:

- ``f`` a function: the derivative with respect to ``wrt`` (an index or name, or
  a tuple of them); parameters annotated ``float`` or ``int`` are scalars, the others
  arrays of any shape (calls also specialize on shapes, so the code a call runs
  may have fewer reductions than the code shown);
- ``f`` made by ``srcgrad.grad`` or ``value_and_grad`` (the dispatcher): the code
  that it runs, for its own ``wrt`` (``grad``'s returns the gradients alone);
  ``wrt`` must then be left at its default (0) or name the same parameters;
- a parameter that ``f`` only ever indexes with constant strings (``params["W"]``,
  nested too) is taken as a dict argument: the code shown is the one calls with
  such a dict run, which takes the dict's entries as parameters of their own
  (``params_W``) and returns their adjoints one by one; ``Shown.note`` says so
  and gives the call;
- with ``example`` (arguments as a call would pass them), the code a call with
  arguments of these structures and kinds runs: dataclasses, NamedTuples,
  registered classes and ``self`` included (their leaves parameters of their
  own, ``params_W1``); the note gives the call with the leaves spelled as the
  user reads them (``params.W1``).

``module_text(shown)`` is the printed text: a complete module that runs when
pasted into a file next to the user's module or exec'd in a fresh namespace
(``backend.header``: imports and constants), the note as comments, then
the code.
"""

from __future__ import annotations

import inspect
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field

from . import backend, frontend, ir, optimize, pytrees, transform
from .build import (
    Derivative,
    _annotated_kinds,
    _entry,
    _kind,
    _params,
    _wrt,
    array_key,
    complex_positions,
)
from .errors import UsageError

_WIDTH = 88  # note lines are wrapped to this


@dataclass
class Shown:
    derivative: Derivative
    assumed: list[frontend.Assumption]  # the names f's code read, to import them from
    note: list[str] = field(default_factory=list)  # comment lines above the def


def module_text(shown: Shown) -> str:
    d = shown.derivative
    head = backend.header(d.source, d.namespace, d.ir.name, shown.assumed)
    note = [f"# {line}".rstrip() for text in shown.note for line in (
        [text] if text.startswith(" ") else textwrap.wrap(text, _WIDTH - 2))]
    parts = [*head, *([""] * 2 if head else []), *note]
    return "\n".join(parts) + ("\n" if parts else "") + d.source


def made_with(f: Callable) -> tuple[str, object]:
    """(backend, checkpoint policy) of what ``srcgrad.grad`` / ``value_and_grad`` made
    (``grad(f, backend="numba", checkpoint=3)``): the code it runs is theirs; for a
    plain function, the defaults."""
    made = getattr(f, "__srcgrad_specializations__", None)
    return getattr(made, "backend", "python"), getattr(made, "checkpoint", None)


def resolve(f: Callable, wrt, mode: str, order: int) -> tuple[Callable, tuple, bool]:
    """(the function to differentiate, wrt indices, gradients only) for what was given:
    a function, or what ``srcgrad.grad`` / ``value_and_grad`` made of one."""
    made = getattr(f, "__srcgrad_derivative__", None)
    if made is not None and len(made) == 4:
        kind, inner, indices, single = made
        if mode != "reverse" or order != 1:
            raise UsageError(f"this is srcgrad.{kind} of {inner.__name__}: derivative_source "
                             "shows the gradient code it runs, with mode='reverse' and "
                             "order=1",
                             hint=f"For other code, pass the function itself: "
                             f"derivative_source({inner.__name__}, mode=..., order=...).")
        if wrt != 0 and _wrt(inner, wrt) != (indices, single):  # 0: the default
            raise UsageError(f"srcgrad.{kind} of {inner.__name__} differentiates with respect "
                             f"to {', '.join(_params(inner)[i] for i in indices)}, not "
                             f"wrt={wrt!r}",
                             hint="Leave wrt out to see the code it runs, or pass the function "
                             "itself with the wrt you want.")
        return inner, indices, kind == "grad"
    if made is not None:
        name = made[1].__name__
        raise UsageError(f"this is srcgrad.{made[0]} of {name}: derivative_source shows the "
                         "code of a function, or of srcgrad.grad or value_and_grad of one",
                         hint=f"Pass the function itself: derivative_source({name}) shows "
                         f"its gradient code, derivative_source({name}, order=2) its "
                         "Hessian-vector product code.")
    return f, _wrt(f, wrt)[0], False


def display(f: Callable, wrt, mode: str, optimized: bool = True,
            example: tuple | None = None, backend: str = "python") -> Shown:
    """The derivative ``derivative_source(f, wrt, mode, order=1, optimized, example,
    backend=backend)`` prints."""
    if mode not in ("reverse", "forward"):
        raise UsageError(f"mode must be 'reverse' or 'forward', not {mode!r}")
    checkpoint = made_with(f)[1] if mode == "reverse" else None
    f, indices, grads_only = resolve(f, wrt, mode, 1)
    entry = _entry(f)
    params = _params(f)
    disabled = None if optimized else frozenset(optimize.PASSES)
    if example is not None:
        flat = pytrees.Flat(params, _bound(f, params, example))
        chosen = tuple(j for i in indices for j in flat.indices(i))
        shapes, dtypes = array_key(flat.leaves) if mode == "reverse" else (None, None)
        d = entry.derivative(chosen, "one" if mode == "reverse" else "forward",
                             tuple(map(_kind, flat.leaves)), flat.structures, shapes,
                             disabled=disabled, grads_only=grads_only and not flat.structures,
                             complex_=complex_positions(flat.leaves), dtypes=dtypes,
                             backend=backend, checkpoint=checkpoint)
        return Shown(d, entry.assumed, _leaf_note(flat, d))
    structures = dict_structures(entry.lowered())
    kinds: list[str] = []
    starts: list[int] = []
    by_param = dict(structures)
    for p, kind in zip(params, _annotated_kinds(f, params)):
        starts.append(len(kinds))
        kinds += [kind if p not in by_param else transform.ANY] * _leaves(by_param.get(p))
    wrt_leaves = [starts[i] + k for i in indices  # in wrt's order
                  for k in range(_leaves(by_param.get(params[i])))]
    d = entry.derivative(tuple(wrt_leaves), "one" if mode == "reverse" else "forward",
                         tuple(kinds), structures, disabled=disabled,
                         grads_only=grads_only and not structures,  # as dispatch._structured
                         backend=backend, checkpoint=checkpoint)
    return Shown(d, entry.assumed, _note(params, by_param, d))


def _bound(f: Callable, params: list[str], example: tuple) -> tuple:
    """``example``'s arguments in ``f``'s parameter order, defaults filled in."""
    try:
        bound = inspect.signature(f).bind(*example)
    except TypeError as exc:
        raise UsageError(f"example does not fit {f.__name__}'s parameters: {exc}",
                         hint="Pass a tuple of the arguments, as you would call it.") from None
    bound.apply_defaults()
    return tuple(bound.arguments[p] for p in params)


def _leaf_note(flat: pytrees.Flat, d: Derivative) -> list[str]:
    """How to call code that takes structured arguments as their leaves."""
    if not flat.structures:
        return []
    args = [path for name, (s, leaves) in zip(flat.names, flat.parts)
            for path, _ in (pytrees.leaf_paths(s, leaves, name) if s is not None
                            else [(name, None)])]
    args += [p.name for p in d.ir.params[len(args):]]  # a forward derivative's tangents
    return ["this code takes the leaves of the structured arguments, one parameter each, "
            "as srcgrad.grad calls it:", f"    {d.ir.name}({', '.join(args)})",
            "and returns each leaf's adjoint on its own (srcgrad.grad puts them back into "
            "the argument's type)."]


def dict_structures(primal: ir.Function) -> tuple:
    """(parameter, structure) for each parameter that ``primal`` only ever indexes with
    constant strings, in ``build._flatten``'s form: ``("dict", ((key, child), ...))``,
    a child None (a leaf) or a dict again; keys in the order the code first reads them."""
    reads: dict[str, list[tuple[str, str]]] = {}
    other: set[str] = set()
    for n in ir.walk(primal.body):
        if isinstance(n, ir.Stmt) and n.op == "getitem" and len(n.args) == 2 and \
                isinstance(n.args[0], ir.Var) and isinstance(n.args[1], ir.Const) and \
                isinstance(n.args[1].value, str):
            reads.setdefault(n.args[0].name, []).append((n.args[1].value, n.target.name))
        else:
            other.update(v.name for v in ir.node_uses(n))
    other.update(r.name for r in primal.returns if isinstance(r, ir.Var))

    def structure(names: list[str]):
        entries = [e for name in names for e in reads.get(name, [])]
        if not entries or any(name in other for name in names):
            return None
        keys = list(dict.fromkeys(k for k, _ in entries))
        return "dict", tuple((k, structure([t for kk, t in entries if kk == k])) for k in keys)

    found = ((p.name, structure([p.name])) for p in primal.params)
    return tuple((p, s) for p, s in found if s is not None)


def _leaves(structure) -> int:
    return 1 if structure is None else sum(_leaves(c) for _, c in structure[1])


def _paths(name: str, structure) -> list[str]:
    if structure is None:
        return [name]
    return [path for key, child in structure[1] for path in _paths(f"{name}[{key!r}]", child)]


def _note(params: list[str], structures: dict, d: Derivative) -> list[str]:
    """How to call code that takes dict arguments as their entries."""
    if not structures:
        return []
    args = [path for p in params for path in _paths(p, structures.get(p))]
    args += [p.name for p in d.ir.params[len(args):]]  # a forward derivative's tangents
    names = [p for p in params if p in structures]
    which = f"{names[0]} is a dict" if len(names) == 1 else f"{', '.join(names)} are dicts"
    return [f"{which}: this code takes the entries, one parameter each, as srcgrad.grad "
            "calls it:",
            f"    {d.ir.name}({', '.join(args)})",
            "and returns each entry's adjoint on its own (srcgrad.grad puts them back into "
            "a dict)."]
