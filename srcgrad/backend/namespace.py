"""The module-level names generated code reads: what ``emit`` puts in the namespace the
code runs in, and the syntax that reads each (a constant, a dotted reference).

``Namespace.values`` ends up as ``Emitted.namespace``: builtins, modules and helpers under
the names the code spells (``name_1``... if a local or another object has the name), and
constants with no name of their own as ``const0``...
"""

from __future__ import annotations

import ast
import math

from .. import ir


def load(name: str) -> ast.Name:
    return ast.Name(name, ast.Load())


class Namespace:
    """``fn_name``: the emitted function's name; ``locals``: its variables' names (a set
    the emitter keeps adding to), which no module-level name may take."""

    def __init__(self, fn_name: str, locals: set[str]):
        self.fn_name = fn_name
        self.locals = locals
        self.values: dict[str, object] = {}
        self.aliases: dict[tuple[str, int], str] = {}

    def const(self, c: ir.Const) -> ast.expr:
        if c.name is not None:
            return self.reference(c.name, c.root)
        return self.literal(c.value)

    def literal(self, value: object) -> ast.expr:
        if isinstance(value, tuple):
            return ast.Tuple([self.literal(v) for v in value], ast.Load())
        if isinstance(value, slice):
            return ast.Slice(*(None if p is None else self.literal(p)
                               for p in (value.start, value.stop, value.step)))
        if isinstance(value, float) and not math.isfinite(value):
            return ast.Call(self.reference("float", float), [ast.Constant(repr(value))], [])
        if isinstance(value, (int, float, complex, str, bool, type(None))) or value is Ellipsis:
            return ast.Constant(value)
        k = len(self.values)
        while self.taken(f"const{k}"):
            k += 1
        self.values[f"const{k}"] = value
        return load(f"const{k}")

    def reference(self, dotted: str, root: object) -> ast.expr:
        parts = dotted.split(".")
        node: ast.expr = load(self.bind(parts[0], root))
        for attr in parts[1:]:
            node = ast.Attribute(node, attr, ast.Load())
        return node

    def bind(self, name: str, obj: object) -> str:
        """The module-level name under which generated code reaches ``obj``: ``name``
        itself unless a local or another object has it (then ``name_1``...)."""
        key = (name, id(obj))
        if key not in self.aliases:
            alias, k = name, 0
            while self.values.get(alias, obj) is not obj or self.taken(alias):
                k += 1
                alias = f"{name}_{k}"
            self.values[alias] = obj
            self.aliases[key] = alias
        return self.aliases[key]

    def taken(self, name: str) -> bool:
        """A module-level name the generated code cannot use for another object: a
        variable of the function, or the function's own name (a user function called
        ``transpose`` has a gradient ``transpose_grad``, the name of a helper)."""
        return name in self.locals or name == self.fn_name
