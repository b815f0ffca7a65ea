"""The lecture's worked example: values, adjoints and gradient, four spellings."""

import math

import lecture
import numpy as np
import pytest

import srcgrad
from srcgrad import api

X, Y, Z = lecture.POINT
SPELLINGS = [lecture.f, lecture.f_expression, lecture.f_numpy, lecture.f_numpy_expression]


def hand_gradient(x, y, z):
    """Chain rule worked by hand: g = sin(x^2 + y e^z) + z."""
    d = x**2 + y * math.exp(z)
    return (math.cos(d) * 2 * x, math.cos(d) * math.exp(z), math.cos(d) * y * math.exp(z) + 1)


@pytest.mark.parametrize("fn", SPELLINGS, ids=lambda f: f.__name__)
def test_gradient_matches_the_lecture(fn):
    got = srcgrad.grad(fn, wrt=(0, 1, 2))(X, Y, Z)
    assert [round(float(v), 2) for v in got] == [-3.96, -0.99, 1.99]
    np.testing.assert_allclose(got, hand_gradient(X, Y, Z), rtol=1e-14, atol=1e-14)


@pytest.mark.parametrize("fn", SPELLINGS, ids=lambda f: f.__name__)
def test_value_and_integer_arguments(fn):
    value, grads = srcgrad.value_and_grad(fn, wrt=(0, 1, 2))(2, -1, 0)
    assert round(float(value), 3) == 0.141
    np.testing.assert_allclose(grads, hand_gradient(X, Y, Z), rtol=1e-14)


@pytest.mark.parametrize("fn", [lecture.f, lecture.f_numpy], ids=lambda f: f.__name__)
def test_forward_values_and_adjoints_of_every_node(fn):
    _, frame = lecture.run_and_watch(srcgrad.value_and_grad(fn, wrt=(0, 1, 2)), lecture.POINT)
    values = {n: round(float(frame[n]), 3) for n in lecture.NODES}
    assert values == {"a": 4, "b": 1, "c": -1, "d": 3, "e": 0.141, "g": 0.141}
    adjoints = {n: round(float(frame[n + "_bar"]), 2) for n in lecture.NODES}
    assert adjoints == {"a": -0.99, "b": 0.99, "c": -0.99, "d": -0.99, "e": 1.0, "g": 1.0}


def test_against_central_differences():
    for fn in SPELLINGS:
        assert srcgrad.check_grad(fn, X, Y, Z, wrt=(0, 1, 2)) < 1e-7


def test_python_floats_stay_floats():
    grads = srcgrad.grad(lecture.f, wrt=(0, 1, 2))(X, Y, Z)
    assert all(type(g) is float for g in grads)


def test_generated_source_is_the_golden_text():
    """Readability is the point here: the exact text a reader of the lecture sees."""
    with open(__file__.replace("test_lecture.py", "golden/lecture_f_grad.txt")) as fh:
        assert srcgrad.derivative_source(lecture.f, wrt=(0, 1, 2)) == fh.read()


def test_generated_source_is_deterministic():
    first = srcgrad.derivative_source(lecture.f_numpy_expression, wrt=(0, 1, 2))
    api._ENTRIES.clear()
    assert srcgrad.derivative_source(lecture.f_numpy_expression, wrt=(0, 1, 2)) == first


def test_example_prints_values_adjoints_and_source(capsys):
    lecture.main()
    out = capsys.readouterr().out
    assert "a=4.000  b=1.000  c=-1.000  d=3.000  e=0.141  g=0.141" in out
    assert "a=-0.990  b=0.990  c=-0.990  d=-0.990  e=1.000  g=1.000" in out
    assert "dg/dx=-3.96  dg/dy=-0.99  dg/dz=1.99" in out
    assert "def f_grad(x, y, z):" in out
