"""A long recurrence in little memory: checkpointed loops.

``loss`` runs a small recurrent network over a long sequence. Its gradient keeps,
for every step, the values the backward pass needs (the tape): memory grows with
the sequence. Marked with ``srcgrad.checkpointed``, the same loop keeps a few
snapshots of its state instead, and the backward pass recomputes the steps
between them (Griewank's binomial schedule, "revolve").

Run it to see both gradients agree, their peak memory and time, and the
generated code of the checkpointed one: the forward loop taking snapshots, then
a loop over segments that restores a snapshot, recomputes, records and reverses.
"""

import time
import tracemalloc

import numpy as np

import srcgrad


def loss(W, U, xs, h0):
    """Sum over the steps of a recurrent network's squared state."""
    h = h0
    total = 0.0
    for t in srcgrad.checkpointed(range(xs.shape[0]), snapshots=10):
        h = np.tanh(W @ h + U * xs[t])
        total = total + np.sum(h * h)
    return total


def taped_loss(W, U, xs, h0):
    """The same loop, not marked: one tape entry per step."""
    h = h0
    total = 0.0
    for t in range(xs.shape[0]):
        h = np.tanh(W @ h + U * xs[t])
        total = total + np.sum(h * h)
    return total


def example(T=20_000, n=32, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.normal(size=(n, n)) / np.sqrt(n), rng.normal(size=n),
            rng.normal(size=T), np.zeros(n))


def measure(f, args):
    """(gradient, seconds, peak bytes) of one call, built beforehand."""
    f(*args)
    start = time.perf_counter()
    g = f(*args)
    seconds = time.perf_counter() - start
    tracemalloc.start()
    f(*args)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return g, seconds, peak


def main():
    args = example()
    g_taped, t_taped, m_taped = measure(srcgrad.grad(taped_loss), args)
    g, t, m = measure(srcgrad.grad(loss), args)
    assert np.allclose(g, g_taped, rtol=1e-12, atol=1e-14)
    print(f"T = {args[2].shape[0]} steps, state of {args[3].shape[0]}")
    print(f"taped:        {t_taped:6.2f} s, peak {m_taped / 1e6:6.2f} MB")
    print(f"checkpointed: {t:6.2f} s, peak {m / 1e6:6.2f} MB  (10 snapshots)")
    print()
    print(srcgrad.derivative_source(loss))


if __name__ == "__main__":
    main()
