"""Regression tests for bugs found in earlier sessions, one class per bug.

Each test failed before its fix. Expected numbers come from central differences
(``tests/numeric.py``) or hand-derived formulas, never from srcgrad itself.
"""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import srcgrad
from srcgrad import NoDerivativeRule, SrcgradError

import numeric


def _line_of(fn, token: str) -> str:
    """``file:line:`` of the first line of ``fn`` holding ``token``."""
    lines, first = inspect.getsourcelines(fn)
    hits = [first + i for i, text in enumerate(lines) if token in text]
    return f"{inspect.getsourcefile(fn)}:{hits[0]}:"


def _refused(cls, call, *args):
    with pytest.raises(cls) as info:
        call(*args)
    return str(info.value)


# -- a partials rule's None: not differentiable there (a located error) ---------------------

def _nan_replaced_by_x(x):
    y = np.array([np.nan, 1.0]) * x
    return np.sum(np.nan_to_num(y, nan=x))  # NAN


def _custom_none(x):
    return _scaled(2.0, x)  # CUSTOM


def _scaled(a, b):
    return a * b


srcgrad.defpartials(_scaled, "a, b", "b", None)


def _copysign(x, y):
    return np.copysign(x, y) * 2.0


class TestPartialsNone:
    @pytest.mark.parametrize("transform", [
        lambda f: srcgrad.grad(f)(2.0),
        lambda f: srcgrad.jvp(f, (2.0,), (1.0,)),
        lambda f: srcgrad.hessian(f)(2.0),
    ], ids=["grad", "jvp", "hessian"])
    def test_differentiated_value_in_a_none_parameter_is_refused(self, transform):
        """nan_to_num's nan= has a derivative (where x is NaN), which the rule does not
        give: a silent zero before."""
        msg = _refused(NoDerivativeRule, transform, _nan_replaced_by_x)
        assert _line_of(_nan_replaced_by_x, "# NAN") in msg and "'nan'" in msg

    def test_user_partials_none_is_refused(self):
        msg = _refused(NoDerivativeRule, srcgrad.grad(_custom_none), 3.0)
        assert _line_of(_custom_none, "# CUSTOM") in msg and "'b'" in msg

    def test_declared_zero_partial_is_zero(self):
        """copysign(x, y) is a step in y: zero=("y",) keeps its derivative zero."""
        x, y = 1.5, -2.0
        gx, gy = srcgrad.grad(_copysign, wrt=("x", "y"))(x, y)
        assert gy == 0.0
        assert gx == pytest.approx(numeric.gradient(_copysign, (x, y), 0))
