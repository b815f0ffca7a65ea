"""Lowering of comprehensions (frontend stage).

Contract, on top of ``lower.py``'s:

- ``sum(f(t) for t in xs if c)`` (or over a list comprehension) is the loop
  that accumulates it: ``total = 0`` then ``total = total + f(t)``;
- ``[f(t) for t in xs if c]`` is the loop that builds it: ``items = []`` then
  ``items.append(f(t))``;
- several ``for``s and ``if``s are nested loops and ``if``s, in the order written
  (the first iterable is evaluated outside, as in Python); a generator
  expression other than ``sum``'s is the list it gives; ``list``/``tuple`` of a
  comprehension is its list;
- ``sum``, ``list``, ``tuple``, ``reversed`` and ``len`` of structure known now
  (``d.values()``, a tuple or list argument, a slice of one) are known now too:
  ``sum`` adds the entries in order; ``reversed(xs)`` of a list made at run time
  is ``xs[::-1]``;
- a dict comprehension is unrolled (``unroll``): its keys must be constants now;
  set comprehensions are refused;
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

from .. import ir
from .state import Core, LoweringState, Rec, Tup
from .syntax import assign_to, load_name
from .unroll import Unroll


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

    def generator(self, node: gast.GeneratorExp, into: str | None) -> object:
        """A generator expression anywhere but in ``sum``: the list it would give (the
        items are computed at once; a differentiated function has no side effects for
        the difference to show)."""
        return self.list_comp(node, into)

    def dict_comp(self, node: gast.DictComp, into: str | None) -> Rec:
        """``{k: f(v) for k, v in d.items()}`` over items known now: see ``unroll``."""
        renames = {name: self.state.namer.fresh(name) for gen in node.generators
                   for name in _bound(gen.target)}
        return Unroll(self.state, self.core).dict_comp(node, lambda n: _renamed(n, renames))

    def set_comp(self, node: gast.SetComp, into: str | None) -> object:
        raise self.state.unsupported(node, "set comprehensions are not supported",
                                     "Build a list ([f(t) for t in xs]) or a dict with "
                                     "constant keys instead.")

    def call(self, fn: object, node: gast.Call, into: str | None) -> object | None:
        """``sum``, ``list``, ``tuple``, ``len`` and ``reversed`` of a comprehension or of
        structure known now; None for any other call (lowered as a call)."""
        args = node.args
        if fn in (max, min) and len(args) == 1 and \
                isinstance(args[0], (gast.GeneratorExp, gast.ListComp)):
            raise self.state.unsupported(args[0], f"{fn.__name__}() of a comprehension is "
                                         "not supported yet", f"Stack the items first: "
                                         f"np.{fn.__name__}(np.stack([...])), or write "
                                         f"{fn.__name__}(a, b, ...).")
        if fn not in (sum, list, tuple, len, reversed) or node.keywords or \
                not 1 <= len(args) <= (2 if fn is sum else 1):
            return None
        if fn is len:
            return Unroll(self.state, self.core).length(node)
        comp = isinstance(args[0], (gast.GeneratorExp, gast.ListComp))
        if fn is sum and comp:
            return self.sum_of(node)
        if comp and fn is not reversed:
            return self.core.expr(args[0], into)  # a new list already
        known = Unroll(self.state, self.core).known(args[0])
        if isinstance(known, Rec) and fn is not sum:  # list(d): its keys
            known = Unroll.view(known, "keys")
        if known is None and fn is reversed:  # a list at run time: xs[::-1]
            xs = self.core.value(args[0])
            return self.state.emit(self.state.result(into), "getitem",
                                   (xs, ir.Const(slice(None, None, -1))), node)
        if not isinstance(known, Tup):
            return None
        if fn is reversed:
            return Tup(known[::-1])
        if fn is not sum:
            return Tup(known)  # a new list or tuple: growing it changes no other holder
        return self.sum_known(known, args, node, into)

    def sum_known(self, items: Tup, args: list, node: gast.Call, into: str | None) -> object:
        """``sum(d.values())`` of values known now: ``start + v0 + v1 + ...``."""
        state = self.state
        total = self.core.value(args[1]) if len(args) == 2 else None
        for i, item in enumerate(items):
            item = self.core.pack(item, node)
            if total is None:
                total = item
                continue
            last = i == len(items) - 1
            total = state.emit(state.result(into if last else None), "add", (total, item),
                               node)
        return ir.Const(0) if total is None else total

    def comprehension(self, gen: gast.expr, start: gast.expr,
                      step_of: Callable[[str, gast.expr], gast.stmt]) -> object:
        """The loops a comprehension is: one ``for`` per generator, outermost first, each
        with its conditions around what it encloses."""
        state = self.state
        if any(g.is_async for g in gen.generators):
            raise state.unsupported(gen, "async comprehensions are not supported")
        renames = {name: state.namer.fresh(name) for comp in gen.generators
                   for name in _bound(comp.target)}
        acc = state.namer.fresh("total" if isinstance(start, gast.Constant) else "items")
        step = step_of(acc, _renamed(gen.elt, renames))
        for k, comp in reversed(list(enumerate(gen.generators))):
            for cond in reversed(comp.ifs):
                step = gast.copy_location(gast.If(_renamed(cond, renames), [step], []), cond)
            # The first iterable is evaluated outside the comprehension: not renamed.
            it = comp.iter if k == 0 else _renamed(comp.iter, renames)
            step = gast.copy_location(gast.For(_renamed(comp.target, renames), it, [step],
                                               [], None), gen)
        for stmt in (assign_to(acc, gast.copy_location(start, gen), gen), step):
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
