"""Lowering of calls, methods and tuples (frontend stage).

Contract, on top of ``lower.py``'s:

- a call of one of the user's own Python functions is *inlined*: its body is
  lowered in place, with its parameters bound to the arguments (keywords and
  defaults applied) and its own globals and closure; its statements keep their
  own locations, so the generated code quotes the helper's lines. Functions
  from NumPy, SciPy, ``math`` and srcgrad, and functions given a rule with
  ``srcgrad.primitive``, are called, not inlined. A recursive helper is inlined
  again (unrolled) up to ``recursion.LIMIT`` deep, past that a located error.
- a ``def`` or ``lambda`` inside the function, and ``functools.partial`` of a
  user function, are inlined the same way (a local function sees the enclosing
  function's variables as they are when it is called).
- a call through a value known while lowering (a ``LocalFunction`` or a
  ``Static``: a parameter bound to a function, ``ACTS["tanh"](x)``,
  ``self.forward(x)``, ``cls.f(x)``) is the same: a user function or method is
  inlined (a bound method with its object as a ``Static`` first argument), any
  other function is called as an ``ir.Callee`` (``names.static_callee``), so
  that its rule applies. ``call_value`` is that one entry point; ``map``,
  ``functools.reduce`` and ``sum``/``list``/``tuple``/``len`` of a known
  sequence are lowered by ``values``. Arguments are bound by Python's own rules
  (``state.bind``): ``*args`` a ``Tup``, ``**kwargs`` a ``Rec``; ``*xs`` and
  ``**opts`` in a call need their structure known now (``values.unpacked``).
- ``obj.attr`` of a ``Static`` is found now (``names.step``), except a property,
  which is inlined (``static_attribute`` says why).
- ``sum(f(t) for t in xs if c)`` (or over a list comprehension) is lowered by
  ``comprehensions``; dict methods and loops over dicts known now by ``unroll``.
- array methods (``x.sum(axis=0)``, ``x.reshape(T, K)``...) become calls of
  the NumPy function (``np.sum(x, axis=0)``); a method of an object argument
  (``self.forward(x)``) is inlined by ``objects.method``; ``len`` of a tuple or
  list argument is a constant.
- tuples are structure known while lowering (``Tup``): unpacked
  (``a, b = helper(x)``), indexed with constants, returned by helpers; a tuple
  passed to a function becomes one value (``tuple`` op), which carries no
  derivative (a located error if one would be needed).

``Calls`` reads the state's ``env``, ``src`` and ``inlining``, emits into its
``body`` and binds local functions in ``env``; it asks the core to lower
sub-expressions and statements and to make the core of an inlined helper
(``child``, ``nested``), whose body ``function.lower_body`` lowers; names are
resolved by ``names``; ``_sg_carried`` checks go to ``structs``.
"""

from __future__ import annotations

import functools
import inspect
import types
from typing import Any

import gast
import numpy as np

from .. import ir
from . import casts, function, index_tricks, names, numpy_calls, objects, parse, recursion, values
from .comprehensions import Comprehensions
from .state import Core, LocalFunction, LoweringState, Obj, Rec, Static, Tup, bind
from .structs import CARRIED, Structs
from .unroll import Unroll

# Array methods and the NumPy function each one is; True: pack extra positional
# arguments into one tuple (x.reshape(2, 3) is np.reshape(x, (2, 3))).
METHODS: dict[str, tuple[Any, bool]] = {
    "sum": (np.sum, False), "mean": (np.mean, False), "max": (np.max, False),
    "min": (np.min, False), "dot": (np.dot, False), "copy": (np.copy, False),
    "reshape": (np.reshape, True), "transpose": (np.transpose, True),
    "argmax": (np.argmax, False), "argmin": (np.argmin, False), "clip": (np.clip, False),
    "ravel": (np.ravel, False), "flatten": (np.ndarray.flatten, False),
    "squeeze": (np.squeeze, False), "swapaxes": (np.swapaxes, False),
    "cumsum": (np.cumsum, False), "cumprod": (np.cumprod, False), "prod": (np.prod, False),
    "var": (np.var, False), "std": (np.std, False), "round": (np.round, False),
    "trace": (np.trace, False), "diagonal": (np.diagonal, False),
    "repeat": (np.repeat, False), "take": (np.take, False), "any": (np.any, False),
    "all": (np.all, False), "conj": (np.conj, False), "conjugate": (np.conj, False),
}


class Calls:
    """Calls, methods, tuples and local functions of one body's lowering."""

    def __init__(self, state: LoweringState, core: Core, structs: Structs):
        self.state, self.core, self.structs = state, core, structs

    def tuple_(self, node: gast.Tuple, into: str | None = None) -> ir.Const | Tup:
        items = [self.core.expr(e) for e in node.elts]
        if all(isinstance(i, ir.Const) and i.name is None for i in items):
            return ir.Const(tuple(i.value for i in items))
        return Tup(items)

    def call(self, node: gast.Call, into: str | None) -> object:
        func, state = node.func, self.state
        if isinstance(func, gast.Name) and func.id == CARRIED:
            return self.structs.carried_check(node)
        target: object
        if isinstance(func, gast.Attribute) and self.is_method(func):
            found = Unroll(self.state, self.core).method(node)  # d.items(), d.get("k")...
            if found is not None:
                return found
            base = self.core.expr(func.value)
            if isinstance(base, Obj):  # model.forward(x) on an object argument: inlined
                return objects.method(self.core, base, node, self)
            if not isinstance(base, Static):
                return self.method(node, into, base)
            target = self.static_attribute(base, func, None, called=True)
        elif isinstance(func, gast.Name) and state.lookup(func.id) is not None:
            target = state.lookup(func.id)
        elif isinstance(func, (gast.Name, gast.Attribute)):
            target = names.callee(state, func)
            decided = recursion.decide(state, self.core, target.obj, node)  # isinstance, len
            if decided is not None:
                return decided
            found = Comprehensions(state, self.core).call(target.obj, node, into)
            if found is not None:  # sum(... for ...), list(d.values()), len(d)...
                return found
            if target.obj is np.select:
                found = numpy_calls.select(self, node)
                if found is not None:
                    return found
            if target.obj is np.einsum:  # the sublist form: as its subscripts string
                found = numpy_calls.einsum_sublists(self, target, node, into)
                if found is not None:
                    return found
            if target.obj is np.linalg.multi_dot:  # as np.matmul left to right
                found = numpy_calls.multi_dot(self, node)
                if found is not None:
                    return found
            if values.direct(target.obj, node):
                return self.primitive_call(target, node, into)
        else:  # ACTS["tanh"](x), (lambda t: t * t)(x), make_layer()(x)
            target = self.core.expr(func)
        args, kwargs = self.arguments(node)
        return self.call_value(target, args, kwargs, node, into)

    def primitive_call(self, callee: ir.Callee, node: gast.Call, into: str | None
                       ) -> ir.Operand:
        """A call of a primitive by name; ``dtype=`` handled by ``casts``."""
        cast = casts.asarray(self.state, self.core, callee, node, into)  # dtype=int...
        if cast is not None:
            return cast
        if any(k.arg == "dtype" for k in node.keywords):  # np.full(..., dtype=int)
            return casts.with_dtype(self.state, self.core, callee, node, lambda n, i: (
                self.emit_call(callee, n, i)), into)
        return self.emit_call(callee, node, into)

    def emit_call(self, callee: ir.Callee, node: gast.Call, into: str | None) -> ir.Var:
        """A call of a primitive (NumPy, math, a builtin, a function with a rule)."""
        seq = len(node.args) == 1 and isinstance(node.args[0], (gast.List, gast.Tuple))
        items = node.args[0].elts if seq else node.args
        known = Unroll(self.state, self.core).known(node.args[0]) if len(node.args) == 1 \
            else None
        if isinstance(known, Tup):  # np.stack(xs) of a list argument: as np.stack([a, b])
            seq, args = True, [self.core.pack(v, node) for v in known]
        else:
            args = [self.core.value(a) for a in items]
        kwargs = [(k.arg, self.core.value(k.value)) for k in node.keywords]
        if seq and numpy_calls.array_only(callee):  # np.mean([a, b], axis=0): the list as an array
            stacked = ir.Callee(numpy_calls.ASARRAY_NAME, np.asarray, np)
            args, seq = [self.state.emit(self.state.temp(), stacked, args, node, (), True)], False
        return self.state.emit(self.state.result(into), callee, args, node, kwargs, seq)

    def arguments(self, node: gast.Call) -> tuple[list, dict]:
        """A call's argument values, ``*xs`` and ``**opts`` unpacked (their structure
        must be known now: a tuple, a constant tuple, a dict display, a static dict)."""
        args: list = []
        for a in node.args:
            if isinstance(a, gast.Starred):
                args += values.unpacked(self.state, self.core.expr(a.value), a, tuple)
            else:
                args.append(self.core.expr(a))
        kwargs: dict = {}
        for k in node.keywords:
            if k.arg is None:
                kwargs.update(values.unpacked(self.state, self.core.expr(k.value), k.value,
                                              dict))
            else:
                kwargs[k.arg] = self.core.expr(k.value)
        return args, kwargs

    def call_value(self, target: object, args: list, kwargs: dict, node: gast.AST,
                   into: str | None) -> object:
        """Call a function value known now: a local def or lambda, a user function or
        method (inlined), a primitive (called, so that its rule applies)."""
        state = self.state
        if isinstance(target, LocalFunction):
            return self.inline_local(target, args, kwargs, node)
        if not isinstance(target, (Static, ir.Callee)):
            what = f"{node.func.id!r}" if isinstance(node, gast.Call) and \
                isinstance(node.func, gast.Name) else "this value"
            raise state.unsupported(node, f"calling {what} is not supported: it is not a "
                                    "function known while lowering",
                                    "Call functions by name, or pass a function (def, "
                                    "lambda, np.tanh) to a helper as an argument.")
        obj = target.obj
        if isinstance(obj, types.MethodType) and _inlinable(obj.__func__):
            first = inspect.getfullargspec(obj.__func__).args[:1] or ["self"]
            me = Static(obj.__self__, first[0], obj.__func__, (first[0],),
                        parse.holder(obj.__self__))
            return self.inline(obj.__func__, node, [me, *args], kwargs)
        if _inlinable(obj):
            return self.inline(obj, node, args, kwargs)
        call = values.call_method(obj)
        if call is not None:  # an object of a class of yours, called
            me = Static(obj, "self", call, ("self",), parse.holder(obj))
            return self.inline(call, node, [me, *args], kwargs)
        if isinstance(obj, functools.partial) and _inlinable(obj.func):
            return self.inline(obj.func, node, [
                *(_as_operand(a, "value", obj.func) for a in obj.args), *args],
                {**{k: _as_operand(v, k, obj.func) for k, v in obj.keywords.items()},
                 **kwargs})
        special = values.SPECIAL.get(id(obj))
        if special is not None and special[0] is obj:
            found = special[1](self, args, kwargs, node)
            if found is not NotImplemented:
                return found
        if isinstance(obj, type) and not values.primitive(obj):
            try:
                made = objects.construct(obj, args, kwargs)
            except TypeError as exc:
                raise state.unsupported(node, f"{obj.__name__}(...): {exc}") from None
            if made is not None:
                return made
            raise state.unsupported(node, f"creating a {obj.__name__} in a differentiated "
                                    "function is not supported",
                                    "Create the object outside and pass its numbers as "
                                    "arguments (or read them from self).")
        callee = target if isinstance(target, ir.Callee) else \
            names.static_callee(state, target, node)
        return state.emit(state.result(into), callee, [self.core.pack(a, node) for a in args],
                          node, [(k, self.core.pack(v, node)) for k, v in kwargs.items()])

    def static_item(self, base: Static, node: gast.Subscript) -> object:
        """``obj[key]`` of an object known now, with a constant key: found now."""
        if index_tricks.is_index_trick(base):  # np.r_[a, 0:3, b]: a concatenation
            return index_tricks.lower(self.state, self.core, base, node)
        index = self.core.expr(node.slice)
        if not isinstance(index, ir.Const) or isinstance(index.value, slice):
            raise self.state.unsupported(node.slice, f"{base.text} is known while lowering: "
                                         "index it with a constant key or index",
                                         "Write HP[\"lr\"] or LAYERS[0], or pass the values "
                                         "as an argument.")
        return names.step(self.state, base, parse.Key(index.value), node)

    def static_attribute(self, base: Static, node: gast.Attribute, into: str | None,
                         called: bool = False) -> object:
        """``obj.attr`` of an object known now: found now (a named constant or a further
        Static). A property is inlined rather than evaluated: its value may be a new
        array on every read (``return self.W.T``), which as a constant would be rebuilt
        on every call, and its getter may compute with what is differentiated."""
        getter = inspect.getattr_static(base.obj, node.attr, None)
        if isinstance(getter, property) and _inlinable(getter.fget) and not called:
            owner = type(base.obj)  # (the class's property is an assumption too)
            names.step(self.state, Static(owner, owner.__name__, getter.fget, ("cls",),
                                          parse.holder(owner)), node.attr, node)
            return self.inline(getter.fget, node, [base], {})
        return names.step(self.state, base, node.attr, node)

    def is_method(self, func: gast.expr) -> bool:
        """``x.f(...)`` on a local value (not a dotted global like ``np.f``)."""
        dotted = names.dotted(func)
        return dotted is None or dotted[0] in self.state.env

    def method(self, node: gast.Call, into: str | None, base: object = None) -> object:
        name = node.func.attr
        found = self.core.expr(node.func.value) if base is None else base
        if isinstance(found, Obj):  # model.forward(x) on an object argument: inlined
            return objects.method(self.core, found, node, self)
        if name == "astype":  # x.astype(np.float32): a cast; to int or bool: a step
            return casts.astype(self.state, self.core, node, into, found)
        if name in _DENSITIES and isinstance(node.func.value, gast.Call):
            raise self.state.unsupported(node.func, f"the method .{name}() of a frozen "
                                         "distribution (stats.norm(mu, s)) is not supported",
                                         f"Pass the parameters to the distribution's own "
                                         f"method: stats.norm.{name}(x, mu, s).")
        if name not in METHODS:
            raise self.state.unsupported(node.func, f"the method .{name}() is not supported "
                                         "yet", f"Call the NumPy function instead "
                                         f"(np.{name}(x, ...)).")
        fn, pack = METHODS[name]
        base = self.core.pack(found, node.func.value)
        args = [self.core.value(a) for a in node.args]
        if pack and len(args) > 1:
            args = [self.core.pack(Tup(args), node)]
        kwargs = [(k.arg, self.core.value(k.value)) for k in node.keywords]
        owner = "np" if getattr(np, fn.__name__, None) is fn else "np.ndarray"
        callee = ir.Callee(f"{owner}.{fn.__name__}", fn, np)
        return self.state.emit(self.state.result(into), callee, [base, *args], node, kwargs)

    # -- local functions ----------------------------------------------------------
    def local_function(self, func: gast.expr) -> LocalFunction | None:
        if isinstance(func, gast.Lambda):
            return self.lambda_(func, None)
        if isinstance(func, gast.Name):
            found = self.state.lookup(func.id)
            return found if isinstance(found, LocalFunction) else None
        return None

    def function_def(self, node: gast.FunctionDef) -> None:
        if node.decorator_list:
            raise self.state.unsupported(node, "a nested def with decorators is not "
                                         "supported yet", "Define it without decorators, "
                                         "or at module level.")
        self.state.env[node.name] = LocalFunction(node, self.state, self.defaults(node.args))

    def lambda_(self, node: gast.Lambda, into: str | None) -> LocalFunction:
        tree = gast.copy_location(gast.FunctionDef(
            "<lambda>", node.args, [gast.copy_location(gast.Return(node.body), node.body)],
            [], None, None), node)
        return LocalFunction(tree, self.state, self.defaults(node.args))

    def defaults(self, a: gast.arguments) -> dict:
        """Parameter -> its default's value, lowered where the def or lambda is."""
        positional = [*a.posonlyargs, *a.args]
        out = {p.id: self.core.expr(d) for p, d in
               zip(positional[len(positional) - len(a.defaults):], a.defaults)}
        out.update({p.id: self.core.expr(d) for p, d in zip(a.kwonlyargs, a.kw_defaults)
                    if d is not None})
        return out

    def inline_local(self, fn: LocalFunction, args: list, kwargs: dict,
                     node: gast.AST) -> object:
        state = self.state
        recursion.check(state.inlining, fn, fn.tree.name, state.src.loc(node))
        bound = fn.bind(args, kwargs, state.src.loc(node))
        child = self.core.nested(fn)
        result = function.lower_body(child, bound)[1]
        state.body.extend(child.state.body)
        return result

    # -- inlining ---------------------------------------------------------------
    def inline(self, fn: Any, node: gast.AST, args: list, kwargs: dict) -> object:
        """Lower ``fn``'s body here, its parameters bound to ``args`` and ``kwargs``
        (values already lowered); return what it returns (an operand or a Tup)."""
        state = self.state
        recursion.check(state.inlining, fn, fn.__name__, state.src.loc(node))
        defaults = {k: _as_operand(v, k, fn) for k, v in _defaults(fn).items()}
        sig = inspect.signature(fn).replace(parameters=[
            p.replace(default=defaults.get(p.name, p.empty))
            for p in inspect.signature(fn).parameters.values()])
        bound = bind(sig, fn.__name__, args, kwargs, state.src.loc(node))
        child = self.core.child(fn)
        result = function.inlined_body(child, bound)
        state.body.extend(child.state.body)
        return result


def _as_operand(v: object, name: str, fn: Any) -> object:
    """A default value (or a ``functools.partial``'s) as what the lowering holds: an
    operand, a structure, or an object known now (``Static``: a function passed as
    ``activation=np.tanh``)."""
    if isinstance(v, (ir.Var, ir.Const, Tup, Rec, Obj, Static, LocalFunction)):
        return v
    if callable(v) or not isinstance(v, (*names.CONST_TYPES, tuple, list, dict)):
        return Static(v, name, fn, (name,), parse.holder(v))
    return ir.Const(v)  # (a list or dict default is read at run time, as before)


def _defaults(fn: Any) -> dict:
    sig = inspect.signature(fn)
    return {k: p.default for k, p in sig.parameters.items() if p.default is not p.empty}


def _starred(node: gast.Call) -> bool:
    return any(isinstance(a, gast.Starred) for a in node.args) or \
        any(k.arg is None for k in node.keywords)


_inlinable = values.inlinable


# Methods of scipy.stats distributions: called on a frozen one, stats.norm(mu, s).logpdf(x).
_DENSITIES = frozenset({"logpdf", "pdf", "cdf", "logcdf", "logpmf", "pmf"})
