"""Rules for NumPy.

Elementwise functions declare partials (broadcasting is undone by the
transform); reductions and linear algebra declare their adjoint contributions
through the helpers in ``srcgrad.runtime`` where shapes decide the formula.
"""

import numpy as np

from .. import runtime
from ..runtime import finite
from .registry import Table, exported

table = Table({"np": np, **{name: getattr(runtime, name) for name in (
    "expand", "between", "below", "above", "dot_grad_a", "dot_grad_b", "matmul_grad_a",
    "matmul_grad_b", "transpose_grad", "argmax_mask", "as_input", "unstack", "split_like",
    "piece")}, **exported(finite)})
P, V, N = table.partials, table.vjp, table.nondiff

# ---- arithmetic ufuncs -------------------------------------------------------
P(np.add, "x, y", "1", "1")
P(np.subtract, "x, y", "1", "-1")
P(np.multiply, "x, y", "y", "x")
P(np.divide, "x, y", "1 / y", "-ans / y")
P(np.power, "x, y", "pow_slope(y, x, y)", "pow_log(ans, x)")  # 0 ** y: 0 in y where y > 0
P(np.negative, "x", "-1")
P(np.square, "x", "2 * x")
P(np.reciprocal, "x", "-ans * ans")
P(np.sqrt, "x", "sqrt_slope(ans)")  # 0.5 / ans, with a warning at 0
P(np.absolute, "x", "np.sign(x)")
P(np.fabs, "x", "np.sign(x)")
P(np.maximum, "x, y", "(x > y) + 0.5 * (x == y)", "(y > x) + 0.5 * (x == y)")
P(np.minimum, "x, y", "(x < y) + 0.5 * (x == y)", "(y < x) + 0.5 * (x == y)")
P(np.hypot, "x, y", "ratio(x, ans)", "ratio(y, ans)")  # at (0, 0) the subgradient 0

# ---- exponentials and logarithms ---------------------------------------------
P(np.exp, "x", "ans")
P(np.expm1, "x", "ans + 1")
P(np.log, "x", "1 / x")
P(np.log1p, "x", "1 / (1 + x)")
P(np.log2, "x", "1 / (x * 0.6931471805599453)")  # ln 2
P(np.log10, "x", "1 / (x * 2.302585092994046)")  # ln 10

# ---- trigonometric and hyperbolic ------------------------------------------
P(np.sin, "x", "np.cos(x)")
P(np.cos, "x", "-np.sin(x)")
P(np.tan, "x", "1 + ans * ans")
P(np.arcsin, "x", "1 / np.sqrt(1 - x * x)")
P(np.arccos, "x", "-1 / np.sqrt(1 - x * x)")
P(np.arctan, "x", "1 / (1 + x * x)")
P(np.arctan2, "y, x", "x / (x * x + y * y)", "-y / (x * x + y * y)")
P(np.sinh, "x", "np.cosh(x)")
P(np.cosh, "x", "np.sinh(x)")
P(np.tanh, "x", "1 - ans * ans")

# ---- selection ---------------------------------------------------------------
P(np.clip, "a, a_min=None, a_max=None", "between(a, a_min, a_max)", "below(a, a_min, a_max)",
  "above(a, a_min, a_max)")
V(np.where, "condition, x, y", broadcasting=True, result="elementwise", linear=True,
  x="np.where(condition, g, 0.0)", y="np.where(condition, 0.0, g)")

# ---- construction ------------------------------------------------------------
P(np.copy, "a", "1")
V(np.full, "shape, fill_value, dtype=None", fill_value="np.sum(g)", linear=True)
V(np.array, "*xs", seq=True, linear=True, xs="g[index]")  # np.array([a, b, c])
V(np.array, "x", seq=False, linear=True, x="as_input(g, x)")  # np.array(xs)
V(np.stack, "*xs, axis=0", seq=True, linear=True, xs="np.take(g, index, axis=axis)")
V(np.stack, "arrays, axis=0", seq=False, linear=True, arrays="unstack(g, axis)")
V(np.concatenate, "*xs, axis=0", seq=True, linear=True, xs="piece(g, index, axis, *xs)")
V(np.concatenate, "arrays, axis=0", seq=False, linear=True,
  arrays="split_like(g, arrays, axis)")
N(np.zeros_like, np.ones_like, np.empty_like)
N(np.zeros, np.ones, np.empty, np.arange, np.eye, integers=True)  # sizes: no derivative

# ---- reductions ----------------------------------------------------------------
V(np.sum, "a, axis=None, keepdims=False", a="expand(g, a, axis, keepdims)", linear=True)
EXTREME = "expand(g, a, axis, keepdims) * argmax_mask(a, ans, axis, keepdims)"
TANGENT = "np.sum(dot * argmax_mask(a, ans, axis, keepdims), axis=axis, keepdims=keepdims)"
V(np.max, "a, axis=None, keepdims=False", a=EXTREME, jvp_a=TANGENT)  # ties share equally
V(np.min, "a, axis=None, keepdims=False", a=EXTREME, jvp_a=TANGENT)
V(np.mean, "a, axis=None, keepdims=False",
  a="expand(g, a, axis, keepdims) * ratio(np.size(ans), np.size(a))",  # (a empty: 0)
  jvp_a="np.sum(dot, axis=axis, keepdims=keepdims) * ratio(np.size(ans), np.size(a))")

# ---- linear algebra ------------------------------------------------------------
V(np.dot, "a, b", a="dot_grad_a(g, a, b)", b="dot_grad_b(g, a, b)",
  jvp_a="np.dot(dot, b)", jvp_b="np.dot(a, dot)")
V(np.matmul, "a, b", a="matmul_grad_a(g, a, b)", b="matmul_grad_b(g, a, b)",
  jvp_a="np.matmul(dot, b)", jvp_b="np.matmul(a, dot)")
V(np.outer, "a, b", a="np.reshape(g @ np.ravel(b), np.shape(a))",
  b="np.reshape(np.ravel(a) @ g, np.shape(b))", jvp_a="np.outer(dot, b)",
  jvp_b="np.outer(a, dot)")

# ---- shape ---------------------------------------------------------------------
V(np.transpose, "a, axes=None", a="transpose_grad(g, axes)", linear=True)
V(np.reshape, "a, shape, order='C'", a="np.reshape(g, np.shape(a), order=order)", linear=True)
V(np.ndarray.flatten, "a, order='C'", a="np.reshape(g, np.shape(a), order=order)", linear=True,
  name="np.ndarray.flatten")  # x.flatten(): a copy, unlike np.ravel

# ---- declared non-differentiable -------------------------------------------
N(np.sign, np.floor, np.ceil, np.round, np.rint, np.trunc, np.fix, result="elementwise", step=True)
N(np.less, np.less_equal, np.greater, np.greater_equal, np.equal, np.not_equal,
  np.logical_and, np.logical_or, np.logical_not, np.isnan, np.isinf, np.isfinite,
  result="elementwise")
N(np.argmax, np.argmin, step=True)
N(np.any, np.all)
N(np.shape, np.size, np.ndim)
