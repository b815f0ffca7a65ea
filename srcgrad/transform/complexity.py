"""Which values of a function may be complex, and what that asks of its rules.

Contract: ``complex_values(fn, rules, params)`` is the set of variable names whose
value may be complex on a call where the parameters named in ``params`` (and no
others) hold complex numbers. Sources: those parameters, complex constants
(``1j``, a complex array read from a module), a ``dtype=`` naming a complex type,
and rules declaring ``dtype="complex"`` (``np.fft.fft``) or listed in
``rules.complexes.SOURCES`` (``np.linalg.eigvals``); a statement with any other rule,
or none, makes a complex value from a complex operand unless its rule declares
``dtype="real"`` (``np.abs``, comparisons). Loops and branches are solved to a
fixpoint. The set over-approximates, never under-approximates: a value outside it
is real on every such call.

``involved(s, values)``: statement ``s`` reads or makes a complex value. Such a
statement, if it carries a derivative, needs a rule right for complex operands
(``Rule.complex``); ``complex_rule`` finds one (the rule itself, or its variant in
``rules.complexes``' table), and the analysis refuses the statement otherwise. The
transforms keep one invariant, so that the real rules stay right for real values:
*the adjoint (and the tangent) of a real value is real*: a contribution of an
involved statement to a real operand is its real part (reverse mode), and an
involved statement's tangent of a real result is its real part (forward mode).
Under the pairing <g, t> = Re(sum(g * t)) that the convention rests on, the real
part is exactly the adjoint of the embedding of the reals in the complex numbers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np

from .. import ir, rules
from ..errors import UnsupportedSyntax
from ..ir import Namer
from ..runtime import casts, complexes


def is_complex_value(value: object) -> bool:
    """A constant that is, or holds, a complex number (or names a complex dtype)."""
    if isinstance(value, complex):
        return True
    if isinstance(value, (np.ndarray, np.generic)):
        return value.dtype.kind == "c"
    if isinstance(value, (tuple, list)):
        return any(is_complex_value(v) for v in value)
    if value is complex or (isinstance(value, type) and issubclass(value, np.complexfloating)):
        return True
    return isinstance(value, np.dtype) and value.kind == "c"


def _names_complex_dtype(o: ir.Operand) -> bool:
    """A ``dtype=`` argument naming a complex type (``complex``, ``"complex64"``)."""
    if not isinstance(o, ir.Const):
        return False
    if isinstance(o.value, str):
        try:
            return np.dtype(o.value).kind == "c"
        except (TypeError, ValueError):
            return False
    return is_complex_value(o.value)


# Calls whose second argument is the result's dtype.
_DTYPE_SECOND = frozenset({casts.cast, np.asarray, np.asanyarray, np.array})


def _member(key: object, keys: frozenset) -> bool:
    try:
        return key in keys
    except TypeError:  # unhashable
        return False


def complex_values(fn: ir.Function, found: Mapping[int, tuple | None],
                   params: Iterable[str]) -> set[str]:
    """The names that may hold complex values (see the module docstring)."""
    values = set(params)
    while _pass(fn.body, found, values):
        pass
    return values


def _is_complex(o: ir.Operand, values: set[str]) -> bool:
    if isinstance(o, ir.Var):
        return o.name in values
    return isinstance(o, ir.Const) and not ir.is_unbound(o) and is_complex_value(o.value)


def _makes_complex(s: ir.Stmt, found: tuple | None, values: set[str]) -> bool:
    rule = found[0] if found is not None else None
    key = s.op.obj if isinstance(s.op, ir.Callee) else s.op
    if rule is not None and not rule.complex and any(_is_complex(o, values)
                                                     for o in s.operands()):
        rule = rules.complexes.variant(key, rule) or rule
    if rules.complexes.is_source(key) or (rule is not None and rule.dtype == "complex"):
        return True
    if any(k == "dtype" and _names_complex_dtype(v) for k, v in s.kwargs):
        return True
    if _member(key, _DTYPE_SECOND) and len(s.args) > 1:  # x.astype(complex), np.asarray(x, t)
        return _names_complex_dtype(s.args[1])
    if rules.complexes.is_real_result(key) or (rule is not None and rule.dtype == "real"):
        return False
    return any(_is_complex(o, values) for o in s.operands())


def _pass(block: list, found: Mapping[int, tuple | None], values: set[str]) -> bool:
    """One forward pass; True if a name became complex."""
    changed = False

    def mark(v: ir.Var) -> None:
        nonlocal changed
        if v.name not in values:
            values.add(v.name)
            changed = True

    for n in block:
        if isinstance(n, ir.Stmt):
            if _makes_complex(n, found.get(id(n)), values):
                mark(n.target)
        elif isinstance(n, ir.If):
            changed |= _pass(n.then, found, values) | _pass(n.orelse, found, values)
            for p in n.phis:
                if any(_is_complex(s, values) for s in p.sources):
                    mark(p.target)
        else:
            for p in n.carried:
                if any(_is_complex(s, values) for s in p.sources):
                    mark(p.target)
            changed |= _pass(n.test, found, values) | _pass(n.body, found, values)
            for p in n.carried:
                if p.target.name in values or any(_is_complex(s, values) for s in p.sources):
                    mark(p.out)
    return changed


def involved(s: ir.Stmt, values: set[str]) -> bool:
    """``s`` reads or makes a value that may be complex."""
    return s.target.name in values or any(_is_complex(o, values) for o in s.operands())


def complex_rule(s: ir.Stmt, rule: rules.Rule, bound: dict) -> tuple[rules.Rule, dict] | None:
    """The rule to use for ``s`` when it is involved: ``rule`` if it is right for complex
    operands, else its variant for them (bound like ``rule``), else None."""
    if rule.complex or rule.nondiff:
        return rule, bound
    variant = rules.complexes.variant(s.op.obj if isinstance(s.op, ir.Callee) else s.op, rule)
    return None if variant is None else (variant, bound)


def refusal(s: ir.Stmt, rule: rules.Rule) -> UnsupportedSyntax:
    """The located error for a complex value reaching a rule written for real ones."""
    name = rule.name if isinstance(s.op, ir.Callee) else ir.SYMBOLS.get(str(s.op), rule.name)
    return UnsupportedSyntax(
        f"{name} of complex values is not differentiated by srcgrad yet (its derivative "
        "rule is written for real numbers)", s.loc,
        "Differentiate through the functions docs/complex.md lists, or write the step "
        "with the real and imaginary parts (np.real(z), np.imag(z)) as real arrays.")


_INTO = ir.Callee("into_complex", complexes.into_complex, complexes.into_complex)


def promote(block: list, values: set[str], namer: Namer) -> list[ir.Stmt]:
    """Where a real value flows into a merged or carried value that may be complex, pass
    it through ``into_complex`` (the identity, whose adjoint is the real part of what
    flows back), so that the adjoints of branches and loops, which flow through their
    merged values unchanged, reach a real value as real numbers. Changes ``block`` in
    place; returns the statements added (their targets are added to ``values``)."""
    added: list[ir.Stmt] = []

    def into(src: ir.Operand, loc, where: list, at: int | None = None) -> ir.Operand:
        if not isinstance(src, ir.Var) or src.name in values:
            return src
        new = ir.Var(namer.fresh(src.name), src.kind)
        s = ir.Stmt(new, _INTO, (src,), loc)
        where.insert(len(where) if at is None else at, s)
        values.add(new.name)
        added.append(s)
        return new

    k = 0
    while k < len(block):
        n = block[k]
        if isinstance(n, ir.If):
            added += promote(n.then, values, namer) + promote(n.orelse, values, namer)
            for p in n.phis:
                if p.target.name in values:
                    p.sources = (into(p.sources[0], n.loc, n.then),
                                 into(p.sources[1], n.loc, n.orelse))
        elif isinstance(n, ir.Loop):
            added += promote(n.body, values, namer)
            for p in n.carried:
                if p.target.name in values:
                    before = len(block)
                    p.sources = (into(p.sources[0], n.loc, block, k),
                                 into(p.sources[1], n.loc, n.body))
                    k += len(block) - before  # (inserted before the loop)
        k += 1
    return added
