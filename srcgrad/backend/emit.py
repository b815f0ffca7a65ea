"""Emission: an IR Function -> Python source text and the namespace it runs in.

Contract: ``emit(fn)`` returns ``Emitted(source, namespace, locs)`` such that
executing ``source`` in ``namespace`` defines a function named ``fn.name``
computing what ``fn`` computes. The text is deterministic (same IR, same
bytes) and meant to be read:

- compiler temporaries used once, in the block that defines them, are inlined
  into their use, so expressions look like the user's; the others are
  renumbered ``t1, t2...`` in order;
- SSA versions that are one storage location in Python share one name
  (``storage.Storage``): loop-carried values, merged branch values, and the
  versions of an array written in place (``x[i] = v``);
- the adjoint of ``v`` is printed ``v_bar``;
- each block of adjoint statements is preceded by a comment quoting the
  user's line it differentiates;
- a loop with an ``exit`` (a ``for`` loop with a ``break``) ends with
  ``if stop: break`` after its carried values are moved; a name entering a loop
  unbound gets no assignment before it (``None`` if the code may read it early);
  the IR's ``assert`` is printed as the user's ``assert cond, "message"``.

``unparse`` is the only place that turns syntax trees into text. The namespace
holds exactly the module-level names the source reads (builtins, modules and
helpers by the names the code spells, constants with no name of their own as
``const0``...); ``module.header`` turns it into the imports and definitions
that make the source a module that runs on its own (what ``derivative_source``
prints).
"""

from __future__ import annotations

import ast
import copy
import os
from typing import NamedTuple

import astor
import numpy as np

from .. import ir, runtime
from ..errors import Loc, SrcgradError
from . import verify as verify_storage
from .namespace import Namespace
from .namespace import load as _load
from .storage import Storage
from .typed import Typed, reversed_range

_BINOPS = {v: getattr(ast, k) for k, v in ir.BINARY.items()}
_UNOPS = {"neg": ast.USub, "pos": ast.UAdd, "not": ast.Not}
_CMPOPS = {v: getattr(ast, k) for k, v in ir.COMPARE.items()}
_IN_PLACE = {"setitem": None, "addat": ast.Add, "scatter": None, "iadd": ast.Add,
             "append": None, "droplast": None}

# Inline a single-use temporary only while its expression stays this small (in
# syntax nodes), so lines read like hand-written code rather than one long formula.
INLINE_LIMIT = 8


def unparse(node: ast.AST) -> str:
    """Source text of ``node``, on one line (astor's line wrapping is off)."""
    if isinstance(node, ast.Constant) and not isinstance(node.value, str):
        return repr(node.value)  # astor parenthesizes a bare number
    if isinstance(node, ast.expr):  # as a statement, astor adds no outer parentheses
        node = ast.Expr(node)
    return astor.to_source(node, pretty_source="".join).rstrip("\n")


def _reads(node: ast.expr) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def _renamed(node: ast.expr, old: str, new: str) -> ast.expr:
    """``node`` reading ``new`` where it read ``old`` (a fresh tree: emitted trees are
    built per use, but a copy keeps that true)."""
    class Rename(ast.NodeTransformer):
        def visit_Name(self, n: ast.Name) -> ast.Name:
            return ast.Name(new, n.ctx) if n.id == old else n
    return Rename().visit(copy.deepcopy(node))


class _Emitter:
    def __init__(self, fn: ir.Function, typed: bool = False):
        self.fn = fn
        self.typed = typed
        self._tapes: dict[tuple[str, ...], str] = {}  # group -> its tape (if typed)
        self.storage = Storage(fn)
        self.defs = self.storage.defs
        self._size: dict[str, int] = {}
        self._inline: dict[str, bool] = {}
        self.storage.name_all(self.inlined)
        self.locals = set(self.storage.names.values())
        self.ns = Namespace(fn.name, self.locals)  # (it sees the locals added later)
        self.tape = self.storage.fresh("tape")
        self._unused: str | None = None  # the index of a loop whose index nobody reads

    def name(self, v: ir.Operand) -> str:
        assert isinstance(v, ir.Var), v  # (the list or array a write changes: a value)
        return self.storage.name(v)

    def stmt(self, name: str) -> ir.Stmt:
        """The statement defining ``name``, a value an inlining decision found one for."""
        s = self.defs[name]
        assert isinstance(s, ir.Stmt), s
        return s

    # -- inlining -------------------------------------------------------------
    def inlined(self, v: ir.Var) -> bool:
        if v.name not in self._inline:
            s = self.defs.get(v.name)
            self._inline[v.name] = (
                v.kind == "temp" and isinstance(s, ir.Stmt) and s.op not in _IN_PLACE
                and self.storage.single_use_here(v) and self.size(v) <= INLINE_LIMIT
                and not self.reads_overwritten(v, self.storage.use_position(v.name)))
        return self._inline[v.name]

    def reads_overwritten(self, v: ir.Var, until: float) -> bool:
        """Moving ``v``'s expression to position ``until`` would read a storage that is
        reassigned in between (a loop-carried or in-place value), or an array changed in
        place in between through another name."""
        s = self.stmt(v.name)
        start = self.storage.def_position(v.name)
        for o in s.operands():
            if not isinstance(o, ir.Var):
                continue
            if self.storage.overwritten_between(o.name, start, until) or \
                    self.storage.changed_between(o.name, start, until):
                return True
            if o.kind == "temp" and o.name in self.defs and isinstance(self.defs[o.name], ir.Stmt) \
                    and self.storage.single_use_here(o) and self.reads_overwritten(o, until):
                return True
        return False

    def size(self, v: ir.Var) -> int:
        """Syntax nodes of ``v``'s defining expression with its inlined operands."""
        if v.name not in self._size:
            s = self.stmt(v.name)
            self._size[v.name] = 1 + sum(
                self.size(o) if isinstance(o, ir.Var) and self.inlined(o) else 1
                for o in s.operands())
        return self._size[v.name]

    # -- expressions ----------------------------------------------------------
    def operand(self, o: ir.Operand) -> ast.expr:
        if isinstance(o, ir.Var):
            if self.inlined(o):
                return self.expr(self.stmt(o.name))
            return _load(self.name(o))
        return self.ns.const(o)

    def index(self, s: ir.Stmt, parts) -> ast.expr:
        items = [self.index_part(p) for p in parts]
        return ast.Tuple(items, ast.Load()) if s.seq else items[0]

    def index_value(self, o: ir.Operand) -> ast.expr:
        """An index part as a value (outside brackets ``:`` must be ``slice(None)``)."""
        if isinstance(o, ir.Const) and isinstance(o.value, slice):
            ends = [self.ns.literal(v) for v in (o.value.start, o.value.stop, o.value.step)]
            return ast.Call(self.ns.reference("slice", slice), ends, [])
        return self.operand(o)

    def index_part(self, o: ir.Operand) -> ast.expr:
        if isinstance(o, ir.Var) and self.inlined(o):
            d = self.stmt(o.name)
            if isinstance(d.op, ir.Callee) and d.op.obj is slice:
                ends = [None if isinstance(a, ir.Const) and a.value is None else self.operand(a)
                        for a in d.args] + [None] * (3 - len(d.args))
                return ast.Slice(*ends)
        return self.operand(o)

    def expr(self, s: ir.Stmt) -> ast.expr:
        op = s.op
        if op in ("getitem", "copyitem"):
            node = ast.Subscript(self.operand(s.args[0]), self.index(s, s.args[1:]), ast.Load())
            if op == "copyitem":
                return ast.Call(ast.Attribute(node, "copy", ast.Load()), [], [])
            return node
        # a slice passed as a value (a run-time check's index) is slice(1, None, None)
        args = [self.index_value(a) for a in s.args]
        if isinstance(op, ir.Callee):
            func = self.ns.reference(op.name, op.root)
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
        if op.startswith("attr."):
            return ast.Attribute(args[0], op[5:], ast.Load())
        if op == "copy":
            return args[0]
        if op == "tuple":
            return ast.Tuple(args, ast.Load())
        if op == "newlist":
            return ast.List([], ast.Load())
        raise SrcgradError(f"cannot emit the operation {op!r}")

    def statement(self, s: ir.Stmt) -> ast.stmt:
        if s.op == "assert":  # the user's assert, where the forward sweep reaches it
            msg = self.operand(s.args[1]) if len(s.args) > 1 else None
            return ast.Assert(self.operand(s.args[0]), msg)
        if s.op in ("append", "droplast"):  # xs.append(v), xs.pop()
            method = ast.Attribute(_load(self.name(s.args[0])), "append" if s.op == "append"
                                   else "pop", ast.Load())
            return ast.Expr(ast.Call(method, [self.operand(a) for a in s.args[1:]], []))
        if s.op == "scatter":  # x[idx] += v, adding up repeated indices
            parts = [self.index_value(p) for p in s.args[2:]]
            index = ast.Tuple(parts, ast.Load()) if s.seq else parts[0]
            add_at = _load(self.ns.bind("add_at", runtime.add_at)) if self.typed else \
                self.ns.reference("np.add.at", np)
            call = ast.Call(add_at, [
                _load(self.name(s.args[0])), index, self.operand(s.args[1])], [])
            return ast.Expr(call)
        if s.op in _IN_PLACE:
            target: ast.Name | ast.Subscript = _load(self.name(s.args[0]))
            if s.op != "iadd":
                target = ast.Subscript(target, self.index(s, s.args[2:]), ast.Store())
            if s.op == "setitem":
                return ast.Assign([target], self.operand(s.args[1]), lineno=0)
            return ast.AugAssign(target, ast.Add(), self.operand(s.args[1]))
        return ast.Assign([ast.Name(self.name(s.target), ast.Store())], self.expr(s), lineno=0)

    # -- blocks ---------------------------------------------------------------
    def lines(self) -> list[str]:
        """The source lines; fills ``self.locs`` (see ``Emitted``)."""
        fn = self.fn
        self.locs: dict[int, tuple[Loc, str]] = {}
        self.out = [f"def {fn.name}({', '.join(self.name(p) for p in fn.params)}):"]
        if fn.doc:
            doc = fn.doc.replace("\\", "\\\\").replace('"""', '\\"""').splitlines()
            body = "\n".join("    " + line if line else "" for line in doc)
            self.out.extend(f'    """{body.lstrip()}"""'.split("\n"))  # one entry per line
        # A loop pushes at the end of an iteration, a branch inside one pushes its own
        # values (possibly while the loop itself pushes nothing).
        if self.typed:
            for group in self.pushed():
                self.out.append(f"    {self.tape_of(group)} = []")
        elif self.pushed():
            self.out.append(f"    {self.tape} = []")
        self.last_line: tuple[str, int] | None = None
        self.block(fn.body, "    ")
        rets = ", ".join(unparse(self.operand(r)) for r in fn.returns)
        if self.typed:  # an inf or NaN: the call runs again in Python (typed.py)
            check = self.ns.bind("check_finite", runtime.check_finite)
            self.out.append(f"    {check}(({rets}{',' if len(fn.returns) == 1 else ''}))")
        self.out.append(f"    return {rets}")
        return self.out

    def put(self, indent: str, text: str, loc: Loc | None = None, adjoint: bool = False) -> None:
        if adjoint and loc is not None and (loc.file, loc.line) != self.last_line:
            where = f"line {loc.line}" if loc.file == self.fn.loc.file else \
                f"{os.path.basename(loc.file)}:{loc.line}"  # an inlined helper's line
            self.out.append(f"{indent}# {where}: {loc.text.strip()}")
            self.last_line = (loc.file, loc.line)
        self.out.append(indent + text)
        if loc is not None:
            self.locs[len(self.out)] = (loc, "adjoint" if adjoint else "forward")

    def block(self, nodes: list[ir.Node], indent: str) -> None:
        for n in nodes:
            if isinstance(n, ir.Stmt):
                if not self.inlined(n.target) and not self.storage.is_noop(n):
                    node = self.statement(n)
                    self.put(indent, unparse(Typed(self.ns, n.adjoint).visit(node)
                                             if self.typed else node), n.loc, n.adjoint)
            elif isinstance(n, ir.If):
                self.if_(n, indent)
            else:
                self.loop(n, indent)

    def moves(self, pairs, indent: str, loc: Loc, adjoint: bool) -> None:
        """``target = source`` for merged values that are not one storage already.

        The copies happen at once (phis), so they are sequentialized: a copy goes
        only once no other pending copy still reads its target, and a cycle
        (``a, b = b, a`` carried by a loop) is broken by a temporary."""
        pending = []
        for target, source in pairs:
            if not (isinstance(source, ir.Var) and self.name(source) == self.name(target)):
                pending.append((self.name(target), self.operand(source)))
        while pending:
            ready = next((k for k, (t, _) in enumerate(pending)
                          if not any(t in _reads(e) for j, (_, e) in enumerate(pending)
                                     if j != k)), None)
            if ready is None:  # every target is still read: save one, read the copy
                saved = pending[0][0]
                tmp = self.storage.namer.temp()
                self.locals.add(tmp)
                self.put(indent, f"{tmp} = {saved}", loc, adjoint)
                pending = [(t, _renamed(e, saved, tmp)) for t, e in pending]
                continue
            target, expr = pending.pop(ready)
            self.put(indent, f"{target} = {unparse(expr)}", loc, adjoint)

    def pushed(self) -> list[list[ir.Var]]:
        """The groups the forward sweep pushes, in program order: a loop pushes at the
        end of an iteration, a branch inside one its own values (possibly while the loop
        itself pushes nothing)."""
        groups: list[list[ir.Var]] = []
        for n in ir.walk(self.fn.body):
            if isinstance(n, ir.Loop):
                groups += [g for g in (n.save_start, n.save) if g]
            elif isinstance(n, ir.If):
                groups += [g for g in n.save if g]
        return groups

    def tape_of(self, group: list[ir.Var]) -> str:
        """One tape for all, or if ``typed`` one per group of names: the adjoint
        pops a group into the names it was pushed from, and the pops of each group come
        in the reverse order of its pushes (a subsequence of one stack's), so every
        tape holds values of one type, which a compiler can type."""
        if not self.typed:
            return self.tape
        key = tuple(self.name(v) for v in group)
        if key not in self._tapes:
            self._tapes[key] = self.tape if not self._tapes else self.storage.fresh("tape")
        return self._tapes[key]

    def push(self, group: list, indent: str) -> None:
        if group:
            items = ", ".join(self.name(v) for v in group)
            tape = self.tape_of(group)
            self.put(indent, f"{tape}.append({items if len(group) == 1 else f'({items})'})")

    def pop(self, group: list, indent: str) -> None:
        if group:
            self.put(indent, f"{', '.join(self.name(v) for v in group)} = "
                             f"{self.tape_of(group)}.pop()")

    def if_(self, n: ir.If, indent: str) -> None:
        self.put(indent, f"if {unparse(self.operand(n.cond))}:", n.loc, n.adjoint)
        inner = indent + "    "
        for which, branch in enumerate((n.then, n.orelse)):
            pairs = [(p.target, p.sources[which]) for p in n.phis]
            if which == 1:
                if not (branch or n.restore[1] or n.save[1] or self.storage.needs_move(pairs)):
                    break
                self.put(indent, "else:")
            start = len(self.out)
            self.pop(n.restore[which], inner)
            self.block(branch, inner)
            self.push(n.save[which], inner)
            self.moves(pairs, inner, n.loc, n.adjoint)
            if len(self.out) == start:
                self.put(inner, "pass")

    def loop(self, n: ir.Loop, indent: str) -> None:
        # A name only the loop binds is not bound before it (UnboundLocalError after
        # a loop that did not run, as in Python), or is None where the code may read it.
        inits = [(p.target, ir.Const(None) if ir.is_unbound(p.sources[0]) else p.sources[0])
                 for p in n.carried if not (isinstance(p.sources[0], ir.Const)
                                            and p.sources[0].value is ir.UNBOUND)]
        self.moves(inits, indent, n.loc, n.adjoint)
        self.put(indent, self.loop_head(n), n.loc, n.adjoint)
        inner = indent + "    "
        start = len(self.out)
        for group in n.restore:
            self.pop(group, inner)
        self.push(n.save_start, inner)
        if n.cond is not None and n.test and not self.test_inlined(n):
            self.block(n.test, inner)
            self.put(inner, f"if not {unparse(self.operand(n.cond))}:")
            self.put(inner + "    ", "break")
        self.block(n.body, inner)
        self.push(n.save, inner)  # before the moves: it saves this iteration's values
        self.moves([(p.target, p.sources[1]) for p in n.carried], inner, n.loc, n.adjoint)
        if n.exit is not None:  # a break: after the moves, which carry its values out
            self.put(inner, f"if {unparse(self.operand(n.exit))}:")
            self.put(inner + "    ", "break")
        if len(self.out) == start:
            self.put(inner, "pass")

    def test_inlined(self, n: ir.Loop) -> bool:
        """The while test can be one expression: each of its temporaries is read once."""
        return all(isinstance(s, ir.Stmt) and s.target.kind == "temp" and
                   len(self.storage.use_sites.get(s.target.name, [])) == 1 for s in n.test)

    def test_expr(self, o: ir.Operand, test: dict) -> ast.expr:
        if isinstance(o, ir.Var) and o.name in test:
            s = test[o.name]
            saved = self._inline
            self._inline = {**saved, **{a.name: True for a in s.uses() if a.name in test}}
            try:
                return self.expr(ir.Stmt(s.target, s.op, tuple(
                    ir.Var(a.name, "temp") if isinstance(a, ir.Var) and a.name in test else a
                    for a in s.args), s.loc, s.kwargs, s.seq))
            finally:
                self._inline = saved
        return self.operand(o)

    def loop_head(self, n: ir.Loop) -> str:
        if n.cond is not None:
            if not n.test or self.test_inlined(n):
                test = {s.target.name: s for s in n.test if isinstance(s, ir.Stmt)}
                return f"while {unparse(self.test_expr(n.cond, test))}:"
            return "while True:"
        bounds = list(n.bounds)
        if len(bounds) == 3 and isinstance(bounds[2], ir.Const) and bounds[2].value == 1:
            bounds = bounds[:2]
        if len(bounds) == 2 and isinstance(bounds[0], ir.Const) and bounds[0].value == 0:
            bounds = bounds[1:]
        # builtins by bind, like any global: the user may have a variable ``range``
        args = ", ".join(unparse(self.operand(b)) for b in bounds)
        rng = f"{self.ns.bind('range', range)}({args})"
        if n.reverse and self.typed:  # reversed(range) as a range (numba has no reversed)
            rng = reversed_range([unparse(self.operand(b)) for b in bounds], self.ns)
        elif n.reverse:
            rng = f"{self.ns.bind('reversed', reversed)}({rng})"
        return f"for {self.loop_index(n)} in {rng}:"

    def loop_index(self, n: ir.Loop) -> str:
        if n.index is not None:
            return self.name(n.index)
        if self._unused is None:  # ``_`` unless the user has a variable of that name
            self._unused = self.storage.fresh("_")
            self.locals.add(self._unused)
        return self._unused


class Emitted(NamedTuple):
    source: str
    namespace: dict[str, object]
    # line of ``source`` -> the user location it computes, and "forward" or "adjoint"
    locs: dict[int, tuple[Loc, str]]


def emit(fn: ir.Function, typed: bool = False) -> Emitted:
    """Source text and namespace for ``fn`` (see the module docstring); ``typed``: code
    a compiler that types every name can take (numba): one tape per group of pushed
    names instead of one for all (``_Emitter.tape_of``), reversed ranges as ranges with
    a negative step, the rewrites of ``typed.Typed``, scatter-adds as ``add_at`` and
    ``check_finite`` of the results before the return."""
    e = _Emitter(fn, typed)
    lines = e.lines()
    if os.environ.get("SRCGRAD_VERIFY"):  # set by the test suite
        verify_storage.check(fn, e.name, e.inlined)
    return Emitted("\n".join(lines) + "\n", e.ns.values, e.locs)
