"""Spec rows for srcgrad/rules/scipy.py (joined into rulespec's tables when SciPy is
installed)."""

from rulespec import BINARY, LOG1P, MATRIX1, POS, UNARY, UNIT, Spec  # the main table's

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
    if hasattr(special, "log_expit"):
        DIFF_SCIPY.append(Spec(special.log_expit, "special.log_expit(x)", UNARY))
