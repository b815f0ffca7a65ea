"""Numba compilation of emitted derivatives, and the fallback to Python (see the
package docstring for the contract)."""

from __future__ import annotations

import hashlib
import importlib.util
import linecache
import os
import re
import types
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from ..errors import Loc, SrcgradWarning, UsageError

BACKENDS = ("python", "numba")
# Numba's compile time grows fast with the number of parameters (a list of 1000 floats
# is 1000 of them: 53 s measured); past this many, the Python backend runs.
MAX_PARAMETERS = 64
_INSTALL = "pip install 'srcgrad[numba]'"


class CompiledFallbackWarning(SrcgradWarning):
    """Numba could not compile a derivative: it runs with the Python backend, which
    computes the same numbers; the message names the construct and the user's line."""

    hint = ("The Python backend computes the same numbers. `srcgrad show --backend numba` "
            "prints the code numba is given; a line written with the NumPy calls numba "
            "supports compiles.")


class CheckpointedInPython(CompiledFallbackWarning):
    """A gradient with a checkpointed loop runs with the Python backend (its snapshots
    are Python objects)."""

    hint = ("The Python backend computes the same numbers. Without srcgrad.checkpointed "
            "(or checkpoint=), numba compiles the gradient and keeps its tape.")


def check_backend(backend: object, cache: object = False) -> None:
    """A ``UsageError`` for a backend srcgrad does not have, or numba missing."""
    if backend not in BACKENDS:
        raise UsageError(f"backend={backend!r}: the backends are "
                         f"{', '.join(map(repr, BACKENDS))}")
    if not isinstance(cache, bool):
        raise UsageError(f"cache={cache!r}: True or False")
    if cache and backend != "numba":
        raise UsageError("cache=True keeps compiled code on disk: it needs backend='numba'")
    if backend == "numba" and importlib.util.find_spec("numba") is None:
        raise UsageError(f"backend='numba' needs numba, which is not installed: {_INSTALL}")


def cache_dir() -> str:
    """Where ``cache=True`` keeps generated sources and numba its machine code:
    ``$SRCGRAD_CACHE_DIR``, else ``~/.cache/srcgrad``."""
    return os.environ.get("SRCGRAD_CACHE_DIR") or os.path.join(
        os.path.expanduser("~"), ".cache", "srcgrad")


def compiled_source(source: str, namespace: dict[str, object], name: str
                    ) -> tuple[str, tuple[str, ...]]:
    """The source numba compiles and the module-level arrays it takes as trailing
    parameters: numba would freeze them at their values when compiled."""
    arrays = tuple(sorted(k for k, v in namespace.items() if isinstance(v, np.ndarray)))
    if not arrays:
        return source, ()
    head = f"def {name}("
    start = source.index(head)
    end = source.index("):", start)
    params = source[start + len(head):end]
    joined = f"{params}, {', '.join(arrays)}" if params else ", ".join(arrays)
    return source[:start] + head + joined + source[end:], arrays


def numba_function(source: str, namespace: dict[str, object], name: str, filename: str,
                   locs: dict[int, tuple[Loc, str]], where: Loc | None, cache: bool = False
                   ) -> tuple[Callable[..., Any], str, str]:
    """The compiled function for ``source``, with the emitted function's parameters,
    the file name its code (and its Python fallback's) runs under, and the source it
    compiles (``compiled_source``'s)."""
    import numba

    from . import overloads  # noqa: F401 - registers the forms numba lacks

    body, arrays = compiled_source(source, namespace, name)
    head = f"def {name}("
    start = source.index(head) + len(head)
    params = [p.strip() for p in source[start:source.index("):", start)].split(",") if p.strip()]
    if cache:
        filename = _cached_file(body, name, _constants(body, namespace))
    ns = {"__name__": __name__, **namespace}  # (numba's cache imports a function's module)
    linecache.cache[filename] = (len(body), None, body.splitlines(True), filename)
    exec(compile(body, filename, "exec"), ns)  # noqa: S102 - our own generated code
    python_fn: Callable[..., Any] = ns[name]  # type: ignore[assignment]
    jit = numba.njit(python_fn, boundscheck=True, error_model="python", cache=cache)
    run = _Run(jit, python_fn, numba.core.errors.NumbaError, body, filename, locs, where)
    run.refused = _module_arrays(body, namespace)
    args = ", ".join(params)
    call = ", ".join(params + list(arrays))
    text = (f"def {name}({args}):\n"
            f"    try:\n"
            f"        return _sg_run({call})\n"
            f"    except Exception as _sg_exc:\n"
            f"        return _sg_failed(_sg_exc, ({call}{',' if call else ''}))\n")
    wrapper_ns: dict[str, object] = {k: namespace[k] for k in arrays}
    wrapper_ns.update(_sg_run=run.first if len(params) <= MAX_PARAMETERS else run.too_many,
                      _sg_failed=run.failed)
    run.globals = wrapper_ns
    exec(compile(text, f"<srcgrad numba call {name}>", "exec"), wrapper_ns)  # noqa: S102
    return wrapper_ns[name], filename, body  # type: ignore[return-value]


class _Run:
    """What the wrapper calls: ``first`` compiles (numba's warnings silenced) and calls;
    ``failed`` handles an exception of the compiled code, or of a later compile for
    other argument types."""

    def __init__(self, jit: Any, python_fn: Callable[..., Any], numba_error: type,
                 source: str, filename: str, locs: dict[int, tuple[Loc, str]],
                 where: Loc | None):
        self.jit, self.python_fn, self.numba_error = jit, python_fn, numba_error
        self.source, self.filename, self.locs, self.where = source, filename, locs, where
        self.globals: dict[str, object] = {}
        self.refused = ""  # a reason not to compile this source at all

    def first(self, *args: object) -> object:
        import numba

        refused = self.refused or _refused_arguments(args)
        if refused:
            return self.fall_back(None, args, refused)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # numba's: reflected lists, contiguity...
                signature = tuple(numba.typeof(a) for a in args)
                self.jit.compile(signature)
            refused = _integer_arithmetic(self.jit, signature)
        except Exception as exc:  # whatever numba cannot type or lower
            return self.fall_back(exc, args)
        if refused:
            return self.fall_back(None, args, refused)
        self.globals["_sg_run"] = self.jit
        return self.jit(*args)

    def too_many(self, *args: object) -> object:
        self.globals["_sg_run"] = self.python_fn
        CompiledFallbackWarning(
            f"numba is not used for a derivative of {len(args)} parameters (its compile "
            f"time grows with their number; more than {MAX_PARAMETERS}: a list or tuple of "
            "numbers counts one per entry: pass them as one array to compile it); it runs "
            "with the Python backend",
            self.where or Loc(self.filename, 1, 0)).warn()
        return self.python_fn(*args)

    def failed(self, exc: Exception, args: tuple[object, ...]) -> object:
        from .overloads import NeedsPython

        if self.globals["_sg_run"] is self.python_fn:  # Python's own error: as it is
            raise exc
        if isinstance(exc, NeedsPython):  # Python warns or raises at the user's line, or
            return self.python_fn(*args)  # gives the inf or NaN it gives
        if isinstance(exc, self.numba_error):  # compiling for new argument types
            return self.fall_back(exc, args)
        # An error at run time: Python's run of the same source raises it where the
        # dispatcher can point at the user's line (numba's frames have no lines).
        out = self.python_fn(*args)
        self.globals["_sg_run"] = self.python_fn
        message, loc = self.describe(exc)
        CompiledFallbackWarning(
            f"numba cannot compile this derivative (the compiled code raised "
            f"{_first_line(exc)} where Python does not); it runs with the Python backend",
            loc).warn()
        return out

    def fall_back(self, exc: Exception | None, args: tuple[object, ...],
                  why: str | None = None) -> object:
        """From now on the Python function runs, and computes this call's result."""
        self.globals["_sg_run"] = self.python_fn
        message, loc = self.describe(exc) if exc is not None else ("", self.where)
        CompiledFallbackWarning(
            f"numba cannot compile this derivative ({why or message}); it runs with the "
            "Python backend", loc or Loc(self.filename, 1, 0)).warn()
        return self.python_fn(*args)

    def describe(self, exc: Exception) -> tuple[str, Loc]:
        """The construct numba refused and the user's line its code differentiates."""
        text = str(exc)
        lines = self.source.splitlines()
        name = re.escape(self.filename)
        found = re.search(rf'File "{name}", line (\d+)|at {name} \((\d+)\)', text)
        loc = self.where
        construct = _summary(text)
        if found:
            lineno = int(found.group(1) or found.group(2))
            mapped = next((self.locs[k] for k in range(lineno, 0, -1) if k in self.locs), None)
            if mapped is not None:
                loc = mapped[0]
            if 0 < lineno <= len(lines):
                construct += f", at `{lines[lineno - 1].strip()}`"
        return construct, loc or Loc(self.filename, 1, 0)


def _constants(source: str, namespace: dict[str, object]) -> str:
    """The values numba compiles in as constants: the module-level names ``source``
    reads that are neither functions nor modules, and the attributes it reads of
    modules (``config.ALPHA``), as text."""
    found = [(k, repr(v)) for k, v in namespace.items()
             if not callable(v) and not isinstance(v, types.ModuleType)]
    for alias, module in namespace.items():
        if isinstance(module, types.ModuleType):
            for attr in set(re.findall(rf"\b{re.escape(alias)}\.(\w+)", source)):
                value = getattr(module, attr, None)
                if not callable(value) and not isinstance(value, types.ModuleType):
                    found.append((f"{alias}.{attr}", repr(value)))
    return repr(sorted(found))


def _module_arrays(source: str, namespace: dict[str, object]) -> str:
    """Why ``source`` is not given to numba ('' if it is): it reads an array as an
    attribute of a module (``config.W``), which numba would freeze at its value when
    compiled (arrays read by name are passed on every call: ``compiled_source``)."""
    for alias, module in namespace.items():
        if not isinstance(module, types.ModuleType) or module is np:
            continue
        for attr in set(re.findall(rf"\b{re.escape(alias)}\.(\w+)", source)):
            if isinstance(getattr(module, attr, None), np.ndarray):
                return (f"it reads the array {alias}.{attr}, which numba would freeze at "
                        f"its value now; read it by name (from {module.__name__} import "
                        f"{attr}) or pass it as an argument")
    return ""


def _refused_arguments(args: tuple[object, ...]) -> str:
    """Why arguments are not given to numba ('' if they are): float32 and other
    non-float64 floats, whose sums numba accumulates one at a time and whose
    promotions differ from NumPy's (other numbers than NumPy's)."""
    for a in args:
        dtype = getattr(a, "dtype", None)
        if dtype is not None and dtype.kind in "fc" and dtype not in (np.float64, np.complex128):
            return (f"a {dtype} argument: numba rounds and promotes {dtype} arithmetic "
                    "otherwise than NumPy; float64 arguments compile")
    return ""


def _integer_arithmetic(jit: Any, signature: tuple[Any, ...]) -> str:
    """'' unless the compiled code multiplies or raises integers to a power: numba's
    integers are 64-bit (they wrap where Python's grow) and ``n ** -2`` is an integer
    0 in numba, 0.25 in Python."""
    import operator

    from numba import types

    annotation = jit.overloads[signature].type_annotation
    if not hasattr(annotation, "calltypes"):  # loaded from cache=True's files
        return "" if os.path.exists(jit.py_func.__code__.co_filename + ".checked") else \
            "machine code from the cache that this check has not seen"
    for expr, sig in annotation.calltypes.items():
        if getattr(expr, "op", None) in ("binop", "inplace_binop") and \
                getattr(expr, "fn", None) in (operator.mul, operator.imul, operator.pow,
                                              operator.ipow) and \
                isinstance(sig.return_type, types.Integer):
            return ("integer multiplication or power: numba's integers are 64-bit and "
                    "wrap where Python's grow, and an integer to a negative power is 0 "
                    "where Python gives a float")
    source_file = jit.py_func.__code__.co_filename
    if os.path.exists(source_file):  # cache=True: later processes load what passed
        with open(source_file + ".checked", "w") as out:
            out.write("numba_backend._integer_arithmetic found nothing\n")
    return ""


def _first_line(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"


def _summary(text: str) -> str:
    """numba's message in a line: what has no implementation, or the first reason."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    lines = [line for line in lines if not line.startswith("Failed in ")]
    signature = next((line[3:].strip() for line in lines if line.startswith(">>>")), None)
    first = re.sub(r" at 0x[0-9a-f]+", "", lines[0] if lines else "unknown")
    return f"{first} {signature}" if signature else first


def _cached_file(source: str, name: str, values: str) -> str:
    """The file holding ``source`` in the cache (written once): numba caches the
    machine code of a function defined in a file, beside it. The file's name hashes
    the source, ``values`` (the numbers and strings the code reads from its module,
    which numba compiles in as constants), numba's version and optimization level
    (its cache index keys on neither)."""
    import numba

    key = hashlib.sha256(f"{numba.__version__} {numba.config.OPT}\n{values}\n{source}"
                         .encode()).hexdigest()[:20]
    folder = os.path.join(cache_dir(), "numba")
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, f"{name}_{key}.py")
    if not os.path.exists(path):
        tmp = f"{path}.{os.getpid()}.tmp"
        with open(tmp, "w") as out:
            out.write(source)
        os.replace(tmp, path)  # atomic: a concurrent process sees all of it or nothing
    return path
