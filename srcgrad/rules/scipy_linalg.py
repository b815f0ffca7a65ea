"""Rules for scipy.linalg's matrix functions and solvers and scipy.signal.convolve
(issue 20), when SciPy is installed (an optional dependency).

Contract, per function (both modes; second order from the rules of what the expressions
call, and the helper rules below):

- ``scipy.linalg.expm(A)``: the tangent is the Fréchet derivative ``L(A, dA)`` (the
  upper-right block of ``expm([[A, dA], [0, A]])``), the adjoint ``L(A^T, g)``.
- ``solve_triangular(a, b, trans, lower, unit_diagonal)``: SciPy reads one triangle of
  ``a`` (without its diagonal when ``unit_diagonal``): the gradient in ``a`` is zero
  elsewhere. ``b`` is a vector or a matrix.
- ``solve_sylvester(a, b, q)`` (``a x + x b = q``) and ``sqrtm(A)`` (``x x = A``, its
  derivative solves a Sylvester equation): adjoints solve the transposed equation.
- ``scipy.signal.convolve(in1, in2, mode)``: bilinear; the adjoint of each input
  correlates the output's adjoint (placed in the 'full' output) with the other input.

The helpers are in ``srcgrad.runtime.matfuncs``; their own rules (``helper_table``,
joined to rules/helpers.py's) serve Hessian-vector products and reverse over reverse.
"""

import numpy as np

from ..runtime import complexes, decomp, matfuncs
from .registry import Table, exported

try:
    import scipy.linalg
    import scipy.signal
except ImportError:  # SciPy is optional: no rules, no spec rows
    scipy = None

table = Table({"np": np, "scipy": scipy, **exported(matfuncs),
               "cholesky_grad": decomp.cholesky_grad, "cholesky_jvp": decomp.cholesky_jvp,
               "real_root": complexes.real_root})
helper_table = Table({"np": np, "scipy": scipy, **exported(matfuncs),
               "cholesky_grad": decomp.cholesky_grad, "cholesky_jvp": decomp.cholesky_jvp})
V = table.vjp
_T = "np.swapaxes({}, -1, -2)"

# solve_triangular: the triangle SciPy reads of a matrix M, and op(M) (M or M^T).
_TRI = "np.where(lower, np.tril({0}), np.triu({0}))"
_READ = f"np.where(unit_diagonal, {_TRI} - np.diag(np.diag({_TRI})), {_TRI})"
_OP = "np.where(transposed(trans), ({0}).T, {0})"
_ARGS = "trans, lower, unit_diagonal"


def _solve_triangular() -> None:
    gb = "scipy.linalg.solve_triangular(a, g, 1 - transposed(trans), lower, unit_diagonal)"
    outer = f"np.matmul(np.atleast_2d(({gb}).T).T, np.atleast_2d(ans.T))"  # gb x^T
    jvp_a = (f"-scipy.linalg.solve_triangular(a, np.matmul({_OP.format(_READ.format('dot'))}, "
             f"ans), {_ARGS})")
    V(scipy.linalg.solve_triangular,
      "a, b, trans=0, lower=False, unit_diagonal=False, overwrite_b=False, check_finite=True",
      name="scipy.linalg.solve_triangular", b=gb,
      a=_READ.format(_OP.format(f"-{outer}")),
      jvp_b=f"scipy.linalg.solve_triangular(a, dot, {_ARGS})", jvp_a=jvp_a)


def _cholesky() -> None:
    """cho_factor's c holds the factor F in the triangle it read (lower or upper) and a's
    other entries; cho_solve reads F only, and solves with F F^T (lower) or F^T F."""
    tri = "np.where(lower, np.tril({0}), np.triu({0}))"
    other = "np.where(lower, np.triu({0}, 1), np.tril({0}, -1))"
    factor = tri.format("ans[0]")
    V(scipy.linalg.cho_factor, "a, lower=False, overwrite_a=False, check_finite=True",
      name="scipy.linalg.cho_factor", result="list",
      a=f"cholesky_grad({tri.format('g[0]')}, a, {factor}, np.logical_not(lower)) + "
        f"{other.format('g[0]')}",
      jvp_a=f"cho_pair(cholesky_jvp(dot, a, {factor}, np.logical_not(lower)) + "
            f"{other.format('dot')})")
    low = "np.not_equal(c_and_lower[1], 0)"  # the flag (not differentiable)
    f = f"np.where({low}, np.tril(c_and_lower[0]), np.triu(c_and_lower[0]))"
    gb = "scipy.linalg.cho_solve(c_and_lower, g)"
    sym = (f"(np.matmul(np.atleast_2d(({gb}).T).T, np.atleast_2d(ans.T)) + "
           f"np.matmul(np.atleast_2d(ans.T).T, np.atleast_2d(({gb}).T)))")  # -(gM + gM^T)
    df = f"np.where({low}, np.tril(dot[0]), np.triu(dot[0]))"
    dm = (f"np.where({low}, np.matmul({df}, ({f}).T) + np.matmul({f}, ({df}).T), "
          f"np.matmul(({df}).T, {f}) + np.matmul(({f}).T, {df}))")
    V(scipy.linalg.cho_solve, "c_and_lower, b, overwrite_b=False, check_finite=True",
      name="scipy.linalg.cho_solve", seq=False, b=gb,
      c_and_lower=f"cho_pair(-np.where({low}, np.tril(np.matmul({sym}, {f})), "
                  f"np.triu(np.matmul({f}, {sym}))))",
      jvp_b="scipy.linalg.cho_solve(c_and_lower, dot)",
      jvp_c_and_lower=f"-scipy.linalg.cho_solve(c_and_lower, np.matmul({dm}, ans))")


def _rules() -> None:
    sylvester = "scipy.linalg.solve_sylvester"
    V(scipy.linalg.expm, "A", name="scipy.linalg.expm",
      A=f"expm_frechet({_T.format('A')}, g)", jvp_A="expm_frechet(A, dot)")
    _solve_triangular()
    _cholesky()
    lam = f"{sylvester}(a.T, b.T, g)"
    V(scipy.linalg.solve_sylvester, "a, b, q", name=f"{sylvester}",
      q=lam, a=f"-np.matmul({lam}, ans.T)", b=f"-np.matmul(ans.T, {lam})",
      jvp_q=f"{sylvester}(a, b, dot)", jvp_a=f"{sylvester}(a, b, -np.matmul(dot, ans))",
      jvp_b=f"{sylvester}(a, b, -np.matmul(ans, dot))")
    # (holomorphic; a complex root of a real A, negative eigenvalues, is refused by
    # real_root where it is differentiated: srcgrad took the result for real)
    V(scipy.linalg.sqrtm, "A", name="scipy.linalg.sqrtm", complex=True,
      A=f"{sylvester}(real_root(ans, A).T, real_root(ans, A).T, g)",
      jvp_A=f"{sylvester}(real_root(ans, A), real_root(ans, A), dot)")
    V(scipy.signal.convolve, "in1, in2, mode='full', method='auto'",
      name="scipy.signal.convolve",
      in1="conv_grad1(g, in1, in2, mode)", in2="conv_grad2(g, in1, in2, mode)",
      jvp_in1="scipy.signal.convolve(dot, in2, mode)",
      jvp_in2="scipy.signal.convolve(in1, dot, mode)")


def _helpers() -> None:
    h = helper_table.vjp
    h(matfuncs.expm_frechet, "a, e",
      e=f"expm_frechet({_T.format('a')}, g)",
      a=f"expm_frechet2({_T.format('a')}, {_T.format('e')}, g)",
      jvp_e="expm_frechet(a, dot)", jvp_a="expm_frechet2(a, e, dot)")
    helper_table.nondiff(matfuncs.transposed)
    h(matfuncs.cho_pair, "c", c="g[0]", linear=True)
    h(matfuncs.conv_grad1, "c, in1, in2, mode", zero=("in1",),
      c="scipy.signal.convolve(g, in2, mode)", in2="conv_grad2(c, g, in2, mode)",
      jvp_c="conv_grad1(dot, in1, in2, mode)", jvp_in2="conv_grad1(c, in1, dot, mode)")
    h(matfuncs.conv_grad2, "c, in1, in2, mode", zero=("in2",),
      c="scipy.signal.convolve(in1, g, mode)", in1="conv_grad1(c, in1, g, mode)",
      jvp_c="conv_grad2(dot, in1, in2, mode)", jvp_in1="conv_grad2(c, dot, in2, mode)")


if scipy is not None:
    _rules()
    _helpers()
