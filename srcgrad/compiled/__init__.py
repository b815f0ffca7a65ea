"""The compile stage (after ``backend``, optional): generated derivatives compiled
to native code with Numba (``backend="numba"``; numba is the ``srcgrad[numba]``
extra, never required by the core).

Contract: ``numba_function(...)`` takes what ``backend.emit`` produced with typed
tapes (one list per group of pushed names, each holding values of one type) and
returns a function with the emitted function's signature that

- runs the code compiled in nopython mode (``boundscheck=True``: an index out of
  range raises IndexError, as Python does, instead of reading memory; the Python
  error model: a division by zero raises), compiled on the first call for the
  argument types of that call, numba's warnings silenced;
- runs the same source in Python instead, for good, if numba cannot compile it,
  after one ``CompiledFallbackWarning`` naming the construct and the user's line:
  never an error and never another number;
- passes the module-level arrays the code reads (a global weight matrix, a
  constant) as arguments on every call: numba freezes the globals it reads, and an
  array changed in place must be seen as Python sees it.

The numbers are those of the Python backend up to rounding: the source is the
same apart from the tapes, and numba evaluates NumPy calls with its own kernels
(``overloads`` adds the forms the generated code uses that numba lacks: reductions
over an axis given as a tuple or with ``keepdims``, srcgrad's run-time helpers).
``cache=True`` writes the source under ``cache_dir()`` and lets numba keep the
machine code beside it, so another process skips the compile.
"""

from .numba_backend import (
    BACKENDS,
    CheckpointedInPython,
    CompiledFallbackWarning,
    cache_dir,
    check_backend,
    compiled_source,
    numba_function,
)

__all__ = ["BACKENDS", "CheckpointedInPython", "CompiledFallbackWarning", "cache_dir",
           "check_backend", "compiled_source", "numba_function"]
