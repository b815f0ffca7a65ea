"""Spec rows for srcgrad/rules/decomp.py (joined into rulespec's tables)."""

# ruff: noqa: F405
from rulespec import *  # noqa: F403 - the shapes, domains and Spec of the main table

# Entries this small keep x + 3 I diagonally dominant (see spec_linalg.py).
SMALL: Domain = ((-0.6, 0.6),)

DIFF_DECOMP: list = [
    Spec(np.linalg.slogdet, "np.linalg.slogdet(x + 3 * np.eye(3))[1]",
         (((3, 3),), ((2, 3, 3),)), SMALL),
]
NONDIFF_DECOMP: list = []
