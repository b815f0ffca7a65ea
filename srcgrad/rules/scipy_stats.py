"""Rules for scipy.stats log-densities users fit by gradient (issue 20), when SciPy is
installed (an optional dependency).

Contract: ``stats.norm.logpdf`` is a bound method of a distribution object; bound methods
compare and hash by their object and function, so each rule is keyed on the bound method
itself (``stats.norm.logpdf``, ``stats.t.cdf``), as the frontend resolves the call. The
partials are the densities' formulas differentiated by hand, in the data ``x`` and the
parameters (``loc``, ``scale``, shape parameters), keyword or positional; they call only
ruled functions (NumPy, ``scipy.special``, the densities themselves), so second order
comes from their own rules. Where a derivative has no closed form (a cdf in a shape
parameter: the incomplete gamma or beta function's), that parameter is declared
non-differentiable: passing a differentiated value there is a located error. Survival
functions (``sf``, ``logsf``) and ``norm.logcdf`` have the cdf's partials in x, loc and
scale, negated and divided by the value as needed; the log forms take the ratio density /
tail as ``exp(logpdf - ans)`` so that it stays finite far in the tail
(``norm.logcdf(-40)``). ``norm.ppf`` is differentiated as the inverse of the cdf. SciPy
computes these in float64 (float32 input is upcast); the gradients follow its result.

``multivariate_normal.logpdf``/``pdf`` (x's last axis is the dimension; ``mean`` is
required; ``cov`` a scalar, a diagonal or a matrix) and ``dirichlet.logpdf``/``pdf`` (x's
first axis holds the components, all of them or one fewer) go through the helpers of
``srcgrad.runtime.stats``. SciPy reads only the lower triangle of a matrix ``cov``, so
the gradient in ``cov`` is that of the function SciPy computes: the off-diagonal share
of a symmetric gradient goes to the lower entry, none to the upper one (the same
derivative along any symmetric direction, as with ``cov = L @ L.T``). A dirichlet ``x``
with all components must sum to 1 (SciPy checks it): its gradient is the partials
``(alpha - 1) / x``, along any direction, as on the simplex.
"""

from dataclasses import replace
from typing import Any

import numpy as np

from ..runtime import stats as rt_stats
from ..runtime import unbroadcast
from .registry import Table, exported

try:
    import scipy.special as special
    import scipy.stats as stats
except ImportError:  # SciPy is optional: no rules, no spec rows
    special = stats = None

table = Table({"np": np, "special": special, "stats": stats,
               "unbroadcast": unbroadcast, **exported(rt_stats)})
P, V = table.partials, table.vjp
# The rules of the helpers (srcgrad.runtime.stats), joined to rules/helpers.py's: each is
# linear in its first argument; reverse mode applies its transpose.
helper_table = Table({"np": np, **exported(rt_stats)})

# z: the standardized value (x - loc) / scale
_Z = "((x - loc) / scale)"


_NO_CLOSED_FORM = ("its derivative in a shape parameter is that of an incomplete gamma or "
                   "beta function in its parameter, which has no closed form")


def _partial_of(fn: object, params: str, name: str, why: str = _NO_CLOSED_FORM,
                **partials: str) -> None:
    """An elementwise rule given by the partials of some parameters only: a differentiated
    value reaching another one (a cdf's shape parameter, Poisson's counts k) is a located
    NoDerivativeRule that says ``why`` (a partials rule would take its derivative as zero)."""
    shares: dict[str, Any] = {p: f"g * ({e})" for p, e in partials.items()}
    shares.update({f"jvp_{p}": f"({e}) * dot" for p, e in partials.items()})
    V(fn, params, name=name, result="elementwise", broadcasting=True, **shares)
    table.rules[fn][-1] = replace(table.rules[fn][-1], why=why)


def _cdf(dist: str, args: str) -> dict[str, str]:
    """The partials of a cdf in x, loc and scale: its density at x, scaled."""
    pdf = f"stats.{dist}.pdf({args}, loc, scale)"
    return {"x": pdf, "loc": f"-{pdf}", "scale": f"-{pdf} * {_Z}"}


def _sf(dist: str, args: str) -> dict[str, str]:
    """The partials of a survival function (1 - cdf) in x, loc and scale: the cdf's,
    negated."""
    return {p: f"-({e})" for p, e in _cdf(dist, args).items()}


def _logsf(dist: str, args: str) -> dict[str, str]:
    """The partials of a log survival function in x, loc and scale: the sf's over sf, as
    exp(logpdf - logsf) (``ans``), a ratio that stays finite in the far tail where the
    density and sf both underflow."""
    ratio = f"np.exp(stats.{dist}.logpdf({args}, loc, scale) - ans)"
    return {"x": f"-{ratio}", "loc": ratio, "scale": f"{ratio} * {_Z}"}


def _tails(dist: Any, params: str, args: str) -> None:
    """sf and logsf in x, loc and scale; a shape parameter is a located refusal."""
    name = dist.name
    _partial_of(dist.sf, params, f"stats.{name}.sf", **_sf(name, args))
    _partial_of(dist.logsf, params, f"stats.{name}.logsf", **_logsf(name, args))


def _density(dist: Any, params: str, *partials: str) -> None:
    """A distribution's ``logpdf`` from the partials of the log-density, and its ``pdf``
    from the same ones times the density (``d pdf = pdf * d logpdf``)."""
    name = f"stats.{dist.name}"
    P(dist.logpdf, params, *partials, name=f"{name}.logpdf")
    P(dist.pdf, params, *(f"ans * ({d})" for d in partials), name=f"{name}.pdf")


def _univariate() -> None:
    # ---- normal: logpdf = -z^2/2 - log(scale) - log(2 pi)/2 --------------------------
    norm = stats.norm
    _density(norm, "x, loc=0.0, scale=1.0", f"-{_Z} / scale", f"{_Z} / scale",
             f"({_Z} ** 2 - 1) / scale")
    P(norm.cdf, "x, loc=0.0, scale=1.0", "stats.norm.pdf(x, loc, scale)",
      "-stats.norm.pdf(x, loc, scale)", f"-stats.norm.pdf(x, loc, scale) * {_Z}",
      name="stats.norm.cdf")
    P(norm.logcdf, "x, loc=0.0, scale=1.0", "np.exp(stats.norm.logpdf(x, loc, scale) - ans)",
      "-np.exp(stats.norm.logpdf(x, loc, scale) - ans)",
      f"-np.exp(stats.norm.logpdf(x, loc, scale) - ans) * {_Z}", name="stats.norm.logcdf")
    P(norm.sf, "x, loc=0.0, scale=1.0", *_sf("norm", "x").values(), name="stats.norm.sf")
    P(norm.logsf, "x, loc=0.0, scale=1.0", *_logsf("norm", "x").values(),
      name="stats.norm.logsf")
    # ppf: x = loc + scale * ndtri(q); dx/dq = 1 / pdf(x), its inverse's derivative
    P(norm.ppf, "q, loc=0.0, scale=1.0", "1 / stats.norm.pdf(ans, loc, scale)", "1",
      "(ans - loc) / scale", name="stats.norm.ppf")
    # ---- Student t: logpdf = gammaln((df+1)/2) - gammaln(df/2) - log(df pi)/2
    #      - log(scale) - (df+1)/2 log1p(z^2/df) -------------------------------------------
    t = stats.t
    dz = f"(-(df + 1) * {_Z} / (df + {_Z} ** 2))"  # d logpdf / dz
    ddf = (f"(0.5 * special.digamma((df + 1) / 2) - 0.5 * special.digamma(df / 2) - 0.5 / df"
           f" - 0.5 * np.log1p({_Z} ** 2 / df) + (df + 1) * {_Z} ** 2"
           f" / (2 * df * (df + {_Z} ** 2)))")
    dscale = f"(-(1 + {_Z} * {dz}) / scale)"
    _density(t, "x, df, loc=0.0, scale=1.0", f"{dz} / scale", ddf, f"-{dz} / scale", dscale)
    _partial_of(t.cdf, "x, df, loc=0.0, scale=1.0", "stats.t.cdf", **_cdf("t", "x, df"))
    _tails(t, "x, df, loc=0.0, scale=1.0", "x, df")
    # ---- gamma: logpdf = (a-1) log z - z - gammaln(a) - log(scale) ------------------------
    gamma = stats.gamma
    dzg = f"((a - 1) / {_Z} - 1)"
    dag = f"(np.log({_Z}) - special.digamma(a))"
    dsg = f"(({_Z} - a) / scale)"
    _density(gamma, "x, a, loc=0.0, scale=1.0", f"{dzg} / scale", dag, f"-{dzg} / scale", dsg)
    _partial_of(gamma.cdf, "x, a, loc=0.0, scale=1.0", "stats.gamma.cdf", **_cdf("gamma", "x, a"))
    _tails(gamma, "x, a, loc=0.0, scale=1.0", "x, a")
    # ---- beta: logpdf = (a-1) log z + (b-1) log(1-z) - betaln(a, b) - log(scale) ---------
    beta = stats.beta
    dzb = f"((a - 1) / {_Z} - (b - 1) / (1 - {_Z}))"
    dab = f"(np.log({_Z}) - special.digamma(a) + special.digamma(a + b))"
    dbb = f"(np.log1p(-{_Z}) - special.digamma(b) + special.digamma(a + b))"
    dsb = f"((-a + (b - 1) * {_Z} / (1 - {_Z})) / scale)"
    _density(beta, "x, a, b, loc=0.0, scale=1.0", f"{dzb} / scale", dab, dbb,
             f"-{dzb} / scale", dsb)
    _partial_of(beta.cdf, "x, a, b, loc=0.0, scale=1.0", "stats.beta.cdf",
                **_cdf("beta", "x, a, b"))
    _tails(beta, "x, a, b, loc=0.0, scale=1.0", "x, a, b")
    # ---- Poisson: logpmf = k log(mu) - mu - gammaln(k+1); k and loc are integers ---------
    counts = "k and loc are integer counts"
    _partial_of(stats.poisson.logpmf, "k, mu, loc=0", "stats.poisson.logpmf", counts,
                mu="(k - loc) / mu - 1")
    _partial_of(stats.poisson.pmf, "k, mu, loc=0", "stats.poisson.pmf", counts,
                mu="ans * ((k - loc) / mu - 1)")


def _mvn(name: str, fn: object, factor: str) -> None:
    """multivariate_normal.logpdf (factor "1") or .pdf (factor "ans"): the rows of x
    (its last axis is the dimension) against mean and the covariance C SciPy reads;
    S = C^-1 (x - mean) per row."""
    c = "mvn_cov(cov, x)"
    s = f"np.linalg.solve({c}, (x - mean).T).T"
    gs = f"np.expand_dims(g * {factor}, -1) * {s}"
    share = "np.reshape({} * ({}), np.shape(ans))"
    V(fn, "x, mean, cov=1.0, allow_singular=False", name=name,
      x=f"unbroadcast(-{gs}, x)", mean=f"unbroadcast({gs}, mean)",
      cov=f"mvn_cov_t(0.5 * np.matmul(np.atleast_2d({gs}).T, np.atleast_2d({s}))"
          f" - 0.5 * np.sum(g * {factor}) * np.linalg.inv({c}), cov)",
      jvp_x=share.format(factor, f"-np.sum({s} * dot, axis=-1)"),
      jvp_mean=share.format(factor, f"np.sum({s} * dot, axis=-1)"),
      jvp_cov=share.format(factor, f"-0.5 * np.sum(np.linalg.inv({c}) * mvn_cov(dot, x)) + "
                                   f"0.5 * np.sum({s} * np.matmul({s}, mvn_cov(dot, x)), "
                                   "axis=-1)"))


def _dirichlet(name: str, fn: object, factor: str) -> None:
    """dirichlet.logpdf (factor "1") or .pdf (factor "ans"): x's components on its first
    axis (one fewer than alpha's: completed to 1); logpdf = sum((alpha - 1) log x)
    + gammaln(sum(alpha)) - sum(gammaln(alpha))."""
    xt = "simplex(x, alpha).T"
    dalpha = f"(np.log({xt}) - special.digamma(alpha) + special.digamma(np.sum(alpha)))"
    gf = f"np.expand_dims(g * {factor}, -1)"
    share = "np.reshape({} * np.sum({}, axis=-1), np.shape(ans))"
    V(fn, "x, alpha", name=name,
      x=f"simplex_t(({gf} * (alpha - 1) / {xt}).T, x)",
      alpha=f"unbroadcast({gf} * {dalpha}, alpha)",
      jvp_x=share.format(factor, "(alpha - 1) * (simplex_dot(dot, alpha) / simplex(x, alpha)).T"),
      jvp_alpha=share.format(factor, f"dot * {dalpha}"))


def _helpers() -> None:
    h = helper_table.vjp
    h(rt_stats.mvn_cov, "cov, x", cov="mvn_cov_t(g, cov)", zero=("x",), linear=True)
    h(rt_stats.mvn_cov_t, "c, cov", c="mvn_cov(g, c)", zero=("cov",), linear=True)
    h(rt_stats.simplex, "x, alpha", x="simplex_t(g, x)", jvp_x="simplex_dot(dot, alpha)",
      zero=("alpha",))
    h(rt_stats.simplex_dot, "dot, alpha", dot="simplex_t(g, dot)", zero=("alpha",),
      linear=True)
    h(rt_stats.simplex_t, "c, x", c="simplex_dot(g, c)", zero=("x",), linear=True)


_helpers()
if stats is not None:
    _univariate()
    mvn, dirichlet = stats.multivariate_normal, stats.dirichlet
    _mvn("stats.multivariate_normal.logpdf", mvn.logpdf, "1")
    _mvn("stats.multivariate_normal.pdf", mvn.pdf, "ans")
    _dirichlet("stats.dirichlet.logpdf", dirichlet.logpdf, "1")
    _dirichlet("stats.dirichlet.pdf", dirichlet.pdf, "ans")
