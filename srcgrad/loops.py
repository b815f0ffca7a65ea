"""The marker of a checkpointed loop, ``srcgrad.checkpointed`` (the user's side of
``transform/checkpointing.py`` and ``runtime/checkpoints.py``).

Contract: as plain Python the marker is its iterable, after checking its options;
the frontend recognises it around ``range(...)`` in a ``for`` statement and records
the option on the loop (``ir.Loop.checkpoint``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

from .runtime import checkpoints

T = TypeVar("T")


def checkpointed(iterable: Iterable[T], snapshots: int | None = None,
                 every: int | None = None) -> Iterable[T]:
    """Mark a loop for checkpointing: ``for t in srcgrad.checkpointed(range(T),
    snapshots=k):``. Run as plain Python it is ``iterable`` itself; a gradient of the
    function keeps k snapshots of the loop's carried values instead of a tape entry per
    iteration, and recomputes the iterations between them (Griewank's binomial
    schedule; ``every=m``: a snapshot every m iterations instead). Give one of
    ``snapshots`` and ``every``, or neither (a snapshot every ceil(sqrt(T))
    iterations)."""
    check(snapshots, every)
    return iterable


def check(snapshots: object = None, every: object = None) -> None:
    """Raise ValueError unless the options are one of ``snapshots`` and ``every``, an
    integer >= 1 (or neither). (The run-time helpers check them the same way.)"""
    checkpoints._check_option(snapshots, every)
