"""Text on the picture: node names, edge labels, values.

Contract: ``Namer.label(name)`` is the user's name of a value (``a``; SSA versions as
the IR spells them, ``s_2``), with the iteration it belongs to when a loop was
unrolled (``s_2 (i=0)``), or for a compiler temporary the expression that computes
it written from its operands' labels (``x**2``, ``sin(x)``), cut to ``WIDTH``
characters. ``op_label(stmt, operand)`` names the primitive on an edge (``(·)²``,
``exp``, ``×``, ``sin``, ``+``). ``number(v)`` formats a value to 3 significant
digits; ``summary(v)`` is the value's lines on a node (arrays: their shape, and the
values if at most ``FEW``, else min/mean/max).
"""

from __future__ import annotations

import numpy as np

from .. import ir

WIDTH = 22
FEW = 3
_SYMBOL = {"add": "+", "sub": "−", "mul": "×", "truediv": "÷", "floordiv": "//",
           "mod": "%", "matmul": "@", "neg": "−(·)", "pos": "+(·)", "copy": "=",
           "lt": "<", "le": "≤", "gt": ">", "ge": "≥", "eq": "==", "ne": "≠"}
_SUPER = {2: "²", 3: "³", 4: "⁴", -1: "⁻¹", -2: "⁻²"}


def _short(callee: ir.Callee) -> str:
    return callee.name.rsplit(".", 1)[-1]


def _const(c: ir.Const) -> str:
    if c.name:
        return c.name
    return number(c.value) if isinstance(c.value, (int, float, np.generic)) else repr(c.value)


def op_label(s: ir.Stmt, operand: str) -> str:
    """The edge label of ``s`` seen from its operand named ``operand``."""
    op = s.op
    if isinstance(op, ir.Callee):
        return _short(op)
    if op == "pow" and len(s.args) == 2:
        base, power = s.args
        if isinstance(power, ir.Const) and isinstance(base, ir.Var):
            return "(·)" + _SUPER.get(power.value, f"^{_const(power)}")  # type: ignore[call-overload]
        return "(·)^y" if isinstance(base, ir.Var) and base.name == operand else "x^(·)"
    if op == "getitem":
        return "[" + ", ".join(_const(a) if isinstance(a, ir.Const) else "·"
                               for a in s.args[1:]) + "]"
    symbol = _SYMBOL.get(op, op)
    consts = [_const(a) for a in s.args if isinstance(a, ir.Const)]
    return f"{symbol} {', '.join(consts)}" if consts and op in ir.BINARY.values() else symbol


class Namer:
    def __init__(self, origin: dict[str, tuple[str, tuple[str, ...]]],
                 stmts: dict[str, ir.Stmt], temps: set[str]):
        self.origin = origin
        self.stmts = stmts
        self.temps = temps

    def label(self, name: str) -> str:
        base, where = self.origin.get(name, (name, ()))
        s = self.stmts.get(name)
        text = self.expression(s) if s is not None and name in self.temps else base
        return text + (f" ({', '.join(where)})" if where else "")

    def _operand(self, o: ir.Operand, depth: int, bare: bool) -> str:
        if isinstance(o, ir.Const):
            return _const(o)
        s = self.stmts.get(o.name)
        if s is not None and o.name in self.temps and depth < 2:
            text = self.expression(s, depth + 1)
            simple = bare or text.isidentifier() or not isinstance(s.op, str) or \
                s.op == "getitem"
            return text if simple else f"({text})"
        if o.name in self.temps:
            return "…"  # deeper than shown: the node it comes from says
        return self.origin.get(o.name, (o.name, ()))[0]

    def expression(self, s: ir.Stmt, depth: int = 0) -> str:
        op = s.op
        args = [self._operand(a, depth, isinstance(op, ir.Callee)) for a in s.args]
        if isinstance(op, ir.Callee):
            text = f"{_short(op)}({', '.join(args)})"
        elif op in ir.SYMBOLS and len(args) == 2:
            text = f"{args[0]}{ir.SYMBOLS[op]}{args[1]}"
        elif op in ir.SYMBOLS and len(args) == 1:
            text = f"{ir.SYMBOLS[op]}{args[0]}"
        elif op == "getitem":
            text = f"{args[0]}[{', '.join(args[1:])}]"
        else:
            text = f"{op}({', '.join(args)})"
        return text if len(text) <= WIDTH else text[:WIDTH - 1] + "…"


def number(v: object) -> str:
    if isinstance(v, (bool, np.bool_)):
        return str(bool(v))
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        text = f"{float(v):.3g}"
        return "0" if text == "-0" else text
    if isinstance(v, (complex, np.complexfloating)):
        return f"{complex(v):.3g}"
    return repr(v)


def summary(v: object) -> list[str]:
    """The lines a value takes on its node."""
    if v is None:
        return ["·"]
    if isinstance(v, np.ndarray) and v.ndim > 0:
        shape = "×".join(map(str, v.shape))
        if v.size <= FEW:
            return [f"[{', '.join(number(x) for x in v.ravel())}] ({shape})"]
        if v.dtype.kind in "biuf":
            return [f"shape {shape}", f"min {number(v.min())} mean {number(v.mean())} "
                    f"max {number(v.max())}"]
        return [f"shape {shape}"]
    if isinstance(v, np.ndarray):
        return [number(v[()])]
    if isinstance(v, (int, float, complex, np.generic)):
        return [number(v)]
    text = repr(v)
    return [text if len(text) <= WIDTH else text[:WIDTH - 1] + "…"]
