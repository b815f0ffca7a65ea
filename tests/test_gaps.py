"""docs/gaps.md cannot go stale: every function it lists as missing exists and has no rule.

The page lists what autograd and JAX differentiate that srcgrad does not. Its
tables are checked against srcgrad's own registry (``rules.BUILTIN``, what
``docs/coverage.md`` is made from): a function that gains a rule must leave the
page, and a name that does not exist in NumPy or SciPy (a typo, a removal) is
caught unless its row says it was removed.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import numpy as np
import pytest

from srcgrad import rules

pytest.importorskip("scipy")

GAPS = Path(__file__).resolve().parent.parent / "docs" / "gaps.md"
_ROW = re.compile(r"^\| (`[^|]+`) \|(.*)$")
_NAME = re.compile(r"`([A-Za-z_][\w.]*)`")


def _rows() -> list[tuple[str, list[str], str]]:
    """(section heading, the names in a row's first cell, the rest of the row)."""
    section, out = "", []
    for line in GAPS.read_text().splitlines():
        if line.startswith("## "):
            section = line[3:]
        match = _ROW.match(line)
        if match:
            out.append((section, _NAME.findall(match.group(1)), match.group(2)))
    return out


def _resolve(name: str) -> object:
    """The function a user reaches as ``name`` (np., special., stats., scipy.)."""
    head, _, rest = name.partition(".")
    if head == "np":
        obj: object = np
    elif head in ("special", "stats"):
        obj = importlib.import_module(f"scipy.{head}")
    else:
        module, _, rest = rest.partition(".")
        obj = importlib.import_module(f"{head}.{module}")
    for part in rest.split("."):
        obj = getattr(obj, part)
    return obj


ROWS = _rows()
NAMES = [(name, tail) for _, names, tail in ROWS for name in names]


def test_the_tables_are_read():
    assert len(NAMES) > 140  # (scipy.special, scipy.stats, aliases left the lists: 143 now)
    assert len({name for name, _ in NAMES}) == len(NAMES), "a function is listed twice"


@pytest.mark.parametrize("section", sorted({s for s, _, _ in ROWS}))
def test_no_listed_function_has_a_rule(section):
    stale, absent = [], []
    for sec, names, tail in ROWS:
        if sec != section:
            continue
        for name in names:
            try:
                fn = _resolve(name)
            except AttributeError:
                if "removed in NumPy" not in tail:
                    absent.append(name)
                continue
            if rules.BUILTIN.get(fn):
                stale.append(name)
    assert not absent, f"not in this NumPy/SciPy: {absent}"
    assert not stale, f"srcgrad has rules for these now; remove them from docs/gaps.md: {stale}"


def test_the_summary_counts_the_tables():
    differentiable = [n for s, names, _ in ROWS if not s.startswith("Functions whose")
                      for n in names]
    counted = re.search(r"In all, (\d+) differentiable functions are listed", GAPS.read_text())
    assert counted and int(counted.group(1)) == len(differentiable)
