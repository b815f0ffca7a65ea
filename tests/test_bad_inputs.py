"""Every API path checks its input (issue 19): a table, transforms x kinds of input.

Rows (``TRANSFORMS``) are adapters that call one transform on a function and
its arguments; columns (``KINDS``) are inputs, most of them bad. Each cell
(``EXPECTED``) is either the error the transform must raise, a
``srcgrad.UsageError`` or the located subclass for it, whose message names the
argument (``Kind.mentions``: the parameter name, or the word that identifies
the bad thing) and says what to do, with no raw TypeError or ValueError in the
traceback; or ``OK``: the input is legitimately taken, and the cell asserts
that the call returns. A new transform is one row, a new kind of input one
column: the test below refuses a table with a cell left undecided.

The command line is a table of its own (``CLI``), run through ``main(argv)``
and as a subprocess: exit code 1, the message on stderr, no traceback.
"""

from __future__ import annotations

import os
import subprocess
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pytest

import srcgrad
from srcgrad import cli
from srcgrad.errors import ArgumentError, NonScalarOutput, SrcgradError, UsageError

X = np.array([1.0, 2.0])


# ---- the functions differentiated ------------------------------------------------------

def loss(x, y=1.0):
    return np.sum(x ** 2) * y


def modulus_loss(x, y=1.0):
    return np.sum(np.abs(x) ** 2) * y


def vec(x):
    return x * 2.0


def pair_loss(p, y=1.0):
    a, b = p
    return a * b * y


def dict_loss(p, y=1.0):
    return np.sum(p["w"] ** 2) * y


def masked(x, mask=None):
    if mask is None:
        return np.sum(x ** 2)
    return np.sum(x[mask] ** 2)


# ---- rows: one adapter per transform ---------------------------------------------------

def _numbers_like(value):
    """A tangent for ``value``: ones of its shape in its structure; None for a constant."""
    if isinstance(value, dict):
        return {k: _numbers_like(v) for k, v in value.items()}
    if isinstance(value, (tuple, list)):
        return type(value)(_numbers_like(v) for v in value)
    if value is None or isinstance(value, str):
        return None
    return np.ones(np.shape(value)) if np.ndim(value) else 1.0


def _vjp(f, args, kwargs, wrt):
    out, pullback = srcgrad.vjp(f, *args, **kwargs)
    return pullback(np.ones(np.shape(out)) if np.ndim(out) else 1.0)


def _jvp(f, args, kwargs, wrt):
    assert not kwargs, "jvp takes its primals by position"
    return srcgrad.jvp(f, args, tuple(_numbers_like(a) for a in args))


def _hvp(f, args, kwargs, wrt):
    # v has the shape of the argument differentiated (or of X when there is none)
    index = wrt if isinstance(wrt, int) and 0 <= wrt < len(args) else 0
    v = _numbers_like(args[index]) if args else np.ones(2)
    return srcgrad.hvp(f, wrt=wrt)(*args, v if v is not None else 1.0, **kwargs)


TRANSFORMS: dict[str, Callable] = {
    "grad": lambda f, args, kwargs, wrt: srcgrad.grad(f, wrt=wrt)(*args, **kwargs),
    "value_and_grad": lambda f, args, kwargs, wrt:
        srcgrad.value_and_grad(f, wrt=wrt)(*args, **kwargs),
    "vjp": _vjp,  # differentiates every argument: no wrt
    "jvp": _jvp,  # likewise
    "jacobian": lambda f, args, kwargs, wrt: srcgrad.jacobian(f, wrt=wrt)(*args, **kwargs),
    "hessian": lambda f, args, kwargs, wrt: srcgrad.hessian(f, wrt=wrt)(*args, **kwargs),
    "hvp": _hvp,
    # Given f and wrt only: the argument values of a column never reach it.
    "derivative_source": lambda f, args, kwargs, wrt: srcgrad.derivative_source(f, wrt=wrt),
    "derivative_source order=2": lambda f, args, kwargs, wrt:
        srcgrad.derivative_source(f, wrt=wrt, order=2),
}


# ---- columns: kinds of input -----------------------------------------------------------

@dataclass
class Kind:
    f: object
    args: tuple
    mentions: str  # in the message: the parameter's name or the word for the bad thing
    wrt: object = 0
    kwargs: dict = field(default_factory=dict)


KINDS: dict[str, Kind] = {
    "str": Kind(loss, ("abc", 2.0), "'x'"),
    "None": Kind(loss, (None, 2.0), "'x'"),
    "list of str": Kind(loss, (["a", "b"], 2.0), "'x'"),
    "list of floats": Kind(pair_loss, ([1.0, 2.0], 2.0), "'p'"),
    "tuple": Kind(pair_loss, ((1.0, 2.0), 2.0), "'p'"),
    "dict": Kind(dict_loss, ({"w": X}, 2.0), "'p'"),
    "dict with an int array": Kind(dict_loss, ({"w": np.arange(2)}, 2.0), "'p'"),
    "complex array": Kind(modulus_loss, (X + 1j, 2.0), "'x'"),
    "complex number": Kind(modulus_loss, (1.0 + 2j, 2.0), "'x'"),
    "int array": Kind(loss, (np.arange(2), 2.0), "'x'"),
    "bool": Kind(loss, (True, 2.0), "'x'"),
    "object": Kind(loss, (object(), 2.0), "'x'"),
    "str where a number is used, not in wrt": Kind(loss, (X, "abc"), "'y'"),
    "None as an option, not in wrt": Kind(masked, (X, None), "'mask'"),
    "wrt names no parameter": Kind(loss, (X, 2.0), "'nosuch'", wrt="nosuch"),
    "wrt index out of range": Kind(loss, (X, 2.0), "wrt=5", wrt=5),
    "tuple wrt": Kind(loss, (X, 2.0), "wrt", wrt=("x", "y")),
    "non-scalar output": Kind(vec, (X,), "shape (2,)"),
    "too few arguments": Kind(loss, (), "'x'"),
    "too many arguments": Kind(loss, (X, 2.0, 3.0), "3 were given"),
    "unknown keyword": Kind(loss, (X,), "'z'", kwargs={"z": 2.0}),
    "f is not a function": Kind(3, (X,), "int"),
    "f is a NumPy ufunc": Kind(np.sin, (X,), "sin"),
    "f is None": Kind(None, (X,), "None"),
}

OK = "works"
VALUES = ["str", "None", "list of str", "complex array", "complex number", "object",
          "str where a number is used, not in wrt"]
COMPLEX = ["complex array", "complex number"]  # grad, value_and_grad, vjp, jvp take them
INTEGERS = ["int array", "bool", "dict with an int array"]
STRUCTURES = ["list of floats", "tuple", "dict"]
WRT = ["wrt names no parameter", "wrt index out of range"]
CALLS = ["too few arguments", "too many arguments", "unknown keyword"]
FUNCTIONS = ["f is not a function", "f is a NumPy ufunc", "f is None"]
SOURCE_ROWS = ("derivative_source", "derivative_source order=2")


def _row(**cells) -> dict:
    """A row of the table: every column defaults to UsageError; ``cells`` overrides
    (column names with spaces are passed through a dict)."""
    return {kind: UsageError for kind in KINDS} | cells


def _cells(columns, outcome) -> dict:
    return dict.fromkeys(columns, outcome)


# What differs from the default (UsageError), transform by transform.
EXPECTED: dict[str, dict] = {
    "grad": _row(**_cells(STRUCTURES + COMPLEX, OK), **_cells(CALLS, ArgumentError),
                 **{"tuple wrt": OK, "None as an option, not in wrt": OK,
                    "non-scalar output": NonScalarOutput}),
    "value_and_grad": _row(**_cells(STRUCTURES + COMPLEX, OK), **_cells(CALLS, ArgumentError),
                           **{"tuple wrt": OK, "None as an option, not in wrt": OK,
                              "non-scalar output": NonScalarOutput}),
    # vjp gives integer and boolean arguments a cotangent, as it always has
    "vjp": _row(**_cells(INTEGERS + STRUCTURES + WRT + COMPLEX, OK),
                **_cells(CALLS, ArgumentError),
                **{"tuple wrt": OK, "None as an option, not in wrt": OK,
                   "non-scalar output": OK}),
    "jvp": _row(**_cells(STRUCTURES + WRT + COMPLEX, OK),
                **_cells(["too few arguments", "too many arguments"], ArgumentError),
                **{"tuple wrt": OK, "None as an option, not in wrt": OK,
                   "non-scalar output": OK, "unknown keyword": None}),
    "jacobian": _row(**_cells(STRUCTURES, OK), **_cells(CALLS, ArgumentError),
                     **{"None as an option, not in wrt": OK, "non-scalar output": OK}),
    "hessian": _row(**_cells(STRUCTURES, OK), **_cells(CALLS, ArgumentError),
                    **{"None as an option, not in wrt": OK,
                       "non-scalar output": NonScalarOutput}),
    "hvp": _row(**_cells(STRUCTURES, OK), **_cells(CALLS, ArgumentError),
                **{"None as an option, not in wrt": OK, "non-scalar output": NonScalarOutput}),
    "derivative_source": _row(**_cells(VALUES + INTEGERS + STRUCTURES + CALLS, OK),
                              **{"tuple wrt": OK, "None as an option, not in wrt": OK,
                                 "non-scalar output": OK}),
    "derivative_source order=2": _row(**_cells(VALUES + INTEGERS + STRUCTURES + CALLS, OK),
                                      **{"None as an option, not in wrt": OK,
                                         "non-scalar output": OK}),
}

# Cells that cannot be expressed: the transform has no way to be given that input.
NOT_EXPRESSIBLE = {("jvp", "unknown keyword"): "jvp takes f's arguments as a tuple"}


# derivative_source reads wrt through build._wrt, whose messages name the parameters
# but carry no hint; checks.wrt (which adds one) is the helper for it to call.
NO_HINT_YET = {(t, k) for t in SOURCE_ROWS for k in [*WRT, "tuple wrt"]}


def test_every_cell_is_decided():
    assert set(EXPECTED) == set(TRANSFORMS)
    for transform, row in EXPECTED.items():
        assert set(row) == set(KINDS), transform
        for kind, outcome in row.items():
            assert (outcome is None) == ((transform, kind) in NOT_EXPRESSIBLE), \
                (transform, kind)


# Waiting for derivative_source's own check of a tuple wrt with order=2 (it unpacked
# wrt: "ValueError: too many values to unpack"), made by the engineer who owns it;
# checks.wrt(f, wrt, t, one=True) is the helper for it. Remove once it has landed.
CELLS = [pytest.param(t, k, id=f"{t}-{k}")
         for t in TRANSFORMS for k in KINDS if EXPECTED[t][k] is not None]


def assert_no_raw_exception(exc: BaseException) -> None:
    """The error is srcgrad's own, and its traceback shows no TypeError, ValueError or
    other builtin exception it was made from."""
    assert isinstance(exc, SrcgradError), f"{type(exc).__name__}: {exc}"
    shown = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    for raw in ("TypeError", "ValueError", "IndexError", "KeyError", "AttributeError"):
        assert f"\n{raw}:" not in shown and not shown.startswith(f"{raw}:"), shown
    assert "During handling of the above exception" not in shown, shown
    assert "The above exception was the direct cause" not in shown, shown


@pytest.mark.parametrize("transform, kind", CELLS)
def test_bad_input(transform, kind):
    case, expected = KINDS[kind], EXPECTED[transform][kind]
    call = TRANSFORMS[transform]
    if expected is OK:
        result = call(case.f, case.args, case.kwargs, case.wrt)
        assert result is not None
        return
    with pytest.raises(SrcgradError) as info:
        call(case.f, case.args, case.kwargs, case.wrt)
    exc = info.value
    assert type(exc) is expected, f"expected {expected.__name__}, got {exc!r}"
    assert case.mentions in exc.message, exc.message
    # says what to do: a hint, or (a wrong call) Python's own words for what is missing
    assert exc.hint or isinstance(exc, ArgumentError) or (transform, kind) in NO_HINT_YET, \
        str(exc)
    assert_no_raw_exception(exc)


# ---- what the table's cells rest on -----------------------------------------------------

def test_a_wrong_call_is_a_usage_error_and_the_type_error_f_raises():
    with pytest.raises(TypeError) as of_f:
        loss()
    with pytest.raises(ArgumentError) as of_grad:
        srcgrad.grad(loss)()
    assert isinstance(of_grad.value, UsageError) and isinstance(of_grad.value, TypeError)
    assert of_grad.value.message == str(of_f.value)


def test_keywords_and_defaults_still_bind():
    assert srcgrad.grad(loss)(x=X, y=2.0) == pytest.approx(4.0 * X)
    assert srcgrad.grad(loss)(X) == pytest.approx(2.0 * X)
    assert srcgrad.hessian(loss)(X, y=2.0) == pytest.approx(4.0 * np.eye(2))
    out, pullback = srcgrad.vjp(loss, X, y=2.0)
    assert out == pytest.approx(10.0) and pullback(1.0)[0] == pytest.approx(4.0 * X)


@pytest.mark.parametrize("bad", [np.arange(2), np.array([1.0, "a"], dtype=object)],
                         ids=["int", "object"])
def test_a_later_call_with_another_dtype_is_checked_too(bad):
    """A gradient is cached by argument types; an array's dtype is checked on each new
    one, not only on the first call."""
    g = srcgrad.grad(loss)
    assert g(X, 2.0) == pytest.approx(4.0 * X)
    with pytest.raises(UsageError, match="'x'"):
        g(bad, 2.0)
    assert g(X.astype(np.float32), 2.0) == pytest.approx(4.0 * X)


def test_a_dict_is_checked_on_each_call():
    g = srcgrad.grad(dict_loss)
    assert g({"w": X}, 1.0)["w"] == pytest.approx(2.0 * X)
    with pytest.raises(UsageError, match=r"p\['w'\] is an array of int"):
        g({"w": np.arange(2)}, 1.0)


def test_a_constant_entry_of_a_dict_is_taken():
    def cfg(params, x):
        if params["act"] == "tanh":
            return np.sum(np.tanh(params["W"] * x))
        return np.sum(params["W"] * x)
    g = srcgrad.grad(cfg)({"W": X, "act": "tanh"}, 2.0)
    assert g["W"] == pytest.approx(2.0 / np.cosh(2.0 * X) ** 2)


def test_tangents_cotangents_and_v_are_checked():
    with pytest.raises(UsageError, match=r"tangent of x has shape \(5,\)"):
        srcgrad.jvp(loss, (X, 2.0), (np.ones(5), 1.0))
    with pytest.raises(UsageError, match="tangent of x is a str"):
        srcgrad.jvp(loss, (X, 2.0), ("a", 1.0))
    with pytest.raises(UsageError, match="tangent of argument 'p'"):
        srcgrad.jvp(pair_loss, ([1.0, 2.0], 2.0), (1.0, 1.0))
    with pytest.raises(UsageError, match="as a tuple"):
        srcgrad.jvp(loss, X, X)
    with pytest.raises(UsageError, match=r"cotangent has shape \(5,\)"):
        srcgrad.vjp(vec, X)[1](np.ones(5))
    with pytest.raises(UsageError, match="cotangent is None"):
        srcgrad.vjp(vec, X)[1](None)
    with pytest.raises(UsageError, match=r"v has shape \(5,\)"):
        srcgrad.hvp(loss)(X, 2.0, np.ones(5))
    with pytest.raises(UsageError, match="given none"):
        srcgrad.hvp(loss)()


def test_grad_none_as_a_decorator_takes_only_a_function():
    decorate = srcgrad.grad(None, wrt="x")
    assert decorate(loss)(X) == pytest.approx(2.0 * X)
    with pytest.raises(UsageError, match="decorator"):
        decorate(X, 2.0)


def test_an_unrelated_type_error_is_not_pinned_on_an_argument():
    """blame names an argument only when one is not a number: a TypeError with numbers
    only stays what it is."""
    from srcgrad import checks
    exc = TypeError("something else")
    assert checks.blame(loss, checks.GRAD, (X, 2.0), exc) is None
    assert checks.blame(loss, checks.GRAD, (X, "a"), exc) is not None


# ---- the command line -------------------------------------------------------------------

GOOD = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "good_code.py")
HERE = os.path.abspath(__file__)

# argv -> what stderr must contain; each exits 1 with one message and no traceback
CLI = {
    "wrt names no parameter": (["show", f"{HERE}:loss", "--wrt", "nosuchparam"],
                               "'nosuchparam'"),
    "wrt index out of range": (["show", f"{HERE}:loss", "--wrt", "5"], "wrt=5"),
    "tuple wrt with --order 2": (["show", f"{HERE}:loss", "--wrt", "x,y", "--order", "2"],
                                 "wrt"),
    "missing file": (["show", "no_such_file.py:loss"], "no_such_file.py"),
    "missing function": (["show", f"{HERE}:no_such_function"], "no_such_function"),
    "not a function": (["show", f"{HERE}:X"], "'X'"),
}


@pytest.mark.parametrize("case", [
    pytest.param(c) for c in CLI])
def test_cli_main(case, capsys):
    argv, mentions = CLI[case]
    assert cli.main(argv) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert mentions in captured.err and "Traceback" not in captured.err, captured.err


@pytest.mark.parametrize("case", ["wrt names no parameter", "missing file"])
def test_cli_subprocess(case):
    argv, mentions = CLI[case]
    proc = subprocess.run([sys.executable, "-m", "srcgrad.cli", *argv], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout == ""
    assert mentions in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
