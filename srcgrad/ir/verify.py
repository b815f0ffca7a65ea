"""``verify``: the IR's invariants (``nodes``' docstring), checked after every stage."""

from __future__ import annotations

from ..errors import InternalError, Loc
from .nodes import (
    OPERATORS,
    Callee,
    Const,
    Function,
    If,
    Loop,
    Node,
    Operand,
    Stmt,
    Var,
    loop_out,
)


def verify(fn: Function) -> None:
    """Check the invariants in the module docstring of ``nodes``; raise InternalError if
    broken.

    Scoping is Python's: a value defined anywhere earlier in program order is
    visible (the adjoint of a branch reads what the branch computed). The only
    second definitions allowed are a reverse loop's ``restore`` of taped values.
    """
    v = _Verifier()
    for p in fn.params:
        v.define(p, "parameter")
    v.block(fn.body)
    for r in fn.returns:
        v.use(r, "return")


class _Verifier:
    """The names defined so far, in program order. ``where`` (a string or a node) is
    formatted only for an error message."""

    def __init__(self) -> None:
        self.defined: set[str] = set()

    def define(self, v: Var, where: object) -> None:
        if v.name in self.defined:
            raise InternalError(f"IR: {v.name} defined twice ({where})")
        self.defined.add(v.name)

    def use(self, o: Operand | None, where: object) -> None:
        if isinstance(o, Var):
            if o.name not in self.defined:
                raise InternalError(f"IR: {o.name} used before definition ({where})")
        elif not isinstance(o, Const):
            raise InternalError(f"IR: bad operand {o!r} ({where})")

    def block(self, nodes: list[Node]) -> None:
        for n in nodes:
            if not isinstance(getattr(n, "loc", None), Loc):
                raise InternalError(f"IR: node without location: {n}")
            if isinstance(n, Stmt):
                if not (isinstance(n.op, Callee) or n.op in OPERATORS):
                    raise InternalError(f"IR: unknown op {n.op!r} in {n}")
                for o in n.operands():
                    self.use(o, n)
                self.define(n.target, n)
            elif isinstance(n, If):
                self.branches(n)
            else:
                self.loop(n)

    def branches(self, n: If) -> None:
        self.use(n.cond, "if")
        for which, branch in enumerate((n.then, n.orelse)):
            self.restored(n.restore[which])
            self.block(branch)
            for v in n.save[which]:
                self.use(v, "tape push")
        for p in n.phis:
            for src in p.sources:
                self.use(src, "phi")
            self.define(p.target, "phi")

    def loop(self, n: Loop) -> None:
        for b in n.bounds:
            self.use(b, "loop bounds")
        for p in n.carried:
            self.use(p.sources[0], "loop init")
            self.define(p.target, "loop carried")
        if n.index is not None and not ((n.reverse or n.adjoint) and
                                        n.index.name in self.defined):
            self.define(n.index, "loop index")  # an adjoint loop reruns its forward's index
        for group in n.restore:
            self.restored(group)
        for v in n.save_start:
            self.use(v, "tape push")
        self.block(n.test)
        if n.cond is not None:
            self.use(n.cond, "while condition")
        self.block(n.body)
        for p in n.carried:
            self.use(p.sources[1], "loop next")
            self.define(loop_out(p), "loop out")
        for v in n.save:
            self.use(v, "tape push")
        if n.exit is not None:  # read after the carried values are updated
            if not any(n.exit is p.target for p in n.carried) or n.cond is not None:
                raise InternalError(f"IR: loop exit {n.exit} is not a carried value of a "
                                    "for loop")
            self.use(n.exit, "loop exit")

    def restored(self, group: list[Var]) -> None:
        for v in group:
            if v.name not in self.defined:
                raise InternalError(f"IR: restore of {v.name}, which the forward never set")
