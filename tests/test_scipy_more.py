"""scipy.stats rules (issue 20) as users call them: maximum-likelihood programs
(tests/fixtures/stats_programs.py) and cases ported from autograd's scipy.stats tests,
against central differences (tests/numeric.py); the refusals, located. Skipped without
SciPy."""

import numpy as np
import pytest
from numeric import directional, gradient

import srcgrad

stats = pytest.importorskip("scipy.stats", reason="scipy is optional: its rules need it")
P = pytest.importorskip("fixtures.stats_programs")
L = pytest.importorskip("fixtures.scipy_linalg_programs")

R = np.random.default_rng(20).normal

PROGRAMS = [
    (P.normal_nll, (0.4, -0.2)),
    (P.normal_nll_imported, (0.4, 1.3)),
    (P.gamma_nll, (0.5, 0.2)),
    (P.student_t_nll, (np.array([0.3, 0.1, 1.2]),)),
    (P.dirichlet_loglik, (np.array([0.2, -0.3, 0.5]),)),
    (P.mvn_cholesky_nll, (0.3 * R(size=(3, 3)), R(size=3))),
    (P.poisson_regression, (np.array([0.3, 0.4]),)),
    (P.normal_mixture, (np.array([-0.5, 1.0]), np.array([0.1, -0.2]), np.array([0.3, -0.1]))),
    (P.beta_probit, (1.7, R(size=4))),
    (L.gp_nll, (0.1, -1.0)),
    (L.gp_nll_inline, (-0.2,)),
    (L.markov_probabilities, (np.array([0.7, 1.3, 0.4]), 0.8)),
    (L.whitened_norm, (0.4 * R(size=(3, 3)), R(size=(3, 2)))),
    (L.sqrt_trace, (R(size=(3, 3)),)),
    (L.filter_loss, (np.array([0.2, 0.5, 0.1]),)),
]


def _check(f, args, rtol=1e-6, atol=1e-8):
    wrt = tuple(range(len(args)))
    grads = srcgrad.grad(f, wrt=wrt)(*args)
    for i, g in enumerate(grads):
        np.testing.assert_allclose(g, gradient(f, args, i), rtol=rtol, atol=atol,
                                   err_msg=f"{f.__name__}: d/d arg {i}")
    tangents = tuple(R(size=np.shape(a)) if np.ndim(a) else 0.7 for a in args)
    _, t = srcgrad.jvp(f, args, tangents)
    np.testing.assert_allclose(t, directional(f, args, tangents), rtol=rtol, atol=atol)


@pytest.mark.parametrize(("f", "args"), PROGRAMS, ids=lambda p: getattr(p, "__name__", ""))
def test_program_matches_central_differences(f, args):
    _check(f, args)


def test_fitting_a_normal_by_gradient_descent_finds_the_sample_moments():
    grad = srcgrad.grad(P.normal_nll, wrt=(0, 1))
    mu, log_sigma = 0.0, 0.0
    for _ in range(500):
        gm, gs = grad(mu, log_sigma)
        mu, log_sigma = mu - 0.05 * gm, log_sigma - 0.05 * gs
    assert mu == pytest.approx(np.mean(P.DATA), abs=1e-6)
    assert np.exp(log_sigma) == pytest.approx(np.std(P.DATA), abs=1e-6)


def test_hessian_vector_product_of_the_mvn_likelihood():
    theta, mean = 0.3 * R(size=(3, 3)), R(size=3)
    v = R(size=(3, 3))
    hv = srcgrad.hvp(P.mvn_cholesky_nll, wrt=0)(theta, mean, v)
    g = srcgrad.grad(P.mvn_cholesky_nll, wrt=0)
    eps = 1e-5
    fd = (g(theta + eps * v, mean) - g(theta - eps * v, mean)) / (2 * eps)
    np.testing.assert_allclose(hv, fd, rtol=1e-5, atol=1e-6)


# ---- autograd's scipy.stats cases (functions and arguments) ---------------------------

def _psd(a):
    return a @ a.T + 1e-1 * np.eye(len(a))


def _simplex(k, n=None):
    x = np.abs(R(size=(k,) if n is None else (k, n))) + 0.1
    return x / np.sum(x, axis=0)


_SIMPLEX = _simplex(3)
NORM_ARGS = (R(size=4), R(size=4), R(size=4) ** 2 + 1.1)
AUTOGRAD_CASES = [
    ("norm.pdf", lambda x, m, s: np.sum(stats.norm.pdf(x, m, s)), NORM_ARGS),
    ("norm.cdf", lambda x, m, s: np.sum(stats.norm.cdf(x, m, s)), NORM_ARGS),
    ("norm.logpdf", lambda x, m, s: np.sum(stats.norm.logpdf(x, loc=m, scale=s)),
     NORM_ARGS),
    ("norm.logcdf", lambda x, m, s: np.sum(stats.norm.logcdf(x, m, s)),
     NORM_ARGS),
    ("t.pdf", lambda x, d, m, s: np.sum(stats.t.pdf(x, d, m, s)),
     (R(size=4), R(size=4) ** 2 + 2.1, R(size=4), R(size=4) ** 2 + 2.1)),
    ("t.logpdf", lambda x, d, m, s: np.sum(stats.t.logpdf(x, d, m, s)),
     (R(size=4), R(size=4) ** 2 + 2.1, R(size=4), R(size=4) ** 2 + 2.1)),
    ("t.cdf", lambda x, m, s: np.sum(stats.t.cdf(x, 3.1, m, s)),
     (R(size=4), R(size=4), R(size=4) ** 2 + 2.1)),
    ("gamma.logpdf", lambda x, a: np.sum(stats.gamma.logpdf(x, a)),
     (R(size=4) ** 2 + 0.5, R(size=4) ** 2 + 1.1)),
    ("beta.logpdf", lambda x, a, b: np.sum(stats.beta.logpdf(x, a, b)),
     (np.array([0.2, 0.4, 0.6, 0.8]), R(size=4) ** 2 + 1.1, R(size=4) ** 2 + 1.1)),
    ("poisson.logpmf", lambda mu: np.sum(stats.poisson.logpmf(np.array([0.0, 1.0, 4.0, 2.0]), mu)),
     (R(size=4) ** 2 + 1.1,)),
    ("poisson.pmf", lambda mu: np.sum(stats.poisson.pmf(np.array([0.0, 1.0, 4.0, 2.0]), mu)),
     (R(size=4) ** 2 + 1.1,)),
    ("mvn.logpdf", lambda x, m, c: np.sum(stats.multivariate_normal.logpdf(x, m, c)),
     (R(size=4), R(size=4), _psd(R(size=(4, 4))))),
    ("mvn.logpdf broadcast", lambda x, m, c: np.sum(stats.multivariate_normal.logpdf(x, m, c)),
     (R(size=(5, 4)), R(size=4), _psd(R(size=(4, 4))))),
    ("mvn.pdf", lambda x, m, c: np.sum(stats.multivariate_normal.pdf(x, m, c)),
     (R(size=3), R(size=3), _psd(R(size=(3, 3))))),
    ("dirichlet.logpdf", lambda a: np.sum(stats.dirichlet.logpdf(_SIMPLEX, a)),
     (R(size=3) ** 2 + 0.5,)),
    ("dirichlet.pdf", lambda x, a: np.sum(stats.dirichlet.pdf(x, a)),
     (_simplex(3, 4)[:2], R(size=3) ** 2 + 1.5)),
]


@pytest.mark.parametrize(("name", "fn", "args"), AUTOGRAD_CASES,
                         ids=[c[0] for c in AUTOGRAD_CASES])
def test_autograd_case(name, fn, args):
    _check(fn, args)


# ---- refusals, located at the user's line ----------------------------------------------

def test_a_cdf_in_its_shape_parameter_is_a_located_refusal():
    with pytest.raises(srcgrad.NoDerivativeRule, match="not differentiable with respect to "
                       "its argument 'df'") as info:
        srcgrad.grad(P.t_df_in_cdf, wrt=1)(np.array([0.1, 0.5]), 3.0)
    assert "stats_programs.py" in str(info.value)
    assert "stats.t.cdf(x, df)" in str(info.value)  # the line, shown


def test_a_cdf_with_a_constant_shape_parameter_is_differentiated():
    x = np.array([0.1, 0.5])
    np.testing.assert_allclose(srcgrad.grad(P.t_df_in_cdf, wrt=0)(x, 3.0), stats.t.pdf(x, 3.0))


def test_a_frozen_distribution_is_a_located_refusal_naming_the_method_to_call():
    with pytest.raises(srcgrad.UnsupportedSyntax, match="frozen distribution") as info:
        srcgrad.grad(P.frozen_normal, wrt=1)(np.array([0.1, 0.5]), 0.3)
    assert "stats.norm.logpdf(x, mu, s)" in str(info.value)
    assert "stats_programs.py" in str(info.value)


def test_mvn_without_a_mean_is_a_located_refusal():
    def f(x):
        return np.sum(stats.multivariate_normal.logpdf(x))
    with pytest.raises(srcgrad.UnsupportedSyntax, match="'mean'"):
        srcgrad.grad(f)(np.array([0.1, 0.5]))


def test_a_tuple_display_of_a_differentiated_factor_is_a_located_refusal():
    a = np.eye(3) * 2.0 + 0.1
    with pytest.raises(srcgrad.NoDerivativeRule, match="tuple of differentiable values") as info:
        srcgrad.grad(L.tuple_display)(a, np.ones(3))
    assert "scipy_linalg_programs.py" in str(info.value)


# ---- tails: far out, the log forms keep a finite, correct derivative -------------------

def norm_logcdf(x):
    return np.sum(stats.norm.logcdf(x))


def norm_logsf(x):
    return np.sum(stats.norm.logsf(x))


def test_norm_log_tails_far_out_have_finite_correct_derivatives():
    import scipy.special as special
    x = np.array([-40.0, -10.0, 0.5])
    # d/dx log Phi(x) = phi(x) / Phi(x) = exp(log phi(x) - log_ndtr(x)), by hand
    want = np.exp(-0.5 * x ** 2 - 0.5 * np.log(2 * np.pi) - special.log_ndtr(x))
    assert np.all(np.isfinite(want)) and want[0] > 40.0
    np.testing.assert_allclose(srcgrad.grad(norm_logcdf)(x), want, rtol=1e-12)
    np.testing.assert_allclose(srcgrad.grad(norm_logsf)(-x), -want, rtol=1e-12)
    _, tangent = srcgrad.jvp(norm_logcdf, (x,), (np.ones(3),))
    np.testing.assert_allclose(tangent, np.sum(want), rtol=1e-12)


def gamma_sf_in_a(x, a):
    return np.sum(stats.gamma.sf(x, a))


def beta_logsf_in_b(x, b):
    return np.sum(stats.beta.logsf(x, 2.0, b))


@pytest.mark.parametrize("f, param", [(gamma_sf_in_a, "a"), (beta_logsf_in_b, "b")],
                         ids=["gamma.sf", "beta.logsf"])
def test_a_tail_in_its_shape_parameter_is_a_located_refusal(f, param):
    with pytest.raises(srcgrad.NoDerivativeRule, match="not differentiable with respect to "
                       f"its argument '{param}'") as info:
        srcgrad.grad(f, wrt=1)(np.array([0.3, 0.5]), 2.5)
    assert info.value.loc.line == f.__code__.co_firstlineno + 1
    assert "no closed form" in str(info.value)  # why
    assert "stop_gradient" in str(info.value)  # what to write instead
