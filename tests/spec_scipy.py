"""Spec rows for srcgrad/rules/scipy.py (joined into rulespec's tables when SciPy is
installed)."""

from rulespec import *  # noqa: F403 - the shapes, domains and Spec of the main table

DIFF_SCIPY: list = []
NONDIFF_SCIPY: list = []
