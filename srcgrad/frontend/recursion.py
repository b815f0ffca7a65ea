"""Recursion (frontend stage): a helper that calls itself is inlined again.

Contract: a call of a function already being inlined is inlined once more, up to
``LIMIT`` copies of it on the inlining stack (or fewer, where lowering would come near
Python's own recursion limit); past that, a located ``UnsupportedSyntax`` at the
recursive call. Unrolling ends where the recursion is decided while lowering:
conditions on what lowering knows (``isinstance`` of a nested tuple or list, ``len`` of
one, comparisons of int constants such as ``n == 0`` in ``power(x, n - 1)``) fold to
constants, and ``flow.lower_if`` lowers only the branch taken. A condition on a run-time
value lowers both branches, so such a recursion never stops unrolling: it reaches the
limit and is refused, saying why and what to write (a loop).

Here too, what decides it: ``decide`` (``isinstance`` and ``len`` of structure, for
``calls``), ``int_op`` and ``int_compare`` (operators on int constants, for ``lower``).
"""

from __future__ import annotations

import operator
import sys
import types

import gast

from .. import ir
from ..errors import Loc, UnsupportedSyntax
from .state import Rec, Tup

LIMIT = 64  # copies of one function on the inlining stack
_MARGIN = 250  # Python frames kept free below the interpreter's limit (lowering recurses)


def _frames() -> int:
    frame: types.FrameType | None = sys._getframe()
    n = 0
    while frame is not None:
        frame, n = frame.f_back, n + 1
    return n


def check(inlining: list, fn: object, name: str, loc: Loc) -> None:
    """Refuse a call of ``fn`` (named ``name``, at ``loc``) when ``inlining``, the
    functions being inlined, holds ``LIMIT`` copies of it already."""
    if inlining.count(fn) < LIMIT and _frames() < sys.getrecursionlimit() - _MARGIN:
        return
    raise UnsupportedSyntax(
        f"{name} calls itself more than {LIMIT} deep: srcgrad unrolls a recursion only "
        "where what decides it is known while lowering (the structure of a nested tuple "
        "or list, an int constant); here a condition on a run-time value decides when "
        "it stops (or it is deeper than that)", loc,
        "Write the recursion as a loop (while cond: ...), or recurse on a structure or "
        "an int known while lowering (power(x, 3), a nested tuple).")


_TYPES = {"list": list, "tuple": tuple, "dict": dict}


def decide(state, core, fn: object, node: gast.Call) -> ir.Const | None:
    """``isinstance(v, T)`` and ``len(v)``, decided while lowering where what they ask
    is known then (the conditions that end a recursion over structure); None: lower the
    call as any other (``len`` of a run-time value)."""
    if fn is len and len(node.args) == 1 and not node.keywords:
        value = core.expr(node.args[0])
        return ir.Const(len(value)) if isinstance(value, (Tup, Rec)) else None
    if fn is not isinstance:
        return None
    kinds = _types(state, node)
    value = core.expr(node.args[0])
    if isinstance(value, Rec):
        return ir.Const(dict in kinds)
    if isinstance(value, Tup):
        if (list in kinds) != (tuple in kinds):
            raise state.unsupported(node, "isinstance(x, tuple) or isinstance(x, list) of a "
                                    "tuple or list known while lowering: srcgrad keeps its "
                                    "items, not which of the two it is",
                                    "Write isinstance(x, (list, tuple)).")
        return ir.Const(list in kinds)
    if isinstance(value, ir.Const) and value.name is None:
        return ir.Const(isinstance(value.value, kinds))
    if isinstance(value, ir.Var) and _copied_from(state, value) in _argument_leaves(state):
        return ir.Const(False)  # an argument's leaf: a number or an array
    raise state.unsupported(node, "isinstance of a value computed at run time is not "
                            "decided while lowering", "Test the structure of an argument "
                            "(isinstance(t, (list, tuple)) on a nested tuple argument), or "
                            "write separate functions.")


def _types(state, node: gast.Call) -> tuple:
    """The types of ``isinstance(v, T)``: ``list``, ``tuple``, ``dict`` or a tuple of
    them, spelled as the builtins (and not rebound)."""
    spec = node.args[1] if len(node.args) == 2 and not node.keywords else None
    elts = spec.elts if isinstance(spec, gast.Tuple) else [spec]
    found = []
    for e in elts:
        if not (isinstance(e, gast.Name) and e.id in _TYPES and state.lookup(e.id) is None
                and e.id not in state.src.globals):
            raise state.unsupported(node, "isinstance is decided while lowering for list, "
                                    "tuple and dict only", "Write isinstance(x, (list, tuple)).")
        found.append(_TYPES[e.id])
    return tuple(found)


def _argument_leaves(state) -> list:
    """The Vars of the differentiated function's own arguments (each a number or an
    array: a tuple, list or dict argument is a structure of them), as still bound."""
    root = state
    while root.parent is not None:
        root = root.parent
    leaves: list = []
    todo = [root.env.get(a.id) for a in root.src.tree.args.args]
    while todo:
        v = todo.pop()
        if isinstance(v, (Tup, Rec)):
            todo.extend(v.values() if isinstance(v, Rec) else v)
        elif isinstance(v, ir.Var):
            leaves.append(v)
    return leaves


def _copied_from(state, v: ir.Var) -> ir.Var:
    """The value ``v`` is a copy of (``left, right = node`` copies the leaves), through
    the copies lowered so far in this body and its callers'."""
    copies = {}
    chain = state
    while chain is not None:
        copies.update({n.target.name: n.args[0] for n in ir.walk(chain.body)
                       if isinstance(n, ir.Stmt) and n.op == "copy" and
                       isinstance(n.args[0], ir.Var)})
        chain = chain.parent
    seen = set()
    while v.name in copies and v.name not in seen:
        seen.add(v.name)
        v = copies[v.name]
    return v


# Operators on int constants (literals and what they fold to), decided while lowering so
# that a recursion on an int (``power(x, n - 1)`` until ``n == 0``) ends (``lower.py``).
_INT_OPS = {"add": operator.add, "sub": operator.sub, "mul": operator.mul,
            "floordiv": operator.floordiv, "mod": operator.mod}
_INT_COMPARE = {"eq": operator.eq, "ne": operator.ne, "lt": operator.lt, "le": operator.le,
                "gt": operator.gt, "ge": operator.ge}


def _int(o: object) -> int | None:
    """The value of an int literal (or of what literals fold to), else None."""
    if isinstance(o, ir.Const) and o.name is None and type(o.value) is int:
        return o.value
    return None


def int_op(op: str, left: object, right: object) -> ir.Const | None:
    """``left op right`` of two int constants, as a constant (None: not decided now)."""
    a, b = _int(left), _int(right)
    if a is None or b is None or op not in _INT_OPS:
        return None
    if op in ("floordiv", "mod") and b == 0:
        return None  # Python raises: the generated code does, at the user's line
    return ir.Const(_INT_OPS[op](a, b))


def int_compare(op: str, a: object, b: object) -> bool | None:
    """A comparison of two int values, decided now (None: not two ints)."""
    if op in _INT_COMPARE and type(a) is int and type(b) is int:
        return bool(_INT_COMPARE[op](a, b))
    return None
