"""The benchmark's workloads: each a primal function written as a user would, a
gradient written by hand with NumPy by someone careful, its arguments and what
to differentiate.

srcgrad differentiates the primal as written; the peers' versions of the same
functions are in ``peers.py``. Every gradient in the suite is checked against
the hand-written one here before it is timed.
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples"))
import cky  # noqa: E402 - the examples are the workloads
import hmm  # noqa: E402


@dataclass(eq=False)
class Workload:
    key: str  # names the peers' versions in peers.py
    name: str  # as printed
    primal: Callable
    hand: Callable  # returns the gradient for ``wrt``: one value, or a tuple in wrt's order
    make_args: Callable[[np.random.Generator], tuple]
    wrt: tuple[int, ...]
    slow_peers: bool = False  # long explicit loops: per-op overhead dominates, cap repeats
    # Wraps a function of the primal's signature (the primal itself, the hand-written
    # gradient, srcgrad's, each peer's) into what is timed and checked, called with
    # make_args' values: e.g. the user's Python loop over examples around one gradient
    # function. Applied to every implementation alike, so each pays the same loop.
    driver: Callable[[Callable], Callable] | None = None

    def drive(self, fn: Callable) -> Callable:
        """What is timed for ``fn``: ``fn`` itself, or the driver's loop around it."""
        return fn if self.driver is None else self.driver(fn)


# ---- the lecture function, on floats ----------------------------------------
def lecture(x, y, z):
    return math.sin(x**2 + y * math.exp(z)) + z


def lecture_hand(x, y, z):
    e = math.exp(z)
    c = math.cos(x * x + y * e)
    return c * 2 * x, c * e, c * y * e + 1.0


# ---- a 1000-step scalar recurrence, on floats ---------------------------------
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


# ---- log-linear model: softmax cross-entropy -----------------------------------
def softmax_xent(W, X, Y):
    scores = X @ W
    logz = np.log(np.sum(np.exp(scores), axis=1))
    return np.mean(logz - np.sum(scores * Y, axis=1))


def softmax_xent_hand(W, X, Y):
    scores = X @ W
    p = np.exp(scores)
    p /= np.sum(p, axis=1, keepdims=True)
    return X.T @ ((p - Y) / X.shape[0])


def softmax_args(rng):
    X = rng.normal(size=(1000, 100))
    Y = np.eye(10)[rng.integers(0, 10, size=1000)]
    return rng.normal(size=(100, 10)) * 0.1, X, Y


# ---- 2-layer tanh MLP ------------------------------------------------------------
def mlp(W1, W2, X, Y):
    h = np.tanh(X @ W1)
    out = h @ W2
    return 0.5 * np.mean(np.sum((out - Y) ** 2, axis=1))


def mlp_hand(W1, W2, X, Y):
    h = np.tanh(X @ W1)
    d_out = (h @ W2 - Y) / X.shape[0]
    d_h = (d_out @ W2.T) * (1 - h * h)
    return X.T @ d_h, h.T @ d_out


def mlp_args(rng):
    return (rng.normal(size=(784, 256)) * 0.05, rng.normal(size=(256, 10)) * 0.1,
            rng.normal(size=(256, 784)), rng.normal(size=(256, 10)))


# ---- CKY inside algorithm ----------------------------------------------------------
def cky_hand(log_binary, log_unary, words):
    """The inside pass as in ``cky.log_partition``, then its adjoint (the outside pass)
    in log space with the same loops, recomputing each cell's scores instead of storing
    them. (``cky.inside_outside``, the probability-space version with einsum, is a
    different, vectorized algorithm: it is the check, not the reference cost.)"""
    n = len(words)
    N = log_binary.shape[0]
    chart = np.zeros((n, n + 1, N))
    for i in range(n):
        chart[i, i + 1] = log_unary[:, words[i]]
    for length in range(2, n + 1):
        for i in range(n - length + 1):
            k = i + length
            for A in range(N):
                scores = np.zeros((length - 1, N, N))
                for j in range(i + 1, k):
                    scores[j - i - 1] = log_binary[A] + chart[i, j][:, None] + chart[j, k][None, :]
                m = np.max(scores)
                chart[i, k, A] = m + np.log(np.sum(np.exp(scores - m)))
    d_chart = np.zeros_like(chart)
    d_chart[0, n, 0] = 1.0
    d_binary = np.zeros_like(log_binary)
    for length in range(n, 1, -1):
        for i in range(n - length + 1):
            k = i + length
            for A in range(N):
                g = d_chart[i, k, A]
                if g == 0.0:
                    continue
                for j in range(i + 1, k):
                    w = g * np.exp(log_binary[A] + chart[i, j][:, None] + chart[j, k][None, :]
                                   - chart[i, k, A])
                    d_binary[A] += w
                    d_chart[i, j] += np.sum(w, axis=1)
                    d_chart[j, k] += np.sum(w, axis=0)
    d_unary = np.zeros_like(log_unary)
    for i in range(n):
        d_unary[:, words[i]] += d_chart[i, i + 1]
    return d_binary, d_unary


# ---- 200 small-array operations: per-operation overhead -------------------------
def small_ops(w, x):
    h = x
    for _ in range(50):
        h = np.tanh(w * h + 0.5 * h)  # four operations on 10-vectors
    return np.sum(h * h)


def small_ops_hand(w, x):
    hs = []
    h = x
    for _ in range(50):
        hs.append(h)
        h = np.tanh(w * h + 0.5 * h)
    dh = 2 * h
    dw = np.zeros_like(w)
    for h_prev in reversed(hs):
        t = np.tanh(w * h_prev + 0.5 * h_prev)
        da = dh * (1 - t * t)
        dw += da * h_prev
        dh = da * (w + 0.5)
    return dw, dh


def small_ops_args(rng):
    return rng.normal(size=10) * 0.5, rng.normal(size=10)


# ---- gradient vs finite differences as the input grows ---------------------------
def chain(x):
    """A smooth function of n inputs whose every input matters."""
    return np.sum(np.log(1 + np.exp(x[1:] * x[:-1]))) + 0.5 * np.sum(x * x)


def chain_hand(x):
    s = 1 / (1 + np.exp(-(x[1:] * x[:-1])))
    g = x.copy()
    g[1:] += s * x[:-1]
    g[:-1] += s * x[1:]
    return g


def central_differences(f, x, h=1e-6):
    """The gradient by central differences: 2n evaluations of f."""
    g = np.empty_like(x)
    for i in range(x.size):
        old = x[i]
        x[i] = old + h
        up = f(x)
        x[i] = old - h
        down = f(x)
        x[i] = old
        g[i] = (up - down) / (2 * h)
    return g


FD_SIZES = (10, 100, 1000)


WORKLOADS = [
    Workload("lecture", "lecture fn, floats", lecture, lecture_hand,
             lambda rng: (2.0, -1.0, 0.0), (0, 1, 2)),
    Workload("recurrence", "scalar recurrence, 1000 steps", recurrence, recurrence_hand,
             lambda rng: (0.3, 1.0), (0, 1), slow_peers=True),
    Workload("softmax", "softmax x-ent 1000x100, 10 classes", softmax_xent, softmax_xent_hand,
             softmax_args, (0,)),
    Workload("mlp", "tanh MLP 784-256-10, batch 256", mlp, mlp_hand, mlp_args, (0, 1)),
    Workload("hmm", "HMM forward, T=200, K=20", hmm.log_partition, hmm.forward_backward,
             lambda rng: hmm.example(200, 20, 0), (2,), slow_peers=True),
    Workload("cky", "CKY inside, n=12, N=8", cky.log_partition, cky_hand,
             lambda rng: cky.example(12, 8, 10, 0), (0, 1), slow_peers=True),
    Workload("small_ops", "200 ops on 10-vectors", small_ops, small_ops_hand,
             small_ops_args, (0, 1), slow_peers=True),
]


# ---- transform time: a 50-line function as a user would write it -----------------
def fifty_lines(params, X, y, steps):
    """A small model fitted by a few steps of its own inner loop, then scored."""
    W1 = params[0]
    b1 = params[1]
    W2 = params[2]
    n = X.shape[0]
    h = np.tanh(X @ W1 + b1)
    scores = h @ W2
    m = np.max(scores, axis=1, keepdims=True)
    logz = m[:, 0] + np.log(np.sum(np.exp(scores - m), axis=1))
    picked = np.sum(scores * y, axis=1)
    nll = np.mean(logz - picked)
    # a smoothness penalty over the hidden units, with a loop and a branch
    penalty = 0.0
    for j in range(1, h.shape[1]):
        d = h[:, j] - h[:, j - 1]
        if j % 2 == 0:
            penalty = penalty + np.mean(d * d)
        else:
            penalty = penalty + 0.5 * np.mean(np.abs(d))
    # a scalar recurrence driven by the loss, as in a learning-rate schedule
    rate = 0.1
    total = 0.0
    for _ in range(steps):
        rate = rate * 0.9 + 0.01 * math.tanh(nll)
        total = total + rate * nll
    # a weight decay written term by term
    decay = 0.0
    for W in [W1, W2]:
        decay = decay + np.sum(W * W)
    decay = decay + np.sum(b1 * b1)
    # clipped and softened terms
    margin = np.clip(picked - logz + 1.0, 0.0, None)
    hinge = np.mean(margin * margin)
    soft = np.sum(np.log1p(np.exp(-np.abs(scores)))) / n
    stats = np.mean(h, axis=0)
    spread = np.sqrt(np.mean((h - stats) ** 2) + 1e-8)
    if spread > 1.0:
        spread_term = spread - 1.0
    else:
        spread_term = 0.0
    entropy = 0.0
    p = np.exp(scores - logz[:, None])
    entropy = -np.mean(np.sum(p * np.log(p + 1e-12), axis=1))
    loss = nll + 0.01 * penalty + 0.001 * decay + 0.1 * hinge
    loss = loss + 0.01 * soft + 0.1 * spread_term + 0.01 * entropy
    loss = loss + 0.001 * total
    return loss


def fifty_lines_args(rng):
    X = rng.normal(size=(32, 8))
    y = np.eye(4)[rng.integers(0, 4, size=32)]
    params = [rng.normal(size=(8, 16)) * 0.3, np.zeros(16), rng.normal(size=(16, 4)) * 0.3]
    return params, X, y, 5
