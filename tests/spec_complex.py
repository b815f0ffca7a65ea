"""Spec rows for srcgrad/rules/complexes.py (joined into rulespec's tables): the functions
of complex numbers, on real arguments with complex values inside (tests/test_complex.py
checks them on complex arguments, against differences of both parts)."""

import builtins

# ruff: noqa: F405
from rulespec import *  # noqa: F403 - the shapes, domains and Spec of the main table

SQ = (((3, 3),), ((2, 3, 3),))
TINY: Domain = ((-0.3, 0.3),)
# Eigenvalues 1 +- 2i and 5, well apart: a small x keeps them distinct.
ROT = "np.array([[1.0, -2.0, 0.0], [2.0, 1.0, 0.0], [0.0, 0.0, 5.0]])"

DIFF_COMPLEX: list = [
    Spec(np.real, "np.real(np.exp(1j * x) * y)", BINARY),
    Spec(np.imag, "np.imag(np.exp(1j * x) * y)", BINARY),
    Spec(np.imag, "np.imag(x) + x", UNARY, label="imag of a real value"),
    Spec(np.conjugate, "np.real(np.conj(x * (1 - 2j)) * np.exp(1j * y))", BINARY),
    Spec(np.angle, "np.angle(x + 1j * y)", BINARY, (POS, REAL)),
    Spec(np.angle, "np.angle(x * (1 + 1j), deg=True)", UNARY, POS),
    Spec(np.real_if_close, "np.real_if_close(x * y)", BINARY),
    Spec(builtins.complex, "abs(complex(x, y) ** 2 + 5.0)", SCALAR2),  # no zero in REAL
    # Functions of the eigenvalues as a set: their order (LAPACK's) may jump between
    # nearby matrices, so a row compares sums over them, as users should (docs/complex.md).
    Spec(np.linalg.eigvals, f"np.sum(np.real(np.linalg.eigvals(x + {ROT}) ** 2), axis=-1)",
         SQ, TINY),
    Spec(np.linalg.eigvals, f"np.sum(np.imag(np.linalg.eigvals(x + {ROT})) ** 2, axis=-1)",
         SQ, TINY),
    Spec(np.linalg.eig, f"np.sum(np.real(np.linalg.eig(x + {ROT})[0] ** 3), axis=-1)",
         SQ, TINY),
]
NONDIFF_COMPLEX: list = []
