"""Spec rows for srcgrad/rules/numpy_more.py (joined into rulespec's tables)."""

from rulespec import *  # noqa: F403 - the shapes, domains and Spec of the main table

DIFF_MORE: list = []
NONDIFF_MORE: list = []
