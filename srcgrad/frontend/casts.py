"""``x.astype(dtype)``, ``np.astype(x, dtype)`` and ``np.asarray(x, dtype=...)`` (part of
the lower stage, called by ``calls.Calls.method`` and ``calls.Calls.call``).

The dtype must be known while lowering (``float``, ``int``, ``bool``, ``np.float32``,
``"float32"``, ``np.dtype(...)``): a float or complex dtype lowers to ``runtime.casts.cast`` (a
cast, differentiated), any other real dtype to ``runtime.casts.cast_off`` (declared a
step function); a complex dtype is a cast too (``rules/complexes.py``: the real part
flows back to a real ``x``). A dtype computed at run time and keywords other than
``dtype`` (``copy``, ``casting``...) are located refusals saying what to write.
``np.astype(x, dtype)`` (NumPy 2.1, the function form of the method) is lowered as
``x.astype(dtype)``.
``np.asarray(x, dtype)`` and ``np.asanyarray`` of one value: to a float dtype, the call
with the dtype's name (their rule); to another dtype, ``cast_off`` (the values NumPy gives,
no derivative). Any other NumPy call given an integer or bool ``dtype=``
(``np.full(n, v, dtype=int)``, ``np.full_like(x, v, dtype="int64")``) makes a result
that carries no derivative: ``integer_result`` passes it through ``cast_off`` (its rules
would otherwise treat the fill value's derivative as if the result were floats);
``with_dtype`` also writes a dtype given as a type (``dtype=int``) by its name.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import gast
import numpy as np

from .. import ir
from ..runtime import casts
from .state import Core, LoweringState, Static


def astype(state: LoweringState, core: Core, node: gast.Call, into: str | None,
           base: object) -> ir.Operand:
    """``base.astype(dtype)`` as a call of a cast helper with the dtype's name."""
    args = list(node.args) + [k.value for k in node.keywords if k.arg == "dtype"]
    if len(args) != 1 or any(k.arg != "dtype" for k in node.keywords):
        raise state.unsupported(node, ".astype() is supported with one argument, the dtype",
                                "Write x.astype(np.float32) (or float, int, bool).")
    dtype = _dtype(state, core.expr(args[0]), args[0])
    fn = casts.cast if dtype.kind in "fc" else casts.cast_off
    callee = ir.Callee(fn.__name__, fn, fn)
    x = core.pack(base, node.func.value)
    return state.emit(state.result(into), callee, [x, ir.Const(dtype.name)], node)


def asarray(state: LoweringState, core: Core, callee: ir.Callee, node: gast.Call,
            into: str | None) -> ir.Operand | None:
    """``np.asarray(x, dtype)`` with a dtype: lowered here (see the module docstring);
    None: any other call, lowered as usual."""
    if callee.obj is getattr(np, "astype", None):
        return _np_astype(state, core, node, into)
    keyed = [k.value for k in node.keywords if k.arg == "dtype"]
    dtype_node = keyed[0] if keyed else node.args[1] if len(node.args) > 1 else None
    if callee.obj not in (np.asarray, np.asanyarray) or dtype_node is None \
            or isinstance(node.args[0], (gast.List, gast.Tuple)):
        return None
    found = core.expr(dtype_node)
    if isinstance(found, ir.Const) and found.value is None:  # dtype=None: as usual
        return None
    dtype = _dtype(state, found, dtype_node)
    x = core.value(node.args[0])
    rest = [core.value(a) for a in node.args[2:]]  # order
    kwargs = [(k.arg, core.value(k.value)) for k in node.keywords if k.arg != "dtype"]
    if dtype.kind in "fc":
        return state.emit(state.result(into), callee, [x, ir.Const(dtype.name), *rest],
                          node, kwargs)
    if kwargs or rest:
        raise state.unsupported(node, f"{callee.name}(x, dtype={dtype.name}) is supported "
                                "without other keywords", "Write x.astype(...).")
    off = ir.Callee("cast_off", casts.cast_off, casts.cast_off)
    return state.emit(state.result(into), off, [x, ir.Const(dtype.name)], node)


def _np_astype(state: LoweringState, core: Core, node: gast.Call, into: str | None
               ) -> ir.Operand:
    """``np.astype(x, dtype)``: as ``x.astype(dtype)``."""
    if len(node.args) != 2 or node.keywords:
        raise state.unsupported(node, "np.astype() is supported with two arguments, the "
                                "array and the dtype", "Write np.astype(x, np.float32).")
    dtype = _dtype(state, core.expr(node.args[1]), node.args[1])
    fn = casts.cast if dtype.kind in "fc" else casts.cast_off
    callee = ir.Callee(fn.__name__, fn, fn)
    return state.emit(state.result(into), callee, [core.value(node.args[0]),
                                                   ir.Const(dtype.name)], node)


def with_dtype(state: LoweringState, core: Core, callee: ir.Callee, node: gast.Call,
               emit: Callable[[gast.Call, str | None], ir.Var], into: str | None
               ) -> ir.Operand:
    """A NumPy call given ``dtype=`` by keyword: the dtype written as its name
    (``dtype=int`` is ``dtype="int64"``), the result cut from the derivative when the
    dtype is an integer or bool one (see the module docstring); ``emit`` lowers the call."""
    keyed = [k.value for k in node.keywords if k.arg == "dtype"]
    module = (getattr(callee.obj, "__module__", None) or "").split(".")[0]
    found = core.expr(keyed[0]) if keyed and module == "numpy" else None
    if found is None or isinstance(found, ir.Var) or (
            isinstance(found, ir.Const) and found.value is None):
        return emit(node, into)
    dtype = _dtype(state, found, keyed[0])
    named = copy.copy(node)
    named.keywords = [k if k.arg != "dtype" else gast.copy_location(gast.keyword(
        "dtype", gast.copy_location(gast.Constant(dtype.name, None), k.value)), k)
        for k in node.keywords]
    if dtype.kind in "fc":
        return emit(named, into)
    off = ir.Callee("cast_off", casts.cast_off, casts.cast_off)
    return state.emit(state.result(into), off, [emit(named, None), ir.Const(dtype.name)], node)


def _dtype(state: LoweringState, found: object, node: gast.expr) -> np.dtype:
    obj: Any = found.obj if isinstance(found, Static) else getattr(found, "value", None)
    if isinstance(found, ir.Var) or obj is None:
        raise state.unsupported(node, "the dtype must be known while lowering",
                                "Write a dtype: float, int, bool, np.float32 or \"float32\".")
    try:
        dtype = np.dtype(obj)
    except TypeError:
        raise state.unsupported(node, f"{obj!r} is not a dtype NumPy knows",
                                "Write float, int, bool, np.float32 or \"float32\".") from None
    if dtype.kind not in "fciub":
        raise state.unsupported(node, f"a cast to {dtype.name} is not supported",
                                "Cast to a float or complex dtype, an int or bool.")
    return dtype
