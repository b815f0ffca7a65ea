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
- the tape: each forward loop pushes, at the end of every iteration, the
  values of that iteration its adjoint reads (a branch's values at the end of
  the branch); the adjoint pops them in reverse. Nothing else is recorded.
- arrays written in place: a read ``x[i]`` whose value the adjoint needs is
  copied when ``x`` is written in place anywhere (a view would change under
  it); a version of ``x`` that the adjoint reads and a later write overwrites
  is copied where it is made (``x_saved = np.copy(x)``), and the adjoint
  reads the copy.
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass, field, replace
from typing import NamedTuple

import numpy as np

from . import ir, runtime
from .errors import UnsupportedSyntax

# Functions whose result is always a new array, never a view of an argument, so that
# writing into it changes nothing else (np.reshape, np.transpose, x[i]... may return
# views: a write into their result is refused).
_FRESH_CALLS = frozenset({
    np.zeros, np.ones, np.full, np.empty, np.zeros_like, np.ones_like, np.full_like,
    np.empty_like, np.eye, np.identity, np.array, np.copy, np.concatenate, np.stack,
    np.hstack, np.vstack, np.column_stack, np.arange, np.linspace, np.tile, np.repeat,
    np.cumsum, np.cumprod, np.diff, np.outer, np.dot, np.matmul, np.kron, np.sort, np.pad,
    np.where, np.clip, np.take, np.roll, np.tril, np.triu, np.sum, np.mean, np.prod,
    np.max, np.min, np.tensordot, np.einsum, np.inner, np.linalg.inv, np.linalg.solve,
    np.ndarray.flatten, runtime.copy_adjoint, runtime.zeros_like})
_FRESH_OPS = ("setitem", "newlist", "append", "copyitem")


def _spelled(n: ir.Stmt) -> str:
    if isinstance(n.op, ir.Callee):
        return n.op.name
    return {"getitem": "an indexing x[...]"}.get(n.op, ir.SYMBOLS.get(n.op, n.op))


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

# Helpers that read only the shape of an argument: using an overwritten array
# version through them is safe.
_SHAPE_ONLY = {id(runtime.zeros_like), id(runtime.unbroadcast), id(runtime.expand), id(len),
               id(runtime.np.shape), id(runtime.np.size), id(runtime.np.ndim),
               id(builtins.len)}


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
        self.scope.contribs.setdefault(v.name, []).extend(cs)
        self.done_one(v, loc)

    # -- if ---------------------------------------------------------------------
    def reverse_if(self, n: ir.If) -> None:
        seeds = [(p, self.adjoint_of(p.target, n.loc)) for p in n.phis
                 if p.target.name in self.active]
        free = self.free_uses(n)
        blocks, sums = [], []
        for which, block in enumerate((n.then, n.orelse)):
            scope = Scope(self.block_defs(block))
            self.count_uses(block, scope)
            outer_scope, outer_out = self.scope, self.out
            self.scope, self.out = scope, []
            self.depth += 1
            for p, g in seeds:
                src = p.sources[which]
                if isinstance(src, ir.Var) and src.name in self.active and g is not None:
                    scope.pending[src.name] = scope.pending.get(src.name, 0) + 1
                    self.add(src, g, n.loc)
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
        for p in acc.carries:  # the adjoint entering the iteration is its end value's
            nxt = p.sources[1]
            if isinstance(nxt, ir.Var) and nxt.name in self.active:
                scope.pending[nxt.name] = scope.pending.get(nxt.name, 0) + 1
                self.add(nxt, acc.inside[id(p)], loc)
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
        if self.kind(v) == "scalar" or (isinstance(g, ir.Var) and g.name in self.owned):
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

    # -- after the sweep: the tape and in-place writes ----------------------------
    def finish_forward(self, forward: list, adjoint: list) -> None:
        self.check_writes(forward, adjoint)
        self.plan_tape()

    def plan_tape(self) -> None:
        """What each forward loop pushes at the end of an iteration: the values of that
        iteration its adjoint reads (the value entering the iteration included)."""
        for fwd, rev in self.loops:
            used = {v.name for v in _uses_in(rev.body)} | {v.name for p in rev.carried
                                                           for v in _vars(p.sources)}
            params = [p.target for p in fwd.carried if p.target.name in used]
            direct = [v for m in fwd.body for v in _made(m) if v.name in used]
            fwd.save = params + direct
            rev.restore = [fwd.save]
            self.tape_branches(fwd.body, used)

    def tape_branches(self, block: list, used: set[str]) -> None:
        """Values a branch inside a loop computes for the adjoint: pushed in the branch."""
        for m in block:
            if isinstance(m, ir.If):
                m.save = tuple([v for b in blk for v in _made(b) if v.name in used]
                               for blk in (m.then, m.orelse))
                rev = self.ifs.get(id(m))
                if rev is not None:
                    rev.restore = m.save
                self.tape_branches(m.then, used)
                self.tape_branches(m.orelse, used)

    def check_storage(self, forward: list, buffers: dict, written: set, overwritten: dict):
        """An array written in place must be the function's own: not the caller's (an
        alias of a parameter) and not a view into another array (a row read x[i])."""
        params = {p.name for p in self.fn.params}
        for n in ir.walk(forward):
            if not isinstance(n, ir.Stmt):
                continue
            root = buffers.get(n.target.name, n.target.name)
            if root not in written:
                continue
            alias = n.op == "copy" and isinstance(n.args[0], ir.Var)
            if alias or n.target.name in params or not self.fresh(n):
                what = "an alias of another array" if alias or n.target.name in params \
                    else f"the result of {_spelled(n)}, a possible view of another array"
                raise UnsupportedSyntax(
                    f"this writes into {what}; srcgrad cannot follow such writes",
                    _first_write(overwritten, buffers, root).loc,
                    "Write into a copy (y = np.copy(x)) or index the array itself (x[i, j] = v).")
        for p in self.fn.params:
            if buffers.get(p.name, p.name) in written:
                raise UnsupportedSyntax(
                    f"this writes into the argument {p.name}, through another name",
                    _first_write(overwritten, buffers, buffers[p.name]).loc,
                    "Write into a copy (y = np.copy(x)).")

    def fresh(self, n: ir.Stmt) -> bool:
        """``n`` makes a new array (or writes one in place), never a view of another:
        arithmetic, elementwise functions, and the constructors in ``_FRESH_CALLS``."""
        if n.op in _FRESH_OPS or (n.op == "copy" and isinstance(n.args[0], ir.Const)):
            return True
        if not isinstance(n.op, ir.Callee):
            return n.op in ir.BINARY.values() or n.op in ir.UNARY.values()
        if n.op.obj in _FRESH_CALLS:
            return True
        found = self.a.rules.get(id(n))
        return found is not None and bool(found[0].partials)  # a ufunc: a new array

    def check_writes(self, forward: list, adjoint: list) -> None:
        """Copy reads of arrays written in place; refuse adjoint reads of overwritten
        versions (see the module docstring)."""
        overwritten = {s.args[0].name: s for s in ir.walk(forward)
                       if isinstance(s, ir.Stmt) and s.op == "setitem"
                       and isinstance(s.args[0], ir.Var)}
        if not overwritten:
            return
        buffers = _buffers(forward)
        written = {buffers.get(name, name) for name in overwritten}
        self.check_storage(forward, buffers, written, overwritten)
        needed = {v.name for v in _uses_in(adjoint, skip_shape=True)}
        for s in ir.walk(forward):
            if isinstance(s, ir.Stmt) and s.op == "getitem" and s.target.name in needed \
                    and isinstance(s.args[0], ir.Var) and \
                    buffers.get(s.args[0].name, s.args[0].name) in written:
                s.op = "copyitem"
        unstable = dict(overwritten)
        for n in ir.walk(forward):  # carried versions are overwritten by the next iteration
            if isinstance(n, ir.Loop):
                for p in n.carried:
                    for v in (p.target, *_vars(p.sources[1:])):
                        root = buffers.get(v.name, v.name)
                        if root in written and v.name not in unstable:
                            unstable[v.name] = _first_write(overwritten, buffers, root)
        snapshots = {}
        for v in _uses_in(adjoint, skip_shape=True):
            if v.name in unstable and v.name not in snapshots:
                snapshots[v.name] = self.snapshot(forward, v, unstable[v.name].loc)
        if snapshots:
            _substitute(adjoint, snapshots)

    def snapshot(self, forward: list, v: ir.Var, loc) -> ir.Var:
        """Save a copy of array version ``v`` where it is made, before a later write
        changes it in place; the adjoint reads the copy."""
        saved = ir.Var(self.namer.fresh(f"{v.name}_saved"))
        copy = ir.Stmt(saved, ir.Callee("np.copy", runtime.np.copy, runtime.np), (v,), loc)
        if not _insert_after_def(forward, v, copy):
            raise UnsupportedSyntax(f"the derivative needs the value of {v} before it is "
                                    "overwritten", loc, "Write into a copy (y = np.copy(x)).")
        return saved


def _insert_after_def(block: list, v: ir.Var, stmt: ir.Stmt) -> bool:
    """Put ``stmt`` right after ``v`` is defined (a loop's carried value: at the top of
    its body). False if ``v`` is not defined in ``block``."""
    for i, n in enumerate(block):
        if v in ir.node_defs(n) and not (isinstance(n, ir.Loop) and v in
                                         [p.target for p in n.carried]):
            block.insert(i + 1, stmt)
            return True
        if isinstance(n, ir.Loop):
            if v in [p.target for p in n.carried]:
                n.body.insert(0, stmt)
                return True
            if _insert_after_def(n.body, v, stmt):
                return True
        elif isinstance(n, ir.If) and (_insert_after_def(n.then, v, stmt) or
                                       _insert_after_def(n.orelse, v, stmt)):
            return True
    return False


def _substitute(block: list, new: dict) -> None:
    """Replace reads of the variables named in ``new`` throughout ``block``."""
    def sub(o):
        return new.get(o.name, o) if isinstance(o, ir.Var) else o

    for i, n in enumerate(block):
        if isinstance(n, ir.Stmt):
            block[i] = replace(n, args=tuple(map(sub, n.args)),
                               kwargs=tuple((k, sub(v)) for k, v in n.kwargs))
        elif isinstance(n, ir.If):
            n.cond = sub(n.cond)
            for p in n.phis:
                p.sources = tuple(map(sub, p.sources))
            _substitute(n.then, new)
            _substitute(n.orelse, new)
        else:
            n.bounds = tuple(map(sub, n.bounds))
            n.cond = sub(n.cond) if n.cond is not None else None
            for p in n.carried:
                p.sources = tuple(map(sub, p.sources))
            _substitute(n.test, new)
            _substitute(n.body, new)


def _made(n) -> list[ir.Var]:
    """What a node leaves defined after it ran (a loop: its outs, not its index)."""
    if isinstance(n, ir.Loop):
        return [p.out for p in n.carried]
    return ir.node_defs(n)


def _first_write(overwritten: dict, buffers: dict, root: str) -> ir.Stmt:
    return next(s for name, s in overwritten.items() if buffers.get(name, name) == root)


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


def _uses_in(block: list, skip_shape: bool = False) -> list[ir.Var]:
    """Every variable read in ``block``, nested regions included."""
    out = []
    for n in ir.walk(block):
        if isinstance(n, ir.Stmt):
            if skip_shape and isinstance(n.op, ir.Callee) and id(n.op.obj) in _SHAPE_ONLY:
                continue
            if skip_shape and n.op in ("setitem", "addat", "scatter", "iadd", "droplast"):
                out += _vars(n.args[1:])
                continue
            out += n.uses()
        else:
            out += ir.node_uses(n)
    return out


def _buffers(block: list) -> dict[str, str]:
    """Array versions that share storage (setitem chains, phis) -> one representative."""
    parent: dict[str, str] = {}

    def find(a: str) -> str:
        while parent.get(a, a) != a:
            a = parent[a]
        return a

    def union(a, b) -> None:
        if isinstance(a, ir.Var) and isinstance(b, ir.Var):
            parent[find(a.name)] = find(b.name)

    for n in ir.walk(block):
        if isinstance(n, ir.Stmt) and n.op in ("setitem", "copy"):
            union(n.target, n.args[0])
        elif isinstance(n, ir.If):
            for p in n.phis:
                for s in p.sources:
                    union(p.target, s)
        elif isinstance(n, ir.Loop):
            for p in n.carried:
                union(p.target, p.sources[0])
                union(p.target, p.sources[1])
                union(p.out, p.target)
    return {k: find(k) for k in parent}
