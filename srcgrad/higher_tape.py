"""The tape of generated gradient code as lists, for reverse mode over it (``higher``).

A forward loop of gradient code pushes, each iteration, the values its adjoint loop pops
back into the same variables (``Loop.save``, ``save_start``, ``restore``): the adjoint loop
reads values of the forward loop's body, which reverse mode cannot follow. Here each
pushed value gets a list of its own, carried by the forward loop (``append`` at the
point of the push); the adjoint loop reads the entry of the iteration it mirrors (by its
index, or for a ``while``, by its trip count) into a new variable its body reads
instead. Appends and
reads of lists are operations reverse mode has rules for, so the second sweep keeps its
own tape of them.

Contract: ``lists_for_tape(fn)`` returns an equivalent ``ir.Function`` without tape, or
raises ``Unsupported`` (located at the loop) where a branch inside a loop keeps a tape of
its own, or loops nest with tapes (not rewritten yet).
"""

from __future__ import annotations

from dataclasses import replace

from . import ir
from .errors import Loc, UnsupportedSyntax


class Unsupported(UnsupportedSyntax):
    """Gradient code that reverse mode cannot differentiate again (forward mode can)."""


_HINT = ("srcgrad.vjp and srcgrad.jacobian(..., mode='reverse') of srcgrad.grad(f) use "
         "forward over reverse here; srcgrad.hvp and srcgrad.hessian do too.")


def lists_for_tape(fn: ir.Function, where: Loc) -> ir.Function:
    """``fn`` with every loop tape made lists (see the module docstring)."""
    body = ir.clone(fn.body)
    taped = [n for n in ir.walk(body) if isinstance(n, ir.Loop) and
             (n.save or n.save_start or n.restore)]
    for loop in taped:
        inner = [m for m in ir.walk(loop.body) + ir.walk(loop.test)
                 if isinstance(m, (ir.Loop, ir.If)) and _has_tape(m)]
        if inner:
            raise Unsupported("reverse mode over the gradient of a loop whose body keeps a "
                              "tape of its own (a branch or a loop inside it) is not "
                              "supported yet", _loc(loop, where), _HINT)
    if any(isinstance(n, ir.If) and _has_tape(n) for n in ir.walk(body)):
        raise Unsupported("reverse mode over a branch's tape is not supported yet",
                          where, _HINT)
    namer = ir.Namer({p.name for p in fn.params} |
                     {v.name for n in ir.walk(body) for v in ir.node_defs(n)} |
                     {v.name for n in ir.walk(body) for v in ir.node_uses(n)})
    forward = [n for n in taped if not n.adjoint]
    for loop in forward:
        pushed = [*loop.save_start, *loop.save]
        adjoint = [n for n in taped if n.adjoint and
                   sorted(v.name for g in n.restore for v in g) == sorted(v.name for v in pushed)]
        if len(adjoint) != 1 or len({v.name for v in pushed}) != len(pushed):
            raise Unsupported("reverse mode over this loop's tape is not supported yet",
                              _loc(loop, where), _HINT)
        _rewrite(body, loop, adjoint[0], namer)
    if any(n.save or n.save_start or n.restore for n in ir.walk(body)
           if isinstance(n, ir.Loop)):
        raise Unsupported("reverse mode over this gradient's tape is not supported yet",
                          where, _HINT)
    return replace(fn, body=body)


def _has_tape(n) -> bool:
    if isinstance(n, ir.If):
        return any(n.save) or any(n.restore)
    return bool(n.save or n.save_start or n.restore)


def _loc(loop: ir.Loop, where: Loc) -> Loc:
    return loop.loc if loop.loc.line else where


def _rewrite(body: list, fwd: ir.Loop, adj: ir.Loop, namer: ir.Namer) -> None:
    """Each value ``fwd`` pushes: a list appended to in ``fwd``, read back in ``adj``
    (the entry of the iteration it mirrors), whose body then reads that instead."""
    loc = fwd.loc
    top: list[ir.Node] = []
    end: list[ir.Node] = []
    position, reads = _position(adj, namer)
    renamed: dict[str, ir.Var] = {}
    for group, at in ((fwd.save_start, top), (fwd.save, end)):
        for v in group:
            stem = namer.fresh(f"saved_{v.name}")
            empty = ir.Var(stem, "temp")
            inside, grown, after = (ir.Var(namer.fresh(stem), "temp") for _ in range(3))
            _insert_before(body, fwd, ir.Stmt(empty, "newlist", (), loc))
            at.append(ir.Stmt(grown, "append", (inside, v), loc))
            fwd.carried.append(ir.Phi(inside, (empty, grown), after))
            # the adjoint loop: the entry of the iteration it mirrors, read back
            back = ir.Var(namer.fresh(v.name), v.kind, v.of)
            reads.append(ir.Stmt(back, "getitem", (after, position), adj.loc))
            renamed[v.name] = back
    fwd.body[:0] = top
    fwd.body.extend(end)
    fwd.save, fwd.save_start = [], []
    adj.restore = []
    for n in ir.walk(adj.body) + ir.walk(adj.test):
        _rename(n, renamed)
    adj.carried = [replace(p, sources=(_sub(p.sources[0], renamed),
                                       _sub(p.sources[1], renamed))) for p in adj.carried]
    adj.body[:0] = reads


def _position(adj: ir.Loop, namer: ir.Namer) -> tuple[ir.Operand, list[ir.Node]]:
    """The number of the forward iteration that adjoint iteration mirrors, and the
    statements computing it: a ``for``'s adjoint runs the same range backwards (its
    index gives it); a ``while``'s counts the trips forwards (``range(n_iter)``: it gets
    an index ``k`` here, and mirrors iteration ``n_iter - 1 - k``)."""
    if adj.index is None:
        adj.index = ir.Var(namer.temp(), "temp")
        last, pos = (ir.Var(namer.temp(), "temp") for _ in range(2))
        return pos, [ir.Stmt(last, "sub", (adj.bounds[0], ir.Const(1)), adj.loc),
                     ir.Stmt(pos, "sub", (last, adj.index), adj.loc)]
    start, step = (adj.bounds[0], adj.bounds[2]) if len(adj.bounds) == 3 else \
        (adj.bounds[0], ir.Const(1)) if len(adj.bounds) == 2 else (ir.Const(0), ir.Const(1))
    if ir.is_number(start, 0) and ir.is_number(step, 1):
        return adj.index, []
    offset, pos = (ir.Var(namer.temp(), "temp") for _ in range(2))
    return pos, [ir.Stmt(offset, "sub", (adj.index, start), adj.loc),
                 ir.Stmt(pos, "floordiv", (offset, step), adj.loc)]


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
        return renamed.get(o.name, o) if isinstance(o, ir.Var) else o

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
