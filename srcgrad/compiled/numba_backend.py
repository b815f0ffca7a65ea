"""Numba compilation of emitted derivatives, and the fallback to Python (see the
package docstring for the contract)."""

from __future__ import annotations

import hashlib
import importlib.util
import linecache
import os
import re
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
                   ) -> tuple[Callable[..., Any], str]:
    """The compiled function for ``source`` (``compiled_source``'s), with the emitted
    function's parameters, and the file name its code (and its Python fallback's) runs
    under."""
    import numba

    from . import overloads  # noqa: F401 - registers the forms numba lacks

    body, arrays = compiled_source(source, namespace, name)
    head = f"def {name}("
    start = source.index(head) + len(head)
    params = [p.strip() for p in source[start:source.index("):", start)].split(",") if p.strip()]
    if cache:
        filename = _cached_file(body, name)
    ns = {"__name__": __name__, **namespace}  # (numba's cache imports a function's module)
    linecache.cache[filename] = (len(body), None, body.splitlines(True), filename)
    exec(compile(body, filename, "exec"), ns)  # noqa: S102 - our own generated code
    python_fn: Callable[..., Any] = ns[name]  # type: ignore[assignment]
    jit = numba.njit(python_fn, boundscheck=True, error_model="python", cache=cache)
    run = _Run(jit, python_fn, numba.core.errors.NumbaError, body, filename, locs, where)
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
    return wrapper_ns[name], filename  # type: ignore[return-value]


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

    def first(self, *args: object) -> object:
        import numba

        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # numba's: reflected lists, contiguity...
                self.jit.compile(tuple(numba.typeof(a) for a in args))
        except Exception as exc:  # whatever numba cannot type or lower
            return self.fall_back(exc, args)
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

        if isinstance(exc, NeedsPython):  # Python's helper warns at the user's line
            return self.python_fn(*args)
        if isinstance(exc, self.numba_error):  # compiling for new argument types
            return self.fall_back(exc, args)
        # An error at run time: Python's run of the same source raises it where the
        # dispatcher can point at the user's line (numba's frames have no lines).
        out = self.python_fn(*args)
        self.fall_back(exc, args, "the compiled code raised " + _first_line(exc) +
                       " where Python does not")
        return out

    def fall_back(self, exc: Exception, args: tuple[object, ...], why: str | None = None
                  ) -> object:
        """From now on the Python function runs; the result of this call is computed
        by it (unless ``why``: the caller has it already)."""
        self.globals["_sg_run"] = self.python_fn
        message, loc = self.describe(exc)
        CompiledFallbackWarning(
            f"numba cannot compile this derivative ({why or message}); it runs with the "
            "Python backend", loc).warn()
        return None if why else self.python_fn(*args)

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


def _first_line(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"


def _summary(text: str) -> str:
    """numba's message in a line: what has no implementation, or the first reason."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    lines = [line for line in lines if not line.startswith("Failed in ")]
    signature = next((line[3:].strip() for line in lines if line.startswith(">>>")), None)
    first = re.sub(r" at 0x[0-9a-f]+", "", lines[0] if lines else "unknown")
    return f"{first} {signature}" if signature else first


def _cached_file(source: str, name: str) -> str:
    """The file holding ``source`` in the cache (written once): numba caches the
    machine code of a function defined in a file, beside it."""
    import numba

    key = hashlib.sha256(f"{numba.__version__}\n{source}".encode()).hexdigest()[:20]
    folder = os.path.join(cache_dir(), "numba")
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, f"{name}_{key}.py")
    if not os.path.exists(path):
        tmp = f"{path}.{os.getpid()}.tmp"
        with open(tmp, "w") as out:
            out.write(source)
        os.replace(tmp, path)  # atomic: a concurrent process sees all of it or nothing
    return path
