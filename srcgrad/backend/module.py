"""The module around emitted code: what makes a shown derivative run on its own.

Contract: ``header(source, namespace, fn_name, assumed)`` returns the lines that go
above the ``def`` that ``emit`` produced (``source``), so that the text, pasted into a file next to
the user's module (or exec'd in a fresh namespace), defines the same function
computing the same numbers. ``namespace`` is the one ``emit`` built for the code:
it holds exactly the module-level names the code reads, each bound to its object.
For each name, by what the object is:

- a builtin under its own name: nothing (``range``, ``len``);
- a module: ``import numpy as np``, spelled as the code spells it (the user's
  alias), plus ``import pkg.sub`` for a submodule reached through it outside NumPy;
- a run-time helper: ``from srcgrad.runtime import seed, unbroadcast``, or from the
  package's module that holds it, ``from srcgrad.runtime.linalg import det_grad`` (the
  public helpers: each module's ``__all__``), one line per module, only those used,
  sorted;
- a function, class or other object with an importable home: ``from M import name``,
  M being the shortest public module path that holds it (``from numpy.linalg import
  inv``); the user's own module under the name a file next to it imports it by
  (``from hmm import W``, not ``__main__`` or the CLI's private module name);
- a global the user's code read (``assumed``: the names the lowering resolved): from
  the module whose globals it was read in;
- a value with a literal (a constant the emitter bound as ``const0``, a closure
  cell's number or array): defined by it, ``const0 = np.array([1.0, 2.0])``;
- anything else: a comment naming it, the one line that cannot run as printed.

Lines come in groups separated by a blank line, like isort's: library imports,
srcgrad's, the user's modules, then definitions. The text is deterministic.
"""

from __future__ import annotations

import ast
import builtins
import math
import os
import sys
import types
from collections.abc import Collection
from typing import TYPE_CHECKING, TypeGuard

import numpy as np

from .. import runtime

if TYPE_CHECKING:  # (the type only: the backend runs on any list of them)
    from ..frontend import Assumption

_WIDTH = 79  # import lines longer than this are wrapped


def header(source: str, namespace: dict[str, object], fn_name: str,
           assumed: Collection[Assumption] = ()) -> list[str]:
    """The lines above the emitted ``def`` (see the module docstring); empty if the code
    reads nothing from its module."""
    groups: dict[int, set[str]] = {0: set(), 1: set(), 2: set()}
    froms: dict[tuple[int, str], list[str]] = {}
    definitions: list[str] = []
    np_alias = next((a for a, o in sorted(namespace.items()) if o is np), None)
    np_name = np_alias or ("numpy" if "np" in namespace else "np")
    needs_np = False
    chains = _attribute_chains(source)
    for alias, obj in sorted(namespace.items()):
        if alias.startswith("__") or alias == fn_name:
            continue
        if getattr(builtins, alias, None) is obj:
            continue
        if isinstance(obj, types.ModuleType):
            group = _group(obj.__name__, assumed)
            groups[group].add(_import(obj.__name__, alias))
            groups[group].update(f"import {m}" for m in _submodules(obj, chains.get(alias)))
            continue
        found = _home(alias, obj, assumed)
        if found is not None:
            module, name = found
            froms.setdefault((_group(module, assumed), module), []).append(
                name if name == alias else f"{name} as {alias}")
            continue
        text = _literal(obj, np_name)
        if text is not None:
            needs_np |= np_alias is None and f"{np_name}." in text
            definitions.append(f"{alias} = {text}")
        else:
            definitions.append(f"# {alias}: a {type(obj).__name__} srcgrad cannot print; "
                               "define it here")
    if needs_np:
        groups[0].add(_import("numpy", np_name))
    for (group, module), names in froms.items():
        groups[group].add(_wrapped(f"from {module} import ", sorted(names)))
    lines: list[str] = []
    for group in (0, 1, 2):
        if groups[group]:
            # isort's order: plain imports first, then from-imports, each sorted
            ordered = sorted(groups[group], key=lambda s: (s.startswith("from "), s))
            lines += [*([""] if lines else []), *ordered]
    if definitions:
        lines += [*([""] if lines else []), *definitions]
    return lines


def _attribute_chains(source: str) -> dict[str, set[tuple[str, ...]]]:
    """Name -> the attribute paths the code reads through it (``np.linalg.inv``:
    ``np`` -> ``("linalg", "inv")``)."""
    chains: dict[str, set[tuple[str, ...]]] = {}
    for node in ast.walk(ast.parse(source)):
        path: list[str] = []
        while isinstance(node, ast.Attribute):
            path.append(node.attr)
            node = node.value
        if path and isinstance(node, ast.Name):
            chains.setdefault(node.id, set()).add(tuple(reversed(path)))
    return chains


def _submodules(module: types.ModuleType, chains) -> list[str]:
    """Submodules the code reaches through ``module`` that importing it may not load
    (NumPy loads its own)."""
    if module.__name__.split(".")[0] == "numpy":
        return []
    found = set()
    for path in chains or ():
        obj: object = module
        for attr in path:
            obj = getattr(obj, attr, None)
            if isinstance(obj, types.ModuleType) and \
                    obj.__name__.startswith(module.__name__ + "."):
                found.add(obj.__name__)
    return sorted(found)


def _import(module: str, alias: str) -> str:
    if alias == module:
        return f"import {module}"
    package, _, last = module.rpartition(".")
    if package and alias == last:
        return f"from {package} import {last}"
    return f"import {module} as {alias}"


def _wrapped(head: str, names: list[str]) -> str:
    line = head + ", ".join(names)
    if len(line) <= _WIDTH:
        return line
    out, current = [head + "("], "    "
    for name in names:
        if len(current) + len(name) + 1 > _WIDTH and current.strip():
            out.append(current.rstrip())
            current = "    "
        current += name + ", "
    out.append(current.rstrip().rstrip(","))
    return "\n".join(out) + "\n)"


def _group(module: str, assumed: Collection[Assumption]) -> int:
    """0: libraries, 1: srcgrad, 2: the user's modules (those f's names were read in)."""
    if module.split(".")[0] == "srcgrad":
        return 1
    users = {display_name(a.fn.__globals__) for a in assumed if a.cell is None}
    return 2 if module in users else 0


def display_name(module_globals: dict) -> str:
    """The name a file next to the user's module imports it by: its own name, unless it
    ran as a script (``__main__``) or was loaded under another name (``srcgrad show``
    loads FILE.py as a private module): then the file's name."""
    name = module_globals.get("__name__", "")
    path = module_globals.get("__file__") or ""
    stem = os.path.splitext(os.path.basename(path))[0]
    if stem and stem != "__init__" and stem.isidentifier() and name.rpartition(".")[2] != stem:
        return stem
    return name


def _home(alias: str, obj: object, assumed: Collection[Assumption]) -> tuple[str, str] | None:
    """(module, name) to import ``obj`` from, or None."""
    name = getattr(obj, "__name__", None)
    module = getattr(obj, "__module__", None)
    if _is_runtime(module) and isinstance(name, str) and \
            name in sys.modules[module].__all__ and getattr(sys.modules[module], name) is obj:
        return module, name
    if isinstance(name, str) and isinstance(module, str) and \
            getattr(obj, "__qualname__", name) == name:
        parts = module.split(".")
        for k in range(1, len(parts) + 1):
            path = ".".join(parts[:k])
            holder = sys.modules.get(path)
            if holder is not None and getattr(holder, name, None) is obj and \
                    not any(p.startswith("_") for p in parts[:k]):
                return display_name(vars(holder)), name
    # a global of the user's (or of a helper's) module: read under this name, else under
    # another (the emitter renames ``W`` to ``W_1`` if the code has a local ``W``)
    globals_ = [a for a in assumed if a.cell is None and
                a.fn.__globals__.get(a.dotted[0], _MISSING) is obj]
    for a in sorted(globals_, key=lambda a: a.dotted[0] != alias):
        return display_name(a.fn.__globals__), a.dotted[0]
    return None


_MISSING = object()


def _is_runtime(module: object) -> TypeGuard[str]:
    """Whether ``module`` names ``srcgrad.runtime`` or one of its modules."""
    return isinstance(module, str) and (module == runtime.__name__ or
                                        module.startswith(runtime.__name__ + "."))


def _literal(value: object, np_name: str) -> str | None:
    """Python source evaluating to ``value`` (NumPy reached as ``np_name``), or None."""
    if isinstance(value, (bool, type(None), str, bytes)):
        return repr(value)
    if isinstance(value, int):
        return repr(value)
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else f"float({repr(value)!r})"
    if isinstance(value, complex):
        return repr(value) if math.isfinite(abs(value)) else None
    if isinstance(value, (tuple, list)):
        maybe = [_literal(v, np_name) for v in value]
        items = [i for i in maybe if i is not None]
        if len(items) < len(maybe):
            return None
        if isinstance(value, list):
            return f"[{', '.join(items)}]"
        return f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"
    if isinstance(value, np.generic) and value.dtype.kind in "biufc":
        inner = _literal(value.item(), np_name)
        return None if inner is None else f"{np_name}.{type(value).__name__}({inner})"
    if isinstance(value, np.ndarray) and value.dtype.kind in "biufc":
        data = _literal(value.tolist(), np_name)
        if data is None:
            return None
        default = value.dtype in (np.float64, np.int_, np.bool_, np.complex128) and \
            value.size > 0
        dtype = "" if default else f", dtype={np_name}.{value.dtype.name}"
        return f"{np_name}.array({data}{dtype})"
    if isinstance(value, np.dtype) and value.kind in "biufc":
        return f"{np_name}.dtype({value.name!r})"
    return None
