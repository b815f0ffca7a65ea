"""Source capture and parsing: a Python function object -> a gast FunctionDef.

Contract: ``capture(f)`` returns a ``Source`` whose ``tree`` is the function's
gast ``FunctionDef`` (decorators dropped) and whose ``loc(node)`` maps any
node of that tree back to the file, line and column of the user's source, so
every later stage can point at the user's code. The function's globals and
closure cells are captured as they are at transform time.
"""

from __future__ import annotations

import inspect
import linecache
import textwrap
import types
from dataclasses import dataclass

import gast

from .errors import Loc, SourceUnavailable, UnsupportedSyntax


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
