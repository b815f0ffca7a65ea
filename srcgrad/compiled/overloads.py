"""Numba implementations of what generated code calls that numba lacks: imported
(registering them) when the numba backend first compiles.

Each is an ``overload`` of the function the code calls, so the code numba is given
is the code the Python backend runs: NumPy reductions over an axis (numba's
``np.max``/``np.min`` take no ``axis``; ``np.sum`` no tuple of axes), and srcgrad's
run-time helpers. An overload returns None for argument types it does not handle,
leaving them to numba's own implementations (or to a typing error, which makes the
derivative run in Python: ``CompiledFallbackWarning``).
"""

from . import helpers, reductions, slopes  # noqa: F401 - each registers its overloads
from .literals import NeedsPython

__all__ = ["NeedsPython"]
