"""Rules for Python's operators, the math module and builtins.

One line per primitive. Partials are written in the parameters and ``ans``
(the result); ``g`` is the output's adjoint in explicit contributions. Scalar
rules call ``math`` so that float code stays float code.
"""

import builtins
import math

import numpy as np

from .. import runtime
from ..runtime import finite
from .registry import Table, exported

table = Table({"math": math, "np": np, "pick": runtime.pick, "expand": runtime.expand,
               "sum_grad": runtime.sum_grad,
               "matmul_grad_a": runtime.matmul_grad_a, "matmul_grad_b": runtime.matmul_grad_b,
               "signum": runtime.signum, "ln": runtime.ln, **exported(finite)})
P, V, N = table.partials, table.vjp, table.nondiff

# ---- operators (IR op names) -------------------------------------------------
P("add", "x, y", "1", "1")
P("sub", "x, y", "1", "-1")
P("mul", "x, y", "y", "x")
P("truediv", "x, y", "1 / y", "-ans / y")
P("pow", "x, y", "pow_slope(y, x, y)", "pow_log(ans, x)")  # 0 ** y: 0 in y where y > 0
P("mod", "x, y", "1", "-(x // y)")
P("neg", "x", "-1")
P("pos", "x", "1")
P("copy", "x", "1")
V("matmul", "a, b", a="matmul_grad_a(g, a, b)", b="matmul_grad_b(g, a, b)",
  jvp_a="dot @ b", jvp_b="a @ dot")
V("attr.T", "a", a="np.transpose(g)", linear=True)
N("floordiv", params="x, y", result="elementwise", step=True)
table.structural("getitem", "x, *index", "x", linear=True,  # x[i]: adjoint scattered
                 integers=("index",))
table.structural("setitem", "x, v, *index", "x", "v",  # x[i] = v: new version of x
                 integers=("index",))
N("attr.shape", "attr.ndim", "attr.size", params="x")
N("newlist", params="", result="list")  # xs = []
table.structural("append", "xs, x", "xs", "x", result="list")  # xs.append(x): a new version of xs
N("lt", "le", "gt", "ge", "eq", "ne", "not", params="*xs", result="elementwise")
N("is", "isnot", params="x, y", result="scalar")

# ---- math ------------------------------------------------------------------
S = "scalar"
P(math.sin, "x", "math.cos(x)", result=S)
P(math.cos, "x", "-math.sin(x)", result=S)
P(math.tan, "x", "1 + ans * ans", result=S)
P(math.asin, "x", "1 / math.sqrt(1 - x * x)", result=S)
P(math.acos, "x", "-1 / math.sqrt(1 - x * x)", result=S)
P(math.atan, "x", "1 / (1 + x * x)", result=S)
P(math.atan2, "y, x", "x / (x * x + y * y)", "-y / (x * x + y * y)", result=S)
P(math.sinh, "x", "math.cosh(x)", result=S)
P(math.cosh, "x", "math.sinh(x)", result=S)
P(math.tanh, "x", "1 - ans * ans", result=S)
P(math.exp, "x", "ans", result=S)
P(math.expm1, "x", "ans + 1", result=S)
P(math.log, "x", "1 / x", result=S)
P(math.log, "x, base", "1 / (x * math.log(base))", "-ans / (base * math.log(base))", result=S)
P(math.log1p, "x", "1 / (1 + x)", result=S)
P(math.log2, "x", "1 / (x * 0.6931471805599453)", result=S)  # ln 2
P(math.log10, "x", "1 / (x * 2.302585092994046)", result=S)  # ln 10
P(math.sqrt, "x", "0.5 / ans", result=S)
P(math.pow, "x, y", "pow_slope(y, x, y)", "pow_log(ans, x)", result=S)
P(math.hypot, "x, y", "ratio(x, ans)", "ratio(y, ans)", result=S)  # (0, 0): 0
P(math.fabs, "x", "math.copysign(1.0, x)", result=S)
P(math.erf, "x", "1.1283791670955126 * math.exp(-x * x)", result=S)  # 2 / sqrt(pi)
P(math.erfc, "x", "-1.1283791670955126 * math.exp(-x * x)", result=S)
N(math.floor, math.ceil, math.trunc, result=S, step=True)
N(math.isnan, math.isinf, math.isfinite, result=S)

# ---- builtins --------------------------------------------------------------
P(builtins.abs, "x", "signum(x)")
P(builtins.max, "*xs", "pick(index, ans, *xs)", min_args=2)  # max(a, b, ...) or max([a, b])
P(builtins.min, "*xs", "pick(index, ans, *xs)", min_args=2)
P(builtins.sum, "*xs", "1", seq=True)
V(builtins.sum, "x", seq=False, x="sum_grad(g, x)", linear=True)  # a list, or an array's first axis
P(builtins.float, "x", "1", result=S)
N(builtins.round, builtins.int, step=True)
N(builtins.len, builtins.bool)
N(builtins.slice, builtins.range, integers=True)  # bounds: no derivative
N(runtime.stop_gradient, params="x", result="elementwise")
