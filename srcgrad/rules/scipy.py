"""Rules for scipy.special (issue 6), when SciPy is installed (an optional dependency).

Same form as rules/numpy.py: one line per primitive. logsumexp's adjoint and tangent call
``srcgrad.runtime.special``.

The partials are the standard identities (DLMF 5.15, 8.8, 10.6, 10.29, 7.2; autograd's
``scipy/special.py`` lists the same ones), written in functions that have rules of their
own, so second order comes from them. Integer orders (``jn``'s n, ``expn``'s n) and the
shape parameters of the incomplete gamma and beta functions have no closed-form derivative
here: they are constant, and a differentiated value reaching one is a located
NoDerivativeRule (the ``_in`` helper), never a silent zero.
"""

from typing import Any

import numpy as np

from ..runtime import special as rt_special
from .registry import Table, exported

try:
    import scipy.special as special
except ImportError:  # SciPy is optional: no rules, no spec rows
    special = None

table = Table({"np": np, "special": special, **exported(rt_special)})
P, V, N = table.partials, table.vjp, table.nondiff
# srcgrad's own helpers' rules (for higher order), not counted as user functions
helper_table = Table({"np": np, "special": special, **exported(rt_special)})

SQRT_PI_2 = 0.886226925452758  # sqrt(pi) / 2
TWO_SQRT_PI = 1.1283791670955126  # 2 / sqrt(pi)
INV_SQRT_2PI = 0.3989422804014327  # 1 / sqrt(2 pi)


def _in(fn: object, params: str, **partials: str) -> None:
    """An elementwise rule differentiable in the parameters of ``partials`` only: a
    differentiated value passed to another one (an integer order, a shape parameter) is a
    located NoDerivativeRule (``partials`` with ``None`` would treat it as constant)."""
    shares: dict[str, Any] = {p: f"g * ({e})" for p, e in partials.items()}
    shares.update({f"jvp_{p}": f"({e}) * dot" for p, e in partials.items()})
    V(fn, params, result="elementwise", broadcasting=True, **shares)


def _gamma_family() -> None:
    P(special.gamma, "x", "ans * special.digamma(x)")
    P(special.rgamma, "x", "-ans * special.digamma(x)")
    P(special.loggamma, "x", "special.digamma(x)")  # real x > 0 (complex: not ruled)
    P(special.beta, "a, b", "ans * (special.digamma(a) - special.digamma(a + b))",
      "ans * (special.digamma(b) - special.digamma(a + b))")
    P(special.betaln, "a, b", "special.digamma(a) - special.digamma(a + b)",
      "special.digamma(b) - special.digamma(a + b)")
    P(special.poch, "z, m", "ans * (special.digamma(z + m) - special.digamma(z))",
      "ans * special.digamma(z + m)")
    # multigammaln(a, d) = const + sum_{j<d} gammaln(a - j/2): d is an integer
    _in(special.multigammaln, "a, d", a="np.sum(special.digamma(np.expand_dims(a, -1) - "
        "np.arange(d, dtype=np.result_type(a, 0.5)) / 2), axis=-1)")
    # regularized incomplete gamma and beta functions, in x: their densities
    dgamma = "np.exp((a - 1) * np.log(x) - x - special.gammaln(a))"
    _in(special.gammainc, "a, x", x=dgamma)
    _in(special.gammaincc, "a, x", x=f"-{dgamma}")
    _in(special.betainc, "a, b, x",
        x="np.exp((a - 1) * np.log(x) + (b - 1) * np.log1p(-x) - special.betaln(a, b))")


def _bessel() -> None:
    # DLMF 10.6.2: C_n' = (C_{n-1} - C_{n+1}) / 2, C_0' = -C_1 (J and Y alike)
    P(special.j0, "x", "-special.j1(x)")
    P(special.j1, "x", "(special.j0(x) - special.jn(2, x)) / 2")
    _in(special.jn, "n, x", x="(special.jn(n - 1, x) - special.jn(n + 1, x)) / 2")
    P(special.y0, "x", "-special.y1(x)")
    P(special.y1, "x", "(special.y0(x) - special.yn(2, x)) / 2")
    _in(special.yn, "n, x", x="(special.yn(n - 1, x) - special.yn(n + 1, x)) / 2")
    # DLMF 10.29.1: I_v' = (I_{v-1} + I_{v+1}) / 2; ive = iv * exp(-|x|)
    _in(special.iv, "v, x", x="(special.iv(v - 1, x) + special.iv(v + 1, x)) / 2")
    _in(special.ive, "v, x",
        x="(special.ive(v - 1, x) + special.ive(v + 1, x)) / 2 - np.sign(x) * ans")
    P(special.i0, "x", "special.i1(x)")
    P(special.i1, "x", "(special.i0(x) + special.iv(2, x)) / 2")
    P(special.i0e, "x", "special.i1e(x) - np.sign(x) * ans")
    P(special.i1e, "x", "(special.i0e(x) + special.ive(2, x)) / 2 - np.sign(x) * ans")


def _error_functions() -> None:
    P(special.erfcinv, "y", f"-{SQRT_PI_2} * np.exp(ans * ans)")
    P(special.erfcx, "x", f"2 * x * ans - {TWO_SQRT_PI}")  # erfcx = exp(x^2) erfc(x)
    P(special.dawsn, "x", "1 - 2 * x * ans")
    P(special.ndtr, "x", f"{INV_SQRT_2PI} * np.exp(-x * x / 2)")
    P(special.ndtri, "p", f"np.exp(ans * ans / 2) / {INV_SQRT_2PI}")
    P(special.log_ndtr, "x", f"{INV_SQRT_2PI} * np.exp(-x * x / 2 - ans)")
    P(special.exp1, "x", "-np.exp(-x) / x")
    P(special.expi, "x", "np.exp(x) / x")
    _in(special.expn, "n, x", x="-expn_any(n - 1, x)")  # DLMF 8.19.13
    helper_table.vjp(rt_special.expn_any, "n, x", result="elementwise", broadcasting=True,
                     x="g * -expn_any(n - 1, x)", jvp_x="-expn_any(n - 1, x) * dot")
    P(special.kl_div, "x, y", "np.log(x / y)", "1 - x / y")  # x, y > 0
    P(special.rel_entr, "x, y", "np.log(x / y) + 1", "-x / y")
    # d/dx 1F1(a; b; x) = a/b 1F1(a+1; b+1; x); 2F1 likewise (DLMF 13.3.15, 15.5.1)
    _in(special.hyp1f1, "a, b, x", x="a / b * special.hyp1f1(a + 1, b + 1, x)")
    _in(special.hyp2f1, "a, b, c, x",
        x="a * b / c * special.hyp2f1(a + 1, b + 1, c + 1, x)")

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
    _gamma_family()
    _bessel()
    _error_functions()
    N(special.gammasgn, result="elementwise", step=True)
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
