"""Lowering of control flow and array writes (part of the lower stage).

Contract, on top of ``lower.py``'s: ``if``/``elif``/``else``, conditional
expressions and ``and``/``or`` become ``ir.If`` regions whose merged values
are phis; ``for`` over ``range``, an array's rows, ``enumerate`` or ``zip``,
and ``while``, become ``ir.Loop`` regions whose loop-carried values (names
assigned in the body and defined before it) are phis; ``x[i] = v`` and
``x[i] += v`` produce a new SSA version of ``x`` (``setitem``). A ``return``
ends its path: ``jumps`` moved the statements after it into the paths
that do not return, and removed ``break``, ``continue`` and ``return`` inside
loops.
"""

from __future__ import annotations

import builtins

import gast

from .. import ir
from .calls import Tup

_RETURN = "%return"  # pseudo-name under which a branch records its return value


def assigned_names(stmts: list) -> list[str]:
    """Names a block (re)binds, in order of first appearance: assignment targets,
    loop targets, and arrays written through an index."""
    seen: dict[str, None] = {}
    for node in stmts:
        for n in gast.walk(node):
            targets = []
            if isinstance(n, gast.Assign):
                targets = n.targets
            elif isinstance(n, (gast.AugAssign, gast.AnnAssign, gast.For)):
                targets = [n.target]
            elif appended_list(n) is not None:  # xs.append(v) makes a new version of xs
                targets = [appended_list(n)]
            for t in targets:
                for name in target_names(t):
                    seen.setdefault(name, None)
    return list(seen)


def appended_list(node) -> gast.Name | None:
    """``xs`` for a statement ``xs.append(v)``."""
    if isinstance(node, gast.Expr) and isinstance(node.value, gast.Call):
        func = node.value.func
        if isinstance(func, gast.Attribute) and func.attr == "append" and \
                isinstance(func.value, gast.Name) and len(node.value.args) == 1:
            return func.value
    return None


def target_names(t) -> list[str]:
    """The names an assignment target binds (for ``x[i] = v``, the array ``x``)."""
    if isinstance(t, gast.Name):
        return [t.id]
    if isinstance(t, (gast.Tuple, gast.List)):
        return [n for e in t.elts for n in target_names(e)]
    if isinstance(t, gast.Starred):
        return target_names(t.value)
    while isinstance(t, gast.Subscript):
        t = t.value
    return [t.id] if isinstance(t, gast.Name) else []


class FlowMixin:
    """The control-flow visitors of ``lower._Lowerer``."""

    # -- blocks -----------------------------------------------------------------
    def block(self, stmts: list) -> list:
        outer, self.body = self.body, []
        try:
            for s in stmts:  # returns end their paths (jumps.settle)
                if self.terminated:
                    raise self.unsupported(s, "code after return is not supported")
                self.stmt(s)
            return self.body
        finally:
            self.body = outer

    def branch(self, stmts: list, env: dict) -> tuple[list, dict, bool]:
        self.env, self.terminated = dict(env), False
        nodes = self.block(stmts)
        return nodes, self.env, self.terminated

    # -- if ---------------------------------------------------------------------
    def if_(self, node: gast.If) -> None:
        cond = self.expr(node.test)
        if isinstance(cond, ir.Const) and cond.name is None and isinstance(cond.value, bool):
            # Decided while lowering (a helper's `if b is not None`): lower one branch.
            for s in node.body if cond.value else node.orelse:
                if self.terminated:
                    raise self.unsupported(s, "code after return is not supported")
                self.stmt(s)
            return
        before = dict(self.env)
        then, then_env, then_ret = self.branch(node.body, before)
        orelse, else_env, else_ret = self.branch(node.orelse, before)
        if then_ret and else_ret:
            names = [_RETURN]
        elif then_ret or else_ret:
            # The other path falls off the end (jumps.py moved everything after this
            # if into it): lower_body reports the missing return.
            self.env = else_env if then_ret else then_env
            self.terminated = False
            self.body.append(ir.If(cond, then, orelse, [], self.src.loc(node)))
            return
        else:
            names = [n for n in {**then_env, **else_env} if n != _RETURN]
        self.env, self.terminated = dict(before), then_ret and else_ret
        phis = []
        for name in names:
            a, b = then_env.get(name), else_env.get(name)
            if a is None or b is None:
                self.env.pop(name, None)  # bound on one path only
                self.undefined[name] = "it is assigned in only one branch of an if"
                continue
            if a is b:
                self.env[name] = a
                continue
            if isinstance(a, Tup) or isinstance(b, Tup):
                self.env[name] = self.merge_tuples(node, name, a, b, phis)
                continue
            target = self.return_var() if name == _RETURN else self.new_version(name)
            self.env[name] = target
            self.share(target, a)
            self.share(target, b)
            phis.append(ir.Phi(target, (a, b)))
        self.body.append(ir.If(cond, then, orelse, phis, self.src.loc(node)))

    def merge_tuples(self, node, name: str, a, b, phis: list) -> Tup:
        """Tuples the branches set differently, merged entry by entry (a helper that
        returns ``m, v`` from both branches): one phi per entry that differs."""
        what = "the returned value" if name == _RETURN else repr(name)
        a, b = (_nones_like(b) if _is_none(a) else a), (_nones_like(a) if _is_none(b) else b)
        if not (isinstance(a, Tup) and isinstance(b, Tup) and len(a) == len(b)):
            raise self.unsupported(node, f"{what} is a tuple in one branch of this if and "
                                   "not in the other (or of another length)",
                                   "Make both branches give tuples of the same length.")
        entries = []
        for x, y in zip(a, b):
            if x is y:
                entries.append(x)
            elif isinstance(x, Tup) or isinstance(y, Tup):
                entries.append(self.merge_tuples(node, name, x, y, phis))
            else:
                target = ir.Var(self.namer.fresh("out" if name == _RETURN else name))
                self.share(target, x)
                self.share(target, y)
                phis.append(ir.Phi(target, (x, y)))
                entries.append(target)
        return Tup(entries)

    def return_var(self) -> ir.Var:
        var = ir.Var(self.namer.fresh("out"))
        self.env[_RETURN] = var
        return var

    def if_exp(self, node: gast.IfExp, into):
        cond = self.expr(node.test)
        then, then_val = self.sub_block(node.body)
        orelse, else_val = self.sub_block(node.orelse)
        target = self.result(into)
        self.body.append(ir.If(cond, then, orelse, [ir.Phi(target, (then_val, else_val))],
                               self.src.loc(node)))
        return target

    def sub_block(self, expr: gast.expr) -> tuple[list, ir.Operand]:
        outer, self.body = self.body, []
        try:
            value = self.expr(expr)
            return self.body, value
        finally:
            self.body = outer

    def bool_op(self, node: gast.BoolOp, into):
        """``a and b`` is ``b if a else a``; ``a or b`` is ``a if a else b`` (lazily)."""
        value = self.expr(node.values[0])
        for i, right in enumerate(node.values[1:], 2):
            rest, rvalue = self.sub_block(right)
            target = self.result(into if i == len(node.values) else None)
            is_and = isinstance(node.op, gast.And)
            then, orelse = (rest, []) if is_and else ([], rest)
            sources = (rvalue, value) if is_and else (value, rvalue)
            self.body.append(ir.If(value, then, orelse, [ir.Phi(target, sources)],
                                   self.src.loc(node)))
            value = target
        return value

    # -- loops ------------------------------------------------------------------
    def for_(self, node: gast.For) -> None:
        if node.orelse:
            raise self.unsupported(node, "for ... else is not supported")
        bounds, bind_target = self.iteration(node)
        self.loop(node, bounds, bind_target)

    def while_(self, node: gast.While) -> None:
        if node.orelse:
            raise self.unsupported(node, "while ... else is not supported")
        self.loop(node, None, None)

    def loop(self, node, bounds, bind_target) -> None:
        carried = [n for n in assigned_names(node.body) if n in self.env]
        for name in carried:
            if isinstance(self.env[name], Tup):
                raise self.unsupported(node, f"the tuple {name!r} is reassigned in a loop; "
                                       "this is not supported yet")
        before = dict(self.env)
        phis = [ir.Phi(self.new_version(n), (before[n], before[n])) for n in carried]
        for p in phis:
            self.share(p.target, p.sources[0])
        iterating, self.loops_open = len(self.iterating), [*self.loops_open, node]
        index = ir.Var(self.namer.temp(), "temp") if bounds is not None else None
        outer, self.body = self.body, []
        test, cond = [], None
        if bounds is None:
            cond = self.expr(node.test)
            test, self.body = self.body, []
        if bind_target is not None:
            index = bind_target(index)  # may emit the reads of the iterated rows
        prefix, self.body = self.body, outer
        body = prefix + self.block(node.body)
        del self.iterating[iterating:]
        self.loops_open = self.loops_open[:-1]
        for p, name in zip(phis, carried):
            p.sources = (p.sources[0], self.env[name])
            self.share(p.target, p.sources[1])
        inner = set(assigned_names(node.body)) - set(carried)
        self.env = {k: v for k, v in before.items()}
        for p, name in zip(phis, carried):
            p.out = self.new_version(name)
            self.share(p.out, p.target)
        if isinstance(node, gast.For):
            inner |= set(target_names(node.target))
        for name in inner:
            self.env.pop(name, None)
            self.undefined[name] = "it is assigned only inside a loop"
        self.body.append(ir.Loop(index, bounds or (), phis, body, self.src.loc(node),
                                 test=test, cond=cond))

    def iteration(self, node: gast.For):
        """Range bounds for the loop and a function binding its target in the body."""
        it, target = node.iter, node.target
        call = self.callee_of(it)
        if call is builtins.range:
            args = [self.expr(a) for a in it.args]
            bounds = {1: lambda a: (ir.Const(0), a[0], ir.Const(1)),
                      2: lambda a: (a[0], a[1], ir.Const(1)), 3: tuple}[len(args)](args)
            return bounds, lambda index: self.bind_index(target, index)
        if call is builtins.enumerate and isinstance(target, gast.Tuple) and \
                len(target.elts) == 2 and len(it.args) == 1:
            seq = self.expr(it.args[0])
            live = self.live_rows(node, [it.args[0]])
            return self.length_bounds([seq], it), lambda index: self.bind_items(
                target.elts, index, [None, seq], [None, *live])
        if call is builtins.zip and isinstance(target, gast.Tuple) and \
                len(target.elts) == len(it.args):
            seqs = [self.expr(a) for a in it.args]
            live = self.live_rows(node, it.args)
            return self.length_bounds(seqs, it), lambda index: self.bind_items(
                target.elts, index, seqs, live)
        if call is None:
            seq = self.expr(it)
            live = self.live_rows(node, [it])
            return self.length_bounds([seq], it), lambda index: self.bind_items(
                [target], index, [seq], live)
        raise self.unsupported(it, "a for loop must iterate over range(...), an array, "
                               "enumerate(...) or zip(...)")

    def callee_of(self, node) -> object | None:
        if isinstance(node, gast.Call) and isinstance(node.func, gast.Name) and \
                node.func.id not in self.env and not node.keywords:
            obj, _ = self.resolve([node.func.id], node)
            return obj
        return None

    def length_bounds(self, seqs: list, node) -> tuple:
        length = ir.Callee("len", builtins.len, builtins.len)
        lengths = [self.emit(ir.Var(self.namer.temp(), "temp"), length, (s,), node)
                   for s in seqs]
        stop = lengths[0]
        if len(lengths) > 1:
            smallest = ir.Callee("min", builtins.min, builtins.min)
            stop = self.emit(ir.Var(self.namer.temp(), "temp"), smallest, lengths, node)
        return (ir.Const(0), stop, ir.Const(1))

    def bind_index(self, target, index: ir.Var) -> ir.Var:
        if not isinstance(target, gast.Name):
            raise self.unsupported(target, "the loop variable of range must be a name")
        var = self.new_version(target.id)
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
                raise self.unsupported(it, f"the loop changes {name!r} while iterating over "
                                       "it; this is not supported",
                                       "Iterate over range(n) with the count you mean, "
                                       f"or over a copy of an array (np.copy({name})).")
            live.append(name if writes else None)
        return live

    def bind_items(self, targets: list, index: ir.Var, seqs: list, live: list) -> ir.Var:
        for t, seq, name in zip(targets, seqs, live):
            if not isinstance(t, gast.Name):
                raise self.unsupported(t, "loop targets must be names")
            if seq is None:  # enumerate's counter is the index itself
                index = self.new_version(t.id)
                continue
            if name is not None and isinstance(self.env.get(name), ir.Var):
                seq = self.env[name]  # written in place by the loop: this iteration's
            row = self.emit(self.new_version(t.id), "getitem", (seq, index), t)
            self.share(row, seq)  # a row is a view, and the loop reads seq again
            if isinstance(seq, ir.Var):
                self.iterating.append(seq)
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
        if appended_list(n) is not None and appended_list(n).id == name:
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
