"""Aliases: the calls that may hand back their argument, and the in-place operators
through aliases that lowering records, checked once kinds are known.

``SAME_BUFFER`` lists the calls (NumPy's and ``srcgrad.runtime``'s) whose result may be
their first argument or a view of it; ``may_share_first`` asks it of a statement (the
reverse transform copies such a view before a write changes it, the backend does not
move a read past a write into its buffer).

Lowering (``frontend/inplace.py``) records in ``HAZARDS``, under the location and target
of a ``w op= t``, what else may share ``w``'s storage; the derivative transforms call
``check_inplace(stmts, kind_of)``, which refuses a recorded statement unless ``w`` is a
known scalar. The table lives here, below both stages, so neither imports the other.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np

from .. import runtime
from ..errors import Loc, UnsupportedSyntax
from .nodes import Callee, Node, Operand, Stmt, Var, walk

# (file, line, col, target name) of `w op= t` -> what shares w's storage: a label
# and the versions that hold it (harmless if they are all known scalars).
HazardKey = tuple[str, int, int, str]
HAZARDS: dict[HazardKey, tuple[str, list[Var]]] = {}


def hazard_key(loc: Loc, target: Var) -> HazardKey:
    return (loc.file, loc.line, loc.col, target.name)


def check_inplace(stmts: list[Node], kind_of: Callable[[Operand], str]) -> None:
    """Refuse a recorded ``w op= t`` whose ``w`` may be an array (``kind_of(w)``)."""
    if not HAZARDS:
        return
    for n in walk(stmts):
        if not isinstance(n, Stmt) or not n.args:
            continue
        found = HAZARDS.get(hazard_key(n.loc, n.target))
        if found and kind_of(n.args[0]) != "scalar" and \
                any(kind_of(v) != "scalar" for v in found[1]):
            other = found[0]
            raise UnsupportedSyntax(
                f"this changes, in place, the array that {other} holds too, which srcgrad "
                "cannot follow", n.loc, _hint(n.loc.text))


def _hint(line: str) -> str:
    """What to write instead of the user's own ``w op= t`` (their names, their op)."""
    m = re.match(r"\s*([\w.\[\], :]+?)\s*([-+*/@%]|\*\*|//)=\s*(.+?)\s*(#.*)?$", line)
    if m is None:
        return "Write w = w + t to make a new array (or copy first: w = np.copy(v))."
    w, op, t = m.group(1), m.group(2), m.group(3)
    return f"Write {w} = {w} {op} {t} to make a new array (or copy it first with np.copy)."


# Calls that may return their first argument itself or a view of it (so that a write
# into one changes the other): NumPy's view-making functions, and the helpers that
# hand back their operand when nothing needs doing (``np.diff(x, 0)`` is ``x``,
# ``np.einsum("ii->i", x)`` a view) or a part of it (``pad_grad``: the interior of the
# adjoint). Found by calling each rule's function on an array (tests/test_views.py
# keeps the list complete).
SAME_BUFFER: frozenset[object] = frozenset({
    runtime.sum_to, runtime.unbroadcast, runtime.as_dtype_of, runtime.as_input, runtime.expand,
    runtime.keep, runtime.stop_gradient, runtime.fit, runtime.piece, runtime.sum_grad,
    runtime.transpose_grad, runtime.diff_grad, runtime.disjoint_write,
    runtime.linalg.einsum_grad, runtime.linalg.einsum_jvp, runtime.shape.rot90_grad,
    runtime.shape.pad_grad, runtime.shape.hstack_grad, runtime.shape.vstack_grad,
    runtime.shape.column_stack_grad, runtime.shape.dstack_grad, runtime.shape.append_grad,
    runtime.special.lse_expand, runtime.complexes.into_complex, runtime.complexes.match_real,
    runtime.complexes.real_root,
    *(getattr(np, name) for name in (
        "reshape", "transpose", "ravel", "squeeze", "expand_dims", "broadcast_to", "swapaxes",
        "moveaxis", "asarray", "asanyarray", "ascontiguousarray", "atleast_1d", "atleast_2d",
        "atleast_3d", "diagonal", "diag", "flip", "fliplr", "flipud", "rot90", "split",
        "array_split", "hsplit", "vsplit", "nan_to_num", "diff", "einsum", "matrix_transpose",
        "unstack", "rollaxis", "real", "imag", "real_if_close")
      if hasattr(np, name)),  # the last two are NumPy 2.1's
    *(getattr(np.linalg, name) for name in ("matrix_transpose", "diagonal")
      if hasattr(np.linalg, name))})


def may_share_first(s: Stmt) -> bool:
    """``s`` may give back its first operand or a view of it (``x.T``, a call in
    ``SAME_BUFFER``): the result shares that operand's buffer. (``x[i]`` may
    too, but of a vector it is a new number: each stage that follows buffers decides
    how to treat indexing.)"""
    if not s.args or not isinstance(s.args[0], Var):
        return False
    if isinstance(s.op, Callee):
        try:
            return s.op.obj in SAME_BUFFER
        except TypeError:  # an unhashable callable
            return False
    return s.op == "attr.T"
