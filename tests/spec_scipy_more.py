"""Spec rows for srcgrad/rules/scipy_stats.py and srcgrad/rules/scipy_linalg.py (joined
into rulespec's tables when SciPy is installed)."""

from rulespec import POS, REAL, SCALAR1, UNARY, F, Spec  # the main table's

try:
    import scipy.linalg
    import scipy.signal as signal
    import scipy.stats as stats
except ImportError:  # SciPy is optional: no rules, no rows
    stats = signal = None

DIFF_SCIPY_MORE: list = []
NONDIFF_SCIPY_MORE: list = []

# Three arguments: the data and two parameters, broadcast against each other.
THREE = ((F, F, F), ((3,), (3,), (3,)), ((2, 3), (3,), ()), ((3,), F, F))
TWO = ((F, F), ((3,), (3,)), ((2, 3), (3,)), ((3,), F))
DF = ((1.5, 6.0),)  # degrees of freedom, shape parameters
SHAPE = ((0.6, 4.0),)
ABOVE = ((2.5, 4.0),)  # gamma data above a loc in LOC
LOC = ((-1.0, 0.5),)
UNIT01 = ((0.1, 0.9),)
BETA_X = ((0.3, 0.6),)  # with BETA_LOC, BETA_SCALE: (x - loc) / scale inside (0, 1)
BETA_LOC = ((-0.2, 0.1),)
BETA_SCALE = ((1.0, 1.5),)
COUNTS = "K = np.array([0.0, 1.0, 3.0])"
# cov = z + 3 I with |z| <= 0.6: diagonally dominant, so SciPy's lower-triangle reading of
# it (mirrored) is positive definite; z is not symmetric: the rule reads what SciPy reads.
SMALL = ((-0.6, 0.6),)
MVN = (((3,), (3,), (3, 3)), ((4, 3), (3,), (3, 3)), ((1, 3), (3,), (3, 3)))
# Dirichlet points given by their first 2 of 3 components (completed to 1 by SciPy).
SIMPLEX2 = ((0.1, 0.3),)
DIRICHLET = (((2,), (3,)), ((2, 4), (3,)))
POINT = "P = np.array([0.2, 0.3, 0.5])"


def _stats_rows() -> list:
    norm, t, gamma, beta, poisson = stats.norm, stats.t, stats.gamma, stats.beta, stats.poisson
    return [
        Spec(norm.logpdf, "stats.norm.logpdf(x)", UNARY),
        Spec(norm.logpdf, "stats.norm.logpdf(x, y)", TWO, label="norm.logpdf(x,loc)"),
        Spec(norm.logpdf, "stats.norm.logpdf(x, loc=y, scale=z)", THREE, (REAL, REAL, POS)),
        Spec(norm.logpdf, "stats.norm.logpdf(x, y, z)", THREE, (REAL, REAL, POS)),
        Spec(norm.logpdf, "stats.norm.logpdf(2.0, x, scale=y)", TWO, (REAL, POS),
             label="norm.logpdf(const,loc,scale)"),
        Spec(norm.pdf, "stats.norm.pdf(x, loc=y, scale=z)", THREE, (REAL, REAL, POS)),
        Spec(norm.pdf, "stats.norm.pdf(x)", UNARY),
        Spec(norm.cdf, "stats.norm.cdf(x, y, z)", THREE, (REAL, REAL, POS)),
        Spec(norm.cdf, "stats.norm.cdf(x)", UNARY),
        Spec(norm.logcdf, "stats.norm.logcdf(x, y, scale=z)", THREE, (REAL, REAL, POS)),
        Spec(t.logpdf, "stats.t.logpdf(x, y, scale=z)", THREE, (REAL, DF, POS)),
        Spec(t.logpdf, "stats.t.logpdf(x, 2.5, y, z)", THREE, (REAL, REAL, POS)),
        Spec(t.logpdf, "stats.t.logpdf(x, df=y)", TWO, (REAL, DF), label="t.logpdf(x,df=y)"),
        Spec(t.pdf, "stats.t.pdf(x, y, z, 1.3)", THREE, (REAL, DF, REAL)),
        Spec(t.pdf, "stats.t.pdf(x, 3.0, scale=y)", TWO, (REAL, POS), label="t.pdf(scale)"),
        Spec(t.cdf, "stats.t.cdf(x, 3.0, y, z)", THREE, (REAL, REAL, POS)),
        Spec(gamma.logpdf, "stats.gamma.logpdf(x, y, scale=z)", THREE, (POS, SHAPE, POS)),
        Spec(gamma.logpdf, "stats.gamma.logpdf(x, 2.0, y, z)", THREE, (ABOVE, LOC, POS)),
        Spec(gamma.logpdf, "stats.gamma.logpdf(x, a=y)", TWO, (POS, SHAPE),
             label="gamma.logpdf(x,a=y)"),
        Spec(gamma.pdf, "stats.gamma.pdf(x, y, scale=z)", THREE, (POS, SHAPE, POS)),
        Spec(gamma.pdf, "stats.gamma.pdf(x, 2.5, y)", TWO, (ABOVE, LOC), label="gamma.pdf(loc)"),
        Spec(gamma.cdf, "stats.gamma.cdf(x, 2.0, y, z)", THREE, (ABOVE, LOC, POS)),
        Spec(beta.logpdf, "stats.beta.logpdf(x, y, z)", THREE, (UNIT01, SHAPE, SHAPE)),
        Spec(beta.logpdf, "stats.beta.logpdf(x, 2.0, 3.0, y, z)", THREE,
             (BETA_X, BETA_LOC, BETA_SCALE)),
        Spec(beta.pdf, "stats.beta.pdf(x, y, z)", THREE, (UNIT01, SHAPE, SHAPE)),
        Spec(beta.pdf, "stats.beta.pdf(x, 2.0, 3.0, loc=y, scale=z)", THREE,
             (BETA_X, BETA_LOC, BETA_SCALE)),
        Spec(beta.cdf, "stats.beta.cdf(x, 2.0, 3.0, y, z)", THREE,
             (BETA_X, BETA_LOC, BETA_SCALE)),
        # tails: sf, logsf (and norm.logcdf, norm.ppf) in x, loc and scale
        Spec(norm.sf, "stats.norm.sf(x, y, z)", THREE, (REAL, REAL, POS)),
        Spec(norm.sf, "stats.norm.sf(x)", UNARY),
        Spec(norm.logsf, "stats.norm.logsf(x, y, scale=z)", THREE, (REAL, REAL, POS)),
        Spec(norm.logsf, "stats.norm.logsf(x)", UNARY),
        Spec(norm.logcdf, "stats.norm.logcdf(x)", UNARY),
        Spec(norm.ppf, "stats.norm.ppf(x, y, z)", THREE, (UNIT01, REAL, POS)),
        Spec(norm.ppf, "stats.norm.ppf(x)", UNARY, UNIT01),
        Spec(t.sf, "stats.t.sf(x, 3.0, y, z)", THREE, (REAL, REAL, POS)),
        Spec(t.logsf, "stats.t.logsf(x, 2.5, loc=y, scale=z)", THREE, (REAL, REAL, POS)),
        Spec(gamma.sf, "stats.gamma.sf(x, 2.0, y, z)", THREE, (ABOVE, LOC, POS)),
        Spec(gamma.logsf, "stats.gamma.logsf(x, 2.0, y, z)", THREE, (ABOVE, LOC, POS)),
        Spec(beta.sf, "stats.beta.sf(x, 2.0, 3.0, y, z)", THREE,
             (BETA_X, BETA_LOC, BETA_SCALE)),
        Spec(beta.logsf, "stats.beta.logsf(x, 2.0, 3.0, y, z)", THREE,
             (BETA_X, BETA_LOC, BETA_SCALE)),
        Spec(poisson.logpmf, "stats.poisson.logpmf(K, x)", (((3,),), ((2, 3),)),
             POS, pre=COUNTS, label="poisson.logpmf(K,mu)"),
        Spec(poisson.logpmf, "stats.poisson.logpmf(K, mu=x, loc=-1)", (((3,),),), POS,
             pre=COUNTS, label="poisson.logpmf(K,mu=,loc=)"),
        Spec(poisson.pmf, "stats.poisson.pmf(K, x)", (((3,),), ((2, 3),)), POS, pre=COUNTS,
             label="poisson.pmf(K,mu)"),
        Spec(poisson.pmf, "stats.poisson.pmf(2.0, x)", SCALAR1, POS, label="poisson.pmf(2,mu)"),
    ]


def _multivariate_rows() -> list:
    mvn, dirichlet = stats.multivariate_normal, stats.dirichlet
    return [
        Spec(mvn.logpdf, "stats.multivariate_normal.logpdf(x, y, z + 3 * np.eye(3))", MVN,
             (REAL, REAL, SMALL)),
        Spec(mvn.logpdf, "stats.multivariate_normal.logpdf(x, mean=y, cov=z)",
             (((2, 3), (3,), (3,)), ((3,), (3,), (3,))), (REAL, REAL, POS),
             label="mvn.logpdf(diagonal cov)"),
        Spec(mvn.logpdf, "stats.multivariate_normal.logpdf(x, y)", (((2, 3), (3,)),),
             label="mvn.logpdf(x,mean)"),
        Spec(mvn.logpdf, "stats.multivariate_normal.logpdf(x, y, z)", (((2, 3), (3,), F),),
             (REAL, REAL, POS), label="mvn.logpdf(scalar cov)"),
        Spec(mvn.logpdf, "stats.multivariate_normal.logpdf(y, x, np.eye(3) * 2.0)",
             (((3,), (2, 3)),), label="mvn.logpdf(mean first)"),
        Spec(mvn.pdf, "stats.multivariate_normal.pdf(x, y, z + 3 * np.eye(3))", MVN,
             (REAL, REAL, SMALL)),
        Spec(dirichlet.logpdf, "stats.dirichlet.logpdf(x, y)", DIRICHLET, (SIMPLEX2, SHAPE)),
        Spec(dirichlet.logpdf, "stats.dirichlet.logpdf(P, x)", (((3,),),), SHAPE, pre=POINT,
             label="dirichlet.logpdf(P,alpha)"),
        Spec(dirichlet.pdf, "stats.dirichlet.pdf(x, y)", DIRICHLET, (SIMPLEX2, SHAPE)),
        Spec(dirichlet.pdf, "stats.dirichlet.pdf(P, alpha=x)", (((3,),),), SHAPE, pre=POINT,
             label="dirichlet.pdf(P,alpha)"),
    ]


SQ3 = (((3, 3),),)
SQ3B = (((3, 3), (3,)), ((3, 3), (3, 2)))
HALF = ((-0.5, 0.5),)
UPPER_DOMINANT = "x + 3 * np.eye(3)"  # a well-conditioned triangle, either one


def _linalg_rows() -> list:
    sl = scipy.linalg
    tri = sl.solve_triangular
    return [
        Spec(sl.expm, "scipy.linalg.expm(x)", (((3, 3),), ((2, 2),)), HALF),
        Spec(sl.expm, "scipy.linalg.expm(x)", (((2, 3, 3),),), HALF, label="expm batched"),
        Spec(sl.expm, "scipy.linalg.expm(x @ y)", (((2, 3), (3, 2)),), HALF, label="expm(x@y)"),
        Spec(tri, f"scipy.linalg.solve_triangular({UPPER_DOMINANT}, y)", SQ3B, (SMALL, REAL)),
        Spec(tri, f"scipy.linalg.solve_triangular({UPPER_DOMINANT}, y, lower=True)", SQ3B,
             (SMALL, REAL)),
        Spec(tri, f"scipy.linalg.solve_triangular({UPPER_DOMINANT}, y, trans=1, lower=True)",
             SQ3B, (SMALL, REAL)),
        Spec(tri, f"scipy.linalg.solve_triangular({UPPER_DOMINANT}, y, 'T')", SQ3B,
             (SMALL, REAL)),
        Spec(tri, f"scipy.linalg.solve_triangular({UPPER_DOMINANT}, y, trans='N', lower=True, "
             "unit_diagonal=True)", SQ3B, (SMALL, REAL)),
        Spec(tri, "scipy.linalg.solve_triangular(x + 3 * np.eye(3), y, 2, unit_diagonal=True)",
             SQ3B, (SMALL, REAL)),
        Spec(sl.solve_sylvester, "scipy.linalg.solve_sylvester(x + 3 * np.eye(3), y + 2 * "
             "np.eye(3), z)", (((3, 3), (3, 3), (3, 3)),),
             (SMALL, SMALL, REAL)),
        Spec(sl.cho_factor, "scipy.linalg.cho_factor(x + 3 * np.eye(3))[0]", SQ3, SMALL),
        Spec(sl.cho_factor, "scipy.linalg.cho_factor(x + 3 * np.eye(3), lower=True)[0]", SQ3,
             SMALL),
        Spec(sl.cho_solve, "scipy.linalg.cho_solve(scipy.linalg.cho_factor(x + 3 * np.eye(3)), "
             "y)", SQ3B, (SMALL, REAL)),
        Spec(sl.cho_solve, "scipy.linalg.cho_solve(cf, y)", SQ3B, (SMALL, REAL),
             pre="cf = scipy.linalg.cho_factor(x + 3 * np.eye(3), lower=True)",
             label="cho_solve(cf lower, y)"),
        Spec(sl.cho_solve, "scipy.linalg.cho_solve(cf, x)", (((3,),), ((3, 2),)), REAL,
             pre="cf = scipy.linalg.cho_factor(np.diag([2.0, 3.0, 4.0]) + 0.5)",
             label="cho_solve(constant cf, x)"),
        Spec(sl.sqrtm, "scipy.linalg.sqrtm(x + 3 * np.eye(3))", SQ3, SMALL),
        Spec(sl.sqrtm, "scipy.linalg.sqrtm(x @ x.T + np.eye(3))", SQ3, REAL,
             label="sqrtm(spd)"),
        Spec(sl.solve_sylvester, "scipy.linalg.solve_sylvester(x + 3 * np.eye(3), y + 2 * "
             "np.eye(2), z)", (((3, 3), (2, 2), (3, 2)),), (SMALL, SMALL, REAL),
             label="solve_sylvester 3x2"),
    ]


def _convolve_rows() -> list:
    conv = signal.convolve
    one = (((5,), (3,)), ((3,), (5,)), ((4,), (4,)))
    two = (((4, 5), (2, 3)), ((2, 3), (3, 2)))
    return [
        Spec(conv, "signal.convolve(x, y)", one + two),
        *[Spec(conv, f"signal.convolve(x, y, mode='{m}')", one + two) for m in ("full", "same")],
        Spec(conv, "signal.convolve(x, y, 'valid')", (((5,), (3,)), ((3,), (5,)),
                                                        ((4, 5), (2, 3)))),
        Spec(conv, "signal.convolve(x, y, mode='same', method='direct')", one),
        Spec(conv, "signal.convolve(x, y, method='fft')", one),
        Spec(conv, "signal.convolve(x, np.array([1.0, -2.0, 0.5]), 'same')", (((5,),),),
             label="convolve(x, const, same)"),
    ]


if stats is not None:
    DIFF_SCIPY_MORE += _stats_rows() + _multivariate_rows() + _linalg_rows() + _convolve_rows()
