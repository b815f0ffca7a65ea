"""The dispatcher's call overhead: ``srcgrad.grad(f)(*args)`` as a user calls it, against
the generated code that call runs once dispatched, called directly
(``srcgrad.dispatch.code_for``). The difference is what the dispatcher costs per call
(finding the specialization for the arguments' types and shapes); issue 21's targets
are < 1 us for a float and < 2 us for a few small arrays.

Both are first checked to return the same gradient. Samples of the two alternate (so
that drift hits both alike); each is the mean of ``number`` back-to-back calls, the
time reported the median of the samples.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import numpy as np

import srcgrad


def square(x):
    return x * x


def three_sums(a, b, c):
    return np.sum(a) + np.sum(b) + np.sum(c)


# (label, function, arguments, wrt, target in seconds)
CASES: list[tuple[str, Callable, tuple, int | tuple[int, ...], float]] = [
    ("float: x * x", square, (3.0,), 0, 1e-6),
    ("three 3-vectors: sum(a) + sum(b) + sum(c)", three_sums,
     (np.array([0.1, 0.2, 0.3]), np.array([1.0, -1.0, 2.0]), np.array([0.5, 0.5, -0.5])),
     (0, 1, 2), 2e-6),
]


def _mean_call(fn: Callable, args: tuple, number: int) -> float:
    clock = time.perf_counter
    start = clock()
    for _ in range(number):
        fn(*args)
    return (clock() - start) / number


def _same(a, b) -> bool:
    a = a if isinstance(a, tuple) else (a,)
    b = b if isinstance(b, tuple) else (b,)
    return len(a) == len(b) and all(np.array_equal(np.asarray(x), np.asarray(y))
                                    for x, y in zip(a, b))


def run(quick: bool = False) -> list[dict]:
    number, repeat = (2_000, 5) if quick else (20_000, 15)
    rows = []
    for label, f, args, wrt, target in CASES:
        g = srcgrad.grad(f, wrt=wrt)
        direct = srcgrad.dispatch.code_for(g, *args)
        row: dict = {"label": label, "target": target}
        if not _same(g(*args), direct(*args)):
            row["status"] = "the generated code's result differs from the call's"
            rows.append(row)
            continue
        via, raw = [], []
        for _ in range(repeat):
            via.append(_mean_call(g, args, number))
            raw.append(_mean_call(direct, args, number))
        row.update(status="ok", call=statistics.median(via), direct=statistics.median(raw))
        rows.append(row)
    return rows


TITLE = ("Call overhead: srcgrad.grad(f)(*args) against the generated code it runs, "
         "called directly (srcgrad.dispatch.code_for); medians")


def table_rows(rows: list[dict]) -> tuple[list[str], list[list[str]]]:
    """The header and the rows of the report's table (``run.table`` formats them)."""
    header = ["function", "srcgrad.grad(f)(*args)", "generated code", "overhead", "target"]
    body = []
    for row in rows:
        target = f"< {row['target'] * 1e6:.0f} us"
        if row["status"] != "ok":
            body.append([row["label"], "-", "-", "WRONG: " + row["status"], target])
            continue
        over = row["call"] - row["direct"]
        verdict = "met" if over < row["target"] else "MISSED"
        body.append([row["label"], f"{row['call'] * 1e6:.2f} us", f"{row['direct'] * 1e6:.2f} us",
                     f"{over * 1e6:.2f} us", f"{target}: {verdict}"])
    return header, body
