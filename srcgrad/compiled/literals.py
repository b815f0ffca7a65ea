"""What numba's types say about an argument when compiling (a literal, a default, a
count of axes), for the implementations in ``reductions``, ``helpers`` and
``slopes``; and ``NeedsPython``, which compiled code raises to have one call run in
Python."""

from __future__ import annotations

from typing import Any

from numba import types


def _static(t: Any) -> Any:
    """The value of an argument known when compiling (a default, a literal), else a
    marker that it is not known."""
    if t is None or isinstance(t, (bool, int)):
        return t
    if isinstance(t, types.Omitted):
        return t.value
    if isinstance(t, types.NoneType):
        return None
    if isinstance(t, types.Literal):
        return t.literal_value
    return _UNKNOWN


_UNKNOWN = object()


def _axis_count(axis: Any) -> int | None:
    """How many axes ``axis`` names: 1 for an integer, n for a tuple of n integers."""
    if isinstance(axis, types.Integer):
        return 1
    if isinstance(axis, types.BaseTuple) and all(isinstance(t, types.Integer) for t in axis):
        return len(axis)
    return None



_NUMBER = (types.Float, types.Integer)


class NeedsPython(Exception):
    """Raised by compiled code where Python's helper would warn (a derivative that does
    not exist at these arguments): the call runs again in Python, which warns at the
    user's line; the compiled code stays for the next call."""

