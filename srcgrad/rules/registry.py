"""Rule machinery: how the declarative tables are written and compiled.

A rule table declares, for each primitive, how its output's adjoint ``g``
flows to its inputs. Two forms, one line each:

- ``table.partials(fn, "x, y", "d/dx", "d/dy")``: an elementwise primitive,
  given by its partial derivatives written as Python expressions in the
  parameters and ``ans`` (the primitive's result). The adjoint contribution
  to ``x`` is ``g * d/dx``; the tangent (forward mode) is ``d/dx * x_dot``.
  ``None`` marks a parameter as non-differentiable: a differentiated value passed
  there is a located error; ``zero=("y",)`` instead says y's derivative is zero
  (a step in y, like copysign's sign), so a differentiated y contributes nothing.
- ``table.vjp(fn, "x, axis=None", x="...", jvp_x="...")``: a structural or
  linear primitive, given by the contribution expression itself, in ``g``,
  ``ans`` and the parameters; for forward mode, ``jvp_x`` is x's share of the
  output's tangent, in ``dot`` (x's tangent), or ``linear=True`` says the
  tangent is the primitive applied to the tangents.
- ``table.nondiff(fn, ...)``: declared non-differentiable (comparisons,
  integer ops, shapes): outputs carry no derivative.
- ``table.structural(op, "x, *index", "x")``: indexing, whose adjoint (a
  scatter, an in-place zeroing) the transform writes itself.

A variadic parameter ``*xs`` gets one contribution per element; in its
expression ``item`` is the element, ``index`` its position and ``*xs`` all
of them.
Expressions are compiled once, here, to IR fragments over placeholders and
instantiated by the transform, so generated code calls NumPy directly.
"""

from __future__ import annotations

import ast
import inspect
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from .. import ir
from ..errors import InternalError, Loc

_NOWHERE = Loc("<srcgrad rules>", 0, 0)

# ``apply(op, args, kwargs)``: what a transform does with one statement of a template.
Apply = Callable[[str | ir.Callee, list[ir.Operand], list[tuple[str, ir.Operand]]], ir.Operand]


@dataclass(frozen=True)
class Template:
    """An expression compiled to IR over placeholder variables ``$name``."""

    source: str
    stmts: tuple[ir.Stmt, ...]
    result: ir.Operand

    def instantiate(self, env: Mapping[str, Any], apply: Apply) -> ir.Operand:
        """The expression over real operands: ``env`` maps each ``$name`` to an operand
        (and ``$*xs`` to a tuple of them); ``apply(op, args, kwargs)`` emits one statement
        (or folds it)."""
        local: dict[str, ir.Operand] = {}

        def sub(o: ir.Operand) -> ir.Operand:
            if not isinstance(o, ir.Var):
                return o
            found: ir.Operand = local.get(o.name) or env[o.name]
            return found

        for s in self.stmts:
            args: list[ir.Operand] = []
            for a in s.args:
                if isinstance(a, ir.Var) and a.name.startswith("$*"):
                    args.extend(env[a.name])
                else:
                    args.append(sub(a))
            local[s.target.name] = apply(s.op, args, [(k, sub(v)) for k, v in s.kwargs])
        return sub(self.result)


@dataclass(frozen=True)
class Rule:
    name: str
    signature: inspect.Signature
    partials: dict[str, Template] = field(default_factory=dict)  # elementwise
    vjps: dict[str, Template] = field(default_factory=dict)  # param -> its contribution
    broadcasting: bool = True  # contributions are summed back to the input's shape
    result: str = "elementwise"  # "scalar" | "elementwise" | "any": kind of the output
    nondiff: bool = False
    step: bool = False  # a non-differentiable step function (round, sign): warn when reached
    seq: bool | None = None  # True: only f([a, b]); False: never; None: either
    min_args: int = 0  # fewest positional arguments of a non-seq call (max(a, b) needs 2)
    structural: tuple[str, ...] = ()  # differentiable parameters whose adjoint the transform writes
    jvps: dict[str, Template] = field(default_factory=dict)  # param -> its tangent's share
    linear: bool = False  # the tangent is the op itself applied to the tangents
    forward_only: tuple[str, ...] = ()  # differentiable in forward mode only (own helpers)
    zero: tuple[str, ...] = ()  # zero derivative (only their shape or dtype is read)
    # Complex numbers (the JAX convention, see rules/complexes.py): ``complex`` says the
    # rule is right for complex operands (holomorphic, or written for them); without it a
    # complex value reaching the rule is refused. ``dtype``: "follows" (the result is
    # complex when an operand is), "complex" (always: np.fft.fft), "real" (never: abs).
    complex: bool = False
    dtype: str = "follows"
    why: str = ""  # why the other parameters have no derivative (said when one is reached)
    # Parameters that take integers (sizes, counts, indices, bounds): no derivative exists
    # there, so a differentiated value (a Python int in wrt) passed there is refused.
    integers: tuple[str, ...] = ()

    @property
    def params(self) -> list[str]:
        return list(self.signature.parameters)

    @property
    def variadic(self) -> str | None:
        for p in self.signature.parameters.values():
            if p.kind is p.VAR_POSITIONAL:
                return p.name
        return None

    def differentiable(self, param: str) -> bool:
        return param in self.partials or param in self.vjps or param in self.structural \
            or param in self.jvps or param in self.forward_only


class Table:
    """One namespace's rules. ``namespace`` is what rule expressions may name."""

    def __init__(self, namespace: dict[str, object]):
        self.namespace = namespace
        self.rules: dict[object, list[Rule]] = {}
        self.hints: dict[object, str] = {}  # fn -> what to write instead, when refused

    def partials(self, fn: object, params: str, *partials: str | None,
                 result: str = "elementwise", seq: bool | None = None, name: str | None = None,
                 min_args: int = 0, zero: Iterable[str] = (), complex: bool = False,
                 dtype: str = "follows") -> None:
        """One partial per parameter: an expression, or ``None`` for a parameter the
        primitive is not differentiable in (a differentiated value passed there is a
        located error), unless it is named in ``zero`` (its derivative is zero)."""
        sig = _signature(params)
        names = list(sig.parameters)
        if len(partials) != len(names):
            raise InternalError(f"rule {fn}: {len(names)} parameters, {len(partials)} partials")
        compiled = {p: self.compile(e, names) for p, e in zip(names, partials) if e is not None}
        if set(zero) & set(compiled) or set(zero) - set(names):
            raise InternalError(f"rule {fn}: zero={tuple(zero)} must name parameters whose "
                                "partial is None")
        self._add(fn, Rule(name or _name(fn), sig, partials=compiled, result=result, seq=seq,
                           min_args=min_args, zero=tuple(zero), complex=complex,
                           dtype=dtype))

    def vjp(self, fn: object, params: str, result: str = "any", broadcasting: bool = False,
            seq: bool | None = None, name: str | None = None, linear: bool = False,
            forward_only: Iterable[str] = (), zero: Iterable[str] = (), complex: bool = False,
            dtype: str = "follows", **vjps: str) -> None:
        """``x="..."``: the adjoint contribution to x (in g, ans, the parameters);
        ``jvp_x="..."``: x's share of the output's tangent (in ``dot``, x's tangent);
        ``linear=True``: the tangent is the op applied to the tangents; ``zero``: the
        parameters whose derivative is zero (a prototype, read for its shape). Any
        other parameter without an adjoint is constant: a differentiated value passed
        there is a located error, not a silent zero."""
        sig = _signature(params)
        names = list(sig.parameters)
        jvps = {k[4:]: vjps.pop(k) for k in list(vjps) if k.startswith("jvp_")}
        unknown = (set(vjps) | set(jvps)) - set(names)
        if unknown:
            raise InternalError(f"rule {fn}: adjoints given for non-parameters {unknown}")
        compiled = {p: self.compile(e, names) for p, e in vjps.items()}
        tangents = {p: self.compile(e, names) for p, e in jvps.items()}
        self._add(fn, Rule(name or _name(fn), sig, vjps=compiled, result=result,
                           broadcasting=broadcasting, seq=seq, jvps=tangents, linear=linear,
                           forward_only=tuple(forward_only), zero=tuple(zero),
                           complex=complex, dtype=dtype))

    def structural(self, key: str, params: str, *differentiable: str, result: str = "any",
                   linear: bool = False, integers: Iterable[str] = (),
                   complex: bool = False) -> None:
        """An op whose adjoint is not an expression (indexing: scatter, in-place zeroing):
        the transform implements it; the table declares it, so it is counted and tested.
        ``integers``: the parameters that take indices (see ``Rule.integers``)."""
        self._add(key, Rule(key, _signature(params), structural=differentiable, result=result,
                            broadcasting=False, linear=linear, integers=tuple(integers),
                            complex=complex))

    def nondiff(self, *fns: object, params: str = "*args, **kwargs", result: str = "any",
                step: bool = False, integers: bool = False, dtype: str = "follows") -> None:
        """``step=True``: piecewise constant in a real argument (round, floor, sign,
        argmax), so a gradient reaching it is zero; srcgrad warns when one does.
        ``integers=True``: every argument is an integer (a size, count or bound:
        range, np.zeros), so a differentiated value passed there is a located error."""
        for fn in fns:
            sig = _signature(params)
            self._add(fn, Rule(_name(fn), sig, nondiff=True, result=result, step=step,
                               integers=tuple(sig.parameters) if integers else (),
                               dtype=dtype))

    def hint(self, fn: object, text: str) -> None:
        """What to write instead when a call of ``fn`` is refused (its arguments match no
        rule, or it has no rule for the form it is called in)."""
        self.hints[fn] = text

    def _add(self, key: object, rule: Rule) -> None:
        # In rule text ``item`` and ``index`` are a variadic parameter's element and its
        # position: a plain parameter so named would silently read the position instead.
        clash = {"item", "index"} & set(rule.params) - {rule.variadic}
        if clash and (rule.partials or rule.vjps or rule.jvps):
            raise InternalError(f"rule {rule.name}: parameter {clash} is a name rule text "
                                "reserves (a variadic's element and position): rename it")
        self.rules.setdefault(key, []).append(rule)

    def compile(self, source: str, params: list[str]) -> Template:
        return _TemplateCompiler(self.namespace, params).compile(source)


def exported(*modules: ModuleType) -> dict[str, object]:
    """The public helpers of run-time modules (``srcgrad.runtime.linalg``...), by name, for a
    table's namespace: each name of their ``__all__`` and its function."""
    return {name: getattr(m, name) for m in modules for name in m.__all__}


def _signature(params: str) -> inspect.Signature:
    tree = ast.parse(f"def _({params}): pass")
    scope: dict[str, Any] = {}
    exec(compile(tree, "<rule>", "exec"), scope)  # noqa: S102 - our own literal text
    return inspect.signature(scope["_"])


# Where users reach a function from, most specific spelling first; a module that is
# not imported (SciPy is optional) is skipped.
_NAMESPACES = (("np.linalg.", "numpy.linalg"), ("np.fft.", "numpy.fft"), ("np.", "numpy"),
               ("special.", "scipy.special"), ("math.", "math"), ("operator.", "operator"),
               ("", "builtins"))


def _name(fn: object) -> str:
    """How a user spells ``fn``: ``np.linalg.inv``, ``special.erf``, ``math.exp``."""
    if isinstance(fn, str):
        return fn
    name = getattr(fn, "__name__", None) or repr(fn)
    for prefix, module in _NAMESPACES:
        if getattr(sys.modules.get(module), name, None) is fn:
            return prefix + name
    module = getattr(fn, "__module__", None) or "numpy"
    return f"{module}.{getattr(fn, '__qualname__', name)}"


class _TemplateCompiler:
    """Python expression text -> IR statements over ``$`` placeholders."""

    _SPECIAL = ("g", "ans", "item", "index", "dot")

    def __init__(self, namespace: dict[str, object], params: list[str]):
        self.namespace = namespace
        self.params = set(params) | set(self._SPECIAL)
        self.stmts: list[ir.Stmt] = []

    def compile(self, source: str) -> Template:
        node = ast.parse(source, mode="eval").body
        result = self.expr(node)
        return Template(source, tuple(self.stmts), result)

    def emit(self, op: str | ir.Callee, args: Iterable[ir.Operand],
             kwargs: Iterable[tuple[str, ir.Operand]] = ()) -> ir.Var:
        var = ir.Var(f"$t{len(self.stmts) + 1}", "temp")
        self.stmts.append(ir.Stmt(var, op, tuple(args), _NOWHERE, tuple(kwargs)))
        return var

    def expr(self, node: ast.expr) -> ir.Operand:
        if isinstance(node, ast.Constant):
            return ir.Const(node.value)
        if isinstance(node, ast.Name) and node.id in self.params:
            return ir.Var("$" + node.id)
        if isinstance(node, ast.BinOp):
            return self.emit(ir.BINARY[type(node.op).__name__],
                             (self.expr(node.left), self.expr(node.right)))
        if isinstance(node, ast.UnaryOp):
            operand = self.expr(node.operand)
            if isinstance(node.op, ast.USub) and isinstance(operand, ir.Const) \
                    and isinstance(operand.value, (int, float, complex)):
                return ir.Const(-operand.value)
            return self.emit(ir.UNARY[type(node.op).__name__], (operand,))
        if isinstance(node, ast.Compare) and len(node.ops) == 1:
            return self.emit(ir.COMPARE[type(node.ops[0]).__name__],
                             (self.expr(node.left), self.expr(node.comparators[0])))
        if isinstance(node, ast.Attribute) and node.attr in ir.ATTRIBUTES \
                and self._dotted(node) is None:
            return self.emit(ir.ATTRIBUTES[node.attr], (self.expr(node.value),))
        if isinstance(node, ast.Call):
            return self.call(node)
        if isinstance(node, ast.Subscript):
            return self.emit("getitem", (self.expr(node.value), self.expr(node.slice)))
        dotted = self._dotted(node)
        if dotted:
            obj, root = self.resolve(dotted)
            return ir.Const(obj, ".".join(dotted), root)
        raise InternalError(f"rule expression: unsupported {ast.dump(node)}")

    def call(self, node: ast.Call) -> ir.Var:
        dotted = self._dotted(node.func)
        if not dotted:
            raise InternalError(f"rule expression: bad callee {ast.dump(node.func)}")
        obj, root = self.resolve(dotted)
        args: list[ir.Operand] = []
        for a in node.args:
            if isinstance(a, ast.Starred) and isinstance(a.value, ast.Name):
                args.append(ir.Var("$*" + a.value.id))  # *xs: all elements of the parameter
            else:
                args.append(self.expr(a))
        kwargs: list[tuple[str, ir.Operand]] = []
        for k in node.keywords:
            if k.arg is None:
                raise InternalError(f"rule expression: unsupported {ast.dump(k)}")
            kwargs.append((k.arg, self.expr(k.value)))
        return self.emit(ir.Callee(".".join(dotted), obj, root), args, kwargs)

    def _dotted(self, node: ast.expr) -> list[str] | None:
        parts: list[str] = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if isinstance(node, ast.Name) and node.id not in self.params:
            return [node.id, *parts[::-1]]
        return None

    def resolve(self, dotted: list[str]) -> tuple[object, object]:
        root = obj = self.namespace[dotted[0]]
        for attr in dotted[1:]:
            obj = getattr(obj, attr)
        return obj, root
