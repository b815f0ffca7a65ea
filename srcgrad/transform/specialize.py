"""Shape-specialized rewrites of run-time helper calls (part of the reverse stage).

Contract: when a derivative is specialized on its array arguments' shapes (and
dtypes), ``rewrite(core, callee, args, kwargs, loc)`` returns what a helper call of the
adjoint code reduces to, given the shapes ``core``'s tracker knows: the plain NumPy
expression an expert would write, or an operand when the call does nothing (``keep``
with ``axis=None``, ``unbroadcast`` between equal shapes); None leaves the call as
it is. A rewrite is taken only when it computes the same array (same shape, same
values, same dtype) as the helper for every call of the specialization; otherwise
the helper stays. ``REWRITES`` is the table: per helper, the rewrite and, for the
calls it leaves, why (``tests/test_specialized.py`` lists the helper calls left in
the benchmark workloads and control-flow programs, and checks each has a reason
here).

``fold``, which ``Core.apply`` calls with the same facts: a product, sum or
quotient with ``expand(g, shape, ...)`` whose other operand has that shape uses
``g`` (broadcasting does the rest), arithmetic with a number moves inside an
``expand``, a product with the seed ``1.0`` of a known real scalar output is its
other factor; ``reciprocal`` (specialized or not) writes ``g * (1 / x)`` as
``g / x``. Elsewhere: ``reverse.param_adjoint`` returns a float64 parameter's
adjoint without ``as_dtype_of`` when it is a new array of that dtype, and
``np.full`` for an expansion.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from .. import ir, runtime
from ..errors import Loc
from ..runtime import finite

if TYPE_CHECKING:
    from .reverse_core import Core

_SUM = ir.Callee("np.sum", np.sum, np)
_OUTER = ir.Callee("np.outer", np.outer, np)
_RESHAPE = ir.Callee("np.reshape", np.reshape, np)
_FLOAT = ir.Callee("float", float, float)
_KEEP = ir.Callee("keep", runtime.keep, runtime.keep)
# Binary operators that broadcast their operands elementwise.
_BROADCASTING = frozenset({"mul", "add", "sub", "truediv"})
_ARITHMETIC = frozenset({"add", "sub", "mul", "truediv", "neg", "pow"})
Kwargs = Sequence[tuple[str, ir.Operand]]


class Rewrite(NamedTuple):
    apply: Callable[[Core, tuple, Loc], ir.Operand | None]
    kept: str  # why a call of this helper can remain in specialized code


def _const(o: ir.Operand) -> object:
    return o.value if isinstance(o, ir.Const) else _NOT_CONST


_NOT_CONST = object()


def sum_to(core: Core, g: ir.Operand, target: tuple, loc: Loc) -> ir.Operand | None:
    """``g`` summed down to the shape ``target`` as ``np.sum`` calls (None if ``g``'s
    shape is unknown)."""
    shape = core.shape(g)
    if shape is None or len(shape) < len(target):
        return None
    if shape == target:
        return g
    if target == ():
        return core.apply(_SUM, (g,), loc)
    extra = len(shape) - len(target)
    if extra:
        g = core.apply(_SUM, (g,), loc, (("axis", ir.Const(tuple(range(extra)))),))
    axes = tuple(i for i, n in enumerate(target) if n == 1 and shape[extra + i] != 1)
    if axes:
        g = core.apply(_SUM, (g,), loc, (("axis", ir.Const(axes)), ("keepdims", ir.Const(True))))
    return g


def _sum_to(core: Core, args: tuple, loc: Loc) -> ir.Operand | None:
    g, target = args
    shape = _const(target)
    if shape == ():  # a total, whatever g's shape (np.float64 for a Python float: equal)
        return core.apply(_SUM, (g,), loc)
    return sum_to(core, g, shape, loc) if isinstance(shape, tuple) else None


def _unbroadcast(core: Core, args: tuple, loc: Loc) -> ir.Operand | None:
    g, x = args
    if core.is_scalar(x):  # a number's adjoint: one number kept, a sum made a float
        shape = core.shape(g)
        if shape is None or shape == ():
            return None if shape is None else g
        return core.apply(_FLOAT, (core.apply(_SUM, (g,), loc),), loc)
    target = core.shape(x)
    return None if target is None else sum_to(core, g, target, loc)


def _expand(core: Core, args: tuple, loc: Loc) -> ir.Operand | None:
    g, x = args[:2]
    target = _const(x) if isinstance(x, ir.Const) else core.shape(x)
    return g if target is not None and core.shape(g) == target else None


def kept_dims(core: Core, args: tuple, loc: Loc) -> ir.Operand | None:
    """For ``expand(g, x, axis, keepdims)``: ``g`` with the reduced axes kept as size 1,
    which broadcasts to ``x``'s shape (``np.full(shape, it)`` materializes the
    expansion as a writable array), or None where the axes or shapes are not known."""
    g, _, axis, keepdims = args
    if _const(axis) is None and core.shape(g) == ():
        return g
    return _keep(core, args, loc) if isinstance(_const(keepdims), bool) else None


def _keep(core: Core, args: tuple, loc: Loc) -> ir.Operand | None:
    g, x, axis, keepdims = args
    if _const(axis) is None or _const(keepdims) is True:
        return g  # keep() only reshapes for an axis dropped by the reduction
    target = _const(x) if isinstance(x, ir.Const) else core.shape(x)
    axes = _const(axis)
    if not isinstance(target, tuple) or _const(keepdims) is not False or not isinstance(
            axes, (int, tuple)):
        return None
    kept = list(target)
    for ax in axes if isinstance(axes, tuple) else (axes,):
        kept[ax] = 1
    return core.apply(_RESHAPE, (g, ir.Const(tuple(kept))), loc)


def _matmul(which: str) -> Callable[[Core, tuple, Loc], ir.Operand | None]:
    """The adjoints of ``a @ b`` (and ``np.dot``) for 1-d and 2-d operands, as written by
    hand: ``g @ b.T``, ``a.T @ g``, ``np.outer(g, b)``..."""
    def rewrite(core: Core, args: tuple, loc: Loc) -> ir.Operand | None:
        g, a, b = args
        sa, sb = core.shape(a), core.shape(b)
        if sa is None or sb is None or not (1 <= len(sa) <= 2 and 1 <= len(sb) <= 2):
            return None  # scalars, batches: the helper's broadcasting rules
        apply = core.apply
        if which == "a":
            if len(sb) == 1:
                return apply("mul", (g, b), loc) if len(sa) == 1 else \
                    apply(_OUTER, (g, b), loc)
            return apply("matmul", (b, g), loc) if len(sa) == 1 else \
                apply("matmul", (g, apply("attr.T", (b,), loc)), loc)
        if len(sa) == 1:
            return apply("mul", (g, a), loc) if len(sb) == 1 else apply(_OUTER, (a, g), loc)
        return apply("matmul", (apply("attr.T", (a,), loc), g), loc)
    return rewrite


def _ratio(core: Core, args: tuple, loc: Loc) -> ir.Operand | None:
    x, d = map(_const, args)
    if isinstance(x, (int, float)) and isinstance(d, (int, float)) and \
            not isinstance(x, bool) and not isinstance(d, bool):
        return ir.Const(finite.ratio(x, d))
    return None


REWRITES: dict[object, Rewrite] = {
    runtime.sum_to: Rewrite(_sum_to, "the summed value's shape is not known (set by a loop "
                            "variable: np.zeros((length - 1, N, N)) in CKY)"),
    runtime.unbroadcast: Rewrite(
        _unbroadcast, "a shape the specialization does not know: set by a value "
        "(np.zeros(n) for an argument n, a loop variable), or a value that changes "
        "shape in a loop (a float that becomes an array)"),
    runtime.expand: Rewrite(
        _expand, "the reduced operand's shape is not known (set by a value); where it "
        "is, an expansion still needed is np.full(shape, g) (optimize.simplify)"),
    runtime.keep: Rewrite(_keep, "the reduced axes are not known (axis set at run time)"),
    runtime.matmul_grad_a: Rewrite(_matmul("a"), "batched or scalar operands, or "
                                   "shapes not known"),
    runtime.matmul_grad_b: Rewrite(_matmul("b"), "batched or scalar operands, or "
                                   "shapes not known"),
    runtime.dot_grad_a: Rewrite(_matmul("a"), "np.dot of arrays beyond 2-d, of scalars, "
                                "or of shapes not known"),
    runtime.dot_grad_b: Rewrite(_matmul("b"), "np.dot of arrays beyond 2-d, of scalars, "
                                "or of shapes not known"),
    finite.ratio: Rewrite(_ratio, "a ratio of values known only at run time: it guards "
                          "a division by zero (0 there, the subgradient at a cone's tip)"),
}

# Helpers that compute something no plain expression is shorter for: they stay.
KEPT: dict[object, str] = {
    runtime.argmax_mask: "splits the adjoint of a max evenly among tied maxima (a "
                         "comparison and a count, not shape glue)",
    runtime.as_dtype_of: "a parameter whose dtype is not float64, a complex or "
                         "lower-precision value on the way, or an adjoint that may be a "
                         "read-only view: the cast or copy the user is owed",
    runtime.zeros_like: "the zero adjoint of a list (a zero per entry, of the entry's "
                        "kind), or of an array whose shape or dtype is not known",
    runtime.seed: "an output not known to be a real scalar: the check that it is",
    runtime.pick: "which of builtin max/min's arguments was returned (ties go to the "
                  "first): a comparison per argument, not shape glue",
    runtime.write_order: "writes through integer-array indices (x[idx] = v): which "
                         "written value survived, NumPy's order of assignment",
    runtime.write_marks: "writes through integer-array indices: the buffer write_order "
                         "numbers are scattered into",
    runtime.kept: "writes through integer-array indices: the adjoint of a written value "
                  "that a later position of the same write overwrote is zero",
    runtime.finite.sqrt_slope: "the derivative of sqrt, with its warning at 0 located at "
                               "the user's line (issue 12's undefined derivatives)",
}


def rewrite(core: Core, callee: ir.Callee, args: Sequence[ir.Operand], kwargs: Kwargs,
            loc: Loc) -> ir.Operand | None:
    """What the helper call reduces to in this specialization, or None (see above)."""
    found = REWRITES.get(callee.obj)
    if found is None or kwargs:
        return None
    return found.apply(core, tuple(args), loc)


# ---- folding in Core.apply, with the specialization's shapes ----------------------
def fold(core: Core, op: object, args: tuple, kwargs: Kwargs, loc: Loc
         ) -> tuple[ir.Operand | None, tuple]:
    """What ``core.apply(op, args)`` reduces to where the shapes are known (a helper
    call rewritten, a product with an expansion narrowed, the seed's product, a scalar
    moved inside an expansion), or None, with the operands to apply ``op`` to."""
    if isinstance(op, ir.Callee):
        known = core.shape_only(op, args)
        if isinstance(known, ir.Const):
            return known, args
        args = tuple(known)
        return rewrite(core, op, args, kwargs, loc), args
    if op in _BROADCASTING:
        args = tuple(narrowed(core, a, b, loc) for a, b in (args, args[::-1]))
        for k in (0, 1):
            if op == "mul" and is_one(core, args[k]) and fresh(core, args[1 - k]):
                return args[1 - k], args  # (exactly equal, same dtype: 1.0 is a weak float)
    if op in _BROADCASTING or op == "neg":
        return into_expand(core, op, args, loc), args
    return None, args


def reciprocal(core: Core, args: Sequence[ir.Operand], loc: Loc) -> ir.Operand | None:
    """``g * (1 / x)``, as a rule's partial reads, as ``g / x``: one rounding."""
    for k in (0, 1):
        other = args[1 - k]
        if isinstance(other, ir.Var) and fresh(core, other):
            inverse = core.defs[other.name]
            if inverse.op == "truediv" and ir.is_number(inverse.args[0], 1):
                return core.apply("truediv", (args[k], inverse.args[1]), loc)
    return None


def narrowed(core: Core, a: ir.Operand, other: ir.Operand, loc: Loc) -> ir.Operand:
    """``a``, or if ``a`` broadcasts an adjoint to a shape ``other`` has anyway, the
    adjoint with the reduced axes kept as size 1 (the operator broadcasts it)."""
    s = core.expanded(a)
    if s is None:
        return a
    x = s.args[1]
    target = x.value if isinstance(x, ir.Const) else core.shape(x)
    if not isinstance(target, tuple) or core.shape(other) != target:
        return a
    g, _, axis, keepdims = s.args
    inner = core.expanded(g)  # expand(expand(c, ...), ...) of a scalar c: just c
    if inner is not None and core.shape(inner.args[0]) == () and \
            isinstance(inner.args[2], ir.Const) and inner.args[2].value is None:
        return inner.args[0]
    if isinstance(axis, ir.Const) and isinstance(keepdims, ir.Const):
        if axis.value is None or keepdims.value:
            return g  # already broadcastable against the product's other factor
        kept = list(target)
        for ax in axis.value if isinstance(axis.value, tuple) else (axis.value,):
            kept[ax] = 1
        return core.emit(core.temp(), _RESHAPE, (g, ir.Const(tuple(kept))), loc)
    return core.emit(core.temp(), _KEEP, s.args, loc)


def is_one(core: Core, o: ir.Operand) -> bool:
    """``o`` is the seed ``1.0`` of a known real scalar output."""
    s = core.defs.get(o.name) if isinstance(o, ir.Var) else None
    return s is not None and s.op == "copy" and isinstance(s.args[0], ir.Const) and \
        type(s.args[0].value) is float and s.args[0].value == 1.0


def fresh(core: Core, o: ir.Operand) -> bool:
    """``o`` is a temporary the adjoint code just computed by arithmetic: a value of
    its own that nothing else reads, so that a product with 1.0 may be ``o`` itself."""
    s = core.defs.get(o.name) if isinstance(o, ir.Var) else None
    out = core.state.out
    return s is not None and s.target.kind == "temp" and s.op in _ARITHMETIC and \
        bool(out) and s is out[-1]


def into_expand(core: Core, op: object, args: Sequence[ir.Operand], loc: Loc
                ) -> ir.Operand | None:
    """``expand(g, shape, ...) * c`` for a scalar ``c`` as ``expand(g * c, shape, ...)``
    (elementwise arithmetic with a number commutes with broadcasting): the arithmetic
    on the reduced adjoint, the broadcast (perhaps never made) after it."""
    for k, a in enumerate(args):
        s = core.expanded(a)
        if s is None:
            continue
        if all(core.shape(o) == () for j, o in enumerate(args) if j != k):
            inner = list(args)
            inner[k] = s.args[0]
            scalar = core.apply(op, inner, loc)  # type: ignore[arg-type]
            return core.emit(core.temp(), s.op, (scalar, *s.args[1:]), loc)
    return None
