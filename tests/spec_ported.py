"""Spec rows for srcgrad/rules/numpy_ported.py (joined into rulespec's tables)."""

# ruff: noqa: F405
from rulespec import *  # noqa: F403 - the shapes, domains and Spec of the main table

V5 = (((5,),),)
M45 = (((4, 5),),)
# np.interp: the knots XP, and points x kept 0.1 away from them (the slope jumps there).
XP = "np.array([-1.5, -0.2, 0.4, 1.6])"
XS = "np.array([-1.8, -0.7, 0.1, 0.9, 1.9])"
OFF_KNOTS: Domain = ((-2.0, -1.6), (-1.4, -0.3), (-0.1, 0.3), (0.5, 1.5), (1.7, 2.0))
COORDS = "np.array([0.0, 0.5, 1.5, 1.75, 3.0])"
MODES = ("full", "same", "valid")
LENGTHS = (((5,), (3,)), ((3,), (5,)), ((4,), (4,)), ((2,), (5,)), ((4,), (5,)), ((1,), (3,)))

DIFF_PORTED: list = [
    Spec(np.gradient, "np.gradient(x)", (((5,),), ((3,),))),
    Spec(np.gradient, "np.gradient(x, 0.5)", V5),
    Spec(np.gradient, "np.gradient(x, 0.5, edge_order=2)", V5),
    Spec(np.gradient, f"np.gradient(x, {COORDS})", V5),
    Spec(np.gradient, f"np.gradient(x, {COORDS}, edge_order=2)", V5),
    Spec(np.gradient, "np.gradient(x)[1] * np.gradient(x)[0]", M45, label="gradient 2-d"),
    Spec(np.gradient, "np.stack(np.gradient(x, 0.5, 2.0))", M45),
    Spec(np.gradient, f"np.gradient(x, 2.0, {COORDS}, edge_order=2)[1]", M45),
    Spec(np.gradient, "np.gradient(x, axis=1)", M45),
    Spec(np.gradient, "np.gradient(x, 0.25, axis=-2, edge_order=2)", (((4, 5, 3),),)),
    Spec(np.gradient, "np.gradient(x, 0.5, 3.0, axis=(0, 2))[1]", (((4, 5, 3),),)),
    Spec(np.rollaxis, "np.rollaxis(x, 2)", (((2, 3, 4),),)),
    Spec(np.rollaxis, "np.rollaxis(x, 0, 3)", (((2, 3, 4),),)),
    Spec(np.rollaxis, "np.rollaxis(x, -1, 1)", (((2, 3, 4),),)),
    Spec(np.rollaxis, "np.rollaxis(x, 1, start=-3)", (((2, 3, 4),),)),
    Spec(np.rollaxis, "np.rollaxis(x, 1)", (((2, 3),),)),
    Spec(np.interp, f"np.interp(x, {XP}, y)", ((F, (4,)), ((), (4,)), ((3,), (4,)),
                                                ((2, 3), (4,))), (OFF_KNOTS, REAL)),
    Spec(np.interp, f"np.interp(x, {XP}, y, left=-1.0, right=2.0)", (((6,), (4,)),),
         (OFF_KNOTS, REAL)),
    Spec(np.interp, f"np.interp(x, {XP}, y, 0.5)", (((6,), (4,)),), (OFF_KNOTS, REAL)),
    Spec(np.interp, f"np.interp(x, {XP}, np.sin(y))", (((3,), (4,)),), (OFF_KNOTS, REAL)),
    Spec(np.interp, f"np.interp(x, {XP}, y) * x", (((5,), (4,)),), (OFF_KNOTS, REAL)),
    Spec(np.interp, f"np.interp({XS}, {XP}, x)", (((4,),),)),
    Spec(np.interp, f"np.interp(x, {XP}, x * x)", (((4,),),), OFF_KNOTS),
    Spec(np.polyval, "np.polyval(x, y)", (((3,), F), ((4,), (5,)), ((1,), (2,)),
                                          ((3,), (2, 3)))),
    Spec(np.polyval, "np.polyval(x, y) * y", (((4,), (3,)),)),
    Spec(np.polyder, "np.polyder(x)", (((4,),), ((2,),))),
    Spec(np.polyder, "np.polyder(x, 2)", (((5,),),)),
    Spec(np.polyder, "np.polyder(x, m=3)", (((5,),),)),
]
for _mode in MODES:
    DIFF_PORTED += [
        Spec(np.convolve, f"np.convolve(x, y, {_mode!r})", LENGTHS),
        Spec(np.correlate, f"np.correlate(x, y, mode={_mode!r})", LENGTHS),
    ]
DIFF_PORTED += [
    Spec(np.convolve, "np.convolve(x, y)", (((5,), (3,)),)),
    Spec(np.convolve, "np.convolve(x, x * y)", (((4,), (4,)),)),
    Spec(np.correlate, "np.correlate(x, y)", (((5,), (3,)),)),
    Spec(np.correlate, "np.correlate(x * y, y, 'same')", (((4,), (4,)),)),
]
# lstsq: a tall a near a well-conditioned one (distinct singular values 9, 6, 3).
TALL = "(x + np.eye(5, 3) * np.array([9.0, 6.0, 3.0]))"
SMALL: Domain = ((-0.5, 0.5),)
LSTSQ = (((5, 3), (5,)), ((5, 3), (5, 2)))
DIFF_PORTED += [
    Spec(np.linalg.lstsq, f"np.linalg.lstsq({TALL}, y)[0]", LSTSQ, SMALL),
    Spec(np.linalg.lstsq, f"np.linalg.lstsq({TALL}, y, rcond=None)[1]", LSTSQ, SMALL),
    Spec(np.linalg.lstsq, f"np.linalg.lstsq({TALL}, y)[3]", LSTSQ, SMALL),
    Spec(np.linalg.lstsq, f"np.linalg.lstsq({TALL}, y)[0] ** 2", (((5, 3), (5, 2)),), SMALL,
         label="lstsq x**2"),
    Spec(np.linalg.lstsq, "np.linalg.lstsq(x + 3 * np.eye(3), y)[0]", (((3, 3), (3,)),),
         SMALL),
    Spec(np.linalg.lstsq, "np.linalg.lstsq(np.eye(5, 3) + 0.5, x)[0]", (((5,),), ((5, 2),))),
]
NONDIFF_PORTED: list = []
