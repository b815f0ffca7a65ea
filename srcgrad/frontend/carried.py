"""Tuples and dicts carried by loops, leaf by leaf (frontend stage).

Contract, on top of ``lower.py``'s: a tuple or dict that a ``for`` or ``while``
loop reassigns (``st = (q, f(p))``, ``d["k"] = v``, ``state = ((h1, c1), (h2,
c2))``) is carried leaf by leaf, each leaf (a value that is not itself a tuple or
dict) a loop-carried value of its own, if its structure (lengths, keys in order,
nesting) stays the same in every iteration; otherwise a located error. A name
that holds a plain value before the loop and a structure after an iteration is
refused unless that value was a constant tuple (``st = (0.0, 0.3)``).

How: the loop is lowered with the structure unpacked into hidden names at the
top of the body (``st = ((st_0, st_1), st_2)``) and packed back at its end
(``st_0, st_1, st_2 = _sg_carried(st)``, which checks that the structure kept
its shape); a ``while`` test reads the structure as that display too. After the
loop the name holds the structure of the leaves' values after it.

``Carrying`` reads and changes the state's ``env``, ``body``, ``undefined`` and
``versioned``; the loop itself is lowered by the function ``flow`` hands it.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from typing import Any

import gast

from .. import ir
from .state import Core, LoweringState, Rec, Tup
from .syntax import assign_to, load_name

CARRIED = "_sg_carried"
_LEAF = "leaf"


class Carrying:
    """The loops of one body's lowering that carry tuples and dicts."""

    def __init__(self, state: LoweringState, core: Core):
        self.state, self.core = state, core
        # Carried structures: name -> their shape before the loop (``shape_of``).
        self.shapes: dict[str, Any] = {}

    def loop(self, node: gast.For | gast.While, lower: Callable[[gast.stmt], None]) -> None:
        """Lower the loop ``node`` with ``lower`` (flow's), its tuples and dicts carried
        leaf by leaf."""
        state = self.state
        written = {n for stmt in node.body for n in _rebound(stmt) if n in state.env}
        structured = [n for n in written if isinstance(state.env[n], (Tup, Rec))
                      or is_const_tuple(state.env[n])]
        if not structured:
            structured = self.lower_or_retry(node, lower, written)
            if not structured:
                return None
        shapes = {n: shape_of(state.env[n]) for n in structured}
        for n, shape in shapes.items():
            if shape is None:
                raise state.unsupported(node, f"the tuple or dict {n!r} is reassigned in "
                                        "a loop and holds something other than values, "
                                        "tuples and dicts; this is not supported",
                                        "Carry each entry in a variable of its own.")
        hidden = {n: [state.namer.fresh(f"{n}_{i}") for i in range(len(leaves_of(
            state.env[n])))] for n in structured}
        head, tail = self.unpacked(node, shapes, hidden)
        self.shapes = {**self.shapes, **shapes}
        rewritten = copy.copy(node)
        rewritten.body = head + list(node.body) + tail
        if isinstance(node, gast.While):  # the test reads the entries too: `st` there is
            rewritten.test = _displayed(node.test, {n: a.value for n, a in zip(  # a display
                hidden, head)})
        lower(rewritten)
        for n, names in hidden.items():
            state.env[n] = rebuilt(shapes[n], iter([state.env[m] for m in names]))
            state.undefined.pop(n, None)

    def unpacked(self, node: gast.AST, shapes: dict, hidden: dict) -> tuple[list, list]:
        """Bind each leaf to its hidden name; the statements that unpack the structures
        at the top of the loop body and pack them back at its end."""
        head, tail = [], []
        for n, names in hidden.items():
            for name, leaf in zip(names, leaves_of(self.state.env[n])):
                self.state.env[name] = leaf
            del self.state.env[n]
            head.append(assign_to(n, _display(shapes[n], iter(names)), node))
            stores = [gast.Name(m, gast.Store(), None, None) for m in names]
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
        return the names to carry leaf by leaf (their constants unpacked)."""
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

    def check(self, node: gast.Call) -> Tup:
        """``_sg_carried(st)`` at the end of a loop body: st's leaves, in order."""
        name = node.args[0].id
        now = self.state.lookup(name)
        if shape_of(now) != self.shapes[name]:
            raise self.state.unsupported(node, f"{name!r} is a tuple or dict whose length, "
                                         "keys or entries' structure the loop changes; this "
                                         "is not supported", "Keep its entries the same in "
                                         "every iteration, or carry each in a variable of "
                                         "its own.")
        return Tup(leaves_of(now))


def is_const_tuple(v) -> bool:
    return isinstance(v, ir.Const) and v.name is None and isinstance(v.value, tuple)


def shape_of(v) -> Any:
    """The structure of a tuple or dict, without its leaves: ``("tuple", [shapes])``,
    ``("dict", [(key, shape)])``, ``"leaf"`` for a value; None for anything else."""
    if is_const_tuple(v):
        v = Tup(ir.Const(x) for x in v.value)
    if isinstance(v, Tup):
        parts = [shape_of(e) for e in v]
        return None if None in parts else ("tuple", parts)
    if isinstance(v, Rec):
        items = [(k, shape_of(e)) for k, e in v.items()]
        return None if any(s is None for _, s in items) else ("dict", items)
    return _LEAF if isinstance(v, (ir.Var, ir.Const)) else None


def leaves_of(v) -> list:
    """The leaves of a tuple or dict, depth first, in order."""
    if is_const_tuple(v):
        v = Tup(ir.Const(x) for x in v.value)
    if isinstance(v, (Tup, Rec)):
        return [x for e in (v.values() if isinstance(v, Rec) else v) for x in leaves_of(e)]
    return [v]


def rebuilt(shape: Any, leaves: Iterator) -> Any:
    """The structure ``shape`` with its leaves taken in order from ``leaves``."""
    if shape == _LEAF:
        return next(leaves)
    if shape[0] == "tuple":
        return Tup(rebuilt(s, leaves) for s in shape[1])
    return Rec({k: rebuilt(s, leaves) for k, s in shape[1]})


def _display(shape: Any, names: Iterator[str]) -> gast.expr:
    """The display of ``shape`` with the leaves' hidden names: ``((st_0, st_1), st_2)``."""
    if shape == _LEAF:
        return load_name(next(names))
    if shape[0] == "tuple":
        return gast.Tuple([_display(s, names) for s in shape[1]], gast.Load())
    keys = [gast.Constant(k, None) for k, _ in shape[1]]
    return gast.Dict(keys, [_display(s, names) for _, s in shape[1]])


def _constant_of(body: list, var: ir.Var) -> ir.Operand | None:
    """The constant tuple ``var`` was assigned in ``body`` (`st = (0.0, 0.3)`), if so."""
    for n in body:
        if isinstance(n, ir.Stmt) and n.target == var:
            ok = n.op == "copy" and is_const_tuple(n.args[0])
            return n.args[0] if ok else None
    return None


def _displayed(test: gast.expr, displays: dict) -> gast.expr:
    """A copy of a while loop's test with each carried structure's name replaced by
    the display of its leaves' names (``st[0] < 1`` -> ``(st_0, st_1)[0] < 1``)."""
    class Replace(gast.NodeTransformer):
        def visit_Name(self, n: gast.Name) -> gast.AST:
            if n.id in displays and isinstance(n.ctx, gast.Load):
                return copy.deepcopy(displays[n.id])
            return n

    return Replace().visit(copy.deepcopy(test))


def _rebound(stmt) -> list[str]:
    """Names a statement rebinds or writes into (``st = ...``, ``d["k"] = ...``)."""
    found = []
    for n in gast.walk(stmt):
        targets = n.targets if isinstance(n, gast.Assign) else [n.target] if isinstance(
            n, (gast.AugAssign, gast.AnnAssign, gast.For)) else []
        for t in targets:
            found += [m.id for m in gast.walk(t) if isinstance(m, gast.Name)]
    return found
