"""Spec rows for srcgrad/rules/shape.py (joined into rulespec's tables)."""

# ruff: noqa: F405
from rulespec import *  # noqa: F403 - the shapes, domains and Spec of the main table

DIFF_SHAPE: list = []
NONDIFF_SHAPE: list = []
