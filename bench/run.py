"""A first benchmark: gradient cost relative to the function and to a hand-written gradient.

Not a test: ``make bench`` prints a table. Each gradient is first checked
against the hand-written one; a wrong gradient is reported, never timed.
Times are medians of 9 interleaved repeats, all measured in one run of this script.
"""

from __future__ import annotations

import math
import os
import statistics
import sys
import timeit

import numpy as np

import srcgrad

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples"))
import hmm  # noqa: E402 - the example is the workload


# ---- workloads, written as a user would ------------------------------------
def lecture(x, y, z):
    return math.sin(x**2 + y * math.exp(z)) + z


def lecture_hand(x, y, z):
    e = math.exp(z)
    c = math.cos(x * x + y * e)
    return (c * 2 * x, c * e, c * y * e + 1.0)


def recurrence(x, a):
    for _ in range(1000):
        x = a * math.sin(x) + 0.1 * x
    return x


def recurrence_hand(x, a):
    xs = []
    for _ in range(1000):
        xs.append(x)
        x = a * math.sin(x) + 0.1 * x
    dx, da = 1.0, 0.0
    for x in reversed(xs):
        da += dx * math.sin(x)
        dx = dx * (a * math.cos(x) + 0.1)
    return dx, da


def hmm_hand(log_init, log_trans, log_emit):
    return hmm.forward_backward(log_init, log_trans, log_emit)


def softmax_xent(W, X, Y):
    scores = X @ W
    logz = np.log(np.sum(np.exp(scores), axis=1))
    return np.mean(logz - np.sum(scores * Y, axis=1))


def softmax_xent_hand(W, X, Y):
    scores = X @ W
    p = np.exp(scores)
    p /= np.sum(p, axis=1, keepdims=True)
    return X.T @ ((p - Y) / X.shape[0])


def mlp(W1, W2, X, Y):
    h = np.tanh(X @ W1)
    out = h @ W2
    return 0.5 * np.mean(np.sum((out - Y) ** 2, axis=1))


def mlp_hand(W1, W2, X, Y):
    h = np.tanh(X @ W1)
    d_out = (h @ W2 - Y) / X.shape[0]
    d_h = (d_out @ W2.T) * (1 - h * h)
    return X.T @ d_h, h.T @ d_out


def _median_times(fns, args, number, repeat=9):
    """Median seconds per call of each function, runs interleaved so that the
    machine's drift hits every function alike."""
    runs = [[] for _ in fns]
    for _ in range(repeat):
        for times, fn in zip(runs, fns):
            times.append(timeit.timeit(lambda fn=fn: fn(*args), number=number) / number)
    return [statistics.median(t) for t in runs]


def main() -> int:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(1000, 100))
    Y = np.eye(10)[rng.integers(0, 10, size=1000)]
    Xm = rng.normal(size=(256, 784))
    Ym = rng.normal(size=(256, 10))
    cases = [
        ("lecture, floats", lecture, lecture_hand, (2.0, -1.0, 0.0), (0, 1, 2), 20000),
        ("scalar recurrence, 1000 steps", recurrence, recurrence_hand, (0.3, 0.8), (0, 1),
         200),
        ("HMM forward, 200 steps, 20 states", hmm.log_partition, hmm_hand,
         hmm.example(200, 20, 0), 2, 20),
        ("softmax x-entropy 1000x100, 10 classes", softmax_xent, softmax_xent_hand,
         (rng.normal(size=(100, 10)) * 0.1, X, Y), 0, 50),
        ("tanh MLP 784-256-10, batch 256", mlp, mlp_hand,
         (rng.normal(size=(784, 256)) * 0.05, rng.normal(size=(256, 10)) * 0.1, Xm, Ym),
         (0, 1), 20),
    ]
    print(f"{'workload':42} {'f':>10} {'hand grad':>10} {'srcgrad':>10} "
          f"{'srcgrad/f':>10} {'srcgrad/hand':>13}")
    for name, f, hand, args, wrt, number in cases:
        g = srcgrad.grad(f, wrt=wrt)
        ours, theirs = g(*args), hand(*args)
        ours = ours if isinstance(ours, tuple) else (ours,)
        theirs = theirs if isinstance(theirs, tuple) else (theirs,)
        if not all(np.allclose(a, b, rtol=1e-9, atol=1e-12) for a, b in zip(ours, theirs)):
            print(f"{name:42} WRONG GRADIENT (not timed)")
            continue
        tf, th, tg = _median_times((f, hand, g), args, number)
        print(f"{name:42} {tf * 1e6:8.1f}us {th * 1e6:8.1f}us {tg * 1e6:8.1f}us "
              f"{tg / tf:10.2f} {tg / th:13.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
