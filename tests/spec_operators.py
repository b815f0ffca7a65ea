"""Spec rows for srcgrad/rules/operators.py (joined into rulespec's tables): each
function of the ``operator`` module with the cases of the Python operator it spells."""

# ruff: noqa: F405 - the names below come from the star import
import operator

from rulespec import *  # noqa: F403 - the shapes, domains and Spec of the main table

DIFF_OPERATORS: list = [
    Spec(operator.add, "operator.add(x, y)", BINARY),
    Spec(operator.add, "operator.add(x, 1.5)", UNARY, label="operator.add(x,const)"),
    Spec(operator.sub, "operator.sub(x, y)", BINARY),
    Spec(operator.sub, "operator.sub(2.0, x)", UNARY, label="operator.sub(const,x)"),
    Spec(operator.mul, "operator.mul(x, y)", BINARY),
    Spec(operator.mul, "operator.mul(x, x)", UNARY, label="operator.mul(x,x)"),
    Spec(operator.truediv, "operator.truediv(x, y)", BINARY, (REAL, NONZERO)),
    Spec(operator.truediv, "operator.truediv(1.0, x)", UNARY, NONZERO,
         label="operator.truediv(const,x)"),
    Spec(operator.pow, "operator.pow(x, y)", BINARY, (POS, REAL)),
    Spec(operator.pow, "operator.pow(x, 3)", UNARY, label="operator.pow(x,3)"),
    Spec(operator.pow, "operator.pow(2.0, x)", UNARY, label="operator.pow(const,x)"),
    Spec(operator.mod, "operator.mod(x, y)", BINARY, (MOD_X, MOD_Y)),
    Spec(operator.mod, "operator.mod(x, 0.75)", UNARY,
         ((0.1, 0.65), (0.85, 1.4), (-0.65, -0.1)), label="operator.mod(x,const)"),
    Spec(operator.neg, "operator.neg(x)", UNARY),
    Spec(operator.pos, "operator.pos(x)", UNARY),
    Spec(operator.abs, "operator.abs(x)", UNARY, AWAY0),
    Spec(operator.matmul, "operator.matmul(x, y)", MATMUL),
]

NONDIFF_OPERATORS: list = [
    Spec(operator.floordiv, "operator.floordiv(x, y)", BINARY, (REAL, NONZERO)),
]
