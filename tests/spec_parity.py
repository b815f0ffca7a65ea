"""Spec rows for issue 20's parity tables (srcgrad/rules/scipy_stats_more.py and
srcgrad/rules/numpy_aliases.py), joined into rulespec's tables."""

import numpy as np
from rulespec import AWAY0, BINARY, LATTICE, NONZERO, POS, REAL, UNARY, F, Spec

try:
    import scipy.stats as stats
except ImportError:  # SciPy is optional: no stats rows
    stats = None

DIFF_PARITY: list = []
NONDIFF_PARITY: list = []

# data, loc, scale: a scalar case and a broadcast one (few cases: the suite's time)
THREE = ((F, F, F), ((2, 3), (3,), ()))
LOC = ((-0.5, 0.5),)
Q = ((0.1, 0.9),)
ABOVE = ((2.5, 4.0),)  # above any loc in LOC: expon and chi2 have support z > 0
AWAY = ((-3.0, -1.6), (1.6, 3.0))  # laplace: away from its kink at x = loc
DF = ((1.5, 6.0),)
SMALL = ((-0.6, 0.6),)  # cov = x + 3 I: diagonally dominant (see spec_scipy_more.py)

_METHODS = {
    "norm": ("isf",),
    "cauchy": ("pdf", "logpdf", "cdf", "logcdf", "sf", "logsf", "ppf", "isf"),
    "laplace": ("pdf", "logpdf", "cdf"),
    "logistic": ("pdf", "logpdf", "cdf", "sf", "ppf", "isf"),
    "expon": ("pdf", "logpdf", "cdf", "logcdf", "sf", "logsf", "ppf"),
    "gumbel_r": ("pdf", "logpdf", "cdf", "logcdf", "sf", "logsf"),
    "gumbel_l": ("pdf", "logpdf", "cdf", "logcdf", "sf", "logsf"),
}
_DATA = {"expon": ABOVE, "laplace": AWAY}


def _family_rows() -> list:
    rows = []
    for name, methods in _METHODS.items():
        dist = getattr(stats, name)
        for m in methods:
            first = Q if m in ("ppf", "isf") else _DATA.get(name, REAL)
            rows.append(Spec(getattr(dist, m), f"stats.{name}.{m}(x, y, z)", THREE,
                             (first, LOC, POS)))
        m = methods[0]
        first = Q if m in ("ppf", "isf") else _DATA.get(name, REAL)
        rows.append(Spec(getattr(dist, m), f"stats.{name}.{m}(x)", ((F,), ((3,),)), first))
    return rows


def _other_rows() -> list:
    chi2, mvn = stats.chi2, stats.multivariate_normal
    counts = "K = np.array([0.0, 1.0, 3.0])"
    return [
        Spec(chi2.logpdf, "stats.chi2.logpdf(x, y, scale=z)", THREE, (POS, DF, POS)),
        Spec(chi2.logpdf, "stats.chi2.logpdf(x, 3.0, y, z)", THREE, (ABOVE, LOC, POS)),
        Spec(chi2.pdf, "stats.chi2.pdf(x, y, scale=z)", THREE, (POS, DF, POS)),
        Spec(chi2.pdf, "stats.chi2.pdf(x, df=2.5)", UNARY, POS, label="chi2.pdf(x,df=2.5)"),
        Spec(chi2.cdf, "stats.chi2.cdf(x, 3.0, y, z)", THREE, (ABOVE, LOC, POS)),
        Spec(chi2.cdf, "stats.chi2.cdf(x, 2.0)", UNARY, POS),
        Spec(stats.t.logcdf, "stats.t.logcdf(x, 3.0, y, z)", THREE, (REAL, LOC, POS)),
        Spec(stats.t.logcdf, "stats.t.logcdf(x, df=5.0)", UNARY, REAL,
             label="t.logcdf(x,df=5.0)"),
        Spec(stats.poisson.cdf, "stats.poisson.cdf(K, x)", (((3,),), ((2, 3),)), POS,
             pre=counts, label="poisson.cdf(K,mu)"),
        Spec(stats.poisson.cdf, "stats.poisson.cdf(K, mu=x, loc=-1)", (((3,),),), POS,
             pre=counts, label="poisson.cdf(K,mu=,loc=)"),
        Spec(stats.poisson.cdf, "stats.poisson.cdf(2.5, x)", ((F,),), POS,
             label="poisson.cdf(2.5,mu)"),
        Spec(mvn.entropy, "stats.multivariate_normal.entropy(cov=x + 3.0 * np.eye(3))",
             (((3, 3),),), SMALL, label="mvn.entropy(matrix)"),
        Spec(mvn.entropy, "stats.multivariate_normal.entropy(np.zeros(2), x)",
             ((F,), ((2,),)), POS, label="mvn.entropy(mean,scalar|diag)"),
        Spec(mvn.entropy, "stats.multivariate_normal.entropy(cov=x)", ((F,),), POS,
             label="mvn.entropy(cov=scalar)"),
    ]


if stats is not None:
    DIFF_PARITY += _family_rows() + _other_rows()

# ---- NumPy under other names (rules/numpy_aliases.py) ------------------------------------
LIN = np.linalg
AWAY = ((-2.0, -0.5), (0.5, 2.0))  # norms: away from their kink at 0 (spec_linalg's AWAY)
LIST2 = "xs = []; xs.append(x); xs.append(y * 2.0)"
DIFF_PARITY += [
    Spec(LIN.matmul, "np.linalg.matmul(x, y)",
         (((2, 3), (3, 4)), ((3,), (3, 4)), ((2, 2, 3), (3, 4)))),
    Spec(LIN.outer, "np.linalg.outer(x, y)", (((3,), (4,)),)),
    Spec(LIN.tensordot, "np.linalg.tensordot(x, y, axes=1)", (((2, 3), (3, 4)),)),
    Spec(LIN.tensordot, "np.linalg.tensordot(x, y)", (((2, 3), (2, 3)),)),
    Spec(LIN.cross, "np.linalg.cross(x, y)", (((3,), (3,)), ((2, 3), (3,)))),
    Spec(LIN.cross, "np.linalg.cross(x, y, axis=0)", (((3, 2), (3, 2)),)),
    Spec(LIN.trace, "np.linalg.trace(x)", (((3, 3),), ((2, 3, 3),))),
    Spec(LIN.trace, "np.linalg.trace(x, offset=1)", (((2, 3, 4),),)),
    Spec(LIN.diagonal, "np.linalg.diagonal(x)", (((3, 3),), ((2, 3, 4),))),
    Spec(LIN.diagonal, "np.linalg.diagonal(x, offset=-1)", (((2, 3, 4),),)),
    Spec(LIN.matrix_norm, "np.linalg.matrix_norm(x)", (((3, 3),), ((2, 3, 4),)), AWAY),
    Spec(LIN.matrix_norm, "np.linalg.matrix_norm(x, keepdims=True, ord=2)", (((3, 3),),),
         AWAY),
    Spec(LIN.vector_norm, "np.linalg.vector_norm(x)", (((3,),), ((2, 3),), ((2, 3, 4),)),
         AWAY),
    Spec(LIN.vector_norm, "np.linalg.vector_norm(x, axis=1)", (((2, 3),), ((2, 3, 4),)),
         AWAY),
    Spec(LIN.vector_norm, "np.linalg.vector_norm(x, axis=(0, 2), keepdims=True)",
         (((2, 3, 4),),), AWAY),
    Spec(LIN.vector_norm, "np.linalg.vector_norm(x, ord=1, axis=-1)", (((2, 3),),), AWAY0),
    Spec(LIN.vector_norm, "np.linalg.vector_norm(x, ord=3, keepdims=True)", (((2, 3),),),
         AWAY0),
    # one array or list given as the sequence: its rows
    *[Spec(fn, f"np.{fn.__name__}(x)", (((3,),), ((2, 3),), ((2, 3, 4),)), overload=1)
      for fn in (np.hstack, np.vstack, np.column_stack, np.dstack)],
    Spec(np.hstack, "np.hstack(xs)", (((3,), (3,)), ((2, 3), (2, 3))), overload=1,
         pre=LIST2, label="hstack(list)"),
    Spec(np.vstack, "np.vstack(xs)", (((3,), (3,)),), overload=1, pre=LIST2,
         label="vstack(list)"),
]
if hasattr(np, "cumulative_sum"):  # NumPy >= 2.1
    DIFF_PARITY += [
        Spec(np.cumulative_sum, "np.cumulative_sum(x)", (((3,),),)),
        Spec(np.cumulative_sum, "np.cumulative_sum(x, axis=1, include_initial=True)",
             (((2, 3),), ((2, 3, 4),))),
        Spec(np.cumulative_sum, "np.cumulative_sum(x, axis=0)", (((2, 3),),)),
        Spec(np.cumulative_prod, "np.cumulative_prod(x, axis=0)", (((2, 3),),), NONZERO),
        Spec(np.cumulative_prod, "np.cumulative_prod(x, include_initial=True)", (((3,),),),
             NONZERO),
    ]

# ---- results without a derivative: d/dx (S * x) = S, S held constant ------------------
EDGES = "E = np.array([-1.0, 0.0, 1.0])"
ARRAYS = (((3,),), ((2, 3),))
NONDIFF_PARITY += [
    Spec(np.around, "np.around(x, 1)", UNARY),
    Spec(np.floor_divide, "np.floor_divide(x, y)", BINARY, (REAL, NONZERO)),
    Spec(np.isclose, "np.isclose(x, y)", BINARY, LATTICE),
    Spec(np.isneginf, "np.isneginf(x)", UNARY),
    Spec(np.isposinf, "np.isposinf(x)", UNARY),
    Spec(np.iscomplex, "np.iscomplex(x)", UNARY),
    Spec(np.isreal, "np.isreal(x)", UNARY),
    Spec(np.signbit, "np.signbit(x)", UNARY),
    Spec(np.logical_xor, "np.logical_xor(x > 0.0, y > 0.0)", BINARY, LATTICE),
    Spec(np.searchsorted, "np.searchsorted(E, x)", ARRAYS, pre=EDGES),
    Spec(np.digitize, "np.digitize(x, E)", ARRAYS, pre=EDGES),
    Spec(np.isin, "np.isin(x, E)", ARRAYS, LATTICE, pre=EDGES),
    Spec(np.count_nonzero, "np.count_nonzero(x > 0.0)", ARRAYS, LATTICE),
]
