"""The public API: grad, value_and_grad, vjp, jvp, jacobian, hvp, hessian,
derivative_source, check_grad.

Each gradient function is a generated dispatcher with ``f``'s signature: a call
costs one dict lookup on the argument types (then, for arrays, on their shapes)
plus the generated code; ``build.py`` makes and caches the derivatives.
Argument kinds are "scalar" (Python or NumPy scalar) or "any": scalar-only code
is emitted without broadcasting reductions, array code is specialized on the
argument shapes. What each transform is given is checked first, by ``checks``.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import numbers
from collections.abc import Callable

import numpy as np

from . import backend, checks, ir, optimize, runtime, transform
from . import shown as _shown
from .build import (  # noqa: F401 - re-exported for tests and tools
    _CONTAINERS,
    _ENTRIES,
    _RUNTIME_ERRORS,
    STAGES,
    Derivative,
    _annotated_kinds,
    _binder,
    _call,
    _caller_loc,
    _check_real,
    _counter,
    _Entry,
    _entry,
    _flatten,
    _forward_over_gradient,
    _guarded,
    _kind,
    _load,
    _located_runtime_error,
    _params,
    _unflatten,
    _wrt,
)
from .errors import (
    NonScalarOutput,
    SrcgradError,
    UsageError,
)

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


def _structured(f: Callable, entry: _Entry, indices: tuple, derivative_of: dict,
                grads_only: bool = False) -> Callable:
    """The derivative for calls with tuple, list or dict arguments: their leaves are
    parameters of their own, and each gradient comes back in its argument's shape.
    Returns ``(value, *gradients)``, or with ``grads_only`` what ``grad`` returns."""
    params = _params(f)
    transform = checks.GRAD if grads_only else checks.VALUE_AND_GRAD

    def call(*args):
        checks.arguments(f, transform, args, indices)  # on each call: contents change
        flat = [_flatten(a) for a in args]
        structures = tuple((p, s) for p, (s, _) in zip(params, flat) if s is not None)
        leaves = [x for _, ls in flat for x in ls]
        starts = [sum(len(ls) for _, ls in flat[:i]) for i in range(len(flat))]
        wrt = tuple(starts[i] + j for i in indices for j in range(len(flat[i][1])))
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
    shape combination, built on first use; see ``transform/shapes.py``). Keyed on dtypes too:
    arrays of one type can hold integers or complex numbers, which ``check`` refuses
    (it is given the arguments on each new key)."""

    def __init__(self, build: Callable, arrays: tuple[int, ...], n: int,
                 check: Callable = lambda args: None):
        self.build, self.arrays, self.n, self.check = build, arrays, n, check
        self.table: dict[tuple, Derivative] = {}
        self.by_shapes: dict[tuple, Derivative] = {}
        self.last: Derivative | None = None  # for locating a run-time error

    def __call__(self, *args):
        key = tuple([(args[i].shape, args[i].dtype) for i in self.arrays])
        d = self.table.get(key)
        if d is None:
            self.check(args)
            shapes = [None] * self.n
            for i, (shape, _) in zip(self.arrays, key):
                shapes[i] = shape
            shapes = tuple(shapes)
            if shapes not in self.by_shapes:
                self.by_shapes[shapes] = self.build(shapes)
            d = self.table[key] = self.by_shapes[shapes]
        self.last = d
        return d.fn(*args)


_shaped = _Shaped


def _gradient(f: Callable, wrt, with_value: bool) -> Callable:
    """The gradient function: a dispatcher with ``f``'s own signature, written out as
    Python so that a call costs one dict lookup on the argument types (which decide
    the specialization) plus the generated code."""
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
    by_types: dict[tuple[type, ...], Callable] = {}
    derivative_of: dict[Callable, Derivative] = {}

    def specialize(args: tuple) -> Callable:
        if any(isinstance(a, _CONTAINERS) for a in args):
            fn = _structured(f, entry, indices, derivative_of, not with_value)
            derivative_of[fn] = None
        else:
            checks.arguments(f, transform, args, indices)
            kinds = tuple(map(_kind, args))
            arrays = tuple(i for i, a in enumerate(args) if isinstance(a, np.ndarray))
            only = not with_value
            if arrays:
                fn = _shaped(lambda shapes: entry.derivative(
                    indices, "one", kinds, (), shapes, grads_only=only), arrays, len(args),
                    lambda args: checks.arguments(f, transform, args, indices))
                derivative_of[fn] = fn
            else:
                d = entry.derivative(indices, "one", kinds, grads_only=only)
                fn = d.fn
                derivative_of[fn] = d
        by_types[tuple(map(type, args))] = fn
        return fn

    def runtime_error(fn, exc, args):
        d = derivative_of.get(fn) or derivative_of.get(_structured)
        if isinstance(d, _Shaped):
            d = d.last
        if isinstance(exc, TypeError):  # about an argument, or not srcgrad's to report
            return checks.blame(f, transform, args, exc, d) or exc
        if isinstance(exc, runtime.NotScalar):
            return checks.non_scalar(f, transform, exc.shape, d.primal.loc)
        return _located_runtime_error(d, exc).with_traceback(None)

    built = [entry.generation]

    def stale() -> None:
        """Drop what this dispatcher kept if f's names changed (see _Entry.stale)."""
        entry.stale()
        if built[0] != entry.generation:
            by_types.clear()
            derivative_of.clear()
            built[0] = entry.generation

    namespace = {"_sg_by_types": by_types, "_sg_specialize": specialize, "_sg_type": type,
                 "_sg_stale": stale,
                 "_sg_runtime_error": runtime_error, "_sg_NotScalar": runtime.NotScalar,
                 "_sg_runtime_errors": _RUNTIME_ERRORS, "_sg_missing": checks.MISSING,
                 "_sg_wrong_call": functools.partial(checks.wrong_call, f)}
    grads = "_sg_out[1]" if single else "_sg_out[1:]"
    name, text = _dispatch_text(f, sig, namespace,
                                f"_sg_out[0], {grads}" if with_value else
                                "(_sg_out,)" if len(indices) == 1 and not single else "_sg_out")
    wrapper = _load(text, namespace, name, f"<srcgrad dispatch {f.__qualname__}>")
    functools.update_wrapper(wrapper, f)
    wrapper.__srcgrad_derivative__ = ("value_and_grad" if with_value else "grad", f,
                                      indices, single)  # for jvp and vjp of it
    if single and not with_value:
        wrapper.__srcgrad_gradient__ = (f, indices[0])  # for grad(grad(f))
    return wrapper


def _dispatch_text(f: Callable, sig: inspect.Signature, namespace: dict, result: str
                   ) -> tuple[str, str]:
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
        return checks.decorator(checks.GRAD, lambda g: grad(g, wrt))
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
    t = checks.GRAD_OF_GRAD
    (j,), _ = checks.wrt(f, wrt, t, one=True)
    js = (*js, j)
    entry = _entry(f)
    made: dict[tuple, Derivative] = {}

    @functools.wraps(g)
    def higher(*args, **kwargs):
        args = checks.bind(f, args, kwargs)
        checks.plain(f, t, args)
        checks.arguments(f, t, args, (i, *js))
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
    higher.__srcgrad_derivative__ = ("grad", f)  # not (yet) for jvp or vjp
    return higher


def value_and_grad(f: Callable | None = None, wrt=0) -> Callable:
    """Like ``grad``, but the function returns ``(f(*args), gradient)``."""
    if f is None:
        return checks.decorator(checks.VALUE_AND_GRAD, lambda g: value_and_grad(g, wrt))
    return _gradient(f, wrt, with_value=True)


def vjp(f: Callable, *args, **kwargs) -> tuple[object, Callable]:
    """``(f(*args, **kwargs), vjp_fn)``; ``vjp_fn(cotangent)``, for a cotangent of the
    output's shape, gives the tuple of cotangents of every parameter of ``f`` (those
    left to their defaults included). Tuple, list and dict arguments are not taken
    yet; a string or None argument is a constant (its cotangent is 0)."""
    if len(getattr(f, "__srcgrad_derivative__", ())) == 4:
        return _vjp_of_gradient(f.__srcgrad_derivative__, args, kwargs)
    t = checks.VJP
    entry = _entry(f)
    args = checks.bind(f, args, kwargs)
    checks.plain(f, t, args)
    checks.arguments(f, t, args)
    kinds = tuple(map(_kind, args))
    d = entry.derivative(tuple(range(len(args))), "param", kinds)
    # f may write into its array arguments; the pullback differentiates at args as given
    with checks.blaming(f, t, args):
        out = f(*(np.copy(a) if isinstance(a, np.ndarray) else a for a in args))

    # Output independent of every argument: the code takes no cotangent (its zeros
    # need none), so it is not passed.
    seeded = len(d.ir.params) > len(args)

    def vjp_fn(cotangent):
        if isinstance(out, (np.ndarray, np.generic, numbers.Number)):
            checks.like(t, "the cotangent", cotangent, out, f"{f.__name__}'s output")
        with checks.blaming(f, t, args, d):
            return tuple(_call(d, (*args, cotangent) if seeded else args)[1:])

    return out, vjp_fn


def _derivative_for_display(f: Callable, wrt, mode: str, optimized: bool = True
                            ) -> _shown.Shown:
    return _shown.display(f, wrt, mode, optimized)  # which code, and its module: shown.py


def jvp(f: Callable, primals: tuple, tangents: tuple) -> tuple[object, object]:
    """``(f(*primals), J @ tangents)``: the value and its directional derivative, by
    forward mode (tangent code interleaved with the function's own). ``primals`` and
    ``tangents`` are tuples, one entry per argument, each tangent of its primal's
    structure and shape; parameters left to their defaults get zero tangents, and a
    string or None primal is a constant (its tangent is not read)."""
    t = checks.JVP
    primals = checks.sequence(t, "primals", primals)
    tangents = checks.sequence(t, "tangents", tangents)
    if len(primals) != len(tangents):
        raise UsageError(f"jvp: {len(primals)} primals but {len(tangents)} tangents",
                         _caller_loc(), "Give one tangent per primal (zeros for an argument "
                         "held fixed).")
    if len(getattr(f, "__srcgrad_derivative__", ())) == 4:
        return _jvp_of_gradient(f.__srcgrad_derivative__, primals, tangents)
    entry = _entry(f)
    args = checks.bind(f, primals)
    checks.arguments(f, t, args)
    flat = [_flatten(a) for a in args]
    # Parameters left to their defaults are constants here: their tangents are zeros.
    tangents += tuple(_unflatten(s, [np.zeros(np.shape(x)) if isinstance(x, np.ndarray)
                                     else 0.0 for x in ls]) for s, ls in flat[len(tangents):])
    checks.tangents(f, t, args, tangents)
    flat_tangents = [_flatten(x) for x in tangents]
    leaves = [x for _, ls in flat for x in ls]
    structures = tuple((p, s) for p, (s, _) in zip(_params(f), flat) if s is not None)
    d = entry.derivative(tuple(range(len(leaves))), "forward", tuple(map(_kind, leaves)),
                         structures)
    with checks.blaming(f, t, args, d):
        return _call(d, (*leaves, *(x for _, ls in flat_tangents for x in ls)))


def _plain_args(g: Callable, args: tuple, t: checks.Transform, kwargs: dict | None = None
                ) -> tuple:
    args = checks.bind(g, args, kwargs)
    checks.plain(g, t, args)
    checks.arguments(g, t, args)
    return args


def _jvp_of_gradient(made: tuple, primals: tuple, tangents: tuple):
    """jvp of ``grad(g)`` or ``value_and_grad(g)``: forward mode over g's generated
    gradient, along the tangents of every argument (a Hessian-vector product)."""
    kind, g, indices, single = made
    args = _plain_args(g, primals, checks.JVP_OF_GRAD)
    tangents = (*tangents, *(np.zeros(np.shape(a)) for a in args[len(tangents):]))
    checks.tangents(g, checks.JVP_OF_GRAD, args, tangents)
    kinds = tuple(map(_kind, args))
    pairs = [_call(_forward_over_gradient(_entry(g), indices, kinds, k), (*args, *tangents))
             for k in range(len(indices))]
    grads, dots = (pairs[0] if single else tuple(zip(*pairs)))
    if kind == "grad":
        return grads, dots
    value, value_dot = jvp(g, args, tangents)
    return (value, grads), (value_dot, dots)


def _vjp_of_gradient(made: tuple, args: tuple, kwargs: dict):
    """vjp of ``grad(g, wrt=i)``: the cotangent of argument j is the jvp of g's gradient
    with respect to j along argument i (mixed partials are equal), by forward mode."""
    kind, g, (i, *more), single = made
    if kind != "grad" or more or not single:
        raise UsageError(f"vjp of srcgrad.{kind} of {g.__name__} with respect to several "
                         "arguments is not supported yet", _caller_loc(),
                         "Take vjp of srcgrad.grad(f, wrt=i), one argument at a time.")
    args = _plain_args(g, args, checks.VJP_OF_GRAD, kwargs)
    kinds, entry = tuple(map(_kind, args)), _entry(g)
    pullbacks = [_guarded(g, lambda j=j: _second_order(entry, j, kinds, i))
                 for j in range(len(args))]

    def vjp_fn(cotangent):
        return tuple(_call(d, (*args, cotangent))[1] for d in pullbacks)

    return _call(entry.derivative((i,), "one", kinds), args)[1], vjp_fn


def derivative_source(f: Callable, wrt=0, mode: str = "reverse", order: int = 1,
                      optimized: bool = True) -> str:
    """The generated derivative's source, as a complete module: the imports it needs
    (NumPy and ``math`` as ``f``'s module spells them, the ``srcgrad.runtime`` helpers
    it calls, the globals of ``f``'s module it reads), then the code, so that it runs
    when pasted into a file next to ``f``'s module.

    Parameters annotated ``float`` or ``int`` are taken as scalars (as a call with
    scalars would); others as arrays (of any shape: calls specialize on shapes
    too). A parameter that ``f`` only indexes with constant strings
    (``params["W"]``) is a dict: its entries are parameters of their own, as in the
    code calls run (a comment says how to call it). On what ``srcgrad.grad`` or
    ``value_and_grad`` made (``@srcgrad.grad``), the gradient code it runs, for its
    own wrt. ``order=2`` gives the Hessian-vector product code (forward over
    reverse); ``optimized=False`` the transform's raw output, before the
    optimizer's passes."""
    if order == 2:
        f, indices, _ = _shown.resolve(f, wrt, mode, order)
        if len(indices) != 1:
            raise UsageError("order=2 takes one argument to differentiate with respect to, "
                             f"not wrt={wrt!r}")
        kinds = _annotated_kinds(f, _params(f))
        d = _guarded(f, lambda: _second_order(_entry(f), indices[0], kinds))
        return _shown.module_text(_shown.Shown(d, _entry(f).assumed))
    if order != 1:
        raise UsageError(f"order must be 1 or 2, not {order!r}")
    return _shown.module_text(_derivative_for_display(f, wrt, mode, optimized))


def derivative_ir(f: Callable, wrt=0, mode: str = "reverse") -> str:
    """The SSA IR of ``f`` and of its derivative, as text (the derivative
    ``derivative_source`` shows)."""
    d = _derivative_for_display(f, wrt, mode).derivative
    return f"{d.primal}\n\n{d.ir}\n"


def jacobian(f: Callable, wrt=0, mode: str = "auto") -> Callable:
    """The Jacobian of ``f`` with respect to ``wrt`` (an index or name), as a function of
    ``f``'s arguments: an array of shape ``out.shape + arg.shape``. ``mode`` is
    "forward" (one jvp per input entry), "reverse" (one vjp per output entry), or
    "auto" (the fewer of the two)."""
    t = checks.JACOBIAN
    if mode not in ("auto", "forward", "reverse"):
        raise UsageError(f"mode must be 'auto', 'forward' or 'reverse', not {mode!r}")
    (i,), _ = checks.wrt(f, wrt, t, one=True)

    @functools.wraps(f)
    def jac(*args, **kwargs):
        args = checks.bind(f, args, kwargs)
        checks.plain(f, t, args)  # neither jvp nor vjp below would take them as they are
        checks.arguments(f, t, args, (i,))
        x = np.asarray(args[i], dtype=float)
        with checks.blaming(f, t, args):
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

    jac.__srcgrad_derivative__ = ("jacobian", f)
    return jac


def hvp(f: Callable, wrt=0) -> Callable:
    """The Hessian-vector product: ``hvp(f)(*args, v)`` is ``H v`` for the Hessian of
    scalar ``f`` with respect to ``wrt`` (one index or name), ``v`` an array of that
    argument's shape. Computed by forward mode over the generated gradient (no
    Hessian is built), so it covers what ``grad`` covers, loops and branches
    included."""
    return _hvp(f, wrt, checks.HVP)


def _hvp(f: Callable, wrt, t: checks.Transform) -> Callable:
    """``hvp(f, wrt)``, its errors worded for ``t`` (hvp, or hessian built on it)."""
    (i,), _ = checks.wrt(f, wrt, t, one=True)
    entry = _entry(f)
    made: dict[tuple, Derivative] = {}
    name = _params(f)[i]

    @functools.wraps(f)
    def product(*args_and_v, **kwargs):
        if not args_and_v:
            raise UsageError(f"hvp({f.__name__}) takes {f.__name__}'s arguments, then the "
                             "vector v; it was given none", _caller_loc(), _V_HINT)
        *args, v = args_and_v
        args = checks.bind(f, tuple(args), kwargs, _V_HINT)
        checks.arguments(f, t, args, (i,))
        checks.like(t, "v", v, args[i], repr(name))
        kinds = tuple(map(_kind, args))
        if kinds not in made:
            made[kinds] = _guarded(f, lambda: _second_order(entry, i, kinds))
        d = made[kinds]
        try:
            with checks.blaming(f, t, args, d):
                return _call(d, (*args, v))[1]
        except runtime.NotScalar as exc:
            raise checks.non_scalar(f, t, exc.shape, d.primal.loc) from None

    product.__srcgrad_derivative__ = ("hvp", f)
    return product


_V_HINT = "Call hvp(f)(x, ..., v): f's arguments, then v, an array of the shape of x."


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
        fn = optimize.optimize(transform.forward(fn, (j,), names))
        fn = dataclasses.replace(fn, returns=(fn.returns[1],))
        kind_of[fn.params[-1].name] = kind_of[fn.params[j].name]
    x = d.primal.params[i].name
    order = len(js) + 1
    name = f"{d.primal.name}_hvp" if order == 2 else f"{d.primal.name}_order{order}"
    fn = dataclasses.replace(fn, name=name, returns=(ir.Const(None), fn.returns[0]), doc=(
        f"Derivative of order {order} of {d.primal.name}: the gradient with respect to {x}, "
        "differentiated along the tangent arguments.\n\nGenerated by srcgrad: forward "
        "mode over the generated gradient."))
    source, namespace, locs = backend.emit(fn)
    filename = f"<srcgrad {fn.name} #{next(_counter)}>"
    return Derivative(d.primal, fn, source, _load(source, namespace, fn.name, filename),
                      filename, locs)


def hessian(f: Callable, wrt=0) -> Callable:
    """The Hessian of scalar ``f`` with respect to ``wrt``, as a function of ``f``'s
    arguments: shape ``arg.shape + arg.shape``, one ``hvp`` per entry of the argument."""
    t = checks.HESSIAN
    product = _hvp(f, wrt, t)
    (i,), _ = _wrt(f, wrt)

    @functools.wraps(f)
    def full(*args, **kwargs):
        args = checks.bind(f, args, kwargs)
        checks.arguments(f, t, args, (i,))
        x = np.asarray(args[i], dtype=float)
        columns = []
        for k in range(x.size):
            e = np.zeros(x.size)
            e[k] = 1.0
            columns.append(np.ravel(product(*args, e.reshape(x.shape) if x.ndim else 1.0)))
        return np.stack(columns, axis=1).reshape(x.shape + x.shape)

    full.__srcgrad_derivative__ = ("hessian", f)
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
