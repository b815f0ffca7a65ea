"""The lecture's dynamic programs: forward -> forward-backward, inside -> inside-outside,
and a long loop."""

import math
import tracemalloc

import cky
import hmm
import numpy as np
import pytest
from fixtures import long_loops

import srcgrad


@pytest.mark.parametrize("seed, T, K", [(0, 6, 3), (1, 10, 4), (2, 2, 2), (3, 25, 5)])
@pytest.mark.parametrize("program", [hmm.log_partition, hmm.log_partition_per_state],
                         ids=["vectorized", "per_state"])
def test_gradient_of_hmm_log_z_is_forward_backward(program, seed, T, K):
    args = hmm.example(T, K, seed)
    marginals = srcgrad.grad(program, wrt="log_emit")(*args)
    np.testing.assert_allclose(marginals, hmm.forward_backward(*args), rtol=0, atol=1e-10)


def test_hmm_gradients_of_all_scores_match_finite_differences():
    args = hmm.example(5, 3, 7)
    assert srcgrad.check_grad(hmm.log_partition, *args, wrt=(0, 1, 2)) < 1e-7


@pytest.mark.parametrize("seed, n, N, V", [(0, 5, 3, 4), (1, 4, 2, 3), (2, 6, 3, 5), (3, 2, 2, 2)])
def test_gradient_of_cky_log_z_is_inside_outside(seed, n, N, V):
    log_binary, log_unary, words = cky.example(n, N, V, seed)
    d_binary, d_unary = srcgrad.grad(cky.log_partition, wrt=(0, 1))(log_binary, log_unary, words)
    counts, unary_counts = cky.inside_outside(log_binary, log_unary, words)
    np.testing.assert_allclose(d_binary, counts, rtol=0, atol=1e-10)
    np.testing.assert_allclose(d_unary, unary_counts, rtol=0, atol=1e-10)
    assert np.sum(d_unary) == pytest.approx(n)  # one preterminal per word


def test_examples_print_the_comparison(capsys):
    hmm.main()
    cky.main()
    out = capsys.readouterr().out
    assert "each row sums to one: True" in out
    assert "def log_partition_grad(" in out
    assert "unary counts sum to the sentence length: 5.0" in out


def _reference_recurrence_gradient(x, a, n):
    """d x_n / d (x_0, a) by the chain rule, written out by hand."""
    dx, da = 1.0, 0.0
    for _ in range(n):
        dx, da = (a * math.cos(x) + 0.1) * dx, (a * math.cos(x) + 0.1) * da + math.sin(x)
        x = a * math.sin(x) + 0.1 * x
    return dx, da


def test_a_100000_step_loop_differentiates_without_recursion():
    grad = srcgrad.grad(long_loops.recurrence, wrt=(0, 1))
    got = grad(0.3, 0.8, 100_000)
    assert got == pytest.approx(_reference_recurrence_gradient(0.3, 0.8, 100_000), rel=1e-9)
    assert "reversed(range(n))" in srcgrad.derivative_source(long_loops.recurrence, (0, 1))


def _tape_peak(n: int) -> int:
    grad = srcgrad.grad(long_loops.recurrence, wrt=(0, 1))
    grad(0.3, 0.8, 10)  # transform outside the measurement
    tracemalloc.start()
    try:
        grad(0.3, 0.8, n)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_the_tape_grows_linearly_and_holds_only_what_the_adjoint_reads():
    small, large = _tape_peak(20_000), _tape_peak(40_000)
    per_step = (large - small) / 20_000
    # The adjoint reads x and sin(x) of each step: two floats (24 bytes each) in a
    # 2-tuple (56 bytes) in one list slot (8 bytes): 112 bytes a step, and no more.
    assert 100 <= per_step <= 125, per_step
    assert _tape_peak(100_000) < 130 * 100_000
