"""The array types srcgrad takes: NumPy's, and Dask's and CuPy's through NumPy's dispatch.

Contract. Generated code calls ``np.*`` and srcgrad's run-time helpers, which call
``np.*`` too; NumPy hands a call whose arguments include a Dask or CuPy array to
that library (``__array_function__``, ``__array_ufunc__``), so the same code computes
a Dask gradient from Dask arrays and a CuPy gradient from CuPy arrays. This module
says which is which, without importing either library (``import srcgrad`` imports
neither):

- ``library(x)``: ``"dask"`` for a ``dask.array.Array``, ``"cupy"`` for a
  ``cupy.ndarray``, None for anything else (NumPy arrays included);
- ``unsupported(x)``: another array type (an object with ``shape`` and ``dtype``
  that NumPy would convert, ``__array__``, or dispatch to, ``__array_function__``):
  ``refusal`` is the ``UsageError`` for it, naming its type and the supported ones;
- ``completed(namespace)``: the namespace generated code runs in for such arrays,
  where ``np`` is NumPy with what its own code needs and Dask lacks filled in
  (``np.size`` from the shape and ``np.copy`` as the array's ``copy()``, where Dask
  would compute the whole array to call NumPy's; ``np.reshape(..., order="C")``, the
  default, which Dask's reshape does not take): the source is unchanged;
- ``NotLazy``: what code running on such arrays raises where it cannot go on without
  computing (an unknown size here; ``lazy`` raises it for everything else).

Layering: imports ``errors`` alone (``pytrees`` and everything above use it).
"""

from __future__ import annotations

import math
import types
from collections.abc import Callable
from typing import Any

import numpy as np

from .errors import Loc, UsageError

__all__ = ["SUPPORTED", "NotLazy", "check", "completed", "foreign", "library", "name", "refusal",
           "unsupported"]

SUPPORTED = ("NumPy arrays (numpy.ndarray), and through NumPy's dispatch protocols "
             "Dask arrays (dask.array.Array) and CuPy arrays (cupy.ndarray)")
_NAMES = {"dask": "Dask", "cupy": "CuPy"}

_UNSEEN = object()
_LIBRARIES: dict[type, str | None] = {}  # by type: the dispatcher asks once per type


def library(value: object) -> str | None:
    """``"dask"``, ``"cupy"`` or None (NumPy arrays, numbers, anything else)."""
    t = type(value)
    known = _LIBRARIES.get(t, _UNSEEN)
    if known is _UNSEEN:
        known = _LIBRARIES[t] = _library_of(t)
    return known  # type: ignore[return-value]


def _library_of(t: type) -> str | None:
    if issubclass(t, (np.ndarray, np.generic)) or not hasattr(t, "__array_function__"):
        return None
    for k in t.__mro__:
        module = getattr(k, "__module__", None) or ""
        if k.__name__ == "Array" and module.startswith("dask.array"):
            return "dask"
        if k.__name__ == "ndarray" and (module == "cupy" or module.startswith("cupy.")):
            return "cupy"
    return None


def foreign(values: object) -> tuple[str, ...]:
    """The libraries (in order of first appearance) of the Dask and CuPy arrays among
    ``values`` (an iterable of arguments or leaves)."""
    found: list[str] = []
    for v in values:  # type: ignore[attr-defined]
        lib = library(v)
        if lib is not None and lib not in found:
            found.append(lib)
    return tuple(found)


def name(lib: str) -> str:
    """``"Dask"`` or ``"CuPy"``."""
    return _NAMES[lib]


def unsupported(value: object) -> bool:
    """An array of another type than those srcgrad takes: it has a shape and a dtype,
    and NumPy would convert it (``__array__``) or hand calls to it
    (``__array_function__``)."""
    t = type(value)
    if issubclass(t, (np.ndarray, np.generic)) or library(value) is not None:
        return False
    return (hasattr(t, "__array__") or hasattr(t, "__array_function__")) and \
        hasattr(value, "shape") and hasattr(value, "dtype")


def check(what: str, value: object, transform: str, takes: bool,
          loc: Callable[[], Loc | None]) -> None:
    """Refuse ``value`` (``what``: "argument 'x' of f", or a path in it) if it is an array
    of a type srcgrad does not take, a Dask array whose shape is not known, or a Dask
    or CuPy array given to a transform that does not take them (``takes``); ``loc``
    gives the caller's location (only for an error)."""
    if unsupported(value):
        raise refusal(what, value, loc())
    lib = library(value)
    if lib is None:
        return
    if not takes:
        raise UsageError(f"{transform} of {name(lib)} arrays is not supported: {what} is a "
                         f"{name(lib)} array", loc(), "grad and value_and_grad take Dask and "
                         "CuPy arrays; for this transform pass NumPy arrays (np.asarray(x), "
                         "x.compute()).")
    if any(isinstance(n, float) and math.isnan(n) for n in value.shape):  # type: ignore
        raise UsageError(f"{what} is a Dask array of unknown shape {value.shape}: its "  # type: ignore
                         "chunk sizes are known only once it is computed", loc(),
                         "Call x.compute_chunk_sizes() first (or make it without boolean "
                         "indexing): the derivative needs its shape.")


def refusal(what: str, value: object, loc: Loc | None) -> UsageError:
    """The error for an argument (``what``: "argument 'x' of f", or a path in it) of an
    unsupported array type."""
    t = type(value)
    protocol = "" if hasattr(t, "__array_function__") else \
        " (it has no __array_function__, so NumPy would convert it to a NumPy array)"
    return UsageError(f"{what} is a {t.__name__} ({t.__module__}.{t.__qualname__}), an array "
                      f"type srcgrad does not take{protocol}; it takes {SUPPORTED}", loc,
                      "Pass it as a NumPy array (np.asarray(x)), or as a Dask or CuPy array.")


class NotLazy(Exception):
    """Code running on Dask (or CuPy) arrays needed what it cannot have without
    computing: ``message`` says what, ``hint`` what to write instead."""

    def __init__(self, message: str, hint: str):
        super().__init__(message)
        self.message, self.hint = message, hint


def _size(a: Any, axis: int | None = None) -> Any:
    """``np.size``: for a Dask or CuPy array, the product of its shape."""
    if library(a) is None:
        return np.size(a, axis)
    shape = a.shape if axis is None else (a.shape[axis],)
    if any(isinstance(n, float) and math.isnan(n) for n in shape):
        raise NotLazy("the size of a Dask array whose shape is not known yet (after boolean "
                      "indexing, its chunk sizes are known only once computed)",
                      "Index with np.where(mask, x, 0) instead of x[mask], so that the "
                      "shape stays known, or call x.compute_chunk_sizes() before the call.")
    return math.prod(shape)


def _copy(a: Any, order: str = "K", subok: bool = False) -> Any:
    """``np.copy``: for a Dask or CuPy array, its ``copy()`` (Dask: a new array object on
    the same graph, which a later ``x[i] = v`` of the original does not change)."""
    if library(a) is None:
        return np.copy(a, order=order, subok=subok)  # type: ignore[call-overload]
    return a.copy()


_MODULE_OWN = frozenset({"__name__", "__doc__", "__spec__", "__loader__", "__path__", "__file__",
                         "__cached__", "__package__"})


def _reshape(a: Any, *args: Any, **kwargs: Any) -> Any:
    """``np.reshape``: for a Dask array, without ``order="C"`` (its default, which the
    adjoints of reshapes spell and Dask's reshape does not take)."""
    if library(a) == "dask" and kwargs.get("order", "C") == "C":
        kwargs.pop("order", None)
        if "newshape" in kwargs:  # (NumPy's older spelling)
            kwargs["shape"] = kwargs.pop("newshape")
        if args and isinstance(args[0], (int, np.integer)):  # x.reshape(-1): Dask wants
            args = ((int(args[0]),), *args[1:])  # a tuple
        if isinstance(kwargs.get("shape"), (int, np.integer)):
            kwargs["shape"] = (int(kwargs["shape"]),)
    return np.reshape(a, *args, **kwargs)


def _completed_numpy() -> types.ModuleType:
    module = types.ModuleType("numpy", "NumPy, with np.size, np.copy and np.reshape of Dask "
                                       "and CuPy arrays done by srcgrad.arrays")
    module.__dict__.update({k: v for k, v in vars(np).items() if k not in _MODULE_OWN})
    module.size = _size  # type: ignore[attr-defined]
    module.copy = _copy  # type: ignore[attr-defined]
    module.reshape = _reshape  # type: ignore[attr-defined]
    return module


NUMPY = _completed_numpy()
_REPLACED: dict[int, object] = {id(np): NUMPY, id(np.size): _size, id(np.copy): _copy,
                                 id(np.reshape): _reshape}


def completed(namespace: dict[str, object]) -> dict[str, object]:
    """A copy of generated code's ``namespace`` with NumPy (and ``np.size``, ``np.copy``
    read by names of their own) replaced by ``NUMPY``'s."""
    return {k: _REPLACED.get(id(v), v) for k, v in namespace.items()}
