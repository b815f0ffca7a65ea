"""The frontend stage: a Python function's source to IR.

``parse`` captures the function (its source, its syntax tree, the names it reads from
outside, the syntax fence); ``lower`` turns that into an ``ir.Function``. Lowering is a
core (``lower.Lowerer``: dispatch through the fence's tables, assignments, operators,
indexing) and parts that receive its explicit state (``state.LoweringState``): ``flow``
(if/for/while), ``calls`` (calls and helpers inlined), ``structs`` (tuples, records,
lists), ``inplace`` (``w += t`` through aliases), ``function`` (parameters and bodies)
and ``names`` (names read from outside); ``jumps`` removes break/continue/return first
and ``views`` guards writes through views last.
"""

from .lower import lower
from .parse import Assumption, Source, capture

__all__ = ["Assumption", "Source", "capture", "lower"]
