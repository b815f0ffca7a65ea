"""IR -> IR passes. Each takes a Function and returns an equivalent Function.

Contract: a pass never changes what the function returns, for any input; it
only uses facts true of every primitive in the IR (all are pure: no
statement has an effect other than defining its target).
"""

from __future__ import annotations

from . import ir


def dead_code(fn: ir.Function) -> ir.Function:
    """Drop statements whose target reaches no return value."""
    live = {o.name for o in fn.returns if isinstance(o, ir.Var)}
    kept = []
    for s in reversed(fn.body):
        if s.target.name in live:
            kept.append(s)
            live.update(u.name for u in s.uses())
    return ir.Function(fn.name, fn.params, kept[::-1], fn.returns, fn.loc, fn.doc, fn.defaults)


PASSES = (dead_code,)


def optimize(fn: ir.Function) -> ir.Function:
    for p in PASSES:
        fn = p(fn)
        ir.verify(fn)
    return fn
