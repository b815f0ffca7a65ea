"""Recursive helpers (issue 14, stretch): unrolled while lowering where the recursion is
decided by what lowering knows (the structure of a nested tuple or list argument, an int
constant), checked against central differences and forward mode; a located refusal,
at the recursive call, where a run-time value decides when it stops."""

from __future__ import annotations

import numeric
import numpy as np
import pytest
from fixtures import recursive_programs as R

import srcgrad
from srcgrad.frontend import recursion

rng = np.random.default_rng(3)

UNROLLED = [
    (R.cube_plus, (0.7,)),
    (R.uses_fast_power, (rng.normal(size=3),)),
    (R.tree_model, (rng.normal(size=2), rng.normal(size=2), rng.normal(size=2), 0.3)),
    (R.five_steps, (0.4,)),
]


@pytest.mark.parametrize("f, args", UNROLLED, ids=lambda c: getattr(c, "__name__", ""))
def test_recursion_decided_while_lowering_is_unrolled(f, args):
    for i, a in enumerate(args):
        want = numeric.gradient(f, args, i)
        got = srcgrad.grad(f, wrt=i)(*args)
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-8)
        t = [np.zeros(np.shape(b)) if np.ndim(b) else 0.0 for b in args]
        t[i] = rng.normal(size=np.shape(a)) if np.ndim(a) else 1.0
        np.testing.assert_allclose(srcgrad.jvp(f, args, tuple(t))[1],
                                   np.sum(np.asarray(want) * t[i]), rtol=1e-6, atol=1e-8)


def test_power_by_hand():
    x = 0.7
    assert srcgrad.grad(R.cube_plus)(x) == pytest.approx(3 * x ** 2 + 4 * x, rel=1e-12)
    assert srcgrad.hessian(R.cube_plus)(x) == pytest.approx(6 * x + 4, rel=1e-12)


def test_recursive_sum_over_a_nested_argument():
    params = (rng.normal(size=2), [rng.normal(size=3), (rng.normal(size=2), 0.5)])
    got = srcgrad.grad(R.loss_over_nested)(params)
    np.testing.assert_allclose(got[0], 2 * params[0], rtol=1e-12)
    np.testing.assert_allclose(got[1][0], 2 * params[1][0], rtol=1e-12)
    np.testing.assert_allclose(got[1][1][0], 2 * params[1][1][0], rtol=1e-12)
    assert got[1][1][1] == pytest.approx(1.0)
    flat = (params[0], params[1][0], params[1][1][0])
    assert R.loss_over_nested(params) == pytest.approx(sum(np.sum(p * p) for p in flat) + 0.25)


@pytest.mark.parametrize("f, args, line", [
    (R.halve_until_small, (3.0,), "return halve_until_small(x / 2.0)"),
    (R.countdown, (0.4, 5), "return countdown(math.sin(x) + 0.5 * x, n - 1)"),
    (R.unbounded, (0.3, 0), "return unbounded(x * 0.5, n + 1) if n < 1000 else x"),
    (R.too_deep, (0.3,), "return x * power(x, n - 1)"),
], ids=["condition_on_a_value", "int_argument_at_run_time", "conditional_expression",
        "too_deep"])
def test_recursion_decided_at_run_time_is_refused_at_the_call(f, args, line):
    with pytest.raises(srcgrad.UnsupportedSyntax) as e:
        srcgrad.grad(f)(*args)
    assert e.value.loc.text.strip() == line
    assert f"more than {recursion.LIMIT} deep" in e.value.message
    assert "run-time value" in e.value.message and "loop" in e.value.hint


def test_isinstance_of_only_tuple_is_refused_with_what_to_write():
    with pytest.raises(srcgrad.UnsupportedSyntax) as e:
        srcgrad.grad(R.tuple_only)(0.3, 0.4)
    assert "isinstance(x, (list, tuple))" in e.value.hint
