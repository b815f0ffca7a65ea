"""The adjoint of every value of a straightened function, from srcgrad's own derivative.

Contract: ``adjoints(f, fn, values)`` maps each top-level value of ``fn`` (a
parameter, a statement's target, a loop region's value after the loop) that holds
real floats to d output / d value at the point ``values`` (name ->
value). It is read from srcgrad's reverse-mode derivative of ``fn`` (the ordinary
pipeline, optimizer off): the final adjoint variable of each value (``Var.of``),
returned alongside the gradient. Where the derivative keeps no variable of its own
for a value (an adjoint passed through unchanged, ``s_bar`` flowing across the
versions of ``s``; a value on no path from a differentiated input), the value is cut
out: the derivative of the rest of ``fn`` (the statements after the value's
definition), taking the value and whatever else the rest reads as parameters, with
respect to the value. Since the value's every use is in the rest, and the other
parameters are defined before it, that gradient is the total adjoint. A parameter's
adjoint is the gradient the derivative returns. Values that are not floats
(integers, booleans) have none (None). (``straighten`` refuses writes in place.)
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import numpy as np

from .. import backend, ir, optimize
from ..build import Derivative, _Entry, _kind, _load

_counter = itertools.count(1)
_OFF = frozenset(optimize.PASSES)


class _StraightEntry(_Entry):
    """An entry whose lowered IR is the given one: the pipeline from there on."""

    def __init__(self, f: Callable, fn: ir.Function):
        super().__init__(f)
        self.primals[()] = fn


def _real(v: object) -> bool:
    """A value holding real floats: one with an adjoint (a complex one's depends on a
    convention, docs/complex.md; the graph shows none)."""
    return np.asarray(v).dtype.kind == "f"


def _derivative(f: Callable, fn: ir.Function, wrt: tuple[int, ...],
                args: list[object]) -> Derivative:
    kinds = tuple(_kind(a) for a in args)
    return _StraightEntry(f, fn).derivative(wrt, "one", kinds, disabled=_OFF)


def _whole(f: Callable, fn: ir.Function, values: dict[str, object]) -> dict[str, object]:
    args = [values[p.name] for p in fn.params]
    wrt = tuple(i for i, a in enumerate(args) if _real(a))
    if not wrt:
        return {}
    d = _derivative(f, fn, wrt, args)
    final: dict[str, ir.Var] = {}
    for n in d.ir.body:  # the top level only: a loop's inner adjoints change per iteration
        defs = [ir.loop_out(p) for p in n.carried] if isinstance(n, ir.Loop) else \
            ir.node_defs(n)
        for v in defs:
            if v.kind == "adjoint" and v.of is not None:
                final[v.of.name] = v
    names = list(final)
    code = ir.Function(d.ir.name, d.ir.params, d.ir.body, (*(final[k] for k in names),
                       *d.ir.returns[1:], ir.Const(None)), d.ir.loc)
    source, namespace, _ = backend.emit(code)
    run = _load(source, namespace, code.name, f"<srcgrad graph {code.name} #{next(_counter)}>")
    got = run(*args)[:-1]
    out = dict(zip(names, got))
    # a parameter's adjoint: the gradient the derivative returns (authoritative; after a
    # loop drawn as a box, its last adjoint variable is the loop's, of another version)
    out.update(zip((fn.params[i].name for i in wrt), got[len(names):]))
    return out


def _cut(f: Callable, fn: ir.Function, k: int, values: dict[str, object]) -> object:
    """d output / d (the value statement ``k`` defines), from the derivative of the rest."""
    target = ir.node_defs(fn.body[k])[0]
    rest = fn.body[k + 1:]
    inner = {v.name for n in ir.walk(rest) for v in ir.node_defs(n)}
    reads = [v.name for n in ir.walk(rest) for v in ir.node_uses(n)]
    reads += [r.name for r in fn.returns if isinstance(r, ir.Var)]
    free = [name for name in dict.fromkeys(reads) if name not in inner]
    if target.name not in free:
        value = np.asarray(values[target.name])
        return np.zeros_like(value) if value.ndim else 0.0  # a dead value
    names = [target.name] + [name for name in free if name != target.name]
    cut = ir.Function(fn.name, tuple(ir.Var(name) for name in names), rest, fn.returns, fn.loc)
    d = _derivative(f, cut, (0,), [values[name] for name in names])
    return d.fn(*(values[name] for name in names))[1]


def adjoints(f: Callable, fn: ir.Function, values: dict[str, object]) -> dict[str, object]:
    """See the module docstring."""
    out = _whole(f, fn, values)
    for k, n in enumerate(fn.body):
        if isinstance(n, ir.Stmt) and n.target.name not in out and \
                _real(values[n.target.name]):
            out[n.target.name] = _cut(f, fn, k, values)
    return out
