"""Rules for srcgrad's own run-time helpers and adjoint-only operations.

Generated derivative code calls these; giving them rules lets srcgrad apply
forward mode to its own reverse-mode output (Hessian-vector products). They
are linear or bilinear in the adjoint ``c`` they transform, so each is one
line: ``linear=True`` (the helper applied to the tangents) or the tangent's
share of each argument. Reverse mode over them is not provided yet.
"""

import numpy as np

from .. import runtime as rt
from .registry import Table

table = Table({"np": np, **{name: getattr(rt, name) for name in (
    "dot_grad_a", "dot_grad_b", "matmul_grad_a", "matmul_grad_b")}})
V, N, P = table.vjp, table.nondiff, table.partials
LIN = {"linear": True}

V(rt.unbroadcast, "c, x", forward_only=("c",), **LIN)
V(rt.expand, "c, x, axis, keepdims", forward_only=("c",), **LIN)
V(rt.copy_adjoint, "c", forward_only=("c",), **LIN)
V(rt.as_dtype_of, "c, x", forward_only=("c",), **LIN)
V(rt.add_adjoints, "a, b", forward_only=("a", "b"), **LIN)
V(rt.unstack, "c, axis", forward_only=("c",), **LIN)
V(rt.as_input, "c, x", forward_only=("c",), **LIN)
V(rt.sum_grad, "c, x", forward_only=("c",), **LIN)
V(rt.split_like, "c, xs, axis", forward_only=("c",), **LIN)
V(rt.piece, "c, i, axis, *xs", forward_only=("c",), **LIN)
V(rt.transpose_grad, "c, axes", forward_only=("c",), **LIN)
V(rt.fit, "t, ans", forward_only=("t",), **LIN)
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
