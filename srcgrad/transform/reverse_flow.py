"""Reverse mode for branches and loops (part of the reverse stage).

``Flow`` receives the sweep's state and core (``reverse_state``,
``reverse_core``), the use counts (``reverse_uses``) and ``sweep``, the
driver's function reversing a block into a list. It sets ``state.scope``,
``state.out`` and ``state.depth`` around each branch and loop body it reverses
(and restores them), records each adjoint region in ``state.ifs`` and
``state.loops`` for the tape, adds to ``state.owned`` the loop buffers it makes,
and gives a forward ``while`` loop a trip counter.

Contract, on top of ``reverse.py``'s:

- ``if``: the adjoint is an ``if`` on the same condition; each branch
  reverses its block in a scope of its own; what a branch contributes to a
  variable defined outside it is summed there and merged by a phi (the other
  branch contributing zero).
- loops: the adjoint is a loop over the same range in reverse (a ``while``
  loop counts its iterations and the adjoint runs that many; a ``for`` loop with a
  ``break`` counts them too, and the adjoint replays that many of its range, in
  reverse, with their indices). Adjoints of
  loop-carried values are carried backwards; adjoints of values defined before
  the loop and read inside it are accumulated in buffers the transform owns.
- what each forward loop records for its adjoint (the tape), and the checks of
  in-place writes, are settled after the sweep, in ``reverse_tape.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from .. import ir
from ..errors import Loc
from .reverse_core import Core
from .reverse_state import Scope, SweepState
from .reverse_uses import Uses, block_defs, out_of, vars_of


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


class Flow:
    """The adjoints of branches and loops."""

    def __init__(self, state: SweepState, core: Core, uses: Uses,
                 sweep: Callable[[list, list], list]):
        self.state, self.core, self.uses, self.sweep = state, core, uses, sweep

    @contextmanager
    def inside(self, scope: Scope) -> Iterator[None]:
        """Reverse a region's block: in ``scope``, into a new ``state.out``, one level
        deeper; the enclosing scope, output and depth are restored after."""
        st = self.state
        outer_scope, outer_out = st.scope, st.out
        st.scope, st.out = scope, []
        st.depth += 1
        try:
            yield
        finally:
            st.scope, st.out = outer_scope, outer_out
            st.depth -= 1

    # -- if ---------------------------------------------------------------------
    def reverse_if(self, n: ir.If) -> None:
        """Adjoint of a branch: an ``if`` on the same condition, each branch reversed in
        a scope of its own, what both hand to outer variables merged by phis."""
        st, core = self.state, self.core
        seeds = [(p, core.adjoint_of(p.target, n.loc)) for p in n.phis
                 if p.target.name in st.active]
        free = self.uses.free_uses(n)
        for _, g in seeds:
            core.hold(g)
        blocks, sums = [], []
        for which, block in enumerate((n.then, n.orelse)):
            given = [(p.sources[which], g) for p, g in seeds
                     if isinstance(p.sources[which], ir.Var)
                     and p.sources[which].name in st.active and g is not None]
            nodes, total = self.reverse_branch(block, given, free, n.loc)
            blocks.append(nodes)
            sums.append(total)
        phis, merged = [], []
        for v in free:
            then, orelse = sums[0][v.name], sums[1][v.name]
            if then is None and orelse is None:
                core.done_one(v, n.loc)
                continue
            if then is None:
                then = self.zero_into(blocks[0], v, n.loc)
            if orelse is None:
                orelse = self.zero_into(blocks[1], v, n.loc)
            target = core.temp()
            phis.append(ir.Phi(target, (then, orelse)))
            merged.append((v, target))
        rev = ir.If(n.cond, blocks[0], blocks[1], phis, n.loc, adjoint=True)
        st.out.append(rev)
        st.ifs[id(n)] = rev
        for v, target in merged:
            core.add(v, target, n.loc)

    def zero_into(self, block: list, v: ir.Var, loc: Loc) -> ir.Operand:
        """A zero adjoint for ``v``, emitted at the end of ``block`` (a reversed branch
        that hands ``v`` nothing while the other one does)."""
        outer, self.state.out = self.state.out, block
        z = self.core.zero(v, loc)
        self.state.out = outer
        return z

    def reverse_branch(self, block: list, given: list, free: list[ir.Var],
                       loc: Loc) -> tuple[list, dict[str, ir.Operand | None]]:
        """One branch reversed, seeded with the adjoints ``given`` to its phi sources;
        returns its nodes and what it hands to each of the outer variables ``free``."""
        core = self.core
        scope = Scope(block_defs(block))
        self.uses.count(block, scope)
        with self.inside(scope):
            for src, _ in given:  # all counted first: one value may feed several merges
                scope.pending[src.name] = scope.pending.get(src.name, 0) + 1
            for src, g in given:  # (held once, before the branches: only one runs)
                scope.contribs.setdefault(src.name, []).append(g)
                core.done_one(src, loc)
            nodes = self.sweep(block, self.state.out)
            self.state.out = nodes
            return nodes, {v.name: core.materialize(v, loc) for v in free}

    # -- loops ------------------------------------------------------------------
    def reverse_loop(self, n: ir.Loop) -> None:
        """Adjoint of a loop: the same range reversed, carrying the adjoints of the
        loop-carried values backwards and accumulating those of values read inside."""
        st, core = self.state, self.core
        carries, free = self.uses.active_carries(n), self.uses.free_uses(n)
        if not carries and not free:
            return
        inits = {v.name for p in carries for v in vars_of(p.sources[:1])}
        acc = _LoopAdjoint(n, carries, [v for v in free if v.name not in inits
                                        or self.uses.used_in_body(n, v)])
        for p in carries:
            out = out_of(p)
            g = core.adjoint_of(out, n.loc)
            acc.start[id(p)] = core.owned_copy(out, g if g is not None
                                               else core.zero(out, n.loc), n.loc)
            acc.inside[id(p)] = core.adjoint_var(p.target)
        for v in acc.accumulated:
            outer = st.scope.base.get(v.name)
            if outer is not None and not st.scope.contribs.get(v.name):
                # Inside an enclosing loop's adjoint: keep summing into its buffer
                # rather than zeroing a new one every enclosing iteration.
                acc.start[v.name] = outer
                acc.chained.add(v.name)
            else:
                acc.start[v.name] = core.zero(v, n.loc)
            acc.inside[v.name] = core.adjoint_var(v)
        # Carried adjoints are buffers of ours: their starts and ends are made owned.
        st.owned |= {a.name for a in acc.inside.values()}
        nodes = self.reverse_body(acc)
        rev = self.adjoint_loop(acc, nodes)
        st.out.append(rev)
        st.loops.append((n, rev))
        st.owned |= {out_of(phi).name for phi in rev.carried}
        self.loop_outputs(acc, rev, free)

    def reverse_body(self, acc: _LoopAdjoint) -> list:
        """One reversed iteration, in a scope of its own; fills ``acc.end``."""
        st, core = self.state, self.core
        n, loc = acc.loop, acc.loop.loc
        scope = Scope(block_defs(n.body) | {p.target.name for p in n.carried})
        scope.base = {v.name: acc.inside[v.name] for v in acc.accumulated}
        self.uses.count(n.body, scope)
        with self.inside(scope):
            # The adjoint entering the iteration is its end value's (one end value may be
            # carried twice, `a, b = c, c`: all counted before any is added).
            ends = [(p.sources[1], acc.inside[id(p)]) for p in acc.carries
                    if isinstance(p.sources[1], ir.Var) and p.sources[1].name in st.active]
            for nxt, _ in ends:
                scope.pending[nxt.name] = scope.pending.get(nxt.name, 0) + 1
            core.add_many(ends, loc)
            nodes = self.sweep(n.body, st.out)
            st.out = nodes
            for p in acc.carries:
                g = core.adjoint_of(p.target, loc)
                # A name only the loop binds enters unbound (the body never reads it):
                # its zero is made like the iteration's end value, which is bound.
                like = p.sources[1] if ir.is_unbound(p.sources[0]) and \
                    isinstance(p.sources[1], ir.Var) else p.target
                acc.end[id(p)] = core.owned_copy(p.target, g if g is not None
                                                 else core.zero(like, loc), loc)
            for v in acc.accumulated:
                base = scope.base[v.name]
                total = core.materialize(v, loc, base=base) if scope.contribs.get(v.name) \
                    else None
                acc.end[v.name] = total if total is not None else base
        return nodes

    def loop_outputs(self, acc: _LoopAdjoint, rev: ir.Loop, free: list[ir.Var]) -> None:
        """What the adjoint loop hands back: one contribution per outer variable."""
        st, core = self.state, self.core
        outs: dict[str, tuple] = {}
        for p, phi in zip(acc.carries, rev.carried):
            init = p.sources[0]
            if isinstance(init, ir.Var) and init.name in st.active:
                outs.setdefault(init.name, (init, []))[1].append(out_of(phi))
        for v, phi in zip(acc.accumulated, rev.carried[len(acc.carries):]):
            if v.name in acc.chained:
                st.scope.base[v.name] = out_of(phi)  # the running total, not a contribution
                outs.setdefault(v.name, (v, []))
            else:
                outs.setdefault(v.name, (v, []))[1].append(out_of(phi))
        for v in free:
            if outs.get(v.name, (None, []))[1]:
                core.add_all(v, outs[v.name][1], acc.loop.loc)
            else:
                core.done_one(v, acc.loop.loc)
        for name in sorted(set(outs) - {v.name for v in free}):
            core.add_all(outs[name][0], outs[name][1], acc.loop.loc)

    def adjoint_loop(self, acc: _LoopAdjoint, nodes: list) -> ir.Loop:
        """The adjoint loop node, its body ``nodes``."""
        n, adjoint_var = acc.loop, self.core.adjoint_var
        phis = [ir.Phi(acc.inside[id(p)], (acc.start[id(p)], acc.end[id(p)]),
                       adjoint_var(p.target)) for p in acc.carries]
        phis += [ir.Phi(acc.inside[v.name], (acc.start[v.name], acc.end[v.name]),
                        adjoint_var(v)) for v in acc.accumulated]
        if n.cond is None and n.exit is None:
            # (the adjoint of an adjoint loop, reverse over reverse, runs forward again)
            return ir.Loop(n.index, n.bounds, phis, nodes, n.loc, reverse=not n.reverse,
                           adjoint=True)
        count = self.count_iterations(n)
        if n.cond is not None:
            return ir.Loop(None, (count,), phis, nodes, n.loc, adjoint=True)
        return ir.Loop(n.index, self.bounds_run(n, count), phis, nodes, n.loc, reverse=True,
                       adjoint=True)

    def bounds_run(self, n: ir.Loop, count: ir.Var) -> tuple[ir.Operand, ...]:
        """The range of the iterations a ``for`` loop with a ``break`` ran: the first
        ``count`` of ``range(*n.bounds)`` (``range(start, start + count * step, step)``)."""
        start, _, step = n.bounds if len(n.bounds) == 3 else (ir.Const(0), None, ir.Const(1))
        span = self.arith("mul", count, step, n.loc)
        return (start, self.arith("add", start, span, n.loc), step)

    def arith(self, op: str, a: ir.Operand, b: ir.Operand, loc: Loc) -> ir.Operand:
        folded = ir.fold(op, (a, b))
        if folded is None and op == "add" and ir.is_number(a, 0):
            folded = b
        if folded is not None:
            return folded
        target = self.core.temp()
        self.state.out.append(ir.Stmt(target, op, (a, b), loc, adjoint=True))
        return target

    def count_iterations(self, n: ir.Loop) -> ir.Var:
        """Give a forward while loop a trip counter; return the count after the loop."""
        cnt, nxt, out = (ir.Var(self.state.namer.fresh(s), "user") for s in
                         ("n_iter", "n_iter", "n_iter"))
        n.carried.append(ir.Phi(cnt, (ir.Const(0), nxt), out))
        n.body.append(ir.Stmt(nxt, "add", (cnt, ir.Const(1)), n.loc))
        return out
