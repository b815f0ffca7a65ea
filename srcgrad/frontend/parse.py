"""Source capture and parsing: a Python function object -> a gast FunctionDef.

Contract: ``capture(f)`` returns a ``Source`` whose ``tree`` is the function's
gast ``FunctionDef`` (decorators dropped) and whose ``loc(node)`` maps any
node of that tree back to the file, line and column of the user's source, so
every later stage can point at the user's code. The function's globals and
closure cells are read as they are at transform time; what the lowering took
from them is recorded as ``Assumption``s, which ``build`` checks on every call
(a name rebound since, a global number changed, means a rebuild), so that a
derivative never computes with a value ``f`` would no longer read.
"""

from __future__ import annotations

import builtins
import inspect
import linecache
import numbers
import textwrap
import types
from dataclasses import dataclass, field

import gast

from ..errors import Loc, SourceUnavailable, UnsupportedSyntax


@dataclass
class Source:
    fn: types.FunctionType
    filename: str
    line_offset: int  # file line of the snippet's first line, minus one
    col_offset: int  # indentation removed by dedent
    tree: gast.FunctionDef
    globals: dict
    closure: dict

    def loc(self, node: gast.AST | None) -> Loc:
        line = getattr(node, "lineno", None) or self.tree.lineno
        col = getattr(node, "col_offset", None) or 0
        fline = line + self.line_offset
        text = linecache.getline(self.filename, fline)
        return Loc(self.filename, fline, col + self.col_offset, text)


def capture(fn: object) -> Source:
    """Read, dedent and parse the source of ``fn``."""
    if not isinstance(fn, types.FunctionType):
        raise SourceUnavailable(
            f"srcgrad differentiates Python functions defined with def; got {type(fn).__name__} "
            f"{getattr(fn, '__name__', fn)!r}"
        )
    code = fn.__code__
    where = f"{code.co_filename}:{code.co_firstlineno}"
    if fn.__name__ == "<lambda>":
        text = linecache.getline(code.co_filename, code.co_firstlineno)
        loc = Loc(code.co_filename, code.co_firstlineno, max(text.find("lambda"), 0), text)
        raise UnsupportedSyntax("lambdas are not supported yet", loc,
                                "Define the function with def.")
    try:
        lines, first = inspect.getsourcelines(fn)
    except (OSError, TypeError) as exc:
        raise SourceUnavailable(
            f"the source of {fn.__qualname__} ({where}) is not available: {exc}"
        ) from None
    text = "".join(lines)
    dedented = textwrap.dedent(text)
    indent = _indent_removed(text, dedented)
    try:
        module = gast.parse(dedented)
    except SyntaxError as exc:
        raise SourceUnavailable(
            f"{where}: cannot parse the source of {fn.__name__}: {exc}") from None
    tree = module.body[0] if module.body else None
    if isinstance(tree, gast.AsyncFunctionDef):
        loc = Source(fn, code.co_filename, first - 1, indent, tree, {}, {}).loc(tree)
        raise UnsupportedSyntax("async functions are not supported", loc,
                                "Differentiate a plain def function.")
    if not isinstance(tree, gast.FunctionDef):
        raise SourceUnavailable(f"{where}: the source of {fn.__name__} is not a def statement")
    tree.decorator_list = []
    closure = {}
    if fn.__closure__:
        for name, cell in zip(code.co_freevars, fn.__closure__):
            try:
                closure[name] = cell.cell_contents
            except ValueError:  # an empty cell: the name is not bound yet
                pass
    return Source(fn, code.co_filename, first - 1, indent, tree, fn.__globals__, closure)


def _indent_removed(text: str, dedented: str) -> int:
    for orig, new in zip(text.splitlines(), dedented.splitlines()):
        if new.strip():
            return len(orig) - len(new)
    return 0


_MISSING = object()
# Modules whose attributes nobody rebinds: a path through one is checked up to the
# module (``np.sin`` is assumed to stay NumPy's sine once ``np`` is NumPy).
_LIBRARIES = frozenset({"numpy", "math", "cmath", "scipy", "builtins", "srcgrad"})


@dataclass
class Assumption:
    """A name from outside the function that the lowering resolved (a global, a
    closure cell, a builtin; with ``dotted`` attributes), and the object it found.
    ``holds()`` reads the name again as ``fn`` would now."""

    fn: types.FunctionType  # whose closure and globals the name is read in
    dotted: tuple[str, ...]
    value: object
    cell: types.CellType | None = field(default=None, repr=False)  # the closure cell, if it is one

    def __post_init__(self) -> None:
        code = self.fn.__code__
        if self.dotted[0] in code.co_freevars and self.fn.__closure__:
            self.cell = self.fn.__closure__[code.co_freevars.index(self.dotted[0])]

    def current(self) -> object:
        head = self.dotted[0]
        if self.cell is not None:
            try:
                obj = self.cell.cell_contents
            except ValueError:  # the cell was emptied (del)
                return _MISSING
        else:
            obj = self.fn.__globals__.get(head, _MISSING)
            if obj is _MISSING:
                obj = vars(builtins).get(head, _MISSING)
        for attr in self.dotted[1:]:
            obj = getattr(obj, attr, _MISSING)
        return obj

    def holds(self) -> bool:
        return _same(self.current(), self.value)


def _same(now: object, then: object) -> bool:
    """The same object, or an equal immutable number or string (so rebinding a global
    to an equal value does not rebuild; NaN is never equal and rebuilds)."""
    if now is then:
        return True
    immutable = (numbers.Number, str, bytes, type(None))
    return type(now) is type(then) and isinstance(now, immutable) and \
        not isinstance(now, types.ModuleType) and bool(now == then)


def assumption(fn: types.FunctionType, dotted: list[str], found: list[object]) -> Assumption:
    """What to check of the name ``dotted`` read in ``fn``, ``found[i]`` being the object
    at ``dotted[: i + 1]``: the whole path, or the path up to a library module."""
    for i, obj in enumerate(found):
        if isinstance(obj, types.ModuleType) and obj.__name__.split(".")[0] in _LIBRARIES:
            return Assumption(fn, tuple(dotted[: i + 1]), obj)
    return Assumption(fn, tuple(dotted), found[-1])

