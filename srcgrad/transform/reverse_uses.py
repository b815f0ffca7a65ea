"""Which adjoints each forward node contributes to (part of the reverse stage).

Read-only queries over the forward IR and its activity, used to count, before
a block is reversed, how many contributions each variable will receive (its
adjoint completes when the last one is in). A node contributes to an active
variable once per differentiable operand position it appears in; a region
(branch or loop) counts as one use of each active variable from outside it
that it contributes to.
"""

from __future__ import annotations

from .. import ir
from .analysis import Analysis
from .reverse_state import Scope


def vars_of(ops: object) -> list[ir.Var]:
    """The variables among operands (a bound ``*args`` value is a tuple of them)."""
    if not isinstance(ops, (tuple, list)):
        ops = (ops,)
    out = []
    for o in ops:
        if isinstance(o, tuple):
            out += vars_of(o)
        elif isinstance(o, ir.Var):
            out.append(o)
    return out


def out_of(p: ir.Phi) -> ir.Var:
    """A loop-carried value's variable after the loop (every loop phi has one)."""
    assert p.out is not None, p
    return p.out


def block_defs(block: list) -> set[str]:
    """Variables whose adjoints complete in this block's scope."""
    names = set()
    for n in block:
        if isinstance(n, ir.Loop):
            names |= {out_of(p).name for p in n.carried}
        else:
            names |= {v.name for v in ir.node_defs(n)}
    return names


def region_defs(n: ir.Node) -> set[str]:
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


class Uses:
    """The uses of active variables in the forward IR ``analysis`` was made of; reads
    only ``analysis.active`` and ``analysis.rules``."""

    def __init__(self, analysis: Analysis):
        self.active = analysis.active
        self.rules = analysis.rules

    def active_uses(self, n: ir.Node) -> list[ir.Var]:
        """Active variables whose adjoints node ``n`` contributes to (with repeats)."""
        act = self.active
        if isinstance(n, ir.Stmt):
            if n.target.name not in act:
                return []
            found = self.rules[id(n)]
            assert found is not None  # (an active statement has a rule: analysis checks)
            rule, bound = found
            return [v for p, val in bound.items() if rule.differentiable(p)
                    for v in vars_of(val) if v.name in act]
        uses = []
        if isinstance(n, ir.If):
            for p in n.phis:
                if p.target.name in act:
                    uses += [s for s in vars_of(p.sources) if s.name in act]
            for m in n.then + n.orelse:
                uses += self.active_uses(m)
            return uses
        for p in self.active_carries(n):
            uses += [s for s in vars_of(p.sources) if s.name in act]
        for m in n.body:
            uses += self.active_uses(m)
        return uses

    def active_carries(self, n: ir.Loop) -> list[ir.Phi]:
        """The loop-carried values of ``n`` that get adjoints."""
        return [p for p in n.carried
                if p.target.name in self.active or out_of(p).name in self.active]

    def free_uses(self, n: ir.Node) -> list[ir.Var]:
        """Active variables defined outside region ``n`` that it contributes to, once each."""
        inner = region_defs(n)
        seen: dict[str, ir.Var] = {}
        for v in self.active_uses(n):
            if v.name not in inner:
                seen.setdefault(v.name, v)
        return [seen[k] for k in sorted(seen)]

    def used_in_body(self, n: ir.Loop, v: ir.Var) -> bool:
        """Whether loop ``n``'s body itself contributes to ``v``."""
        return any(u.name == v.name for m in n.body for u in self.active_uses(m))

    def count(self, block: list, scope: Scope) -> None:
        """Add to ``scope.pending`` how many contributions each variable will receive
        from ``block``."""
        for n in block:
            uses = self.active_uses(n) if isinstance(n, ir.Stmt) else self.free_uses(n)
            for v in uses:
                scope.pending[v.name] = scope.pending.get(v.name, 0) + 1
