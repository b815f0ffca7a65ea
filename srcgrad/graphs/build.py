"""From a function and a point to its computation graph, with values and adjoints.

Contract: ``collect(f, args, kwargs, unroll, max_nodes)`` returns a ``model.Graph``
whose nodes are ``f``'s parameters and the values its statements compute (after
``straighten``: the branches taken, small loops unrolled), plus one region node per
loop drawn as a box (its carried values after the loop are nodes of their own), and
whose edges are the primitives (an edge from each variable a statement reads to the
value it computes, labelled by the operation).

Values come from running srcgrad's emitted primal code at the point; adjoints
(the derivative of the output with respect to each value) from srcgrad's own
reverse-mode derivatives of the same IR (``adjoints``); a value that is not a float
(an integer, a boolean) and a loop region's inner values have adjoint None.
"""

from __future__ import annotations

import inspect
import linecache
import numbers
from collections.abc import Callable

import numpy as np

from .. import ir
from ..build import _entry
from ..errors import Loc, NonScalarOutput, UsageError
from . import labels
from .adjoints import adjoints
from .model import Edge, Graph, Node
from .straighten import evaluate, straighten


def _where(f: Callable) -> Loc | None:
    code = getattr(f, "__code__", None)
    if code is None:
        return None
    return Loc(code.co_filename, code.co_firstlineno, 0,
               linecache.getline(code.co_filename, code.co_firstlineno))


def _bind(f: Callable, args: tuple, kwargs: dict) -> list[object]:
    try:
        bound = inspect.signature(f).bind(*args, **kwargs)
    except TypeError as exc:
        raise UsageError(f"the arguments do not fit {f.__name__}'s parameters: {exc}",
                         _where(f), hint="Pass a value for every parameter, as you would call it "
                         "(the command line: --at x=2,y=-1).") from None
    bound.apply_defaults()
    values = list(bound.arguments.values())
    for name, v in bound.arguments.items():
        if not isinstance(v, (numbers.Real, np.ndarray, np.generic)) or \
                np.asarray(v).dtype.kind == "c":
            raise UsageError(f"graph draws functions of real numbers and arrays; {name} is a "
                             f"{type(v).__name__}", _where(f),
                             hint="Graph a function taking the numbers and arrays "
                             "themselves as arguments.")
    return values


def _check_output(fn: ir.Function, values: dict[str, object]) -> None:
    """One real scalar output, which every adjoint is the derivative of."""
    out = fn.returns[0] if len(fn.returns) == 1 else None
    value = np.asarray(values.get(out.name) if isinstance(out, ir.Var) else None)
    if value.ndim != 0 or value.dtype.kind not in "biuf":
        shape = "several values" if out is None else f"a value of shape {value.shape}"
        shape = f"a {value.dtype} value" if not value.ndim else shape
        raise NonScalarOutput(f"graph shows the adjoints of one real scalar output; "
                              f"{fn.name} returns {shape} here", fn.loc,
                              hint="Draw a function returning a number: np.sum(...), a "
                              "component, or a loss of the output.")


def collect(f: Callable, args: tuple, kwargs: dict, unroll: int = 10,
            max_nodes: int = 300) -> Graph:
    """See the module docstring."""
    entry = _entry(f)
    values_in = _bind(f, args, kwargs)
    primal = entry.lowered()
    s = straighten(primal, values_in, unroll, max_nodes)
    stmts = [n for n in s.fn.body if isinstance(n, ir.Stmt)]
    outs = [ir.loop_out(p) for r in s.regions for p in r.carried]
    shown = [v for v in (*(n.target for n in stmts), *outs)]
    values = dict(zip((p.name for p in s.fn.params), values_in))
    values.update(zip((v.name for v in shown), evaluate(s.fn, s.fn.body, shown, values_in)))
    _check_output(s.fn, values)
    adjoint = adjoints(f, s.fn, values)
    names = labels.Namer(s.origin, {n.target.name: n for n in stmts}, s.temps)
    returned = {r.name for r in s.fn.returns if isinstance(r, ir.Var)}
    nodes: list[Node] = []

    def add(name: str, kind: str, line: int | None) -> None:
        kind = "output" if name in returned else kind
        value = values.get(name)  # a complex value's adjoint depends on a convention
        nodes.append(Node(name, names.label(name), kind, value,
                          None if np.asarray(value).dtype.kind == "c" else adjoint.get(name),
                          line))

    for p in s.fn.params:
        add(p.name, "input", s.fn.loc.line)
    edges: list[Edge] = []
    for n in s.fn.body:
        if isinstance(n, ir.Stmt):
            add(n.target.name, "value" if n.uses() else "constant", n.loc.line)
            for v in dict.fromkeys(u.name for u in n.uses()):
                edges.append(Edge(v, n.target.name, labels.op_label(n, v)))
        elif isinstance(n, ir.Loop):
            edges += _region(n, s.trips[s.regions.index(n)], nodes, add)
    return Graph(primal.name, nodes, edges)


def _region(n: ir.Loop, trips: int | None, nodes: list[Node],
            add: Callable[[str, str, int | None], None]) -> list[Edge]:
    """A loop drawn as one box: edges from what it reads, to its carried values."""
    rid = f"loop@{n.loc.line}#{len(nodes)}"
    head = "while loop" if n.cond is not None else "for loop"
    count = "" if trips is None else \
        f", {'at most ' if n.exit is not None else ''}{trips} iterations"
    nodes.append(Node(rid, f"{head} (line {n.loc.line}{count})", "region", None, None,
                      n.loc.line))
    inner = {v.name for x in ir.walk(n.body) + ir.walk(n.test) for v in ir.node_defs(x)}
    inner |= {p.target.name for p in n.carried} | ({n.index.name} if n.index else set())
    reads = [v.name for x in [n, *ir.walk(n.body), *ir.walk(n.test)] for v in ir.node_uses(x)
             if v.name not in inner]
    edges = [Edge(v, rid, "") for v in dict.fromkeys(reads)]
    for p in n.carried:
        out = ir.loop_out(p)
        add(out.name, "value", n.loc.line)
        edges.append(Edge(rid, out.name, p.target.name))
    return edges
