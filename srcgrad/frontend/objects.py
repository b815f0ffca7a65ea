"""Object arguments known while lowering (frontend stage): dataclasses, NamedTuples,
registered classes and ``self`` (``state.Obj``, ``state.NTup``).

Contract, on top of ``lower.py``'s:

- ``p.W`` on an object argument is its field's value, known now: a leaf
  parameter, a static field's constant (``self.n``, ``self.name``), or a
  structure (``self.layers``); a NamedTuple's field is its entry
  (``p.W`` is ``p[0]``). An attribute that is not a field is a located error
  saying how to make it one; a ``property`` of the class is inlined, with
  ``self`` bound to the object; a number, string or array set in the class body
  (``n_classes = 3``) is a constant, read through the class's global name (an
  ``Assumption``: changing it rebuilds).
- ``p.method(...)`` for a method defined by the object's class is inlined with
  ``self`` bound to the object; a static field holding a function
  (``self.activation(x)``) is called (inlined if it is the user's own).
- ``for layer in layers`` (and ``enumerate(layers)``) over a tuple or list
  argument whose entries hold objects or dicts, or ``for W, b in pairs`` over one
  whose entries are tuples, is unrolled while lowering, one copy of the body per
  entry (their fields are known now, so there is nothing to iterate at run time).

- ``Stats(a, b)`` for a NamedTuple class or a dataclass with its generated
  ``__init__`` (no ``__post_init__``, no ``default_factory``) makes the object
  while lowering (``construct``): its fields are the operands given (a
  function returning it has a structured output, ``outputs.py``).

``field``, ``method`` and ``unrolled`` are called by the core (``Lowerer.attribute``),
by ``calls.Calls.method`` and by ``flow.Flow.for_``; they read the state's ``env``
and lower through the core.
"""

from __future__ import annotations

import dataclasses
import inspect
import types
from typing import Any

import gast
import numpy as np

from .. import ir, pytrees
from ..errors import UnsupportedSyntax
from . import parse
from .jumps import iteration
from .state import Core, LoweringState, NTup, Obj, Rec, Static, Tup, named_tup


def field(core: Core, base: Obj | NTup, node: gast.Attribute, calls: Any) -> Any:
    """``base.attr`` (see the module docstring)."""
    state = core.state
    name = node.attr
    if isinstance(base, NTup):
        if name in base.fields:
            return base[base.fields.index(name)]
        raise state.unsupported(node, f"{base.cls.__name__} has no field .{name}; its "
                                f"fields are {', '.join(base.fields)}")
    if name in base.fields:
        value = base.fields[name]
        if isinstance(value, ir.Const) and not pytrees.by_value(value.value) and \
                not isinstance(value.value, np.ndarray):  # a function, a config object
            return static(state, value.value, name)
        return value
    found = inspect.getattr_static(base.cls, name, None)
    if isinstance(found, property) and isinstance(found.fget, types.FunctionType):
        return calls.inline(found.fget, gast.copy_location(gast.Call(node, [], []), node),
                            [base], {})
    constant = _class_constant(state, base.cls, name)
    if constant is not None:
        return constant
    raise state.unsupported(node, f"{_what(base)} has no field .{name} that srcgrad "
                            f"reads; its fields are {', '.join(base.fields) or 'none'}",
                            _hint(base, name))


def _class_constant(state: LoweringState, cls: type, name: str) -> ir.Const | None:
    """A number, string, None or array set in the class body (``n_classes = 3``), read
    through the class's global name, so that ``build`` rebuilds if it changes (None if
    it is not one, or the class is not a global of the function's module)."""
    if name.startswith("__") or not hasattr(cls, name):
        return None
    value = getattr(cls, name)
    fn = state.src.fn
    if not (pytrees.by_value(value) or isinstance(value, np.ndarray)) or \
            fn.__globals__.get(cls.__name__) is not cls:
        return None
    state.assumed.append(parse.Assumption(fn, (cls.__name__, name), value))
    return ir.Const(value)


def _what(base: Obj) -> str:
    return f"the {base.cls.__name__} argument"


def _hint(base: Obj, name: str) -> str:
    if pytrees.registered(base.cls):
        return f"Add {name!r} to the fields given to srcgrad.register_class."
    if dataclasses.is_dataclass(base.cls):
        return f"Declare {name} as a field of the dataclass {base.cls.__name__}."
    return f"Make {name} an attribute of the object (set in __init__)."


def method(core: Core, base: Obj, node: gast.Call, calls: Any) -> object:
    """``base.name(...)``: the class's method, or a static field's function, inlined or
    called (see the module docstring)."""
    state = core.state
    name = node.func.attr
    value = base.fields.get(name)
    args, kwargs = calls.arguments(node)
    if isinstance(value, ir.Const) and callable(value.value):  # a static field's function
        return calls.call_value(static(state, value.value, name), args, kwargs, node, None)
    found = inspect.getattr_static(base.cls, name, None)
    if isinstance(found, types.FunctionType):
        return calls.inline(found, node, [base, *args], kwargs)
    if isinstance(found, staticmethod) and isinstance(found.__func__, types.FunctionType):
        return calls.inline(found.__func__, node, args, kwargs)
    raise state.unsupported(node.func, f"{_what(base)} has no method .{name}() that "
                            "srcgrad can inline", "Call a method defined with def in the "
                            f"class {base.cls.__name__}, or a function of its fields.")


def static(state: LoweringState, obj: object, name: str) -> Static:
    """A static field holding a function or an object, as a value known now: called
    (``self.activation(x)``) or read further (``self.config.n``, read again on every
    call through the assumption its step records; the field itself is in the
    structure key)."""
    return Static(obj, name, state.src.fn, (name,), parse.holder(obj))


def refuse_merged(state: LoweringState, node: gast.AST, name: str | None
                  ) -> UnsupportedSyntax:
    """The error for an object chosen at run time (by an if or a conditional
    expression): its fields must be known while lowering."""
    what = f"{name!r} holds" if name else "this expression gives"
    return state.unsupported(node, f"{what} one object argument or another depending on a "
                             "condition or a loop iteration; srcgrad reads an object's "
                             "fields while compiling, so it must be the same object on "
                             "every path",
                             "Choose between the fields instead (W = a.W if c else b.W).")


def refuse_value(state: LoweringState, node: gast.AST, obj: Obj) -> UnsupportedSyntax:
    """The error for an object argument used as a value (passed to NumPy, returned...)."""
    return state.unsupported(node, f"a {obj.cls.__name__} argument is taken apart into its "
                             "fields; it cannot be used as one value here",
                             f"Read its fields (x.{next(iter(obj.fields), 'W')}), pass it to "
                             "your own functions (they are inlined), or loop over a list of "
                             "them with `for layer in layers:` or `enumerate(layers)`.")


def holds_structure(seq: object) -> bool:
    """A tuple or list argument some of whose entries hold objects or dicts (which
    cannot be packed into one run-time value; tuples of values can, and are iterated
    at run time as before)."""
    return isinstance(seq, Tup) and any(map(_unpackable, seq))


def _unpackable(x: object) -> bool:
    return isinstance(x, (Obj, Rec)) or (isinstance(x, Tup) and any(map(_unpackable, x)))


def unrolled(core: Core, node: gast.For) -> bool:
    """Lower ``for x in seq`` (or ``for i, x in enumerate(seq)``) by unrolling it if
    ``seq`` holds structures; whether it did."""
    state = core.state
    it, target, index = node.iter, node.target, None
    if isinstance(it, gast.Call) and isinstance(it.func, gast.Name) and \
            it.func.id == "enumerate" and len(it.args) == 1 and not it.keywords and \
            isinstance(target, gast.Tuple) and len(target.elts) == 2 and \
            state.lookup("enumerate") is None:
        it, index, target = it.args[0], target.elts[0], target.elts[1]
    if not isinstance(it, (gast.Name, gast.Attribute)) or not _rooted_in_env(core, it):
        return False
    seq = core.expr(it)
    unpacked = isinstance(target, gast.Tuple) and isinstance(seq, Tup) and \
        all(isinstance(x, Tup) for x in seq)  # for W, b in pairs: (else refused)
    if not (holds_structure(seq) or unpacked):
        return False
    if index is not None and not isinstance(index, gast.Name):
        raise state.unsupported(index, "enumerate's index is bound to one name here")
    for k, item in enumerate(seq):
        if state.terminated:
            raise state.unsupported(node, "code after return is not supported")
        if index is not None:
            _bind(core, index, ir.Const(k))
        _bind(core, target, item)
        for s in iteration(node):  # (a break ends it: jumps.iteration)
            core.stmt(s)
    return True


def _bind(core: Core, target: gast.expr, item: object) -> None:
    """Bind a loop target (a name, or a tuple of them for a tuple entry) to an entry."""
    state = core.state
    if isinstance(target, gast.Tuple) and isinstance(item, Tup) and \
            len(target.elts) == len(item):
        for t, x in zip(target.elts, item):
            _bind(core, t, x)
    elif not isinstance(target, gast.Name):
        raise state.unsupported(target, "this loop target is not supported over a list of "
                                "objects", "Write `for layer in layers:` (or `for W, b in "
                                "pairs:` over tuples) and read the fields inside.")
    elif isinstance(item, (Obj, Tup, Rec)):
        state.env[target.id] = item
    else:
        state.emit(state.new_version(target.id), "copy", (item,), target)


def _rooted_in_env(core: Core, node: gast.expr) -> bool:
    while isinstance(node, gast.Attribute):
        node = node.value
    return isinstance(node, gast.Name) and core.state.lookup(node.id) is not None


def construct(cls: type, args: list, kwargs: dict) -> Any:
    """The object ``cls(*args, **kwargs)`` known while lowering (see the module
    docstring), or None for a class this does not make; a call that does not fit
    the class raises the TypeError Python would."""
    if isinstance(cls, type) and issubclass(cls, tuple) and hasattr(cls, "_fields"):
        fields = _bound(cls, args, kwargs)
        return named_tup(list(fields.values()), cls, tuple(fields))
    if not dataclasses.is_dataclass(cls) or hasattr(cls, "__post_init__") or \
            pytrees.registered(cls) or any(not f.init or f.default_factory is not
                                           dataclasses.MISSING
                                           for f in dataclasses.fields(cls)):
        return None
    init = getattr(cls.__init__, "__code__", None)
    if init is None or init.co_filename != "<string>" or \
            tuple(inspect.signature(cls).parameters) != \
            tuple(f.name for f in dataclasses.fields(cls)):
        return None  # an __init__ of the class's own (the generated one is exec'd)
    return Obj(cls, _bound(cls, args, kwargs))


def _bound(cls: type, args: list, kwargs: dict) -> dict[str, Any]:
    """The constructor's parameters, given as operands or left to their defaults
    (constants)."""
    bound = inspect.signature(cls).bind(*args, **kwargs)
    given = set(bound.arguments)
    bound.apply_defaults()
    return {k: v if k in given else ir.Const(v) for k, v in bound.arguments.items()}
