"""The max-shift of log-sum-exp (issue 16): ``m = np.max(v, ...)`` then
``m + np.log(np.sum(np.exp(v - m), ...))`` has no derivative through ``m`` (the value
does not depend on it), and the ``lse`` pass (optimize/shifts.py) differentiates it
as the softmax; so for the soft-min, ``lo - g * np.log(np.sum(np.exp(-(r - lo) / g)))``
with ``lo = np.min(r)``. Checked here, for every program of fixtures/lse_programs.py, with the
rewrite and without it (``disabled={"lse"}``): the gradient against Richardson central
differences (tests/numeric.py), both against each other, with ties among the maxima
too; the rewrite applies exactly where the value cannot depend on the shift (its
code has no ``argmax_mask``), and forward mode agrees along a direction.
"""

from __future__ import annotations

import hmm  # examples/ is on the path (tests/conftest.py)
import numpy as np
import pytest
from fixtures import lse_programs as P
from fixtures import programs
from numeric import directional, gradient

import srcgrad
from srcgrad.build import _entry, _kind

rng = np.random.default_rng(16)


def r(*shape):
    return rng.normal(size=shape)


REWRITTEN = [
    (P.lse_all, (r(4, 3),)),
    (P.lse_columns, (r(4, 3), r(3))),
    (P.lse_rows_kept, (r(4, 3), r(4))),
    (P.lse_rows_both_kept, (r(4, 3), r(4, 1))),
    (hmm.log_partition, (r(3), r(3, 3), r(5, 3))),
    (P.soft_min_table, (r(4), r(3), 0.7)),
    (programs.soft_edit_distance, (r(4), r(3), 0.7)),
    (P.soft_max_scaled, (r(4, 3), 0.6)),
]
LEFT = [
    (P.max_used_too, (r(5),)),
    (P.softmax_reads_the_exponentials, (r(5), r(5))),
    (P.shift_by_another_axis, (r(3, 3),)),
    (P.sum_over_other_axis, (r(3, 4),)),
    (P.shift_of_another_array, (r(4), r(3))),
    (P.sign_mismatch, (r(5), 0.8)),
    (P.scale_mismatch, (r(5), 0.8, 1.3)),
]


def _floats(args: tuple) -> tuple[int, ...]:
    return tuple(i for i, a in enumerate(args) if isinstance(a, (float, np.ndarray)))


def _gradients(f, args, lse: bool) -> tuple:
    wrt = _floats(args)
    d = _entry(f).derivative(wrt, "one", tuple(map(_kind, args)),
                             disabled=None if lse else frozenset({"lse"}))
    return tuple(d.fn(*[np.array(a) if isinstance(a, np.ndarray) else a for a in args])[1:])


def _ids(rows):
    return [f.__name__ for f, _ in rows]


@pytest.mark.parametrize("f, args", REWRITTEN + LEFT, ids=_ids(REWRITTEN + LEFT))
@pytest.mark.parametrize("lse", [True, False], ids=["rewrite", "as-written"])
def test_gradient_against_central_differences(f, args, lse):
    for i, g in zip(_floats(args), _gradients(f, args, lse)):
        np.testing.assert_allclose(g, gradient(f, args, i), rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("f, args", REWRITTEN, ids=_ids(REWRITTEN))
def test_rewrite_and_written_code_agree(f, args):
    for on, off in zip(_gradients(f, args, True), _gradients(f, args, False)):
        np.testing.assert_allclose(on, off, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("f, args", REWRITTEN, ids=_ids(REWRITTEN))
def test_the_max_is_not_differentiated(f, args):
    source = srcgrad.derivative_source(f, wrt=_floats(args), example=args)
    assert "argmax_mask" not in source and "stop_gradient" not in source, source
    assert "argmax_mask" in srcgrad.derivative_source(f, wrt=_floats(args), example=args,
                                                      optimized=False)


@pytest.mark.parametrize("f, args", LEFT, ids=_ids(LEFT))
def test_other_uses_of_a_max_are_differentiated(f, args):
    assert "argmax_mask" in srcgrad.derivative_source(f, wrt=_floats(args), example=args)
    # (and the written code's gradient is right: test_gradient_against_central_differences)


def test_ties_among_the_maxima():
    """Equal maxima: the softmax is smooth there; both codes match the differences."""
    v = np.array([[1.0, 2.0, 2.0], [0.5, 0.5, -1.0]])
    w = np.array([0.3, -1.2])
    for lse in (True, False):
        (gv, gw) = _gradients(P.lse_rows_kept, (v, w), lse)
        np.testing.assert_allclose(gv, gradient(P.lse_rows_kept, (v, w), 0), rtol=1e-7,
                                   atol=1e-9)


@pytest.mark.parametrize("f, args", REWRITTEN[:5], ids=_ids(REWRITTEN[:5]))
def test_forward_mode_along_a_direction(f, args):
    tangents = tuple(r(*np.shape(a)) if isinstance(a, np.ndarray) else 0.0 for a in args)
    _, got = srcgrad.jvp(f, args, tangents)
    np.testing.assert_allclose(got, directional(f, args, tangents), rtol=1e-7, atol=1e-9)


def test_switched_off_by_name(monkeypatch):
    monkeypatch.setenv("SRCGRAD_DISABLE", "lse")
    from fixtures import lse_programs

    source = srcgrad.derivative_source(lse_programs.lse_all, example=(r(3),))
    assert "argmax_mask" in source
