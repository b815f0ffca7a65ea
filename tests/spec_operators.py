"""Spec rows for srcgrad/rules/operators.py and srcgrad/rules/casts.py (joined into
rulespec's tables): each function of the ``operator`` module with the cases of the
Python operator it spells; ``x.astype(...)`` (the run-time cast helpers it lowers to)."""

# ruff: noqa: F405 - the names below come from the star import
import operator

from rulespec import *  # noqa: F403 - the shapes, domains and Spec of the main table

from srcgrad.runtime import casts

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
    # ---- casts -------------------------------------------------------------------
    Spec(casts.cast, "x.astype(float) * x", ((F64,), ((),)) + ARRAY1),
    Spec(casts.cast, "np.sin(x.astype('float64'))", ARRAY1),
    Spec(casts.cast, "(x * y).astype(dtype=np.float64)", (((3,), (3,)), ((2, 3), F64))),
]

NONDIFF_OPERATORS: list = [
    Spec(operator.floordiv, "operator.floordiv(x, y)", BINARY, (REAL, NONZERO)),
    Spec(casts.cast_off, "x.astype(int)", ((F64,),) + ARRAY1, ((-1.9, -1.1), (0.1, 0.9))),
    Spec(casts.cast_off, "x.astype(bool)", ARRAY1, NONZERO),
    Spec(casts.cast_off, "(x > 0.0).astype(np.float64) + x.astype('int32')", ARRAY1,
         ((0.1, 0.9),), label="mask.astype(float)"),
]
