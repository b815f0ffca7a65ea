"""Scoping and control (issue 14): a loop variable after its loop, for/while ... else,
break that ends a for loop, assert, and with over no-op numeric contexts.

The programs are in ``tests/fixtures/scoping_programs.py``. Each gradient is checked
against central differences (``tests/numeric.py``) and forward mode against reverse
mode (``jvp`` along a direction equals the gradient's dot product with it); each
value against the program's own. The refusals are rows of ``tests/test_errors.py``.
"""

from __future__ import annotations

import time

import numpy as np
import pytest
from fixtures import scoping_programs as P
from numeric import directional, gradient

import srcgrad

RTOL, ATOL = 1e-6, 1e-7
W = np.array([[0.3, -0.2, 0.5], [0.1, 0.4, -0.6], [-0.7, 0.2, 0.9]])
XS = np.array([0.2, 0.5, -0.3, 0.9, 1.7, 0.1])

# (program, arguments, indices of the arguments to differentiate)
CASES = [
    (P.doubling, (0.7, 3), (0,)),
    (P.doubling, (0.7, 1), (0,)),
    (P.last_element, (np.array([0.5, -1.2, 2.0]),), (0,)),
    (P.last_row, (W,), (0,)),
    (P.keeps_previous, (0.8, 4), (0,)),
    (P.keeps_previous, (0.8, 0), (0,)),  # no iteration: i keeps its 10
    (P.last_step, (1.3, 4), (0,)),
    (P.nested_indices, (0.6,), (0,)),
    (P.first_above, (XS, 1.0), (0,)),
    (P.first_above, (XS, 5.0), (0,)),  # no break: i is the last index
    (P.first_above_items, (XS, 0.8), (0,)),
    (P.first_above_items, (XS, 5.0), (0,)),
    (P.break_nested, (0.9,), (0,)),
    (P.descending_break, (1.1,), (0,)),
    (P.descending_break, (0.1,), (0,)),  # runs to the end of the range
    (P.helper_in_loop, (0.7,), (0,)),
    (P.helper_in_loop, (0.05,), (0,)),
    (P.settle, (1.2, 0.1), (0, 1)),  # converges: break
    (P.settle, (1.2, 0.001), (0, 1)),  # does not: the else runs
    (P.halve_until_small, (5.3,), (0,)),
    (P.halve_until_small, (0.6,), (0,)),  # no trip: the else alone
    (P.converge_or_penalize, (0.3,), (0,)),
    (P.else_with_branch, (1.1, 2), (0,)),
    (P.else_with_branch, (1.1, 1), (0,)),
    (P.else_with_branch, (0.5, 1), (0,)),
    (P.else_with_branch, (1.1, 5), (0,)),  # breaks: no else
    (P.inner_break_does_not_count, (0.8,), (0,)),
    (P.return_in_loop_else, (0.7,), (0,)),
    (P.return_in_loop_else, (3.0,), (0,)),
    (P.checked_model, (np.array([0.2, -0.4, 0.3]), np.array([1.0, 2.0, -0.5])), (0, 1)),
    (P.assert_in_loop, (1.3, 5), (0,)),
    (P.quiet_log, (np.array([0.5, 2.0, 3.0]),), (0,)),
    (P.quiet_warnings, (np.array([0.5, 2.0, 3.0]),), (0,)),
    (P.printing, (np.array([0.5, 2.0, 3.0]),), (0,)),
    (P.printing, (np.array([5.0, 8.0, 3.0]),), (0,)),
    (P.early_exit_huge, (1.3,), (0,)),
    (P.while_only_name, (1.2,), (0,)),
    (P.break_enumerate, (np.array([0.3, 0.8, 0.9, 0.2]),), (0,)),
    (P.break_enumerate, (np.array([0.3, 0.1, 0.2]),), (0,)),
    (P.inner_sometimes_empty, (0.7,), (0,)),
    (P.last_row_untouched, (W,), (0,)),
    (P.read_from_previous_iteration, (0.4, 4), (0,)),
    (P.read_from_previous_iteration, (0.4, 0), (0,)),
    (P.set_in_some_iterations, (0.8,), (0,)),
    (P.sum_of_firsts, (W,), (0,)),
    (P.sum_of_firsts, (W - 1.0,), (0,)),  # no entry above: the helper's last return
    (P.return_in_else, (0.5,), (0,)),
    (P.return_in_else, (2.0,), (0,)),
    (P.break_in_inner_else, (0.9,), (0,)),  # an else's break ends the outer loop
    (P.return_under_errstate, (0.4,), (0,)),
    (P.return_under_errstate, (0.001,), (0,)),
    (P.pair_recurrence_until, (0.9,), (0,)),
    (P.pair_recurrence_until, (0.2,), (0,)),
    (P.states_until_saturated, (0.1,), (0,)),
    (P.states_until_saturated, (-2.0,), (0,)),
    (P.fill_until_negative, (1.3,), (0,)),
    (P.fill_until_negative, (0.2,), (0,)),
    (P.break_over_dict_items, (0.9,), (0,)),  # stops at the first key
    (P.break_over_dict_items, (-0.9,), (0,)),  # at the second
    (P.break_over_dict_items, (-3.0,), (0,)),  # never
    (P.break_over_functions, (0.4,), (0,)),
    (P.break_over_functions, (-0.4,), (0,)),
]


def _id(case) -> str:
    return f"{case[0].__name__}{case[1][1:] if len(case[1]) > 1 else ''}"


@pytest.mark.parametrize("f, args, wrt", CASES, ids=[_id(c) for c in CASES])
def test_gradient_matches_differences(f, args, wrt):
    if f is P.early_exit_huge:  # differences would run the same loop: compare by hand
        value, g = srcgrad.value_and_grad(f)(*args)
        assert value == pytest.approx(args[0] * 1.1 ** 4, rel=1e-12)
        assert g == pytest.approx(1.1 ** 4, rel=1e-12)
        return
    for i in wrt:
        value, g = srcgrad.value_and_grad(f, wrt=i)(*args)
        assert value == f(*args)
        np.testing.assert_allclose(g, gradient(f, args, i), rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("f, args, wrt", CASES, ids=[_id(c) for c in CASES])
def test_forward_matches_reverse(f, args, wrt):
    rng = np.random.default_rng(14)
    tangents = tuple(rng.normal(size=np.shape(a)) if i in wrt and np.ndim(a)
                     else (float(rng.normal()) if i in wrt else 0 * a)
                     for i, a in enumerate(args))
    primals = tuple(args)
    value, tangent = srcgrad.jvp(f, primals, tangents)
    assert value == srcgrad.value_and_grad(f)(*args)[0]
    expected = sum(np.sum(srcgrad.grad(f, wrt=i)(*args) * tangents[i]) for i in wrt)
    np.testing.assert_allclose(tangent, expected, rtol=RTOL, atol=ATOL)
    if f is not P.early_exit_huge:
        floats = tuple(t if i in wrt else 0 * t for i, t in enumerate(tangents))
        moved = [i for i in range(len(args)) if i not in wrt]
        if not moved:
            np.testing.assert_allclose(tangent, directional(f, primals, floats),
                                       rtol=RTOL, atol=ATOL)


def test_loop_variable_unbound_after_an_empty_loop_raises_as_in_python():
    with pytest.raises(UnboundLocalError):
        P.doubling(0.7, 0)
    with pytest.raises(UnboundLocalError):
        srcgrad.grad(P.doubling)(0.7, 0)
    with pytest.raises(UnboundLocalError):
        srcgrad.jvp(P.doubling, (0.7, 0), (1.0, 0))
    with pytest.raises(UnboundLocalError):
        srcgrad.grad(P.last_element)(np.zeros(0))
    with pytest.raises(UnboundLocalError):
        srcgrad.value_and_grad(P.while_only_name)(12.0)


def test_a_name_taped_before_it_is_set_reads_as_in_python():
    """An inner loop that does not run leaves j as the outer loop's previous value (or
    unbound at first); the outer tape pushes it every iteration, read only under the
    if: the numbers are Python's."""
    value, g = srcgrad.value_and_grad(P.inner_sometimes_empty)(0.7)
    assert value == P.inner_sometimes_empty(0.7)
    np.testing.assert_allclose(g, gradient(P.inner_sometimes_empty, (0.7,), 0), rtol=RTOL)


def test_break_ends_the_loop_in_generated_code():
    for mode in ("reverse", "forward"):
        code = srcgrad.derivative_source(P.first_above, 0, mode)
        assert "break" in code, code
    start = time.perf_counter()  # a range of 10**12 that ran on would never finish
    srcgrad.grad(P.early_exit_huge)(1.3)
    srcgrad.jvp(P.early_exit_huge, (1.3,), (1.0,))
    assert time.perf_counter() - start < 30.0


def test_break_replays_only_the_iterations_that_ran():
    """The adjoint of a loop that breaks at i = 3 of 6 reads entries 0..3 only: an
    entry after the break gets a zero gradient, exactly."""
    xs = np.array([0.1, 0.2, 0.3, 2.0, 0.4, 0.5])
    g = srcgrad.grad(P.first_above)(xs, 1.0)
    assert np.all(g[4:] == 0.0)
    np.testing.assert_allclose(g[:4], [0.2, 0.4, 0.6, 1.0], rtol=1e-12)


def test_assert_is_checked_with_the_users_message():
    w, x = np.array([0.2, -0.4, 0.3]), np.array([1.0, 2.0, -0.5])
    for call in (lambda: srcgrad.grad(P.checked_model)(w, x[:2]),
                 lambda: srcgrad.value_and_grad(P.checked_model)(w, x[:2]),
                 lambda: srcgrad.jvp(P.checked_model, (w, x[:2]), (w, x[:2]))):
        with pytest.raises(AssertionError, match="w and x must have one shape"):
            call()
    with pytest.raises(AssertionError, match="activation out of range"):
        srcgrad.grad(P.checked_model)(w * 100.0, x * 100.0)
    with pytest.raises(AssertionError, match="diverged"):
        srcgrad.grad(P.assert_in_loop)(1e7, 3)
    code = srcgrad.derivative_source(P.checked_model)
    assert "assert w.shape == x.shape, 'w and x must have one shape'" in code, code


def test_assert_is_kept_where_the_gradient_does_not_need_its_value():
    # grad computes f's value only as far as the gradient needs it: the check stays.
    with pytest.raises(AssertionError, match="diverged"):
        srcgrad.grad(P.assert_in_loop)(2e6, 1)


def test_with_body_is_differentiated_as_if_the_with_were_not_there():
    x = np.array([0.5, 2.0, 3.0])
    assert srcgrad.derivative_source(P.quiet_log).count("errstate") == 0
    np.testing.assert_allclose(srcgrad.grad(P.quiet_log)(x), 2 * np.log(x) / x, rtol=1e-12)
    np.testing.assert_allclose(srcgrad.grad(P.quiet_warnings)(x), 1 / np.sqrt(x),
                               rtol=1e-12)


@pytest.mark.parametrize("f, args", [
    (P.settle, (1.2, 0.1)),
    (P.last_step, (1.3, 4)),
    (P.read_from_previous_iteration, (0.4, 4)),
    (P.halve_until_small, (5.3,)),
    (P.first_above_items, (np.array([0.3, 0.8, 0.9, 0.2]), 0.85)),
], ids=lambda v: getattr(v, "__name__", ""))
def test_second_order_through_break_else_and_loop_names(f, args):
    """Forward mode over the generated gradient (its loop ends at the break too, its
    adjoint loop runs over the trips counted): against differences of the gradient."""
    if np.ndim(args[0]):
        H = srcgrad.hessian(f)(*args)
        for k in range(len(args[0])):
            def row(*b, k=k):
                return srcgrad.grad(f)(*b)[k]
            np.testing.assert_allclose(H[k], gradient(row, args, 0), rtol=1e-5, atol=1e-7)
        return
    gg = srcgrad.grad(srcgrad.grad(f))(*args)
    np.testing.assert_allclose(gg, gradient(srcgrad.grad(f), args, 0), rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("f, args, wrt", CASES, ids=[_id(c) for c in CASES])
def test_shown_code_runs_alone(f, args, wrt):
    """``derivative_source`` is a module that runs by itself and gives the numbers of
    ``value_and_grad`` and ``jvp`` (the unbound entries, the break, the assert)."""
    tangents = tuple(np.ones_like(a) if i == 0 else 0 * a for i, a in enumerate(args))
    for mode in ("reverse", "forward"):
        namespace: dict = {}
        exec(compile(srcgrad.derivative_source(f, 0, mode), "<shown>", "exec"), namespace)
        made = namespace[f"{f.__name__}_grad" if mode == "reverse" else f"{f.__name__}_jvp"]
        if mode == "reverse":
            value, g = made(*args)
            expected = srcgrad.value_and_grad(f)(*args)
            assert value == expected[0]
            np.testing.assert_array_equal(g, expected[1])
        else:
            value, t = made(*args, tangents[0])
            expected = srcgrad.jvp(f, args, tangents)
            assert value == expected[0]
            np.testing.assert_array_equal(t, expected[1])
