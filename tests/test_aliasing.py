"""Adjoint buffers shared by several values (issue 12, issue 22 class 1).

An in-place update may only target a buffer no other live name refers to;
``verify_storage`` checks it on every derivative the suite builds. Here: the
programs that broke it, in every API against Richardson central differences,
and the verifier itself, on IR made by hand and on the transform with the
ownership rule switched off (so the check is seen to fail)."""

import types

import numpy as np
import pytest
from fixtures import aliasing
from fixtures.aliasing import PROGRAMS, straight_line, two_accumulators
from numeric import directional, gradient

import srcgrad
from srcgrad import ir
from srcgrad.backend import verify as verify_storage
from srcgrad.errors import InternalError, Loc
from srcgrad.transform.reverse_state import SweepState

CASES = [pytest.param(f, make, wrt, id=f"{f.__name__}-{k}")
         for k, (f, make, wrt) in enumerate(PROGRAMS)]


@pytest.mark.parametrize("f, make, wrt", CASES)
def test_gradient_matches_differences(f, make, wrt):
    args = make()
    value, grads = srcgrad.value_and_grad(f, wrt=wrt)(*args)
    assert value == f(*args)
    for i, g in zip(wrt, grads):
        np.testing.assert_allclose(g, gradient(f, args, i), rtol=1e-7, atol=1e-9)
        np.testing.assert_allclose(srcgrad.grad(f, wrt=i)(*args), g, rtol=0, atol=0)


@pytest.mark.parametrize("f, make, wrt", CASES)
def test_vjp_and_jvp_match_differences(f, make, wrt):
    args = make()
    rng = np.random.default_rng(1)
    tangents = tuple(rng.normal(size=np.shape(a)) if k in wrt else np.zeros(np.shape(a))
                     for k, a in enumerate(args))
    tangents = tuple(float(t) if np.ndim(a) == 0 else t for a, t in zip(args, tangents))
    _, dout = srcgrad.jvp(f, args, tangents)
    np.testing.assert_allclose(dout, directional(f, args, tangents), rtol=1e-7, atol=1e-9)
    _, pullback = srcgrad.vjp(f, *args)
    cotangents = pullback(1.0)
    for i in wrt:
        np.testing.assert_allclose(cotangents[i], gradient(f, args, i), rtol=1e-7, atol=1e-9)


def test_posteriors_of_the_vectorized_hmm_sum_to_one():
    """The gradient of log Z w.r.t. the log emissions is the posterior marginals."""
    from fixtures.aliasing import hmm_vectorized
    rng = np.random.default_rng(3)
    E, A = rng.normal(size=(6, 4)), rng.normal(size=(4, 4))
    posteriors = srcgrad.grad(hmm_vectorized)(E, A)
    np.testing.assert_allclose(posteriors.sum(axis=1), np.ones(6), rtol=1e-12)
    assert (posteriors > 0).all()


# -- the verifier --------------------------------------------------------------
LOC = Loc("<test>", 1, 0, "x")


def _fn(body, returns):
    return ir.Function("f", (ir.Var("x"),), body, returns, LOC)


def _stmt(target, op, *args):
    return ir.Stmt(ir.Var(target), op, tuple(ir.Var(a) if isinstance(a, str) else ir.Const(a)
                                              for a in args), LOC)


def test_verifier_rejects_a_read_after_an_in_place_update_of_a_copy():
    body = [_stmt("a", "add", "x", "x"), _stmt("b", "copy", "a"),
            _stmt("b_1", "iadd", "b", "x"), _stmt("c", "mul", "a", "b_1")]
    fn = _fn(body, (ir.Var("c"),))
    with pytest.raises(InternalError, match="changed in place"):
        verify_storage.check(fn, lambda v: v.name, lambda v: False)


def test_verifier_rejects_a_read_after_the_variable_is_reassigned():
    body = [_stmt("a", "add", "x", "x"), _stmt("a_1", "mul", "a", "x"),
            _stmt("c", "mul", "a", "a_1")]
    fn = _fn(body, (ir.Var("c"),))
    shared = {"a_1": "a"}
    with pytest.raises(InternalError, match="reassigned"):
        verify_storage.check(fn, lambda v: shared.get(v.name, v.name), lambda v: False)
    verify_storage.check(fn, lambda v: v.name, lambda v: False)  # own variables: fine


def test_verifier_sees_the_next_iteration_of_a_loop():
    """``a`` is defined before the loop, read in it, and updated in place after the
    read: the second iteration reads the changed buffer."""
    body = [_stmt("a", "add", "x", "x"),
            ir.Loop(ir.Var("i"), (ir.Const(3),), [], [_stmt("r", "mul", "a", "x"),
                                                     _stmt("a_1", "iadd", "a", "x")], LOC)]
    fn = _fn(body, (ir.Var("x"),))
    with pytest.raises(InternalError, match="changed in place"):
        verify_storage.check(fn, lambda v: v.name, lambda v: False)


@pytest.mark.parametrize("f", [straight_line, two_accumulators])
def test_verifier_catches_the_shared_buffer_class(monkeypatch, f):
    """With ownership no longer exclusive (the old rule), the verifier refuses the
    derivative instead of letting a wrong gradient out."""
    monkeypatch.setattr(SweepState, "is_owned",
                        lambda self, o: isinstance(o, ir.Var) and o.name in self.owned)
    fresh = types.FunctionType(f.__code__, f.__globals__, f.__name__)  # not cached yet
    x = np.array([0.4, 0.2, 1.1])
    with pytest.raises(InternalError, match="storage"):
        srcgrad.grad(fresh)(x, x)


# -- iterating over an array the loop changes ------------------------------------
@pytest.mark.parametrize("f, make", [pytest.param(f, m, id=f.__name__)
                                     for f, m in aliasing.ITERATED])
def test_rows_are_read_from_the_array_as_the_loop_left_it(f, make):
    args = make()
    value, g = srcgrad.value_and_grad(f)(*args)
    assert value == f(*[np.copy(a) for a in args])
    np.testing.assert_allclose(g, gradient(f, args, 0), rtol=1e-7, atol=1e-9)
    tangent = np.ones_like(args[0])
    _, dout = srcgrad.jvp(f, args, (tangent, *(np.zeros_like(a) for a in args[1:])))
    np.testing.assert_allclose(dout, np.sum(g * tangent), rtol=1e-9)


@pytest.mark.parametrize("f, arg", [(aliasing.appends_while_iterating, 0.5),
                                    (aliasing.rebinds_and_writes_while_iterating,
                                     np.ones((2, 2)))])
def test_changing_what_a_loop_iterates_in_two_ways_is_refused(f, arg):
    with pytest.raises(srcgrad.SrcgradError, match="while iterating over it") as info:
        srcgrad.grad(f)(arg)
    assert not isinstance(info.value, InternalError)
    assert "aliasing.py:" in str(info.value)


@pytest.mark.parametrize("f", [aliasing.write_through_alias,
                               aliasing.add_in_place_through_alias])
def test_writes_through_an_alias_are_refused_in_both_modes(f):
    x = np.array([0.4, 0.2, 1.1])
    for call in (lambda: srcgrad.grad(f)(x), lambda: srcgrad.jvp(f, (x,), (np.ones(3),))):
        with pytest.raises(srcgrad.SrcgradError) as info:
            call()
        assert not isinstance(info.value, InternalError)
        assert "aliasing.py:" in str(info.value)


# -- views held across a write ---------------------------------------------------------
X23 = np.array([[0.3, -0.2, 0.5], [0.7, 0.1, -0.4]])
Y3 = np.array([0.5, -1.0, 2.0])


@pytest.mark.parametrize("f", aliasing.VIEWS_CHANGED, ids=lambda f: f.__name__)
def test_a_write_changing_a_view_still_used_is_refused(f):
    for call in (lambda: srcgrad.grad(f)(X23, Y3),
                 lambda: srcgrad.jvp(f, (X23, Y3), (np.ones((2, 3)), np.zeros(3)))):
        with pytest.raises(srcgrad.UnsupportedSyntax, match="view read earlier") as info:
            call()
        assert "aliasing.py:" in str(info.value)


@pytest.mark.parametrize("f", [aliasing.view_then_other_row_written,
                               aliasing.view_then_other_entries_picked_written],
                         ids=lambda f: f.__name__)
def test_a_view_of_rows_the_loop_does_not_write_is_followed(f):
    X = np.array([[0.3, -0.2, 0.5], [0.7, 0.1, -0.4], [0.2, 0.6, -0.9]])
    value, (gx, gy) = srcgrad.value_and_grad(f, wrt=(0, 1))(X, Y3)
    assert value == f(X, Y3)
    np.testing.assert_allclose(gx, gradient(f, (X, Y3), 0), rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(gy, gradient(f, (X, Y3), 1), rtol=1e-7, atol=1e-9)
    _, dot = srcgrad.jvp(f, (X, Y3), (np.ones((3, 3)), np.zeros(3)))
    np.testing.assert_allclose(dot, gx.sum(), rtol=1e-9)


@pytest.mark.parametrize("f", [aliasing.snapshot_then_write,
                               aliasing.snapshot_then_write_while], ids=lambda f: f.__name__)
def test_hessian_vector_product_through_written_arrays(f):
    x = np.array([-1.13, -0.79, -0.46, -0.13])
    y = np.array([0.2, 0.5, 0.8, 1.2])
    v = np.array([0.3, -0.2, 0.5, 0.1])
    hv = srcgrad.hvp(f)(x, y, v)
    want = directional(lambda t: srcgrad.grad(f)(t, y), (x,), (v,))
    np.testing.assert_allclose(hv, want, rtol=1e-7, atol=1e-8)


def test_contributions_through_helpers_hold_their_operand():
    from srcgrad import build, optimize

    f = aliasing.reduced_and_indexed
    x, y = np.ones((2, 3)), np.array([0.625, 0.9175, 1.21])
    d = build._entry(f).derivative((0, 1), "one", ("any", "any"), (), ((2, 3), (3,)),
                                   disabled=frozenset(optimize.PASSES))
    _, gx, gy = build._call(d, (x, y))
    np.testing.assert_allclose(gy, gradient(f, (x, y), 1), rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(gx, np.ones((2, 3)))
