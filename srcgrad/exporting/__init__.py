"""Exported derivatives: the generated code as a standalone module, without srcgrad.

Contract: ``export(f, wrt, mode, example=... or shapes=..., path=...)`` returns (and
writes to ``path``) the text of a Python module defining the derivative that
``derivative_source`` shows for the same arguments (``f_grad``: ``f``'s value and the
adjoint of each ``wrt`` argument; with ``mode="forward"``, ``f_jvp``: the value and
its tangent). The module imports NumPy, the standard library modules the code uses,
SciPy where ``f`` calls it, and the user's modules whose globals ``f`` reads
(``from mymodule import W``); the run-time helpers the code calls are copied in
from ``srcgrad.runtime`` (``helpers.py``). It never imports srcgrad: that is checked
on the text before it is returned (an ``InternalError`` otherwise).

With ``example`` (arguments as a call passes them) or ``shapes`` (``{"x": (3, 4),
"s": None}``: float64 arrays of those shapes, None a float scalar), the code is the
one a call with such arguments runs: specialized on the array shapes, as calls are
(``build``'s ``shapes``), or, for structured arguments (dataclasses, NamedTuples,
dicts, ``self``), taking their leaves as parameters of their own (a comment says how
to call it). Without either, parameters annotated ``float``/``int`` are scalars and
the others arrays of any shape.

Refused with a located ``NotExportable``: a value the code reads that has no
importable home and no literal (an object in a closure cell, a global of a module
that cannot be imported by name, such as ``__main__`` without a file).
"""

from __future__ import annotations

import ast
import inspect
import os
import textwrap
from collections.abc import Callable, Mapping

import numpy as np

from .. import backend, checks, pytrees, shown
from ..build import _entry, _kind, _params, array_key
from ..errors import InternalError, Loc, SrcgradError, UsageError
from . import helpers

__all__ = ["NotExportable", "export", "parse_shapes", "example_from_shapes", "specialized",
           "module_text"]

_BANNER = "# ---- run-time helpers, copied from srcgrad.runtime " + "-" * 25


class NotExportable(SrcgradError):
    """The derivative reads a value the exported module cannot import or define."""


def export(f: Callable, wrt=0, mode: str = "reverse", example: tuple | None = None,
           shapes: Mapping[str, tuple[int, ...] | None] | str | None = None,
           path: str | os.PathLike | None = None, optimized: bool = True) -> str:
    """The exported module's text (see the module docstring); written to ``path`` if
    given."""
    if example is not None and shapes is not None:
        raise UsageError("export takes example or shapes, not both",
                         hint="shapes=... stands for float64 arrays of those shapes; "
                         "example=(...) for arguments of any types.")
    if example is not None and not isinstance(example, tuple):
        raise UsageError(f"example must be a tuple of arguments, not {type(example).__name__}",
                         hint="Write example=(x,) for one argument.")
    if shapes is not None:
        example = example_from_shapes(f, parse_shapes(shapes) if isinstance(shapes, str)
                                      else dict(shapes))
    text = module_text(specialized(f, wrt, mode, optimized, example), mode,
                       _array_shapes(f, wrt, mode, example))
    if path is not None:
        try:
            with open(path, "w") as fh:
                fh.write(text)
        except OSError as exc:
            raise UsageError(f"cannot write {os.fspath(path)}: {exc.strerror or exc}",
                             hint="Give a path in a folder that exists and you can write "
                             "to.") from None
    return text


def parse_shapes(text: str) -> dict[str, tuple[int, ...] | None]:
    """``"x=3x4,y=4,s="`` -> ``{"x": (3, 4), "y": (4,), "s": None}`` (None: a scalar)."""
    out: dict[str, tuple[int, ...] | None] = {}
    for item in filter(None, (t.strip() for t in text.split(","))):
        name, eq, dims = (p.strip() for p in item.partition("="))
        parts = dims.lower().split("x") if dims else []
        if not eq or not name.isidentifier() or \
                not all(p.strip().isdigit() for p in parts):
            raise UsageError(f"shapes: cannot read {item!r}: write NAME=3x4 for a 3 by 4 "
                             "array, NAME=4 for a vector, NAME= for a scalar",
                             hint="Example: x=3x4,y=4,s= (--shapes on the command line).")
        if name in out:
            raise UsageError(f"shapes: {name} is given twice")
        out[name] = tuple(int(p) for p in parts) if parts else None
    return out


def example_from_shapes(f: Callable, shapes: Mapping[str, tuple[int, ...] | None]) -> tuple:
    """Arguments for ``f``: zero float64 arrays of the shapes given, 0.0 for scalars,
    the parameter's default where it has one and is not given."""
    inner = shown.resolve(f, 0, "reverse", 1)[0] if \
        len(getattr(f, "__srcgrad_derivative__", ())) == 4 else f
    params = _params(inner)
    unknown = sorted(set(shapes) - set(params))
    if unknown:
        raise UsageError(f"shapes: {inner.__name__} has no parameter {', '.join(unknown)} "
                         f"(its parameters: {', '.join(params)})")
    signature = inspect.signature(inner).parameters
    args = []
    for p in params:
        if p in shapes:
            shape = shapes[p]
            args.append(0.0 if shape is None else np.zeros(shape))
        elif p in signature and signature[p].default is not inspect.Parameter.empty:
            args.append(signature[p].default)
        else:
            raise UsageError(f"shapes: no shape given for {p}, a parameter of "
                             f"{inner.__name__} without a default",
                             hint=f"Give every parameter: {p}=3x4 for an array, {p}= for "
                             "a scalar.")
    return tuple(args)


def specialized(f: Callable, wrt, mode: str, optimized: bool = True,
                example: tuple | None = None, backend: str = "python") -> shown.Shown:
    """The derivative a call with ``example``'s arguments runs (``shown.display`` for
    structured ones and without an example; specialized on shapes otherwise), with
    ``backend``'s code."""
    if example is None or mode not in ("reverse", "forward"):
        return shown.display(f, wrt, mode, optimized, example, backend)
    checkpoint = shown.made_with(f)[1] if mode == "reverse" else None
    inner, indices, grads_only = shown.resolve(f, wrt, mode, 1)
    params = _params(inner)
    args = shown._bound(inner, params, example)
    if any(pytrees.is_structured(a, p == "self") or pytrees.constant_argument(a)
           for p, a in zip(params, args)):
        return shown.display(f, wrt, mode, optimized, example, backend)
    transform = checks.VALUE_AND_GRAD if mode == "reverse" else checks.JVP
    checks.arguments(inner, transform, args, indices)
    shapes, dtypes = array_key(args)  # as the dispatcher specializes
    entry = _entry(inner)
    d = entry.derivative(indices, "one" if mode == "reverse" else "forward",
                         tuple(map(_kind, args)), (), shapes,
                         disabled=None if optimized else frozenset(_passes()),
                         grads_only=grads_only, complex_=checks.complex_positions(args),
                         dtypes=dtypes, backend=backend, checkpoint=checkpoint)
    return shown.Shown(d, entry.assumed)


def _array_shapes(f: Callable, wrt, mode: str, example: tuple | None
                  ) -> dict[str, tuple[tuple[int, ...], str]] | None:
    """Parameter -> (shape, dtype name) of the array arguments the code is specialized
    on, if it is
    (reverse mode only: tangent code does not depend on shapes)."""
    if example is None or mode != "reverse":
        return None
    inner = shown.resolve(f, wrt, mode, 1)[0]
    params = _params(inner)
    args = shown._bound(inner, params, example)
    if any(pytrees.is_structured(a, p == "self") or pytrees.constant_argument(a)
           for p, a in zip(params, args)):
        return None
    return {p: (a.shape, a.dtype.name) for p, a in zip(params, args)
            if isinstance(a, np.ndarray)} or None


def _with_shape_check(source: str, name: str,
                      shapes: dict[str, tuple[tuple[int, ...], str]]) -> str:
    """``source`` with a check, after the docstring, that the arrays have the shapes and
    dtypes the code was specialized on: other shapes would run code that is wrong for
    them, other dtypes code that leaves out the casts they need."""
    fn = ast.parse(source).body[0]
    assert isinstance(fn, ast.FunctionDef)
    first = fn.body[0]
    at = first.end_lineno if isinstance(first, ast.Expr) and \
        isinstance(first.value, ast.Constant) else fn.body[0].lineno - 1
    tests = [f'getattr({p}, "shape", None) != {shape!r} or '
             f'getattr({p}, "dtype", None) != {dtype!r}' for p, (shape, dtype) in shapes.items()]
    said = ", ".join(f"{p} {shape} {dtype}" for p, (shape, dtype) in shapes.items())
    check = ["    # exported for arrays of these shapes and dtypes: others need another export",
             "    if " + " or \\\n            ".join(tests) + ":",
             f'        raise ValueError("{name} was exported for arrays of shapes "',
             f'                         "{said}; export it again for others")']
    lines = source.split("\n")
    return "\n".join(lines[:at] + check + lines[at:])


def _passes() -> tuple[str, ...]:
    from .. import optimize
    return tuple(optimize.PASSES)


def module_text(s: shown.Shown, mode: str = "reverse",
                shapes: dict[str, tuple[tuple[int, ...], str]] | None = None) -> str:
    """The standalone module for the derivative ``s`` (see the module docstring);
    ``shapes``: the array shapes it is specialized on, checked when it is called."""
    d = s.derivative
    name = d.ir.name
    source = d.source if not shapes else _with_shape_check(d.source, name, shapes)
    namespace = {k: v for k, v in d.namespace.items()
                 if not k.startswith("__") and k != name}
    used = {k: v for k, v in namespace.items() if helpers.is_runtime(v)}
    others = {k: v for k, v in namespace.items() if k not in used}
    copied = helpers.copy(used, {**others, name: d.fn})
    head = backend.header(d.source, {**others, **copied.modules}, name, s.assumed)
    _check_header(d, head, others)
    note_lines = [f"# {line}".rstrip() for text in s.note for line in (
        [text] if text.startswith(" ") else textwrap.wrap(text, 86))]
    parts = [_docstring(d, mode, head, copied.blocks), "", *head,
             *([""] * 2 if head else []), *note_lines, source.rstrip("\n")]
    if copied.blocks:
        parts += ["", "", _BANNER, "", "", "\n\n\n".join(copied.blocks)]
    text = "\n".join(parts) + "\n"
    _check_standalone(text, name)
    return text


def _docstring(d, mode: str, head: list[str], blocks: list[str]) -> str:
    import srcgrad

    f = d.primal
    where = f"{os.path.basename(f.loc.file)}:{f.loc.line}" if f.loc is not None else f.name
    what = "gradient" if mode == "reverse" else "tangent (Jacobian-vector product)"
    users = sorted({line.split()[1] for line in head
                    if line.startswith("from ") and _user_module(line.split()[1])})
    scipy = any("scipy" in line for line in head) or \
        any("from scipy" in block for block in blocks)  # (helpers import it when called)
    helpers_said = ("the run-time helpers it calls are copied below." if blocks else
                    "it calls no run-time helper.")
    needs = "NumPy" + (", SciPy" if scipy else "")
    if users:
        needs += " and " + ", ".join(users)
    return (f'"""The {what} of {f.name} ({where}), exported by srcgrad {srcgrad.__version__}.\n\n'
            + textwrap.fill(f"Standalone: it needs {needs}, not srcgrad; {helpers_said} "
                            f"{d.ir.name}'s docstring says what it returns.", 80) + '"""')


def _user_module(module: str) -> bool:
    root = module.split(".")[0]
    return root not in ("numpy", "scipy", "math", "cmath", "operator", "functools",
                        "warnings", "string", "builtins")


def _check_header(d, head: list[str], namespace: dict[str, object]) -> None:
    """Raise ``NotExportable`` at the user's line for a name ``backend.header`` could not
    bind (its contract: a comment ``# name: a T srcgrad cannot print``) or bound by an
    import the exported module cannot run (from ``__main__``, from srcgrad)."""
    text = "\n".join(head)
    for line in head:
        if line.startswith("# ") and "srcgrad cannot print" in line:
            alias = line[2:].split(":")[0]
            _refuse(d, alias, f"it is a {type(namespace.get(alias)).__name__} with no module "
                    "to import it from and no literal to write it as")
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.ImportFrom) and not _importable(node.module or ""):
            for a in node.names:
                _refuse(d, a.asname or a.name, f"it is read from the module "
                        f"{node.module or '?'}, which cannot be imported by name")
        if isinstance(node, ast.Import):
            for a in node.names:
                if not _importable(a.name):
                    _refuse(d, a.asname or a.name, f"it is the module {a.name}")


def _refuse(d, alias: str, why: str) -> None:
    raise NotExportable(f"the derivative reads {alias}, and the exported module cannot "
                        f"refer to it: {why}", _reader(d, alias),
                        "Make it a module-level value of a .py file the exported module "
                        "can import, or pass it as an argument, then export again.")


def _importable(module: str) -> bool:
    return bool(module) and module != "__main__" and \
        all(p.isidentifier() for p in module.split(".")) and module.split(".")[0] != "srcgrad"


def _reader(d, alias: str) -> Loc | None:
    """The user's location of the first generated line that reads ``alias``."""
    lines = sorted(n.lineno for n in ast.walk(ast.parse(d.source))
                   if isinstance(n, ast.Name) and n.id == alias)
    for line in lines:
        if line in d.locs:
            return d.locs[line][0]
    return d.primal.loc


def _check_standalone(text: str, name: str) -> None:
    for node in ast.walk(ast.parse(text)):
        modules = [a.name for a in node.names] if isinstance(node, ast.Import) else \
            [node.module or ""] if isinstance(node, ast.ImportFrom) else []
        if any(m.split(".")[0] == "srcgrad" for m in modules):
            raise InternalError(f"export: the module for {name} imports srcgrad")
