"""Complex numbers: the convention, the rules right for complex operands, and the rules
written for them.

The convention is JAX's and autograd's: a cotangent ``g`` pairs with a tangent ``t``
through the real bilinear form ``Re(sum(g * t))`` (no conjugation). So for a
real-valued ``f`` of a complex ``z = x + iy``, ``grad(f)(z) = df/dx - i df/dy`` (for
``|z|**2`` it is ``2 * conj(z)``); for a holomorphic step the real rule ``g * f'(z)`` is
right unchanged, and for a real-valued step ``v`` with ``dv = Re(a * dz)`` the
contribution to ``z`` is ``g * a`` (``rules`` of ``runtime.complexes``: ``abs_slope``,
``angle_slope``, ``imag_slope``). ``conj`` is the one complex-valued step that is not
holomorphic: its adjoint is ``conj(g)``. The transforms keep the adjoint and the tangent
of a real value real (``transform/complexity.py``).

``HOLOMORPHIC``: the functions whose rules, written for real numbers, are right for
complex operands as they stand (arithmetic, exponentials, trigonometry, linear
algebra through transposes, shapes, reductions that add); each is checked by
``tests/test_complex.py`` against finite differences of the real and imaginary parts.
``VARIANTS``: rules used instead of the real ones where a complex value reaches them.
``SOURCES``: functions without a derivative rule whose result is complex for real
arguments; ``REAL_RESULT``: ones whose result is real for complex arguments.
"""

from __future__ import annotations

import builtins
import operator
from dataclasses import replace

import numpy as np

from .. import runtime
from ..runtime import casts, complexes
from .registry import Rule, Table, exported

table = Table({"np": np, "expand": runtime.expand, **exported(complexes)})
_NAMESPACE = {"np": np, "expand": runtime.expand, "as_dtype_of": runtime.as_dtype_of,
              **exported(complexes)}
P, V = table.partials, table.vjp

# ---- the functions of complex numbers --------------------------------------------
P(np.real, "val", "1", complex=True, dtype="real")
P(np.imag, "val", "imag_slope(val)", complex=True, dtype="real")
V(np.conj, "x", x="np.conj(g)", linear=True, complex=True)  # np.conjugate is np.conj
P(np.angle, "z, deg=False", "angle_slope(z, deg)", None, complex=True, dtype="real")
P(builtins.complex, "real=0, imag=0", "1", "1j", complex=True, dtype="complex")
V(np.real_if_close, "a, tol=100", a="match_real(g, ans)", jvp_a="match_real(dot, ans)",
  complex=True)

# Eigenvalues of a general matrix: complex even for a real one.
V(np.linalg.eigvals, "a", a="eigvals_grad(g, a, ans)", jvp_a="eigvals_jvp(dot, a, ans)",
  complex=True, dtype="complex")
V(np.linalg.eig, "a", result="list", a="eig_grad(g, a, ans)", jvp_a="eig_jvp(dot, a, ans)",
  complex=True, dtype="complex")

# srcgrad's own helpers in generated code (for second order): the identity marking a
# real value that flows into a complex variable, the complex copy of an adjoint.
helper_table = Table(_NAMESPACE)
helper_table.partials(complexes.into_complex, "x", "1", complex=True, dtype="complex")
helper_table.vjp(complexes.eigvals_grad, "g, a, ans", zero=("ans",), complex=True,
                 jvp_g="eigvals_grad(dot, a, ans)", jvp_a="eigvals_grad_jvp_a(dot, g, a, ans)")
helper_table.vjp(complexes.eig_grad, "g, a, ans", zero=("a",), complex=True,
                 jvp_g="eig_grad(dot, a, ans)", jvp_ans="eig_grad_jvp_ans(dot, g, a, ans)")
helper_table.vjp(complexes.abs_slope, "z", z="abs_slope_vjp(g, z)",
                 jvp_z="abs_slope_jvp(dot, z)", complex=True)
helper_table.partials(complexes.angle_slope, "z, deg=False", "angle_curvature(z, deg)", None,
                      complex=True)
helper_table.vjp(complexes.real_root, "root, a", root="g", zero=("a",), linear=True,
                 complex=True)
helper_table.nondiff(complexes.imag_slope, params="z", result="scalar")  # a constant
helper_table.vjp(complexes.match_real, "t, ans", t="g", zero=("ans",), linear=True,
                 complex=True)
helper_table.partials(complexes.clog, "x", "1 / x", complex=True, dtype="complex")
helper_table.vjp(complexes.complex_copy, "c, like", c="g", zero=("like",), linear=True,
                 complex=True, dtype="complex")

# ---- rules for complex operands, in place of the real ones ------------------------
variants = Table(_NAMESPACE)
VP, VV = variants.partials, variants.vjp
for _abs in (np.absolute, builtins.abs, operator.abs):
    VP(_abs, "x", "abs_slope(x)", complex=True, dtype="real")
for _pow in ("pow", np.power, operator.pow):
    VP(_pow, "x, y", "y * x ** (y - 1)", "ans * clog(x)", complex=True)
VV(casts.cast, "x, dtype", result="elementwise", linear=True, complex=True,
   x="as_dtype_of(match_real(g, x), x)", name="ndarray.astype (float)")
VV(np.vdot, "a, b", a="np.reshape(np.conj(g * np.ravel(b)), np.shape(a))",
   b="np.reshape(g * np.conj(np.ravel(a)), np.shape(b))", jvp_a="np.vdot(dot, b)",
   jvp_b="np.vdot(a, dot)", complex=True)
_COUNT = "(np.size(a) / np.size(ans) - ddof)"
_CENTERED = "np.conj(a - np.mean(a, axis=axis, keepdims=True))"
VV(np.var, "a, axis=None, dtype=None, out=None, ddof=0, keepdims=False",
   a=f"expand(g, a, axis, keepdims) * 2 * {_CENTERED} / {_COUNT}",
   jvp_a=f"np.sum(dot * 2 * {_CENTERED}, axis=axis, keepdims=keepdims) / {_COUNT}",
   complex=True, dtype="real")

HOLOMORPHIC: tuple[object, ...] = (
    "add", "sub", "mul", "truediv", "neg", "pos", "copy", "matmul", "attr.T", "getitem",
    "setitem", "append", "addat", "scatter", "iadd", "droplast", "copyitem", builtins.sum,
    operator.add, operator.sub, operator.mul, operator.truediv, operator.neg, operator.pos,
    operator.matmul,
    np.add, np.subtract, np.multiply, np.divide, np.negative, np.positive, np.square,
    np.reciprocal, np.sqrt, np.exp, np.expm1, np.exp2, np.log, np.log1p, np.log2, np.log10,
    np.sin, np.cos, np.tan, np.sinh, np.cosh, np.tanh, np.arcsin, np.arccos, np.arctan,
    np.arcsinh, np.arccosh, np.arctanh,
    np.where, np.copy, np.array, np.asarray, np.asanyarray, np.stack, np.concatenate,
    np.hstack, np.vstack, np.column_stack, np.dstack, np.append,
    np.sum, np.mean, np.prod, np.cumsum, np.cumprod, np.trace, np.diff,
    np.dot, np.matmul, np.outer, np.inner, np.tensordot, np.einsum, np.kron,
    np.linalg.inv, np.linalg.solve, np.linalg.det, np.linalg.matrix_power,
    np.transpose, np.reshape, np.ravel, np.ndarray.flatten, np.squeeze, np.expand_dims,
    np.swapaxes, np.moveaxis, np.broadcast_to, np.flip, np.fliplr, np.flipud, np.roll,
    np.rot90, np.tile, np.repeat, np.take, np.triu, np.tril, np.diag, np.diagonal,
    np.split, np.array_split, np.hsplit, np.vsplit, np.dsplit,
    np.atleast_1d, np.atleast_2d, np.atleast_3d,
    # srcgrad's own helpers that adjoint code calls on complex values (second order)
    runtime.expand, runtime.keep, runtime.unbroadcast, runtime.sum_to, runtime.as_dtype_of,
    runtime.matmul_grad_a, runtime.matmul_grad_b, runtime.dot_grad_a, runtime.dot_grad_b,
    runtime.transpose_grad, runtime.as_input, runtime.sum_grad,
)

# srcgrad's run-time helpers (by name) that adjoint code calls and whose rules, for
# second order, are linear maps or holomorphic as written.
HOLOMORPHIC_HELPERS = frozenset({
    "add_adjoints", "copy_adjoint", "zeros_like", "kept", "fit", "piece", "split_like",
    "unstack", "diag_grad", "diagonal_grad", "trace_grad", "diff_grad", "take_grad",
    "tile_grad", "repeat_grad", "rot90_grad", "split_grad", "unstack_grad", "hstack_grad",
    "vstack_grad", "dstack_grad", "column_stack_grad", "hsplit_grad", "append_grad",
    "det_grad", "solve_grad_a", "inner_grad_a", "inner_grad_b", "tensordot_grad_a",
    "tensordot_grad_b", "kron_grad_a", "kron_grad_b", "einsum_grad", "matrix_power_grad",
    "sqrt_slope",
})

_HOLOMORPHIC = frozenset(HOLOMORPHIC)

SOURCES: frozenset[object] = frozenset({
    builtins.complex, np.linalg.eig, np.linalg.eigvals, np.roots,
    np.emath.sqrt, np.emath.log, np.emath.log2, np.emath.log10, np.emath.logn,
    np.emath.power, np.emath.arcsin, np.emath.arccos, np.emath.arctanh,
    np.fft.fft, np.fft.ifft, np.fft.rfft, np.fft.fft2, np.fft.ifft2, np.fft.fftn,
    np.fft.ifftn, np.fft.rfft2, np.fft.rfftn, np.fft.ihfft,
})

REAL_RESULT: frozenset[object] = frozenset({
    "lt", "le", "gt", "ge", "eq", "ne", "not", "is", "isnot", "attr.shape", "attr.ndim",
    "attr.size", builtins.len, builtins.bool, builtins.range, builtins.slice,
    np.shape, np.size, np.ndim, np.isnan, np.isinf, np.isfinite, np.argmax, np.argmin,
    np.any, np.all, np.iscomplexobj, np.isrealobj, np.iscomplex, np.isreal,
    np.equal, np.not_equal, np.logical_and, np.logical_or, np.logical_not,
})


def is_source(key: object) -> bool:
    """A function without a rule whose result is complex for real arguments."""
    try:
        return key in SOURCES or (isinstance(key, type) and issubclass(key, np.complexfloating))
    except TypeError:  # unhashable
        return False


def is_real_result(key: object) -> bool:
    try:
        return key in REAL_RESULT
    except TypeError:
        return False


def variant(key: object, rule: Rule) -> Rule | None:
    """The rule for complex operands that replaces ``rule``, registered for ``key``
    (bound the same way: the same parameters)."""
    try:
        found = variants.rules.get(key, [])
    except TypeError:  # unhashable
        return None
    return next((v for v in found if v.params == rule.params), None)


def mark(*tables: Table) -> None:
    """Mark the rules of ``HOLOMORPHIC`` and ``HOLOMORPHIC_HELPERS`` in ``tables`` as right
    for complex operands."""
    for table in tables:
        for key, found in table.rules.items():
            named = getattr(key, "__name__", None) in HOLOMORPHIC_HELPERS and \
                getattr(key, "__module__", "").startswith("srcgrad.runtime")
            try:
                listed = key in _HOLOMORPHIC
            except TypeError:  # unhashable
                listed = False
            if listed or named:
                table.rules[key] = [replace(r, complex=True) for r in found]
