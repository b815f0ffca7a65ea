"""IR -> IR passes. Each takes a Function and returns an equivalent Function.

Contract: a pass never changes what the function returns, for any input; it
only uses facts true of every primitive in the IR (all are pure: a statement
has no effect other than defining its target; the in-place ops are the pure
"new version" ops printed in place). Tape pushes and pops are kept as they
are: they are paired, and their values count as used.
"""

from __future__ import annotations

from . import ir


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
    kept = []
    for n in reversed(block):
        if isinstance(n, ir.Stmt):
            if n.target.name in live:
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
        keep = [p for p in n.carried if p.out.name in live or p.target.name in inner]
        need = live | _names(p.sources[1] for p in keep) | _names(n.save) | \
            _names(n.save_start) | _names([n.cond])
        body, inner = _block(ir.clone(original), need)  # _block prunes regions in place
        _, test_live = _block(n.test, inner | _names([n.cond]))
        inner |= test_live
        if carried is not None and len(keep) == len(carried):
            break
        carried = keep
    n.body, n.carried = body, carried
    if not (body or carried or n.save or n.save_start or n.restore):
        return False
    live |= inner | _names(p.sources[0] for p in carried) | _names(n.bounds)
    return True


PASSES = (dead_code,)


def optimize(fn: ir.Function) -> ir.Function:
    for p in PASSES:
        fn = p(fn)
        ir.verify(fn)
    return fn
