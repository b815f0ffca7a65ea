"""The benchmark suite: gradient cost against the function, a hand-written
NumPy gradient and the peers (HIPS autograd, JAX eager and jit, PyTorch eager).

Not a test: ``make bench`` runs it (installing the ``bench`` extra first). It
prints the tables and writes them to ``bench/results.md``, and draws
``bench/results.png`` when matplotlib is installed.

Rules:
- every gradient is first checked against the hand-written one (relative
  tolerance 1e-8); a wrong one is reported as wrong and never timed, one that
  raises is reported as an error;
- times are medians of repeated samples, each sample the mean of ``number``
  back-to-back calls; samples of all implementations of a workload are
  interleaved, so that the machine's drift hits each alike; all ratios come
  from this one run;
- "1st call" is the first call's time: for srcgrad it includes building the
  derivative (parse, transform, optimize, emit, load), for srcgrad[numba]
  (``backend="numba"``) building and compiling it, for jax.jit tracing
  and compiling (the compile time, reported apart from the median);
- srcgrad[numba] is timed after the others, not interleaved with them: its
  matrix products use SciPy's OpenBLAS, whose threads and NumPy's slow each
  other down when the two alternate (2x measured on 2 cores); if numba could
  not compile a derivative it runs the Python backend's code, and the report
  says so;
- a peer that is not installed shows as n/a;
- a workload with a driver (``Workload.driver``, e.g. the user's loop over
  examples around one gradient call) is timed and checked through it, for the
  primal, the hand-written gradient, srcgrad and every peer alike;
- the call-overhead section (``overhead.py``) times ``srcgrad.grad(f)(*args)``
  against the generated code it runs, called directly.

The workloads are ``workloads.py``'s and ``workloads_sizes.py``'s
(``workloads_sizes.ALL``); the plot is drawn by ``plot.py``.

Options: ``--quick`` (fewer, shorter samples, for a smoke run), ``--only KEY``
(repeatable: run only these workloads or sections, e.g. ``--only hmm --only
overhead``), ``--no-plot``.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.util
import inspect
import math
import os
import platform
import statistics
import sys
import time
import traceback
import types
import warnings
from dataclasses import dataclass, field

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import overhead  # noqa: E402
import peers  # noqa: E402
import workloads  # noqa: E402
import workloads_sizes  # noqa: E402

import srcgrad  # noqa: E402

NUMBA = "srcgrad[numba]"  # backend="numba": the same derivative, compiled by numba
GRADIENTS = ("hand", "srcgrad", NUMBA) + peers.PEERS
IMPLS = ("f",) + GRADIENTS
LABELS = {"f": "f (primal)", "hand": "hand NumPy", "srcgrad": "srcgrad", NUMBA: NUMBA,
          "autograd": "autograd", "jax": "JAX eager", "jax.jit": "JAX jit",
          "torch": "torch eager"}
RTOL = 1e-8


@dataclass
class Settings:
    sample: float = 0.05  # seconds a sample aims at (number of calls chosen to fill it)
    budget: float = 1.5  # seconds of samples per implementation and workload, at most...
    min_repeat: int = 3  # ...but never fewer samples than this
    max_repeat: int = 9
    slow_budget: float = 1.0  # for the long explicit loops, where eager peers are slow


@dataclass
class Result:
    status: str  # "ok", "n/a", "wrong", "error", "skipped"
    median: float = math.nan
    first: float = math.nan
    estimate: float = math.nan  # seconds per warm call, from the warm-up
    number: int = 0
    repeat: int = 0
    note: str = ""
    samples: list[float] = field(default_factory=list)


# ---- timing -------------------------------------------------------------------------
def _one(fn, args, number: int) -> float:
    clock = time.perf_counter
    start = clock()
    for _ in range(number):
        fn(*args)
    return (clock() - start) / number


def time_interleaved(entries: dict, settings: Settings, slow: bool) -> dict[str, Result]:
    """``entries``: name -> (fn, args, Result) already warmed up. Fills each Result's median."""
    budget = settings.slow_budget if slow else settings.budget
    plan = {}
    for name, (fn, args, res) in entries.items():
        t = res.estimate if math.isfinite(res.estimate) else _one(fn, args, 1)
        number = max(1, int(settings.sample / max(t, 1e-9)))
        repeat = int(budget / max(t * number, 1e-9))
        res.number, res.repeat = number, min(settings.max_repeat, max(settings.min_repeat, repeat))
        plan[name] = (fn, args, res)
    for r in range(max((res.repeat for _, _, res in plan.values()), default=0)):
        for fn, args, res in plan.values():
            if r < res.repeat:
                res.samples.append(_one(fn, args, res.number))
    for _, _, res in plan.values():
        res.median = statistics.median(res.samples)
    return {name: res for name, (_, _, res) in plan.items()}


# ---- checking -----------------------------------------------------------------------
def as_tuple(g) -> tuple:
    return g if isinstance(g, tuple) else (g,)


def mismatch(got: tuple, want: tuple) -> str:
    """'' when ``got`` matches the hand-written gradient, else what differs."""
    if len(got) != len(want):
        return f"{len(got)} gradients, expected {len(want)}"
    for i, (a, b) in enumerate(zip(got, want)):
        a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
        if a.shape != b.shape:
            return f"gradient {i}: shape {a.shape}, expected {b.shape}"
        scale = max(1.0, float(np.max(np.abs(b)))) if b.size else 1.0
        if not np.allclose(a, b, rtol=RTOL, atol=RTOL * scale):
            err = float(np.max(np.abs(a - b)))
            return f"gradient {i}: max abs error {err:.2e}"
    return ""


def _first_call(fn, args):
    start = time.perf_counter()
    out = fn(*args)
    return out, time.perf_counter() - start


# ---- one workload -------------------------------------------------------------------
def run_workload(w: workloads.Workload, rng, settings: Settings) -> dict[str, Result]:
    args = w.make_args(rng)
    want = as_tuple(w.drive(w.hand)(*args))
    results: dict[str, Result] = {}
    entries = {}

    def candidate(name, fn, fn_args, to_numpy=as_tuple):
        fn = w.drive(fn)
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", srcgrad.SrcgradWarning)
                out, first = _first_call(fn, fn_args)
            bad = mismatch(to_numpy(out), want)
        except Exception as exc:  # reported, not timed
            results[name] = Result("error", note=f"{type(exc).__name__}: {exc}".splitlines()[0])
            if os.environ.get("BENCH_TRACEBACK"):
                traceback.print_exc()
            return
        if bad:
            results[name] = Result("wrong", first=first, note=bad)
            return
        res = Result("ok", first=first)
        fell = [c for c in caught if c.category.__name__ == "CompiledFallbackWarning"]
        if fell:  # timed all the same: the Python backend's code
            res.note = "numba fell back to Python: " + str(fell[0].message).split("\n")[0]
        if first < 1.0:  # a warm-up call (caches, allocator) that calibrates the samples
            res.estimate = _one(fn, fn_args, 1)
        else:  # slow enough: the first call was warm-up and calibration
            res.estimate = first
        entries[name] = (fn, fn_args, res)

    # the primal and the hand-written gradient are the references
    res = Result("ok")
    primal, hand = w.drive(w.primal), w.drive(w.hand)
    _, res.first = _first_call(primal, args)
    entries["f"] = (primal, args, res)
    _, first = _first_call(hand, args)
    entries["hand"] = (hand, args, Result("ok", first=first))

    wrt = w.wrt if len(w.wrt) > 1 else w.wrt[0]
    candidate("srcgrad", srcgrad.grad(w.primal, wrt=wrt), args)
    if importlib.util.find_spec("numba") is None:
        results[NUMBA] = Result("n/a", note="numba is not installed")
    else:
        candidate(NUMBA, srcgrad.grad(w.primal, wrt=wrt, backend="numba"), args)
    for peer in peers.PEERS:
        if not peers.available(peer):
            results[peer] = Result("n/a", note="not installed")
            continue
        try:
            fn, peer_args = peers.build(peer, w.key, args, w.wrt)
        except peers.Skipped as exc:
            results[peer] = Result("skipped", note=str(exc))
            continue
        except Exception as exc:
            results[peer] = Result("error", note=f"{type(exc).__name__}: {exc}".splitlines()[0])
            continue
        candidate(peer, fn, peer_args, peers.to_numpy)

    # numba's matrix products run on SciPy's OpenBLAS, a second BLAS beside NumPy's:
    # interleaved, the two thread pools slow each other (NumPy's products 2x here), so
    # srcgrad[numba] is timed alone, after the others, and the next workload waits
    # for its threads to settle.
    alone = {NUMBA: entries.pop(NUMBA)} if NUMBA in entries else {}
    results.update(time_interleaved(entries, settings, w.slow_peers))
    if alone:
        results.update(time_interleaved(alone, settings, w.slow_peers))
        time.sleep(2.0)
    return {name: results[name] for name in IMPLS}


# ---- gradient vs finite differences --------------------------------------------------
def run_fd(rng, settings: Settings) -> list[dict]:
    rows = []
    for n in workloads.FD_SIZES:
        x = rng.normal(size=n)
        g = srcgrad.grad(workloads.chain)
        want = workloads.chain_hand(x)
        fd_grad = workloads.central_differences(workloads.chain, x.copy())

        def fd(x=x):
            return workloads.central_differences(workloads.chain, x.copy())

        row = {"n": n, "fd_error": float(np.max(np.abs(fd_grad - want)) / np.max(np.abs(want)))}
        bad = mismatch(as_tuple(g(x)), (want,))
        entries = {"f": (workloads.chain, (x,), Result("ok")),
                   "hand": (workloads.chain_hand, (x,), Result("ok")),
                   "fd": (fd, (), Result("ok"))}
        if not bad:
            entries["srcgrad"] = (g, (x,), Result("ok"))
        timed = time_interleaved(entries, settings, slow=False)
        row.update({k: r.median for k, r in timed.items()})
        row["srcgrad_status"] = "wrong: " + bad if bad else "ok"
        rows.append(row)
    return rows


# ---- transform time ---------------------------------------------------------------------
def run_transform(rng, repeat: int = 7) -> dict:
    f = workloads.fifty_lines
    args = workloads.fifty_lines_args(rng)
    lines = len(inspect.getsourcelines(f)[0])
    firsts = []
    for _ in range(repeat):
        # a fresh function object: srcgrad caches derivatives per function
        fresh = types.FunctionType(f.__code__, f.__globals__, f.__name__, f.__defaults__,
                                   f.__closure__)
        g = srcgrad.grad(fresh)
        _, t = _first_call(g, args)
        firsts.append(t)
    steady = min(_one(g, args, 20) for _ in range(5))
    first = statistics.median(firsts)
    return {"lines": lines, "first": first, "steady": steady, "transform": first - steady,
            "repeat": repeat}


# ---- formatting ---------------------------------------------------------------------------
def fmt_time(s: float) -> str:
    if not math.isfinite(s):
        return "-"
    if s < 1e-3:
        return f"{s * 1e6:.1f} us"
    if s < 1:
        return f"{s * 1e3:.2f} ms"
    return f"{s:.2f} s"


def cell(res: Result, value: str) -> str:
    return value if res.status == "ok" else {"n/a": "n/a", "wrong": "WRONG", "error": "error",
                                             "skipped": "skipped"}[res.status]


def table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in [header] + rows) for i in range(len(header))]

    def line(r):
        return "| " + " | ".join(c.ljust(wd) if i == 0 else c.rjust(wd)
                                 for i, (c, wd) in enumerate(zip(r, widths))) + " |"

    sep = "|" + "|".join("-" * (wd + 1) + (":" if i else "-") for i, wd in enumerate(widths)) + "|"
    return "\n".join([line(header), sep] + [line(r) for r in rows])


def report(all_results, fd_rows, transform, overhead_rows, elapsed: float) -> str:
    names = [w.name for w in all_results]
    out = []
    head = ["workload"] + [LABELS[i] for i in IMPLS]
    out.append("### Median time per call\n")
    out.append(table(head, [[w.name] + [cell(r[i], fmt_time(r[i].median)) for i in IMPLS]
                            for w, r in all_results.items()]))
    for title, ref in (("Gradient / primal (cheap gradient principle: small constant)", "f"),
                       ("Gradient / hand-written NumPy gradient (target for srcgrad: <= 1.3)",
                        "hand")):
        out.append(f"\n### {title}\n")
        head = ["workload"] + [LABELS[i] for i in GRADIENTS]
        rows = []
        for w, r in all_results.items():
            rows.append([w.name] + [cell(r[i], f"{r[i].median / r[ref].median:.2f}")
                                    for i in GRADIENTS])
        out.append(table(head, rows))
    out.append("\n### First call (srcgrad: builds the derivative; srcgrad[numba]: builds "
               "and compiles it; JAX jit: traces and compiles; each then runs it once)\n")
    head = ["workload"] + [LABELS[i] for i in GRADIENTS]
    out.append(table(head, [[w.name] + [cell(r[i], fmt_time(r[i].first)) for i in GRADIENTS]
                            for w, r in all_results.items()]))
    out.append(_against_jax(all_results))
    out.append("\n### Samples taken (samples x calls per sample)\n")
    head = ["workload"] + [LABELS[i] for i in IMPLS]
    out.append(table(head, [[w.name] + [cell(r[i], f"{r[i].repeat}x{r[i].number}")
                                        for i in IMPLS] for w, r in all_results.items()]))
    notes = [f"- {w.name}, {LABELS[i]}: {r[i].status}: {r[i].note}"
             for w, r in all_results.items() for i in IMPLS
             if r[i].status in ("wrong", "error", "skipped")]
    if notes:
        out.append("\nNot timed:\n" + "\n".join(notes))
    fell = [f"- {w.name}: {r[NUMBA].note}" for w, r in all_results.items()
            if r[NUMBA].status == "ok" and r[NUMBA].note]
    if fell:
        out.append("\nTimed with the Python backend's code (numba could not compile it):\n" +
                   "\n".join(fell))
    if fd_rows:
        out.append("\n### Gradient vs central finite differences (2n evaluations of f), "
                   "f(x) = sum(log(1 + exp(x[1:] * x[:-1]))) + sum(x*x)/2\n")
        head = ["n", "f", "hand NumPy", "srcgrad", "finite diff", "fd / srcgrad",
                "srcgrad / f", "fd rel. error"]
        rows = []
        for row in fd_rows:
            ok = row["srcgrad_status"] == "ok"
            rows.append([str(row["n"]), fmt_time(row["f"]), fmt_time(row["hand"]),
                         fmt_time(row["srcgrad"]) if ok else "WRONG", fmt_time(row["fd"]),
                         f"{row['fd'] / row['srcgrad']:.0f}" if ok else "-",
                         f"{row['srcgrad'] / row['f']:.2f}" if ok else "-",
                         f"{row['fd_error']:.1e}"])
        out.append(table(head, rows))
    if transform:
        verdict = "met" if transform["first"] < 0.05 else "MISSED"
        out.append(f"\n### Transform time\n\nFirst call of srcgrad.grad on a "
                   f"{transform['lines']}-line function (bench/workloads.py: fifty_lines), "
                   f"median of {transform['repeat']} fresh functions: "
                   f"{fmt_time(transform['first'])} (of which running the gradient: "
                   f"{fmt_time(transform['steady'])}; building it: "
                   f"{fmt_time(transform['transform'])}). Target < 50 ms: {verdict}.")
    if overhead_rows:
        out.append(f"\n### {overhead.TITLE}\n")
        out.append(table(*overhead.table_rows(overhead_rows)))
    versions = [f"Python {platform.python_version()}", f"NumPy {np.__version__}"]
    for mod in ("autograd", "jax", "torch", "numba"):
        if importlib.util.find_spec(mod) is not None:
            versions.append(f"{mod} {_version(mod)}")
    out.append(f"\n{', '.join(versions)}; {os.cpu_count()} CPUs; "
               f"{datetime.datetime.now():%Y-%m-%d %H:%M}; whole run {elapsed:.0f} s.")
    del names
    return "\n".join(out)


COMPILED_TARGETS = ("recurrence", "hmm", "cky", "small_ops")  # issue 16: <= JAX jit


def _against_jax(all_results) -> str:
    """The compiled backend against jitted JAX: time ratio and first calls."""
    head = ["workload", NUMBA, "JAX jit", "ratio", f"{NUMBA} 1st call", "JAX jit 1st call"]
    rows = []
    for w, r in all_results.items():
        n, j = r[NUMBA], r["jax.jit"]
        if n.status != "ok":
            continue
        mark = " (target <= 1)" if w.key in COMPILED_TARGETS else ""
        ratio = f"{n.median / j.median:.2f}{mark}" if j.status == "ok" else cell(j, "")
        rows.append([w.name, fmt_time(n.median), cell(j, fmt_time(j.median)), ratio,
                     fmt_time(n.first), cell(j, fmt_time(j.first))])
    if not rows:
        return ""
    return ("\n### srcgrad[numba] against JAX jit (time per call; first call: numba's compile "
            "of this derivative, after the earlier workloads' in the same process; JAX's "
            "trace and compile)\n\n" + table(head, rows))


def _version(dist: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:
        return "?"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer, shorter samples")
    parser.add_argument("--only", action="append", metavar="KEY",
                        help="run only this workload (" + ", ".join(
                            [w.key for w in workloads_sizes.ALL]
                            + ["fd", "transform", "overhead"]) + ")")
    parser.add_argument("--no-plot", action="store_true")
    opts = parser.parse_args(argv)
    settings = Settings()
    if opts.quick:
        settings = Settings(sample=0.01, budget=0.2, min_repeat=2, max_repeat=3,
                            slow_budget=0.1)
    only = set(opts.only or [])
    start = time.perf_counter()
    rng = np.random.default_rng(0)
    print("peers: " + ", ".join(f"{p} {'yes' if peers.available(p) else 'n/a'}"
                                for p in peers.PEERS), flush=True)
    all_results = {}
    for w in workloads_sizes.ALL:
        if only and w.key not in only:
            continue
        t = time.perf_counter()
        all_results[w] = run_workload(w, rng, settings)
        r = all_results[w]
        print(f"  {w.name}: done in {time.perf_counter() - t:.1f} s; srcgrad/hand "
              + cell(r["srcgrad"], f"{r['srcgrad'].median / r['hand'].median:.2f}"), flush=True)
    fd_rows = run_fd(rng, settings) if not only or "fd" in only else []
    transform = run_transform(rng) if not only or "transform" in only else None
    overhead_rows = overhead.run(opts.quick) if not only or "overhead" in only else []
    text = report(all_results, fd_rows, transform, overhead_rows, time.perf_counter() - start)
    print()
    print(text)
    if not only:  # a partial run does not overwrite the full results
        with open(os.path.join(HERE, "results.md"), "w") as fh:
            fh.write("# Benchmark results\n\nWritten by `make bench` (bench/run.py); "
                     "see the docstring of bench/run.py for how it measures.\n\n" + text + "\n")
    if not opts.no_plot:
        from plot import plot  # matplotlib is imported (if at all) only to draw

        name = "results.png" if not only else "results-partial.png"
        print(plot(all_results, fd_rows, os.path.join(HERE, name), GRADIENTS, LABELS))
    return 0


if __name__ == "__main__":
    sys.exit(main())
