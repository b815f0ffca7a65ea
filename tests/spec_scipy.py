"""Spec rows for srcgrad/rules/scipy.py (joined into rulespec's tables when SciPy is
installed)."""

from rulespec import (  # the main table's
    BINARY,
    LOG1P,
    MATRIX1,
    NONZERO,
    POS,
    REAL,
    UNARY,
    UNIT,
    F,
    Spec,
)

try:
    import scipy.special as special
except ImportError:  # SciPy is optional: no rules, no rows
    special = None

DIFF_SCIPY: list = []
NONDIFF_SCIPY: list = []

# logit's domain: inside (0, 1), away from the poles at 0 and 1.
PROB = ((0.1, 0.9),)


def _reduction_rows(fn, name: str) -> list:
    rows = [Spec(fn, f"special.{name}(x)", UNARY)]
    for axis in ("None", "0", "1", "-1", "(0, 1)"):
        rows.append(Spec(fn, f"special.{name}(x, axis={axis})",
                         UNARY if axis == "None" else MATRIX1))
    rows.append(Spec(fn, f"special.{name}(x, 1)", MATRIX1))
    return rows


if special is not None:
    DIFF_SCIPY += [
        Spec(special.expit, "special.expit(x)", UNARY),
        Spec(special.logit, "special.logit(x)", UNARY, PROB),
        Spec(special.gammaln, "special.gammaln(x)", UNARY, POS),
        Spec(special.digamma, "special.digamma(x)", UNARY, POS),
        Spec(special.polygamma, "special.polygamma(1, x)", UNARY, POS),
        Spec(special.polygamma, "special.polygamma(2, x) * x", UNARY, POS),
        Spec(special.erf, "special.erf(x)", UNARY),
        Spec(special.erfc, "special.erfc(x)", UNARY),
        Spec(special.erfinv, "special.erfinv(x)", UNARY, UNIT),
        Spec(special.xlogy, "special.xlogy(x, y)", BINARY, POS),
        Spec(special.xlogy, "special.xlogy(2.0, x)", UNARY, POS, label="xlogy(2.0,x)"),
        Spec(special.xlog1py, "special.xlog1py(x, y)", BINARY, (POS, LOG1P)),
        Spec(special.entr, "special.entr(x)", UNARY, POS),
        # logsumexp: axis and keepdims, and the weights b (not differentiated)
        Spec(special.logsumexp, "special.logsumexp(x)", UNARY),
        *[Spec(special.logsumexp, f"special.logsumexp(x, axis={axis}, keepdims={keepdims})",
               UNARY if axis == "None" else MATRIX1)
          for axis in ("None", "0", "1", "-1", "(0, 1)") for keepdims in ("False", "True")],
        Spec(special.logsumexp, "special.logsumexp(x, 1)", MATRIX1),
        Spec(special.logsumexp, "special.logsumexp(x, axis=-1, b=W)", MATRIX1,
             pre="W = np.linspace(0.5, 2.0, np.shape(x)[-1])", label="logsumexp(b=W)"),
        *_reduction_rows(special.softmax, "softmax"),
        *_reduction_rows(special.log_softmax, "log_softmax"),
    ]
    # The rows below: a Python float and an array (few cases: the suite's time).
    SHORT = ((F,), ((2, 3),))
    SHORT2 = ((F, F), ((2, 3), (3,)), ((3,), F))  # and broadcasting
    # ---- gamma, beta and their incomplete forms (issue 20: autograd's list) ------------
    MULTI = ((1.2, 3.0),)  # multigammaln(a, 3) needs a > 1
    DIFF_SCIPY += [
        Spec(special.gamma, "special.gamma(x)", SHORT, POS),
        Spec(special.gamma, "special.gamma(x)", SHORT, ((-0.8, -0.2), (-1.8, -1.2)),
             label="gamma(negative x)"),
        Spec(special.rgamma, "special.rgamma(x)", SHORT, ((-0.8, -0.2), (0.2, 3.0))),
        Spec(special.loggamma, "special.loggamma(x)", SHORT, POS),
        Spec(special.beta, "special.beta(x, y)", SHORT2, POS),
        Spec(special.betaln, "special.betaln(x, y)", SHORT2, POS),
        Spec(special.poch, "special.poch(x, y)", SHORT2, POS),
        Spec(special.multigammaln, "special.multigammaln(x, 3)", SHORT, MULTI),
        Spec(special.multigammaln, "special.multigammaln(x, d=1)", SHORT, POS,
             label="multigammaln(x,d=1)"),
        Spec(special.gammainc, "special.gammainc(2.5, x)", SHORT, POS),
        Spec(special.gammainc, "special.gammainc(A, x)", (((3,),), ((2, 3),)), POS,
             pre="A = np.array([0.5, 1.0, 3.0])", label="gammainc(A,x)"),
        Spec(special.gammaincc, "special.gammaincc(0.7, x)", SHORT, POS),
        Spec(special.betainc, "special.betainc(2.0, 3.5, x)", SHORT, ((0.1, 0.9),)),
        Spec(special.betainc, "special.betainc(0.8, 1.5, x)", SHORT, ((0.1, 0.9),),
             label="betainc(a<1)"),
    ]
    # ---- Bessel functions: in x; the order is constant --------------------------------
    AWAY = ((0.5, 3.0),)  # Y_n: singular at 0
    DIFF_SCIPY += [
        Spec(special.j0, "special.j0(x)", SHORT, REAL),
        Spec(special.j1, "special.j1(x)", SHORT, REAL),
        Spec(special.jn, "special.jn(3, x)", SHORT, REAL),
        Spec(special.jn, "special.jn(0, x)", SHORT, REAL, label="jn(0,x)"),
        Spec(special.y0, "special.y0(x)", SHORT, AWAY),
        Spec(special.y1, "special.y1(x)", SHORT, AWAY),
        Spec(special.yn, "special.yn(2, x)", SHORT, AWAY),
        # SciPy's iv is nan at x = 2.2e-308 (and 0 below 1e-150): away from 0
        Spec(special.iv, "special.iv(2, x)", SHORT, NONZERO),
        Spec(special.iv, "special.iv(1.5, x)", SHORT, POS, label="iv(1.5,x)"),
        Spec(special.ive, "special.ive(1, x)", SHORT, NONZERO),
        Spec(special.ive, "special.ive(0.5, x)", SHORT, POS, label="ive(0.5,x)"),
        # (i1's derivative calls iv(2, x), which SciPy gives as NaN at x = 2.2e-308, the
        # smallest normal float, while i1 itself is fine there: a SciPy limit, in the note)
        Spec(special.i0, "special.i0(x)", SHORT, ((-2.0, -1e-300), (1e-300, 2.0))),
        Spec(special.i1, "special.i1(x)", SHORT, ((-2.0, -1e-300), (1e-300, 2.0))),
        Spec(special.i0e, "special.i0e(x)", SHORT, NONZERO),
        Spec(special.i1e, "special.i1e(x)", SHORT, NONZERO),
    ]
    # ---- error functions, exponential integrals, entropies, hypergeometric ----------
    DIFF_SCIPY += [
        Spec(special.erfcinv, "special.erfcinv(x)", SHORT, ((0.1, 1.9),)),
        Spec(special.erfcx, "special.erfcx(x)", SHORT, REAL),
        Spec(special.dawsn, "special.dawsn(x)", SHORT, REAL),
        Spec(special.ndtr, "special.ndtr(x)", SHORT, REAL),
        Spec(special.ndtri, "special.ndtri(x)", SHORT, PROB),
        Spec(special.log_ndtr, "special.log_ndtr(x)", SHORT, REAL),
        Spec(special.exp1, "special.exp1(x)", SHORT, POS),
        Spec(special.expi, "special.expi(x)", SHORT, NONZERO),
        Spec(special.expn, "special.expn(2, x)", SHORT, POS),
        Spec(special.expn, "special.expn(1, x)", SHORT, POS, label="expn(1,x)"),
        Spec(special.kl_div, "special.kl_div(x, y)", SHORT2, POS),
        Spec(special.rel_entr, "special.rel_entr(x, y)", SHORT2, POS),
        Spec(special.hyp1f1, "special.hyp1f1(1.5, 2.5, x)", SHORT, REAL),
        Spec(special.hyp2f1, "special.hyp2f1(0.5, 1.5, 2.5, x)", SHORT, ((-0.9, 0.7),)),
    ]
    NONDIFF_SCIPY += [
        Spec(special.gammasgn, "special.gammasgn(x)", SHORT, ((-2.8, -2.2), (-0.8, 3.0))),
    ]
    if hasattr(special, "log_expit"):
        DIFF_SCIPY.append(Spec(special.log_expit, "special.log_expit(x)", UNARY))
