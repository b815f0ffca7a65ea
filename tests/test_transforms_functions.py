"""hvp, hessian and grad(grad(f)) of functions taking a function as an argument (issue
20): ``act`` (np.tanh, a def, a lambda) is a constant of the derivative, as in grad, vjp
and jvp. Checked against central differences of the gradient written by hand (not
srcgrad's), per activation."""

import numpy as np
import pytest

import srcgrad
from srcgrad.errors import UsageError

H = 1e-5


def loss(x, act):
    return np.sum(act(x) ** 2 * np.array([1.0, 2.0, 0.5]))


def loss_scalar(x, act):
    return act(x) ** 3 + x * act(x)


def loss_params(p, act):
    return np.sum(act(p["w"] * p["b"]) ** 2)


def my_tanh(z):
    return np.tanh(z)


# act, and its derivative written by hand
ACTS = {
    "ufunc": (np.tanh, lambda z: 1 - np.tanh(z) ** 2),
    "def": (my_tanh, lambda z: 1 - np.tanh(z) ** 2),
    "lambda": (lambda z: np.sin(z) * z,
               lambda z: np.cos(z) * z + np.sin(z)),
}
X = np.array([0.3, -0.5, 1.1])
V = np.array([1.0, 2.0, -1.0])


def hand_grad(x, act, dact):
    return 2 * act(x) * dact(x) * np.array([1.0, 2.0, 0.5])


def hand_grad_scalar(x, act, dact):
    return 3 * act(x) ** 2 * dact(x) + act(x) + x * dact(x)


def fd_hvp(grad_fn, x, v):
    return (grad_fn(x + H * v) - grad_fn(x - H * v)) / (2 * H)


@pytest.mark.parametrize("name", list(ACTS))
def test_hvp_with_a_function_argument(name):
    act, dact = ACTS[name]
    want = fd_hvp(lambda x: hand_grad(x, act, dact), X, V)
    np.testing.assert_allclose(srcgrad.hvp(loss)(X, act, V), want, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(srcgrad.hvp(loss)(X, V, act=act), want, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("name", list(ACTS))
def test_hessian_with_a_function_argument(name):
    act, dact = ACTS[name]
    hess = srcgrad.hessian(loss)(X, act)
    assert hess.shape == (3, 3)
    want = np.stack([fd_hvp(lambda x: hand_grad(x, act, dact), X, e) for e in np.eye(3)],
                    axis=1)
    np.testing.assert_allclose(hess, want, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("name", list(ACTS))
def test_grad_of_grad_with_a_function_argument(name):
    act, dact = ACTS[name]
    x = 0.4
    want = (hand_grad_scalar(x + H, act, dact) - hand_grad_scalar(x - H, act, dact)) / (2 * H)
    got = srcgrad.grad(srcgrad.grad(loss_scalar))(x, act)
    np.testing.assert_allclose(got, want, rtol=1e-7)
    got_kw = srcgrad.grad(srcgrad.grad(loss_scalar))(x, act=act)
    np.testing.assert_allclose(got_kw, want, rtol=1e-7)


def test_hvp_of_a_structured_argument_with_a_function_argument():
    p = {"w": np.array([0.5, -1.0]), "b": np.array([0.3, 0.8])}
    v = {"w": np.array([1.0, 0.5]), "b": np.array([-1.0, 2.0])}

    def hand(w, b):  # the gradient in (w, b), flattened
        t = np.tanh(w * b)
        s = 2 * t * (1 - t ** 2)
        return np.concatenate([s * b, s * w])

    flat = np.concatenate([p["w"], p["b"]])
    dirn = np.concatenate([v["w"], v["b"]])
    want = fd_hvp(lambda z: hand(z[:2], z[2:]), flat, dirn)
    got = srcgrad.hvp(loss_params)(p, np.tanh, v)
    np.testing.assert_allclose(np.concatenate([got["w"], got["b"]]), want, rtol=1e-7)


def test_a_function_argument_is_not_differentiated_by_hvp_or_hessian():
    with pytest.raises(UsageError, match="constant of the derivative"):
        srcgrad.hessian(loss, wrt=1)(X, np.tanh)
    with pytest.raises(UsageError, match="constant of the derivative"):
        srcgrad.grad(srcgrad.grad(loss_scalar), wrt=1)(0.4, np.tanh)
