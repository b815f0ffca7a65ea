"""Rules for linear algebra (issue 6): numpy.linalg and products.

Same form as rules/numpy.py: one line per primitive, both modes.
"""

import numpy as np

from .. import runtime
from .registry import Table


def _t(a):
    return np.swapaxes(a, -1, -2)


def trace_grad(g, a, offset, axis1, axis2):
    """Adjoint of np.trace: g spread on the traced diagonal."""
    a = np.asarray(a)
    eye = np.eye(a.shape[axis1], a.shape[axis2], k=offset)
    out = np.asarray(g)[..., None, None] * eye
    return np.moveaxis(out, (-2, -1), (axis1 % a.ndim, axis2 % a.ndim))


def inner_grad_a(g, a, b):
    a, b, g = np.asarray(a), np.asarray(b), np.asarray(g)
    if a.ndim == 0 or b.ndim == 0:
        return np.sum(g * b) if a.ndim == 0 else g * b
    return np.tensordot(g, b, axes=(list(range(a.ndim - 1, g.ndim)), list(range(b.ndim - 1))))


def inner_grad_b(g, a, b):
    a, b, g = np.asarray(a), np.asarray(b), np.asarray(g)
    if a.ndim == 0 or b.ndim == 0:
        return np.sum(g * a) if b.ndim == 0 else g * a
    return np.tensordot(g, a, axes=(list(range(a.ndim - 1)), list(range(a.ndim - 1))))


def solve_grad_a(g, a, ans):
    gb = np.linalg.solve(_t(a), g)
    if np.ndim(ans) == np.ndim(a) - 1:
        return -np.outer(gb, ans)
    return -np.matmul(gb, _t(ans))


def solve_jvp_a(dot, a, ans):
    if np.ndim(ans) == np.ndim(a) - 1:
        return np.linalg.solve(a, -np.matmul(dot, ans))
    return np.linalg.solve(a, -np.matmul(dot, ans))


def det_grad(g, a, ans):
    return np.asarray(g * ans)[..., None, None] * _t(np.linalg.inv(a))


def det_jvp(dot, a, ans):
    return ans * np.trace(np.linalg.solve(a, dot), axis1=-2, axis2=-1)


def _int_axes(axes):
    if not isinstance(axes, (int, np.integer)):
        raise NotImplementedError("np.tensordot derivative: only integer axes")
    return int(axes)


def tensordot_grad_a(g, a, b, axes):
    n, a, b = _int_axes(axes), np.asarray(a), np.asarray(b)
    g = np.asarray(g)
    return np.tensordot(g, b, axes=(list(range(a.ndim - n, g.ndim)), list(range(n, b.ndim))))


def tensordot_grad_b(g, a, b, axes):
    n, a, b = _int_axes(axes), np.asarray(a), np.asarray(b)
    g = np.asarray(g)
    return np.tensordot(a, g, axes=(list(range(a.ndim - n)), list(range(a.ndim - n))))


def _kron_parts(a, b):
    a, b = np.asarray(a), np.asarray(b)
    nd = max(a.ndim, b.ndim)
    sa = (1,) * (nd - a.ndim) + a.shape
    sb = (1,) * (nd - b.ndim) + b.shape
    inter = tuple(x for pair in zip(sa, sb) for x in pair)
    return a, b, nd, sa, sb, inter


def kron_grad_a(g, a, b):
    a, b, nd, sa, sb, inter = _kron_parts(a, b)
    gr = np.reshape(g, inter)
    bb = np.reshape(b, tuple(x for s in sb for x in (1, s)))
    return np.reshape(np.sum(gr * bb, axis=tuple(range(1, 2 * nd, 2))), a.shape)


def kron_grad_b(g, a, b):
    a, b, nd, sa, sb, inter = _kron_parts(a, b)
    gr = np.reshape(g, inter)
    aa = np.reshape(a, tuple(x for s in sa for x in (s, 1)))
    return np.reshape(np.sum(gr * aa, axis=tuple(range(0, 2 * nd, 2))), b.shape)


def _norm_default(ord, axis):
    if ord is not None or axis is not None:
        raise NotImplementedError("np.linalg.norm derivative: only the default ord and axis")


def norm_grad(g, x, ans, ord, axis, keepdims):
    _norm_default(ord, axis)
    return g * np.asarray(x) / ans


def norm_jvp(dot, x, ans, ord, axis, keepdims):
    _norm_default(ord, axis)
    out = np.sum(np.asarray(x) * dot) / ans
    return np.reshape(out, np.shape(ans))


def _powers(a, n):
    if not isinstance(n, (int, np.integer)) or n < 0:
        raise NotImplementedError("np.linalg.matrix_power derivative: only n >= 0")
    out = [np.broadcast_to(np.eye(a.shape[-1]), a.shape)]
    for _ in range(1, n):
        out.append(np.matmul(out[-1], a))
    return out


def matrix_power_grad(g, a, n):
    a = np.asarray(a)
    ps = [_t(p) for p in _powers(a, n)]
    total = np.zeros(a.shape)
    for k in range(n):
        total = total + np.matmul(np.matmul(ps[k], g), ps[n - 1 - k])
    return total


def matrix_power_jvp(dot, a, n):
    a = np.asarray(a)
    ps = _powers(a, n)
    total = np.zeros(a.shape)
    for k in range(n):
        total = total + np.matmul(np.matmul(ps[k], dot), ps[n - 1 - k])
    return total


table = Table({"np": np, **{name: getattr(runtime, name) for name in ("expand", "unbroadcast")},
               **{f.__name__: f for f in (
                   trace_grad, inner_grad_a, inner_grad_b, solve_grad_a, solve_jvp_a, det_grad,
                   det_jvp, tensordot_grad_a, tensordot_grad_b, kron_grad_a, kron_grad_b,
                   norm_grad, norm_jvp, matrix_power_grad, matrix_power_jvp)}})
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
