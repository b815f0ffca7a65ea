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
  ``NTup``, ``Rec``, ``Obj``, ``LocalFunction``); a name not in it is unbound here (``undefined``
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
    """A dict argument's entries (key -> operand), known while lowering."""


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
    seeing the enclosing function's variables as they are at the call."""

    def __init__(self, tree: gast.FunctionDef, outer: LoweringState, defaults: list):
        self.tree, self.outer, self.defaults = tree, outer, defaults

    @property
    def params(self) -> list[str]:
        return [a.id for a in self.tree.args.args]

    def bind(self, args: list, kwargs: dict, where: Loc) -> dict:
        names = self.params
        if len(args) > len(names) or set(kwargs) - set(names):
            raise UnsupportedSyntax(f"call of {self.tree.name}: wrong arguments", where)
        bound = dict(zip(names, args))
        defaults = dict(zip(names[len(names) - len(self.defaults):], self.defaults))
        for name in names[len(args):]:
            if name in kwargs:
                bound[name] = kwargs[name]
            elif name in defaults:
                bound[name] = defaults[name]
            else:
                raise UnsupportedSyntax(f"call of {self.tree.name}: missing {name!r}", where)
        return bound


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
    # Rec or a LocalFunction (see the module docstring).
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
