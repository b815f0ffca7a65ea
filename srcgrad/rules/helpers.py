"""Rules for srcgrad's own run-time helpers and adjoint-only operations.

Generated derivative code calls these; giving them rules lets srcgrad apply
forward mode to its own reverse-mode output (Hessian-vector products). Most
are linear or bilinear in the adjoint ``c`` they transform, so each is one
line: ``linear=True`` (the helper applied to the tangents) or the tangent's
share of each argument. The adjoints of the nonlinear primitives (norms,
decompositions, determinants) also depend nonlinearly on the primal input
and result they are passed: the ``*_jvp_<param>`` functions of
``srcgrad.runtime.second_order`` are those shares. Reverse mode over them is not
provided yet.
"""

from typing import Any

import numpy as np

from .. import runtime as rt
from ..runtime import decomp, linalg, second_order, shape, sorting, special
from .registry import Table, exported

# Rule text calls the adjoint helpers and their tangents (srcgrad.runtime.second_order).
table = Table({"np": np, **{name: getattr(rt, name) for name in (
    "dot_grad_a", "dot_grad_b", "matmul_grad_a", "matmul_grad_b")},
    **exported(linalg, decomp, shape, special, second_order)})
V, N, P = table.vjp, table.nondiff, table.partials
LIN: dict[str, Any] = {"linear": True}

V(rt.unbroadcast, "c, x", forward_only=("c",), **LIN)
V(rt.expand, "c, x, axis, keepdims", forward_only=("c",), **LIN)
V(rt.copy_adjoint, "c", forward_only=("c",), **LIN)
V(rt.as_dtype_of, "c, x", forward_only=("c",), **LIN)
V(rt.sum_to, "c, shape", forward_only=("c",), **LIN)
V(rt.keep, "c, x, axis, keepdims", forward_only=("c",), **LIN)
V(rt.add_adjoints, "a, b", forward_only=("a", "b"), **LIN)
V(rt.unstack, "c, axis", forward_only=("c",), **LIN)
V(rt.as_input, "c, x", forward_only=("c",), **LIN)
V(rt.sum_grad, "c, x", forward_only=("c",), **LIN)
V(rt.unslice, "c, xs, index", forward_only=("c",), **LIN)
V(rt.split_like, "c, xs, axis", forward_only=("c",), **LIN)
V(rt.piece, "c, i, axis, *xs", forward_only=("c",), **LIN)
V(rt.transpose_grad, "c, axes", forward_only=("c",), **LIN)
V(rt.fit, "t, ans", forward_only=("t",), **LIN)
# (a check on the primal side: the value written passes through)
V(rt.disjoint_write, "v, a, n, *index", v="g", jvp_v="dot", zero=("a",))
# (the adjoint of a reads a only for its shape, and likewise for b)
V(rt.dot_grad_a, "c, a, b", jvp_c="dot_grad_a(dot, a, b)", jvp_b="dot_grad_a(c, a, dot)",
  zero=("a",))
V(rt.dot_grad_b, "c, a, b", jvp_c="dot_grad_b(dot, a, b)", jvp_a="dot_grad_b(c, dot, b)",
  zero=("b",))
V(rt.matmul_grad_a, "c, a, b", jvp_c="matmul_grad_a(dot, a, b)",
  jvp_b="matmul_grad_a(c, a, dot)", zero=("a",))
V(rt.matmul_grad_b, "c, a, b", jvp_c="matmul_grad_b(dot, a, b)",
  jvp_a="matmul_grad_b(c, dot, b)", zero=("b",))
P(rt.ln, "x", "1 / x")
V(rt.kept, "c, back", forward_only=("c",), **LIN)
N(rt.write_order, rt.write_marks)
N(rt.seed, rt.zeros_like, rt.argmax_mask, rt.pick, rt.between, rt.below, rt.above, rt.signum)
# Adjoint-only IR operations: forward mode applies each to the tangent's buffer.
for op, params, diff in (("addat", "x, v, *index", ("x", "v")), ("scatter", "x, v, *index",
                         ("x", "v")), ("iadd", "x, v", ("x", "v")), ("droplast", "xs", ("xs",)),
                         ("copyitem", "x, *index", ("x",))):
    table.structural(op, params, *diff, linear=op == "copyitem")


# ---- adjoint helpers of the rule tables -------------------------------------------
# Linear in the adjoint they transform (the first parameter); the others are shapes,
# axes, indices or values read only for their shape or sort order (piecewise constant).
for _fn, _params in (
        (shape.take_grad, "g, a, indices, axis"),
        (shape.repeat_grad, "g, a, repeats, axis"),
        (shape.tile_grad, "g, a, reps"),
        (shape.diag_grad, "g, v, k"),
        (shape.diagonal_grad, "g, a, offset, axis1, axis2"),
        (shape.rot90_grad, "g, k, axes"),
        (shape.pad_grad, "g, array, pad_width"),
        (shape.hstack_grad, "g, which, *xs"),
        (shape.vstack_grad, "g, which, *xs"),
        (shape.column_stack_grad, "g, which, *xs"),
        (shape.dstack_grad, "g, which, *xs"),
        (shape.split_grad, "g, ary, axis"),
        (shape.hsplit_grad, "g, ary"),
        (shape.unstack_grad, "g, x, axis"),
        (shape.append_grad, "g, arr, values, axis, part"),
        (shape.resize_grad, "g, a"),
        (shape.take_along_axis_grad, "g, arr, indices, axis"),
        (linalg.trace_grad, "g, a, offset, axis1, axis2"),
        (sorting.quantile_grad, "g, a, q, axis, keepdims"),
        (sorting.quantile_jvp, "g, a, q, axis, keepdims"),
        (sorting.partition_grad, "g, a, n, axis"),
        (sorting.partition_jvp, "g, a, n, axis"),
        (shape.linspace_grad, "g, x, num, endpoint, axis, part"),
        (shape.meshgrid_grad, "g, which, indexing, *xs"),
        (special.lse_expand, "g, a, axis, keepdims"),
        (rt.diff_grad, "g, n, axis"),
        (rt.weights_grad, "g, weights, axis")):
    V(_fn, _params, forward_only=("g",), **LIN)
V(rt.average_weights, "a, axis, weights", forward_only=("weights",), **LIN)
N(sorting.median_weights)

# Bilinear in the adjoint and the other operand; the own operand gives only a shape.
V(linalg.inner_grad_a, "g, a, b", zero=("a",), jvp_g="inner_grad_a(dot, a, b)",
  jvp_b="inner_grad_a(g, a, dot)")
V(linalg.inner_grad_b, "g, a, b", zero=("b",), jvp_g="inner_grad_b(dot, a, b)",
  jvp_a="inner_grad_b(g, dot, b)")
V(linalg.tensordot_grad_a, "g, a, b, axes", zero=("a",),
  jvp_g="tensordot_grad_a(dot, a, b, axes)", jvp_b="tensordot_grad_a(g, a, dot, axes)")
V(linalg.tensordot_grad_b, "g, a, b, axes", zero=("b",),
  jvp_g="tensordot_grad_b(dot, a, b, axes)", jvp_a="tensordot_grad_b(g, dot, b, axes)")
V(linalg.kron_grad_a, "g, a, b", zero=("a",), jvp_g="kron_grad_a(dot, a, b)",
  jvp_b="kron_grad_a(g, a, dot)")
V(linalg.kron_grad_b, "g, a, b", zero=("b",), jvp_g="kron_grad_b(dot, a, b)",
  jvp_a="kron_grad_b(g, dot, b)")
V(shape.outer_last, "a, b", jvp_a="outer_last(dot, b)", jvp_b="outer_last(a, dot)")
CROSS = "g, a, b, axisa, axisb, axisc, axis, which"
V(linalg.cross_grad, CROSS, jvp_g="cross_grad(dot, a, b, axisa, axisb, axisc, axis, which)",
  jvp_a="cross_grad_jvp(dot, g, a, b, axisa, axisb, axisc, axis, which, 0)",
  jvp_b="cross_grad_jvp(dot, g, a, b, axisa, axisb, axisc, axis, which, 1)")
# (``index`` is the position of the operand whose tangent this is; ``which`` the adjoint's)
V(linalg.einsum_grad, "g, subscripts, which, *operands",
  jvp_g="einsum_grad(dot, subscripts, which, *operands)",
  jvp_operands="einsum_grad_jvp(dot, g, subscripts, which, index, *operands)")
# Nonlinear in a primal argument: ``n``, ``d``, ``x``, ``p``, ``l``, ``r`` name the
# primitive's result passed in (``ans`` in a rule would be the helper's own result).
NORM = "g, x, n, ord, axis, keepdims"
V(linalg.norm_grad, NORM, jvp_g="norm_grad(dot, x, n, ord, axis, keepdims)",
  jvp_x=f"norm_grad_jvp_x(dot, {NORM})", jvp_n=f"norm_grad_jvp_n(dot, {NORM})")
LSE = "lse_weights(a, n, axis, keepdims, b)"
V(special.lse_weights, "a, n, axis, keepdims, b", jvp_a=f"{LSE} * dot",
  jvp_n=f"-{LSE} * lse_expand(dot, a, axis, keepdims)",
  jvp_b="lse_weights(a, n, axis, keepdims, dot)")
V(linalg.det_grad, "g, a, d", jvp_g="det_grad(dot, a, d)", jvp_d="det_grad(g, a, dot)",
  jvp_a="det_grad_jvp_a(dot, g, a, d)")
V(decomp.slogdet_grad, "g, a, r", zero=("r",), jvp_g="slogdet_grad(dot, a, r)",
  jvp_a="slogdet_grad_jvp_a(dot, g, a)")
V(linalg.solve_grad_a, "g, a, x", jvp_g="solve_grad_a(dot, a, x)",
  jvp_x="solve_grad_a(g, a, dot)", jvp_a="solve_grad_a_jvp_a(dot, g, a, x)")
V(linalg.matrix_power_grad, "g, a, n", jvp_g="matrix_power_grad(dot, a, n)",
  jvp_a="matrix_power_grad_jvp_a(dot, g, a, n)")
V(decomp.pinv_grad, "g, a, p, hermitian", jvp_g="pinv_grad(dot, a, p, hermitian)",
  jvp_a="pinv_grad_jvp_a(dot, g, a, p, hermitian)",
  jvp_p="pinv_grad_jvp_p(dot, g, a, p, hermitian)")
V(decomp.cholesky_grad, "g, a, l, upper", zero=("a",), jvp_g="cholesky_grad(dot, a, l, upper)",
  jvp_l="cholesky_grad_jvp_l(dot, g, a, l, upper)")
V(decomp.eigvalsh_grad, "g, a, UPLO", jvp_g="eigvalsh_grad(dot, a, UPLO)",
  jvp_a="eigvalsh_grad_jvp_a(dot, g, a, UPLO)")
V(decomp.eigh_grad, "g, a, r, UPLO", zero=("a",), jvp_g="eigh_grad(dot, a, r, UPLO)",
  jvp_r="eigh_grad_jvp_r(dot, g, a, r, UPLO)")
V(decomp.qr_grad, "g, a, r, mode", zero=("a",), jvp_g="qr_grad(dot, a, r, mode)",
  jvp_r="qr_grad_jvp_r(dot, g, a, r, mode)")
V(decomp.svdvals_grad, "g, x", jvp_g="svdvals_grad(dot, x)", jvp_x="svdvals_grad_jvp_x(dot, g, x)")
SVD = "g, a, r, full_matrices, compute_uv, hermitian"
V(decomp.svd_grad, SVD, jvp_g="svd_grad(dot, a, r, full_matrices, compute_uv, hermitian)",
  jvp_a=f"svd_grad_jvp_a(dot, {SVD})", jvp_r=f"svd_grad_jvp_r(dot, {SVD})")

