"""The benchmark's references: every workload's hand-written gradient against central
finite differences (Richardson-extrapolated, on a few coordinates of each argument
differentiated), and srcgrad's gradient against the hand-written one with the bench's
own check (``run.mismatch``, its RTOL). The hand-written gradients are what the bench
checks every implementation against before timing it, so they are checked here
independently of srcgrad.

Workloads with a driver (a loop over examples) are checked through it: the finite
differences are those of the driven primal (the sum of the per-example losses).
"""

from __future__ import annotations

import os
import sys

import numpy as np
import pytest

BENCH = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "bench")
if BENCH not in sys.path:
    sys.path.insert(0, BENCH)

import run  # noqa: E402
import workloads  # noqa: E402
import workloads_sizes  # noqa: E402

import srcgrad  # noqa: E402

WORKLOADS = {w.key: w for w in workloads_sizes.ALL}
COORDINATES = 3  # per array or list argument: the cost is 4 driven primal calls each


def _args(key: str) -> tuple:
    """The workload's own arguments, but a list of 100 floats, not 1,000, for the list
    recurrence: srcgrad's first call on the 1,000-float list takes about 10 s under the
    tests' storage verifier (SRCGRAD_VERIFY=1; 0.7 s without), too slow for this file.
    The bench itself checks the full size before timing."""
    args = WORKLOADS[key].make_args(np.random.default_rng(0))
    if key == "list_rnn":
        return args[0], args[1][:100]
    return args


def _replace(args: tuple, index: int, value) -> tuple:
    return args[:index] + (value,) + args[index + 1:]


def _perturbed(arg, where, step: float):
    """``arg`` with the coordinate ``where`` moved by ``step`` (a copy; None: a float)."""
    if where is None:
        return arg + step
    if isinstance(arg, list):
        out = list(arg)
        out[where] += step
        return out
    out = np.array(arg, dtype=np.float64)
    out.flat[where] += step
    return out


def _richardson(f, args: tuple, index: int, where, h: float = 1e-3) -> float:
    """d f / d args[index][where]: central differences at h and h/2, extrapolated
    (the h**2 error term cancels; h**4 remains)."""

    def central(step):
        up = f(*_replace(args, index, _perturbed(args[index], where, step)))
        down = f(*_replace(args, index, _perturbed(args[index], where, -step)))
        return (up - down) / (2 * step)

    return (4 * central(h / 2) - central(h)) / 3


def _coordinates(arg, rng) -> list:
    if isinstance(arg, float):
        return [None]
    size = len(arg) if isinstance(arg, list) else np.asarray(arg).size
    return sorted(rng.choice(size, size=min(COORDINATES, size), replace=False).tolist())


def _entry(grad, where) -> float:
    if where is None:
        return float(grad)
    if isinstance(grad, list):
        return float(grad[where])
    return float(np.asarray(grad).flat[where])


@pytest.mark.parametrize("key", list(WORKLOADS))
def test_hand_gradient_matches_finite_differences(key: str) -> None:
    w = WORKLOADS[key]
    args = _args(key)
    f = w.drive(w.primal)
    hand = run.as_tuple(w.drive(w.hand)(*args))
    assert len(hand) == len(w.wrt)
    rng = np.random.default_rng(1)
    for grad, index in zip(hand, w.wrt):
        scale = max(1.0, float(np.max(np.abs(np.asarray(grad, dtype=np.float64)))))
        for where in _coordinates(args[index], rng):
            fd = _richardson(f, args, index, where)
            want = _entry(grad, where)
            assert abs(fd - want) <= 1e-6 * scale, (key, index, where, fd, want)


@pytest.mark.parametrize("key", list(WORKLOADS))
def test_srcgrad_matches_hand_gradient(key: str) -> None:
    w = WORKLOADS[key]
    args = _args(key)
    g = srcgrad.grad(w.primal, wrt=w.wrt if len(w.wrt) > 1 else w.wrt[0])
    got = run.as_tuple(w.drive(g)(*args))
    want = run.as_tuple(w.drive(w.hand)(*args))
    assert run.mismatch(got, want) == ""


def test_chain_hand_gradient_matches_finite_differences() -> None:
    """The finite-differences section's function (its hand gradient is its reference)."""
    x = np.random.default_rng(2).normal(size=30)
    want = workloads.chain_hand(x)
    for where in (0, 13, 29):
        fd = _richardson(workloads.chain, (x,), 0, where)
        assert abs(fd - want[where]) <= 1e-6 * max(1.0, float(np.max(np.abs(want))))
    assert run.mismatch(run.as_tuple(srcgrad.grad(workloads.chain)(x)), (want,)) == ""

