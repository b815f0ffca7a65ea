"""Rules for NumPy as code ported from autograd calls it (issue 20): functions under
other names, array-API spellings, and functions whose results carry no derivative.

Contract: ``np.linalg.matmul``, ``outer``, ``tensordot`` and ``cross`` compute what the
``np.`` functions compute (their parameters are a subset): their rules are copies of
those, under the alias's name. ``np.linalg.trace``/``diagonal`` work on the last two axes,
``matrix_norm`` on the last two, ``vector_norm`` on ``axis`` (None: all entries, any
ndim, unlike ``np.linalg.norm``) with ``ord=2``; each has its own rule.
``np.cumulative_sum``/``cumulative_prod`` (NumPy 2.1) take ``include_initial``. An array
(or list) given alone to ``np.hstack``, ``vstack``, ``column_stack``, ``dstack`` is the
sequence of its rows (a second overload). The functions of ``N(...)`` give booleans,
indices or piecewise-constant values: their results carry no derivative (``step`` for
the real-valued steps, which warn when a gradient reaches them). The helpers live in
``srcgrad.runtime.special``; their own rules (``helper_table``) give second order.
"""

from dataclasses import replace

import numpy as np

from ..runtime import linalg as rt_linalg
from ..runtime import shape as rt_shape
from ..runtime import special as rt_special
from . import linalg as _linalg
from . import numpy as _numpy
from .registry import Rule, Table, _name, exported

table = Table({"np": np, "LAST2": (-2, -1), **exported(rt_linalg, rt_shape, rt_special)})
P, V, N = table.partials, table.vjp, table.nondiff
helper_table = Table({"np": np, **exported(rt_special)})

# ---- the same function under another name ------------------------------------------
_SAME = ((np.linalg.matmul, np.matmul, _numpy), (np.linalg.outer, np.outer, _numpy),
         (np.linalg.tensordot, np.tensordot, _linalg), (np.linalg.cross, np.cross, _linalg))
for _alias, _fn, _module in _SAME:
    if _alias is not _fn:
        for _rule in _module.table.rules[_fn]:
            _copy: Rule = replace(_rule, name=_name(_alias))
            table.rules.setdefault(_alias, []).append(_copy)

# ---- array-API spellings with their own axes -----------------------------------------
if hasattr(np.linalg, "trace") and np.linalg.trace is not np.trace:
    V(np.linalg.trace, "x, offset=0, dtype=None", linear=True,
      x="trace_grad(g, x, offset, -2, -1)")
if hasattr(np.linalg, "diagonal") and np.linalg.diagonal is not np.diagonal:
    V(np.linalg.diagonal, "x, offset=0", linear=True,
      x="diagonal_grad(g, x, offset, -2, -1)")
if hasattr(np.linalg, "matrix_norm"):
    V(np.linalg.matrix_norm, "x, keepdims=False, ord='fro'",
      x="norm_grad(g, x, ans, ord, LAST2, keepdims)",
      jvp_x="norm_jvp(dot, x, ans, ord, LAST2, keepdims)")
if hasattr(np.linalg, "vector_norm"):
    # the reduced axes moved last and flattened into one: np.linalg.norm over axis -1
    _S = "np.shape(x)"
    _AX, _LAST = f"norm_axes({_S}, axis)", f"norm_last({_S}, axis)"
    _FLAT = f"np.reshape(np.moveaxis(x, {_AX}, {_LAST}), norm_flat({_S}, axis))"
    _KEPT = "np.reshape({}, norm_kept(np.shape(x), axis))"
    V(np.linalg.vector_norm, "x, axis=None, keepdims=False, ord=2",
      x=f"np.moveaxis(np.reshape(norm_grad({_KEPT.format('g')}, {_FLAT}, "
        f"{_KEPT.format('ans')}, ord, -1, False), np.shape(np.moveaxis(x, {_AX}, {_LAST}))),"
        f" {_LAST}, {_AX})",
      jvp_x=f"np.reshape(norm_jvp(np.reshape(np.moveaxis(dot, {_AX}, {_LAST}), "
            f"norm_flat({_S}, axis)), {_FLAT}, {_KEPT.format('ans')}, ord, -1, False), "
            "np.shape(ans))")
if hasattr(np, "cumulative_sum"):  # NumPy >= 2.1
    V(np.cumulative_sum, "x, axis=None, dtype=None, include_initial=False", linear=True,
      x="cumulative_sum_grad(g, axis, include_initial)")
    # as np.cumprod: exact where x has no zero
    V(np.cumulative_prod, "x, axis=None, dtype=None, include_initial=False",
      x="cumulative_sum_grad(g * ans, axis, include_initial) / x",
      jvp_x="ans * np.cumulative_sum(dot / x, axis=axis, include_initial=include_initial)")
    helper_table.vjp(rt_special.cumulative_sum_grad, "c, axis, include_initial", linear=True,
                     c="np.cumulative_sum(g, axis=axis, include_initial=include_initial)")

# ---- one array (or list) given as the sequence: its rows ---------------------------------
for _stack in (np.hstack, np.vstack, np.column_stack, np.dstack):
    V(_stack, "tup", seq=False, linear=True, tup=f"rows_grad(g, tup, '{_stack.__name__}')")
helper_table.vjp(rt_special.rows_grad, "c, a, kind", linear=True, zero=("a",),
                 c="rows_stack(g, kind)")
helper_table.nondiff(rt_special.norm_axes, rt_special.norm_last, rt_special.norm_kept,
                     rt_special.norm_flat)  # shapes and axes: integers
helper_table.vjp(rt_special.rows_stack, "c, kind", linear=True, c="rows_grad(g, c, kind)")

# ---- results without a derivative -----------------------------------------------------
N(np.around, np.floor_divide, result="elementwise", step=True)
N(np.searchsorted, np.digitize, step=True)
N(np.isclose, np.isneginf, np.isposinf, np.iscomplex, np.isreal, np.signbit,
  np.logical_xor, result="elementwise")
N(np.isin, np.count_nonzero)
