"""Iteration over structure known while lowering, unrolled (frontend stage).

Contract, on top of ``lower.py``'s:

- a dict of known keys (``Rec``) is iterated while lowering: ``for k, v in
  d.items()``, ``for k in d`` (or ``d.keys()``), ``for v in d.values()`` lower
  the body once per entry, in the dict's order, with the key a constant in each
  copy (so ``d[k]`` and ``out[k] = ...`` pick entries now), then bind the loop
  names to the last entry, as Python leaves them;
- ``d.items()``, ``d.keys()``, ``d.values()`` are tuples known now (of
  ``(key, value)`` pairs, constant keys, values); ``d.get("k", default)`` is the
  entry or the default, ``len(d)`` and ``"k" in d`` are constants; likewise
  ``len`` of a tuple known now; ``list(d)``, ``sorted(d)``, ``sorted(d.items())``
  and ``reversed`` of those are known now too;
- ``xs[1:]`` of a tuple known now is known now; with bounds known at run time
  only (``xs[a:b]``), it is the run-time slice of a list of its entries;
- the items of an iteration known now (``static_items``): a dict or one of its
  views, a tuple known now (a tuple or list argument, a constant tuple), and
  ``zip``, ``enumerate``, ``reversed`` and ``range`` (of constants) of those;
- a dict comprehension iterates such items only (its keys must be constants
  now) and makes a ``Rec``; its conditions must be known now too.

Anything else that would need a dict's keys at run time, and a loop that writes
into the dict it iterates (the items are taken when it starts), is a located
error with what to write instead. ``Unroll`` reads and binds names in the state's ``env``
and asks the core to lower expressions and statements; jumps were removed
before (``jumps``), so an unrolled body has no ``break`` or ``continue``.
"""

from __future__ import annotations

import builtins
from typing import Any, cast

import gast

from .. import ir
from . import names
from .jumps import iteration
from .state import Core, LoweringState, Rec, Tup

_VIEWS = ("items", "keys", "values")
_SLICE = ir.Callee("slice", builtins.slice, builtins.slice)
_REORDERING = (builtins.reversed, builtins.list, builtins.tuple, builtins.sorted)
_HINT = "Index the dict with constant keys (d[\"W\"]), or iterate over one of its " \
        "views: for k, v in d.items()."


class Unroll:
    """Unrolled iteration over dicts and tuples known while lowering."""

    def __init__(self, state: LoweringState, core: Core):
        self.state, self.core = state, core

    # -- what is known now ------------------------------------------------------------
    def known(self, node: gast.expr) -> Any:
        """The dict or tuple ``node`` denotes now (a name, a dict view), without lowering
        anything; None if it is not one."""
        if isinstance(node, gast.Name):
            found = self.state.lookup(node.id)
            return found if isinstance(found, (Rec, Tup)) else None
        if isinstance(node, gast.Call) and isinstance(node.func, gast.Attribute) and \
                node.func.attr in _VIEWS and not node.args and not node.keywords:
            base = self.known(node.func.value)
            return self.view(base, node.func.attr) if isinstance(base, Rec) else None
        call = self.builtin(node) if isinstance(node, gast.Call) else None
        if call in _REORDERING and len(node.args) == 1 and not node.keywords:
            found = self.known(node.args[0])
            if isinstance(found, Rec):  # list(d): its keys
                found = self.view(found, "keys")
            if found is None or call is not builtins.sorted:
                reverse = call is builtins.reversed
                return None if found is None else Tup(found[::-1] if reverse else found)
            return _sorted(found)
        if isinstance(node, gast.Subscript) and isinstance(node.slice, gast.Slice):
            base, bounds = self.known(node.value), _constant_slice(node.slice)
            return Tup(base[bounds]) if isinstance(base, Tup) and bounds else None
        return None

    @staticmethod
    def view(d: Rec, which: str) -> Tup:
        if which == "items":
            return Tup(Tup((ir.Const(k), v)) for k, v in d.items())
        return Tup(ir.Const(k) for k in d) if which == "keys" else Tup(d.values())

    def over_dict(self, node: gast.expr) -> bool:
        """Whether iterating ``node`` iterates a dict known now (directly, through a view,
        or inside ``zip``/``enumerate``/``reversed``)."""
        if isinstance(node, gast.Name):
            return isinstance(self.state.lookup(node.id), Rec)
        if isinstance(node, gast.Call):
            if isinstance(node.func, gast.Attribute) and node.func.attr in _VIEWS:
                return self.over_dict(node.func.value)
            if self.builtin(node) in (builtins.zip, builtins.enumerate, *_REORDERING):
                return any(self.over_dict(a) for a in node.args)
        return False

    def builtin(self, node: gast.Call) -> object | None:
        """The builtin a call names (not shadowed by a local or a global)."""
        name = node.func.id if isinstance(node.func, gast.Name) else None
        src = self.state.src
        if name is None or self.state.lookup(name) is not None or name in self.state.locals \
                or not (name in src.globals or name in src.closure or hasattr(builtins, name)):
            return None
        obj, _ = names.resolve(self.state, [name], node)  # recorded: a rebound name rebuilds
        return obj if getattr(builtins, name, None) is obj else None

    def static_items(self, node: gast.expr) -> list:
        """The items iterating ``node`` gives, known now; a located error otherwise."""
        state = self.state
        call = self.builtin(node) if isinstance(node, gast.Call) else None
        if call in (builtins.zip, builtins.enumerate, builtins.reversed, builtins.range):
            kwargs = {k.arg: self.core.expr(k.value) for k in node.keywords}
            if call is builtins.zip and not kwargs:
                return [Tup(t) for t in zip(*(self.static_items(a) for a in node.args))]
            if call is builtins.enumerate and len(node.args) == 1 and set(kwargs) <= {"start"}:
                start = kwargs.get("start", ir.Const(0))
                if isinstance(start, ir.Const) and isinstance(start.value, int):
                    return [Tup((ir.Const(start.value + i), v))
                            for i, v in enumerate(self.static_items(node.args[0]))]
            if call is builtins.reversed and len(node.args) == 1 and not kwargs:
                return self.static_items(node.args[0])[::-1]
            if call is builtins.range and not kwargs:
                bounds = [self.core.expr(a) for a in node.args]
                if all(isinstance(b, ir.Const) and isinstance(b.value, int) for b in bounds):
                    return [ir.Const(i) for i in range(*(b.value for b in bounds))]
        value = self.known(node)
        if value is None:
            value = self.core.expr(node)
        if isinstance(value, Rec):
            return [ir.Const(k) for k in value]
        if isinstance(value, Tup):
            return list(value)
        if isinstance(value, ir.Const) and isinstance(value.value, (tuple, list)):
            return [ir.Const(v) for v in value.value]
        raise state.unsupported(node, "this iteration goes with a dict or a dict "
                                "comprehension, so its items must be known while lowering "
                                "(a dict, a tuple or list argument, constants, or zip, "
                                "enumerate and range of those)", "Iterate over the dict "
                                "alone and read the other sequence by position: for i, "
                                "(k, v) in enumerate(d.items()): ... ws[i].")

    def slice(self, base: Tup, node: gast.Slice) -> Tup | ir.Var:
        """``xs[a:b:c]`` of a tuple known now (a tuple or list argument): the tuple of
        the entries it picks if the bounds are int constants, else the slice at run
        time of a list of its entries."""
        bounds = [ir.Const(None) if p is None else self.core.value(p)
                  for p in (node.lower, node.upper, node.step)]
        if all(isinstance(b, ir.Const) and b.name is None and (b.value is None or (
                isinstance(b.value, int) and not isinstance(b.value, bool))) for b in bounds):
            known: list[Any] = [cast(ir.Const, b).value for b in bounds]
            return Tup(base[slice(*known)])
        # Bounds known at run time only: a list of the leaves, sliced then (its adjoint
        # is the list's: runtime.unslice).
        state = self.state
        xs = state.emit(state.temp(), "newlist", (), node)
        for item in base:
            xs = state.emit(state.temp(), "append", (xs, self.core.pack(item, node)), node)
        where = state.emit(state.temp(), _SLICE, bounds, node)
        return state.emit(state.temp(), "getitem", (xs, where), node)

    # -- binding ------------------------------------------------------------------------
    def bind(self, target: gast.expr, value: Any, node: gast.AST) -> None:
        """Bind a loop target to one item, as an assignment would."""
        state = self.state
        if isinstance(target, gast.Name):
            state.undefined.pop(target.id, None)
            if isinstance(value, (Tup, Rec)) or (isinstance(value, ir.Const) and
                                                 value.name is None):
                state.env[target.id] = value  # a key stays a constant: d[k] picks now
            else:
                state.emit(state.new_version(target.id), "copy", (value,), target)
            return
        if isinstance(target, (gast.Tuple, gast.List)) and isinstance(value, Tup) and \
                len(value) == len(target.elts):
            for t, v in zip(target.elts, value):
                self.bind(t, v, node)
            return
        raise state.unsupported(target, "this loop target does not match the items of the "
                                "dict or tuple iterated", "Unpack each item into as many "
                                "names as it has (for k, v in d.items()).")

    # -- statements and expressions -------------------------------------------------
    def for_(self, node: gast.For) -> bool:
        """A for loop over a dict known now, unrolled; False if ``node`` is another loop."""
        if not self.over_dict(node.iter):
            return False
        state = self.state
        self.refuse_writes(node)
        for item in self.static_items(node.iter):
            self.bind(node.target, item, node)
            for stmt in iteration(node):  # a fresh copy each time (a break ends it)
                if state.terminated:
                    raise state.unsupported(stmt, "code after return is not supported")
                self.core.stmt(stmt)
        return True

    def refuse_writes(self, node: gast.For) -> None:
        """The items are taken when the loop starts; Python's dict views show the values
        as they are when each is reached, so a loop that writes into the dict it
        iterates is refused (rebinding the name to a new dict is fine)."""
        dicts = {n.id for n in gast.walk(node.iter) if isinstance(n, gast.Name) and
                 isinstance(self.state.lookup(n.id), Rec)}
        for n in (m for stmt in node.body for m in gast.walk(stmt)):
            targets = n.targets if isinstance(n, gast.Assign) else \
                [n.target] if isinstance(n, (gast.AugAssign, gast.AnnAssign)) else []
            for t in targets:
                if isinstance(t, gast.Subscript) and isinstance(t.value, gast.Name) and \
                        t.value.id in dicts:
                    raise self.state.unsupported(t, f"writing into the dict {t.value.id!r} "
                                                 "while a loop iterates over it is not "
                                                 "supported", "Write the new entries into "
                                                 "another dict (out = {} before the loop, "
                                                 "out[k] = ... in it).")

    def dict_comp(self, node: gast.DictComp, renamed) -> Rec:
        """``{k: f(v) for k, v in d.items() if c}`` over items known now: a ``Rec``.
        ``renamed`` copies a piece of the comprehension with its own names made fresh."""
        out: dict = {}
        self.generate(node, list(node.generators), renamed, out)
        return Rec(out)

    def generate(self, node: gast.DictComp, gens: list, renamed, out: dict) -> None:
        state = self.state
        if not gens:
            key = self.core.expr(renamed(node.key))
            if not (isinstance(key, ir.Const) and key.name is None):
                raise state.unsupported(node.key, "the keys of a dict comprehension must be "
                                        "known while lowering (constants, or keys of a "
                                        "dict)", "Build the dict from constant keys: "
                                        "{k: f(v) for k, v in zip((\"a\", \"b\"), values)}.")
            out[key.value] = self.core.expr(renamed(node.value))
            return
        gen = gens[0]
        if gen.is_async:
            raise state.unsupported(node, "async comprehensions are not supported")
        for item in self.static_items(renamed(gen.iter)):
            self.bind(renamed(gen.target), item, node)
            conds = [self.core.expr(renamed(c)) for c in gen.ifs]
            for c, cond in zip(gen.ifs, conds):
                if not (isinstance(cond, ir.Const) and cond.name is None):
                    raise state.unsupported(c, "the condition of a dict comprehension must "
                                            "be known while lowering",
                                            "Compute the value with a conditional "
                                            "expression instead: {k: (a if c else b) ...}.")
            if all(bool(c.value) for c in conds):
                self.generate(node, gens[1:], renamed, out)

    def method(self, node: gast.Call) -> Any:
        """``d.items()``, ``d.keys()``, ``d.values()``, ``d.get(k, default)`` on a dict
        known now; None if ``node`` is no such call."""
        func = node.func
        base = self.known(func.value) if isinstance(func, gast.Attribute) else None
        state = self.state
        if not isinstance(base, Rec):
            if isinstance(func, gast.Attribute) and func.attr in (*_VIEWS, "get") and \
                    isinstance(func.value, gast.Name) and \
                    isinstance(state.lookup(func.value.id), ir.Var):
                raise state.unsupported(func, f"{func.value.id}.{func.attr}() needs a dict "
                                        "whose keys srcgrad knows (a dict argument or a "
                                        f"dict display); {func.value.id!r} is not one here",
                                        "Pass a dict argument; derivative_source and the "
                                        "command line take a parameter for a dict only from "
                                        "its constant keys (params[\"W\"]).")
            return None
        if func.attr in _VIEWS and not node.args and not node.keywords:
            return self.view(base, func.attr)
        if func.attr == "get" and 1 <= len(node.args) <= 2 and not node.keywords:
            key = self.core.expr(node.args[0])
            if isinstance(key, ir.Const) and key.name is None:
                if key.value in base:
                    return base[key.value]
                return self.core.expr(node.args[1]) if len(node.args) == 2 else ir.Const(None)
            raise state.unsupported(node.args[0], "d.get needs a constant key here", _HINT)
        raise state.unsupported(func, f"the method .{func.attr}() of a dict is not "
                                "supported", "Build a new dict display with the entries it "
                                "should have, or read them with d[\"k\"], d.get(\"k\", "
                                "default), d.items(), d.keys() or d.values().")

    def length(self, node: gast.Call) -> ir.Const | None:
        """``len(d)`` or ``len(t)`` of a dict or tuple known now: a constant."""
        if self.builtin(node) is builtins.len and len(node.args) == 1 and not node.keywords:
            found = self.known(node.args[0])
            if found is not None:
                return ir.Const(len(found))
        return None

    def contains(self, node: gast.Compare) -> ir.Const | None:
        """``"k" in d`` (or ``not in``) of a dict known now: a constant."""
        op = node.ops[0] if len(node.ops) == 1 else None
        if not isinstance(op, (gast.In, gast.NotIn)):
            return None
        found = self.known(node.comparators[0])
        if not isinstance(found, Rec):
            return None
        key = self.core.expr(node.left)
        if not (isinstance(key, ir.Const) and key.name is None):
            raise self.state.unsupported(node.left, "`in` a dict needs a constant key here",
                                         _HINT)
        return ir.Const((key.value in found) == isinstance(op, gast.In))


def _constant_slice(node: gast.Slice) -> slice | None:
    """``xs[1:]``, ``xs[::-1]``, ``xs[:-1]``: the slice if its bounds are literal ints."""
    parts = []
    for p in (node.lower, node.upper, node.step):
        if isinstance(p, gast.UnaryOp) and isinstance(p.op, gast.USub) and \
                isinstance(p.operand, gast.Constant):
            p = gast.Constant(-p.operand.value, None)
        if p is not None and not (isinstance(p, gast.Constant) and type(p.value) is int):
            return None
        parts.append(None if p is None else p.value)
    return slice(*parts)


def _sorted(items: Tup) -> Tup | None:
    """``sorted(d)`` or ``sorted(d.items())`` of a dict known now: by its keys (unique, so
    the values are never compared); None for values known only at run time."""
    def key(v):
        return v[0] if isinstance(v, Tup) and v else v

    keys = [key(v) for v in items]
    if not all(isinstance(k, ir.Const) and k.name is None for k in keys):
        return None
    return Tup(v for _, v in sorted(zip((k.value for k in keys), items),
                                     key=lambda pair: pair[0]))
