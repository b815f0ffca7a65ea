"""Rules for matrix decompositions (issue 6): numpy.linalg functions whose result is a
tuple (slogdet, qr, eigh, svd) or a factor (cholesky, pinv).

A tuple-valued primitive is declared with ``result="list"``: its adjoint ``g`` is a
list with one entry per output (zeros for an output the program never reads), and its
tangent expression returns a tuple in the same order.
"""

import numpy as np

from .registry import Table


def _t(a):
    return np.swapaxes(a, -1, -2)


def slogdet_grad(g, a, ans):
    """Adjoint of ``(sign, logabsdet) = slogdet(a)``: only logabsdet is differentiable."""
    return np.asarray(g[1])[..., None, None] * _t(np.linalg.inv(a))


def slogdet_jvp(dot, a, ans):
    return (np.zeros(np.shape(ans[0])),
            np.trace(np.linalg.solve(a, dot), axis1=-2, axis2=-1))


table = Table({"np": np, **{f.__name__: f for f in (slogdet_grad, slogdet_jvp)}})
P, V, N = table.partials, table.vjp, table.nondiff

V(np.linalg.slogdet, "a", result="list", a="slogdet_grad(g, a, ans)",
  jvp_a="slogdet_jvp(dot, a, ans)")
