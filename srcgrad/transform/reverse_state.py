"""The state one reverse sweep shares between its parts (part of the reverse stage).

``reverse.py`` makes one ``SweepState`` per derivative and hands it explicitly
to the parts that need it: the core (``reverse_core.Core``: emission and the
summing of contributions), branches and loops (``reverse_flow.Flow``),
indexing and broadcasting (``reverse_arrays.Arrays``). The tape
(``reverse_tape.Tape``) receives only the fields it reads. Every attribute a
part reads or writes is declared here, with its invariant; no part keeps
sweep state of its own.

The ownership invariant: an adjoint buffer is updated in place (``iadd``,
``addat``, ``scatter``, ``setitem``) only if this transform made it (its name
is in ``owned``) and exactly one contribution holds it (``holds``, see
``is_owned``); a buffer handed to two variables is copied before either
changes it. ``backend.verify`` checks every generated derivative keeps it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from .. import ir
from ..ir import Namer
from .analysis import Analysis
from .shapes import infer as infer_shapes
from .write_once import FirstTouch


@dataclass(frozen=True)
class Scatter:
    """A contribution ``adjoint[index] += value`` (from a read ``x[index]``); ``fancy``
    when the index may hold integer arrays, whose repeats must add up."""

    value: ir.Operand
    index: tuple
    seq: bool
    fancy: bool = False


@dataclass
class Scope:
    """Contributions being collected while one block is reversed.

    A variable's adjoint completes (is summed into one value) when its last
    pending use has contributed, and only in the scope of the block defining it.
    """

    local: set[str]  # variables defined in this block (their adjoints complete here)
    contribs: dict[str, list] = field(default_factory=dict)  # received, not yet summed
    pending: dict[str, int] = field(default_factory=dict)  # uses not yet contributed
    ready: dict[str, ir.Operand] = field(default_factory=dict)  # complete adjoints
    # In a reversed loop body: the buffer each value from before the loop sums its
    # adjoint in (the loop's own accumulator, or what an inner loop handed back).
    base: dict[str, ir.Operand] = field(default_factory=dict)


@dataclass
class SweepState:
    """Everything the parts of one reverse sweep share (see the module docstring)."""

    # -- the input, read-only ------------------------------------------------------
    fn: ir.Function  # the primal function (its body is never changed)
    wrt: tuple[int, ...]  # indices of the parameters differentiated
    seed: str  # "one" (gradient of a scalar) or "param" (the output's adjoint is a parameter)
    # The forward sweep: a clone of fn.body. Only Flow (while-loop trip counters), the
    # Tape (pushes, snapshots, row reads made copies) and run() (a copy of the returned
    # value) change it; nothing else does.
    forward: list
    analysis: Analysis  # kinds, rules and activity, of ``forward`` (ids are its nodes')
    active: set[str]  # variables that get adjoints (analysis.active); no others do
    shapes: dict  # known shapes, by name (and ("region", name) for setitem); {} if unknown
    writes: set[str]  # variables changed in place in f (setitem, append): their adjoints
    # are mutable, so a shared contribution is copied before it becomes theirs
    namer: Namer  # fresh names: never clashes with a name of fn or an earlier fresh one
    # Which writes of ``forward`` meet their entry fresh (their adjoint neither copies
    # nor zeroes it, see write_once.FirstTouch); read-only.
    first_touch: FirstTouch

    # -- the sweep's position ------------------------------------------------------
    scope: Scope  # contributions of the block being reversed (a new one per region)
    out: list = field(default_factory=list)  # where adjoint nodes of that block go
    depth: int = 0  # how many branches and loops enclose the block being reversed

    # -- ownership (the invariant in the module docstring) ---------------------------
    # Adjoint buffers this transform created, which it may update in place, but only
    # while one holder has them.
    owned: set[str] = field(default_factory=set)
    # How many contributions (pending or handed on) refer to each buffer: one handed
    # to two variables is held twice and copied before either changes it.
    holds: dict[str, int] = field(default_factory=dict)
    # Results that may be their first operand at run time (``unbroadcast(g, x)`` is
    # g when shapes agree): holding the result holds that operand too.
    passed_on: dict[str, ir.Operand] = field(default_factory=dict)
    # Temporaries computed for one contribution alone: the statement computing one may
    # be renamed to define an adjoint instead of copying it.
    private: set[str] = field(default_factory=set)
    # Adjoint temporaries made by expand() or argmax_mask(), by name: a product with
    # one of these may use the unexpanded value (``Core.narrowed``).
    helper_stmts: dict[str, ir.Stmt] = field(default_factory=dict)
    # The array parameters' dtypes where the specialization fixes them, by name.
    dtypes: dict[str, Any] = field(default_factory=dict)

    # -- what the tape needs after the sweep --------------------------------------
    loops: list[tuple[ir.Loop, ir.Loop]] = field(default_factory=list)  # (forward, adjoint)
    ifs: dict[int, ir.If] = field(default_factory=dict)  # forward if (by id) -> its adjoint

    @classmethod
    def start(cls, fn: ir.Function, wrt: tuple[int, ...], kinds: dict[str, str], seed: str,
              shapes: dict[str, tuple] | None = None,
              complex_params: Iterable[str] = ()) -> SweepState:
        """The state before the sweep: the forward clone analysed, nothing emitted."""
        forward = ir.clone(fn.body)
        a = Analysis(replace(fn, body=forward), wrt, kinds, complex_params)
        known = {} if shapes is None else infer_shapes(replace(fn, body=forward), a, shapes)
        names = {p.name for p in fn.params} | {v.name for n in ir.walk(forward)
                                                for v in ir.node_defs(n)}  # (analysis may add)
        writes = {s.target.name for s in ir.walk(fn.body)
                  if isinstance(s, ir.Stmt) and s.op in ("setitem", "append")}
        return cls(fn, wrt, seed, forward, a, a.active, known, writes, Namer(names),
                   FirstTouch(forward), Scope(set()))

    def kind(self, o: ir.Operand) -> str:
        """The kind of ``o`` (``analysis.SCALAR``, ``LIST`` or ``ANY``)."""
        return self.analysis.kind(o)

    def is_owned(self, o: ir.Operand) -> bool:
        """``o`` is a buffer of ours that no one but its one holder refers to."""
        return isinstance(o, ir.Var) and o.name in self.owned and self.holds.get(o.name, 0) <= 1
