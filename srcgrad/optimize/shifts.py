"""The max-shift of log-sum-exp, recognised (a primal pass of the optimize stage).

Users write a stable log-sum-exp as ``m = np.max(v, axis=a, keepdims=k)`` then
``m + np.log(np.sum(np.exp(v - m), axis=a))``, and a soft-min as ``lo = np.min(r)``
then ``lo - g * np.log(np.sum(np.exp(-(r - lo) / g)))``. The value does not depend
on the shift at all (in exact arithmetic it cancels: ``m + c log sum exp((v - m) /
c)`` is ``c log sum exp(v / c)`` for any ``m``, and likewise with both signs turned),
so its derivative with respect to the shift is exactly zero: differentiating the
``np.max`` as written costs a tie-splitting mask and terms that cancel, and the
adjoint of ``v`` is the softmax ``exp(v - m) / sum(...)`` alone.

Contract: ``max_shifts(fn)`` finds each ``m = np.max(v, ...)`` (``np.amax``,
``np.min``, ``np.amin`` too) whose every read is in that idiom, and makes its reads
go through ``stop_gradient(m)`` (a new temporary), so that nothing is
differentiated through it; the function's value is unchanged. The idiom, checked on
the IR:

- ``d = v - M`` (or ``M - v``) with ``v`` the reduction's own operand, then
  optionally a negation, a division by a scale ``c`` and a negation, then
  ``e = np.exp(...)``, ``s = np.sum(e, axis=a)`` with the shift's axis,
  ``l = np.log(s)``, then ``r = M' + l`` (``M' + c * l`` with the same ``c``;
  ``M' - l`` or ``M' - c * l`` where the shift entered the exponent negated), each
  intermediate read once, by the next step (a softmax that also reads ``e`` or
  ``s`` depends on ``m`` through them);
- the shifts aligned with what they shift: ``M`` is ``m`` where ``m`` broadcasts
  against ``v`` position by position (``axis=None``, ``keepdims=True``, or
  ``axis=0``); ``M'`` is ``m`` where it has ``l``'s shape (the same ``keepdims`` in
  both reductions, or ``axis=None``), or ``m[:, 0]``-style (full slices and a 0 at
  the reduced axis) for a kept axis the sum drops;
- ``m`` read nowhere else (not returned, merged, carried, or used otherwise).

Anything else is left as written. Once the derivative is made, ``released``
turns ``stop_gradient`` calls into plain copies (an identity: its effect was on what
is differentiated), which ``copies`` then propagates, so the generated code reads
``m`` as the user wrote it. The pass is ``lse`` in
``PASSES`` (``SRCGRAD_DISABLE=lse`` switches it off).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np

from .. import ir, runtime
from .simplify import IN_PLACE, _insert_after

_SHIFTS = (np.max, np.amax, np.min, np.amin)
_STOP = ir.Callee("stop_gradient", runtime.stop_gradient, runtime.stop_gradient)


def max_shifts(fn: ir.Function) -> ir.Function:
    reads = _reads(fn)
    defs = {n.target.name: n for n in ir.walk(fn.body) if isinstance(n, ir.Stmt)}
    blocks = _blocks(fn.body)
    shifted = [s for s in defs.values() if _is_shift(s, reads, defs, blocks.get(id(s), []))]
    for s in shifted:
        stopped = ir.Var(s.target.name + "_shift", "temp")
        for user in reads[s.target.name]:
            user.args = tuple(stopped if a == s.target else a for a in user.args)
        _insert_after(fn.body, s, ir.Stmt(stopped, _STOP, (s.target,), s.loc))
    return fn


def released(fn: ir.Function) -> ir.Function:
    """``fn`` (a derivative) with its ``stop_gradient(x)`` calls made copies of ``x``."""
    for n in ir.walk(fn.body):
        if isinstance(n, ir.Stmt) and isinstance(n.op, ir.Callee) and \
                n.op.obj is runtime.stop_gradient and len(n.args) == 1 and not n.kwargs:
            n.op = "copy"
    return fn


def _reads(fn: ir.Function) -> dict[str, list]:
    """Each variable's readers: statements, and ``None`` for any other read (a merge, a
    loop bound, a condition, the return). A merge nothing reads is no reader (the
    lowering merges every name a loop or branch assigns, read after it or not)."""
    out: dict[str, list] = {}
    phis = []
    for n in ir.walk(fn.body):
        if isinstance(n, ir.Stmt):
            for v in n.uses():
                out.setdefault(v.name, []).append(n)
            continue
        merged = n.phis if isinstance(n, ir.If) else n.carried
        phis += merged
        sources = {id(src) for p in merged for src in p.sources}
        for v in ir.node_uses(n):
            if id(v) not in sources:
                out.setdefault(v.name, []).append(None)
    for r in fn.returns:
        if isinstance(r, ir.Var):
            out.setdefault(r.name, []).append(None)
    by_phis = Counter(src.name for q in phis for src in q.sources if isinstance(src, ir.Var))
    for p in phis:
        names = [v.name for v in (p.target, p.out) if v is not None]
        own = Counter(src.name for src in p.sources if isinstance(src, ir.Var))
        if any(out.get(name) or by_phis[name] > own[name] for name in names):
            for src in p.sources:
                if isinstance(src, ir.Var):
                    out.setdefault(src.name, []).append(None)
    return out


def _is_shift(s: ir.Stmt, reads: dict[str, list], defs: dict[str, ir.Stmt],
              block: list) -> bool:
    if not (isinstance(s.op, ir.Callee) and s.op.obj in _SHIFTS and len(s.args) >= 1):
        return False
    axis, keepdims = _reduction(s)
    if axis is _UNKNOWN or keepdims is _UNKNOWN:
        return False
    m, v = s.target, s.args[0]
    users = reads.get(m.name, [])
    subs = [(u, 1 if u.args[1] == m else -1) for u in users if u is not None
            and u.op == "sub" and (u.args[1] == m and _same_value(u.args[0], v, defs, block)
                                   or u.args[0] == m and _same_value(u.args[1], v, defs, block))]
    if len(subs) != 1 or (axis not in (None, 0) and not keepdims):
        return False  # (v - m broadcasts m position by position only for these)
    sub, sign = subs[0]
    chain = _chain(sub, reads, axis, sign)
    if chain is None:
        return False
    finals = [u for u in users if u is not sub]
    if len(finals) != 1 or finals[0] is None:
        return False
    return _final(finals[0], m, axis, keepdims, chain, reads)


def _same_value(a: ir.Operand, b: ir.Operand, defs: dict[str, ir.Stmt], block: list) -> bool:
    """``a`` is ``b``, or both read one entry of one array version (``alpha[T - 1]``
    twice: not merged, as reads of arrays written in place are not) in ``block`` with
    no write into that array between them."""
    if a == b:
        return True
    if not (isinstance(a, ir.Var) and isinstance(b, ir.Var)):
        return False
    x, y = defs.get(a.name), defs.get(b.name)
    if x is None or y is None or x.op != "getitem" or y.op != "getitem" or \
            x.args != y.args or x.seq != y.seq or x.kwargs or y.kwargs:
        return False
    at = [i for i, n in enumerate(block) if n is x or n is y]
    if len(at) != 2:
        return False
    base = x.args[0]
    return all(not (isinstance(n, ir.Stmt) and n.op in IN_PLACE and n.args[0] == base)
               and isinstance(n, ir.Stmt) for n in block[at[0]:at[1]])


def _blocks(body: list) -> dict[int, list]:
    """For each statement (by id), the block that holds it."""
    out: dict[int, list] = {}
    for n in body:
        out[id(n)] = body
        if isinstance(n, ir.If):
            out.update(_blocks(n.then))
            out.update(_blocks(n.orelse))
        elif isinstance(n, ir.Loop):
            out.update(_blocks(n.test))
            out.update(_blocks(n.body))
    return out


class _Chain:
    """``np.log(np.sum(np.exp(sign * (v - m) / scale), axis))`` as found: the sum, the
    log's result, the sign (-1 for ``-(v - m)`` or ``m - v``) and the scale (None for
    1)."""

    def __init__(self, total: ir.Stmt, log: ir.Var, sign: int, scale: ir.Operand | None):
        self.total, self.log, self.sign, self.scale = total, log, sign, scale


def _chain(sub: ir.Stmt, reads: dict[str, list], axis, sign: int) -> _Chain | None:
    """The steps after ``sub``, each read once: an optional negation, an optional
    division by a scale (``-(r - lo) / gamma``), an optional negation, then exp, sum
    over the shift's axis and log."""
    x: ir.Stmt | None = sub
    scale = None
    for step in ("neg", "truediv", "neg"):
        nxt = _only_reader(x, reads) if x is not None else None
        if nxt is None or nxt.op != step or nxt.args[0] != x.target:  # type: ignore[union-attr]
            continue
        if step == "neg":
            sign = -sign
        else:
            scale = nxt.args[1]
        x = nxt
    e = _only_reader(x, reads) if x is not None else None
    if e is None or not _calls(e, np.exp) or e.args[0] != x.target:  # type: ignore[union-attr]
        return None
    total = _only_reader(e, reads)
    if total is None or not _calls(total, np.sum) or total.args[0] != e.target:
        return None
    sum_axis, sum_keep = _reduction(total)
    if sum_axis != axis or sum_keep is _UNKNOWN:
        return None
    log = _only_reader(total, reads)
    if log is None or not _calls(log, np.log):
        return None
    return _Chain(total, log.target, sign, scale)


def _final(op: ir.Stmt, m: ir.Var, axis, keepdims, chain: _Chain,
           reads: dict[str, list]) -> bool:
    """``m + scale * l`` for a positive shift, ``m - scale * l`` for a negative one
    (``m[:, 0]`` for ``m`` where a kept axis the sum drops), ``l`` read once: the value
    ``sign * scale * log(sum(exp(sign * v / scale)))``, whatever ``m`` is."""
    sum_keep = _reduction(chain.total)[1]
    if op.op == "getitem" and op.args[0] == m and keepdims and not sum_keep \
            and isinstance(axis, int) and _drops_axis(op.args[1:], axis):
        view_users = reads.get(op.target.name, [])
        if len(view_users) != 1 or view_users[0] is None:
            return False
        op, m = view_users[0], op.target
    elif keepdims != sum_keep and axis is not None:
        return False
    term: ir.Operand = chain.log
    if chain.scale is not None:
        scaled = _one(reads, chain.log)
        if not (isinstance(scaled, ir.Stmt) and scaled.op == "mul" and not scaled.kwargs
                and _same_pair(scaled.args, (chain.scale, chain.log))):
            return False
        term = scaled.target
    elif _one(reads, chain.log) is not op:
        return False
    if chain.sign > 0:
        return op.op == "add" and not op.kwargs and _same_pair(op.args, (m, term))
    return op.op == "sub" and not op.kwargs and op.args == (m, term)


def _same_pair(args: Sequence[ir.Operand], want: tuple[ir.Operand, ir.Operand]) -> bool:
    """``args`` are the two operands ``want``, in either order."""
    return len(args) == 2 and (tuple(args) == want or tuple(args) == want[::-1])


def _one(reads: dict[str, list], v: ir.Var) -> object:
    found = reads.get(v.name, [])
    return found[0] if len(found) == 1 else None


def _only_reader(s: ir.Stmt, reads: dict[str, list]) -> ir.Stmt | None:
    found = reads.get(s.target.name, [])
    return found[0] if len(found) == 1 else None


def _calls(s: ir.Stmt, fn: object) -> bool:
    return isinstance(s.op, ir.Callee) and s.op.obj is fn and len(s.args) >= 1


_UNKNOWN = object()


def _reduction(s: ir.Stmt) -> tuple[object, object]:
    """(axis, keepdims) of a reduction call, as constants; _UNKNOWN if not constant or
    given otherwise (an ``out=``, a dtype, ``initial=``...)."""
    given = dict(s.kwargs)
    if len(s.args) > 2 or set(given) - {"axis", "keepdims"}:
        return _UNKNOWN, _UNKNOWN
    axis_op = s.args[1] if len(s.args) == 2 else given.get("axis", ir.Const(None))
    keep_op = given.get("keepdims", ir.Const(False))
    if not (isinstance(axis_op, ir.Const) and isinstance(keep_op, ir.Const)):
        return _UNKNOWN, _UNKNOWN
    axis, keep = axis_op.value, keep_op.value
    if not (axis is None or (isinstance(axis, int) and not isinstance(axis, bool)
                             and axis >= 0)) or not isinstance(keep, bool):
        return _UNKNOWN, _UNKNOWN
    return axis, keep


def _drops_axis(index: Sequence[ir.Operand], axis: int) -> bool:
    """``index`` is full slices with a 0 at ``axis`` (``m[:, 0]`` for axis 1)."""
    if len(index) != axis + 1:
        return False
    for k, o in enumerate(index):
        want_zero = k == axis
        if not isinstance(o, ir.Const):
            return False
        if want_zero and not (type(o.value) is int and o.value == 0):
            return False
        if not want_zero and o.value != slice(None):
            return False
    return True
