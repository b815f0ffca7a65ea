"""The Dask workload (issue 17): srcgrad's gradient of Dask arrays against NumPy's.

Not a test: ``make bench`` runs it last, ``make bench-dask`` alone (installing the
``dask`` extra; it starts a cluster and draws gigabytes), and it writes
``bench/results-dask.md``. Two measurements:

1. Data that fits (``--rows`` x 20 float64, 160 MB by default): the time of one
   logistic-loss gradient, srcgrad and hand-written, on NumPy arrays and on the same
   rows as a Dask array in chunks of 100,000 rows (Dask's threaded scheduler, 2
   threads), building the graph and computing it; medians of ``--repeat`` calls, each
   gradient first checked against the hand-written NumPy one.
2. Data that does not fit a worker (``--big`` x 20 float64 rows, 3.2 GB by default):
   drawn chunk by chunk by ``dask.array.random`` on a LocalCluster of 2 workers (one
   thread, 2 GB each, no spilling), never in one process; srcgrad's gradient and the
   hand-written one computed together. Reported: the wall time, this process's largest
   rise in resident memory while the cluster computes (sampled every 10 ms) and each
   worker's peak resident memory (Linux's VmHWM, its whole life), against the data's size.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import sys
import threading
import time

import dask
import dask.array as da
import numpy as np
import psutil
from distributed import Client, LocalCluster

import srcgrad

HERE = os.path.dirname(os.path.abspath(__file__))
FEATURES, CHUNK = 20, 100_000


def loss(w, X, y):
    z = X @ w
    return np.mean(np.log1p(np.exp(-z)) + (1 - y) * z)


def hand(w, X, y):
    return X.T @ (1 / (1 + np.exp(-(X @ w))) - y) / X.shape[0]


def _median(fn, repeat: int) -> float:
    fn()  # warm: the first call builds srcgrad's code
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def fits(rows: int, repeat: int) -> list[tuple[str, float]]:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(rows, FEATURES))
    y = (X @ np.linspace(-1, 1, FEATURES) > 0).astype(float)
    w = np.full(FEATURES, 0.1)
    Xd, yd = da.from_array(X, chunks=(CHUNK, FEATURES)), da.from_array(y, chunks=CHUNK)
    grad = srcgrad.grad(loss)
    want = hand(w, X, y)
    for got in (grad(w, X, y), grad(w, Xd, yd).compute(scheduler="threads"),
                hand(w, Xd, yd).compute(scheduler="threads")):
        np.testing.assert_allclose(got, want, rtol=1e-10)
    with dask.config.set(scheduler="threads", num_workers=2):
        return [
            ("hand-written, NumPy", _median(lambda: hand(w, X, y), repeat)),
            ("srcgrad, NumPy", _median(lambda: grad(w, X, y), repeat)),
            ("hand-written, Dask (graph and compute)",
             _median(lambda: hand(w, Xd, yd).compute(), repeat)),
            ("srcgrad, Dask (graph and compute)",
             _median(lambda: grad(w, Xd, yd).compute(), repeat)),
            ("srcgrad, Dask: the graph alone", _median(lambda: grad(w, Xd, yd), repeat)),
        ]


def _peak_rss() -> int:
    """This process's peak resident memory in bytes (run on each worker): Linux's VmHWM,
    which starts again at exec (``ru_maxrss`` keeps the forking parent's peak)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def big(rows: int) -> dict:
    settings = {"distributed.worker.memory.target": False,
                "distributed.worker.memory.spill": False}
    with dask.config.set(settings), \
            LocalCluster(n_workers=2, threads_per_worker=1, memory_limit="2GB",
                         host="127.0.0.1", dashboard_address=None) as cluster, \
            Client(cluster) as client:
        rng = da.random.default_rng(1)
        X = rng.normal(size=(rows, FEATURES), chunks=(250_000, FEATURES))
        y = (X @ np.linspace(-1, 1, FEATURES) + rng.normal(size=rows, chunks=250_000)
             > 0).astype(float)
        w = np.full(FEATURES, 0.1)
        me = psutil.Process()
        base = top = me.memory_info().rss
        stop = threading.Event()

        def sample():
            nonlocal top
            while not stop.is_set():
                top = max(top, me.memory_info().rss)
                time.sleep(0.01)

        sampler = threading.Thread(target=sample)
        sampler.start()
        start = time.perf_counter()
        graph = srcgrad.grad(loss)(w, X, y)
        ours, theirs = [f.result() for f in client.compute([graph, hand(w, X, y)])]
        seconds = time.perf_counter() - start
        stop.set()
        sampler.join()
        np.testing.assert_allclose(ours, theirs, rtol=1e-10)
        return {"data": X.nbytes, "seconds": seconds, "rise": top - base,
                "workers": sorted(client.run(_peak_rss).values())}


def report(rows: int, timed: list[tuple[str, float]], big_rows: int, b: dict) -> str:
    mb = 1e6
    lines = [f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python "
             f"{platform.python_version()}, NumPy {np.__version__}, Dask {dask.__version__}.",
             "", f"## Data that fits: {rows} x {FEATURES} float64 "
             f"({rows * FEATURES * 8 / mb:.0f} MB), chunks of {CHUNK} rows", "",
             "| gradient of the logistic loss | median time | / hand NumPy |",
             "| --- | ---: | ---: |"]
    ref = timed[0][1]
    lines += [f"| {name} | {t * 1e3:.1f} ms | {t / ref:.2f} |" for name, t in timed]
    lines += ["", f"## Data that does not fit a worker: {big_rows} x {FEATURES} float64 "
              f"({b['data'] / mb:.0f} MB), 2 workers with 2 GB each", "",
              f"- srcgrad's gradient and the hand-written one, computed together: "
              f"{b['seconds']:.1f} s",
              f"- this process's largest rise in resident memory meanwhile: "
              f"{b['rise'] / mb:.0f} MB",
              f"- the workers' peak resident memory: "
              f"{', '.join(f'{p / mb:.0f} MB' for p in b['workers'])}"]
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--big", type=int, default=20_000_000)
    parser.add_argument("--repeat", type=int, default=7)
    opts = parser.parse_args(argv)
    timed = fits(opts.rows, opts.repeat)
    text = report(opts.rows, timed, opts.big, big(opts.big))
    print(text)
    with open(os.path.join(HERE, "results-dask.md"), "w") as fh:
        fh.write("# Dask benchmark results\n\nWritten by `make bench` (or `make bench-dask`) "
                 "(bench/dask_bench.py; its docstring says how it measures).\n\n" + text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
