"""The SSA intermediate representation.

A ``Function`` is parameters, a straight-line list of ``Stmt`` and the
returned operands. Invariants, checked by ``verify``:

- every ``Var`` is defined exactly once (as a parameter or a statement target);
- every use comes after the definition;
- every statement carries a ``Loc`` pointing into the user's source;
- an operator op is one of ``OPERATORS``; a call op is a ``Callee``.

Values are immutable in the IR: a statement never changes its operands, so
statements can be reordered, duplicated or dropped subject only to data flow.

``Var.kind`` says where a name came from, which the emitter uses to print
readable code: ``user`` (a name in the user's source, SSA-versioned as
``x``, ``x_1``...), ``temp`` (a compiler temporary, renumbered at print time)
and ``adjoint`` (the adjoint of ``Var.of``, printed as ``<name>_bar``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union

from .errors import InternalError, Loc

# Python operators by their gast class name, and the IR op they lower to.
BINARY = {
    "Add": "add", "Sub": "sub", "Mult": "mul", "Div": "truediv", "FloorDiv": "floordiv",
    "Mod": "mod", "Pow": "pow", "MatMult": "matmul",
}
UNARY = {"USub": "neg", "UAdd": "pos", "Not": "not"}
COMPARE = {"Lt": "lt", "LtE": "le", "Gt": "gt", "GtE": "ge", "Eq": "eq", "NotEq": "ne"}
# Attribute reads lowered to ops of their own.
ATTRIBUTES = {"T": "attr.T"}
# Everything a Stmt.op string may be; "copy" assigns its single operand.
OPERATORS = frozenset(
    [*BINARY.values(), *UNARY.values(), *COMPARE.values(), *ATTRIBUTES.values(), "copy"]
)
# Python spelling of each operator, for the text form and the emitter.
SYMBOLS = {
    "add": "+", "sub": "-", "mul": "*", "truediv": "/", "floordiv": "//", "mod": "%",
    "pow": "**", "matmul": "@", "lt": "<", "le": "<=", "gt": ">", "ge": ">=", "eq": "==",
    "ne": "!=", "neg": "-", "pos": "+", "not": "not ",
}


@dataclass(frozen=True)
class Var:
    name: str
    kind: str = "user"  # "user" | "temp" | "adjoint"
    of: Var | None = None  # for adjoints: the primal variable

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True, eq=False)
class Const:
    """A constant operand. ``name`` is the dotted name it was read from, if any
    (a global or closure value); the emitter prints that name, not the value."""

    value: object
    name: str | None = None
    root: object = None  # what the first component of ``name`` is bound to

    def __str__(self) -> str:
        return self.name or repr(self.value)


Operand = Union[Var, Const]  # noqa: UP007 - a runtime alias, also used with isinstance


@dataclass(frozen=True, eq=False)
class Callee:
    """A called function, resolved once at transform time.

    ``name`` is the dotted spelling the generated code uses to reach ``obj``
    (the user's own spelling for forward calls, the rule table's for adjoints).
    Callees compare by the identity of ``obj``.
    """

    name: str
    obj: object
    root: object = None  # what the first component of ``name`` is bound to

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Callee) and other.obj is self.obj

    def __hash__(self) -> int:
        return id(self.obj)

    def __str__(self) -> str:
        return self.name


@dataclass
class Stmt:
    """``target = op(*args, **kwargs)``, with the user location it came from.

    ``seq`` marks a call written with one sequence display, ``f([a, b])``:
    ``args`` holds the display's elements. ``adjoint`` marks statements of the
    adjoint sweep (``loc`` is then the statement they differentiate).
    """

    target: Var
    op: str | Callee
    args: tuple[Operand, ...]
    loc: Loc
    kwargs: tuple[tuple[str, Operand], ...] = ()
    seq: bool = False
    adjoint: bool = False

    def operands(self) -> tuple[Operand, ...]:
        return self.args + tuple(v for _, v in self.kwargs)

    def uses(self) -> list[Var]:
        return [a for a in self.operands() if isinstance(a, Var)]

    def __str__(self) -> str:
        args = ", ".join(map(str, self.args))
        if self.seq:
            args = f"[{args}]"
        kw = "".join(f", {k}={v}" for k, v in self.kwargs)
        return f"{self.target} = {self.op} {args}{kw}".rstrip()


@dataclass
class Function:
    name: str
    params: tuple[Var, ...]
    body: list[Stmt]
    returns: tuple[Operand, ...]
    loc: Loc
    doc: str | None = None
    # Param name -> default value, as in the user's signature.
    defaults: dict[str, object] = field(default_factory=dict)

    def __str__(self) -> str:
        lines = [f"def {self.name}({', '.join(map(str, self.params))}):"]
        for s in self.body:
            lines.append(f"    {str(s):<40}  # line {s.loc.line}")
        lines.append(f"    return {', '.join(map(str, self.returns))}")
        return "\n".join(lines)


def verify(fn: Function) -> None:
    """Check the invariants in the module docstring; raise InternalError if broken."""
    defined: set[str] = set()

    def define(v: Var, where: str) -> None:
        if v.name in defined:
            raise InternalError(f"IR: {v.name} defined twice ({where})")
        defined.add(v.name)

    def use(o: Operand, where: str) -> None:
        if isinstance(o, Var) and o.name not in defined:
            raise InternalError(f"IR: {o.name} used before definition ({where})")
        if not isinstance(o, (Var, Const)):
            raise InternalError(f"IR: bad operand {o!r} ({where})")

    for p in fn.params:
        define(p, "parameter")
    for s in fn.body:
        if not isinstance(s.loc, Loc):
            raise InternalError(f"IR: statement without location: {s}")
        if not (isinstance(s.op, Callee) or s.op in OPERATORS):
            raise InternalError(f"IR: unknown op {s.op!r} in {s}")
        for o in s.operands():
            use(o, str(s))
        define(s.target, str(s))
    for r in fn.returns:
        use(r, "return")
