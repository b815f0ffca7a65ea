"""NumPy calls lowered into other calls (issue 20), for ``calls.Calls``:

- ``select``: ``np.select(conditions, choices, default)`` of sequences known now
  (displays, tuples) is nested ``np.where``;
- ``einsum_sublists``: ``np.einsum(a, [0, 1], b, [1, 2], [0, 2])`` with sublist displays
  is ``np.einsum("AB,BC->AC", a, b)``;
- ``multi_dot``: ``np.linalg.multi_dot([a, b, c])`` of a sequence known now is
  ``np.matmul`` left to right (the same product; NumPy may associate it otherwise, so
  the last bits of the value may differ);
- ``array_only``: a NumPy function given a list display whose rules take an array only
  (``np.mean([a, b], axis=0)``) gets ``np.asarray([a, b])``, as NumPy makes it.

Each returns None (or False) to leave the call to the usual lowering; they keep nothing.
"""

from __future__ import annotations

from typing import Any

import gast
import numpy as np

from .. import ir, rules
from .state import Tup
from .unroll import Unroll


def select(calls: Any, node: gast.Call) -> ir.Operand | None:
    """``np.select(conditions, choices, default=0)`` of sequences known now (displays,
    tuples): nested ``np.where``, the first true condition's choice winning as in
    NumPy, so the choices and the default are differentiated and the conditions are
    not. None (the usual lowering) for anything else."""
    params = ("condlist", "choicelist", "default")
    syntax = dict(zip(params, node.args, strict=False))
    if len(node.args) > 3 or any(k.arg not in params or k.arg in syntax
                                 for k in node.keywords):
        return None
    syntax.update((k.arg, k.value) for k in node.keywords if k.arg is not None)
    seqs = [_known_items(calls, syntax.get(p)) for p in params[:2]]
    if seqs[0] is None or seqs[1] is None or len(seqs[0]) != len(seqs[1]):
        return None
    state, where = calls.state, ir.Callee(_WHERE_NAME, np.where, np)
    out = calls.core.value(syntax["default"]) if "default" in syntax else ir.Const(0)
    for c, x in reversed(list(zip(*seqs, strict=True))):
        out = state.emit(state.temp(), where, (calls.core.pack(c, node),
                                               calls.core.pack(x, node), out), node)
    return out


def einsum_sublists(calls: Any, callee: ir.Callee, node: gast.Call,
                    into: str | None) -> ir.Var | None:
    """``np.einsum(a, [0, 1], b, [1, 2], [0, 2])`` with sublists written as displays of
    integers (and ``...``): lowered as ``np.einsum("AB,BC->AC", a, b)``, whose rule
    applies. None (the usual lowering) for any other call."""
    args = node.args
    if len(args) < 2 or any(isinstance(a, gast.Starred) for a in args) or (
            isinstance(args[0], gast.Constant) and isinstance(args[0].value, str)):
        return None
    paired = len(args) - len(args) % 2  # (operand, sublist) pairs, then the output's
    operands, subs = args[0:paired:2], [*args[1:paired:2], *args[paired:]]
    found = [_sublist(n) for n in subs]
    lists = [x for x in found if x is not None]
    if len(lists) != len(found):
        if isinstance(args[1], (gast.List, gast.Tuple)):  # the sublist form, not literal
            raise calls.state.unsupported(
                node, "np.einsum's sublist form is supported with each sublist written in "
                "the call as a list of integers 0..51 (and ...)",
                "Write them in the call, np.einsum(a, [0, 1], b, [1, 2], [0, 2]), or give "
                "the subscripts string: np.einsum('ij,jk->ik', a, b).")
        return None
    text = ",".join(map(_letters, lists[:len(operands)]))
    if len(args) % 2:
        text += "->" + _letters(lists[-1])
    values_ = [calls.core.value(a) for a in operands]
    kwargs = [(k.arg, calls.core.value(k.value)) for k in node.keywords]
    return calls.state.emit(calls.state.result(into), callee,
                            [ir.Const(text), *values_], node, kwargs)


def multi_dot(calls: Any, node: gast.Call) -> ir.Operand | None:
    """``np.linalg.multi_dot(arrays)`` of at least two arrays in a sequence known now
    (a display, a tuple): ``np.matmul`` of them left to right (a 1-D first or last array
    is a row or column vector in both). None (the usual lowering) for anything else."""
    if len(node.args) != 1 or node.keywords:
        return None
    items = _known_items(calls, node.args[0])
    if items is None or len(items) < 2:
        return None
    state, matmul = calls.state, ir.Callee("np.matmul", np.matmul, np)
    out = calls.core.pack(items[0], node)
    for item in items[1:]:
        out = state.emit(state.temp(), matmul, (out, calls.core.pack(item, node)), node)
    return out


def _known_items(calls: Any, node: gast.expr | None) -> list | None:
    if isinstance(node, (gast.List, gast.Tuple)) and \
            not any(isinstance(e, gast.Starred) for e in node.elts):
        return [calls.core.expr(e) for e in node.elts]
    known = Unroll(calls.state, calls.core).known(node) if node is not None else None
    return list(known) if isinstance(known, Tup) else None


ASARRAY_NAME, _WHERE_NAME = "np.asarray", "np.where"
_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"  # NumPy's sublist order


def _letters(sublist: list) -> str:
    return "".join("..." if i is Ellipsis else _LETTERS[i] for i in sublist)


def _sublist(node: gast.expr) -> list | None:
    """The integers (and ``...``, ``Ellipsis``) of a sublist display, or None."""
    if not isinstance(node, (gast.List, gast.Tuple)):
        return None
    out = [e.value if isinstance(e, gast.Constant) else Ellipsis for e in node.elts
           if isinstance(e, gast.Constant) or (isinstance(e, gast.Name) and e.id == "Ellipsis")]
    ok = len(out) == len(node.elts) and all(
        v is Ellipsis or (isinstance(v, int) and not isinstance(v, bool) and 0 <= v < 52)
        for v in out)
    return out if ok else None


def array_only(callee: ir.Callee) -> bool:
    """Whether a NumPy function given a list or tuple display has rules for an array
    argument only (``np.mean``, ``np.sum``, ``np.var``): NumPy makes the list an array
    first, and so does the lowering (``np.asarray([a, b])``, which has a rule)."""
    found = rules.overloads(callee.obj)
    module = getattr(callee.obj, "__module__", None) or ""
    return bool(found) and module.startswith("numpy") and not any(
        r.nondiff or (r.seq is not False and r.variadic) for r in found)
