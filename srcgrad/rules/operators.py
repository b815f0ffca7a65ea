"""Rules for the ``operator`` module's arithmetic, called directly or passed as values.

``operator.add(x, y)`` is ``x + y``: each function has the rule of the Python operator
it spells (``rules/python.py``), with the same partials, kinds and step warnings, so
``functools.reduce(operator.mul, xs)`` and ``map(operator.add, xs, ys)`` differentiate
as the loops they replace. ``operator.floordiv`` is a step function (zero derivative,
a warning when a gradient reaches it), as ``//`` is.
"""

import operator

from .. import runtime
from .registry import Table

table = Table({"pick": runtime.pick, "matmul_grad_a": runtime.matmul_grad_a,
               "matmul_grad_b": runtime.matmul_grad_b, "signum": runtime.signum,
               "ln": runtime.ln})
P, V, N = table.partials, table.vjp, table.nondiff

P(operator.add, "x, y", "1", "1")
P(operator.sub, "x, y", "1", "-1")
P(operator.mul, "x, y", "y", "x")
P(operator.truediv, "x, y", "1 / y", "-ans / y")
P(operator.pow, "x, y", "y * x ** (y - 1)", "ans * ln(x)")
P(operator.mod, "x, y", "1", "-(x // y)")  # x - floor(x / y) * y, between the jumps
P(operator.neg, "x", "-1")
P(operator.pos, "x", "1")
P(operator.abs, "x", "signum(x)")
V(operator.matmul, "a, b", a="matmul_grad_a(g, a, b)", b="matmul_grad_b(g, a, b)",
  jvp_a="dot @ b", jvp_b="a @ dot")
N(operator.floordiv, params="x, y", result="elementwise", step=True)
