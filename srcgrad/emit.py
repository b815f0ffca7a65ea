"""Emission: an IR Function -> Python source text and the namespace it runs in.

Contract: ``emit(fn)`` returns ``(source, namespace)`` such that executing
``source`` in ``namespace`` defines a function named ``fn.name`` computing
what ``fn`` computes. The text is deterministic (same IR, same bytes) and
meant to be read:

- compiler temporaries used once are inlined into their use, so expressions
  look like the user's; the others are renumbered ``t1, t2...`` in order;
- the adjoint of ``v`` is printed ``v_bar``;
- each block of adjoint statements is preceded by a comment quoting the
  user's line it differentiates.

``unparse`` is the only place that turns syntax trees into text.
"""

from __future__ import annotations

import ast
import math
from typing import NamedTuple

import astor

from . import ir
from .errors import Loc, SrcgradError
from .naming import Namer, adjoint_name

_BINOPS = {v: getattr(ast, k) for k, v in ir.BINARY.items()}
_UNOPS = {"neg": ast.USub, "pos": ast.UAdd, "not": ast.Not}
_CMPOPS = {v: getattr(ast, k) for k, v in ir.COMPARE.items()}


# Inline a single-use temporary only while its expression stays this small (in
# syntax nodes), so lines read like hand-written code rather than one long formula.
INLINE_LIMIT = 8


def unparse(node: ast.AST) -> str:
    """Source text of ``node``, on one line (astor's line wrapping is off)."""
    return astor.to_source(node, pretty_source="".join).rstrip("\n")


class _Emitter:
    def __init__(self, fn: ir.Function):
        self.fn = fn
        self.defs = {s.target.name: s for s in fn.body}
        self.uses: dict[str, int] = {}
        for s in fn.body:
            for u in s.uses():
                self.uses[u.name] = self.uses.get(u.name, 0) + 1
        for r in fn.returns:
            if isinstance(r, ir.Var):
                self.uses[r.name] = self.uses.get(r.name, 0) + 2  # never inline into return
        self.namespace: dict[str, object] = {}
        self.aliases: dict[tuple[str, int], str] = {}
        self._size: dict[str, int] = {}
        self.names = self._display_names()
        self.locals = set(self.names.values())

    # -- names ----------------------------------------------------------------
    def inlined(self, v: ir.Var) -> bool:
        return (v.kind == "temp" and self.uses.get(v.name) == 1 and v.name in self.defs
                and self.size(v) <= INLINE_LIMIT)

    def size(self, v: ir.Var) -> int:
        """Syntax nodes of ``v``'s defining expression with its inlined operands."""
        if v.name not in self._size:
            s = self.defs[v.name]
            self._size[v.name] = 1 + sum(
                self.size(o) if isinstance(o, ir.Var) and self.inlined(o) else 1
                for o in s.operands())
        return self._size[v.name]

    def _display_names(self) -> dict[str, str]:
        variables = [*self.fn.params, *(s.target for s in self.fn.body)]
        user = {v.name for v in variables if v.kind == "user"}
        namer = Namer(user | self._global_roots())
        names = {v: v for v in user}
        for v in variables:
            if v.kind == "temp" and not self.inlined(v):
                names[v.name] = namer.temp()
            elif v.kind == "adjoint":
                primal = names.get(v.of.name, v.of.name)
                names[v.name] = namer.fresh(adjoint_name(primal))
        return names

    def _global_roots(self) -> set[str]:
        """First components of the dotted names the code refers to (np, math, W...)."""
        dotted = [s.op.name for s in self.fn.body if isinstance(s.op, ir.Callee)]
        dotted += [o.name for s in self.fn.body for o in s.operands()
                   if isinstance(o, ir.Const) and o.name]
        return {d.split(".")[0] for d in dotted}

    def name(self, v: ir.Var) -> str:
        return self.names.get(v.name, v.name)

    # -- expressions ----------------------------------------------------------
    def operand(self, o: ir.Operand) -> ast.expr:
        if isinstance(o, ir.Var):
            if self.inlined(o):
                return self.expr(self.defs[o.name])
            return ast.Name(self.name(o), ast.Load())
        return self.const(o)

    def const(self, c: ir.Const) -> ast.expr:
        if c.name is not None:
            return self.reference(c.name, c.root)
        return self.literal(c.value)

    def literal(self, value) -> ast.expr:
        if isinstance(value, tuple):
            return ast.Tuple([self.literal(v) for v in value], ast.Load())
        if isinstance(value, float) and not math.isfinite(value):
            return ast.Call(ast.Name("float", ast.Load()), [ast.Constant(repr(value))], [])
        if isinstance(value, (int, float, complex, str, bool, type(None))):
            return ast.Constant(value)
        name = f"const{len(self.namespace)}"
        self.namespace[name] = value
        return ast.Name(name, ast.Load())

    def reference(self, dotted: str, root: object) -> ast.expr:
        parts = dotted.split(".")
        node: ast.expr = ast.Name(self.bind(parts[0], root), ast.Load())
        for attr in parts[1:]:
            node = ast.Attribute(node, attr, ast.Load())
        return node

    def bind(self, name: str, obj: object) -> str:
        """The module-level name under which generated code reaches ``obj``: ``name``
        itself unless a local or another object has it (then ``name_1``...)."""
        key = (name, id(obj))
        if key not in self.aliases:
            alias, k = name, 0
            while self.namespace.get(alias, obj) is not obj or alias in self.locals:
                k += 1
                alias = f"{name}_{k}"
            self.namespace[alias] = obj
            self.aliases[key] = alias
        return self.aliases[key]

    def expr(self, s: ir.Stmt) -> ast.expr:
        args = [self.operand(a) for a in s.args]
        op = s.op
        if isinstance(op, ir.Callee):
            func = self.reference(op.name, op.root)
            if s.seq:
                args = [ast.List(args, ast.Load())]
            keywords = [ast.keyword(k, self.operand(v)) for k, v in s.kwargs]
            return ast.Call(func, args, keywords)
        if op in _BINOPS:
            return ast.BinOp(args[0], _BINOPS[op](), args[1])
        if op in _UNOPS:
            return ast.UnaryOp(_UNOPS[op](), args[0])
        if op in _CMPOPS:
            return ast.Compare(args[0], [_CMPOPS[op]()], [args[1]])
        if op == "attr.T":
            return ast.Attribute(args[0], "T", ast.Load())
        if op == "copy":
            return args[0]
        raise SrcgradError(f"cannot emit the operation {op!r}")

    # -- statements -----------------------------------------------------------
    def lines(self) -> list[str]:
        """The source lines; fills ``self.locs`` (see ``Emitted``)."""
        fn = self.fn
        self.locs: dict[int, tuple[Loc, str]] = {}
        out = [f"def {fn.name}({', '.join(self.name(p) for p in fn.params)}):"]
        if fn.doc:
            doc = fn.doc.replace("\\", "\\\\").replace('"""', '\\"""').splitlines()
            body = "\n".join("    " + line if line else "" for line in doc)
            out.extend(f'    """{body.lstrip()}"""'.split("\n"))  # one entry per line
        last_line = None
        for s in fn.body:
            if self.inlined(s.target):
                continue
            if s.adjoint and s.loc.line != last_line:
                out.append(f"    # line {s.loc.line}: {s.loc.text.strip()}")
                last_line = s.loc.line
            target = ast.Name(self.name(s.target), ast.Store())
            out.append("    " + unparse(ast.Assign([target], self.expr(s), lineno=0)))
            self.locs[len(out)] = (s.loc, "adjoint" if s.adjoint else "forward")
        rets = ", ".join(unparse(self.operand(r)) for r in fn.returns)
        out.append(f"    return {rets}")
        return out


class Emitted(NamedTuple):
    source: str
    namespace: dict[str, object]
    # line of ``source`` -> the user location it computes, and "forward" or "adjoint"
    locs: dict[int, tuple[Loc, str]]


def emit(fn: ir.Function) -> Emitted:
    """Source text and namespace for ``fn`` (see the module docstring)."""
    e = _Emitter(fn)
    lines = e.lines()
    return Emitted("\n".join(lines) + "\n", e.namespace, e.locs)
