"""Names read from outside the function, resolved while lowering (frontend stage).

Contract: a name that is not a local is resolved now, in the function's closure,
globals and builtins (in that order), then attribute by attribute for a dotted
name (``np.linalg.norm``). Each resolution appends a ``parse.Assumption`` to the
state's ``assumed``, so that ``build`` rebuilds when the name changes. A callable
becomes an ``ir.Callee``; a number, array, string or None becomes a named
``ir.Const``; anything else, and builtins that run code given as data or reach
variables by name (``eval``, ``getattr``...), are located errors.

These functions read ``state.src`` and ``state.env`` and append to
``state.assumed``; they change nothing else.
"""

from __future__ import annotations

import builtins
import numbers
import types

import gast
import numpy as np

from .. import ir
from ..errors import NameResolutionError
from . import parse
from .state import LoweringState

# Builtins that run code given as data or read/write variables by name: the code
# they run is not the code srcgrad reads.
_DYNAMIC = (builtins.eval, builtins.exec, builtins.compile, builtins.globals,
            builtins.locals, builtins.vars, builtins.setattr, builtins.delattr,
            builtins.getattr, builtins.__import__, builtins.breakpoint)

# What a non-local name may resolve to and be used as a value.
_CONST_TYPES = (numbers.Number, np.ndarray, np.generic, type(None), str)


def dotted(node: gast.expr) -> list[str] | None:
    """``["np", "linalg", "norm"]`` for ``np.linalg.norm``; None if not a dotted name."""
    parts = []
    while isinstance(node, gast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, gast.Name):
        return None
    parts.append(node.id)
    return parts[::-1]


def resolve(state: LoweringState, names: list[str], node: gast.AST) -> tuple[object, object]:
    """The object a dotted name denotes now, and what its first component is."""
    head = names[0]
    src = state.src
    for scope in (src.closure, src.globals, vars(builtins)):
        if head in scope:
            obj = root = scope[head]
            break
    else:
        raise NameResolutionError(f"name {head!r} is not defined", src.loc(node))
    found = [obj]
    for i, attr in enumerate(names[1:], 1):
        try:
            obj = getattr(obj, attr)
        except AttributeError:
            raise NameResolutionError(
                f"{'.'.join(names[:i])} has no attribute {attr!r}", src.loc(node)
            ) from None
        found.append(obj)
    state.assumed.append(parse.assumption(src.fn, names, found))
    return obj, root


def global_value(state: LoweringState, names: list[str], node: gast.AST) -> ir.Const:
    """A name from outside used as a value: a named constant."""
    obj, root = resolve(state, names, node)
    if isinstance(obj, types.ModuleType) or not isinstance(obj, _CONST_TYPES):
        raise NameResolutionError(
            f"{'.'.join(names)} is a {type(obj).__name__}, which cannot be used as a "
            "value here", state.src.loc(node))
    return ir.Const(obj, ".".join(names), root)


def callee(state: LoweringState, func: gast.expr) -> ir.Callee:
    """The function a call's ``func`` names (not a local value)."""
    names = dotted(func)
    if names is None:
        raise state.unsupported(func, "only calls of named functions (f(...), np.f(...)) "
                                "are supported yet")
    if names[0] in state.env:
        raise state.unsupported(func, f"calling the local value {names[0]!r} is not "
                                "supported yet")
    obj, root = resolve(state, names, func)
    if not callable(obj):
        raise NameResolutionError(f"{'.'.join(names)} is not callable", state.src.loc(func))
    found = ir.Callee(".".join(names), obj, root)
    if any(found.obj is f for f in _DYNAMIC):
        raise state.unsupported(func, f"{found.name}() runs code or reaches variables that "
                                "srcgrad cannot see, so it cannot differentiate them",
                                "Write the computation itself in the function "
                                "(and attributes as x.attr).")
    return found
