"""Lowering: a gast FunctionDef -> an SSA ``ir.Function``.

Contract: the result passes ``ir.verify``; every statement applies one
primitive (a Python operator or a resolved call) and carries the location of
the user's expression it came from. Nested expressions are flattened into
compiler temporaries; reassigned user names get SSA versions (``x``, ``x_1``).

The syntax fence: ``_STMTS`` and ``_EXPRS`` are the visit tables of what is
supported, each entry the core's method or a part's; any other node is a
located ``UnsupportedSyntax``. Names that are not locals are resolved now
(``names``): called names become ``ir.Callee``, numbers/arrays named
``ir.Const``, other objects (functions, dicts, classes, objects) a ``Static``,
whose attributes and constant subscripts are resolved now too (``self.W``,
``HP["lr"]``); a ``Static`` used as a value is a located error unless it is a
constant (``pack``). Each resolution is recorded (``parse.Assumption``) so
that ``build`` rebuilds when the name changes.

The structure: ``Lowerer`` is the core (dispatch, assignments, operators,
names, indexing); it owns one ``state.LoweringState`` and the parts that
lower the rest with it: ``flow.Flow`` (if/for/while, and/or), ``calls.Calls``
(calls, methods, tuples, local functions, inlining), ``comprehensions.Comprehensions``
(comprehensions), ``structs.Structs``
(dicts, lists, tuples in loops) and ``inplace.Inplace`` (shared storage);
``objects`` reads the fields and methods of object arguments (``Obj``, ``NTup``);
``function`` lowers parameters and bodies. An inlined helper is lowered by a
core of its own (``child``, ``nested``) whose state shares the name space.
"""

from __future__ import annotations

import builtins
import types
from collections.abc import Callable
from typing import Any, cast

import gast
import numpy as np

from .. import ir
from ..errors import NameResolutionError
from . import function, names, objects, parse, recursion, statements
from .calls import Calls
from .comprehensions import Comprehensions
from .flow import Flow
from .inplace import Inplace
from .parse import Source
from .state import LocalFunction, LoweringState, NTup, Obj, Rec, Static, Tup
from .structs import Structs
from .syntax import RETURN, appended_list, describe
from .unroll import Unroll
from .views import guard_views

_SLICE = ir.Callee("slice", builtins.slice, builtins.slice)
_OBJECT_HINT = ("An object argument (a dataclass, NamedTuple, registered class) is taken "
                "apart when srcgrad sees one in a call; derivative_source(f, example=(...)) "
                "shows the code for such arguments.")


class Lowerer:
    """The core of one body's lowering, and the parts it hands its state to."""

    def __init__(self, state: LoweringState):
        self.state = state
        self.inplace = Inplace(state)
        self.structs = Structs(state, self)
        self.flow = Flow(state, self, self.structs, self.inplace)
        self.calls = Calls(state, self, self.structs)
        self.comprehensions = Comprehensions(state, self)

    def child(self, fn: types.FunctionType) -> Lowerer:
        """A lowerer for a helper called from here, to be inlined."""
        return Lowerer(LoweringState.for_helper(parse.capture(fn), self.state))

    def nested(self, fn: LocalFunction) -> Lowerer:
        """A lowerer for a def or lambda of this function, to be inlined here."""
        outer = fn.outer.src
        src = Source(outer.fn, outer.filename, outer.line_offset, outer.col_offset, fn.tree,
                     outer.globals, outer.closure)
        state = LoweringState.for_helper(src, self.state)
        state.enclosing = fn.outer
        state.inlining = [*self.state.inlining, fn]
        return Lowerer(state)

    # -- statements -----------------------------------------------------------
    def stmt(self, node: gast.stmt) -> None:
        visit = _STMTS.get(type(node))
        if visit is None:
            raise self.state.unsupported(node, f"{describe(node)} is not supported in a "
                                         "differentiated function yet")
        visit(self, node)

    def block(self, stmts: list) -> list:
        """Lower ``stmts`` into a new statement list (``state.body`` is restored)."""
        state = self.state
        outer, state.body = state.body, []
        try:
            for s in stmts:  # returns end their paths (jumps.settle)
                if state.terminated:
                    raise state.unsupported(s, "code after return is not supported")
                self.stmt(s)
            return state.body
        finally:
            state.body = outer

    def assign(self, node: gast.Assign) -> None:
        state = self.state
        if len(node.targets) != 1:
            raise state.unsupported(node, "chained assignment is not supported yet",
                                    "Write one `name = expression` per line.")
        target = node.targets[0]
        if isinstance(target, gast.Name):
            return self.bind(target.id, node.value)
        if isinstance(target, gast.Subscript):
            return self.store(target, self.value(node.value), node)
        if isinstance(target, gast.Tuple) and all(isinstance(e, gast.Name) for e in target.elts):
            value = self.expr(node.value)
            if isinstance(value, Tup):  # a, b = helper(x)
                if len(value) != len(target.elts):
                    raise state.unsupported(target, f"{len(value)} values to unpack into "
                                            f"{len(target.elts)} names")
                for e, item in zip(target.elts, value):
                    self.bind_operand(e.id, item, e)
                return None
            for i, e in enumerate(target.elts):  # e.g. `T, K = x.shape`
                state.emit(state.new_version(e.id), "getitem", (value, ir.Const(i)), e)
            return None
        raise state.unsupported(target, "this assignment target is not supported yet",
                                "Assign to a name, a tuple of names, or an element x[i].")

    def store(self, target: gast.Subscript, value: ir.Operand, node: gast.AST) -> None:
        """``x[i] = value``: a new version of ``x``."""
        state = self.state
        if not isinstance(target.value, gast.Name) or target.value.id not in state.env:
            raise state.unsupported(target, "only writes into a local array (x[i] = v) are "
                                    "supported", "Create the array in the function first.")
        array = state.env[target.value.id]
        if isinstance(array, (Tup, Rec)):  # d["k"] = v: see structs.store_entry
            return self.structs.store_entry(target, array, value)
        parts, tup = self.index(target.slice)
        state.emit(state.new_version(target.value.id), "setitem", (array, value, *parts), node,
                   seq=tup)
        return None

    def ann_assign(self, node: gast.AnnAssign) -> None:
        if node.value is None or not isinstance(node.target, gast.Name):
            raise self.state.unsupported(node, "an annotation without a value is not "
                                         "supported")
        self.bind(node.target.id, node.value)

    def aug_assign(self, node: gast.AugAssign) -> None:
        state = self.state
        op = ir.BINARY.get(type(node.op).__name__)
        if op is None:
            raise state.unsupported(node, f"operator {type(node.op).__name__} is not "
                                    "supported")
        if isinstance(node.target, gast.Subscript):  # x[i] += v
            current = self.subscript(node.target, None)
            value = self.value(node.value)
            new = state.emit(state.temp(), op, (current, value), node)
            return self.store(node.target, new, node)
        if not isinstance(node.target, gast.Name):
            raise state.unsupported(node, "augmented assignment to an attribute is not "
                                    "supported")
        current = self.pack(self.name(node.target), node)
        value = self.value(node.value)
        target = state.new_version(node.target.id)
        state.emit(target, op, (current, value), node)
        self.inplace.augmented(node, current, target)
        return None

    def return_(self, node: gast.Return) -> None:
        state = self.state
        if node.value is None:
            raise state.unsupported(node, "return without a value")
        if isinstance(node.value, gast.Tuple) and state.parent is None and \
                function.OUTPUT not in state.structures:
            raise function.structured_output(state, node.value, "a tuple")
        if isinstance(node.value, gast.List) and state.parent is None:  # may hold dicts
            state.env[RETURN] = function.returned_list(self, node.value)
        elif isinstance(node.value, (gast.Name, gast.Constant, gast.Tuple)):
            state.env[RETURN] = self.expr(node.value)
        else:  # name the returned expression so its adjoint reads `out_bar`
            state.env[RETURN] = self.expr(node.value, into=state.namer.fresh("out"))
        if state.parent is None and isinstance(state.env[RETURN], (Static, LocalFunction)):
            state.env[RETURN] = self.pack(state.env[RETURN], node.value)  # (refused)
        state.terminated = True

    def pass_(self, node: gast.Pass) -> None:
        pass

    def expr_stmt(self, node: gast.Expr) -> None:
        """Only ``xs.append(v)`` stands alone: anything else would be an effect."""
        state = self.state
        if self.structs.grow(node):  # appending to a list argument, extending
            return None
        xs = appended_list(node)
        call = node.value
        if xs is None and isinstance(call, gast.Call) and not self.calls.is_method(call.func) \
                and self.calls.local_function(call.func) is None:
            names.callee(state, call.func)  # exec(...) and the like: say why it cannot be
        if xs is None:
            raise state.unsupported(node, f"{describe(node)} is not supported in a "
                                    "differentiated function yet")
        current = state.lookup(xs.id)
        if not isinstance(current, ir.Var) or xs.id in state.arguments:
            raise state.unsupported(node, "append only to a list made in this function "
                                    "(xs = [] first)")
        value = self.value(node.value.args[0])
        state.emit(state.new_version(xs.id), "append", (current, value), node)

    def bind(self, name: str, value: gast.expr) -> None:
        """Lower ``name = value`` so that the last op writes ``name`` directly."""
        operand = self.expr(value, into=name)
        self.bind_operand(name, operand, value)
        if isinstance(operand, ir.Var):
            self.inplace.note_view(self.state.env[name])

    def bind_operand(self, name: str, operand: object, node: gast.AST) -> None:
        state = self.state
        if isinstance(operand, (Tup, Rec, Obj, LocalFunction, Static)):
            state.env[name] = operand  # structure, known now: nothing to compute
        elif operand is not state.env.get(name):  # a plain name or constant: copy it
            state.emit(state.new_version(name), "copy", (operand,), node)

    # -- expressions ----------------------------------------------------------
    def expr(self, node: gast.expr, into: str | None = None) -> Any:
        """``node``'s value: an operand, or structure known now (``Tup``, ``Rec``...)."""
        visit = _EXPRS.get(type(node))
        if visit is None:
            raise self.state.unsupported(node, f"{describe(node)} is not supported in a "
                                         "differentiated function yet")
        return visit(self, node, into)

    def value(self, node: gast.expr) -> ir.Operand:
        """``node`` as one IR operand (a tuple display becomes a ``tuple`` value)."""
        return self.pack(self.expr(node), node)

    def pack(self, operand: Any, node: gast.AST) -> ir.Operand:
        if isinstance(operand, (Static, LocalFunction)):  # a constant, or refused
            return names.static_operand(self.state, operand, node)
        if isinstance(operand, Obj):  # a dataclass... argument: its fields only
            raise objects.refuse_value(self.state, node, operand)
        if isinstance(operand, Rec):
            raise self.state.unsupported(node, "a dict argument can only be indexed with "
                                         "constant keys (params[\"W\"]) here")
        if isinstance(operand, Tup):
            items = [self.pack(o, node) for o in operand]
            return self.state.emit(self.state.temp(), "tuple", items, node)
        return operand

    def binop(self, node: gast.BinOp, into: str | None) -> Any:
        op = ir.BINARY.get(type(node.op).__name__)
        if op is None:
            raise self.state.unsupported(node, f"operator {type(node.op).__name__} is not "
                                         "supported")
        joined = self.structs.concat(node)  # xs + [y] of a list argument
        if joined is not None:
            return joined
        left, right = self.value(node.left), self.value(node.right)
        folded = recursion.int_op(op, left, right)  # n - 1 in power(x, n - 1): known now
        if into is None and folded is not None:
            return folded
        return self.state.emit(self.state.result(into), op, (left, right), node)

    def unaryop(self, node: gast.UnaryOp, into: str | None) -> ir.Operand:
        state = self.state
        op = ir.UNARY.get(type(node.op).__name__)
        if op is None:
            raise state.unsupported(node, f"operator {type(node.op).__name__} is not "
                                    "supported")
        operand = self.value(node.operand)
        if op in ("neg", "pos") and isinstance(operand, ir.Const) and operand.name is None \
                and isinstance(operand.value, (int, float, complex)):
            # A literal like -1: a constant, so it can stand in tuples such as axis=(0, -1).
            value = -operand.value if op == "neg" else operand.value
            if into is None:
                return ir.Const(value)
            return state.emit(state.result(into), "copy", (ir.Const(value),), node)
        return state.emit(state.result(into), op, (operand,), node)

    def compare(self, node: gast.Compare, into: str | None) -> ir.Operand:
        state = self.state
        if len(node.ops) != 1:
            raise state.unsupported(node, "chained comparisons are not supported yet",
                                    "Split `a < b < c` into `(a < b) and (b < c)`.")
        op = ir.COMPARE.get(type(node.ops[0]).__name__)
        known = Unroll(state, self).contains(node)  # "k" in d
        if known is not None:
            return known
        if op is None:
            raise state.unsupported(node, f"comparison {type(node.ops[0]).__name__} is not "
                                    "supported")
        left, right = self.expr(node.left), self.expr(node.comparators[0])
        if isinstance(left, Static) or isinstance(right, Static):  # self.config is None
            return names.static_compare(state, op, left, right, node)
        left, right = self.pack(left, node.left), self.pack(right, node.comparators[0])
        if isinstance(left, ir.Const) and isinstance(right, ir.Const) and into is None:
            folded = _static_compare(op, left.value, right.value)
            if folded is not None:  # e.g. `b is not None`, `activation == "tanh"`: known now
                return ir.Const(folded)
        return state.emit(state.result(into), op, (left, right), node)

    def name(self, node: gast.Name, into: str | None = None) -> Any:
        state = self.state
        found = state.lookup(node.id)
        if found is not None:
            return found
        if node.id in state.locals:  # Python would raise UnboundLocalError here
            why = state.undefined.get(node.id, "it is not assigned before this point")
            raise NameResolutionError(f"{node.id!r} may be unbound here: {why}",
                                      state.src.loc(node),
                                      "Assign it before the loop or the if, on every path.")
        return names.global_value(state, [node.id], node)

    def subscript(self, node: gast.Subscript, into: str | None) -> Any:
        state = self.state
        base: Any = self.expr(node.value)
        if isinstance(base, Tup) and isinstance(node.slice, gast.Slice):
            return Unroll(state, self).slice(base, node.slice)  # xs[1:]: a tuple, now
        if isinstance(base, Static):  # HP["lr"], ACTIVATIONS["tanh"], LAYERS[0]: found now
            return self.calls.static_item(base, node)
        if isinstance(base, (Tup, Rec)):  # pair[0], params["W"]: picked now
            index = self.expr(node.slice)
            if self.structs.indexable(base, index):  # xs[t]: a list of the leaves, indexed
                base = self.structs.as_lists([base], node)[0]
                return state.emit(state.result(into), "getitem", (base, index), node)
            if not isinstance(index, ir.Const) or index.value not in (
                    base if isinstance(base, Rec) else range(-len(base), len(base))):
                raise state.unsupported(
                    node.slice, "a tuple, list or dict argument can only be indexed with one "
                    "of its constant indices or keys (a list of numbers or arrays also by an "
                    "index computed at run time)", "Pass the parts as separate lists of "
                    "numbers or arrays (xs, ys) and index those: xs[t], ys[t].")
            return base[cast(Any, index.value)]
        base = self.pack(base, node)
        parts, tup = self.index(node.slice)
        return state.emit(state.result(into), "getitem", (base, *parts), node, seq=tup)

    def index(self, node: gast.expr) -> tuple[list, bool]:
        """Index operands of ``x[node]``, and whether it was a tuple ``x[i, j]``."""
        items, tup = (node.elts, True) if isinstance(node, gast.Tuple) else ([node], False)
        return [self.index_part(e) for e in items], tup

    def index_part(self, e: gast.expr) -> ir.Operand:
        if not isinstance(e, gast.Slice):
            return self.value(e)
        parts: list[Any] = [ir.Const(None) if p is None else self.value(p)
                            for p in (e.lower, e.upper, e.step)]
        if all(isinstance(p, ir.Const) and p.name is None for p in parts):
            return ir.Const(slice(*(p.value for p in parts)))
        return self.state.emit(self.state.temp(), _SLICE, parts, e)

    def attribute(self, node: gast.Attribute, into: str | None) -> object:
        state = self.state
        dotted = names.dotted(node)
        if dotted is not None and dotted[0] not in state.env:
            return names.global_value(state, dotted, node)
        base = self.expr(node.value)
        if isinstance(base, Static):  # self.W, self.config.n, cfg.lr: found now
            return self.calls.static_attribute(base, node, into)
        if isinstance(base, (Obj, NTup)):  # p.W of a structured argument: known now
            return objects.field(self, base, node, self.calls)
        op = ir.ATTRIBUTES.get(node.attr)
        if node.attr in _PARTS:  # z.real, z.imag: np.real(z), np.imag(z)
            return state.emit(state.result(into), _PARTS[node.attr],
                              (self.pack(base, node.value),), node)
        if op is None:
            if isinstance(node.value, gast.Name) and node.value.id in state.arguments:
                raise state.unsupported(node, f"{node.value.id}.{node.attr}: srcgrad learns "
                                        f"the fields of an object argument from a call, and "
                                        f"has none here", _OBJECT_HINT)
            raise state.unsupported(node, f"the attribute .{node.attr} is not supported yet")
        return state.emit(state.result(into), op, (self.pack(base, node.value),), node)

    def constant(self, node: gast.Constant, into: str | None = None) -> ir.Const:
        return ir.Const(node.value)


_PARTS = {"real": ir.Callee("np.real", np.real, np), "imag": ir.Callee("np.imag", np.imag, np)}

_STATIC = {"is": lambda a, b: a is b, "isnot": lambda a, b: a is not b,
           "eq": lambda a, b: a == b, "ne": lambda a, b: a != b}


def _static_compare(op: str, a: object, b: object) -> bool | None:
    """A comparison of two constants, decided while lowering (None: leave it)."""
    if op in ("is", "isnot") and (a is None or b is None or isinstance(a, (bool, str))):
        return _STATIC[op](a, b)
    if op in ("eq", "ne") and isinstance(a, (str, type(None), bool)) and \
            isinstance(b, (str, type(None), bool)):
        return _STATIC[op](a, b)
    return recursion.int_compare(op, a, b)  # `n == 0` of an int constant, or None


# The syntax fence: what is supported, and who lowers it (the core or one of its parts).
_STMTS: dict[type, Callable[[Lowerer, Any], None]] = {
    gast.FunctionDef: lambda lw, node: lw.calls.function_def(node),
    gast.If: lambda lw, node: lw.flow.if_(node),
    gast.For: lambda lw, node: lw.flow.for_(node),
    gast.While: lambda lw, node: lw.flow.while_(node),
    gast.Assign: Lowerer.assign,
    gast.AnnAssign: Lowerer.ann_assign,
    gast.AugAssign: Lowerer.aug_assign,
    gast.Return: Lowerer.return_,
    gast.Pass: Lowerer.pass_,
    gast.Expr: Lowerer.expr_stmt,
    gast.Assert: statements.assert_,
    gast.With: statements.with_,
    **dict.fromkeys(statements.REFUSED, statements.refuse),
}
_EXPRS: dict[type, Callable[[Lowerer, Any, str | None], Any]] = {
    gast.BinOp: Lowerer.binop,
    gast.UnaryOp: Lowerer.unaryop,
    gast.Compare: Lowerer.compare,
    gast.Call: lambda lw, node, into: lw.calls.call(node, into),
    gast.Name: Lowerer.name,
    gast.Attribute: Lowerer.attribute,
    gast.Constant: Lowerer.constant,
    gast.Tuple: lambda lw, node, into: lw.calls.tuple_(node, into),
    gast.Subscript: Lowerer.subscript,
    gast.IfExp: lambda lw, node, into: lw.flow.if_exp(node, into),
    gast.BoolOp: lambda lw, node, into: lw.flow.bool_op(node, into),
    gast.Lambda: lambda lw, node, into: lw.calls.lambda_(node, into),
    gast.List: lambda lw, node, into: lw.structs.list_(node, into),
    gast.Dict: lambda lw, node, into: lw.structs.dict_(node, into),
    gast.ListComp: lambda lw, node, into: lw.comprehensions.list_comp(node, into),
    gast.GeneratorExp: lambda lw, node, into: lw.comprehensions.generator(node, into),
    gast.DictComp: lambda lw, node, into: lw.comprehensions.dict_comp(node, into),
    gast.SetComp: lambda lw, node, into: lw.comprehensions.set_comp(node, into),
}


def lower(src: Source, structures: dict | None = None,
          assumed: list[parse.Assumption] | None = None) -> ir.Function:
    """Lower the captured function to SSA IR (see the module docstring).

    ``structures`` describes tuple, list and dict arguments: parameter name ->
    ``("tuple" | "list", [child, ...])`` or ``("dict", [(key, child), ...])``, a child
    being None (a leaf) or a structure. Their leaves become parameters of their own.
    ``assumed`` receives every name read from outside the function (its helpers'
    included) with what it denoted: the result is right while all of them hold.
    """
    state = LoweringState.for_function(src)
    state.structures = structures or {}
    if assumed is not None:
        state.assumed = assumed
    fn = function.lower_function(Lowerer(state))
    guard_views(fn)
    ir.verify(fn)
    return fn
