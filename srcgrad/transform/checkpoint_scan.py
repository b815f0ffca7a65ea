"""What ``checkpointing`` asks of a forward loop before checkpointing it (part of the
reverse stage).

Contract: each function reads the loop (and, for ``written_later``, the code after
it) and changes nothing.

- ``draws``: a statement of the loop drawing random numbers (NumPy's generators and
  global state, ``random``): recomputing the loop would draw others.
- ``grows``: the loop writes into, or appends to, a value it carries (a table filled
  in place, a list built by ``append``): every snapshot would copy the whole of it, so
  ``grad(f, checkpoint=...)`` leaves such a loop taped (a marked one is the user's
  choice).
- ``written_later``: the values the loop reads, defined before it, that code after it
  writes into in place: recomputed iterations must read them as they were.
"""

from __future__ import annotations

import random

import numpy as np

from .. import ir

_WRITES = ("setitem", "addat", "scatter", "iadd", "append", "droplast")
_GENERATORS = (np.random.Generator, np.random.RandomState, random.Random)


def draws(n: ir.Loop) -> ir.Stmt | None:
    """The first statement in ``n`` that draws random numbers, if any."""
    for m in ir.walk(n.body):
        if isinstance(m, ir.Stmt) and isinstance(m.op, ir.Callee) and _random(m.op.obj):
            return m
    return None


def _random(obj: object) -> bool:
    if isinstance(getattr(obj, "__self__", None), _GENERATORS):
        return True  # rng.normal, np.random.normal (the global RandomState's), random.random
    module = getattr(obj, "__module__", None) or ""
    return module.startswith("numpy.random") or module == "random"


def grows(n: ir.Loop) -> bool:
    """Whether ``n`` writes into (or appends to) a value it carries."""
    chain = {p.target.name for p in n.carried}
    written = False
    changed = True
    while changed:  # versions of the carried values, through writes and merges
        changed = False
        for m in ir.walk(n.body):
            if isinstance(m, ir.Stmt) and m.op in _WRITES and isinstance(m.args[0], ir.Var) \
                    and m.args[0].name in chain:
                written = True
                new = {m.target.name}
            elif isinstance(m, (ir.If, ir.Loop)):
                phis = m.phis if isinstance(m, ir.If) else m.carried
                new = {v.name for p in phis if any(isinstance(s, ir.Var) and s.name in chain
                                                   for s in p.sources)
                       for v in (p.target, p.out) if v is not None}
            else:
                continue
            if not new <= chain:
                chain |= new
                changed = True
    return written


def written_later(n: ir.Loop, rest: list) -> list[ir.Var]:
    """The variables ``n`` reads, defined before it, whose buffer a statement of ``rest``
    (or of the regions in it) writes into in place, directly or through the versions
    that share it (a later loop's carried value entering as it)."""
    inside = {v.name for m in [n, *ir.walk(n.body)] for v in ir.node_defs(m)}
    read: dict[str, ir.Var] = {}
    for m in ir.walk(n.body):
        for v in ir.node_uses(m):
            if v.name not in inside:
                read.setdefault(v.name, v)
    later = ir.walk(rest)
    return [v for v in read.values() if _written(v.name, later)]


def _written(name: str, nodes: list) -> bool:
    """Whether a statement of ``nodes`` writes in place into ``name``'s buffer."""
    shared = {name}
    changed = True
    while changed:
        changed = False
        for m in nodes:
            if isinstance(m, ir.Stmt) and m.op in _WRITES and isinstance(m.args[0], ir.Var) \
                    and m.args[0].name in shared:
                return True
            if isinstance(m, (ir.If, ir.Loop)):
                phis = m.phis if isinstance(m, ir.If) else m.carried
                new = {v.name for p in phis if any(isinstance(s, ir.Var) and s.name in shared
                                                   for s in p.sources)
                       for v in (p.target, p.out) if v is not None}
                if not new <= shared:
                    shared |= new
                    changed = True
    return False
