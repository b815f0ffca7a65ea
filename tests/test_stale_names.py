"""Names read from outside the function never go stale (issue 19).

A derivative reads what ``f`` reads, when ``f`` would read it: after a global, a
closure cell, a module attribute or a helper changes, every transform gives the
derivative of ``f`` as it now is. Each case below changes one kind of name between
two calls and checks the transforms against ``f``'s own central differences after
the change (and that the first call was right too).
"""

from __future__ import annotations

import numpy as np
import pytest
from fixtures import stale_config
from numeric import directional, gradient

import srcgrad

LAM = 0.5
W = np.array([1.0, -2.0, 0.5])
N = 2
MODE = "tanh"


def by_global_number(x):
    return np.sum(x ** 2) * LAM


def by_global_array(x):
    return np.sum(np.sin(x) * W)


def by_module_attribute(x):
    return np.sum(np.tanh(x) * stale_config.SCALE)


def by_trip_count(x):
    s = 0.0
    for i in range(N):
        s = s + np.sum(np.sin(x * (i + 1)))
    return s


def by_branch_on_string(x):
    if MODE == "tanh":
        return np.sum(np.tanh(x))
    return np.sum(np.sin(x))


def with_default(x, lam=LAM):
    return np.sum(x ** 2) * lam


def _square(v):
    return v * v


def _cube(v):
    return v * v * v


helper = _square


def by_helper(x):
    return np.sum(helper(x))


def with_closure():
    scale = 2.0

    def f(x):
        return np.sum(np.exp(x) * scale)

    def rebind(value):
        nonlocal scale
        scale = value
    return f, rebind


class _Set:
    """Changes a module global of this file, and changes it back."""

    def __init__(self, name, value):
        self.name, self.value = name, value

    def __call__(self):
        globals()[self.name] = self.value


def _mutate_w():
    W[:] = [0.3, 0.7, -1.1]


CASES = {
    "global number": (by_global_number, _Set("LAM", 2.0)),
    "global array rebound": (by_global_array, _Set("W", np.array([2.0, 0.25, -1.0]))),
    "global array mutated": (by_global_array, _mutate_w),
    "global array of another shape": (by_global_array, _Set("W", np.array([[1.0, 2.0, 3.0],
                                                                         [0.5, 0.0, -1.0]]))),
    "module attribute": (by_module_attribute, lambda: setattr(stale_config, "SCALE", -0.75)),
    "trip count": (by_trip_count, _Set("N", 4)),
    "branch decided on a string": (by_branch_on_string, _Set("MODE", "sin")),
    "helper rebound": (by_helper, _Set("helper", _cube)),
}
X = np.array([0.3, -0.8, 1.1])


@pytest.fixture(autouse=True)
def _restore():
    saved = {k: globals()[k] for k in ("LAM", "W", "N", "MODE", "helper")}
    saved_w, scale = W.copy(), stale_config.SCALE
    yield
    globals().update(saved)
    W[:] = saved_w
    stale_config.SCALE = scale


def _check_all(f, made):
    """Each transform (``made``: built before the change) against f's differences now."""
    g = gradient(f, (X,), 0)
    grad, value_and_grad = made
    np.testing.assert_allclose(grad(X), g, rtol=1e-7, atol=1e-9)
    value, g2 = value_and_grad(X)
    assert value == f(X)
    np.testing.assert_allclose(g2, g, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(srcgrad.grad(f)(X), g, rtol=1e-7, atol=1e-9)
    v = np.array([0.5, -1.0, 2.0])
    value, tangent = srcgrad.jvp(f, (X,), (v,))
    np.testing.assert_allclose(tangent, directional(f, (X,), (v,)), rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(srcgrad.jacobian(f)(X), g, rtol=1e-7, atol=1e-9)
    _, pullback = srcgrad.vjp(f, X)
    np.testing.assert_allclose(pullback(1.0)[0], g, rtol=1e-7, atol=1e-9)
    hessian = np.array([gradient(lambda x, j=j: gradient(f, (x,), 0)[j], (X,), 0)
                        for j in range(X.size)])
    np.testing.assert_allclose(srcgrad.hessian(f)(X), hessian, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(srcgrad.hvp(f)(X, v), hessian @ v, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_a_changed_name_is_read_again(case):
    f, change = CASES[case]
    made = (srcgrad.grad(f), srcgrad.value_and_grad(f))
    _check_all(f, made)  # builds every derivative with the old value
    change()
    _check_all(f, made)


def test_closure_cell_rebound_by_nonlocal():
    f, rebind = with_closure()
    made = (srcgrad.grad(f), srcgrad.value_and_grad(f))
    _check_all(f, made)
    rebind(-3.0)
    _check_all(f, made)


def test_default_arguments_keep_python_semantics():
    """A default is bound when the def runs: changing the global later changes neither
    f nor its derivative."""
    made = (srcgrad.grad(with_default), srcgrad.value_and_grad(with_default))
    _check_all(with_default, made)
    _Set("LAM", 2.0)()
    _check_all(with_default, made)
    np.testing.assert_allclose(srcgrad.grad(with_default)(X), 2 * 0.5 * X)
