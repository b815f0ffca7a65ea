"""Source capture and parsing: a Python function object -> a gast FunctionDef.

Contract: ``capture(f)`` returns a ``Source`` whose ``tree`` is the function's
gast ``FunctionDef`` (decorators dropped) and whose ``loc(node)`` maps any
node of that tree back to the file, line and column of the user's source, so
every later stage can point at the user's code. The function's globals and
closure cells are read as they are at transform time; what the lowering took
from them is recorded as ``Assumption``s, which ``build`` checks on every call
(a name rebound since, a global number changed, means a rebuild), so that a
derivative never computes with a value ``f`` would no longer read.

An ``Assumption``'s path goes through attributes (``np.linalg``) and constant
subscripts (``Key``: ``HP["lr"]``, ``ACTS["tanh"]``), from a name read in ``f`` or
from an object bound while lowering (``root``: a bound method's ``self``, held by
a weak reference where it can be, so that a cache of derivatives does not keep it
alive). ``capture`` also takes a bound method (``Source.bound`` then binds its
first parameter to the instance) and a lambda (found in its source line by line
and parameter names; two lambdas there that these do not tell apart are a
located ``UsageError``).
"""

from __future__ import annotations

import builtins
import inspect
import linecache
import numbers
import textwrap
import types
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field

import gast

from ..errors import Loc, SourceUnavailable, UnsupportedSyntax, UsageError


@dataclass
class Source:
    fn: types.FunctionType
    filename: str
    line_offset: int  # file line of the snippet's first line, minus one
    col_offset: int  # indentation removed by dedent
    tree: gast.FunctionDef
    globals: dict
    closure: dict
    # Parameters bound before the call (a bound method's ``self``): name -> object.
    bound: dict = field(default_factory=dict)

    def loc(self, node: gast.AST | None) -> Loc:
        line = getattr(node, "lineno", None) or getattr(self.tree, "lineno", None) or 1
        # (1: the tree is a module, for a lambda not found in its line)
        col = getattr(node, "col_offset", None) or 0
        fline = line + self.line_offset
        text = linecache.getline(self.filename, fline)
        return Loc(self.filename, fline, col + self.col_offset, text)


def capture(fn: object) -> Source:
    """Read, dedent and parse the source of ``fn`` (a function, a lambda or a bound
    method)."""
    if isinstance(fn, types.MethodType) and isinstance(fn.__func__, types.FunctionType):
        src = capture(fn.__func__)
        params = src.tree.args.args
        if not params:
            raise UsageError(f"{fn.__qualname__} is bound to an object but takes no "
                             "parameter for it", src.loc(src.tree))
        src.bound = {params[0].id: fn.__self__}
        return src
    if not isinstance(fn, types.FunctionType):
        raise SourceUnavailable(
            f"srcgrad differentiates Python functions defined with def; got {type(fn).__name__} "
            f"{getattr(fn, '__name__', fn)!r}"
        )
    code = fn.__code__
    where = f"{code.co_filename}:{code.co_firstlineno}"
    if fn.__name__ == "<lambda>":
        return _lambda_source(fn)
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
    return Source(fn, code.co_filename, first - 1, indent, tree, fn.__globals__,
                  _closure(fn))


def _closure(fn: types.FunctionType) -> dict:
    closure = {}
    if fn.__closure__:
        for name, cell in zip(fn.__code__.co_freevars, fn.__closure__):
            try:
                closure[name] = cell.cell_contents
            except ValueError:  # an empty cell: the name is not bound yet
                pass
    return closure


def _lambda_source(fn: types.FunctionType) -> Source:
    """A lambda's ``Source``: its file is parsed whole (a lambda may span lines of a
    statement that begins earlier), and the lambda found in it (``_lambda_def``)."""
    code = fn.__code__
    lines = linecache.getlines(code.co_filename, fn.__globals__)
    try:
        module = gast.parse("".join(lines))
    except SyntaxError as exc:
        raise SourceUnavailable(f"{code.co_filename}:{code.co_firstlineno}: the source of "
                                f"this lambda is not available: {exc}") from None
    where = Source(fn, code.co_filename, 0, 0, module, {}, {})
    tree = _lambda_def(fn, module, where, code.co_firstlineno)
    return Source(fn, code.co_filename, 0, 0, tree, fn.__globals__, _closure(fn))


def _lambda_def(fn: types.FunctionType, module: gast.Module, where: Source,
                line: int) -> gast.FunctionDef:
    """The lambda ``fn`` is, found in its source (by its line and parameter names), as a
    def named after the name it is assigned to (``loss = lambda w: ...``)."""
    code = fn.__code__
    params = list(code.co_varnames[: code.co_argcount + code.co_kwonlyargcount])
    found = [(n, t) for n, t in _lambdas(module, None)
             if n.lineno == line and [a.id for a in (*n.args.posonlyargs, *n.args.args,
                                                     *n.args.kwonlyargs)] == params]
    if len(found) != 1:
        node = found[0][0] if found else module
        raise UsageError("cannot tell which lambda on this line to differentiate"
                         if found else "the lambda to differentiate is not found in its "
                         "source line", where.loc(node),
                         "Define the function with def, or put each lambda on a line "
                         "of its own.")
    node, name = found[0]
    name = name if name and name.isidentifier() else "lambda_fn"
    return gast.copy_location(gast.FunctionDef(
        name, node.args, [gast.copy_location(gast.Return(node.body), node.body)], [],
        None, None), node)


def _lambdas(node: gast.AST, name: str | None) -> list[tuple[gast.Lambda, str | None]]:
    """Every lambda under ``node``, with the name it is assigned to (if it is)."""
    if isinstance(node, gast.Lambda):
        return [(node, name), *_lambdas(node.body, None)]
    if isinstance(node, gast.Assign) and len(node.targets) == 1 and \
            isinstance(node.targets[0], gast.Name):
        return _lambdas(node.value, node.targets[0].id)
    return [found for child in gast.iter_child_nodes(node) for found in _lambdas(child, None)]


def _indent_removed(text: str, dedented: str) -> int:
    for orig, new in zip(text.splitlines(), dedented.splitlines()):
        if new.strip():
            return len(orig) - len(new)
    return 0


_MISSING = object()
# Modules whose attributes nobody rebinds: a path through one is checked up to the
# module (``np.sin`` is assumed to stay NumPy's sine once ``np`` is NumPy).
_LIBRARIES = frozenset({"numpy", "math", "cmath", "scipy", "builtins", "srcgrad"})


@dataclass(frozen=True)
class Key:
    """A constant subscript in an ``Assumption``'s path (``HP["lr"]``: ``Key("lr")``)."""

    key: object


@dataclass(frozen=True)
class Method:
    """What an assumption keeps of a bound method it found: the function and the
    identity of its object (not the object itself: a cache must not keep it alive)."""

    func: object
    self_id: int


@dataclass(frozen=True)
class Size:
    """What an assumption keeps of a sequence or dict the lowering went through entry by
    entry (``for layer in self.layers``, ``*SIZES``, ``**OPTS``): its length, or keys."""

    size: object


class _Each:
    def __repr__(self) -> str:
        return "EACH"


# The last step of a path to a sequence or dict whose entries were all read: its Size.
EACH = _Each()


def kept(obj: object) -> object:
    """What an ``Assumption`` keeps of the object it found (see ``Method``)."""
    if isinstance(obj, types.MethodType):
        return Method(obj.__func__, id(obj.__self__))
    return obj


def holder(obj: object):
    """A function returning ``obj`` (None once it is gone): a weak reference if it can
    be one, else ``obj`` itself held."""
    try:
        return weakref.ref(obj)
    except TypeError:
        return lambda: obj


@dataclass
class Assumption:
    """A name from outside the function that the lowering resolved (a global, a
    closure cell, a builtin; with ``dotted`` attributes and ``Key`` subscripts), or a
    path from an object bound while lowering (``root``), and the object it found.
    ``holds()`` reads the path again as ``fn`` would now."""

    fn: types.FunctionType  # whose closure and globals the name is read in
    dotted: tuple  # names (attributes) and Keys (constant subscripts)
    value: object
    cell: types.CellType | None = field(default=None, repr=False)  # the closure cell, if it is one
    # The object the path starts at, when it is not a name of ``fn`` (``holder``).
    root: Callable[[], object] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.root is None and self.fn.__closure__ and \
                self.dotted[0] in self.fn.__code__.co_freevars:
            self.cell = self.fn.__closure__[self.fn.__code__.co_freevars.index(self.dotted[0])]

    def current(self) -> object:
        head = self.dotted[0]
        if self.root is not None:
            obj = self.root()
            if obj is None:
                return _MISSING
        elif self.cell is not None:
            try:
                obj = self.cell.cell_contents
            except ValueError:  # the cell was emptied (del)
                return _MISSING
        else:
            obj = self.fn.__globals__.get(head, _MISSING)
            if obj is _MISSING:
                obj = vars(builtins).get(head, _MISSING)
        for step in self.dotted[1:]:
            if step is EACH:
                obj = Size(tuple(obj) if isinstance(obj, dict) else len(obj))  # type: ignore
            elif isinstance(step, Key):
                try:
                    obj = obj[step.key]  # type: ignore[index]
                except Exception:  # noqa: BLE001 - whatever it raises, it no longer holds
                    return _MISSING
            else:
                obj = getattr(obj, step, _MISSING)
        return kept(obj)

    def holds(self) -> bool:
        return _same(self.current(), self.value)


def _same(now: object, then: object) -> bool:
    """The same object, or an equal immutable number or string (so rebinding a global
    to an equal value does not rebuild; NaN is never equal and rebuilds)."""
    if now is then or (isinstance(then, (Method, Size)) and now == then):
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
    return Assumption(fn, tuple(dotted), kept(found[-1]))

