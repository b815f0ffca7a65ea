"""Forward mode through the public API: jvp and jacobian, against finite differences."""

import math

import lecture
import numpy as np
import pytest

import srcgrad


def field(x, A):
    y = np.tanh(A @ x)
    out = np.zeros(3)
    for i in range(3):
        out[i] = y[i] * x[i] + math.sin(x[(i + 1) % 3])
    return out


def numeric_jacobian(f, args, i, eps=1e-6):
    x = np.asarray(args[i], dtype=float)
    cols = []
    for k in range(x.size):
        d = np.zeros(x.size)
        d[k] = eps
        hi = list(args)
        lo = list(args)
        hi[i] = x + d.reshape(x.shape)
        lo[i] = x - d.reshape(x.shape)
        cols.append((np.asarray(f(*hi)) - np.asarray(f(*lo))).ravel() / (2 * eps))
    out_shape = np.shape(f(*args))
    return np.stack(cols, axis=1).reshape(out_shape + x.shape)


@pytest.mark.parametrize("mode", ["forward", "reverse", "auto"])
def test_jacobian_in_every_mode(mode):
    rng = np.random.default_rng(2)
    x, A = rng.normal(size=3), rng.normal(size=(3, 3))
    got = srcgrad.jacobian(field, mode=mode)(x, A)
    np.testing.assert_allclose(got, numeric_jacobian(field, (x, A), 0), rtol=1e-6, atol=1e-8)
    wrt_A = srcgrad.jacobian(field, wrt="A", mode=mode)(x, A)
    assert wrt_A.shape == (3, 3, 3)
    np.testing.assert_allclose(wrt_A, numeric_jacobian(field, (x, A), 1), rtol=1e-6,
                               atol=1e-8)


def test_jvp_of_the_lecture_example_is_the_directional_derivative():
    value, tangent = srcgrad.jvp(lecture.f, (2.0, -1.0, 0.0), (0.5, -1.0, 2.0))
    d = 3.0  # x**2 + y*exp(z) at the point
    expected = math.cos(d) * (2 * 2.0 * 0.5 + math.exp(0.0) * -1.0 + -1.0 * 1.0 * 2.0) + 2.0
    assert value == lecture.f(2.0, -1.0, 0.0)
    assert tangent == pytest.approx(expected, rel=1e-14)
    text = srcgrad.derivative_source(lecture.f, wrt=(0, 1, 2), mode="forward")
    assert "d_dot = a_dot + c_dot" in text  # tangents interleaved, named after the user's


def test_a_rule_without_a_forward_form_is_a_clear_error():
    def fancy(x):
        return x * 2.0

    srcgrad.defvjp(fancy, "x", x="2.0 * g")

    def f(x):
        return fancy(x) + 1.0

    assert srcgrad.grad(f)(1.0) == 2.0
    with pytest.raises(srcgrad.NoDerivativeRule, match="no forward-mode rule"):
        srcgrad.jvp(f, (1.0,), (1.0,))
    srcgrad.defvjp(fancy, "x", x="2.0 * g", jvp_x="2.0 * dot")

    def g(x):
        return fancy(x) + 1.0

    assert srcgrad.jvp(g, (1.0,), (3.0,)) == (3.0, 6.0)


def dict_model(params, x):
    return np.sum(np.tanh(x @ params["W"] + params["b"]) * params["scale"][0])


def test_jvp_with_a_dict_argument():
    rng = np.random.default_rng(4)
    params = {"W": rng.normal(size=(3, 2)), "b": rng.normal(size=2), "scale": (0.5,)}
    x = rng.normal(size=(4, 3))
    tangent = {"W": rng.normal(size=(3, 2)), "b": rng.normal(size=2), "scale": (1.5,)}
    value, dot = srcgrad.jvp(dict_model, (params, x), (tangent, np.zeros((4, 3))))
    assert value == dict_model(params, x)
    eps = 1e-6

    def shifted(sign):
        return {"W": params["W"] + sign * eps * tangent["W"],
                "b": params["b"] + sign * eps * tangent["b"],
                "scale": (params["scale"][0] + sign * eps * tangent["scale"][0],)}

    fd = (dict_model(shifted(1), x) - dict_model(shifted(-1), x)) / (2 * eps)
    assert dot == pytest.approx(fd, rel=1e-6)
