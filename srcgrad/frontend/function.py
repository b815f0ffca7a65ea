"""A function's parameters and body, lowered (frontend stage).

Contract: ``lower_function`` makes the ``ir.Function`` of the function the user
gave: one parameter per argument, or per leaf of a structured argument (a tuple,
list, dict, NamedTuple, dataclass, registered class or ``self``, as ``pytrees``
describes it: ``params_W``, ``pair_0``, ``layers_0_W``; a static field is a
constant), its docstring, its defaults, and the one value it returns; a
parameter bound before the call (``Source.bound``: a bound method's ``self``) is
no parameter of it but a ``Static``, read while lowering. ``lower_body`` lowers a
body (the function's, an inlined helper's or a local function's) with its
parameters bound to given values: first ``remove_jumps`` makes every ``return``
the last statement of its path; an argument the body writes into through an
index (``x[i] = v``) is copied first, so that a caller's array is never changed;
a path that does not return is a located error.

These functions work on a core's state (``env``, ``body``, ``locals``,
``arguments``, ``terminated``, ``structures``, ``namer``, ``versioned``) and
lower statements through the core (``block``).
"""

from __future__ import annotations

from typing import Any

import gast
import numpy as np

from .. import ir
from ..errors import StructuredOutput
from . import parse
from .jumps import remove_jumps
from .state import Core, LoweringState, Obj, Rec, Static, Tup, named_tup
from .statements import refuse_generators
from .syntax import RETURN, target_names

_COPY = ir.Callee("np.copy", np.copy, np)

# The key of ``structures`` that selects one leaf of a structured result (a tuple,
# list, dict or object returned): its path, one step per level (an index, a dict key,
# a field name). The function lowered then returns that leaf (``outputs.py``).
OUTPUT = "<output>"


def lower_function(core: Core) -> ir.Function:
    """The ``ir.Function`` of the function ``core`` lowers (see the module docstring)."""
    state = core.state
    tree = state.src.tree
    a = tree.args
    for extra, what in ((a.vararg, "*args"), (a.kwarg, "**kwargs")):
        if extra is not None:
            raise state.unsupported(extra, f"{what} parameters are not supported yet")
    special = a.kwonlyargs or getattr(a, "posonlyargs", None)
    if special:
        raise state.unsupported(special[0], "keyword-only and positional-only parameters "
                                "are not supported yet")
    params: list[ir.Var] = []
    bindings: dict[str, object] = {}
    for arg in a.args:
        if arg.id in state.src.bound:  # a bound method's self: known now (Static)
            obj = state.src.bound[arg.id]
            bindings[arg.id] = Static(obj, arg.id, state.src.fn, (arg.id,), parse.holder(obj))
            continue
        bindings[arg.id] = parameter(state, arg.id, state.structures.get(arg.id), params)
    doc, result = lower_body(core, bindings)
    path = state.structures.get(OUTPUT)
    if path is not None:
        result = _select(core, result, path)
    elif isinstance(result, (Obj, Tup, Rec)):
        what = "an object" if isinstance(result, Obj) else \
            "a dict" if isinstance(result, Rec) else "a tuple"
        raise structured_output(state, tree, what)
    return ir.Function(tree.name, tuple(params), state.body, (result,),
                       state.src.loc(tree), doc, _defaults(state, a))


def structured_output(state: LoweringState, node: gast.AST, what: str
                      ) -> StructuredOutput:
    """The error for a function returning ``what`` (a tuple...) where one value is
    needed; vjp, jvp and jacobian catch it and lower the function once per leaf."""
    name = state.src.tree.name
    return StructuredOutput(f"{name} returns {what}; srcgrad differentiates a function of "
                            "one value here", state.src.loc(node),
                            "grad needs one scalar: for (loss, aux) write grad(f, "
                            "has_aux=True); srcgrad.vjp, jvp and jacobian take functions "
                            "returning tuples, lists and dicts.")


def returned_list(core: Core, node: gast.List) -> Any:
    """The list display the function returns: a list made at run time (``structs``), or
    if an entry is a tuple, dict or object, a structure of its entries (one leaf of it
    is selected, ``OUTPUT``)."""
    state = core.state
    if any(isinstance(e, gast.Starred) for e in node.elts):
        return core.expr(node, into=state.namer.fresh("out"))
    items = [core.expr(e) for e in node.elts]
    if any(isinstance(v, (Tup, Rec, Obj)) for v in items):
        if OUTPUT not in state.structures:
            raise structured_output(state, node, "a list holding a structure")
        return Tup(items)
    into = state.namer.fresh("out")
    xs = state.emit(state.result(into), "newlist", (), node)
    for item, e in zip(items, node.elts):
        xs = state.emit(state.result(into), "append", (xs, core.pack(item, e)), node)
    return xs


def _select(core: Core, result: Any, path: tuple) -> Any:
    """The leaf of the returned structure at ``path`` (see ``OUTPUT``)."""
    state = core.state
    tree = state.src.tree
    for step in path:
        try:
            if isinstance(result, Obj):
                result = result.fields[step]
            elif isinstance(result, (Tup, Rec)):
                result = result[step]
            elif isinstance(result, ir.Var) and isinstance(step, int):  # a list
                result = state.emit(state.temp(), "getitem", (result, ir.Const(step)), tree)
            else:
                raise LookupError(step)
        except (LookupError, TypeError):
            raise state.unsupported(tree, f"{tree.name} returns a structure srcgrad cannot "
                                    f"take apart at {step!r} while compiling it",
                                    "Return a tuple, list or dict built where it is "
                                    "returned (return (loss, {\"W\": W})).") from None
    if isinstance(result, (Obj, Tup, Rec)):
        raise state.unsupported(tree, f"{tree.name} returns a structure whose leaf at "
                                f"{path!r} is not a number or an array while compiling it")
    return core.pack(result, tree)


def parameter(state: LoweringState, name: str, spec: tuple | None, params: list,
              leaf: bool = False) -> Any:
    """A parameter's value: one Var, or for a structured argument (``pytrees``) a
    structure of Vars, one per leaf (``params_W``, ``pair_0``, ``layers_0_W``),
    appended to ``params``; a static field is its value, an ``ir.Const``."""
    if spec is None:
        var = ir.Var(state.namer.fresh(name) if leaf else name)
        state.versioned.add(var.name)
        params.append(var)
        return var
    kind = spec[0]
    if kind == "static":
        value = spec[1].value
        if not leaf and callable(value):  # a function passed as an argument: known now
            return Static(value, name, state.src.fn, (name,), parse.holder(value))
        return ir.Const(value)
    if kind == "dict":
        return Rec({key: parameter(state, _leaf_name(name, key, i), child, params, True)
                    for i, (key, child) in enumerate(spec[1])})
    if kind in ("namedtuple", "object"):
        cls, pairs = spec[1], spec[2]
        fields = {key: parameter(state, f"{name}_{key}", child, params, True)
                  for key, child in pairs}
        if kind == "object":
            return Obj(cls, fields)
        return named_tup(list(fields.values()), cls, tuple(fields))
    return Tup(parameter(state, f"{name}_{i}", child, params, True)
               for i, child in enumerate(spec[1]))


def inlined_body(core: Core, arguments: dict) -> object:
    """Lower a helper's body with its parameters bound to ``arguments``; its result."""
    return lower_body(core, arguments)[1]


def lower_body(core: Core, arguments: dict) -> tuple[str | None, Any]:
    """Lower the function's body with these parameter values; (docstring, result)."""
    state = core.state
    tree = state.src.tree
    body, doc = tree.body, None
    if body and isinstance(body[0], gast.Expr) and isinstance(body[0].value, gast.Constant) \
            and isinstance(body[0].value.value, str):
        doc, body = body[0].value.value, body[1:]
    state.env.update(arguments)
    state.locals |= set(arguments)
    state.arguments = set(arguments)
    written = {n for n in set(arguments) & _written(body)  # a dict: structs.py
               if not isinstance(arguments[n], (Tup, Rec, Obj, Static))}  # .store_entry copies it
    for name in sorted(written):  # never write into the caller's array: work on a copy
        state.emit(state.new_version(name), _COPY, (arguments[name],), tree)
    copies = state.body
    refuse_generators(body, state.unsupported)
    state.body = copies + core.block(remove_jumps(body, state.namer.fresh, state.unsupported))
    if not state.terminated:
        raise state.unsupported(tree, f"{tree.name} does not return a value on every path",
                                "A differentiated function must return its value.")
    return doc, state.env[RETURN]


def _written(body: list) -> set[str]:
    """Names written through an index (``x[i] = v``) anywhere in ``body``."""
    out = set()
    for n in (n for stmt in body for n in gast.walk(stmt)):
        targets = n.targets if isinstance(n, gast.Assign) else \
            [n.target] if isinstance(n, gast.AugAssign) else []
        out |= {name for t in targets if isinstance(t, gast.Subscript)
                for name in target_names(t)}
    return out


def _defaults(state: LoweringState, a: gast.arguments) -> dict[str, object]:
    names = [arg.id for arg in a.args][len(a.args) - len(a.defaults):]
    values = state.src.fn.__defaults__ or ()
    return dict(zip(names, values))


def _leaf_name(name: str, key: object, i: int) -> str:
    return f"{name}_{key}" if isinstance(key, str) and key.isidentifier() else f"{name}_{i}"
