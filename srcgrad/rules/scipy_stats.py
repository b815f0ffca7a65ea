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
non-differentiable: passing a differentiated value there is a located error. SciPy
computes these in float64 (float32 input is upcast); the gradients follow its result.
"""

import numpy as np

from .registry import Table

try:
    import scipy.special as special
    import scipy.stats as stats
except ImportError:  # SciPy is optional: no rules, no spec rows
    special = stats = None

table = Table({"np": np, "special": special, "stats": stats})
P, V = table.partials, table.vjp

# z: the standardized value (x - loc) / scale
_Z = "((x - loc) / scale)"


def _univariate() -> None:
    # ---- normal: logpdf = -z^2/2 - log(scale) - log(2 pi)/2 --------------------------
    norm = stats.norm
    P(norm.logpdf, "x, loc=0.0, scale=1.0", f"-{_Z} / scale", f"{_Z} / scale",
      f"({_Z} ** 2 - 1) / scale", name="stats.norm.logpdf")
    P(norm.pdf, "x, loc=0.0, scale=1.0", f"-ans * {_Z} / scale", f"ans * {_Z} / scale",
      f"ans * ({_Z} ** 2 - 1) / scale", name="stats.norm.pdf")
    P(norm.cdf, "x, loc=0.0, scale=1.0", "stats.norm.pdf(x, loc, scale)",
      "-stats.norm.pdf(x, loc, scale)", f"-stats.norm.pdf(x, loc, scale) * {_Z}",
      name="stats.norm.cdf")
    P(norm.logcdf, "x, loc=0.0, scale=1.0", "np.exp(stats.norm.logpdf(x, loc, scale) - ans)",
      "-np.exp(stats.norm.logpdf(x, loc, scale) - ans)",
      f"-np.exp(stats.norm.logpdf(x, loc, scale) - ans) * {_Z}", name="stats.norm.logcdf")
    # ---- Student t: logpdf = gammaln((df+1)/2) - gammaln(df/2) - log(df pi)/2
    #      - log(scale) - (df+1)/2 log1p(z^2/df) -------------------------------------------
    t = stats.t
    dz = f"(-(df + 1) * {_Z} / (df + {_Z} ** 2))"  # d logpdf / dz
    ddf = (f"(0.5 * special.digamma((df + 1) / 2) - 0.5 * special.digamma(df / 2) - 0.5 / df"
           f" - 0.5 * np.log1p({_Z} ** 2 / df) + (df + 1) * {_Z} ** 2"
           f" / (2 * df * (df + {_Z} ** 2)))")
    dscale = f"(-(1 + {_Z} * {dz}) / scale)"
    P(t.logpdf, "x, df, loc=0.0, scale=1.0", f"{dz} / scale", ddf, f"-{dz} / scale", dscale,
      name="stats.t.logpdf")
    P(t.pdf, "x, df, loc=0.0, scale=1.0", f"ans * {dz} / scale", f"ans * {ddf}",
      f"-ans * {dz} / scale", f"ans * {dscale}", name="stats.t.pdf")
    P(t.cdf, "x, df, loc=0.0, scale=1.0", "stats.t.pdf(x, df, loc, scale)", None,
      "-stats.t.pdf(x, df, loc, scale)", f"-stats.t.pdf(x, df, loc, scale) * {_Z}",
      name="stats.t.cdf")
    # ---- gamma: logpdf = (a-1) log z - z - gammaln(a) - log(scale) ------------------------
    gamma = stats.gamma
    dzg = f"((a - 1) / {_Z} - 1)"
    dag = f"(np.log({_Z}) - special.digamma(a))"
    dsg = f"(({_Z} - a) / scale)"
    P(gamma.logpdf, "x, a, loc=0.0, scale=1.0", f"{dzg} / scale", dag, f"-{dzg} / scale", dsg,
      name="stats.gamma.logpdf")
    P(gamma.pdf, "x, a, loc=0.0, scale=1.0", f"ans * {dzg} / scale", f"ans * {dag}",
      f"-ans * {dzg} / scale", f"ans * {dsg}", name="stats.gamma.pdf")
    P(gamma.cdf, "x, a, loc=0.0, scale=1.0", "stats.gamma.pdf(x, a, loc, scale)", None,
      "-stats.gamma.pdf(x, a, loc, scale)", f"-stats.gamma.pdf(x, a, loc, scale) * {_Z}",
      name="stats.gamma.cdf")
    # ---- beta: logpdf = (a-1) log z + (b-1) log(1-z) - betaln(a, b) - log(scale) ---------
    beta = stats.beta
    dzb = f"((a - 1) / {_Z} - (b - 1) / (1 - {_Z}))"
    dab = f"(np.log({_Z}) - special.digamma(a) + special.digamma(a + b))"
    dbb = f"(np.log1p(-{_Z}) - special.digamma(b) + special.digamma(a + b))"
    dsb = f"((-a + (b - 1) * {_Z} / (1 - {_Z})) / scale)"
    P(beta.logpdf, "x, a, b, loc=0.0, scale=1.0", f"{dzb} / scale", dab, dbb,
      f"-{dzb} / scale", dsb, name="stats.beta.logpdf")
    P(beta.pdf, "x, a, b, loc=0.0, scale=1.0", f"ans * {dzb} / scale", f"ans * {dab}",
      f"ans * {dbb}", f"-ans * {dzb} / scale", f"ans * {dsb}", name="stats.beta.pdf")
    P(beta.cdf, "x, a, b, loc=0.0, scale=1.0", "stats.beta.pdf(x, a, b, loc, scale)", None,
      None, "-stats.beta.pdf(x, a, b, loc, scale)",
      f"-stats.beta.pdf(x, a, b, loc, scale) * {_Z}", name="stats.beta.cdf")
    # ---- Poisson: logpmf = k log(mu) - mu - gammaln(k+1); k and loc are integers ---------
    P(stats.poisson.logpmf, "k, mu, loc=0", None, "(k - loc) / mu - 1",
      None, name="stats.poisson.logpmf")
    P(stats.poisson.pmf, "k, mu, loc=0", None, "ans * ((k - loc) / mu - 1)", None,
      name="stats.poisson.pmf")


if stats is not None:
    _univariate()
