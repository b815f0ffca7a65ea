"""More NumPy rules (issue 6): elementwise functions, reductions and scans.

Same form as rules/numpy.py: one line per primitive. The adjoints and tangents that are
more than an expression are functions of ``srcgrad.runtime`` (diff, average),
``srcgrad.runtime.sorting`` (median, quantile, partition) and ``srcgrad.runtime.shape``
(linspace, meshgrid).
"""

import numpy as np

from .. import runtime
from ..runtime import finite, shape, sorting
from .numpy import EXTREME, TANGENT  # the max/min rule text, shared by amax/amin
from .registry import Table, exported

table = Table({"np": np, **{name: getattr(runtime, name) for name in (
    "expand", "unbroadcast", "argmax_mask", "diff_grad", "average_weights", "weights_grad",
    "as_input")}, **exported(sorting, finite),
    **{f.__name__: f for f in (shape.linspace_grad, shape.meshgrid_grad)}})
P, V, N = table.partials, table.vjp, table.nondiff

# ---- elementwise ---------------------------------------------------------------
P(np.cbrt, "x", "cbrt_slope(ans)")  # inf at 0, with a warning
P(np.exp2, "x", "ans * 0.6931471805599453")  # ln 2
P(np.logaddexp, "x, y", "np.exp(x - ans)", "np.exp(y - ans)")
P(np.logaddexp2, "x, y", "np.exp2(x - ans)", "np.exp2(y - ans)")
P(np.arcsinh, "x", "1 / np.sqrt(x * x + 1)")
P(np.arccosh, "x", "1 / np.sqrt(x * x - 1)")
P(np.arctanh, "x", "1 / (1 - x * x)")
P(np.sinc, "x", "(np.cos(3.141592653589793 * x) - ans) / x")  # x away from 0
P(np.deg2rad, "x", "0.017453292519943295")
P(np.radians, "x", "0.017453292519943295")
P(np.rad2deg, "x", "57.29577951308232")
P(np.degrees, "x", "57.29577951308232")
P(np.positive, "x", "1")
P(np.float_power, "x, y", "pow_slope(y, x, y)", "pow_log(ans, x)")
# fmax and fmin ignore a NaN: the other argument is the result.
P(np.fmax, "x, y", "(x > y) + 0.5 * (x == y) + np.isnan(y)",
  "(y > x) + 0.5 * (x == y) + np.isnan(x)")
P(np.fmin, "x, y", "(x < y) + 0.5 * (x == y) + np.isnan(y)",
  "(y < x) + 0.5 * (x == y) + np.isnan(x)")
P(np.copysign, "x, y", "np.sign(x) * np.sign(ans)", None, zero=("y",))  # y: a step
P(np.fmod, "x, y", "1", "-np.trunc(x / y)")
P(np.mod, "x, y", "1", "-np.floor(x / y)")  # np.remainder is np.mod
P(np.nan_to_num, "x, copy=True, nan=0.0, posinf=None, neginf=None", "np.isfinite(x)",
  None, None, None, None)
N(np.heaviside, result="elementwise")

# ---- reductions ------------------------------------------------------------------
COUNT = "spread_divisor(a, ans, ddof)"  # the divisor of var and std
CENTERED = "(a - np.mean(a, axis=axis, keepdims=True))"
# prod and cumprod divide by a: exact where a has no zero.
V(np.prod, "a, axis=None, dtype=None, out=None, keepdims=False",
  a="expand(g * ans, a, axis, keepdims) / a",
  jvp_a="np.sum(dot * expand(ans, a, axis, keepdims) / a, axis=axis, keepdims=keepdims)")
V(np.var, "a, axis=None, dtype=None, out=None, ddof=0, keepdims=False",
  a=f"expand(g, a, axis, keepdims) * 2 * {CENTERED} / {COUNT}",
  jvp_a=f"np.sum(dot * 2 * {CENTERED}, axis=axis, keepdims=keepdims) / {COUNT}")
V(np.std, "a, axis=None, dtype=None, out=None, ddof=0, keepdims=False",
  a=f"expand(ratio(g, ans), a, axis, keepdims) * {CENTERED} / {COUNT}",  # no spread: 0
  jvp_a=f"ratio(np.sum(dot * {CENTERED}, axis=axis, keepdims=keepdims), {COUNT} * ans)")
W = "average_weights(a, axis, weights)"
DEVIATION = "(a - expand(ans, a, axis, False))"
V(np.average, "a, axis=None, weights=None",
  a=f"expand(g / np.sum({W}, axis=axis), a, axis, False) * {W}",
  weights=f"weights_grad(expand(g / np.sum({W}, axis=axis), a, axis, False) * {DEVIATION},"
          " weights, axis)",
  jvp_a=f"np.sum(dot * {W}, axis=axis) / np.sum({W}, axis=axis)",
  jvp_weights=f"np.sum(average_weights(a, axis, dot) * {DEVIATION}, axis=axis)"
              f" / np.sum({W}, axis=axis)")
REVCUMSUM = "np.flip(np.cumsum(np.flip({0}, axis=axis), axis=axis), axis=axis)"
V(np.cumsum, "a, axis=None, dtype=None", linear=True,
  a=f"np.reshape({REVCUMSUM.format('g')}, np.shape(a))")
V(np.cumprod, "a, axis=None, dtype=None",
  a=f"np.reshape({REVCUMSUM.format('g * ans')}, np.shape(a)) / a",
  jvp_a="ans * np.cumsum(dot / a, axis=axis)")
V(np.diff, "a, n=1, axis=-1", linear=True, a="diff_grad(g, n, axis)")
V(np.amax, "a, axis=None, out=None, keepdims=False", a=EXTREME, jvp_a=TANGENT)  # not np.max
V(np.amin, "a, axis=None, out=None, keepdims=False", a=EXTREME, jvp_a=TANGENT)
SPAN = ("(argmax_mask(a, np.max(a, axis=axis, keepdims=keepdims), axis, keepdims)"
        " - argmax_mask(a, np.min(a, axis=axis, keepdims=keepdims), axis, keepdims))")
V(np.ptp, "a, axis=None, out=None, keepdims=False", a=f"expand(g, a, axis, keepdims) * {SPAN}",
  jvp_a=f"np.sum(dot * {SPAN}, axis=axis, keepdims=keepdims)")
NUMBERS = "(1.0 - np.isnan(a))"
V(np.nansum, "a, axis=None, dtype=None, out=None, keepdims=False",
  a=f"expand(g, a, axis, keepdims) * {NUMBERS}",
  jvp_a=f"np.sum(dot * {NUMBERS}, axis=axis, keepdims=keepdims)")
V(np.nanmean, "a, axis=None, dtype=None, out=None, keepdims=False",
  a=f"expand(g, a, axis, keepdims) * {NUMBERS} / np.sum({NUMBERS}, axis=axis, keepdims=True)",
  jvp_a=f"np.sum(dot * {NUMBERS}, axis=axis, keepdims=keepdims)"
        f" / np.sum({NUMBERS}, axis=axis, keepdims=keepdims)")
NANS = "np.isnan(a)"
V(np.nanmax, "a, axis=None, out=None, keepdims=False", a=EXTREME, jvp_a=TANGENT)  # NaN: 0
V(np.nanmin, "a, axis=None, out=None, keepdims=False", a=EXTREME, jvp_a=TANGENT)
V(np.nanprod, "a, axis=None, dtype=None, out=None, keepdims=False",
  a=f"np.where({NANS}, 0.0, expand(g * ans, a, axis, keepdims) / a)",
  jvp_a="np.nansum(dot * expand(ans, a, axis, keepdims) / a, axis=axis, keepdims=keepdims)")
NCOUNT = f"(np.sum({NUMBERS}, axis=axis, keepdims=True) - ddof)"
NCENTERED = "np.nan_to_num(a - np.nanmean(a, axis=axis, keepdims=True))"
V(np.nanvar, "a, axis=None, dtype=None, out=None, ddof=0, keepdims=False",
  a=f"expand(g, a, axis, keepdims) * 2 * {NCENTERED} / {NCOUNT}",
  jvp_a=f"np.sum(dot * 2 * {NCENTERED} / {NCOUNT}, axis=axis, keepdims=keepdims)")
V(np.nanstd, "a, axis=None, dtype=None, out=None, ddof=0, keepdims=False",
  a=f"expand(ratio(g, ans), a, axis, keepdims) * {NCENTERED} / {NCOUNT}",
  jvp_a=f"ratio(np.sum(dot * {NCENTERED} / {NCOUNT}, axis=axis, keepdims=keepdims), ans)")
V(np.nancumsum, "a, axis=None, dtype=None", a=f"np.reshape({REVCUMSUM.format('g')},"
  f" np.shape(a)) * {NUMBERS}", jvp_a=f"np.cumsum(dot * {NUMBERS}, axis=axis)")
MEDIAN = "median_weights(a, axis)"
V(np.median, "a, axis=None, out=None, overwrite_input=False, keepdims=False",
  a=f"expand(g, a, axis, keepdims) * {MEDIAN}",
  jvp_a=f"np.sum(dot * {MEDIAN}, axis=axis, keepdims=keepdims)")
# quantile/percentile: the default linear method only; q is held constant.
V(np.quantile, "a, q, axis=None, out=None, overwrite_input=False, method='linear',"
  " keepdims=False", a="quantile_grad(g, a, q, axis, keepdims)",
  jvp_a="quantile_jvp(dot, a, q, axis, keepdims)")
V(np.percentile, "a, q, axis=None, out=None, overwrite_input=False, method='linear',"
  " keepdims=False", a="quantile_grad(g, a, np.asarray(q) / 100.0, axis, keepdims)",
  jvp_a="quantile_jvp(dot, a, np.asarray(q) / 100.0, axis, keepdims)")

# ---- sorting -------------------------------------------------------------------
V(np.sort, "a, axis=-1, kind=None, order=None",
  a="np.reshape(np.take_along_axis(g, np.argsort(np.argsort(a, axis=axis), axis=axis),"
    " axis=axis), np.shape(a))",
  jvp_a="np.take_along_axis(dot, np.argsort(a, axis=axis), axis=axis)")
V(np.partition, "a, kth, axis=-1, kind='introselect'", a="partition_grad(g, a, ans, axis)",
  jvp_a="partition_jvp(dot, a, ans, axis)")
N(np.argsort, np.argpartition)

# ---- construction --------------------------------------------------------------
# linspace is linear in start and stop (retstep and dtype are not supported).
V(np.linspace, "start, stop, num=50, endpoint=True, *, axis=0", linear=True,
  start="linspace_grad(g, start, num, endpoint, axis, 0)",
  stop="linspace_grad(g, stop, num, endpoint, axis, 1)")
LOGSPACE = "ans * np.log(base) * np.linspace({}, {}, num, endpoint=endpoint, axis=axis)"
V(np.logspace, "start, stop, num=50, endpoint=True, base=10.0, *, axis=0",  # base constant
  start="linspace_grad(g * ans * np.log(base), start, num, endpoint, axis, 0)",
  stop="linspace_grad(g * ans * np.log(base), stop, num, endpoint, axis, 1)",
  jvp_start=LOGSPACE.format("dot", "0.0 * stop"), jvp_stop=LOGSPACE.format("0.0 * start", "dot"))
V(np.full_like, "a, fill_value, dtype=None", linear=True, zero=("a",),
  fill_value="unbroadcast(g, fill_value)")  # the prototype a gives only shape and dtype
for _as in (np.asarray, np.asanyarray):
    V(_as, "*xs", seq=True, linear=True, xs="g[index]")  # np.asarray([a, b, c])
    V(_as, "a, dtype=None, order=None", seq=False, linear=True, a="as_input(g, a)")
V(np.ascontiguousarray, "a, dtype=None", seq=False, linear=True,
  a="np.reshape(g, np.shape(a))")  # 0-d a gives a 1-d array
V(np.meshgrid, "*xi, copy=True, sparse=False, indexing='xy'", seq=False, result="list",
  linear=True, xi="meshgrid_grad(g, index, indexing, *xi)")
N(np.identity, np.tri, np.indices, integers=True)  # sizes: no derivative
