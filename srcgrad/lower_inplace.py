"""In-place operators on names (``w += t``) through aliases (part of the lower stage).

Contract: lowering reads ``w += t`` as ``w = w + t`` (a new value), which is what
Python does for numbers and for an array no other name holds. For an array that
another live name shares (``w = v``, a view ``w = x[0]`` or ``x.reshape(...)``, a
row of an array a ``for`` loop is iterating, a list's element, a helper's
parameter: the caller's array), NumPy changes that name's value too. While
lowering, ``InplaceMixin`` tracks which versions may share storage and, for each
such ``w += t`` while another sharing name is read later (or the loop iterates
over it), records a hazard under the statement's location and target
(``HAZARDS``). Whether ``w`` is an array is known only once argument kinds are:
the derivative transforms call ``check_inplace(stmts, kind_of)``, which refuses a
recorded statement unless ``w`` is a known scalar.
"""

from __future__ import annotations

import re

import gast
import numpy as np

from . import ir
from .errors import UnsupportedSyntax

# (file, line, col, target name) of `w op= t` -> what shares w's storage: a label
# and the versions that hold it (harmless if they are all known scalars).
HAZARDS: dict[tuple, tuple[str, list]] = {}

# Calls whose result may be a view of their first argument.
_VIEWS = frozenset({np.reshape, np.transpose, np.ravel, np.squeeze, np.swapaxes,
                    np.moveaxis, np.expand_dims, np.atleast_1d, np.atleast_2d,
                    np.atleast_3d, np.diagonal, np.broadcast_to, np.asarray, np.flip,
                    np.fliplr, np.flipud, np.rot90})


def _key(loc, target: ir.Var) -> tuple:
    return (loc.file, loc.line, loc.col, target.name)


def check_inplace(stmts: list, kind_of) -> None:
    """Refuse a recorded ``w op= t`` whose ``w`` may be an array (``kind_of(w)``)."""
    if not HAZARDS:
        return
    for n in ir.walk(stmts):
        found = isinstance(n, ir.Stmt) and n.args and HAZARDS.get(_key(n.loc, n.target))
        if found and kind_of(n.args[0]) != "scalar" and \
                any(kind_of(v) != "scalar" for v in found[1]):
            other = found[0]
            raise UnsupportedSyntax(
                f"this changes, in place, the array that {other} holds too, which srcgrad "
                "cannot follow", n.loc, _hint(n.loc.text))


class InplaceMixin:
    """Storage sharing while lowering, for ``lower._Lowerer``."""

    def share(self, a, b) -> None:
        """Versions ``a`` and ``b`` may hold the same array."""
        if isinstance(a, ir.Var) and isinstance(b, ir.Var):
            self.shared[self.storage_of(a)] = self.storage_of(b)

    def storage_of(self, v: ir.Var) -> str:
        name = v.name
        while self.shared.get(name, name) != name:
            name = self.shared[name]
        return name

    def note_view(self, var) -> None:
        """After ``name = <expr>``: a row, a view or a list element shares storage."""
        made = next((s for s in reversed(self.body) if isinstance(s, ir.Stmt)
                     and s.target is var), None)
        if made is None or not made.args:
            return
        view = made.op in ("getitem", "T", "copy") or (
            isinstance(made.op, ir.Callee) and made.op.obj in _VIEWS)
        if view:
            self.share(var, made.args[0])

    def inplace(self, node: gast.AugAssign, old, new: ir.Var) -> None:
        """Record ``name op= t`` (``old`` -> ``new``) if another live name shares it."""
        self.share(new, old)
        key = _key(self.src.loc(node), new)
        HAZARDS.pop(key, None)
        if not isinstance(old, ir.Var):
            return
        root, name = self.storage_of(old), node.target.id
        others = [(repr(k), v) for k, v in self.env.items() if k != name and
                  isinstance(v, ir.Var) and self.storage_of(v) == root and
                  self.read_later(k, node)]
        others += [("the for loop iterating over it", s) for s in self.iterating
                   if self.storage_of(s) == root]
        if self.parent is not None and name in self.arguments:
            others.append(("the caller's argument", old))
        if others:
            HAZARDS[key] = (others[0][0], [v for _, v in others])

    def read_later(self, name: str, node) -> bool:
        """``name`` is read after ``node`` or in a loop around it."""
        end = (node.end_lineno, node.end_col_offset)
        scopes = [self.src.tree] + list(self.loops_open)
        for scope in scopes:
            for n in gast.walk(scope):
                if isinstance(n, gast.Name) and n.id == name and \
                        isinstance(n.ctx, gast.Load) and (
                        scope is not self.src.tree or (n.lineno, n.col_offset) >= end):
                    return True
        return False


def _hint(line: str) -> str:
    """What to write instead of the user's own ``w op= t`` (their names, their op)."""
    m = re.match(r"\s*([\w.\[\], :]+?)\s*([-+*/@%]|\*\*|//)=\s*(.+?)\s*(#.*)?$", line)
    if m is None:
        return "Write w = w + t to make a new array (or copy first: w = np.copy(v))."
    w, op, t = m.group(1), m.group(2), m.group(3)
    return f"Write {w} = {w} {op} {t} to make a new array (or copy it first with np.copy)."
