"""Reverse mode for arrays (part of the reverse stage): indexing and broadcasting.

``Arrays`` receives the sweep's state and core (``reverse_state``,
``reverse_core``): it reads the state's activity, kinds and known shapes, adds
to ``owned`` the buffers it makes, and emits and contributes through the core.

Contract, on top of ``reverse.py``'s: a slice ``xs[a:b]`` of a list gives ``xs``
a list of the slice's adjoint entries where it read, zeros elsewhere
(``runtime.unslice``); a read ``x[index]`` scatters its adjoint into ``x``'s
(``np.add.at`` where integer arrays may repeat positions; a read that only
inserts axes, ``x[:, None]``, hands back ``g`` without them); a write
``x[index] = v`` gives ``v`` the adjoint of the written region (only of the
elements NumPy keeps when indices repeat) and zeroes that region of ``x``'s.
Broadcasting contributions are summed back to the operand's shape, as plainly
as the specialization's known shapes allow (nothing between equal shapes,
``np.sum`` over known axes, ``sum_to`` a known shape, ``unbroadcast``
otherwise).
"""

from __future__ import annotations

import numpy as np

from .. import ir, runtime
from ..errors import Loc, UnsupportedSyntax
from .analysis import LIST, SCALAR
from .reverse_core import Core
from .reverse_state import Scatter, SweepState

_UNBROADCAST = ir.Callee("unbroadcast", runtime.unbroadcast, runtime.unbroadcast)
_SUM_TO = ir.Callee("sum_to", runtime.sum_to, runtime.sum_to)
_SUM = ir.Callee("np.sum", np.sum, np)
_UNSLICE = ir.Callee("unslice", runtime.unslice, runtime.unslice)
_ORDER, _MARKS, _KEPT = (ir.Callee(f.__name__, f, f) for f in (
    runtime.write_order, runtime.write_marks, runtime.kept))


class Arrays:
    """The adjoints of indexing and broadcasting."""

    def __init__(self, state: SweepState, core: Core):
        self.state, self.core = state, core

    def unbroadcast(self, c: ir.Operand, x: ir.Var, loc: Loc,
                    source: tuple | None = None) -> ir.Operand:
        """``c`` (of shape ``source`` if known) summed to ``x``'s shape: a sum over
        the broadcast axes where both shapes are known, else a sum to ``x``'s shape
        if that is known (then the tape need not keep ``x`` for its shape)."""
        apply = self.core.apply
        shape = self.state.shapes.get(x.name)
        if shape is None or self.state.kind(x) == SCALAR:
            return apply(_UNBROADCAST, (c, x), loc)
        if source is None or len(source) < len(shape) or shape == ():
            return apply(_SUM_TO, (c, ir.Const(shape)), loc)
        extra = len(source) - len(shape)
        if extra:
            c = apply(_SUM, (c,), loc, (("axis", ir.Const(tuple(range(extra)))),))
        axes = tuple(i for i, n in enumerate(shape) if n == 1 and source[extra + i] != 1)
        if axes:
            c = apply(_SUM, (c,), loc, (("axis", ir.Const(axes)), ("keepdims", ir.Const(True))))
        return c

    def needs_unbroadcast(self, s: ir.Stmt, x: ir.Var) -> bool:
        """Whether ``s``'s contribution to ``x`` may have ``x`` broadcast in it."""
        shapes = self.state.shapes
        out = shapes.get(s.target.name)
        if out is not None and out == shapes.get(x.name):
            return False  # equal shapes in this specialization: nothing was broadcast
        others = [o for o in s.operands() if not (isinstance(o, ir.Const) and o.value is None)]
        others.remove(x)
        return not all(self.state.kind(o) == SCALAR for o in others)

    def getitem_adjoint(self, s: ir.Stmt, g: ir.Operand) -> None:
        """``y = x[index]``: x gets g scattered into the read positions."""
        st, core = self.state, self.core
        x, index = s.args[0], s.args[1:]
        if isinstance(x, ir.Var) and x.name in st.active:
            if st.kind(x) == LIST and len(index) == 1 and st.analysis.is_slice(index[0]):
                # xs[a:b] of a list: a list of g's entries where read, zeros elsewhere
                c = core.emit(core.temp(), _UNSLICE, (g, x, index[0]), s.loc)
                st.owned.add(c.name)
                core.add(x, c, s.loc)
                return
            if st.kind(x) == LIST and any(st.kind(i) != SCALAR for i in index):
                raise UnsupportedSyntax(
                    "slicing a list of differentiated values is not supported yet", s.loc,
                    "Read its elements one at a time (xs[i]), or stack it first "
                    "(np.stack(xs)[1:]).")
            if _whole(index):  # x[:, None]: the adjoint is g without the new axes
                parts = tuple(ir.Const(0) if isinstance(i, ir.Const) and i.value is None else i
                              for i in index)
                summed = self.unkept(g, index, s.loc)
                if summed is not None:
                    core.add(x, summed, s.loc)
                    return
                core.hold(g)  # the contribution is a view of g
                core.add(x, core.emit(core.temp(), "getitem", (g, *parts), s.loc, seq=s.seq),
                         s.loc)
                return
            core.add(x, Scatter(g, index, s.seq, self.fancy(index)), s.loc)

    def unkept(self, g: ir.Operand, index: tuple, loc: Loc) -> ir.Operand | None:
        """For ``x[:, None]`` whose adjoint ``g`` is ``np.sum(a, axis=1, keepdims=True)``,
        as the broadcast's adjoint makes it: ``np.sum(a, axis=1)``, the axes the index
        added dropped by the sum itself (no view of a kept axis)."""
        made = self.core.defs.get(g.name) if isinstance(g, ir.Var) else None
        if made is None or made.op != _SUM or len(made.args) != 1 or \
                dict(made.kwargs).keys() != {"axis", "keepdims"}:
            return None
        kw = dict(made.kwargs)
        axis, keepdims = kw["axis"], kw["keepdims"]
        new = tuple(k for k, i in enumerate(index) if isinstance(i, ir.Const) and i.value is None)
        if not (isinstance(axis, ir.Const) and isinstance(keepdims, ir.Const) and
                keepdims.value is True and isinstance(axis.value, tuple) and
                sorted(axis.value) == list(new) and Ellipsis not in [
                    i.value for i in index if isinstance(i, ir.Const)]):
            return None
        return self.core.apply(_SUM, made.args, loc, (("axis", axis),))

    def fancy(self, index: tuple) -> bool:
        """Advanced indexing (integer arrays, masks): positions may repeat (not with an
        index the specialization knows is one number, ``n = len(words)``)."""
        return any(self.state.kind(i) != SCALAR and not _basic_index(i) and
                   self.core.shape(i) != () for i in index)

    def survivors(self, c: ir.Operand, g: ir.Operand, index: tuple, s: ir.Stmt) -> ir.Var:
        """``c = g[index]`` with zeros where a repeated index was written again later:
        number the written values, write the numbers the same way, read them back."""
        emit, temp = self.core.emit, self.core.temp
        order = emit(temp(), _ORDER, (c,), s.loc)
        marks = emit(temp(), _MARKS, (g,), s.loc)
        marks = emit(temp(), "setitem", (marks, order, *index), s.loc, seq=s.seq)
        back = emit(temp(), "getitem", (marks, *index), s.loc, seq=s.seq)
        return emit(temp(), _KEPT, (c, back), s.loc)

    def append_adjoint(self, s: ir.Stmt, g: ir.Operand) -> None:
        """``xs_new = xs`` with ``v`` appended: v gets g's last element, xs the rest."""
        st, core = self.state, self.core
        xs, v = s.args
        if isinstance(v, ir.Var) and v.name in st.active:
            last = core.emit(core.temp(), "getitem", (g, ir.Const(-1)), s.loc)
            core.add(v, core.real_for(v, last, s), s.loc)
        if isinstance(xs, ir.Var) and xs.name in st.active:
            rest = core.emit(core.adjoint_var(xs), "droplast", (g,), s.loc)
            st.owned.add(rest.name)
            core.add(xs, rest, s.loc)

    def setitem_adjoint(self, s: ir.Stmt, g: ir.Operand) -> None:
        """``x_new = x`` with ``x[index] = v``: v gets g[index]; x gets g, zeroed there
        (as is where ``state.first_touch`` proves nothing reads that entry of it)."""
        st, core = self.state, self.core
        x, v, index = s.args[0], s.args[1], s.args[2:]
        # An entry no earlier statement touched: the stale adjoint left there reaches
        # nothing active and nothing changes it later, so g[index] is read as is.
        fresh = not self.fancy(index) and st.first_touch.first(s, st.active)
        if isinstance(v, ir.Var) and v.name in st.active:
            c: ir.Operand = core.emit(core.temp(), "getitem" if fresh else "copyitem",
                                      (g, *index), s.loc, seq=s.seq)
            if self.fancy(index):
                c = self.survivors(c, g, index, s)
            region = st.shapes.get(("region", s.target.name))
            if region is None or region != st.shapes.get(v.name):
                c = self.unbroadcast(c, v, s.loc, region)
            core.add(v, core.real_for(v, c, s), s.loc)
        if isinstance(x, ir.Var) and x.name in st.active:
            # (fresh: x's adjoint is g's buffer as it is, which g's holder hands on)
            z = core.emit(core.adjoint_var(x), "copy", (g,), s.loc) if fresh else \
                core.emit(core.adjoint_var(x), "setitem", (g, ir.Const(0.0), *index), s.loc,
                          seq=s.seq)
            st.owned.add(z.name)
            core.add(x, core.real_for(x, z, s), s.loc)


def _whole(index) -> bool:
    """Indexing that reads all of an array, only inserting new axes (``x[:, None]``)."""
    return any(isinstance(i, ir.Const) and i.value is None for i in index) and all(
        isinstance(i, ir.Const) and (i.value is None or i.value is Ellipsis or (
            isinstance(i.value, slice) and i.value == slice(None))) for i in index)


def _basic_index(o: ir.Operand) -> bool:
    """A constant slice, ``None`` or ``...``: basic indexing, no repeated positions."""
    return isinstance(o, ir.Const) and (isinstance(o.value, slice) or o.value is None
                                        or o.value is Ellipsis)
