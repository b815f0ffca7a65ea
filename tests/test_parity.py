"""Code ported from autograd, differentiated unchanged (issue 20): the calls of
rules/numpy_aliases.py and the frontend's lowerings that are more than a rule row
(spec rows in spec_parity.py and spec_scipy.py check the rules against finite
differences), each against a hand-derived gradient, and the located refusals."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import srcgrad
from srcgrad import NoDerivativeRule, SrcgradError, ZeroGradientWarning

special = pytest.importorskip("scipy.special")
stats = pytest.importorskip("scipy.stats")

RNG = np.random.default_rng(20)


def where_isclose(x):
    return np.sum(np.where(np.isclose(x, 0.5), x * x, 2.0 * x * x))


def test_where_of_isclose_differentiates_the_branches():
    x = np.array([0.5, 1.0, -2.0])
    # d/dx x^2 = 2x where x is close to 0.5, d/dx 2x^2 = 4x elsewhere
    np.testing.assert_allclose(srcgrad.grad(where_isclose)(x), [1.0, 4.0, -8.0])


W = RNG.normal(size=(3, 8))


def hstack_rows(a):
    return np.sum(np.hstack(a) * W)


def vstack_rows(a):
    return np.sum(np.vstack(a) * W[:, :3])


def test_hstack_of_one_array_is_the_stack_of_its_rows():
    # np.hstack of a (2, 3, 4) array: its rows a[0], a[1] side by side, shape (3, 8)
    a = RNG.normal(size=(2, 3, 4))
    expected = np.stack([W[:, :4], W[:, 4:]])
    np.testing.assert_allclose(srcgrad.grad(hstack_rows)(a), expected)
    # np.vstack of a (3, 3) array is the array itself
    np.testing.assert_allclose(srcgrad.grad(vstack_rows)(RNG.normal(size=(3, 3))), W[:, :3])


def chain(a, b, c):
    return np.sum(np.linalg.multi_dot([a, b, c]) ** 2)


def test_multi_dot_is_the_product():
    a, b, c = RNG.normal(size=(2, 3)), RNG.normal(size=(3, 4)), RNG.normal(size=4)
    ga, gb, gc = srcgrad.grad(chain, wrt=(0, 1, 2))(a, b, c)
    r = 2 * (a @ b @ c)  # d/d(abc) of its squared norm
    np.testing.assert_allclose(ga, np.outer(r, b @ c))
    np.testing.assert_allclose(gb, np.outer(a.T @ r, c))
    np.testing.assert_allclose(gc, (a @ b).T @ r)


def as_float32(x):
    return np.sum(np.astype(x, np.float32) ** 2)


def as_int(x):
    return np.sum(np.astype(x, int) * x)


@pytest.mark.skipif(not hasattr(np, "astype"), reason="np.astype: NumPy >= 2.1")
def test_np_astype_is_the_method():
    x = np.array([1.5, -2.0])
    np.testing.assert_allclose(srcgrad.grad(as_float32)(x), 2 * x)
    with pytest.warns(ZeroGradientWarning):  # the integer values are a step of x
        np.testing.assert_allclose(srcgrad.grad(as_int)(x), np.astype(x, int))


def astype_copy(x):
    return np.sum(np.astype(x, np.float32, copy=False))


@pytest.mark.skipif(not hasattr(np, "astype"), reason="np.astype: NumPy >= 2.1")
def test_np_astype_with_other_keywords_is_refused_at_its_line():
    with pytest.raises(SrcgradError, match="np.astype") as info:
        srcgrad.grad(astype_copy)(np.ones(2))
    assert "astype_copy" in str(info.value) or "np.astype(x, np.float32, copy" in str(info.value)


def shape_of_gammainc(a, x):
    return special.gammainc(a, x)


def order_of_jn(n, x):
    return special.jn(n, x)


def df_of_chi2_cdf(df, x):
    return stats.chi2.cdf(x, df)


@pytest.mark.parametrize(("fn", "param"), [(shape_of_gammainc, "a"), (order_of_jn, "n"),
                                           (df_of_chi2_cdf, "df")])
def test_parameters_without_a_derivative_are_refused_at_their_line(fn, param):
    with pytest.raises(NoDerivativeRule, match=f"argument '{param}'") as info:
        srcgrad.grad(fn, wrt=0)(2.0, 1.5)
    assert f"test_parity.py:{fn.__code__.co_firstlineno + 1}" in str(info.value)


def test_gammasgn_is_a_step():
    def f(x):
        return special.gammasgn(x) * x
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ZeroGradientWarning)
        assert srcgrad.grad(f)(-0.5) == pytest.approx(special.gammasgn(-0.5))
