"""examples/mlp.py: a model written as a class, parameters in a dataclass, trained.

The gradient of the bound method ``model.loss`` with respect to a frozen
dataclass of parameters is checked entry by entry against Richardson-extrapolated
central differences, for both activations the example trains with (one passed
as a NumPy function, one as the user's own), and forward mode against reverse
mode; training lowers the loss.
"""

import dataclasses

import mlp
import numpy as np
import pytest
from numeric import gradient

import srcgrad


def _field_gradient(model, params, name, x, labels):
    def of_field(value):
        return model.loss(dataclasses.replace(params, **{name: value}), x, labels)
    return gradient(of_field, (getattr(params, name),), 0)


@pytest.mark.parametrize("activation", [np.tanh, mlp.relu], ids=["tanh", "relu"])
def test_gradient_of_the_bound_method_matches_differences(activation):
    model = mlp.MLP(activation=activation)
    x, labels = mlp.data(n=12)
    params = model.init(seed=3)
    grads = srcgrad.grad(model.loss)(params, x, labels)
    assert type(grads) is mlp.Params
    for f in dataclasses.fields(mlp.Params):
        expected = _field_gradient(model, params, f.name, x, labels)
        np.testing.assert_allclose(getattr(grads, f.name), expected, rtol=1e-6, atol=1e-9,
                                   err_msg=f.name)


def test_forward_mode_agrees_with_reverse_mode():
    model = mlp.MLP()
    x, labels = mlp.data(n=10)
    params = model.init(seed=4)
    rng = np.random.default_rng(5)
    tangent = mlp.Params(*(rng.normal(size=np.shape(getattr(params, f.name)))
                           for f in dataclasses.fields(mlp.Params)))

    def loss_of(params):  # jvp differentiates every argument: the data from a closure
        return model.loss(params, x, labels)

    _, along = srcgrad.jvp(loss_of, (params,), (tangent,))
    grads = srcgrad.grad(loss_of)(params)
    expected = sum(np.sum(getattr(grads, f.name) * getattr(tangent, f.name))
                   for f in dataclasses.fields(mlp.Params))
    np.testing.assert_allclose(along, expected, rtol=1e-10)


def test_changing_a_hyperparameter_on_self_changes_the_gradient():
    model = mlp.MLP()
    x, labels = mlp.data(n=8)
    params = model.init()
    loss_grad = srcgrad.grad(model.loss)
    before = loss_grad(params, x, labels).W1
    model.decay = 0.5  # read while the derivative was generated: it is rebuilt
    after = loss_grad(params, x, labels).W1
    np.testing.assert_allclose(after - before, 2 * (0.5 - 1e-3) * params.W1, rtol=1e-8)


def test_training_lowers_the_loss():
    for activation in (np.tanh, mlp.relu):
        _, losses = mlp.train(mlp.MLP(activation=activation), steps=20)
        assert losses[-1] < 0.7 * losses[0], (activation, losses)
        assert all(np.isfinite(losses))


def test_shown_code_for_dataclass_arguments_runs_and_agrees():
    """derivative_source with an example call shows the code a call with a dataclass
    runs; pasted into a module, it gives grad's numbers from the leaves."""
    model = mlp.MLP()
    x, labels = mlp.data(n=6)
    params = model.init(seed=7)
    text = srcgrad.derivative_source(model.loss, example=(params, x, labels))
    assert "loss_grad(params.W1, params.b1, params.W2, params.b2, x, labels)" in text
    namespace: dict = {}
    exec(compile(text, "<shown>", "exec"), namespace)
    value, *leaves = namespace["loss_grad"](params.W1, params.b1, params.W2, params.b2, x,
                                            labels)
    grads = srcgrad.grad(model.loss)(params, x, labels)
    assert value == model.loss(params, x, labels)
    for f, leaf in zip(dataclasses.fields(mlp.Params), leaves):
        np.testing.assert_allclose(leaf, getattr(grads, f.name), rtol=1e-12)


def test_shown_code_without_an_example_says_how_to_get_it():
    with pytest.raises(srcgrad.UnsupportedSyntax, match="params.W1: srcgrad learns") as info:
        srcgrad.derivative_source(mlp.MLP().loss)
    assert "example=" in str(info.value)
