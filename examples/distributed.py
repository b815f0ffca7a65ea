"""Gradient descent on data spread over a local Dask cluster, with srcgrad's gradient.

The loss is written with plain NumPy calls; given Dask arrays, ``srcgrad.grad`` returns
Dask arrays: a graph of the gradient, built without computing anything, which the
cluster's two workers compute chunk by chunk (``dask.compute``). The rows are drawn by
``dask.array.random`` on the workers, one chunk at a time, and kept there
(``persist``): no process ever holds the whole data set, this one included.

Run it (it needs the ``srcgrad[dask]`` extra) to see the dashboard's address, the loss
going down and the time per step; the last gradient is checked against the
hand-written one, X^T (sigmoid(X w + b) - y) / n + 2 decay w.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import time

# Run as a script, this folder comes first on sys.path, and this file would be imported
# in place of Dask's distributed package, whose name it has.
if __name__ == "__main__":
    _HERE = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]

import dask  # noqa: E402
import dask.array as da  # noqa: E402
import numpy as np  # noqa: E402
from dask.distributed import Client, LocalCluster, wait  # noqa: E402

import srcgrad  # noqa: E402

DECAY = 1e-3


def loss(w, b, X, y):
    """Mean logistic loss of labels y in {0, 1}, plus weight decay."""
    z = X @ w + b
    return np.mean(np.log1p(np.exp(-z)) + (1 - y) * z) + DECAY * np.sum(w ** 2)


def data(rows: int, features: int, chunk: int, seed: int = 0):
    """Rows X and labels y drawn chunk by chunk (lazily: each worker makes its chunks)."""
    rng = da.random.default_rng(seed)
    X = rng.normal(size=(rows, features), chunks=(chunk, features))
    truth = np.linspace(-1.0, 1.0, features)
    y = (X @ truth + 0.5 * rng.normal(size=rows, chunks=chunk) > 0.3).astype(float)
    return X, y


def main(rows: int = 2_000_000, features: int = 20, steps: int = 5,
         rate: float = 1.0) -> dict:
    """Train on a two-worker cluster; returns the losses, the time per step and the
    largest difference from the hand-written gradient."""
    chunk = 100_000
    with LocalCluster(n_workers=2, threads_per_worker=1, memory_limit="1GB",
                      host="127.0.0.1", dashboard_address="127.0.0.1:0") as cluster, \
            Client(cluster) as client:
        board = "" if importlib.util.find_spec("bokeh") else " (install bokeh to open it)"
        print(f"dashboard: {client.dashboard_link}{board}")
        X, y = data(rows, features, chunk)
        X, y = client.persist([X, y])  # the chunks stay on the workers
        wait([X, y])
        print(f"{rows} rows x {features} features ({X.nbytes / 1e6:.0f} MB) in "
              f"{X.npartitions} chunks on 2 workers with 1 GB each")
        step = srcgrad.value_and_grad(loss, wrt=("w", "b"))
        w, b = np.zeros(features), 0.0
        losses, times = [], []
        for k in range(steps):
            start = time.perf_counter()
            value, (gw, gb) = step(w, b, X, y)  # Dask arrays: nothing computed yet
            value, gw, gb = dask.compute(value, gw, gb)  # on the workers
            w, b = w - rate * gw, b - rate * float(gb)
            times.append(time.perf_counter() - start)
            losses.append(float(value))
            print(f"step {k}: loss {value:.5f}  ({times[-1]:.2f} s)")
        p = 1 / (1 + np.exp(-(X @ w + b)))
        hand = X.T @ (p - y) / rows + 2 * DECAY * w
        got, want = dask.compute(step(w, b, X, y)[1][0], hand)
        error = float(np.max(np.abs(got - want)))
        per_step = sum(times[1:]) / max(len(times) - 1, 1)  # the first builds the code
        print(f"time per step: {per_step:.2f} s (the first, which generates the code: "
              f"{times[0]:.2f} s); "
              f"largest difference from the hand-written gradient: {error:.1e}")
    return {"losses": losses, "per_step": per_step, "error": error}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--steps", type=int, default=5)
    options = parser.parse_args()
    main(options.rows, steps=options.steps)
