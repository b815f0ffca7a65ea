"""Simplifying IR -> IR passes (part of the optimize stage; ``passes.py`` runs them).

Contract, on top of ``passes.py``'s (passes never change what a function returns):
values are immutable in the IR, but the emitter prints some ops in place
(``IN_PLACE``), so a value that is later written in place, or that a tape
records, keeps its own statement: no pass merges it with another or renames it.

- ``propagate_copies``: ``t = b`` for a temporary ``t``, where ``b`` is a named
  (user or adjoint) variable or a constant: later reads of ``t`` read ``b``.
  Copies that name a user's value or its adjoint stay (they are the point of
  reading the code).
- ``common_subexpressions``: a pure statement identical to an earlier one that
  dominates it (same block or an enclosing one) reads the earlier result.
- ``fold_constants``: operators on Python numbers are computed (``2 * 3`` is
  6); nothing is assumed about variables, so ``0 * x`` stays (``x`` may be NaN
  or an array).
- ``narrow_expands``: ``expand(g, x, ...) * y``, where ``y`` is ``x`` or a mask of
  ``x``'s shape, multiplies by ``keep(g, x, ...)`` instead (the reduced axes kept
  as size 1, broadcast by the product, never materialized), or by ``g`` itself when
  no axis was dropped (``axis=None``: a scalar; ``keepdims=True``). An in-place
  accumulation (``x_bar += expand(g, ...)``, into an entry or a slice too) adds ``g``
  itself where ``g`` broadcasts (a scalar, or its axes kept); an expansion of a scalar
  to a known shape that remains is ``np.full(shape, g)``, as a person writes it.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable

from .. import ir, runtime
from ..rules import overloads

IN_PLACE = frozenset({"setitem", "addat", "scatter", "iadd", "append", "droplast"})
_PURE_OPS = frozenset({*ir.BINARY.values(), *ir.UNARY.values(), *ir.COMPARE.values(),
                       *ir.ATTRIBUTES.values(), "getitem"})
# Run-time helpers whose result is never written in place: safe to share.
_PURE_HELPERS = frozenset({runtime.unbroadcast, runtime.sum_to, runtime.expand,
                           runtime.argmax_mask, runtime.keep})
_FOLD: dict[str, Callable[..., object]] = {
    "add": operator.add, "sub": operator.sub, "mul": operator.mul, "truediv": operator.truediv,
    "pow": operator.pow, "neg": operator.neg}
_KEEP = ir.Callee("keep", runtime.keep, runtime.keep)


def _pinned(fn: ir.Function) -> set[str]:
    """Variables written in place, recorded on a tape, or merged by a phi: their
    statements and names stay as they are."""
    pinned: set[str] = set()
    for n in ir.walk(fn.body):
        if isinstance(n, ir.Stmt) and n.op in IN_PLACE and isinstance(n.args[0], ir.Var):
            pinned.add(n.args[0].name)
            pinned.add(n.target.name)
        elif isinstance(n, ir.If):
            for group in (*n.save, *n.restore):
                pinned |= {v.name for v in group}
            pinned |= {v.name for p in n.phis for v in (p.target, *p.sources)
                       if isinstance(v, ir.Var)}
        elif isinstance(n, ir.Loop):
            for group in (n.save, n.save_start, *n.restore):
                pinned |= {v.name for v in group}
            pinned |= {v.name for p in n.carried for v in (p.target, p.out, *p.sources)
                       if isinstance(v, ir.Var)}
    return pinned


def _rename(fn: ir.Function, subst: dict[str, ir.Operand]) -> ir.Function:
    """Every read of a variable in ``subst`` reads its replacement instead."""
    if not subst:
        return fn

    def op(o):
        while isinstance(o, ir.Var) and o.name in subst:
            o = subst[o.name]
        return o

    replace_reads(fn.body, op)
    return ir.Function(fn.name, fn.params, fn.body, tuple(op(r) for r in fn.returns),
                       fn.loc, fn.doc, fn.defaults)


def replace_reads(block: list, op) -> None:
    """Every operand ``o`` read in ``block`` (and its regions) becomes ``op(o)``."""
    for n in ir.walk(block):
        if isinstance(n, ir.Stmt):
            n.args = tuple(op(a) for a in n.args)
            n.kwargs = tuple((k, op(v)) for k, v in n.kwargs)
        elif isinstance(n, ir.If):
            n.cond = op(n.cond)
            for p in n.phis:
                p.sources = tuple(op(s) for s in p.sources)
        else:
            n.bounds = tuple(op(b) for b in n.bounds)
            n.cond = op(n.cond) if n.cond is not None else None
            if n.checkpoint is not None and n.checkpoint[1] is not None:
                n.checkpoint = (n.checkpoint[0], op(n.checkpoint[1]))
            for p in n.carried:
                p.sources = tuple(op(s) for s in p.sources)


def propagate_copies(fn: ir.Function) -> ir.Function:
    pinned = _pinned(fn)
    subst: dict[str, ir.Operand] = {}
    for n in ir.walk(fn.body):
        if isinstance(n, ir.Stmt) and n.op == "copy" and n.target.name not in pinned \
                and n.target.kind == "temp":  # `y = x` and `e_bar = g_bar` stay: they
            # name a node of the user's computation and its adjoint
            src = n.args[0]
            named = isinstance(src, ir.Var) and src.kind != "temp" and src.name not in pinned
            if named or isinstance(src, ir.Const) and src.name is None:
                subst[n.target.name] = src
    return _rename(fn, subst)


def common_subexpressions(fn: ir.Function) -> ir.Function:
    pinned = _pinned(fn)
    subst: dict[str, ir.Operand] = {}

    def key(s: ir.Stmt):
        pure = s.op in _PURE_OPS or (isinstance(s.op, ir.Callee) and (
            s.op.obj in _PURE_HELPERS or _elementwise(s.op.obj)))
        if not pure or s.target.name in pinned or (
                s.op == "getitem" and isinstance(s.args[0], ir.Var)
                and s.args[0].name in pinned):  # a view of an array written in place
            return None
        try:
            parts = tuple(_operand_key(subst.get(a.name, a) if isinstance(a, ir.Var) else a)
                          for a in s.args)
            kw = tuple((k, _operand_key(v)) for k, v in s.kwargs)
            h = (s.op, parts, kw, s.seq)
            hash(h)
        except TypeError:  # an unhashable constant
            return None
        return h

    def block(nodes: list, seen: dict) -> None:
        for n in nodes:
            if isinstance(n, ir.Stmt):
                k = key(n)
                if k is None:
                    continue
                if k in seen and n.target.kind == "temp":  # user names stay
                    subst[n.target.name] = seen[k]
                else:
                    seen[k] = n.target
            elif isinstance(n, ir.If):
                block(n.then, dict(seen))
                block(n.orelse, dict(seen))
            else:
                block(n.test, dict(seen))
                block(n.body, dict(seen))

    block(fn.body, {})
    return _rename(fn, subst)


def _operand_key(o: ir.Operand):
    if isinstance(o, ir.Var):
        return ("var", o.name)
    if isinstance(o.value, float) and math.isnan(o.value):
        return ("nan",)
    return ("const", type(o.value), o.value, o.name)


def _elementwise(obj) -> bool:
    """A call the rule tables declare elementwise: a plain function of its operands."""
    return any(r.partials and not r.nondiff for r in overloads(obj))


def fold_constants(fn: ir.Function) -> ir.Function:
    subst: dict[str, ir.Operand] = {}
    for n in ir.walk(fn.body):
        if isinstance(n, ir.Stmt) and isinstance(n.op, str) and n.op in _FOLD and not n.kwargs:
            args = [subst.get(a.name, a) if isinstance(a, ir.Var) else a for a in n.args]
            values = [a.value for a in args if isinstance(a, ir.Const) and a.name is None]
            if len(values) == len(args) and all(type(v) in (int, float) for v in values):
                try:
                    folded = _FOLD[n.op](*values)
                except (ArithmeticError, ValueError):
                    continue  # left for run time, where it raises as the user wrote it
                if isinstance(folded, (int, float)) and not isinstance(folded, bool):
                    subst[n.target.name] = ir.Const(folded)
    return _rename(fn, subst)


def narrow_expands(fn: ir.Function) -> ir.Function:
    defs = {n.target.name: n for n in ir.walk(fn.body) if isinstance(n, ir.Stmt)}

    def same_shape(y: ir.Operand, x: ir.Operand) -> bool:
        if y == x:
            return True
        d = defs.get(y.name) if isinstance(y, ir.Var) else None
        return d is not None and isinstance(d.op, ir.Callee) and \
            d.op.obj is runtime.argmax_mask and d.args[0] == x

    def broadcasts(d: ir.Stmt) -> bool:  # g with no axis dropped: keep() hands it back
        axis, keepdims = d.args[2:]
        return isinstance(axis, ir.Const) and isinstance(keepdims, ir.Const) and (
            axis.value is None or keepdims.value is True)

    made: dict[str, ir.Stmt] = {}
    for n in ir.walk(fn.body):
        if isinstance(n, ir.Stmt) and n.op in ("iadd", "addat", "scatter"):
            d = _expand_of(defs, n.args[1])
            if d is not None and broadcasts(d):  # (the adjoint of a value of x's shape)
                n.args = (n.args[0], d.args[0], *n.args[2:])
            continue
        if not (isinstance(n, ir.Stmt) and n.op == "mul"):
            continue
        args = list(n.args)
        for i in (0, 1):
            d = _expand_of(defs, args[i])
            if d is not None and same_shape(args[1 - i], d.args[1]):
                if broadcasts(d):
                    args[i] = d.args[0]
                    continue
                k = made.get(d.target.name)
                if k is None:
                    k = made[d.target.name] = ir.Stmt(
                        ir.Var(d.target.name + "_kept", "temp"), _KEEP, d.args, d.loc,
                        adjoint=d.adjoint)
                    _insert_after(fn.body, d, k)
                args[i] = k.target
        n.args = tuple(args)
    for d in defs.values():  # what is still expanded: a scalar to a known shape, np.full
        if _expand_of(defs, d.target) is d and isinstance(d.args[1], ir.Const) and \
                isinstance(d.args[1].value, tuple) and _is_const(d.args[2], None) and \
                _is_const(d.args[3], False):
            d.op, d.args = _FULL, (d.args[1], d.args[0])
    return fn


_FULL = ir.Callee("np.full", runtime.np.full, runtime.np)


def _is_const(o: ir.Operand, value: object) -> bool:
    return isinstance(o, ir.Const) and o.value is value


def _expand_of(defs: dict[str, ir.Stmt], a: ir.Operand) -> ir.Stmt | None:
    """The ``expand(g, x, axis, keepdims)`` statement defining ``a``, if one does."""
    d = defs.get(a.name) if isinstance(a, ir.Var) else None
    if d is not None and isinstance(d.op, ir.Callee) and d.op.obj is runtime.expand and \
            len(d.args) == 4 and not d.kwargs:
        return d
    return None


def _insert_after(block: list, anchor: ir.Stmt, new: ir.Stmt) -> bool:
    for i, n in enumerate(block):
        if n is anchor:
            block.insert(i + 1, new)
            return True
        if isinstance(n, ir.If) and (_insert_after(n.then, anchor, new)
                                     or _insert_after(n.orelse, anchor, new)):
            return True
        if isinstance(n, ir.Loop) and (_insert_after(n.test, anchor, new)
                                       or _insert_after(n.body, anchor, new)):
            return True
    return False
