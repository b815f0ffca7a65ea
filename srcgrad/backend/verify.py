"""The storage verifier: every read in emitted code finds the value SSA says it reads.

SSA values are immutable; the emitted Python is not. Two things may change
what a Python name holds between an SSA value's definition and a read of it:

- a *reassignment*: another SSA version that shares the Python variable
  (``storage.Storage`` groups loop-carried values, merged values and in-place
  versions) is assigned in between;
- an *in-place update* (``setitem``, ``addat``, ``scatter``, ``iadd``,
  ``append``, ``droplast``) of the same object, reached through any name that
  refers to it: the value itself, a copy of it (``a_bar = b_bar``), a call
  that may hand it back or a view of it (``fit``, ``x.T``), a merged
  value it flows into (a phi), or an earlier or later in-place version.

The invariant (README, design): an in-place update only targets a buffer that
no other live name refers to, and a shared variable is reassigned only once
the old version is dead. ``check`` proves it for one emitted function, given
the emitter's names and which temporaries it inlines (an inlined temporary's
operands are read where it is used). Loops count twice: a value defined
before a loop and read inside it must not be changed anywhere in the loop
after the read (the next iteration reads it again). The two branches of an
``if`` never run together (nor two ``if``s on one condition: an adjoint
``if`` mirrors its forward ``if``). A value pushed on the tape is checked up
to the push (it must not change before the tape takes it); what the adjoint
reads back from the tape is not followed further. Calls that may hand back
their first operand or a view of it (``fit``, ``unbroadcast``, ``x.T``,
``np.reshape``) share its buffer; ``x[i]`` does not (``frontend/views.py`` checks
rows kept across a write when the write runs).

``build`` runs ``check`` on every derivative when ``SRCGRAD_VERIFY`` is set;
the test suite sets it, so every derivative a test builds is checked.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from .. import ir
from ..errors import InternalError

IN_PLACE = frozenset({"setitem", "addat", "scatter", "iadd", "append", "droplast"})
# Helpers of generated code that read (all, or all but the first of) their operands for
# the shape alone.
_SHAPE_OF_ALL = frozenset({"zeros_like", "np.shape", "np.size", "np.ndim", "len"})
_SHAPE_OF_REST = frozenset({"unbroadcast", "expand", "keep"})
@dataclass(frozen=True)
class _Event:
    var: ir.Var
    pos: int
    loops: tuple[int, ...]  # ids of the enclosing loops, outermost first
    path: frozenset[tuple[str | int, int]]  # (an If's condition, branch) pairs on the way here
    shape_only: bool = False  # a read for the shape alone, which writes in place keep
    push: bool = False  # a tape push: a read for whatever the adjoint reads back


class _Checker:
    def __init__(self, fn: ir.Function, name: Callable[[ir.Var], str],
                 inlined: Callable[[ir.Var], bool]):
        self.name, self.inlined = name, inlined
        self.parent: dict[str, str] = {}
        self.origin: dict[str, str] = {}  # copies -> the value they copy
        self.defs: dict[str, _Event] = {}
        self.reads: list[_Event] = []
        self.writes: dict[str, list[_Event]] = {}  # Python name -> assignments
        self.mutations: list[_Event] = []  # in-place statements, by their new version
        self.restored: dict[str, int] = {}  # value -> where the tape first restores it
        self.deferred: dict[str, ir.Stmt] = {}
        self.merged: dict[str, list[str]] = {}  # an if's merged value -> its sources
        self.pos = 0
        self.loops: tuple[int, ...] = ()
        self.path: frozenset[tuple[str | int, int]] = frozenset()
        for p in fn.params:
            self.define(p)
        self.block(fn.body)
        for r in fn.returns:
            self.read(r)

    # -- recording ---------------------------------------------------------------
    def event(self, v: ir.Var) -> _Event:
        self.pos += 1
        return _Event(v, self.pos, self.loops, self.path)

    def define(self, v: ir.Var, write: bool = True) -> None:
        e = self.event(v)
        self.defs.setdefault(v.name, e)
        if write:
            self.writes.setdefault(self.name(v), []).append(e)

    def read(self, o, shape_only: bool = False, push: bool = False) -> None:
        if not isinstance(o, ir.Var):
            return
        s = self.deferred.get(o.name)
        if s is not None:  # an inlined temporary is computed where it is read
            self.operands(s)
            return
        self.pos += 1
        self.reads.append(_Event(o, self.pos, self.loops, self.path, shape_only, push))

    def push(self, group: list) -> None:
        for v in group:
            self.read(v, push=True)

    def operands(self, s: ir.Stmt) -> None:
        name = s.op.name if isinstance(s.op, ir.Callee) else None
        for k, o in enumerate(s.operands()):
            self.read(o, name in _SHAPE_OF_ALL or (name in _SHAPE_OF_REST and k > 0))

    def union(self, a: ir.Operand, b: ir.Var) -> None:
        if isinstance(a, ir.Var):
            self.parent[self.find(b.name)] = self.find(a.name)

    def find(self, name: str) -> str:
        while self.parent.get(name, name) != name:
            name = self.parent[name]
        return name

    # -- walking -----------------------------------------------------------------
    def block(self, nodes: list) -> None:
        for n in nodes:
            if isinstance(n, ir.Stmt):
                self.stmt(n)
            elif isinstance(n, ir.If):
                self.if_(n)
            else:
                self.loop(n)

    def stmt(self, s: ir.Stmt) -> None:
        if s.op == "copy" or s.op in IN_PLACE or ir.may_share_first(s):
            self.union(s.args[0], s.target)
        if s.op == "copy" and isinstance(s.args[0], ir.Var):
            self.origin[s.target.name] = self.origin.get(s.args[0].name, s.args[0].name)
        if s.target.kind == "temp" and s.op not in IN_PLACE and self.inlined(s.target):
            self.deferred[s.target.name] = s
            return
        self.operands(s)
        noop = s.op == "copy" and isinstance(s.args[0], ir.Var) and \
            self.name(s.args[0]) == self.name(s.target)
        self.define(s.target, write=not noop)
        if s.op in IN_PLACE:
            self.mutations.append(self.defs[s.target.name])

    def restore(self, group: list) -> None:
        for v in group:  # reads from here on see the value the tape kept
            self.restored.setdefault(v.name, self.pos)

    def if_(self, n: ir.If) -> None:
        self.read(n.cond)
        outer = self.path
        # Ifs on one SSA condition take the same branch (an adjoint if mirrors its
        # forward if): they are one decision.
        decision = n.cond.name if isinstance(n.cond, ir.Var) else id(n)
        for which, branch in enumerate((n.then, n.orelse)):
            self.path = outer | {(decision, which)}
            self.restore(n.restore[which])
            self.block(branch)
            self.push(n.save[which])
            for p in n.phis:
                self.read(p.sources[which])
            for p in n.phis:  # the moves at the branch's end
                src = p.sources[which]
                if not (isinstance(src, ir.Var) and self.name(src) == self.name(p.target)):
                    self.writes.setdefault(self.name(p.target), []).append(self.event(p.target))
        self.path = outer
        for p in n.phis:
            # The merged value is one source's object or the other's: a change through
            # it may change either, but a change of one source leaves the other alone.
            for src in p.sources:
                if isinstance(src, ir.Var):
                    self.merged.setdefault(p.target.name, []).append(src.name)
            self.define(p.target, write=False)

    def loop(self, n: ir.Loop) -> None:
        for o in (*n.bounds, *(p.sources[0] for p in n.carried)):
            self.read(o)
        for p in n.carried:  # the moves before the loop
            init = p.sources[0]
            if not (isinstance(init, ir.Var) and self.name(init) == self.name(p.target)):
                self.writes.setdefault(self.name(p.target), []).append(self.event(p.target))
        outer = self.loops
        self.loops = (*outer, id(n))
        if n.index is not None and n.index.name not in self.defs:
            self.define(n.index)
        for p in n.carried:
            self.union(p.sources[0], p.target)
            self.define(p.target, write=False)
        for group in n.restore:
            self.restore(group)
        self.push(n.save_start)
        self.block(n.test)
        self.read(n.cond)
        self.read(n.exit)  # read after the moves: the value the next iteration enters with
        self.block(n.body)
        self.push(n.save)
        # (an iteration's end value becomes the next iteration's entering value: the
        # same object only across the boundary, so it joins no class here; if it was
        # made from the entering value in place, that chain joined them already)
        for p in n.carried:
            self.read(p.sources[1])
        for p in n.carried:
            nxt = p.sources[1]
            if not (isinstance(nxt, ir.Var) and self.name(nxt) == self.name(p.target)):
                self.writes.setdefault(self.name(p.target), []).append(self.event(p.target))
        self.loops = outer
        for p in n.carried:
            self.union(p.target, ir.loop_out(p))
            self.define(ir.loop_out(p), write=False)

    # -- checking ----------------------------------------------------------------
    def check(self) -> None:
        # A change through a merged value may change each of its sources; a change of a
        # source changes the merged values it flows into; not the other source.
        down: dict[str, set[str]] = {}
        up: dict[str, set[str]] = {}
        for target, names in self.merged.items():
            for name in names:
                down.setdefault(self.find(target), set()).add(self.find(name))
                up.setdefault(self.find(name), set()).add(self.find(target))
        by_class: dict[str, list[_Event]] = {}
        for m in self.mutations:
            root = self.find(m.var.name)
            for c in _closure(root, down) | _closure(root, up):
                by_class.setdefault(c, []).append(m)
        # What the tape takes is read for its value only if the adjoint reads it back
        # for more than its shape.
        in_place = {id(m) for m in self.mutations}
        valued = {r.var.name for r in self.reads if not r.shape_only
                  and r.pos > self.restored.get(r.var.name, r.pos)}
        for r in self.reads:
            u = r.var
            if r.pos > self.restored.get(u.name, r.pos) or u.name not in self.defs:
                continue
            if r.push and u.name not in valued:
                r = replace(r, shape_only=True)
            d = self.defs[u.name]
            # A write in place keeps the object, so its shape: a read for the shape alone
            # is safe after one into u's own buffer or a value u flows into by a merge.
            related = _closure(self.find(u.name), up) if r.shape_only else set()
            for w in self.writes.get(self.name(u), []):
                if self.same_value(w.var, u) or not _between(d, w, r) or \
                        (r.shape_only and self.find(w.var.name) == self.find(u.name)) or \
                        (id(w) in in_place and self.find(w.var.name) in related):
                    continue
                raise InternalError(f"storage: {u.name} is read after its variable "
                                    f"{self.name(u)} was reassigned (by {w.var.name})")
            for w in by_class.get(self.find(u.name), []) if not r.shape_only else ():
                if w.var.name != u.name and _between(d, w, r):
                    raise InternalError(f"storage: {u.name} is read after its buffer was "
                                        f"changed in place (by {w.var.name})")

    def same_value(self, w: ir.Var, u: ir.Var) -> bool:
        return w.name == u.name or \
            self.origin.get(w.name, w.name) == self.origin.get(u.name, u.name)


def _closure(start: str, edges: dict[str, set[str]]) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        c = todo.pop()
        if c not in seen:
            seen.add(c)
            todo += edges.get(c, ())
    return seen


def _exclusive(a: _Event, b: _Event) -> bool:
    """The two events lie in different branches of one ``if``."""
    return any((i, 1 - which) in b.path for i, which in a.path)


def _between(d: _Event, w: _Event, r: _Event) -> bool:
    """Whether ``w`` may run after ``d`` (the definition) and before ``r`` (the read)."""
    if _exclusive(w, r) or _exclusive(w, d):
        return False
    if d.pos < w.pos < r.pos:
        return True
    # A loop around the read and the write but not the definition: the write of one
    # iteration comes before the read of the next.
    shared = set(w.loops) & set(r.loops)
    return w.pos > r.pos and any(loop not in d.loops for loop in shared)


def check(fn: ir.Function, name: Callable[[ir.Var], str],
          inlined: Callable[[ir.Var], bool]) -> None:
    """Raise ``InternalError`` if the emitted code of ``fn`` (with Python variable
    ``name(v)`` for each value and the temporaries ``inlined`` expanded where they are
    used) reads a value after its variable or its buffer was changed."""
    _Checker(fn, name, inlined).check()
