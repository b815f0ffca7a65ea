"""Rules for the NumPy functions ported code uses (issue 20): ``np.gradient``,
``np.rollaxis``, ``np.interp``, ``np.convolve``, ``np.correlate``, ``np.polyval`` and
``np.polyder``, and ``np.linalg.lstsq`` (for an ``a`` of full column rank: elsewhere a
run-time error says so; ``rank`` is not differentiable).

Same form as rules/numpy.py: one line per primitive, both modes. The adjoints that are
more than an expression are functions of ``srcgrad.runtime.ported``. What is constant:
the spacings of ``np.gradient`` (scalars or coordinate arrays), ``xp`` (and ``left``,
``right``) of ``np.interp``; a differentiated value passed there is a located error.
``np.interp``'s ``period`` is not in the rule's signature, so a call with it is refused
where it is written, with the hint below (what NumPy itself does for ``period``). A
``np.select`` the frontend cannot lower (its lists built at run time) has no rule: its
hint says to write the lists in the call. ``np.gradient`` returns one array per axis
(a tuple) for more than one axis, one array for one: its result is of kind "any" (not
"list": a slice of the 1-d result is an array), and its adjoint takes the tuple's
adjoints as a list.
"""

import numpy as np

from ..runtime import ported
from .registry import Table, exported

table = Table({"np": np, **exported(ported)})
P, V, N = table.partials, table.vjp, table.nondiff

V(np.gradient, "f, *varargs, axis=None, edge_order=1", seq=False, linear=True,
  f="gradient_grad(g, f, axis, edge_order, *varargs)")
V(np.rollaxis, "a, axis, start=0", linear=True,
  a="np.moveaxis(g, rollaxis_dest(np.ndim(a), axis, start), axis)")
V(np.interp, "x, xp, fp, left=None, right=None",
  x="g * interp_slope(x, xp, fp)", jvp_x="dot * interp_slope(x, xp, fp)",
  fp="interp_fp_grad(g, x, xp, left, right)", jvp_fp="interp_fp_jvp(dot, x, xp, left, right)")
V(np.convolve, "a, v, mode='full'", a="convolve_grad(g, a, v, mode)",
  v="convolve_grad(g, v, a, mode)", jvp_a="np.convolve(dot, v, mode)",
  jvp_v="np.convolve(a, dot, mode)")
V(np.correlate, "a, v, mode='valid'", a="correlate_grad_a(g, a, v, mode)",
  v="correlate_grad_v(g, a, v, mode)", jvp_a="np.correlate(dot, v, mode)",
  jvp_v="np.correlate(a, dot, mode)")
# polyval(p, x) = sum_i p[i] x**(n-1-i): linear in p (a Vandermonde product).
V(np.polyval, "p, x", p="np.dot(np.ravel(g), poly_powers(x, np.size(p), 0))",
  x="g * np.polyval(np.polyder(p), x)", jvp_p="np.polyval(dot, x)",
  jvp_x="dot * np.polyval(np.polyder(p), x)")
V(np.polyder, "p, m=1", p="polyder_grad(g, p, m)", linear=True)

# lstsq: (x, residuals, rank, s) for an a of full column rank (lstsq_gram checks it at run
# time): x = (a^T a)^-1 a^T b, residuals = |b - a x|^2 per column, s the singular values.
R = "(b - np.matmul(a, ans[0]))"
Z = "np.linalg.solve(lstsq_gram(a, ans[2]), g[0])"
W = "np.resize(g[1], np.shape(np.sum(b, axis=0)))"  # the residuals' adjoint (empty: 0)
SVD = "np.linalg.svd(a, full_matrices=False)"
V(np.linalg.lstsq, "a, b, rcond=None", result="list",
  a=f"col_outer({R}, {Z}) - col_outer(np.matmul(a, {Z}), ans[0])"
    f" - 2 * col_outer({R} * {W}, ans[0]) + np.matmul({SVD}[0] * g[3], {SVD}[2])",
  b=f"np.matmul(a, {Z}) + 2 * {R} * {W}",
  jvp_a="lstsq_jvp_a(dot, a, b, ans)", jvp_b="lstsq_jvp_b(dot, a, b, ans)")

table.hint(np.interp, "np.interp takes x, xp, fp, left=, right= here (period= is not "
           "supported). For a periodic table write what NumPy does: xp = xp % period; "
           "o = np.argsort(xp); xp, fp = xp[o], fp[o]; xp = np.concatenate([xp[-1:] - period, "
           "xp, xp[:1] + period]); fp = np.concatenate([fp[-1:], fp, fp[:1]]); then "
           "np.interp(x % period, xp, fp).")
table.hint(np.select, "np.select is differentiated when its condition and choice lists are "
           "written in the call or known while lowering (np.select([x > 0, x < -1], [x, -x], "
           "0.0)); for lists built at run time, nest np.where from the last condition: "
           "out = default; then out = np.where(cond, choice, out) for each pair, last first.")
