"""Calls of the user's functions, closures, tuples, methods, and user-defined rules."""

import math

import numpy as np
import pytest
from fixtures import model_loss

import srcgrad


def central_differences(f, args, i, eps=1e-6):
    x = np.array(args[i], dtype=float)
    out = np.zeros(x.shape)
    for idx in np.ndindex(x.shape):
        hi, lo = x.copy(), x.copy()
        hi[idx] += eps
        lo[idx] -= eps
        shape = (lambda v: float(v)) if x.ndim == 0 else (lambda v: v)
        out[idx] = (f(*args[:i], shape(hi), *args[i + 1:]) -
                    f(*args[:i], shape(lo), *args[i + 1:])) / (2 * eps)
    return out


def assert_matches_finite_differences(f, args, wrt):
    grads = srcgrad.grad(f, wrt=wrt)(*args)
    for i, g in zip(wrt, grads):
        np.testing.assert_allclose(g, central_differences(f, args, i), rtol=1e-5, atol=1e-7)


def test_a_model_split_into_helpers_in_two_modules():
    rng = np.random.default_rng(0)
    args = (rng.normal(size=(4, 5)), rng.normal(size=5), rng.normal(size=(5, 3)),
            rng.normal(size=(6, 4)), rng.integers(0, 3, size=6))
    assert_matches_finite_differences(model_loss.loss, args, (0, 1, 2))
    source = srcgrad.derivative_source(model_loss.loss, wrt=(0, 1, 2))
    assert "model_layers.py:" in source  # the helpers' lines are quoted where they are used


def test_the_closure_pattern():
    data, target = np.arange(6.0).reshape(3, 2), np.array([1.0, -1.0, 0.5])
    fit = model_loss.make_loss(data, target)
    w = np.array([0.3, -0.2])
    np.testing.assert_allclose(srcgrad.grad(fit)(w), 2 * data.T @ (data @ w - target),
                               rtol=1e-12)


def test_recursion_is_a_located_error():
    with pytest.raises(srcgrad.UnsupportedSyntax, match="calls itself") as err:
        srcgrad.grad(model_loss.count_down, wrt=1)(3, 2.0)
    assert "model_loss.py:" in str(err.value)


def scaled(x, factor=2.0):
    return factor * x


def twice(x):
    return scaled(x) + scaled(x, factor=3.0) + scaled(factor=0.5, x=x)


def deep(x):
    return twice(twice(x)) * math.sin(x)


def pair(x, y):
    return x * y, x + y


def uses_pair(x, y):
    product, total = pair(x, y)
    both = pair(total, product)
    return both[0] - both[1] * product


def with_loop(v, steps):
    acc = 0.0
    for i in range(steps):
        if v[i] > 0:
            acc = acc + helper_power(v[i], i + 1)
    return acc


def helper_power(a, n):
    out = 1.0
    for _ in range(n):
        out = out * a
    return out


def methods(x, y):
    T, K = x.shape
    z = x.reshape(K, T).T.copy()
    return z.sum(axis=0).max() + x.mean() + x.dot(y).min() + len(y) * y.sum()


@pytest.mark.parametrize("f, args", [
    (twice, (0.7,)),
    (deep, (0.4,)),
    (uses_pair, (0.3, -1.2)),
    (with_loop, (np.array([0.5, -0.2, 1.3, 0.8]), 4)),
    (methods, (np.array([[0.1, 0.7, -0.3], [0.4, -0.9, 0.2]]), np.array([0.5, -0.25, 1.0]))),
])
def test_helpers_tuples_and_methods(f, args):
    floats = tuple(i for i, a in enumerate(args) if not isinstance(a, int))
    assert_matches_finite_differences(f, args, floats)


# ---- user-defined rules ------------------------------------------------------------


def softplus(x):
    return np.logaddexp(0.0, x)


srcgrad.defpartials(softplus, "x", "1 / (1 + np.exp(-x))")


@srcgrad.primitive("x", x="g * np.exp(x - ans)")
def logsumexp(x):
    m = np.max(x)
    return m + np.log(np.sum(np.exp(x - m)))


@srcgrad.nondiff
def bucket(x):
    return np.floor(4.0 * x) / 4.0


def model(x):
    return logsumexp(softplus(x) * 3.0) + np.sum(bucket(x) * x)


def test_user_rules_are_called_and_used():
    x = np.array([0.3, -1.2, 2.0, 40.0])  # softplus(40) would overflow a naive exp
    got = srcgrad.grad(model)(x)
    p = np.exp(3 * softplus(x) - logsumexp(3 * softplus(x)))
    expected = p * 3.0 / (1 + np.exp(-x)) + bucket(x)
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    source = srcgrad.derivative_source(model)
    assert "logsumexp(" in source and "softplus(" in source  # called, not inlined


def test_stop_gradient():
    def f(x):
        return x * srcgrad.stop_gradient(x * x)

    assert srcgrad.grad(f)(3.0) == 9.0


def test_a_bad_rule_is_reported_when_declared():
    def g(x):
        return x

    with pytest.raises(srcgrad.SrcgradError, match="cannot be read"):
        srcgrad.defpartials(g, "x", "undefined_helper(x)")


def test_integer_and_boolean_arguments_are_refused():
    def f(x):
        return np.sum(x * 2.0)

    with pytest.raises(srcgrad.UsageError, match="int"):
        srcgrad.grad(f)(np.arange(3))
    with pytest.raises(srcgrad.UsageError, match="boolean"):
        srcgrad.grad(f)(True)
    assert srcgrad.grad(lambda_free_square)(3) == 6.0  # a Python int is a real number


def lambda_free_square(x):
    return x * x


def test_a_function_without_source_or_rule_points_to_the_rule_api():
    def f(x):
        return np.frexp(x)[0] * x

    with pytest.raises(srcgrad.NoDerivativeRule, match="defvjp"):
        srcgrad.grad(f)(np.array([0.5, 3.0]))


def gather(x, idx, mask):
    return np.sum(x[idx] ** 2) + np.sum(x[mask] * 3.0)


def test_integer_array_and_mask_indices_add_up_repeats():
    x = np.array([1.0, 2.0, 3.0, -1.0])
    idx, mask = np.array([0, 0, 2, 0]), x > 1.5
    got = srcgrad.grad(gather)(x, idx, mask)
    np.testing.assert_array_equal(got, [6.0, 3.0, 9.0, 0.0])  # x0 read three times


def test_the_custom_rule_example(capsys):
    import custom_rule

    x = np.array([-30.0, 0.0, 30.0, 1000.0])
    np.testing.assert_allclose(srcgrad.grad(custom_rule.loss)(x), 1 / (1 + np.exp(-x)),
                               rtol=1e-12)
    custom_rule.main()
    assert "softplus(x)" in capsys.readouterr().out


def scaled_power(x, k, scale=1.0):
    return scale * x ** k


cube = __import__("functools").partial(scaled_power, k=3)


def local_functions(x, w):
    def sq(t, c=2.0):
        return c * t * t + w * t  # reads w from the enclosing function

    g = lambda t: np.sin(t) * w  # noqa: E731 - the lambda is the point
    return sq(x) + g(x) + (lambda u: u * u)(w) + cube(x, scale=0.5)


def test_nested_defs_lambdas_and_partial():
    assert_matches_finite_differences(local_functions, (0.7, -0.3), (0, 1))
    x, w = 0.7, -0.3
    expected_dx = 4 * x + w + np.cos(x) * w + 1.5 * x * x
    assert srcgrad.grad(local_functions)(x, w) == pytest.approx(expected_dx, rel=1e-12)


def sums_over_generators(x, w):
    t = 5.0  # the comprehension's own `t` must not touch this one
    s = sum(np.tanh(t * w) for t in x if t > 0)
    r = sum([v * v for v in x], 1.0)
    return s * t + r + sum(a * b for a, b in zip(x, x))


def test_sum_over_a_generator_or_comprehension():
    x, w = np.array([0.5, -0.2, 1.3]), 0.7
    value, _ = srcgrad.value_and_grad(sums_over_generators, (0, 1))(x, w)
    assert value == sums_over_generators(x, w)
    assert_matches_finite_differences(sums_over_generators, (x, w), (0, 1))


def rnn(h, W, xs):
    hs = []
    for t in range(xs.shape[0]):
        h = np.tanh(W @ h + xs[t])
        hs.append(h)
    H = np.stack(hs)
    return np.sum(H * H) + np.sum(np.array(hs)[-1]) + sum(hs).sum() + hs[0][1]


def collect(x):
    parts = []
    for i in range(3):
        if x[i] > 0:
            parts.append(x * (i + 1.0))
        else:
            parts.append(x * x)
    return np.sum(np.concatenate(parts) ** 2) + np.sum(np.stack([x, x * x], axis=1))


def test_lists_built_with_append_then_stacked():
    rng = np.random.default_rng(3)
    args = (rng.normal(size=3), rng.normal(size=(3, 3)) * 0.5, rng.normal(size=(4, 3)))
    assert srcgrad.value_and_grad(rnn, (0, 1, 2))(*args)[0] == rnn(*args)
    assert_matches_finite_differences(rnn, args, (0, 1, 2))
    for x in (np.array([0.5, -0.3, 1.2]), np.array([-0.5, 0.3, -1.2])):
        assert_matches_finite_differences(collect, (x,), (0,))


def dict_loss(params, x, y):
    W, b = params["W"], params["b"]
    pred = np.tanh(x @ W + b)
    scale, shift = params["affine"]
    return np.mean((scale * pred + shift - y) ** 2)


def _leaf_differences(f, params, rest, path, eps=1e-6):
    """Central differences of ``f`` with respect to the leaf ``params[path...]`` (an array
    or a float held in a list)."""
    import copy

    def value_at(index, delta):
        p = copy.deepcopy(params)
        holder = p
        for key in path[:-1]:
            holder = holder[key]
        if index is None:
            holder[path[-1]] += delta
        else:
            holder[path[-1]][index] += delta
        return f(p, *rest)

    leaf = params[path[0]] if len(path) == 1 else params[path[0]][path[1]]
    if not isinstance(leaf, np.ndarray):
        return (value_at(None, eps) - value_at(None, -eps)) / (2 * eps)
    out = np.zeros(leaf.shape)
    for idx in np.ndindex(leaf.shape):
        out[idx] = (value_at(idx, eps) - value_at(idx, -eps)) / (2 * eps)
    return out


def test_gradients_with_respect_to_dicts_tuples_and_lists_keep_their_shape():
    rng = np.random.default_rng(5)
    params = {"W": rng.normal(size=(3, 2)), "b": rng.normal(size=2), "affine": [1.5, -0.2]}
    x, y = rng.normal(size=(4, 3)), rng.normal(size=(4, 2))
    g = srcgrad.grad(dict_loss)(params, x, y)
    assert list(g) == ["W", "b", "affine"] and isinstance(g["affine"], list)
    for path in (("W",), ("b",), ("affine", 0), ("affine", 1)):
        got = g[path[0]] if len(path) == 1 else g[path[0]][path[1]]
        np.testing.assert_allclose(got, _leaf_differences(dict_loss, params, (x, y), path),
                                   rtol=1e-5, atol=1e-8)
    # Another structure re-specializes: no stale code for the first one.
    fewer = {"W": params["W"], "b": params["b"], "affine": (2.0, 0.0)}
    assert isinstance(srcgrad.grad(dict_loss)(fewer, x, y)["affine"], tuple)


def test_tuple_and_list_arguments():
    def f(pair, c):
        a, b = pair
        return np.sum(a * b) + c * pair[1].sum()

    value, (g_pair, g_c) = srcgrad.value_and_grad(f, (0, 1))([np.ones(2), np.arange(2.0)], 3.0)
    assert value == 4.0
    np.testing.assert_array_equal(g_pair[0], [0.0, 1.0])
    np.testing.assert_array_equal(g_pair[1], [4.0, 4.0])
    assert g_c == 1.0 and isinstance(g_pair, list)


def comprehensions_and_displays(x, w):
    ys = [np.tanh(w * v) for v in x if v > -1.0]
    zs = [x, x * w]
    d = {"a": x * 2.0, "b": w}
    return np.sum(np.stack(ys)) + np.sum(np.array(zs) ** 2) + np.sum(d["a"] * d["b"])


def test_list_comprehensions_list_and_dict_displays():
    for x in (np.array([0.5, -0.2, 1.3]), np.array([-1.5, 0.2, -2.0])):
        args = (x, 0.7)
        assert srcgrad.value_and_grad(comprehensions_and_displays, (0, 1))(*args)[0] == \
            comprehensions_and_displays(*args)
        assert_matches_finite_differences(comprehensions_and_displays, args, (0, 1))


def test_vjp_takes_structured_arguments():
    """(Was refused; structured arguments are taken since issue 14: tests/test_pytrees.py.)"""
    params = {"W": np.ones((3, 2)), "b": np.ones(2), "affine": [1.0, 0.0]}
    args = (params, np.ones((4, 3)), np.ones((4, 2)))
    value, pullback = srcgrad.vjp(dict_loss, *args)
    cotangents = pullback(1.0)
    expected = srcgrad.grad(dict_loss)(*args)
    assert value == dict_loss(*args)
    assert set(cotangents[0]) == set(params)
    for k in ("W", "b"):
        np.testing.assert_allclose(cotangents[0][k], expected[k], rtol=1e-12)
    np.testing.assert_allclose(cotangents[0]["affine"], expected["affine"], rtol=1e-12)
