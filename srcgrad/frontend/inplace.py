"""In-place operators on names (``w += t``) through aliases (part of the lower stage).

Contract: lowering reads ``w += t`` as ``w = w + t`` (a new value), which is what
Python does for numbers and for an array no other name holds. For an array that
another live name shares (``w = v``, a view ``w = x[0]`` or ``x.reshape(...)``, a
row of an array a ``for`` loop is iterating, a list's element, a helper's
parameter: the caller's array), NumPy changes that name's value too. While
lowering, ``InplaceMixin`` tracks which versions may share storage and, for each
such ``w += t`` while another sharing name is read later (or the loop iterates
over it), records a hazard under the statement's location and target
(``ir.HAZARDS``). Whether ``w`` is an array is known only once argument kinds are:
the derivative transforms call ``ir.check_inplace(stmts, kind_of)``, which refuses a
recorded statement unless ``w`` is a known scalar.
"""

from __future__ import annotations

import gast
import numpy as np

from .. import ir

# Calls whose result may be a view of their first argument.
_VIEWS = frozenset({np.reshape, np.transpose, np.ravel, np.squeeze, np.swapaxes,
                    np.moveaxis, np.expand_dims, np.atleast_1d, np.atleast_2d,
                    np.atleast_3d, np.diagonal, np.broadcast_to, np.asarray, np.flip,
                    np.fliplr, np.flipud, np.rot90})


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
        key = ir.hazard_key(self.src.loc(node), new)
        ir.HAZARDS.pop(key, None)
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
            ir.HAZARDS[key] = (others[0][0], [v for _, v in others])

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
