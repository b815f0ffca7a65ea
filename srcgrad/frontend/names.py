"""Names read from outside the function, resolved while lowering (frontend stage).

Contract: a name that is not a local is resolved now, in the function's closure,
globals and builtins (in that order), then attribute by attribute for a dotted
name (``np.linalg.norm``). Each resolution appends a ``parse.Assumption`` to the
state's ``assumed``, so that ``build`` rebuilds when the name changes. A called
name becomes an ``ir.Callee``; a number, array, string or None used as a value
becomes a named ``ir.Const``; any other object (a function, a dict, a class, a
user object) a ``state.Static``, resolved further while lowering (``step``:
attributes and constant subscripts, each one an assumption too) and turned into
a named ``ir.Const`` (``static_operand``: ``self_W``, ``HP_lr``) or an
``ir.Callee`` (``static_callee``) where it is used. Modules as values, and
builtins that run code given as data or reach variables by name (``eval``,
``getattr``...), are located errors.

These functions read ``state.src`` and ``state.env`` and append to
``state.assumed``; they change nothing else.
"""

from __future__ import annotations

import builtins
import math
import numbers
import sys
import types
from typing import Any

import gast
import numpy as np

from .. import ir
from ..errors import NameResolutionError
from . import parse
from .state import LoweringState, Rec, Static, Tup

# Builtins that run code given as data or read/write variables by name: the code
# they run is not the code srcgrad reads.
_DYNAMIC = (builtins.eval, builtins.exec, builtins.compile, builtins.globals,
            builtins.locals, builtins.vars, builtins.setattr, builtins.delattr,
            builtins.getattr, builtins.__import__, builtins.breakpoint)

# What a non-local name may resolve to and be used as a value.
CONST_TYPES = (numbers.Number, np.ndarray, np.generic, type(None), str)


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


def global_value(state: LoweringState, names: list[str], node: gast.AST
                 ) -> ir.Const | Static:
    """A name from outside used as a value: a named constant, or an object known now."""
    obj, root = resolve(state, names, node)
    if isinstance(obj, types.ModuleType):
        raise NameResolutionError(
            f"{'.'.join(names)} is a module, which cannot be used as a value here",
            state.src.loc(node))
    if not isinstance(obj, CONST_TYPES):
        return Static(obj, "_".join(names), state.src.fn, tuple(names), None, ".".join(names))
    return ir.Const(obj, ".".join(names), root)


def step(state: LoweringState, base: Static, key: object, node: gast.AST) -> ir.Const | Static:
    """``base.key`` (``key`` a name) or ``base[key.key]`` (a ``parse.Key``), found now and
    recorded as an assumption: a named constant or a further ``Static``."""
    found_in: Any = base.obj
    try:
        obj = found_in[key.key] if isinstance(key, parse.Key) else getattr(found_in, str(key))
    except Exception as exc:  # noqa: BLE001 - the user's object: any error is theirs
        what = f"[{key.key!r}]" if isinstance(key, parse.Key) else f".{key}"
        raise NameResolutionError(f"{base.text}{what} raised {type(exc).__name__}: {exc}",
                                  state.src.loc(node)) from None
    part = str(key.key) if isinstance(key, parse.Key) else str(key)
    name = f"{base.name}_{part}" if part.isidentifier() or part.isdigit() else base.name
    found = base.step(obj, key, name)
    state.assumed.append(found.assume())
    if isinstance(obj, CONST_TYPES):
        return ir.Const(obj, name, obj)
    return found


def static_operand(state: LoweringState, value: object, node: gast.AST) -> ir.Const:
    """An object known now, used as a value: a tuple of numbers is a constant; anything
    else (a ``LocalFunction`` too) is a located error saying what to write."""
    if not isinstance(value, Static):
        raise state.unsupported(node, "a function defined here can only be called or "
                                "passed to a helper, not used as a value",
                                "Call it, or pass it to the helper that calls it.")
    obj = value.obj
    if isinstance(obj, tuple) and all(isinstance(v, CONST_TYPES) for v in obj):
        return ir.Const(obj, value.name, obj)
    what = "function" if callable(obj) else type(obj).__name__
    raise NameResolutionError(
        f"{value.text} is a {what} ({type(obj).__name__}), which cannot be used as a value "
        "here", state.src.loc(node),
        "srcgrad computes with numbers and arrays: call a function, pass it to a helper, "
        "or keep functions in a module-level list or dict (ACTS[\"tanh\"](x)); read "
        "objects' numbers by attribute or constant key (self.W, HP[\"lr\"]).")


def static_compare(state: LoweringState, op: str, left: object, right: object,
                   node: gast.AST) -> ir.Const:
    """A comparison with an object known now, decided now (``self.config is None``,
    ``activation is np.tanh``, ``self.kind == "relu"``): identity for ``is``, equality
    between objects that are not arrays for ``==``; anything else is refused."""
    a, b = (v.obj if isinstance(v, Static) else v.value if isinstance(v, ir.Const) else v
            for v in (left, right))
    arrays = (np.ndarray, ir.Var, Static, Tup, Rec)
    if op in ("is", "isnot") and not isinstance(a, arrays[1:]) and \
            not isinstance(b, arrays[1:]):
        return ir.Const((a is b) == (op == "is"))
    if op in ("eq", "ne") and not isinstance(a, arrays) and not isinstance(b, arrays):
        try:
            return ir.Const(bool(a == b) == (op == "eq"))
        except Exception:  # noqa: BLE001, S110 - not a plain equality: refused below
            pass
    raise state.unsupported(node, "this comparison with an object known while lowering "
                            "cannot be decided while lowering",
                            "Compare with `is` or `is None`, or compare numbers.")


def static_callee(state: LoweringState, value: Static, node: gast.AST) -> ir.Callee:
    """The ``ir.Callee`` for calling an object known now (NumPy's, ``math``'s or a
    builtin under its own name, so that its rule applies and the code reads as usual)."""
    obj = value.obj
    if any(obj is f for f in _DYNAMIC):
        raise state.unsupported(node, f"{value.text}() runs code or reaches variables that "
                                "srcgrad cannot see, so it cannot differentiate them")
    name = getattr(obj, "__name__", None)
    homes = [(np, "np"), (np.linalg, "np.linalg"), (math, "math"), (builtins, ""),
             *((sys.modules[m], m.rpartition(".")[2]) for m in _SCIPY if m in sys.modules)]
    for module, spelled in homes:
        if isinstance(name, str) and getattr(module, name, None) is obj:
            if not spelled:  # a builtin
                return ir.Callee(name, obj, obj)
            return ir.Callee(f"{spelled}.{name}", obj,
                             np if spelled.startswith("np.") else module)
    return ir.Callee(value.name, obj, obj)


# Where a function passed as a value is looked for, to be called under its own name.
_SCIPY = ("scipy.special", "scipy.linalg", "scipy.stats")


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
