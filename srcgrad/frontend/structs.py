"""Structure known while lowering (part of the lower stage): tuples (``Tup``) and
dicts (``Rec``) whose entries are operands, and what loops and writes do to them.

Contract, on top of ``lower.py``'s:

- a ``for`` over a tuple or list argument (a ``Tup`` of its leaves) iterates over
  a list built from the leaves before the loop;
- a tuple or dict a ``for`` loop reassigns (``st = (q, f(p))``, ``d["k"] = v``) is
  carried entry by entry, each entry a loop-carried value of its own, if its
  length, keys and the kind of its entries stay the same; otherwise, and in a
  ``while`` loop, a located error;
- ``d["k"] = v`` on a dict makes the name hold a new dict with that entry; a dict
  another name (an alias, the caller of a helper) also holds is not written into
  (a located error), since Python would change it for every holder.
"""

from __future__ import annotations

import copy

import gast

from .. import ir


class Tup(tuple):
    """A tuple of operands, known while lowering."""


class Rec(dict):
    """A dict argument's entries (key -> operand), known while lowering."""


class StructsMixin:
    """Structure handling for ``lower._Lowerer``; it comes before ``FlowMixin`` in the
    lowerer's bases, so its ``loop``, ``length_bounds`` and ``bind_items`` extend
    those of ``flow``."""

    def if_(self, node) -> None:
        """flow.py's if; a dict the branches set differently is refused, as a tuple is."""
        size = len(self.body)
        super().if_(node)
        for n in self.body[size:]:
            if isinstance(n, ir.If) and any(isinstance(s, (Tup, Rec)) for p in n.phis
                                            for s in p.sources):
                raise self.unsupported(node, "a dict that the branches set differently is "
                                       "not supported yet", "Give each entry a variable of "
                                       "its own, set in both branches.")

    # -- for loops over structure ---------------------------------------------------
    # A tuple or list argument is a Tup of leaves, known now; iterating over it
    # iterates over a list built from the leaves before the loop, so the loop and its
    # adjoint (which pops the list's adjoint back) are those of any list.
    def length_bounds(self, seqs: list, node) -> tuple:
        listed = self.__dict__.setdefault("_listed", [])
        for i, seq in enumerate(seqs):
            if isinstance(seq, Rec):
                raise self.unsupported(node, "iterating over a dict is not supported yet",
                                       "Index it with constant keys (d[\"W\"]), one by one.")
            if isinstance(seq, Tup):
                items = self.emit(self.result(None), "newlist", (), node)
                for item in seq:
                    items = self.emit(self.result(None), "append",
                                      (items, self.pack(item, node)), node)
                listed.append((seq, items))
                seqs = [*seqs[:i], items, *seqs[i + 1:]]
        return super().length_bounds(seqs, node)

    def bind_items(self, targets: list, index: ir.Var, seqs: list, live: list) -> ir.Var:
        listed = self.__dict__.get("_listed", [])
        seqs = [next((v for t, v in listed if t is s), s) for s in seqs]
        return super().bind_items(targets, index, seqs, live)

    # Loop-carried tuples and dicts: each entry is carried as a value of its own.
    # The loop is lowered with the structure unpacked into hidden names at the top of
    # the body (`st = (st_0, st_1)`) and packed back at the end (`st_0, st_1 =
    # _sg_carried(st)`, which checks that the structure kept its shape).
    def loop(self, node, bounds, bind_target) -> None:
        written = {n for stmt in node.body for n in _rebound(stmt) if n in self.env}
        structured = [n for n in written if isinstance(self.env[n], (Tup, Rec))
                      or _is_const_tuple(self.env[n])]
        if not structured:
            structured = self.loop_or_retry(node, bounds, bind_target, written)
            if not structured:
                return None
        carried = {n: _entries(self.env[n]) for n in structured}
        for n, entries in carried.items():
            why = "a while loop" if isinstance(node, gast.While) else \
                "a for loop whose entries are tuples" if entries is None else None
            if why:
                raise self.unsupported(node, f"the tuple or dict {n!r} is reassigned in "
                                       f"{why}; this is not supported yet",
                                       "Carry each entry in a variable of its own.")
        hidden = {n: {k: self.namer.fresh(f"{n}_{i}") for i, k in enumerate(e[1])}
                  for n, e in carried.items()}
        head, tail = [], []
        for n, names in hidden.items():
            is_dict, entries = carried[n]
            for k, name in names.items():
                self.env[name] = entries[k]
            del self.env[n]
            loads = [load_name(m) for m in names.values()]
            head.append(assign_to(n, gast.Dict([gast.Constant(k, None) for k in names], loads)
                                if is_dict else gast.Tuple(loads, gast.Load()), node))
            stores = [gast.Name(m, gast.Store(), None, None) for m in names.values()]
            tail.append(gast.Assign([gast.Tuple(stores, gast.Store())],
                                    gast.Call(load_name(CARRIED), [load_name(n)], []), None))
        for stmt in head + tail:
            for sub in gast.walk(stmt):
                gast.copy_location(sub, node)
        self._carried = {**self.__dict__.get("_carried", {}), **carried}
        rewritten = copy.copy(node)
        rewritten.body = head + list(node.body) + tail
        super().loop(rewritten, bounds, bind_target)
        for n, names in hidden.items():
            values = {k: self.env[m] for k, m in names.items()}
            self.env[n] = Rec(values) if carried[n][0] else Tup(values.values())
            self.undefined.pop(n, None)

    def loop_or_retry(self, node, bounds, bind_target, written: set) -> list[str]:
        """Lower the loop as it is; if a name that held a plain value before it ends an
        iteration as a tuple or dict (`st = (0.0, 0.3)` is one constant), undo that and
        return the names to carry entry by entry (their constants unpacked)."""
        env, undefined, size = dict(self.env), dict(self.undefined), len(self.body)
        versioned = set(self.versioned)
        super().loop(node, bounds, bind_target)
        ends = [p.sources[0] for p in self.body[-1].carried
                if not isinstance(p.sources[1], (ir.Var, ir.Const))]
        names = [n for n in written if any(env[n] is v for v in ends)]
        if not names:
            return []
        self.env, self.undefined, self.body[size:] = env, undefined, []
        self.versioned.clear()
        self.versioned.update(versioned)
        for n in names:
            value = _constant_of(self.body, env[n])
            if value is None:
                raise self.unsupported(node, f"{n!r} becomes a tuple or dict in this loop; "
                                       "this is not supported yet", "Make it a tuple or "
                                       "dict before the loop too.")
            self.env[n] = value
        return names

    def carried_check(self, node: gast.Call) -> Tup:
        """``_sg_carried(st)`` at the end of a loop body: st's entries, in order."""
        name = node.args[0].id
        now = _entries(self.lookup(name))
        is_dict, before = self.__dict__["_carried"][name]
        if now is None or now[0] != is_dict or list(now[1]) != list(before):
            raise self.unsupported(node, f"{name!r} is a tuple or dict whose length, keys "
                                   "or entries' structure the loop changes; this is not "
                                   "supported", "Keep its entries the same in every "
                                   "iteration, or carry each in a variable of its own.")
        return Tup(now[1].values())

    def store_entry(self, target: gast.Subscript, old, value: ir.Operand) -> None:
        """``d["k"] = v`` on a dict known while lowering: the name now holds a new dict
        with that entry. Python would change the one dict every name holding it sees, so
        a dict that another name (an alias, a caller) also holds is refused."""
        name = target.value.id
        key = self.expr(target.slice)
        if isinstance(old, Tup) or not (isinstance(key, ir.Const) and key.name is None):
            raise self.unsupported(target, "only a dict can be written into by a constant "
                                   "key here (d[\"k\"] = v), not a tuple or list",
                                   "Build a new list or tuple instead.")
        scopes, up = [], self
        while up is not None:
            scopes.append(up)
            up = up.parent or up.enclosing
        for scope in scopes:
            for other, v in scope.env.items():
                if _holds(v, old) and (scope is not self or other != name):
                    holder = repr(other) if scope is self else f"the caller's {other!r}"
                    raise self.unsupported(target, f"{name!r} is a dict that {holder} "
                                           "also refers to; writing into it is not "
                                           "supported", "Build a new dict display "
                                           "with the entries it should have.")
        self.env[name] = Rec({**old, key.value: value})

CARRIED = "_sg_carried"


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


def _constant_of(body: list, var: ir.Var) -> ir.Const | None:
    """The constant tuple ``var`` was assigned in ``body`` (`st = (0.0, 0.3)`), if so."""
    for n in body:
        if isinstance(n, ir.Stmt) and n.target == var:
            ok = n.op == "copy" and _is_const_tuple(n.args[0])
            return n.args[0] if ok else None
    return None


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


def load_name(name: str) -> gast.Name:
    return gast.Name(name, gast.Load(), None, None)


def assign_to(name: str, value, like) -> gast.Assign:
    target = gast.copy_location(gast.Name(name, gast.Store(), None, None), like)
    return gast.copy_location(gast.Assign([target], gast.copy_location(value, like), None),
                              like)


