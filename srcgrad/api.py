"""The public API: grad, value_and_grad, vjp, jvp, jacobian, hvp, hessian,
derivative_source, check_grad.

Each gradient function is a generated dispatcher with ``f``'s signature
(``dispatch.py``): a call costs one dict lookup on the argument types (then, for arrays,
on their shapes) plus the generated code; ``build.py`` makes and caches the derivatives.
Argument kinds are "scalar" (Python or NumPy scalar) or "any": scalar-only code
is emitted without broadcasting reductions, array code is specialized on the
argument shapes. What each transform is given is checked first, by ``checks``.
Structured arguments (``pytrees``: tuples, lists, dicts, NamedTuples, dataclasses,
registered classes, ``self``) are taken apart into leaves, each a parameter of the
generated code, and results come back in the argument's structure and type; second
derivatives of them are ``structured.py``'s.
"""

from __future__ import annotations

import functools
import numbers
from collections.abc import Callable

import numpy as np

from . import checks, compiled, dispatch, higher, outputs, pytrees, runtime, structured
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
    _forward_over_gradient,
    _guarded,
    _higher_order,
    _kind,
    _load,
    _located_runtime_error,
    _params,
    _second_order,
    _wrt,
)
from .errors import (
    NoDerivativeRule,
    NonScalarOutput,
    UnsupportedSyntax,
    UsageError,
)


def grad(f: Callable | None = None, wrt=0, has_aux: bool = False, backend: str = "python",
         cache: bool = False, checkpoint: int | str | None = None) -> Callable:
    """The gradient of scalar-valued ``f`` with respect to ``wrt``.

    ``wrt`` is a parameter index or name, or a tuple of them (the gradient is
    then a tuple in the same order). Usable as ``@grad``, ``@grad(wrt="x")``
    or ``grad(f, wrt=...)``; the result keeps ``f``'s name, docstring and
    signature. ``has_aux=True``: ``f`` returns ``(loss, aux)``, the result is
    ``(gradient, aux)``, aux not differentiated (``outputs.py``).

    ``backend="numba"`` compiles the generated code with Numba (the ``srcgrad[numba]``
    extra; ``compiled``): what numba cannot compile runs in Python after a
    ``CompiledFallbackWarning``; ``cache=True`` keeps the machine code on disk for
    the next process.

    ``checkpoint=k`` (an int) or ``"auto"``: every ``for`` loop over a range at the
    top level of ``f`` keeps k snapshots of its carried values (the binomial schedule;
    "auto": a snapshot every ceil(sqrt(T)) iterations) instead of a tape entry per
    iteration, and the adjoint recomputes the iterations between them. None (the
    default): only the loops marked ``srcgrad.checkpointed(range(T), ...)``.
    """
    if f is None:
        return checks.decorator(checks.GRAD, lambda g: grad(g, wrt, has_aux, backend, cache,
                                                            checkpoint))
    if backend != "python" or cache or checkpoint is not None:
        return _compiled_gradient(f, wrt, has_aux, False, backend, cache, checkpoint)
    if has_aux:
        return _aux(f, wrt, with_value=False)
    chain = getattr(f, "__srcgrad_higher__", None)
    if chain is not None:  # checked first: functools.wraps copies the inner markers
        return _higher_gradient(f, chain, wrt)
    inner = getattr(f, "__srcgrad_gradient__", None)
    if inner is not None:
        return _higher_gradient(f, (*inner, ()), wrt)
    if dispatch.in_class_body(f):  # @grad above a method: obj.method is the gradient
        return dispatch.MethodGradient(f, wrt, with_value=False)
    return dispatch.gradient(f, wrt, with_value=False)


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
    made_structured: dict[tuple, Derivative] = {}

    @functools.wraps(g)
    def higher(*args, **kwargs):
        args = checks.bind(f, args, kwargs)
        checks.arguments(f, t, args, (i, *js))
        if _taken_apart(f, args):  # (a function passed: a constant, known while lowering)
            return structured.grad_of_grad(f, entry, i, js, args, made_structured)
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

    dispatch.mark(higher, __srcgrad_higher__=(f, i, js),
                  __srcgrad_derivative__=("grad", f))  # not (yet) for jvp or vjp
    return higher


def _taken_apart(f: Callable, args: tuple) -> bool:
    """Whether a call goes through ``structured.py``: a structured argument, or a function
    passed as one (a constant of the derivative, known while lowering)."""
    return any(pytrees.is_structured(a, p == "self") or
               (pytrees.constant_argument(a) and p != "self")
               for p, a in zip(_params(f), args))


def _aux(f: Callable, wrt, with_value: bool) -> Callable:
    t = checks.VALUE_AND_GRAD if with_value else checks.GRAD
    if dispatch.in_class_body(f) or hasattr(f, "__srcgrad_derivative__"):
        raise UsageError(f"{t.name}(has_aux=True) of {getattr(f, '__name__', f)} is "
                         "supported for a plain function or a bound method", _caller_loc(),
                         f"Write {t.name}(Class.method, wrt=\"self\", has_aux=True) after "
                         "the class, or obj.method.")
    return outputs.aux_gradient(f, wrt, with_value)


def value_and_grad(f: Callable | None = None, wrt=0, has_aux: bool = False,
                   backend: str = "python", cache: bool = False,
                   checkpoint: int | str | None = None) -> Callable:
    """Like ``grad``, but the function returns ``(f(*args), gradient)``; with
    ``has_aux=True``, ``((loss, aux), gradient)``. ``backend``, ``cache``,
    ``checkpoint``: as for ``grad``."""
    if f is None:
        return checks.decorator(checks.VALUE_AND_GRAD, lambda g: value_and_grad(
            g, wrt, has_aux, backend, cache, checkpoint))
    if backend != "python" or cache or checkpoint is not None:
        return _compiled_gradient(f, wrt, has_aux, True, backend, cache, checkpoint)
    if has_aux:
        return _aux(f, wrt, with_value=True)
    if dispatch.in_class_body(f):
        return dispatch.MethodGradient(f, wrt, with_value=True)
    return dispatch.gradient(f, wrt, with_value=True)


def _compiled_gradient(f: Callable, wrt, has_aux: bool, with_value: bool, backend: str,
                       cache: bool, checkpoint: int | str | None = None) -> Callable:
    """``grad`` or ``value_and_grad`` with another backend than Python's, or with
    ``checkpoint``: of a plain function, a bound method or a method in its class body."""
    compiled.check_backend(backend, cache)
    policy = _checkpoint_policy(checkpoint)
    name = "value_and_grad" if with_value else "grad"
    if has_aux or hasattr(f, "__srcgrad_derivative__"):
        option = f"backend={backend!r}" if checkpoint is None else f"checkpoint={checkpoint!r}"
        raise UsageError(f"{name}({option}) differentiates a function once, "
                         "without has_aux", _caller_loc(),
                         f"Use {name} without it for has_aux=True and for gradients of "
                         "gradients (a loop marked srcgrad.checkpointed(range(T)) is "
                         "checkpointed there too).")
    if dispatch.in_class_body(f):
        return dispatch.MethodGradient(f, wrt, with_value, backend, cache, policy)
    return dispatch.gradient(f, wrt, with_value, backend, cache, policy)


def _checkpoint_policy(checkpoint: int | str | None) -> object:
    """``grad``'s ``checkpoint`` as ``transform.checkpoint`` takes it."""
    if checkpoint is None:
        return None
    if checkpoint == "auto":
        return ("every", None)
    if isinstance(checkpoint, (int, np.integer)) and not isinstance(checkpoint, bool) \
            and checkpoint >= 1:
        return ("snapshots", int(checkpoint))
    raise UsageError(f"checkpoint={checkpoint!r}: give a number of snapshots (an int >= 1), "
                     "'auto' or None", _caller_loc(),
                     "grad(f, checkpoint=8) keeps 8 snapshots of each top-level loop.")


def vjp(f: Callable, *args, backend: str = "python", **kwargs) -> tuple[object, Callable]:
    """``(f(*args, **kwargs), vjp_fn)``; ``vjp_fn(cotangent)``, for a cotangent of the
    output's shape, gives the tuple of cotangents of every parameter of ``f`` (those
    left to their defaults included), each in its argument's structure and type for a
    structured argument (``pytrees``); a string or None argument is a constant (its
    cotangent is 0), and so is a function passed as an argument (None). For ``f``
    returning a tuple, list, dict, NamedTuple or dataclass, the cotangent has the
    output's structure (``outputs.py``: one pullback per output leaf).
    ``backend="numba"`` compiles the pullback (as for ``grad``; ``backend`` is taken
    by vjp: a parameter of ``f`` of that name is passed by position)."""
    compiled.check_backend(backend)
    made = getattr(f, "__srcgrad_derivative__", ())
    if len(made) == 4:
        _python_only("vjp", backend)
        return _vjp_of_gradient(made, args, kwargs)
    t = checks.VJP
    entry = _entry(f)
    args = checks.bind(f, args, kwargs)
    checks.arguments(f, t, args)
    flat = pytrees.Flat(_params(f), args)
    kinds = tuple(map(_kind, flat.leaves))
    # f may write into its array arguments; the pullback differentiates at args as given
    with checks.blaming(f, t, args):
        out = f(*(np.copy(a) if isinstance(a, np.ndarray) else a for a in args))
    if pytrees.is_structured(out) and outputs.returns_structure(entry, flat.structures):
        return out, outputs.vjp(f, t, entry, flat, out, args, backend)  # one per leaf
    d = entry.derivative(tuple(range(len(kinds))), "param", kinds, flat.structures,
                         complex_=checks.complex_positions(tuple(flat.leaves)),
                         backend=backend)

    # Output independent of every argument: the code takes no cotangent (its zeros
    # need none), so it is not passed.
    seeded = len(d.ir.params) > len(flat.leaves)

    def vjp_fn(cotangent):
        if isinstance(out, (np.ndarray, np.generic, numbers.Number)):
            checks.like(t, "the cotangent", cotangent, out, f"{f.__name__}'s output")
        with checks.blaming(f, t, args, d):
            leaves = flat.leaves
            cts = iter(_call(d, (*leaves, cotangent) if seeded else tuple(leaves))[1:])
        return tuple(flat.rebuild(i, [next(cts) for _ in flat.indices(i)])
                     for i in range(len(args)))

    return out, vjp_fn


def _derivative_for_display(f: Callable, wrt, mode: str, optimized: bool = True,
                            example: tuple | None = None, backend: str = "python"
                            ) -> _shown.Shown:
    from . import exporting  # the code a call with example's arguments runs

    return exporting.specialized(f, wrt, mode, optimized, example, backend)


def _python_only(name: str, backend: str) -> None:
    if backend != "python":
        raise UsageError(f"{name} of a gradient runs with the Python backend, not "
                         f"backend={backend!r}", _caller_loc(),
                         "Leave out backend= here; grad and value_and_grad of f compile.")


def jvp(f: Callable, primals: tuple, tangents: tuple, backend: str = "python"
        ) -> tuple[object, object]:
    """``(f(*primals), J @ tangents)``: the value and its directional derivative, by
    forward mode (tangent code interleaved with the function's own). ``primals`` and
    ``tangents`` are tuples, one entry per argument, each tangent of its primal's
    structure and shape; parameters left to their defaults get zero tangents, and a
    string or None primal is a constant (its tangent is not read; None is taken for
    it, for a function passed as an argument and for an int, which it holds fixed: an
    int used as a size, range(n), is differentiated only with a number as tangent,
    and then refused). For ``f`` returning a
    structure, the tangent has the output's structure (``outputs.py``).
    ``backend="numba"`` compiles the tangent code (as for ``grad``)."""
    compiled.check_backend(backend)
    t = checks.JVP
    primals = checks.sequence(t, "primals", primals)
    tangents = checks.sequence(t, "tangents", tangents)
    if len(primals) != len(tangents):
        raise UsageError(f"jvp: {len(primals)} primals but {len(tangents)} tangents",
                         _caller_loc(), "Give one tangent per primal (zeros for an argument "
                         "held fixed).")
    made = getattr(f, "__srcgrad_derivative__", ())
    if len(made) == 4:
        _python_only("jvp", backend)
        return _jvp_of_gradient(made, primals, tangents)
    entry = _entry(f)
    args = checks.bind(f, primals)
    checks.arguments(f, t, args)
    params = _params(f)
    flat = pytrees.Flat(params, args)
    # Parameters left to their defaults are constants here: their tangents are zeros.
    given = len(tangents)
    tangents += tuple(flat.rebuild(i, structured.zeros_like_leaves(flat.parts[i][1]))
                      for i in range(len(tangents), len(args)))
    checks.tangents(f, t, args, tangents)
    # Defaults and an int given a None or zero tangent are held fixed (not differentiated;
    # the same numbers): an int may be a size (range(n)), where no derivative exists.
    fixed = {k for k, (v, dot) in enumerate(zip(args, tangents)) if k >= given or (
        checks.integer_number(v) and (dot is None or (np.ndim(dot) == 0 and dot == 0)))}
    dots = [x for k, (p, v) in enumerate(zip(params, tangents)) if flat.parts[k][1]
            and k not in fixed
            for x in (pytrees.flatten(v, p == "self")[1] if v is not None else
                      structured.zeros_like_leaves(flat.parts[k][1]))]
    wrt = tuple(i for k in range(len(args)) if k not in fixed for i in flat.indices(k))
    if outputs.returns_structure(entry, flat.structures):
        return outputs.jvp(f, t, entry, flat, dots, args, wrt, backend)  # one per leaf
    d = entry.derivative(wrt, "forward", tuple(map(_kind, flat.leaves)), flat.structures,
                         complex_=checks.complex_positions(tuple(flat.leaves)),
                         backend=backend)
    with checks.blaming(f, t, args, d):
        return _call(d, (*flat.leaves, *dots))


def _jvp_of_gradient(made: tuple, primals: tuple, tangents: tuple):
    """jvp of ``grad(g)`` or ``value_and_grad(g)``: forward mode over g's generated
    gradient, along the tangents of every argument (a Hessian-vector product); for
    structured arguments, per leaf, gradients and their tangents in their structure."""
    kind, g, indices, single = made
    t = checks.JVP_OF_GRAD
    args = checks.bind(g, primals)
    checks.arguments(g, t, args)
    flat = pytrees.Flat(_params(g), args)  # structured arguments: per leaf
    tangents = (*tangents, *(flat.rebuild(i, structured.zeros_like_leaves(flat.parts[i][1]))
                             for i in range(len(tangents), len(args))))
    checks.tangents(g, t, args, tangents)
    dots_in = [x for p, v in zip(flat.names, tangents)
               for x in pytrees.flatten(v, p == "self")[1]]
    kinds = tuple(map(_kind, flat.leaves))
    wrt = tuple(j for i in indices for j in flat.indices(i))
    pairs = iter([_call(_forward_over_gradient(_entry(g), wrt, kinds, k, flat.structures),
                        (*flat.leaves, *dots_in)) for k in range(len(wrt))])
    per_leaf = [[next(pairs) for _ in flat.indices(i)] for i in indices]
    grads, dots = ((tuple(flat.rebuild(i, [p[n] for p in ps])
                          for i, ps in zip(indices, per_leaf))) for n in (0, 1))
    if single:  # one gradient, not a tuple of one
        grads, dots = grads[0], dots[0]  # type: ignore[assignment]
    if kind == "grad":
        return grads, dots
    value, value_dot = jvp(g, args, tangents)
    return (value, grads), (value_dot, dots)


def _vjp_of_gradient(made: tuple, args: tuple, kwargs: dict):
    """vjp of ``grad(g, wrt=i)``: by reverse mode over g's generated gradient (one pass
    gives every argument's cotangent, ``higher.py``); where ``higher`` refuses (a helper
    with a forward rule only: a decomposition's, det's...), the cotangent of argument j
    is the jvp of g's gradient with respect to j along argument i (mixed partials are
    equal), by forward mode, one pass per argument."""
    kind, g, (i, *more), single = made
    if kind != "grad" or more or not single:
        raise UsageError(f"vjp of srcgrad.{kind} of {g.__name__} with respect to several "
                         "arguments is not supported yet", _caller_loc(),
                         "Take vjp of srcgrad.grad(f, wrt=i), one argument at a time.")
    args = checks.bind(g, args, kwargs)
    checks.arguments(g, checks.VJP_OF_GRAD, args)
    kinds, entry = tuple(map(_kind, args)), _entry(g)
    if any(pytrees.is_structured(a, p == "self") for p, a in zip(_params(g), args)):
        return structured.vjp_of_gradient(g, entry, i, args)  # per leaf
    try:
        both = _guarded(g, lambda: higher.reverse_over_gradient(entry, i, kinds))
    except (UnsupportedSyntax, NoDerivativeRule):  # (the reason: higher's docstring)
        both = None
    value = _call(entry.derivative((i,), "one", kinds), args)[1]
    if both is not None:  # (a gradient independent of every argument takes no cotangent)
        seeded = len(both.ir.params) > len(args)
        return value, lambda cotangent: tuple(
            _call(both, (*args, cotangent) if seeded else args)[1:])
    pullbacks = [_guarded(g, lambda j=j: _second_order(entry, j, kinds, i))
                 for j in range(len(args))]

    def vjp_fn(cotangent):
        return tuple(_call(d, (*args, cotangent))[1] for d in pullbacks)

    return value, vjp_fn


def derivative_source(f: Callable, wrt=0, mode: str = "reverse", order: int = 1,
                      optimized: bool = True, example: tuple | None = None,
                      shapes=None, backend: str = "python") -> str:
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
    optimizer's passes. ``example``, a tuple of arguments as you would pass them,
    shows the code a call with arguments of their structures and kinds runs: the
    way to see the code for dataclass, NamedTuple, registered-class or ``self``
    arguments (``derivative_source(model.loss, example=(params, x, labels))``); with
    arrays, it is the code specialized on their shapes and dtypes that such calls run.
    ``shapes`` (``{"x": (3, 4), "s": None}`` or ``"x=3x4,s="``) stands for an example
    of float64 arrays of those shapes (None: a scalar). ``backend="numba"``: the code
    numba compiles (one typed tape per group of recorded values, module-level arrays
    as trailing parameters). On what ``grad(f, backend="numba")`` made, that code
    without asking; on what ``grad(f, checkpoint=k)`` made, its checkpointed code."""
    compiled.check_backend(backend)
    if backend == "python":  # grad(f, backend="numba")'s code is numba's
        backend = _shown.made_with(f)[0]
    if backend != "python" and (order != 1 or mode != "reverse"):
        raise UsageError(f"backend={backend!r} is shown for reverse mode, order=1",
                         _caller_loc())
    if shapes is not None:
        from . import exporting

        if example is not None:
            raise UsageError("derivative_source takes example or shapes, not both",
                             _caller_loc(), "shapes=... stands for float64 arrays of "
                             "those shapes; example=(...) for arguments of any types.")
        try:
            example = exporting.example_from_shapes(
                f, exporting.parse_shapes(shapes) if isinstance(shapes, str) else dict(shapes))
        except UsageError as exc:
            raise UsageError(exc.message, _caller_loc(), exc.hint or None) from None
    if order == 2:
        if example is not None:
            raise UsageError("example is taken with order=1 only", _caller_loc())
        f, indices, _ = _shown.resolve(f, wrt, mode, order)
        if len(indices) != 1:
            raise UsageError("order=2 takes one argument to differentiate with respect to, "
                             f"not wrt={wrt!r}")
        kinds = _annotated_kinds(f, _params(f))
        d = _guarded(f, lambda: _second_order(_entry(f), indices[0], kinds))
        return _shown.module_text(_shown.Shown(d, _entry(f).assumed))
    if order != 1:
        raise UsageError(f"order must be 1 or 2, not {order!r}")
    if example is not None and not isinstance(example, tuple):
        raise UsageError(f"example must be a tuple of arguments, not {type(example).__name__}",
                         _caller_loc(), "Write example=(x,) for one argument.")
    return _shown.module_text(_derivative_for_display(f, wrt, mode, optimized, example,
                                                      backend))


def export(f: Callable, wrt=0, mode: str = "reverse", example: tuple | None = None,
           shapes=None, path=None) -> str:
    """The derivative ``derivative_source`` shows, as a standalone module that never
    imports srcgrad (the run-time helpers it calls are copied in): its text, also
    written to ``path`` if given. ``example`` (a tuple of arguments) or ``shapes``
    (``{"x": (3, 4), "s": None}`` or ``"x=3x4,s="``: float64 arrays, None a scalar)
    gives the code a call with such arguments runs, specialized on the array shapes
    (the module checks them when called). See ``srcgrad/exporting/``."""
    from . import exporting  # (imports shown and backend: loaded on first use)

    try:
        return exporting.export(f, wrt, mode, example, shapes, path)
    except UsageError as exc:  # about what was passed: located at the call
        if exc.loc is not None:
            raise
        raise UsageError(exc.message, _caller_loc(), exc.hint or None) from None


def derivative_ir(f: Callable, wrt=0, mode: str = "reverse") -> str:
    """The SSA IR of ``f`` and of its derivative, as text (the derivative
    ``derivative_source`` shows)."""
    d = _derivative_for_display(f, wrt, mode).derivative
    return f"{d.primal}\n\n{d.ir}\n"


def jacobian(f: Callable, wrt=0, mode: str = "auto") -> Callable:
    """The Jacobian of ``f`` with respect to ``wrt`` (an index or name), as a function of
    ``f``'s arguments: an array of shape ``out.shape + arg.shape``. ``mode`` is
    "forward" (one jvp per input entry), "reverse" (one vjp per output entry), or
    "auto" (the fewer of the two). For a structured argument, the argument's structure
    holding, for each leaf, the array of shape ``out.shape + leaf.shape``; for a
    structured output, the output's structure holding at each leaf that leaf's
    Jacobian (as ``jax.jacobian``; ``outputs.py``)."""
    t = checks.JACOBIAN
    if mode not in ("auto", "forward", "reverse"):
        raise UsageError(f"mode must be 'auto', 'forward' or 'reverse', not {mode!r}")
    (i,), _ = checks.wrt(f, wrt, t, one=True)

    @functools.wraps(f)
    def jac(*args, **kwargs):
        args = checks.bind(f, args, kwargs)
        checks.arguments(f, t, args, (i,))
        with checks.blaming(f, t, args):
            value = f(*args)
        checks.real_output(f, t, value)
        if pytrees.is_structured(value):  # the output's structure outside, the argument's in
            return outputs.jacobian(f, t, i, args, value, mode, vjp, jvp)
        if any(pytrees.is_structured(a, p == "self") for p, a in zip(_params(f), args)):
            return structured.jacobian(f, t, i, args, mode, jvp, vjp)  # per leaf
        x = np.asarray(args[i], dtype=float)
        out = np.asarray(value)
        # (forward also when another argument is an int: jvp holds it fixed, where vjp
        # would differentiate it, and refuse it if it is a size)
        use_forward = mode == "forward" or (mode == "auto" and x.size <= out.size) or any(
            checks.integer_number(a) for k, a in enumerate(args) if k != i)
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

    dispatch.mark(jac, __srcgrad_derivative__=("jacobian", f))
    return jac


def hvp(f: Callable, wrt=0) -> Callable:
    """The Hessian-vector product: ``hvp(f)(*args, v)`` is ``H v`` for the Hessian of
    scalar ``f`` with respect to ``wrt`` (one index or name), ``v`` an array of that
    argument's shape (for a structured argument, ``v`` and ``H v`` have its
    structure). Computed by forward mode over the generated gradient (no
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
        if _taken_apart(f, args):
            # v and the result in the argument's structure (structured.py)
            return structured.hvp(f, entry, t, i, args, v)
        checks.like(t, "v", v, args[i], repr(name))
        kinds = tuple(map(_kind, args))
        if kinds not in made:
            made[kinds] = _guarded(f, lambda: _second_order(entry, i, kinds))
        d = made[kinds]
        try:
            with checks.blaming(f, t, args, d):
                return _call(d, (*args, v))[1]
        except runtime.NotScalar as exc:
            raise checks.non_scalar(f, t, exc.shape, d.primal.loc, exc.complex) from None

    dispatch.mark(product, __srcgrad_derivative__=("hvp", f))
    return product


_V_HINT = "Call hvp(f)(x, ..., v): f's arguments, then v, an array of the shape of x."


def hessian(f: Callable, wrt=0) -> Callable:
    """The Hessian of scalar ``f`` with respect to ``wrt``, as a function of ``f``'s
    arguments: shape ``arg.shape + arg.shape``, one ``hvp`` per entry of the argument.
    For a structured argument, the ``(n, n)`` Hessian over its leaves flattened in
    order (``structured.py``)."""
    t = checks.HESSIAN
    product = _hvp(f, wrt, t)
    (i,), _ = _wrt(f, wrt)

    @functools.wraps(f)
    def full(*args, **kwargs):
        args = checks.bind(f, args, kwargs)
        checks.arguments(f, t, args, (i,))
        if pytrees.is_structured(args[i], _params(f)[i] == "self"):
            return structured.hessian(product, f, i, args)  # over the leaves, flattened
        x = np.asarray(args[i], dtype=float)
        columns = []
        for k in range(x.size):
            e = np.zeros(x.size)
            e[k] = 1.0
            columns.append(np.ravel(product(*args, e.reshape(x.shape) if x.ndim else 1.0)))
        return np.stack(columns, axis=1).reshape(x.shape + x.shape)

    dispatch.mark(full, __srcgrad_derivative__=("hessian", f))
    return full
