"""Lowering of control flow (frontend stage).

Contract, on top of ``lower.py``'s: ``if``/``elif``/``else``, conditional
expressions and ``and``/``or`` become ``ir.If`` regions whose merged values
are phis; ``for`` over ``range``, an array's rows, ``enumerate`` or ``zip``,
and ``while``, become ``ir.Loop`` regions whose loop-carried values (names
assigned in the body and defined before it) are phis. A ``return`` ends its
path: ``jumps`` moved the statements after it into the paths that do not
return, and removed ``break``, ``continue`` and ``return`` inside loops; a ``for``
loop with a ``break`` gets its flag as the loop's ``exit``. The names a loop
alone binds that are read outside it or early in it (``loopnames``) are carried
too, entering unbound (``ir.UNBOUND``, or ``ir.READ_UNBOUND`` when the loop's
code reads the entering value), so that they keep Python's meaning after it.

Invariants kept: after an ``if``, ``env`` holds exactly the names bound on every
path through it (the others are in ``undefined``, with why), each merged name a
new version (a phi); after a loop, the names bound before it and the carried
ones (possibly unbound at run time, as in Python); a phi's target shares storage
with its sources (``inplace.share``), and a row of an iterated array with the
array.

``Flow`` reads and changes the state's ``env``, ``body``, ``terminated``,
``undefined``, ``iterating`` and ``loops_open``, and names new versions; it asks
the core to lower sub-expressions and blocks, ``structs`` to handle tuples and
dicts in loops and branches, and ``inplace`` to record shared storage.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable

import gast

from .. import ir, loops
from . import names, objects, values
from .inplace import Inplace
from .jumps import EXIT
from .loopnames import bound_by_loop
from .state import Core, LoweringState, Obj, Rec, Tup
from .structs import Structs
from .syntax import RETURN, appended_list, assigned_names, target_names
from .unroll import Unroll


class Flow:
    """The control-flow visitors of one body's lowering."""

    def __init__(self, state: LoweringState, core: Core, structs: Structs, inplace: Inplace):
        self.state, self.core, self.structs, self.inplace = state, core, structs, inplace

    # -- if ---------------------------------------------------------------------
    def if_(self, node: gast.If) -> None:
        state = self.state
        size = len(state.body)
        self.lower_if(node)
        self.structs.refuse_merged(node, state.body[size:])

    def lower_if(self, node: gast.If) -> None:
        state = self.state
        cond = self.core.expr(node.test)
        if isinstance(cond, ir.Const) and isinstance(cond.value, bool):
            # Decided while lowering (a helper's `if b is not None`; a flag read from
            # self, a config or a global, `if self.use_tanh:`, which an assumption
            # re-checks on every call): lower one branch.
            for s in node.body if cond.value else node.orelse:
                if state.terminated:
                    raise state.unsupported(s, "code after return is not supported")
                self.core.stmt(s)
            return
        before = dict(state.env)
        then, then_env, then_ret = self.branch(node.body, before)
        orelse, else_env, else_ret = self.branch(node.orelse, before)
        if then_ret and else_ret:
            merged = [RETURN]
        elif then_ret or else_ret:
            # The other path falls off the end (jumps.py moved everything after this
            # if into it): lower_body reports the missing return.
            state.env = else_env if then_ret else then_env
            state.terminated = False
            state.body.append(ir.If(cond, then, orelse, [], state.src.loc(node)))
            return
        else:
            merged = [n for n in {**then_env, **else_env} if n != RETURN]
        state.env, state.terminated = dict(before), then_ret and else_ret
        phis = self.merge(node, merged, then_env, else_env)
        state.body.append(ir.If(cond, then, orelse, phis, state.src.loc(node)))

    def branch(self, stmts: list, env: dict) -> tuple[list, dict, bool]:
        state = self.state
        state.env, state.terminated = dict(env), False
        nodes = self.core.block(stmts)
        return nodes, state.env, state.terminated

    def merge(self, node: gast.If, merged: list[str], then_env: dict, else_env: dict
              ) -> list[ir.Phi]:
        """Bind ``merged`` after the if to their values from both branches; the phis."""
        state = self.state
        phis: list[ir.Phi] = []
        for name in merged:
            a, b = then_env.get(name), else_env.get(name)
            if a is None or b is None:
                state.env.pop(name, None)  # bound on one path only
                state.undefined[name] = "it is assigned in only one branch of an if"
                continue
            if a is b or values.same_function(state, node, name, a, b):
                state.env[name] = a
                continue
            if isinstance(a, Obj) or isinstance(b, Obj):
                raise objects.refuse_merged(state, node, name)
            if isinstance(a, Tup) or isinstance(b, Tup):
                state.env[name] = self.merge_tuples(node, name, a, b, phis)
                continue
            if isinstance(a, Rec) or isinstance(b, Rec):  # entry by entry: structs.merge
                state.env[name] = self.structs.merge(node, name, a, b, phis,
                                                     self.inplace.share)
                continue
            target = self.return_var() if name == RETURN else state.new_version(name)
            state.env[name] = target
            self.inplace.share(target, a)
            self.inplace.share(target, b)
            phis.append(ir.Phi(target, (a, b)))
        return phis

    def merge_tuples(self, node: gast.If, name: str, a: object, b: object, phis: list) -> Tup:
        """Tuples the branches set differently, merged entry by entry (a helper that
        returns ``m, v`` from both branches): one phi per entry that differs."""
        what = "the returned value" if name == RETURN else repr(name)
        a, b = (_nones_like(b) if _is_none(a) else a), (_nones_like(a) if _is_none(b) else b)
        if not (isinstance(a, Tup) and isinstance(b, Tup) and len(a) == len(b)):
            raise self.state.unsupported(node, f"{what} is a tuple in one branch of this if "
                                         "and not in the other (or of another length)",
                                         "Make both branches give tuples of the same length.")
        entries = []
        for x, y in zip(a, b):
            if x is y:
                entries.append(x)
            elif isinstance(x, Tup) or isinstance(y, Tup):
                entries.append(self.merge_tuples(node, name, x, y, phis))
            elif isinstance(x, Rec) or isinstance(y, Rec):
                entries.append(self.structs.merge(node, name, x, y, phis, self.inplace.share))
            else:
                target = ir.Var(self.state.namer.fresh("out" if name == RETURN else name))
                self.inplace.share(target, x)
                self.inplace.share(target, y)
                phis.append(ir.Phi(target, (x, y)))
                entries.append(target)
        return Tup(entries)

    def return_var(self) -> ir.Var:
        var = ir.Var(self.state.namer.fresh("out"))
        self.state.env[RETURN] = var
        return var

    def if_exp(self, node: gast.IfExp, into: str | None) -> object:
        state = self.state
        cond = self.core.expr(node.test)
        then, then_val = self.sub_block(node.body)
        orelse, else_val = self.sub_block(node.orelse)
        if values.same_function(state, node, None, then_val, else_val):
            if then or orelse:  # (what picking it computed, if anything)
                state.body.append(ir.If(cond, then, orelse, [], state.src.loc(node)))
            return then_val
        target = state.result(into)
        state.body.append(ir.If(cond, then, orelse, [ir.Phi(target, (then_val, else_val))],
                                state.src.loc(node)))
        return target

    def sub_block(self, expr: gast.expr) -> tuple[list, ir.Operand]:
        state = self.state
        outer, state.body = state.body, []
        try:
            value = self.core.expr(expr)
            if isinstance(value, Obj):
                raise objects.refuse_merged(state, expr, None)
            return state.body, value
        finally:
            state.body = outer

    def bool_op(self, node: gast.BoolOp, into: str | None) -> ir.Operand:
        """``a and b`` is ``b if a else a``; ``a or b`` is ``a if a else b`` (lazily)."""
        state = self.state
        value = self.core.expr(node.values[0])
        for i, right in enumerate(node.values[1:], 2):
            known = values.truth(value)  # `activation or np.tanh`: decided now
            if known is not None:
                if known != isinstance(node.op, gast.And):
                    return value
                value = self.core.expr(right)
                continue
            rest, rvalue = self.sub_block(right)
            target = state.result(into if i == len(node.values) else None)
            is_and = isinstance(node.op, gast.And)
            then, orelse = (rest, []) if is_and else ([], rest)
            sources = (rvalue, value) if is_and else (value, rvalue)
            state.body.append(ir.If(value, then, orelse, [ir.Phi(target, sources)],
                                    state.src.loc(node)))
            value = target
        return value

    # -- loops ------------------------------------------------------------------
    def for_(self, node: gast.For) -> None:
        if node.orelse:  # (jumps.py moved it after the loop)
            raise self.state.unsupported(node, "for ... else is not supported here")
        if Unroll(self.state, self.core).for_(node):  # over a dict known now: unrolled
            return
        if objects.unrolled(self.core, node):  # for layer in layers: (objects.py)
            return
        if values.unrolled(self.state, self.core, node):  # for fn in (np.sin, relu): ...
            return
        checkpoint = self.checkpoint_of(node)
        bounds, bind_target = self.iteration(node)
        self.structs.loop(node, lambda loop: self.loop(loop, bounds, bind_target, checkpoint))

    def checkpoint_of(self, node: gast.For) -> tuple[str, ir.Operand | None] | None:
        """``for t in srcgrad.checkpointed(range(...), snapshots=k)``: the loop's
        checkpointing option (``node.iter`` becomes the range itself)."""
        it = node.iter
        if not isinstance(it, gast.Call):
            return None
        parts = names.dotted(it.func)
        if parts is None or parts[0] in self.state.env:
            return None
        obj, _ = names.resolve(self.state, parts, it.func)
        if obj is not loops.checkpointed:
            return None
        given = {k.arg: k.value for k in it.keywords}
        if len(it.args) != 1 or set(given) - {"snapshots", "every"} or len(given) > 1 or \
                self.callee_of(it.args[0]) is not builtins.range:
            raise self.state.unsupported(it, "checkpointed takes range(...) and at most one of "
                                         "snapshots=k and every=m",
                                         "for t in srcgrad.checkpointed(range(T), snapshots=8):")
        node.iter = it.args[0]
        if not given:
            return ("every", None)
        (option, node_value), = given.items()
        value = self.core.expr(node_value)
        if isinstance(value, ir.Const):  # written in the source: checked now
            try:
                loops.check(**{option: value.value})
            except ValueError as exc:
                raise self.state.unsupported(node_value, str(exc).replace(
                    "checkpointed(...): ", ""), "for t in srcgrad.checkpointed(range(T), "
                    "snapshots=8):") from None
        return (option, value)

    def while_(self, node: gast.While) -> None:
        if node.orelse:
            raise self.state.unsupported(node, "while ... else is not supported here")
        self.structs.loop(node, lambda loop: self.loop(loop, None, None))

    def loop(self, node: gast.For | gast.While, bounds: tuple | None,
             bind_target: Callable[[ir.Var | None], ir.Var | None] | None,
             checkpoint: tuple[str, ir.Operand | None] | None = None) -> None:
        """Lower a loop (tuples and dicts in it already carried entry by entry)."""
        state = self.state
        carried = [n for n in assigned_names(node.body) if n in state.env]
        for name in carried:
            values.not_reassigned_in_loop(state, node, name)
            if isinstance(state.env[name], Obj):
                raise objects.refuse_merged(state, node, name)
            if isinstance(state.env[name], Tup):
                raise state.unsupported(node, f"the tuple {name!r} is reassigned in a loop; "
                                        "this is not supported yet")
        extra = bound_by_loop(state, node, carried)
        carried += extra
        before = dict(state.env)
        unbound = ir.Const(ir.UNBOUND)
        phis = [ir.Phi(state.new_version(n), (before.get(n, unbound),) * 2) for n in carried]
        for p in phis:  # (one entering unbound is read as Python would: maybe unbound)
            self.inplace.share(p.target, p.sources[0])
        iterating, state.loops_open = len(state.iterating), [*state.loops_open, node]
        index = state.temp() if bounds is not None else None
        outer, state.body = state.body, []
        test, cond = [], None
        if bounds is None:
            cond = self.core.expr(node.test)
            test, state.body = state.body, []
        if bind_target is not None:
            index = bind_target(index)  # may emit the reads of the iterated rows
        prefix, state.body = state.body, outer
        body = prefix + self.core.block(node.body)
        del state.iterating[iterating:]
        state.loops_open = state.loops_open[:-1]
        # A name the loop alone binds that the body turns into structure is not carried
        # (reading it after the loop stays a located error).
        kept = [(p, name) for p, name in zip(phis, carried) if name not in extra
                or isinstance(state.env.get(name), (ir.Var, ir.Const))]
        phis, carried = [p for p, _ in kept], [name for _, name in kept]
        read = {v.name for m in ir.walk(test + body) for v in ir.node_uses(m)}
        for p, name in kept:
            first = ir.Const(ir.READ_UNBOUND) if ir.is_unbound(p.sources[0]) and \
                p.target.name in read else p.sources[0]  # may be read before it is set
            p.sources = (first, state.env[name])
            self.inplace.share(p.target, p.sources[1])
        self.leave_loop(node, before, phis, carried)
        flag = getattr(node, EXIT, None)  # a for loop's break flag (jumps.py)
        exit_ = next((p.target for p, name in kept if name == flag), None)
        state.body.append(ir.Loop(index, bounds or (), phis, body, state.src.loc(node),
                                  test=test, cond=cond, exit=exit_, checkpoint=checkpoint))

    def leave_loop(self, node: gast.For | gast.While, before: dict, phis: list[ir.Phi],
                   carried: list[str]) -> None:
        """After a loop: the carried names' new versions, and the names it alone binds
        unbound."""
        state = self.state
        inner = set(assigned_names(node.body))
        if isinstance(node, gast.For):
            inner |= set(target_names(node.target))
        inner -= set(carried)
        state.env = {k: v for k, v in before.items()}
        for p, name in zip(phis, carried):
            p.out = state.new_version(name)
            self.inplace.share(p.out, p.target)
        for name in inner:
            state.env.pop(name, None)
            state.undefined[name] = "it is assigned only inside a loop"

    def iteration(self, node: gast.For) -> tuple[tuple, Callable[[ir.Var | None], ir.Var | None]]:
        """Range bounds for the loop and a function binding its target in the body."""
        it, target = node.iter, node.target
        call = self.callee_of(it)
        expr = self.core.expr
        if call is builtins.range:
            args = [expr(a) for a in it.args]
            bounds = {1: lambda a: (ir.Const(0), a[0], ir.Const(1)),
                      2: lambda a: (a[0], a[1], ir.Const(1)), 3: tuple}[len(args)](args)
            return bounds, lambda index: self.bind_index(target, index)
        if call is builtins.enumerate and isinstance(target, gast.Tuple) and \
                len(target.elts) == 2 and len(it.args) == 1:
            seq = expr(it.args[0])
            live = self.live_rows(node, [it.args[0]])
            return self.length_bounds([seq], it), lambda index: self.bind_items(
                target.elts, index, [None, seq], [None, *live])
        if call is builtins.zip and isinstance(target, gast.Tuple) and \
                len(target.elts) == len(it.args):
            seqs = [expr(a) for a in it.args]
            live = self.live_rows(node, it.args)
            return self.length_bounds(seqs, it), lambda index: self.bind_items(
                target.elts, index, seqs, live)
        # (map: a tuple of the calls)
        if call is None or call in (builtins.reversed, builtins.list, builtins.tuple,
                                    builtins.map):
            seq = expr(it)
            live = self.live_rows(node, [it])
            return self.length_bounds([seq], it), lambda index: self.bind_items(
                [target], index, [seq], live)
        raise self.state.unsupported(it, "a for loop must iterate over range(...), an array, "
                                     "enumerate(...) or zip(...)")

    def callee_of(self, node: gast.expr) -> object | None:
        if isinstance(node, gast.Call) and isinstance(node.func, gast.Name) and \
                node.func.id not in self.state.env and not node.keywords:
            obj, _ = names.resolve(self.state, [node.func.id], node)
            return obj
        return None

    def length_bounds(self, seqs: list, node: gast.AST) -> tuple:
        state = self.state
        seqs = self.structs.as_lists(seqs, node)  # a tuple: a list of its leaves
        length = ir.Callee("len", builtins.len, builtins.len)
        lengths = [state.emit(state.temp(), length, (s,), node) for s in seqs]
        stop = lengths[0]
        if len(lengths) > 1:
            smallest = ir.Callee("min", builtins.min, builtins.min)
            stop = state.emit(state.temp(), smallest, lengths, node)
        return (ir.Const(0), stop, ir.Const(1))

    def bind_index(self, target: gast.expr, index: ir.Var | None) -> ir.Var:
        if not isinstance(target, gast.Name):
            raise self.state.unsupported(target, "the loop variable of range must be a name")
        var = self.state.new_version(target.id)
        return var

    def live_rows(self, node: gast.For, iterables: list) -> list[str | None]:
        """Per iterated expression, the name whose *current* version each iteration
        must read its row from: Python iterates the object itself, so rows written
        in place by an earlier iteration are seen changed. A loop that both rebinds
        the name and writes into it, or appends to a list it iterates, is refused."""
        live = []
        for it in iterables:
            name = it.id if isinstance(it, gast.Name) else None
            rebinds, writes, grows = _writes_to(node.body, name) if name else (False,) * 3
            if grows or (writes and rebinds):
                raise self.state.unsupported(it, f"the loop changes {name!r} while iterating "
                                             "over it; this is not supported",
                                             "Iterate over range(n) with the count you "
                                             f"mean, or over a copy of an array "
                                             f"(np.copy({name})).")
            live.append(name if writes else None)
        return live

    def bind_items(self, targets: list, index: ir.Var | None, seqs: list, live: list
                   ) -> ir.Var | None:
        state = self.state
        seqs = self.structs.listed_for(seqs)  # a tuple: the list built from its leaves
        for t, seq, name in zip(targets, seqs, live):
            if not isinstance(t, gast.Name):
                raise state.unsupported(t, "loop targets must be names")
            if seq is None:  # enumerate's counter is the index itself
                index = state.new_version(t.id)
                continue
            if name is not None and isinstance(state.env.get(name), ir.Var):
                seq = state.env[name]  # written in place by the loop: this iteration's
            row = state.emit(state.new_version(t.id), "getitem", (seq, index), t)
            self.inplace.share(row, seq)  # a row is a view, and the loop reads seq again
            if isinstance(seq, ir.Var):
                state.iterating.append(seq)
        return index


def _writes_to(body: list, name: str) -> tuple[bool, bool, bool]:
    """Whether ``body`` rebinds ``name`` (``name = ...``), changes its object in place
    (``name[i] = v``, ``name[i] += v``, ``name += v``) and appends to it."""
    rebinds = writes = grows = False
    for n in (m for stmt in body for m in gast.walk(stmt)):
        targets = n.targets if isinstance(n, gast.Assign) else \
            [n.target] if isinstance(n, (gast.AugAssign, gast.AnnAssign, gast.For)) else []
        for t in targets:
            if isinstance(t, gast.Subscript) and isinstance(t.value, gast.Name) and \
                    t.value.id == name:
                writes = True
            elif isinstance(t, gast.Name) and t.id == name:
                if isinstance(n, gast.AugAssign):
                    writes = True
                else:
                    rebinds = True
            elif isinstance(t, gast.Tuple) and name in target_names(t):
                rebinds = True
        appended = appended_list(n)
        if appended is not None and appended.id == name:
            grows = True
    return rebinds, writes, grows


def _is_none(o) -> bool:
    return isinstance(o, ir.Const) and o.value is None


def _nones_like(t):
    """``None`` where a tuple is on the other path (a result set only by the paths that
    return it, ``None`` before): a tuple of ``None``s of its shape, which no path that
    leaves it ``None`` reads."""
    return Tup(_nones_like(e) if isinstance(e, Tup) else ir.Const(None) for e in t) \
        if isinstance(t, Tup) else t
