"""srcgrad's numba implementations (``srcgrad/compiled/overloads.py``) against the
functions they stand for: NumPy's reductions over axes and srcgrad's run-time
helpers, called from compiled code on a table of arguments, equal to the Python
function's result (shape, and values to rounding). Skipped without numba.
"""

from __future__ import annotations

import importlib.util
import math

import numpy as np
import pytest

from srcgrad import runtime
from srcgrad.runtime import finite, special

pytestmark = pytest.mark.skipif(importlib.util.find_spec("numba") is None,
                                reason="numba is not installed (pip install 'srcgrad[numba]')")

RNG = np.random.default_rng(7)
A3 = RNG.normal(size=(3, 4, 5))
A2 = RNG.normal(size=(4, 5))
A2[1, 2] = np.nan  # NaN wins a max or min, as in NumPy
V = RNG.normal(size=5)


def _compiled(source: str):
    """A compiled function of (a, b, c) returning ``source``'s expression."""
    import numba

    import srcgrad.compiled.overloads  # noqa: F401 - registers the implementations

    namespace = {"np": np, "math": math, "runtime": runtime, "finite": finite,
                 "special": special}
    exec(f"def f(a, b, c):\n    return {source}\n", namespace)  # noqa: S102
    return namespace["f"], numba.njit(namespace["f"])


def _check(source: str, a, b=None, c=None) -> None:
    plain, jit = _compiled(source)
    want, got = plain(a, b, c), jit(a, b, c)
    assert np.shape(got) == np.shape(want), (source, np.shape(got), np.shape(want))
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15, err_msg=source)


AXES = (0, 1, 2, -1, (0,), (2,), (0, 1), (1, 2), (0, 2), (2, 0), (0, 1, 2))
SOME_AXES = (0, -1, (2,), (0, 1), (0, 2), (0, 1, 2))  # make test: one of each form


def _reductions(fn: str, keep: str, axes: tuple) -> None:
    """Every axis form in one compiled function."""
    source = "(" + ", ".join(f"np.{fn}(a, axis={axis!r}{keep})" for axis in axes) + ")"
    plain, jit = _compiled(source)
    for axis, want, got in zip(axes, plain(A3, None, None), jit(A3, None, None)):
        where = f"np.{fn}(a, axis={axis!r}{keep})"
        assert np.shape(got) == np.shape(want), where
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15, err_msg=where)


@pytest.mark.parametrize("keep", ["", ", keepdims=True"])
@pytest.mark.parametrize("fn", ["max", "min", "sum", "mean"])
def test_reductions_over_axes(fn, keep):
    _reductions(fn, keep, SOME_AXES)


@pytest.mark.slow
@pytest.mark.parametrize("keep", ["", ", keepdims=True", ", keepdims=False"])
@pytest.mark.parametrize("fn", ["max", "amax", "min", "amin", "sum", "mean"])
def test_reductions_over_every_axis_form(fn, keep):
    _reductions(fn, keep, AXES)


@pytest.mark.parametrize("source", ["np.max(a, axis=1)", "np.min(a, axis=0, keepdims=True)",
                                    "np.sum(a, axis=(1,))"])
def test_reductions_with_nan(source):
    _check(source, A2)


@pytest.mark.parametrize(("source", "shape"), [
    ("np.max(a, axis=0)", (0, 3)), ("np.max(a, axis=0)", (0, 0)),
    ("np.min(a, axis=(0, 1))", (2, 0, 3)), ("np.max(a, axis=(0, -2))", (2, 3))])
def test_what_numpy_refuses_raises(source, shape):
    """An empty max or min (whatever the output's size), a repeated axis."""
    plain, jit = _compiled(source)
    with pytest.raises(ValueError):
        plain(np.zeros(shape), None, None)
    with pytest.raises(ValueError):
        jit(np.zeros(shape), None, None)


def test_the_mean_over_an_empty_axis_is_nan():
    with np.errstate(invalid="ignore"), pytest.warns(RuntimeWarning):
        _check("np.mean(a, axis=(0, 2))", np.zeros((0, 1, 1)))


HELPERS = [
    ("runtime.sum_to(a, (1, 5))", (A2,)),
    ("runtime.sum_to(a, (5,))", (A2,)),
    ("runtime.sum_to(a, (4, 1))", (RNG.normal(size=(2, 4, 5)),)),
    ("runtime.unbroadcast(a, b)", (RNG.normal(size=(3, 4, 5)), np.ones((4, 1)))),
    ("runtime.unbroadcast(a, b)", (A3, A3)),
    ("runtime.unbroadcast(a, b)", (V, 2.0)),
    ("runtime.unbroadcast(a, b)", (2.0, np.array(3.0))),
    ("runtime.as_dtype_of(a, b)", (V, V.astype(np.float32))),
    ("runtime.zeros_like(a)", (A2,)),
    ("runtime.zeros_like(a)", (2.5,)),
    ("runtime.copy_adjoint(a)", (V,)),
    ("runtime.keep(a, b, 1, False)", (np.ones((3, 5)), A3)),
    ("runtime.keep(a, b, (0, 2), False)", (np.ones(4), A3)),
    ("runtime.expand(a, b, 1, False)", (np.ones((3, 5)), A3)),
    ("runtime.expand(a, b, None, False)", (2.0, A3)),
    ("runtime.argmax_mask(a, b, 1, False)", (np.round(A3), np.max(np.round(A3), axis=1))),
    ("runtime.argmax_mask(a, b, None, False)", (np.round(V), np.max(np.round(V)))),
    ("runtime.pick(1, b, 0.5, 2.0, 1.0)", (None, 2.0)),
    ("runtime.seed(a)", (2.0,)),
    ("runtime.fit(a, b)", (V[:1], V)),
    ("runtime.matmul_grad_a(a, b, c)", (np.ones((4, 3)), A2, RNG.normal(size=(5, 3)))),
    ("runtime.matmul_grad_b(a, b, c)", (np.ones((4, 3)), A2, RNG.normal(size=(5, 3)))),
    ("runtime.matmul_grad_a(a, b, c)", (np.ones(4), RNG.normal(size=(4, 5)), V)),
    ("runtime.matmul_grad_b(a, b, c)", (np.ones(4), RNG.normal(size=(4, 5)), V)),
    ("runtime.matmul_grad_a(a, b, c)", (np.ones(5), V, RNG.normal(size=(5, 5)))),
    ("runtime.matmul_grad_b(a, b, c)", (2.0, V, V)),
    ("runtime.dot_grad_a(a, b, c)", (np.ones((4, 3)), A2, RNG.normal(size=(5, 3)))),
    ("runtime.write_order(a)", (A2,)),
    ("runtime.kept(a, b)", (V, np.array([0, 1, 1, 3, 4]))),
    ("runtime.between(a, -0.5, 0.5)", (V,)),
    ("runtime.between(a, None, 0.5)", (V,)),
    ("runtime.signum(a)", (V,)),
    ("runtime.signum(a)", (-2.0,)),
    ("runtime.ln(a)", (3.0,)),
    ("runtime.transpose_grad(a, None)", (A2,)),
    ("finite.sqrt_slope(a)", (np.abs(V) + 0.1,)),
    ("finite.cbrt_slope(a)", (2.0,)),
    ("finite.ratio(a, b)", (V, np.array([1.0, 0.0, 2.0, 0.0, 3.0]))),
    ("finite.ratio(a, b)", (1.5, 0.0)),
    ("finite.ratio(a, b)", (np.inf, 0.0)),
    ("finite.ratio(a, b)", (np.array([np.inf, 1.0]), 0.0)),
    ("finite.pow_slope(a, b, c)", (2.5, 1.5, 2.5)),
    ("finite.pow_slope(a, b, c)", (V, np.abs(V) + 0.5, 2.5)),
    ("finite.pow_slope(a, b, c)", (0.0, 0.0, 0.5)),
    ("finite.spread_divisor(a, b, 1)", (A2, np.ones(5))),
    ("special.lse_expand(a, b, 1, False)", (np.ones((3, 5)), A3)),
    ("np.full((2, 3), a)", (1.5,)),
    ("runtime.expand(a, 2.0, None, False)", (1.5,)),
]


@pytest.mark.parametrize(("source", "args"), HELPERS, ids=[h[0] for h in HELPERS])
def test_run_time_helpers(source, args):
    _check(source, *args)


def test_add_at_adds_repeated_positions():
    plain, jit = _compiled("runtime.add_at(a, b, c)")
    for index, v in ((np.array([0, 2, 2, 0]), np.array([1.0, 2.0, 3.0, 4.0])),
                     (np.array([1, 1]), 5.0), (slice(1, 3), np.array([1.0, 2.0]))):
        want, got = np.zeros(4), np.zeros(4)
        plain(want, index, v)
        jit(got, index, v)
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize(("source", "args"), [("finite.sqrt_slope(a)", (np.array([1.0, 0.0]),)),
                                              ("finite.pow_slope(a, b, c)", (2.0, 0.0, 0.5))])
def test_where_python_warns_the_compiled_helper_asks_for_python(source, args):
    from srcgrad.compiled.overloads import NeedsPython

    _, jit = _compiled(source)
    with pytest.raises(NeedsPython):
        jit(*args, *(None,) * (3 - len(args)))
