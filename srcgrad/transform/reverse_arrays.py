"""Reverse mode for arrays (part of the reverse stage): indexing and broadcasting.

Contract, on top of ``reverse.py``'s: a read ``x[index]`` scatters its adjoint
into ``x``'s (``np.add.at`` where integer arrays may repeat positions; a read
that only inserts axes, ``x[:, None]``, hands back ``g`` without them); a write
``x[index] = v`` gives ``v`` the adjoint of the written region (only of the
elements NumPy keeps when indices repeat) and zeroes that region of ``x``'s.
Broadcasting contributions are summed back to the operand's shape, as plainly
as the specialization's known shapes allow (nothing between equal shapes,
``np.sum`` over known axes, ``sum_to`` a known shape, ``unbroadcast``
otherwise); values a rule reads only for their shape become constants.
"""

from __future__ import annotations

import numpy as np

from .. import ir, runtime
from ..errors import UnsupportedSyntax
from .analysis import LIST, SCALAR
from .reverse_flow import Scatter

_UNBROADCAST = ir.Callee("unbroadcast", runtime.unbroadcast, runtime.unbroadcast)
_SUM_TO = ir.Callee("sum_to", runtime.sum_to, runtime.sum_to)
_KEEP = ir.Callee("keep", runtime.keep, runtime.keep)
_SUM = ir.Callee("np.sum", np.sum, np)
_RESHAPE = ir.Callee("np.reshape", np.reshape, np)
# Helpers whose second argument is read only for its shape (a tuple is a shape).
_SHAPE_READERS = frozenset({runtime.expand, runtime.keep})
_ORDER, _MARKS, _KEPT = (ir.Callee(f.__name__, f, f) for f in (
    runtime.write_order, runtime.write_marks, runtime.kept))


class ArrayMixin:
    """Indexing and broadcasting adjoints for ``reverse._Reverse``."""

    def narrowed(self, a: ir.Operand, other: ir.Operand, loc) -> ir.Operand:
        """``a``, or if ``a`` broadcasts an adjoint to a shape ``other`` has anyway, the
        adjoint with the reduced axes kept as size 1 (the product broadcasts it)."""
        s = self.helper_stmts.get(a.name) if isinstance(a, ir.Var) else None
        if s is None or s.op.obj is not runtime.expand or not isinstance(other, ir.Var):
            return a
        target = s.args[1].value if isinstance(s.args[1], ir.Const) else \
            self.shapes.get(s.args[1].name)
        mask = self.helper_stmts.get(other.name)
        if mask is not None and mask.op.obj is runtime.argmax_mask:
            other = mask.args[0]  # argmax_mask(x, ...) has x's shape
        if target is None or self.shapes.get(other.name) != target:
            return a
        g, _, axis, keepdims = s.args
        if isinstance(axis, ir.Const) and isinstance(keepdims, ir.Const):
            if axis.value is None or keepdims.value:
                return g  # already broadcastable against the product's other factor
            kept = list(target)
            for ax in axis.value if isinstance(axis.value, tuple) else (axis.value,):
                kept[ax] = 1
            return self.emit(self.temp(), _RESHAPE, (g, ir.Const(tuple(kept))), loc)
        return self.emit(self.temp(), _KEEP, s.args, loc)

    def shape_only(self, op: ir.Callee, args):
        """Where a rule reads a value only for its shape and this specialization knows
        the shape: the constant instead (``np.size(a)`` is 1000), so the value need
        not be computed or kept."""
        def shape(o):
            return self.shapes.get(o.name) if isinstance(o, ir.Var) else None

        if op.obj in (np.size, np.shape) and len(args) == 1 and shape(args[0]) is not None:
            s = shape(args[0])
            return ir.Const(int(np.prod(s)) if op.obj is np.size else s)
        if op.obj in _SHAPE_READERS and len(args) > 1 and shape(args[1]) is not None:
            return (args[0], ir.Const(shape(args[1])), *args[2:])
        return args

    def unbroadcast(self, c: ir.Operand, x: ir.Var, loc, source=None) -> ir.Operand:
        """``c`` (of shape ``source`` if known) summed to ``x``'s shape: a sum over
        the broadcast axes where both shapes are known, else a sum to ``x``'s shape
        if that is known (then the tape need not keep ``x`` for its shape)."""
        shape = self.shapes.get(x.name)
        if shape is None or self.kind(x) == SCALAR:
            return self.apply(_UNBROADCAST, (c, x), loc)
        if source is None or len(source) < len(shape) or shape == ():
            return self.apply(_SUM_TO, (c, ir.Const(shape)), loc)
        extra = len(source) - len(shape)
        if extra:
            c = self.apply(_SUM, (c,), loc, (("axis", ir.Const(tuple(range(extra)))),))
        axes = tuple(i for i, n in enumerate(shape) if n == 1 and source[extra + i] != 1)
        if axes:
            c = self.apply(_SUM, (c,), loc, (("axis", ir.Const(axes)),
                                             ("keepdims", ir.Const(True))))
        return c

    def needs_unbroadcast(self, s: ir.Stmt, x: ir.Var) -> bool:
        out = self.shapes.get(s.target.name)
        if out is not None and out == self.shapes.get(x.name):
            return False  # equal shapes in this specialization: nothing was broadcast
        others = [o for o in s.operands() if not (isinstance(o, ir.Const) and o.value is None)]
        others.remove(x)
        return not all(self.kind(o) == SCALAR for o in others)

    def getitem_adjoint(self, s: ir.Stmt, g: ir.Operand) -> None:
        x, index = s.args[0], s.args[1:]
        if isinstance(x, ir.Var) and x.name in self.active:
            if self.kind(x) == LIST and any(self.kind(i) != SCALAR for i in index):
                raise UnsupportedSyntax(
                    "slicing a list of differentiated values is not supported yet", s.loc,
                    "Read its elements one at a time (xs[i]), or stack it first "
                    "(np.stack(xs)[1:]).")
            if _whole(index):  # x[:, None]: the adjoint is g without the new axes
                parts = tuple(ir.Const(0) if i.value is None else i for i in index)
                self.hold(g)  # the contribution is a view of g
                self.add(x, self.emit(self.temp(), "getitem", (g, *parts), s.loc, seq=s.seq),
                         s.loc)
                return
            self.add(x, Scatter(g, index, s.seq, self.fancy(index)), s.loc)

    def fancy(self, index) -> bool:
        """Advanced indexing (integer arrays, masks): positions may repeat."""
        return any(self.kind(i) != SCALAR and not _basic_index(i) for i in index)

    def survivors(self, c: ir.Var, g: ir.Operand, index, s: ir.Stmt) -> ir.Var:
        """``c = g[index]`` with zeros where a repeated index was written again later:
        number the written values, write the numbers the same way, read them back."""
        order = self.emit(self.temp(), _ORDER, (c,), s.loc)
        marks = self.emit(self.temp(), _MARKS, (g,), s.loc)
        marks = self.emit(self.temp(), "setitem", (marks, order, *index), s.loc, seq=s.seq)
        back = self.emit(self.temp(), "getitem", (marks, *index), s.loc, seq=s.seq)
        return self.emit(self.temp(), _KEPT, (c, back), s.loc)

    def append_adjoint(self, s: ir.Stmt, g: ir.Operand) -> None:
        """``xs_new = xs`` with ``v`` appended: v gets g's last element, xs the rest."""
        xs, v = s.args
        if isinstance(v, ir.Var) and v.name in self.active:
            self.add(v, self.emit(self.temp(), "getitem", (g, ir.Const(-1)), s.loc), s.loc)
        if isinstance(xs, ir.Var) and xs.name in self.active:
            rest = self.emit(self.adjoint_var(xs), "droplast", (g,), s.loc)
            self.owned.add(rest.name)
            self.add(xs, rest, s.loc)

    def setitem_adjoint(self, s: ir.Stmt, g: ir.Operand) -> None:
        """``x_new = x`` with ``x[index] = v``: v gets g[index]; x gets g, zeroed there."""
        x, v, index = s.args[0], s.args[1], s.args[2:]
        if isinstance(v, ir.Var) and v.name in self.active:
            c = self.emit(self.temp(), "copyitem", (g, *index), s.loc, seq=s.seq)
            if self.fancy(index):
                c = self.survivors(c, g, index, s)
            region = self.shapes.get(("region", s.target.name))
            if region is None or region != self.shapes.get(v.name):
                c = self.unbroadcast(c, v, s.loc, region)
            self.add(v, c, s.loc)
        if isinstance(x, ir.Var) and x.name in self.active:
            z = self.emit(self.adjoint_var(x), "setitem", (g, ir.Const(0.0), *index), s.loc,
                          seq=s.seq)
            self.owned.add(z.name)
            self.add(x, z, s.loc)


def _whole(index) -> bool:
    """Indexing that reads all of an array, only inserting new axes (``x[:, None]``)."""
    return any(isinstance(i, ir.Const) and i.value is None for i in index) and all(
        isinstance(i, ir.Const) and (i.value is None or i.value is Ellipsis or (
            isinstance(i.value, slice) and i.value == slice(None))) for i in index)


def _basic_index(o: ir.Operand) -> bool:
    """A constant slice, ``None`` or ``...``: basic indexing, no repeated positions."""
    return isinstance(o, ir.Const) and (isinstance(o.value, slice) or o.value is None
                                        or o.value is Ellipsis)
