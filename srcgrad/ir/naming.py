"""Deterministic names derived from the user's.

Conventions (kept everywhere): SSA versions of a user name ``x`` are ``x``,
``x_1``, ``x_2``...; compiler temporaries are ``t1``, ``t2``...; the adjoint
of ``x`` is ``x_bar``. A ``Namer`` never hands out a name twice and never one
in its reserved set (the user's names), so generated code cannot shadow
anything the user wrote. Names depend only on the order of requests, so the
same input always gives the same text.
"""

from __future__ import annotations

from collections.abc import Iterable

ADJOINT_SUFFIX = "_bar"


class Namer:
    def __init__(self, reserved: Iterable[str] = ()):
        self._taken: set[str] = set(reserved)
        self._counters: dict[str, int] = {}

    def reserve(self, name: str) -> None:
        self._taken.add(name)

    def is_taken(self, name: str) -> bool:
        return name in self._taken

    def fresh(self, base: str) -> str:
        """``base`` itself if free, else ``base_1``, ``base_2``..."""
        if base not in self._taken:
            self._taken.add(base)
            return base
        return self._next(base, base + "_")

    def temp(self, prefix: str = "t") -> str:
        """``t1``, ``t2``... skipping taken names."""
        return self._next(prefix, prefix)

    def _next(self, key: str, stem: str) -> str:
        n = self._counters.get(key, 0)
        while True:
            n += 1
            name = f"{stem}{n}"
            if name not in self._taken:
                self._counters[key] = n
                self._taken.add(name)
                return name


def adjoint_name(name: str) -> str:
    return name + ADJOINT_SUFFIX
