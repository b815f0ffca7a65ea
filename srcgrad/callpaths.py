"""The dispatcher's paths from a call to the generated code (``dispatch``'s helpers).

Contract: a call with array arguments runs ``Shaped.call``, written out for its
argument count and array positions: one dict lookup on the arrays' shapes and
dtypes, then the derivative specialized on them (built on the first call of each
combination, after the argument checks). A call whose arguments are floats and
lists or tuples of floats alone (``floats_key``) skips the checks and the
flattening of structured arguments once its lengths were met
(``floats_result``). Both return exactly what the general path returns: the same
derivative, fed the same leaves.

A call with Dask or CuPy arrays among its arguments (``arrays.foreign``) runs
``Dispatched.call``: the derivative not specialized on shapes (the run-time helpers
decide at run time, on the arrays themselves: ``runtime.foreign``), keyed on each
argument's type and dtype, through ``run_foreign``: its source loaded where ``np``
completes what the array library lacks (``arrays.completed``), run for Dask under
``lazy.nothing_computed``, so that what it returns is a graph. What the code cannot
do on those arrays (a value it needs now, an operation the library refuses) is a
located ``UsageError`` at the user's line, never a computation behind the user's
back.
"""

from __future__ import annotations

import contextlib
import os
import traceback
import weakref
from collections.abc import Callable
from typing import Any

from . import arrays, checks, lazy, runtime
from .build import Derivative, _load, _located_runtime_error, array_key
from .errors import SrcgradError, UsageError


def floats_key(args: tuple[object, ...]) -> tuple[object, ...] | None:
    """For arguments that are floats and lists or tuples of floats alone (a recurrence
    over a list of numbers): their types and lengths, which fix the derivative and how
    its results are put back; None for any other call."""
    key: list[object] = []
    for a in args:
        t = type(a)
        if t is float:
            key.append(t)
        elif isinstance(a, (list, tuple)) and (t is list or t is tuple) and \
                all(type(v) is float for v in a):
            key.append((t, len(a)))
        else:
            return None
    return tuple(key)


def floats_result(d: Derivative, args: tuple[object, ...], indices: tuple[int, ...],
                   grads_only: bool) -> object:
    """What ``dispatch._structured`` returns for such arguments: the leaves passed in order, each
    list's (tuple's) gradient a list (tuple) of its leaves' adjoints."""
    leaves: list[object] = []
    for a in args:
        if isinstance(a, (list, tuple)):
            leaves.extend(a)
        else:
            leaves.append(a)
    out = d.fn(*leaves)
    grads, k = [], 1
    for i in indices:
        a = args[i]
        if isinstance(a, (list, tuple)):
            grads.append(type(a)(out[k:k + len(a)]))
            k += len(a)
        else:
            grads.append(out[k])
            k += 1
    if grads_only:
        return grads[0] if len(grads) == 1 else tuple(grads)
    return (out[0], *grads)


class Shaped:
    """Calls the derivative specialized on the shapes of the array arguments (one per
    shape combination, built on first use; see ``transform/shapes.py``). Keyed on dtypes too:
    arrays of one type can hold integers (which ``check`` refuses: it is given the
    arguments on each new key) or complex numbers (a derivative of their own)."""

    def __init__(self, build: Callable[[tuple[object, ...], tuple[int, ...], tuple[object, ...]],
                                         Derivative],
                 arrays: tuple[int, ...], n: int,
                 check: Callable[[tuple[object, ...]], None] = lambda args: None):
        self.build, self.arrays, self.n, self.check = build, arrays, n, check
        self.key = _key_function(arrays)
        self.table: dict[tuple[object, ...], Derivative] = {}
        self.fns: dict[tuple[object, ...], Callable[..., Any]] = {}  # the same, their code
        self.by_shapes: dict[tuple[object, ...], Derivative] = {}
        self.call = _shaped_call(arrays, n, self.fns, self.miss)

    def miss(self, *args: Any) -> object:
        """A call with shapes or dtypes not met before: build (or find) its derivative."""
        self.check(args)
        shapes, dtypes = array_key(args)
        assert shapes is not None and dtypes is not None  # (NumPy arrays here, no others)
        cplx = checks.complex_positions(args)
        if (shapes, cplx, dtypes) not in self.by_shapes:
            self.by_shapes[shapes, cplx, dtypes] = self.build(shapes, cplx, dtypes)
        key = self.key(args)
        d = self.table[key] = self.by_shapes[shapes, cplx, dtypes]
        self.fns[key] = d.fn
        return d.fn(*args)

    def derivative_for(self, args: tuple[object, ...]) -> Derivative | None:
        """The derivative that calls with ``args``' shapes and dtypes run (made yet?)."""
        return self.table.get(self.key(args))


def _shaped_call(arrays: tuple[int, ...], n: int, fns: dict[tuple[object, ...], Callable[..., Any]],
                 miss: Callable[..., object]) -> Callable[..., object]:
    """``Shaped``'s call, written out for its argument count and array positions: one
    dict lookup on the arrays' shapes and dtypes, then the code (the dispatcher's own cost
    per call stays a fraction of a microsecond)."""
    params = ", ".join(f"a{i}" for i in range(n))
    key = "".join(f"a{i}.shape, a{i}.dtype, " for i in arrays)
    text = (f"def call({params}):\n"
            f"    fn = fns.get(({key}))\n"
            f"    if fn is None:\n"
            f"        return miss({params})\n"
            f"    return fn({params})\n")
    namespace: dict[str, Any] = {"fns": fns, "miss": miss}
    exec(compile(text, "<srcgrad shaped call>", "exec"), namespace)  # noqa: S102 - ours
    call: Callable[..., object] = namespace["call"]
    return call


_KEYS: dict[tuple[int, ...], Callable[[tuple[object, ...]], tuple[object, ...]]] = {}


def _key_function(arrays: tuple[int, ...]) -> Callable[[tuple[object, ...]], tuple[object, ...]]:
    """``args -> (args[i].shape, args[i].dtype, ...)`` for ``i`` in ``arrays``, written out:
    a call pays attribute reads and one tuple, no loop (the dispatcher's own cost)."""
    fn = _KEYS.get(arrays)
    if fn is None:
        parts = "".join(f"a[{i}].shape, a[{i}].dtype, " for i in arrays)
        fn = _KEYS[arrays] = eval(f"lambda a: ({parts})")  # noqa: S307 - our own text
    return fn


class Dispatched:
    """Calls with Dask or CuPy arrays: ``build(complex positions)`` makes the derivative
    (not specialized on shapes), one per combination of argument types and dtypes, run
    by ``run_foreign``; ``check`` runs on the arguments of every call."""

    def __init__(self, build: Callable[[tuple[int, ...]], Derivative],
                 check: Callable[[tuple[object, ...]], None]):
        self.build, self.check = build, check
        self.table: dict[tuple[object, ...], Derivative] = {}

    def call(self, *args: object) -> object:
        key = tuple((type(a), getattr(a, "dtype", None)) for a in args)
        self.check(args)  # every call: a Dask array's chunks may be unknown this time
        d = self.table.get(key)
        if d is None:
            d = self.table[key] = self.build(checks.complex_positions(args))
        return run_foreign(d, args)

    def derivative_for(self, args: tuple[object, ...]) -> Derivative | None:
        return self.table.get(tuple((type(a), getattr(a, "dtype", None)) for a in args))


# By id of the derivative: it (weakly), and its code loaded for Dask and CuPy arrays.
_LOADED: dict[int, tuple[weakref.ref[Derivative], Callable[..., Any]]] = {}


def run_foreign(d: Derivative, args: tuple[object, ...] | list[object]) -> Any:
    """``d``'s code run on arguments holding Dask or CuPy arrays (see the module
    docstring): its result, or a located error for what it cannot do on them."""
    kept = _LOADED.get(id(d))
    if kept is None or kept[0]() is not d:
        fn = _load(d.source, arrays.completed(d.namespace), d.ir.name, d.filename)
        kept = _LOADED[id(d)] = (weakref.ref(d), fn)
    libraries = arrays.foreign(args)
    guard = lazy.nothing_computed() if "dask" in libraries else contextlib.nullcontext()
    try:
        with guard:
            return kept[1](*args)
    except arrays.NotLazy as exc:
        raise _not_lazy(d, exc, libraries).with_traceback(None) from None
    except (SrcgradError, runtime.NotScalar):
        raise
    except Exception as exc:  # noqa: BLE001 - each located at the user's line
        if _refused_by_library(exc, libraries):
            raise _refused(d, exc, libraries).with_traceback(None) from None
        raise _located_runtime_error(d, exc).with_traceback(None) from None


def _where(d: Derivative, exc: BaseException) -> tuple[Any, str, str]:
    """(the user's location, the sweep, the generated line) where ``exc`` was raised."""
    frames = [fr for fr in traceback.extract_tb(exc.__traceback__) if fr.filename == d.filename]
    lineno = frames[-1].lineno if frames else None
    loc, sweep = d.locs.get(lineno, (None, "")) if lineno is not None else (None, "")
    line = d.source.splitlines()[lineno - 1].strip() if lineno else ""
    return loc or _located_runtime_error(d, exc).loc, sweep, line


def _not_lazy(d: Derivative, exc: arrays.NotLazy, libraries: tuple[str, ...]) -> UsageError:
    loc, sweep, line = _where(d, exc)
    code = f", in the {sweep} code of this line (`{line}`)" if sweep else ""
    helper = _runtime_helper(exc)
    if helper is not None:
        return UsageError(f"srcgrad's run-time helper {helper}, which the derivative of this "
                          f"line calls{code}, needs NumPy arrays: it would compute the Dask "
                          f"array ({exc.message})", loc, "Differentiate this function on "
                          "NumPy arrays (compute its input first); the derivative of this "
                          "line is not written for Dask arrays.")
    return UsageError(f"this line needs the value of a Dask array now{code}: {exc.message}; "
                      "srcgrad's gradient of Dask arrays computes nothing until you compute "
                      "it", loc, exc.hint)


def _runtime_helper(exc: BaseException) -> str | None:
    """The run-time helper (called by generated code) on whose behalf ``exc`` was
    raised, if any: the outermost frame of ``srcgrad/runtime`` in its traceback."""
    for fr in traceback.extract_tb(exc.__traceback__):
        if fr.filename.startswith(_RUNTIME) and not fr.filename.endswith("foreign.py"):
            return fr.name
    return None


_RUNTIME = os.path.dirname(os.path.abspath(runtime.__file__)) + os.sep


def _refused_by_library(exc: BaseException, libraries: tuple[str, ...]) -> bool:
    """Whether ``exc`` came from the array library (raised in its code) or from NumPy
    handing it a call it does not implement (NotImplemented from its protocols)."""
    if any(f"/{lib}/" in fr.filename for fr in traceback.extract_tb(exc.__traceback__)
           for lib in libraries):
        return True
    text = str(exc)
    return any(s in text for s in ("NotImplemented", "no implementation found", "Array' object",
                                   *_INTO_NUMPY))


# What NumPy says when a Dask (CuPy) value is written into a NumPy array, or added to one
# in place (the array library refuses a NumPy ``out``).
_INTO_NUMPY = ("setting an array element with a sequence", "out parameter is not fully",
               "Implicit conversion to a NumPy array")


def _refused(d: Derivative, exc: BaseException, libraries: tuple[str, ...]) -> SrcgradError:
    loc, sweep, line = _where(d, exc)
    names = " and ".join(arrays.name(lib) for lib in libraries)
    code = f"in the {sweep} code of this line (`{line}`)" if sweep else "while it ran"
    if "'at'" in str(exc) and "NotImplemented" in str(exc):  # np.add.at: a scatter-add
        return UsageError(f"a scatter-add at indices that may repeat (np.add.at), {code}, "
                          f"which {names} arrays cannot do", loc, "This is the adjoint of a "
                          "read through an integer array (x[[0, 2, 2]], x[idx]) or np.take, "
                          "np.repeat: read with slices, or write the selection as a product "
                          "with a one-hot matrix (onehot @ x, np.sum(onehot * x, axis=1)).")
    if any(s in str(exc) for s in _INTO_NUMPY):
        return UsageError(f"an in-place update of a NumPy array with a {names} value, {code}",
                          loc, "The adjoint of an argument read by index (theta[0], "
                          "theta[1:]) is updated in place, and it is a NumPy array when the "
                          f"argument is one: pass that argument as a {names} array too "
                          "(dask.array.from_array(theta)), or split it into arguments of "
                          "their own (b, w rather than theta[0], theta[1:]).")
    return SrcgradError(f"{type(exc).__name__}: {exc}, {code}, on {names} arrays", loc,
                        f"NumPy handed this operation to {names} (its __array_function__ or "
                        "__array_ufunc__), which cannot do it here. An in-place update of "
                        "a NumPy array with such a value is one (pass that array as a "
                        f"{names} array too); see the user guide's 'Dask and CuPy arrays' "
                        "for what is supported.")
