"""The rule spec table: one row (at least) per registered derivative rule overload.

``DIFF`` rows are differentiable rules, checked against central finite
differences by ``test_rules.py``; ``NONDIFF`` rows are rules declared
non-differentiable, checked against a hand formula (the derivative with the
non-differentiable value held constant). Every ``(key, overload)`` pair of
``srcgrad.rules.REGISTRY`` must be covered by a row of the matching list, and
every row must name a registered pair; extra rows for the same pair (other
axes, keyword forms, constant operands) are welcome.

A row's ``source`` is the expression a generated user function returns, in
the arguments ``x, y, z`` (as many as the row's shape cases have entries).
``pre`` is an optional statement run before it. ``cases`` lists the argument
shapes to test: ``F`` is a Python float, ``F64`` a NumPy float64 scalar,
a tuple an ndarray of that shape (``()`` is a 0-d array). ``domain`` gives,
per argument, the union of closed intervals values are drawn from: domains
keep away from singularities and kinks, and arguments that could tie (max,
clip bounds) get disjoint domains so that no broadcast pair can tie.
"""

from __future__ import annotations

import builtins
import math
import re
from dataclasses import dataclass

import numpy as np

import srcgrad

NUMPY_2 = int(np.__version__.split(".")[0]) >= 2

F = "float"  # a Python float
F64 = "f64"  # a NumPy float64 scalar

Interval = tuple[float, float]
Domain = tuple[Interval, ...]

REAL: Domain = ((-2.0, 2.0),)
POS: Domain = ((0.2, 3.0),)
NONZERO: Domain = ((-2.0, -0.5), (0.5, 2.0))
AWAY0: Domain = ((-2.0, -0.1), (0.1, 2.0))  # kinks at 0 (abs, fabs)
UNIT: Domain = ((-0.9, 0.9),)  # arcsin, arccos
TAN: Domain = ((-1.2, 1.2),)
LOG1P: Domain = ((-0.5, 2.0),)
BASE: Domain = ((0.2, 0.7), (1.5, 4.0))  # log base, away from 1
# Pairwise at least 0.5 apart: max/min/maximum/where never tie.
TIE1: Domain = ((0.0, 1.0),)
TIE2: Domain = ((-1.5, -0.5), (1.5, 2.5))
TIE3: Domain = ((-3.0, -2.0), (3.0, 4.0))
# x % y: x / y stays at least 0.05 away from an integer (a jump of the y-partial).
MOD_X: Domain = ((-2.8, -2.2), (-0.8, -0.2), (0.2, 0.8), (2.2, 2.8))
MOD_Y: Domain = ((-1.05, -0.95), (0.95, 1.05))
# np.clip with constant bounds -0.5, 0.5: below, inside and above, away from the bounds.
CLIP_X: Domain = ((-2.0, -0.7), (-0.3, 0.3), (0.7, 2.0))
# np.clip(x, y, z): lower bound y in [-1.2, -0.8], upper bound z in [0.8, 1.2].
CLIP3_X: Domain = ((-2.0, -1.5), (-0.5, 0.5), (1.5, 2.0))
CLIP3_LO: Domain = ((-1.2, -0.8),)
CLIP3_HI: Domain = ((0.8, 1.2),)
# Few distinct values, so that comparisons and equality are sometimes true.
LATTICE: Domain = ((-1.0, -1.0), (-0.5, -0.5), (0.0, 0.0), (0.5, 0.5), (1.0, 1.0))

# ---- shape cases ---------------------------------------------------------------
SCALAR1 = ((F,),)
SCALAR2 = ((F, F),)
SCALAR3 = ((F, F, F),)
UNARY = ((F,), (F64,), ((),), ((3,),), ((2, 3),))
BINARY = (
    (F, F), (F64, F), ((), ()), ((3,), (3,)), ((2, 3), (2, 3)), ((2, 1), (1, 3)),
    ((3,), (2, 3)), ((2, 3), (3,)), (F, (2, 3)), ((3,), F), ((), (2, 3)), (F64, (2, 1)),
)
ARRAY1 = (((3,),), ((2, 3),))
MATRIX1 = (((2, 3),), ((2, 3, 4),))
MATMUL = (
    ((2, 3), (3, 4)), ((3,), (3, 4)), ((2, 3), (3,)), ((3,), (3,)), ((2, 2, 3), (3, 4)),
    ((2, 3), (2, 3, 4)), ((1, 2, 3), (4, 3, 2)), ((3,), (2, 3, 4)), ((2, 3, 4), (4,)),
)
DOT = (
    ((2, 3), (3, 4)), ((3,), (3, 4)), ((2, 3), (3,)), ((3,), (3,)), ((), (2, 3)),
    ((2, 3), ()), (F, (3,)), ((2, 3), F), ((2, 3, 4), (4,)), ((2, 3), (2, 3, 4)),
    ((4,), (2, 4, 3)),
)
OUTER = (((3,), (4,)), ((2, 3), (4,)), ((3,), (2, 2)), ((), (3,)), (F, (3,)))
WHERE = (((2, 3), (2, 3)), ((3,), (2, 1)), (F, (2, 3)), ((), (3,)), (F, F), ((2, 1), F64))
CLIP3 = (
    ((2, 3), (2, 3), (2, 3)), ((2, 3), (3,), (2, 1)), ((3,), F, F), (F, F, F),
    ((2, 3), (), ()), ((), (3,), (2, 1)),
)
# Offsets that keep max/min arguments apart (a global of the generated module).
SPREAD = np.array([[0.0, 10.0, 20.0], [30.0, 40.0, 50.0]])
# A fixed condition for np.where (a global of the generated module).
CONDITION = np.array([[True, False, True], [False, False, True]])


@dataclass(frozen=True)
class Spec:
    key: object  # the registry key: an IR operator name or the function object
    source: str  # the expression the generated function returns
    cases: tuple[tuple[object, ...], ...]  # argument shapes, one tuple per case
    domain: tuple[Domain, ...] | Domain = REAL  # per argument, or one for all
    overload: int = 0  # index into REGISTRY[key]
    rtol: float = 1e-6
    atol: float = 1e-6
    pre: str = ""  # a statement before the return
    label: str = ""  # the row's id when the source is not telling enough
    xfail: str = ""  # a known srcgrad bug this row hits: its description
    xfail_cases: tuple[tuple[object, ...], ...] = ()  # the cases it hits (empty: all)

    def xfails(self, case) -> bool:
        return bool(self.xfail) and (not self.xfail_cases or case in self.xfail_cases)

    @property
    def arity(self) -> int:
        return len(self.cases[0])

    @property
    def params(self) -> tuple[str, ...]:
        return ("x", "y", "z")[: self.arity]

    def domains(self) -> tuple[Domain, ...]:
        if isinstance(self.domain[0][0], tuple):
            return self.domain  # one per argument
        return (self.domain,) * self.arity

    @property
    def python(self) -> bool:
        """A Python-level rule: all-float inputs must give float gradients."""
        return isinstance(self.key, str) or getattr(self.key, "__module__", None) in (
            "math", "builtins", "_operator")

    @property
    def id(self) -> str:
        return self.label or re.sub(r"\s+", "", self.source)


def key_name(key: object) -> str:
    if isinstance(key, str):
        return key
    module = getattr(key, "__module__", None) or "numpy"
    return ("" if module == "builtins" else module + ".") + key.__name__


def _sum_rows(fn, name: str) -> list[Spec]:
    rows = [Spec(fn, f"np.{name}(x)", UNARY)]
    for axis in ("None", "0", "1", "-1", "(0, 1)"):
        for keepdims in ("False", "True"):
            cases = UNARY if axis == "None" else MATRIX1
            rows.append(Spec(fn, f"np.{name}(x, axis={axis}, keepdims={keepdims})", cases))
    rows.append(Spec(fn, f"np.{name}(x, 0)", ARRAY1))
    return rows


def _max_min_rows(fn, name: str) -> list[Spec]:
    return [
        Spec(fn, f"{name}(x, y)", SCALAR2, (TIE1, TIE2)),
        Spec(fn, f"{name}(y, x)", SCALAR2, (TIE1, TIE2)),
        Spec(fn, f"{name}(x, y, z)", SCALAR3, (TIE1, TIE2, TIE3)),
        Spec(fn, f"{name}(z, x, y)", SCALAR3, (TIE1, TIE2, TIE3)),
        Spec(fn, f"{name}([x, y, z])", SCALAR3, (TIE1, TIE2, TIE3)),
        Spec(fn, f"{name}(x, 0.5)", SCALAR1, TIE2),
    ]


DIFF: list[Spec] = [
    # ---- Python operators ----------------------------------------------------
    Spec("add", "x + y", BINARY),
    Spec("add", "x + 1.5", UNARY, label="x+const"),
    Spec("sub", "x - y", BINARY),
    Spec("sub", "2.0 - x", UNARY, label="const-x"),
    Spec("mul", "x * y", BINARY),
    Spec("mul", "x * x", UNARY, label="x*x"),
    Spec("truediv", "x / y", BINARY, (REAL, NONZERO)),
    Spec("truediv", "1.0 / x", UNARY, NONZERO, label="const/x"),
    Spec("pow", "x ** y", BINARY, (POS, REAL)),
    Spec("pow", "x ** 3", UNARY, label="x**3"),
    Spec("pow", "x ** -2", UNARY, NONZERO, label="x**-2"),
    Spec("pow", "x ** 0.5", UNARY, POS, label="x**0.5"),
    Spec("pow", "2.0 ** x", UNARY, label="2.0**x"),
    Spec("mod", "x % y", BINARY, (MOD_X, MOD_Y)),
    Spec("mod", "x % 0.75", UNARY, ((0.1, 0.65), (0.85, 1.4), (-0.65, -0.1)), label="x%const"),
    Spec("neg", "-x", UNARY),
    Spec("pos", "+x", UNARY),
    Spec("copy", "z", UNARY, pre="z = x", label="z=x"),
    Spec("matmul", "x @ y", MATMUL),
    Spec("attr.T", "x.T", (((),), ((3,),), ((2, 3),), ((2, 3, 4),))),
    # ---- math ----------------------------------------------------------------
    Spec(math.sin, "math.sin(x)", SCALAR1),
    Spec(math.cos, "math.cos(x)", SCALAR1),
    Spec(math.tan, "math.tan(x)", SCALAR1, TAN),
    Spec(math.asin, "math.asin(x)", SCALAR1, UNIT),
    Spec(math.acos, "math.acos(x)", SCALAR1, UNIT),
    Spec(math.atan, "math.atan(x)", SCALAR1),
    Spec(math.atan2, "math.atan2(x, y)", SCALAR2, NONZERO),
    Spec(math.sinh, "math.sinh(x)", SCALAR1),
    Spec(math.cosh, "math.cosh(x)", SCALAR1),
    Spec(math.tanh, "math.tanh(x)", SCALAR1),
    Spec(math.exp, "math.exp(x)", SCALAR1),
    Spec(math.expm1, "math.expm1(x)", SCALAR1),
    Spec(math.log, "math.log(x)", SCALAR1, POS, overload=0),
    Spec(math.log, "math.log(x, y)", SCALAR2, (POS, BASE), overload=1),
    Spec(math.log, "math.log(x, 10.0)", SCALAR1, POS, overload=1),
    Spec(math.log1p, "math.log1p(x)", SCALAR1, LOG1P),
    Spec(math.log2, "math.log2(x)", SCALAR1, POS),
    Spec(math.log10, "math.log10(x)", SCALAR1, POS),
    Spec(math.sqrt, "math.sqrt(x)", SCALAR1, POS),
    Spec(math.pow, "math.pow(x, y)", SCALAR2, (POS, REAL)),
    Spec(math.pow, "math.pow(x, 3.0)", SCALAR1, label="math.pow(x,3.0)"),
    Spec(math.hypot, "math.hypot(x, y)", SCALAR2, NONZERO),
    Spec(math.fabs, "math.fabs(x)", SCALAR1, AWAY0),
    Spec(math.erf, "math.erf(x)", SCALAR1),
    Spec(math.erfc, "math.erfc(x)", SCALAR1),
    # ---- builtins ------------------------------------------------------------
    Spec(builtins.abs, "abs(x)", UNARY, AWAY0),
    *_max_min_rows(builtins.max, "max"),
    *_max_min_rows(builtins.min, "min"),
    Spec(builtins.sum, "sum([x, y])", BINARY, overload=0),
    Spec(builtins.sum, "sum((x, y, z))", SCALAR3 + (((2, 3), (3,), F),), overload=0),
    Spec(builtins.sum, "sum(x)", ARRAY1 + (((2, 3, 4),),), overload=1),
    Spec(builtins.float, "float(x)", ((F,), (F64,), ((),))),
    # ---- NumPy arithmetic ----------------------------------------------------
    Spec(np.add, "np.add(x, y)", BINARY),
    Spec(np.subtract, "np.subtract(x, y)", BINARY),
    Spec(np.multiply, "np.multiply(x, y)", BINARY),
    Spec(np.divide, "np.divide(x, y)", BINARY, (REAL, NONZERO)),
    Spec(np.power, "np.power(x, y)", BINARY, (POS, REAL)),
    Spec(np.power, "np.power(x, 3)", UNARY, label="np.power(x,3)"),
    Spec(np.negative, "np.negative(x)", UNARY),
    Spec(np.square, "np.square(x)", UNARY),
    Spec(np.reciprocal, "np.reciprocal(x)", UNARY, NONZERO),
    Spec(np.sqrt, "np.sqrt(x)", UNARY, POS),
    Spec(np.absolute, "np.abs(x)", UNARY, AWAY0),
    Spec(np.absolute, "np.absolute(x)", UNARY, AWAY0),
    Spec(np.fabs, "np.fabs(x)", UNARY, AWAY0),
    Spec(np.maximum, "np.maximum(x, y)", BINARY, (TIE1, TIE2)),
    Spec(np.maximum, "np.maximum(y, x)", BINARY, (TIE1, TIE2)),
    Spec(np.minimum, "np.minimum(x, y)", BINARY, (TIE1, TIE2)),
    Spec(np.minimum, "np.minimum(y, x)", BINARY, (TIE1, TIE2)),
    Spec(np.hypot, "np.hypot(x, y)", BINARY, NONZERO),
    # ---- NumPy exponentials and logarithms -----------------------------------
    Spec(np.exp, "np.exp(x)", UNARY),
    Spec(np.expm1, "np.expm1(x)", UNARY),
    Spec(np.log, "np.log(x)", UNARY, POS),
    Spec(np.log1p, "np.log1p(x)", UNARY, LOG1P),
    Spec(np.log2, "np.log2(x)", UNARY, POS),
    Spec(np.log10, "np.log10(x)", UNARY, POS),
    # ---- NumPy trigonometric and hyperbolic ----------------------------------
    Spec(np.sin, "np.sin(x)", UNARY),
    Spec(np.cos, "np.cos(x)", UNARY),
    Spec(np.tan, "np.tan(x)", UNARY, TAN),
    Spec(np.arcsin, "np.arcsin(x)", UNARY, UNIT),
    Spec(np.arccos, "np.arccos(x)", UNARY, UNIT),
    Spec(np.arctan, "np.arctan(x)", UNARY),
    Spec(np.arctan2, "np.arctan2(x, y)", BINARY, NONZERO),
    Spec(np.sinh, "np.sinh(x)", UNARY),
    Spec(np.cosh, "np.cosh(x)", UNARY),
    Spec(np.tanh, "np.tanh(x)", UNARY),
    # ---- NumPy selection -----------------------------------------------------
    Spec(np.clip, "np.clip(x, -0.5, 0.5)", UNARY, CLIP_X),
    Spec(np.clip, "np.clip(x, None, 0.5)", UNARY, CLIP_X),
    Spec(np.clip, "np.clip(x, -0.5, None)", UNARY, CLIP_X),
    Spec(np.clip, "np.clip(x, a_min=-0.5, a_max=0.5)", UNARY, CLIP_X),
    Spec(np.clip, "np.clip(x, y, z)", CLIP3, (CLIP3_X, CLIP3_LO, CLIP3_HI)),
    Spec(np.clip, "np.clip(x, y, None)", BINARY, (CLIP3_X, CLIP3_LO)),
    Spec(np.where, "np.where(C, x, y)", WHERE),
    Spec(np.where, "np.where(x > y, x, y)", BINARY, (TIE1, TIE2)),
    Spec(np.where, "np.where(y > 0.0, x * y, 2.0 * x)", BINARY, (REAL, NONZERO)),
    # ---- NumPy reductions ----------------------------------------------------
    *_sum_rows(np.sum, "sum"),
    *_sum_rows(np.mean, "mean"),
    # ---- NumPy linear algebra ------------------------------------------------
    Spec(np.dot, "np.dot(x, y)", DOT),
    Spec(np.matmul, "np.matmul(x, y)", MATMUL),
    Spec(np.outer, "np.outer(x, y)", OUTER),
    # ---- NumPy shape ---------------------------------------------------------
    Spec(np.transpose, "np.transpose(x)", (((),), ((3,),), ((2, 3),), ((2, 3, 4),))),
    Spec(np.transpose, "np.transpose(x, (1, 0))", (((2, 3),),)),
    Spec(np.transpose, "np.transpose(x, (2, 0, 1))", (((2, 3, 4),),)),
    Spec(np.transpose, "np.transpose(x, axes=(1, 2, 0))", (((2, 3, 4),),)),
    Spec(np.transpose, "np.transpose(x, (-1, 0))", (((2, 3),),)),
    Spec(np.reshape, "np.reshape(x, (3, 2))", (((2, 3),), ((6,),))),
    Spec(np.reshape, "np.reshape(x, -1)", (((2, 3),), ((),), ((2, 3, 4),))),
    Spec(np.reshape, "np.reshape(x, 6)", (((2, 3),), ((3, 2),))),
    Spec(np.reshape, "np.reshape(x, (3, 2), order='F')", (((2, 3),), ((6,),))),
    *([Spec(np.reshape, "np.reshape(x, shape=(2, 3, 1))", (((2, 3),), ((3, 2),)))]
      if NUMPY_2 else []),  # NumPy 1.x spells the keyword newshape
    # ---- construction --------------------------------------------------------------
    Spec(np.copy, "np.copy(x) * x", ARRAY1),
    Spec(np.full, "np.full((2, 3), x)", SCALAR1),
    Spec(np.array, "np.array([x, y, x * y])", SCALAR2),
    Spec(np.array, "np.array(xs)", (((3,), (3,)),), overload=1,
         pre="xs = []; xs.append(x); xs.append(x * y)"),
    Spec(np.stack, "np.stack([x, y])", (((3,), (3,)), ((2, 3), (2, 3)))),
    Spec(np.stack, "np.stack([x, y], axis=1)", (((3,), (3,)),)),
    Spec(np.stack, "np.stack(xs, axis=-1)", (((2, 3), (2, 3)),), overload=1,
         pre="xs = []; xs.append(x); xs.append(y * 2.0)"),
    Spec(np.concatenate, "np.concatenate([x, y])", (((3,), (2,)),)),
    Spec(np.concatenate, "np.concatenate([x, y], axis=1)", (((2, 3), (2, 1)),)),
    Spec(np.concatenate, "np.concatenate(xs)", (((3,), (2,)),), overload=1,
         pre="xs = []; xs.append(x); xs.append(y)"),
    Spec("append", "np.stack(xs)", (((3,), (3,)),),
         pre="xs = []; xs.append(x); xs.append(x * y)"),
    Spec(builtins.sum, "sum(xs)", (((3,), (3,)),), overload=1,
         pre="xs = []; xs.append(x); xs.append(y)", label="sum(list)"),
    # ---- extremes (SPREAD keeps entries at least 5 apart: no ties) ---------------------
    Spec(np.max, "np.max(x + SPREAD)", (((2, 3),),)),
    Spec(np.max, "np.max(x + SPREAD, axis=1)", (((2, 3),),)),
    Spec(np.max, "np.max(x + SPREAD, axis=0, keepdims=True)", (((2, 3),),)),
    Spec(np.min, "np.min(x + SPREAD)", (((2, 3),),)),
    Spec(np.min, "np.min(x + SPREAD, axis=-1)", (((2, 3),),)),
    # ---- indexing --------------------------------------------------------------------
    Spec("getitem", "x[1]", ARRAY1),
    Spec("getitem", "x[-1, 1:]", (((2, 3),),)),
    Spec("getitem", "x[:, None, 0]", (((2, 3),),)),
    Spec("getitem", "x[..., ::2]", (((2, 3),),)),
    Spec("setitem", "t * y", (((3,), F),), pre="t = x * 1.0; t[0] = y * y"),
    Spec("setitem", "t * 2.0", (((2, 3), (3,)), ((2, 3), F)), pre="t = x * 1.0; t[1] = y"),
    Spec("setitem", "t", (((2, 3), F),), pre="t = x * 1.0; t[:, 1] = y; t[0, 2] += y * y"),
    # integer arrays (repeats accumulate), boolean masks, Ellipsis and newaxis, and the
    # matching writes (CONDITION is a fixed (2, 3) mask; ``x > 0`` a data-dependent one)
    Spec("getitem", "x[[0, 2, 2]]", (((3,),), ((3, 2),))),
    Spec("getitem", "x[np.array([1, 0, 1]), np.array([2, 2, 0])]", (((2, 3),),)),
    Spec("getitem", "x[:, [2, 0, 0, 1]]", (((2, 3),), ((2, 3, 4),))),
    Spec("getitem", "x[C]", (((2, 3),), ((2, 3, 4),))),
    Spec("getitem", "x[x > 0] ** 2", (((3,),), ((2, 3),)), NONZERO),
    Spec("getitem", "x[np.newaxis, ..., 1:] * x[..., None, :2]", (((3, 3),),)),
    Spec("getitem", "x[1, ..., None]", (((2, 3, 4),),)),
    Spec("getitem", "x[:, None] * x[None, :]", (((3,),), ((2, 3),))),
    Spec("getitem", "np.sin(x[None]) + x[..., None, :]", (((3,),), ((2, 3),))),
    Spec("setitem", "t * x", (((2, 3), (2, 3)),), pre="t = x * 1.0; t[C] = y[C]",
         label="t[C] = y[C]"),
    Spec("setitem", "t * x", (((2, 3), F),), NONZERO, pre="t = x * 2.0; t[x > 0] = y",
         label="t[x > 0] = y"),
    Spec("setitem", "t * x", (((3,), (3,)),), pre="t = x * 1.0; t[[2, 0]] = y[:2] ** 2",
         label="t[[2, 0]] = y[:2] ** 2"),
    Spec("setitem", "t", (((2, 3), (2, 3)),),
         pre="t = x * 1.0; t[C] += y[C] * x[C]", label="t[C] += y[C] * x[C]"),
    Spec("setitem", "t", (((3, 2), (2,)),), pre="t = x * 1.0; t[[0, 2, 0]] += y",
         label="t[[0, 2, 0]] += y"),
    Spec("setitem", "t", (((2, 3, 4), (4,)),), pre="t = x * 1.0; t[..., 1, :] = y * y",
         label="t[..., 1, :] = y * y"),
    # method spellings: x.f(...) is np.f(x, ...)
    Spec(np.ravel, "x.ravel()", (((2, 3),),)),
    Spec(np.ndarray.flatten, "x.flatten()", (((2, 3),), ((3,),))),
    Spec(np.ndarray.flatten, "x.flatten('F') * x.flatten()", (((2, 3),),)),
    Spec(np.squeeze, "x.squeeze()", (((1, 3),),)),
    Spec(np.swapaxes, "x.swapaxes(0, 1)", (((2, 3),),)),
    Spec(np.cumsum, "x.cumsum(axis=1)", (((2, 3),),)),
    Spec(np.cumprod, "x.cumprod()", (((2, 3),),), NONZERO),
    Spec(np.prod, "x.prod(axis=0)", (((2, 3),),), NONZERO),
    Spec(np.var, "x.var(axis=1)", (((2, 3),),)),
    Spec(np.std, "(x + o).std()", (((2, 3),),), pre="o = np.reshape(np.arange(6.0) * 5.0, (2, 3))"),
    Spec(np.trace, "x.trace()", (((3, 3),),)),
    Spec(np.diagonal, "x.diagonal(1)", (((3, 3),),)),
    Spec(np.repeat, "x.repeat(2, axis=0)", (((2, 3),),)),
    Spec(np.take, "x.take([2, 0, 0])", (((2, 3),),)),
]


NONDIFF: list[Spec] = [
    Spec(np.round, "x.round(1)", ARRAY1),
    Spec(np.any, "np.any(x > 0) * 1.0", ARRAY1),
    Spec(np.all, "x.all(axis=0) * 1.0", (((2, 3),),)),
    # ---- Python operators ----------------------------------------------------
    Spec("floordiv", "x // y", BINARY, (REAL, NONZERO)),
    Spec("lt", "x < y", BINARY, LATTICE),
    Spec("le", "x <= y", BINARY, LATTICE),
    Spec("gt", "x > y", BINARY, LATTICE),
    Spec("ge", "x >= y", BINARY, LATTICE),
    Spec("eq", "x == y", BINARY, LATTICE),
    Spec("ne", "x != y", BINARY, LATTICE),
    Spec("not", "not x", SCALAR1, LATTICE),
    # ---- math ----------------------------------------------------------------
    Spec(math.floor, "math.floor(x)", SCALAR1),
    Spec(math.ceil, "math.ceil(x)", SCALAR1),
    Spec(math.trunc, "math.trunc(x)", SCALAR1),
    Spec(math.isnan, "math.isnan(x)", SCALAR1),
    Spec(math.isinf, "math.isinf(x)", SCALAR1),
    Spec(math.isfinite, "math.isfinite(x)", SCALAR1),
    # ---- builtins ------------------------------------------------------------
    Spec(builtins.round, "round(x)", SCALAR1),
    Spec(builtins.round, "round(x, 1)", SCALAR1),
    Spec(builtins.int, "int(x)", SCALAR1),
    Spec(builtins.len, "len(x)", ARRAY1),
    Spec(builtins.bool, "bool(x)", SCALAR1, LATTICE),
    # ---- NumPy -----------------------------------------------------------------
    Spec(np.sign, "np.sign(x)", UNARY, LATTICE),
    Spec(np.floor, "np.floor(x)", UNARY),
    Spec(np.ceil, "np.ceil(x)", UNARY),
    Spec(np.round, "np.round(x, 1)", UNARY),
    Spec(np.rint, "np.rint(x)", UNARY),
    Spec(np.trunc, "np.trunc(x)", UNARY),
    Spec(np.fix, "np.fix(x)", UNARY),
    Spec(np.less, "np.less(x, y)", BINARY, LATTICE),
    Spec(np.less_equal, "np.less_equal(x, y)", BINARY, LATTICE),
    Spec(np.greater, "np.greater(x, y)", BINARY, LATTICE),
    Spec(np.greater_equal, "np.greater_equal(x, y)", BINARY, LATTICE),
    Spec(np.equal, "np.equal(x, y)", BINARY, LATTICE),
    Spec(np.not_equal, "np.not_equal(x, y)", BINARY, LATTICE),
    Spec(np.logical_and, "np.logical_and(x > 0.0, y > 0.0)", BINARY, LATTICE),
    Spec(np.logical_or, "np.logical_or(x > 0.0, y > 0.0)", BINARY, LATTICE),
    Spec(np.logical_not, "np.logical_not(x > 0.0)", UNARY, LATTICE),
    Spec(np.isnan, "np.isnan(x)", UNARY),
    Spec(np.isinf, "np.isinf(x)", UNARY),
    Spec(np.isfinite, "np.isfinite(x)", UNARY),
    Spec(np.argmax, "np.argmax(x)", ARRAY1),
    Spec(np.argmin, "np.argmin(x)", ARRAY1),
    Spec(np.shape, "len(np.shape(x))", UNARY),
    Spec(np.size, "np.size(x)", UNARY),
    Spec(np.ndim, "np.ndim(x)", UNARY),
    Spec(np.zeros_like, "np.zeros_like(x)", UNARY),
    Spec(np.ones_like, "np.ones_like(x)", UNARY),
    Spec(np.empty_like, "np.empty_like(x).shape[-1] * 1.0", ARRAY1),
    Spec(np.zeros, "np.zeros(3)", ARRAY1),
    Spec(np.ones, "np.ones(3)", ARRAY1),
    Spec(np.empty, "np.sum(np.empty(0)) + 1.0", ARRAY1),
    Spec(np.eye, "np.eye(3)[1]", ARRAY1),
    Spec(np.arange, "np.arange(3.0)", ARRAY1),
    Spec(builtins.range, "len(range(3)) * 1.0", UNARY),
    Spec(builtins.slice, "np.arange(4.0)[slice(1, 4)]", ARRAY1),
    Spec("attr.shape", "x.shape[-1] * 1.0", ARRAY1),
    Spec("attr.ndim", "x.ndim * 1.0", ARRAY1),
    Spec("attr.size", "x.size * 1.0", ARRAY1),
    Spec(srcgrad.stop_gradient, "srcgrad.stop_gradient(np.sin(x))", UNARY),
    Spec("is", "(x is None) + 1.0", UNARY),
    Spec("newlist", "len(xs) + 1.0", UNARY, pre="xs = []"),
    Spec("isnot", "(x is not None) + 0.5", UNARY),
]


# Rows kept in their own modules (one per rule table), joined here.
from spec_complex import DIFF_COMPLEX, NONDIFF_COMPLEX  # noqa: E402
from spec_decomp import DIFF_DECOMP, NONDIFF_DECOMP  # noqa: E402
from spec_fft import DIFF_FFT, NONDIFF_FFT  # noqa: E402
from spec_linalg import DIFF_LINALG, NONDIFF_LINALG  # noqa: E402
from spec_numpy_more import DIFF_MORE, NONDIFF_MORE  # noqa: E402 - they import this module
from spec_operators import DIFF_OPERATORS, NONDIFF_OPERATORS  # noqa: E402
from spec_parity import DIFF_PARITY, NONDIFF_PARITY  # noqa: E402
from spec_ported import DIFF_PORTED, NONDIFF_PORTED  # noqa: E402
from spec_scipy import DIFF_SCIPY, NONDIFF_SCIPY  # noqa: E402
from spec_scipy_more import DIFF_SCIPY_MORE, NONDIFF_SCIPY_MORE  # noqa: E402
from spec_shape import DIFF_SHAPE, NONDIFF_SHAPE  # noqa: E402

DIFF += (DIFF_MORE + DIFF_SCIPY + DIFF_LINALG + DIFF_SHAPE + DIFF_DECOMP + DIFF_OPERATORS
         + DIFF_SCIPY_MORE + DIFF_PORTED + DIFF_COMPLEX + DIFF_FFT + DIFF_PARITY)
NONDIFF += (NONDIFF_MORE + NONDIFF_SCIPY + NONDIFF_LINALG + NONDIFF_SHAPE + NONDIFF_DECOMP
            + NONDIFF_OPERATORS + NONDIFF_SCIPY_MORE + NONDIFF_PORTED + NONDIFF_COMPLEX
            + NONDIFF_FFT + NONDIFF_PARITY)


def function_name(kind: str, index: int, spec: Spec) -> str:
    """The name of one of row ``index``'s generated functions (see ``module_source``)."""
    slug = re.sub(r"\W+", "_", f"{key_name(spec.key)}_{spec.id}").strip("_")
    return f"{kind}{index}_{slug[:40]}"


def _function(name: str, params: list[str], pre: str, ret: str) -> str:
    body = f"    {pre}\n" if pre else ""
    return f"def {name}({', '.join(params)}):\n{body}    return {ret}\n"


def module_source() -> str:
    """The generated user module. For row ``i`` of DIFF, function ``d{i}_...``
    returns the row's expression and ``dw{i}_...`` its sum weighted by ``w``. For
    row ``i`` of NONDIFF, ``n{i}_...`` returns the non-differentiable value S,
    ``nf{i}_...`` returns ``S * x`` and ``nw{i}_...`` the weighted sum of ``S * x``."""
    parts = ['"""Generated by tests/rulespec.py: functions exercising each rule spec row."""',
             "import math", "import operator", "", "import numpy as np", "", "import srcgrad", "",
             "try:", "    import scipy.special as special", "    import scipy.stats as stats",
             "    import scipy.linalg", "    import scipy.signal as signal",
             "except ImportError:", "    special = stats = signal = None", "",
             f"C = np.array({CONDITION.tolist()!r})",
             f"SPREAD = np.array({SPREAD.tolist()!r})", ""]
    for i, s in enumerate(DIFF):
        p = list(s.params)
        parts.append(_function(function_name("d", i, s), p, s.pre, s.source))
        parts.append(_function(function_name("dw", i, s), [*p, "w"], s.pre,
                               f"np.sum(({s.source}) * w)"))
    for i, s in enumerate(NONDIFF):
        p = list(s.params)
        parts.append(_function(function_name("n", i, s), p, s.pre, s.source))
        parts.append(_function(function_name("nf", i, s), p, s.pre, f"({s.source}) * x"))
        parts.append(_function(function_name("nw", i, s), [*p, "w"], s.pre,
                               f"np.sum(({s.source}) * x * w)"))
    return "\n".join(parts)


def load_module(path, name: str):
    """The generated user module (``module_source``) written to ``path`` (a real file:
    srcgrad reads source) and imported as ``name``."""
    import importlib.util

    path.write_text(module_source())
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def sampled_rows(every: int) -> list:
    """Every ``every``-th differentiable row that is not a known gap, as pytest
    parameters (its index, named by its source): the sweeps over other backends and
    array types."""
    import pytest

    return [pytest.param(i, id=f"{i}:{s.source[:40]}") for i, s in enumerate(DIFF)
            if i % every == 0 and not s.xfail]
