"""The frontend stage: a Python function's source to IR.

``parse`` captures the function (its source, its syntax tree, the names it reads from
outside, the syntax fence); ``lower`` turns that into an ``ir.Function``, with its parts
in ``flow`` (if/for/while), ``calls`` (calls and helpers inlined), ``structs`` (tuples,
records, lists), ``jumps`` (break/continue/return removed first), ``inplace`` (``w += t``
through aliases) and ``views`` (writes through views guarded).
"""

from .lower import lower
from .parse import Assumption, Source, capture

__all__ = ["Assumption", "Source", "capture", "lower"]
