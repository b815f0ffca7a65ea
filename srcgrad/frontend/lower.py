"""Lowering: a gast FunctionDef -> an SSA ``ir.Function``.

Contract: the result passes ``ir.verify``; every statement applies one
primitive (a Python operator or a resolved call) and carries the location of
the user's expression it came from. Nested expressions are flattened into
compiler temporaries; reassigned user names get SSA versions (``x``, ``x_1``).

The syntax fence: ``_STMTS`` and ``_EXPRS`` are the visit tables of what is
supported. Any other node is a located ``UnsupportedSyntax``. Names that are
not locals are resolved now, in the function's closure, globals and
builtins: callables become ``ir.Callee`` and numbers/arrays become named
``ir.Const``; anything else is a located error. Each resolution is recorded
(``parse.Assumption``) so that ``build`` rebuilds when the name changes.
"""

from __future__ import annotations

import builtins
import numbers
import types

import gast
import numpy as np

from .. import ir
from ..errors import NameResolutionError, UnsupportedSyntax
from . import parse
from .calls import CallsMixin, LocalFunction, Rec, Tup
from .flow import _RETURN, FlowMixin, appended_list, assigned_names, target_names
from .inplace import InplaceMixin
from .jumps import remove_jumps
from .parse import Source
from .views import guard_views

# Builtins that run code given as data or read/write variables by name: the code
# they run is not the code srcgrad reads.
_DYNAMIC = (builtins.eval, builtins.exec, builtins.compile, builtins.globals,
            builtins.locals, builtins.vars, builtins.setattr, builtins.delattr,
            builtins.getattr, builtins.__import__, builtins.breakpoint)

# What a non-local name may resolve to and be used as a value.
_CONST_TYPES = (numbers.Number, np.ndarray, np.generic, type(None), str)


def _dotted(node: gast.expr) -> list[str] | None:
    parts = []
    while isinstance(node, gast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, gast.Name):
        return None
    parts.append(node.id)
    return parts[::-1]


class _Lowerer(CallsMixin, FlowMixin, InplaceMixin):
    def __init__(self, src: Source, parent: _Lowerer | None = None):
        self.src = src
        names = {n.id for n in gast.walk(src.tree) if isinstance(n, gast.Name)}
        self.parent = parent
        if parent is None:
            self.namer, self.versioned, self.inlining = ir.Namer(names), set(), [src.fn]
        else:  # an inlined helper: one name space with its caller
            self.namer, self.versioned = parent.namer, parent.versioned
            self.inlining = [*parent.inlining, src.fn]
            for name in names:
                if self.namer.is_taken(name):  # perhaps a temporary of the caller's
                    self.versioned.add(name)  # (t1): this helper's t1 gets a version
                self.namer.reserve(name)
        self.env: dict[str, ir.Operand] = {}
        self.body: list = []
        self.terminated = False  # the current block has returned
        self.undefined: dict[str, str] = {}  # local names unbound here, and why
        self.locals = set(assigned_names(src.tree.body))
        self.enclosing: _Lowerer | None = None  # for a nested def: where it was defined
        self.structures: dict = {}  # parameter -> structure of a tuple/list/dict argument
        self.arguments: set[str] = set()
        # Versions that may hold the same array (one map for a helper and its caller),
        # the arrays enclosing for loops iterate over, and the loops being lowered.
        self.shared: dict[str, str] = parent.shared if parent is not None else {}
        # What was read from outside, checked again before each use (parse.Assumption).
        self.assumed: list[parse.Assumption] = parent.assumed if parent is not None else []
        self.iterating: list[ir.Var] = []
        self.loops_open: list = []

    dotted = staticmethod(_dotted)

    def child(self, fn) -> _Lowerer:
        """A lowerer for a helper called from here, to be inlined."""
        return _Lowerer(parse.capture(fn), parent=self)

    def nested(self, fn: LocalFunction) -> _Lowerer:
        """A lowerer for a def or lambda of this function, to be inlined here."""
        outer = fn.outer.src
        src = Source(outer.fn, outer.filename, outer.line_offset, outer.col_offset, fn.tree,
                     outer.globals, outer.closure)
        child = _Lowerer(src, parent=self)
        child.enclosing = fn.outer
        child.inlining = [*self.inlining, fn]
        return child

    def lookup(self, name: str):
        """A local of this function or, in a nested def, of the enclosing ones."""
        if name in self.env:
            return self.env[name]
        if name not in self.locals and self.enclosing is not None:
            return self.enclosing.lookup(name)
        return None

    def callee(self, func: gast.expr) -> ir.Callee:
        found = super().callee(func)
        if any(found.obj is f for f in _DYNAMIC):
            raise self.unsupported(func, f"{found.name}() runs code or reaches variables that "
                                   "srcgrad cannot see, so it cannot differentiate them",
                                   "Write the computation itself in the function "
                                   "(and attributes as x.attr).")
        return found

    # -- errors ---------------------------------------------------------------
    def unsupported(self, node: gast.AST, what: str, hint: str | None = None) -> UnsupportedSyntax:
        return UnsupportedSyntax(what, self.src.loc(node), hint)

    # -- function -------------------------------------------------------------
    def function(self) -> ir.Function:
        tree = self.src.tree
        a = tree.args
        for extra, what in ((a.vararg, "*args"), (a.kwarg, "**kwargs")):
            if extra is not None:
                raise self.unsupported(extra, f"{what} parameters are not supported yet")
        special = a.kwonlyargs or getattr(a, "posonlyargs", None)
        if special:
            raise self.unsupported(special[0], "keyword-only and positional-only parameters "
                                   "are not supported yet")
        params, bindings = [], {}
        for arg in a.args:
            bindings[arg.id] = self.parameter(arg.id, self.structures.get(arg.id), params)
        doc, result = self.lower_body(bindings)
        if isinstance(result, Tup):
            raise self.unsupported(tree, f"{tree.name} returns a tuple; srcgrad differentiates "
                                   "a function of one value", "Return a single scalar or array.")
        return ir.Function(tree.name, tuple(params), self.body, (result,),
                           self.src.loc(tree), doc, self._defaults(a))

    def parameter(self, name: str, spec, params: list, leaf: bool = False):
        """A parameter's value: one Var, or for a tuple, list or dict argument a structure
        of Vars, one per leaf (``params_W``, ``pair_0``), appended to ``params``."""
        if spec is None:
            var = ir.Var(self.namer.fresh(name) if leaf else name)
            self.versioned.add(var.name)
            params.append(var)
            return var
        kind, children = spec
        if kind == "dict":
            return Rec({key: self.parameter(_leaf_name(name, key, i), child, params, True)
                        for i, (key, child) in enumerate(children)})
        return Tup(self.parameter(f"{name}_{i}", child, params, True)
                   for i, child in enumerate(children))

    def inlined_body(self, arguments: dict) -> ir.Operand | Tup:
        """Lower a helper's body with its parameters bound to ``arguments``."""
        a = self.src.tree.args
        if a.vararg or a.kwarg or a.kwonlyargs or getattr(a, "posonlyargs", None):
            raise self.unsupported(self.src.tree, "helpers with *args, **kwargs or "
                                   "keyword-only parameters are not supported yet")
        return self.lower_body(arguments)[1]

    def lower_body(self, arguments: dict) -> tuple[str | None, ir.Operand | Tup]:
        """Lower the function's body with these parameter values; (docstring, result)."""
        tree = self.src.tree
        body, doc = tree.body, None
        if body and isinstance(body[0], gast.Expr) and isinstance(body[0].value, gast.Constant) \
                and isinstance(body[0].value.value, str):
            doc, body = body[0].value.value, body[1:]
        self.env.update(arguments)
        self.locals |= set(arguments)
        self.arguments = set(arguments)
        written = {n for n in set(arguments) & self._written(body)  # a dict: structs.py
                   if not isinstance(arguments[n], (Tup, Rec))}  # .store_entry copies it
        for name in sorted(written):  # never write into the caller's array: work on a copy
            self.emit(self.new_version(name), _COPY, (arguments[name],), tree)
        copies = self.body
        self.body = copies + self.block(remove_jumps(body, self.namer.fresh, self.unsupported))
        if not self.terminated:
            raise self.unsupported(tree, f"{tree.name} does not return a value on every path",
                                   "A differentiated function must return its value.")
        return doc, self.env[_RETURN]

    @staticmethod
    def _written(body: list) -> set[str]:
        """Names written through an index (``x[i] = v``) anywhere in ``body``."""
        out = set()
        for n in (n for stmt in body for n in gast.walk(stmt)):
            targets = n.targets if isinstance(n, gast.Assign) else \
                [n.target] if isinstance(n, gast.AugAssign) else []
            out |= {name for t in targets if isinstance(t, gast.Subscript)
                    for name in target_names(t)}
        return out

    def _defaults(self, a: gast.arguments) -> dict[str, object]:
        names = [arg.id for arg in a.args][len(a.args) - len(a.defaults):]
        values = self.src.fn.__defaults__ or ()
        return dict(zip(names, values))

    # -- statements -----------------------------------------------------------
    def stmt(self, node: gast.stmt) -> None:
        visit = _STMTS.get(type(node))
        if visit is None:
            raise self.unsupported(node, f"{_describe(node)} is not supported in a "
                                   "differentiated function yet")
        visit(self, node)

    def assign(self, node: gast.Assign) -> None:
        if len(node.targets) != 1:
            raise self.unsupported(node, "chained assignment is not supported yet",
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
                    raise self.unsupported(target, f"{len(value)} values to unpack into "
                                           f"{len(target.elts)} names")
                for e, item in zip(target.elts, value):
                    self.bind_operand(e.id, item, e)
                return None
            for i, e in enumerate(target.elts):  # e.g. `T, K = x.shape`
                self.emit(self.new_version(e.id), "getitem", (value, ir.Const(i)), e)
            return None
        raise self.unsupported(target, "this assignment target is not supported yet",
                               "Assign to a name, a tuple of names, or an element x[i].")

    def store(self, target: gast.Subscript, value: ir.Operand, node) -> None:
        """``x[i] = value``: a new version of ``x``."""
        if not isinstance(target.value, gast.Name) or target.value.id not in self.env:
            raise self.unsupported(target, "only writes into a local array (x[i] = v) are "
                                   "supported", "Create the array in the function first.")
        array = self.env[target.value.id]
        if isinstance(array, (Tup, Rec)):  # d["k"] = v: see structs.store_entry
            return self.store_entry(target, array, value)
        parts, tup = self.index(target.slice)
        self.emit(self.new_version(target.value.id), "setitem", (array, value, *parts), node,
                  seq=tup)

    def ann_assign(self, node: gast.AnnAssign) -> None:
        if node.value is None or not isinstance(node.target, gast.Name):
            raise self.unsupported(node, "an annotation without a value is not supported")
        self.bind(node.target.id, node.value)

    def aug_assign(self, node: gast.AugAssign) -> None:
        op = ir.BINARY.get(type(node.op).__name__)
        if op is None:
            raise self.unsupported(node, f"operator {type(node.op).__name__} is not supported")
        if isinstance(node.target, gast.Subscript):  # x[i] += v
            current = self.subscript(node.target, None)
            value = self.value(node.value)
            new = self.emit(ir.Var(self.namer.temp(), "temp"), op, (current, value), node)
            return self.store(node.target, new, node)
        if not isinstance(node.target, gast.Name):
            raise self.unsupported(node, "augmented assignment to an attribute is not supported")
        current = self.pack(self.name(node.target), node)
        value = self.value(node.value)
        target = self.new_version(node.target.id)
        self.emit(target, op, (current, value), node)
        self.inplace(node, current, target)
        return None

    def return_(self, node: gast.Return) -> None:
        if node.value is None:
            raise self.unsupported(node, "return without a value")
        if isinstance(node.value, gast.Tuple) and self.parent is None:
            raise self.unsupported(node.value, "returning a tuple is not supported: srcgrad "
                                   "differentiates a function of one value",
                                   "Return a single scalar or array.")
        if isinstance(node.value, (gast.Name, gast.Constant, gast.Tuple)):
            self.env[_RETURN] = self.expr(node.value)
        else:  # name the returned expression so its adjoint reads `out_bar`
            self.env[_RETURN] = self.expr(node.value, into=self.namer.fresh("out"))
        self.terminated = True

    def pass_(self, node: gast.Pass) -> None:
        pass

    def expr_stmt(self, node: gast.Expr) -> None:
        """Only ``xs.append(v)`` stands alone: anything else would be an effect."""
        xs = appended_list(node)
        call = node.value
        if xs is None and isinstance(call, gast.Call) and not self.is_method(call.func) \
                and self.local_function(call.func) is None:
            self.callee(call.func)  # exec(...) and the like: say why it cannot be
        if xs is None:
            raise self.unsupported(node, f"{_describe(node)} is not supported in a "
                                   "differentiated function yet")
        current = self.lookup(xs.id)
        if not isinstance(current, ir.Var) or xs.id in self.arguments:
            raise self.unsupported(node, "append only to a list made in this function "
                                   "(xs = [] first)")
        value = self.value(node.value.args[0])
        self.emit(self.new_version(xs.id), "append", (current, value), node)

    def list_(self, node: gast.List, into):
        """``[a, b]`` is ``[]`` then ``.append(a)``, ``.append(b)``: a list like any other."""
        items = [self.value(e) for e in node.elts]
        xs = self.emit(self.result(into), "newlist", (), node)  # names the list's storage
        for item in items:
            xs = self.emit(self.result(into), "append", (xs, item), node)
        return xs

    def dict_(self, node: gast.Dict, into):
        """``{"W": w, "b": b}`` with constant keys: entries known while lowering."""
        keys = [self.expr(k) if k is not None else None for k in node.keys]
        if not all(isinstance(k, ir.Const) and k.name is None for k in keys):
            raise self.unsupported(node, "a dict needs constant keys here")
        return Rec({k.value: self.expr(v) for k, v in zip(keys, node.values)})

    def bind(self, name: str, value: gast.expr) -> None:
        """Lower ``name = value`` so that the last op writes ``name`` directly."""
        operand = self.expr(value, into=name)
        self.bind_operand(name, operand, value)
        if isinstance(operand, ir.Var):
            self.note_view(self.env[name])

    def bind_operand(self, name: str, operand, node) -> None:
        if isinstance(operand, (Tup, Rec, LocalFunction)):
            self.env[name] = operand  # structure, known now: nothing to compute
        elif operand is not self.env.get(name):  # a plain name or constant: copy it
            self.emit(self.new_version(name), "copy", (operand,), node)

    def new_version(self, name: str) -> ir.Var:
        """The next SSA version of a user name: ``x``, then ``x_1``, ``x_2``..."""
        var = ir.Var(self.namer.fresh(name) if name in self.versioned else name)
        self.versioned.add(name)
        self.env[name] = var
        return var

    # -- expressions ----------------------------------------------------------
    def expr(self, node: gast.expr, into: str | None = None) -> ir.Operand:
        visit = _EXPRS.get(type(node))
        if visit is None:
            raise self.unsupported(node, f"{_describe(node)} is not supported in a "
                                   "differentiated function yet")
        return visit(self, node, into)

    def emit(self, target: ir.Var, op, args, node, kwargs=(), seq=False) -> ir.Var:
        self.body.append(ir.Stmt(target, op, tuple(args), self.src.loc(node), tuple(kwargs), seq))
        return target

    def result(self, into: str | None) -> ir.Var:
        if into is None:
            return ir.Var(self.namer.temp(), "temp")
        return self.new_version(into)

    def binop(self, node: gast.BinOp, into):
        op = ir.BINARY.get(type(node.op).__name__)
        if op is None:
            raise self.unsupported(node, f"operator {type(node.op).__name__} is not supported")
        left, right = self.value(node.left), self.value(node.right)
        return self.emit(self.result(into), op, (left, right), node)

    def unaryop(self, node: gast.UnaryOp, into):
        op = ir.UNARY.get(type(node.op).__name__)
        if op is None:
            raise self.unsupported(node, f"operator {type(node.op).__name__} is not supported")
        operand = self.value(node.operand)
        if op in ("neg", "pos") and isinstance(operand, ir.Const) and operand.name is None \
                and isinstance(operand.value, (int, float, complex)):
            # A literal like -1: a constant, so it can stand in tuples such as axis=(0, -1).
            value = -operand.value if op == "neg" else operand.value
            if into is None:
                return ir.Const(value)
            return self.emit(self.result(into), "copy", (ir.Const(value),), node)
        return self.emit(self.result(into), op, (operand,), node)

    def compare(self, node: gast.Compare, into):
        if len(node.ops) != 1:
            raise self.unsupported(node, "chained comparisons are not supported yet",
                                   "Split `a < b < c` into `(a < b) and (b < c)`.")
        op = ir.COMPARE.get(type(node.ops[0]).__name__)
        if op is None:
            raise self.unsupported(node, f"comparison {type(node.ops[0]).__name__} is not "
                                   "supported")
        left, right = self.value(node.left), self.value(node.comparators[0])
        if isinstance(left, ir.Const) and isinstance(right, ir.Const) and into is None:
            folded = _static_compare(op, left.value, right.value)
            if folded is not None:  # e.g. `b is not None`, `activation == "tanh"`: known now
                return ir.Const(folded)
        return self.emit(self.result(into), op, (left, right), node)

    def resolve(self, dotted: list[str], node: gast.AST) -> tuple[object, object]:
        """The object a dotted name denotes now, and what its first component is."""
        head = dotted[0]
        for scope in (self.src.closure, self.src.globals, vars(builtins)):
            if head in scope:
                obj = root = scope[head]
                break
        else:
            raise NameResolutionError(f"name {head!r} is not defined", self.src.loc(node))
        found = [obj]
        for i, attr in enumerate(dotted[1:], 1):
            try:
                obj = getattr(obj, attr)
            except AttributeError:
                raise NameResolutionError(
                    f"{'.'.join(dotted[:i])} has no attribute {attr!r}", self.src.loc(node)
                ) from None
            found.append(obj)
        self.assumed.append(parse.assumption(self.src.fn, dotted, found))
        return obj, root

    def name(self, node: gast.Name, into=None) -> ir.Operand:
        found = self.lookup(node.id)
        if found is not None:
            return found
        if node.id in self.locals:  # Python would raise UnboundLocalError here
            why = self.undefined.get(node.id, "it is not assigned before this point")
            raise NameResolutionError(f"{node.id!r} may be unbound here: {why}",
                                      self.src.loc(node),
                                      "Assign it before the loop or the if, on every path.")
        return self.global_value([node.id], node)

    def subscript(self, node: gast.Subscript, into):
        base = self.expr(node.value)
        if isinstance(base, (Tup, Rec)):  # pair[0], params["W"]: picked now
            index = self.expr(node.slice)
            if not isinstance(index, ir.Const) or index.value not in (
                    base if isinstance(base, Rec) else range(-len(base), len(base))):
                raise self.unsupported(node.slice, "a tuple, list or dict argument can only be "
                                       "indexed with one of its constant indices or keys")
            return base[index.value]
        base = self.pack(base, node)
        parts, tup = self.index(node.slice)
        return self.emit(self.result(into), "getitem", (base, *parts), node, seq=tup)

    def index(self, node) -> tuple[list, bool]:
        """Index operands of ``x[node]``, and whether it was a tuple ``x[i, j]``."""
        items, tup = (node.elts, True) if isinstance(node, gast.Tuple) else ([node], False)
        return [self.index_part(e) for e in items], tup

    def index_part(self, e) -> ir.Operand:
        if not isinstance(e, gast.Slice):
            return self.value(e)
        parts = [ir.Const(None) if p is None else self.value(p) for p in (e.lower, e.upper, e.step)]
        if all(isinstance(p, ir.Const) and p.name is None for p in parts):
            return ir.Const(slice(*(p.value for p in parts)))
        return self.emit(ir.Var(self.namer.temp(), "temp"), _SLICE, parts, e)

    def attribute(self, node: gast.Attribute, into):
        dotted = _dotted(node)
        if dotted is not None and dotted[0] not in self.env:
            return self.global_value(dotted, node)
        op = ir.ATTRIBUTES.get(node.attr)
        if op is None:
            raise self.unsupported(node, f"the attribute .{node.attr} is not supported yet")
        return self.emit(self.result(into), op, (self.value(node.value),), node)

    def global_value(self, dotted: list[str], node: gast.AST) -> ir.Const:
        obj, root = self.resolve(dotted, node)
        if isinstance(obj, types.ModuleType) or not isinstance(obj, _CONST_TYPES):
            raise NameResolutionError(
                f"{'.'.join(dotted)} is a {type(obj).__name__}, which cannot be used as a "
                "value here", self.src.loc(node))
        return ir.Const(obj, ".".join(dotted), root)

    def constant(self, node: gast.Constant, into=None) -> ir.Const:
        return ir.Const(node.value)


_STATIC = {"is": lambda a, b: a is b, "isnot": lambda a, b: a is not b,
           "eq": lambda a, b: a == b, "ne": lambda a, b: a != b}


def _static_compare(op: str, a, b) -> bool | None:
    """A comparison of two constants, decided while lowering (None: leave it)."""
    if op in ("is", "isnot") and (a is None or b is None or isinstance(a, (bool, str))):
        return _STATIC[op](a, b)
    if op in ("eq", "ne") and isinstance(a, (str, type(None), bool)) and \
            isinstance(b, (str, type(None), bool)):
        return _STATIC[op](a, b)
    return None


def _describe(node: gast.AST) -> str:
    names = {
        "If": "an if statement", "For": "a for loop", "While": "a while loop",
        "Try": "try/except", "With": "a with statement", "Lambda": "a lambda",
        "ListComp": "a list comprehension", "GeneratorExp": "a generator expression",
        "Subscript": "indexing", "IfExp": "a conditional expression",
        "FunctionDef": "a nested def", "ClassDef": "a class definition",
        "Global": "a global declaration", "Nonlocal": "a nonlocal declaration",
        "Expr": "an expression statement", "BoolOp": "and/or", "Delete": "del",
        "Yield": "yield", "Await": "await", "Raise": "raise", "Assert": "assert",
        "Import": "import", "ImportFrom": "import",
    }
    return names.get(type(node).__name__, f"{type(node).__name__} syntax")


_COPY = ir.Callee("np.copy", np.copy, np)
_SLICE = ir.Callee("slice", builtins.slice, builtins.slice)

_STMTS = {
    gast.FunctionDef: _Lowerer.function_def,
    gast.If: _Lowerer.if_,
    gast.For: _Lowerer.for_,
    gast.While: _Lowerer.while_,
    gast.Assign: _Lowerer.assign,
    gast.AnnAssign: _Lowerer.ann_assign,
    gast.AugAssign: _Lowerer.aug_assign,
    gast.Return: _Lowerer.return_,
    gast.Pass: _Lowerer.pass_,
    gast.Expr: _Lowerer.expr_stmt,
}
_EXPRS = {
    gast.BinOp: _Lowerer.binop,
    gast.UnaryOp: _Lowerer.unaryop,
    gast.Compare: _Lowerer.compare,
    gast.Call: _Lowerer.call,
    gast.Name: _Lowerer.name,
    gast.Attribute: _Lowerer.attribute,
    gast.Constant: _Lowerer.constant,
    gast.Tuple: _Lowerer.tuple_,
    gast.Subscript: _Lowerer.subscript,
    gast.IfExp: _Lowerer.if_exp,
    gast.BoolOp: _Lowerer.bool_op,
    gast.Lambda: _Lowerer.lambda_,
    gast.List: _Lowerer.list_,
    gast.Dict: _Lowerer.dict_,
    gast.ListComp: _Lowerer.list_comp,
}


def _leaf_name(name: str, key, i: int) -> str:
    return f"{name}_{key}" if isinstance(key, str) and key.isidentifier() else f"{name}_{i}"


def lower(src: Source, structures: dict | None = None,
          assumed: list[parse.Assumption] | None = None) -> ir.Function:
    """Lower the captured function to SSA IR (see the module docstring).

    ``structures`` describes tuple, list and dict arguments: parameter name ->
    ``("tuple" | "list", [child, ...])`` or ``("dict", [(key, child), ...])``, a child
    being None (a leaf) or a structure. Their leaves become parameters of their own.
    ``assumed`` receives every name read from outside the function (its helpers'
    included) with what it denoted: the result is right while all of them hold.
    """
    lowerer = _Lowerer(src)
    lowerer.structures = structures or {}
    if assumed is not None:
        lowerer.assumed = assumed
    fn = lowerer.function()
    guard_views(fn)
    ir.verify(fn)
    return fn
