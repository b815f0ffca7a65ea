"""The state one lowering shares among its parts, and the values it holds (frontend stage).

``LoweringState`` declares every attribute that the lowering core (``lower.Lowerer``)
and its parts (``flow.Flow``, ``calls.Calls``, ``structs.Structs``,
``inplace.Inplace``, and the functions of ``function`` and ``names``) read or
change while one function's body is lowered; a part receives it (and, to lower a
sub-expression or statement, the core as a ``Core``) in its constructor, and
touches nothing else. One state lowers one body: an inlined helper or local
function gets a state of its own (``for_helper``), which shares with its caller's
what one generated function has once (the namer, the versions taken, the storage
map and the assumptions).

Invariants while lowering:

- ``env`` maps each name bound on the current path to its value now: an SSA
  version (``ir.Var``), a constant, or structure known while lowering (``Tup``,
  ``NTup``, ``Rec``, ``Obj``, ``LocalFunction``, ``Static``); a name not in it is unbound
  here (``undefined``
  says why, for an error);
- ``body`` is the statement list of the innermost block being lowered; a part
  that lowers a sub-block swaps in a new list and restores the old one after
  (also when it raises);
- ``env`` and ``body`` may be *replaced* by a part (a branch starts from a copy),
  so a part reads them through the state each time and never keeps them;
- every name ``namer`` hands out is unique in the generated function; a user name
  in ``versioned`` has been given a version, so its next version is fresh
  (``x``, ``x_1``...).
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import gast

from .. import ir
from ..errors import Loc, UnsupportedSyntax
from . import parse
from .parse import Source
from .syntax import assigned_names

if TYPE_CHECKING:
    import types


class Tup(tuple):
    """A tuple of operands, known while lowering."""


class Rec(dict):
    """A dict's entries (key -> operand), known while lowering: a dict argument, a dict
    display, ``**kwargs``, a dict comprehension."""


class Static:
    """An object that is not a number or an array, known while lowering: a function
    (the user's, NumPy's, ``math``'s, a builtin), a module-level dict, list or tuple,
    a user object (a bound method's ``self``, a config object), a class.

    Attributes and constant subscripts of it are resolved while lowering
    (``calls.Calls.static_attribute``, ``static_item``), each one recorded as a
    ``parse.Assumption`` along ``path`` from where it came from: a name read in
    ``fn`` (``root`` None) or an object bound while lowering (``root``, a
    ``parse.holder``). ``name`` is a readable identifier for generated code
    (``self_W``, ``HP_lr``); the namespace keeps it from colliding with user names;
    ``text`` is how the user's code spells it (``self.W``, ``HP["lr"]``), for errors.
    """

    def __init__(self, obj: object, name: str, fn: Any, path: tuple,
                 root: Any = None, text: str | None = None):
        self.obj, self.name, self.fn, self.path, self.root = obj, name, fn, path, root
        self.text = text or name

    def step(self, obj: object, step: object, name: str) -> Static:
        """What was found at ``step`` (an attribute name or a ``parse.Key``) of this
        object (an assumption records it: ``assume``)."""
        key = getattr(step, "key", step)
        text = f"{self.text}[{key!r}]" if isinstance(step, parse.Key) else f"{self.text}.{key}"
        return Static(obj, name, self.fn, (*self.path, step), self.root, text)

    def assume(self) -> parse.Assumption:
        return parse.Assumption(self.fn, self.path, parse.kept(self.obj), root=self.root)


class NTup(Tup):
    """A NamedTuple argument: a ``Tup`` whose entries are also read as fields
    (``p.W`` is ``p[0]``); ``fields`` are the names, ``cls`` the class."""

    cls: type
    fields: tuple[str, ...]


def named_tup(items: list, cls: type, fields: tuple[str, ...]) -> NTup:
    t = NTup(items)
    t.cls, t.fields = cls, fields
    return t


class Obj:
    """An object argument known while lowering (a dataclass, a class registered with
    ``srcgrad.register_class``, a plain object passed as ``self``): its fields by name,
    each an operand (a leaf parameter, or a static field's ``ir.Const``) or structure;
    ``cls`` gives its methods and properties, inlined with ``self`` bound to it."""

    def __init__(self, cls: type, fields: dict[str, Any]):
        self.cls, self.fields = cls, fields

    def __repr__(self) -> str:
        return f"Obj({self.cls.__name__}, {list(self.fields)})"


class LocalFunction:
    """A ``def`` or ``lambda`` inside the function being lowered: inlined where called,
    seeing the enclosing function's variables as they are at the call. ``defaults``:
    parameter name -> its default's value, lowered where the def is."""

    def __init__(self, tree: gast.FunctionDef, outer: LoweringState, defaults: dict):
        self.tree, self.outer, self.defaults = tree, outer, defaults

    def bind(self, args: list, kwargs: dict, where: Loc) -> dict:
        """Parameter -> value, by Python's own rules (``*args`` a ``Tup``, ``**kwargs``
        a ``Rec``)."""
        a, P = self.tree.args, inspect.Parameter
        params = [P(p.id, kind, default=self.defaults.get(p.id, P.empty))
                  for group, kind in ((a.posonlyargs, P.POSITIONAL_ONLY),
                                      (a.args, P.POSITIONAL_OR_KEYWORD))
                  for p in group]
        if a.vararg is not None:
            params.append(P(a.vararg.id, P.VAR_POSITIONAL))
        params += [P(p.id, P.KEYWORD_ONLY, default=self.defaults.get(p.id, P.empty))
                   for p in a.kwonlyargs]
        if a.kwarg is not None:
            params.append(P(a.kwarg.id, P.VAR_KEYWORD))
        return bind(inspect.Signature(params), self.tree.name, args, kwargs, where)


def bind(sig: inspect.Signature, name: str, args: list, kwargs: dict, where: Loc) -> dict:
    """Bind a call's values to ``sig`` as Python would, defaults applied; ``*args``
    becomes a ``Tup``, ``**kwargs`` a ``Rec``. A call that does not fit is located."""
    try:
        bound = sig.bind(*args, **kwargs)
    except TypeError as exc:
        raise UnsupportedSyntax(f"call of {name}: {exc}", where) from None
    bound.apply_defaults()
    out = {}
    for key, value in bound.arguments.items():
        kind = sig.parameters[key].kind
        out[key] = Tup(value) if kind is inspect.Parameter.VAR_POSITIONAL else \
            Rec(value) if kind is inspect.Parameter.VAR_KEYWORD else value
    return out


@dataclass(eq=False)
class LoweringState:
    """Everything one body's lowering shares among its parts (see the module docstring)."""

    # The function whose body this state lowers (an inlined helper's own source).
    src: Source
    # Names handed out in the generated function: one namer for a function and
    # every helper inlined into it.
    namer: ir.Namer
    # User names given a version already (their next one is fresh): shared likewise.
    versioned: set[str]
    # The functions being inlined, outermost first (a call of one again is recursion).
    inlining: list
    # Versions that may hold the same array (version -> one it shares storage with),
    # one map for a function and its helpers (``inplace``).
    shared: dict[str, str]
    # What was read from outside, checked again before each use (``parse.Assumption``).
    assumed: list[parse.Assumption]
    # The names this body assigns somewhere (a read before the assignment is unbound).
    locals: set[str]
    # The caller's state, when this one lowers an inlined helper or local function.
    parent: LoweringState | None = None
    # For a nested def or lambda: the state of the function it was defined in, whose
    # variables it reads (``lookup``).
    enclosing: LoweringState | None = None
    # Each bound name's value on the current path: an ir.Var, an ir.Const, a Tup, a
    # Rec, a LocalFunction or a Static (see the module docstring).
    env: dict[str, Any] = field(default_factory=dict)
    # The statements of the block being lowered.
    body: list = field(default_factory=list)
    # The current path has returned (``RETURN`` in ``env`` holds the value).
    terminated: bool = False
    # Local names unbound on the current path, and why (for the error).
    undefined: dict[str, str] = field(default_factory=dict)
    # Parameter -> structure of a tuple/list/dict argument (``lower.lower``'s
    # ``structures``); the top-level function's only.
    structures: dict = field(default_factory=dict)
    # The parameters' names, once bound (a helper must not change its caller's array).
    arguments: set[str] = field(default_factory=set)
    # The arrays the enclosing ``for`` loops iterate over (``inplace``).
    iterating: list[ir.Var] = field(default_factory=list)
    # The loops being lowered, outermost first (``inplace.read_later``).
    loops_open: list = field(default_factory=list)

    @classmethod
    def for_function(cls, src: Source) -> LoweringState:
        """The state for lowering the function the user gave."""
        return cls(src, ir.Namer(_names(src)), set(), [src.fn], {}, [],
                   set(assigned_names(src.tree.body)))

    @classmethod
    def for_helper(cls, src: Source, parent: LoweringState) -> LoweringState:
        """The state for a helper called from ``parent``'s body, to be inlined: one name
        space with its caller."""
        for name in _names(src):
            if parent.namer.is_taken(name):  # perhaps a temporary of the caller's
                parent.versioned.add(name)  # (t1): this helper's t1 gets a version
            parent.namer.reserve(name)
        return cls(src, parent.namer, parent.versioned, [*parent.inlining, src.fn],
                   parent.shared, parent.assumed, set(assigned_names(src.tree.body)),
                   parent=parent)

    # -- what every part does with the state -------------------------------------
    def unsupported(self, node: gast.AST, what: str, hint: str | None = None
                    ) -> UnsupportedSyntax:
        """The located error for ``node`` (raised by the caller)."""
        return UnsupportedSyntax(what, self.src.loc(node), hint)

    def lookup(self, name: str) -> Any:
        """A local of this function or, in a nested def, of the enclosing ones."""
        if name in self.env:
            return self.env[name]
        if name not in self.locals and self.enclosing is not None:
            return self.enclosing.lookup(name)
        return None

    def emit(self, target: ir.Var, op: Any, args: Any, node: gast.AST, kwargs: Any = (),
             seq: bool = False) -> ir.Var:
        """Append ``target = op(*args, **kwargs)``, located at ``node``, to ``body``."""
        self.body.append(ir.Stmt(target, op, tuple(args), self.src.loc(node), tuple(kwargs),
                                 seq))
        return target

    def temp(self) -> ir.Var:
        """A fresh compiler temporary (``t1``)."""
        return ir.Var(self.namer.temp(), "temp")

    def result(self, into: str | None) -> ir.Var:
        """Where an expression's value goes: the name assigned, or a temporary."""
        if into is None:
            return self.temp()
        return self.new_version(into)

    def new_version(self, name: str) -> ir.Var:
        """The next SSA version of a user name: ``x``, then ``x_1``, ``x_2``..."""
        var = ir.Var(self.namer.fresh(name) if name in self.versioned else name)
        self.versioned.add(name)
        self.env[name] = var
        return var


def _names(src: Source) -> set[str]:
    return {n.id for n in gast.walk(src.tree) if isinstance(n, gast.Name)}


class Core(Protocol):
    """What a part may ask of the lowering core (``lower.Lowerer``): lower a piece of
    syntax of the body it lowers, or make the core that lowers a helper's body."""

    state: LoweringState

    def expr(self, node: gast.expr, into: str | None = None) -> Any: ...

    def value(self, node: gast.expr) -> ir.Operand: ...

    def pack(self, operand: Any, node: gast.AST) -> ir.Operand: ...

    def stmt(self, node: gast.stmt) -> None: ...

    def block(self, stmts: list) -> list: ...

    def child(self, fn: types.FunctionType) -> Core: ...

    def nested(self, fn: LocalFunction) -> Core: ...
