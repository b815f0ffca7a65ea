"""Issue 21's workloads ("fast at every size"): small arrays, one small gradient called
in the user's own Python loop, a dynamic-programming table filled cell by cell, a
recurrence over a plain list of floats. Each has a hand-written NumPy gradient, the
reference every other gradient is checked against before it is timed (as in
``workloads.py``, whose ``Workload`` they use).

``ALL`` is the whole suite, ``workloads.WORKLOADS`` then these; the peers' versions
are in ``peers_sizes.py``.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from workloads import WORKLOADS as BASE
from workloads import Workload, softmax_xent, softmax_xent_hand


# ---- tanh(A @ x) at three sizes: where fixed per-call costs show ---------------------
def tanh_mv(A, x):
    return np.sum(np.tanh(A @ x))


def tanh_mv_hand(A, x):
    t = np.tanh(A @ x)
    return A.T @ (1 - t * t)


def tanh_mv_args(n: int) -> Callable[[np.random.Generator], tuple]:
    def make(rng):
        return rng.normal(size=(n, n)) / math.sqrt(n), rng.normal(size=n)

    return make


# ---- a per-example logistic loss, its gradient called in a loop over examples --------
def logistic_loss(w, x, y):
    return np.log(1.0 + np.exp(-y * np.dot(w, x)))


def logistic_loss_hand(w, x, y):
    z = y * np.dot(w, x)
    return (-y / (1.0 + np.exp(z))) * x


def over_examples(grad_fn: Callable) -> Callable:
    """The user's loop: the per-example gradients summed over the rows of X."""

    def loop(w, X, y):
        g = 0.0
        for i in range(len(X)):
            g += grad_fn(w, X[i], y[i])
        return g

    return loop


def per_example_args(rng):
    X = rng.normal(size=(1000, 10))
    y = np.where(rng.random(1000) < 0.5, -1.0, 1.0)
    return rng.normal(size=10) * 0.3, X, y


def softmax_small_args(rng):
    X = rng.normal(size=(10, 8))
    Y = np.eye(5)[rng.integers(0, 5, size=10)]
    return rng.normal(size=(8, 5)) * 0.1, X, Y


# ---- soft-DTW: a 50x50 table filled in place, a soft-min per cell ----------------------
def soft_dtw(x, y, gamma):
    n = x.shape[0]
    m = y.shape[0]
    D = (x[:, None] - y[None, :]) ** 2
    R = np.full((n + 1, m + 1), np.inf)
    R[0, 0] = 0.0
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            r = -np.array([R[i - 1, j - 1], R[i - 1, j], R[i, j - 1]]) / gamma
            mx = np.max(r)
            R[i, j] = D[i - 1, j - 1] - gamma * (mx + np.log(np.sum(np.exp(r - mx))))
    return R[n, m]


def soft_dtw_hand(x, y, gamma):
    """The forward table as in ``soft_dtw``, then the E-matrix recursion of Cuturi and
    Blondel (2017), E[i, j] = dR[n, m] / dR[i, j], derived here from the soft-min:
    R[k, l] = D[k-1, l-1] + softmin(R[k-1, l-1], R[k-1, l], R[k, l-1]) and
    d softmin / d a = exp((softmin - a) / gamma), softmin = R[k, l] - D[k-1, l-1].
    Each cell collects from the (up to) three cells that read it."""
    n = x.shape[0]
    m = y.shape[0]
    D = (x[:, None] - y[None, :]) ** 2
    R = np.full((n + 1, m + 1), np.inf)
    R[0, 0] = 0.0
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            r = -np.array([R[i - 1, j - 1], R[i - 1, j], R[i, j - 1]]) / gamma
            mx = np.max(r)
            R[i, j] = D[i - 1, j - 1] - gamma * (mx + np.log(np.sum(np.exp(r - mx))))
    E = np.zeros((n + 1, m + 1))
    E[n, m] = 1.0
    for i in range(n, 0, -1):
        for j in range(m, 0, -1):
            if i == n and j == m:
                continue
            r = R[i, j]
            e = 0.0
            if i < n:  # read by R[i+1, j] as its "up" neighbour
                e += E[i + 1, j] * math.exp((R[i + 1, j] - D[i, j - 1] - r) / gamma)
            if j < m:  # read by R[i, j+1] as its "left" neighbour
                e += E[i, j + 1] * math.exp((R[i, j + 1] - D[i - 1, j] - r) / gamma)
            if i < n and j < m:  # read by R[i+1, j+1] as its diagonal neighbour
                e += E[i + 1, j + 1] * math.exp((R[i + 1, j + 1] - D[i, j] - r) / gamma)
            E[i, j] = e
    # dR[n, m] / dD[i-1, j-1] = E[i, j]; dD[a, b] / dx[a] = 2 (x[a] - y[b])
    return 2 * np.sum(E[1:, 1:] * (x[:, None] - y[None, :]), axis=1)


def soft_dtw_args(rng):
    return rng.normal(size=50), rng.normal(size=50) + 0.3, 1.0


# ---- a recurrence over a plain Python list of floats -----------------------------------
def list_rnn(w, x):
    h = 0.0
    for t in range(len(x)):
        h = math.tanh(w * h + x[t])
    return h


def list_rnn_hand(w, x):
    hs = [0.0]
    h = 0.0
    for t in range(len(x)):
        h = math.tanh(w * h + x[t])
        hs.append(h)
    dw = 0.0
    dx = [0.0] * len(x)
    dh = 1.0
    for t in range(len(x) - 1, -1, -1):
        da = dh * (1.0 - hs[t + 1] * hs[t + 1])
        dx[t] = da
        dw += da * hs[t]
        dh = da * w
    return dw, dx


def list_rnn_args(rng):
    return 0.8, [float(v) for v in rng.normal(size=1000) * 0.5]


WORKLOADS = [
    *[Workload(f"tanh_mv_{n}", f"sum tanh(A @ x), n={n}", tanh_mv, tanh_mv_hand,
               tanh_mv_args(n), (1,)) for n in (10, 100, 1000)],
    Workload("per_example", "logistic loss, loop over 1000 examples", logistic_loss,
             logistic_loss_hand, per_example_args, (0,), slow_peers=True,
             driver=over_examples),
    Workload("softmax_small", "softmax x-ent 10x8, 5 classes", softmax_xent, softmax_xent_hand,
             softmax_small_args, (0,)),
    Workload("soft_dtw", "soft-DTW 50x50 table", soft_dtw, soft_dtw_hand, soft_dtw_args, (0,),
             slow_peers=True),
    Workload("list_rnn", "tanh recurrence over a list of 1000 floats", list_rnn, list_rnn_hand,
             list_rnn_args, (0, 1), slow_peers=True),
]

ALL = BASE + WORKLOADS
