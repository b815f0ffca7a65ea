"""More NumPy rules (issue 6): elementwise functions, reductions and scans.

Same form as rules/numpy.py: one line per primitive.
"""

import numpy as np

from .. import runtime
from .numpy import EXTREME, TANGENT  # the max/min rule text, shared by amax/amin
from .registry import Table

expand, unbroadcast = runtime.expand, runtime.unbroadcast


def _sorted_weights(a, axis, weights_of):
    """Weights on ``a``'s entries along the reduced ``axis`` (None, int or tuple), given
    in sorted order by ``weights_of(n)`` (n the reduced size), put back where they sort."""
    a = np.asarray(a, dtype=float)
    axes = tuple(range(a.ndim)) if axis is None else \
        tuple(int(d) % a.ndim for d in np.atleast_1d(axis))
    last = tuple(range(a.ndim - len(axes), a.ndim))
    moved = np.moveaxis(a, axes, last)
    flat = moved.reshape(moved.shape[:a.ndim - len(axes)] + (-1,))
    out = np.empty(flat.shape)
    np.put_along_axis(out, np.argsort(flat, axis=-1),
                      np.broadcast_to(weights_of(flat.shape[-1]), flat.shape), axis=-1)
    return np.moveaxis(out.reshape(moved.shape), last, axes)


def _middle(n):
    """Median weights in sorted order: the middle entry, or half each to the two."""
    w = np.zeros(n)
    w[(n - 1) // 2] += 0.5
    w[n // 2] += 0.5
    return w


def median_weights(a, axis):
    """d median / d a: 1 at the middle entry of each reduced slice (0.5 each for two)."""
    return _sorted_weights(a, axis, _middle)


def _linear(q):
    """Weights in sorted order of the default (linear) quantile ``q``."""
    def weights(n):
        pos = q * (n - 1)
        lo = int(np.floor(pos))
        w = np.zeros(n)
        w[lo] += 1.0 - (pos - lo)
        w[min(lo + 1, n - 1)] += pos - lo
        return w
    return weights


def quantile_grad(g, a, q, axis, keepdims):
    """Adjoint of ``np.quantile(a, q, axis, keepdims=...)`` (linear method) for ``a``."""
    q, g = np.asarray(q, dtype=float), np.asarray(g)
    out = np.zeros(np.shape(a))
    for i in np.ndindex(q.shape):
        out += expand(g[i], a, axis, keepdims) * _sorted_weights(a, axis, _linear(q[i]))
    return out


def quantile_jvp(dot, a, q, axis, keepdims):
    """The tangent of ``np.quantile`` (linear method) along ``dot``."""
    q = np.asarray(q, dtype=float)
    parts = [np.sum(dot * _sorted_weights(a, axis, _linear(q[i])), axis=axis,
                    keepdims=keepdims) for i in np.ndindex(q.shape)]
    return np.reshape(parts, q.shape + np.shape(parts[0]))


def partition_source(a, ans, axis):
    """For each entry of ``np.partition(a, kth, axis)``, its position in ``a`` (along the
    axis; ``a`` flattened for axis None): ranks of ``ans`` looked up in ``a``'s order."""
    if axis is None:
        a, axis = np.ravel(a), -1
    rank = np.argsort(np.argsort(ans, axis=axis), axis=axis)
    return np.take_along_axis(np.argsort(a, axis=axis), rank, axis=axis)


def partition_grad(g, a, ans, axis):
    """Adjoint of ``np.partition``: ``g`` scattered back to the source positions."""
    out = np.zeros(np.shape(a) if axis is not None else np.size(a))
    np.put_along_axis(out, partition_source(a, ans, axis), g, axis=-1 if axis is None else axis)
    return np.reshape(out, np.shape(a))


def partition_jvp(dot, a, ans, axis):
    """The tangent of ``np.partition``: ``dot`` gathered from the source positions."""
    if axis is None:
        dot = np.ravel(dot)
    return np.take_along_axis(dot, partition_source(a, ans, axis),
                              axis=-1 if axis is None else axis)


def linspace_grad(g, x, num, endpoint, axis, part):
    """Adjoint of ``np.linspace(start, stop, num, endpoint, axis=axis)`` for ``x``: the
    start (part 0) weighs each sample by 1 - t, the stop (part 1) by t."""
    t = np.linspace(0.0, 1.0, num, endpoint=endpoint)
    t = np.moveaxis(np.reshape(t, (-1,) + (1,) * (np.ndim(g) - 1)), 0, axis)
    return unbroadcast(np.sum(g * (t if part else 1.0 - t), axis=axis), x)


def meshgrid_grad(g, index, indexing, *xs):
    """Adjoint of ``np.meshgrid(x0, x1, ...)`` for ``xs[index]``: output ``index`` summed
    over all axes but its own (the first two swapped for 'xy' indexing)."""
    own = 1 - index if indexing == "xy" and len(xs) > 1 and index < 2 else index
    e = np.asarray(g[index])
    return np.reshape(np.sum(e, axis=tuple(d for d in range(e.ndim) if d != own)),
                      np.shape(xs[index]))

HELPERS = {f.__name__: f for f in (median_weights, quantile_grad, quantile_jvp, partition_grad,
                                   partition_jvp, linspace_grad, meshgrid_grad)}
table = Table({"np": np, **{name: getattr(runtime, name) for name in (
    "expand", "unbroadcast", "argmax_mask", "diff_grad", "average_weights", "weights_grad",
    "as_input")}, **HELPERS})
P, V, N = table.partials, table.vjp, table.nondiff

# ---- elementwise ---------------------------------------------------------------
P(np.cbrt, "x", "1 / (3 * ans * ans)")
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
P(np.float_power, "x, y", "y * x ** (y - 1)", "ans * np.log(x)")
# fmax and fmin ignore a NaN: the other argument is the result.
P(np.fmax, "x, y", "(x > y) + 0.5 * (x == y) + np.isnan(y)",
  "(y > x) + 0.5 * (x == y) + np.isnan(x)")
P(np.fmin, "x, y", "(x < y) + 0.5 * (x == y) + np.isnan(y)",
  "(y < x) + 0.5 * (x == y) + np.isnan(x)")
P(np.copysign, "x, y", "np.sign(x) * np.sign(ans)", None)  # the sign of y is a step
P(np.fmod, "x, y", "1", "-np.trunc(x / y)")
P(np.mod, "x, y", "1", "-np.floor(x / y)")  # np.remainder is np.mod
P(np.nan_to_num, "x, copy=True, nan=0.0, posinf=None, neginf=None", "np.isfinite(x)",
  None, None, None, None)
N(np.heaviside, result="elementwise")

# ---- reductions ------------------------------------------------------------------
COUNT = "(np.size(a) / np.size(ans) - ddof)"  # the divisor of var and std
CENTERED = "(a - np.mean(a, axis=axis, keepdims=True))"
# prod and cumprod divide by a: exact where a has no zero.
V(np.prod, "a, axis=None, dtype=None, out=None, keepdims=False",
  a="expand(g * ans, a, axis, keepdims) / a",
  jvp_a="np.sum(dot * expand(ans, a, axis, keepdims) / a, axis=axis, keepdims=keepdims)")
V(np.var, "a, axis=None, dtype=None, out=None, ddof=0, keepdims=False",
  a=f"expand(g, a, axis, keepdims) * 2 * {CENTERED} / {COUNT}",
  jvp_a=f"np.sum(dot * 2 * {CENTERED}, axis=axis, keepdims=keepdims) / {COUNT}")
V(np.std, "a, axis=None, dtype=None, out=None, ddof=0, keepdims=False",
  a=f"expand(g / ans, a, axis, keepdims) * {CENTERED} / {COUNT}",
  jvp_a=f"np.sum(dot * {CENTERED}, axis=axis, keepdims=keepdims) / ({COUNT} * ans)")
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
  a=f"expand(g / ans, a, axis, keepdims) * {NCENTERED} / {NCOUNT}",
  jvp_a=f"np.sum(dot * {NCENTERED} / {NCOUNT}, axis=axis, keepdims=keepdims) / ans")
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
N(np.identity, np.tri, np.indices)
