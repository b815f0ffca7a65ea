"""Checkpointed loops (issue 17): ``srcgrad.checkpointed(range(T), snapshots=k | every=m)``
and ``grad(f, checkpoint=k | "auto")``.

The gradients must be those of the taped loop to rounding (here: the same operations in
the same order, so equal to 1e-12) on the control-flow programs (every one, through
``checkpoint=``) and on programs written with the marker (branches, in-place table
writes with an inner loop, log-sum-exp, lists built by append, two loops); the plans of
``runtime.checkpoints`` are checked against an exhaustive search for the fewest
recomputations (binomial) and by simulating them; memory is measured with tracemalloc.
"""

from __future__ import annotations

import copy
import math
import re
import sys
import tracemalloc
import warnings
from functools import cache
from pathlib import Path

import numeric
import numpy as np
import pytest
from fixtures import checkpoint_programs as P

import srcgrad
from srcgrad.runtime import checkpoints as ck

HERE = Path(__file__).parent
rng = np.random.default_rng(17)


def _same(got, want):
    """Equal values, gradients equal to rounding (the same operations, same order)."""
    assert np.array_equal(np.asarray(got[0]), np.asarray(want[0]))
    grads = [got[1], want[1]]
    if not isinstance(want[1], tuple):  # (one gradient)
        grads = [(got[1],), (want[1],)]
    for g, w in zip(*grads):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-14)


# -- the plans -------------------------------------------------------------------------

@cache
def _fewest_advances(n: int, k: int) -> int:
    """Exhaustive search: the fewest iterations run without the tape to reverse n
    iterations from a snapshot at the first, k snapshots in all, one-iteration tapes."""
    if n <= 1:
        return 0
    if k == 1:
        return n * (n - 1) // 2
    return min(m + _fewest_advances(n - m, k - 1) + _fewest_advances(m, k)
               for m in range(1, n))


def _simulate(n: int, **option):
    """Run a plan on a recurrence as generated code does; every iteration must be
    reversed once, in reverse order, from the state the first sweep saw."""
    c = ck.Checkpoints(5, 5 + 3 * n, 3, **option)
    x, seen = 0.25, {}
    for i in range(5, 5 + 3 * n, 3):
        c = ck.take(c, i, x, np.array([x]))
        seen[i] = x
        x = math.sin(x) + 0.5
    reversed_ = []
    for s in range(ck.count(c)):
        a, b, end, x, arr = ck.restore(c, s)
        assert x == seen[a] and arr[0] == x
        for i in range(a, b, 3):
            c = ck.take(c, i, x, np.array([x]))
            x = math.sin(x) + 0.5
        for i in range(b, end, 3):
            assert x == seen[i]
            c = ck.take(c, i, x, np.array([x]))
            x = math.sin(x) + 0.5
        reversed_ += list(range(b, end, 3))[::-1]
    assert reversed_ == list(range(5, 5 + 3 * n, 3))[::-1]
    assert not c.kept  # every snapshot dropped after its last restore
    return c


@pytest.mark.parametrize("k", [1, 2, 3, 4, 6])
def test_binomial_plan_runs_the_fewest_iterations(k):
    for n in range(0, 70):
        c = _simulate(n, snapshots=k)
        # the first sweep (it does the first advance, to the last iteration, n - 1 of
        # the search's advances), the other advances, and one taped run per iteration
        assert c.runs == (n + _fewest_advances(n, k) - (n - 1) + n if n else 0)
        assert c.most <= k + 1  # k, and the last iteration's state while it is reversed


def test_binomial_recomputation_is_what_revolve_predicts():
    """With r the least integer with C(k + r, k) >= T, no iteration runs more than
    r + 1 times (the first sweep, at most r - 1 advances, the taped run)."""
    for T, k in [(1000, 5), (10_000, 8), (999, 2), (5000, 30)]:
        r = ck._repetitions(T, k)
        c = _simulate(T, snapshots=k)
        assert c.runs <= (r + 1) * T
        assert c.most <= k + 1


@pytest.mark.parametrize("every", [1, 2, 7, 100])
def test_periodic_plan(every):
    for n in (0, 1, 6, 50):
        c = _simulate(n, every=every)
        assert c.runs == 2 * n
        assert c.most <= max(1, math.ceil(n / every))


def test_default_period_is_the_square_root():
    c = _simulate(100)
    assert c.runs == 200 and c.most == 10


@pytest.mark.parametrize("bad", [dict(snapshots=0), dict(every=-1), dict(snapshots=2.0),
                                 dict(snapshots=True), dict(snapshots=2, every=2)])
def test_bad_options_are_value_errors(bad):
    with pytest.raises(ValueError, match="checkpointed"):
        srcgrad.checkpointed(range(3), **bad)


def test_the_marker_is_the_iterable_when_run_as_python():
    assert srcgrad.checkpointed(range(4), snapshots=2) == range(4)
    assert P.recurrence_marked(0.7, 0.1, 6, 2) == P.recurrence(0.7, 0.1, 6)


# -- gradients ---------------------------------------------------------------------------

@pytest.mark.parametrize("T", [0, 1, 2, 5, 40])
@pytest.mark.parametrize("k", [1, 2, 3, 10])
def test_marked_recurrence_equals_the_taped_one(T, k):
    want = srcgrad.value_and_grad(P.recurrence, wrt=(0, 1))(0.9, 0.3, T)
    _same(srcgrad.value_and_grad(P.recurrence_marked, wrt=(0, 1))(0.9, 0.3, T, k), want)
    g = srcgrad.grad(P.recurrence_marked, wrt=(0, 1))(0.9, 0.3, T, k)
    fd = [numeric.gradient(lambda v: P.recurrence(v, 0.3, T), (0.9,), 0),
          numeric.gradient(lambda v: P.recurrence(0.9, v, T), (0.3,), 0)]
    np.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-9)


def _rnn_args(T=7, n=3):
    return (rng.normal(size=(n, n)) * 0.6, [rng.normal(size=n) for _ in range(T)],
            rng.normal(size=n))


CASES = [
    (P.rnn_marked, P.rnn, _rnn_args(), (0, 1, 2)),
    (P.rnn_marked, P.rnn, _rnn_args(T=1), (0, 2)),
    (P.table_marked, P.table, (0.8, rng.normal(size=6)), (0, 1)),
    (P.hmm_marked, P.hmm, (np.log(np.full(3, 1 / 3)), rng.normal(size=(3, 3)),
                           rng.normal(size=(9, 3))), (0, 1, 2)),
    (P.collected_marked, P.collected, (0.7, list(rng.normal(size=5))), (0, 1)),
    (P.two_loops_marked, P.two_loops, (0.8, 9), (0,)),
    (P.written_after, P.written_after_plain, (0.7, rng.normal(size=5)), (0, 1)),
]


@pytest.mark.parametrize("marked, plain, args, wrt", CASES,
                         ids=[c[0].__name__ for c in CASES])
def test_marked_programs_equal_the_taped_ones(marked, plain, args, wrt):
    want = srcgrad.value_and_grad(plain, wrt=wrt)(*copy.deepcopy(args))
    _same(srcgrad.value_and_grad(marked, wrt=wrt)(*copy.deepcopy(args)), want)
    for i, g in zip(wrt, want[1]):  # and the taped gradient against the numbers
        if isinstance(args[i], (float, np.ndarray)):
            fd = numeric.gradient(lambda *a: plain(*copy.deepcopy(a)), args, i)
            np.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-8)
    for policy in (1, 3, "auto"):  # loops left unmarked are checkpointed by the policy
        _same(srcgrad.value_and_grad(plain, wrt=wrt, checkpoint=policy)(
            *copy.deepcopy(args)), want)


def _control_flow_cases():
    sys.path.insert(0, str(HERE))
    import test_control_flow as T

    return [pytest.param(c, id=c.name) for c in T.CASES]


@pytest.mark.parametrize("case", _control_flow_cases())
def test_control_flow_programs_with_every_top_level_loop_checkpointed(case):
    for args in case.examples:
        want = srcgrad.value_and_grad(case.fn, wrt=case.wrt)(*copy.deepcopy(args))
        for policy in (1, 2, "auto"):
            got = srcgrad.value_and_grad(case.fn, wrt=case.wrt, checkpoint=policy)(
                *copy.deepcopy(args))
            _same(got, want)


def test_memory_of_a_long_loop(monkeypatch):
    """A 4000-step recurrence on 200-vectors: the tape holds more than a vector a step;
    with 8 snapshots, a few vectors, whatever T (measured: peaks of 7.8 MB, and 0.8 MB
    for T = 2000 and 4000 alike: W's gradient and its update's temporaries)."""
    W = rng.normal(size=(200, 200)) / 20
    xs = rng.normal(size=(4000, 200))
    h0 = np.zeros(200)

    def peak(f):
        tracemalloc.start()
        out = f(W, xs, h0)
        _, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return out, top

    plain = srcgrad.grad(P.rnn)
    checkpointed = srcgrad.grad(P.rnn, checkpoint=8)
    plain(W, xs, h0), checkpointed(W, xs, h0)  # (built, per shape, outside the measurement)
    g1, taped = peak(plain)
    g2, kept = peak(checkpointed)
    np.testing.assert_allclose(g2, g1, rtol=1e-12, atol=1e-14)
    assert taped > 4000 * 200 * 8  # more than a vector a step
    assert kept < taped / 5, (kept, taped)
    checkpointed(W, xs[:2000], h0)
    _, half = peak(lambda W, xs, h0: checkpointed(W, xs[:2000], h0))
    assert kept < half + 20 * 200 * 8  # T doubled: at most a few vectors more


def test_plans_made_by_the_generated_code(monkeypatch):
    made = []
    init = ck.Checkpoints.__init__

    def record(self, *args, **kwargs):
        init(self, *args, **kwargs)
        made.append(self)

    monkeypatch.setattr(ck.Checkpoints, "__init__", record)
    srcgrad.grad(P.recurrence_marked)(0.9, 0.3, 200, 4)
    c, = made
    assert c.runs == 200 + _fewest_advances(200, 4) - 199 + 200 and c.most <= 5


# -- what it prints, and what it refuses -----------------------------------------------

def test_shown_code_takes_restores_and_reverses_segments():
    source = srcgrad.derivative_source(P.recurrence_marked)
    for part in ("checkpoints = plan(0, T, 1, snapshots=k)", "take(checkpoints, t, x)",
                 "count(checkpoints)", "restore(checkpoints, segment)",
                 "tape.append(", "tape.pop()", "for t in reversed(range("):
        assert part in source, part
    namespace: dict = {}
    exec(compile(source, "<shown>", "exec"), namespace)  # it runs as printed
    fn = namespace["recurrence_marked_grad"]
    value, g = fn(0.9, 0.3, 12, 3)
    _same((value, (g,)), srcgrad.value_and_grad(P.recurrence, wrt=(0,))(0.9, 0.3, 12))


def test_shown_code_of_a_gradient_with_a_policy_is_the_code_it_runs():
    gradient = srcgrad.grad(P.recurrence, checkpoint=3)
    source = srcgrad.derivative_source(gradient)
    assert "checkpoints = plan(0, T, 1, snapshots=3)" in source
    assert "plan(" not in srcgrad.derivative_source(P.recurrence)
    namespace: dict = {}
    exec(compile(source, "<shown>", "exec"), namespace)
    assert namespace["recurrence_grad"](0.9, 0.3, 11) == gradient(0.9, 0.3, 11)


def test_shown_code_of_a_numba_gradient_is_numbas():
    """derivative_source of what grad(f, backend="numba") made: the code numba is
    given (typed tapes, check_finite), without passing backend= again."""
    pytest.importorskip("numba")
    source = srcgrad.derivative_source(srcgrad.grad(P.recurrence, backend="numba"))
    assert "check_finite(" in source
    assert "check_finite(" not in srcgrad.derivative_source(srcgrad.grad(P.recurrence))


def test_shown_code_for_an_example_of_a_gradient_with_a_policy():
    gradient = srcgrad.grad(P.rnn, checkpoint=2)
    args = _rnn_args(T=3)
    source = srcgrad.derivative_source(gradient, example=args)
    assert "plan(" in source


def test_cli_prints_the_checkpointed_gradient(capsys):
    from srcgrad import cli

    assert cli.main(["show", f"{HERE / 'fixtures' / 'checkpoint_programs.py'}:rnn_marked"]) == 0
    out = capsys.readouterr().out
    assert "checkpoints = plan(0, t1, 1, every=3)" in out
    assert "restore(" in out


@pytest.mark.parametrize("fn, what", [
    (P.in_inner_loop, "inside another loop or a branch"),
    (P.in_a_branch, "inside another loop or a branch"),
    (P.with_break, "with a break or a return"),
    (P.returns_inside, "with a break or a return"),
    (P.both_options, "at most one of snapshots=k and every=m"),
    (P.zero_snapshots, "snapshots must be an integer >= 1, got 0"),
])
def test_refused_where_it_cannot_be_done(fn, what):
    with pytest.raises(srcgrad.UnsupportedSyntax, match=what) as info:
        srcgrad.grad(fn)(0.5)
    assert info.value.loc.line > 0 and "checkpoint_programs.py" in info.value.loc.file


def test_a_random_draw_in_a_marked_loop_is_refused_at_its_line():
    with pytest.raises(srcgrad.UnsupportedSyntax, match="random draw") as info:
        srcgrad.grad(P.noisy_marked)(0.9, 0.3, 6)
    assert "np.random.normal()" in info.value.loc.text
    assert "noise[t]" in info.value.hint


@pytest.mark.parametrize("policy", [2, "auto"])
def test_the_policy_leaves_loops_with_random_draws_taped(policy):
    np.random.seed(1)
    want = srcgrad.value_and_grad(P.noisy)(0.9, 0.3, 6)
    np.random.seed(1)
    _same(srcgrad.value_and_grad(P.noisy, checkpoint=policy)(0.9, 0.3, 6), want)
    assert "plan(" not in srcgrad.derivative_source(srcgrad.grad(P.noisy, checkpoint=policy))


def test_the_policy_leaves_loops_that_fill_a_table_taped():
    """Each snapshot would copy the whole table: the tape is smaller."""
    source = srcgrad.derivative_source(srcgrad.grad(P.fills_a_table, checkpoint=2))
    assert "plan(" not in source
    args = (0.6, rng.normal(size=7))
    _same(srcgrad.value_and_grad(P.fills_a_table, checkpoint=2)(*args),
          srcgrad.value_and_grad(P.fills_a_table)(*args))


@pytest.mark.parametrize("policy", [1, 3, "auto"])
def test_arrays_the_loop_reads_and_later_code_writes_are_read_as_they_were(policy):
    args = (0.7, rng.normal(size=6))
    want = srcgrad.value_and_grad(P.written_by_a_later_loop, wrt=(0, 1))(*copy.deepcopy(args))
    got = srcgrad.value_and_grad(P.written_by_a_later_loop, wrt=(0, 1), checkpoint=policy)
    _same(got(*copy.deepcopy(args)), want)
    source = srcgrad.derivative_source(got)
    assert "frozen(" in source and "plan(" in source


def test_an_option_computed_in_the_function():
    for T in (0, 1, 5, 13):
        _same(srcgrad.value_and_grad(P.computed_option)(0.8, T),
              srcgrad.value_and_grad(P.computed_option_plain)(0.8, T))
        fd = numeric.gradient(lambda v, T=T: P.computed_option(v, T), (0.8,), 0)
        assert srcgrad.grad(P.computed_option)(0.8, T) == pytest.approx(fd, rel=1e-6, abs=1e-9)


def test_second_order_runs_a_marked_loop_anywhere_as_a_plain_loop():
    h = srcgrad.hvp(P.in_a_branch)(0.7, 1.0)
    want = numeric.gradient(lambda v: numeric.gradient(P.in_a_branch, (v,), 0), (0.7,), 0)
    assert h == pytest.approx(want, rel=1e-5)


def test_exported_module_runs_the_checkpointed_gradient_without_srcgrad(tmp_path):
    path = tmp_path / "exported_recurrence.py"
    srcgrad.export(P.recurrence_marked, path=str(path))
    text = path.read_text()
    assert not re.search(r"^\s*(import|from) srcgrad", text, re.M)
    namespace: dict = {}
    exec(compile(text, str(path), "exec"), namespace)
    got = namespace["recurrence_marked_grad"](0.9, 0.3, 20, 3)
    want = srcgrad.value_and_grad(P.recurrence)(0.9, 0.3, 20)
    _same((got[0], (got[1],)), (want[0], (want[1],)))


@pytest.mark.parametrize("bad", [0, -2, "all", 2.5, True])
def test_bad_policy_is_a_usage_error(bad):
    with pytest.raises(srcgrad.UsageError, match="checkpoint="):
        srcgrad.grad(P.recurrence, checkpoint=bad)


def test_policy_refuses_has_aux():
    with pytest.raises(srcgrad.UsageError, match="has_aux"):
        srcgrad.grad(P.recurrence, has_aux=True, checkpoint=2)


def test_forward_mode_and_second_order_run_the_marked_loop_as_a_loop():
    args = (0.9, 0.3, 7, 2)
    _, tangent = srcgrad.jvp(P.recurrence_marked, args, (1.0, 0.0, 0, 0))
    assert tangent == pytest.approx(srcgrad.grad(P.recurrence)(0.9, 0.3, 7), rel=1e-12)
    h = srcgrad.hvp(P.recurrence_marked)(0.9, 0.3, 7, 2, 1.0)
    want = numeric.gradient(lambda v: srcgrad.grad(P.recurrence)(v, 0.3, 7), (0.9,), 0)
    assert h == pytest.approx(want, rel=1e-6)


def test_methods_take_the_policy():
    class Model:
        def __init__(self, w):
            self.w = w

        @srcgrad.grad(wrt="x0", checkpoint=2)
        def loss(self, x0, T):
            x = x0
            for _t in range(T):
                x = np.sin(self.w * x)
            return x

    m = Model(0.8)
    fd = numeric.gradient(lambda v: Model.loss.__wrapped__(m, v, 9), (0.4,), 0)
    assert m.loss(0.4, 9) == pytest.approx(fd, rel=1e-6)


def test_numba_backend_compiles_what_nothing_is_checkpointed_in():
    pytest.importorskip("numba")
    from srcgrad.compiled import CompiledFallbackWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        srcgrad.grad(P.fills_a_table, backend="numba", checkpoint=2)(0.6, np.ones(4))
    assert not [w for w in caught if issubclass(w.category, CompiledFallbackWarning)]


def test_numba_backend_runs_checkpointed_loops_in_python():
    pytest.importorskip("numba")
    from srcgrad.compiled import CompiledFallbackWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        got = srcgrad.value_and_grad(P.recurrence_marked, backend="numba")(0.9, 0.3, 20, 3)
    assert any(issubclass(w.category, CompiledFallbackWarning) and "runs with the Python "
               "backend: its checkpointed loop" in str(w.message) for w in caught)
    want = srcgrad.value_and_grad(P.recurrence)(0.9, 0.3, 20)
    _same((got[0], (got[1],)), (want[0], (want[1],)))


def test_a_checkpointed_loop_over_dask_arrays_gives_a_dask_gradient():
    da = pytest.importorskip("dask.array", reason="the dask extra is not installed")
    X = rng.normal(size=(6, 4))
    w = np.full(4, 0.7)
    want = srcgrad.grad(P.rnn_elementwise)(w, X, 6)
    got = srcgrad.grad(P.rnn_elementwise_marked)(da.from_array(w, chunks=2),
                                                 da.from_array(X, chunks=(3, 2)), 6)
    assert isinstance(got, da.Array)
    np.testing.assert_allclose(got.compute(), want, rtol=1e-12, atol=1e-14)
