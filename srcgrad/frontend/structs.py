"""Structure known while lowering (frontend stage): tuples (``Tup``), dicts (``Rec``)
and list displays, and what loops and writes do to them.

Contract, on top of ``lower.py``'s:

- ``[a, b]`` is ``[]`` then ``.append(a)``, ``.append(b)``: a list like any other;
  ``{"W": w, "b": b}`` with constant keys is a ``Rec``, its entries known now;
- a ``for`` over a tuple or list argument (a ``Tup`` of its leaves) iterates over
  a list built from the leaves before the loop;
- a tuple or dict a ``for`` or ``while`` loop reassigns is carried leaf by leaf
  (``carried``); a loop that appends to a list argument makes it a list of its
  leaves first;
- ``d["k"] = v`` on a dict makes the name hold a new dict with that entry; a dict
  another name (an alias, the caller of a helper) also holds is not written into
  (a located error), since Python would change it for every holder;
- ``xs + [y]``, ``[*xs, y]`` and ``{**d, "k": v}`` of structure known now are
  known now too (the first a tuple, the second a list made here, the third a
  dict);
- ``xs[t]`` of a tuple or list argument of numbers or arrays, ``t`` known only at run
  time (a loop variable), indexes a list built from the leaves: before the loop that
  reads it so (once), else where it is read;
- ``xs.append(v)`` on a list argument makes the name hold a longer tuple (the
  caller's list is not changed); a loop that appends to one first makes it a
  list of its leaves; ``xs.extend(items)`` takes items known now; a list another
  name also holds is not grown (a located error);
- a dict or tuple that the branches of an ``if`` set differently is merged
  entry by entry if both leave the same structure (same keys in the same order,
  same length; ``merge``), each differing entry a phi of its own; a different
  structure is a located error.

``Structs`` reads and changes the state's ``env``, ``body``, ``undefined`` and
``versioned``, reads ``parent``/``enclosing`` (to find other holders of a dict),
and asks the core to lower sub-expressions (``expr``, ``value``, ``pack``). The
loop it rewrites is lowered by the function ``flow`` hands it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gast

from .. import ir
from .carried import CARRIED as CARRIED  # (calls reads it from here)
from .carried import Carrying, is_const_tuple
from .state import Core, LoweringState, Rec, Tup
from .syntax import appended_list
from .unroll import Unroll


class Structs:
    """Structure handling while lowering one body."""

    def __init__(self, state: LoweringState, core: Core):
        self.state, self.core = state, core
        # Tuples iterated by a for loop and the list built from their leaves, in
        # order (the first one built for a tuple is the one its loops read).
        self.listed: list[tuple[Tup, ir.Var]] = []
        # Tuples and dicts carried by loops, entry by entry.
        self.carrying = Carrying(state, core)
        # List arguments made lists of their leaves because a loop appends to them (a
        # copy: appending to it changes no caller's list).
        self.grown: set[str] = set()

    # -- displays ---------------------------------------------------------------------
    def list_(self, node: gast.List, into: str | None) -> ir.Var:
        """``[a, b]`` is ``[]`` then ``.append(a)``, ``.append(b)``: a list like any other."""
        state = self.state
        items = []
        for e in node.elts:
            if isinstance(e, gast.Starred):  # [*xs, y] of a tuple or list argument
                items += [self.core.pack(v, e) for v in self.items_of(e.value)]
            else:
                items.append(self.core.value(e))
        xs = state.emit(state.result(into), "newlist", (), node)  # names the list's storage
        for item in items:
            xs = state.emit(state.result(into), "append", (xs, item), node)
        return xs

    def dict_(self, node: gast.Dict, into: str | None) -> Rec:
        """``{"W": w, "b": b}`` with constant keys: entries known while lowering."""
        out: dict = {}
        for k, v in zip(node.keys, node.values):
            if k is None:  # {**d, "c": y} of a dict known now
                found = self.core.expr(v)
                if not isinstance(found, Rec):
                    raise self.state.unsupported(v, "only a dict of known keys can be "
                                                 "unpacked into a dict display here",
                                                 "Write its entries out: {\"a\": d[\"a\"], "
                                                 "...}.")
                out.update(found)
                continue
            key = self.core.expr(k)
            if not (isinstance(key, ir.Const) and key.name is None):
                raise self.state.unsupported(k, "a dict needs constant keys here",
                                             "Use string or number constants as keys "
                                             "(d = {\"W\": w}), or a list indexed by "
                                             "position.")
            out[key.value] = self.core.expr(v)
        return Rec(out)

    def concat(self, node: gast.BinOp) -> Tup | None:
        """``xs + [y]``, ``xs + ys`` of tuple or list arguments known now: a new tuple
        known now; None if neither side is one (an ordinary ``+``)."""
        if not isinstance(node.op, gast.Add):
            return None
        unroll = Unroll(self.state, self.core)
        sides = [unroll.known(node.left), unroll.known(node.right)]
        if not any(isinstance(s, Tup) for s in sides):
            return None
        left, right = [list(s) if isinstance(s, Tup) else self.items_of(n)
                       for s, n in zip(sides, (node.left, node.right))]
        return Tup([*left, *right])

    def refuse_merged(self, node: gast.If, nodes: list) -> None:
        """After flow's if (``nodes``, what it added): no phi may merge structure (dicts
        and tuples are merged entry by entry, ``merge``); a safety net."""
        for n in nodes:
            if isinstance(n, ir.If) and any(isinstance(s, (Tup, Rec)) for p in n.phis
                                            for s in p.sources):
                raise self.state.unsupported(node, "a dict or tuple that the branches set "
                                             "differently is not supported here",
                                             "Give each entry a variable of its own, set in "
                                             "both branches.")

    def merge(self, node: gast.If, name: str, a: Any, b: Any, phis: list,
              share: Callable[[ir.Var, ir.Operand], None]) -> Any:
        """The value of ``name`` after an if whose branches left ``a`` and ``b``: dicts
        with the same keys (tuples of the same length) merged entry by entry, one phi
        per entry that differs (``share`` records the storage a phi shares); any
        other difference of structure is a located error."""
        if a is b:
            return a
        a, b = _as_tup(a), _as_tup(b)
        what = "the returned value" if name.startswith("%") else repr(name)
        if isinstance(a, Rec) or isinstance(b, Rec):
            if not (isinstance(a, Rec) and isinstance(b, Rec) and list(a) == list(b)):
                raise self.state.unsupported(node, f"{what} is a dict with other keys (or "
                                             "in another order) in one branch of this if "
                                             f"than in the other ({_keys(a)} and "
                                             f"{_keys(b)})", "Give the dict the same keys, "
                                             "in the same order, in both branches (None "
                                             "where a branch has no value).")
            return Rec({k: self.merge(node, name, a[k], b[k], phis, share) for k in a})
        if isinstance(a, Tup) or isinstance(b, Tup):
            if not (isinstance(a, Tup) and isinstance(b, Tup) and len(a) == len(b)):
                raise self.state.unsupported(node, f"{what} is a tuple in one branch of "
                                             "this if and not in the other (or of another "
                                             "length)", "Make both branches give tuples of "
                                             "the same length.")
            return Tup(self.merge(node, name, x, y, phis, share) for x, y in zip(a, b))
        target = ir.Var(self.state.namer.fresh("out" if name.startswith("%") else name))
        share(target, a)
        share(target, b)
        phis.append(ir.Phi(target, (a, b)))
        return target

    # -- for loops over structure ---------------------------------------------------
    # A tuple or list argument is a Tup of leaves, known now; iterating over it
    # iterates over a list built from the leaves before the loop, so the loop and its
    # adjoint (which pops the list's adjoint back) are those of any list.
    def as_lists(self, seqs: list, node: gast.AST) -> list:
        """The sequences a for loop iterates, each tuple replaced by a list of its leaves
        (emitted here)."""
        state = self.state
        for i, seq in enumerate(seqs):
            if isinstance(seq, Rec):
                raise state.unsupported(node, "iterating over a dict is not supported yet",
                                        "Index it with constant keys (d[\"W\"]), one by one.")
            if isinstance(seq, Tup):
                items = state.emit(state.result(None), "newlist", (), node)
                for item in seq:
                    items = state.emit(state.result(None), "append",
                                       (items, self.core.pack(item, node)), node)
                self.listed.append((seq, items))
                seqs = [*seqs[:i], items, *seqs[i + 1:]]
        return seqs

    def listed_for(self, seqs: list) -> list:
        """``seqs`` with each tuple a loop iterates replaced by its list: the one built
        for this loop, the latest (an earlier loop over the same tuple may sit in a
        branch that did not run)."""
        return [next((v for t, v in reversed(self.listed) if t is s), s) for s in seqs]

    def loop(self, node: gast.For | gast.While, lower: Callable[[gast.stmt], None]) -> None:
        """Lower the loop ``node`` with ``lower`` (flow's): a list argument it appends to
        made a list of its leaves first, its tuples and dicts carried entry by entry
        (``carried.Carrying``)."""
        state = self.state
        grown = {m.id for stmt in node.body for m in map(appended_list, gast.walk(stmt))
                 if m is not None}
        for n in sorted({m.value.id for stmt in node.body for m in gast.walk(stmt)
                         if isinstance(m, gast.Subscript) and isinstance(m.value, gast.Name)
                         and not isinstance(m.slice, (gast.Constant, gast.Slice))} - grown):
            seq = state.env.get(n)  # xs[t] in the loop: the list of its leaves, made once
            if isinstance(seq, Tup) and self.indexable(seq, None):
                state.env[n] = self.as_lists([seq], node)[0]
        for n in grown:
            if isinstance(state.env.get(n), Tup):  # a list argument grown by the loop:
                self.refuse_shared(node, n, state.env[n], "a list", "appending to it in "
                                   "a loop", "Build a new list: ys = list(xs), then "
                                   "append to ys.")
                state.env[n] = self.as_lists([state.env[n]], node)[0]  # a list now
                self.grown.add(n)
        self.carrying.loop(node, lower)

    @staticmethod
    def indexable(seq: Tup | Rec, index: Any) -> bool:
        """Whether ``seq[index]`` reads a list of ``seq``'s leaves at run time: a non-empty
        tuple or list of numbers or arrays (not of structures, not of constants) and an
        index that is not known now (None: any such index)."""
        if not isinstance(seq, Tup) or not len(seq) or isinstance(index, (ir.Const, Tup, Rec)):
            return False
        return (index is None or isinstance(index, ir.Var)) and \
            all(isinstance(v, ir.Var) for v in seq)

    def carried_check(self, node: gast.Call) -> Tup:
        return self.carrying.check(node)

    def store_entry(self, target: gast.Subscript, old: Tup | Rec, value: ir.Operand) -> None:
        """``d["k"] = v`` on a dict known while lowering: the name now holds a new dict
        with that entry. Python would change the one dict every name holding it sees, so
        a dict that another name (an alias, a caller) also holds is refused."""
        state = self.state
        name = target.value.id
        key = self.core.expr(target.slice)
        if isinstance(old, Tup) or not (isinstance(key, ir.Const) and key.name is None):
            raise state.unsupported(target, "only a dict can be written into by a constant "
                                    "key here (d[\"k\"] = v), not a tuple or list",
                                    "Build a new list or tuple instead.")
        self.refuse_shared(target, name, old, "a dict", "writing into it",
                           "Build a new dict display with the entries it should have.")
        state.env[name] = Rec({**old, key.value: value})

    def refuse_shared(self, node: gast.AST, name: str, old: Tup | Rec, what: str,
                      change: str, hint: str) -> None:
        """A located error if a name other than ``name`` (here, in a caller or an
        enclosing function) holds the structure ``old``: changing it would change it
        for every holder in Python."""
        state = self.state
        scopes: list[LoweringState] = []
        up: LoweringState | None = state
        while up is not None:
            scopes.append(up)
            up = up.parent or up.enclosing
        for scope in scopes:
            for other, v in scope.env.items():
                if _holds(v, old) and (scope is not state or other != name):
                    holder = repr(other) if scope is state else f"the caller's {other!r}"
                    raise state.unsupported(node, f"{name!r} is {what} that {holder} also "
                                            f"refers to; {change} is not supported", hint)

    # -- growing lists ------------------------------------------------------------------
    def grow(self, node: gast.Expr) -> bool:
        """``xs.append(v)`` on a list argument (a tuple of its leaves, known now): the
        name holds a longer tuple (the caller's list is not changed: srcgrad's
        arguments are copies); ``xs.extend(seq)`` by items known now, on a list
        argument or a list made here. False for what ``lower`` handles (or refuses)."""
        call = node.value
        if not (isinstance(call, gast.Call) and isinstance(call.func, gast.Attribute) and
                call.func.attr in ("append", "extend") and len(call.args) == 1 and
                not call.keywords and isinstance(call.func.value, gast.Name)):
            return False
        state, name, extend = self.state, call.func.value.id, call.func.attr == "extend"
        current = state.lookup(name)
        if isinstance(current, Tup):
            self.refuse_shared(call.func, name, current, "a list", f"{call.func.attr}ing "
                               "to it", "Build a new list instead: ys = xs + [v] or "
                               "ys = [*xs, v].")
            items = self.items_of(call.args[0]) if extend else [self.core.expr(call.args[0])]
            state.env[name] = Tup((*current, *items))
            return True
        if not isinstance(current, ir.Var) or (name in state.arguments and
                                               name not in self.grown):
            return False
        if not extend:  # xs.append(v) on a list argument made a list here (`loop`)
            value = self.core.value(call.args[0])  # before the new version: xs[-1]
            state.emit(state.new_version(name), "append", (current, value), node)
            return True
        for item in self.items_of(call.args[0]):  # all lowered before the first append
            current = state.emit(state.new_version(name), "append",
                                 (current, self.core.pack(item, node)), node)
        return True

    def items_of(self, node: gast.expr) -> list:
        """The items of what ``xs.extend`` is given, known now."""
        if isinstance(node, (gast.List, gast.Tuple)):
            return [self.core.expr(e) for e in node.elts]
        found = self.core.expr(node)
        if not isinstance(found, Tup):
            raise self.state.unsupported(node, "extend by a list made at run time is not "
                                         "supported", "Append its items in a loop: "
                                         "for v in ys: xs.append(v).")
        return list(found)


def _as_tup(v):
    """A constant tuple (``st = (0.0, 1.0)``) as a tuple of constants, to merge."""
    return Tup(ir.Const(x) for x in v.value) if is_const_tuple(v) else v


def _keys(v) -> str:
    return f"keys {', '.join(map(repr, v))}" if isinstance(v, Rec) else "not a dict"


def _holds(value, part) -> bool:
    if value is part:
        return True
    items = value.values() if isinstance(value, Rec) else value if isinstance(value, Tup) \
        else ()
    return any(_holds(v, part) for v in items)


