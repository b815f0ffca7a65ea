"""What the public docstrings of srcgrad/api.py claim, checked (issue 19: the hvp
docstring said loops were not supported, while hvp and hessian run them)."""

from __future__ import annotations

import numpy as np
import pytest

import srcgrad


def looped(x, n):
    s = 0.0
    for i in range(n):
        s = s + np.sum(x ** 2) * (i + 1)
    k = 0
    while k < 2:
        s = s + np.sum(np.sin(x))
        k = k + 1
    return s


def looped_hessian(x, n):
    return (n * (n + 1)) * np.eye(x.size) - 2.0 * np.diag(np.sin(x))


X = np.array([0.3, -1.2, 2.0])


def test_hvp_runs_for_and_while_loops():
    v = np.array([1.0, -2.0, 0.5])
    np.testing.assert_allclose(srcgrad.hvp(looped)(X, 3, v), looped_hessian(X, 3) @ v)


def test_hessian_runs_for_and_while_loops():
    np.testing.assert_allclose(srcgrad.hessian(looped)(X, 4), looped_hessian(X, 4))


def test_vjp_takes_keywords_and_gives_a_cotangent_per_parameter():
    def loss(x, y=1.0):
        return np.sum(x ** 2) * y

    out, pullback = srcgrad.vjp(loss, X, y=2.0)
    x_bar, y_bar = pullback(1.0)
    np.testing.assert_allclose(x_bar, 4.0 * X)
    assert y_bar == pytest.approx(np.sum(X ** 2))


def test_jvp_gives_defaults_zero_tangents_and_reads_no_tangent_of_a_constant():
    def masked(x, mask=None, scale=2.0):
        if mask is None:
            return np.sum(x ** 2) * scale
        return np.sum(x[mask] ** 2) * scale

    v = np.ones(3)
    assert srcgrad.jvp(masked, (X,), (v,))[1] == pytest.approx(4.0 * np.sum(X))
    assert srcgrad.jvp(masked, (X, None), (v, None))[1] == pytest.approx(4.0 * np.sum(X))
