"""Structure known while lowering (frontend stage): tuples (``Tup``), dicts (``Rec``)
and list displays, and what loops and writes do to them.

Contract, on top of ``lower.py``'s:

- ``[a, b]`` is ``[]`` then ``.append(a)``, ``.append(b)``: a list like any other;
  ``{"W": w, "b": b}`` with constant keys is a ``Rec``, its entries known now;
- a ``for`` over a tuple or list argument (a ``Tup`` of its leaves) iterates over
  a list built from the leaves before the loop;
- a tuple or dict a ``for`` or ``while`` loop reassigns (``st = (q, f(p))``,
  ``d["k"] = v``) is carried entry by entry, each entry a loop-carried value of
  its own, if its length, keys and the kind of its entries stay the same
  (a ``while`` test reads the entries through a display of them); otherwise,
  and for entries that are themselves tuples or dicts, a located error;
- ``d["k"] = v`` on a dict makes the name hold a new dict with that entry; a dict
  another name (an alias, the caller of a helper) also holds is not written into
  (a located error), since Python would change it for every holder;
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

import copy
from collections.abc import Callable
from typing import Any

import gast

from .. import ir
from .state import Core, LoweringState, Rec, Tup
from .syntax import appended_list, assign_to, load_name


class Structs:
    """Structure handling while lowering one body."""

    def __init__(self, state: LoweringState, core: Core):
        self.state, self.core = state, core
        # Tuples iterated by a for loop and the list built from their leaves, in
        # order (the first one built for a tuple is the one its loops read).
        self.listed: list[tuple[Tup, ir.Var]] = []
        # Loop-carried tuples and dicts: name -> (is a dict, entries before the loop).
        self.carried: dict[str, tuple[bool, dict]] = {}
        # List arguments made lists of their leaves because a loop appends to them (a
        # copy: appending to it changes no caller's list).
        self.grown: set[str] = set()

    # -- displays ---------------------------------------------------------------------
    def list_(self, node: gast.List, into: str | None) -> ir.Var:
        """``[a, b]`` is ``[]`` then ``.append(a)``, ``.append(b)``: a list like any other."""
        state = self.state
        items = [self.core.value(e) for e in node.elts]
        xs = state.emit(state.result(into), "newlist", (), node)  # names the list's storage
        for item in items:
            xs = state.emit(state.result(into), "append", (xs, item), node)
        return xs

    def dict_(self, node: gast.Dict, into: str | None) -> Rec:
        """``{"W": w, "b": b}`` with constant keys: entries known while lowering."""
        keys: list[Any] = [self.core.expr(k) if k is not None else None for k in node.keys]
        if not all(isinstance(k, ir.Const) and k.name is None for k in keys):
            raise self.state.unsupported(node, "a dict needs constant keys here")
        return Rec({k.value: self.core.expr(v) for k, v in zip(keys, node.values)})

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

    # Loop-carried tuples and dicts: each entry is carried as a value of its own.
    # The loop is lowered with the structure unpacked into hidden names at the top of
    # the body (`st = (st_0, st_1)`) and packed back at the end (`st_0, st_1 =
    # _sg_carried(st)`, which checks that the structure kept its shape).
    def loop(self, node: gast.For | gast.While, lower: Callable[[gast.stmt], None]) -> None:
        """Lower the loop ``node`` with ``lower`` (flow's), its tuples and dicts carried
        entry by entry."""
        state = self.state
        written = {n for stmt in node.body for n in _rebound(stmt) if n in state.env}
        for n in {m.id for stmt in node.body for m in map(appended_list, gast.walk(stmt))
                  if m is not None}:
            if isinstance(state.env.get(n), Tup):  # a list argument grown by the loop:
                self.refuse_shared(node, n, state.env[n], "a list", "appending to it in "
                                   "a loop", "Build a new list: ys = list(xs), then "
                                   "append to ys.")
                state.env[n] = self.as_lists([state.env[n]], node)[0]  # a list now
                self.grown.add(n)
        structured = [n for n in written if isinstance(state.env[n], (Tup, Rec))
                      or _is_const_tuple(state.env[n])]
        if not structured:
            structured = self.lower_or_retry(node, lower, written)
            if not structured:
                return None
        carried: dict[str, Any] = {n: _entries(state.env[n]) for n in structured}
        for n, entries in carried.items():
            if entries is None:
                raise state.unsupported(node, f"the tuple or dict {n!r} is reassigned in "
                                        "a loop and has tuples or dicts as entries; this "
                                        "is not supported yet", "Carry each inner tuple "
                                        "or dict in a variable of its own.")
        hidden = {n: {k: state.namer.fresh(f"{n}_{i}") for i, k in enumerate(e[1])}
                  for n, e in carried.items()}
        head, tail = self.unpacked(node, carried, hidden)
        self.carried = {**self.carried, **carried}
        rewritten = copy.copy(node)
        rewritten.body = head + list(node.body) + tail
        if isinstance(node, gast.While):  # the test reads the entries too: `st` there is
            rewritten.test = _displayed(node.test, {n: a.value for n, a in zip(  # a display
                hidden, head)})
        lower(rewritten)
        for n, names in hidden.items():
            values = {k: state.env[m] for k, m in names.items()}
            state.env[n] = Rec(values) if carried[n][0] else Tup(values.values())
            state.undefined.pop(n, None)

    def unpacked(self, node: gast.AST, carried: dict, hidden: dict) -> tuple[list, list]:
        """Bind each entry to its hidden name; the statements that unpack the structures
        at the top of the loop body and pack them back at its end."""
        head, tail = [], []
        for n, names in hidden.items():
            is_dict, entries = carried[n]
            for k, name in names.items():
                self.state.env[name] = entries[k]
            del self.state.env[n]
            loads = [load_name(m) for m in names.values()]
            head.append(assign_to(n, gast.Dict([gast.Constant(k, None) for k in names], loads)
                                  if is_dict else gast.Tuple(loads, gast.Load()), node))
            stores = [gast.Name(m, gast.Store(), None, None) for m in names.values()]
            tail.append(gast.Assign([gast.Tuple(stores, gast.Store())],
                                    gast.Call(load_name(CARRIED), [load_name(n)], []), None))
        for stmt in head + tail:
            for sub in gast.walk(stmt):
                gast.copy_location(sub, node)
        return head, tail

    def lower_or_retry(self, node: gast.For | gast.While, lower: Callable[[gast.stmt], None],
                       written: set) -> list[str]:
        """Lower the loop as it is; if a name that held a plain value before it ends an
        iteration as a tuple or dict (`st = (0.0, 0.3)` is one constant), undo that and
        return the names to carry entry by entry (their constants unpacked)."""
        state = self.state
        env, undefined, size = dict(state.env), dict(state.undefined), len(state.body)
        versioned = set(state.versioned)
        lower(node)
        ends = [p.sources[0] for p in state.body[-1].carried
                if not isinstance(p.sources[1], (ir.Var, ir.Const))]
        names = [n for n in written if any(env[n] is v for v in ends)]
        if not names:
            return []
        state.env, state.undefined, state.body[size:] = env, undefined, []
        state.versioned.clear()
        state.versioned.update(versioned)
        for n in names:
            value = _constant_of(state.body, env[n])
            if value is None:
                raise state.unsupported(node, f"{n!r} becomes a tuple or dict in this loop; "
                                        "this is not supported yet", "Make it a tuple or "
                                        "dict before the loop too.")
            state.env[n] = value
        return names

    def carried_check(self, node: gast.Call) -> Tup:
        """``_sg_carried(st)`` at the end of a loop body: st's entries, in order."""
        name = node.args[0].id
        now = _entries(self.state.lookup(name))
        is_dict, before = self.carried[name]
        if now is None or now[0] != is_dict or list(now[1]) != list(before):
            raise self.state.unsupported(node, f"{name!r} is a tuple or dict whose length, "
                                         "keys or entries' structure the loop changes; this "
                                         "is not supported", "Keep its entries the same in "
                                         "every iteration, or carry each in a variable of "
                                         "its own.")
        return Tup(now[1].values())

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


CARRIED = "_sg_carried"


def _as_tup(v):
    """A constant tuple (``st = (0.0, 1.0)``) as a tuple of constants, to merge."""
    return Tup(ir.Const(x) for x in v.value) if _is_const_tuple(v) else v


def _keys(v) -> str:
    return f"keys {', '.join(map(repr, v))}" if isinstance(v, Rec) else "not a dict"


def _is_const_tuple(v) -> bool:
    return isinstance(v, ir.Const) and v.name is None and isinstance(v.value, tuple)


def _entries(v) -> tuple[bool, dict] | None:
    """(is a dict, entries by index or key) of a tuple or dict whose entries are
    single values; None for anything else."""
    if _is_const_tuple(v):
        v = Tup(ir.Const(x) for x in v.value)
    if not isinstance(v, (Tup, Rec)):
        return None
    entries = dict(v) if isinstance(v, Rec) else dict(enumerate(v))
    if all(isinstance(x, ir.Var) or (isinstance(x, ir.Const) and not _is_const_tuple(x))
           for x in entries.values()):
        return isinstance(v, Rec), entries
    return None


def _constant_of(body: list, var: ir.Var) -> ir.Operand | None:
    """The constant tuple ``var`` was assigned in ``body`` (`st = (0.0, 0.3)`), if so."""
    for n in body:
        if isinstance(n, ir.Stmt) and n.target == var:
            ok = n.op == "copy" and _is_const_tuple(n.args[0])
            return n.args[0] if ok else None
    return None


def _displayed(test: gast.expr, displays: dict) -> gast.expr:
    """A copy of a while loop's test with each carried structure's name replaced by
    the display of its entries' names (``st[0] < 1`` -> ``(st_0, st_1)[0] < 1``)."""
    class Replace(gast.NodeTransformer):
        def visit_Name(self, n: gast.Name) -> gast.AST:
            if n.id in displays and isinstance(n.ctx, gast.Load):
                return copy.deepcopy(displays[n.id])
            return n

    return Replace().visit(copy.deepcopy(test))


def _holds(value, part) -> bool:
    if value is part:
        return True
    items = value.values() if isinstance(value, Rec) else value if isinstance(value, Tup) \
        else ()
    return any(_holds(v, part) for v in items)


def _rebound(stmt) -> list[str]:
    """Names a statement rebinds or writes into (``st = ...``, ``d["k"] = ...``)."""
    found = []
    for n in gast.walk(stmt):
        targets = n.targets if isinstance(n, gast.Assign) else [n.target] if isinstance(
            n, (gast.AugAssign, gast.AnnAssign, gast.For)) else []
        for t in targets:
            found += [m.id for m in gast.walk(t) if isinstance(m, gast.Name)]
    return found
