"""Function values and sequences known while lowering, for ``calls`` (frontend stage).

Contract:

- ``inlinable``: the user's own Python function (inlined where called);
  ``primitive``: an object that is called as it is (NumPy, ``math``, a builtin, a
  function with a rule), so that its derivative rule applies.
- ``items``: the entries of a sequence whose length is known now (a ``Tup``, a
  constant tuple, a module-level tuple or list: a ``Static``), else None;
  ``unpacked``: what ``*xs`` or ``**opts`` in a call stands for (a located error
  when it is not known now).
- a function value stays one function on every path: ``same_function`` (an if's
  branches) and ``not_reassigned_in_loop`` refuse, located, a name bound to
  different functions or objects known while lowering; a ``for`` loop over a
  tuple or list of them (``for fn in (np.sin, relu)``), or over ``.items()``,
  ``.keys()`` or ``.values()`` of a module-level dict, is ``unrolled`` (one copy
  of the body per entry, ended by a ``break``: ``jumps.iteration``).
- ``SPECIAL``: builtins that take function values or sequences, lowered here when
  their arguments are known now: ``map(fn, xs)`` (a ``Tup`` of the calls),
  ``functools.reduce(fn, xs[, init])`` (unrolled; over a list made at run time,
  the loop), ``sum``, ``len`` of such a sequence, ``list(map(...))``, and
  ``type(obj)`` and ``super()`` of objects known now. A handler returns
  ``NotImplemented`` to leave a call to the usual lowering (``sum(xs)`` of an
  array).
- ``every``: a sequence or dict known now whose entries were all read is assumed
  by its length or keys (``parse.Size``), so that appending to it rebuilds.

These functions read and emit through a ``calls.Calls`` (its ``state`` and ``core``);
they keep nothing.
"""

from __future__ import annotations

import builtins
import functools
import inspect
import types
from collections.abc import Callable
from typing import Any

import gast

from .. import ir
from . import names, parse
from .jumps import iteration
from .state import LocalFunction, LoweringState, Rec, Static, Tup
from .syntax import assign_to, load_name

_NOT_INLINED = ("numpy", "scipy", "math", "srcgrad", "builtins")


def inlinable(obj: object) -> bool:
    """The user's own Python function, without a rule of its own."""
    if not isinstance(obj, types.FunctionType) or getattr(obj, "__srcgrad_rule__", False):
        return False
    module = (getattr(obj, "__module__", None) or "").split(".")[0]
    return module not in _NOT_INLINED


def primitive(obj: object) -> bool:
    """Called as it is (a rule applies), not inlined nor lowered here."""
    special = SPECIAL.get(id(obj))
    if special is not None and special[0] is obj:
        return False
    if isinstance(obj, types.MethodType):
        return not inlinable(obj.__func__)
    if isinstance(obj, functools.partial):
        return not inlinable(obj.func)
    if isinstance(obj, type):
        return (getattr(obj, "__module__", None) or "").split(".")[0] in _NOT_INLINED
    return not inlinable(obj) and call_method(obj) is None


def call_method(obj: object) -> types.FunctionType | None:
    """The ``__call__`` of a callable object of the user's class (inlined), or None."""
    call = inspect.getattr_static(type(obj), "__call__", None)
    return call if not isinstance(obj, type) and inlinable(call) else None


def items(state: LoweringState, value: object, node: gast.AST) -> list | None:
    """The entries of a sequence of known length, or None."""
    if isinstance(value, Tup):
        return list(value)
    if isinstance(value, ir.Const) and isinstance(value.value, tuple):
        return [ir.Const(v) for v in value.value]
    if isinstance(value, Static) and isinstance(value.obj, (tuple, list)):
        every(state, value)
        return [names.step(state, value, parse.Key(i), node) for i in range(len(value.obj))]
    return None


def every(state: LoweringState, value: Static) -> None:
    """Record that every entry of a sequence or dict known now was read: a change of
    its length or keys (``self.layers.append(layer)``) rebuilds."""
    obj: Any = value.obj
    size = parse.Size(tuple(obj) if isinstance(obj, dict) else len(obj))
    state.assumed.append(value.step(size, parse.EACH, value.name).assume())


def unpacked(state: LoweringState, value: object, node: gast.AST, kind: type) -> Any:
    """The positional values (``kind`` tuple) or keywords (dict) ``*value`` or
    ``**value`` passes."""
    if kind is dict:
        if isinstance(value, Rec):
            return dict(value)
        if isinstance(value, Static) and isinstance(value.obj, dict) and \
                all(isinstance(k, str) for k in value.obj):
            every(state, value)
            return {k: names.step(state, value, parse.Key(k), node) for k in value.obj}
        raise state.unsupported(node, "**opts in a call needs a dict known while lowering "
                                "(a dict display or a module-level dict)",
                                "Pass the keywords one by one (f(x, k=v)).")
    found = items(state, value, node)
    if found is None:
        raise state.unsupported(node, "*xs in a call needs a tuple known while lowering "
                                "(a tuple display, a tuple argument, a module-level tuple)",
                                "Pass the values one by one (f(a, b)), or pass the array "
                                "itself.")
    return found


def _map(calls: Any, args: list, kwargs: dict, node: gast.AST) -> object:
    state = calls.state
    if len(args) < 2 or kwargs:
        raise state.unsupported(node, "map takes a function and sequences")
    seqs = [items(state, a, node) for a in args[1:]]
    if any(s is None for s in seqs):
        raise state.unsupported(node, "map over a list made at run time is not supported",
                                "Write a comprehension: [fn(x) for x in xs], or "
                                "sum(fn(x) for x in xs).")
    return Tup(calls.call_value(args[0], list(group), {}, node, None)
               for group in zip(*seqs))


def _reduce(calls: Any, args: list, kwargs: dict, node: gast.AST) -> object:
    state = calls.state
    seq = items(state, args[1], node) if len(args) in (2, 3) and not kwargs else None
    if seq is None and len(args) in (2, 3) and not kwargs and isinstance(args[1], ir.Var):
        return _reduce_loop(calls, args, node)
    if seq is None:
        raise state.unsupported(node, "functools.reduce is supported over a tuple or list "
                                "of known length (a tuple display, a tuple or list "
                                "argument)",
                                "Write the loop: acc = init, then for x in xs: "
                                "acc = fn(acc, x).")
    if len(args) == 3:
        seq = [args[2], *seq]
    if not seq:
        raise state.unsupported(node, "reduce() of an empty sequence with no initial value")
    acc = seq[0]
    for item in seq[1:]:
        acc = calls.call_value(args[0], [acc, item], {}, node, None)
    return acc


def _reduce_loop(calls: Any, args: list, node: gast.AST) -> object:
    """``reduce(fn, xs[, init])`` over a list made at run time: the loop it is,
    ``acc = init`` (or ``xs[0]``), then ``acc = fn(acc, xs[i])`` for the others."""
    state = calls.state
    fn, xs, acc, i, init = (state.namer.fresh(n) for n in ("fn", "xs", "acc", "i", "init"))
    state.env.update({fn: args[0], xs: args[1]})
    if len(args) == 3:
        state.env[init] = calls.core.pack(args[2], node)
        start, first = load_name(init), 0
    else:
        start, first = gast.Subscript(load_name(xs), gast.Constant(0, None), gast.Load()), 1
    step = assign_to(acc, gast.Call(load_name(fn), [load_name(acc), gast.Subscript(
        load_name(xs), load_name(i), gast.Load())], []), node)
    bounds = gast.Call(load_name("range"), [gast.Constant(first, None), gast.Call(
        load_name("len"), [load_name(xs)], [])], [])
    loop = gast.For(gast.Name(i, gast.Store(), None, None), bounds, [step], [], None)
    for stmt in (assign_to(acc, start, node), loop):
        for n in gast.walk(stmt):
            gast.copy_location(n, node)
        calls.core.stmt(stmt)
    return state.env[acc]


def _sum(calls: Any, args: list, kwargs: dict, node: gast.AST) -> object:
    seq = items(calls.state, args[0], node) if len(args) in (1, 2) and not kwargs else None
    if seq is None:
        return NotImplemented
    acc: object = args[1] if len(args) == 2 else ir.Const(0)
    for i, item in enumerate(seq):  # sum((a, b)) is a + b: no `0 + a` in the code
        if i == 0 and len(args) == 1:
            acc = calls.core.pack(item, node)
            continue
        acc = calls.state.emit(calls.state.temp(), "add", (
            calls.core.pack(acc, node), calls.core.pack(item, node)), node)
    return acc


def _sequence(calls: Any, args: list, kwargs: dict, node: gast.AST) -> object:
    """``list(map(fn, xs))``: the tuple of the calls (any other list(...) is made at run
    time, so that it can be appended to)."""
    arg = node.args[0] if isinstance(node, gast.Call) and len(node.args) == 1 else None
    if not (isinstance(arg, gast.Call) and isinstance(arg.func, gast.Name) and
            arg.func.id == "map") or kwargs:
        return NotImplemented
    seq = items(calls.state, args[0], node)
    return NotImplemented if seq is None else Tup(seq)


def _len(calls: Any, args: list, kwargs: dict, node: gast.AST) -> object:
    seq = items(calls.state, args[0], node) if len(args) == 1 and not kwargs else None
    return NotImplemented if seq is None else ir.Const(len(seq))


def _type(calls: Any, args: list, kwargs: dict, node: gast.AST) -> object:
    """``type(self)``: the class of an object known now (``type(self).helper(x)``)."""
    if len(args) != 1 or kwargs or not isinstance(args[0], Static):
        return NotImplemented
    cls = type(args[0].obj)
    return Static(cls, cls.__name__, args[0].fn, (cls.__name__,), parse.holder(cls))


def _super(calls: Any, args: list, kwargs: dict, node: gast.AST) -> object:
    """``super()`` in a method whose object is known now: resolved now, as Python does
    (the ``__class__`` cell and the first parameter); re-resolved by its assumptions."""
    state = calls.state
    cls = state.src.closure.get("__class__")
    first = state.src.tree.args.args[:1]
    me = state.lookup(first[0].id) if first else None
    if args or kwargs or cls is None or not isinstance(me, Static):
        raise state.unsupported(node, "super() is supported with no arguments, in a method "
                                "whose object is known while lowering",
                                "Call the base class's method by name: Base.method(self, x).")
    ref = parse.holder(me.obj)

    def root() -> object:
        obj = ref()
        return None if obj is None else super(cls, obj)

    return Static(root(), "super", state.src.fn, ("super",), root, "super()")


Handler = Callable[[Any, list, dict, gast.AST], object]
SPECIAL: dict[int, tuple[object, Handler]] = {
    id(f): (f, h) for f, h in ((builtins.map, _map), (functools.reduce, _reduce),
                               (builtins.sum, _sum), (builtins.list, _sequence),
                               (builtins.tuple, _sequence), (builtins.len, _len),
                               (builtins.type, _type), (builtins.super, _super))}


def same_function(state: LoweringState, node: gast.AST, name: str | None, a: object,
                  b: object) -> bool:
    """Whether the values an if's two paths give are the same function or object known
    while lowering (False if neither is one; a located error if they differ)."""
    known = (Static, LocalFunction)
    if not isinstance(a, known) and not isinstance(b, known):
        return False
    if (isinstance(a, Static) and isinstance(b, Static) and a.obj is b.obj) or a is b:
        return True
    what = "the value" if name is None else repr(name)
    raise state.unsupported(node, f"{what} is a different function or object on each path "
                            "of this if; srcgrad needs to know which one is called",
                            "Call the function in each branch (y = np.sin(x) if c else "
                            "np.cos(x)).")


def not_reassigned_in_loop(state: LoweringState, node: gast.AST, name: str) -> None:
    """A name bound to a function or object known now is not reassigned in a loop."""
    if isinstance(state.env.get(name), (Static, LocalFunction)):
        raise state.unsupported(node, f"{name!r} holds a function or object known while "
                                "lowering and is reassigned in this loop",
                                "Keep one function per name, and choose by an if which one "
                                "to call; or loop over a tuple of functions "
                                "(for fn in (np.sin, np.cos): ...).")


def unrolled(state: LoweringState, core: Any, node: gast.For) -> bool:
    """Lower ``for fn in FUNCTIONS: body`` as one copy of the body per entry, when the
    entries are functions or objects known now (a module-level list, a tuple of
    them); False (nothing lowered) for any other loop."""
    target = node.target
    if not (isinstance(target, gast.Name) or (isinstance(target, gast.Tuple) and
                                              all(isinstance(e, gast.Name) for e in target.elts))):
        return False
    seq = _dict_view(state, core, node.iter)  # for name, w in WEIGHTS.items()
    if seq is None:
        seq = _known_sequence(state, core, node.iter)
        if seq is None:
            return False
    for item in seq or ():
        if isinstance(target, gast.Name):
            _bind(state, target.id, item, target)
        else:  # for W, b in LAYERS: each entry a tuple of known length
            parts = items(state, item, node.iter)
            if parts is None or len(parts) != len(target.elts):
                raise state.unsupported(target, "an entry of this loop's sequence does not "
                                        f"unpack into {len(target.elts)} names")
            for e, part in zip(target.elts, parts):
                _bind(state, e.id, part, e)
        for stmt in iteration(node):  # (a break ends it: jumps.iteration)
            core.stmt(stmt)
    return True


def truth(value: object) -> bool | None:
    """The truth of a value known now, if it is one (``activation or np.tanh`` with
    ``activation`` None or a function); None for values known at run time only."""
    if isinstance(value, ir.Const) and value.name is None and \
            isinstance(value.value, (type(None), bool, int, float, str)):
        return bool(value.value)
    if isinstance(value, LocalFunction) or (isinstance(value, Static) and (
            callable(value.obj) and not hasattr(value.obj, "__len__"))):
        return True  # (a function or class: always true)
    return None


def _known_sequence(state: LoweringState, core: Any, it: gast.expr) -> list | None:
    """The entries of a sequence of functions or objects known now, or None."""
    if isinstance(it, gast.Tuple):  # for fn in (np.sin, relu, lambda t: t * t)
        if not all(isinstance(e, gast.Lambda) or _known_name(state, e) for e in it.elts):
            return None
    elif not _known_name(state, it):
        return None
    value = core.expr(it)
    if isinstance(value, Static) and isinstance(value.obj, (tuple, list)) and not all(
            isinstance(v, names.CONST_TYPES) for v in value.obj):
        return items(state, value, it)
    if isinstance(value, Tup) and any(isinstance(v, (Static, LocalFunction)) for v in value):
        return list(value)
    return None


def _dict_view(state: LoweringState, core: Any, it: gast.expr) -> list | None:
    """The entries of ``D.items()``, ``D.keys()`` or ``D.values()`` of a dict known now
    (a module-level dict of weights or functions), each read now; None otherwise."""
    func = it.func if isinstance(it, gast.Call) else None
    if not (isinstance(func, gast.Attribute) and func.attr in ("items", "keys", "values")
            and not it.args and not it.keywords and _known_name(state, func.value)):
        return None
    value = core.expr(func.value)
    if not (isinstance(value, Static) and isinstance(value.obj, dict)):
        return None
    every(state, value)
    keys = list(value.obj)
    entries = [names.step(state, value, parse.Key(k), it) for k in keys]
    if func.attr == "keys":
        return [ir.Const(k) for k in keys]
    if func.attr == "values":
        return entries
    return [Tup((ir.Const(k), v)) for k, v in zip(keys, entries)]


def _known_name(state: LoweringState, node: gast.expr) -> bool:
    """A dotted name whose value costs nothing to look up: a global, or through a value
    known now (``self.layers``); not an attribute of a run-time value (``x.T``)."""
    dotted = names.dotted(node)
    if dotted is None:
        return False
    root = state.lookup(dotted[0])
    return root is None or isinstance(root, (Static, Tup, LocalFunction)) or len(dotted) == 1


def _bind(state: LoweringState, name: str, value: object, node: gast.AST) -> None:
    if isinstance(value, (ir.Var, ir.Const)):
        state.emit(state.new_version(name), "copy", (value,), node)
    else:
        state.env[name] = value


def direct(obj: object, node: gast.Call) -> bool:
    """Whether the call of global ``obj`` is lowered as it always was (a primitive called
    on its arguments; ``sum([a, b])`` of a display too)."""
    if any(isinstance(a, gast.Starred) for a in node.args) or \
            any(k.arg is None for k in node.keywords):
        return False
    if SPECIAL.get(id(obj), (None,))[0] is obj and obj is not builtins.map and \
            obj is not functools.reduce:
        return bool(node.args) and isinstance(node.args[0], (gast.List, gast.Tuple))
    return primitive(obj)
