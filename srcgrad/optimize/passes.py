"""IR -> IR passes, and the driver that runs them (the optimize stage).

Contract: a pass never changes what the function returns, for any input; it
only uses facts true of every primitive in the IR (all are pure: a statement
has no effect other than defining its target; the in-place ops are the pure
"new version" ops printed in place). Tape pushes and pops are paired: a value
leaves the tape only through ``prune_tape``, which drops a value from both the
push and the pop when the adjoint no longer reads it.

``optimize(fn, disabled)`` runs ``PASSES`` in order, verifying the IR after
each; any pass can be switched off by name (``srcgrad show --no-opt`` switches
off all of them, ``SRCGRAD_DISABLE=cse,copies`` some, for debugging).
"""

from __future__ import annotations

import os

from .. import ir
from .shifts import max_shifts, released
from .simplify import (
    common_subexpressions,
    fold_constants,
    narrow_expands,
    propagate_copies,
    replace_reads,
)


def dead_code(fn: ir.Function) -> ir.Function:
    """Drop statements, merges and carried values that no returned value needs."""
    live = {o.name for o in fn.returns if isinstance(o, ir.Var)}
    body, _ = _block(fn.body, live)
    return ir.Function(fn.name, fn.params, body, fn.returns, fn.loc, fn.doc, fn.defaults)


def _names(ops) -> set[str]:
    return {o.name for o in ops if isinstance(o, ir.Var)}


def _block(block: list, live: set[str]) -> tuple[list, set[str]]:
    """The statements of ``block`` that ``live`` needs, and what is live before it."""
    live = set(live)
    kept: list[ir.Node] = []
    for n in reversed(block):
        if isinstance(n, ir.Stmt):
            if n.target.name in live or ir.is_check(n):
                kept.append(n)
                live |= _names(n.uses())
        elif isinstance(n, ir.If):
            if _if(n, live):
                kept.append(n)
        elif _loop(n, live):
            kept.append(n)
    return kept[::-1], live


def _if(n: ir.If, live: set[str]) -> bool:
    phis = [p for p in n.phis if p.target.name in live]
    branches, before = [], set()
    for which, branch in enumerate((n.then, n.orelse)):
        need = live | _names(p.sources[which] for p in phis) | _names(n.save[which])
        kept, inner = _block(branch, need)
        branches.append(kept)
        before |= inner
    n.then, n.orelse, n.phis = branches[0], branches[1], phis
    if not (n.then or n.orelse or phis or any(n.save) or any(n.restore)):
        return False
    live |= before | _names([n.cond])
    return True


def _loop(n: ir.Loop, live: set[str]) -> bool:
    original = n.body
    carried: list[ir.Phi] | None = None
    inner: set[str] = set()
    while True:  # carried values are needed if the body (as pruned so far) reads them
        keep = [p for p in n.carried if ir.loop_out(p).name in live or p.target.name in inner]
        need = live | _names(p.sources[1] for p in keep) | _names(n.save) | \
            _names(n.save_start) | _names([n.cond])
        if n.exit is not None:  # the break flag: the iterations that run depend on it
            keep += [p for p in n.carried if p.target is n.exit and p not in keep]
            need |= _names(p.sources[1] for p in keep)
        body, inner = _block(ir.clone(original), need)  # _block prunes regions in place
        _, test_live = _block(n.test, inner | _names([n.cond]))
        inner |= test_live
        if carried is not None and len(keep) == len(carried):
            break
        carried = keep
    n.body, n.carried = body, carried
    if not (body or carried or n.save or n.save_start or n.restore):
        return False
    live |= inner | _names(p.sources[0] for p in carried) | _names(n.bounds) | \
        _names([n.checkpoint[1]] if n.checkpoint else [])
    return True


_CHEAP = frozenset({"add", "sub", "mul", "neg", "floordiv", "mod"})


def prune_tape(fn: ir.Function) -> ir.Function:
    """Record in each loop only what its adjoint loop still reads (earlier passes may
    have removed reads), recomputing index arithmetic (``t - 1``) rather than
    recording it, then drop what only the tape needed."""
    changed = False
    defs = {s.target.name: s for s in ir.walk(fn.body) if isinstance(s, ir.Stmt)}
    names = set(defs) | {p.name for p in fn.params}
    for n in ir.walk(fn.body):
        if isinstance(n, ir.Loop) and n.adjoint and n.restore:
            changed |= _recompute(n, defs, names)
    for n in ir.walk(fn.body):
        if isinstance(n, ir.Loop) and n.adjoint and n.restore:
            used = {v.name for m in ir.walk(n.body) for v in ir.node_uses(m)} | \
                _names(s for p in n.carried for s in p.sources)
            for m in ir.walk(n.body):
                if isinstance(m, ir.If):
                    used |= {v.name for v in ir.node_uses(m)}
            for group in n.restore:  # the same list objects the forward loop pushes
                kept = [v for v in group if v.name in used]
                changed |= len(kept) != len(group)
                group[:] = kept
    return dead_code(fn) if changed else fn


def _recompute(n: ir.Loop, defs: dict, names: set[str]) -> bool:
    """In adjoint loop ``n``: values the tape restores that are cheap arithmetic on the
    loop index and constants are computed again at the top of the iteration."""
    nested = {v.name for m in ir.walk(n.body) if isinstance(m, (ir.If, ir.Loop))
              for group in (m.restore if isinstance(m, ir.Loop) else m.restore)
              for v in group}
    changed = False
    for group in n.restore:
        for v in list(group):
            s = defs.get(v.name)
            if s is None or s.op not in _CHEAP or s.kwargs or v.name in nested or not all(
                    isinstance(a, ir.Const) or a == n.index for a in s.args):
                continue
            again = ir.Var(_fresh(v.name + "_again", names), "temp")
            n.body.insert(0, ir.Stmt(again, s.op, s.args, s.loc, adjoint=True))
            _rename_in(n.body[1:], v.name, again)
            group.remove(v)
            changed = True
    return changed


def _fresh(name: str, names: set[str]) -> str:
    k, out = 0, name
    while out in names:
        k += 1
        out = f"{name}{k}"
    names.add(out)
    return out


def _rename_in(block: list, old: str, new: ir.Var) -> None:
    replace_reads(block, lambda o: new if isinstance(o, ir.Var) and o.name == old else o)


PASSES = {"lse": max_shifts, "fold": fold_constants, "copies": propagate_copies,
          "cse": common_subexpressions, "expand": narrow_expands, "dce": dead_code,
          "tape": prune_tape}


# Passes that also run on the function before it is differentiated, so that the
# derivative (and its tape) is built from one copy of each shared value. Not dead
# code elimination: the transform must still see (and refuse) a write into a view.
PRIMAL_PASSES = ("fold", "copies", "cse", "lse")  # (lse after cse: one read of alpha[T - 1])
# Passes on the function before it is differentiated only ("lse": the max-shift of a
# log-sum-exp is made a constant of the derivative, shifts.py).
_PRIMAL_ONLY = frozenset({"lse"})


def simplify_primal(fn: ir.Function, disabled: frozenset[str] | None = None) -> ir.Function:
    """The ``PRIMAL_PASSES`` on a copy of ``fn`` (lowered functions are cached)."""
    disabled = _disabled(disabled)
    fn = ir.Function(fn.name, fn.params, ir.clone(fn.body), fn.returns, fn.loc, fn.doc,
                     fn.defaults)
    for name in PRIMAL_PASSES:
        if name not in disabled:
            fn = PASSES[name](fn)
            ir.verify(fn)
    return fn


def _disabled(disabled: frozenset[str] | None) -> frozenset[str]:
    if disabled is None:
        return frozenset(os.environ.get("SRCGRAD_DISABLE", "").replace(" ", "").split(","))
    return disabled


def optimize(fn: ir.Function, disabled: frozenset[str] | None = None) -> ir.Function:
    disabled = _disabled(disabled)
    if "copies" not in disabled:
        fn = released(fn)
    for name, p in PASSES.items():
        if name not in disabled and name not in _PRIMAL_ONLY:
            fn = p(fn)
            ir.verify(fn)
    return fn
