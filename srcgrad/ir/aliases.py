"""In-place operators through aliases: the hazards lowering records, checked once kinds are known.

Lowering (``frontend/inplace.py``) records in ``HAZARDS``, under the location and target
of a ``w op= t``, what else may share ``w``'s storage; the derivative transforms call
``check_inplace(stmts, kind_of)``, which refuses a recorded statement unless ``w`` is a
known scalar. The table lives here, below both stages, so neither imports the other.
"""

from __future__ import annotations

import re

from ..errors import UnsupportedSyntax
from .nodes import Stmt, Var, walk

# (file, line, col, target name) of `w op= t` -> what shares w's storage: a label
# and the versions that hold it (harmless if they are all known scalars).
HAZARDS: dict[tuple, tuple[str, list]] = {}


def hazard_key(loc, target: Var) -> tuple:
    return (loc.file, loc.line, loc.col, target.name)


def check_inplace(stmts: list, kind_of) -> None:
    """Refuse a recorded ``w op= t`` whose ``w`` may be an array (``kind_of(w)``)."""
    if not HAZARDS:
        return
    for n in walk(stmts):
        found = isinstance(n, Stmt) and n.args and HAZARDS.get(hazard_key(n.loc, n.target))
        if found and kind_of(n.args[0]) != "scalar" and \
                any(kind_of(v) != "scalar" for v in found[1]):
            other = found[0]
            raise UnsupportedSyntax(
                f"this changes, in place, the array that {other} holds too, which srcgrad "
                "cannot follow", n.loc, _hint(n.loc.text))


def _hint(line: str) -> str:
    """What to write instead of the user's own ``w op= t`` (their names, their op)."""
    m = re.match(r"\s*([\w.\[\], :]+?)\s*([-+*/@%]|\*\*|//)=\s*(.+?)\s*(#.*)?$", line)
    if m is None:
        return "Write w = w + t to make a new array (or copy first: w = np.copy(v))."
    w, op, t = m.group(1), m.group(2), m.group(3)
    return f"Write {w} = {w} {op} {t} to make a new array (or copy it first with np.copy)."
