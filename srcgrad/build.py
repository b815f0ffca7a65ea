"""Building and caching derivatives: the pipeline, run once per specialization.

``STAGES`` lists the pipeline in order. Per user function an ``_Entry`` keeps
its lowered IR (per structure of its structured arguments, ``pytrees``) and one
``Derivative`` per (wrt, seed, argument kinds, shapes, disabled passes,
gradient only); ``api`` decides which one a call needs. A bound method's entry
(``_bound_entry``) is kept per instance and function, holding the instance weakly.
Anything unexpected while building becomes a located ``InternalError``; a failure of generated
code at run time is reported at the user's expression it came from.
"""

from __future__ import annotations

import inspect
import itertools
import linecache
import numbers
import os
import sys
import traceback
import types
import weakref
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from . import arrays, backend, compiled, frontend, ir, optimize, runtime, transform
from .errors import (
    InternalError,
    Loc,
    SourceUnavailable,
    SrcgradError,
    SrcgradWarning,
    UndefinedDerivativeWarning,
    UnsupportedSyntax,
    UsageError,
    one_warning_per_build,
)

STAGES = ("capture", "lower", "reverse", "optimize", "emit", "load")
_KINDS: dict[type, str] = {float: transform.SCALAR, int: transform.SCALAR, bool: transform.SCALAR}
_counter = itertools.count(1)


@dataclass
class Derivative:
    """One generated derivative: its IR, source text and loaded function."""

    primal: ir.Function
    ir: ir.Function
    source: str
    fn: Callable
    filename: str
    locs: dict[int, tuple[Loc, str]]  # line of source -> user location, sweep
    # The module-level names ``source`` reads, when ``fn`` is not the function the
    # source defines (the numba backend's wrapper): else ``fn.__globals__``.
    names: dict[str, object] | None = None

    def __post_init__(self) -> None:
        _LOCS[self.filename] = self.locs

    @property
    def namespace(self) -> dict[str, object]:
        return self.fn.__globals__ if self.names is None else self.names


# Generated file name -> its line map, for warnings the run-time helpers give while it
# runs (kept as long as linecache keeps the source, for the life of the process).
_LOCS: dict[str, dict[int, tuple[Loc, str]]] = {}


def _report_undefined(message: str) -> bool:
    """Issue ``message`` as an ``UndefinedDerivativeWarning`` at the user's line that the
    innermost generated code on the stack differentiates; False if none is running."""
    frame: types.FrameType | None = sys._getframe(1)
    while frame is not None:
        locs = _LOCS.get(frame.f_code.co_filename)
        where = locs.get(frame.f_lineno) if locs is not None else None
        if where is not None:
            UndefinedDerivativeWarning(message, where[0]).warn()
            return True
        frame = frame.f_back
    return False


runtime.finite.REPORT = _report_undefined


class _Entry:
    """Per user function: its lowered IR and its generated derivatives."""

    def __init__(self, f: Callable):
        self.f = f
        self.primals: dict[tuple, ir.Function] = {}  # by the structure of the arguments
        self.derivatives: dict[tuple, Derivative] = {}
        self.assumed: list[frontend.Assumption] = []  # what every one of them was built on
        self.generation = 0  # how many times it was all dropped (for callers' caches)

    def stale(self) -> bool:
        """Whether a name f reads from outside (a global, a closure cell, a module
        attribute, a helper) now denotes something else than when the code was built;
        if so, everything built is dropped, to be built again on the next use."""
        # A global read by name is checked by identity first (a dict lookup); only a
        # different object (an equal number?) or another kind of name costs a call.
        for a in self.assumed:
            if (a.cell is not None or len(a.dotted) > 1 or
                    a.fn.__globals__.get(a.dotted[0], a) is not a.value) and not a.holds():
                break
        else:
            return False
        self.primals.clear()
        self.derivatives.clear()
        self.assumed = []
        self.generation += 1
        return True

    def lowered(self, structures: tuple = ()) -> ir.Function:
        if structures not in self.primals:
            self.primals[structures] = frontend.lower(frontend.capture(self.f), dict(structures),
                                                   self.assumed)
            # one check per name (np.sin and np.sum both rest on np alone)
            self.assumed = list({(id(a.fn), a.dotted, a.root and id(a.root())): a
                                 for a in self.assumed}.values())
        return self.primals[structures]

    @property
    def primal(self) -> ir.Function:
        return self.lowered()

    def derivative(self, wrt: tuple[int, ...], seed: str, kinds: tuple[str, ...],
                   structures: tuple = (), shapes: tuple | None = None,
                   disabled: frozenset | None = None, grads_only: bool = False,
                   complex_: tuple[int, ...] = (), dtypes: tuple | None = None,
                   backend: str = "python", cache: bool = False,
                   checkpoint: object = None) -> Derivative:
        """``wrt`` and ``kinds`` are per parameter of the lowered function (per leaf of
        the tuple, list and dict arguments described by ``structures``); ``shapes``,
        per parameter (None for non-arrays), specializes the code on array shapes;
        ``grads_only``: the code returns the gradient alone (one value, or a tuple),
        and computes f's value only where the gradient needs it; ``complex_``: the
        parameters holding complex numbers (``transform/complexity.py``); ``dtypes``,
        per parameter (None for non-arrays) alongside ``shapes``: the arrays' dtypes,
        which let the code leave out casts to them (reverse mode); ``backend``: "numba"
        compiles the code (``compiled``), on disk too with ``cache``; ``checkpoint``: None
        (the loops marked ``srcgrad.checkpointed``), a policy for every top-level loop
        (``("snapshots", k)``, ``("every", None)``) or "off" (``transform.checkpoint``)."""
        key = (wrt, seed, kinds, structures, shapes, disabled, grads_only, complex_, dtypes,
               backend, cache, checkpoint)
        self.stale()
        d = self.derivatives.get(key)
        if d is None:
            d = self.derivatives[key] = _guarded(self.f, lambda: self._build(
                wrt, seed, kinds, structures, shapes, disabled, grads_only, complex_, dtypes,
                backend, cache, checkpoint))
        return d

    def _build(self, wrt, seed, kinds, structures=(), shapes=None, disabled=None,
               grads_only=False, complex_=(), dtypes=None, compiler="python",
               cache=False, checkpoint=None) -> Derivative:
        primal = optimize.simplify_primal(self.lowered(structures), disabled)
        names = dict(zip((p.name for p in primal.params), kinds))
        cplx = [primal.params[i].name for i in complex_]
        if seed == "forward":
            transform.check_writes(primal, wrt, names, cplx)  # the same program, both modes
            dfn = optimize.optimize(transform.forward(primal, wrt, names, cplx), disabled)
        else:
            if checkpoint != "off":
                transform.check_marks(primal)
            by_name = None if shapes is None else {
                p.name: s for p, s in zip(primal.params, shapes) if s is not None}
            typed = None if dtypes is None else {
                p.name: t for p, t in zip(primal.params, dtypes) if t is not None}
            dfn = transform.reverse(primal, wrt, names, seed, by_name, cplx, typed)
            if grads_only:
                dfn = ir.Function(dfn.name, dfn.params, dfn.body, dfn.returns[1:], dfn.loc,
                                  (dfn.doc or "").replace(f"Returns {dfn.returns[0]} and the",
                                                  "Returns the"), dfn.defaults)
            dfn = optimize.optimize(dfn, disabled)
            dfn, compiler = _checkpointed(primal, dfn, checkpoint, compiler, disabled)
        source, namespace, locs = backend.emit(dfn, typed=compiler == "numba")
        filename = f"<srcgrad {dfn.name} #{next(_counter)}>"
        if compiler == "numba":
            fn, filename, source = compiled.numba_function(
                source, namespace, dfn.name, filename, locs, primal.loc, cache)
            return Derivative(primal, dfn, source, fn, filename, locs, namespace)
        return Derivative(primal, dfn, source, _load(source, namespace, dfn.name, filename),
                          filename, locs)


def _checkpointed(primal: ir.Function, dfn: ir.Function, checkpoint: object, compiler: str,
                  disabled: frozenset | None) -> tuple[ir.Function, str]:
    """The gradient with its checkpointed loops (``transform.checkpoint``), dead code
    dropped again (what only the tape needed), and the backend that runs it: a
    checkpointed loop's snapshots are Python objects, which numba cannot compile."""
    taped, dfn = dfn, transform.checkpoint(dfn, checkpoint)
    if dfn is taped:
        return dfn, compiler
    if "dce" not in (disabled or ()):
        dfn = optimize.PASSES["dce"](dfn)
    if compiler == "numba":
        marked = next((n for n in ir.walk(primal.body) if isinstance(n, ir.Loop)
                       and n.checkpoint), None)
        compiled.CheckpointedInPython(
            f"{primal.name}'s gradient runs with the Python backend: its checkpointed loop "
            "keeps snapshots in Python objects, which numba cannot compile (without "
            "checkpointing, numba compiles it)", (marked or primal).loc).warn()
    return dfn, "python"


def _forward_over_gradient(entry: _Entry, wrt: tuple, kinds: tuple, k: int,
                           structures: tuple = ()) -> Derivative:
    """Forward mode, along every argument, over the ``k``-th gradient of f's generated
    gradient with respect to ``wrt``: it takes f's arguments and a tangent for each, and
    returns (that gradient, its tangent). For jvp of srcgrad.grad(f), and hvp of
    structured arguments (per leaf: ``structures`` as for ``_Entry.derivative``)."""
    key = ("jvp of gradient", wrt, kinds, k, structures)
    entry.stale()
    if key not in entry.derivatives:
        def build() -> Derivative:
            d = entry.derivative(wrt, "one", kinds, structures, checkpoint="off")
            fn = ir.Function(d.ir.name, d.ir.params, d.ir.body, (d.ir.returns[1 + k],),
                             d.ir.loc, d.ir.doc, d.ir.defaults)
            names = dict(zip((p.name for p in fn.params), kinds))
            fn = optimize.optimize(transform.forward(fn, tuple(range(len(kinds))), names))
            source, namespace, locs = backend.emit(fn)
            filename = f"<srcgrad {fn.name} #{next(_counter)}>"
            return Derivative(d.primal, fn, source, _load(source, namespace, fn.name,
                                                          filename), filename, locs)
        entry.derivatives[key] = _guarded(entry.f, build)
    return entry.derivatives[key]


def _second_order(entry: _Entry, i: int, kinds: tuple, j: int | None = None) -> Derivative:
    """The jvp, along argument ``j`` (default ``i``), of ``f``'s generated gradient with
    respect to argument ``i``."""
    return _higher_order(entry, i, kinds, (i if j is None else j,))


def _higher_order(entry: _Entry, i: int, kinds: tuple, js: tuple, structures: tuple = ()
                  ) -> Derivative:
    """Forward mode along arguments ``js``, one pass each, over ``f``'s generated gradient
    with respect to argument ``i``: srcgrad applied to its own output. The result takes
    ``f``'s arguments and one tangent per pass, and returns the last tangent. With
    ``structures``, ``i`` and ``js`` index the leaves (the lowered function's
    parameters)."""
    d = entry.derivative((i,), "one", kinds, structures, checkpoint="off")
    fn = replace(d.ir, returns=(d.ir.returns[1],))
    kind_of = dict(zip((p.name for p in d.ir.params), kinds))
    for j in js:
        kind_of[fn.params[j].name] = kind_of.get(fn.params[j].name, "any")
        names = {p.name: kind_of.get(p.name, kind_of[fn.params[j].name]) for p in fn.params}
        fn = optimize.optimize(transform.forward(fn, (j,), names))
        fn = replace(fn, returns=(fn.returns[1],))
        kind_of[fn.params[-1].name] = kind_of[fn.params[j].name]
    x = d.primal.params[i].name
    order = len(js) + 1
    name = f"{d.primal.name}_hvp" if order == 2 else f"{d.primal.name}_order{order}"
    fn = replace(fn, name=name, returns=(ir.Const(None), fn.returns[0]), doc=(
        f"Derivative of order {order} of {d.primal.name}: the gradient with respect to {x}, "
        "differentiated along the tangent arguments.\n\nGenerated by srcgrad: forward "
        "mode over the generated gradient."))
    source, namespace, locs = backend.emit(fn)
    filename = f"<srcgrad {fn.name} #{next(_counter)}>"
    return Derivative(d.primal, fn, source, _load(source, namespace, fn.name, filename),
                      filename, locs)


_ENTRIES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _caller_loc() -> Loc | None:
    """Where the user's code called into srcgrad: the first frame outside srcgrad and
    its generated code (for errors about what was passed, not about f's body)."""
    frame: types.FrameType | None = sys._getframe(1)
    while frame is not None and (frame.f_code.co_filename.startswith(_HERE)
                                 or frame.f_code.co_filename.startswith("<srcgrad")):
        frame = frame.f_back
    if frame is None:
        return None
    where = inspect.getframeinfo(frame, context=0)
    col = where.positions.col_offset if where.positions else None
    return Loc(where.filename, where.lineno, col or 0,
               linecache.getline(where.filename, where.lineno))


_HERE = os.path.dirname(os.path.abspath(__file__))
_PLAIN = ("Differentiate a function defined with def in a .py file, taking what is "
          "differentiated as arguments (def loss(W, x): ..., then srcgrad.grad(loss)(W, x)).")


def _check_callable(f: Callable, gradient_ok: bool = False) -> None:
    """Refuse, at the user's call, what srcgrad cannot read as one function's source
    (``gradient_ok``: a grad or value_and_grad, which jvp and vjp take)."""
    made = getattr(f, "__srcgrad_derivative__", None)
    if made is not None and gradient_ok and len(made) == 4:
        return
    if made is not None:
        raise UsageError(f"{made[1].__name__} is a derivative made by srcgrad.{made[0]}; "
                         "srcgrad cannot differentiate it this way", _caller_loc(),
                         "Use srcgrad.hvp, srcgrad.hessian or grad(grad(f)) for second "
                         "derivatives, or jvp/vjp of srcgrad.grad(f).")
    if inspect.ismethod(f) and isinstance(f.__func__, types.FunctionType) and \
            f.__func__.__code__.co_argcount >= 1:
        return  # model.loss: self is read while lowering (frontend.Static)
    if not isinstance(f, types.FunctionType):
        what = getattr(f, "__name__", None)
        kind = type(f).__name__
        what = f"{what} is of type {kind}" if what else f"{f!r:.40} is of type {kind}"
        raise UsageError(f"srcgrad differentiates Python functions; {what}, with no "
                         "Python source to read", _caller_loc(),
                         f"{_PLAIN} A NumPy function is differentiated inside one: "
                         "def f(x): return np.sin(x).")


def _entry(f: Callable) -> _Entry:
    _check_callable(f)
    if inspect.ismethod(f):
        return _bound_entry(f)
    try:
        e = _ENTRIES.get(f)
    except TypeError:
        raise UsageError(f"srcgrad differentiates Python functions; got {f!r}") from None
    if e is None:
        e = _ENTRIES[f] = _Entry(f)
    return e


# A bound method's entries: per instance (by id, dropped with it: m.loss is a new object
# at every access, and the cache must not keep m alive), then per function.
_BOUND: dict[int, dict[Callable, _Entry]] = {}


class _BoundEntry(_Entry):
    """``obj.method``'s entry: it holds ``obj`` weakly (so do its assumptions)."""

    f = property(lambda self: self.method(),
                 lambda self, f: setattr(self, "method", weakref.WeakMethod(f)))


def _bound_entry(f: types.MethodType) -> _Entry:
    obj, func = f.__self__, f.__func__
    per = _BOUND.get(id(obj))
    if per is None:
        try:
            weakref.finalize(obj, _BOUND.pop, id(obj), None)
        except TypeError:  # not weakly referable (__slots__): an entry per use
            return _Entry(f)
        per = _BOUND[id(obj)] = {}
    if func not in per:
        per[func] = _BoundEntry(f)
    return per[func]


def _guarded(f: Callable, build: Callable):
    """Run a transform; anything but a SrcgradError is a located InternalError."""
    try:
        with one_warning_per_build():
            return build()
    except SrcgradError as exc:
        if isinstance(exc, SourceUnavailable) and exc.loc is None:  # say where it was called
            exc = SourceUnavailable(exc.message, _caller_loc(), exc.hint)
        raise exc.with_traceback(None) from None
    except SrcgradWarning:  # a filter made it an error: the user's to see, as is
        raise
    except Exception as exc:  # a bug in srcgrad: say where, keep the cause for the report
        code = getattr(f, "__code__", None)
        loc = Loc(code.co_filename, code.co_firstlineno, 0) if code else None
        raise InternalError(f"{type(exc).__name__} while differentiating "
                            f"{getattr(f, '__qualname__', f)}: {exc}", loc) from exc


def _load(source: str, namespace: dict, name: str, filename: str) -> Callable:
    """Compile generated source under a registered file name (tracebacks, getsource)."""
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    exec(compile(source, filename, "exec"), namespace)  # noqa: S102 - our own generated code
    return namespace[name]


def array_key(args: Sequence[object]
              ) -> tuple[tuple[object, ...] | None, tuple[object, ...] | None]:
    """The shapes (None for non-arrays) and dtypes (None for Python numbers and other
    objects; NumPy scalars have theirs) of ``args``: what code is specialized on. None
    and None where a Dask or CuPy array is among them: their code is written for any
    shape, its run-time helpers deciding on the arrays themselves (``callpaths``)."""
    if arrays.foreign(args):
        return None, None
    return (tuple(a.shape if isinstance(a, np.ndarray) else None for a in args),
            tuple(getattr(a, "dtype", None) if isinstance(a, (np.ndarray, np.generic))
                  else None for a in args))


def _kind(a: object) -> str:
    k = _KINDS.get(type(a))
    if k is None:
        # (np.ndim takes any object; its stub's ArrayLike leaves out numbers.Number)
        scalar = isinstance(a, (numbers.Number, np.generic)) and \
            np.ndim(a) == 0  # type: ignore[arg-type]
        k = _KINDS[type(a)] = transform.SCALAR if scalar else transform.ANY
    return k


def complex_positions(args: Iterable) -> tuple[int, ...]:
    """The positions of the arguments (leaves) that hold complex numbers: part of a
    specialization's key, like the kinds (``transform/complexity.py``)."""
    return tuple(i for i, a in enumerate(args) if isinstance(a, complex) or (
        (isinstance(a, (np.ndarray, np.generic)) or arrays.library(a) is not None)
        and a.dtype.kind == "c"))


def _annotated_kinds(f: Callable, params: list[str]) -> tuple[str, ...]:
    notes = getattr(f, "__annotations__", {})
    return tuple(transform.SCALAR if notes.get(p) in (float, int, "float", "int") else transform.ANY
                 for p in params)


def _params(f: Callable) -> list[str]:
    _check_callable(f, gradient_ok=True)
    code = getattr(f, "__code__", None)
    if code is None:
        raise UsageError(f"srcgrad differentiates Python functions; got {f!r}")
    return list(code.co_varnames[int(inspect.ismethod(f)): code.co_argcount])


def _wrt(f: Callable, wrt) -> tuple[tuple[int, ...], bool]:
    """Indices of the wrt parameters and whether a single one was asked for."""
    params = _params(f)
    single = not isinstance(wrt, (tuple, list))
    items = [wrt] if single else list(wrt)
    if not items:
        raise UsageError("wrt is empty: name at least one parameter")
    out = []
    for w in items:
        if isinstance(w, bool) or not isinstance(w, (int, str)):
            raise UsageError(f"wrt must be a parameter index or name, got {w!r}")
        if isinstance(w, str):
            if w not in params:
                raise UsageError(f"{f.__name__} has no parameter {w!r}; its parameters are "
                                 f"{', '.join(params)}")
            w = params.index(w)
        if not -len(params) <= w < len(params):
            raise UsageError(f"wrt={w} is out of range: {f.__name__} has {len(params)} "
                             "parameters")
        out.append(w % len(params))
    return tuple(out), single


def _binder(f: Callable) -> Callable[[tuple, dict], tuple]:
    """Positional arguments for ``f`` from any call (keywords and defaults applied)."""
    sig = inspect.signature(f)

    def bind(args: tuple, kwargs: dict) -> tuple:
        try:
            bound = sig.bind(*args, **kwargs)
        except TypeError as exc:
            raise UsageError(f"{f.__name__}(): {exc}") from None
        bound.apply_defaults()
        return bound.args

    return bind


def _located_runtime_error(d: Derivative, exc: BaseException) -> SrcgradError:
    """Point at the user's expression whose forward or adjoint code raised ``exc``."""
    frames = [fr for fr in traceback.extract_tb(exc.__traceback__) if fr.filename == d.filename]
    lineno = frames[-1].lineno if frames else None
    where = d.locs.get(lineno) if lineno is not None else None
    if where is None or lineno is None:
        return SrcgradError(f"{type(exc).__name__}: {exc}, while computing the derivative",
                            d.primal.loc)
    loc, sweep = where
    if isinstance(exc, runtime.ViewChanged):  # a program srcgrad does not follow
        return UnsupportedSyntax(str(exc), loc, "Copy the read (np.copy(x[i])) if the old "
                                 "value is meant, or read it again after the write.")
    line = d.source.splitlines()[lineno - 1].strip()
    return SrcgradError(
        f"{type(exc).__name__}: {exc}, in the {sweep} code of this line (`{line}`)", loc,
        "The function or its derivative is not defined at these arguments "
        "(see `srcgrad show` for the generated code).")


# Failures of generated code at particular arguments (a singular matrix, a derivative
# rule's unsupported case): reported at the user's expression.
_RUNTIME_ERRORS = (ArithmeticError, ValueError, NotImplementedError)


def _call(d: Derivative, args: tuple):
    try:
        return d.fn(*args)
    except _RUNTIME_ERRORS as exc:
        raise _located_runtime_error(d, exc).with_traceback(None) from exc


def _check_real(f: Callable, i: int, value) -> None:
    """Differentiating with respect to booleans or integer arrays is an error (their
    derivative would be a silent zero); Python ints count as reals: f(2) is f(2.0)."""
    dtype = getattr(value, "dtype", None)
    if isinstance(value, (bool, np.bool_)) or (dtype is not None and dtype.kind in "biu"):
        raise UsageError(f"{f.__name__}: argument {_params(f)[i]!r} is "
                         f"{'boolean' if dtype is None else f'an array of {dtype}'}; "
                         "gradients are taken with respect to real values",
                         hint="Pass floats (e.g. x.astype(float)), or leave it out of wrt.")


_CONTAINERS = (tuple, list, dict)  # structured arguments: pytrees.py takes them apart
