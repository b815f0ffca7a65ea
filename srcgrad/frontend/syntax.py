"""What a piece of syntax binds, and syntax made while lowering (frontend stage).

Pure functions over gast trees, shared by the lowering parts; none of them reads
or changes a ``state.LoweringState``. Nodes made here (``assign_to``) carry the
location of the node they stand for, so that errors and generated code quote
the user's line.
"""

from __future__ import annotations

import gast

RETURN = "%return"  # pseudo-name under which a branch records its return value


def assigned_names(stmts: list) -> list[str]:
    """Names a block (re)binds, in order of first appearance: assignment targets,
    loop targets, and arrays written through an index."""
    seen: dict[str, None] = {}
    for node in stmts:
        for n in gast.walk(node):
            targets = []
            if isinstance(n, gast.Assign):
                targets = n.targets
            elif isinstance(n, (gast.AugAssign, gast.AnnAssign, gast.For)):
                targets = [n.target]
            elif appended_list(n) is not None:  # xs.append(v) makes a new version of xs
                targets = [appended_list(n)]
            for t in targets:
                for name in target_names(t):
                    seen.setdefault(name, None)
    return list(seen)


def appended_list(node: gast.AST) -> gast.Name | None:
    """``xs`` for a statement ``xs.append(v)``."""
    if isinstance(node, gast.Expr) and isinstance(node.value, gast.Call):
        func = node.value.func
        if isinstance(func, gast.Attribute) and func.attr == "append" and \
                isinstance(func.value, gast.Name) and len(node.value.args) == 1:
            return func.value
    return None


def target_names(t: gast.AST) -> list[str]:
    """The names an assignment target binds (for ``x[i] = v``, the array ``x``)."""
    if isinstance(t, gast.Name):
        return [t.id]
    if isinstance(t, (gast.Tuple, gast.List)):
        return [n for e in t.elts for n in target_names(e)]
    if isinstance(t, gast.Starred):
        return target_names(t.value)
    while isinstance(t, gast.Subscript):
        t = t.value
    return [t.id] if isinstance(t, gast.Name) else []


def load_name(name: str) -> gast.Name:
    return gast.Name(name, gast.Load(), None, None)


def assign_to(name: str, value: gast.expr, like: gast.AST) -> gast.Assign:
    """``name = value``, located at ``like``."""
    target = gast.copy_location(gast.Name(name, gast.Store(), None, None), like)
    return gast.copy_location(gast.Assign([target], gast.copy_location(value, like), None),
                              like)


def describe(node: gast.AST) -> str:
    """How an error names a kind of syntax ("a for loop")."""
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
