"""Analyses of an IR function that the transforms share: rules, kinds, activity.

Contract: ``Analysis(fn, wrt, kinds)`` binds every statement to its rule (or
None), infers every variable's kind ("scalar": a Python or NumPy scalar;
"any": anything, an array included), and computes the *active* variables:
those that depend on a ``wrt`` parameter through differentiable arguments
(varied) and on which the returned value depends (useful). Loops are solved
to a fixpoint. A useful value computed by a call without a rule is a located
``NoDerivativeRule``. A step function (``rule.step``: round, sign, argmax...)
of the user's code that a varied value reaches, and whose result would carry a
gradient to the output if it were differentiable, gets a ``ZeroGradientWarning``
at the user's line (Python's filters decide how often it shows: by default once
per location). Steps in adjoint or tangent code are srcgrad's own (abs's
derivative is a sign, met when a gradient is differentiated again) and never warn.
"""

from __future__ import annotations

import builtins
import numbers
import re
from collections.abc import Iterable

import numpy as np

from .. import ir, rules
from ..errors import NoDerivativeRule, UnsupportedSyntax, ZeroGradientWarning
from . import complexity

SCALAR, ANY, LIST = "scalar", "any", "list"
SHAPE = "shape"  # a tuple of ints (x.shape): its items are scalars


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
        star = rule.variadic
        return rule, {k: v if k == star else _operand(v) for k, v in bound.arguments.items()}
    if errors:
        raise UnsupportedSyntax(
            f"{stmt.op} is called with arguments srcgrad cannot match: {errors[0]}", stmt.loc,
            rules.HINTS.get(key, "Call it with positional arguments and the keywords shown "
                            "in its rule."))
    return None


def _operand(v):
    """A bound argument as an operand (defaults, tuples included, become constants)."""
    return v if isinstance(v, (ir.Var, ir.Const)) else ir.Const(v)


def kind_of_value(value: object) -> str:
    if isinstance(value, (numbers.Number, np.generic)) or value is None:
        return SCALAR
    return ANY


def operand_vars(v) -> list[ir.Var]:
    items = v if isinstance(v, tuple) else (v,)
    return [o for o in items if isinstance(o, ir.Var)]


class Analysis:
    def __init__(self, fn: ir.Function, wrt: tuple[int, ...], kinds: dict[str, str],
                 complex_params: Iterable[str] = ()):
        self.fn = fn
        self.rules: dict[int, tuple[rules.Rule, dict] | None] = {}
        self.kinds = dict(kinds)
        self.slices: set[str] = set()  # values made by slice(...): xs[a:b] of a list
        self.missing: dict[str, ir.Stmt] = {}
        for s in ir.walk(fn.body):
            if isinstance(s, ir.Stmt):
                self.rules[id(s)] = rule_for(s)
        for _ in range(2):  # a loop's carried kinds settle in two passes
            self._kinds(fn.body)
        self.complex = complexity.complex_values(fn, self.rules, complex_params)
        if self.complex:
            self._promote()
        refused = self._complex_rules() if self.complex else []
        self.through_steps = False
        self._activity(wrt)
        self.active = self.useful & self.varied
        for s, rule in refused:
            if s.target.name in self.active:
                raise complexity.refusal(s, rule)
        self._integer_uses()
        for name, s in self.missing.items():
            if name in self.useful:
                raise _no_rule(s)
        self.steps = self._steps_reached(wrt)
        for s in self.steps:
            _warn_step(s)

    def involved(self, s: ir.Stmt) -> bool:
        """``s`` reads or makes a value that may be complex (``complexity``)."""
        return bool(self.complex) and complexity.involved(s, self.complex)

    def is_real(self, o: ir.Operand) -> bool:
        """``o``'s value is real on every call of this specialization."""
        return not (isinstance(o, ir.Var) and o.name in self.complex)

    def _promote(self) -> None:
        """``complexity.promote``: the statements it adds get their rule and kind."""
        taken = {p.name for p in self.fn.params} | {
            v.name for n in ir.walk(self.fn.body) for v in ir.node_defs(n)}
        for s in complexity.promote(self.fn.body, self.complex, ir.Namer(taken)):
            self.rules[id(s)] = rule_for(s)
            self.kinds[s.target.name] = self.kind(s.args[0])

    def _complex_rules(self) -> list:
        """Bind the statements that meet complex values to rules right for them; the
        (statement, rule) pairs that have none (refused if they carry a derivative)."""
        refused = []
        for s in ir.walk(self.fn.body):
            if not isinstance(s, ir.Stmt):
                continue
            found = self.rules.get(id(s))
            if found is None or not complexity.involved(s, self.complex):
                continue
            chosen = complexity.complex_rule(s, *found)
            if chosen is None:
                refused.append((s, found[0]))
            else:
                self.rules[id(s)] = chosen
        return refused

    def _activity(self, wrt: tuple[int, ...]) -> None:
        self.varied = {self.fn.params[i].name for i in wrt}
        while self._vary(self.fn.body):
            pass
        ret = self.fn.returns[0]
        self.useful = {ret.name} if isinstance(ret, ir.Var) and ret.name in self.varied else set()
        while self._use(self.fn.body):
            pass

    def _integer_uses(self) -> None:
        """A differentiated value used as an integer (range(n), np.zeros(n), x[:n], x[n]:
        ``Rule.integers``) has no derivative there: a Python int in ``wrt`` would get a
        silent zero, so it is refused at the first such use. Only numbers count (kind
        scalar, or a tuple of them: np.zeros((n, 3))): an array there is an index array
        (vjp gives an integer array a cotangent), None a default (x[mask], mask=None)."""
        stmts = [s for s in ir.walk(self.fn.body) if isinstance(s, ir.Stmt)]
        if any(s.adjoint for s in stmts):
            # Generated gradient code (second order) is differentiated along every
            # argument, an int too (its tangent zero): whether f may be differentiated in
            # it was decided, and refused, at first order.
            return
        tuples = {s.target.name: s for s in stmts if s.op == "tuple"}

        def numbers_in(o) -> list[ir.Var]:
            out = []
            for v in operand_vars(o):
                if v.name in tuples:
                    out += numbers_in(tuples[v.name].args)
                elif v.name in self.varied and self.kinds.get(v.name) == SCALAR:
                    out.append(v)
            return out

        for s in ir.walk(self.fn.body):
            if isinstance(s, ir.Loop):  # for i in range(n): the bounds are the loop's
                hit = numbers_in(tuple(s.bounds))
                if hit:
                    raise _integer_use(s, "range", hit[0])
            found = self.rules.get(id(s)) if isinstance(s, ir.Stmt) else None
            if found is None or not found[0].integers or not isinstance(s, ir.Stmt):
                continue
            rule, bound = found
            for p in rule.integers:
                hit = numbers_in(bound.get(p))
                if hit:
                    raise _integer_use(s, rule, hit[0])

    def _steps_reached(self, wrt: tuple[int, ...]) -> list[ir.Stmt]:
        """Step-function statements (round, sign...) with a varied argument whose result
        would carry a gradient to the output if the step were differentiable. A varied
        value in a parameter a rule only assumes constant (np.quantile's q) is an error."""
        steps = []
        for s in ir.walk(self.fn.body):
            found = self.rules.get(id(s)) if isinstance(s, ir.Stmt) else None
            if found is None or not isinstance(s, ir.Stmt):
                continue
            rule, bound = found
            blocked = [p for p in _assumed_constant(rule) if p in bound and any(
                v.name in self.varied for v in operand_vars(bound[p]))]
            # A step in adjoint or tangent code (abs's sign, when differentiating twice)
            # is srcgrad's own: its zero derivative is the right one, nothing to say.
            user_step = rule.step and not s.adjoint
            if blocked or (user_step and any(v.name in self.varied for v in s.uses())):
                steps.append((s, rule, blocked))
        if not steps:
            return []
        saved = self.varied, self.useful, dict(self.missing)
        self.through_steps = True
        try:
            self._activity(wrt)
            reached = [(s, rule, blocked) for s, rule, blocked in steps
                       if s.target.name in self.useful]
        finally:
            self.varied, self.useful, self.missing = saved
            self.through_steps = False
        for s, rule, blocked in reached:
            if blocked:
                raise _not_differentiable_in(s, rule, blocked[0])
        return [s for s, _, _ in reached]

    def kind(self, o: ir.Operand) -> str:
        return kind_of_value(o.value) if isinstance(o, ir.Const) else self.kinds.get(o.name, ANY)

    # -- kinds ------------------------------------------------------------------
    def _kinds(self, block: list) -> None:
        for n in block:
            if isinstance(n, ir.Stmt):
                self.kinds[n.target.name] = self._result_kind(n)
            elif isinstance(n, ir.If):
                self._kinds(n.then)
                self._kinds(n.orelse)
                for p in n.phis:
                    self.kinds[p.target.name] = self._join(p.sources)
            else:
                if n.index is not None:
                    self.kinds[n.index.name] = SCALAR
                for p in n.carried:
                    self.kinds[p.target.name] = self._join(p.sources)
                self._kinds(n.test)
                self._kinds(n.body)
                for p in n.carried:
                    self.kinds[p.out.name] = self._join(p.sources)

    def _join(self, sources) -> str:
        known = [self.kind(s) for s in sources if not ir.is_unbound(s) and (
            not isinstance(s, ir.Var) or s.name in self.kinds)]  # (unbound: no kind)
        for kind in (SCALAR, LIST):
            if known and all(k == kind for k in known):
                return kind
        return ANY

    def _result_kind(self, s: ir.Stmt) -> str:
        if s.op == "getitem" and isinstance(s.args[0], ir.Var) \
                and self.kinds.get(s.args[0].name) == SHAPE:
            return SCALAR  # T = x.shape[0]: an int, so x[T - 1] is plain indexing
        if s.op == "attr.shape" or (isinstance(s.op, ir.Callee) and s.op.obj is np.shape):
            return SHAPE
        if s.op == "copy":  # `ys = xs`: a list stays a list (its adjoint is a list)
            return self.kind(s.args[0])
        if s.op == "setitem" and self.kind(s.args[0]) == LIST:
            raise UnsupportedSyntax("assigning to an element of a list is not supported",
                                    s.loc, "Stack the values into an array first "
                                    "(a = np.stack(ys); a[1] = v), or build the list with "
                                    "the new value in its place.")
        if isinstance(s.op, ir.Callee) and s.op.obj is builtins.slice:
            self.slices.add(s.target.name)
        if s.op == "getitem" and len(s.args) == 2 and self.kind(s.args[0]) == LIST and \
                self.is_slice(s.args[1]):
            return LIST  # xs[1:] of a list is a list
        found = self.rules.get(id(s))
        if found is None:
            return ANY
        result = found[0].result
        if result in (SCALAR, LIST):
            return result
        if result == "elementwise" and all(self.kind(o) == SCALAR for o in s.args):
            return SCALAR
        return ANY

    def is_slice(self, o: ir.Operand) -> bool:
        """A slice: constant (``xs[1:]``) or made by ``slice(a, b)`` (``xs[a:b]``)."""
        return isinstance(o.value, slice) if isinstance(o, ir.Const) else \
            o.name in self.slices

    # -- activity ---------------------------------------------------------------
    def _vary(self, block: list) -> bool:
        """One forward pass; True if anything became varied."""
        changed = False

        def mark(v: ir.Var) -> None:
            nonlocal changed
            if v.name not in self.varied:
                self.varied.add(v.name)
                changed = True

        def any_varied(ops) -> bool:
            return any(o.name in self.varied for o in ops if isinstance(o, ir.Var))

        for n in block:
            if isinstance(n, ir.Stmt):
                found = self.rules[id(n)]
                if found is None:
                    if any_varied(n.uses()):
                        self.missing[n.target.name] = n
                        mark(n.target)
                    continue
                rule, bound = found
                if self.through_steps and (rule.step or any(
                        any_varied(operand_vars(bound[p])) for p in _assumed_constant(rule)
                        if p in bound)):
                    mark(n.target)
                elif not rule.nondiff and any(any_varied(operand_vars(v)) for p, v
                                              in bound.items() if rule.differentiable(p)):
                    mark(n.target)
            elif isinstance(n, ir.If):
                changed |= self._vary(n.then) | self._vary(n.orelse)
                for p in n.phis:
                    if any_varied(p.sources):
                        mark(p.target)
            else:
                for p in n.carried:
                    if any_varied(p.sources):
                        mark(p.target)
                changed |= self._vary(n.test) | self._vary(n.body)
                for p in n.carried:
                    if p.target.name in self.varied or any_varied(p.sources):
                        mark(p.out)
        return changed

    def _use(self, block: list) -> bool:
        """One backward pass; True if anything became useful."""
        changed = False

        def mark(o) -> None:
            nonlocal changed
            if isinstance(o, ir.Var) and o.name in self.varied and o.name not in self.useful:
                self.useful.add(o.name)
                changed = True

        for n in reversed(block):
            if isinstance(n, ir.Stmt):
                found = self.rules[id(n)]
                if n.target.name not in self.useful or found is None:
                    continue
                rule, bound = found
                for p, v in bound.items():
                    if rule.differentiable(p) or (self.through_steps and (
                            rule.step or p in _assumed_constant(rule))):
                        for var in operand_vars(v):
                            mark(var)
            elif isinstance(n, ir.If):
                for p in n.phis:
                    if p.target.name in self.useful:
                        for s in p.sources:
                            mark(s)
                changed |= self._use(n.then) | self._use(n.orelse)
            else:
                for p in n.carried:
                    if p.out.name in self.useful:
                        mark(p.target)
                changed |= self._use(n.body)
                for p in n.carried:
                    if p.target.name in self.useful:
                        for s in p.sources:
                            mark(s)
        return changed


def _assumed_constant(rule) -> list[str]:
    """Parameters of a differentiable rule that it treats as constants without saying
    their derivative is zero (a rule's ``zero`` says so; srcgrad's own helpers are
    exempt). A partials rule's ``None`` is such a constant, not a zero derivative."""
    if rule.nondiff or rule.forward_only or rule.structural:
        return []
    return [p for p in rule.params if not rule.differentiable(p) and p not in rule.zero]


def _not_differentiable_in(s: ir.Stmt, rule, param: str) -> NoDerivativeRule:
    """A differentiated value reaches a parameter the rule treats as a constant: its
    derivative would silently be zero."""
    name = rule.name if isinstance(s.op, ir.Callee) else ir.SYMBOLS.get(s.op, s.op)
    return NoDerivativeRule(
        f"{name} is not differentiable with respect to its argument {param!r}, which "
        "depends on a differentiated input here" + (f" ({rule.why})" if rule.why else ""), s.loc,
        "Pass a constant there, wrap it in srcgrad.stop_gradient(...) if a zero derivative "
        "is intended, or declare the derivative with srcgrad.defvjp.")


def _integer_use(s: ir.Stmt | ir.Loop, rule, v: ir.Var) -> NoDerivativeRule:
    if isinstance(s, ir.Loop):
        name = rule
    else:
        name = rule.name if isinstance(s.op, ir.Callee) else \
            "indexing" if s.op in ("getitem", "setitem") else ir.SYMBOLS.get(s.op, s.op)
    user = re.sub(r"_\d+$", "", v.name) if v.kind == "user" else None  # x_2: x's version
    what = f"{user or 'a value'}, which depends on a differentiated input,"
    return NoDerivativeRule(
        f"{what} is used as an integer here ({name}: a size, count, bound or index); "
        "the derivative with respect to an integer does not exist", s.loc,
        "Leave that argument out of wrt (grad(f, wrt=...)), give it a None tangent in "
        "jvp, or bind it before vjp (srcgrad.vjp(lambda x: f(x, 3), x)).")


def _warn_step(s: ir.Stmt) -> None:
    """Warn, at the user's line, that the gradient reaching a step function is zero."""
    name = s.op.name if isinstance(s.op, ir.Callee) else ir.SYMBOLS.get(s.op, s.op)
    ZeroGradientWarning(f"the gradient reaching {name} is zero: it is a step function of a "
                        "differentiated value", s.loc).warn()


def _no_rule(s: ir.Stmt) -> NoDerivativeRule:
    if s.op == "tuple":
        return NoDerivativeRule("a tuple of differentiable values passed to a function is not "
                                "supported yet", s.loc,
                                "Pass the values separately, or as a list: np.stack([a, b]).")
    if isinstance(s.op, ir.Callee):
        obj = s.op.obj
        module = getattr(obj, "__module__", None)
        qual = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", repr(obj))
        full = f"{module}.{qual}" if module else repr(obj)
        named = s.op.name if full == s.op.name else f"{s.op.name} ({full})"
        hint = _hint_of(obj)
        if hint:
            return NoDerivativeRule(f"no derivative rule for {named} called this way", s.loc,
                                    hint)
        if s.seq:  # np.sum([a, b]), np.mean(xs) of a list argument
            return NoDerivativeRule(f"no derivative rule for {named} of a list or tuple of "
                                    "values", s.loc, f"Stack them into an array first: "
                                    f"{s.op.name}(np.stack(xs)).")
        return NoDerivativeRule(f"no derivative rule for {named}", s.loc)
    return NoDerivativeRule(f"no derivative rule for the operator {ir.SYMBOLS.get(s.op, s.op)}",
                            s.loc)


def _hint_of(obj: object) -> str | None:
    try:
        return rules.HINTS.get(obj)
    except TypeError:  # an unhashable callable
        return None
