"""Checkpointed loops (part of the reverse stage, run on the optimized derivative).

Contract: ``checkpoint(fn, policy)`` rewrites each checkpointed loop of a gradient
``fn`` (the output of ``reverse`` and the optimizer: the forward sweep, then the
adjoint sweep) so that it keeps snapshots of the loop's carried values instead of a
tape entry per iteration. A loop is checkpointed if the user marked it
(``for t in srcgrad.checkpointed(range(T), snapshots=k)``: ``ir.Loop.checkpoint``)
or, with ``policy`` ``("snapshots", k)`` (an int) or ``("every", None)`` (``grad(f,
checkpoint=k | "auto")``), if it is any ``for`` loop over a range at the function's
top level. ``policy`` ``"off"`` leaves every loop taped (the derivatives that
higher-order code is built over).

The forward loop ``L`` keeps its statements, without its pushes, and calls
``take(checkpoints, t, *carried)`` at the top of each iteration; its adjoint loop ``R``
becomes a loop over ``count(checkpoints)`` segments: each restores a snapshot and
gets its range (``restore``), advances without a tape to the segment's taped part
(binomial plans only), runs that part again with the tape (a copy of ``L`` with its
pushes, its own names: ``R`` pops into them), and reverses it (``R`` over that
part's range). Adjoints ``R`` carries are carried across segments. What ``L`` reads
and later code writes into in place is copied before ``L`` (``frozen``), and the
copies read that. The schedule is ``runtime.checkpoints``'s; ``checkpoint_scan``
says which loops qualify.

Only a ``for`` loop over a range at the top level of the function, without ``break``
or ``return``, and without random draws, can be checkpointed: a marked loop
otherwise is an ``UnsupportedSyntax``, located (``check_marks``). The loop's pushes
pair with its adjoint's pops by the list objects the tape shares (``reverse_tape``),
which is why this runs after the optimizer's tape pruning.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from .. import ir
from ..errors import UnsupportedSyntax
from ..runtime import checkpoints as ck
from . import checkpoint_scan as scan

_NEW = ir.Callee("plan", ck.plan, ck.plan)
_TAKE = ir.Callee("take", ck.take, ck.take)
_COUNT = ir.Callee("count", ck.count, ck.count)
_RESTORE = ir.Callee("restore", ck.restore, ck.restore)
_FROZEN = ir.Callee("frozen", ck.frozen, ck.frozen)
_HINT = ("Checkpoint a for loop over range(...) without break, at the function's top level "
         "(move an inner loop into its own loop, or leave it taped).")


def checkpoint(fn: ir.Function, policy: object) -> ir.Function:
    """``fn`` with its checkpointed loops rewritten (see the module docstring); ``fn``
    itself if none is."""
    if policy == "off" or (policy is None and not any(
            isinstance(n, ir.Loop) and n.checkpoint for n in ir.walk(fn.body))):
        return fn
    check_marks(fn)
    chosen = [n for n in fn.body if isinstance(n, ir.Loop) and not n.adjoint and (
        n.checkpoint or (isinstance(policy, tuple) and n.cond is None and n.exit is None
                         and n.index is not None and not scan.draws(n) and not scan.grows(n)))]
    pairs = [(n, next((m for m in fn.body if isinstance(m, ir.Loop) and m.adjoint and
                       m.index == n.index), None)) for n in chosen]
    pairs = [(n, rev) for n, rev in pairs if rev is not None]  # (else nothing flows back)
    if not pairs:
        return fn
    body = ir.clone(fn.body)  # (the loops are changed in place below)
    where = {id(m): k for k, m in enumerate(fn.body)}
    cloned = [(body[where[id(n)]], body[where[id(rev)]]) for n, rev in pairs]
    rewrite = _Rewrite(fn)
    for loop, adjoint in cloned:
        assert isinstance(loop, ir.Loop) and isinstance(adjoint, ir.Loop)
        if loop.checkpoint is None:
            assert isinstance(policy, tuple)
            option, k = policy
            loop.checkpoint = (str(option), None if k is None else ir.Const(k))
        body = rewrite.loop(body, loop, adjoint)
    out = replace(fn, body=body)
    ir.verify(out)
    return out


def check_marks(fn: ir.Function) -> None:
    """Refuse a loop marked ``srcgrad.checkpointed`` that cannot be checkpointed (run on
    the primal, before the optimizer may drop a loop whose value is not needed)."""
    top = set(map(id, fn.body))
    for n in ir.walk(fn.body):
        if not (isinstance(n, ir.Loop) and n.checkpoint and not n.adjoint):
            continue
        if id(n) not in top or n.exit is not None:
            raise UnsupportedSyntax(
                "srcgrad.checkpointed(...) on a loop " + (
                    "with a break or a return" if n.exit is not None else
                    "inside another loop or a branch (or in a helper called there)"),
                n.loc, _HINT)
        drawn = scan.draws(n)
        if drawn is not None:
            raise UnsupportedSyntax(
                "a random draw in a checkpointed loop: recomputing its iterations would "
                "draw other numbers", drawn.loc,
                "Draw them before the loop (noise = rng.normal(size=T)) and read noise[t] "
                "in it, or leave the loop taped.")


class _Rewrite:
    """Fresh names for the copies, and the rewrite of one loop pair at a time."""

    def __init__(self, fn: ir.Function):
        self.namer = ir.Namer(_names(fn))
        self.kept: dict[str, ir.Var] = {}  # read by the loop, written later: copies

    def var(self, like: ir.Var) -> ir.Var:
        if like.kind == "temp":
            return ir.Var(self.namer.temp(), "temp")
        return ir.Var(self.namer.fresh(re.sub(r"_\d+$", "", like.name)), like.kind, like.of)

    def loop(self, body: list, n: ir.Loop, rev: ir.Loop) -> list:
        """``body`` (the function's) with forward loop ``n`` and its adjoint ``rev``
        rewritten."""
        assert n.checkpoint is not None
        option, value = n.checkpoint
        n.checkpoint = None
        # What the loop reads and later code writes into in place: the recomputations
        # read a copy made before the loop (the taped run read each value as it was).
        i = _position(body, n)
        keep = scan.written_later(n, body[i + 1:])
        self.kept = {v.name: self.var(v) for v in keep}
        copies = [ir.Stmt(self.kept[v.name], _FROZEN, (v,), n.loc) for v in keep]
        taped, names = self.copy(n)
        advance = self.copy(n)[0] if option == "snapshots" else None
        for m in [n, *ir.walk(n.body)]:  # (each adjoint loop has its forward loop's
            if isinstance(m, ir.Loop) and m.index is not None:  # index: its own)
                names.pop(m.index.name, None)
        _substitute([rev], _renaming(names), defs=False)  # it pops what the copy pushes
        store = ir.Var(self.namer.fresh("checkpoints"))
        start, stop, step = n.bounds
        kwargs = () if value is None else ((option, value),)
        made = ir.Stmt(store, _NEW, (start, stop, step), n.loc, kwargs=kwargs)
        final = self.with_takes(n, store)
        return [*body[:i], *copies, made, n,
                *self.reversal(body[i + 1:], rev, final, taped, advance)]

    def with_takes(self, n: ir.Loop, store: ir.Operand) -> ir.Var:
        """Loop ``n`` without pushes, taking snapshots; the checkpoints after it."""
        _strip(n)
        state = [p.target for p in n.carried]
        for p in n.carried:  # take reads them at the top of every iteration
            if ir.is_unbound(p.sources[0]):
                p.sources = (ir.Const(ir.READ_UNBOUND), p.sources[1])
        inside, after, out = (ir.Var(self.namer.fresh("checkpoints")) for _ in range(3))
        assert n.index is not None
        n.body.insert(0, ir.Stmt(after, _TAKE, (inside, n.index, *state), n.loc))
        n.carried.append(ir.Phi(inside, (store, after), out))
        return out

    def reversal(self, rest: list, rev: ir.Loop, store: ir.Var, taped: ir.Loop,
                 advance: ir.Loop | None) -> list:
        """``rest`` (after the forward loop) with ``rev`` replaced by the segment loop."""
        loc = rev.loc
        count, s = ir.Var(self.namer.temp(), "temp"), ir.Var(self.namer.fresh("segment"))
        head = [ir.Stmt(count, _COUNT, (store,), loc, adjoint=True)]
        inside = ir.Var(self.namer.fresh("checkpoints"))
        saved = ir.Var(self.namer.temp(), "temp")
        seg_body: list[ir.Node] = [ir.Stmt(saved, _RESTORE, (inside, s), loc, adjoint=True)]
        a, b, end = (ir.Var(self.namer.fresh(name)) for name in ("start", "taped", "end"))
        state: list[ir.Operand] = []
        for k, v in enumerate([a, b, end, *(self.var(p.target) for p in taped.carried)]):
            seg_body.append(ir.Stmt(v, "getitem", (saved, ir.Const(k)), loc, adjoint=True))
            state.append(v)
        state = state[3:]
        step = taped.bounds[2]
        current: ir.Var = inside
        if advance is not None:
            _strip(advance)
            state, current = self.run(advance, (a, b, step), state, current)
            seg_body.append(advance)
        state, current = self.run(taped, (b, end, step), state, current)
        seg_body.append(taped)
        phis, back = [], []
        for p in rev.carried:
            outer, out = ir.Var(self.namer.fresh(p.target.name), p.target.kind, p.target.of), \
                self.var(ir.loop_out(p))
            phis.append(ir.Phi(outer, (p.sources[0], out), ir.loop_out(p)))
            back.append(ir.Phi(p.target, (outer, p.sources[1]), out))
        seg_body.append(replace(rev, bounds=(b, end, step), carried=back))
        phis.append(ir.Phi(inside, (store, current), ir.Var(self.namer.fresh("checkpoints"))))
        segments = ir.Loop(s, (ir.Const(0), count, ir.Const(1)), phis, seg_body, loc,
                           adjoint=True)
        i = _position(rest, rev)
        return [*rest[:i], *head, segments, *rest[i + 1:]]

    def run(self, copy: ir.Loop, bounds: tuple, state: list, store: ir.Var
            ) -> tuple[list, ir.Var]:
        """Loop ``copy`` over ``bounds`` from ``state`` taking snapshots into ``store``:
        its carried values after it, and the checkpoints."""
        copy.bounds = bounds
        for p, v in zip(copy.carried, state):
            p.sources = (v, p.sources[1])
        after = [ir.loop_out(p) for p in copy.carried]
        inside, nxt, out = (ir.Var(self.namer.fresh("checkpoints")) for _ in range(3))
        assert copy.index is not None
        copy.body.insert(0, ir.Stmt(nxt, _TAKE, (inside, copy.index,
                                                 *[p.target for p in copy.carried]), copy.loc))
        copy.carried.append(ir.Phi(inside, (store, nxt), out))
        return list(after), out

    def copy(self, n: ir.Loop) -> tuple[ir.Loop, dict[str, ir.Var]]:
        """A copy of forward loop ``n`` with fresh names for everything it defines, and
        the names: old -> new."""
        new: dict[str, ir.Var] = {}
        for m in [n, *ir.walk(n.body)]:
            for v in ir.node_defs(m):
                new.setdefault(v.name, self.var(v))

        copy = ir.clone([n])[0]
        assert isinstance(copy, ir.Loop)
        _substitute([copy], _renaming({**new, **self.kept}), defs=True)
        return copy, new


def _substitute(nodes: list, sub: Callable[[Any], Any], defs: bool) -> None:
    """Every operand ``o`` read in ``nodes`` and the regions in them becomes ``sub(o)``;
    with ``defs`` the names they define and push too (a renamed copy), else the names
    their adjoint regions pop into (an adjoint reading a renamed copy's tape)."""
    for m in ir.walk(nodes):
        if isinstance(m, ir.Stmt):
            m.target = sub(m.target) if defs else m.target
            m.args = tuple(sub(a) for a in m.args)
            m.kwargs = tuple((k, sub(v)) for k, v in m.kwargs)
        elif isinstance(m, ir.If):
            m.cond = sub(m.cond)
            m.phis = [ir.Phi(sub(p.target) if defs else p.target,
                             (sub(p.sources[0]), sub(p.sources[1]))) for p in m.phis]
            if defs:
                m.save = ([sub(v) for v in m.save[0]], [sub(v) for v in m.save[1]])
            else:
                m.restore = ([sub(v) for v in m.restore[0]], [sub(v) for v in m.restore[1]])
        else:
            if defs:
                m.index = sub(m.index) if m.index is not None else None
                m.save = [sub(v) for v in m.save]
                m.save_start = [sub(v) for v in m.save_start]
            else:
                m.restore = [[sub(v) for v in group] for group in m.restore]
            m.bounds = tuple(sub(b) for b in m.bounds)
            m.cond = sub(m.cond) if m.cond is not None else None
            m.exit = sub(m.exit) if m.exit is not None else None
            m.carried = [ir.Phi(sub(p.target) if defs else p.target,
                                (sub(p.sources[0]), sub(p.sources[1])),
                                sub(p.out) if defs else p.out) for p in m.carried]


def _renaming(names: dict[str, ir.Var]) -> Callable[[Any], Any]:
    return lambda o: names.get(o.name, o) if isinstance(o, ir.Var) else o


def _position(block: list, n: ir.Node) -> int:
    return next(i for i, m in enumerate(block) if m is n)


def _strip(n: ir.Loop) -> None:
    """No pushes in ``n`` and the regions inside it (a run without the tape)."""
    for m in [n, *ir.walk(n.body)]:
        if isinstance(m, ir.Loop):
            m.save, m.save_start = [], []
        elif isinstance(m, ir.If):
            m.save = ([], [])


def _names(fn: ir.Function) -> set[str]:
    """Every name ``fn``'s code may spell: its variables and the roots of what it reads."""
    out = {p.name for p in fn.params}
    for m in ir.walk(fn.body):
        out |= {v.name for v in ir.node_defs(m)} | {v.name for v in ir.node_uses(m)}
        if isinstance(m, ir.Stmt):
            if isinstance(m.op, ir.Callee):
                out.add(m.op.name.split(".")[0])
            out |= {a.name.split(".")[0] for a in m.operands()
                    if isinstance(a, ir.Const) and a.name}
    return out
