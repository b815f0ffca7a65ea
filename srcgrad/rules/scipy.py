"""Rules for scipy.special (issue 6), when SciPy is installed (an optional dependency).

Same form as rules/numpy.py: one line per primitive. logsumexp's adjoint and tangent call
``srcgrad.runtime.special``.
"""

import numpy as np

from ..runtime import special as rt_special
from .registry import Table, exported

try:
    import scipy.special as special
except ImportError:  # SciPy is optional: no rules, no spec rows
    special = None

table = Table({"np": np, "special": special, **exported(rt_special)})
P, V, N = table.partials, table.vjp, table.nondiff

if special is not None:
    # ---- elementwise: partials in the parameters and ans ----------------------------
    P(special.expit, "x", "ans * (1 - ans)")
    P(special.logit, "x", "1 / (x * (1 - x))")
    if hasattr(special, "log_expit"):  # SciPy >= 1.8
        P(special.log_expit, "x", "special.expit(-x)")
    P(special.gammaln, "x", "special.digamma(x)")
    P(special.digamma, "x", "special.polygamma(1, x)")
    P(special.polygamma, "n, x", None, "special.polygamma(n + 1, x)")  # n: an integer
    P(special.erf, "x", "1.1283791670955126 * np.exp(-x * x)")  # 2 / sqrt(pi)
    P(special.erfc, "x", "-1.1283791670955126 * np.exp(-x * x)")
    P(special.erfinv, "x", "0.886226925452758 * np.exp(ans * ans)")  # sqrt(pi) / 2
    P(special.xlogy, "x, y", "np.log(y)", "x / y")
    P(special.xlog1py, "x, y", "np.log1p(y)", "x / (1 + y)")
    P(special.entr, "x", "-(np.log(x) + 1)")
    # ---- reductions along an axis ---------------------------------------------------
    V(special.logsumexp, "a, axis=None, b=None, keepdims=False",
      a="lse_expand(g, a, axis, keepdims) * lse_weights(a, ans, axis, keepdims, b)",
      jvp_a="np.reshape(np.sum(lse_weights(a, ans, axis, keepdims, b) * dot, axis=axis, "
            "keepdims=keepdims), np.shape(ans))")
    V(special.softmax, "x, axis=None",
      x="ans * (g - np.sum(g * ans, axis=axis, keepdims=True))",
      jvp_x="ans * (dot - np.sum(dot * ans, axis=axis, keepdims=True))")
    V(special.log_softmax, "x, axis=None",
      x="g - np.exp(ans) * np.sum(g, axis=axis, keepdims=True)",
      jvp_x="dot - np.sum(np.exp(ans) * dot, axis=axis, keepdims=True)")
