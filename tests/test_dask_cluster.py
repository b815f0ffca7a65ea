"""srcgrad's gradient of Dask arrays computed on a local cluster, the data never in one
process (issue 17), and examples/distributed.py.

What the cluster test proves, and how: two worker processes (one thread each, spilling
to disk off, a memory limit below the data's size) compute the gradient of a
logistic and a softmax loss over rows that ``dask.array.random`` draws chunk by chunk
on the workers. The gradients equal the hand-written ones computed by the same
cluster. Memory is measured, not assumed: each worker's peak resident memory
(Linux's VmHWM, its whole life) and this process's resident memory while the cluster
computes (sampled every 10 ms) stay far below the data's size, so no process held
the data set. It does not prove anything about speed (no timing is asserted).

Under ``make test`` the data is 480 MB (workers limited to 400 MB); ``-m slow`` runs
3.2 GB with 1 GB workers. Skipped without dask and distributed.
"""

from __future__ import annotations

import contextlib
import os
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

dask = pytest.importorskip("dask", reason="dask is not installed (pip install 'srcgrad[dask]')")
da = pytest.importorskip("dask.array", reason="dask.array is not installed")
ROOT = Path(__file__).resolve().parent.parent


@contextlib.contextmanager
def _without_examples():
    """sys.path without examples/ (which another test module may have put first): there,
    examples/distributed.py would be imported in place of Dask's distributed package,
    whose name it has, here and in the workers a cluster spawns (they get sys.path)."""
    here = os.path.abspath(ROOT / "examples")
    kept = sys.path[:]
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != here]
    try:
        yield
    finally:
        sys.path[:] = kept


with _without_examples():
    distributed = pytest.importorskip("distributed", reason="distributed is not installed "
                                      "(pip install 'srcgrad[dask]')")
psutil = pytest.importorskip("psutil", reason="psutil (a dependency of distributed) is missing")
from fixtures import dask_losses as L  # noqa: E402

import srcgrad  # noqa: E402


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


class Sampled:
    """This process's resident memory, its largest rise over the start while inside."""

    def __enter__(self):
        self.process = psutil.Process()
        self.start = self.top = self.process.memory_info().rss
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._sample)
        self.thread.start()
        return self

    def _sample(self):
        while not self.stop.is_set():
            self.top = max(self.top, self.process.memory_info().rss)
            time.sleep(0.01)

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()
        self.rise = self.top - self.start


def run_on_cluster(rows: int, features: int, chunk: int, limit: str):
    """Both losses' gradients (srcgrad's and hand-written) computed on a two-worker
    cluster; returns them, the client's memory rise and the workers' peaks."""
    settings = {"distributed.worker.memory.target": False,  # no spilling to disk:
                "distributed.worker.memory.spill": False}  # what a worker holds, it holds
    with dask.config.set(settings), _without_examples(), \
            distributed.LocalCluster(n_workers=2, threads_per_worker=1, memory_limit=limit,
                                     host="127.0.0.1", dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        rng = da.random.default_rng(3)
        X = rng.normal(size=(rows, features), chunks=(chunk, features))
        truth = np.linspace(-1.0, 1.0, features)
        y = (X @ truth + rng.normal(size=rows, chunks=chunk) > 0).astype(float)
        labels = da.floor(da.clip(X[:, 0] + 1.5, 0, 2.99))
        Y = (labels[:, None] == np.arange(3)).astype(float)
        w = np.linspace(0.5, -0.5, features)
        W, b = np.outer(truth, [1.0, 0.0, -1.0]), np.array([0.1, 0.0, -0.1])
        def computed(*arrays):  # a worker paused at its limit fails here, never hangs
            return [f.result(timeout=300) for f in client.compute(list(arrays))]

        with Sampled() as memory:  # one loss at a time: each pass over the rows pipelined
            ours, hand = computed(srcgrad.grad(L.logistic)(w, X, y), L.logistic_hand(w, X, y))
            gW, gb = srcgrad.grad(L.softmax_xent, wrt=(0, 1))(W, b, X, Y)
            assert isinstance(gW, da.Array) and isinstance(gb, da.Array)
            gW, gb, hW, hb = computed(gW, gb, *L.softmax_xent_hand(W, b, X, Y))
            ours, hand = (ours, gW, gb), (hand, hW, hb)
        peaks = list(client.run(_peak_rss).values())
    return ours, hand, memory.rise, peaks, X.nbytes


def check(rows: int, features: int, chunk: int, limit: str, limit_bytes: int) -> None:
    ours, hand, rise, peaks, data = run_on_cluster(rows, features, chunk, limit)
    for g, h in zip(ours, hand, strict=True):
        np.testing.assert_allclose(g, h, rtol=1e-10, atol=1e-14)
    assert data > limit_bytes  # the rows do not fit in one worker
    assert len(peaks) == 2 and max(peaks) < data / 2, (peaks, data)  # nor did they go there
    assert rise < data / 10, (rise, data)  # nor here
    print(f"data {data / 1e6:.0f} MB; worker peaks {[round(p / 1e6) for p in peaks]} MB; "
          f"this process rose by {rise / 1e6:.0f} MB")


def test_gradients_on_a_cluster_never_hold_the_data_in_one_process():
    check(rows=6_000_000, features=10, chunk=100_000, limit="400MB", limit_bytes=400_000_000)


@pytest.mark.slow
def test_gradients_of_gigabytes_on_a_cluster():
    check(rows=20_000_000, features=20, chunk=250_000, limit="1GB", limit_bytes=1_000_000_000)


def _example(*args: str) -> str:
    out = subprocess.run([sys.executable, str(ROOT / "examples" / "distributed.py"), *args],
                         capture_output=True, text=True, timeout=300, check=True)
    return out.stdout


def _check_example(text: str, steps: int) -> None:
    assert "dashboard: http://127.0.0.1:" in text
    losses = [float(line.split()[3]) for line in text.splitlines() if line.startswith("step ")]
    assert len(losses) == steps and losses == sorted(losses, reverse=True)
    assert losses[0] == pytest.approx(np.log(2.0), abs=1e-5)  # w = 0, b = 0 (printed to 5 digits)
    error = float(text.split("hand-written gradient: ")[1])
    assert error < 1e-12
    assert "time per step: " in text


def test_the_distributed_example_runs():
    _check_example(_example("--rows", "400000", "--steps", "3"), 3)


@pytest.mark.slow
def test_the_distributed_example_runs_at_its_size():
    _check_example(_example(), 5)
