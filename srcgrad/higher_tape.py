"""The tape of generated gradient code as lists, for reverse mode over it (``higher``).

A forward loop of gradient code pushes, each iteration, values that its adjoint loop
pops back into the same variables (``Loop.save``, ``save_start``, ``restore``; a branch
inside a loop pushes and pops its own, ``If.save``, ``If.restore``): the adjoint reads
values of the forward loop's body, which reverse mode cannot follow. Here each pushed
group of values gets lists of its own, one per value, made empty before the outermost
region holding the push and threaded through the regions around it (carried by loops,
merged by branches): an ``append`` where the push was, and a count of the pushes. The
pops become reads by a counter, threaded likewise through the adjoint regions and
counting down from that count: a ``getitem`` into a new variable where the pop was,
which the adjoint region then reads instead. Appends and reads of lists are operations
reverse mode has rules for, so the second sweep keeps its own tape of them.

Contract: ``lists_for_tape(fn, where)`` returns an equivalent ``ir.Function`` without a
tape, or raises ``Unsupported`` (located at the loop, or at ``where``) where a pop cannot
be paired with exactly one push of the same values.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from . import ir
from .errors import Loc, UnsupportedSyntax


class Unsupported(UnsupportedSyntax):
    """Gradient code that reverse mode cannot differentiate again (forward mode can)."""


_HINT = ("srcgrad.vjp and srcgrad.jacobian(..., mode='reverse') of srcgrad.grad(f) use "
         "forward over reverse here; srcgrad.hvp and srcgrad.hessian do too.")

Path = list  # [(Loop, "body") or (If, "then" | "else")], outermost first


@dataclass
class _Site:
    """One push or pop of a group of values, ``first`` in its block or at its end."""

    path: Path
    values: list[ir.Var]
    first: bool
    loc: Loc

    def block(self) -> list:
        node, which = self.path[-1]
        return node.body if which == "body" else node.then if which == "then" else node.orelse


def lists_for_tape(fn: ir.Function, where: Loc) -> ir.Function:
    """``fn`` with its tape made lists (see the module docstring)."""
    body = ir.clone(fn.body)
    pushes, pops = _sites(body, [], False), _sites(body, [], True)
    namer = ir.Namer({p.name for p in fn.params} |
                     {v.name for n in ir.walk(body) for v in ir.node_defs(n)} |
                     {v.name for n in ir.walk(body) for v in ir.node_uses(n)})
    paired = []
    for pop in pops:
        names = sorted(v.name for v in pop.values)
        found = [p for p in pushes if sorted(v.name for v in p.values) == names]
        if len(found) != 1 or len(set(names)) != len(names):
            raise Unsupported("reverse mode over this loop's tape is not supported yet",
                              pop.loc if pop.loc.line else where, _HINT)
        paired.append((found[0], pop))
    for push, pop in sorted(paired, key=lambda pair: -len(pair[1].path)):  # inner first
        _rewrite(body, push, pop, namer)
    for n in ir.walk(body):
        if isinstance(n, ir.Loop):
            n.save, n.save_start, n.restore = [], [], []
        elif isinstance(n, ir.If):
            n.save, n.restore = ([], []), ([], [])
    return replace(fn, body=body)


def _sites(block: list, path: Path, adjoint: bool) -> list[_Site]:
    """The pushes (``adjoint`` False) or pops of the regions in ``block``."""
    out = []
    for n in block:
        if isinstance(n, ir.Loop):
            inner = [*path, (n, "body")]
            if n.adjoint == adjoint:
                groups = n.restore if adjoint else [n.save_start, n.save]
                out += [_Site(inner, list(g), adjoint or g is n.save_start, n.loc)
                        for g in groups if g]
            out += _sites(n.body, inner, adjoint)
        elif isinstance(n, ir.If):
            for k, which in enumerate(("then", "else")):
                inner = [*path, (n, which)]
                group = (n.restore if adjoint else n.save)[k]
                if group and n.adjoint == adjoint:
                    out.append(_Site(inner, list(group), adjoint, n.loc))
                out += _sites(n.then if k == 0 else n.orelse, inner, adjoint)
    return out


def _rewrite(body: list, push: _Site, pop: _Site, namer: ir.Namer) -> None:
    """One list per value of ``push``, and a count of the pushes; read back at ``pop`` by
    a counter from the count down (an int: reverse mode indexes lists by ints only)."""
    first = push.path[0][0]
    zero = ir.Var(namer.temp(), "temp")
    _insert_before(body, first, ir.Stmt(zero, "copy", (ir.Const(0),), push.loc))

    def count(block: list, n: ir.Var) -> ir.Var:
        more = ir.Var(namer.temp(), "temp")
        _put(block, ir.Stmt(more, "add", (n, ir.Const(1)), push.loc), push.first)
        return more

    pushed = _thread(push.path, zero, count, namer)
    start = ir.Var(namer.temp(), "temp")
    _insert_before(body, pop.path[0][0], ir.Stmt(start, "sub", (pushed, ir.Const(1)),
                                                 pop.loc))
    renamed: dict[str, ir.Var] = {}
    lists = []
    for v in push.values:
        empty = ir.Var(namer.fresh(f"saved_{v.name}"), "temp")

        def append(block: list, xs: ir.Var, v: ir.Var = v) -> ir.Var:
            grown = ir.Var(namer.temp(), "temp")
            _put(block, ir.Stmt(grown, "append", (xs, v), push.loc), push.first)
            return grown

        _insert_before(body, first, ir.Stmt(empty, "newlist", (), push.loc))
        lists.append(_thread(push.path, empty, append, namer))
        renamed[v.name] = ir.Var(namer.fresh(v.name), v.kind, v.of)

    def read(block: list, at: ir.Var) -> ir.Var:
        after = ir.Var(namer.temp(), "temp")
        block[:0] = [*(ir.Stmt(renamed[v.name], "getitem", (xs, at), pop.loc)
                       for v, xs in zip(push.values, lists)),
                     ir.Stmt(after, "sub", (at, ir.Const(1)), pop.loc)]
        return after

    _thread(pop.path, start, read, namer)
    node, which = pop.path[-1]
    reads = set(renamed.values())
    for n in ir.walk(pop.block()):
        if not (isinstance(n, ir.Stmt) and n.target in reads):
            _rename(n, renamed)
    if isinstance(node, ir.Loop):
        node.carried = [replace(p, sources=(p.sources[0], _sub(p.sources[1], renamed)))
                        for p in node.carried]
    else:
        side = 0 if which == "then" else 1
        node.phis = [replace(p, sources=tuple(_sub(s, renamed) if k == side else s
                                              for k, s in enumerate(p.sources)))
                     for p in node.phis]


def _thread(path: Path, value: ir.Var, site: Callable, namer: ir.Namer) -> ir.Var:
    """``value`` carried through the regions of ``path`` to its end, where ``site(block,
    version)`` changes it; its version after the outermost region."""
    node, which = path[0]
    if isinstance(node, ir.Loop):
        inside, out = ir.Var(namer.temp(), "temp"), ir.Var(namer.temp(), "temp")
        end = site(node.body, inside) if len(path) == 1 else \
            _thread_block(node.body, path[1:], inside, site, namer)
        node.carried.append(ir.Phi(inside, (value, end), out))
        return out
    branch = node.then if which == "then" else node.orelse
    end = site(branch, value) if len(path) == 1 else \
        _thread_block(branch, path[1:], value, site, namer)
    merged = ir.Var(namer.temp(), "temp")
    node.phis.append(ir.Phi(merged, (end, value) if which == "then" else (value, end)))
    return merged


def _thread_block(block: list, path: Path, value: ir.Var, site: Callable,
                  namer: ir.Namer) -> ir.Var:
    return _thread(path, value, site, namer)


def _put(block: list, s: ir.Stmt, first: bool) -> None:
    if first:
        block.insert(0, s)
    else:
        block.append(s)


def _insert_before(body: list, node, new) -> None:
    for block in _blocks(body):
        for k, n in enumerate(block):
            if n is node:
                block.insert(k, new)
                return


def _blocks(body: list):
    yield body
    for n in body:
        if isinstance(n, ir.If):
            yield from _blocks(n.then)
            yield from _blocks(n.orelse)
        elif isinstance(n, ir.Loop):
            yield from _blocks(n.body)
            yield from _blocks(n.test)


def _sub(o: ir.Operand, renamed: dict[str, ir.Var]) -> ir.Operand:
    return renamed.get(o.name, o) if isinstance(o, ir.Var) else o


def _rename(n, renamed: dict[str, ir.Var]) -> None:
    def sub(o):
        return _sub(o, renamed)

    if isinstance(n, ir.Stmt):
        n.args = tuple(map(sub, n.args))
        n.kwargs = tuple((k, sub(v)) for k, v in n.kwargs)
    elif isinstance(n, ir.If):
        n.cond = sub(n.cond)
        n.phis = [replace(p, sources=tuple(map(sub, p.sources))) for p in n.phis]
    elif isinstance(n, ir.Loop):
        n.bounds = tuple(map(sub, n.bounds))
        n.cond = sub(n.cond) if n.cond is not None else None
        n.carried = [replace(p, sources=tuple(map(sub, p.sources))) for p in n.carried]
