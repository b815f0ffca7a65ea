"""Spec rows for srcgrad/rules/linalg.py (joined into rulespec's tables)."""

# ruff: noqa: F405
from rulespec import *  # noqa: F403 - the shapes, domains and Spec of the main table

SQ = (((3, 3),),)
AWAY: Domain = ((-2.0, -0.5), (0.5, 2.0))
# Entries this small keep x + 3 I diagonally dominant: well conditioned, so finite
# differences of inv, solve and det are accurate.
SMALL: Domain = ((-0.6, 0.6),)
# Entries this small move the singular values of DIAG3 / DIAG23 (below) by at most 0.9:
# they stay apart and away from 0, so nuclear and 2-norms are smooth there.
TINY: Domain = ((-0.3, 0.3),)
DIAG3 = "np.diag([8.0, 4.0, 1.5])"
DIAG23 = "np.array([[4.0, 0.0, 0.0], [0.0, 1.5, 0.0]])"
# x + SPREAD (2, 3): unique largest/smallest |entry| per row, row sum and column sum;
# NONZERO keeps the one small entry, x[0, 0], off the kink of abs.
SPREAD3 = "SPREAD[..., None]"  # (2, 3, 1): the same, for each of a last axis


def _einsum(sub: str, cases, **kw) -> Spec:
    args = ", ".join("xyz"[: len(cases[0])])
    return Spec(np.einsum, f"np.einsum('{sub}', {args})", cases, **kw)


def _norm(args: str, cases, domain=NONZERO, arg="x") -> Spec:
    return Spec(np.linalg.norm, f"np.linalg.norm({arg}, {args})", cases, domain)

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
    Spec(np.tensordot, "np.tensordot(x, y, axes=([1, 0], [0, 1]))",
         (((2, 3), (3, 2)), ((2, 3, 4), (3, 2, 5)))),
    Spec(np.tensordot, "np.tensordot(x, y, axes=(1, 0))", (((2, 3), (3, 4)), ((2, 3, 4), (3, 5)))),
    Spec(np.tensordot, "np.tensordot(x, y, ([0], [1]))", (((3, 2), (4, 3)),)),
    Spec(np.tensordot, "np.tensordot(x, y, axes=([2, 0], [0, -1]))", (((2, 3, 4), (4, 5, 2)),)),
    Spec(np.tensordot, "np.tensordot(x, y, axes=(-1, 0))", (((2, 3), (3,)),)),
    Spec(np.kron, "np.kron(x, y)", (((2,), (3,)), ((2, 3), (2, 2)), ((2, 3), (4,)),
                                    ((3,), (2, 2)))),
    Spec(np.linalg.norm, "np.linalg.norm(x)", (((3,),), ((2, 3),), ((2, 3, 4),)), domain=AWAY),
    # vector norms
    _norm("keepdims=True", (((3,),), ((2, 3),)), AWAY),
    _norm("2", (((3,),),), AWAY),
    _norm("axis=1", (((2, 3),), ((2, 3, 4),)), AWAY),
    _norm("None, -1, True", (((2, 3),),), AWAY),
    _norm("2, axis=0", (((2, 3),),), AWAY),
    _norm("1", (((3,),),)),
    _norm("1, axis=0, keepdims=True", (((2, 3),),)),
    _norm("np.inf", (((3,),),), arg="x + SPREAD[0]"),
    _norm("-np.inf", (((3,),),), arg="x + SPREAD[0]"),
    _norm("np.inf, axis=1", (((2, 3),),), arg="x + SPREAD"),
    _norm("ord=-np.inf, axis=-1", (((2, 3),),), arg="x + SPREAD"),
    _norm("0", (((3,),),)),
    _norm("0, axis=1", (((2, 3),),)),
    _norm("3", (((3,),),)),
    _norm("0.5", (((3,),),)),
    _norm("-1", (((3,),),)),
    _norm("-2.5, axis=1", (((2, 3),),)),
    _norm("1.5, axis=0", (((2, 3),),)),
    # matrix norms
    _norm("'fro'", (((2, 3),),), AWAY),
    _norm("None, (0, 2)", (((2, 3, 4),),), AWAY),
    _norm("'fro', (2, 1), True", (((2, 3, 4),),), AWAY),
    _norm("'nuc'", (((3, 3),),), TINY, f"x + {DIAG3}"),
    _norm("'nuc'", (((2, 3),),), TINY, f"x + {DIAG23}"),
    _norm("2", (((3, 3),),), TINY, f"x + {DIAG3}"),
    _norm("2", (((2, 3),),), TINY, f"x + {DIAG23}"),
    _norm("-2", (((3, 3),),), TINY, f"x + {DIAG3}"),
    _norm("-2", (((2, 3),),), TINY, f"x + {DIAG23}"),
    _norm("'nuc', axis=(1, 2)", (((2, 3, 3),),), TINY, f"x + {DIAG3}"),
    _norm("2, axis=(-1, -2), keepdims=True", (((2, 3, 3),),), TINY, f"x + {DIAG3}"),
    _norm("-2, axis=(2, 1)", (((2, 2, 3),),), TINY, f"x + {DIAG23}"),
    _norm("1", (((2, 3),),), arg="x + SPREAD"),
    _norm("-1", (((2, 3),),), arg="x + SPREAD"),
    _norm("np.inf", (((2, 3),),), arg="x + SPREAD"),
    _norm("-np.inf", (((2, 3),),), arg="x + SPREAD"),
    _norm("1, axis=(0, 1)", (((2, 3, 4),),), arg=f"x + {SPREAD3}"),
    _norm("-1, axis=(1, 0), keepdims=True", (((2, 3, 4),),), arg=f"x + {SPREAD3}"),
    _norm("np.inf, axis=(0, 1)", (((2, 3, 4),),), arg=f"x + {SPREAD3}"),
    _norm("-np.inf, axis=(1, 0)", (((2, 3, 4),),), arg=f"x + {SPREAD3}"),
    # einsum: explicit and implicit output, traces and diagonals, ellipses, 1-3 operands
    _einsum("ij,jk->ik", (((2, 3), (3, 4)),)),
    _einsum("ij,jk", (((2, 3), (3, 4)),)),
    _einsum("bA,Ac", (((2, 3), (3, 4)),)),
    _einsum("ji", (((2, 3),),)),
    _einsum("ij->", (((2, 3),),)),
    _einsum("ij->j", (((2, 3),),)),
    _einsum("ii->i", (((3, 3),),)),
    _einsum("ii", (((3, 3),),)),
    _einsum("iij->ji", (((3, 3, 2),),)),
    _einsum("iji->j", (((3, 2, 3),),)),
    _einsum("...ii->...i", (((2, 3, 3),), ((3, 3),))),
    _einsum("i...->...", (((2, 3),), ((2,),), ((2, 3, 4),))),
    _einsum("...ij,...jk->...ik", (((2, 2, 3), (2, 3, 4)), ((1, 2, 3), (4, 3, 2)),
                                   ((2, 3), (5, 3, 4)), ((2, 2, 3), (3, 4)))),
    _einsum("...ij,...jk", (((2, 2, 3), (2, 3, 4)), ((1, 2, 3), (4, 3, 2)))),
    _einsum("ij,ij->ij", (((2, 3), (2, 3)), ((2, 3), (1, 3)), ((2, 1), (1, 3)))),
    _einsum("ij,j->j", (((2, 3), (3,)),)),
    _einsum("ii,j->j", (((3, 3), (2,)),)),
    _einsum("i,i", (((3,), (3,)),)),
    _einsum("i,", (((3,), ()), ((3,), F))),
    _einsum("ij,k->ikj", (((2, 3), (4,)),)),
    _einsum("ij,jk,kl->il", (((2, 3), (3, 4), (4, 2)),)),
    _einsum("ij,jk,ki", (((2, 3), (3, 4), (4, 2)),)),
    _einsum("ii,ij,jk->k", (((3, 3), (3, 2), (2, 4)),)),
    _einsum("...i,...i,...i->...", (((2, 3), (3,), (1, 3)),)),
    Spec(np.einsum, "np.einsum('i,i', x, x)", (((3,),),), label="einsum(x,x)"),
    Spec(np.einsum, "np.einsum('ij,jk->ik', x, y, optimize=True)", (((2, 3), (3, 4)),)),
    # cross products of 3-vectors, batched and broadcast
    Spec(np.cross, "np.cross(x, y)", (((3,), (3,)), ((2, 3), (3,)), ((2, 1, 3), (4, 3)),
                                      ((4, 3), (4, 3)))),
    Spec(np.cross, "np.cross(x, y, axis=0)", (((3, 2), (3, 2)), ((3, 1), (3, 4)))),
    Spec(np.cross, "np.cross(x, y, axisa=0, axisb=-1, axisc=0)", (((3, 2), (2, 3)),)),
    Spec(np.cross, "np.cross(x, y, 1, 0, 1)", (((2, 3), (3,)),)),
    Spec(np.linalg.matrix_power, "np.linalg.matrix_power(x, 3)", SQ),
    Spec(np.linalg.matrix_power, "np.linalg.matrix_power(x, 1)", SQ),
    Spec(np.linalg.matrix_power, "np.linalg.matrix_power(x, 0)", SQ),
    Spec(np.linalg.matrix_power, "np.linalg.matrix_power(x, 2)", (((2, 3, 3),),)),
]
NONDIFF_LINALG: list = []
