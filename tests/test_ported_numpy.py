"""NumPy as ported code calls it (issue 20): np.gradient, np.rollaxis, np.interp, the
convolutions, np.polyval, np.select (nested np.where), np.linalg.lstsq, np.einsum
(ellipses, the sublist form), and reductions and stacks of a
list or tuple of arrays, in user-style programs (tests/fixtures/ported_programs.py)
checked against central differences: the gradient of every argument, forward mode
against it, and the Hessian-vector product (second order) and vjp of the gradient
(reverse over reverse) against differences of the gradient."""

from __future__ import annotations

import numeric
import numpy as np
import pytest
from fixtures import ported_programs as P

import srcgrad

rng = np.random.default_rng(20)


def r(*shape):
    return rng.normal(size=shape)


OFF_KNOTS = np.array([-1.8, -0.7, 0.1, 0.9, 1.9])  # away from P.KNOTS (the slope jumps)
CASES = [
    (P.image_gradient_energy, (r(4, 5),)),
    (P.spaced_gradient, (r(6), r(6))),
    (P.gradient_along_axis, (r(3, 5),)),
    (P.gradient_pieces, (r(6),)),
    (P.rolled, (r(2, 3, 4),)),
    (P.lookup_table, (OFF_KNOTS, r(4))),
    (P.smoothed, (r(7), rng.uniform(0.5, 1.5, size=3))),
    (P.matched_filter, (r(7), r(3))),
    (P.fitted_polynomial, (r(4), r(5))),
    (P.mean_of_list, (r(4), r(4))),
    (P.sum_of_tuple, (r(4), r(4))),
    (P.stacked, (r(4), r(4))),
    (P.piecewise, (np.array([-1.0, -0.2, 0.3, 0.9]), r(4))),
    (P.fitted_line, (np.eye(6, 3) * 4.0 + 0.3 * r(6, 3), r(6))),
    (P.contracted, (r(2, 3, 4), r(2, 4, 5))),
]
IDS = [f.__name__ for f, _ in CASES]


@pytest.mark.parametrize("f, args", CASES, ids=IDS)
def test_gradient_and_tangent_match_differences(f, args):
    for i in range(len(args)):
        want = numeric.gradient(f, args, i)
        np.testing.assert_allclose(srcgrad.grad(f, wrt=i)(*args), want, rtol=1e-6, atol=1e-8)
        t = [np.zeros(np.shape(a)) for a in args]
        t[i] = r(*np.shape(args[i]))
        np.testing.assert_allclose(srcgrad.jvp(f, args, tuple(t))[1], np.sum(want * t[i]),
                                   rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("f, args", CASES, ids=IDS)
def test_tangent_of_every_argument_at_once(f, args):
    """Each argument's share of a tuple-valued output's tangent adds up entry by entry."""
    t = tuple(r(*np.shape(a)) for a in args)
    np.testing.assert_allclose(srcgrad.jvp(f, args, t)[1], numeric.directional(f, args, t),
                               rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("f, args", CASES, ids=IDS)
def test_second_order_matches_differences_of_the_gradient(f, args):
    grad_f = srcgrad.grad(f, wrt=0)
    t = tuple(r(*np.shape(a)) for a in args)
    want = numeric.directional(grad_f, args, t)
    _, got = srcgrad.jvp(grad_f, args, t)  # forward over reverse
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-7)
    value, pullback = srcgrad.vjp(grad_f, *args)  # reverse over reverse where it can
    u = r(*np.shape(value))
    for j, cot in enumerate(pullback(u)):
        e = [np.zeros(np.shape(a)) for a in args]
        for k in range(np.size(args[j])):
            e[j] = np.eye(np.size(args[j]))[k].reshape(np.shape(args[j]))
            np.testing.assert_allclose(np.ravel(cot)[k],
                                       np.sum(u * numeric.directional(grad_f, args, tuple(e))),
                                       rtol=1e-5, atol=1e-7)


def test_gradient_of_a_one_axis_call_and_a_tuple_of_axes():
    f = r(4, 5, 3)

    def g(f):
        return np.sum(np.gradient(f, axis=1) ** 2) + np.sum(np.gradient(f, axis=(0, 2))[1])

    np.testing.assert_allclose(srcgrad.grad(g)(f), numeric.gradient(g, (f,), 0), rtol=1e-6,
                               atol=1e-8)


def test_select_of_a_list_made_at_run_time_is_refused_where_it_is_written():
    def f(x):
        choices = [x, 2 * x]
        choices.append(x * x)
        return np.sum(np.select([x < 0, x < 1, x >= 1], choices))

    with pytest.raises(srcgrad.SrcgradError, match="np.select"):
        srcgrad.grad(f)(r(3))


def test_lstsq_of_a_rank_deficient_or_wide_a_is_a_located_error_when_differentiated():
    def f(a, b):
        return np.sum(np.linalg.lstsq(a, b)[0])

    deficient = np.outer(r(5), r(3))
    with pytest.raises(srcgrad.SrcgradError, match="full column rank"):
        srcgrad.grad(f)(deficient, r(5))
    with pytest.raises(srcgrad.SrcgradError, match="full column rank"):
        srcgrad.grad(f, wrt=1)(r(2, 4), r(2))


def test_einsum_sublists_not_written_in_the_call_are_refused_where_they_are():
    def f(a):
        i = 0
        return np.sum(np.einsum(a, [i, 1], [1]))

    with pytest.raises(srcgrad.SrcgradError, match="sublist form"):
        srcgrad.grad(f)(r(2, 3))


def test_interp_period_is_refused_where_it_is_written():
    def f(x, fp):
        return np.sum(np.interp(x, P.KNOTS, fp, period=3.0))

    with pytest.raises(srcgrad.SrcgradError, match="period"):
        srcgrad.grad(f, wrt=1)(OFF_KNOTS, r(4))


def test_interp_xp_is_constant():
    def f(xp):
        return np.sum(np.interp(OFF_KNOTS, xp, np.arange(4.0)))

    with pytest.raises(srcgrad.SrcgradError, match="xp"):
        srcgrad.grad(f)(P.KNOTS)
