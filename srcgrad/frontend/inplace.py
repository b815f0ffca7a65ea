"""In-place operators on names (``w += t``) through aliases (part of the lower stage).

Contract: lowering reads ``w += t`` as ``w = w + t`` (a new value), which is what
Python does for numbers and for an array no other name holds. For an array that
another live name shares (``w = v``, a view ``w = x[0]`` or ``x.reshape(...)``, a
row of an array a ``for`` loop is iterating, a list's element, a helper's
parameter: the caller's array), NumPy changes that name's value too. While
lowering, ``Inplace`` tracks which versions may share storage and, for each
such ``w += t`` while another sharing name is read later (or the loop iterates
over it), records a hazard under the statement's location and target
(``ir.HAZARDS``). Whether ``w`` is an array is known only once argument kinds are:
the derivative transforms call ``ir.check_inplace(stmts, kind_of)``, which refuses a
recorded statement unless ``w`` is a known scalar.

``Inplace`` touches only ``state.shared`` (which it extends) and reads
``state.body``, ``env``, ``iterating``, ``loops_open``, ``parent``, ``arguments``
and ``src``; it writes ``ir.HAZARDS``.
"""

from __future__ import annotations

import gast
import numpy as np

from .. import ir
from .state import LoweringState

# Calls whose result may be a view of their first argument.
_VIEWS = frozenset({np.reshape, np.transpose, np.ravel, np.squeeze, np.swapaxes,
                    np.moveaxis, np.expand_dims, np.atleast_1d, np.atleast_2d,
                    np.atleast_3d, np.diagonal, np.broadcast_to, np.asarray, np.flip,
                    np.fliplr, np.flipud, np.rot90})


class Inplace:
    """Storage sharing while lowering one body."""

    def __init__(self, state: LoweringState):
        self.state = state

    def share(self, a: object, b: object) -> None:
        """Versions ``a`` and ``b`` may hold the same array."""
        if isinstance(a, ir.Var) and isinstance(b, ir.Var):
            self.state.shared[self.storage_of(a)] = self.storage_of(b)

    def storage_of(self, v: ir.Var) -> str:
        shared, name = self.state.shared, v.name
        while shared.get(name, name) != name:
            name = shared[name]
        return name

    def note_view(self, var: ir.Var) -> None:
        """After ``name = <expr>``: a row, a view or a list element shares storage."""
        made = next((s for s in reversed(self.state.body) if isinstance(s, ir.Stmt)
                     and s.target is var), None)
        if made is None or not made.args:
            return
        view = made.op in ("getitem", "T", "copy") or (
            isinstance(made.op, ir.Callee) and made.op.obj in _VIEWS)
        if view:
            self.share(var, made.args[0])

    def augmented(self, node: gast.AugAssign, old: object, new: ir.Var) -> None:
        """Record ``name op= t`` (``old`` -> ``new``) if another live name shares it."""
        state = self.state
        self.share(new, old)
        key = ir.hazard_key(state.src.loc(node), new)
        ir.HAZARDS.pop(key, None)
        if not isinstance(old, ir.Var):
            return
        root, name = self.storage_of(old), node.target.id
        others = [(repr(k), v) for k, v in state.env.items() if k != name and
                  isinstance(v, ir.Var) and self.storage_of(v) == root and
                  self.read_later(k, node)]
        others += [("the for loop iterating over it", s) for s in state.iterating
                   if self.storage_of(s) == root]
        if state.parent is not None and name in state.arguments:
            others.append(("the caller's argument", old))
        if others:
            ir.HAZARDS[key] = (others[0][0], [v for _, v in others])

    def read_later(self, name: str, node: gast.AST) -> bool:
        """``name`` is read after ``node`` or in a loop around it."""
        end = (node.end_lineno, node.end_col_offset)
        tree = self.state.src.tree
        scopes = [tree] + list(self.state.loops_open)
        for scope in scopes:
            for n in gast.walk(scope):
                if isinstance(n, gast.Name) and n.id == name and \
                        isinstance(n.ctx, gast.Load) and (
                        scope is not tree or (n.lineno, n.col_offset) >= end):
                    return True
        return False
