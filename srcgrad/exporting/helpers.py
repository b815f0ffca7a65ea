"""The run-time helpers an exported derivative calls, copied in as source.

Contract: ``copy(used, taken)`` takes the helpers that generated code reads (module-level
name -> object of ``srcgrad.runtime``) and the module-level names the exported module
already gives to other objects, and returns a ``Copied``: the source of each helper
(``inspect.getsource``, comments and docstrings kept), of every helper, class and
module-level constant of ``srcgrad.runtime`` they read in turn (transitively), and the
modules they import (name -> module, for the header to import). Nothing of srcgrad is
imported by the result. Names are kept where free; a name taken by another object
becomes ``name_1``..., and ``decomp._read`` (a helper reached through one of the
package's modules) becomes a plain name: both are rewritten at the exact positions of
the references (``ast``), so the rest of the text is byte for byte the helper's own.
Definitions come dependencies first (a constant after what it is computed from).
"""

from __future__ import annotations

import ast
import builtins
import inspect
import symtable
import sys
import textwrap
import types
from dataclasses import dataclass, field

from .. import runtime
from ..errors import InternalError


@dataclass
class Copied:
    blocks: list[str] = field(default_factory=list)  # definitions, dependencies first
    modules: dict[str, types.ModuleType] = field(default_factory=dict)  # name -> module
    names: dict[int, str] = field(default_factory=dict)  # id(object) -> exported name


def is_runtime(obj: object) -> bool:
    """Whether ``obj`` is a function or class of ``srcgrad.runtime`` (or a module of it)."""
    module = obj.__name__ if isinstance(obj, types.ModuleType) else \
        getattr(obj, "__module__", None)
    return isinstance(module, str) and (module == runtime.__name__ or
                                        module.startswith(runtime.__name__ + "."))


def copy(used: dict[str, object], taken: dict[str, object]) -> Copied:
    """See the module docstring; ``used`` keeps the names generated code spells;
    ``taken``: the exported module's other names, each with its object."""
    c = _Copier({**vars(builtins), **taken})
    for alias, obj in sorted(used.items()):
        if id(obj) in c.out.names:  # one helper under two names
            c.out.blocks.append(f"{alias} = {c.out.names[id(obj)]}")
        c.objects[alias] = obj
        c.out.names.setdefault(id(obj), alias)
    for alias, obj in sorted(used.items()):
        if c.out.names[id(obj)] == alias:
            c.define(obj, alias)
    return c.out


class _Copier:
    def __init__(self, taken: dict[str, object]):
        self.out = Copied()
        self.objects: dict[str, object] = dict(taken)  # exported name -> object
        self.emitted: set[int] = set()

    def name_for(self, obj: object, wanted: str) -> str:
        """The exported name of ``obj``: ``wanted`` unless another object has it."""
        if id(obj) in self.out.names:
            return self.out.names[id(obj)]
        name, k = wanted, 0
        while self.objects.get(name, obj) is not obj:
            k += 1
            name = f"{wanted}_{k}"
        self.objects[name] = obj
        self.out.names[id(obj)] = name
        return name

    def define(self, obj: object, alias: str) -> None:
        """Copy ``obj`` (a runtime function or class) under ``alias``."""
        if id(obj) in self.emitted:
            return
        self.emitted.add(id(obj))
        module = sys.modules[obj.__module__]
        source = textwrap.dedent(inspect.getsource(obj))  # type: ignore[arg-type]
        own = obj.__name__  # type: ignore[attr-defined]
        self.out.blocks.append(self.rewrite(source, module, own, alias))

    def constant(self, module: types.ModuleType, name: str) -> str:
        """Copy the module-level assignment of ``name`` in ``module``; its exported name."""
        value = vars(module)[name]
        if id(value) in self.out.names:
            return self.out.names[id(value)]
        exported = self.name_for(value, name)
        tree = ast.parse(inspect.getsource(module))
        for node in tree.body:
            target = node.targets[0] if isinstance(node, ast.Assign) and \
                len(node.targets) == 1 else getattr(node, "target", None)
            if isinstance(target, ast.Name) and target.id == name and \
                    isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
                text = _assignment(inspect.getsource(module), node, name, exported)
                self.out.blocks.append(self.rewrite(text, module, exported, exported))
                return exported
        raise InternalError(f"export: {module.__name__}.{name} is not assigned at its top "
                            "level; cannot copy it")

    def rewrite(self, source: str, module: types.ModuleType, own: str, exported: str) -> str:
        """``source`` with each global it reads resolved (copied or imported) and renamed
        where its exported name differs; ``own`` (the definition's name) becomes
        ``exported``."""
        free, local = _globals(source, own)
        tree = ast.parse(source)
        edits: list[tuple[int, int, int, int, str]] = []  # (line, col, end line, end col, text)
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and \
                    node.value.id in free and \
                    isinstance(vars(module).get(node.value.id), types.ModuleType) and \
                    is_runtime(vars(module)[node.value.id]):
                target = getattr(vars(module)[node.value.id], node.attr)
                new = self.resolve(target, node.attr, module)
                edits.append((node.lineno, node.col_offset, node.end_lineno or node.lineno,
                              node.end_col_offset or 0, new))
        inside = {(e[0], e[1]) for e in edits}
        for node in ast.walk(tree):
            if isinstance(node, ast.Name) and node.id in free and \
                    (node.lineno, node.col_offset) not in inside:
                new = self.global_name(node.id, module, own, exported)
                if new != node.id:
                    if node.id in local:
                        raise InternalError(f"export: {module.__name__}.{own} has a local "
                                            f"{node.id} and reads a global of that name")
                    edits.append((node.lineno, node.col_offset, node.lineno,
                                  node.end_col_offset or 0, new))
        if exported != own:
            edits.append(_definition_name(source, tree, own, exported))
        return _apply(source, edits).rstrip("\n")

    def global_name(self, name: str, module: types.ModuleType, own: str,
                    exported: str) -> str:
        """The exported name under which the copy reads ``module``'s global ``name``."""
        if name == own:
            return exported  # recursion
        if name not in vars(module):
            if hasattr(builtins, name):
                return name
            raise InternalError(f"export: {module.__name__} reads {name}, which it does not "
                                "define")
        return self.resolve(vars(module)[name], name, module)

    def resolve(self, obj: object, name: str, module: types.ModuleType) -> str:
        if isinstance(obj, types.ModuleType):
            if is_runtime(obj):
                raise InternalError(f"export: {module.__name__} reads the module {name} "
                                    "other than through its attributes")
            exported = self.name_for(obj, name)
            self.out.modules[exported] = obj
            return exported
        if is_runtime(obj) and (inspect.isfunction(obj) or inspect.isclass(obj)):
            exported = self.name_for(obj, obj.__name__)
            self.define(obj, exported)
            return exported
        home = _home_module(obj, name, module)
        return self.constant(home, name)


def _home_module(obj: object, name: str, module: types.ModuleType) -> types.ModuleType:
    """The runtime module that assigns ``obj`` at its top level under ``name``."""
    for m in [module, *(v for k, v in sorted(sys.modules.items()) if is_runtime(v))]:
        if m is not None and vars(m).get(name) is obj and _assigns(m, name):
            return m
    raise InternalError(f"export: {module.__name__}.{name} is a {type(obj).__name__} "
                        "assigned nowhere srcgrad can copy it from")


def _assigns(module: types.ModuleType, name: str) -> bool:
    for node in ast.parse(inspect.getsource(module)).body:
        targets = node.targets if isinstance(node, ast.Assign) else \
            [node.target] if isinstance(node, ast.AnnAssign) else []
        if any(isinstance(t, ast.Name) and t.id == name for t in targets):
            return True
    return False


def _globals(source: str, own: str) -> tuple[set[str], set[str]]:
    """(names the definition reads from its module, names local in any of its scopes)."""
    top = symtable.symtable(source, "<helper>", "exec")
    free = {s.get_name() for s in top.get_symbols() if s.is_referenced()} - {own}
    local: set[str] = set()
    stack = list(top.get_children())
    while stack:
        table = stack.pop()
        stack.extend(table.get_children())
        for s in table.get_symbols():
            if s.is_global() and s.is_referenced():
                free.add(s.get_name())
            elif s.is_local() or s.is_parameter():
                local.add(s.get_name())
    return free, local


def _assignment(module_source: str, node: ast.Assign | ast.AnnAssign, name: str,
                exported: str) -> str:
    """``exported = ...`` as the module writes it (an annotation left out)."""
    if isinstance(node, ast.Assign):
        return exported + (ast.get_source_segment(module_source, node) or "")[len(name):]
    value = ast.get_source_segment(module_source, node.value) or ""  # type: ignore[arg-type]
    return f"{exported} = {value}" if "\n" not in value else f"{exported} = ({value})"


def _definition_name(source: str, tree: ast.Module, own: str, exported: str
                     ) -> tuple[int, int, int, int, str]:
    """The edit renaming the ``def own``/``class own`` that ``source`` holds."""
    node = tree.body[0]
    if not isinstance(node, (ast.FunctionDef, ast.ClassDef)) or node.name != own:
        raise InternalError(f"export: expected the definition of {own}")
    line = source.split("\n")[node.lineno - 1].encode()
    keyword = b"class " if isinstance(node, ast.ClassDef) else b"def "
    col = line.index(keyword + own.encode()) + len(keyword)
    return node.lineno, col, node.lineno, col + len(own.encode()), exported


def _apply(source: str, edits: list[tuple[int, int, int, int, str]]) -> str:
    """Replace each (line, col, end line, end col) span (1-based lines, UTF-8 byte
    columns, as ``ast`` gives them) by its text, last first."""
    lines = [line.encode() for line in source.split("\n")]
    for line, col, end_line, end_col, text in sorted(edits, reverse=True):
        start, end = lines[line - 1], lines[end_line - 1]
        merged = start[:col] + text.encode() + end[end_col:]
        lines[line - 1:end_line] = [merged]
    return "\n".join(b.decode() for b in lines)
