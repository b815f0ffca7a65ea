"""More NumPy rules (issue 6): elementwise functions, reductions and scans.

Same form as rules/numpy.py: one line per primitive.
"""

import numpy as np

from .. import runtime
from .registry import Table

table = Table({"np": np, **{name: getattr(runtime, name) for name in (
    "expand", "unbroadcast", "argmax_mask")}})
P, V, N = table.partials, table.vjp, table.nondiff
