"""Lists of data in plain-Python loops (issue 20): ``sum(xs)``, ``np.stack(xs)`` and
``xs[t]`` by a loop variable, where ``xs`` is a list or tuple argument of floats or
arrays, differentiated or not. Gradients with respect to the list come back as a list
(a tuple for a tuple), each checked against central differences (tests/numeric.py);
forward mode against the same differences along a direction."""

import numeric
import numpy as np
import pytest
from fixtures import list_data_programs as P

import srcgrad

rng = np.random.default_rng(20)


def r(*shape):
    return rng.normal(size=shape) * 0.5


def _floats(n):
    return [float(v) for v in r(n)]


CASES = [
    (P.rnn, (0.7, _floats(5))),
    (P.rnn, (0.7, tuple(_floats(4)))),
    (P.rnn_arrays, (r(2, 2), [r(2) for _ in range(4)])),
    (P.backwards, (0.4, _floats(4))),
    (P.differences, (1.3, _floats(5))),
    (P.while_index, (0.9, _floats(3))),
    (P.two_lists, (0.6, _floats(4), _floats(4))),
    (P.epochs, (0.2, _floats(3))),
    (P.ragged, (0.8, [r(2), r(3), r(1, 2)])),
    (P.total, (1.1, _floats(3))),
    (P.total_arrays, (0.5, [r(3), r(3)])),
    (P.stacked, (r(3), [r(3) for _ in range(4)])),
    (P.stacked_axis, (r(2, 3), (r(2), r(2), r(2)))),
    (P.indexed_and_stacked, (r(2), [r(2), r(2)])),
    # NumPy functions given a list itself (np.sum(rows) of appended rows crashed)
    (P.built_then_reduced, (r(3), [r(3) for _ in range(4)])),
    (P.built_then_reduced, (0.3, _floats(4))),
    (P.built_then_max, (r(2), [r(2) for _ in range(3)])),
    (P.reduced_argument, (r(2), [r(2), r(2), r(2)])),
    (P.reduced_argument, (0.8, _floats(3))),
]
IDS = [f"{f.__name__}-{type(args[1]).__name__}" for f, args in CASES]


def _with(args, i, j, v):
    """``args`` with argument ``i`` (item ``j`` of it if it is a list) set to ``v``."""
    out = list(args)
    if j is None:
        out[i] = v
    else:
        items = list(args[i])
        items[j] = v
        out[i] = type(args[i])(items)
    return tuple(out)


def _reference(f, args, i):
    """The gradient in argument ``i`` by central differences, a list for a list."""
    if not isinstance(args[i], (list, tuple)):
        return numeric.gradient(lambda v: f(*_with(args, i, None, v)), (args[i],), 0)
    return [numeric.gradient(lambda v, j=j: f(*_with(args, i, j, v)), (x,), 0)
            for j, x in enumerate(args[i])]


def _differentiable(args):
    return [i for i, a in enumerate(args) if not isinstance(a, int)]


@pytest.mark.parametrize("f, args", CASES, ids=IDS)
def test_gradient_in_each_argument_matches_differences(f, args):
    for i in _differentiable(args):
        got = srcgrad.grad(f, wrt=i)(*args)
        want = _reference(f, args, i)
        if isinstance(args[i], (list, tuple)):
            assert type(got) is type(args[i]) and len(got) == len(args[i])
            for g, w, x in zip(got, want, args[i]):
                assert np.shape(g) == np.shape(x)
                np.testing.assert_allclose(g, w, rtol=1e-6, atol=1e-9)
        else:
            np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-9)


def _tangent(a):
    if isinstance(a, (list, tuple)):
        return type(a)(_tangent(x) for x in a)
    return r(*np.shape(a)) if np.ndim(a) else float(r(1)[0])


@pytest.mark.parametrize("f, args", CASES, ids=IDS)
def test_forward_mode_matches_the_gradients(f, args):
    tangents = tuple(_tangent(a) for a in args)
    value, tangent = srcgrad.jvp(f, args, tangents)
    assert value == pytest.approx(f(*args), rel=1e-12)
    want = 0.0
    for i in _differentiable(args):
        ref = _reference(f, args, i)
        pairs = zip(ref, tangents[i]) if isinstance(args[i], (list, tuple)) \
            else [(ref, tangents[i])]
        want += sum(float(np.sum(np.asarray(g) * t)) for g, t in pairs)
    assert tangent == pytest.approx(want, rel=1e-6, abs=1e-9)


def test_data_list_is_only_read_when_not_differentiated():
    xs = _floats(6)
    g = srcgrad.grad(P.rnn, wrt=0)(0.7, xs)
    np.testing.assert_allclose(g, _reference(P.rnn, (0.7, xs), 0), rtol=1e-6)
    ys = [float(v) for v in range(5)]  # ints as floats, read only
    assert srcgrad.grad(P.two_lists, wrt=0)(0.5, ys, ys) == pytest.approx(
        _reference(P.two_lists, (0.5, ys, ys), 0), rel=1e-6)


def test_index_by_an_int_argument():
    xs, w = _floats(4), 0.8
    for i in (1, 3, -2):
        gx, gw = srcgrad.grad(P.at, wrt=(0, 2))(xs, i, w)
        want = _reference(P.at, (xs, i, w), 0)
        np.testing.assert_allclose(gx, want, rtol=1e-6, atol=1e-9)
        assert gw == pytest.approx(xs[i] ** 2, rel=1e-12)


def test_lists_of_other_lengths_rebuild_and_stay_right():
    for n in (1, 2, 7):
        xs = _floats(n)
        got = srcgrad.grad(P.rnn, wrt=1)(0.3, xs)
        np.testing.assert_allclose(got, _reference(P.rnn, (0.3, xs), 1), rtol=1e-6, atol=1e-9)


def test_float32_arrays_in_a_list_keep_their_type():
    xs = [r(2).astype(np.float32) for _ in range(3)]
    w = r(2, 2).astype(np.float32)
    gw, gx = srcgrad.grad(P.rnn_arrays, wrt=(0, 1))(w, xs)
    assert gw.dtype == np.float32 and all(g.dtype == np.float32 for g in gx)


def test_second_order_in_the_weight_of_a_recurrence():
    xs = _floats(4)
    d2 = srcgrad.grad(srcgrad.grad(P.rnn, wrt=0), wrt=0)(0.7, xs)
    want = numeric.gradient(lambda w: srcgrad.grad(P.rnn, wrt=0)(w, xs), (0.7,), 0)
    assert d2 == pytest.approx(want, rel=1e-6)


def test_an_index_out_of_range_is_pythons_index_error():
    with pytest.raises(IndexError, match="index out of range"):
        srcgrad.grad(P.at, wrt=0)([1.0, 2.0], 5, 1.0)


def test_a_list_of_pairs_indexed_at_run_time_is_refused_with_what_to_write():
    ps = [(1.0, 2.0), (3.0, 4.0)]
    with pytest.raises(srcgrad.UnsupportedSyntax, match="index computed at run time") as e:
        srcgrad.grad(P.pairs_indexed)(0.5, ps)
    assert e.value.loc.line == P.pairs_indexed.__code__.co_firstlineno + 3
    assert "separate lists" in str(e.value)  # as two_lists takes them, checked above
