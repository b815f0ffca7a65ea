"""Rules for linear algebra (issue 6): numpy.linalg and products.

Same form as rules/numpy.py: one line per primitive, both modes. The adjoints and
tangents that are more than an expression are functions of ``srcgrad.runtime.linalg``.
"""

import numpy as np

from .. import runtime
from ..runtime import linalg
from .registry import Table, exported

table = Table({"np": np, **{name: getattr(runtime, name) for name in ("expand", "unbroadcast")},
               **exported(linalg)})
P, V, N = table.partials, table.vjp, table.nondiff

V(np.trace, "a, offset=0, axis1=0, axis2=1", a="trace_grad(g, a, offset, axis1, axis2)",
  linear=True)
V(np.vdot, "a, b", a="np.reshape(g * np.ravel(b), np.shape(a))",
  b="np.reshape(g * np.ravel(a), np.shape(b))", jvp_a="np.vdot(dot, b)", jvp_b="np.vdot(a, dot)")
V(np.inner, "a, b", a="inner_grad_a(g, a, b)", b="inner_grad_b(g, a, b)",
  jvp_a="np.inner(dot, b)", jvp_b="np.inner(a, dot)")
V(np.linalg.inv, "a", a="-np.matmul(np.matmul(np.swapaxes(ans, -1, -2), g), "
  "np.swapaxes(ans, -1, -2))", jvp_a="-np.matmul(np.matmul(ans, dot), ans)")
V(np.linalg.solve, "a, b", a="solve_grad_a(g, a, ans)",
  b="np.linalg.solve(np.swapaxes(a, -1, -2), g)", jvp_a="solve_jvp_a(dot, a, ans)",
  jvp_b="np.linalg.solve(a, dot)")
V(np.linalg.det, "a", a="det_grad(g, a, ans)", jvp_a="det_jvp(dot, a, ans)")
V(np.tensordot, "a, b, axes=2", a="tensordot_grad_a(g, a, b, axes)",
  b="tensordot_grad_b(g, a, b, axes)", jvp_a="np.tensordot(dot, b, axes)",
  jvp_b="np.tensordot(a, dot, axes)")
V(np.kron, "a, b", a="kron_grad_a(g, a, b)", b="kron_grad_b(g, a, b)",
  jvp_a="np.kron(dot, b)", jvp_b="np.kron(a, dot)")
V(np.linalg.norm, "x, ord=None, axis=None, keepdims=False",
  x="norm_grad(g, x, ans, ord, axis, keepdims)",
  jvp_x="norm_jvp(dot, x, ans, ord, axis, keepdims)")
V(np.linalg.matrix_power, "a, n", a="matrix_power_grad(g, a, n)",
  jvp_a="matrix_power_jvp(dot, a, n)")
V(np.einsum, "subscripts, *operands, optimize=False", seq=False,
  operands="einsum_grad(g, subscripts, index, *operands)",
  jvp_operands="einsum_jvp(dot, subscripts, index, *operands)")
V(np.cross, "a, b, axisa=-1, axisb=-1, axisc=-1, axis=None",
  a="cross_grad(g, a, b, axisa, axisb, axisc, axis, 0)",
  b="cross_grad(g, a, b, axisa, axisb, axisc, axis, 1)",
  jvp_a="np.cross(dot, b, axisa, axisb, axisc, axis)",
  jvp_b="np.cross(a, dot, axisa, axisb, axisc, axis)")
