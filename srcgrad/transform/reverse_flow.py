"""Reverse mode for branches and loops (part of the reverse stage).

Contract, on top of ``reverse.py``'s:

- ``if``: the adjoint is an ``if`` on the same condition; each branch
  reverses its block in a scope of its own; what a branch contributes to a
  variable defined outside it is summed there and merged by a phi (the other
  branch contributing zero).
- loops: the adjoint is a loop over the same range in reverse (a ``while``
  loop counts its iterations and the adjoint runs that many). Adjoints of
  loop-carried values are carried backwards; adjoints of values defined before
  the loop and read inside it are accumulated in buffers the transform owns.
- what each forward loop records for its adjoint (the tape), and the checks of
  in-place writes, are settled after the sweep, in ``reverse_tape.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

from .. import ir


class Scatter(NamedTuple):
    """A contribution ``adjoint[index] += value`` (from a read ``x[index]``); ``fancy``
    when the index may hold integer arrays, whose repeats must add up."""

    value: ir.Operand
    index: tuple
    seq: bool
    fancy: bool = False


@dataclass
class Scope:
    """Contributions being collected while one block is reversed."""

    local: set[str]  # variables defined in this block (their adjoints complete here)
    contribs: dict[str, list] = field(default_factory=dict)
    pending: dict[str, int] = field(default_factory=dict)  # uses not yet contributed
    ready: dict[str, ir.Operand] = field(default_factory=dict)  # complete adjoints
    # In a reversed loop body: the buffer each value from before the loop sums its
    # adjoint in (the loop's own accumulator, or what an inner loop handed back).
    base: dict[str, ir.Operand] = field(default_factory=dict)

@dataclass
class _LoopAdjoint:
    """The adjoint values of one loop, by carried phi (``id``) or accumulated name:
    before the reversed loop (start), inside an iteration (inside), after it (end)."""

    loop: ir.Loop
    carries: list[ir.Phi]  # active loop-carried values
    accumulated: list[ir.Var]  # values from before the loop whose adjoints it sums
    start: dict = field(default_factory=dict)
    inside: dict = field(default_factory=dict)
    end: dict = field(default_factory=dict)
    chained: set = field(default_factory=set)  # accumulators started from the enclosing
    # loop's buffer (not from zeros), whose end is that loop's running total


class FlowMixin:
    """Region handling for ``reverse._Reverse``."""

    # -- what regions define and use ---------------------------------------------
    def block_defs(self, block: list) -> set[str]:
        """Variables whose adjoints complete in this block's scope."""
        names = set()
        for n in block:
            if isinstance(n, ir.Loop):
                names |= {p.out.name for p in n.carried}
            else:
                names |= {v.name for v in ir.node_defs(n)}
        return names

    def region_defs(self, n) -> set[str]:
        """Variables defined inside region ``n`` (not its own phi targets or outs)."""
        if isinstance(n, ir.Stmt):
            return set()
        inner = ir.walk(n.then + n.orelse) if isinstance(n, ir.If) else ir.walk(n.test + n.body)
        names = {v.name for m in inner for v in ir.node_defs(m)}
        if isinstance(n, ir.Loop):
            names |= {p.target.name for p in n.carried}
            if n.index is not None:
                names.add(n.index.name)
        return names

    def active_uses(self, n) -> list[ir.Var]:
        """Active variables whose adjoints node ``n`` contributes to (with repeats)."""
        act = self.active
        if isinstance(n, ir.Stmt):
            if n.target.name not in act:
                return []
            rule, bound = self.a.rules[id(n)]
            return [v for p, val in bound.items() if rule.differentiable(p)
                    for v in _vars(val) if v.name in act]
        uses = []
        if isinstance(n, ir.If):
            for p in n.phis:
                if p.target.name in act:
                    uses += [s for s in _vars(p.sources) if s.name in act]
            for m in n.then + n.orelse:
                uses += self.active_uses(m)
            return uses
        for p in self.active_carries(n):
            uses += [s for s in _vars(p.sources) if s.name in act]
        for m in n.body:
            uses += self.active_uses(m)
        return uses

    def active_carries(self, n: ir.Loop) -> list[ir.Phi]:
        return [p for p in n.carried if p.target.name in self.active or p.out.name in self.active]

    def free_uses(self, n) -> list[ir.Var]:
        """Active variables defined outside region ``n`` that it contributes to, once each."""
        inner = self.region_defs(n)
        seen: dict[str, ir.Var] = {}
        for v in self.active_uses(n):
            if v.name not in inner:
                seen.setdefault(v.name, v)
        return [seen[k] for k in sorted(seen)]

    def add_all(self, v: ir.Var, cs: list, loc) -> None:
        """Several contributions to ``v`` from one region: one use in the parent scope."""
        for c in cs:
            self.hold(c)
        self.scope.contribs.setdefault(v.name, []).extend(cs)
        self.done_one(v, loc)

    # -- if ---------------------------------------------------------------------
    def reverse_if(self, n: ir.If) -> None:
        seeds = [(p, self.adjoint_of(p.target, n.loc)) for p in n.phis
                 if p.target.name in self.active]
        free = self.free_uses(n)
        for _, g in seeds:
            self.hold(g)
        blocks, sums = [], []
        for which, block in enumerate((n.then, n.orelse)):
            scope = Scope(self.block_defs(block))
            self.count_uses(block, scope)
            outer_scope, outer_out = self.scope, self.out
            self.scope, self.out = scope, []
            self.depth += 1
            given = [(p.sources[which], g) for p, g in seeds
                     if isinstance(p.sources[which], ir.Var)
                     and p.sources[which].name in self.active and g is not None]
            for src, _ in given:  # all counted first: one value may feed several merges
                scope.pending[src.name] = scope.pending.get(src.name, 0) + 1
            for src, g in given:  # (held once, before the branches: only one runs)
                scope.contribs.setdefault(src.name, []).append(g)
                self.done_one(src, n.loc)
            nodes = self.sweep(block, self.out)
            self.out = nodes
            sums.append({v.name: self.materialize(v, n.loc) for v in free})
            blocks.append(nodes)
            self.scope, self.out = outer_scope, outer_out
            self.depth -= 1
        phis, merged = [], []
        for v in free:
            pair = [sums[0][v.name], sums[1][v.name]]
            if pair[0] is None and pair[1] is None:
                self.done_one(v, n.loc)
                continue
            for which in (0, 1):
                if pair[which] is None:
                    outer, self.out = self.out, blocks[which]
                    pair[which] = self.zero(v, n.loc)
                    self.out = outer
            target = self.temp()
            phis.append(ir.Phi(target, (pair[0], pair[1])))
            merged.append((v, target))
        rev = ir.If(n.cond, blocks[0], blocks[1], phis, n.loc, adjoint=True)
        self.out.append(rev)
        self.ifs[id(n)] = rev
        for v, target in merged:
            self.add(v, target, n.loc)

    # -- loops ------------------------------------------------------------------
    def reverse_loop(self, n: ir.Loop) -> None:
        """Adjoint of a loop: the same range reversed, carrying the adjoints of the
        loop-carried values backwards and accumulating those of values read inside."""
        carries, free = self.active_carries(n), self.free_uses(n)
        if not carries and not free:
            return
        inits = {v.name for p in carries for v in _vars(p.sources[:1])}
        acc = _LoopAdjoint(n, carries, [v for v in free if v.name not in inits
                                        or self.used_in_body(n, v)])
        for p in carries:
            g = self.adjoint_of(p.out, n.loc)
            acc.start[id(p)] = self.owned_copy(p.out, g if g is not None
                                               else self.zero(p.out, n.loc), n.loc)
            acc.inside[id(p)] = self.adjoint_var(p.target)
        for v in acc.accumulated:
            outer = self.scope.base.get(v.name)
            if outer is not None and not self.scope.contribs.get(v.name):
                # Inside an enclosing loop's adjoint: keep summing into its buffer
                # rather than zeroing a new one every enclosing iteration.
                acc.start[v.name] = outer
                acc.chained.add(v.name)
            else:
                acc.start[v.name] = self.zero(v, n.loc)
            acc.inside[v.name] = self.adjoint_var(v)
        # Carried adjoints are buffers of ours: their starts and ends are made owned.
        self.owned |= {a.name for a in acc.inside.values()}
        nodes = self.reverse_body(acc)
        rev = self.adjoint_loop(acc, nodes)
        self.out.append(rev)
        self.loops.append((n, rev))
        self.owned |= {phi.out.name for phi in rev.carried}
        self.loop_outputs(acc, rev, free)

    def reverse_body(self, acc: _LoopAdjoint) -> list:
        """One reversed iteration, in a scope of its own; fills ``acc.end``."""
        n, loc = acc.loop, acc.loop.loc
        scope = Scope(self.block_defs(n.body) | {p.target.name for p in n.carried})
        scope.base = {v.name: acc.inside[v.name] for v in acc.accumulated}
        self.count_uses(n.body, scope)
        outer_scope, outer_out = self.scope, self.out
        self.scope, self.out = scope, []
        self.depth += 1
        # The adjoint entering the iteration is its end value's (one end value may be
        # carried twice, `a, b = c, c`: all counted before any is added).
        ends = [(p.sources[1], acc.inside[id(p)]) for p in acc.carries
                if isinstance(p.sources[1], ir.Var) and p.sources[1].name in self.active]
        for nxt, _ in ends:
            scope.pending[nxt.name] = scope.pending.get(nxt.name, 0) + 1
        self.add_many(ends, loc)
        nodes = self.sweep(n.body, self.out)
        self.out = nodes
        for p in acc.carries:
            g = self.adjoint_of(p.target, loc)
            acc.end[id(p)] = self.owned_copy(p.target, g if g is not None
                                             else self.zero(p.target, loc), loc)
        for v in acc.accumulated:
            base = scope.base[v.name]
            total = self.materialize(v, loc, base=base) if scope.contribs.get(v.name) else None
            acc.end[v.name] = total if total is not None else base
        self.scope, self.out = outer_scope, outer_out
        self.depth -= 1
        return nodes

    def loop_outputs(self, acc: _LoopAdjoint, rev: ir.Loop, free: list) -> None:
        """What the adjoint loop hands back: one contribution per outer variable."""
        outs: dict[str, tuple] = {}
        for p, phi in zip(acc.carries, rev.carried):
            init = p.sources[0]
            if isinstance(init, ir.Var) and init.name in self.active:
                outs.setdefault(init.name, (init, []))[1].append(phi.out)
        for v, phi in zip(acc.accumulated, rev.carried[len(acc.carries):]):
            if v.name in acc.chained:
                self.scope.base[v.name] = phi.out  # the running total, not a contribution
                outs.setdefault(v.name, (v, []))
            else:
                outs.setdefault(v.name, (v, []))[1].append(phi.out)
        for v in free:
            if outs.get(v.name, (None, []))[1]:
                self.add_all(v, outs[v.name][1], acc.loop.loc)
            else:
                self.done_one(v, acc.loop.loc)
        for name in sorted(set(outs) - {v.name for v in free}):
            self.add_all(outs[name][0], outs[name][1], acc.loop.loc)

    def used_in_body(self, n: ir.Loop, v: ir.Var) -> bool:
        return any(u.name == v.name for m in n.body for u in self.active_uses(m))

    def owned_copy(self, v: ir.Var, g: ir.Operand, loc) -> ir.Operand:
        """``g`` itself, or a copy this transform owns when ``v``'s adjoint is mutated."""
        if self.kind(v) == "scalar" or self.is_owned(g):
            return g
        c = self.emit(self.temp(), self.copier(v), (g,), loc)
        self.owned.add(c.name)
        return c

    def adjoint_loop(self, acc: _LoopAdjoint, nodes: list) -> ir.Loop:
        n = acc.loop
        phis = [ir.Phi(acc.inside[id(p)], (acc.start[id(p)], acc.end[id(p)]),
                       self.adjoint_var(p.target)) for p in acc.carries]
        phis += [ir.Phi(acc.inside[v.name], (acc.start[v.name], acc.end[v.name]),
                        self.adjoint_var(v)) for v in acc.accumulated]
        if n.cond is None:
            return ir.Loop(n.index, n.bounds, phis, nodes, n.loc, reverse=True, adjoint=True)
        count = self.count_iterations(n)
        return ir.Loop(None, (count,), phis, nodes, n.loc, adjoint=True)

    def count_iterations(self, n: ir.Loop) -> ir.Var:
        """Give a forward while loop a trip counter; return the count after the loop."""
        cnt, nxt, out = (ir.Var(self.namer.fresh(s), "user") for s in
                         ("n_iter", "n_iter", "n_iter"))
        n.carried.append(ir.Phi(cnt, (ir.Const(0), nxt), out))
        n.body.append(ir.Stmt(nxt, "add", (cnt, ir.Const(1)), n.loc))
        return out

def _vars(ops) -> list[ir.Var]:
    """The variables among operands (a bound ``*args`` value is a tuple of them)."""
    if not isinstance(ops, (tuple, list)):
        ops = (ops,)
    out = []
    for o in ops:
        if isinstance(o, tuple):
            out += _vars(o)
        elif isinstance(o, ir.Var):
            out.append(o)
    return out
