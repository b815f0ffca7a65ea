"""Rules for srcgrad's own run-time helpers and adjoint-only operations.

Generated derivative code calls these; giving them rules lets srcgrad apply
forward mode to its own reverse-mode output (Hessian-vector products). Most
are linear or bilinear in the adjoint ``c`` they transform, so each is one
line: ``linear=True`` (the helper applied to the tangents) or the tangent's
share of each argument. The adjoints of the nonlinear primitives (norms,
decompositions, determinants) also depend nonlinearly on the primal input
and result they are passed: the ``*_jvp_<param>`` functions of
``srcgrad.runtime.second_order`` are those shares.

Reverse mode over reverse-mode code (``srcgrad.higher``) takes each helper's reverse
rule: for one linear in ``c``, its transpose applied to ``g`` (most are NumPy calls:
the transpose of ``take_grad`` is ``np.take``; the others are in
``srcgrad.runtime.transposes``); for a bilinear one, the product itself in ``c`` and, in
the other operand, the adjoint of that product with ``g`` in the own operand's place.
The adjoint-only operations (``addat``, ``iadd``...) get one too; ``higher`` turns the
adjoint sweep's in-place writes into ``transposes.written``/``added_at``, which have
theirs. The helpers of the nonlinear primitives (decompositions, ``norm_grad``,
``matrix_power_grad``; ``det_grad`` and ``solve_grad_a`` have both) and ``cross_grad`` and
``einsum_grad`` have forward rules only: reverse mode over code that calls them is a
located ``NoDerivativeRule`` (``vjp`` of a gradient then goes forward over reverse).
"""

from dataclasses import replace
from typing import Any

import numpy as np

from .. import runtime as rt
from ..runtime import (
    decomp,
    finite,
    linalg,
    ported,
    second_order,
    shape,
    sorting,
    special,
    transposes,
)
from .registry import Table, exported

# Rule text calls the adjoint helpers and their tangents (srcgrad.runtime.second_order).
table = Table({"np": np, **exported(rt, linalg, decomp, shape, sorting, special, second_order,
                                     transposes, finite, ported)})
V, N, P = table.vjp, table.nondiff, table.partials
LIN: dict[str, Any] = {"linear": True}

# Linear in the adjoint c: forward mode applies the helper to the tangents (linear=True),
# reverse mode its transpose to g; the other parameters give shapes, axes or indices.
V(rt.unbroadcast, "c, x", c="expand(g, c, None, False)", zero=("x",), **LIN)
V(rt.expand, "c, x, axis, keepdims", c="expand_vjp(g, c, axis, keepdims)", zero=("x",), **LIN)
V(rt.copy_adjoint, "c", c="g", **LIN)
V(rt.as_dtype_of, "c, x", c="as_dtype_of(g, c)", zero=("x",), **LIN)
V(rt.sum_to, "c, shape", c="expand(g, c, None, False)", **LIN)
V(rt.keep, "c, x, axis, keepdims", c="np.reshape(g, np.shape(c))", zero=("x",), **LIN)
V(rt.add_adjoints, "a, b", a="g", b="g", **LIN)
V(rt.unstack, "c, axis", c="unstack_vjp(g, c, axis)", **LIN)
V(rt.as_input, "c, x", c="as_input_vjp(g, c, x)", zero=("x",), **LIN)
V(rt.sum_grad, "c, x", c="sum_grad_vjp(g, c, x)", zero=("x",), **LIN)
# (unslice: "where", not "index", which rule text reserves for a variadic's position)
V(rt.unslice, "c, xs, where", c="g[where]", zero=("xs",), result="list", **LIN)
V(rt.split_like, "c, xs, axis", c="np.concatenate(g, axis)", zero=("xs",), **LIN)
V(rt.piece, "c, i, axis, *xs", c="piece_vjp(g, i, axis, *xs)", zero=("xs",), **LIN)
V(rt.transpose_grad, "c, axes", c="np.transpose(g, axes)", **LIN)
V(rt.fit, "t, ans", t="unbroadcast(g, t)", zero=("ans",), **LIN)
V(rt.kept, "c, back", c="kept(g, back)", **LIN)
# (a check on the primal side: the value written passes through)
V(rt.disjoint_write, "v, a, n, *index", v="g", jvp_v="dot", zero=("a",))
# Bilinear in the adjoint and the other operand; the own operand gives only a shape. The
# transpose in the adjoint is the product itself; in the other operand, the adjoint of
# that operand in the product taken with g in the place of the own operand.
V(rt.dot_grad_a, "c, a, b", c="np.dot(g, b)", b="dot_grad_b(c, g, b)",
  jvp_c="dot_grad_a(dot, a, b)", jvp_b="dot_grad_a(c, a, dot)", zero=("a",))
V(rt.dot_grad_b, "c, a, b", c="np.dot(a, g)", a="dot_grad_a(c, a, g)",
  jvp_c="dot_grad_b(dot, a, b)", jvp_a="dot_grad_b(c, dot, b)", zero=("b",))
V(rt.matmul_grad_a, "c, a, b", c="np.matmul(g, b)", b="matmul_grad_b(c, g, b)",
  jvp_c="matmul_grad_a(dot, a, b)", jvp_b="matmul_grad_a(c, a, dot)", zero=("a",))
V(rt.matmul_grad_b, "c, a, b", c="np.matmul(a, g)", a="matmul_grad_a(c, a, g)",
  jvp_c="matmul_grad_b(dot, a, b)", jvp_a="matmul_grad_b(c, dot, b)", zero=("b",))
P(rt.ln, "x", "1 / x")
# The finite derivatives (0 where the textbook formula divides by zero), taken the same way
P(finite.ratio, "x, d", "ratio(1.0, d)", "-ratio(ans, d)")
P(finite.pow_log, "p, x", "ratio(ans, p)", "ratio(p, x)")  # ans = p * log(x)
P(finite.sqrt_slope, "r", "-2 * ans * ans")
P(finite.pow_slope, "c, x, y", "pow_slope(1.0, x, y)", "pow_slope(c * (y - 1), x, y - 1)",
  "pow_log(ans, x)")
P(finite.cbrt_slope, "r", "-2 * ans / r")
N(rt.write_order, rt.write_marks)
N(finite.spread_divisor)
N(rt.seed, rt.zeros_like, rt.argmax_mask, rt.pick, rt.between, rt.below, rt.above, rt.signum)
# Adjoint-only IR operations: forward mode applies each to the tangent's buffer; reverse
# mode takes the contribution below (``addat``, ``scatter`` and ``iadd`` write in place
# into an adjoint buffer the first transform owns: the new version's adjoint is x's).
for op, params, diff, vjps in (
        ("addat", "x, v, *index", ("x", "v"), {"x": "g", "v": "at_vjp(g, v, *index)"}),
        ("scatter", "x, v, *index", ("x", "v"), {"x": "g", "v": "at_vjp(g, v, *index)"}),
        ("iadd", "x, v", ("x", "v"), {"x": "g", "v": "unbroadcast(g, v)"}),
        ("droplast", "xs", ("xs",), {"xs": "droplast_vjp(g, xs)"}),
        ("copyitem", "x, *index", ("x",), {"x": "copyitem_vjp(g, x, *index)"})):
    table.structural(op, params, *diff, linear=op == "copyitem",
                     result="list" if op == "droplast" else "any")  # (xs.pop(): a list)
    _rule = table.rules[op][-1]
    table.rules[op][-1] = replace(_rule, vjps={p: table.compile(e, _rule.params)
                                               for p, e in vjps.items()})


# The adjoint sweep's writes, out of place (reverse mode over gradient code makes them so).
V(transposes.written, "x, v, *index", x="written(g, 0.0, *index)",
  v="written_vjp(g, v, *index)", **LIN)
V(transposes.added_at, "x, v, *index", x="g", v="at_vjp(g, v, *index)", **LIN)


# ---- adjoint helpers of the rule tables -------------------------------------------
# Linear in the adjoint c they transform; the others are shapes, axes, indices or values
# read only for their shape or sort order (piecewise constant: zero derivative). The
# transpose (reverse mode) is mostly the primitive whose adjoint the helper is.
for _fn, _params, _transpose in (
        (shape.take_grad, "c, a, indices, axis", "np.take(g, indices, axis=axis)"),
        (shape.repeat_grad, "c, a, repeats, axis", "np.repeat(g, repeats, axis=axis)"),
        (shape.tile_grad, "c, a, reps", "np.tile(g, reps)"),
        (shape.diag_grad, "c, v, k", "np.diag(g, k)"),
        (shape.diagonal_grad, "c, a, offset, axis1, axis2",
         "np.diagonal(g, offset, axis1, axis2)"),
        (shape.rot90_grad, "c, k, axes", "rot90_grad_vjp(g, k, axes)"),
        (shape.pad_grad, "c, array, pad_width", "np.pad(g, pad_width)"),
        (shape.hstack_grad, "c, which, *xs", "stack_piece_vjp(np.hstack, g, which, *xs)"),
        (shape.vstack_grad, "c, which, *xs", "stack_piece_vjp(np.vstack, g, which, *xs)"),
        (shape.column_stack_grad, "c, which, *xs",
         "stack_piece_vjp(np.column_stack, g, which, *xs)"),
        (shape.dstack_grad, "c, which, *xs", "stack_piece_vjp(np.dstack, g, which, *xs)"),
        (shape.split_grad, "c, ary, axis", "split_like(g, c, axis)"),
        (shape.hsplit_grad, "c, ary", "hsplit_grad_vjp(g, c, ary)"),
        (shape.unstack_grad, "c, x, axis", "unstack(g, axis)"),
        (shape.append_grad, "c, arr, values, axis, part",
         "append_grad_vjp(g, arr, values, axis, part)"),
        (shape.resize_grad, "c, a", "np.resize(g, np.shape(c))"),
        (shape.take_along_axis_grad, "c, arr, indices, axis",
         "np.take_along_axis(g, indices, axis)"),
        (linalg.trace_grad, "c, a, offset, axis1, axis2", "np.trace(g, offset, axis1, axis2)"),
        (sorting.quantile_grad, "c, a, q, axis, keepdims", "quantile_jvp(g, a, q, axis, keepdims)"),
        (sorting.quantile_jvp, "c, a, q, axis, keepdims", "quantile_grad(g, a, q, axis, keepdims)"),
        (sorting.partition_grad, "c, a, n, axis", "partition_jvp(g, a, n, axis)"),
        (sorting.partition_jvp, "c, a, n, axis", "partition_grad(g, a, n, axis)"),
        (shape.linspace_grad, "c, x, num, endpoint, axis, part",
         "linspace_grad_vjp(g, c, x, num, endpoint, axis, part)"),
        (shape.meshgrid_grad, "c, which, indexing, *xs",
         "meshgrid_grad_vjp(g, c, which, indexing, *xs)"),
        (special.lse_expand, "c, a, axis, keepdims", "lse_expand_vjp(g, c, a, axis, keepdims)"),
        (rt.diff_grad, "c, n, axis", "np.diff(g, n, axis)"),
        (rt.weights_grad, "c, weights, axis", "average_weights(c, axis, g)")):
    V(_fn, _params, c=_transpose, zero=_params.replace("*", "").split(", ")[1:], **LIN)
V(rt.average_weights, "a, axis, weights", weights="weights_grad(g, weights, axis)",
  zero=("a",), **LIN)
N(sorting.median_weights)

# Bilinear in the adjoint and the other operand; the own operand gives only a shape.
V(linalg.inner_grad_a, "c, a, b", zero=("a",), c="np.inner(g, b)", b="inner_grad_b(c, g, b)",
  jvp_c="inner_grad_a(dot, a, b)", jvp_b="inner_grad_a(c, a, dot)")
V(linalg.inner_grad_b, "c, a, b", zero=("b",), c="np.inner(a, g)", a="inner_grad_a(c, a, g)",
  jvp_c="inner_grad_b(dot, a, b)", jvp_a="inner_grad_b(c, dot, b)")
V(linalg.tensordot_grad_a, "c, a, b, axes", zero=("a",), c="np.tensordot(g, b, axes)",
  b="tensordot_grad_b(c, g, b, axes)",
  jvp_c="tensordot_grad_a(dot, a, b, axes)", jvp_b="tensordot_grad_a(c, a, dot, axes)")
V(linalg.tensordot_grad_b, "c, a, b, axes", zero=("b",), c="np.tensordot(a, g, axes)",
  a="tensordot_grad_a(c, a, g, axes)",
  jvp_c="tensordot_grad_b(dot, a, b, axes)", jvp_a="tensordot_grad_b(c, dot, b, axes)")
V(linalg.kron_grad_a, "c, a, b", zero=("a",), c="np.kron(g, b)", b="kron_grad_b(c, g, b)",
  jvp_c="kron_grad_a(dot, a, b)", jvp_b="kron_grad_a(c, a, dot)")
V(linalg.kron_grad_b, "c, a, b", zero=("b",), c="np.kron(a, g)", a="kron_grad_a(c, a, g)",
  jvp_c="kron_grad_b(dot, a, b)", jvp_a="kron_grad_b(c, dot, b)")
V(shape.outer_last, "a, b", a="unbroadcast(np.sum(g * np.expand_dims(b, -2), axis=-1), a)",
  b="unbroadcast(np.sum(g * np.expand_dims(a, -1), axis=-2), b)",
  jvp_a="outer_last(dot, b)", jvp_b="outer_last(a, dot)")
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
V(special.lse_weights, "a, n, axis, keepdims, b", a=f"unbroadcast(g * {LSE}, a)",
  n=f"-lse_expand_vjp(g * {LSE}, n, a, axis, keepdims)",
  b="unbroadcast(g * lse_weights(a, n, axis, keepdims, None), b)", jvp_a=f"{LSE} * dot",
  jvp_n=f"-{LSE} * lse_expand(dot, a, axis, keepdims)",
  jvp_b="lse_weights(a, n, axis, keepdims, dot)")
V(linalg.det_grad, "c, a, d", c="det_grad_vjp_c(g, a, d)", d="det_grad_vjp_d(g, c, a)",
  a="det_grad_vjp_a(g, c, a, d)", jvp_c="det_grad(dot, a, d)", jvp_d="det_grad(c, a, dot)",
  jvp_a="det_grad_jvp_a(dot, c, a, d)")
V(decomp.slogdet_grad, "g, a, r", zero=("r",), jvp_g="slogdet_grad(dot, a, r)",
  jvp_a="slogdet_grad_jvp_a(dot, g, a)")
V(linalg.solve_grad_a, "c, a, x", c="solve_grad_a_vjp_c(g, c, a, x)",
  x="solve_grad_a_vjp_x(g, c, a, x)", a="solve_grad_a_vjp_a(g, c, a, x)",
  jvp_c="solve_grad_a(dot, a, x)", jvp_x="solve_grad_a(c, a, dot)",
  jvp_a="solve_grad_a_jvp_a(dot, c, a, x)")
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


# ---- srcgrad.runtime.ported (issue 20) ---------------------------------------------
N(ported.rollaxis_dest)
GRADIENT = "c, f, axis, edge_order, *varargs"
V(ported.gradient_grad, GRADIENT, c="gradient_grad_vjp(g, f, axis, edge_order, *varargs)",
  zero=("f",), **LIN)
V(transposes.gradient_grad_vjp, GRADIENT, c="gradient_grad(g, f, axis, edge_order, *varargs)",
  zero=("f",), **LIN)
V(ported.polyder_grad, "c, p, m", c="np.polyder(g, m)", zero=("p",), **LIN)
V(ported.poly_powers, "x, n, d", x="np.reshape(np.sum(g * poly_powers(x, n, d + 1), axis=-1),"
  " np.shape(x))", jvp_x="np.expand_dims(np.ravel(dot), -1) * poly_powers(x, n, d + 1)")
# np.interp: the slope is piecewise constant in x and linear in fp; the weights on fp are
# linear in x inside a segment (their derivative in x is a slope).
V(ported.interp_slope, "x, xp, fp", zero=("x",), fp="interp_slope_vjp(g, x, xp)",
  jvp_fp="interp_slope(x, xp, dot)")
V(ported.interp_slope_vjp, "c, x, xp", zero=("x",), c="interp_slope(x, xp, g)", **LIN)
V(ported.interp_fp_grad, "c, x, xp, left, right", c="interp_fp_jvp(g, x, xp, left, right)",
  x="c * interp_slope(x, xp, g)", jvp_c="interp_fp_grad(dot, x, xp, left, right)",
  jvp_x="interp_slope_vjp(c * dot, x, xp)")
V(ported.interp_fp_jvp, "t, x, xp, left, right", t="interp_fp_grad(g, x, xp, left, right)",
  x="g * interp_slope(x, xp, t)", jvp_t="interp_fp_jvp(dot, x, xp, left, right)",
  jvp_x="dot * interp_slope(x, xp, t)")
# The convolutions' adjoints: bilinear in the adjoint and the other operand.
V(ported.convolve_grad, "c, a, v, mode", zero=("a",), c="np.convolve(g, v, mode)",
  v="convolve_grad(c, v, g, mode)", jvp_c="convolve_grad(dot, a, v, mode)",
  jvp_v="convolve_grad(c, a, dot, mode)")
V(ported.correlate_grad_a, "c, a, v, mode", zero=("a",), c="np.correlate(g, v, mode)",
  v="correlate_grad_v(c, g, v, mode)", jvp_c="correlate_grad_a(dot, a, v, mode)",
  jvp_v="correlate_grad_a(c, a, dot, mode)")
V(ported.correlate_grad_v, "c, a, v, mode", zero=("v",), c="np.correlate(a, g, mode)",
  a="correlate_grad_a(c, a, g, mode)", jvp_c="correlate_grad_v(dot, a, v, mode)",
  jvp_a="correlate_grad_v(c, dot, v, mode)")
V(ported.col_outer, "u, v", u="np.matmul(g, v)", v="np.matmul(np.swapaxes(g, -1, -2), u)",
  jvp_u="col_outer(dot, v)", jvp_v="col_outer(u, dot)")
V(ported.lstsq_gram, "a, rank", zero=("rank",), a="np.matmul(a, g + np.swapaxes(g, -1, -2))",
  jvp_a="np.matmul(np.swapaxes(dot, -1, -2), a) + np.matmul(np.swapaxes(a, -1, -2), dot)")
