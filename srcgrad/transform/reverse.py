"""Reverse mode: SSA IR of ``f`` -> SSA IR of its vector-Jacobian product.

The result has ``f``'s parameters (plus the output's adjoint when
``seed="param"``), its body is ``f``'s forward sweep followed by the adjoint
sweep, and it returns ``(f's value, adjoint of each wrt parameter)``.

The algorithm is the backpropagation lecture's: statements are visited in
reverse; each rule turns the adjoint of a statement's output into
contributions to the adjoints of its inputs; a variable's contributions are
collected and summed in one statement as soon as the last one is in
(fan-out). Only active variables (``analysis.Analysis``) get adjoints. Every
adjoint statement carries the location of the statement it differentiates.
Contributions are summed back to their input's shape (``unbroadcast``)
unless the kinds of the operands show that shapes agree.

Blocks are reversed in *scopes*: a scope collects the contributions made in
one block; contributions to variables defined outside the block leave it as
one sum per variable (see ``reverse_flow`` for branches and loops). A read
``x[i]`` contributes a *scatter* (added in place into an adjoint buffer the
transform owns), and ``x[i] = v`` zeroes the written region of the adjoint
in place, so table-filling loops cost O(1) adjoint work per access.

The parts, each given explicitly what it may touch: ``reverse_state`` (the
state the sweep's parts share, and the ownership invariant), ``reverse_core``
(emission, summing contributions), ``reverse_uses`` (how many contributions
each variable will receive), ``reverse_flow`` (branches, loops),
``reverse_arrays`` (indexing, broadcasting), ``reverse_tape`` (the tape and
in-place writes, after the sweep). This module drives them: the seed, the
sweep over a block, the rules' contributions of one statement, the result.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

import numpy as np

from .. import ir, runtime
from ..errors import Loc, NoDerivativeRule
from ..rules import Rule
from ..runtime import casts
from . import specialize
from .analysis import ANY, LIST, SCALAR, kind_of_value, operand_vars, rule_for
from .reverse_arrays import Arrays
from .reverse_core import Core
from .reverse_flow import Flow
from .reverse_state import Scope, SweepState
from .reverse_tape import Tape
from .reverse_uses import Uses, block_defs

_SEED = ir.Callee("seed", runtime.seed, runtime.seed)
_AS_DTYPE = ir.Callee("as_dtype_of", runtime.as_dtype_of, runtime.as_dtype_of)
_AS_INPUT = ir.Callee("as_input", runtime.as_input, runtime.as_input)
# Rule contributions that are already a list when their input is one (np.array(rows),
# np.stack(rows)...); any other contribution to a list is an array, made a list again.
_LIST_ADJOINTS = ("as_input(", "unstack(", "split_like(")


class _Reverse:
    """One derivative: the state and the parts over it, and the driver of the sweep."""

    def __init__(self, fn: ir.Function, wrt: tuple[int, ...], kinds: dict[str, str], seed: str,
                 shapes: dict[str, tuple] | None = None, complex_params: Iterable[str] = (),
                 dtypes: dict[str, np.dtype] | None = None):
        self.state = st = SweepState.start(fn, wrt, kinds, seed, shapes, complex_params)
        st.dtypes = dict(dtypes or {})
        self.core = Core(st)
        self.uses = Uses(st.analysis)
        self.arrays = Arrays(st, self.core)
        self.flow = Flow(st, self.core, self.uses, self.sweep)
        self.tape = Tape(st.fn, st.analysis, st.namer)

    def run(self) -> ir.Function:
        """The derivative function (see the module docstring)."""
        st, core = self.state, self.core
        fn, forward = st.fn, st.forward
        params = list(fn.params)
        ret = fn.returns[0]
        st.scope = Scope({p.name for p in fn.params} | block_defs(forward))
        self.uses.count(forward, st.scope)
        if st.active:
            assert isinstance(ret, ir.Var)  # (a constant output makes nothing active)
            seed_var = core.adjoint_var(ret)
            if st.seed == "param":
                params.append(seed_var)
            elif (st.kind(ret) == SCALAR or st.shapes.get(ret.name) == ()) and \
                    st.analysis.is_real(ret):
                # (known to be a real scalar: no check, so the value itself may go unused)
                core.emit(seed_var, "copy", (ir.Const(1.0),), self.def_loc(ret))
            else:  # check the output is a real scalar before sweeping back from it
                core.emit(seed_var, _SEED, (ret,), self.def_loc(ret))
            core.add(ret, seed_var, self.def_loc(ret))
        st.out = self.sweep(forward, st.out)
        grads = self.distinct([self.param_adjoint(fn.params[i]) for i in st.wrt])
        adjoint = st.out
        self.tape.finish(forward, adjoint, st.loops, st.ifs)
        if st.loops and isinstance(ret, ir.Var):
            # Adjoint loops restore earlier values of what their forward loops carried,
            # which may share the returned value's variable: keep it in one of its own.
            value = ir.Var(st.namer.fresh("value"))
            forward.append(ir.Stmt(value, "copy", (ret,), self.def_loc(ret)))
            ret = value
        return ir.Function(self._name(), tuple(params), [*forward, *adjoint], (ret, *grads),
                           fn.loc, self._doc(ret), fn.defaults)

    def _name(self) -> str:
        return f"{self.state.fn.name}_{'vjp' if self.state.seed == 'param' else 'grad'}"

    def _doc(self, ret: ir.Operand) -> str:
        fn = self.state.fn
        wrt = ", ".join(fn.params[i].name for i in self.state.wrt)
        what = "Vector-Jacobian product" if self.state.seed == "param" else "Gradient"
        return (f"{what} of {fn.name} with respect to {wrt}.\n\n"
                f"Generated by srcgrad from {os.path.basename(fn.loc.file)}:{fn.loc.line}. "
                f"Returns {ret} and the adjoint of each of {wrt}.")

    def def_loc(self, v: ir.Operand) -> Loc:
        """Where ``v`` is defined in f (f's own location for a parameter)."""
        for n in ir.walk(self.state.fn.body):
            if v in ir.node_defs(n):
                return n.loc
        return self.state.fn.loc

    def param_adjoint(self, p: ir.Var) -> ir.Operand:
        """The adjoint returned for parameter ``p``, in ``p``'s dtype."""
        core, loc = self.core, self.state.fn.loc
        g = core.adjoint_of(p, loc)
        if g is None:
            return core.zero(p, loc)  # zeros in p's own dtype
        if self.state.kind(p) == SCALAR:
            return g
        plain = self.plain_adjoint(p, g)
        if plain is not None:
            return plain
        return core.emit(core.temp(), _AS_DTYPE, (g, p), loc)

    def distinct(self, grads: list[ir.Operand]) -> tuple[ir.Operand, ...]:
        """The gradients handed to the user, each array one of its own: where two
        parameters' adjoints are one array (``x + y``: both get ``g``), the later one a
        copy, so that changing one in place cannot change the other."""
        core, st, seen = self.core, self.state, set()
        for k, (i, g) in enumerate(zip(st.wrt, grads)):
            p, root = st.fn.params[i], g
            while isinstance(root, ir.Var) and root.name in core.defs and \
                    core.defs[root.name].op == "copy":
                root = core.defs[root.name].args[0]
            if not isinstance(root, ir.Var) or st.kind(p) == SCALAR:
                continue
            if root.name in seen:
                grads[k] = core.emit(core.adjoint_var(p), core.copier(p), core.copied(g, p),
                                     st.fn.loc)
            seen.add(root.name)
        return tuple(grads)

    def plain_adjoint(self, p: ir.Var, g: ir.Operand) -> ir.Operand | None:
        """``p``'s adjoint ``g`` as the user gets it, without ``as_dtype_of``, where the
        specialization shows it is already a float64 array of its own: every argument
        float64 (or integers, bools, a Python number: they make float64 with a float),
        nothing cast on the way, and ``g`` made by
        arithmetic or a sum (a broadcast scalar, read-only, becomes ``np.full``)."""
        st, core, loc = self.state, self.core, self.state.fn.loc
        if st.dtypes.get(p.name) != np.float64 or st.analysis.complex or not all(
                t is None or t == np.float64 or t.kind in "iub" for t in st.dtypes.values()) or \
                not _float64_only(st.fn, st.dtypes):
            return None
        shape = core.shape(p)
        s = core.expanded(g)
        if s is not None and shape is not None:
            fill = specialize.kept_dims(core, s.args, loc)
            if fill is not None:
                return core.emit(core.temp(), _FULL, (ir.Const(shape), fill), loc)
        return g if self.new_array(g, shape) else None

    def new_array(self, g: ir.Operand, shape: tuple | None) -> bool:
        """``g`` is an array of ``shape`` the derivative made (never a view, never read-only):
        a buffer of its own (sums, copies, zeros, loops' totals) or arithmetic's result."""
        core = self.core
        while isinstance(g, ir.Var):
            if g.name in self.state.owned:
                return True  # (a buffer of ours has its value's shape)
            made = core.defs.get(g.name)
            if made is None:  # merged after an if: new on both sides
                merged = self.merged_from(g)
                return merged is not None and all(self.new_array(v, shape) for v in merged)
            if made.op != "copy":
                return core.shape(g) == shape and (made.op in _NEW_ARRAY_OPS or (
                    isinstance(made.op, ir.Callee) and made.op.obj in _NEW_ARRAY_CALLS))
            g = made.args[0]
        return False

    def merged_from(self, g: ir.Var) -> tuple[ir.Operand, ...] | None:
        """The two values an ``if`` of the adjoint code merges into ``g``, if one does."""
        for n in ir.walk(self.state.out):
            if isinstance(n, ir.If):
                for p in n.phis:
                    if p.target.name == g.name:
                        return tuple(p.sources)
        return None

    def sweep(self, block: list, into: list) -> list:
        """Append the adjoint of ``block`` (in reverse) to ``into``; return it."""
        st = self.state
        outer, st.out = st.out, into
        for n in reversed(block):
            if isinstance(n, ir.Stmt):
                if n.target.name in st.active:
                    self.differentiate(n)
            elif isinstance(n, ir.If):
                self.flow.reverse_if(n)
            else:
                self.flow.reverse_loop(n)
        result, st.out = st.out, outer
        return result

    # -- statements -------------------------------------------------------------
    def differentiate(self, s: ir.Stmt) -> None:
        """Hand the contributions of statement ``s`` to its inputs' adjoints."""
        st, core = self.state, self.core
        g = core.adjoint_of(s.target, s.loc)
        if g is None:  # nothing flowed back: its inputs get nothing from here
            for v in self.uses.active_uses(s):
                core.done_one(v, s.loc)
            return None
        if s.op == "getitem":
            return self.arrays.getitem_adjoint(s, g)
        if s.op == "setitem":
            return self.arrays.setitem_adjoint(s, g)
        if s.op == "append":
            return self.arrays.append_adjoint(s, g)
        found = st.analysis.rules[id(s)]
        assert found is not None  # (an active statement has a rule: analysis checks)
        rule, bound = found
        env: dict[str, Any] = {"$g": g, "$ans": s.target}
        for p, v in bound.items():
            env["$" + p] = v
            if isinstance(v, tuple):
                env["$*" + p] = v
        pairs = []
        for p, v in bound.items():
            if not rule.differentiable(p):
                continue
            items = v if isinstance(v, tuple) else (v,)
            for i, x in enumerate(items):
                if isinstance(x, ir.Var) and x.name in st.active:
                    env.update({"$item": x, "$index": ir.Const(i)})
                    pairs.append((x, self.contribute(s, rule, p, x, g, env)))
        core.add_many(pairs, s.loc)
        return None

    def contribute(self, s: ir.Stmt, rule: Rule, p: str, x: ir.Var, g: ir.Operand,
                   env: dict) -> ir.Operand:
        """The contribution of statement ``s`` to ``x``'s adjoint (not yet added)."""
        st, core = self.state, self.core
        mark = len(st.out)
        if p not in rule.partials and p not in rule.vjps:
            raise NoDerivativeRule(f"no reverse-mode rule for {s.op}", s.loc,
                                   "Reverse mode over srcgrad's generated code is not "
                                   "supported yet (forward over reverse is: srcgrad.hvp).")
        if p in rule.partials:
            partial = core.instantiate(rule.partials[p], env, s.loc)
            c = core.apply("mul", (g, partial), s.loc)
        else:
            c = core.instantiate(rule.vjps[p], env, s.loc)
        if rule.broadcasting and self.arrays.needs_unbroadcast(s, x):
            c = self.arrays.unbroadcast(c, x, s.loc, st.shapes.get(s.target.name))
        c = core.real_for(x, c, s)  # the adjoint of a real value is real
        if st.kind(x) == LIST and not (p in rule.vjps and
                                       rule.vjps[p].source.startswith(_LIST_ADJOINTS)):
            # np.sum(rows) of a list built by append: its adjoint is popped as a list
            c = core.emit(core.temp(), _AS_INPUT, (c, x), s.loc)
        if len(st.out) > mark and isinstance(c, ir.Var) and core.last_defines(c):
            st.private.add(c.name)  # computed for this contribution alone
        return c


def check_writes(fn: ir.Function, wrt: tuple[int, ...], kinds: dict[str, str],
                 complex_params: Iterable[str] = ()) -> None:
    """Refuse what reverse mode refuses of ``fn``'s in-place writes (through an alias,
    into a view or the caller's array, ``w += t`` while another name holds ``w``), for
    forward mode: it has no tape of its own, but the same program semantics to keep."""
    st = SweepState.start(fn, wrt, kinds, "one", None, complex_params)
    Tape(st.fn, st.analysis, st.namer).check_writes(st.forward, [])


def reverse(fn: ir.Function, wrt: tuple[int, ...], kinds: dict[str, str],
            seed: str = "one", shapes: dict[str, tuple] | None = None,
            complex_params: Iterable[str] = (), dtypes: dict[str, np.dtype] | None = None
            ) -> ir.Function:
    """Build the derivative function (see the module docstring).

    ``kinds`` maps parameter names to ``"scalar"`` (a Python or NumPy scalar)
    or ``"any"``; ``seed`` is ``"one"`` (gradient of a scalar output) or
    ``"param"`` (the output's adjoint is an extra last parameter). ``shapes``,
    when given, maps array parameters to their shapes: the code is then valid
    only for arguments of those shapes (see ``shapes.py``); ``dtypes``, alongside
    them, the array parameters' dtypes, likewise.
    """
    out = _Reverse(fn, wrt, kinds, seed, shapes, complex_params, dtypes).run()
    ir.verify(out)
    return out


_FULL = ir.Callee("np.full", np.full, np)
# Adjoint statements whose result is a new, writable array (of the operands' dtype).
_NEW_ARRAY_OPS = frozenset({"add", "sub", "mul", "truediv", "neg", "pow", "matmul",
                            "iadd", "addat", "scatter"})
_NEW_ARRAY_CALLS = frozenset({np.zeros, np.sum, np.outer, np.copy, np.dot, np.matmul,
                              runtime.copy_adjoint})


def _float64_only(fn: ir.Function, dtypes: dict[str, Any]) -> bool:
    """No statement of ``fn`` names a dtype (``dtype=``, ``np.float32(...)``,
    ``x.astype(...)``): its arrays are float64 when its array arguments are."""
    for s in ir.walk(fn.body):
        if not isinstance(s, ir.Stmt):
            continue
        if any(k == "dtype" for k, _ in s.kwargs):
            return False
        obj = s.op.obj if isinstance(s.op, ir.Callee) else None
        if obj in (np.ndarray.astype, casts.cast, casts.cast_off) or _other_dtype(obj):
            return False
        if any(isinstance(o, ir.Const) and _other_dtype(o.value) for o in s.operands()):
            return False
    return True


def _other_dtype(value: object) -> bool:
    """``value`` is, names or holds a dtype other than float64."""
    if isinstance(value, (np.ndarray, np.generic)):
        return value.dtype != np.float64
    if isinstance(value, (np.dtype, str)) or (isinstance(value, type) and
                                              issubclass(value, np.generic)):
        try:
            return np.dtype(value) != np.float64
        except (TypeError, ValueError):  # a string that names no dtype (einsum's)
            return False
    return False


__all__ = ["reverse", "check_writes", "rule_for", "SCALAR", "ANY", "kind_of_value", "operand_vars"]
