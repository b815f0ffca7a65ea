"""Checkpointing's memory and time: a long scalar recurrence and a recurrence on
vectors, differentiated with the tape (one entry per step), with a snapshot every
ceil(sqrt(T)) steps (``checkpoint="auto"``) and with k binomial snapshots
(``checkpoint=k``). "forward runs per step" counts every run of the loop's body
(first sweep, recomputations, the taped run) over T; "bound" is what the schedule
promises: r + 1 for k snapshots (r the least with C(k + r, k) >= T), 2 for the
periodic one.

Not a test: ``make bench`` runs it after ``run.py``; ``python bench/checkpointing.py
[--steps T]`` alone. It prints a table and writes ``bench/checkpointing.md``. Peak
memory is tracemalloc's during one gradient call (the derivative built before, so
only the run is measured); time is one call's, without tracemalloc. Every
gradient is checked against the taped one first (relative 1e-10).
"""

from __future__ import annotations

import argparse
import time
import tracemalloc
from pathlib import Path

import numpy as np

import srcgrad
from srcgrad.runtime import checkpoints

HERE = Path(__file__).parent


def scalar_recurrence(w, x0, T):
    x = x0
    for t in range(T):
        x = np.sin(w * x) + 0.001 * (t % 7)
    return x * x


def vector_recurrence(W, xs, h0):
    h = h0
    for t in range(xs.shape[0]):
        h = np.tanh(W @ h + xs[t])
    return np.sum(h * h)


def _runs(f, args) -> float | None:
    """Iterations run forward (first sweep, recomputations, taped runs) per iteration,
    counted by the checkpointed loop's plan (None: no checkpointed loop)."""
    made: list = []
    init = checkpoints.Checkpoints.__init__

    def record(self, *a, **kw):
        init(self, *a, **kw)
        made.append(self)

    checkpoints.Checkpoints.__init__ = record  # type: ignore[method-assign]
    try:
        f(*args)
    finally:
        checkpoints.Checkpoints.__init__ = init  # type: ignore[method-assign]
    return made[0].runs / made[0].n if made else None


def _bound(policy, T: int) -> str:
    if policy is None:
        return "1"
    if policy == "auto":
        return "2"
    return str(checkpoints._repetitions(T, policy) + 1)


def _measure(f, args):
    f(*args)  # built (per argument shapes) outside the measurement
    start = time.perf_counter()
    g = f(*args)
    seconds = time.perf_counter() - start
    tracemalloc.start()
    f(*args)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return g, seconds, peak


def run(steps: int) -> list[str]:
    rng = np.random.default_rng(0)
    n = 100
    cases = [
        (f"scalar recurrence, T = {steps:,}", scalar_recurrence, (0.9, 0.3, steps)),
        (f"tanh(W @ h + x[t]), h of {n}, T = {steps // 10:,}", vector_recurrence,
         (rng.normal(size=(n, n)) / np.sqrt(n), rng.normal(size=(steps // 10, n)),
          np.zeros(n))),
    ]
    rows = ["| workload | gradient | time (s) | x taped | peak memory (MB) | x taped | "
            "forward runs per step | bound |", "|---|---|---:|---:|---:|---:|---:|---:|"]
    for name, f, args in cases:
        base = None
        for label, policy in (("taped", None), ("checkpoint='auto'", "auto"),
                              ("checkpoint=100", 100), ("checkpoint=20", 20)):
            grad = srcgrad.grad(f, checkpoint=policy)
            g, seconds, peak = _measure(grad, args)
            if base is None:
                base = (g, seconds, peak)
            else:
                np.testing.assert_allclose(g, base[0], rtol=1e-10)
            runs = _runs(grad, args)
            T = args[2] if isinstance(args[2], int) else args[1].shape[0]
            rows.append(f"| {name} | {label} | {seconds:.2f} | {seconds / base[1]:.2f} | "
                        f"{peak / 1e6:.2f} | {peak / base[2]:.4f} | "
                        f"{1.0 if runs is None else runs:.2f} | {_bound(policy, T)} |")
            print(rows[-1], flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1_000_000)
    steps = parser.parse_args().steps
    rows = run(steps)
    text = ("# Checkpointing: memory and time\n\nWritten by `bench/checkpointing.py` "
            "(`make bench`). Peak memory is tracemalloc's during one gradient call; time "
            "one call's (a second one, the derivative built). 2 shared cores.\n\n"
            + "\n".join(rows) + "\n")
    (HERE / "checkpointing.md").write_text(text)


if __name__ == "__main__":
    main()
