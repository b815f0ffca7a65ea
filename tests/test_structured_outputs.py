"""Structured outputs (issue 20): vjp, jvp and jacobian of functions returning tuples,
lists, dicts, NamedTuples and dataclasses, each output leaf checked against central
differences (``numeric``) and jvp against vjp; ``grad``/``value_and_grad`` with
``has_aux``; arguments that are constants of the derivative (ints used as sizes,
strings, None, functions) in every transform. JAX's pytrees are the reference."""

from __future__ import annotations

import numpy as np
import pytest
from fixtures import structured_outputs as S
from numeric import directional, gradient

import srcgrad
from srcgrad import pytrees

rng = np.random.default_rng(20)
X = np.array([0.3, -0.7, 1.1])
Y = 0.4
OUTPUTS = [S.pair, S.as_list, S.as_dict, S.nested, S.named, S.as_dataclass,
           S.with_constant_leaf, S.only_one_depends, S.from_branches]
RTOL, ATOL = 1e-6, 1e-9


def _leaves(value):
    return pytrees.flatten(value)[1]


def _float_leaves(out):
    """The indices of the output leaves that are differentiated (floats)."""
    return [k for k, v in enumerate(_leaves(out))
            if not isinstance(v, (int, str, type(None)))]


def _random_like(v):
    return rng.standard_normal(np.shape(v)) if np.ndim(v) else float(rng.standard_normal())


def _with_leaf(out, k, value):
    """A structure like ``out``: ``value`` at leaf k, zeros at the other float leaves,
    None at the constant ones."""
    floats = _float_leaves(out)
    cts = [value if j == k else np.zeros(np.shape(v)) if j in floats else None
           for j, v in enumerate(_leaves(out))]
    return pytrees.unflatten(pytrees.flatten(out)[0], cts, out)


def _leaf(f, k):
    return lambda *a: _leaves(f(*a))[k]


def _inner(ct, f, k):
    return lambda *a: float(np.sum(ct * np.asarray(_leaves(f(*a))[k], dtype=float)))


@pytest.mark.parametrize("f", OUTPUTS, ids=lambda f: f.__name__)
def test_vjp_per_output_leaf_against_central_differences(f):
    out, vjp_fn = srcgrad.vjp(f, X, Y)
    expected = f(X, Y)
    assert type(out) is type(expected)
    for got, want in zip(_leaves(out), _leaves(expected)):
        np.testing.assert_array_equal(got, want)
    for k in _float_leaves(out):
        ct = _random_like(_leaves(out)[k])
        gx, gy = vjp_fn(_with_leaf(out, k, ct))
        g = _inner(ct, f, k)
        np.testing.assert_allclose(gx, gradient(g, (X, Y), 0), rtol=RTOL, atol=ATOL)
        np.testing.assert_allclose(gy, gradient(g, (X, Y), 1), rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("f", OUTPUTS, ids=lambda f: f.__name__)
def test_jvp_per_output_leaf_against_central_differences(f):
    tx, ty = rng.standard_normal(3), 0.8
    value, tangent = srcgrad.jvp(f, (X, Y), (tx, ty))
    assert type(value) is type(f(X, Y)) and type(tangent) is type(value)
    floats = _float_leaves(value)
    for k, t in enumerate(_leaves(tangent)):
        if k not in floats:
            assert t is None  # a constant leaf (an int, a str) has no tangent
            continue
        np.testing.assert_allclose(t, directional(_leaf(f, k), (X, Y), (tx, ty)),
                                   rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("f", OUTPUTS, ids=lambda f: f.__name__)
def test_jvp_and_vjp_agree(f):
    tx, ty = rng.standard_normal(3), -0.3
    out, vjp_fn = srcgrad.vjp(f, X, Y)
    floats = _float_leaves(out)
    cts = [_random_like(v) if k in floats else None for k, v in enumerate(_leaves(out))]
    gx, gy = vjp_fn(pytrees.unflatten(pytrees.flatten(out)[0], cts, out))
    _, tangent = srcgrad.jvp(f, (X, Y), (tx, ty))
    left = sum(float(np.sum(c * t)) for c, t in zip(cts, _leaves(tangent)) if c is not None)
    right = float(np.sum(gx * tx) + gy * ty)
    np.testing.assert_allclose(left, right, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("mode", ["forward", "reverse", "auto"])
@pytest.mark.parametrize("f", OUTPUTS, ids=lambda f: f.__name__)
def test_jacobian_is_the_output_structure_holding_per_leaf_jacobians(f, mode):
    out = f(X, Y)
    floats = _float_leaves(out)
    for i, arg in enumerate((X, Y)):
        J = srcgrad.jacobian(f, wrt=i, mode=mode)(X, Y)
        assert type(J) is type(out)
        for k, (j, o) in enumerate(zip(_leaves(J), _leaves(out))):
            if k not in floats:
                assert j is None
                continue
            assert np.shape(j) == np.shape(o) + np.shape(arg)
            for e in np.ndindex(np.shape(arg)):
                t = np.zeros(np.shape(arg))
                t[e] = 1.0
                ts = (t, 0.0) if i == 0 else (np.zeros(3), 1.0)
                col = np.asarray(j)[(...,) + e] if np.ndim(arg) else j
                np.testing.assert_allclose(col, directional(_leaf(f, k), (X, Y), ts),
                                           rtol=RTOL, atol=ATOL)


def test_structured_argument_and_structured_output():
    params = {"W": rng.standard_normal((2, 3)), "b": rng.standard_normal(2)}
    x = rng.standard_normal(3)
    out, vjp_fn = srcgrad.vjp(S.layer, params, x)
    ct = {"h": rng.standard_normal(2), "reg": 0.7}
    gp, gx = vjp_fn(ct)
    assert set(gp) == {"W", "b"}

    def inner(W, b, x):
        o = S.layer({"W": W, "b": b}, x)
        return float(np.sum(ct["h"] * o["h"]) + ct["reg"] * o["reg"])

    args = (params["W"], params["b"], x)
    np.testing.assert_allclose(gp["W"], gradient(inner, args, 0), rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(gp["b"], gradient(inner, args, 1), rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(gx, gradient(inner, args, 2), rtol=RTOL, atol=ATOL)
    for mode in ("forward", "reverse"):
        J = srcgrad.jacobian(S.layer, mode=mode)(params, x)  # out outside, params inside
        assert J["h"]["W"].shape == (2, 2, 3) and J["reg"]["b"].shape == (2,)
        np.testing.assert_allclose(J["reg"]["W"], 2 * params["W"], rtol=1e-12)
        np.testing.assert_allclose(J["reg"]["b"], 0.0, atol=0)
        h = np.tanh(params["W"] @ x + params["b"])
        np.testing.assert_allclose(J["h"]["b"], np.diag(1 - h ** 2), rtol=1e-12, atol=1e-15)


def test_a_cotangent_of_another_structure_or_shape_is_refused():
    _, vjp_fn = srcgrad.vjp(S.pair, X, Y)
    with pytest.raises(srcgrad.UsageError, match="another structure") as info:
        vjp_fn((np.ones(3),))
    assert info.value.loc is not None and "test_structured_outputs.py" in info.value.loc.file
    with pytest.raises(srcgrad.UsageError, match=r"shape \(2,\)"):
        vjp_fn((np.ones(2), 1.0))


# ---- has_aux --------------------------------------------------------------------------

W = rng.standard_normal(3)
A = rng.standard_normal((4, 3))


def _loss(w, x):
    return S.loss_and_aux(w, x)[0]


def test_grad_has_aux_gives_the_gradient_and_the_aux():
    g, aux = srcgrad.grad(S.loss_and_aux, has_aux=True)(W, A)
    np.testing.assert_allclose(g, gradient(_loss, (W, A), 0), rtol=RTOL, atol=ATOL)
    want = S.loss_and_aux(W, A)[1]
    assert set(aux) == {"pred", "norm"}
    np.testing.assert_allclose(aux["pred"], want["pred"], rtol=1e-15)
    assert aux["norm"] == want["norm"]


def test_value_and_grad_has_aux_like_jax():
    (loss, aux), (gw, gx) = srcgrad.value_and_grad(S.loss_and_aux, wrt=(0, 1),
                                                   has_aux=True)(W, A)
    np.testing.assert_allclose(loss, _loss(W, A), rtol=1e-14)
    np.testing.assert_allclose(aux["pred"], A @ W, rtol=1e-14)
    np.testing.assert_allclose(gw, gradient(_loss, (W, A), 0), rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(gx, gradient(_loss, (W, A), 1), rtol=RTOL, atol=ATOL)


def test_has_aux_as_a_decorator_and_with_a_number_as_aux():
    g, aux = srcgrad.grad(wrt="w", has_aux=True)(S.loss_with_int_aux)(W, W + 1.0)
    np.testing.assert_allclose(g, np.cos(W) * (W + 1.0), rtol=1e-14)
    assert aux == 7


def test_has_aux_needs_a_pair_and_a_scalar_loss():
    with pytest.raises(srcgrad.UsageError, match="not a pair") as info:
        srcgrad.grad(S.not_a_pair, has_aux=True)(W, W)
    assert "(loss, aux)" in info.value.hint
    with pytest.raises(srcgrad.NonScalarOutput, match=r"shape \(3,\)"):
        srcgrad.grad(S.pair, has_aux=True)(X, Y)


@pytest.mark.parametrize("transform", [
    lambda g: srcgrad.vjp(g, W, A), lambda g: srcgrad.jvp(g, (W, A), (W, A)),
    lambda g: srcgrad.grad(g)(W, A)])
def test_derivatives_of_a_has_aux_gradient_are_refused(transform):
    with pytest.raises(srcgrad.UsageError, match="derivative made by srcgrad.grad"):
        transform(srcgrad.grad(S.loss_and_aux, has_aux=True))


def test_grad_of_a_function_returning_a_tuple_is_refused_naming_has_aux():
    with pytest.raises(srcgrad.UnsupportedSyntax, match="returns a tuple") as info:
        srcgrad.grad(S.loss_and_aux)(W, A)
    assert "structured_outputs.py" in info.value.loc.file
    assert "has_aux=True" in info.value.hint and "vjp" in info.value.hint


# ---- arguments that are constants of the derivative -----------------------------------

CONSTANTS = (3, "act", np.tanh, None)


def test_vjp_with_an_int_size_a_str_a_function_and_none():
    # vjp differentiates every argument; n is a size, whose derivative does not exist:
    # refused where it is used (its cotangent was a silent 0.0), so n is bound first.
    with pytest.raises(srcgrad.NoDerivativeRule, match="n, which depends on a "
                       "differentiated input, is used as an integer"):
        srcgrad.vjp(S.sized, X, *CONSTANTS)
    out, vjp_fn = srcgrad.vjp(lambda x, name, act, scale: S.sized(x, 3, name, act, scale),
                              X, *CONSTANTS[1:])
    np.testing.assert_allclose(out, np.tanh(X), rtol=1e-15)
    ct = rng.standard_normal(3)
    gx, _, gact, _ = vjp_fn(ct)
    np.testing.assert_allclose(gx, ct * (1 - np.tanh(X) ** 2), rtol=1e-12)
    assert gact is None


def test_jvp_reads_no_tangent_of_a_constant():
    t = rng.standard_normal(3)
    value, tangent = srcgrad.jvp(S.sized, (X, *CONSTANTS), (t, None, None, None, None))
    np.testing.assert_allclose(tangent, directional(
        lambda x: S.sized(x, *CONSTANTS), (X,), (t,)), rtol=RTOL, atol=ATOL)
    with pytest.raises(srcgrad.UsageError, match="tangent of x is None"):
        srcgrad.jvp(S.sized, (X, *CONSTANTS), (None, None, None, None, None))


def test_jacobian_grad_and_value_and_grad_with_a_function_argument():
    J = srcgrad.jacobian(S.sized)(X, 3, "act", np.sin, None)
    np.testing.assert_allclose(J, np.diag(np.cos(X)), rtol=1e-14)
    g = srcgrad.grad(S.summed)
    np.testing.assert_allclose(g(X, 3, "act", np.sin, None), np.cos(X), rtol=1e-14)
    np.testing.assert_allclose(g(X, 3, "act", np.cos, None), -np.sin(X), rtol=1e-14)
    np.testing.assert_allclose(g(X, 3, "other", np.cos, None), 2.0, rtol=1e-14)
    value, gx = srcgrad.value_and_grad(S.summed)(X, 3, "act", np.exp, None)
    np.testing.assert_allclose(value, np.sum(np.exp(X)), rtol=1e-14)
    np.testing.assert_allclose(gx, np.exp(X), rtol=1e-14)


def test_an_int_or_a_function_in_wrt_stays_refused():
    with pytest.raises(srcgrad.UsageError, match="'n' of summed is a NumPy int64") as info:
        srcgrad.grad(S.summed, wrt="n")(X, np.int64(3), "act", np.tanh, None)
    assert "float" in info.value.hint
    with pytest.raises(srcgrad.UsageError, match="'act' of summed") as info:
        srcgrad.grad(S.summed, wrt="act")(X, *CONSTANTS)
    assert "leave it out of wrt" in info.value.hint


def test_has_aux_with_a_bound_method_and_with_respect_to_self():
    model, x = S.Model(np.array([0.5, -1.0])), np.array([2.0, 3.0])
    g, r = srcgrad.grad(model.loss, has_aux=True)(x)
    np.testing.assert_allclose(g, 4.0 * model.w ** 2 * x, rtol=1e-14)
    np.testing.assert_allclose(r, model.w * x, rtol=1e-15)
    g, r = srcgrad.grad(S.Model.loss, wrt="self", has_aux=True)(model, x)
    assert isinstance(g, S.Model)
    np.testing.assert_allclose(g.w, 4.0 * model.w * x ** 2, rtol=1e-14)
    np.testing.assert_allclose(g.scale, np.sum((model.w * x) ** 2), rtol=1e-14)


def test_a_list_display_holding_a_dict():
    out, vjp_fn = srcgrad.vjp(S.list_holding_a_dict, X, Y)
    assert isinstance(out, list) and set(out[1]) == {"a"}
    gx, gy = vjp_fn([np.ones(3), {"a": np.ones(3)}])
    np.testing.assert_allclose(gx, Y + 1.0, rtol=1e-15)
    np.testing.assert_allclose(gy, np.sum(X), rtol=1e-15)
    _, tangent = srcgrad.jvp(S.list_holding_a_dict, (X, Y), (np.ones(3), 0.0))
    assert isinstance(tangent, list)
    np.testing.assert_allclose(tangent[0], Y, rtol=1e-15)
    np.testing.assert_allclose(tangent[1]["a"], 1.0, rtol=1e-15)
    with pytest.raises(srcgrad.UnsupportedSyntax, match="returns a list holding"):
        srcgrad.grad(S.list_holding_a_dict)(X, Y)


def test_a_dataclass_with_its_own_init_is_not_made_while_lowering():
    with pytest.raises(srcgrad.UnsupportedSyntax, match="creating a OwnInit"):
        srcgrad.vjp(S.own_init, X)


def test_a_float_constant_leaf_has_zero_derivatives():
    out, vjp_fn = srcgrad.vjp(S.constant_leaf_float, X)
    (gx,) = vjp_fn((np.ones(3), 5.0))
    np.testing.assert_array_equal(gx, np.ones(3))
    _, (tx, t2) = srcgrad.jvp(S.constant_leaf_float, (X,), (np.ones(3),))
    assert t2 == 0.0
    J = srcgrad.jacobian(S.constant_leaf_float, mode="reverse")(X)
    np.testing.assert_array_equal(J[1], np.zeros(3))


def test_the_other_branch_returning_another_tuple():
    args = (X, -0.4)
    out, vjp_fn = srcgrad.vjp(S.from_branches, *args)
    for k in (0, 1):
        ct = rng.standard_normal(3)
        gx, gy = vjp_fn(tuple(ct if j == k else np.zeros(3) for j in (0, 1)))
        g = _inner(ct, S.from_branches, k)
        np.testing.assert_allclose(gx, gradient(g, args, 0), rtol=RTOL, atol=ATOL)
        np.testing.assert_allclose(gy, gradient(g, args, 1), rtol=RTOL, atol=ATOL)
