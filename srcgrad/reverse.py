"""Reverse mode: SSA IR of ``f`` -> SSA IR of its vector-Jacobian product.

The result has ``f``'s parameters (plus the output's adjoint when
``seed="param"``), its body is ``f``'s forward sweep followed by the adjoint
sweep, and it returns ``(f's value, adjoint of each wrt parameter)``.

The algorithm is the backpropagation lecture's: statements are visited in
reverse; each rule turns the adjoint of a statement's output into
contributions to the adjoints of its inputs; a variable's contributions are
collected in a list and summed in one statement where the variable is defined
(fan-out). Only *active* variables get adjoints: those that depend on a
``wrt`` parameter through differentiable arguments and that the output
depends on. Every adjoint statement carries the location of the statement it
differentiates. Contributions are summed back to their input's shape
(``unbroadcast``) unless the kinds of the operands show that shapes agree.
"""

from __future__ import annotations

import numbers
import os
from dataclasses import replace

import numpy as np

from . import ir, rules, runtime
from .errors import NoDerivativeRule, UnsupportedSyntax
from .naming import Namer, adjoint_name

SCALAR, ANY = "scalar", "any"
_UNBROADCAST = ir.Callee("unbroadcast", runtime.unbroadcast, runtime.unbroadcast)
_ZEROS_LIKE = ir.Callee("zeros_like", runtime.zeros_like, runtime.zeros_like)
_SEED = ir.Callee("seed", runtime.seed, runtime.seed)


def rule_for(stmt: ir.Stmt) -> tuple[rules.Rule, dict] | None:
    """The rule that applies to ``stmt`` and its operands bound to the rule's parameters."""
    key = stmt.op.obj if isinstance(stmt.op, ir.Callee) else stmt.op
    errors = []
    for rule in rules.overloads(key):
        if rule.seq is not None and rule.seq != stmt.seq:
            continue
        if not stmt.seq and len(stmt.args) < rule.min_args:
            continue
        if stmt.seq and not rule.variadic:
            continue
        try:
            bound = rule.signature.bind(*stmt.args, **dict(stmt.kwargs))
        except TypeError as exc:
            errors.append(str(exc))
            continue
        bound.apply_defaults()
        return rule, {k: _operand(v) for k, v in bound.arguments.items()}
    if errors:
        raise UnsupportedSyntax(
            f"{stmt.op} is called with arguments srcgrad cannot match: {errors[0]}", stmt.loc,
            "Call it with positional arguments and the keywords shown in its rule.")
    return None


def _operand(v):
    """A bound argument as an operand (defaults become constants; *args stay tuples)."""
    if isinstance(v, tuple):
        return v
    return v if isinstance(v, (ir.Var, ir.Const)) else ir.Const(v)


def kind_of_value(value: object) -> str:
    if isinstance(value, (numbers.Number, np.generic)) or value is None:
        return SCALAR
    return ANY


class _Reverse:
    def __init__(self, fn: ir.Function, wrt: tuple[int, ...], kinds: dict[str, str], seed: str):
        self.fn, self.wrt, self.seed = fn, wrt, seed
        names = {p.name for p in fn.params} | {s.target.name for s in fn.body}
        self.namer = Namer(names)
        self.kinds = dict(kinds)
        self.rules: dict[int, tuple[rules.Rule, dict] | None] = {}
        self.out: list[ir.Stmt] = []
        self.contribs: dict[str, list[ir.Operand]] = {}
        self.uses: dict[str, int] = {}
        self.missing: dict[str, ir.Stmt] = {}  # varied values computed without a rule
        self.adjoints: dict[str, ir.Operand] = {}  # complete adjoints, not yet consumed
        self.private: set[str] = set()  # temporaries that only one contribution uses

    # -- analyses -------------------------------------------------------------
    def kind(self, o: ir.Operand) -> str:
        return kind_of_value(o.value) if isinstance(o, ir.Const) else self.kinds.get(o.name, ANY)

    def analyse(self) -> None:
        """Rules, kinds and activity of every statement."""
        varied = {self.fn.params[i].name for i in self.wrt}
        for s in self.fn.body:
            found = self.rules[id(s)] = rule_for(s)
            self.kinds[s.target.name] = self._result_kind(s, found)
            if found is None:
                if any(u.name in varied for u in s.uses()):
                    self.missing[s.target.name] = s
                    varied.add(s.target.name)
                continue
            rule, bound = found
            if not rule.nondiff and any(self._varied(v, varied) for p, v in bound.items()
                                        if rule.differentiable(p)):
                varied.add(s.target.name)
        ret = self.fn.returns[0]
        useful = {ret.name} if isinstance(ret, ir.Var) and ret.name in varied else set()
        for s in reversed(self.fn.body):
            if s.target.name not in useful:
                continue
            if s.target.name in self.missing:
                raise _no_rule(s)
            rule, bound = self.rules[id(s)]
            for p, v in bound.items():
                for var in self._vars(v):
                    if rule.differentiable(p) and var.name in varied:
                        useful.add(var.name)
                        self.uses[var.name] = self.uses.get(var.name, 0) + 1
        self.active = useful
        if useful:
            self.uses[ret.name] = self.uses.get(ret.name, 0) + 1

    def _result_kind(self, s: ir.Stmt, found) -> str:
        if found is None:
            return ANY
        result = found[0].result
        if result == SCALAR:
            return SCALAR
        if result == "elementwise" and all(self.kind(o) == SCALAR for o in s.args):
            return SCALAR
        return ANY

    @staticmethod
    def _vars(v) -> list[ir.Var]:
        items = v if isinstance(v, tuple) else (v,)
        return [o for o in items if isinstance(o, ir.Var)]

    def _varied(self, v, varied: set[str]) -> bool:
        return any(o.name in varied for o in self._vars(v))

    # -- emission helpers -----------------------------------------------------
    def temp(self) -> ir.Var:
        return ir.Var(self.namer.temp(), "temp")

    def adjoint_var(self, v: ir.Var) -> ir.Var:
        return ir.Var(self.namer.fresh(adjoint_name(v.name)), "adjoint", v)

    def emit(self, target: ir.Var, op, args, loc, kwargs=()) -> ir.Var:
        self.out.append(ir.Stmt(target, op, tuple(args), loc, tuple(kwargs), adjoint=True))
        return target

    def apply(self, op, args, loc, kwargs=()) -> ir.Operand:
        """Emit ``op(*args)``, folding what is sound to fold (never ``0 * x``)."""
        folded = _fold(op, args)
        if folded is not None:
            return folded
        if op == "mul" and any(_is(a, -1) for a in args):
            return self.apply("neg", tuple(a for a in args if not _is(a, -1)), loc)
        return self.emit(self.temp(), op, args, loc, kwargs)

    def instantiate(self, tpl: rules.Template, env: dict[str, object], loc) -> ir.Operand:
        local: dict[str, ir.Operand] = {}

        def sub(o):
            if isinstance(o, ir.Var):
                return local.get(o.name) or env[o.name]
            return o

        for s in tpl.stmts:
            args = []
            for a in s.args:
                if isinstance(a, ir.Var) and a.name.startswith("$*"):
                    args.extend(env[a.name])
                else:
                    args.append(sub(a))
            kwargs = [(k, sub(v)) for k, v in s.kwargs]
            local[s.target.name] = self.apply(s.op, args, loc, kwargs)
        return sub(tpl.result)

    # -- the sweep ------------------------------------------------------------
    def run(self) -> ir.Function:
        self.analyse()
        fn = self.fn
        params = list(fn.params)
        ret = fn.returns[0]
        if self.active:
            seed_var = self.adjoint_var(ret)
            if self.seed == "param":
                params.append(seed_var)
            elif self.kind(ret) == SCALAR:
                self.emit(seed_var, "copy", (ir.Const(1.0),), self._def_loc(ret))
            else:  # check the output is a scalar before sweeping back from it
                self.emit(seed_var, _SEED, (ret,), self._def_loc(ret))
            self.contribs[ret.name] = [seed_var]
        for s in reversed(fn.body):
            if s.target.name in self.active:
                self.differentiate(s)
        grads = tuple(self.param_adjoint(fn.params[i]) for i in self.wrt)
        return ir.Function(self._name(), tuple(params), [*fn.body, *self.out], (ret, *grads),
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

    def _def_loc(self, v: ir.Operand):
        for s in self.fn.body:
            if s.target is v:
                return s.loc
        return self.fn.loc

    def differentiate(self, s: ir.Stmt) -> None:
        g = self.adjoints.pop(s.target.name, None)
        if g is None:
            g = self.materialize(s.target, s.loc)
        rule, bound = self.rules[id(s)]
        env = {"$g": g, "$ans": s.target}
        for p, v in bound.items():
            env["$" + p] = v
            if isinstance(v, tuple):
                env["$*" + p] = v
        for p, v in bound.items():
            if not rule.differentiable(p):
                continue
            items = v if isinstance(v, tuple) else (v,)
            for i, x in enumerate(items):
                if isinstance(x, ir.Var) and x.name in self.active:
                    env.update({"$item": x, "$index": ir.Const(i)})
                    self.contribute(s, rule, p, x, g, env)

    def contribute(self, s, rule, p, x: ir.Var, g, env) -> None:
        """Add one contribution to ``x``'s adjoint; sum them once the last one is in."""
        mark = len(self.out)
        if p in rule.partials:
            partial = self.instantiate(rule.partials[p], env, s.loc)
            c = self.apply("mul", (g, partial), s.loc)
        else:
            c = self.instantiate(rule.vjps[p], env, s.loc)
        if rule.broadcasting and self.needs_unbroadcast(s, x):
            c = self.apply(_UNBROADCAST, (c, x), s.loc)
        if len(self.out) > mark and self.out[-1].target is c:
            self.private.add(c.name)  # computed for this contribution alone
        self.contribs.setdefault(x.name, []).append(c)
        self.uses[x.name] -= 1
        if self.uses[x.name] == 0:
            self.adjoints[x.name] = self.materialize(x, s.loc)

    def needs_unbroadcast(self, s: ir.Stmt, x: ir.Var) -> bool:
        others = [o for o in s.operands() if not (isinstance(o, ir.Const) and o.value is None)]
        others.remove(x)
        return not all(self.kind(o) == SCALAR for o in others)

    def define(self, target: ir.Var, value: ir.Operand, loc) -> ir.Var:
        """Make ``target`` hold ``value``: rename the statement that just computed it if
        that value is private to one contribution, else copy."""
        if self.out and self.out[-1].target is value and value.name in self.private:
            self.out[-1] = replace(self.out[-1], target=target)
            return target
        return self.emit(target, "copy", (value,), loc)

    def materialize(self, v: ir.Var, loc) -> ir.Operand:
        """The adjoint of ``v``: the sum of its contributions, in one statement."""
        cs = self.contribs.pop(v.name, [])
        if not cs:
            return ir.Const(0.0)
        if len(cs) == 1 and (v.kind != "user" or (isinstance(cs[0], ir.Var)
                                                   and cs[0].kind == "adjoint"
                                                   and cs[0].of is v)):
            if isinstance(cs[0], ir.Var):
                self.private.discard(cs[0].name)  # now v's adjoint, shared by v's inputs
            return cs[0]
        total = cs[0]
        for c in cs[1:-1]:
            total = self.apply("add", (total, c), loc)
        if len(cs) > 1:
            return self.emit(self.adjoint_var(v), "add", (total, cs[-1]), loc)
        return self.define(self.adjoint_var(v), total, loc)

    def param_adjoint(self, p: ir.Var) -> ir.Operand:
        if p.name in self.adjoints:
            return self.adjoints[p.name]
        if self.kinds.get(p.name) == SCALAR:
            return ir.Const(0.0)
        return self.emit(self.adjoint_var(p), _ZEROS_LIKE, (p,), self.fn.loc)


def _no_rule(s: ir.Stmt) -> NoDerivativeRule:
    if isinstance(s.op, ir.Callee):
        obj = s.op.obj
        module = getattr(obj, "__module__", None)
        qual = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", repr(obj))
        full = f"{module}.{qual}" if module else repr(obj)
        named = s.op.name if full == s.op.name else f"{s.op.name} ({full})"
        return NoDerivativeRule(f"no derivative rule for {named}", s.loc)
    return NoDerivativeRule(f"no derivative rule for the operator {ir.SYMBOLS.get(s.op, s.op)}",
                            s.loc)


def _fold(op, args) -> ir.Operand | None:
    """Sound simplifications only: constants, ``x * 1``, ``x ** 1``, ``x / 1``, ``-1 * x``."""
    consts = [a.value for a in args if isinstance(a, ir.Const)]
    plain = all(isinstance(c, (int, float)) and not isinstance(c, bool) for c in consts)
    if isinstance(op, str) and plain and len(consts) == len(args) and op in _PY_OPS:
        try:
            return ir.Const(_PY_OPS[op](*consts))
        except (ArithmeticError, ValueError):
            return None
    if op == "mul" and len(args) == 2:
        for a, b in (args, args[::-1]):
            if _is(b, 1):
                return a
    if op in ("pow", "truediv") and _is(args[1], 1):
        return args[0]
    return None


def _is(o: ir.Operand, value) -> bool:
    return isinstance(o, ir.Const) and o.name is None and type(o.value) in (int, float) \
        and o.value == value


_PY_OPS = {
    "add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
    "truediv": lambda a, b: a / b, "pow": lambda a, b: a ** b, "neg": lambda a: -a,
}


def reverse(fn: ir.Function, wrt: tuple[int, ...], kinds: dict[str, str],
            seed: str = "one") -> ir.Function:
    """Build the derivative function (see the module docstring).

    ``kinds`` maps parameter names to ``"scalar"`` (a Python or NumPy scalar)
    or ``"any"``; ``seed`` is ``"one"`` (gradient of a scalar output) or
    ``"param"`` (the output's adjoint is an extra last parameter).
    """
    out = _Reverse(fn, wrt, kinds, seed).run()
    ir.verify(out)
    return out


__all__ = ["reverse", "rule_for", "SCALAR", "ANY", "kind_of_value"]
