"""Objects and methods: grad of a bound method reading self's weights, calling its own
methods, properties, static and class methods; @grad above a method; module-level
lambdas; staleness when the object changes; the cache holds no instance alive."""

import copy
import gc
import pickle
import weakref

import numpy as np
import pytest
from fixtures import methods as me
from numeric import gradient

import srcgrad
from srcgrad import build

X = np.array([0.3, -1.2, 0.8, 0.5])
Y = 0.7


def loss_by_hand(m, x, y):
    """MLP.loss and its gradients with respect to x and y, written out."""
    z = m.W1 @ x + m.b1
    h = np.tanh(z)
    r = m.w2 @ h - y
    dx = m.W1.T @ ((1 - h * h) * (m.w2 * r))
    return 0.5 * r * r + m.penalty, dx, -r


def test_grad_of_a_bound_method_against_a_hand_written_gradient():
    m = me.MLP()
    value, dx, dy = loss_by_hand(m, X, Y)
    np.testing.assert_allclose(srcgrad.grad(m.loss)(X, Y), dx, rtol=1e-12)
    assert srcgrad.grad(m.loss, wrt="y")(X, Y) == pytest.approx(dy)
    v, (gx, gy) = srcgrad.value_and_grad(m.loss, wrt=(0, 1))(X, Y)
    assert v == pytest.approx(value)
    np.testing.assert_allclose(gx, dx, rtol=1e-12)
    assert gy == pytest.approx(dy)


@pytest.mark.parametrize("cls", [me.MLP, me.Residual])
@pytest.mark.parametrize("method", ["loss", "loss_via_class"])
def test_methods_against_central_differences_and_forward_mode(method, cls):
    f = getattr(cls(seed=3), method)
    for wrt in (0, 1):
        got = srcgrad.grad(f, wrt=wrt)(X, Y)
        np.testing.assert_allclose(got, gradient(f, (X, Y), wrt), rtol=1e-6, atol=1e-10)
    v = np.array([1.0, -2.0, 0.5, 0.25])
    value, dot = srcgrad.jvp(f, (X, Y), (v, 1.0))
    assert value == pytest.approx(f(X, Y))
    gx, gy = srcgrad.grad(f, wrt=(0, 1))(X, Y)
    assert dot == pytest.approx(gx @ v + gy)


def test_vjp_and_hessian_of_a_bound_method():
    m = me.MLP(seed=2)
    out, pullback = srcgrad.vjp(m.loss, X, Y)
    assert out == pytest.approx(m.loss(X, Y))
    gx, gy = pullback(2.0)
    np.testing.assert_allclose(gx, 2 * srcgrad.grad(m.loss)(X, Y), rtol=1e-12)
    hessian = srcgrad.hessian(m.loss)(X, Y)
    want = np.array([gradient(lambda x, i=i: srcgrad.grad(m.loss)(x, Y)[i], (X,), 0)
                     for i in range(4)])
    np.testing.assert_allclose(hessian, want, rtol=1e-5, atol=1e-8)


def test_a_changed_attribute_rebuilds():
    m = me.MLP(seed=4)
    g = srcgrad.grad(m.loss)
    first = g(X, Y)
    m.W1 = m.W1 * 2.0  # a new array
    np.testing.assert_allclose(g(X, Y), loss_by_hand(m, X, Y)[1], rtol=1e-12)
    m.config.l2 = 5.0  # a number two attributes down (read by the property)
    m.w2[0] += 1.0  # in place: the code reads the array itself
    np.testing.assert_allclose(g(X, Y), loss_by_hand(m, X, Y)[1], rtol=1e-12)
    assert not np.allclose(g(X, Y), first)


def test_a_rebound_method_and_class_attribute_rebuild():
    m = me.MLP(seed=5)
    g = srcgrad.grad(m.loss, wrt="y")
    r = m.forward(X) - Y
    assert g(X, Y) == pytest.approx(-r)
    m.forward = lambda x: np.sum(x)  # the instance's own attribute now  # noqa: E731
    assert g(X, Y) == pytest.approx(-(np.sum(X) - Y))
    del m.forward
    saved = me.MLP.HALF
    try:
        me.MLP.HALF = 1.5  # read through cls
        assert g(X, Y) == pytest.approx(-3 * r)
    finally:
        me.MLP.HALF = saved


def test_a_class_method_through_the_class():
    got = srcgrad.grad(me.MLP.squared)(0.8)
    assert got == pytest.approx(2 * me.MLP.HALF * 0.8)
    value, dot = srcgrad.jvp(me.MLP.squared, (0.8,), (1.0,))
    assert (value, dot) == pytest.approx((me.MLP.HALF * 0.64, got))


class Tempered:
    def __init__(self):
        self.t = 2.0

    @property
    def inverse(self):
        return 1.0 / self.t

    def energy(self, x):
        return np.sum(x * x) * self.inverse


def test_a_property_is_followed_and_a_replaced_one_rebuilds():
    m = Tempered()
    g = srcgrad.grad(m.energy)
    np.testing.assert_allclose(g(X), X)  # 2 x / t
    m.t = 4.0
    np.testing.assert_allclose(g(X), X / 2)
    saved = Tempered.inverse
    try:
        Tempered.inverse = property(lambda self: 3.0)
        np.testing.assert_allclose(g(X), 6 * X)
    finally:
        Tempered.inverse = saved
    np.testing.assert_allclose(g(X), X / 2)


@pytest.mark.parametrize("config", [None, me.Config(l2=0.5)])
@pytest.mark.parametrize("method", ["loss", "loss_by_pairs"])
def test_a_list_of_layer_objects(method, config):
    model = me.Deep(config=config)
    f = getattr(model, method)
    got = srcgrad.grad(f)(X)
    np.testing.assert_allclose(got, gradient(f, (X,), 0), rtol=1e-6, atol=1e-10)
    v = np.array([0.5, -1.0, 2.0, 0.25])
    assert srcgrad.jvp(f, (X,), (v,))[1] == pytest.approx(got @ v)


def test_a_list_of_layer_objects_changed_rebuilds():
    model = me.Deep()
    g = srcgrad.grad(model.loss)
    before = g(X)
    model.layers[0].activation = np.arctan  # an entry's attribute, two steps down
    np.testing.assert_allclose(g(X), gradient(model.loss, (X,), 0), rtol=1e-6, atol=1e-10)
    model.layers.append(me.Layer(2, 3, np.random.default_rng(1)))  # one more layer
    np.testing.assert_allclose(g(X), gradient(model.loss, (X,), 0), rtol=1e-6, atol=1e-10)
    assert not np.allclose(g(X), before)


def test_super_resolved_again_when_the_base_changes():
    m = me.Residual(seed=12)
    g = srcgrad.grad(m.loss, wrt="y")
    r = me.MLP.forward(m, X) + np.tanh(np.sum(X)) - Y
    assert g(X, Y) == pytest.approx(-r)
    saved = me.MLP.forward
    try:
        me.MLP.forward = lambda self, x: 2.0 * np.sum(x)
        assert g(X, Y) == pytest.approx(-(2.0 * np.sum(X) + np.tanh(np.sum(X)) - Y))
    finally:
        me.MLP.forward = saved


def test_two_instances_have_their_own_derivatives():
    a, b = me.MLP(seed=6), me.MLP(seed=7)
    np.testing.assert_allclose(srcgrad.grad(a.loss)(X, Y), loss_by_hand(a, X, Y)[1])
    np.testing.assert_allclose(srcgrad.grad(b.loss)(X, Y), loss_by_hand(b, X, Y)[1])
    np.testing.assert_allclose(srcgrad.grad(a.loss)(X, Y), loss_by_hand(a, X, Y)[1])


def test_the_cache_does_not_keep_an_instance_alive():
    m = me.MLP(seed=8)
    srcgrad.grad(m.loss)(X, Y)
    srcgrad.jvp(m.loss, (X, Y), (X, 0.0))
    gone = weakref.ref(m)
    key = id(m)
    assert key in build._BOUND
    del m
    gc.collect()
    assert gone() is None
    assert key not in build._BOUND


def test_decorated_methods_bind_per_instance():
    m = me.MLP(seed=9)
    dx = loss_by_hand(m, X, Y)[1]
    np.testing.assert_allclose(m.input_grad(X, Y), dx, rtol=1e-12)
    assert m.input_grad is m.input_grad  # made once, kept by the instance
    np.testing.assert_allclose(me.MLP.input_grad(m, X, Y), dx, rtol=1e-12)
    value, dy = m.loss_and_dy(X, Y)
    assert value == pytest.approx(m.loss(X, Y))
    assert dy == pytest.approx(loss_by_hand(m, X, Y)[2])
    other = me.MLP(seed=10)
    np.testing.assert_allclose(other.input_grad(X, Y), loss_by_hand(other, X, Y)[1])
    twin = copy.deepcopy(m)
    twin.W1 = twin.W1 + 1.0
    np.testing.assert_allclose(twin.input_grad(X, Y), loss_by_hand(twin, X, Y)[1])
    shallow = copy.copy(m)
    shallow.W1 = shallow.W1 - 1.0
    np.testing.assert_allclose(shallow.input_grad(X, Y), loss_by_hand(shallow, X, Y)[1])
    back = pickle.loads(pickle.dumps(m))
    np.testing.assert_allclose(back.input_grad(X, Y), dx, rtol=1e-12)
    np.testing.assert_allclose(m.input_grad(X, Y), dx, rtol=1e-12)
    gone = weakref.ref(m)
    del m, shallow  # (a shallow copy shares what the original kept until it makes its own)
    gc.collect()
    assert gone() is None


@pytest.mark.parametrize("f, args", [
    (me.Scaled(2.0).energy, (X,)), (me.Slotted(1.5).f, (X,)),
    (me.global_model_loss, (X, Y)), (me.forward_of_global, (X,)),
    (me.square_norm, (X,)), (me.scaled_norm, (X,)),
])
def test_other_objects_and_lambdas(f, args):
    got = srcgrad.grad(f)(*args)
    np.testing.assert_allclose(got, gradient(f, args, 0), rtol=1e-6, atol=1e-10)
    value, dot = srcgrad.jvp(f, args, (np.ones(4), *(0.0 for _ in args[1:])))
    assert dot == pytest.approx(np.sum(got))


def test_module_level_lambdas_by_hand_and_shown():
    np.testing.assert_allclose(srcgrad.grad(me.square_norm)(X), 2 * X)
    np.testing.assert_allclose(srcgrad.grad(me.scaled_norm)(X, 2.0),
                               2.0 * 2 * np.sin(X) * np.cos(X))
    assert "def square_norm_grad" in srcgrad.derivative_source(me.square_norm)


def test_a_global_model_changed_rebuilds():
    g = srcgrad.grad(me.global_model_loss)
    saved = me.MODEL.W1
    try:
        me.MODEL.W1 = saved + 1.0
        np.testing.assert_allclose(g(X, Y), loss_by_hand(me.MODEL, X, Y)[1], rtol=1e-12)
    finally:
        me.MODEL.W1 = saved
    np.testing.assert_allclose(g(X, Y), loss_by_hand(me.MODEL, X, Y)[1], rtol=1e-12)


def test_show_a_method(capsys):
    from srcgrad.cli import main

    assert main(["show", f"{me.__file__}:MLP.loss"]) == 0
    out = capsys.readouterr().out
    assert "self_W1 @ x" in out and "def loss_grad(x, y)" in out
    assert main(["show", f"{me.__file__}:scaled_norm"]) == 0
    assert "def scaled_norm_grad(w, k)" in capsys.readouterr().out


def test_a_flag_on_self_chooses_the_function_and_a_change_rebuilds():
    model = me.Switchable(True)
    x = np.array([0.5, -1.0, 2.0])
    g = srcgrad.grad(model.loss)
    np.testing.assert_allclose(g(x), gradient(model.loss, (x,), 0), rtol=1e-7)
    model.use_tanh = False  # the other branch: a different function, rebuilt
    np.testing.assert_allclose(g(x), 2 * np.maximum(x, 0.0), rtol=1e-12)
    assert "if " not in srcgrad.derivative_source(model.loss).split("def loss_grad")[1]
