"""Code whose every name has one type, for a compiler that types them (numba):
what ``emit(fn, typed=True)`` changes, each the same numbers in Python.

``Typed`` rewrites a statement's syntax tree; ``reversed_range`` writes a reversed
range as a range (numba has no ``reversed``). The tapes (one per group of pushed
names) are ``emit``'s own (``_Emitter.tape_of``).
"""

from __future__ import annotations

import ast

import numpy as np

from .. import runtime
from .namespace import Namespace
from .namespace import load as _load


class Typed(ast.NodeTransformer):
    """A statement as code whose every name has one type (``emit``'s ``typed``), the
    same numbers in Python: list displays passed to calls are tuples
    (``np.zeros([n, m])``: a length a compiler knows); a scalar's zero or copy is a
    number, not a 0-d array (``np.zeros(())`` is ``0.0``; ``np.copy`` is
    ``copy_adjoint``, which copies arrays only), since a name holding a number on one
    path and a 0-d array on another has no one type: in adjoint statements only (an
    adjoint is a float64 number or array; the user's ``np.copy(a_list)`` stays)."""

    def __init__(self, ns: Namespace, adjoint: bool):
        self.ns, self.adjoint = ns, adjoint

    def visit_Call(self, node: ast.Call) -> ast.expr:
        self.generic_visit(node)
        node.args = [ast.Tuple(a.elts, ast.Load()) if isinstance(a, ast.List) else a
                     for a in node.args]
        fn = node.func
        if not (self.adjoint and isinstance(fn, ast.Attribute) and
                isinstance(fn.value, ast.Name) and self.ns.values.get(fn.value.id) is np):
            return node
        if fn.attr == "zeros" and len(node.args) == 1 and not node.keywords and \
                isinstance(node.args[0], ast.Tuple) and not node.args[0].elts:
            return ast.Constant(0.0)
        if fn.attr == "copy" and len(node.args) == 1 and not node.keywords:
            node.func = _load(self.ns.bind("copy_adjoint", runtime.copy_adjoint))
        return node


def reversed_range(bounds: list[str], ns: Namespace) -> str:
    """``reversed(range(*bounds))`` as a range: from the last value down to the
    first (for a step other than 1, the last is start + (len - 1) * step)."""
    range_ = ns.bind("range", range)
    if len(bounds) < 3:
        start, stop = ["0", *bounds] if len(bounds) == 1 else bounds
        return f"{range_}({_minus_one(stop)}, {_minus_one(start)}, -1)"
    start, stop, step = (b if b.isidentifier() or b.lstrip("-").isdigit() else f"({b})"
                         for b in bounds)
    count = f"{ns.bind('len', len)}({range_}({start}, {stop}, {step}))"
    return f"{range_}({start} + ({count} - 1) * {step}, {start} - {step}, -{step})"


def _minus_one(bound: str) -> str:
    """``bound - 1`` as text, folded for a literal integer."""
    try:
        return str(int(bound) - 1)
    except ValueError:
        return f"{bound} - 1" if bound.isidentifier() else f"({bound}) - 1"
