"""The derivative rule registry: every table, merged, looked up by primitive.

Keys are IR operator names (``"add"``) or the function objects themselves, so
``np.sin``, ``numpy.sin`` and ``from numpy import sin`` all find one rule.
"""

from __future__ import annotations

from . import casts as _casts
from . import complexes as _complexes
from . import decomp as _decomp
from . import fft as _fft
from . import helpers as _helpers
from . import linalg as _linalg
from . import numpy as _numpy
from . import numpy_aliases as _numpy_aliases
from . import numpy_more as _numpy_more
from . import numpy_ported as _numpy_ported
from . import operators as _operators
from . import python as _python
from . import scipy as _scipy
from . import scipy_linalg as _scipy_linalg
from . import scipy_stats as _scipy_stats
from . import scipy_stats_more as _scipy_stats_more
from . import shape as _shape
from .registry import Rule, Table, Template

TABLES: tuple[Table, ...] = (_python.table, _numpy.table, _numpy_more.table, _scipy.table,
                             _scipy_stats.table, _scipy_linalg.table, _linalg.table,
                             _shape.table, _decomp.table, _operators.table, _casts.table,
                             _numpy_ported.table, _complexes.table, _fft.table,
                             _scipy_stats_more.table, _numpy_aliases.table)

HELPER_TABLES: tuple[Table, ...] = (_helpers.table, _scipy_stats.helper_table,
                                    _scipy_linalg.helper_table, _complexes.helper_table,
                                    _fft.helper_table, _numpy_aliases.helper_table,
                                    _scipy.helper_table)
# (in the tables themselves: REGISTRY and BUILTIN then hold the same rule objects)
_complexes.mark(*TABLES, *HELPER_TABLES)

REGISTRY: dict[object, list[Rule]] = {}
HINTS: dict[object, str] = {}  # fn -> what to write instead of a refused call of it
for _t in TABLES:
    HINTS.update(_t.hints)
    for _key, _rules in _t.rules.items():
        REGISTRY.setdefault(_key, []).extend(_rules)


# srcgrad's own rules for user code (REGISTRY also receives the user's, from
# srcgrad.custom, and the rules of srcgrad's run-time helpers, for higher order).
BUILTIN: dict[object, list[Rule]] = dict(REGISTRY)
for _h in HELPER_TABLES:
    for _key, _rules in _h.rules.items():
        REGISTRY.setdefault(_key, []).extend(_rules)


def overloads(key: object) -> list[Rule]:
    """The rules registered for an op name or function object (empty if none)."""
    try:
        return REGISTRY.get(key, [])
    except TypeError:  # an unhashable callable cannot have a rule
        return []


complexes = _complexes  # the complex-number rules (transform.complexity reads them)

__all__ = ["BUILTIN", "HINTS", "REGISTRY", "Rule", "Table", "Template", "overloads"]
