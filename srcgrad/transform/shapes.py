"""Shape inference for one specialization: which values have which shape, given the
shapes of the arguments.

Contract: ``infer(fn, analysis, params)`` maps variable names to shapes, where
``params`` gives each array parameter's shape (None: unknown). A name is in the
result only if its value has that shape on *every* call whose arguments have those
shapes, whatever the arguments' values, branch taken or trip count. The reverse
transform uses it to leave out broadcasting reductions between values of equal
shapes; the derivative is cached per argument shapes, so the facts hold whenever
that code runs.

How: each statement is evaluated on stand-ins (zero arrays of the operands'
shapes), under ``np.errstate`` and with exceptions meaning "unknown", but only
when the result's shape cannot depend on array *values*: operators and
elementwise functions (broadcasting), and ``_SHAPED`` functions whose non-array
arguments are constants or integers derived from shapes (``T = x.shape[0]``,
``T - 1``). Indexing with anything but constants and scalar integers (masks,
index arrays, slices built at run time) is unknown. Both branches of an ``if``
are inferred and a merged value is known if both sides agree; a loop body is
inferred until the carried values' shapes settle (a changing one is unknown),
with the loop index's value unknown; a value entering a loop unbound
(``ir.is_unbound``) takes its shape from the iteration's end value.

``Tracker`` extends the same facts to the adjoint statements the reverse sweep emits
(straight-line: its caller gives the shapes of merged and loop-carried adjoints),
so that the rewrites of ``reverse_core`` know the shapes of adjoint temporaries too:
besides the primal's cases, it knows ufuncs and ``math`` functions (broadcasting),
the in-place adjoint updates, and the run-time helpers of ``_HELPERS`` (run on
stand-ins: their result shapes never depend on values).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np

from .. import ir, runtime
from .analysis import SCALAR, Analysis

_UNKNOWN = object()

# Functions whose result shape is a function of their array operands' shapes and of
# their other (constant) arguments.
_SHAPED = frozenset({
    np.sum, np.mean, np.max, np.min, np.prod, np.var, np.std, np.amax, np.amin,
    np.nansum, np.nanmean, np.nanmax, np.nanmin, np.cumsum, np.cumprod, np.diff,
    np.dot, np.matmul, np.outer, np.inner, np.tensordot, np.einsum, np.kron, np.vdot,
    np.transpose, np.reshape, np.swapaxes, np.moveaxis, np.expand_dims, np.squeeze,
    np.ravel, np.ndarray.flatten, np.broadcast_to, np.zeros, np.ones, np.full, np.empty,
    np.zeros_like, np.ones_like, np.full_like, np.empty_like, np.eye, np.copy, np.array,
    np.stack, np.concatenate, np.hstack, np.vstack, np.argmax, np.argmin, np.trace,
    np.linalg.inv, np.linalg.det, np.linalg.solve, np.tile, np.flip, np.roll, np.sort,
})

# Calls whose positional arguments from the one given on are values only (a fill value,
# the elements of np.array([x, y])): a number there never changes the result's shape.
_VALUES_FROM: dict[object, int] = {np.full: 1, np.full_like: 1, np.array: 0, np.stack: 0,
                                   np.hstack: 0, np.vstack: 0}


def infer(fn: ir.Function, analysis: Analysis, params: Mapping[str, tuple | None]) -> dict:
    """Variable name -> shape, for the values whose shape these parameter shapes fix."""
    state = _State(analysis)
    for p in fn.params:
        shape = params.get(p.name)
        if shape is not None:
            state.shapes[p.name] = shape
        elif analysis.kind(p) == SCALAR:
            state.shapes[p.name] = ()
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        state.block(fn.body)
    return state.shapes


class _State:
    def __init__(self, analysis: Analysis):
        self.a = analysis
        self.shapes: dict[str | tuple[str, str], tuple] = {}  # (a region: ("region", name))
        self.values: dict[str, object] = {}  # integers (and shapes) known from shapes

    def set(self, v: ir.Var, shape) -> None:
        if shape is _UNKNOWN or shape is None:
            self.shapes.pop(v.name, None)
        else:
            self.shapes[v.name] = shape

    def set_region(self, v: ir.Var, shape) -> None:
        if shape is _UNKNOWN:
            self.shapes.pop(("region", v.name), None)
        else:
            self.shapes[("region", v.name)] = shape

    def shape(self, o: ir.Operand):
        if isinstance(o, ir.Const):
            value: Any = o.value
            return _UNKNOWN if isinstance(value, (list, dict)) else np.shape(value)
        return self.shapes.get(o.name, _UNKNOWN)

    def block(self, block: list) -> None:
        for n in block:
            if isinstance(n, ir.Stmt):
                self.stmt(n)
            elif isinstance(n, ir.If):
                self.block(n.then)
                self.block(n.orelse)
                for p in n.phis:
                    self.set(p.target, self.agree(p.sources))
            else:
                self.loop(n)

    def agree(self, sources) -> object:
        shapes = [self.shape(s) for s in sources]
        return shapes[0] if all(s is not _UNKNOWN and s == shapes[0] for s in shapes) \
            else _UNKNOWN

    def loop(self, n: ir.Loop) -> None:
        if n.index is not None:
            self.shapes[n.index.name] = ()
            self.values.pop(n.index.name, None)
        for p in n.carried:
            self.set(p.target, self.shape(p.sources[0]))
            self.values.pop(p.target.name, None)
        # A name the loop alone binds enters unbound: its shape is its end value's.
        unbound = [p for p in n.carried if ir.is_unbound(p.sources[0])]
        if unbound:
            for p in unbound:
                self.set(p.target, _UNKNOWN)
            self.block(n.test)
            self.block(n.body)
            for p in unbound:
                self.set(p.target, self.shape(p.sources[1]))
        for _ in range(len(n.carried) + 2):  # each round can only lose facts
            self.block(n.test)
            self.block(n.body)
            changed = False
            for p in n.carried:
                settled = self.agree((p.target, p.sources[1]))
                if settled is _UNKNOWN and p.target.name in self.shapes:
                    self.set(p.target, _UNKNOWN)
                    changed = True
            if not changed:
                break
        for p in n.carried:
            assert p.out is not None  # (a loop phi has a value after the loop)
            sources = (p.target,) if ir.is_unbound(p.sources[0]) else (p.target, p.sources[0])
            self.set(p.out, self.agree(sources))

    def stmt(self, s: ir.Stmt) -> None:
        self.values.pop(s.target.name, None)
        self.set(s.target, self.result(s))

    def result(self, s: ir.Stmt):
        op = s.op
        if isinstance(op, ir.Callee) and op.obj is np.shape:
            op = "attr.shape"
        if isinstance(op, ir.Callee) and op.obj is len and s.args:
            shape = self.shape(s.args[0])
            if shape not in (_UNKNOWN, ()):
                self.values[s.target.name] = shape[0]
            return ()
        if isinstance(op, ir.Callee) and getattr(op.obj, "__module__", None) == "math" and \
                op.obj not in (math.modf, math.frexp):
            return ()  # a float, whatever it was given (a 1-element array too)
        if isinstance(op, ir.Callee) and op.obj in (min, max) and len(s.args) > 1 and \
                not s.kwargs and all(self.shape(o) == () for o in s.args):
            return ()  # the builtin on numbers: one of them
        if op == "tuple":  # (n + 1, m + 1): known numbers make a known shape argument
            values = [self.value(o) for o in s.args]
            if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
                self.values[s.target.name] = tuple(values)
            return _UNKNOWN
        if op in ("attr.size", "attr.ndim"):
            shape = self.shape(s.args[0])
            if shape is not _UNKNOWN:
                self.values[s.target.name] = math.prod(shape) if op == "attr.size" \
                    else len(shape)
            return ()
        if op == "attr.shape":
            shape = self.shape(s.args[0])
            if shape is not _UNKNOWN:
                self.values[s.target.name] = shape
            return _UNKNOWN
        if op == "setitem":  # also the written region's shape, ("region", name)
            region = self.getitem(ir.Stmt(s.target, "getitem", (s.args[0], *s.args[2:]),
                                          s.loc, seq=s.seq))
            self.set_region(s.target, region)
            return self.shape(s.args[0])
        if op == "copy" or (isinstance(op, ir.Callee) and op.obj is runtime.stop_gradient):
            return self.shape(s.args[0])
        if op == "getitem":
            return self.getitem(s)
        if op in _ARITHMETIC or self.elementwise(s):
            shapes = [self.shape(o) for o in s.operands()
                      if not (isinstance(o, ir.Const) and o.value is None)]
            if any(sh is _UNKNOWN for sh in shapes):
                return _UNKNOWN
            self.arithmetic(s)
            return _broadcast(shapes)
        if isinstance(op, ir.Callee) and op.obj in _TOTAL and len(s.args) == 1 and all(
                k == "axis" and isinstance(v, ir.Const) and v.value is None
                for k, v in s.kwargs):
            return ()  # a reduction over every axis: a scalar, whatever the input's shape
        if op == "matmul" or (isinstance(op, ir.Callee) and op.obj in _SHAPED):
            return self.evaluate(s)
        return _UNKNOWN

    def elementwise(self, s: ir.Stmt) -> bool:
        found = self.a.rules.get(id(s))
        return found is not None and bool(found[0].partials) and not s.seq \
            and found[0].result == "elementwise"  # (math.sin of a 1-element array: a float)

    def arithmetic(self, s: ir.Stmt) -> None:
        """Keep integer values derived from shapes (``T - 1``) for later stand-ins."""
        if isinstance(s.op, str) and s.op in ("add", "sub", "mul", "floordiv", "neg") \
                and not s.kwargs:
            args = [self.value(o) for o in s.args]
            if all(isinstance(a, int) for a in args):
                fn: Any = {"add": int.__add__, "sub": int.__sub__, "mul": int.__mul__,
                             "floordiv": int.__floordiv__, "neg": int.__neg__}[s.op]
                self.values[s.target.name] = fn(*args)

    def value(self, o: ir.Operand):
        if isinstance(o, ir.Const):
            return o.value
        return self.values.get(o.name, _UNKNOWN)

    def getitem(self, s: ir.Stmt):
        base, index = s.args[0], s.args[1:]
        known = self.value(base)
        if isinstance(known, tuple):  # an item of a known shape: T = x.shape[0]
            i = self.value(index[0]) if len(index) == 1 else _UNKNOWN
            if isinstance(i, int):
                self.values[s.target.name] = known[i]
            return ()
        parts = []
        for o in index:
            v = self.value(o)
            if v is _UNKNOWN and isinstance(o, ir.Var) and self.a.kind(o) == SCALAR:
                v = 0  # an integer index: the result's shape does not depend on it
            if v is _UNKNOWN or isinstance(v, (list, np.ndarray)) or (
                    isinstance(v, (float, bool, np.bool_))):
                return _UNKNOWN
            parts.append(v)
        shape = self.shape(base)
        if shape is _UNKNOWN:
            return _UNKNOWN
        try:
            return np.shape(np.zeros(shape)[tuple(parts) if s.seq else parts[0]])
        except Exception:  # noqa: BLE001 - e.g. an index past an empty axis: unknown
            return _UNKNOWN

    def evaluate(self, s: ir.Stmt, numbers: bool = False):
        """Run the call on stand-ins; every operand must be a known array or a value
        (``numbers``: or a scalar, whose value cannot change the result's shape)."""
        first = _VALUES_FROM.get(s.op.obj, len(s.args)) if isinstance(s.op, ir.Callee) \
            else len(s.args)

        def stand_in(o, i=-1):
            v = self.value(o)
            if v is not _UNKNOWN:
                return v
            shape = self.shape(o)
            if (numbers or i >= first) and shape == ():
                return 1.0
            if shape is _UNKNOWN or (shape == () and self.a.kind(o) == SCALAR):
                raise LookupError  # a run-time number could change the result's shape
            return np.zeros(shape)

        try:
            args = [stand_in(o, i) for i, o in enumerate(s.args)]
            kwargs = {k: stand_in(v) for k, v in s.kwargs}
            if s.seq:
                args = [args]
            # (stand-ins' values are made up: what they would warn about is meaningless)
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                if isinstance(s.op, ir.Callee):
                    call: Any = s.op.obj
                    out = call(*args, **kwargs)
                else:  # "matmul"
                    out = np.matmul(*args)
        except Exception:  # noqa: BLE001 - unknown rather than wrong
            return _UNKNOWN
        return np.shape(out) if isinstance(out, (np.ndarray, np.generic, float, int)) \
            else _UNKNOWN


# Run-time helpers whose result shape follows from their operands' shapes alone.
_HELPERS = frozenset({
    runtime.expand, runtime.keep, runtime.unbroadcast, runtime.sum_to, runtime.zeros_like,
    runtime.as_dtype_of, runtime.matmul_grad_a, runtime.matmul_grad_b, runtime.dot_grad_a,
    runtime.dot_grad_b, runtime.argmax_mask, runtime.copy_adjoint, runtime.finite.ratio,
    runtime.signum, runtime.ln, np.outer, np.broadcast_to, np.full})


class Tracker:
    """Shapes of adjoint statements, recorded into ``shapes`` (the sweep's facts, shared)
    as they are emitted: see the module docstring."""

    def __init__(self, analysis: Analysis, shapes: dict):
        self.state = _State(analysis)
        self.state.shapes = shapes

    def shape(self, o: ir.Operand) -> tuple | None:
        """``o``'s shape if known (a constant's is its own). An adjoint variable has its
        primal's shape (the reverse sweep's invariant: every contribution is summed
        down to it), which covers the adjoints merged at ifs and carried by loops."""
        found = self.state.shape(o)
        if found is _UNKNOWN and isinstance(o, ir.Var) and o.kind == "adjoint" and \
                o.of is not None:
            found = self.state.shape(o.of)
            if found is not _UNKNOWN:
                self.state.set(o, found)
        return None if found is _UNKNOWN else found

    def note(self, s: ir.Stmt) -> None:
        """Record (or forget) the shape of ``s``'s target."""
        st = self.state
        op = s.op
        for o in s.operands():
            self.shape(o)  # (an adjoint's shape from its primal's, for what follows)
        if op in ("iadd", "addat", "scatter"):
            found = st.shape(s.args[0])
        elif op == "copyitem":
            found = st.getitem(s)
        elif op == "attr.T":
            found = st.shape(s.args[0])
            found = found if found is _UNKNOWN else found[::-1]
        elif isinstance(op, ir.Callee) and isinstance(op.obj, np.ufunc) and not s.kwargs:
            shapes = [st.shape(o) for o in s.args]
            found = _UNKNOWN if _UNKNOWN in shapes else _broadcast(shapes)
        elif isinstance(op, ir.Callee) and op.obj in _HELPERS:
            found = st.evaluate(s, numbers=True)
        else:
            st.stmt(s)
            return
        st.set(s.target, found)

    def same(self, new: ir.Var, old: ir.Operand) -> None:
        """``new`` holds ``old``'s value (a renamed statement, a merge of equal shapes)."""
        self.state.set(new, self.state.shape(old))


_TOTAL = frozenset({np.sum, np.mean, np.max, np.min, np.prod, np.amax, np.amin, np.var,
                    np.std})
_ARITHMETIC = frozenset({"add", "sub", "mul", "truediv", "pow", "mod", "neg", "pos",
                         "floordiv", "lt", "le", "gt", "ge", "eq", "ne"})


def _broadcast(shapes: list):
    try:
        return np.broadcast_shapes(*shapes)
    except ValueError:
        return _UNKNOWN
