"""Checkpointed loops: snapshots of a loop's carried values, and the order in which the
adjoint sweep reverses its iterations (Griewank's binomial checkpointing, "revolve",
or a snapshot every m iterations).

The user marks a loop with ``srcgrad.checkpointed`` (``srcgrad/loops.py``);
``transform/checkpointing.py`` writes the code that calls these helpers.

A public, stable part of the run-time package: shown code calls the helpers of
``__all__``. Contract: ``plan(start, stop, step, snapshots=k)`` or ``(..., every=m)`` plans
the reversal of the iterations of ``range(start, stop, step)``, numbered 0..T-1 by
position. Generated code calls ``take(c, i, *state)`` at the top of every iteration
it runs of that loop (the state is the loop's carried values there): it keeps a copy
when the plan wants one at ``i``, and returns ``c``. The adjoint sweep then runs
``count(c)`` segments: for each ``s`` in order, ``restore(c, s)`` gives the loop
indices ``(a, b, end)`` and the state at ``a``; the code advances from ``a`` to ``b``
without a tape, runs ``b`` to ``end`` with its tape, and reverses those iterations.

- ``snapshots=k`` (k >= 1, counting the one at the loop's start): the binomial
  schedule, segments of one iteration; among the schedules that keep at most k
  snapshots and a one-iteration tape it runs the fewest iterations
  (``_split`` is Griewank's optimal one; tests check it against an
  exhaustive search). With r the least integer with C(k + r, k) >= T (T >= 2),
  every iteration runs at most r + 1 times forward (the first sweep, r - 1 advances at
  most, the taped run).
- ``every=m``: a snapshot at positions 0, m, 2m...; segments of m iterations, each
  run once more with its tape: T/m snapshots, an m-iteration tape, 2T iterations.

Memory: O(k) (or T/m) snapshots and nothing per iteration: the segments are made one
at a time, and a snapshot is dropped once no iteration after it remains to reverse.
Copies: arrays (and the arrays in a list) are copied when taken and when restored
while the snapshot is still needed later, so in-place writes of the running loop
never reach a snapshot.

This the one stateful helper of the runtime package: ``take`` records into ``c``.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

__all__ = ["count", "frozen", "plan", "restore", "take"]


def _check_option(snapshots, every) -> None:
    if snapshots is not None and every is not None:
        raise ValueError("checkpointed(...): give snapshots=k or every=m, not both")
    for name, v in (("snapshots", snapshots), ("every", every)):
        if v is not None and (isinstance(v, bool) or not isinstance(v, (int, np.integer))
                              or v < 1):
            raise ValueError(f"checkpointed(...): {name} must be an integer >= 1, got {v!r}")


def _steps(k: int, r: int) -> int:
    """The most iterations k snapshots reverse with r repetitions: C(k + r, k)."""
    return math.comb(k + r, k)


def _repetitions(n: int, k: int) -> int:
    """The least r with C(k + r, k) >= n (0 for n <= 1)."""
    r = 0
    while _steps(k, r) < n:
        r += 1
    return r


def _split(n: int, k: int) -> int:
    """Where to put the next snapshot when reversing n iterations from a snapshot at the
    first of them with k snapshots in all (k >= 2): an optimal split of Griewank's."""
    r = _repetitions(n, k)
    lo = max(1, n - _steps(k - 1, r), _steps(k, r - 2) if r >= 2 else 1)
    hi = min(n - 1, _steps(k, r - 1), n - (_steps(k - 1, r - 1) if r >= 1 else 1))
    return max(1, min(lo, hi))


def _binomial_segments(n: int, k: int):
    """The binomial reversal of positions 0..n-1 with k snapshots, one segment ``(a, b,
    end, takes)`` at a time (restore a, advance to b taking ``takes``, tape b..end),
    made as they are used: the plan of 10^6 iterations never exists at once.

    Each task reverses lo..hi-1 from a snapshot at lo with k snapshots in all: split at
    m, the part after m (k - 1 snapshots, the one at m taken by the first segment's
    advance when a later segment of that part restores it, i.e. when it has two or
    more iterations) goes first, then the part before m. A first segment starts from
    the snapshot of the outermost task it is first of (``first``). A stack of tasks
    rather than nested generators: each segment costs O(1), not O(k)."""
    stack: list[tuple[int, int, int, tuple[int, ...], int | None]] = [(0, n, k, (), None)]
    splits: dict[tuple[int, int], int] = {}
    while stack:
        lo, hi, k, takes, first = stack.pop()
        if hi - lo == 1 or k == 1:
            yield (lo if first is None else first, hi - 1, hi, takes)
            for j in range(hi - 2, lo - 1, -1):
                yield (lo, j, j + 1, ())
            continue
        m = splits.get((hi - lo, k))
        if m is None:
            m = _split(hi - lo, k)
            if len(splits) < 4096:  # (the same sizes recur; bounded: memory stays O(k))
                splits[hi - lo, k] = m
        m += lo
        stack.append((lo, m, k, (), None))
        stack.append((m, hi, k - 1, takes + ((m,) if hi - m >= 2 else ()),
                      lo if first is None else first))


def _periodic_segments(n: int, m: int):
    for a in range(((n - 1) // m) * m if n else -1, -1, -m):
        yield (a, a, min(a + m, n), ())


_NONE: frozenset[int] = frozenset()


class Checkpoints:
    """The snapshots and plan of one checkpointed loop (see the module docstring)."""

    def __init__(self, start: int, stop: int, step: int, snapshots: int | None = None,
                 every: int | None = None):
        _check_option(snapshots, every)
        self.start, self.step = int(start), int(step)
        n = self.n = len(range(self.start, int(stop), self.step))
        self.kept: dict[int, tuple] = {}
        self.order: list[int] = []  # the kept positions, increasing (taken in that order)
        self.most = 0  # the most snapshots held at once (for tests and the bench)
        self.runs = 0  # iterations run through take (for tests and the bench)
        self.done = 0  # segments restored
        if snapshots is not None:
            self.total = n
            self.schedule = _binomial_segments(n, int(snapshots))
            # The first sweep does the first segment's advance, and keeps the state of
            # the last iteration, which that segment then restores.
            first = next(self.schedule, None)
            if first is None:
                self.takes: set[int] | frozenset[int] = set()
            else:
                _, b, end, takes = first
                self.takes = {0, *takes, b}
                self.schedule = itertools.chain([(b, b, end, ())], self.schedule)
        else:
            m = every if every is not None else math.isqrt(max(n - 1, 0)) + 1
            self.total = -(-n // m)
            self.schedule = _periodic_segments(n, m)
            self.takes = set(range(0, n, m))

    def position(self, i: int) -> int:
        return (int(i) - self.start) // self.step


def plan(start, stop, step, snapshots: int | None = None, every: int | None = None
         ) -> Checkpoints:
    """The snapshots and plan of a checkpointed ``range(start, stop, step)`` loop."""
    return Checkpoints(start, stop, step, snapshots, every)


def take(c: Checkpoints, i, *state) -> Checkpoints:
    """Keep a copy of ``state`` when the plan takes a snapshot at loop index ``i``."""
    c.runs += 1
    p = (int(i) - c.start) // c.step  # (c.position, inlined: a call per iteration)
    if p in c.takes:
        if p not in c.kept:
            c.order.append(p)
        c.kept[p] = tuple(_copy(v) for v in state)
        c.most = max(c.most, len(c.kept))
    return c


def count(c: Checkpoints) -> int:
    """How many segments the adjoint runs."""
    return c.total


def restore(c: Checkpoints, s) -> tuple:
    """Segment ``s`` (the next): its loop indices ``(a, b, end)`` and the state at ``a``
    (its snapshot, a copy while iterations after ``a`` remain to reverse). The
    snapshots after ``end`` are dropped (no iteration after it remains), and the ones
    the segment's advance takes are planned from here."""
    if int(s) != c.done:
        raise ValueError(f"restore: segment {s} out of order (expected {c.done})")
    c.done += 1
    a, b, end, takes = next(c.schedule)
    while c.order and c.order[-1] >= end:  # (a segment restores the nearest before it)
        del c.kept[c.order.pop()]
    c.takes = set(takes) if takes else _NONE
    if a == b:
        c.order.pop()
        state = c.kept.pop(a)
    else:
        state = tuple(_copy(v) for v in c.kept[a])
    return (c.start + a * c.step, c.start + b * c.step, c.start + end * c.step, *state)


def frozen(v):
    """A copy of ``v`` (an array, or a list and the arrays in it) that later in-place
    writes cannot reach: what a checkpointed loop's recomputations read of a value
    that code after the loop writes into."""
    return _copy(v)


def _copy(v):
    if isinstance(v, np.ndarray) or hasattr(v, "__array_function__"):  # (Dask, CuPy too)
        return v.copy()
    if isinstance(v, list):
        return [_copy(e) for e in v]
    return v
