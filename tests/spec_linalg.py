"""Spec rows for srcgrad/rules/linalg.py (joined into rulespec's tables)."""

# ruff: noqa: F405
from rulespec import *  # noqa: F403 - the shapes, domains and Spec of the main table

SQ = (((3, 3),),)
AWAY: Domain = ((-2.0, -0.5), (0.5, 2.0))
# Entries this small keep x + 3 I diagonally dominant: well conditioned, so finite
# differences of inv, solve and det are accurate.
SMALL: Domain = ((-0.6, 0.6),)

DIFF_LINALG: list = [
    Spec(np.trace, "np.trace(x)", (((3, 3),), ((2, 3),), ((2, 3, 4),))),
    Spec(np.trace, "np.trace(x, 1)", (((3, 3),), ((3, 4),))),
    Spec(np.trace, "np.trace(x, offset=-1, axis1=1, axis2=2)", (((2, 3, 4),),)),
    Spec(np.vdot, "np.vdot(x, y)", (((3,), (3,)), ((2, 3), (2, 3)), ((2, 3), (6,)))),
    Spec(np.inner, "np.inner(x, y)", (((3,), (3,)), ((2, 3), (3,)), ((2, 3), (4, 3)),
                                      ((), (3,)), ((3,), F))),
    Spec(np.linalg.inv, "np.linalg.inv(x + 3 * np.eye(3))", SQ, SMALL),
    Spec(np.linalg.inv, "np.linalg.inv(x + 3 * np.eye(3))", (((2, 3, 3),),), SMALL,
         label="batched"),
    Spec(np.linalg.solve, "np.linalg.solve(x + 3 * np.eye(3), y)",
         (((3, 3), (3,)), ((3, 3), (3, 2))), (SMALL, REAL)),
    Spec(np.linalg.det, "np.linalg.det(x + 3 * np.eye(3))", (((3, 3),), ((2, 3, 3),)),
         SMALL),
    Spec(np.tensordot, "np.tensordot(x, y)", (((2, 3), (2, 3)), ((4, 2, 3), (2, 3, 5)))),
    Spec(np.tensordot, "np.tensordot(x, y, 1)", (((2, 3), (3, 4)), ((2, 3), (3,)))),
    Spec(np.tensordot, "np.tensordot(x, y, axes=0)", (((2,), (3,)), ((2, 2), (3,)))),
    Spec(np.kron, "np.kron(x, y)", (((2,), (3,)), ((2, 3), (2, 2)), ((2, 3), (4,)),
                                    ((3,), (2, 2)))),
    Spec(np.linalg.norm, "np.linalg.norm(x)", (((3,),), ((2, 3),)), domain=AWAY),
    Spec(np.linalg.matrix_power, "np.linalg.matrix_power(x, 3)", SQ),
    Spec(np.linalg.matrix_power, "np.linalg.matrix_power(x, 1)", SQ),
    Spec(np.linalg.matrix_power, "np.linalg.matrix_power(x, 0)", SQ),
    Spec(np.linalg.matrix_power, "np.linalg.matrix_power(x, 2)", (((2, 3, 3),),)),
]
NONDIFF_LINALG: list = []
