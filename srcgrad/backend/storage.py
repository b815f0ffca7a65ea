"""Storage for emission: which SSA variables share one Python name, and the names.

Contract: ``Storage(fn)`` groups SSA variables that the emitted Python keeps
in one variable, and ``name(v)`` gives every variable its printed name.
Grouped are: a loop-carried value's versions (the value entering an
iteration, the value after the loop, and the value before the loop or at the
end of an iteration when nothing reads the old one afterwards); a branch's
value and the merged value when only the merge reads it; and the versions of
an array written in place. Names are the user's (SSA versions ``x_1``...),
``t1, t2...`` for temporaries in order of appearance, ``<name>_bar`` for
adjoints; none collides with a user name or a global the code refers to.
"""

from __future__ import annotations

from typing import TypeGuard

from .. import ir
from ..ir import Namer, adjoint_name

_IN_PLACE = ("setitem", "addat", "scatter", "iadd", "append", "droplast")


def _restored(n) -> list[ir.Var]:
    """Variables an adjoint region re-binds from the tape."""
    if isinstance(n, ir.Loop):
        return [v for group in n.restore for v in group]
    if isinstance(n, ir.If):
        return [v for group in n.restore for v in group]
    return []


class Storage:
    def __init__(self, fn: ir.Function):
        self.fn = fn
        self.order = ir.walk(fn.body)
        self.position = {id(n): i for i, n in enumerate(self.order)}
        self.defs: dict[str, object] = {}
        self.def_block: dict[str, int] = {}
        self._index(fn.body)
        self.use_sites: dict[str, list[tuple[float, int, bool]]] = {}  # (position, block, plain)
        self._uses(fn.body)
        end = len(self.order)
        for r in fn.returns:
            if isinstance(r, ir.Var):
                self.use_sites.setdefault(r.name, []).append((end, id(fn.body), True))
        self.parent: dict[str, str] = {}
        self.sizes: dict[str, int] = {}
        self.enclosing: dict[int, list[ir.Loop]] = {}  # loop -> the loops around it
        self._nest(fn.body, [])
        self._group(fn.body)
        self.names: dict[str, str] = {}
        roots = {o.name.split(".")[0] for n in self.order if isinstance(n, ir.Stmt)
                 for o in (n.op, *n.operands()) if isinstance(o, (ir.Callee, ir.Const))
                 and o.name}
        users = {v.name for v in self._all_vars() if v.kind == "user"}
        self.namer = Namer(users | roots)

    # -- indexing ---------------------------------------------------------------
    def _index(self, block: list) -> None:
        for n in block:
            for v in ir.node_defs(n):
                self.defs.setdefault(v.name, n)
                self.def_block.setdefault(v.name, id(block))
            if isinstance(n, ir.If):
                self._index(n.then)
                self._index(n.orelse)
            elif isinstance(n, ir.Loop):
                self._index(n.test)
                self._index(n.body)

    def _uses(self, block: list) -> None:
        """Where each variable is read. A merged value is read where its branch ends,
        an iteration's end value where the body ends (the moves and the tape push are
        there), so that storage sharing sees the true order."""
        for n in block:
            pos = self.position[id(n)]
            if isinstance(n, ir.Stmt):
                for v in n.uses():
                    self.use_sites.setdefault(v.name, []).append((pos, id(block), True))
            elif isinstance(n, ir.If):
                self._read([n.cond], pos)
                for which, branch in enumerate((n.then, n.orelse)):
                    self._uses(branch)
                    self._at_end(n.save[which], branch, pos, 0.5)
                    self._at_end([p.sources[which] for p in n.phis], branch, pos, 0.75)
            else:
                self._read([*n.bounds, n.cond, n.exit, *(p.sources[0] for p in n.carried)], pos)
                self._uses(n.test)
                self._uses(n.body)
                self._at_end(n.save + n.save_start, n.body, pos, 0.5)
                self._at_end([p.sources[1] for p in n.carried], n.body, pos, 0.75)

    def _read(self, operands, pos: float) -> None:
        for v in operands:
            if isinstance(v, ir.Var):
                self.use_sites.setdefault(v.name, []).append((pos, 0, False))

    def _at_end(self, operands, block: list, pos: int, offset: float) -> None:
        """Reads at the end of ``block``, after everything in it."""
        inner = [self.position[id(m)] for m in ir.walk(block)]
        self._read(operands, (max(inner) if inner else pos) + offset)

    def _all_vars(self) -> list[ir.Var]:
        out = list(self.fn.params)
        for n in self.order:
            out += ir.node_defs(n)
        return out

    def single_use_here(self, v: ir.Var) -> bool:
        """Read once, by a plain statement of the block that defines it, and not a
        storage shared with another version."""
        sites = self.use_sites.get(v.name, [])
        return len(sites) == 1 and sites[0][2] and sites[0][1] == self.def_block.get(v.name) \
            and v.name not in self.grouped

    def overwritten_between(self, name: str, start: int, end: float) -> bool:
        """Whether ``name``'s storage is assigned strictly between two positions."""
        if name not in self.grouped:
            return False
        if not hasattr(self, "_writes"):
            self._writes: dict[str, list[int]] = {}
            for n in self.order:
                for v in ir.node_defs(n) + _restored(n):
                    self._writes.setdefault(self.find(v.name), []).append(self.position[id(n)])
        return any(start < pos < end for pos in self._writes.get(self.find(name), []))

    def changed_between(self, name: str, start: int, end: float) -> bool:
        """Whether the array ``name`` holds may be changed in place strictly between two
        positions, through any name that refers to it (a copy ``a = b``, a version, a
        call that may return its operand such as ``unbroadcast``, a loop's carried
        value that starts as it)."""
        if not hasattr(self, "_changes"):
            parent: dict[str, str] = {}

            def root(a: str) -> str:
                while parent.get(a, a) != a:
                    a = parent[a]
                return a

            for n in self.order:
                if isinstance(n, ir.Stmt) and (n.op == "copy" or n.op in _IN_PLACE or
                                               ir.may_share_first(n)) and \
                        isinstance(n.args[0], ir.Var):
                    parent[root(n.target.name)] = root(n.args[0].name)
            for name in self.grouped:  # versions that are one variable (a loop's carried)
                parent[root(name)] = root(self.find(name))
            self._object = root
            self._changes: dict[str, list[int]] = {}
            for n in self.order:
                if isinstance(n, ir.Stmt) and n.op in _IN_PLACE:
                    self._changes.setdefault(root(n.target.name), []).append(
                        self.position[id(n)])
        return any(start < pos < end for pos in self._changes.get(self._object(name), []))

    def def_position(self, name: str) -> int:
        return self.position[id(self.defs[name])]

    def use_position(self, name: str) -> float:
        return self.use_sites[name][0][0]

    @property
    def grouped(self) -> set[str]:
        if not hasattr(self, "_grouped"):
            self._grouped = set(self.parent) | set(self.parent.values())
        return self._grouped

    # -- grouping ---------------------------------------------------------------
    def find(self, name: str) -> str:
        while self.parent.get(name, name) != name:
            name = self.parent[name]
        return name

    def union(self, a: ir.Var, b: ir.Var) -> None:
        ra, rb = self.find(a.name), self.find(b.name)
        if ra != rb:
            self.parent[rb] = ra
            self.sizes[ra] = self.sizes.get(ra, 1) + self.sizes.pop(rb, 1)

    def alone(self, v: ir.Var) -> bool:
        """``v`` shares storage with nothing yet."""
        return self.sizes.get(self.find(v.name), 1) == 1

    def _nest(self, block: list, around: list) -> None:
        for n in block:
            if isinstance(n, ir.If):
                self._nest(n.then, around)
                self._nest(n.orelse, around)
            elif isinstance(n, ir.Loop):
                self.enclosing[id(n)] = list(around)
                # (the test block runs every iteration too: `while h(x) < 0` with h's
                # own loop inlined there)
                self._nest(n.test, [*around, n])
                self._nest(n.body, [*around, n])

    def _group(self, block: list) -> None:
        for n in block:
            if isinstance(n, ir.Stmt) and n.op in _IN_PLACE and isinstance(n.args[0], ir.Var):
                self.union(n.args[0], n.target)
            elif isinstance(n, ir.If):
                self._group(n.then)
                self._group(n.orelse)
                for p in n.phis:
                    if self._one_object(p.sources):  # a list or array changed in place
                        self.union(p.target, p.sources[0])
                        continue
                    for branch, src in zip((n.then, n.orelse), p.sources):
                        if self._only_read_by_merge(src, branch):
                            self.union(p.target, src)
            elif isinstance(n, ir.Loop):
                self._group(n.test)
                self._group(n.body)
                for p in n.carried:
                    self.union(p.target, ir.loop_out(p))
                    if self._free_after(p.sources[0], n):
                        self.union(p.sources[0], p.target)
                    nxt = p.sources[1]
                    if isinstance(nxt, ir.Var) and self._next_safe(p, n):
                        self.union(p.target, nxt)

    def _one_object(self, sources: tuple[ir.Operand, ir.Operand]
                    ) -> TypeGuard[tuple[ir.Var, ir.Var]]:
        """Both branches' values are versions of one object changed in place."""
        a, b = sources
        if not (isinstance(a, ir.Var) and isinstance(b, ir.Var)):
            return False
        return self.find(a.name) == self.find(b.name) and not self.alone(a)

    def _only_read_by_merge(self, src: ir.Operand, branch: list[ir.Node]) -> TypeGuard[ir.Var]:
        """A branch's value that only the merge reads, and that shares storage with
        nothing else (an in-place adjoint buffer lives on after the branch)."""
        return isinstance(src, ir.Var) and self.def_block.get(src.name) == id(branch) and \
            len(self.use_sites.get(src.name, [])) == 1 and self.alone(src)

    def _free_after(self, init: ir.Operand, loop: ir.Loop) -> TypeGuard[ir.Var]:
        """Nothing reads ``init`` once the loop has started (so the loop may reuse it)."""
        if not isinstance(init, ir.Var):
            return False
        for outer in self.enclosing.get(id(loop), []):
            if not self._defined_in(init, outer):
                return False  # the enclosing loop's next iteration reads it again
        here = self.position[id(loop)]
        root = self.find(init.name)
        members = [name for name in self.use_sites if self.find(name) == root]
        return all(pos <= here for name in members for pos, _, _ in self.use_sites[name])

    def _defined_in(self, v: ir.Var, loop: ir.Loop) -> bool:
        d = self.defs.get(v.name)
        if d is loop:
            return v in [p.target for p in loop.carried] or v is loop.index
        return d is not None and id(d) in {id(m) for m in ir.walk(loop.test + loop.body)}

    def _next_safe(self, p: ir.Phi, loop: ir.Loop) -> bool:
        """The end-of-iteration value can live in the carried variable's storage: it is
        computed in the body after the last read of the value entering the iteration."""
        nxt = p.sources[1]
        if not isinstance(nxt, ir.Var) or nxt.name == p.target.name:
            return False
        inside = {id(m) for m in ir.walk(loop.body)}
        d = self.defs.get(nxt.name)
        if d is None or id(d) not in inside:
            return False
        # The end value's storage is born with the first of its in-place versions
        # (``t = a + b; t += c``): the entering value must not be read after that.
        chain = self.find(nxt.name)
        root = self.find(p.target.name)
        if chain != root and any(id(self.defs[name]) not in inside for name in self.defs
                                 if self.find(name) == chain):
            return False  # an array from before the iteration (another carried value)
        born = min(self.position[id(self.defs[name])] for name in self.defs
                   if self.find(name) == chain and id(self.defs[name]) in inside)
        end = max(self.position[i] for i in inside) + 1  # the tape push sits at end - 0.5
        members = [name for name in self.use_sites if self.find(name) == root]
        reads = [pos for name in members for pos, _, _ in self.use_sites[name]
                 if born < pos < end]
        return not reads

    # -- names ------------------------------------------------------------------
    def name_all(self, inlined) -> None:
        for v in self._all_vars():
            if v.name in self.names or (v.kind == "temp" and inlined(v)):
                continue
            root = self.find(v.name)
            if root in self.names:
                self.names[v.name] = self.names[root]
                continue
            self.names[root] = self.names[v.name] = self._pick(v)

    def _pick(self, v: ir.Var) -> str:
        if v.kind == "user":
            return v.name
        if v.kind == "temp":
            return self.namer.temp()
        assert v.of is not None, v  # an adjoint or a tangent: of its primal
        primal = self.names.get(v.of.name) or v.of.name
        if v.kind == "tangent":
            return self.namer.fresh(primal + "_dot")
        return self.namer.fresh(adjoint_name(primal))

    def name(self, v: ir.Var) -> str:
        if v.name not in self.names:
            root = self.names.get(self.find(v.name))
            self.names[v.name] = root or self._pick(v)
        return self.names[v.name]

    def fresh(self, base: str) -> str:
        return self.namer.fresh(base)

    def is_noop(self, s: ir.Stmt) -> bool:
        """A copy between two variables that share storage."""
        return s.op == "copy" and isinstance(s.args[0], ir.Var) and \
            self.find(s.args[0].name) == self.find(s.target.name)

    def needs_move(self, pairs) -> bool:
        return any(not (isinstance(src, ir.Var) and self.find(src.name) == self.find(t.name))
                   for t, src in pairs)
