"""Views held across a write: the last step of lowering.

In NumPy ``r = m[0]`` of a matrix is a *view*: a later ``m[0] = v`` changes
``r`` too. SSA (and so the derivative) takes ``r`` to be the value read. The
two agree unless the write overlaps the region read and ``r`` (or a list, copy
or merged value holding it) is used after the write. Whether they overlap is
known only at run time (``alpha[t - 1]`` and ``alpha[t]`` do not), so where a
read of a buffer may be used after a write into the same buffer, the write's
value goes through ``runtime.disjoint_write``, which checks the two regions
and raises (a located error) if the write would change what was read. A read
that does not come before the write on every path to it (it sits in a branch
or an inner loop that ended) cannot be checked there and is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from .. import ir, runtime
from ..errors import UnsupportedSyntax

_GUARD = ir.Callee("disjoint_write", runtime.disjoint_write, runtime.disjoint_write)
_HOLDING = ("copy", "append", "getitem")  # ops whose result holds their first operand


@dataclass
class _Place:
    pos: float
    loops: tuple  # ids of the loops around, outermost first
    blocks: tuple  # ids of the enclosing blocks, outermost first (own block last)


class _Views:
    def __init__(self, fn: ir.Function):
        self.places: dict[int, _Place] = {}
        self.block_of: dict[int, list] = {}
        self.reads: dict[str, list[_Place]] = {}
        self.stmts: list[ir.Stmt] = []
        self.parent: dict[str, str] = {}
        self.flows: dict[str, list[str]] = {}  # value -> values that hold it
        self.count = 0
        self.walk(fn.body, (), (id(fn.body),))
        end = _Place(self.count + 1, (), (id(fn.body),))
        for r in fn.returns:
            self.read(r, end)

    def place(self, loops, blocks) -> _Place:
        self.count += 1
        return _Place(self.count, loops, blocks)

    def read(self, o, at: _Place) -> None:
        if isinstance(o, ir.Var):
            self.reads.setdefault(o.name, []).append(at)

    def hold(self, source, target: ir.Var) -> None:
        if isinstance(source, ir.Var):
            self.flows.setdefault(source.name, []).append(target.name)

    def walk(self, block: list, loops: tuple, blocks: tuple) -> None:
        for n in block:
            if isinstance(n, ir.Stmt):
                at = self.places[id(n)] = self.place(loops, blocks)
                self.block_of[id(n)] = block
                self.stmts.append(n)
                for o in n.operands():
                    self.read(o, at)
                if n.op in ("setitem", "copy") and isinstance(n.args[0], ir.Var):
                    self.union(n.args[0].name, n.target.name)
                if n.op in _HOLDING:
                    self.hold(n.args[0], n.target)
                if n.op == "append":
                    self.hold(n.args[1], n.target)
            elif isinstance(n, ir.If):
                self.read(n.cond, self.place(loops, blocks))
                self.walk(n.then, loops, (*blocks, id(n.then)))
                self.walk(n.orelse, loops, (*blocks, id(n.orelse)))
                at = self.place(loops, blocks)
                for p in n.phis:
                    for src in p.sources:
                        self.read(src, at)
                        self.hold(src, p.target)
                        self.union_op(src, p.target)
            else:
                self.loop(n, loops, blocks)

    def loop(self, n: ir.Loop, loops: tuple, blocks: tuple) -> None:
        at = self.place(loops, blocks)
        for o in (*n.bounds, *(p.sources[0] for p in n.carried)):
            self.read(o, at)
        inner = (*loops, id(n))
        self.walk(n.test, inner, (*blocks, id(n.test)))
        self.read(n.cond, self.place(inner, (*blocks, id(n.test))))
        self.walk(n.body, inner, (*blocks, id(n.body)))
        end = self.place(inner, (*blocks, id(n.body)))
        for p in n.carried:
            self.read(p.sources[1], end)
            for src in p.sources:
                self.hold(src, p.target)
                self.union_op(src, p.target)
            self.hold(p.target, ir.loop_out(p))
            self.union_op(p.target, ir.loop_out(p))

    def union_op(self, a, b: ir.Var) -> None:
        if isinstance(a, ir.Var):
            self.union(a.name, b.name)

    def union(self, a: str, b: str) -> None:
        self.parent[self.find(b)] = self.find(a)

    def find(self, a: str) -> str:
        while self.parent.get(a, a) != a:
            a = self.parent[a]
        return a

    def holders(self, name: str) -> set[str]:
        out, todo = set(), [name]
        while todo:
            v = todo.pop()
            if v not in out:
                out.add(v)
                todo += self.flows.get(v, [])
        return out


def _between(d: _Place, w: _Place, r: _Place) -> bool:
    """``w`` may run after ``d`` and before ``r`` (the next iteration of a loop around
    ``w`` and ``r`` but not ``d`` included)."""
    if d.pos < w.pos < r.pos:
        return True
    return w.pos > r.pos and any(lp not in d.loops for lp in set(w.loops) & set(r.loops))


def guard_views(fn: ir.Function) -> None:
    """Insert ``disjoint_write`` checks (see the module docstring); refuse what cannot
    be checked."""
    v = _Views(fn)
    writes = [s for s in v.stmts if s.op == "setitem" and isinstance(s.args[0], ir.Var)]
    if not writes:
        return
    names = {p.name for p in fn.params} | {d.name for n in ir.walk(fn.body)
                                           for d in ir.node_defs(n)}
    fresh = (f"view_check{k}" for k in range(1, 10**9) if f"view_check{k}" not in names)
    for w in writes:
        root, wp = v.find(cast(ir.Var, w.args[0]).name), v.places[id(w)]
        for g in v.stmts:
            if g.op != "getitem" or not isinstance(g.args[0], ir.Var) or \
                    v.find(g.args[0].name) != root or g is w:
                continue
            gp = v.places[id(g)]
            if not any(_between(gp, wp, r) for h in v.holders(g.target.name)
                       for r in v.reads.get(h, [])):
                continue
            if not (gp.blocks[-1] in wp.blocks and gp.pos < wp.pos):
                raise UnsupportedSyntax(
                    f"this write may change {g.target.name}, a view of the same array read "
                    f"at line {g.loc.line} and used after the write", w.loc,
                    "Copy the read (np.copy(x[i])) if the old value is meant.")
            _guard(v, w, g, ir.Var(next(fresh), "temp"))


def _guard(v: _Views, w: ir.Stmt, g: ir.Stmt, tmp: ir.Var) -> None:
    read, write = g.args[1:], w.args[2:]
    check = ir.Stmt(tmp, _GUARD, (w.args[1], w.args[0], ir.Const(len(read)), *read, *write),
                    w.loc)
    block = v.block_of[id(w)]
    block.insert(next(i for i, n in enumerate(block) if n is w), check)
    w.args = (w.args[0], tmp, *write)
