"""Structured arguments (srcgrad/pytrees.py): dataclasses (frozen too), NamedTuples,
registered classes, a plain object as ``self``, lists and dicts of them, through grad,
value_and_grad, vjp, jvp, hvp, hessian and grad of a gradient. Gradients are checked
leaf by leaf against central differences, second derivatives against differences of
the gradient, forward mode against reverse mode; the returned types are checked."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from fixtures import pytree_programs as P
from numeric import gradient

import srcgrad
from srcgrad import pytrees

RTOL, ATOL = 1e-6, 1e-8
rng = np.random.default_rng(14)
srcgrad.register_class(P.Registered, fields=("W", "b", "size"))


def _layer(m, n, name="dense"):
    return P.Layer(rng.standard_normal((m, n)) * 0.5, rng.standard_normal(m) * 0.3, name)


def _replace_leaf(args, i, k, value, self_param):
    structure, leaves = pytrees.flatten(args[i], self_param)
    leaves = list(leaves)
    leaves[k] = value
    out = list(args)
    out[i] = pytrees.unflatten(structure, leaves, args[i])
    return tuple(out)


def differences(f, args, i, self_param=False):
    """Central differences of f with respect to each leaf of argument i, in order."""
    _, leaves = pytrees.flatten(args[i], self_param)
    return [gradient(lambda v, k=k: f(*_replace_leaf(args, i, k, v, self_param)), (leaf,), 0)
            for k, leaf in enumerate(leaves)]


def assert_leaves_close(got, expected, self_param=False):
    leaves = pytrees.flatten(got, self_param)[1]
    assert len(leaves) == len(expected)
    for g, e in zip(leaves, expected):
        assert np.shape(g) == np.shape(e)
        np.testing.assert_allclose(g, e, rtol=RTOL, atol=ATOL)


def check_grad_of(f, args, i=0, self_param=False):
    g = srcgrad.grad(f, wrt=i)(*args)
    assert type(g) is type(args[i])
    assert_leaves_close(g, differences(f, args, i, self_param), self_param)
    return g


# ---- each kind through grad ---------------------------------------------------------

def test_dataclass_gradient_is_a_dataclass_and_static_fields_are_read():
    x = rng.standard_normal(4)
    layer = _layer(3, 4)
    g = check_grad_of(P.loss_layer, (layer, x))
    assert g.name == "dense" and dataclasses.is_dataclass(g)
    # the static field chooses the branch: another value, another derivative
    other = P.Layer(layer.W, layer.b, "other")
    g2 = srcgrad.grad(P.loss_layer)(other, x)
    np.testing.assert_array_equal(g2.W, np.ones((3, 4)))
    np.testing.assert_array_equal(g2.b, np.zeros(3))
    assert g2.name == "other"
    np.testing.assert_allclose(srcgrad.grad(P.loss_layer)(layer, x).W, g.W, rtol=1e-14)


def test_frozen_dataclass_with_an_int_static_field():
    x = rng.standard_normal(4)
    p = P.Frozen(rng.standard_normal((3, 4)), 0.7, 2)
    g = check_grad_of(P.loss_frozen, (p, x))
    assert g.power == 2
    with pytest.raises(dataclasses.FrozenInstanceError):
        g.W = None
    q = P.Frozen(p.W, 0.7, 3)  # the int is part of the structure: a new derivative
    check_grad_of(P.loss_frozen, (q, x))


def test_namedtuple_fields_unpacking_and_indexing():
    x = rng.standard_normal(4)
    p = P.Params(rng.standard_normal((3, 4)), rng.standard_normal(3), 3)
    g = check_grad_of(P.loss_named, (p, x))
    assert g.n == 3 and g._fields == ("W", "b", "n")


def test_registered_class_with_slots():
    x = rng.standard_normal(4)
    r = P.Registered(rng.standard_normal((3, 4)) * 0.3, rng.standard_normal(3), 5)
    g = check_grad_of(P.loss_registered, (r, x))
    assert g.size == 5 and g is not r


def test_registered_class_with_its_own_rebuild():
    class Pair:
        def __init__(self, a, b):
            self.a, self.b = a, b

    made = []

    def rebuild(obj, values):
        made.append(sorted(values))
        return Pair(values["a"], values["b"])

    srcgrad.register_class(Pair, fields=("a", "b"), rebuild=rebuild)
    p = Pair(rng.standard_normal(3), 0.4)
    g = srcgrad.grad(P.pair_product)(p)
    assert isinstance(g, Pair) and made == [["a", "b"]]
    np.testing.assert_allclose(g.a, np.cos(p.a) * p.b, rtol=1e-12)
    np.testing.assert_allclose(g.b, np.sum(np.sin(p.a)), rtol=1e-12)


def test_plain_object_as_self_with_methods_properties_and_a_list_of_layers():
    x, y = rng.standard_normal(4), rng.standard_normal(3)
    config = P.Config(2, "tanh")
    model = P.Model(rng, [4, 5, 3], config)
    g = srcgrad.grad(P.Model.loss, wrt="self")(model, x, y)
    assert type(g) is P.Model and g is not model
    assert g.name == "mlp" and g.config == config
    assert [type(layer) for layer in g.layers] == [P.Layer, P.Layer]
    assert_leaves_close(g, differences(P.Model.loss, (model, x, y), 0, True), True)
    # the static config is part of the structure: sin instead of tanh, rebuilt
    model.config = P.Config(2, "sin")
    g2 = srcgrad.grad(P.Model.loss, wrt="self")(model, x, y)
    assert_leaves_close(g2, differences(P.Model.loss, (model, x, y), 0, True), True)


def test_list_of_layer_dataclasses_unrolled():
    x, y = rng.standard_normal(4), rng.standard_normal(3)
    layers = [_layer(5, 4), _layer(3, 5)]
    g = check_grad_of(P.mlp, (layers, x, y))
    assert [type(layer) for layer in g] == [P.Layer, P.Layer]


def test_dict_of_dataclasses_and_a_dataclass_holding_a_dict_and_a_list():
    x = rng.standard_normal(4)
    net = {"enc": _layer(5, 4), "dec": _layer(2, 5)}
    g = check_grad_of(P.loss_dict_of_layers, (net, x))
    assert set(g) == {"enc", "dec"} and type(g["dec"]) is P.Layer
    nested = P.Nested({"a": rng.standard_normal(4)}, [1.5, rng.standard_normal(2)], 0.3)
    g = check_grad_of(P.loss_nested, (nested, x))
    assert type(g.inner) is dict and type(g.items) is list


def test_leaf_parameters_have_readable_names():
    layers = [_layer(5, 4), _layer(3, 5)]
    d = srcgrad.grad(P.mlp)
    d(layers, rng.standard_normal(4), rng.standard_normal(3))
    entry = srcgrad.api._ENTRIES[P.mlp]
    (primal,) = entry.primals.values()
    names = [p.name for p in primal.params]
    assert names[:4] == ["layers_0_W", "layers_0_b", "layers_1_W", "layers_1_b"]


# ---- the other transforms ------------------------------------------------------------

def test_value_and_grad_and_vjp_give_the_gradient_in_the_arguments_types():
    x, y = rng.standard_normal(4), rng.standard_normal(3)
    layers = [_layer(5, 4), _layer(3, 5)]
    value, g = srcgrad.value_and_grad(P.mlp)(layers, x, y)
    assert value == pytest.approx(P.mlp(layers, x, y), rel=1e-14)
    out, pullback = srcgrad.vjp(P.mlp, layers, x, y)
    ct_layers, ct_x, ct_y = pullback(2.0)
    assert type(ct_layers) is list and type(ct_layers[1]) is P.Layer
    for a, b in zip(pytrees.flatten(ct_layers)[1], pytrees.flatten(g)[1]):
        np.testing.assert_allclose(a, 2.0 * b, rtol=1e-12)
    np.testing.assert_allclose(ct_x, 2.0 * gradient(P.mlp, (layers, x, y), 1), rtol=RTOL)


@pytest.mark.parametrize("kind", ["dataclass", "namedtuple", "registered", "self"])
def test_jvp_against_vjp(kind):
    x = rng.standard_normal(4)
    if kind == "dataclass":
        f, p = P.loss_frozen, P.Frozen(rng.standard_normal((3, 4)), 0.7, 2)
        dp = P.Frozen(rng.standard_normal((3, 4)), 0.2, 2)
    elif kind == "namedtuple":
        f, p = P.loss_named, P.Params(rng.standard_normal((3, 4)), rng.standard_normal(3), 3)
        dp = P.Params(rng.standard_normal((3, 4)), rng.standard_normal(3), 3)
    elif kind == "registered":
        f = P.loss_registered
        p = P.Registered(rng.standard_normal((3, 4)) * 0.3, rng.standard_normal(3), 5)
        dp = P.Registered(rng.standard_normal((3, 4)), rng.standard_normal(3), 5)
    else:
        f, p = P.Model.forward_sum, P.Model(rng, [4, 3], P.Config(1, "tanh"))
        dp = P.Model(rng, [4, 3], P.Config(1, "tanh"))
    dx = rng.standard_normal(4)
    value, dot = srcgrad.jvp(f, (p, x), (dp, dx))
    assert value == pytest.approx(f(p, x), rel=1e-14)
    _, pullback = srcgrad.vjp(f, p, x)
    ct_p, ct_x = pullback(1.0)
    selfp = kind == "self"
    expected = sum(np.sum(a * b) for a, b in zip(pytrees.flatten(ct_p, selfp)[1],
                                                  pytrees.flatten(dp, selfp)[1]))
    expected += np.sum(ct_x * dx)
    np.testing.assert_allclose(dot, expected, rtol=1e-10)


def _gradient_difference(f, args, i, v, h=1e-5, self_param=False):
    """(grad(args + h v) - grad(args - h v)) / 2h, leaf by leaf."""
    structure, leaves = pytrees.flatten(args[i], self_param)
    v_leaves = pytrees.flatten(v, self_param)[1]

    def at(t):
        moved = [a + t * b for a, b in zip(leaves, v_leaves)]
        new = list(args)
        new[i] = pytrees.unflatten(structure, moved, args[i])
        return pytrees.flatten(srcgrad.grad(f, wrt=i)(*new), self_param)[1]

    return [(a - b) / (2 * h) for a, b in zip(at(h), at(-h))]


def test_hvp_against_differences_of_the_gradient():
    x, y = rng.standard_normal(4), rng.standard_normal(3)
    layers = [_layer(5, 4), _layer(3, 5)]
    v = [_layer(5, 4), _layer(3, 5)]
    hv = srcgrad.hvp(P.mlp)(layers, x, y, v)
    assert type(hv) is list and type(hv[0]) is P.Layer
    for a, b in zip(pytrees.flatten(hv)[1], _gradient_difference(P.mlp, (layers, x, y), 0, v)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)


def test_hvp_with_self():
    x, y = rng.standard_normal(4), rng.standard_normal(3)
    model = P.Model(rng, [4, 5, 3], P.Config(2, "tanh"))
    v = P.Model(rng, [4, 5, 3], P.Config(2, "tanh"))
    hv = srcgrad.hvp(P.Model.loss, wrt="self")(model, x, y, v)
    assert type(hv) is P.Model
    expected = _gradient_difference(P.Model.loss, (model, x, y), 0, v, self_param=True)
    for a, b in zip(pytrees.flatten(hv, True)[1], expected):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)


def test_hessian_of_a_structured_argument_is_over_its_leaves_flattened():
    x = rng.standard_normal(4)
    p = P.Frozen(rng.standard_normal((3, 4)), 0.7, 2)
    H = srcgrad.hessian(P.loss_frozen)(p, x)
    assert H.shape == (13, 13)  # W's 12 entries, then scale
    np.testing.assert_allclose(H, H.T, rtol=1e-9, atol=1e-12)
    for k in (0, 5, 12):
        e = np.zeros(13)
        e[k] = 1.0
        v = P.Frozen(e[:12].reshape(3, 4), float(e[12]), 2)
        col = np.concatenate([np.ravel(a) for a in
                              _gradient_difference(P.loss_frozen, (p, x), 0, v)])
        np.testing.assert_allclose(H[:, k], col, rtol=1e-5, atol=1e-7)


def test_grad_of_grad_with_respect_to_a_structure():
    p = P.Layer(rng.standard_normal(3), rng.standard_normal(2))
    x = 0.3
    gg = srcgrad.grad(srcgrad.grad(P.energy, wrt=0), wrt=1)(x, p)
    assert type(gg) is P.Layer and gg.name == "dense"
    expected = differences(srcgrad.grad(P.energy, wrt=0), (x, p), 1)
    assert_leaves_close(gg, expected)
    # a tuple and a dict as the outer argument too
    for f, q in ((P.energy_tuple, (p.W, p.b)), (P.energy_dict, {"W": p.W, "b": p.b})):
        got = srcgrad.grad(srcgrad.grad(f, wrt=0), wrt=1)(x, q)
        assert type(got) is type(q)
        assert_leaves_close(got, differences(srcgrad.grad(f, wrt=0), (x, q), 1))


# ---- what stays refused ----------------------------------------------------------------

def test_unregistered_class_is_refused_with_what_to_write():
    class Plain:
        def __init__(self, W):
            self.W = W

    with pytest.raises(srcgrad.UsageError, match="Plain") as info:
        srcgrad.grad(P.loss_registered)(Plain(np.ones((3, 4))), np.ones(4))
    assert "register_class" in info.value.hint and "dataclass" in info.value.hint


def test_attribute_that_is_not_a_field_is_a_located_error():
    with pytest.raises(srcgrad.UnsupportedSyntax, match="no field .bias") as info:
        srcgrad.grad(P.uses_missing_field)(_layer(3, 4), np.ones(4))
    assert info.value.loc.line > 0 and "pytree_programs.py" in info.value.loc.file
    assert "field" in info.value.hint


def test_register_class_refuses_bad_fields():
    with pytest.raises(srcgrad.UsageError, match="fields") as info:
        srcgrad.register_class(P.Layer, fields="W")
    assert info.value.loc.file == __file__ and "register_class" in info.value.loc.text
    with pytest.raises(srcgrad.UsageError, match="class"):
        srcgrad.register_class(P.Layer(1.0, 2.0), fields=("W",))


def test_jvp_tangent_of_another_structure_is_refused():
    p = P.Params(rng.standard_normal((3, 4)), rng.standard_normal(3), 3)
    with pytest.raises(srcgrad.UsageError, match="another structure"):
        srcgrad.jvp(P.loss_named, (p, np.ones(4)), ((p.W, p.b, 3), np.ones(4)))


def test_an_int_array_leaf_stays_refused():
    with pytest.raises(srcgrad.UsageError, match="int64"):
        srcgrad.grad(P.mlp)([(np.ones((3, 4)), np.arange(3))], np.ones(4), np.ones(3))


def test_enumerate_and_len_over_layers_and_a_function_held_in_a_field():
    x = rng.standard_normal(4)
    layers = [_layer(4, 4), _layer(4, 4), _layer(2, 4)]
    check_grad_of(P.scaled_layers, (layers, x))
    p = P.WithActivation(rng.standard_normal((3, 4)), np.tanh)
    g = check_grad_of(P.activation_field, (p, x))
    assert g.f is np.tanh


def test_check_grad_takes_structured_arguments():
    x, y = rng.standard_normal(4), rng.standard_normal(3)
    layers = [_layer(5, 4), _layer(3, 5)]
    assert srcgrad.check_grad(P.mlp, layers, x, y) < 1e-6
    model = P.Model(rng, [4, 3], P.Config(1, "tanh"))
    assert srcgrad.check_grad(P.Model.loss, model, x, y, wrt="self") < 1e-6


@pytest.mark.parametrize("f, args, match", [
    (P.chosen_layer, lambda: ([_layer(3, 4), _layer(3, 4)], np.ones(4), 1.0),
     "same object on every path"),
    (P.layer_as_value, lambda: (_layer(3, 4), np.ones(4)), "cannot be used as one value"),
    (P.returns_layer, lambda: (_layer(3, 4), np.ones(4)), "returns an object"),
])
def test_objects_used_where_their_fields_are_not_known_are_located_errors(f, args, match):
    with pytest.raises(srcgrad.UnsupportedSyntax, match=match) as info:
        srcgrad.grad(f)(*args())
    assert "pytree_programs.py" in info.value.loc.file and info.value.hint


def test_user_names_like_the_leaf_names_do_not_collide():
    layer, x = _layer(3, 4), rng.standard_normal(4)
    check_grad_of(P.names_like_the_leaves, (layer, x))
    source = srcgrad.api._ENTRIES[P.names_like_the_leaves]
    (primal,) = source.primals.values()
    assert [p.name for p in primal.params] == ["layer_W_1", "layer_b_1", "x"]


def test_hvp_of_a_non_scalar_function_of_a_structure_is_refused():
    layer, x = _layer(3, 4), rng.standard_normal(4)
    with pytest.raises(srcgrad.NonScalarOutput, match="shape"):
        srcgrad.hvp(P.layer_output)(layer, x, layer)


@pytest.mark.parametrize("limit", [0.0, 1e9])  # stops after the first layer / runs them all
def test_break_and_continue_in_a_loop_over_layers(limit):
    x = rng.standard_normal(4)
    layers = [_layer(4, 4), _layer(4, 4), _layer(4, 4)]
    g = check_grad_of(P.layers_until, (layers, x, limit))
    if limit == 0.0:
        np.testing.assert_array_equal(g[2].W, np.zeros((4, 4)))


@pytest.mark.parametrize("mode", ["forward", "reverse"])
def test_jacobian_of_a_structured_argument_per_leaf(mode):
    layer, x = _layer(3, 4), rng.standard_normal(4)
    J = srcgrad.jacobian(P.layer_map, mode=mode)(layer, x)
    assert type(J) is P.Layer and J.W.shape == (3, 3, 4) and J.b.shape == (3, 3)
    w = rng.standard_normal(3)  # J contracted with w is the gradient of w . f

    def weighted(layer, x):
        return np.sum(w * P.layer_map(layer, x))

    expected = differences(weighted, (layer, x), 0)
    np.testing.assert_allclose(np.tensordot(w, J.W, 1), expected[0], rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(np.tensordot(w, J.b, 1), expected[1], rtol=RTOL, atol=ATOL)


def test_jvp_of_grad_is_hvp_plus_the_mixed_term():
    x, y = rng.standard_normal(4), rng.standard_normal(3)
    layers, v = [_layer(5, 4), _layer(3, 5)], [_layer(5, 4), _layer(3, 5)]
    dx = rng.standard_normal(4)
    g, dg = srcgrad.jvp(srcgrad.grad(P.mlp), (layers, x, y), (v, dx, np.zeros(3)))
    assert type(dg) is list and type(dg[1]) is P.Layer
    for a, b in zip(pytrees.flatten(g)[1], pytrees.flatten(srcgrad.grad(P.mlp)(layers, x, y))[1]):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    h = 1e-5  # the gradient's change along (v, dx)

    def grad_at(t):
        moved = [P.Layer(a.W + t * b.W, a.b + t * b.b) for a, b in zip(layers, v)]
        return pytrees.flatten(srcgrad.grad(P.mlp)(moved, x + t * dx, y))[1]

    expected = [(a - b) / (2 * h) for a, b in zip(grad_at(h), grad_at(-h))]
    for a, b in zip(pytrees.flatten(dg)[1], expected):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)
    (value, g2), (value_dot, dg2) = srcgrad.jvp(srcgrad.value_and_grad(P.mlp),
                                                (layers, x, y), (v, dx, np.zeros(3)))
    assert value == pytest.approx(P.mlp(layers, x, y), rel=1e-14)
    for a, b in zip(pytrees.flatten(dg2)[1], pytrees.flatten(dg)[1]):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_loops_over_tuples_holding_objects_and_over_tuples_of_arrays():
    x = rng.standard_normal(4)
    pairs = [(_layer(4, 4), 0.5), (_layer(3, 4), 2.0)]
    g = check_grad_of(P.pairs_of_layers, (pairs, x))
    assert type(g[0]) is tuple and type(g[0][0]) is P.Layer
    arrays = [(rng.standard_normal((4, 4)), rng.standard_normal(4)),
              (rng.standard_normal((3, 4)), rng.standard_normal(3))]
    check_grad_of(P.tuples_of_arrays, (arrays, x))


def test_vjp_of_grad_against_jvp_of_grad():
    """<ct, H v> computed both ways: vjp of grad gives H ct (H symmetric)."""
    x, y = rng.standard_normal(4), rng.standard_normal(3)
    layers = [_layer(5, 4), _layer(3, 5)]
    v, ct = [_layer(5, 4), _layer(3, 5)], [_layer(5, 4), _layer(3, 5)]
    dx = rng.standard_normal(4)
    g, pullback = srcgrad.vjp(srcgrad.grad(P.mlp), layers, x, y)
    for a, b in zip(pytrees.flatten(g)[1], pytrees.flatten(srcgrad.grad(P.mlp)(layers, x, y))[1]):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    ct_layers, ct_x, ct_y = pullback(ct)
    assert type(ct_layers[0]) is P.Layer and np.shape(ct_x) == (4,)
    _, dg = srcgrad.jvp(srcgrad.grad(P.mlp), (layers, x, y), (v, dx, np.zeros(3)))
    left = sum(np.sum(a * b) for a, b in zip(pytrees.flatten(ct)[1], pytrees.flatten(dg)[1]))
    right = sum(np.sum(a * b) for a, b in zip(pytrees.flatten(ct_layers)[1],
                                               pytrees.flatten(v)[1])) + np.sum(ct_x * dx)
    np.testing.assert_allclose(left, right, rtol=1e-10)


def test_a_registered_field_the_object_lacks_is_refused_where_it_is_passed():
    class Half:
        def __init__(self, W):
            self.W = W

    srcgrad.register_class(Half, fields=("W", "b"))
    with pytest.raises(srcgrad.UsageError, match="no attribute 'b'") as info:
        srcgrad.grad(P.loss_registered)(Half(np.ones((3, 4))), np.ones(4))
    assert info.value.loc.file == __file__


def test_a_loop_over_layers_inside_a_loop_over_time():
    xs = rng.standard_normal((5, 4))
    layers = [_layer(4, 4), _layer(3, 4)]
    check_grad_of(P.recurrent, (layers, xs))
    check_grad_of(P.recurrent, (layers, xs), 1)


def test_a_constant_of_the_class_body_is_read_and_rebuilt_when_it_changes():
    model, x = P.Classifier(rng.standard_normal((5, 4))), rng.standard_normal(4)
    d = srcgrad.grad(P.Classifier.loss, wrt="self")
    assert_leaves_close(d(model, x), differences(P.Classifier.loss, (model, x), 0, True), True)
    P.Classifier.n_classes = 4
    try:
        g = d(model, x)
        assert_leaves_close(g, differences(P.Classifier.loss, (model, x), 0, True), True)
        assert np.any(g.W[3] != 0.0)
    finally:
        P.Classifier.n_classes = 3


@pytest.mark.parametrize("mode", ["forward", "reverse"])
def test_jacobian_of_a_structured_gradient_is_the_hessian_nested_like_jax(mode):
    p, x = P.Frozen(rng.standard_normal((3, 4)), 0.7, 2), rng.standard_normal(4)
    J = srcgrad.jacobian(srcgrad.grad(P.loss_frozen), mode=mode)(p, x)
    H = srcgrad.hessian(P.loss_frozen)(p, x)  # over the leaves W (12 entries), scale
    assert isinstance(J, P.Frozen) and isinstance(J.W, P.Frozen) and J.power == 2
    assert J.W.W.shape == (3, 4, 3, 4) and J.W.scale.shape == (3, 4)
    np.testing.assert_allclose(J.W.W.reshape(12, 12), H[:12, :12], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(J.W.scale.ravel(), H[:12, 12], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(J.scale.W.ravel(), H[12, :12], rtol=1e-12, atol=1e-12)
    assert J.scale.scale == H[12, 12]


def test_hessian_with_respect_to_self():
    model, x = P.Classifier(rng.standard_normal((3, 2))), rng.standard_normal(2)
    H = srcgrad.hessian(P.Classifier.loss, wrt="self")(model, x)
    assert H.shape == (6, 6)
    np.testing.assert_allclose(H, 2.0 * np.kron(np.eye(3), np.outer(x, x)), rtol=1e-12,
                               atol=1e-12)  # loss = |W x|^2: H = 2 I (x) x x^T
