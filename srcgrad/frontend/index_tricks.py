"""``np.r_[...]`` and ``np.c_[...]`` (part of the lower stage, called by
``calls.Calls.static_item`` when the subscripted object known now is one of them).

They are lowered to the concatenation they are, so both modes follow the rules of
``np.concatenate``, ``np.atleast_1d`` and ``np.column_stack``:

- ``np.r_[a, b, ...]`` is ``np.concatenate([np.atleast_1d(a), ...])`` (NumPy makes
  each piece at least 1-d and joins them along the first axis);
- ``np.c_[a, b, ...]`` is ``np.concatenate([np.column_stack([a]), ...], axis=-1)``
  (NumPy makes each piece at least 2-d, a 1-d piece a column, and joins them along the
  last axis; ``np.column_stack`` of one piece is that conversion).

A piece known while lowering (a number, a constant array, a slice with constant bounds:
``np.r_[0:3]``, ``np.r_[0:1:5j]``) is converted now, by ``np.r_``/``np.c_`` itself, to a
constant. Refused with a located error: a string directive (``np.r_["0,2", ...]``), a
slice whose bounds are computed at run time, and a tuple, list or dict argument as a
piece (each says what to write instead).
"""

from __future__ import annotations

from typing import Any

import gast
import numpy as np

from .. import ir
from .state import Core, LoweringState, Static


def is_index_trick(base: Static) -> bool:
    return base.obj is np.r_ or base.obj is np.c_


def lower(state: LoweringState, core: Core, base: Static, node: gast.Subscript) -> Any:
    """``np.r_[...]`` or ``np.c_[...]`` as a concatenation (see the module docstring)."""
    items = node.slice.elts if isinstance(node.slice, gast.Tuple) else [node.slice]
    pieces = [_piece(state, core, base, item, i) for i, item in enumerate(items)]
    known: list[Any] = [p.value for p in pieces if isinstance(p, ir.Const)]
    if len(known) == len(pieces):
        return ir.Const(np.concatenate(known, axis=0 if base.obj is np.r_ else -1))
    if base.obj is np.r_:
        return state.emit(state.temp(), ir.Callee("np.concatenate", np.concatenate, np),
                          pieces, node, (), True)
    return state.emit(state.temp(), ir.Callee("np.concatenate", np.concatenate, np), pieces,
                      node, (("axis", ir.Const(-1)),), True)


def _piece(state: LoweringState, core: Core, base: Static, item: gast.expr,
           i: int) -> ir.Operand:
    """One piece, converted as NumPy converts it: a constant now, or a call."""
    trick: Any = base.obj
    if isinstance(item, gast.Slice):
        return ir.Const(trick[_constant_slice(state, core, base, item)])
    found = core.expr(item)
    if isinstance(found, ir.Const) and isinstance(found.value, str):
        raise state.unsupported(item, f"a string directive in {base.text}[...] is not "
                                "supported", "Write np.concatenate([...], axis=...) with "
                                "the pieces shaped as you need (np.reshape, np.atleast_2d).")
    if isinstance(found, ir.Const):
        return ir.Const(trick[found.value])
    if not isinstance(found, ir.Var):
        raise state.unsupported(item, f"a piece of {base.text}[...] must be a number or an "
                                "array", "Write np.asarray(xs) for a sequence, or pass its "
                                "entries as pieces.")
    if base.obj is np.r_:  # at least 1-d
        return state.emit(state.temp(), ir.Callee("np.atleast_1d", np.atleast_1d, np),
                          [found], item)
    # at least 2-d, a 1-d piece a column
    return state.emit(state.temp(), ir.Callee("np.column_stack", np.column_stack, np),
                      [found], item, (), True)


def _constant_slice(state: LoweringState, core: Core, base: Static, item: gast.Slice) -> slice:
    bounds = []
    for part in (item.lower, item.upper, item.step):
        found = ir.Const(None) if part is None else core.expr(part)
        if not isinstance(found, ir.Const):
            raise state.unsupported(item, f"a slice in {base.text}[...] needs bounds known "
                                    "while lowering", "Write np.arange(start, stop) (or "
                                    "np.linspace) as a piece instead.")
        bounds.append(found.value)
    return slice(*bounds)
