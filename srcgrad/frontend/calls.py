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
- ``sum(f(t) for t in xs if c)`` (or over a list comprehension) is the loop
  that accumulates it.
- array methods (``x.sum(axis=0)``, ``x.reshape(T, K)``...) become calls of
  the NumPy function (``np.sum(x, axis=0)``).
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

import copy
import functools
import inspect
import types
from collections.abc import Callable
from typing import Any

import gast
import numpy as np

from .. import ir
from ..errors import UnsupportedSyntax
from . import function, names, recursion
from .state import Core, LocalFunction, LoweringState, Rec, Tup
from .structs import CARRIED, Structs
from .syntax import assign_to, load_name

# Array methods and the NumPy function each one is; True: pack extra positional
# arguments into one tuple (x.reshape(2, 3) is np.reshape(x, (2, 3))).
METHODS = {
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
    "all": (np.all, False),
}
_NOT_INLINED = ("numpy", "scipy", "math", "srcgrad", "builtins")


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
        if any(isinstance(a, gast.Starred) for a in node.args) or \
                any(k.arg is None for k in node.keywords):
            raise self.state.unsupported(node, "*args and **kwargs in calls are not "
                                         "supported yet")
        func = node.func
        if isinstance(func, gast.Name) and func.id == CARRIED:
            return self.structs.carried_check(node)
        if isinstance(func, gast.Attribute) and self.is_method(func):
            return self.method(node, into)
        local = self.local_function(func)
        if local is not None:
            return self.inline_local(local, node)
        callee = names.callee(self.state, func)
        decided = recursion.decide(self.state, self.core, callee.obj, node)  # isinstance, len
        if decided is not None:
            return decided
        if callee.obj is sum and len(node.args) in (1, 2) and not node.keywords and \
                isinstance(node.args[0], (gast.GeneratorExp, gast.ListComp)):
            return self.sum_of(node)
        if _inlinable(callee.obj):
            return self.inline(callee.obj, node)
        if isinstance(callee.obj, functools.partial) and _inlinable(callee.obj.func):
            p = callee.obj
            return self.inline(p.func, node, [ir.Const(a) for a in p.args],
                               {k: ir.Const(v) for k, v in p.keywords.items()})
        seq = len(node.args) == 1 and isinstance(node.args[0], (gast.List, gast.Tuple))
        items = node.args[0].elts if seq else node.args
        args = [self.core.value(a) for a in items]
        kwargs = [(k.arg, self.core.value(k.value)) for k in node.keywords]
        return self.state.emit(self.state.result(into), callee, args, node, kwargs, seq)

    def is_method(self, func: gast.expr) -> bool:
        """``x.f(...)`` on a local value (not a dotted global like ``np.f``)."""
        dotted = names.dotted(func)
        return dotted is None or dotted[0] in self.state.env

    def method(self, node: gast.Call, into: str | None) -> ir.Var:
        name = node.func.attr
        if name not in METHODS:
            raise self.state.unsupported(node.func, f"the method .{name}() is not supported "
                                         "yet", f"Call the NumPy function instead "
                                         f"(np.{name}(x, ...)).")
        fn, pack = METHODS[name]
        base = self.core.value(node.func.value)
        args = [self.core.value(a) for a in node.args]
        if pack and len(args) > 1:
            args = [self.core.pack(Tup(args), node)]
        kwargs = [(k.arg, self.core.value(k.value)) for k in node.keywords]
        owner = "np" if getattr(np, fn.__name__, None) is fn else "np.ndarray"
        callee = ir.Callee(f"{owner}.{fn.__name__}", fn, np)
        return self.state.emit(self.state.result(into), callee, [base, *args], node, kwargs)

    def sum_of(self, node: gast.Call) -> object:
        """``sum(f(t) for t in xs if c)`` as the loop it is: ``acc = acc + f(t)``."""
        start = node.args[1] if len(node.args) == 2 else gast.Constant(0, None)
        return self.comprehension(node.args[0], start, lambda acc, elt: assign_to(
            acc, gast.BinOp(load_name(acc), gast.Add(), elt), elt))

    def list_comp(self, node: gast.ListComp, into: str | None) -> object:
        """``[f(t) for t in xs if c]`` as the loop it is: ``acc.append(f(t))``."""
        return self.comprehension(node, gast.List([], gast.Load()), lambda acc, elt: (
            gast.copy_location(gast.Expr(gast.Call(gast.Attribute(
                load_name(acc), "append", gast.Load()), [elt], [])), elt)))

    def comprehension(self, gen: gast.expr, start: gast.expr,
                      step_of: Callable[[str, gast.expr], gast.stmt]) -> object:
        state = self.state
        if len(gen.generators) != 1 or gen.generators[0].is_async:
            raise state.unsupported(gen, "only one `for` in a comprehension is supported yet")
        comp = gen.generators[0]
        renames = {name: state.namer.fresh(name) for name in _bound(comp.target)}
        acc = state.namer.fresh("total" if isinstance(start, gast.Constant) else "items")
        step = step_of(acc, _renamed(gen.elt, renames))
        for cond in comp.ifs:
            step = gast.copy_location(gast.If(_renamed(cond, renames), [step], []), cond)
        loop = gast.copy_location(gast.For(_renamed(comp.target, renames), comp.iter, [step],
                                           [], None), gen)
        for stmt in (assign_to(acc, gast.copy_location(start, gen), gen), loop):
            self.core.stmt(stmt)
        return state.env[acc]

    # -- local functions ----------------------------------------------------------
    def local_function(self, func: gast.expr) -> LocalFunction | None:
        if isinstance(func, gast.Lambda):
            return self.lambda_(func, None)
        if isinstance(func, gast.Name):
            found = self.state.lookup(func.id)
            return found if isinstance(found, LocalFunction) else None
        return None

    def function_def(self, node: gast.FunctionDef) -> None:
        a = node.args
        if a.vararg or a.kwarg or a.kwonlyargs or getattr(a, "posonlyargs", None) or \
                node.decorator_list:
            raise self.state.unsupported(node, "a nested def with decorators, *args, **kwargs "
                                         "or keyword-only parameters is not supported yet")
        defaults = [self.core.expr(d) for d in a.defaults]
        self.state.env[node.name] = LocalFunction(node, self.state, defaults)

    def lambda_(self, node: gast.Lambda, into: str | None) -> LocalFunction:
        a = node.args
        if a.vararg or a.kwarg or a.kwonlyargs or getattr(a, "posonlyargs", None):
            raise self.state.unsupported(node, "a lambda with *args, **kwargs or keyword-only "
                                         "parameters is not supported yet")
        tree = gast.copy_location(gast.FunctionDef(
            "<lambda>", node.args, [gast.copy_location(gast.Return(node.body), node.body)],
            [], None, None), node)
        return LocalFunction(tree, self.state, [self.core.expr(d) for d in node.args.defaults])

    def inline_local(self, fn: LocalFunction, node: gast.Call) -> object:
        state = self.state
        recursion.check(state.inlining, fn, fn.tree.name, state.src.loc(node))
        args = [self.core.expr(a) for a in node.args]
        kwargs = {k.arg: self.core.expr(k.value) for k in node.keywords}
        child = self.core.nested(fn)
        result = function.lower_body(child, fn.bind(args, kwargs, state.src.loc(node)))[1]
        state.body.extend(child.state.body)
        return result

    # -- inlining ---------------------------------------------------------------
    def inline(self, fn: Any, node: gast.Call, pre_args: list | tuple = (),
               pre_kwargs: dict | None = None) -> object:
        """Lower ``fn``'s body here; return what it returns (an operand or a Tup)."""
        state = self.state
        recursion.check(state.inlining, fn, fn.__name__, state.src.loc(node))
        args = [*pre_args, *(self.core.expr(a) for a in node.args)]
        kwargs = {**(pre_kwargs or {}),
                  **{k.arg: self.core.expr(k.value) for k in node.keywords}}
        try:
            bound = inspect.signature(fn).bind(*args, **kwargs)
        except TypeError as exc:
            raise UnsupportedSyntax(f"call of {fn.__name__}: {exc}", state.src.loc(node)) \
                from None
        bound.apply_defaults()
        child = self.core.child(fn)
        result = function.inlined_body(
            child, {k: _as_operand(v) for k, v in bound.arguments.items()})
        state.body.extend(child.state.body)
        return result


def _bound(target) -> list[str]:
    return [n.id for n in gast.walk(target) if isinstance(n, gast.Name)]


def _renamed(node, names: dict):
    """A copy of ``node`` with the comprehension's own names replaced (they are local
    to it in Python, so they must not clash with the function's)."""
    node = copy.deepcopy(node)
    for n in gast.walk(node):
        if isinstance(n, gast.Name) and n.id in names:
            n.id = names[n.id]
    return node


def _as_operand(v):
    return v if isinstance(v, (ir.Var, ir.Const, Tup, Rec)) else ir.Const(v)


def _inlinable(obj) -> bool:
    """The user's own Python function, without a rule of its own."""
    if not isinstance(obj, types.FunctionType) or getattr(obj, "__srcgrad_rule__", False):
        return False
    module = (getattr(obj, "__module__", None) or "").split(".")[0]
    return module not in _NOT_INLINED
