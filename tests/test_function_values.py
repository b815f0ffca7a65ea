"""Functions as values: passed to helpers (positional, keyword, default), lambdas,
dicts and lists of functions, map/reduce, *args/**kwargs helpers and *xs/**opts calls,
module-level hyperparameters; each gradient against central differences and forward
mode against reverse mode; what stays refused is a located error."""

import numpy as np
import pytest
from fixtures import function_values as fv
from numeric import gradient

import srcgrad
from srcgrad.errors import NameResolutionError, SrcgradError, UnsupportedSyntax

RNG = np.random.default_rng(7)
W1, B1, W2, X = (RNG.normal(size=(3, 4)), RNG.normal(size=3), RNG.normal(size=(2, 3)),
                 RNG.normal(size=4))


def check(f, args, wrt=0):
    """grad against central differences, and jvp along a random direction against
    the gradient (forward mode against reverse mode)."""
    got = srcgrad.grad(f, wrt=wrt)(*args)
    np.testing.assert_allclose(got, gradient(f, args, wrt), rtol=1e-6, atol=1e-9)
    v = RNG.normal(size=np.shape(args[wrt]))
    v = float(v) if np.ndim(args[wrt]) == 0 else v
    tangents = tuple(v if i == wrt else np.zeros(np.shape(a)) if isinstance(a, np.ndarray)
                     else 0.0 for i, a in enumerate(args))
    value, dot = srcgrad.jvp(f, args, tangents)
    np.testing.assert_allclose(value, f(*args), rtol=1e-12)
    np.testing.assert_allclose(dot, np.sum(got * v), rtol=1e-9, atol=1e-12)
    return got


@pytest.mark.parametrize("wrt", [0, 1, 2, 3])
def test_activations_passed_as_default_and_keyword(wrt):
    check(fv.mlp, (W1, B1, W2, X), wrt)


@pytest.mark.parametrize("wrt", [0, 3])
def test_activations_picked_from_a_dict(wrt):
    check(fv.mlp_with, (W1, B1, W2, X), wrt)


def test_the_rules_of_functions_passed_as_values_apply():
    # np.tanh passed as a default is called as np.tanh: its rule, not a Python call
    source = srcgrad.derivative_source(fv.mlp)
    assert "np.tanh(" in source
    assert "1 - " in source  # tanh's derivative, from the rule table


@pytest.mark.parametrize("f, args", [
    (fv.uses_math_sin, (0.7,)), (fv.uses_lambdas, (0.7, 1.3)), (fv.uses_lambdas, (-0.4, 0.2)),
    (fv.pipeline, (X,)), (fv.pipeline_by_index, (X,)), (fv.hyper, (X,)),
    (fv.over_functions, (X,)), (fv.defaults_by_or, (X,)),
    (fv.star_args, (0.7, 1.3)), (fv.star_calls, (0.7, 1.3)), (fv.nested_star, (0.7,)),
    (fv.through_callable, (X,)), (fv.keyword_only, (0.7, 1.3)),
    (fv.reduced_runtime_list, (0.7, 1.3)),
])
def test_function_values(f, args):
    for wrt in range(len(args)):
        check(f, args, wrt)


def test_function_values_by_hand():
    x, y = 0.7, 1.3
    # uses_lambdas: 2 x y + y^3 + |x - y|
    assert srcgrad.grad(fv.uses_lambdas, wrt=(0, 1))(x, y) == pytest.approx(
        (2 * y - 1, 2 * x + 3 * y * y + 1))
    # star_args: 2 (x^2 + y^2 + x^2 y^2) + 3 x
    assert srcgrad.grad(fv.star_args)(x, y) == pytest.approx(2 * (2 * x + 2 * x * y * y) + 3)
    # nested_star: (x + 2) x + 3 + x^2
    assert srcgrad.grad(fv.nested_star)(x) == pytest.approx(2 * x + 2 + 2 * x)


def test_activation_or_default_by_hand():
    np.testing.assert_allclose(srcgrad.grad(fv.defaults_by_or)(X),
                               2 * (1 - np.tanh(X) ** 2) + 3 * np.cos(X), rtol=1e-12)


def _flat(f, n):
    """f of a list of n scalars as a function of n scalar arguments (for differences)."""
    return lambda *values: f(list(values))


@pytest.mark.parametrize("f", [fv.sum_of_map, fv.reduced])
def test_map_and_reduce_over_a_list_of_numbers(f):
    xs = [0.3, -0.5, 0.9]
    got = srcgrad.grad(f)(xs)
    want = [gradient(_flat(f, 3), tuple(xs), i) for i in range(3)]
    np.testing.assert_allclose(got, want, rtol=1e-6)
    value, dot = srcgrad.jvp(f, (xs,), ([1.0, 2.0, -1.0],))
    assert dot == pytest.approx(got[0] + 2 * got[1] - got[2])


def test_reduce_with_an_initial_value_and_a_lambda():
    xs, a = [0.3, -0.5, 0.9], 1.5
    got = srcgrad.grad(fv.reduced_from, wrt=(0, 1))(xs, a)
    np.testing.assert_allclose(got[0], [a, a, a])
    assert got[1] == pytest.approx(1 + sum(xs))


@pytest.mark.parametrize("f", [fv.list_of_map, fv.loop_over_map])
def test_map_over_a_tuple_of_arrays(f):
    xs = (RNG.normal(size=3), RNG.normal(size=3))
    got = srcgrad.grad(f)(xs)
    for i in range(2):
        want = gradient(lambda a, b: f((a, b)), xs, i)
        np.testing.assert_allclose(got[i], want, rtol=1e-6, atol=1e-9)


def test_changed_hyperparameters_rebuild():
    g = srcgrad.grad(fv.hyper)
    before = g(X)
    saved = dict(fv.HP)
    try:
        fv.HP["lr"] = 2.0
        np.testing.assert_allclose(g(X), gradient(fv.hyper, (X,), 0), rtol=1e-6)
        fv.HP["act"] = "relu"  # another activation, through the dict of activations
        np.testing.assert_allclose(g(X), gradient(fv.hyper, (X,), 0), rtol=1e-6)
        assert not np.allclose(g(X), before)
    finally:
        fv.HP.clear()
        fv.HP.update(saved)
    np.testing.assert_allclose(g(X), before)


def test_a_rebound_dict_entry_rebuilds():
    g = srcgrad.grad(fv.pipeline_by_index)
    before = g(X)
    saved = list(fv.PIPELINE)
    loop = srcgrad.grad(fv.pipeline)
    np.testing.assert_allclose(loop(X), before)
    try:
        fv.PIPELINE[0] = np.cos
        np.testing.assert_allclose(g(X), gradient(fv.pipeline_by_index, (X,), 0), rtol=1e-6)
        assert not np.allclose(g(X), before)
        fv.PIPELINE.append(np.tanh)  # one more function in the loop
        np.testing.assert_allclose(loop(X), gradient(fv.pipeline, (X,), 0), rtol=1e-6)
    finally:
        fv.PIPELINE[:] = saved


def test_a_callable_object_changed_rebuilds():
    g = srcgrad.grad(fv.through_callable)
    before = g(X)
    try:
        fv.AFFINE.a = -1.0
        np.testing.assert_allclose(g(X), gradient(fv.through_callable, (X,), 0), rtol=1e-6)
        assert not np.allclose(g(X), before)
    finally:
        fv.AFFINE.a = 2.0


def test_keyword_only_and_positional_only_by_hand():
    x, y = 0.7, 1.3  # 3 x y + 2 x y + x^2 y
    assert srcgrad.grad(fv.keyword_only, wrt=(0, 1))(x, y) == pytest.approx(
        (5 * y + 2 * x * y, 5 * x + x * x))


def test_constants_never_take_a_user_name():
    w = np.array([1.0, -2.0])  # f = sum(w) lr decay HP_lr
    got = srcgrad.grad(fv.colliding, wrt=(0, 1))(1.5, w)
    assert got[0] == pytest.approx(np.sum(w) * 0.5 * 0.9)
    np.testing.assert_allclose(got[1], 0.5 * 0.9 * 1.5 * np.ones(2))
    source = srcgrad.derivative_source(fv.colliding)
    assert "HP_lr_1 = 0.5" in source and "HP_decay_1 = 0.9" in source


def test_generated_code_names_the_constants_it_read():
    source = srcgrad.derivative_source(fv.hyper)
    assert "HP_lr" in source and "HP_decay" in source


REFUSED = [
    ("stored_function_list", NameResolutionError, (0.5,)),
    ("returns_function", NameResolutionError, (0.5,)),
    ("function_as_number", NameResolutionError, (0.5,)),
    ("map_over_runtime_list", UnsupportedSyntax, (0.5,)),
    ("swap_in_loop", UnsupportedSyntax, (0.5,)),
    ("branch_function", UnsupportedSyntax, (0.5, 1.0)),
    ("construct", UnsupportedSyntax, (0.5,)),
    ("unpack_unknown", UnsupportedSyntax, (np.ones(2),)),
]


def _marked_line(name):
    with open(fv.__file__) as f:
        for i, line in enumerate(f, 1):
            if line.rstrip().endswith(f"# BAD: {name}"):
                return i
    raise AssertionError(name)


@pytest.mark.parametrize("name, cls, args", REFUSED)
def test_what_stays_refused_is_located(name, cls, args):
    with pytest.raises(SrcgradError) as info:
        srcgrad.grad(getattr(fv, name))(*args)
    exc = info.value
    assert type(exc) is cls, exc
    assert exc.loc.file == fv.__file__ and exc.loc.line == _marked_line(name), exc
    assert exc.hint
