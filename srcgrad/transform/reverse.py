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
"""

from __future__ import annotations

import os
from dataclasses import replace

from .. import ir, runtime
from ..errors import NoDerivativeRule
from ..ir import Namer, adjoint_name, clone
from .analysis import ANY, LIST, SCALAR, Analysis, kind_of_value, operand_vars, rule_for
from .reverse_arrays import ArrayMixin
from .reverse_flow import FlowMixin, Scatter, Scope
from .reverse_tape import TapeMixin
from .shapes import infer as infer_shapes

_ZEROS = ir.Callee("np.zeros", runtime.np.zeros, runtime.np)
ZEROS_LIKE = ir.Callee("zeros_like", runtime.zeros_like, runtime.zeros_like)
_SEED = ir.Callee("seed", runtime.seed, runtime.seed)
_COPY = ir.Callee("np.copy", runtime.np.copy, runtime.np)
_COPY_LIST = ir.Callee("copy_adjoint", runtime.copy_adjoint, runtime.copy_adjoint)
_ADD_LISTS = ir.Callee("add_adjoints", runtime.add_adjoints, runtime.add_adjoints)
_AS_DTYPE = ir.Callee("as_dtype_of", runtime.as_dtype_of, runtime.as_dtype_of)


class _Reverse(FlowMixin, ArrayMixin, TapeMixin):
    def __init__(self, fn: ir.Function, wrt: tuple[int, ...], kinds: dict[str, str], seed: str,
                 shapes: dict[str, tuple] | None = None):
        self.fn, self.wrt, self.seed = fn, wrt, seed
        self.forward = clone(fn.body)  # the forward sweep: tape pushes get added to it
        self.a = Analysis(replace(fn, body=self.forward), wrt, kinds)
        # Adjoint temporaries made by expand() or argmax_mask(), by name (see narrowed).
        self.helper_stmts: dict[str, ir.Stmt] = {}
        self.shapes = {} if shapes is None else infer_shapes(
            replace(fn, body=self.forward), self.a, shapes)
        self.active = self.a.active
        names = {p.name for p in fn.params} | {v.name for n in ir.walk(fn.body)
                                                for v in ir.node_defs(n)}
        self.namer = Namer(names)
        self.out: list = []
        self.scope = Scope(set())
        self.private: set[str] = set()  # temporaries that only one contribution uses
        # Adjoint buffers this transform created, which it may update in place, but only
        # while one holder has them: ``holds`` counts the contributions (pending or
        # handed on) that refer to each buffer, so one handed to two variables is
        # copied before either changes it (the invariant ``inplace.verify`` checks).
        self.owned: set[str] = set()
        self.holds: dict[str, int] = {}
        self.passed_on: dict[str, ir.Var] = {}  # helper results that may be their operand
        self.writes = {s.target.name for s in ir.walk(fn.body)  # adjoints changed in place
                       if isinstance(s, ir.Stmt) and s.op in ("setitem", "append")}
        self.loops: list[tuple[ir.Loop, ir.Loop]] = []  # (forward, adjoint) pairs
        self.ifs: dict[int, ir.If] = {}  # forward if (by id) -> its adjoint
        self.depth = 0  # how many branches and loops enclose the block being reversed

    def kind(self, o: ir.Operand) -> str:
        return self.a.kind(o)

    # -- emission helpers -----------------------------------------------------
    def temp(self) -> ir.Var:
        return ir.Var(self.namer.temp(), "temp")

    def adjoint_var(self, v: ir.Var) -> ir.Var:
        return ir.Var(self.namer.fresh(adjoint_name(v.name)), "adjoint", v)

    def emit(self, target: ir.Var, op, args, loc, kwargs=(), seq=False) -> ir.Var:
        s = ir.Stmt(target, op, tuple(args), loc, tuple(kwargs), seq, adjoint=True)
        self.out.append(s)
        if ir.may_share_first(s):
            self.passed_on[target.name] = args[0]
        if isinstance(op, ir.Callee) and op.obj in (runtime.expand, runtime.argmax_mask):
            self.helper_stmts[target.name] = s
        return target

    def apply(self, op, args, loc, kwargs=()) -> ir.Operand:
        """Emit ``op(*args)``, folding what is sound to fold (never ``0 * x``)."""
        if self.shapes and isinstance(op, ir.Callee):
            known = self.shape_only(op, args)
            if isinstance(known, ir.Const):
                return known
            args = known
        if op == "mul" and self.shapes:
            args = tuple(self.narrowed(a, b, loc) for a, b in (args, args[::-1]))
        folded = ir.fold(op, args)
        if folded is not None:
            return folded
        if op == "mul" and any(ir.is_number(a, -1) for a in args):
            return self.apply("neg", tuple(a for a in args if not ir.is_number(a, -1)), loc)
        return self.emit(self.temp(), op, args, loc, kwargs)

    def zero(self, v: ir.Var, loc) -> ir.Operand:
        """A fresh zero adjoint for ``v`` (0.0 for scalars)."""
        if self.kind(v) == SCALAR:
            return ir.Const(0.0)
        shape = self.shapes.get(v.name)
        if shape is not None and v not in self.fn.params:  # not kept for its shape alone
            z = self.emit(self.adjoint_var(v), _ZEROS, (ir.Const(shape),), loc)
        else:
            z = self.emit(self.adjoint_var(v), ZEROS_LIKE, (v,), loc)
        self.owned.add(z.name)
        return z

    def instantiate(self, tpl, env: dict, loc) -> ir.Operand:
        return tpl.instantiate(env, lambda op, args, kwargs: self.apply(op, args, loc, kwargs))

    def run(self) -> ir.Function:
        fn = self.fn
        params = list(fn.params)
        ret = fn.returns[0]
        forward = self.forward
        self.scope = Scope({p.name for p in fn.params} | self.block_defs(forward))
        self.count_uses(forward, self.scope)
        if self.active:
            seed_var = self.adjoint_var(ret)
            if self.seed == "param":
                params.append(seed_var)
            elif self.kind(ret) == SCALAR or self.shapes.get(ret.name) == ():
                # (known to be a scalar: no check, so the value itself may go unused)
                self.emit(seed_var, "copy", (ir.Const(1.0),), self.def_loc(ret))
            else:  # check the output is a scalar before sweeping back from it
                self.emit(seed_var, _SEED, (ret,), self.def_loc(ret))
            self.add(ret, seed_var, self.def_loc(ret))
        self.out = self.sweep(forward, self.out)
        grads = tuple(self.param_adjoint(fn.params[i]) for i in self.wrt)
        adjoint = self.out
        self.finish_forward(forward, adjoint)
        if self.loops and isinstance(ret, ir.Var):
            # Adjoint loops restore earlier values of what their forward loops carried,
            # which may share the returned value's variable: keep it in one of its own.
            value = ir.Var(self.namer.fresh("value"))
            forward.append(ir.Stmt(value, "copy", (ret,), self.def_loc(ret)))
            ret = value
        return ir.Function(self._name(), tuple(params), [*forward, *adjoint], (ret, *grads),
                           fn.loc, self._doc(ret), fn.defaults)

    def _name(self) -> str:
        return f"{self.fn.name}_{'vjp' if self.seed == 'param' else 'grad'}"

    def _doc(self, ret: ir.Operand) -> str:
        wrt = ", ".join(self.fn.params[i].name for i in self.wrt)
        what = "Vector-Jacobian product" if self.seed == "param" else "Gradient"
        loc = self.fn.loc
        return (f"{what} of {self.fn.name} with respect to {wrt}.\n\n"
                f"Generated by srcgrad from {os.path.basename(loc.file)}:{loc.line}. "
                f"Returns {ret} and the adjoint of each of {wrt}.")

    def def_loc(self, v: ir.Operand):
        for n in ir.walk(self.fn.body):
            if v in ir.node_defs(n):
                return n.loc
        return self.fn.loc

    def param_adjoint(self, p: ir.Var) -> ir.Operand:
        g = self.adjoint_of(p, self.fn.loc)
        if g is None:
            return self.zero(p, self.fn.loc)  # zeros in p's own dtype
        if self.kind(p) == SCALAR:
            return g
        return self.emit(self.temp(), _AS_DTYPE, (g, p), self.fn.loc)

    # -- scopes ---------------------------------------------------------------
    def sweep(self, block: list, into: list) -> list:
        """Append the adjoint of ``block`` (in reverse) to ``into``; return it."""
        outer, self.out = self.out, into
        for n in reversed(block):
            if isinstance(n, ir.Stmt):
                if n.target.name in self.active:
                    self.differentiate(n)
            elif isinstance(n, ir.If):
                self.reverse_if(n)
            else:
                self.reverse_loop(n)
        result, self.out = self.out, outer
        return result

    def count_uses(self, block: list, scope: Scope) -> None:
        """How many contributions each variable will receive from ``block``."""
        for n in block:
            uses = self.active_uses(n) if isinstance(n, ir.Stmt) else self.free_uses(n)
            for v in uses:
                scope.pending[v.name] = scope.pending.get(v.name, 0) + 1

    def add(self, v: ir.Var, c, loc) -> None:
        """One contribution ``c`` (an operand or a Scatter) to ``v``'s adjoint."""
        self.add_many([(v, c)], loc)

    def add_many(self, pairs: list, loc) -> None:
        """Several contributions of one statement: all are held before any adjoint
        completes, so none is updated in place while another still refers to it."""
        for v, c in pairs:
            self.hold(c)
            self.scope.contribs.setdefault(v.name, []).append(c)
        for v, _ in pairs:
            self.done_one(v, loc)

    def hold(self, c) -> None:
        """Count one more reference to the buffer behind contribution ``c`` (and behind
        the operand it may be at run time: ``unbroadcast(g, x)`` is g when shapes agree)."""
        o = c.value if isinstance(c, Scatter) else c
        while isinstance(o, ir.Var):
            self.holds[o.name] = self.holds.get(o.name, 0) + 1
            o = self.passed_on.get(o.name)

    def done_one(self, v: ir.Var, loc) -> None:
        scope = self.scope
        scope.pending[v.name] = scope.pending.get(v.name, 1) - 1
        if scope.pending[v.name] == 0 and v.name in scope.local:
            g = self.materialize(v, loc)
            if g is not None:
                scope.ready[v.name] = g

    def adjoint_of(self, v: ir.Var, loc) -> ir.Operand | None:
        """``v``'s complete adjoint in this scope, or None if it received nothing."""
        if v.name in self.scope.ready:
            return self.scope.ready.pop(v.name)
        return self.materialize(v, loc)

    def materialize(self, v: ir.Var, loc, base: ir.Operand | None = None) -> ir.Operand | None:
        """The sum of ``v``'s contributions (onto ``base``), as one statement when it can."""
        cs = self.scope.contribs.pop(v.name, [])
        dense = [c for c in cs if not isinstance(c, Scatter)]
        scatters = [c for c in cs if isinstance(c, Scatter)]
        if base is not None:
            dense = [base, *dense]
        if not dense and not scatters:
            return None
        mutable = (bool(scatters) or v.name in self.writes) and self.kind(v) != SCALAR
        if not scatters and len(dense) == 1:
            return self.single(v, dense[0], loc, mutable)
        if not dense:
            total = self.zero(v, loc)
        elif mutable and not self.is_owned(dense[0]):
            total = self.emit(self.adjoint_var(v), self.copier(v), (dense[0],), loc)
            self.owned.add(total.name)
        elif len(dense) > 1 and not self.is_owned(dense[0]):
            # The first sum makes a new buffer, named for v: `x_bar = a + b; x_bar += c`.
            add = _ADD_LISTS if self.kind(v) == LIST else "add"
            total = self.emit(self.adjoint_var(v), add, dense[:2], loc)
            self.owned.add(total.name)
            dense = dense[1:]
        else:
            total = dense[0]
        for c in dense[1:]:
            total = self.accumulate(total, c, loc, self.kind(v))
        for s in scatters:
            op = "scatter" if s.fancy else "addat"
            total = self.emit(self.temp(), op, (total, s.value, *s.index), loc, seq=s.seq)
            self.owned.add(total.name)
        if isinstance(total, ir.Var) and total.kind == "temp" and self.last_defines(total):
            self.out[-1] = replace(self.out[-1], target=self.adjoint_var(v))
            total = self.out[-1].target
            self.owned.add(total.name)
        return total

    def last_defines(self, value: ir.Operand) -> bool:
        """Whether the statement just emitted computes ``value``."""
        return bool(self.out) and isinstance(self.out[-1], ir.Stmt) and \
            self.out[-1].target is value

    def is_owned(self, o: ir.Operand) -> bool:
        """``o`` is a buffer of ours that no one but its one holder refers to."""
        return isinstance(o, ir.Var) and o.name in self.owned and self.holds.get(o.name, 0) <= 1

    def copier(self, v: ir.Var) -> ir.Callee:
        return _COPY_LIST if self.kind(v) == LIST else _COPY

    def accumulate(self, total: ir.Operand, c: ir.Operand, loc, kind: str) -> ir.Operand:
        if kind == LIST:
            total = self.emit(self.temp(), _ADD_LISTS, (total, c), loc)
            self.owned.add(total.name)
            return total
        if self.is_owned(total) and kind != SCALAR:
            acc = self.emit(self.temp(), "iadd", (total, c), loc)  # in place: total is ours
            self.owned.add(acc.name)
            return acc
        total = self.apply("add", (total, c), loc)
        if isinstance(total, ir.Var):
            self.owned.add(total.name)  # a sum is a new array
        return total

    def single(self, v: ir.Var, c: ir.Operand, loc, mutable: bool) -> ir.Operand:
        if mutable and not self.is_owned(c):
            c = self.emit(self.adjoint_var(v), self.copier(v), (c,), loc)
            self.owned.add(c.name)
            return c
        if v.kind == "user" and not self.same_family(v, c):
            return self.define(self.adjoint_var(v), c, loc)
        if isinstance(c, ir.Var):
            self.private.discard(c.name)  # now v's adjoint, shared by v's inputs
        return c

    def same_family(self, v: ir.Var, c: ir.Operand) -> bool:
        """``c`` is already an adjoint of (a version of) ``v``: no copy needed to name it.
        Inside regions every adjoint alias is kept as is (copies there are clutter)."""
        if not (isinstance(c, ir.Var) and c.kind == "adjoint"):
            return False
        return self.depth > 0 or c.of is v or _base(c.of.name) == _base(v.name)

    def define(self, target: ir.Var, value: ir.Operand, loc) -> ir.Var:
        """Make ``target`` hold ``value``: rename the statement that just computed it if
        that value is private to one contribution, else copy."""
        if self.last_defines(value) and value.name in self.private:
            self.out[-1] = replace(self.out[-1], target=target)
        else:
            self.emit(target, "copy", (value,), loc)
        if self.is_owned(value):
            self.owned.add(target.name)
        return target

    # -- statements -------------------------------------------------------------
    def differentiate(self, s: ir.Stmt) -> None:
        g = self.adjoint_of(s.target, s.loc)
        if g is None:  # nothing flowed back: its inputs get nothing from here
            for v in self.active_uses(s):
                self.done_one(v, s.loc)
            return None
        if s.op == "getitem":
            return self.getitem_adjoint(s, g)
        if s.op == "setitem":
            return self.setitem_adjoint(s, g)
        if s.op == "append":
            return self.append_adjoint(s, g)
        rule, bound = self.a.rules[id(s)]
        env = {"$g": g, "$ans": s.target}
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
                if isinstance(x, ir.Var) and x.name in self.active:
                    env.update({"$item": x, "$index": ir.Const(i)})
                    pairs.append((x, self.contribute(s, rule, p, x, g, env)))
        self.add_many(pairs, s.loc)
        return None

    def contribute(self, s, rule, p, x: ir.Var, g, env):
        """The contribution of statement ``s`` to ``x``'s adjoint (not yet added)."""
        mark = len(self.out)
        if p not in rule.partials and p not in rule.vjps:
            raise NoDerivativeRule(f"no reverse-mode rule for {s.op}", s.loc,
                                   "Reverse mode over srcgrad's generated code is not "
                                   "supported yet (forward over reverse is: srcgrad.hvp).")
        if p in rule.partials:
            partial = self.instantiate(rule.partials[p], env, s.loc)
            c = self.apply("mul", (g, partial), s.loc)
        else:
            c = self.instantiate(rule.vjps[p], env, s.loc)
        if rule.broadcasting and self.needs_unbroadcast(s, x):
            c = self.unbroadcast(c, x, s.loc, self.shapes.get(s.target.name))
        if len(self.out) > mark and self.last_defines(c):
            self.private.add(c.name)  # computed for this contribution alone
        return c

def _base(name: str) -> str:
    """The user name an SSA version came from (``x_2`` -> ``x``)."""
    head, _, tail = name.rpartition("_")
    return head if head and tail.isdigit() else name


def check_writes(fn: ir.Function, wrt: tuple[int, ...], kinds: dict[str, str]) -> None:
    """Refuse what reverse mode refuses of ``fn``'s in-place writes (through an alias,
    into a view or the caller's array, ``w += t`` while another name holds ``w``), for
    forward mode: it has no tape of its own, but the same program semantics to keep."""
    r = _Reverse(fn, wrt, kinds, "one")
    r.check_writes(r.forward, [])


def reverse(fn: ir.Function, wrt: tuple[int, ...], kinds: dict[str, str],
            seed: str = "one", shapes: dict[str, tuple] | None = None) -> ir.Function:
    """Build the derivative function (see the module docstring).

    ``kinds`` maps parameter names to ``"scalar"`` (a Python or NumPy scalar)
    or ``"any"``; ``seed`` is ``"one"`` (gradient of a scalar output) or
    ``"param"`` (the output's adjoint is an extra last parameter). ``shapes``,
    when given, maps array parameters to their shapes: the code is then valid
    only for arguments of those shapes (see ``shapes.py``).
    """
    out = _Reverse(fn, wrt, kinds, seed, shapes).run()
    ir.verify(out)
    return out


__all__ = ["reverse", "check_writes", "rule_for", "SCALAR", "ANY", "kind_of_value", "operand_vars"]
