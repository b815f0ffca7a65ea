"""Second order by forward mode over the generated reverse-mode gradient."""

import math

import numpy as np
import pytest

import srcgrad


def quartic(x):
    return np.sum(x ** 4) + x[0] * x[1] * x[2]


def net(W, x, y):
    h = np.tanh(x @ W)
    return np.mean((h.sum(axis=1) - y) ** 2) + 0.1 * np.sum(W * W)


def branchy(x: float, y: float):
    if x > 0.5:
        return math.sin(x * y) + x ** 3
    return math.exp(x) * y * y


def gradient_differences(f, args, i, eps=1e-5):
    """Central differences of srcgrad's gradient: the Hessian's columns."""
    x = np.asarray(args[i], dtype=float)
    grad = srcgrad.grad(f, wrt=i)
    cols = []
    for k in range(x.size):
        d = np.zeros(x.size)
        d[k] = eps
        hi, lo = list(args), list(args)
        hi[i] = (x + d.reshape(x.shape)) if x.ndim else float(x + d[0])
        lo[i] = (x - d.reshape(x.shape)) if x.ndim else float(x - d[0])
        cols.append(np.ravel((np.asarray(grad(*hi)) - np.asarray(grad(*lo))) / (2 * eps)))
    return np.stack(cols, axis=1).reshape(x.shape + x.shape)


@pytest.mark.parametrize("f, args, i", [
    (quartic, (np.array([0.5, -1.0, 2.0]),), 0),
    (net, (np.random.default_rng(0).normal(size=(3, 2)),
           np.random.default_rng(1).normal(size=(4, 3)), np.ones(4)), 0),
    (branchy, (0.9, -0.4), 0),
    (branchy, (0.2, -0.4), 1),
])
def test_hessian_matches_differences_of_gradients(f, args, i):
    H = srcgrad.hessian(f, wrt=i)(*args)
    np.testing.assert_allclose(H, gradient_differences(f, args, i), rtol=1e-5, atol=1e-7)
    assert np.allclose(H.reshape(np.size(args[i]), -1), H.reshape(np.size(args[i]), -1).T)


def test_hvp_is_the_hessian_times_v_without_building_it():
    x = np.array([0.5, -1.0, 2.0])
    v = np.array([1.0, 0.5, -2.0])
    hand = np.diag(12 * x ** 2) + np.array([[0, x[2], x[1]], [x[2], 0, x[0]], [x[1], x[0], 0]])
    np.testing.assert_allclose(srcgrad.hvp(quartic)(x, v), hand @ v, rtol=1e-12)


def looped(x):
    s = 0.0
    for i in range(3):
        s = s + x[i] ** 3
    return s


def recurrence(x: float, a: float):
    for _ in range(4):
        x = a * math.sin(x) + 0.1 * x * x
    return x


def test_second_order_through_loops_and_the_tape():
    x = np.array([0.3, -0.5, 0.8])
    np.testing.assert_allclose(srcgrad.hessian(looped)(x), gradient_differences(looped, (x,), 0),
                               rtol=1e-5, atol=1e-7)
    for j in (0, 1):
        got = srcgrad.grad(srcgrad.grad(recurrence), wrt=j)(0.3, 0.9)
        hi, lo = [0.3, 0.9], [0.3, 0.9]
        hi[j] += 1e-5
        lo[j] -= 1e-5
        fd = (srcgrad.grad(recurrence)(*hi) - srcgrad.grad(recurrence)(*lo)) / 2e-5
        assert got == pytest.approx(fd, rel=1e-6)


def test_hessian_of_the_hmm_log_partition():
    import hmm

    args = hmm.example(4, 3, 1)
    H = srcgrad.hessian(hmm.log_partition, wrt="log_emit")(*args)
    np.testing.assert_allclose(H, gradient_differences(hmm.log_partition, args, 2),
                               rtol=1e-5, atol=1e-7)


def cubic_mix(x, y):
    return x ** 3 * y + math.sin(x * y)


def test_grad_of_grad():
    x, y = 0.7, -1.3
    d2x = srcgrad.grad(srcgrad.grad(cubic_mix))(x, y)
    assert d2x == pytest.approx(6 * x * y - y * y * math.sin(x * y), rel=1e-12)
    dxdy = srcgrad.grad(srcgrad.grad(cubic_mix), wrt="y")(x, y)
    assert dxdy == pytest.approx(3 * x * x + math.cos(x * y) - x * y * math.sin(x * y),
                                 rel=1e-12)
    with pytest.raises(srcgrad.NonScalarOutput, match="hessian"):
        srcgrad.grad(srcgrad.grad(quartic))(np.ones(3))


def test_second_order_source_is_readable_python():
    text = srcgrad.derivative_source(cubic_mix, order=2)
    assert "\n\n\ndef cubic_mix_hvp(x, y, x_dot):" in text  # after the imports
    assert "x_bar_dot" in text  # the gradient's own tangent, named after it
    compile(text, "<hvp>", "exec")


def test_hvp_equals_hessian_times_v_through_a_loop():
    x, v = np.array([0.3, -0.5, 0.8]), np.array([0.2, 1.0, -0.7])
    np.testing.assert_allclose(srcgrad.hvp(looped)(x, v), srcgrad.hessian(looped)(x) @ v,
                               rtol=1e-12, atol=1e-14)


def test_third_and_fourth_order():
    x, y = 0.7, -1.3
    d3 = srcgrad.grad(srcgrad.grad(srcgrad.grad(cubic_mix)))(x, y)
    assert d3 == pytest.approx(6 * y - y ** 3 * math.cos(x * y), rel=1e-12)
    d4 = srcgrad.grad(srcgrad.grad(srcgrad.grad(srcgrad.grad(cubic_mix))))(x, y)
    assert d4 == pytest.approx(y ** 4 * math.sin(x * y), rel=1e-12)
    d3_loop = srcgrad.grad(srcgrad.grad(srcgrad.grad(recurrence)))(0.3, 0.9)
    second = srcgrad.grad(srcgrad.grad(recurrence))
    assert d3_loop == pytest.approx((second(0.3 + 1e-5, 0.9) - second(0.3 - 1e-5, 0.9)) / 2e-5,
                                    rel=1e-6)
