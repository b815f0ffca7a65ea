"""The frontend stage: a Python function's source to IR.

``parse`` captures the function (its source and syntax tree, a lambda's or a bound
method's too, and the names it reads from outside: ``Assumption``); ``lower`` turns
that into an ``ir.Function``. Lowering is a core (``lower.Lowerer``: dispatch through
the syntax fence's tables, assignments, operators, indexing) and parts that receive its
explicit state (``state.LoweringState``): ``flow`` (if/for/while), ``calls`` (calls,
helpers inlined, calls through function values), ``values`` (function values and
sequences known while lowering: ``map``, ``reduce``, unrolled loops over them),
``objects`` (fields, methods and properties of object arguments), ``structs`` and
``carried`` (tuples, dicts, lists; structure carried by loops), ``unroll`` (dicts of
known keys, slices of known lists), ``comprehensions``, ``loopnames`` (names a loop
alone binds), ``statements`` (``assert``, no-op ``with``, refused statements),
``recursion`` (recursion unrolled on known structure), ``inplace`` (``w += t`` through
aliases), ``function`` (parameters and bodies; ``OUTPUT``, the key of ``structures``
that selects one leaf of a structured result) and ``names`` (names read from
outside); ``jumps`` rewrites break/continue/return and loop ``else`` before a body is
lowered, and ``views`` guards writes through views last.
"""

from .function import OUTPUT
from .lower import lower
from .parse import Assumption, Source, capture

__all__ = ["OUTPUT", "Assumption", "Source", "capture", "lower"]
