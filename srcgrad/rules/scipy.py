"""Rules for scipy.special (issue 6), when SciPy is installed (an optional dependency).

Same form as rules/numpy.py: one line per primitive.
"""

import numpy as np

from .registry import Table

try:
    import scipy.special as special
except ImportError:  # SciPy is optional: no rules, no spec rows
    special = None

table = Table({"np": np, "special": special})
P, V, N = table.partials, table.vjp, table.nondiff

if special is not None:
    pass  # rows added below this line
