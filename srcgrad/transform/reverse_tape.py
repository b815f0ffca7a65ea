"""Reverse mode, after the sweep (part of the reverse stage): the tape and the
checks of in-place writes.

``Tape`` receives only what it reads: the primal function, its analysis and
the namer; ``finish`` is given the forward and adjoint sweeps and the
(forward, adjoint) region pairs the sweep recorded. It changes the forward
sweep (pushes, snapshots, row reads made copies) and the adjoint's reads of
snapshotted values, nothing else.

Contract, on top of ``reverse.py``'s: each forward loop pushes, at the end of an
iteration, exactly the values of that iteration its adjoint reads (a branch
pushes its own); an array written in place must be the function's own (made by
arithmetic or a constructor in ``_FRESH_CALLS``, never the caller's or a
possible view); a read of an array written in place is copied where the
adjoint needs its value, and a version the adjoint reads that a later write
overwrites is snapshotted where it is made (``x_saved = np.copy(x)``).
"""

from __future__ import annotations

import builtins
from dataclasses import replace

import numpy as np

from .. import ir, runtime
from ..errors import Loc, UnsupportedSyntax
from ..ir import Namer, check_inplace
from .analysis import LIST, Analysis
from .reverse_uses import out_of, vars_of
from .write_once import WriteOnce, may_follow, program_order, read_parts

# Functions whose result is always a new array, never a view of an argument, so that
# writing into it changes nothing else (np.reshape, np.transpose, x[i]... may return
# views: a write into their result is refused).
_FRESH_CALLS = frozenset({
    np.zeros, np.ones, np.full, np.empty, np.zeros_like, np.ones_like, np.full_like,
    np.empty_like, np.eye, np.identity, np.array, np.copy, np.concatenate, np.stack,
    np.hstack, np.vstack, np.column_stack, np.arange, np.linspace, np.tile, np.repeat,
    np.cumsum, np.cumprod, np.outer, np.dot, np.matmul, np.kron, np.sort, np.pad,
    np.where, np.clip, np.take, np.roll, np.tril, np.triu, np.sum, np.mean, np.prod,
    np.max, np.min, np.tensordot, np.inner, np.linalg.inv, np.linalg.solve,
    np.ndarray.flatten, runtime.copy_adjoint, runtime.zeros_like})
_FRESH_OPS = ("setitem", "newlist", "append", "copyitem")
_WRITES = ("setitem", "append")  # forward statements that change their first operand
_COPY_LIST = ir.Callee("copy_adjoint", runtime.copy_adjoint, runtime.copy_adjoint)
_COPY = ir.Callee("np.copy", runtime.np.copy, runtime.np)


def bind_before_taped(loops: list[ir.Loop]) -> None:
    """A value the tape pushes must be bound when pushed: a name a loop alone binds
    (entering it unbound, ``ir.is_unbound``) that may reach a push before it is set
    (an inner loop that did not run, its value then read under an ``if``) is bound to
    ``None`` before the loop instead (``ir.READ_UNBOUND``). Python would read it only
    where it is set, so the numbers are the same; a read where Python raises
    ``UnboundLocalError`` then raises ``TypeError``."""
    defs: dict[str, ir.Phi] = {}
    pushed: list[ir.Var] = []
    for n in ir.walk([*loops]):
        if isinstance(n, ir.Loop):
            defs.update({v.name: p for p in n.carried for v in (p.target, ir.loop_out(p))})
            pushed += n.save + n.save_start
        elif isinstance(n, ir.If):
            defs.update({p.target.name: p for p in n.phis})
            pushed += n.save[0] + n.save[1]
    seen: set[str] = set()
    todo = [v.name for v in pushed]
    while todo:
        name = todo.pop()
        p = defs.get(name)
        if p is None or name in seen:
            continue
        seen.add(name)
        if ir.is_unbound(p.sources[0]):
            p.sources = (ir.Const(ir.READ_UNBOUND), p.sources[1])
        todo += [s.name for s in p.sources if isinstance(s, ir.Var)]


def _spelled(n: ir.Stmt) -> str:
    if isinstance(n.op, ir.Callee):
        return n.op.name
    return {"getitem": "an indexing x[...]"}.get(n.op, ir.SYMBOLS.get(n.op, n.op))

# Helpers that read only the shape of an argument: using an overwritten array
# version through them is safe.
_SHAPE_ONLY = {id(runtime.zeros_like), id(runtime.unbroadcast), id(runtime.expand),
               id(runtime.keep), id(runtime.np.shape), id(runtime.np.size),
               id(runtime.np.ndim), id(builtins.len)}


class Tape:
    """The tape and the write checks of one derivative: reads ``fn``'s parameters,
    ``analysis``' kinds and rules; takes fresh names (snapshots) from ``namer``."""

    def __init__(self, fn: ir.Function, analysis: Analysis, namer: Namer):
        self.fn, self.analysis, self.namer = fn, analysis, namer

    def finish(self, forward: list, adjoint: list, loops: list[tuple[ir.Loop, ir.Loop]],
               ifs: dict[int, ir.If]) -> None:
        """After the sweep: check and copy in-place writes, then plan the tape of the
        (forward, adjoint) loop pairs ``loops`` and of the branches in them (``ifs``:
        forward if by id -> its adjoint)."""
        self.check_writes(forward, adjoint)
        self.plan(loops, ifs)

    def plan(self, loops: list[tuple[ir.Loop, ir.Loop]], ifs: dict[int, ir.If]) -> None:
        """What each forward loop pushes at the end of an iteration: the values of that
        iteration its adjoint reads (the value entering the iteration included)."""
        for fwd, rev in loops:
            used = {v.name for v in _uses_in(rev.body)} | {v.name for p in rev.carried
                                                           for v in vars_of(p.sources)}
            params = [p.target for p in fwd.carried if p.target.name in used]
            direct = [v for m in fwd.body for v in _made(m) if v.name in used]
            fwd.save = params + direct
            rev.restore = [fwd.save]
            self.tape_branches(fwd.body, used, ifs)
        bind_before_taped([fwd for fwd, _ in loops])

    def tape_branches(self, block: list, used: set[str], ifs: dict[int, ir.If]) -> None:
        """Values a branch inside a loop computes for the adjoint: pushed in the branch."""
        for m in block:
            if isinstance(m, ir.If):
                m.save = ([v for b in m.then for v in _made(b) if v.name in used],
                          [v for b in m.orelse for v in _made(b) if v.name in used])
                rev = ifs.get(id(m))
                if rev is not None:
                    rev.restore = m.save
                self.tape_branches(m.then, used, ifs)
                self.tape_branches(m.orelse, used, ifs)

    def check_storage(self, forward: list, buffers: dict, written: set,
                      overwritten: dict) -> None:
        """An array written in place must be the function's own: not the caller's (an
        alias of a parameter) and not a view into another array (a row read x[i])."""
        params = {p.name for p in self.fn.params}
        order = program_order(forward)
        for n in ir.walk(forward):
            if not isinstance(n, ir.Stmt):
                continue
            root = buffers.get(n.target.name, n.target.name)
            if root not in written:
                continue
            alias = n.op == "copy" and isinstance(n.args[0], ir.Var)
            if alias and not any(may_follow(order, w, n) for w in overwritten.values()
                                 if buffers.get(w.target.name) == root):
                continue  # `M = D` after D's last write: both names read the same value
            if alias or n.target.name in params or not self.fresh(n):
                what = "an alias of another array" if alias or n.target.name in params \
                    else f"the result of {_spelled(n)}, a possible view of another array"
                raise UnsupportedSyntax(
                    f"this writes into {what}; srcgrad cannot follow such writes",
                    _first_write(overwritten, buffers, root).loc,
                    "Write into a copy (y = np.copy(x)) or index the array itself (x[i, j] = v).")
        for p in self.fn.params:
            if buffers.get(p.name, p.name) in written:
                raise UnsupportedSyntax(
                    f"this writes into the argument {p.name}, through another name",
                    _first_write(overwritten, buffers, buffers[p.name]).loc,
                    "Write into a copy (y = np.copy(x)).")

    def fresh(self, n: ir.Stmt) -> bool:
        """``n`` makes a new array (or writes one in place), never a view of another:
        arithmetic, elementwise functions, and the constructors in ``_FRESH_CALLS``."""
        if n.op in _FRESH_OPS or (n.op == "copy" and isinstance(n.args[0], ir.Const)):
            return True
        if not isinstance(n.op, ir.Callee):
            return n.op in ir.BINARY.values() or n.op in ir.UNARY.values()
        if n.op.obj in _FRESH_CALLS:
            return True
        found = self.analysis.rules.get(id(n))
        return found is not None and bool(found[0].partials)  # a ufunc: a new array

    def check_writes(self, forward: list, adjoint: list) -> None:
        """Copy reads of arrays written in place; refuse adjoint reads of overwritten
        versions (see the module docstring)."""
        check_inplace(forward, self.analysis.kind)  # `w += t` through an alias
        # (xs.append(v) changes the list in place as x[i] = v changes an array: a version
        # of xs the adjoint reads, sum(xs) before the append, is snapshotted too)
        # Not over generated gradient code (reverse over reverse): its appends fill the
        # tape, read back entry by entry, which later appends do not change.
        generated = any(isinstance(s, ir.Stmt) and s.adjoint for s in ir.walk(forward))
        writes = ("setitem",) if generated else _WRITES
        overwritten = {s.args[0].name: s for s in ir.walk(forward)
                       if isinstance(s, ir.Stmt) and s.op in writes
                       and isinstance(s.args[0], ir.Var)}
        if not overwritten:
            return
        buffers = _buffers(forward)
        written = {buffers.get(name, name) for name in overwritten}
        writes_into: dict[str, list[ir.Stmt]] = {}
        for w in ir.walk(forward):
            if isinstance(w, ir.Stmt) and w.op in writes and isinstance(w.args[0], ir.Var):
                root = buffers.get(w.args[0].name, w.args[0].name)
                writes_into.setdefault(root, []).append(w)
        self.check_storage(forward, buffers, written, overwritten)
        needed = {v.name for v in _uses_in(adjoint, skip_shape=True)}
        unstable = dict(overwritten)
        # A value the adjoint reads that may be a view of a written buffer, directly or
        # through a chain (m[0][1:], m.reshape(6)[:3], np.squeeze(m[0:1])), is copied
        # where it is made (a snapshot) for the adjoint alone: the forward sweep goes on
        # computing with the view, as f does (a product with a reversed view rounds
        # differently from one with its contiguous copy, so the value would not be f's).
        # Not a view whose entry no write changes after it is made (write_once.py).
        once = None if generated else WriteOnce(forward)
        views, merged = self.views_of(forward, buffers, written)
        for s, root, parts in views:
            if s.target.name in needed and root in written:
                if once is not None and once.final(s, parts, writes_into[root]):
                    continue
                unstable.setdefault(s.target.name, _first_write(overwritten, buffers, root))
        for name, root in merged.items():
            if name in needed and root in written:
                unstable.setdefault(name, _first_write(overwritten, buffers, root))
        # Carried versions are overwritten by the next iteration, and the value before
        # the loop by the first (the loop writes into that very array); a branch's value
        # merged at an if is the array a write after the if changes (v = u in one
        # branch, then v[1] = ...: u changes too).
        for n in ir.walk(forward):
            phis = n.carried if isinstance(n, ir.Loop) else \
                n.phis if isinstance(n, ir.If) else ()
            for p in phis:
                for v in (p.target, *vars_of(p.sources)):
                    root = buffers.get(v.name, v.name)
                    if root in written and v.name not in unstable:
                        unstable[v.name] = _first_write(overwritten, buffers, root)
        snapshots = {}
        for v in _uses_in(adjoint, skip_shape=True):
            if v.name in unstable and v.name not in snapshots:
                listed = unstable[v.name].op == "append"  # a list (kind may be "any")
                snapshots[v.name] = self.snapshot(forward, v, unstable[v.name].loc, listed)
        if snapshots:
            _substitute(adjoint, snapshots)

    def views_of(self, forward: list, buffers: dict,
                 written: frozenset | set = frozenset()) -> tuple[list, dict[str, str]]:
        """Each statement whose result may share storage with an array of ``forward``
        (an indexing, ``x.T``, ``np.reshape``...), mapped to that array's buffer and
        to the index parts of the indexing of the array itself that the chain of views
        starts with (None if it starts otherwise: all of it); chains of views lead to
        the first array. Also the values merged from views by a phi (``r = a[t]`` in
        one branch, ``r = a[0]`` in the other; a carried view), mapped to the buffer
        (one in ``written`` if they come from several)."""
        root: dict[str, str] = {}
        parts: dict[str, tuple | None] = {}
        merged: dict[str, str] = {}
        nodes = ir.walk(forward)
        for _ in range(len(nodes) + 1):  # (until nothing changes: a loop's back edge
            found, before = [], dict(root)  # is seen on the next pass)
            for n in nodes:
                if not isinstance(n, ir.Stmt):
                    for target, sources in _phi_edges(n):
                        srcs = sorted((root[v.name] not in written, v.name) for v in sources
                                      if isinstance(v, ir.Var) and v.name in root)
                        if srcs:
                            src = srcs[0][1]
                            root[target] = merged[target] = root[src]
                            parts[target] = None
                    continue
                if not (ir.may_share_first(n) or n.op == "getitem") or \
                        not isinstance(n.args[0], ir.Var):
                    continue
                base = n.args[0].name  # (a variable whenever may_share_first holds)
                root[n.target.name] = root.get(base, buffers.get(base, base))
                # (a view of a view sees part of what the first one sees)
                parts[n.target.name] = parts[base] if base in root else read_parts(n)
                found.append((n, root[n.target.name], parts[n.target.name]))
            if root == before:
                break
        return found, merged

    def snapshot(self, forward: list, v: ir.Var, loc: Loc, listed: bool = False) -> ir.Var:
        """Save a copy of array version ``v`` where it is made, before a later write
        changes it in place; the adjoint reads the copy."""
        saved = ir.Var(self.namer.fresh(f"{v.name}_saved"))
        # (np.copy would make a list an array)
        copier = _COPY_LIST if listed or self.analysis.kind(v) == LIST else _COPY
        copy = ir.Stmt(saved, copier, (v,), loc)
        if not _insert_after_def(forward, v, copy):
            raise UnsupportedSyntax(f"the derivative needs the value of {v} before it is "
                                    "overwritten", loc, "Write into a copy (y = np.copy(x)).")
        return saved


def _insert_after_def(block: list, v: ir.Var, stmt: ir.Stmt) -> bool:
    """Put ``stmt`` right after ``v`` is defined (a loop's carried value: at the top of
    its body). False if ``v`` is not defined in ``block``."""
    for i, n in enumerate(block):
        if v in ir.node_defs(n) and not (isinstance(n, ir.Loop) and v in
                                         [p.target for p in n.carried]):
            block.insert(i + 1, stmt)
            return True
        if isinstance(n, ir.Loop):
            if v in [p.target for p in n.carried]:
                n.body.insert(0, stmt)
                return True
            if _insert_after_def(n.body, v, stmt):
                return True
        elif isinstance(n, ir.If) and (_insert_after_def(n.then, v, stmt) or
                                       _insert_after_def(n.orelse, v, stmt)):
            return True
    return False


def _substitute(block: list, new: dict) -> None:
    """Replace reads of the variables named in ``new`` throughout ``block``."""
    def sub(o):
        return new.get(o.name, o) if isinstance(o, ir.Var) else o

    for i, n in enumerate(block):
        if isinstance(n, ir.Stmt):
            block[i] = replace(n, args=tuple(map(sub, n.args)),
                               kwargs=tuple((k, sub(v)) for k, v in n.kwargs))
        elif isinstance(n, ir.If):
            n.cond = sub(n.cond)
            for p in n.phis:
                p.sources = tuple(map(sub, p.sources))
            _substitute(n.then, new)
            _substitute(n.orelse, new)
        else:
            n.bounds = tuple(map(sub, n.bounds))
            n.cond = sub(n.cond) if n.cond is not None else None
            for p in n.carried:
                p.sources = tuple(map(sub, p.sources))
            _substitute(n.test, new)
            _substitute(n.body, new)


def _made(n: ir.Node) -> list[ir.Var]:
    """What a node leaves defined after it ran (a loop: its outs, not its index)."""
    if isinstance(n, ir.Loop):
        return [out_of(p) for p in n.carried]
    return ir.node_defs(n)


def _phi_edges(n: ir.Node) -> list[tuple[str, tuple]]:
    """The values a loop or an if merges, with the values each is merged from."""
    if isinstance(n, ir.If):
        return [(p.target.name, p.sources) for p in n.phis]
    if isinstance(n, ir.Loop):
        return [e for p in n.carried for e in ((p.target.name, p.sources),
                                               (ir.loop_out(p).name, (p.target,)))]
    return []


def _first_write(overwritten: dict, buffers: dict, root: str) -> ir.Stmt:
    return next(s for name, s in overwritten.items() if buffers.get(name, name) == root)


def _uses_in(block: list, skip_shape: bool = False) -> list[ir.Var]:
    """Every variable read in ``block``, nested regions included."""
    out = []
    for n in ir.walk(block):
        if isinstance(n, ir.Stmt):
            if skip_shape and isinstance(n.op, ir.Callee) and id(n.op.obj) in _SHAPE_ONLY:
                continue
            if skip_shape and n.op in ("setitem", "addat", "scatter", "iadd", "droplast"):
                out += vars_of(n.args[1:])
                continue
            out += n.uses()
        else:
            out += ir.node_uses(n)
    return out


def _buffers(block: list) -> dict[str, str]:
    """Array versions that share storage (setitem chains, phis) -> one representative."""
    parent: dict[str, str] = {}

    def find(a: str) -> str:
        while parent.get(a, a) != a:
            a = parent[a]
        return a

    def union(a, b) -> None:
        if isinstance(a, ir.Var) and isinstance(b, ir.Var):
            parent[find(a.name)] = find(b.name)

    for n in ir.walk(block):
        if isinstance(n, ir.Stmt) and n.op in (*_WRITES, "copy"):
            union(n.target, n.args[0])
        elif isinstance(n, ir.If):
            for p in n.phis:
                for s in p.sources:
                    union(p.target, s)
        elif isinstance(n, ir.Loop):
            for p in n.carried:
                union(p.target, p.sources[0])
                union(p.target, p.sources[1])
                union(p.out, p.target)
    return {k: find(k) for k in parent}
