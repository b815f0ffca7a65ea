"""The public API contract: grad, value_and_grad, vjp, derivative_source, check_grad."""

import inspect
import math

import numpy as np
import pytest

import srcgrad
from srcgrad import api


def poly(x, y, scale=2.0):
    """A docstring to keep."""
    return scale * x**3 + x * y


@srcgrad.grad
def d_square(x):
    return x * x


@srcgrad.grad(wrt="w")
def d_loss(x, w):
    return np.sum(np.tanh(x @ w))


def test_bare_decorator():
    assert d_square(3.0) == 6.0


def test_decorator_with_wrt_name_and_arrays():
    rng = np.random.default_rng(0)
    x, w = rng.normal(size=(4, 3)), rng.normal(size=(3, 2))
    expected = x.T @ (1 - np.tanh(x @ w) ** 2)
    np.testing.assert_allclose(d_loss(x, w), expected, rtol=1e-12)


@pytest.mark.parametrize("wrt, expected", [
    (0, 3 * 2.0 * 1.5**2 + 4.0),
    (1, 1.5),
    ("y", 1.5),
    (-3, 3 * 2.0 * 1.5**2 + 4.0),
    (("y", 0), (1.5, 3 * 2.0 * 1.5**2 + 4.0)),
    ((2,), (1.5**3,)),
])
def test_wrt_forms(wrt, expected):
    got = srcgrad.grad(poly, wrt=wrt)(1.5, 4.0)
    assert got == pytest.approx(expected, rel=1e-14)
    assert isinstance(got, tuple) == isinstance(expected, tuple)


def test_keywords_defaults_and_metadata():
    g = srcgrad.grad(poly, wrt="x")
    assert g(1.5, y=4.0) == g(1.5, 4.0, 2.0) == pytest.approx(3 * 2.0 * 1.5**2 + 4.0)
    assert g(x=1.0, y=0.0, scale=10.0) == pytest.approx(30.0)
    assert g.__name__ == "poly" and g.__doc__ == "A docstring to keep."
    assert inspect.signature(g) == inspect.signature(poly)
    with pytest.raises(TypeError, match=r"poly\(\) missing 1 required positional argument"):
        g(1.0)  # the same error as calling poly(1.0)


def test_value_and_grad():
    value, grad = srcgrad.value_and_grad(poly, wrt=(0, 1))(1.0, 2.0)
    assert value == poly(1.0, 2.0)
    assert grad == pytest.approx((8.0, 1.0))


def test_vjp_of_an_array_function():
    def f(x, y):
        return np.sin(x) * y

    x, y = np.array([0.1, 0.2, 0.3]), np.array([[1.0], [2.0]])
    out, vjp_fn = srcgrad.vjp(f, x, y)
    np.testing.assert_allclose(out, np.sin(x) * y)
    ct = np.arange(6.0).reshape(2, 3)
    dx, dy = vjp_fn(ct)
    np.testing.assert_allclose(dx, np.sum(ct * np.cos(x) * y, axis=0), rtol=1e-14)
    np.testing.assert_allclose(dy, np.sum(ct * np.sin(x), axis=1, keepdims=True), rtol=1e-14)


def test_gradient_of_unused_parameter_is_zero_of_its_shape():
    def f(x, unused):
        return np.sum(x * 2.0)

    gx, gu = srcgrad.grad(f, wrt=(0, 1))(np.ones(3), np.ones((2, 2)))
    np.testing.assert_array_equal(gx, 2.0 * np.ones(3))
    np.testing.assert_array_equal(gu, np.zeros((2, 2)))
    assert srcgrad.grad(f, wrt=1)(np.ones(3), 5.0) == 0.0


def test_broadcasting_adjoints_are_summed_to_input_shapes():
    def f(x, b, s):
        return np.sum(np.tanh(x * s + b) ** 2)

    rng = np.random.default_rng(1)
    x, b, s = rng.normal(size=(5, 3)), rng.normal(size=(3,)), 0.7
    gx, gb, gs = srcgrad.grad(f, wrt=(0, 1, 2))(x, b, s)
    assert gx.shape == (5, 3) and gb.shape == (3,) and np.ndim(gs) == 0
    assert srcgrad.check_grad(f, x, b, s, wrt=(0, 1, 2)) < 1e-6


def test_inputs_are_not_mutated():
    def f(x):
        y = x * 3.0
        y += x
        return np.sum(y)

    x = np.arange(3.0)
    srcgrad.grad(f)(x)
    np.testing.assert_array_equal(x, np.arange(3.0))


def test_derivative_is_cached_per_argument_kinds():
    def f(x):
        return np.sum(x * x)

    g = srcgrad.grad(f)
    g(1.0)
    g(2.0)
    g(3)
    assert len(api._entry(f).derivatives) == 1  # float and int are both scalars
    g(np.ones(2))
    assert len(api._entry(f).derivatives) == 2


def test_scalar_specialization_has_no_broadcast_reductions():
    def f(x, y):
        return x * y + math.sin(x)

    d = api._entry(f).derivative((0, 1), "one", ("scalar", "scalar"))
    assert "unbroadcast" not in d.source
    generic = api._entry(f).derivative((0, 1), "one", ("any", "any"))
    assert "unbroadcast" in generic.source


def test_generated_code_has_a_registered_file_name():
    def f(x):
        return np.exp(x) * 2.0

    d = api._entry(f).derivative((0,), "one", ("any",))
    assert inspect.getsource(d.fn) == d.source
    assert d.fn.__code__.co_filename.startswith("<srcgrad f_grad")


def test_derivative_source_reads_annotations():
    def f(x: float):
        return x * math.exp(x)

    text = srcgrad.derivative_source(f)
    assert "unbroadcast" not in text
    assert text.startswith("import math\n\n\ndef f_grad(x):")
    compile(text, "<test>", "exec")


def test_an_unknown_mode_is_refused_clearly():
    with pytest.raises(srcgrad.UsageError, match="mode must be"):
        srcgrad.derivative_source(poly, mode="sideways")


def test_check_grad_detects_a_subgradient_that_differs_from_finite_differences():
    def relu(x):
        return max(x, 0.0)

    assert srcgrad.check_grad(relu, 0.5) < 1e-8
    with pytest.raises(srcgrad.GradientMismatch):
        srcgrad.check_grad(relu, 0.0)  # srcgrad's subgradient 1, finite differences 0.5


def test_reassigned_names_get_ssa_versions():
    def f(x):
        y = x * 2.0
        y = y * y
        y += x
        return y

    assert srcgrad.grad(f)(3.0) == pytest.approx(8 * 3.0 + 1)
    text = srcgrad.derivative_source(f)
    assert "y_1 = y * y" in text and "y_2 = y_1 + x" in text


def test_global_constants_are_read_by_name():
    def f(x):
        return SCALE * np.sum(WEIGHTS * x)

    x = np.ones(3)
    np.testing.assert_allclose(srcgrad.grad(f)(x), SCALE * WEIGHTS)
    assert "SCALE" in srcgrad.derivative_source(f)


SCALE = 3.0
WEIGHTS = np.array([1.0, 2.0, 3.0])


t1 = 10.0  # a global whose name a compiler temporary would take


def uses_helper_names(x, y):
    return np.sum(zeros_like(x) + x * t1)


def local_named_math(x):
    math = x * 2.0
    return np.sum(np.sin(math) * math)


def test_user_names_never_clash_with_generated_names():
    gx, gy = srcgrad.grad(uses_helper_names, wrt=(0, 1))(np.ones(2), np.ones(2))
    np.testing.assert_array_equal(gx, [10.0, 10.0])
    np.testing.assert_array_equal(gy, [0.0, 0.0])
    assert srcgrad.grad(local_named_math)(0.5) == pytest.approx(
        2 * (np.cos(1.0) * 1.0 + np.sin(1.0)), rel=1e-14)


def test_adding_a_shared_adjoint_to_two_inputs():
    def f(x, y):
        return np.sum((x + y) * 3.0)

    gx, gy = srcgrad.grad(f, wrt=(0, 1))(np.ones(3), 2.0)
    np.testing.assert_array_equal(gx, [3.0, 3.0, 3.0])
    assert gy == 9.0


zeros_like = np.zeros_like


def test_writing_into_an_argument_leaves_the_callers_array_alone():
    def f(x):
        x[0] = 2.0 * x[1]
        return np.sum(x * x)

    x = np.array([1.0, 2.0, 3.0])
    value, g = srcgrad.value_and_grad(f)(x)
    np.testing.assert_array_equal(x, [1.0, 2.0, 3.0])
    assert value == 16.0 + 4.0 + 9.0
    # d/dx0 = 0 (overwritten), d/dx1 = 2*x1 + 2*(2*x1)*2, d/dx2 = 2*x2
    np.testing.assert_allclose(g, [0.0, 2 * 2.0 + 8 * 2.0, 6.0])


def test_indices_and_conditions_carry_no_derivative():
    table = np.array([1.0, 10.0, 100.0])

    def f(x):
        i = int(x)  # an index computed from x: a step function of x
        y = table[i] * x
        if x > 1.5:
            y = y * 2.0
        return y

    # Away from the steps, d/dx = table[int(x)] (times 2 past 1.5): no term from i or x > 1.5.
    assert srcgrad.grad(f)(0.5) == 1.0
    assert srcgrad.grad(f)(1.2) == 10.0
    assert srcgrad.grad(f)(1.7) == 20.0
    assert srcgrad.grad(f)(2.5) == 200.0


def _sum_of(x):
    return np.sum(x)


def _mean_rows(x):
    return np.sum(np.mean(x, axis=1) * np.max(x, axis=0))


@pytest.mark.parametrize("f", [_sum_of, _mean_rows])
def test_gradients_are_writable_arrays_of_their_own(f):
    """Adjoints inside the generated code may be broadcast views; what the user gets is
    an ordinary array, not sharing memory with the argument."""
    x = np.arange(9.0).reshape(3, 3)
    g = srcgrad.grad(f)(x)
    assert isinstance(g, np.ndarray) and g.flags.writeable and g.shape == x.shape
    assert not np.shares_memory(g, x)
    g *= 2.0  # the user may scale it in place


def _weighted(x, w):
    return np.sum(np.tanh(x * w) + x)


def test_array_code_is_specialized_per_argument_shapes():
    """Equal shapes need no broadcasting reduction, different ones do: each shape
    combination gets its own code, and both are right."""
    d = srcgrad.grad(_weighted, wrt=(0, 1))
    x = np.array([0.1, -0.4, 0.9])
    for w in (np.array([0.5, 1.5, -2.0]), np.array([0.7]), np.ones((2, 3)) * 0.3):
        gx, gw = d(x, w)
        expected_x = np.sum(np.broadcast_to(w / np.cosh(x * w) ** 2 + 1.0,
                                            np.broadcast_shapes(x.shape, w.shape)), axis=0
                            ) if w.ndim == 2 else (w / np.cosh(x * w) ** 2 + 1.0)
        assert gx.shape == x.shape and gw.shape == w.shape
        np.testing.assert_allclose(gx, expected_x, rtol=1e-12)
    sources = [dv.source for key, dv in api._entry(_weighted).derivatives.items()]
    assert len(sources) == 3
    reduces = ["unbroadcast" in s or "sum_to" in s or "keepdims=True" in s or "axis=(0,)" in s
               for s in sources]
    assert sorted(reduces) == [False, True, True]  # only the equal shapes need none


def _sine_plus(x, y):
    return math.sin(x * y) + y


def test_grad_alone_skips_the_value_it_does_not_need():
    """grad returns only the gradient, so f's last operations (the sine itself) are
    not computed; value_and_grad computes them."""
    assert srcgrad.grad(_sine_plus, wrt=(0, 1))(0.5, 2.0) == pytest.approx(
        (2.0 * math.cos(1.0), 0.5 * math.cos(1.0) + 1.0), rel=1e-15)
    value, _ = srcgrad.value_and_grad(_sine_plus, wrt=(0, 1))(0.5, 2.0)
    assert value == math.sin(1.0) + 2.0
    by_kind = {k[6]: "\n".join(line for line in d.source.splitlines()  # k[6]: grads_only
                                if not line.strip().startswith("#"))  # not the quotes
               for k, d in api._entry(_sine_plus).derivatives.items()}
    assert "math.sin(" not in by_kind[True] and "math.sin(" in by_kind[False]
