"""The names a loop alone binds that it must carry out (frontend, for ``flow``).

Contract: ``bound_by_loop(state, node, carried)`` lists the names a ``for`` or
``while`` loop binds without a value from before it (its target; names first
assigned in its body), beyond ``carried``, that must be carried as loop values
entering unbound (``ir.UNBOUND``): those the function reads outside the loop
(after it, or in an enclosing loop's next iteration) and those the body may read
before assigning them (the previous iteration's value). Python semantics then
follow: after the loop such a name holds its last value, its previous binding if
the loop did not run, and is unbound otherwise. A name read nowhere else is left
out, so loops whose names stay inside them lower as before. The choice is
syntactic and errs on the side of carrying (dead-code elimination drops a carried
value no one reads).
"""

from __future__ import annotations

import gast

from .state import LoweringState, Rec, Tup
from .syntax import RETURN, assigned_names, target_names


def bound_by_loop(state: LoweringState, node: gast.For | gast.While, carried: list[str]
                  ) -> list[str]:
    """The names to carry out of ``node`` entering unbound (see the module docstring)."""
    names = ([] if isinstance(node, gast.While) else target_names(node.target)) + \
        [n for n in assigned_names(node.body) if n not in carried]
    names = [n for n in dict.fromkeys(names) if n not in carried and n != RETURN
             and not isinstance(state.env.get(n), (Tup, Rec))]
    if not names:
        return []
    inside = {id(m) for part in (node.body, [node.target] if isinstance(node, gast.For)
                                 else [node.test]) for s in part for m in gast.walk(s)}
    outside = {m.id for m in gast.walk(state.src.tree) if isinstance(m, gast.Name)
               and isinstance(m.ctx, gast.Load) and id(m) not in inside}
    early = _read_first(node.body)
    return [n for n in names if n in outside or n in early]


def _read_first(body: list) -> set[str]:
    """Names ``body`` may read before it assigns them (a read on a line up to its first
    assignment's): from the previous iteration."""
    first: dict[str, int] = {}
    loads = []
    for m in (m for s in body for m in gast.walk(s)):
        if isinstance(m, gast.Name) and hasattr(m, "lineno"):
            if isinstance(m.ctx, gast.Load):
                loads.append(m)
            elif m.lineno < first.get(m.id, m.lineno + 1):
                first[m.id] = m.lineno
    return {m.id for m in loads if m.id in first and m.lineno <= first[m.id]}
