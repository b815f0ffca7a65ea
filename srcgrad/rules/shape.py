"""Rules for shape and layout functions (issue 6).

Same form as rules/numpy.py: one line per primitive, both modes.
"""

import numpy as np

from .. import runtime
from .registry import Table

table = Table({"np": np, **{name: getattr(runtime, name) for name in ("expand", "unbroadcast")}})
P, V, N = table.partials, table.vjp, table.nondiff
