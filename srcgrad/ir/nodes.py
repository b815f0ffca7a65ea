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

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Union

from ..errors import InternalError, Loc

# Python operators by their gast class name, and the IR op they lower to.
BINARY = {
    "Add": "add", "Sub": "sub", "Mult": "mul", "Div": "truediv", "FloorDiv": "floordiv",
    "Mod": "mod", "Pow": "pow", "MatMult": "matmul",
}
UNARY = {"USub": "neg", "UAdd": "pos", "Not": "not"}
COMPARE = {"Lt": "lt", "LtE": "le", "Gt": "gt", "GtE": "ge", "Eq": "eq", "NotEq": "ne",
           "Is": "is", "IsNot": "isnot"}
# Attribute reads lowered to ops of their own.
ATTRIBUTES = {"T": "attr.T", "shape": "attr.shape", "ndim": "attr.ndim", "size": "attr.size"}
# Everything a Stmt.op string may be; "copy" assigns its single operand; "getitem"
# is ``x[i...]`` (args: x, index parts) and "setitem" the new version of ``x`` after
# ``x[i...] = v`` (args: x, v, index parts). Adjoint code also uses "copyitem"
# (``x[i...].copy()``), "addat" (the new version after ``x[i...] += v``) and "iadd"
# (after ``x += v``); "scatter" is "addat" for integer-array indices, where repeated
# indices must add up (``np.add.at``); the write ops are emitted in place. "tuple" builds a
# tuple value (a shape, say) from its operands. Lists: "newlist" is ``[]``, "append"
# the new version after ``xs.append(v)``, "droplast" after ``xs.pop()`` (adjoints).
# "assert" is the user's ``assert`` (args: the condition, the message if any): a check
# (``is_check``), its value unused.
OPERATORS = frozenset(
    [*BINARY.values(), *UNARY.values(), *COMPARE.values(), *ATTRIBUTES.values(), "copy",
     "getitem", "setitem", "copyitem", "addat", "scatter", "iadd", "tuple", "newlist",
     "append", "droplast", "assert"]
)
# Python spelling of each operator, for the text form and the emitter.
SYMBOLS = {
    "add": "+", "sub": "-", "mul": "*", "truediv": "/", "floordiv": "//", "mod": "%",
    "pow": "**", "matmul": "@", "lt": "<", "le": "<=", "gt": ">", "ge": ">=", "eq": "==",
    "ne": "!=", "is": "is", "isnot": "is not", "neg": "-", "pos": "+", "not": "not ",
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


class _Unbound:
    """The value of a name a loop alone binds, before the loop: none (Python's
    ``UnboundLocalError`` on a read when the loop did not run)."""

    def __init__(self, spelled: str):
        self.spelled = spelled

    def __repr__(self) -> str:
        return self.spelled


# Entering a loop unbound: the emitter assigns nothing (a read after a loop that did
# not run raises UnboundLocalError, as in Python) ...
UNBOUND = _Unbound("<unbound>")
# ... or, where generated code may read the name before it is set (a merge, a tape
# push, an inner loop's start: Python reads it only on paths that set it), None.
READ_UNBOUND = _Unbound("None")


def is_unbound(o: object) -> bool:
    """``o`` is a "not bound yet" value entering a loop (a ``Const`` of ``UNBOUND`` or
    ``READ_UNBOUND``): transforms give it no kind, shape, adjoint or tangent."""
    return isinstance(o, Const) and isinstance(o.value, _Unbound)


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
class Phi:
    """A value merged where control flow joins.

    In an ``If``: ``target`` is ``sources[0]`` when the then-branch ran, else
    ``sources[1]``. In a ``Loop`` (a carried value): ``target`` is the value at the
    start of each iteration, ``sources`` are (value before the loop, value at the end
    of the iteration), and ``out`` is the value after the loop.
    """

    target: Var
    sources: tuple[Operand, Operand]
    out: Var | None = None


@dataclass
class If:
    cond: Operand
    then: list[Node]
    orelse: list[Node]
    phis: list[Phi]
    loc: Loc
    adjoint: bool = False
    # Inside a loop: values each branch pushes on the tape at its end (forward), or
    # pops at its start (adjoint), as (then, else) lists.
    save: tuple[list[Var], list[Var]] = ([], [])
    restore: tuple[list[Var], list[Var]] = ([], [])


@dataclass
class Loop:
    """``for index in range(*bounds)`` (reversed if ``reverse``), or, when ``cond`` is
    set, ``while cond`` with ``test`` recomputing ``cond`` from the carried values at
    the top of every iteration.

    ``exit`` (a ``for`` loop with a ``break``): a carried value's target; the loop
    ends after the first iteration at whose end (its carried values updated) it is
    true, so the iterations after a ``break`` do not run. Its adjoint loop replays
    only the iterations that ran (the forward loop counts them).

    Tape: a forward loop pushes ``save_start`` (its carried values) at the top of
    every iteration and ``save`` at the end; the adjoint loop pops the groups in
    ``restore`` back into the same variables at the start of each of its
    iterations, in reverse.
    """

    index: Var | None
    bounds: tuple[Operand, ...]
    carried: list[Phi]
    body: list[Node]
    loc: Loc
    reverse: bool = False
    test: list[Node] = field(default_factory=list)
    cond: Operand | None = None
    adjoint: bool = False
    save_start: list[Var] = field(default_factory=list)
    save: list[Var] = field(default_factory=list)
    restore: list[list[Var]] = field(default_factory=list)
    exit: Operand | None = None
    # ``srcgrad.checkpointed(range(...), snapshots=k)`` (or ``every=m``; ``("every",
    # None)``: the default period): reverse mode keeps snapshots, not a tape per
    # iteration (transform/checkpointing.py).
    checkpoint: tuple[str, Operand | None] | None = None


Node = Union[Stmt, If, Loop]  # noqa: UP007


def clone(block: list[Node]) -> list[Node]:
    """A copy of a block's nodes and regions (operands are immutable and shared)."""
    out: list[Node] = []
    for n in block:
        if isinstance(n, Stmt):
            out.append(replace(n))
        elif isinstance(n, If):
            out.append(replace(n, then=clone(n.then), orelse=clone(n.orelse),
                               phis=[replace(p) for p in n.phis]))
        else:
            out.append(replace(n, body=clone(n.body), test=clone(n.test),
                               carried=[replace(p) for p in n.carried]))
    return out


def walk(block: list[Node]) -> list[Node]:
    """Every node of ``block`` and of the regions inside it, in program order."""
    out: list[Node] = []
    for n in block:
        out.append(n)
        if isinstance(n, If):
            out += walk(n.then) + walk(n.orelse)
        elif isinstance(n, Loop):
            out += walk(n.test) + walk(n.body)
    return out


def node_uses(n: Node) -> list[Var]:
    """The variables a node reads directly (not those read inside its regions)."""
    if isinstance(n, Stmt):
        return n.uses()
    ops: list[Operand | None] = []
    if isinstance(n, If):
        ops = [n.cond, *(src for p in n.phis for src in p.sources)]
    elif isinstance(n, Loop):
        ops = list(n.bounds) + [n.cond, n.exit] + [src for p in n.carried for src in p.sources]
        if n.checkpoint is not None:
            ops.append(n.checkpoint[1])
    return [o for o in ops if isinstance(o, Var)]


def loop_out(p: Phi) -> Var:
    """A loop-carried value's value after the loop (every loop sets it; an If's phi has
    none)."""
    if p.out is None:
        raise InternalError(f"IR: loop-carried {p.target} has no value after the loop")
    return p.out


def node_defs(n: Node) -> list[Var]:
    """The variables a node defines directly."""
    if isinstance(n, Stmt):
        return [n.target]
    if isinstance(n, If):
        return [p.target for p in n.phis]
    defs = [n.index] if n.index is not None else []
    return defs + [p.target for p in n.carried] + [loop_out(p) for p in n.carried]


@dataclass
class Function:
    name: str
    params: tuple[Var, ...]
    body: list[Node]
    returns: tuple[Operand, ...]
    loc: Loc
    doc: str | None = None
    # Param name -> default value, as in the user's signature.
    defaults: dict[str, object] = field(default_factory=dict)

    def __str__(self) -> str:
        lines = [f"def {self.name}({', '.join(map(str, self.params))}):"]
        _format_block(self.body, "    ", lines)
        lines.append(f"    return {', '.join(map(str, self.returns))}")
        return "\n".join(lines)


def _format_block(block: list[Node], indent: str, lines: list[str]) -> None:
    for n in block:
        if isinstance(n, Stmt):
            lines.append(f"{indent}{str(n):<40}  # line {n.loc.line}")
        elif isinstance(n, If):
            lines.append(f"{indent}if {n.cond}:{' ' * 30}  # line {n.loc.line}")
            for which, branch in enumerate((n.then, n.orelse)):
                if which:
                    lines.append(f"{indent}else:")
                if n.restore[which]:
                    lines.append(f"{indent}    {', '.join(map(str, n.restore[which]))} = pop")
                _format_block(branch, indent + "    ", lines)
                if n.save[which]:
                    lines.append(f"{indent}    push {', '.join(map(str, n.save[which]))}")
            for p in n.phis:
                lines.append(f"{indent}{p.target} = phi {p.sources[0]}, {p.sources[1]}")
        else:
            head = (f"while {n.cond}" if n.cond is not None else
                    f"for {n.index} in {'reversed ' if n.reverse else ''}range"
                    f"({', '.join(map(str, n.bounds))})")
            if n.checkpoint is not None:
                head += f" checkpointed({n.checkpoint[0]}={n.checkpoint[1]})"
            carried = ", ".join(f"{p.target} = {p.sources[0]} -> {p.sources[1]} -> {p.out}"
                                for p in n.carried)
            lines.append(f"{indent}{head}  [{carried}]{' ' * 4}  # line {n.loc.line}")
            for group in n.restore:
                if group:
                    lines.append(f"{indent}    {', '.join(map(str, group))} = pop")
            if n.save_start:
                lines.append(f"{indent}    push {', '.join(map(str, n.save_start))}")
            _format_block(n.test, indent + "    ", lines)
            _format_block(n.body, indent + "    ", lines)
            if n.save:
                lines.append(f"{indent}    push {', '.join(map(str, n.save))}")
            if n.exit is not None:
                lines.append(f"{indent}    exit if {n.exit}")


# Run-time checks among the statements (``runtime.disjoint_write``): their value is the
# operand they check, but they must run even where that value is dead.
CHECKS = frozenset({"disjoint_write"})


def is_check(s: object) -> bool:
    return isinstance(s, Stmt) and (s.op == "assert" or isinstance(s.op, Callee)
                                     and s.op.name in CHECKS)


def fold(op: str | Callee, args: Sequence[Operand]) -> Operand | None:
    """Sound simplifications only: constants, ``x * 1``, ``x ** 1``, ``x / 1``, ``-1 * x``."""
    consts = [a.value for a in args if isinstance(a, Const)]
    plain = all(isinstance(c, (int, float)) and not isinstance(c, bool) for c in consts)
    if isinstance(op, str) and plain and len(consts) == len(args) and op in _PY_OPS:
        try:
            return Const(_PY_OPS[op](*consts))
        except (ArithmeticError, ValueError):
            return None
    if op == "mul" and len(args) == 2:
        for a, b in (args, args[::-1]):
            if is_number(b, 1):
                return a
    if op in ("pow", "truediv") and is_number(args[1], 1):
        return args[0]
    return None


def plain_power(op: str | Callee, args: Sequence[Operand]) -> tuple[Const, Operand, Const] | None:
    """``(c, x, y - 1)`` for ``pow_slope(c, x, y)`` (the partial of ``x ** y`` in x) with
    numbers c != 0 and y >= 1: there it is ``c * x ** (y - 1)`` exactly (no ``0 ** -k``),
    written so (``x ** 2``'s derivative reads ``2 * x``)."""
    from ..runtime import finite  # (runtime does not import the IR)

    if not (isinstance(op, Callee) and op.obj is finite.pow_slope and len(args) == 3):
        return None
    c, x, y = args
    if isinstance(c, Const) and isinstance(y, Const) and _plain(c.value) and \
            _plain(y.value) and c.name is None and y.name is None:
        cv, yv = float(c.value), float(y.value)  # type: ignore[arg-type]
        if cv != 0 and yv >= 1:
            return c, x, Const(y.value - 1)  # type: ignore[operator]
    return None


def _plain(value: object) -> bool:
    return type(value) in (int, float)


def is_number(o: Operand, value: float) -> bool:
    return isinstance(o, Const) and o.name is None and type(o.value) in (int, float) \
        and o.value == value


_PY_OPS: dict[str, Callable[..., Any]] = {
    "add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
    "truediv": lambda a, b: a / b, "pow": lambda a, b: a ** b, "neg": lambda a: -a,
}
