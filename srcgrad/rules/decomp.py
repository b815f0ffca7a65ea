"""Rules for matrix decompositions (issue 6): numpy.linalg functions whose result is a
tuple (slogdet, qr, eigh, svd) or a factor (cholesky, pinv).

A tuple-valued primitive is declared with ``result="list"``: its adjoint ``g`` is a
list with one entry per output (zeros for an output the program never reads), and its
tangent expression returns a tuple in the same order. The adjoints and tangents are
functions of ``srcgrad.runtime.decomp``.
"""

import numpy as np

from ..runtime import decomp
from .registry import Table, exported

table = Table({"np": np, **exported(decomp)})
P, V, N = table.partials, table.vjp, table.nondiff

V(np.linalg.slogdet, "a", result="list", a="slogdet_grad(g, a, ans)",
  jvp_a="slogdet_jvp(dot, a, ans)")
# cholesky, eigh, eigvalsh (and svd, pinv with hermitian=True) read one triangle of a, as
# LAPACK does: the adjoint lands on that triangle, the other gets zero.
V(np.linalg.cholesky, "a, upper=False", a="cholesky_grad(g, a, ans, upper)",
  jvp_a="cholesky_jvp(dot, a, ans, upper)")
V(np.linalg.qr, "a, mode='reduced'", result="list", a="qr_grad(g, a, ans, mode)",
  jvp_a="qr_jvp(dot, a, ans, mode)")
V(np.linalg.eigh, "a, UPLO='L'", result="list", a="eigh_grad(g, a, ans, UPLO)",
  jvp_a="eigh_jvp(dot, a, ans, UPLO)")
V(np.linalg.eigvalsh, "a, UPLO='L'", a="eigvalsh_grad(g, a, UPLO)",
  jvp_a="eigvalsh_jvp(dot, a, UPLO)")
# A list (U, S, Vh), or the array S when compute_uv=False: add_adjoints handles both.
V(np.linalg.svd, "a, full_matrices=True, compute_uv=True, hermitian=False", result="list",
  a="svd_grad(g, a, ans, full_matrices, compute_uv, hermitian)",
  jvp_a="svd_jvp(dot, a, ans, full_matrices, compute_uv, hermitian)")
if hasattr(np.linalg, "svdvals"):  # NumPy >= 2.0
    V(np.linalg.svdvals, "x", x="svdvals_grad(g, x)", jvp_x="svdvals_jvp(dot, x)")
V(np.linalg.pinv, "a, rcond=None, hermitian=False, rtol=None",
  a="pinv_grad(g, a, ans, hermitian)", jvp_a="pinv_jvp(dot, a, ans, hermitian)")
