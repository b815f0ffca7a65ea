"""What the public API is given, checked where it is given.

Contract. Every transform of ``api`` (grad, value_and_grad, vjp, jvp, jacobian,
hessian, hvp, grad of a gradient) and the CLI pass what the user handed them
through this module before anything is built or run. A wrong input is refused
with a ``UsageError`` that names the argument by its parameter name, says what
it is and what to pass instead; a call that does not fit ``f``'s signature
with an ``ArgumentError`` (a UsageError, and a TypeError carrying the message
Python gives for the same call of ``f``); an array output where a scalar is
needed with a ``NonScalarOutput`` located at ``f``. Nothing srcgrad does with
a bad input surfaces as a raw TypeError or ValueError.

What each transform differentiates (the ``Transform`` constants below): the
``wrt`` arguments of grad, value_and_grad, jacobian, hessian and hvp; every
argument of jvp and vjp. A differentiated value is a real number (a Python int
counts: f(2) is f(2.0); one the function uses as an integer, range(n), np.zeros(n),
x[:n], is refused where it is used, by ``transform.analysis``) or a NumPy array of
floats, or, for the transforms
that take them (all of them), a structured argument
(``pytrees``: a tuple, list, dict, NamedTuple, dataclass, registered class, or any
object passed as ``self``) holding at least one such value; an object of another
class is refused with a hint to make it a dataclass or register it.
Refused there: booleans, NumPy integer scalars, integer and boolean arrays (the
derivative would be a silent zero; vjp alone gives them a cotangent, as it
always has), and any other object. Strings and None are constants where they
can be (an entry of a dict of parameters, an argument of jvp or vjp, any
argument outside ``wrt``): ``f`` may compare or branch on them, and when the
derivative's code cannot use one (a TypeError while it runs) ``blame`` names
it. Complex values are refused in every argument: srcgrad differentiates real
functions of real arguments.
"""

from __future__ import annotations

import contextlib
import inspect
import linecache
import numbers
import traceback
import weakref
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from . import arrays, pytrees
from .build import _binder, _caller_loc, _located_runtime_error, _params, _wrt
from .build import complex_positions as complex_positions  # (where kinds are made)
from .errors import ArgumentError, Loc, NonScalarOutput, SrcgradError, UsageError


@dataclass(frozen=True)
class Transform:
    """How a transform treats the arguments of the function it differentiates."""

    name: str
    containers: bool  # takes structured arguments (pytrees); all below do since issue 14
    every: bool  # differentiates every argument (else the ``wrt`` ones)
    integers: bool = False  # integer and boolean values are differentiated as reals
    complex: bool = False  # takes complex numbers (rules/complexes.py: the convention)
    foreign: bool = False  # takes Dask and CuPy arrays (arrays.py; callpaths.Dispatched)


GRAD = Transform("grad", containers=True, every=False, complex=True, foreign=True)
VALUE_AND_GRAD = Transform("value_and_grad", containers=True, every=False, complex=True,
                           foreign=True)
JVP = Transform("jvp", containers=True, every=True, complex=True)
VJP = Transform("vjp", containers=True, every=True, integers=True, complex=True)
JACOBIAN = Transform("jacobian", containers=True, every=False)
HESSIAN = Transform("hessian", containers=True, every=False)
HVP = Transform("hvp", containers=True, every=False)
GRAD_OF_GRAD = Transform("grad of a gradient", containers=True, every=False)
JVP_OF_GRAD = Transform("jvp of a gradient", containers=True, every=True)
VJP_OF_GRAD = Transform("vjp of a gradient", containers=True, every=True, integers=True)

_WHERE_TAKEN = ("grad, value_and_grad, vjp, jvp, jacobian, hvp, hessian and their "
                "compositions take them")


def decorator(t: Transform, make: Callable[[Callable], Callable]) -> Callable:
    """What ``grad(wrt=...)`` (no function) returns: applied to a function, ``make(f)``;
    applied to anything else (``grad(None)(x)``), a UsageError saying so."""

    def apply(*args, **kwargs):
        if len(args) != 1 or kwargs or not callable(args[0]):
            got = ", ".join([describe(a) for a in args] + [f"{k}=..." for k in kwargs])
            raise UsageError(f"{t.name} was given no function (f=None), so it returned a "
                             f"decorator; that decorator was called with ({got})",
                             _caller_loc(), f"Pass the function first: {t.name}(f, wrt=...)"
                             f"(x, ...), or write @{t.name}(wrt=...) above a def.")
        return make(args[0])

    return apply


def wrt(f: Callable, wrt, t: Transform, one: bool = False) -> tuple[tuple[int, ...], bool]:
    """(indices, single) of the ``wrt`` parameters of ``f``; ``one``: ``t`` takes exactly
    one (an index or a name, not a tuple)."""
    try:
        indices, single = _wrt(f, wrt)
    except UsageError as exc:
        if exc.hint:
            raise
        raise UsageError(exc.message, exc.loc or _caller_loc(), _WRT_HINT.format(
            params=", ".join(map(repr, _params(f))))) from None
    if one and not single:
        raise UsageError(f"{t.name} differentiates with respect to one argument of "
                         f"{f.__name__}; wrt={wrt!r} is a {type(wrt).__name__}", _caller_loc(),
                         f"Give one parameter name or index (wrt={_params(f)[indices[0]]!r}); "
                         f"for several, call {t.name} once per argument, or pass them to "
                         f"{f.__name__} as one array.")
    return indices, single


_WRT_HINT = ("wrt is one of {params} (a name, or its index), or, for grad and "
             "value_and_grad, a tuple of them.")


# ---- binding a call to f's signature --------------------------------------------------

MISSING = object()  # a required parameter the call gave no value (gradient dispatchers)
_STUBS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _signature(f: Callable) -> Callable | None:
    """A function with ``f``'s parameters that returns their values: calling it binds
    arguments exactly as calling ``f`` does, and a call that does not fit fails with
    Python's own message, naming ``f``. None for signatures srcgrad does not compile
    (keyword-only, ``*args``, ``**kwargs``: the lowering refuses them, located)."""
    names = _params(f)  # refuses what is not a plain Python function
    code = f.__code__
    if code.co_kwonlyargcount or code.co_posonlyargcount or \
            code.co_flags & (inspect.CO_VARARGS | inspect.CO_VARKEYWORDS):
        return None
    stub = _STUBS.get(f)
    if stub is None:
        text = (f"def _sg_signature({', '.join(names)}):\n"
                f"    return ({''.join(n + ', ' for n in names)})\n")
        namespace: dict = {}
        exec(compile(text, "<srcgrad signature>", "exec"), namespace)  # noqa: S102
        stub = namespace["_sg_signature"]
        stub_code = stub.__code__.replace(co_name=code.co_name)
        if hasattr(code, "co_qualname"):  # Python 3.11+ names the function by it
            stub_code = stub_code.replace(co_qualname=code.co_qualname)
        stub.__code__ = stub_code
        stub.__qualname__ = f.__qualname__
        _STUBS[f] = stub
    stub.__defaults__ = f.__defaults__  # read at each call, as f's are
    return stub


def bind(f: Callable, args: tuple, kwargs: dict | None = None, hint: str | None = None
         ) -> tuple:
    """``f``'s positional arguments from a call (keywords and defaults applied), or an
    ``ArgumentError`` with Python's message for the same call of ``f``."""
    stub = _signature(f)
    if stub is None:
        return _binder(f)(tuple(args), kwargs or {})
    try:
        return stub(*args, **(kwargs or {}))
    except TypeError as exc:
        raise ArgumentError(str(exc), hint=hint) from None


def wrong_call(f: Callable, values: tuple, more: tuple, named: dict) -> ArgumentError:
    """The error for a call of a gradient dispatcher that does not fit ``f``: ``values``
    are its parameters (``MISSING`` where the call gave none), ``more`` and ``named`` the
    extra positional and keyword arguments. The call is made again on ``f``'s signature
    for Python's own message."""
    if more:  # then every parameter was given by position
        args, kwargs = (*values, *more), dict(named)
    else:
        given = {n: v for n, v in zip(_params(f), values) if v is not MISSING}
        args, kwargs = (), {**given, **named}
    try:
        bind(f, args, kwargs)
    except ArgumentError as exc:
        return exc
    return ArgumentError(f"{f.__name__}() does not take these arguments")


# ---- the values of differentiated arguments -------------------------------------------

def describe(value) -> str:
    """What ``value`` is, for a message: "None", "a str ('abc')", "an array of int64"."""
    if value is None:
        return "None"
    if isinstance(value, str):
        text = repr(value) if len(value) <= 20 else repr(value[:17]) + "..."
        return f"a str ({text})"
    if isinstance(value, (bool, np.bool_)):
        return "a boolean"
    if isinstance(value, np.ndarray):
        return f"an array of {value.dtype}"
    lib = arrays.library(value)
    if lib is not None:
        return f"a {arrays.name(lib)} array of {value.dtype}"
    if isinstance(value, np.generic):
        return f"a NumPy {value.dtype} scalar"
    if isinstance(value, complex):
        return "a complex number"
    name = type(value).__name__
    return f"{'an' if name[:1] in 'aeiou' else 'a'} {name}"


def _array(value) -> bool:
    """A NumPy array or scalar, or a Dask or CuPy array: a value with a dtype."""
    return isinstance(value, (np.ndarray, np.generic)) or arrays.library(value) is not None


def _complex(value) -> bool:
    return isinstance(value, complex) or (_array(value) and value.dtype.kind == "c")


def _integer(value) -> bool:
    return isinstance(value, (bool, np.bool_)) or (_array(value) and value.dtype.kind in "biu")


def integer_number(value) -> bool:
    """An int (Python's or NumPy's, or an integer array): its tangent may be None."""
    return isinstance(value, numbers.Integral) or _integer(value)


def _real(value, integers: bool) -> bool:
    """A value ``t`` can differentiate with respect to."""
    if _integer(value):
        return integers
    if _array(value):
        return value.dtype.kind == "f"
    return isinstance(value, numbers.Real)


def _constant(value) -> bool:
    return value is None or isinstance(value, str)


def _leaves(value, path: str) -> list[tuple[str, object]]:
    """(path, leaf) of an argument, as the user would reach it (``params['W']``,
    ``layers[0].W``); a structured argument's static fields are not leaves. ``path`` is
    the parameter's name (``self``: a plain object is taken apart, ``pytrees``)."""
    try:
        structure, leaves = pytrees.flatten(value, path == "self")
    except UsageError as exc:  # a registered field the object lacks: where it was passed
        raise UsageError(exc.message, exc.loc or _caller_loc(), exc.hint) from None
    return pytrees.leaf_paths(structure, leaves, path)


def arguments(f: Callable, t: Transform, args: tuple, indices: tuple = ()) -> None:
    """Refuse what ``t`` cannot differentiate among ``args`` (``f``'s positional
    arguments, bound); ``indices``: the ``wrt`` ones (unless ``t`` takes every one)."""
    for k, (name, value) in enumerate(zip(_params(f), args)):
        differentiated = t.every or k in indices
        leaves = _leaves(value, name)
        structured = pytrees.is_structured(value, name == "self")
        for path, leaf in leaves:
            arrays.check(f"argument {name!r} of {f.__name__}" + (
                f": {path}" if path != name else ""), leaf, t.name, t.foreign, _caller_loc)
            if _complex(leaf) and not (t.complex and not structured):
                _refuse(f, t, name, path, describe(leaf), _COMPLEX_HERE if t.complex
                        else _COMPLEX, differentiated)
        if not differentiated:
            continue
        if pytrees.is_structured(value, name == "self"):
            if not t.containers:
                raise UsageError(f"{t.name} with structured arguments (tuple, list, dict, "
                                 f"dataclass...) is not supported yet: argument {name!r} "
                                 f"of {f.__name__} is {describe(value)}", _caller_loc(),
                                 f"{_WHERE_TAKEN}; pass the arrays as separate arguments, "
                                 "or a list of numbers as np.array(...).")
            if all(_constant(leaf) for _, leaf in leaves):
                _refuse(f, t, name, name, f"{describe(value)} with no number or array of "
                        "floats in it", _hint(t))
            leaves = [(p, v) for p, v in leaves if not _constant(v)]
        elif t.every and (_constant(value) or pytrees.constant_argument(value)):
            continue
        for path, leaf in leaves:
            if not _real(leaf, t.integers) and not (t.complex and _complex(leaf)):
                _refuse(f, t, name, path, describe(leaf), _object_hint(leaf) or
                        _hint(t, _integer(leaf)))


def _object_hint(value) -> str | None:
    """For an object srcgrad does not take apart: how to make it one it does."""
    cls = type(value).__name__
    if pytrees.constant_argument(value):
        return ("A function (or class) passed as an argument is a constant of the "
                "derivative: leave it out of wrt.")
    return None if value is None or isinstance(value, (str, numbers.Number, np.ndarray,
                                                       np.generic)) or _array(value) else (
        f"Make {cls} a @dataclasses.dataclass (or a typing.NamedTuple), or call "
        f"srcgrad.register_class({cls}, fields=(...)) naming the attributes that hold "
        f"arrays; the gradient then comes back as a {cls}. For a method's self, "
        "grad(Class.method, wrt=\"self\") takes any object apart.")


_COMPLEX = ("This transform takes real arguments (grad, value_and_grad, vjp and jvp take "
            "complex ones): pass the real and imaginary parts as two arguments of floats "
            "(z.real, z.imag).")
_COMPLEX_HERE = ("Complex numbers are taken as arguments of their own, not yet inside a "
                 "tuple, list, dict or object: pass the complex array as an argument.")


def real_output(f: Callable, t: Transform, value: object) -> None:
    """Refuse an output holding complex numbers for ``t`` (jacobian: its rows would be
    complex, and the transposes it takes real)."""
    leaves = pytrees.flatten(value)[1] if pytrees.is_structured(value) else [value]
    if any(_complex(leaf) for leaf in leaves):
        raise UsageError(f"{t.name} of {getattr(f, '__name__', f)}: its output holds complex "
                         "numbers", _caller_loc(), "Take the Jacobian of the real and "
                         "imaginary parts (np.real(out), np.imag(out)) as outputs of their "
                         "own, or use srcgrad.jvp and srcgrad.vjp on the complex output.")





def _hint(t: Transform, integer: bool = False) -> str:
    what = "floats (e.g. x.astype(float))" if integer else \
        "a float or a NumPy array of floats"
    if t.every:
        return (f"Pass {what}; {t.name} differentiates with respect to every argument it "
                "is given, so leave a constant (an index, an option) to its default.")
    return f"Pass {what}, or leave it out of wrt."


def _refuse(f: Callable, t: Transform, name: str, path: str, what: str, hint: str,
            differentiated: bool = True) -> None:
    inner = f": {path} is" if path != name else " is"
    why = (f"{t.name} differentiates with respect to "
           + ("every argument" if t.every else "it")) if differentiated else \
        "srcgrad differentiates real functions"
    raise UsageError(f"argument {name!r} of {f.__name__}{inner} {what}; {why}",
                     _caller_loc(), hint)


def plain(f: Callable, t: Transform, args: tuple) -> None:
    """Refuse structured arguments anywhere (for transforms that take none)."""
    for name, value in zip(_params(f), args):
        if pytrees.is_structured(value, name == "self"):
            raise UsageError(f"{t.name} with structured arguments (tuple, list, dict, "
                             f"dataclass...) is not supported yet: argument {name!r} of "
                             f"{f.__name__} is {describe(value)}",
                             _caller_loc(), f"{_WHERE_TAKEN}; pass the arrays as separate "
                             "arguments.")


def like(t: Transform, what: str, value, primal, of: str) -> None:
    """Refuse a tangent, cotangent or vector ``value`` (named ``what`` in the message)
    that is not real numbers of the shape of ``primal`` (named ``of``)."""
    if not (_real(value, integers=True) or (_complex(value) and _complex(primal))):
        raise UsageError(f"{t.name}: {what} is {describe(value)}", _caller_loc(),
                         f"Pass a float or an array of floats of the shape of {of}"
                         + (" (complex numbers for a complex one)." if t.complex else "."))
    if np.shape(value) != np.shape(primal):
        raise UsageError(f"{t.name}: {what} has shape {np.shape(value)}, but {of} has shape "
                         f"{np.shape(primal)}", _caller_loc(),
                         f"Pass an array of the shape of {of} (np.ones_like, np.zeros_like).")


def tangents(f: Callable, t: Transform, args: tuple, tangents: tuple,
             names: tuple | None = None) -> None:
    """Refuse tangents (one per argument) that do not match ``args``: the same tuple,
    list and dict structure, and for each number or array in it real numbers of its
    shape (a constant's tangent, a str's or None's, is not read)."""
    for name, value, tangent in zip(names or _params(f), args, tangents):
        self_param = name == "self"
        if pytrees.constant_argument(value) or (tangent is None and integer_number(value)):
            continue  # a function's tangent is not read; an int's None is a zero tangent
        if pytrees.strip_static(pytrees.flatten(value, self_param)[0]) != \
                pytrees.strip_static(pytrees.flatten(tangent, self_param)[0]):
            raise UsageError(f"{t.name}: the tangent of argument {name!r} of {f.__name__} "
                             f"is {describe(tangent)}, another structure than {name}, "
                             f"{describe(value)}", _caller_loc(),
                             "Give a tangent of the argument's structure (np.zeros_like "
                             "for each entry).")
        for (path, leaf), (_, dot) in zip(_leaves(value, name), _leaves(tangent, name)):
            if not _constant(leaf):
                like(t, f"the tangent of {path}", dot, leaf, path)


def sequence(t: Transform, what: str, value) -> tuple:
    """``value`` (jvp's primals or tangents) as a tuple; refuse anything but a tuple or
    list (a bare array would be read as one argument per row)."""
    if not isinstance(value, (tuple, list)):
        raise UsageError(f"{t.name} takes {what} as a tuple, one entry per argument of the "
                         f"function; got {describe(value)}", _caller_loc(),
                         f"Write {t.name}(f, (x,), (x_dot,)) for a function of one argument.")
    return tuple(value)


# ---- what went wrong while the code ran -----------------------------------------------

def non_scalar(f: Callable, t: Transform, shape: tuple, loc: Loc | None,
               complex_: bool = False) -> NonScalarOutput | UsageError:
    """``f`` returned an array (or a complex number: ``complex_``) where ``t`` needs a
    real scalar."""
    if complex_:
        return UsageError(f"{f.__name__} returned a complex number; {t.name} needs a real "
                          "scalar output (the gradient of a complex function is not one "
                          "array)", loc, "Differentiate a real function of it: np.abs(z), "
                          "np.real(z) or np.abs(z) ** 2; or use srcgrad.vjp (a complex "
                          "cotangent) or srcgrad.jvp for the complex output itself.")
    hint = None if t.name in ("grad", "value_and_grad") else (
        "hessian and hvp need a scalar-valued function; for an array output use "
        "srcgrad.jacobian, or differentiate one entry of it (def g(x): return f(x)[k]).")
    return NonScalarOutput(f"{f.__name__} returned a value of shape {shape}, not a scalar",
                           loc, hint)


def blame(f: Callable, t: Transform, args: tuple, exc: BaseException, d=None
          ) -> UsageError | None:
    """For a TypeError raised while ``f`` or its derivative ``d`` ran: if some argument
    is not a number or an array of numbers (a str, None, another object), a UsageError
    naming it, located at the user's line that failed; else None (it is not about what
    was passed, and goes on as it is)."""
    if not isinstance(exc, TypeError) or isinstance(exc, SrcgradError):
        return None
    odd = [(name, path, leaf) for name, value in zip(_params(f), args)
           for path, leaf in _leaves(value, name) if not _real(leaf, integers=True)]
    if not odd:
        return None
    said = " and ".join(f"argument {name!r} of {f.__name__}" + (
        f" is {describe(v)}" if p == name else f": {p} is {describe(v)}")
        for name, p, v in odd)
    return UsageError(f"{said}, which its code cannot use here, in {t.name} "
                      f"({type(exc).__name__}: {exc})", _failed_at(f, exc, d),
                      "Pass a float or a NumPy array of floats. A string or None is taken as "
                      "a constant, for the function to compare or branch on.")


def _failed_at(f: Callable, exc: BaseException, d) -> Loc | None:
    frames = traceback.extract_tb(exc.__traceback__)
    if d is not None and any(fr.filename == d.filename for fr in frames):
        return _located_runtime_error(d, exc).loc
    mine = [fr for fr in frames if fr.filename == f.__code__.co_filename]
    if not mine:
        return _caller_loc()
    fr = mine[-1]
    lineno = fr.lineno or 0  # (None only for a frame without line numbers)
    return Loc(fr.filename, lineno, getattr(fr, "colno", None) or 0,
               linecache.getline(fr.filename, lineno))


@contextlib.contextmanager
def blaming(f: Callable, t: Transform, args: tuple, d=None):
    """Run the body; a TypeError that ``blame`` pins on an argument becomes its error."""
    try:
        yield
    except TypeError as exc:
        blamed = blame(f, t, args, exc, d)
        if blamed is None:
            raise
        raise blamed.with_traceback(None) from None
