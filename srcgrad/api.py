"""The driver and the public API.

``STAGES`` lists the pipeline in order; ``transform`` runs it. Everything a
stage needs comes from the previous stage's output, so any stage's result
can be printed (``srcgrad show --ir``).

Caching: a function is captured and lowered once; one derivative is
generated per (wrt, seed, argument kinds) and kept on the wrapper, so a call
costs a dict lookup plus the generated code itself. Argument kinds are
"scalar" (Python or NumPy scalar) or "any": scalar-only code is emitted
without broadcasting reductions.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import itertools
import linecache
import numbers
import traceback
import weakref
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from . import emit as _emit
from . import forward, ir, lower, optimize, parse, reverse, runtime
from .errors import (
    InternalError,
    Loc,
    NonScalarOutput,
    SrcgradError,
    UsageError,
)

STAGES = ("capture", "lower", "reverse", "optimize", "emit", "load")
_KINDS: dict[type, str] = {float: reverse.SCALAR, int: reverse.SCALAR, bool: reverse.SCALAR}
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


class _Entry:
    """Per user function: its lowered IR and its generated derivatives."""

    def __init__(self, f: Callable):
        self.f = f
        self.primals: dict[tuple, ir.Function] = {}  # by the structure of the arguments
        self.derivatives: dict[tuple, Derivative] = {}

    def lowered(self, structures: tuple = ()) -> ir.Function:
        if structures not in self.primals:
            self.primals[structures] = lower.lower(parse.capture(self.f), dict(structures))
        return self.primals[structures]

    @property
    def primal(self) -> ir.Function:
        return self.lowered()

    def derivative(self, wrt: tuple[int, ...], seed: str, kinds: tuple[str, ...],
                   structures: tuple = (), shapes: tuple | None = None,
                   disabled: frozenset | None = None, grads_only: bool = False) -> Derivative:
        """``wrt`` and ``kinds`` are per parameter of the lowered function (per leaf of
        the tuple, list and dict arguments described by ``structures``); ``shapes``,
        per parameter (None for non-arrays), specializes the code on array shapes;
        ``grads_only``: the code returns the gradient alone (one value, or a tuple),
        and computes f's value only where the gradient needs it."""
        key = (wrt, seed, kinds, structures, shapes, disabled, grads_only)
        d = self.derivatives.get(key)
        if d is None:
            d = self.derivatives[key] = _guarded(self.f, lambda: self._build(
                wrt, seed, kinds, structures, shapes, disabled, grads_only))
        return d

    def _build(self, wrt, seed, kinds, structures=(), shapes=None, disabled=None,
               grads_only=False) -> Derivative:
        primal = optimize.simplify_primal(self.lowered(structures), disabled)
        names = dict(zip((p.name for p in primal.params), kinds))
        if seed == "forward":
            dfn = optimize.optimize(forward.forward(primal, wrt, names), disabled)
        else:
            by_name = None if shapes is None else {
                p.name: s for p, s in zip(primal.params, shapes) if s is not None}
            dfn = reverse.reverse(primal, wrt, names, seed, by_name)
            if grads_only:
                dfn = ir.Function(dfn.name, dfn.params, dfn.body, dfn.returns[1:], dfn.loc,
                                  dfn.doc.replace(f"Returns {dfn.returns[0]} and the",
                                                  "Returns the"), dfn.defaults)
            dfn = optimize.optimize(dfn, disabled)
        source, namespace, locs = _emit.emit(dfn)
        filename = f"<srcgrad {dfn.name} #{next(_counter)}>"
        return Derivative(primal, dfn, source, _load(source, namespace, dfn.name, filename),
                          filename, locs)


_ENTRIES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _entry(f: Callable) -> _Entry:
    try:
        e = _ENTRIES.get(f)
    except TypeError:
        raise UsageError(f"srcgrad differentiates Python functions; got {f!r}") from None
    if e is None:
        e = _ENTRIES[f] = _Entry(f)
    return e


def _guarded(f: Callable, build: Callable):
    """Run a transform; anything but a SrcgradError is a located InternalError."""
    try:
        return build()
    except SrcgradError as exc:
        raise exc.with_traceback(None) from None
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


def _kind(a: object) -> str:
    k = _KINDS.get(type(a))
    if k is None:
        scalar = isinstance(a, (numbers.Number, np.generic)) and np.ndim(a) == 0
        k = _KINDS[type(a)] = reverse.SCALAR if scalar else reverse.ANY
    return k


def _annotated_kinds(f: Callable, params: list[str]) -> tuple[str, ...]:
    notes = getattr(f, "__annotations__", {})
    return tuple(reverse.SCALAR if notes.get(p) in (float, int, "float", "int") else reverse.ANY
                 for p in params)


def _params(f: Callable) -> list[str]:
    code = getattr(f, "__code__", None)
    if code is None:
        raise UsageError(f"srcgrad differentiates Python functions; got {f!r}")
    return list(code.co_varnames[: code.co_argcount])


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


def _located_runtime_error(d: Derivative, exc: Exception) -> SrcgradError:
    """Point at the user's expression whose forward or adjoint code raised ``exc``."""
    frames = [fr for fr in traceback.extract_tb(exc.__traceback__) if fr.filename == d.filename]
    where = d.locs.get(frames[-1].lineno) if frames else None
    if where is None:
        return SrcgradError(f"{type(exc).__name__}: {exc}, while computing the derivative",
                            d.primal.loc)
    loc, sweep = where
    line = d.source.splitlines()[frames[-1].lineno - 1].strip()
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


_DISPATCH = """\
def {name}({signature}):
    _sg_fn = _sg_by_types.get(({types}))
    if _sg_fn is None:
        _sg_fn = _sg_specialize(({args},))
    try:
        _sg_out = _sg_fn({args})
    except (*_sg_runtime_errors, _sg_NotScalar) as _sg_exc:
        raise _sg_runtime_error(_sg_fn, _sg_exc) from None
    return {result}
"""


def _check_real(f: Callable, i: int, value) -> None:
    """Differentiating with respect to booleans or integer arrays is an error (their
    derivative would be a silent zero); Python ints count as reals: f(2) is f(2.0)."""
    dtype = getattr(value, "dtype", None)
    if isinstance(value, (bool, np.bool_)) or (dtype is not None and dtype.kind in "biu"):
        raise UsageError(f"{f.__name__}: argument {_params(f)[i]!r} is "
                         f"{'boolean' if dtype is None else f'an array of {dtype}'}; "
                         "gradients are taken with respect to real values",
                         hint="Pass floats (e.g. x.astype(float)), or leave it out of wrt.")


_CONTAINERS = (tuple, list, dict)


def _flatten(arg) -> tuple[object, list]:
    """(structure, leaves) of a tuple, list or dict argument (structure None: a leaf)."""
    if isinstance(arg, dict):
        parts = [(k, _flatten(v)) for k, v in arg.items()]
        return ("dict", tuple((k, s) for k, (s, _) in parts)), [x for _, (_, ls) in parts
                                                                 for x in ls]
    if isinstance(arg, (tuple, list)):
        parts = [_flatten(v) for v in arg]
        kind = "tuple" if isinstance(arg, tuple) else "list"
        return (kind, tuple(s for s, _ in parts)), [x for _, ls in parts for x in ls]
    return None, [arg]


def _unflatten(structure, leaves: list):
    """The inverse of ``_flatten``, consuming ``leaves`` from the front."""
    if structure is None:
        return leaves.pop(0)
    kind, children = structure
    if kind == "dict":
        return {k: _unflatten(s, leaves) for k, s in children}
    items = [_unflatten(s, leaves) for s in children]
    return tuple(items) if kind == "tuple" else items


def _structured(f: Callable, entry: _Entry, indices: tuple, derivative_of: dict,
                grads_only: bool = False) -> Callable:
    """The derivative for calls with tuple, list or dict arguments: their leaves are
    parameters of their own, and each gradient comes back in its argument's shape.
    Returns ``(value, *gradients)``, or with ``grads_only`` what ``grad`` returns."""
    params = _params(f)

    def call(*args):
        flat = [_flatten(a) for a in args]
        structures = tuple((p, s) for p, (s, _) in zip(params, flat) if s is not None)
        leaves = [x for _, ls in flat for x in ls]
        starts = [sum(len(ls) for _, ls in flat[:i]) for i in range(len(flat))]
        wrt = tuple(starts[i] + j for i in indices for j in range(len(flat[i][1])))
        for k in wrt:
            _check_real(f, max(i for i in range(len(flat)) if starts[i] <= k), leaves[k])
        d = entry.derivative(wrt, "one", tuple(map(_kind, leaves)), structures)
        derivative_of[_structured] = d
        out = list(d.fn(*leaves))
        grads = out[1:]
        shaped = tuple(_unflatten(flat[i][0], [grads.pop(0) for _ in flat[i][1]])
                       for i in indices)
        if grads_only:  # like the generated code: one gradient is returned bare
            return shaped[0] if len(shaped) == 1 else shaped
        return (out[0], *shaped)

    return call


class _Shaped:
    """Calls the derivative specialized on the shapes of the array arguments (one per
    shape combination, built on first use; see ``shapes.py``)."""

    def __init__(self, build: Callable, arrays: tuple[int, ...], n: int):
        self.build, self.arrays, self.n = build, arrays, n
        self.table: dict[tuple, Derivative] = {}
        self.last: Derivative | None = None  # for locating a run-time error

    def __call__(self, *args):
        key = tuple([args[i].shape for i in self.arrays])
        d = self.table.get(key)
        if d is None:
            shapes = [None] * self.n
            for i, shape in zip(self.arrays, key):
                shapes[i] = shape
            d = self.table[key] = self.build(tuple(shapes))
        self.last = d
        return d.fn(*args)


_shaped = _Shaped


def _gradient(f: Callable, wrt, with_value: bool) -> Callable:
    """The gradient function: a dispatcher with ``f``'s own signature, written out as
    Python so that a call costs one dict lookup on the argument types (which decide
    the specialization) plus the generated code."""
    entry = _entry(f)
    indices, single = _wrt(f, wrt)
    sig = inspect.signature(f)
    params = _params(f)
    if any(p.kind is not p.POSITIONAL_OR_KEYWORD for p in sig.parameters.values()):
        return _rejecting(f, entry)
    if any(p.startswith("_sg_") for p in params):
        raise UsageError(f"{f.__name__}: parameter names starting with _sg_ are reserved "
                         "for srcgrad's generated code")
    by_types: dict[tuple[type, ...], Callable] = {}
    derivative_of: dict[Callable, Derivative] = {}

    def specialize(args: tuple) -> Callable:
        if any(isinstance(a, _CONTAINERS) for a in args):
            fn = _structured(f, entry, indices, derivative_of, not with_value)
            derivative_of[fn] = None
        else:
            for i in indices:
                _check_real(f, i, args[i])
            kinds = tuple(map(_kind, args))
            arrays = tuple(i for i, a in enumerate(args) if isinstance(a, np.ndarray))
            only = not with_value
            if arrays:
                fn = _shaped(lambda shapes: entry.derivative(
                    indices, "one", kinds, (), shapes, grads_only=only), arrays, len(args))
                derivative_of[fn] = fn
            else:
                d = entry.derivative(indices, "one", kinds, grads_only=only)
                fn = d.fn
                derivative_of[fn] = d
        by_types[tuple(map(type, args))] = fn
        return fn

    def runtime_error(fn, exc):
        d = derivative_of[fn] or derivative_of[_structured]
        if isinstance(d, _Shaped):
            d = d.last
        if isinstance(exc, runtime.NotScalar):
            return NonScalarOutput(f"{f.__name__} returned a value of shape {exc.shape}, "
                                   "not a scalar", d.primal.loc)
        return _located_runtime_error(d, exc).with_traceback(None)

    namespace = {"_sg_by_types": by_types, "_sg_specialize": specialize, "_sg_type": type,
                 "_sg_runtime_error": runtime_error, "_sg_NotScalar": runtime.NotScalar,
                 "_sg_runtime_errors": _RUNTIME_ERRORS}
    signature = []
    for p in sig.parameters.values():
        if p.default is p.empty:
            signature.append(p.name)
        else:
            namespace[f"_sg_default_{p.name}"] = p.default
            signature.append(f"{p.name}=_sg_default_{p.name}")
    grads = "_sg_out[1]" if single else "_sg_out[1:]"
    # Named like f, so a wrong call reads exactly as it would for f itself.
    name = f.__name__ if f.__name__.isidentifier() else "_sg_dispatch"
    text = _DISPATCH.format(name=name,
        signature=", ".join(signature), args=", ".join(params),
        types="".join(f"_sg_type({p}), " for p in params),
        result=f"_sg_out[0], {grads}" if with_value else
        "(_sg_out,)" if len(indices) == 1 and not single else "_sg_out")
    wrapper = _load(text, namespace, name, f"<srcgrad dispatch {f.__qualname__}>")
    functools.update_wrapper(wrapper, f)
    if single and not with_value:
        wrapper.__srcgrad_gradient__ = (f, indices[0])  # for grad(grad(f))
    return wrapper


def _rejecting(f: Callable, entry: _Entry) -> Callable:
    """For signatures srcgrad cannot compile yet: the first call raises the located error."""

    @functools.wraps(f)
    def wrapper(*args, **kwargs):
        _guarded(f, entry.lowered)
        raise UsageError(f"{f.__name__}: unsupported signature")  # lowering raises first

    return wrapper


def grad(f: Callable | None = None, wrt=0) -> Callable:
    """The gradient of scalar-valued ``f`` with respect to ``wrt``.

    ``wrt`` is a parameter index or name, or a tuple of them (the gradient is
    then a tuple in the same order). Usable as ``@grad``, ``@grad(wrt="x")``
    or ``grad(f, wrt=...)``; the result keeps ``f``'s name, docstring and
    signature.
    """
    if f is None:
        return lambda g: grad(g, wrt)
    chain = getattr(f, "__srcgrad_higher__", None)
    if chain is not None:  # checked first: functools.wraps copies the inner markers
        return _higher_gradient(f, chain, wrt)
    inner = getattr(f, "__srcgrad_gradient__", None)
    if inner is not None:
        return _higher_gradient(f, (*inner, ()), wrt)
    return _gradient(f, wrt, with_value=False)


def _higher_gradient(g: Callable, chain: tuple, wrt) -> Callable:
    """``grad`` of ``g``, itself ``grad(f, wrt=i)`` (or a ``grad`` of that...): one more
    forward-mode pass over f's generated gradient (srcgrad differentiating its own
    output). ``chain`` is (f, i, (j, ...)): the arguments differentiated so far."""
    f, i, js = chain
    (j,), single = _wrt(f, wrt)
    if not single:
        raise UsageError("grad of a gradient takes one argument to differentiate with respect to")
    js = (*js, j)
    entry = _entry(f)
    made: dict[tuple, Derivative] = {}

    @functools.wraps(g)
    def higher(*args):
        args = _binder(f)(args, {})
        if any(np.ndim(args[k]) != 0 for k in (i, *js[:-1])):
            raise NonScalarOutput(f"grad of a gradient of {f.__name__}: an inner derivative "
                                  "is an array here; use srcgrad.hessian")
        kinds = tuple(map(_kind, args))
        if kinds not in made:
            made[kinds] = _guarded(f, lambda: _higher_order(entry, i, kinds, js))
        x = np.asarray(args[j], dtype=float)
        entries = []
        for k in range(max(x.size, 1)):
            e = np.zeros(x.shape)
            e.flat[k] = 1.0
            ones = (1.0,) * (len(js) - 1)  # the earlier directions: the scalar arguments
            entries.append(_call(made[kinds], (*args, *ones, e if x.ndim else 1.0))[1])
        return entries[0] if x.ndim == 0 else np.reshape(entries, x.shape)

    higher.__srcgrad_higher__ = (f, i, js)
    return higher


def value_and_grad(f: Callable | None = None, wrt=0) -> Callable:
    """Like ``grad``, but the function returns ``(f(*args), gradient)``."""
    if f is None:
        return lambda g: value_and_grad(g, wrt)
    return _gradient(f, wrt, with_value=True)


def vjp(f: Callable, *args) -> tuple[object, Callable]:
    """``(f(*args), vjp_fn)``; ``vjp_fn(cotangent)`` gives the tuple of cotangents of
    every positional argument of ``f``."""
    entry = _entry(f)
    args = _binder(f)(args, {})
    if any(isinstance(a, _CONTAINERS) for a in args):
        raise UsageError("vjp with tuple, list or dict arguments is not supported yet; "
                         "grad and value_and_grad take them")
    kinds = tuple(map(_kind, args))
    d = entry.derivative(tuple(range(len(args))), "param", kinds)
    out = f(*args)

    def vjp_fn(cotangent):
        return tuple(_call(d, (*args, cotangent))[1:])

    return out, vjp_fn


def _derivative_for_display(f: Callable, wrt, mode: str, optimized: bool = True
                            ) -> Derivative:
    if mode not in ("reverse", "forward"):
        raise UsageError(f"mode must be 'reverse' or 'forward', not {mode!r}")
    indices, _ = _wrt(f, wrt)
    kinds = _annotated_kinds(f, _params(f))
    disabled = None if optimized else frozenset(optimize.PASSES)
    return _entry(f).derivative(indices, "one" if mode == "reverse" else "forward", kinds,
                                disabled=disabled)


def jvp(f: Callable, primals: tuple, tangents: tuple) -> tuple[object, object]:
    """``(f(*primals), J @ tangents)``: the value and its directional derivative, by
    forward mode (tangent code interleaved with the function's own)."""
    primals, tangents = tuple(primals), tuple(tangents)
    if len(primals) != len(tangents):
        raise UsageError(f"jvp: {len(primals)} primals but {len(tangents)} tangents")
    entry = _entry(f)
    args = _binder(f)(primals, {})
    flat = [_flatten(a) for a in args]
    flat_tangents = [_flatten(t) for t in tangents]
    for i, ((s1, _), (s2, _)) in enumerate(zip(flat, flat_tangents)):
        if s1 != s2 and s1 is not None:
            raise UsageError(f"jvp: the tangent of argument {i} has another structure than "
                             "the argument")
    leaves = [x for _, ls in flat for x in ls]
    for k, leaf in enumerate(leaves):
        if isinstance(leaf, (bool, np.bool_)) or getattr(leaf, "dtype", np.dtype(float)).kind \
                in "biu":
            raise UsageError(f"{f.__name__}: jvp needs real arguments; leaf {k} is "
                             f"{type(leaf).__name__}")
    structures = tuple((p, s) for p, (s, _) in zip(_params(f), flat) if s is not None)
    d = entry.derivative(tuple(range(len(leaves))), "forward", tuple(map(_kind, leaves)),
                         structures)
    return _call(d, (*leaves, *(x for _, ls in flat_tangents for x in ls)))


def derivative_source(f: Callable, wrt=0, mode: str = "reverse", order: int = 1,
                      optimized: bool = True) -> str:
    """The generated derivative's source. Parameters annotated ``float`` or ``int``
    are taken as scalars (as a call with scalars would); others as arrays (of any
    shape: calls specialize on shapes too). ``order=2`` gives the Hessian-vector
    product code (forward over reverse); ``optimized=False`` the transform's raw
    output, before the optimizer's passes."""
    if order == 2:
        (i,), _ = _wrt(f, wrt)
        kinds = _annotated_kinds(f, _params(f))
        return _guarded(f, lambda: _second_order(_entry(f), i, kinds)).source
    if order != 1:
        raise UsageError(f"order must be 1 or 2, not {order!r}")
    return _derivative_for_display(f, wrt, mode, optimized).source


def derivative_ir(f: Callable, wrt=0, mode: str = "reverse") -> str:
    """The SSA IR of ``f`` and of its derivative, as text."""
    d = _derivative_for_display(f, wrt, mode)
    return f"{d.primal}\n\n{d.ir}\n"


def jacobian(f: Callable, wrt=0, mode: str = "auto") -> Callable:
    """The Jacobian of ``f`` with respect to ``wrt`` (an index or name), as a function of
    ``f``'s arguments: an array of shape ``out.shape + arg.shape``. ``mode`` is
    "forward" (one jvp per input entry), "reverse" (one vjp per output entry), or
    "auto" (the fewer of the two)."""
    if mode not in ("auto", "forward", "reverse"):
        raise UsageError(f"mode must be 'auto', 'forward' or 'reverse', not {mode!r}")
    (i,), single = _wrt(f, wrt)
    if not single:
        raise UsageError("jacobian takes one argument to differentiate with respect to")

    @functools.wraps(f)
    def jac(*args):
        args = _binder(f)(args, {})
        x = np.asarray(args[i], dtype=float)
        out = np.asarray(f(*args))
        use_forward = mode == "forward" or (mode == "auto" and x.size <= out.size)
        if use_forward:
            columns = []
            for k in range(x.size):
                direction = np.zeros(x.size)
                direction[k] = 1.0
                tangents = [np.zeros(np.shape(a)) if isinstance(a, np.ndarray) else 0.0
                            for a in args]
                tangents[i] = direction.reshape(x.shape) if x.ndim else 1.0
                columns.append(np.asarray(jvp(f, args, tangents)[1], dtype=float).ravel())
            flat = np.stack(columns, axis=1) if columns else np.zeros((out.size, 0))
        else:
            _, pullback = vjp(f, *args)
            rows = []
            for j in range(out.size):
                cotangent = np.zeros(out.size)
                cotangent[j] = 1.0
                ct = cotangent.reshape(out.shape) if out.ndim else 1.0
                rows.append(np.asarray(pullback(ct)[i], dtype=float).ravel())
            flat = np.stack(rows, axis=0) if rows else np.zeros((0, x.size))
        return flat.reshape(out.shape + x.shape)

    return jac


def hvp(f: Callable, wrt=0) -> Callable:
    """The Hessian-vector product: ``hvp(f)(*args, v)`` is ``H v`` for the Hessian of
    scalar ``f`` with respect to ``wrt``, by forward mode over the generated gradient
    (no Hessian is built). Functions with loops are not supported yet."""
    (i,), single = _wrt(f, wrt)
    if not single:
        raise UsageError("hvp takes one argument to differentiate with respect to")
    entry = _entry(f)
    made: dict[tuple, Derivative] = {}

    @functools.wraps(f)
    def product(*args_and_v):
        *args, v = args_and_v
        args = _binder(f)(tuple(args), {})
        _check_real(f, i, args[i])
        kinds = tuple(map(_kind, args))
        if kinds not in made:
            made[kinds] = _guarded(f, lambda: _second_order(entry, i, kinds))
        return _call(made[kinds], (*args, v))[1]

    return product


def _second_order(entry: _Entry, i: int, kinds: tuple, j: int | None = None) -> Derivative:
    """The jvp, along argument ``j`` (default ``i``), of ``f``'s generated gradient with
    respect to argument ``i``."""
    return _higher_order(entry, i, kinds, (i if j is None else j,))


def _higher_order(entry: _Entry, i: int, kinds: tuple, js: tuple) -> Derivative:
    """Forward mode along arguments ``js``, one pass each, over ``f``'s generated gradient
    with respect to argument ``i``: srcgrad applied to its own output. The result takes
    ``f``'s arguments and one tangent per pass, and returns the last tangent."""
    d = entry.derivative((i,), "one", kinds)
    fn = dataclasses.replace(d.ir, returns=(d.ir.returns[1],))
    kind_of = dict(zip((p.name for p in d.ir.params), kinds))
    for j in js:
        kind_of[fn.params[j].name] = kind_of.get(fn.params[j].name, "any")
        names = {p.name: kind_of.get(p.name, kind_of[fn.params[j].name]) for p in fn.params}
        fn = optimize.optimize(forward.forward(fn, (j,), names))
        fn = dataclasses.replace(fn, returns=(fn.returns[1],))
        kind_of[fn.params[-1].name] = kind_of[fn.params[j].name]
    x = d.primal.params[i].name
    order = len(js) + 1
    name = f"{d.primal.name}_hvp" if order == 2 else f"{d.primal.name}_order{order}"
    fn = dataclasses.replace(fn, name=name, returns=(ir.Const(None), fn.returns[0]), doc=(
        f"Derivative of order {order} of {d.primal.name}: the gradient with respect to {x}, "
        "differentiated along the tangent arguments.\n\nGenerated by srcgrad: forward "
        "mode over the generated gradient."))
    source, namespace, locs = _emit.emit(fn)
    filename = f"<srcgrad {fn.name} #{next(_counter)}>"
    return Derivative(d.primal, fn, source, _load(source, namespace, fn.name, filename),
                      filename, locs)


def hessian(f: Callable, wrt=0) -> Callable:
    """The Hessian of scalar ``f`` with respect to ``wrt``, as a function of ``f``'s
    arguments: shape ``arg.shape + arg.shape``, one ``hvp`` per entry of the argument."""
    product = hvp(f, wrt)
    (i,), _ = _wrt(f, wrt)

    @functools.wraps(f)
    def full(*args):
        x = np.asarray(_binder(f)(args, {})[i], dtype=float)
        columns = []
        for k in range(x.size):
            e = np.zeros(x.size)
            e[k] = 1.0
            columns.append(np.ravel(product(*args, e.reshape(x.shape) if x.ndim else 1.0)))
        return np.stack(columns, axis=1).reshape(x.shape + x.shape)

    return full


class GradientMismatch(SrcgradError):
    hint = "srcgrad's gradient disagrees with finite differences; please report this."


def check_grad(f: Callable, *args, wrt=0, eps: float = 1e-6, rtol: float = 1e-5,
               atol: float = 1e-7) -> float:
    """Compare ``grad(f, wrt)`` with central finite differences at ``args``.

    Returns the largest absolute difference; raises ``GradientMismatch`` when
    some entry differs by more than ``atol + rtol * |finite difference|``.
    """
    indices, single = _wrt(f, wrt)
    analytic = grad(f, wrt)(*args)
    analytic = (analytic,) if single else analytic
    worst = 0.0
    for i, g in zip(indices, analytic):
        fd = _central_difference(f, args, i, eps)
        g = np.asarray(g, dtype=float)
        if g.shape != fd.shape:
            raise GradientMismatch(f"gradient of argument {i} has shape {g.shape}, "
                                   f"expected {fd.shape}")
        err = np.abs(g - fd)
        worst = max(worst, float(np.max(err, initial=0.0)))
        if not np.all(err <= atol + rtol * np.abs(fd)):
            raise GradientMismatch(f"gradient of argument {i} of {f.__name__}: srcgrad gives "
                                   f"{g}, finite differences give {fd}")
    return worst


def _central_difference(f: Callable, args: tuple, i: int, eps: float) -> np.ndarray:
    x = np.array(args[i], dtype=float)
    out = np.zeros(x.shape)
    for idx in np.ndindex(x.shape):
        plus, minus = x.copy(), x.copy()
        plus[idx] += eps
        minus[idx] -= eps
        as_arg = (lambda v: float(v)) if x.ndim == 0 else (lambda v: v)
        hi = f(*args[:i], as_arg(plus), *args[i + 1:])
        lo = f(*args[:i], as_arg(minus), *args[i + 1:])
        out[idx] = (hi - lo) / (2 * eps)
    return out
