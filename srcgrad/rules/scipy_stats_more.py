"""More scipy.stats rules (issue 20: what autograd and JAX differentiate), when SciPy is
installed (an optional dependency).

Contract: as ``rules/scipy_stats.py`` (keyed on the bound methods, ``stats.cauchy.pdf``;
partials written in ruled functions, so second order comes from their own rules; SciPy
computes in float64). A location-scale family is given by ``h(z) = d log f(z) / dz`` of
its standard density ``f`` at ``z = (x - loc) / scale``; every method follows from it:

- ``logpdf = log f(z) - log scale``: d/dx = h / scale, d/dloc = -h / scale,
  d/dscale = -(1 + z h) / scale; ``pdf``: the same times ``ans``;
- ``cdf``: d/dx = pdf, d/dloc = -pdf, d/dscale = -pdf z; ``sf = 1 - cdf``: negated;
  ``logcdf``/``logsf``: divided by ``cdf``/``sf`` (``exp(logpdf - ans)``);
- ``ppf(q) = loc + scale ppf0(q)``: d/dq = 1 / pdf(ans), d/dloc = 1,
  d/dscale = (ans - loc) / scale; ``isf``: d/dq = -1 / pdf(ans).

A shape parameter whose cdf derivative has no closed form (chi2's ``df`` in its cdf,
Student t's in its logcdf) is refused where a differentiated value reaches it.
"""

from typing import Any

import numpy as np

from ..runtime import stats as rt_stats
from .registry import Table, exported

try:
    import scipy.special as special
    import scipy.stats as stats
except ImportError:  # SciPy is optional: no rules, no spec rows
    special = stats = None

table = Table({"np": np, "special": special, "stats": stats, **exported(rt_stats)})
P, V = table.partials, table.vjp

_Z = "((x - loc) / scale)"
_LS = "loc=0.0, scale=1.0"


def _partial_of(fn: object, params: str, name: str, **partials: str) -> None:
    """An elementwise rule in the parameters of ``partials`` only (the others refused)."""
    shares: dict[str, Any] = {p: f"g * ({e})" for p, e in partials.items()}
    shares.update({f"jvp_{p}": f"({e}) * dot" for p, e in partials.items()})
    V(fn, params, name=name, result="elementwise", broadcasting=True, **shares)


def _family(name: str, h: str, methods: tuple[str, ...]) -> None:
    """The ``methods`` of ``stats.<name>``, a location-scale family with d log f/dz = h."""
    dist = getattr(stats, name)
    full = f"stats.{name}"
    hz = h.format(z=_Z)
    dlog = (f"({hz}) / scale", f"-({hz}) / scale", f"-(1 + {_Z} * ({hz})) / scale")
    pdf = f"{full}.pdf(x, loc, scale)"
    ratio = f"np.exp({full}.logpdf(x, loc, scale) - ans)"  # pdf / cdf, pdf / sf
    inv = f"(1 / {full}.pdf(ans, loc, scale))"
    forms = {
        "logpdf": dlog,
        "pdf": tuple(f"ans * ({d})" for d in dlog),
        "cdf": (pdf, f"-{pdf}", f"-{pdf} * {_Z}"),
        "sf": (f"-{pdf}", pdf, f"{pdf} * {_Z}"),
        "logcdf": (ratio, f"-{ratio}", f"-{ratio} * {_Z}"),
        "logsf": (f"-{ratio}", ratio, f"{ratio} * {_Z}"),
    }
    for method in methods:
        fn = getattr(dist, method)
        if method in ("ppf", "isf"):
            sign = "" if method == "ppf" else "-"
            P(fn, f"q, {_LS}", f"{sign}{inv}", "1 + 0 * q", "(ans - loc) / scale",
              name=f"{full}.{method}")
        else:
            P(fn, f"x, {_LS}", *forms[method], name=f"{full}.{method}")


def _chi2() -> None:
    """chi2(df): logpdf = (df/2 - 1) log z - z/2 - df/2 log 2 - gammaln(df/2) - log scale."""
    chi2 = stats.chi2
    dz = f"((df / 2 - 1) / {_Z} - 0.5)"
    ddf = f"(0.5 * np.log({_Z} / 2) - 0.5 * special.digamma(df / 2))"
    ds = f"(-(1 + {_Z} * {dz}) / scale)"
    params = f"x, df, {_LS}"
    P(chi2.logpdf, params, f"{dz} / scale", ddf, f"-{dz} / scale", ds,
      name="stats.chi2.logpdf")
    P(chi2.pdf, params, f"ans * {dz} / scale", f"ans * {ddf}", f"-ans * {dz} / scale",
      f"ans * {ds}", name="stats.chi2.pdf")
    pdf = "stats.chi2.pdf(x, df, loc, scale)"
    _partial_of(chi2.cdf, params, "stats.chi2.cdf", x=pdf, loc=f"-{pdf}", scale=f"-{pdf} * {_Z}")


def _more() -> None:
    t = "stats.t.pdf(x, df, loc, scale)"
    _partial_of(stats.t.logcdf, f"x, df, {_LS}", "stats.t.logcdf",
                **{p: f"{e} / np.exp(ans)" for p, e in
                   (("x", t), ("loc", f"-{t}"), ("scale", f"-{t} * {_Z}"))})
    # P(K <= k) = Q(floor(k - loc) + 1, mu): d/dmu = -pmf(floor(k), mu, loc)
    _partial_of(stats.poisson.cdf, "k, mu, loc=0", "stats.poisson.cdf",
                mu="-stats.poisson.pmf(np.floor(k), mu, loc)")
    # entropy = d/2 (1 + log 2 pi) + log det(C) / 2, C the matrix SciPy reads from cov (its
    # dimension from mean, 1 without one): d/dC = C^-1 / 2; mean has no share
    c = "mvn_cov(cov, np.atleast_1d(mean))"
    V(stats.multivariate_normal.entropy, "mean=None, cov=1.0", zero=("mean",),
      name="stats.multivariate_normal.entropy",
      cov=f"mvn_cov_t(0.5 * g * np.linalg.inv({c}), cov)",
      jvp_cov=f"0.5 * np.sum(np.linalg.inv({c}) * mvn_cov(dot, np.atleast_1d(mean)))")

if stats is not None:
    _family("norm", "-{z}", ("isf",))  # pdf, cdf, sf, logsf, ppf: rules/scipy_stats.py
    _family("cauchy", "-2 * {z} / (1 + {z} ** 2)",
            ("pdf", "logpdf", "cdf", "logcdf", "sf", "logsf", "ppf", "isf"))
    _family("laplace", "-np.sign({z})", ("pdf", "logpdf", "cdf"))
    _family("logistic", "-np.tanh({z} / 2)", ("pdf", "logpdf", "cdf", "sf", "ppf", "isf"))
    _family("expon", "-1 + 0 * {z}", ("pdf", "logpdf", "cdf", "logcdf", "sf", "logsf", "ppf"))
    _family("gumbel_r", "np.exp(-{z}) - 1", ("pdf", "logpdf", "cdf", "logcdf", "sf", "logsf"))
    _family("gumbel_l", "1 - np.exp({z})", ("pdf", "logpdf", "cdf", "logcdf", "sf", "logsf"))
    _chi2()
    _more()
