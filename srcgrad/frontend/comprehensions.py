"""Lowering of comprehensions (frontend stage).

Contract, on top of ``lower.py``'s:

- ``sum(f(t) for t in xs if c)`` (or over a list comprehension) is the loop
  that accumulates it: ``total = 0`` then ``total = total + f(t)``;
- ``[f(t) for t in xs if c]`` is the loop that builds it: ``items = []`` then
  ``items.append(f(t))``;
- the comprehension's own names (its ``for`` targets) are renamed to fresh
  names, since in Python they are local to it and must not touch the
  function's variables of the same name.

``Comprehensions`` reads the state's ``env`` and ``namer`` and asks the core to
lower the statements it builds (the loops are then those of ``flow``).
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import gast

from .state import Core, LoweringState
from .syntax import assign_to, load_name


class Comprehensions:
    """Comprehensions and generator expressions of one body's lowering."""

    def __init__(self, state: LoweringState, core: Core):
        self.state, self.core = state, core

    def sum_of(self, node: gast.Call) -> object:
        """``sum(f(t) for t in xs if c)`` as the loop it is: ``acc = acc + f(t)``."""
        start = node.args[1] if len(node.args) == 2 else gast.Constant(0, None)
        return self.comprehension(node.args[0], start, lambda acc, elt: assign_to(
            acc, gast.BinOp(load_name(acc), gast.Add(), elt), elt))

    def list_comp(self, node: gast.ListComp, into: str | None) -> object:
        """``[f(t) for t in xs if c]`` as the loop it is: ``acc.append(f(t))``."""
        return self.comprehension(node, gast.List([], gast.Load()), lambda acc, elt: (
            gast.copy_location(gast.Expr(gast.Call(gast.Attribute(
                load_name(acc), "append", gast.Load()), [elt], [])), elt)))

    def comprehension(self, gen: gast.expr, start: gast.expr,
                      step_of: Callable[[str, gast.expr], gast.stmt]) -> object:
        state = self.state
        if len(gen.generators) != 1 or gen.generators[0].is_async:
            raise state.unsupported(gen, "only one `for` in a comprehension is supported yet")
        comp = gen.generators[0]
        renames = {name: state.namer.fresh(name) for name in _bound(comp.target)}
        acc = state.namer.fresh("total" if isinstance(start, gast.Constant) else "items")
        step = step_of(acc, _renamed(gen.elt, renames))
        for cond in comp.ifs:
            step = gast.copy_location(gast.If(_renamed(cond, renames), [step], []), cond)
        loop = gast.copy_location(gast.For(_renamed(comp.target, renames), comp.iter, [step],
                                           [], None), gen)
        for stmt in (assign_to(acc, gast.copy_location(start, gen), gen), loop):
            self.core.stmt(stmt)
        return state.env[acc]


def _bound(target) -> list[str]:
    return [n.id for n in gast.walk(target) if isinstance(n, gast.Name)]


def _renamed(node, names: dict):
    """A copy of ``node`` with the comprehension's own names replaced (they are local
    to it in Python, so they must not clash with the function's)."""
    node = copy.deepcopy(node)
    for n in gast.walk(node):
        if isinstance(n, gast.Name) and n.id in names:
            n.id = names[n.id]
    return node
