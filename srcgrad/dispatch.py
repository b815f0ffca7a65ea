"""The gradient dispatcher: what ``grad(f)`` and ``value_and_grad(f)`` return.

Contract: ``gradient(f, wrt, with_value)`` returns a function with ``f``'s own signature
(name, docstring and ``__wrapped__`` copied by ``functools.update_wrapper``) that
computes ``f``'s gradient with respect to ``wrt`` (a parameter index or name, or a
tuple of them: ``checks.wrt``), preceded by ``f``'s value if ``with_value``.

- It is Python source generated per ``f`` (``_DISPATCH``), so that a call costs one dict
  lookup on the argument types plus the generated derivative; a call that does not fit
  ``f``'s signature is an ``ArgumentError`` with Python's own message.
- The argument types choose a specialization, made on first use: scalar code, code
  specialized on the shapes and dtypes of the array arguments (``Shaped``), or, for
  structured arguments (``pytrees``: tuples, lists, dicts, NamedTuples, dataclasses,
  registered classes, a plain object passed as ``self``), the derivative over their
  leaves (``_structured``), each gradient given back in its argument's structure and
  type (a dataclass of gradients, a copy of ``self`` holding them...).
- An error raised while the derivative runs is reported at the user's line
  (``build._located_runtime_error``); a TypeError about an argument names it
  (``checks.blame``).
- If the names ``f`` reads change (``build._Entry.stale``), every specialization is
  dropped and made again.
- The result carries ``__srcgrad_derivative__`` (for jvp, vjp and the CLI) and, for a
  single gradient, ``__srcgrad_gradient__`` (for ``grad(grad(f))``): see ``mark``.

Signatures srcgrad cannot compile (``*args``, keyword-only parameters) give a function
whose first call raises the located error (``_rejecting``).

``f`` may be a bound method (``model.loss``): ``self`` is then no parameter of the
gradient (wrt counts the parameters after it) but read while lowering. ``@grad`` or
``@value_and_grad`` above a ``def`` in a class body (``in_class_body``) gives a
``MethodGradient``, which binds through the descriptor protocol: ``obj.method`` is
the gradient of ``obj``'s bound method, made on the first access and kept in the
instance's ``__dict__`` (as ``functools.cached_property`` does: no global table keeps
the instance alive), in a ``_Kept`` that copies and pickles of the instance drop (a
copy gets its own gradient, never the original's).
"""

from __future__ import annotations

import functools
import inspect
import types
from collections.abc import Callable
from typing import Any

import numpy as np

from . import arrays, checks, compiled, pytrees, runtime
from .build import (
    _RUNTIME_ERRORS,
    Derivative,
    _caller_loc,
    _Entry,
    _entry,
    _guarded,
    _kind,
    _load,
    _located_runtime_error,
    _params,
    array_key,
)
from .callpaths import Dispatched, Shaped, floats_key, floats_result, run_foreign
from .errors import UsageError

# f's parameters, the required ones defaulting to _sg_missing, then *_sg_more and
# **_sg_named: a call that does not fit f costs a few identity tests here, and is
# refused as an ArgumentError with Python's own message (checks.wrong_call).
_DISPATCH = """\
def {name}({signature}*_sg_more, **_sg_named):
    if {missing}_sg_more or _sg_named:
        raise _sg_wrong_call(({tuple}), _sg_more, _sg_named)
    _sg_stale()
    _sg_fn = _sg_by_types.get(({types}))
    if _sg_fn is None:
        _sg_fn = _sg_specialize(({args},))
    try:
        _sg_out = _sg_fn({args})
    except (*_sg_runtime_errors, _sg_NotScalar, TypeError) as _sg_exc:
        raise _sg_runtime_error(_sg_fn, _sg_exc, ({tuple})) from None
    return {result}
"""


def mark(fn: Callable[..., Any], **marks: object) -> None:
    """Set srcgrad's markers on a function it made (``__srcgrad_derivative__``: what made
    it; ``__srcgrad_gradient__``, ``__srcgrad_higher__``: for ``grad`` of it), attributes
    that ``Callable`` does not declare."""
    for name, value in marks.items():
        setattr(fn, name, value)


def gradient(f: Callable[..., Any], wrt: object, with_value: bool, backend: str = "python",
             cache: bool = False, checkpoint: object = None) -> Callable[..., Any]:
    """The gradient function: a dispatcher with ``f``'s own signature, written out as
    Python so that a call costs one dict lookup on the argument types (which decide
    the specialization) plus the generated code (compiled by numba with
    ``backend="numba"``, kept on disk with ``cache``)."""
    compiled.check_backend(backend, cache)
    entry = _entry(f)
    transform = checks.VALUE_AND_GRAD if with_value else checks.GRAD
    indices, single = checks.wrt(f, wrt, transform)
    sig = inspect.signature(f)
    params = _params(f)
    if any(p.kind is not p.POSITIONAL_OR_KEYWORD for p in sig.parameters.values()):
        return _rejecting(f, entry)
    if any(p.startswith("_sg_") for p in params):
        raise UsageError(f"{f.__name__}: parameter names starting with _sg_ are reserved "
                         "for srcgrad's generated code")
    state = _Specializations(f, entry, indices, transform, with_value,
                             (backend, cache, checkpoint))
    namespace = {"_sg_by_types": state.by_types, "_sg_specialize": state.specialize,
                 "_sg_type": type, "_sg_stale": state.stale,
                 "_sg_runtime_error": state.runtime_error, "_sg_NotScalar": runtime.NotScalar,
                 "_sg_runtime_errors": _RUNTIME_ERRORS, "_sg_missing": checks.MISSING,
                 "_sg_wrong_call": functools.partial(checks.wrong_call, f)}
    grads = "_sg_out[1]" if single else "_sg_out[1:]"
    name, text = _dispatch_text(f, sig, namespace,
                                f"_sg_out[0], {grads}" if with_value else
                                "(_sg_out,)" if len(indices) == 1 and not single else "_sg_out")
    wrapper = _load(text, namespace, name, f"<srcgrad dispatch {f.__qualname__}>")
    functools.update_wrapper(wrapper, f)
    mark(wrapper, __srcgrad_derivative__=("value_and_grad" if with_value else "grad", f,
                                          indices, single),  # for jvp and vjp of it
         __srcgrad_specializations__=state)  # for code_for
    if single and not with_value:
        mark(wrapper, __srcgrad_gradient__=(f, indices[0]))  # for grad(grad(f))
    return wrapper


def code_for(gradient_fn: Callable[..., Any], *args: object) -> Callable[..., Any]:
    """The generated code a call ``gradient_fn(*args)`` runs once dispatched (made now if
    it is the first such call), for positional arguments that are numbers and arrays:
    what the benchmark's call-overhead row calls directly."""
    state = getattr(gradient_fn, "__srcgrad_specializations__", None)
    if not isinstance(state, _Specializations):
        raise UsageError("code_for takes what srcgrad.grad or value_and_grad made")
    gradient_fn(*args)
    fn = state.by_types[tuple(map(type, args))]
    made = state.derivative_of.get(fn)
    if isinstance(made, Shaped):
        made = made.derivative_for(args)
    if not isinstance(made, Derivative):
        raise UsageError("code_for: structured arguments run more than generated code")
    return made.fn


class _Specializations:
    """What one dispatcher keeps: the derivative function for each tuple of argument
    types, and what made each (a ``Derivative``, a ``Shaped``, None for the structured
    one), to locate a run-time error."""

    def __init__(self, f: Callable[..., Any], entry: _Entry, indices: tuple[int, ...],
                 transform: checks.Transform, with_value: bool,
                 backend: tuple[str, bool, object] = ("python", False, None)):
        self.f, self.entry, self.indices = f, entry, indices
        self.backend, self.cache, self.checkpoint = backend
        self.transform, self.with_value = transform, with_value
        self.by_types: dict[tuple[type, ...], Callable[..., Any]] = {}
        self.derivative_of: dict[object, Derivative | Shaped | Dispatched | None] = {}
        self.built = entry.generation

    def specialize(self, args: tuple[object, ...]) -> Callable[..., Any]:
        f, entry, indices, transform = self.f, self.entry, self.indices, self.transform
        only = not self.with_value
        options: dict[str, Any] = {"backend": self.backend, "cache": self.cache,
                                   "checkpoint": self.checkpoint}
        fn: Callable[..., Any]
        if any(pytrees.is_structured(a, n == "self") or pytrees.constant_argument(a)
               for n, a in zip(_params(f), args)):  # (a function passed: known while lowering)
            fn = _structured(f, entry, indices, self.derivative_of, only, options)
            self.derivative_of[fn] = None
        else:
            checks.arguments(f, transform, args, indices)
            kinds = tuple(map(_kind, args))
            at = tuple(i for i, a in enumerate(args) if isinstance(a, np.ndarray))
            if _foreign(args, self.backend):  # Dask, CuPy: code for any shape (callpaths)
                made = Dispatched(lambda cplx: entry.derivative(
                    indices, "one", kinds, (), None, grads_only=only, complex_=cplx,
                    **options), lambda args: checks.arguments(f, transform, args, indices))
                fn = made.call
                self.derivative_of[fn] = made
            elif at:
                shaped = Shaped(lambda shapes, cplx, dtypes: entry.derivative(
                    indices, "one", kinds, (), shapes, grads_only=only, complex_=cplx,
                    dtypes=dtypes, **options),
                    at, len(args), lambda args: checks.arguments(f, transform, args,
                                                                     indices))
                fn = shaped.call
                self.derivative_of[fn] = shaped
            else:
                # numbers alone: specialized too (every value's shape is known: ())
                shapes, dtypes = array_key(args)
                d = entry.derivative(indices, "one", kinds, (), shapes, grads_only=only,
                                     complex_=checks.complex_positions(args), dtypes=dtypes,
                                     **options)
                fn = d.fn
                self.derivative_of[fn] = d
        self.by_types[tuple(map(type, args))] = fn
        return fn

    def runtime_error(self, fn: object, exc: BaseException, args: tuple[object, ...]
                      ) -> BaseException:
        made = self.derivative_of.get(fn) or self.derivative_of.get(_structured)
        d = made.derivative_for(args) if isinstance(made, (Shaped, Dispatched)) else made
        if isinstance(exc, TypeError):  # about an argument, or not srcgrad's to report
            return checks.blame(self.f, self.transform, args, exc, d) or exc
        assert d is not None  # (a derivative ran: the one that raised)
        if isinstance(exc, runtime.NotScalar):
            return checks.non_scalar(self.f, self.transform, exc.shape, d.primal.loc, exc.complex)
        return _located_runtime_error(d, exc).with_traceback(None)

    def stale(self) -> None:
        """Drop what this dispatcher kept if f's names changed (see _Entry.stale)."""
        self.entry.stale()
        if self.built != self.entry.generation:
            self.by_types.clear()
            self.derivative_of.clear()
            self.built = self.entry.generation


def _structured(f: Callable[..., Any], entry: _Entry, indices: tuple[int, ...],
                derivative_of: dict[object, Derivative | Shaped | Dispatched | None],
                grads_only: bool = False, options: dict[str, Any] | None = None
                ) -> Callable[..., Any]:
    """The derivative for calls with structured arguments (``pytrees``: tuples, lists,
    dicts, NamedTuples, dataclasses, registered classes, ``self``): their leaves are
    parameters of their own, and each gradient comes back in its argument's structure
    and type. Returns ``(value, *gradients)``, or with ``grads_only`` what ``grad``
    returns; ``options``: the backend arguments of ``_Entry.derivative``."""
    params = _params(f)
    transform = checks.GRAD if grads_only else checks.VALUE_AND_GRAD
    floats: dict[tuple[object, ...], Derivative] = {}  # by callpaths.floats_key

    def call(*args: object) -> object:
        key = floats_key(args)
        d = floats.get(key) if key is not None else None
        if d is not None:  # floats and lists of floats: no checks or flattening needed
            derivative_of[_structured] = d
            return floats_result(d, args, indices, grads_only)
        checks.arguments(f, transform, args, indices)  # on each call: contents change
        flat = pytrees.Flat(params, args)
        wrt = tuple(j for i in indices for j in flat.indices(i))
        foreign = _foreign(flat.leaves, (options or {}).get("backend", "python"))
        shapes, dtypes = array_key(flat.leaves)  # specialized as plain arguments are
        d = entry.derivative(wrt, "one", tuple(map(_kind, flat.leaves)), flat.structures,
                             shapes, complex_=checks.complex_positions(flat.leaves),
                             dtypes=dtypes, **(options or {}))
        derivative_of[_structured] = d
        if key is not None:
            floats[key] = d
        out = list(run_foreign(d, flat.leaves) if foreign else d.fn(*flat.leaves))
        grads = iter(out[1:])
        shaped = tuple(flat.rebuild(i, [next(grads) for _ in flat.indices(i)])
                       for i in indices)
        if grads_only:  # like the generated code: one gradient is returned bare
            return shaped[0] if len(shaped) == 1 else shaped
        return (out[0], *shaped)

    return call


def _foreign(values: tuple[object, ...] | list[object], backend: str) -> bool:
    """Whether a call holds Dask or CuPy arrays (``arrays``); refused for numba, which
    compiles code for NumPy arrays."""
    libraries = arrays.foreign(values)
    if libraries and backend != "python":
        names = " and ".join(arrays.name(lib) for lib in libraries)
        raise UsageError(f"backend={backend!r} compiles code for NumPy arrays; this call "
                         f"passes {names} arrays", _caller_loc(),
                         f"Use the default backend (srcgrad.grad(f)) for {names} arrays: "
                         f"{names} runs the gradient's operations.")
    return bool(libraries)


def _dispatch_text(f: Callable[..., Any], sig: inspect.Signature, namespace: dict[str, object],
                   result: str) -> tuple[str, str]:
    """The name and source of ``f``'s gradient dispatcher (``_DISPATCH``); ``f``'s
    defaults go into ``namespace``."""
    params = list(sig.parameters)
    signature = []
    for p in sig.parameters.values():
        if p.default is p.empty:
            signature.append(f"{p.name}=_sg_missing")
        else:
            namespace[f"_sg_default_{p.name}"] = p.default
            signature.append(f"{p.name}=_sg_default_{p.name}")
    # Named like f, so that tracebacks read as they would for f itself.
    name = f.__name__ if f.__name__.isidentifier() else "_sg_dispatch"
    return name, _DISPATCH.format(
        name=name, signature="".join(s + ", " for s in signature),
        missing="".join(f"{p.name} is _sg_missing or " for p in sig.parameters.values()
                        if p.default is p.empty),
        tuple="".join(p + ", " for p in params), args=", ".join(params),
        types="".join(f"_sg_type({p}), " for p in params), result=result)


def _rejecting(f: Callable[..., Any], entry: _Entry) -> Callable[..., Any]:
    """For signatures srcgrad cannot compile yet: the first call raises the located error."""

    @functools.wraps(f)
    def wrapper(*args: object, **kwargs: object) -> object:
        _guarded(f, entry.lowered)
        raise UsageError(f"{f.__name__}: unsupported signature")  # lowering raises first

    return wrapper


def in_class_body(f: Callable[..., Any]) -> bool:
    """Whether ``f`` is a ``def`` being decorated in a class body: its qualified name is
    ``Class.name``, its first parameter is ``self``, and the class does not hold it
    yet (``grad(Model.loss)`` on the finished class differentiates the plain function)."""
    if not isinstance(f, types.FunctionType):
        return False
    parts = f.__qualname__.split(".")
    code = f.__code__
    if len(parts) < 2 or parts[-2] == "<locals>" or not code.co_argcount or \
            code.co_varnames[0] != "self":
        return False
    owner: object = f.__globals__.get(parts[0])
    for part in parts[1:-1]:
        owner = getattr(owner, part, None)
    return owner is None or inspect.getattr_static(owner, parts[-1], None) is not f


class MethodGradient:
    """``@grad`` (or ``@value_and_grad``) above a method: see the module docstring.
    ``Class.method(obj, ...)`` is ``obj.method(...)``."""

    def __init__(self, f: Callable[..., Any], wrt: object, with_value: bool,
                 backend: str = "python", cache: bool = False, checkpoint: object = None):
        compiled.check_backend(backend, cache)
        self.f, self.wrt, self.with_value, self.name = f, wrt, with_value, f.__name__
        self.backend, self.cache, self.checkpoint = backend, cache, checkpoint
        functools.update_wrapper(self, f)

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, obj: object, owner: type | None = None) -> Any:
        if obj is None:
            return self
        kept = getattr(obj, "__dict__", None)
        key = f"_srcgrad_{self.name}"
        made = getattr(kept.get(key) if kept is not None else None, "fn", None)
        if made is None or made.__srcgrad_derivative__[1].__self__ is not obj:
            made = gradient(types.MethodType(self.f, obj), self.wrt, self.with_value,
                            self.backend, self.cache, self.checkpoint)
            if kept is not None:  # (no __dict__, __slots__: made per access; build caches)
                kept[key] = _Kept(made)
        return made

    def __call__(self, obj: object, *args: Any, **kwargs: Any) -> Any:
        return self.__get__(obj, type(obj))(*args, **kwargs)


class _Kept:
    """A method's gradient an instance keeps: copies and pickles of it are empty."""

    __slots__ = ("fn",)

    def __init__(self, fn: Callable[..., Any] | None = None):
        self.fn = fn

    def __reduce__(self) -> tuple[type, tuple[()]]:
        return (_Kept, ())

    def __deepcopy__(self, memo: dict[int, object]) -> _Kept:
        return _Kept()
