"""Keeping a Dask gradient lazy: nothing is computed while the derivative code runs.

Contract. Inside ``nothing_computed()``, every computation Dask is asked for by the
thread that entered (``bool(x)`` for an ``if`` or ``while`` on a Dask value,
``float(x)``, ``math.exp(x)``, ``np.asarray(x)``, a write of a Dask value into a
NumPy array, a NumPy function Dask does not implement, ``x.compute()``) raises
``arrays.NotLazy`` saying what asked and what to write instead, before anything
runs. The derivative of Dask arrays is a graph, computed when the user computes it
(``dask.compute(grads)``, a ``Client``...), whole data sets never in one process;
a value the code needs now would be computed silently, the whole graph up to it,
so it is refused (srcgrad does not guess that a scalar is cheap).

How: Dask's own hook. ``dask.config``'s ``scheduler`` option is set to ``_refuse``
while some thread is inside (the first to enter sets it, the last to leave puts
back what was there); ``_refuse`` raises for the threads inside and hands other
threads' graphs to the scheduler they would have had (the one configured before, a
distributed ``Client``'s, else Dask's threads). ``dask`` is imported on the first
entry: only calls with Dask arrays enter.

Limit: the option is process-wide. Another thread that sets Dask's scheduler itself
(``with dask.config.set(scheduler=...)``) while a gradient is being built replaces
``_refuse`` for that while, and a computation the gradient's code asks for then is not
refused (it runs); if that thread restores ``_refuse`` after the last gradient left,
``_refuse`` hands every graph to the scheduler before it (no thread is inside).
"""

from __future__ import annotations

import contextlib
import sys
import threading
import types
from collections.abc import Callable, Iterator
from typing import Any

from .arrays import NotLazy

__all__ = ["nothing_computed"]

_LOCK = threading.Lock()
_INSIDE: dict[int, int] = {}  # thread id -> depth
_RESTORE: list[Any] = []  # the dask.config.set that put _refuse in place (to exit)
_BEFORE: list[object] = []  # the scheduler option it replaced


@contextlib.contextmanager
def nothing_computed() -> Iterator[None]:
    """Refuse (``NotLazy``) any Dask computation this thread asks for inside."""
    import dask

    me = threading.get_ident()
    with _LOCK:
        if not _INSIDE:
            before = dask.config.get("scheduler", None)
            if before is not _refuse:  # (left in place by another thread's config.set:
                _BEFORE[:] = [before]  # the one before it still holds)
            setting = dask.config.set(scheduler=_refuse)
            _RESTORE[:] = [setting]
        _INSIDE[me] = _INSIDE.get(me, 0) + 1
    try:
        yield
    finally:
        with _LOCK:
            _INSIDE[me] -= 1
            if not _INSIDE[me]:
                del _INSIDE[me]
            if not _INSIDE:
                _RESTORE.pop().__exit__(None, None, None)


def _refuse(dsk: object, keys: object, **kwargs: Any) -> Any:
    """The scheduler while some thread is inside: ``NotLazy`` for those threads."""
    if threading.get_ident() not in _INSIDE:
        return _elsewhere()(dsk, keys, **kwargs)
    raise NotLazy(*_what_computes(sys._getframe(1)))


def _elsewhere() -> Callable[..., Any]:
    """The scheduler another thread would have had."""
    from dask import base, threaded

    before = _BEFORE[0] if _BEFORE else None
    if before is not None and before is not _refuse:
        return base.get_scheduler(scheduler=before)
    try:
        from distributed import get_client

        return get_client().get
    except (ImportError, ValueError):
        return threaded.get


_BY_METHOD = {
    "__bool__": ("an if, a while or bool() on a Dask value",
                 "Decide the condition before the call and pass it as an argument "
                 "(bool(cond.compute())), or choose elementwise with np.where, which "
                 "stays lazy."),
    "__array__": ("a Dask value made a NumPy array (np.asarray, np.array, or a write "
                  "of it into a NumPy array)",
                  "Keep it a Dask array: pass the array written into as a Dask array "
                  "too (da.from_array), or compute the data before the call if it fits "
                  "in memory."),
}
_NUMBER = ("a Python number made of a Dask value (float(), int(), an index, or a math "
           "function)", "Keep it an array: np.exp rather than math.exp, np.where "
           "rather than an if.")
for _m in ("__float__", "__int__", "__index__", "__complex__"):
    _BY_METHOD[_m] = _NUMBER


def _what_computes(frame: types.FrameType | None) -> tuple[str, str]:
    """(what asked Dask to compute, what to write instead), from the stack."""
    while frame is not None:
        name = frame.f_code.co_name
        if name == "handle_nonmatching_names":  # dask's __array_function__ fallback
            func = frame.f_locals.get("func")
            called = f"{getattr(func, '__module__', 'numpy')}.{getattr(func, '__name__', '?')}"
            called = called.replace("numpy.", "np.", 1)
            return (f"{called}, which Dask does not implement (Dask would compute its "
                    "arguments to call NumPy's)", "Use a function Dask implements (see "
                    "the dask.array API), or compute the data before the call if it fits "
                    "in memory.")
        if name in _BY_METHOD:
            return _BY_METHOD[name]
        frame = frame.f_back
    return ("a computation of a Dask value (x.compute(), dask.compute)",
            "Return the lazy value: srcgrad's gradient of Dask arrays is a graph, "
            "computed when you compute it.")
