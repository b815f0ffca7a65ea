"""A function's IR made straight-line at one point, for drawing its graph.

Contract: ``straighten(primal, args, unroll, max_nodes)`` returns ``Straight``: an IR
function computing the same value as ``primal`` for ``args`` (the arguments in
parameter order), whose top level holds statements and loops drawn as regions only:

- an ``if`` is replaced by the branch these arguments take (its condition is
  evaluated by running the code before it, emitted by srcgrad's backend), its merged
  values by the values of that branch;
- a ``for`` loop over ``range`` of at most ``unroll`` iterations, without ``break``,
  is unrolled: each iteration's values get names of their own (``t__0``...) and
  ``origin`` says which variable and iteration each comes from (``i=0``); the bounds
  are evaluated the same way;
- other loops (more iterations, ``while``, ``break``) stay, drawn as one region;
- a write into an array or list in place (``x[i] = v``, ``xs.append(v)``) is an
  ``UnsupportedSyntax`` error at it (every version would show the last one's values);
- more than ``max_nodes`` values is a ``GraphTooLarge`` error at the statement that
  made it so (or at the loop whose unrolling would).

Nothing here differentiates: values come from running generated primal code.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from .. import backend, ir
from ..build import _load
from ..errors import Loc, UnsupportedSyntax, UsageError

_counter = itertools.count(1)
# Writes into a buffer: the versions of the value share it (backend.storage), so a
# version's value read after the writes would be the last one's.
_IN_PLACE = frozenset({"setitem", "addat", "scatter", "iadd", "append", "droplast"})


class GraphTooLarge(UsageError):
    """The graph has more nodes than can be drawn legibly."""

    hint = ("Draw a smaller instance (fewer iterations or smaller arrays of loops), or "
            "pass max_nodes=... (srcgrad.graph) / --max-nodes (the command line); loops of "
            "more than `unroll` iterations are drawn as one box.")


@dataclass
class Straight:
    fn: ir.Function
    regions: list[ir.Loop] = field(default_factory=list)
    origin: dict[str, tuple[str, tuple[str, ...]]] = field(default_factory=dict)
    trips: list[int | None] = field(default_factory=list)  # per region: iterations
    temps: set[str] = field(default_factory=set)  # the values compiler temporaries hold


def evaluate(fn: ir.Function, body: list[ir.Node], wanted: Sequence[ir.Operand],
             args: Sequence[object]) -> list[object]:
    """The values of ``wanted`` after running ``body`` (``fn``'s parameters bound to
    ``args``), by emitting and running it as Python."""
    consts = [o.value if isinstance(o, ir.Const) else None for o in wanted]
    wanted_vars = tuple(o for o in wanted if isinstance(o, ir.Var))
    if not wanted_vars:
        return consts
    code = ir.Function(fn.name, fn.params, body, wanted_vars + (ir.Const(None),), fn.loc)
    source, namespace, _ = backend.emit(code)
    run = _load(source, namespace, fn.name, f"<srcgrad graph {fn.name} #{next(_counter)}>")
    got = iter(run(*args)[:-1])
    return [c if not isinstance(o, ir.Var) else next(got) for o, c in zip(wanted, consts)]


def _mapper(m: dict[str, ir.Operand], chase: bool) -> Callable[[ir.Operand], ir.Operand]:
    def sub(o: ir.Operand) -> ir.Operand:
        while isinstance(o, ir.Var) and o.name in m:
            o = m[o.name]
            if not chase:
                break
        return o
    return sub


def _var(sub: Callable[[ir.Operand], ir.Operand], v: ir.Var) -> ir.Var:
    out = sub(v)
    return out if isinstance(out, ir.Var) else v


def apply(n: ir.Node, sub: Callable[[ir.Operand], ir.Operand]) -> ir.Node:
    """``n`` (with the regions inside it) with every variable passed through ``sub``."""
    def phi(p: ir.Phi) -> ir.Phi:
        return ir.Phi(_var(sub, p.target), (sub(p.sources[0]), sub(p.sources[1])),
                      _var(sub, p.out) if p.out is not None else None)

    def block(nodes: list[ir.Node]) -> list[ir.Node]:
        return [apply(x, sub) for x in nodes]

    if isinstance(n, ir.Stmt):
        return replace(n, target=_var(sub, n.target), args=tuple(map(sub, n.args)),
                       kwargs=tuple((k, sub(v)) for k, v in n.kwargs))
    if isinstance(n, ir.If):
        return replace(n, cond=sub(n.cond), then=block(n.then), orelse=block(n.orelse),
                       phis=[phi(p) for p in n.phis])
    return replace(n, index=_var(sub, n.index) if n.index is not None else None,
                   bounds=tuple(map(sub, n.bounds)), carried=[phi(p) for p in n.carried],
                   body=block(n.body), test=block(n.test),
                   cond=sub(n.cond) if n.cond is not None else None,
                   exit=sub(n.exit) if n.exit is not None else None)


class _Straightener:
    def __init__(self, primal: ir.Function, args: Sequence[object], unroll: int,
                 max_nodes: int):
        self.primal, self.args, self.unroll, self.max_nodes = primal, args, unroll, max_nodes
        self.out: list[ir.Node] = []
        self.subst: dict[str, ir.Operand] = {}
        self.result = Straight(primal)

    def run(self) -> Straight:
        work: deque[ir.Node] = deque(self.primal.body)
        chase = _mapper(self.subst, True)
        while work:
            n = apply(work.popleft(), chase)
            if isinstance(n, ir.If):
                taken = bool(self._values([n.cond])[0])
                for p in n.phis:
                    self.subst[p.target.name] = p.sources[0 if taken else 1]
                work.extendleft(reversed(n.then if taken else n.orelse))
            elif isinstance(n, ir.Loop):
                work.extendleft(reversed(self._loop(n)))
            elif not ir.is_check(n):
                self.out.append(n)
            self._check_size(n.loc)
        for n in ir.walk(self.out):
            if isinstance(n, ir.Stmt) and n.op in _IN_PLACE:
                raise UnsupportedSyntax(
                    f"graph does not draw arrays or lists written in place yet "
                    f"({self.primal.name} writes one here): each version of it would show "
                    "the last one's values", n.loc,
                    hint="Build the value without writing into it (np.array([...]), "
                    "np.concatenate, np.where) to draw the graph; srcgrad.grad "
                    "differentiates the function as it is.")
        returns = tuple(map(chase, self.primal.returns))
        self.result.fn = self._named(replace(self.primal, body=self.out, returns=returns))
        return self.result

    def _named(self, fn: ir.Function) -> ir.Function:
        """``fn`` with its top-level temporaries made user variables (``t1_``): the
        reverse transform then names their adjoints after them (``Var.of``)."""
        taken = {v.name for n in ir.walk(fn.body) for v in ir.node_defs(n)}
        taken |= {p.name for p in fn.params}
        m: dict[str, ir.Operand] = {}
        for n in fn.body:
            if isinstance(n, ir.Stmt) and n.target.kind == "temp":
                name = n.target.name + "_"
                while name in taken:
                    name += "_"
                taken.add(name)
                m[n.target.name] = ir.Var(name)
                self.result.temps.add(name)
                if n.target.name in self.result.origin:
                    self.result.origin[name] = self.result.origin[n.target.name]
        sub = _mapper(m, False)
        body = [apply(n, sub) for n in fn.body]
        self.result.regions = [n for n in body if isinstance(n, ir.Loop)]
        return replace(fn, body=body, returns=tuple(map(sub, fn.returns)))

    def _values(self, wanted: Sequence[ir.Operand]) -> list[object]:
        return evaluate(self.primal, self.out, wanted, self.args)

    def _check_size(self, loc: Loc) -> None:
        count = len(self.primal.params) + len(self.out) + \
            sum(len(r.carried) for r in self.result.regions)
        if count > self.max_nodes:
            raise GraphTooLarge(f"the graph of {self.primal.name} at this point has more "
                                f"than {self.max_nodes} nodes", loc)

    def _loop(self, n: ir.Loop) -> list[ir.Node]:
        """The unrolled iterations of ``n``, or [] with ``n`` kept as a region."""
        trips: range | None = None
        if n.cond is None:
            bounds = [b for b in self._values(n.bounds) if isinstance(b, int)]
            if len(bounds) == len(n.bounds):
                trips = range(*bounds)
                trips = trips[::-1] if n.reverse else trips
        if trips is None or n.exit is not None or len(trips) > self.unroll:
            self.out.append(n)
            self.result.regions.append(n)
            self.result.trips.append(None if trips is None else len(trips))
            return []
        if len(self.out) + len(ir.walk(n.body)) * len(trips) > self.max_nodes:
            raise GraphTooLarge(f"unrolling this loop's {len(trips)} iterations gives the "
                                f"graph of {self.primal.name} more than {self.max_nodes} "
                                f"nodes (unroll={self.unroll} unrolls loops of up to "
                                f"{self.unroll} iterations)", n.loc)
        return self._unrolled(n, trips)

    def _unrolled(self, n: ir.Loop, trips: range) -> list[ir.Node]:
        prev = {p.target.name: p.sources[0] for p in n.carried}
        defs = [v for x in ir.walk(n.body) for v in ir.node_defs(x)]
        nodes: list[ir.Node] = []
        for k, value in enumerate(trips):
            m: dict[str, ir.Operand] = dict(prev)
            for v in defs:
                fresh = ir.Var(f"{v.name}__{k}", v.kind, v.of)
                base, where = self.result.origin.get(v.name, (v.name, ()))
                index = self.result.origin.get(n.index.name, (n.index.name, ()))[0] \
                    if n.index is not None else "iteration"
                self.result.origin[fresh.name] = (base, (*where, f"{index}={value}"))
                m[v.name] = fresh
            if n.index is not None:
                m[n.index.name] = ir.Const(value)
            sub = _mapper(m, False)
            nodes += [apply(x, sub) for x in n.body]
            prev = {p.target.name: sub(p.sources[1]) for p in n.carried}
        for p in n.carried:
            self.subst[ir.loop_out(p).name] = prev[p.target.name]
        return nodes


def straighten(primal: ir.Function, args: Sequence[object], unroll: int = 10,
               max_nodes: int = 300) -> Straight:
    """See the module docstring."""
    return _Straightener(primal, args, unroll, max_nodes).run()
