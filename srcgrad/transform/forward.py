"""Forward mode: SSA IR of ``f`` -> SSA IR of its Jacobian-vector product.

The result has ``f``'s parameters followed by a tangent for each ``wrt``
parameter (``x_dot``) and returns ``(f's value, the output's tangent)``. Each
active statement is followed by the statements computing its tangent, from
the same rule tables as reverse mode: an elementwise rule's tangent is
``sum(partial * x_dot)``; a structural rule gives each argument's share
(``jvp_x``) or is linear (the primitive applied to the tangents); ``x[i] = v``
and ``xs.append(v)`` write into the tangent's own buffer. Branches merge
tangents with phis; loops carry them (a value entering a loop unbound,
``ir.is_unbound``, has a tangent entering unbound too; a loop's ``exit`` is
kept, so the tangent loop ends at the same ``break``). No tape: nothing runs
backwards.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

import numpy as np

from .. import ir, runtime
from ..errors import NoDerivativeRule
from ..ir import Namer
from .analysis import SCALAR, Analysis, operand_vars

_REAL = ir.Callee("np.real", np.real, np)
_ZEROS_LIKE = ir.Callee("zeros_like", runtime.zeros_like, runtime.zeros_like)
_COPY = ir.Callee("copy_adjoint", runtime.copy_adjoint, runtime.copy_adjoint)
_FIT = ir.Callee("fit", runtime.fit, runtime.fit)
_AS_DTYPE = ir.Callee("as_dtype_of", runtime.as_dtype_of, runtime.as_dtype_of)
_ADD_ENTRIES = ir.Callee("add_adjoints", runtime.add_adjoints, runtime.add_adjoints)
# Ops that write into their first argument: the tangent does the same to its own buffer.
_WRITES = ("setitem", "append", "addat", "scatter", "iadd", "droplast")
# Ops whose result is a new array, never an argument or a view of one.
_FRESH = frozenset([*ir.BINARY.values(), "neg", "pos", "not", *ir.COMPARE.values(),
                    "copyitem", _COPY])


class _Forward:
    def __init__(self, fn: ir.Function, wrt: tuple[int, ...], kinds: dict[str, str],
                 complex_params: Iterable[str] = ()):
        self.fn, self.wrt = fn, wrt
        self.body = ir.clone(fn.body)
        self.a = Analysis(replace(fn, body=self.body), wrt, kinds, complex_params)
        self.active = self.a.active
        names = {p.name for p in fn.params} | {v.name for n in ir.walk(self.body)
                                                for v in ir.node_defs(n)}  # (analysis may add)
        self.namer = Namer(names)
        self.tangents: dict[str, ir.Operand] = {}
        # Tangent buffers this transform may write into, as long as nothing else refers
        # to them: a buffer passed to a call (which may hand it back: fit, np.copy's
        # tangent, a view) or made the tangent of a second value is ``exposed``, and
        # copied before the next write (the invariant ``backend/verify.py`` checks).
        self.owned: set[str] = set()
        self.exposed: set[str] = set()
        self.out: list = []
        self.taped: dict[int, list] = {}  # a tape group (by id) -> it with its tangents

    # -- helpers ----------------------------------------------------------------
    def kind(self, o: ir.Operand) -> str:
        return self.a.kind(o)

    def tangent_var(self, v: ir.Var) -> ir.Var:
        return ir.Var(self.namer.fresh(v.name + "_dot"), "tangent", v)

    def emit(self, target: ir.Var, op, args, loc, kwargs=(), seq=False) -> ir.Var:
        self.out.append(ir.Stmt(target, op, tuple(args), loc, tuple(kwargs), seq, adjoint=True))
        if op not in _FRESH:  # the result may be (a view of) an argument
            reads = args[1:] if op in _WRITES else (*args, *(v for _, v in kwargs))
            self.exposed |= {a.name for a in reads if isinstance(a, ir.Var)}
        return target

    def temp(self) -> ir.Var:
        return ir.Var(self.namer.temp(), "temp")

    def zero(self, v: ir.Operand, loc) -> ir.Operand:
        if self.kind(v) == SCALAR:
            return ir.Const(0.0)
        z = self.emit(self.temp(), _ZEROS_LIKE, (v,), loc)
        self.owned.add(z.name)
        return z

    def tangent(self, o: ir.Operand, loc) -> ir.Operand:
        """The tangent of an operand (zero for constants and inactive values)."""
        if isinstance(o, ir.Var) and o.name in self.tangents:
            return self.tangents[o.name]
        return self.zero(o, loc)

    def owned_tangent(self, o: ir.Operand, loc) -> ir.Operand:
        """A tangent buffer that may be written in place."""
        t = self.tangent(o, loc)
        if self.kind(o) == SCALAR or (isinstance(t, ir.Var) and t.name in self.owned
                                      and t.name not in self.exposed):
            return t
        c = self.emit(self.temp(), _COPY, (t,), loc)
        self.owned.add(c.name)
        return c

    def instantiate(self, tpl, env: dict, loc) -> ir.Operand:
        return tpl.instantiate(env, lambda op, args, kwargs: self.apply(op, args, loc, kwargs))

    def apply(self, op, args, loc, kwargs=()) -> ir.Operand:
        folded = ir.fold(op, args)  # the same sound folding as reverse mode
        if folded is not None:
            return folded
        plain = ir.plain_power(op, args)  # x ** 2's derivative written 2 * x
        if plain is not None:
            return self.apply("mul", (plain[0], self.apply("pow", plain[1:], loc)), loc)
        if op == "mul" and any(ir.is_number(a, -1) for a in args):
            return self.apply("neg", tuple(a for a in args if not ir.is_number(a, -1)), loc)
        return self.emit(self.temp(), op, args, loc, kwargs)

    # -- blocks -------------------------------------------------------------------
    def block(self, nodes: list) -> list:
        outer, self.out = self.out, []
        for n in nodes:
            if isinstance(n, ir.Stmt):
                if n.op in _WRITES and n.target.name in self.active:
                    self.write(n)  # the tangent's buffer is read before the write
                    continue
                self.out.append(n)
                if n.target.name in self.active:
                    self.stmt(n)
            elif isinstance(n, ir.If):
                self.if_(n)
            else:
                self.loop(n)
        result, self.out = self.out, outer
        return result

    def define(self, v: ir.Var, value: ir.Operand, loc) -> None:
        """Make ``value`` the tangent of ``v`` (named ``v_dot`` when it is computed here)."""
        if isinstance(value, ir.Var) and value.kind == "temp" and self.out and \
                isinstance(self.out[-1], ir.Stmt) and self.out[-1].target is value:
            named = self.tangent_var(v)
            self.out[-1] = replace(self.out[-1], target=named)
            if value.name in self.owned:
                self.owned.add(named.name)
            value = named
        elif isinstance(value, ir.Var):
            self.exposed.add(value.name)  # now the tangent of v too
        self.tangents[v.name] = value

    # -- statements ---------------------------------------------------------------
    def stmt(self, s: ir.Stmt) -> None:
        found = self.a.rules[id(s)]
        assert found is not None  # (an active statement has a rule: analysis checks)
        rule, bound = found
        if rule.linear:
            return self.linear(s, rule)
        shares = []
        env = {"$ans": s.target, **{"$" + p: v for p, v in bound.items()}}
        env.update({"$*" + p: v for p, v in bound.items() if isinstance(v, tuple)})
        for p, v in bound.items():
            if not rule.differentiable(p):
                continue
            for i, x in enumerate(v if isinstance(v, tuple) else (v,)):
                if isinstance(x, ir.Var) and x.name in self.active and x.name in self.tangents:
                    env.update({"$item": x, "$index": ir.Const(i), "$dot": self.tangents[x.name]})
                    shares.append(self.share(s, rule, p, x, env))
        total = shares[0] if shares else self.zero(s.target, s.loc)
        add = _ADD_ENTRIES if rule.result == "list" else "add"  # a tuple's shares: entrywise
        for c in shares[1:]:
            total = self.apply(add, (total, c), s.loc)
        if rule.broadcasting and shares and not all(self.kind(o) == SCALAR
                                                    for o in s.operands()):
            total = self.apply(_FIT, (total, s.target), s.loc)  # a broadcast input's share
        if shares and self.a.involved(s) and self.a.is_real(s.target):
            total = self.apply(_REAL, (total,), s.loc)  # the tangent of a real value is real
        self.define(s.target, total, s.loc)
        return None

    def share(self, s, rule, p, x, env) -> ir.Operand:
        if p in rule.partials:
            return self.apply("mul", (self.instantiate(rule.partials[p], env, s.loc),
                                      env["$dot"]), s.loc)
        if p in rule.jvps:
            return self.instantiate(rule.jvps[p], env, s.loc)
        raise NoDerivativeRule(f"no forward-mode rule for {s.op} (argument {p!r})", s.loc,
                               "Give one with jvp_<param>=... in srcgrad.defvjp.")

    def linear(self, s: ir.Stmt, rule) -> None:
        """The primitive applied to the tangents of its differentiable arguments."""
        positions = rule.signature.bind(*range(len(s.args)),
                                        **{k: ("kw", k) for k, _ in s.kwargs}).arguments
        diff = set()
        for p, where in positions.items():
            if rule.differentiable(p):
                diff |= set(where) if isinstance(where, tuple) and where[:1] != ("kw",) \
                    else {where}
        args = [self.tangent(a, s.loc) if i in diff else a for i, a in enumerate(s.args)]
        kwargs = [(k, self.tangent(v, s.loc) if ("kw", k) in diff else v) for k, v in s.kwargs]
        self.define(s.target, self.emit(self.temp(), s.op, args, s.loc, kwargs, s.seq), s.loc)

    def write(self, s: ir.Stmt) -> None:
        """``x[i] = v``, ``xs.append(v)``, ``x[i] += v``...: the same write into the
        tangent's own buffer (read before the primal write changes the primal)."""
        base = self.owned_tangent(s.args[0], s.loc)
        rest = (self.tangent(s.args[1], s.loc), *s.args[2:]) if len(s.args) > 1 else ()
        self.out.append(s)
        t = self.emit(self.tangent_var(s.target), s.op, (base, *rest), s.loc, seq=s.seq)
        self.owned.add(t.name)
        self.tangents[s.target.name] = t

    # -- regions --------------------------------------------------------------------
    def with_tangents(self, group):
        """A tape group and the tangents of its values (forward over reverse: what the
        adjoint reads back, its tangent must read back too)."""
        if id(group) not in self.taped:
            self.taped[id(group)] = [*group, *(self.tangents[v.name] for v in group
                                               if v.name in self.tangents)]
        return self.taped[id(group)]

    def if_(self, n: ir.If) -> None:
        then, orelse = n.restore
        n.restore = (self.taped.get(id(then), then), self.taped.get(id(orelse), orelse))
        branches, ends = [], []
        for which, block in enumerate((n.then, n.orelse)):
            nodes = self.block(block)
            outer, self.out = self.out, nodes
            ends.append([self.tangent(p.sources[which], n.loc) for p in n.phis
                         if p.target.name in self.active])
            self.out = outer
            branches.append(nodes)
        n.then, n.orelse = branches
        n.save = tuple(self.with_tangents(g) for g in n.save)
        active = [p for p in n.phis if p.target.name in self.active]
        for p, a, b in zip(active, ends[0], ends[1]):
            t = self.tangent_var(p.target)
            n.phis.append(ir.Phi(t, (a, b)))
            self.tangents[p.target.name] = t
        self.out.append(n)

    def loop(self, n: ir.Loop) -> None:
        n.restore = [self.taped.get(id(g), g) for g in n.restore]
        carried = [p for p in n.carried if p.target.name in self.active]
        starts = {}
        for p in carried:  # (entering unbound: its tangent too)
            starts[id(p)] = p.sources[0] if ir.is_unbound(p.sources[0]) else \
                self.owned_tangent(p.sources[0], n.loc)
            t = self.tangents[p.target.name] = self.tangent_var(p.target)
            self.owned.add(t.name)
        body = self.block(n.body)
        outer, self.out = self.out, body
        nexts = {id(p): self.owned_tangent(p.sources[1], n.loc) for p in carried}
        self.out = outer
        n.body = body
        n.save = self.with_tangents(n.save)
        for p in carried:
            assert p.out is not None  # (a loop phi has a value after the loop)
            out = self.tangent_var(p.out)
            inside = self.tangents[p.target.name]
            assert isinstance(inside, ir.Var)  # (the tangent_var made above)
            n.carried.append(ir.Phi(inside, (starts[id(p)], nexts[id(p)]), out))
            self.tangents[p.out.name] = out
            self.owned.add(out.name)
        self.out.append(n)

    def run(self) -> ir.Function:
        fn = self.fn
        dots = []
        for i in self.wrt:
            p = fn.params[i]
            t = self.tangent_var(p)
            dots.append(t)
            self.tangents[p.name] = t
        body = self.block(self.body)
        ret = fn.returns[0]
        self.out = body
        ret_dot = self.tangent(ret, fn.loc) if isinstance(ret, ir.Var) else ir.Const(0.0)
        if isinstance(ret_dot, ir.Var) and self.kind(ret) != SCALAR:
            ret_dot = self.emit(self.temp(), _AS_DTYPE, (ret_dot, ret), fn.loc)  # float32 stays
        wrt = ", ".join(fn.params[i].name for i in self.wrt)
        doc = (f"Jacobian-vector product of {fn.name}: its value and its tangent along "
               f"the tangents of {wrt}.\n\nGenerated by srcgrad.")
        return ir.Function(f"{fn.name}_jvp", (*fn.params, *dots), body, (ret, ret_dot),
                           fn.loc, doc, fn.defaults)


def forward(fn: ir.Function, wrt: tuple[int, ...], kinds: dict[str, str],
            complex_params: Iterable[str] = ()) -> ir.Function:
    """The Jacobian-vector product of ``fn`` (see the module docstring);
    ``complex_params``: the parameters holding complex numbers."""
    out = _Forward(fn, wrt, kinds, complex_params).run()
    ir.verify(out)
    return out


__all__ = ["forward", "operand_vars"]
