"""Spec rows for srcgrad/rules/numpy_more.py (joined into rulespec's tables)."""

# ruff: noqa: F405 - the names below come from the star import
from rulespec import *  # noqa: F403 - the shapes, domains and Spec of the main table

ACOSH: Domain = ((1.2, 3.0),)
MATRIX2 = (((2, 3),),)
# Offsets 5 apart in a shuffled order (values span 4): no two entries tie, so std is never
# 0 and sort's permutation is fixed (and not the identity).
APART = "o = np.reshape(np.arange(np.size(x)) * 5 % np.size(x) * 5.0, np.shape(x))"


def _reduction_rows(fn, name: str, domain=REAL, scalars=True, pre="") -> list:
    x = "x + o" if pre else "x"
    rows = [Spec(fn, f"np.{name}({x})", UNARY if scalars else ARRAY1 + MATRIX1,
                 domain, pre=pre)]
    for axis in ("0", "1", "-1", "(0, 1)"):
        for keepdims in ("False", "True"):
            rows.append(Spec(fn, f"np.{name}({x}, axis={axis}, keepdims={keepdims})",
                             MATRIX1, domain, pre=pre))
    rows.append(Spec(fn, f"np.{name}({x}, 0)", ARRAY1, domain, pre=pre))
    return rows


DIFF_MORE: list = [
    # ---- elementwise -------------------------------------------------------------
    Spec(np.cbrt, "np.cbrt(x)", UNARY, NONZERO),
    Spec(np.exp2, "np.exp2(x)", UNARY),
    Spec(np.logaddexp, "np.logaddexp(x, y)", BINARY),
    Spec(np.logaddexp2, "np.logaddexp2(x, y)", BINARY),
    Spec(np.arcsinh, "np.arcsinh(x)", UNARY),
    Spec(np.arccosh, "np.arccosh(x)", UNARY, ACOSH),
    Spec(np.arctanh, "np.arctanh(x)", UNARY, UNIT),
    Spec(np.sinc, "np.sinc(x)", UNARY, AWAY0),
    Spec(np.deg2rad, "np.deg2rad(x)", UNARY),
    Spec(np.radians, "np.radians(x)", UNARY),
    Spec(np.rad2deg, "np.rad2deg(x)", UNARY),
    Spec(np.degrees, "np.degrees(x)", UNARY),
    Spec(np.positive, "np.positive(x)", UNARY),
    Spec(np.float_power, "np.float_power(x, y)", BINARY, (POS, REAL)),
    Spec(np.float_power, "np.float_power(x, 3.0)", UNARY, label="np.float_power(x,3.0)"),
    Spec(np.fmax, "np.fmax(x, y)", BINARY, (TIE1, TIE2)),
    Spec(np.fmax, "np.fmax(y, x)", BINARY, (TIE1, TIE2)),
    Spec(np.fmin, "np.fmin(x, y)", BINARY, (TIE1, TIE2)),
    Spec(np.fmin, "np.fmin(y, x)", BINARY, (TIE1, TIE2)),
    Spec(np.fmax, "np.fmax(np.where(C, x, np.nan), y)", (((2, 3), (2, 3)), ((2, 3), F)),
         (TIE1, TIE2), label="fmax(nan,y)"),
    Spec(np.fmin, "np.fmin(x, np.where(C, y, np.nan))", (((2, 3), (2, 3)), (F, (2, 3))),
         (TIE1, TIE2), label="fmin(x,nan)"),
    Spec(np.copysign, "np.copysign(x, y)", BINARY, (AWAY0, AWAY0)),
    Spec(np.copysign, "np.copysign(x, -1.0)", UNARY, AWAY0, label="np.copysign(x,-1.0)"),
    Spec(np.fmod, "np.fmod(x, y)", BINARY, (MOD_X, MOD_Y)),
    Spec(np.mod, "np.mod(x, y)", BINARY, (MOD_X, MOD_Y)),
    Spec(np.mod, "np.remainder(x, y)", BINARY, (MOD_X, MOD_Y)),
    Spec(np.nan_to_num, "np.nan_to_num(x)", UNARY),
    Spec(np.nan_to_num, "np.nan_to_num(x, nan=1.0)", UNARY),
    # ---- reductions --------------------------------------------------------------
    *_reduction_rows(np.prod, "prod", NONZERO),
    *_reduction_rows(np.var, "var"),
    Spec(np.var, "np.var(x, ddof=1)", ARRAY1 + MATRIX1),
    Spec(np.var, "np.var(x, axis=1, ddof=1, keepdims=True)", MATRIX1),
    *_reduction_rows(np.std, "std", scalars=False, pre=APART),
    Spec(np.std, "np.std(x + o, ddof=1)", ARRAY1 + MATRIX1, pre=APART),
    Spec(np.std, "np.std(x + o, axis=0, ddof=1)", MATRIX1, pre=APART),
    Spec(np.average, "np.average(x)", UNARY),
    Spec(np.average, "np.average(x, axis=1)", MATRIX1),
    Spec(np.average, "np.average(x, axis=(0, 1))", MATRIX1),
    Spec(np.average, "np.average(x, 0)", ARRAY1),
    Spec(np.average, "np.average(x, weights=y)", (((3,), (3,)), ((2, 3), (2, 3))), (REAL, POS)),
    Spec(np.average, "np.average(x, axis=1, weights=y)", (((2, 3), (2, 3)), ((2, 3), (3,))),
         (REAL, POS)),
    Spec(np.average, "np.average(x, 0, y)", (((2, 3), (2,)), ((2, 3, 4), (2, 3, 4))),
         (REAL, POS)),
    Spec(np.average, "np.average(x, axis=-1, weights=y)", (((2, 3, 4), (4,)),), (REAL, POS)),
    Spec(np.average, "np.average(x, axis=0, weights=np.array([1.0, 3.0]))", MATRIX1,
         label="np.average(x,axis=0,weights=const)"),
    Spec(np.cumsum, "np.cumsum(x)", UNARY + MATRIX1),
    Spec(np.cumsum, "np.cumsum(x, axis=1)", MATRIX1),
    Spec(np.cumsum, "np.cumsum(x, 0)", ARRAY1),
    Spec(np.cumprod, "np.cumprod(x)", UNARY + MATRIX1, NONZERO),
    Spec(np.cumprod, "np.cumprod(x, axis=1)", MATRIX1, NONZERO),
    Spec(np.cumprod, "np.cumprod(x, -1)", ARRAY1, NONZERO),
    Spec(np.diff, "np.diff(x)", ARRAY1 + MATRIX1),
    Spec(np.diff, "np.diff(x, axis=0)", MATRIX1),
    Spec(np.diff, "np.diff(x, 2)", (((4,),), ((2, 4),))),
    Spec(np.diff, "np.diff(x, n=2, axis=1)", (((2, 4, 3),),)),
    Spec(np.amax, "np.amax(x + SPREAD)", MATRIX2),
    Spec(np.amax, "np.amax(x + SPREAD, axis=1)", MATRIX2),
    Spec(np.amax, "np.amax(x + SPREAD, axis=0, keepdims=True)", MATRIX2),
    Spec(np.amin, "np.amin(x + SPREAD)", MATRIX2),
    Spec(np.amin, "np.amin(x + SPREAD, axis=-1)", MATRIX2),
    Spec(np.ptp, "np.ptp(x + SPREAD)", MATRIX2),
    Spec(np.ptp, "np.ptp(x + SPREAD, axis=1)", MATRIX2),
    Spec(np.ptp, "np.ptp(x + SPREAD, axis=0, keepdims=True)", MATRIX2),
    *_reduction_rows(np.nansum, "nansum"),
    *_reduction_rows(np.nanmean, "nanmean"),
    Spec(np.nansum, "np.nansum(np.where(C, x, np.nan))", MATRIX2, label="nansum(nan)"),
    Spec(np.nansum, "np.nansum(np.where(C, x, np.nan), axis=0)", MATRIX2,
         label="nansum(nan,axis=0)"),
    Spec(np.nanmean, "np.nanmean(np.where(C, x, np.nan))", MATRIX2, label="nanmean(nan)"),
    Spec(np.nanmean, "np.nanmean(np.where(C, x, np.nan), axis=1, keepdims=True)", MATRIX2,
         label="nanmean(nan,axis=1)"),
    # ---- sorting -----------------------------------------------------------------
    Spec(np.sort, "np.sort(x + o)", ARRAY1 + MATRIX1, pre=APART),
    Spec(np.sort, "np.sort(x + o, axis=0)", MATRIX1, pre=APART),
    Spec(np.sort, "np.sort(x + o, axis=None)", MATRIX1, pre=APART),
]

NONDIFF_MORE: list = [
    Spec(np.heaviside, "np.heaviside(x, 0.5)", UNARY, AWAY0),
    Spec(np.heaviside, "np.heaviside(x, y)", BINARY, (AWAY0, REAL)),
    Spec(np.argsort, "np.argsort(x)", ARRAY1),
]
