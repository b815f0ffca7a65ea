"""The core of the reverse sweep (part of the reverse stage): emitting adjoint
statements and summing the contributions each variable receives.

``Core`` works on a ``reverse_state.SweepState`` it is given and keeps nothing
of its own. Contract:

- ``emit`` appends one adjoint statement to ``state.out``; ``apply`` emits an
  operation after folding what is sound to fold (constants, ``1 * g``, shapes
  the specialization knows; never ``0 * x``, which may be ``nan``).
- ``add`` hands one contribution to a variable's adjoint in the current scope;
  once all the contributions counted for it are in (``scope.pending`` reaches
  0) and it is defined in this scope, they are summed (``materialize``) into
  one value, with a single statement where possible.
- In-place updates (``iadd``, ``addat``, ``scatter``) only ever target a buffer
  for which ``state.is_owned`` holds (the ownership invariant, see
  ``reverse_state``): every contribution is ``hold``-counted when handed over,
  and a buffer held twice is copied (``copier``) before it is changed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace

import numpy as np

from .. import ir, runtime
from ..errors import Loc
from ..ir import adjoint_name
from ..rules import Template
from ..runtime import complexes
from . import specialize
from .analysis import LIST, SCALAR
from .reverse_state import Scatter, SweepState
from .shapes import Tracker

_ZEROS = ir.Callee("np.zeros", runtime.np.zeros, runtime.np)
_ZEROS_LIKE = ir.Callee("zeros_like", runtime.zeros_like, runtime.zeros_like)
_COPY = ir.Callee("np.copy", runtime.np.copy, runtime.np)
_COPY_LIST = ir.Callee("copy_adjoint", runtime.copy_adjoint, runtime.copy_adjoint)
_ADD_LISTS = ir.Callee("add_adjoints", runtime.add_adjoints, runtime.add_adjoints)
_COPY_COMPLEX = ir.Callee("complex_copy", complexes.complex_copy, complexes.complex_copy)
_REAL = ir.Callee("np.real", np.real, np)
# Helpers whose second argument is read only for its shape (a tuple is a shape).
_SHAPE_READERS = frozenset({runtime.expand, runtime.keep})

Op = str | ir.Callee  # what a statement applies: an IR operator name or a callee


class Core:
    """Emission and contribution summing over one sweep's ``state``."""

    def __init__(self, state: SweepState):
        self.state = state
        # Shapes of adjoint values too, where the code is specialized on shapes.
        self.tracker = Tracker(state.analysis, state.shapes) if state.shapes else None
        self.defs: dict[str, ir.Stmt] = {}  # the adjoint statements emitted, by target

    def shape(self, o: ir.Operand) -> tuple | None:
        """``o``'s shape where this specialization fixes it."""
        return self.tracker.shape(o) if self.tracker is not None else None

    def is_scalar(self, o: ir.Operand) -> bool:
        return self.state.kind(o) == SCALAR

    # -- emission -------------------------------------------------------------------
    def temp(self) -> ir.Var:
        """A fresh temporary."""
        return ir.Var(self.state.namer.temp(), "temp")

    def adjoint_var(self, v: ir.Var) -> ir.Var:
        """A fresh name for (a version of) ``v``'s adjoint."""
        return ir.Var(self.state.namer.fresh(adjoint_name(v.name)), "adjoint", v)

    def emit(self, target: ir.Var, op: Op, args: Iterable[ir.Operand], loc: Loc,
             kwargs: Iterable[tuple[str, ir.Operand]] = (), seq: bool = False) -> ir.Var:
        """Append ``target = op(*args, **kwargs)`` to ``state.out``; return ``target``."""
        st = self.state
        s = ir.Stmt(target, op, tuple(args), loc, tuple(kwargs), seq, adjoint=True)
        st.out.append(s)
        self.defs[target.name] = s
        if self.tracker is not None:
            self.tracker.note(s)
        if ir.may_share_first(s):
            st.passed_on[target.name] = s.args[0]
        if isinstance(op, ir.Callee) and op.obj in (runtime.expand, runtime.argmax_mask):
            st.helper_stmts[target.name] = s
        elif op == "copy" and isinstance(s.args[0], ir.Var) and s.args[0].name in st.helper_stmts:
            st.helper_stmts[target.name] = st.helper_stmts[s.args[0].name]  # a name for it
        return target

    def apply(self, op: Op, args: Sequence[ir.Operand], loc: Loc,
              kwargs: Iterable[tuple[str, ir.Operand]] = ()) -> ir.Operand:
        """Emit ``op(*args)``, folding what is sound to fold (never ``0 * x``)."""
        if self.tracker is not None:  # the specialization's facts (specialize.py)
            done, args = specialize.fold(self, op, tuple(args), tuple(kwargs), loc)
            if done is not None:
                return done
        if op == "mul":  # (specialized or not: the shown code rounds as the code calls run)
            quotient = specialize.reciprocal(self, args, loc)
            if quotient is not None:
                return quotient
        folded = ir.fold(op, args)
        if folded is not None:
            return folded
        plain = ir.plain_power(op, args)  # x ** 2's derivative written 2 * x
        if plain is not None:
            return self.apply("mul", (plain[0], self.apply("pow", plain[1:], loc)), loc)
        if op == "mul" and any(ir.is_number(a, -1) for a in args):
            return self.apply("neg", tuple(a for a in args if not ir.is_number(a, -1)), loc)
        return self.emit(self.temp(), op, args, loc, kwargs)

    def instantiate(self, tpl: Template, env: dict, loc: Loc) -> ir.Operand:
        """A rule's template with ``env``'s operands, emitted through ``apply``."""
        return tpl.instantiate(env, lambda op, args, kwargs: self.apply(op, args, loc, kwargs))

    def real_for(self, v: ir.Var, c: ir.Operand, s: ir.Stmt) -> ir.Operand:
        """``c``, a contribution of ``s`` to ``v``'s adjoint, as its real part where ``s``
        meets a complex value and ``v`` is real (``transform/complexity.py``)."""
        a = self.state.analysis
        if a.involved(s) and a.is_real(v):
            return self.apply(_REAL, (c,), s.loc)
        return c

    def zero(self, v: ir.Var, loc: Loc) -> ir.Operand:
        """A fresh zero adjoint for ``v`` (0.0 for scalars)."""
        st = self.state
        if st.kind(v) == SCALAR:
            return ir.Const(0.0)
        shape = st.shapes.get(v.name)
        if shape is not None and st.analysis.is_real(v) and (
                v not in st.fn.params or st.dtypes.get(v.name) == np.float64):
            # (not kept for its shape alone; a complex value's zero is complex)
            z = self.emit(self.adjoint_var(v), _ZEROS, (ir.Const(shape),), loc)
        else:
            z = self.emit(self.adjoint_var(v), _ZEROS_LIKE, (v,), loc)
        st.owned.add(z.name)
        return z

    def rename_last(self, target: ir.Var) -> ir.Var:
        """Make the statement just emitted define ``target`` instead."""
        st = self.state
        old = st.out[-1]
        st.out[-1] = new = replace(old, target=target)
        self.defs[target.name] = new
        if old.target.name in st.helper_stmts:
            st.helper_stmts[target.name] = new
        if self.tracker is not None:
            self.tracker.same(target, old.target)
        return target

    def last_defines(self, value: ir.Operand) -> bool:
        """Whether the statement just emitted computes ``value``."""
        out = self.state.out
        return bool(out) and isinstance(out[-1], ir.Stmt) and out[-1].target is value

    # -- folding with the specialization's shapes -----------------------------------
    def expanded(self, a: ir.Operand) -> ir.Stmt | None:
        """The ``expand(g, x, axis, keepdims)`` statement defining ``a``, if one does."""
        s = self.state.helper_stmts.get(a.name) if isinstance(a, ir.Var) else None
        if s is None or not isinstance(s.op, ir.Callee) or s.op.obj is not runtime.expand:
            return None
        return s

    def shape_only(self, op: ir.Callee, args: Sequence[ir.Operand]) -> Sequence | ir.Const:
        """Where a rule reads a value only for its shape and this specialization knows
        the shape: the constant instead (``np.size(a)`` is 1000), so the value need
        not be computed or kept."""
        def shape(o: ir.Operand) -> tuple | None:
            return self.state.shapes.get(o.name) if isinstance(o, ir.Var) else None

        if op.obj in (np.size, np.shape) and len(args) == 1:
            s = shape(args[0])
            if s is not None:
                return ir.Const(int(np.prod(s)) if op.obj is np.size else s)
        if op.obj in _SHAPE_READERS and len(args) > 1:
            s = shape(args[1])
            if s is not None:
                return (args[0], ir.Const(s), *args[2:])
        return args

    # -- contributions --------------------------------------------------------------
    def add(self, v: ir.Var, c: ir.Operand | Scatter, loc: Loc) -> None:
        """One contribution ``c`` (an operand or a Scatter) to ``v``'s adjoint."""
        self.add_many([(v, c)], loc)

    def add_many(self, pairs: list, loc: Loc) -> None:
        """Several contributions of one statement: all are held before any adjoint
        completes, so none is updated in place while another still refers to it."""
        for v, c in pairs:
            self.hold(c)
            self.state.scope.contribs.setdefault(v.name, []).append(c)
        for v, _ in pairs:
            self.done_one(v, loc)

    def add_all(self, v: ir.Var, cs: list, loc: Loc) -> None:
        """Several contributions to ``v`` from one region: one use in the parent scope."""
        for c in cs:
            self.hold(c)
        self.state.scope.contribs.setdefault(v.name, []).extend(cs)
        self.done_one(v, loc)

    def hold(self, c: ir.Operand | Scatter | None) -> None:
        """Count one more reference to the buffer behind contribution ``c`` (and behind
        the operand it may be at run time: ``unbroadcast(g, x)`` is g when shapes agree)."""
        holds, passed_on = self.state.holds, self.state.passed_on
        o = c.value if isinstance(c, Scatter) else c
        while isinstance(o, ir.Var):
            holds[o.name] = holds.get(o.name, 0) + 1
            o = passed_on.get(o.name)

    def done_one(self, v: ir.Var, loc: Loc) -> None:
        """One use of ``v`` has contributed (or contributes nothing)."""
        scope = self.state.scope
        scope.pending[v.name] = scope.pending.get(v.name, 1) - 1
        if scope.pending[v.name] == 0 and v.name in scope.local:
            g = self.materialize(v, loc)
            if g is not None:
                scope.ready[v.name] = g

    def adjoint_of(self, v: ir.Var, loc: Loc) -> ir.Operand | None:
        """``v``'s complete adjoint in this scope, or None if it received nothing."""
        if v.name in self.state.scope.ready:
            return self.state.scope.ready.pop(v.name)
        return self.materialize(v, loc)

    def materialize(self, v: ir.Var, loc: Loc,
                    base: ir.Operand | None = None) -> ir.Operand | None:
        """The sum of ``v``'s contributions (onto ``base``), as one statement when it can."""
        st = self.state
        cs = st.scope.contribs.pop(v.name, [])
        dense = [c for c in cs if not isinstance(c, Scatter)]
        scatters = [c for c in cs if isinstance(c, Scatter)]
        if base is not None:
            dense = [base, *dense]
        if not dense and not scatters:
            return None
        mutable = (bool(scatters) or v.name in st.writes) and st.kind(v) != SCALAR
        if not scatters and len(dense) == 1:
            return self.single(v, dense[0], loc, mutable)
        real = st.analysis.is_real(v)
        if not dense:
            total = self.zero(v, loc)
        elif mutable and (not st.is_owned(dense[0]) or (scatters and not real)):
            # (a complex value's scatters need a complex buffer, whatever its first
            # contribution is: sums of complex adjoints are made out of place)
            total = self.emit(self.adjoint_var(v), self.copier(v), self.copied(dense[0], v),
                              loc)
            st.owned.add(total.name)
        elif len(dense) > 1 and not st.is_owned(dense[0]):
            # The first sum makes a new buffer, named for v: `x_bar = a + b; x_bar += c`.
            add = _ADD_LISTS if st.kind(v) == LIST else "add"
            total = self.emit(self.adjoint_var(v), add, dense[:2], loc)
            st.owned.add(total.name)
            dense = dense[1:]
        else:
            total = dense[0]
        for c in dense[1:]:
            total = self.accumulate(total, c, loc, st.kind(v) if real else "complex")
        for s in scatters:
            op = "scatter" if s.fancy else "addat"
            total = self.emit(self.temp(), op, (total, s.value, *s.index), loc, seq=s.seq)
            st.owned.add(total.name)
        if isinstance(total, ir.Var) and total.kind == "temp" and self.last_defines(total):
            total = self.rename_last(self.adjoint_var(v))
            st.owned.add(total.name)
        return total

    def accumulate(self, total: ir.Operand, c: ir.Operand, loc: Loc, kind: str) -> ir.Operand:
        """``total + c``: in place when ``total`` is an array buffer of ours (not for a
        complex value's adjoint, ``kind == "complex"``: its first terms may be real)."""
        st = self.state
        if kind == LIST:
            total = self.emit(self.temp(), _ADD_LISTS, (total, c), loc)
            st.owned.add(total.name)
            return total
        if st.is_owned(total) and kind not in (SCALAR, "complex"):
            acc = self.emit(self.temp(), "iadd", (total, c), loc)  # in place: total is ours
            st.owned.add(acc.name)
            return acc
        total = self.apply("add", (total, c), loc)
        if isinstance(total, ir.Var):
            st.owned.add(total.name)  # a sum is a new array
        return total

    def single(self, v: ir.Var, c: ir.Operand, loc: Loc, mutable: bool) -> ir.Operand:
        """``v``'s adjoint when it received the one contribution ``c``."""
        st = self.state
        if mutable and not st.is_owned(c):
            c = self.emit(self.adjoint_var(v), self.copier(v), self.copied(c, v), loc)
            st.owned.add(c.name)
            return c
        if v.kind == "user" and not self.same_family(v, c):
            return self.define(self.adjoint_var(v), c, loc)
        if isinstance(c, ir.Var):
            st.private.discard(c.name)  # now v's adjoint, shared by v's inputs
        return c

    def same_family(self, v: ir.Var, c: ir.Operand) -> bool:
        """``c`` is already an adjoint of (a version of) ``v``: no copy needed to name it.
        Inside regions every adjoint alias is kept as is (copies there are clutter)."""
        if not (isinstance(c, ir.Var) and c.kind == "adjoint"):
            return False
        of = c.of  # (an adjoint's primal)
        return self.state.depth > 0 or of is v or (
            of is not None and _base(of.name) == _base(v.name))

    def define(self, target: ir.Var, value: ir.Operand, loc: Loc) -> ir.Var:
        """Make ``target`` hold ``value``: rename the statement that just computed it if
        that value is private to one contribution, else copy."""
        st = self.state
        if self.last_defines(value) and value.name in st.private:
            self.rename_last(target)
        else:
            self.emit(target, "copy", (value,), loc)
        if st.is_owned(value):
            st.owned.add(target.name)
        return target

    # -- ownership --------------------------------------------------------------------
    def copier(self, v: ir.Var) -> ir.Callee:
        """The function copying an adjoint of ``v`` (a list's adjoint is a list; a complex
        value's, ``complex_copy(c, v)``, is complex)."""
        if self.state.kind(v) == LIST:
            return _COPY_LIST
        return _COPY if self.state.analysis.is_real(v) else _COPY_COMPLEX

    def copied(self, c: ir.Operand, v: ir.Var) -> tuple[ir.Operand, ...]:
        """The arguments of ``copier(v)`` copying ``c`` (a complex copy reads v's dtype)."""
        return (c,) if self.state.analysis.is_real(v) else (c, v)

    def owned_copy(self, v: ir.Var, g: ir.Operand, loc: Loc) -> ir.Operand:
        """``g`` itself, or a copy this transform owns when ``v``'s adjoint is mutated."""
        if self.state.kind(v) == "scalar" or self.state.is_owned(g):
            return g
        c = self.emit(self.temp(), self.copier(v), self.copied(g, v), loc)
        self.state.owned.add(c.name)
        return c


def _base(name: str) -> str:
    """The user name an SSA version came from (``x_2`` -> ``x``)."""
    head, _, tail = name.rpartition("_")
    return head if head and tail.isdigit() else name

