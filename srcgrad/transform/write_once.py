"""Write-once reads (part of the reverse stage's write checks, ``reverse_tape.py``):
proofs that the entry a read views is never written after the read.

``WriteOnce(forward).final(s, parts, writes)`` is True only when no statement of
``writes`` (the in-place writes into the buffer ``s`` reads) can change the storage
``s``'s value views once ``s`` ran; then the adjoint may read the view itself and
``s`` needs no snapshot. It is a proof or nothing: anything not understood keeps the
snapshot. A write may follow ``s`` if it comes later in program order or a loop
holds both (``may_follow``). Such a write is harmless when its index provably misses
the read entry in every execution after ``s``: the index parts are affine in the
indices of ``for ... in range`` loops (a positive constant step) and in integers
fixed before any loop (``len(x)``, ``x.shape[0]``); the loops common to both are
split lexicographically (a later iteration of the first loop that differs, or the
same iteration with the write after the read) and each case needs one index
function (an axis, or the difference of two: a span length) strictly larger (or
smaller) at the write than at the read, found by replacing loop indices by their
range bounds, innermost first. Indices must also be provably non-negative (a
negative index wraps around to the end).

``FirstTouch(forward).first(w, active)`` is the same proof turned round, for the
adjoint of a write ``a[idx] = v`` (``reverse_arrays``): True only when nothing that
may run before ``w`` touches its entry and the table starts as an inactive constant;
then that adjoint reads ``a_bar[idx]`` without copying or zeroing it.
"""

from __future__ import annotations

from itertools import combinations

from .. import ir

Form = dict[str, int]  # affine: symbol -> coefficient, "" -> the constant


def program_order(block: list, loops: tuple = (), out: dict | None = None) -> dict:
    """Each statement's position in program order and the loops around it."""
    out = {} if out is None else out
    for n in block:
        if isinstance(n, ir.Stmt):
            out[id(n)] = (len(out), loops)
        elif isinstance(n, ir.If):
            program_order(n.then, loops, out)
            program_order(n.orelse, loops, out)
        else:
            program_order(n.test + n.body, (*loops, id(n)), out)
    return out


def may_follow(order: dict, later: ir.Stmt, earlier: ir.Stmt) -> bool:
    """``later`` may run after ``earlier``: it comes after it, or a loop holds both."""
    (i, outer), (j, inner) = order[id(later)], order[id(earlier)]
    return i > j or bool(set(outer) & set(inner))


def read_parts(s: ir.Stmt) -> tuple | None:
    """The index parts of a getitem ``x[a, b]`` (None for any other statement)."""
    if s.op != "getitem":
        return None
    return s.args[1:] if s.seq else s.args[1:2]


def _add(a: Form, b: Form, k: int = 1) -> Form:
    out = dict(a)
    for name, c in b.items():
        out[name] = out.get(name, 0) + k * c
    return {name: c for name, c in out.items() if c or name == ""}


def _int(o: object) -> bool:
    return type(o) is int  # (not bool: x[True] is a new axis, not row 1)


class WriteOnce:
    """The loops and integer definitions of a forward sweep ``forward``."""

    def __init__(self, forward: list):
        self.order = program_order(forward)
        self.defs: dict[str, ir.Stmt] = {}
        self.top: set[str] = set()  # names defined outside every loop
        self.loops: dict[int, ir.Loop] = {}
        self.index_of: dict[str, ir.Loop] = {}  # a range loop's index -> the loop
        self.depth: dict[str, int] = {}
        self._scan(forward, 0)
        self.budget = 0

    def _scan(self, block: list, depth: int) -> None:
        for n in block:
            if isinstance(n, ir.Stmt):
                self.defs[n.target.name] = n
                if depth == 0:
                    self.top.add(n.target.name)
            elif isinstance(n, ir.If):
                self._scan(n.then, depth)
                self._scan(n.orelse, depth)
            else:
                self.loops[id(n)] = n
                if n.index is not None and n.cond is None:
                    self.index_of[n.index.name] = n
                    self.depth[n.index.name] = depth
                self._scan(n.test + n.body, depth + 1)

    def final(self, s: ir.Stmt, parts: tuple | None, writes: list[ir.Stmt]) -> bool:
        """No write of ``writes`` changes, after ``s``, the entry ``s`` reads (``parts``:
        the index of the getitem on the buffer that ``s``'s view comes from; None:
        possibly all of it)."""
        for w in writes:
            if not may_follow(self.order, w, s):
                continue
            if parts is None or w.op != "setitem" or not self.misses(s, parts, w):
                return False
        return True

    # -- affine forms ----------------------------------------------------------
    def form(self, o: ir.Operand, side: str) -> Form | None:
        """``o`` as an affine integer form: loop indices as ``side:name``, integers
        fixed before the loops by name; None if it is not one."""
        if isinstance(o, ir.Const):
            v = o.value
            return {"": v} if isinstance(v, int) and not isinstance(v, bool) else None
        if o.name in self.index_of:
            return {"": 0, f"{side}:{o.name}": 1}
        s = self.defs.get(o.name)
        if s is None:
            return None
        if o.name in self.top and self._fixed_int(s):
            return {"": 0, o.name: 1}
        args = [self.form(a, side) for a in s.args]
        if any(a is None for a in args) or s.kwargs:
            return None
        if s.op == "copy" and len(args) == 1:
            return args[0]
        if s.op == "neg" and len(args) == 1:
            return _add({"": 0}, args[0], -1)  # type: ignore[arg-type]
        if s.op in ("add", "sub") and len(args) == 2:
            return _add(args[0], args[1], 1 if s.op == "add" else -1)  # type: ignore[arg-type]
        if s.op == "mul" and len(args) == 2:
            for a, b in (args, args[::-1]):
                if set(b) == {""}:  # type: ignore[arg-type]
                    return {k: c * b[""] for k, c in a.items()}  # type: ignore[union-attr,index]
        return None

    def _fixed_int(self, s: ir.Stmt) -> bool:
        """``s`` (outside every loop) makes an integer: ``len(x)`` or ``x.shape[k]``."""
        if isinstance(s.op, ir.Callee):
            return s.op.obj is len and len(s.args) == 1
        if s.op != "getitem" or s.seq or len(s.args) != 2 or not isinstance(s.args[0], ir.Var):
            return False
        shape = self.defs.get(s.args[0].name)
        return shape is not None and shape.op == "attr.shape" and isinstance(s.args[1], ir.Const) \
            and _int(s.args[1].value)

    def bounds(self, side: str, names: list[str]) -> dict[str, tuple[list, list]]:
        """Lower and upper bounds of the loop indices ``names`` (``side:`` prefixed) and
        of the indices their bounds involve, from the ranges."""
        out: dict[str, tuple[list, list]] = {}
        todo = list(names)
        while todo:
            name = todo.pop()
            if f"{side}:{name}" in out:
                continue
            loop = self.index_of[name]
            lo = hi = None
            # (a range with another step gives no bounds: its index stays unknown)
            if _rising(loop):
                lo, hi = self.form(loop.bounds[0], side), self.form(loop.bounds[1], side)
            out[f"{side}:{name}"] = ([lo] if lo else [],
                                     [_add(hi, {"": -1})] if hi else [])
            for f in (lo, hi):
                todo += [k.split(":", 1)[1] for k in f or {} if ":" in k]
        return out

    # -- the proof -------------------------------------------------------------
    def misses(self, s: ir.Stmt, parts: tuple, w: ir.Stmt) -> bool:
        """Every execution of the write ``w`` after ``s`` writes outside the entry
        ``parts`` that ``s`` reads (in each case of ``cases``, some index function
        is larger, or smaller, at the write)."""
        read = self.aligned(parts, "r")
        wrote = self.aligned(w.args[2:] if w.seq else w.args[2:3], "w")
        found = [(r, x) for r, x in zip(read, wrote) if r is not None and x is not None]
        names = [k.split(":", 1)[1] for r, x in found for k in (*r, *x) if ":" in k]
        if any(n not in self.index_of for n in names):
            return False
        bounds = {**self.bounds("r", names), **self.bounds("w", names)}
        self.budget = 4000
        # (a negative index wraps around to the end: only axes provably >= 0 count)
        axes = [(r, x) for r, x in found
                if self.at_least(r, 0, bounds) and self.at_least(x, 0, bounds)]
        funcs = [(r, x) for r, x in axes] + [
            (_add(r2, r1, -1), _add(x2, x1, -1)) for (r1, x1), (r2, x2) in combinations(axes, 2)]
        for rename, later in self.cases(s, w):
            bs = _renamed(bounds, rename)
            if later is not None:
                lo, hi = bs.get(f"w:{later}", ([], []))
                bs[f"w:{later}"] = ([*lo, {"": 1, f"r:{later}": 1}], hi)
            if not any(self.at_least(e, 1, bs) or self.at_least(_add({"": 0}, e, -1), 1, bs)
                       for e in (_rename(_add(x, r, -1), rename) for r, x in funcs)):
                return False
        return True

    def aligned(self, parts: tuple, side: str) -> list[Form | None]:
        """The integer index parts of ``parts`` by axis (None: a constant slice); it
        stops at the first part that is neither (an array, ``None``, ``...``: the
        axes after it are not known)."""
        out: list[Form | None] = []
        for p in parts:
            if isinstance(p, ir.Const) and isinstance(p.value, slice):
                out.append(None)
                continue
            f = self.form(p, side)
            if f is None:
                break
            out.append(f)
        return out

    def cases(self, s: ir.Stmt, w: ir.Stmt) -> list[tuple[dict, str | None]]:
        """The executions of ``w`` after ``s``, split by the first loop holding both
        whose iteration differs: (the loop indices equal in both, renamed w -> r;
        the index of the loop whose iteration is later at ``w``, or None)."""
        (i, outer), (j, inner) = self.order[id(w)], self.order[id(s)]
        common = []
        for a, b in zip(outer, inner):
            if a != b:
                break
            common.append(self.loops[a])
        out: list[tuple[dict, str | None]] = []
        rename: dict[str, str] = {}
        for loop in common:
            idx = loop.index.name if loop.index is not None and loop.cond is None else None
            if idx is None or loop.reverse or not _rising(loop):
                out.append((dict(rename), None))  # any iteration: no order known
                return out
            out.append((dict(rename), idx))
            rename[f"w:{idx}"] = f"r:{idx}"
        if i > j:  # the same iterations, the write after the read
            out.append((rename, None))
        return out

    def at_least(self, e: Form, need: int, bounds: dict) -> bool:
        """``e >= need`` wherever the loop indices keep within ``bounds``: the deepest
        index is replaced by each of its bounds in turn (a lower one where its
        coefficient is positive)."""
        self.budget -= 1
        if self.budget < 0:
            return False
        free = [k for k, c in e.items() if ":" in k and c]
        if not free:
            return all(c == 0 for k, c in e.items() if k) and e.get("", 0) >= need
        x = max(free, key=lambda k: (self.depth[k.split(":", 1)[1]], k.startswith("w:")))
        c = e[x]
        rest = {k: v for k, v in e.items() if k != x}
        lows, highs = bounds.get(x, ([], []))
        return any(self.at_least(_add(rest, b, c), need, bounds)
                   for b in (lows if c > 0 else highs))


def _rising(loop: ir.Loop) -> bool:
    """A ``for`` over a range with a positive constant step: later iterations have
    larger indices."""
    b = loop.bounds
    if len(b) != 3 or not isinstance(b[2], ir.Const):
        return False
    step = b[2].value
    return isinstance(step, int) and not isinstance(step, bool) and step > 0


def _rename(f: Form, names: dict) -> Form:
    out: Form = {}
    for k, c in f.items():
        out[names.get(k, k)] = out.get(names.get(k, k), 0) + c
    return out


def _renamed(bounds: dict, names: dict) -> dict:
    """``bounds`` with the indices in ``names`` identified with their new names."""
    return {k: ([_rename(f, names) for f in lo], [_rename(f, names) for f in hi])
            for k, (lo, hi) in bounds.items() if k not in names}


class FirstTouch:
    """Writes that meet their entry fresh: ``first(w, active)`` is True only when no
    statement that may run before the write ``w`` (``a_new = setitem(a, v, idx)``)
    reads or writes the entry ``w`` writes, ``w`` itself included (an earlier
    iteration), and the table starts from a constant (an inactive constructor,
    ``np.zeros``), its versions linked by writes and loops alone. Then the adjoint
    of ``a`` at ``idx`` is never read after ``w``'s adjoint reads it (nor changed,
    so a view of it stays right), and ``w``'s adjoint needs neither the copy of the
    entry's adjoint nor its zeroing: the stale entry reaches nothing active."""

    def __init__(self, forward: list):
        self.once = WriteOnce(forward)
        self.forward = forward
        # (not over generated gradient code: its adjoint buffers change in place
        # through ops this proof does not follow)
        self.generated = any(isinstance(n, ir.Stmt) and n.adjoint for n in ir.walk(forward))
        parent: dict[str, str] = {}

        def find(a: str) -> str:
            while parent.get(a, a) != a:
                a = parent[a]
            return a

        def union(a: object, b: object) -> None:
            if isinstance(a, ir.Var) and isinstance(b, ir.Var):
                parent[find(a.name)] = find(b.name)

        for n in ir.walk(forward):
            if isinstance(n, ir.Stmt) and n.op == "setitem":
                union(n.target, n.args[0])
            elif isinstance(n, ir.Loop):
                for p in n.carried:
                    union(p.target, p.sources[0])
                    union(p.target, p.sources[1])
                    union(p.out, p.target)
        self.root = {k: find(k) for k in parent}

    def first(self, w: ir.Stmt, active: set[str]) -> bool:
        """See the class docstring; False whenever it is not proven."""
        if self.generated or w.op != "setitem" or not isinstance(w.args[0], ir.Var) or \
                w.args[0].name not in self.root:
            return False
        table = self.root[w.args[0].name]
        versions = {k for k, r in self.root.items() if r == table}
        origins = [n for n in ir.walk(self.forward) if isinstance(n, ir.Stmt)
                   and n.target.name in versions and n.op != "setitem"]
        if len(origins) != 1 or origins[0].target.name in active or \
                not isinstance(origins[0].op, ir.Callee):
            return False
        return all(self._harmless(n, versions, w) for n in ir.walk(self.forward))

    def _harmless(self, n: ir.Node, versions: set[str], w: ir.Stmt) -> bool:
        """``n`` touches no version of the table, or not ``w``'s entry before ``w``."""
        used = [v for v in ir.node_uses(n) if v.name in versions]
        if not used:
            return True
        if isinstance(n, ir.If):
            return False  # a merged table: its versions may be other arrays
        if isinstance(n, ir.Loop):
            inputs = {v.name for p in n.carried for v in p.sources if isinstance(v, ir.Var)}
            return all(v.name in inputs for v in used)  # (carried: the table itself)
        once, first = self.once, n.args[0] if n.args else None
        rest = [v for v in n.uses()[1:] if v.name in versions] if first in used else used
        if rest or first not in used:  # another use: it must come after w
            return not may_follow(once.order, w, n)
        if n.op == "setitem":
            return once.final(n, n.args[2:] if n.seq else n.args[2:3], [w])
        if n.op == "getitem":
            return once.final(n, read_parts(n), [w])
        if n.op in ("attr.shape", "attr.ndim", "attr.size") or (
                isinstance(n.op, ir.Callee) and n.op.obj is len):
            return True
        return not may_follow(once.order, w, n)
