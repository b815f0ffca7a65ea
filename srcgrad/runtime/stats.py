"""Run-time helpers for ``scipy.stats``'s multivariate densities: the covariance matrix
``multivariate_normal`` reads and the simplex point ``dirichlet`` reads. Public and stable.

Generated code calls them where it differentiates ``stats.multivariate_normal`` or
``stats.dirichlet`` (``srcgrad.rules.scipy_stats``). This module does not import SciPy
(an optional dependency of srcgrad): the functions compute with NumPy. Each is linear
in its first argument and returns a new array (no view of an argument):

- ``mvn_cov(cov, x)``: the (d, d) matrix SciPy uses for ``cov`` (a scalar: ``cov * I``;
  1-D: the diagonal; 2-D: its lower triangle, mirrored, as SciPy's ``eigh`` reads only
  that); d is the last axis of ``x``. ``mvn_cov_t(c, cov)``: its transpose, shaped as
  ``cov``.
- ``simplex(x, alpha)``: ``x`` with its components on the first axis, completed by
  ``1 - sum`` when it has one fewer than ``alpha`` (as SciPy does). ``simplex_dot(dot,
  alpha)`` is its tangent (the completion's linear part) and ``simplex_t(c, x)`` its
  transpose, shaped as ``x``.

Contract (that of ``srcgrad.runtime``): plain functions of NumPy values, with no srcgrad
state and no side effect on their arguments; names, parameters and results are stable.
``__all__`` lists the functions generated code may call.
"""

from __future__ import annotations

import numpy as np

__all__ = ["mvn_cov", "mvn_cov_t", "simplex", "simplex_dot", "simplex_t"]


def mvn_cov(cov, x):
    """The (d, d) covariance matrix SciPy reads from ``cov`` (d: the last axis of x)."""
    c = np.asarray(cov)
    if c.ndim == 2:
        return np.tril(c) + np.swapaxes(np.tril(c, -1), -1, -2)
    if c.ndim == 1:
        return np.diag(c)
    if c.ndim == 0:
        d = np.shape(x)[-1] if np.ndim(x) else 1
        return c * np.eye(d, dtype=np.result_type(c, np.float32))
    raise ValueError(f"multivariate_normal: a cov of {c.ndim} dimensions")


def mvn_cov_t(c, cov):
    """The transpose of ``mvn_cov``: a matrix's adjoint, shaped as ``cov``."""
    c = np.asarray(c)
    nd = np.ndim(cov)
    if nd == 2:
        return np.tril(c + np.swapaxes(c, -1, -2), -1) + np.diag(np.diagonal(c))
    if nd == 1:
        return np.diagonal(c).copy()
    return np.reshape(np.trace(c), np.shape(cov))


def _short(x, alpha) -> bool:
    return np.shape(x)[0] + 1 == np.shape(alpha)[0]


def simplex(x, alpha):
    """``x`` completed to all of alpha's components (by ``1 - sum``), a new array."""
    x = np.asarray(x)
    if _short(x, alpha):
        return np.concatenate([x, 1 - np.sum(x, axis=0, keepdims=True)], axis=0)
    return np.copy(x)


def simplex_dot(dot, alpha):
    """The tangent of ``simplex``: ``dot`` completed by ``-sum``."""
    dot = np.asarray(dot)
    if _short(dot, alpha):
        return np.concatenate([dot, -np.sum(dot, axis=0, keepdims=True)], axis=0)
    return np.copy(dot)


def simplex_t(c, x):
    """The transpose of ``simplex_dot``: an adjoint shaped as ``x``."""
    c = np.asarray(c)
    if np.shape(c)[0] == np.shape(x)[0] + 1:
        return c[:-1] - c[-1:]
    return np.copy(c)
