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
gets its range (``restore``), advances without a tape to the segment's taped part (binomial plans
only), runs that part again with the tape (a copy of ``L`` with its pushes), and
reverses it (``R`` over that part's range). Adjoints ``R`` carries are carried across
segments. The schedule is ``runtime.checkpoints``'s.

Only a ``for`` loop over a range at the top level of the function, without ``break``,
can be checkpointed: a marked loop elsewhere is an ``UnsupportedSyntax``, located. The
loop's pushes pair with its adjoint's pops by the list objects the tape shares
(``reverse_tape``), which is why this runs after the optimizer's tape pruning.
"""

from __future__ import annotations

import re
from dataclasses import replace

from .. import ir
from ..errors import UnsupportedSyntax
from ..runtime import checkpoints as ck

_NEW = ir.Callee("plan", ck.plan, ck.plan)
_TAKE = ir.Callee("take", ck.take, ck.take)
_COUNT = ir.Callee("count", ck.count, ck.count)
_RESTORE = ir.Callee("restore", ck.restore, ck.restore)
_HINT = ("Checkpoint a for loop over range(...) without break, at the function's top level "
         "(move an inner loop into its own loop, or leave it taped).")


def checkpoint(fn: ir.Function, policy: object) -> ir.Function:
    """``fn`` with its checkpointed loops rewritten (see the module docstring)."""
    if policy == "off" or (policy is None and not any(
            isinstance(n, ir.Loop) and n.checkpoint for n in ir.walk(fn.body))):
        return fn
    fn = replace(fn, body=ir.clone(fn.body))  # (the loops are changed in place below)
    check_marks(fn)
    if isinstance(policy, tuple):
        option, k = policy
        for n in fn.body:
            if isinstance(n, ir.Loop) and not n.adjoint and n.cond is None and \
                    n.exit is None and n.index is not None and n.checkpoint is None:
                n.checkpoint = (option, None if k is None else ir.Const(k))
    loops = [n for n in fn.body if isinstance(n, ir.Loop) and n.checkpoint and not n.adjoint]
    if not loops:
        return fn
    rewrite = _Rewrite(fn)
    body = list(fn.body)
    for n in loops:
        body = rewrite.loop(body, n)
    out = replace(fn, body=body)
    ir.verify(out)
    return out


def check_marks(fn: ir.Function) -> None:
    """Refuse a loop marked ``srcgrad.checkpointed`` that cannot be checkpointed (run on
    the primal, before the optimizer may drop a loop whose value is not needed)."""
    top = set(map(id, fn.body))
    for n in ir.walk(fn.body):
        if isinstance(n, ir.Loop) and n.checkpoint and not n.adjoint and (
                id(n) not in top or n.exit is not None):
            raise UnsupportedSyntax("srcgrad.checkpointed(...) on a loop "
                                    + ("with a break" if n.exit is not None else
                                       "inside another loop or a branch"), n.loc, _HINT)


class _Rewrite:
    """Fresh names for the copies, and the rewrite of one loop pair at a time."""

    def __init__(self, fn: ir.Function):
        self.namer = ir.Namer(_names(fn))

    def var(self, like: ir.Var) -> ir.Var:
        if like.kind == "temp":
            return ir.Var(self.namer.temp(), "temp")
        return ir.Var(self.namer.fresh(re.sub(r"_\d+$", "", like.name)), like.kind, like.of)

    def loop(self, body: list, n: ir.Loop) -> list:
        """``body`` (the function's) with forward loop ``n`` and its adjoint rewritten."""
        rev = next((m for m in body if isinstance(m, ir.Loop) and m.adjoint and
                    m.index == n.index), None)
        assert n.checkpoint is not None
        option, value = n.checkpoint
        n.checkpoint = None
        if rev is None:  # nothing flows back through the loop: no tape to spare
            return body
        taped, names = self.copy(n)
        advance = self.copy(n)[0] if option == "snapshots" else None
        for m in [n, *ir.walk(n.body)]:  # (each adjoint loop has its forward loop's
            if isinstance(m, ir.Loop) and m.index is not None:  # index: its own)
                names.pop(m.index.name, None)
        _read_from(rev, names)  # the adjoint pops what the taped copy pushes
        store = ir.Var(self.namer.fresh("checkpoints"))
        start, stop, step = n.bounds
        kwargs = () if value is None else ((option, value),)
        made = ir.Stmt(store, _NEW, (start, stop, step), n.loc, kwargs=kwargs)
        final = self.with_takes(n, store)
        i = _position(body, n)
        return [*body[:i], made, n, *self.reversal(body[i + 1:], rev, final, taped, advance)]

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

        def sub(o):
            return new.get(o.name, o) if isinstance(o, ir.Var) else o

        copy = ir.clone([n])[0]
        assert isinstance(copy, ir.Loop)
        _rename(copy, sub)
        return copy, new


def _read_from(rev: ir.Loop, names: dict[str, ir.Var]) -> None:
    """Adjoint loop ``rev`` (and the regions in it) popping into and reading the copy's
    names ``names`` instead of the forward loop's."""
    def sub(o):
        return names.get(o.name, o) if isinstance(o, ir.Var) else o

    for m in [rev, *ir.walk(rev.body)]:
        if isinstance(m, ir.Stmt):
            m.args = tuple(sub(a) for a in m.args)
            m.kwargs = tuple((k, sub(v)) for k, v in m.kwargs)
        elif isinstance(m, ir.If):
            m.cond = sub(m.cond)
            m.phis = [ir.Phi(p.target, tuple(sub(s) for s in p.sources))
                      for p in m.phis]
            m.restore = ([sub(v) for v in m.restore[0]], [sub(v) for v in m.restore[1]])
        else:
            m.bounds = tuple(sub(b) for b in m.bounds)
            m.carried = [ir.Phi(p.target, tuple(sub(s) for s in p.sources), p.out)
                         for p in m.carried]
            m.restore = [[sub(v) for v in group] for group in m.restore]


def _rename(loop: ir.Loop, sub) -> None:
    for m in [loop, *ir.walk(loop.body)]:
        if isinstance(m, ir.Stmt):
            m.target = sub(m.target)
            m.args = tuple(sub(a) for a in m.args)
            m.kwargs = tuple((k, sub(v)) for k, v in m.kwargs)
        elif isinstance(m, ir.If):
            m.cond = sub(m.cond)
            m.phis = [ir.Phi(sub(p.target), tuple(sub(s) for s in p.sources))
                      for p in m.phis]
            m.save = ([sub(v) for v in m.save[0]], [sub(v) for v in m.save[1]])
        else:
            m.index = sub(m.index) if m.index is not None else None
            m.bounds = tuple(sub(b) for b in m.bounds)
            m.carried = [ir.Phi(sub(p.target), tuple(sub(s) for s in p.sources),
                                sub(p.out)) for p in m.carried]
            m.save = [sub(v) for v in m.save]
            m.save_start = [sub(v) for v in m.save_start]
            m.cond = sub(m.cond) if m.cond is not None else None
            m.exit = sub(m.exit) if m.exit is not None else None


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
