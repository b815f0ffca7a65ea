"""The error contract: located, single-paragraph diagnostics, and no internal exceptions.

Every unsupported construct lives in ``tests/fixtures/bad_code.py`` on a line
marked ``# BAD: <case>``. Expected positions are computed from that file's
text (the marker gives the line, a token on the line gives the column), so the
fixture can be edited without touching these tests. Columns are 1-based in
messages, as in ``errors.Loc.__str__`` (and gcc, pyflakes).
"""

from __future__ import annotations

import importlib.util
import math
import re
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

import srcgrad
from srcgrad import (
    InternalError,
    NameResolutionError,
    NoDerivativeRule,
    NonScalarOutput,
    SourceUnavailable,
    SrcgradError,
    UnsupportedSyntax,
    UsageError,
    ZeroGradientWarning,
)

FIXTURES = Path(__file__).resolve().parent / "fixtures"
BAD_PATH = str(FIXTURES / "bad_code.py")


def _load(path: str):
    """Import a fixture by its absolute path, so co_filename is exactly ``path``."""
    name = "srcgrad_test_" + Path(path).stem
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


bad = _load(BAD_PATH)
step_code = _load(str(FIXTURES / "step_code.py"))


def marked(case: str, path: str = BAD_PATH) -> tuple[int, str]:
    """(1-based line number, line text) of the fixture line marked ``# BAD: case``."""
    pattern = re.compile(rf"#\s*BAD:\s*{re.escape(case)}\s*$")
    lines = Path(path).read_text().splitlines()
    hits = [(i, text) for i, text in enumerate(lines, 1) if pattern.search(text)]
    assert len(hits) == 1, f"expected one '# BAD: {case}' marker in {path}, found {len(hits)}"
    return hits[0]


def expect_error(cls: type[SrcgradError], call, *args, **kwargs) -> SrcgradError:
    """Run ``call``; it must raise ``cls`` (never an internal exception, never InternalError)."""
    try:
        call(*args, **kwargs)
    except SrcgradError as exc:
        assert not isinstance(exc, InternalError) or cls is InternalError, \
            f"srcgrad reported an internal error instead of {cls.__name__}: {exc}"
        assert isinstance(exc, cls), f"expected {cls.__name__}, got {type(exc).__name__}: {exc}"
        return exc
    except Exception as exc:  # the contract under test: nothing else may escape
        pytest.fail(f"an internal {type(exc).__name__} escaped instead of {cls.__name__}: {exc}")
    pytest.fail(f"no error raised; expected {cls.__name__}")


def assert_located(exc: SrcgradError, line: int, col: int, token: str,
                   path: str = BAD_PATH) -> None:
    """``exc`` renders as ``path:line:col: message``, the source line, a caret
    under ``token``, then a hint, as one paragraph."""
    msg = str(exc)
    prefix = f"{path}:{line}:{col}: "
    assert msg.startswith(prefix), f"expected the message to start with {prefix!r}:\n{msg}"
    lines = msg.split("\n")
    assert len(lines) >= 4, f"expected head, source line, caret and hint:\n{msg}"
    head, shown, caret = lines[:3]
    assert len(head) > len(prefix), "the message after the location is empty"
    source = Path(path).read_text().splitlines()[line - 1]
    assert shown.strip() == source.strip(), f"source line not shown:\n{msg}"
    assert caret.strip() == "^", f"no caret line under the source line:\n{msg}"
    at = caret.index("^")
    assert shown[at:].startswith(token), \
        f"the caret points at {shown[at:at + 12]!r}..., not at {token!r}:\n{msg}"
    # One paragraph: no blank lines, and it ends with what to do instead.
    assert all(part.strip() for part in lines), f"blank line inside the message:\n{msg}"
    assert exc.hint.strip(), f"{type(exc).__name__} has no hint"
    assert msg.endswith(exc.hint), f"the message does not end with the hint:\n{msg}"
    assert exc.loc is not None and exc.loc.file == path and exc.loc.line == line


# ---- the syntax fence: one case per unsupported construct --------------------------
# (fixture function == marker name, expected class, token the caret must point at)
X = np.array([0.5, 1.5])
FENCE = [
    ("nonlocal_statement", UnsupportedSyntax, "nonlocal"),
    ("delete_statement", UnsupportedSyntax, "del"),
    ("async_function", UnsupportedSyntax, "async"),
    ("try_statement", UnsupportedSyntax, "try"),
    ("with_statement", UnsupportedSyntax, "open("),
    ("nested_generator", UnsupportedSyntax, "yield"),
    ("errstate_raise", UnsupportedSyntax, '"raise"'),
    ("with_as", UnsupportedSyntax, "opts"),
    ("assert_fstring", UnsupportedSyntax, 'f"x'),
    ("raise_statement", UnsupportedSyntax, "raise"),
    ("match_statement", UnsupportedSyntax, "match"),
    ("nested_async", UnsupportedSyntax, "async"),
    ("nested_def", UnsupportedSyntax, "def"),
    ("lambda_called", UnsupportedSyntax, "lambda"),
    ("set_comprehension", UnsupportedSyntax, "{s * t"),
    ("generator_expression", UnsupportedSyntax, "(t * t"),  # ast puts a genexp at its "("
    ("write_through_alias", UnsupportedSyntax, "y[0]"),
    ("write_into_reshape_view", UnsupportedSyntax, "y[0]"),
    ("write_into_row", UnsupportedSyntax, "row[1]"),
    ("class_definition", UnsupportedSyntax, "class"),
    ("list_item_assignment", UnsupportedSyntax, "ys[1] = x * 3.0"),
    ("generator_function", UnsupportedSyntax, "yield"),
    ("branch_only_name", NameResolutionError, "z"),
    ("tuple_return", UnsupportedSyntax, "x, 2.0"),
    ("tuple_in_branches", UnsupportedSyntax, "if"),
    ("chained_comparison", UnsupportedSyntax, "0.0 < x"),
    ("star_args", UnsupportedSyntax, "rest"),
    ("star_kwargs", UnsupportedSyntax, "options"),
    ("keyword_only", UnsupportedSyntax, "scale"),
    ("global_statement", UnsupportedSyntax, "global"),
    ("print_statement", UnsupportedSyntax, "print"),
    ("code_after_return", UnsupportedSyntax, "y = x + 1.0"),
    ("missing_return", UnsupportedSyntax, "def"),
    ("call_local", UnsupportedSyntax, "g(x)"),
    ("no_rule_math", NoDerivativeRule, "math.gamma"),
    ("undefined_name", NameResolutionError, "not_defined_anywhere"),
    ("module_as_value", NameResolutionError, "math"),
]
# (a function passed as g is known while lowering and called: test_structured_outputs.py)
ARGS = {"call_local": (0.5, "sin")}


def _case_id(case) -> str:
    return case.values[0] if hasattr(case, "values") else case[0]


def _expected(case: str, token: str, path: str = BAD_PATH) -> tuple[int, int]:
    line, text = marked(case, path)
    assert token in text, f"token {token!r} is not on the '# BAD: {case}' line"
    return line, text.index(token) + 1


@pytest.mark.parametrize("case, cls, token", FENCE, ids=[_case_id(c) for c in FENCE])
def test_derivative_source_error_is_located(case, cls, token):
    line, col = _expected(case, token)
    exc = expect_error(cls, srcgrad.derivative_source, getattr(bad, case))
    assert_located(exc, line, col, token)


@pytest.mark.parametrize("case, cls, token", FENCE, ids=[_case_id(c) for c in FENCE])
def test_grad_error_is_located(case, cls, token):
    """grad transforms at the latest on the first call; either way the same located error."""
    line, col = _expected(case, token)
    args = ARGS.get(case, (X,))
    made = []

    def first_call():
        made.append(srcgrad.grad(getattr(bad, case)))
        return made[0](*args)

    first = expect_error(cls, first_call)
    assert_located(first, line, col, token)
    if made:  # a lazy transform is not cached as something else: the next call says the same
        again = expect_error(cls, made[0], *args)
        assert str(again) == str(first)


def test_scipy_function_without_rule():
    pytest.importorskip("scipy.special")  # scipy is an optional dependency
    path = str(FIXTURES / "bad_scipy.py")
    line, col = _expected("no_rule_scipy", "special.spence", path)
    f = _load(path).no_rule_scipy
    exc = expect_error(NoDerivativeRule, srcgrad.grad(f), 1.5)
    assert_located(exc, line, col, "special.spence", path)
    assert "spence" in exc.message


# ---- functions srcgrad cannot read ---------------------------------------------------

def test_exec_defined_function_is_source_unavailable():
    namespace: dict = {}
    exec(compile("def typed(x):\n    return x * x\n", "<stdin>", "exec"), namespace)
    typed = namespace["typed"]
    exc = expect_error(SourceUnavailable, srcgrad.grad(typed), 1.0)
    assert "typed" in str(exc) and exc.hint in str(exc)
    expect_error(SourceUnavailable, srcgrad.derivative_source, typed)


@pytest.mark.parametrize("builtin", [math.sin, np.sin, len], ids=["math.sin", "np.sin", "len"])
def test_builtin_function_is_refused(builtin):
    expect_error(SrcgradError, lambda: srcgrad.grad(builtin)(1.0))
    expect_error(SrcgradError, srcgrad.derivative_source, builtin)


def test_lambda_passed_to_grad_is_located():
    line, col = _expected("square_lambda", "lambda x")
    exc = expect_error(UsageError, srcgrad.grad(bad.square_lambda), 1.0)
    assert_located(exc, line, col, "lambda x")


# ---- usage errors ----------------------------------------------------------------------

@pytest.mark.parametrize("wrt, mentions", [
    ("nope", "'nope'"), (5, "5"), (1.5, "1.5"), (-3, "-3"), (True, "True"), (None, "None"),
    ((), "empty"), ((0, "nope"), "'nope'"), ((0, 1.5), "1.5"),
])
def test_bad_wrt_is_usage_error(wrt, mentions):
    exc = expect_error(UsageError, lambda: srcgrad.grad(bad.good, wrt=wrt)(1.0, 2.0))
    assert mentions in str(exc)
    expect_error(UsageError, lambda: srcgrad.value_and_grad(bad.good, wrt=wrt)(1.0, 2.0))
    expect_error(UsageError, srcgrad.derivative_source, bad.good, wrt=wrt)


def test_unknown_wrt_name_lists_parameters():
    exc = expect_error(UsageError, srcgrad.derivative_source, bad.good, wrt="nope")
    assert "x, y" in str(exc)


@pytest.mark.parametrize("args, kwargs", [((1.0,), {}), ((1.0, 2.0, 3.0), {}),
                                          ((1.0,), {"z": 2.0})],
                         ids=["too-few", "too-many", "unknown-keyword"])
def test_wrong_arguments_to_gradient_fail_as_they_would_for_f(args, kwargs):
    """The gradient function has f's own signature: a wrong call raises the TypeError
    that calling f the same way raises, naming f."""
    with pytest.raises(TypeError) as expected:
        bad.good(*args, **kwargs)
    for transform in (srcgrad.grad, srcgrad.value_and_grad):
        with pytest.raises(TypeError) as got:
            transform(bad.good)(*args, **kwargs)
        assert str(got.value) == str(expected.value)


def test_keyword_and_default_calls_still_work():
    g = srcgrad.grad(bad.good, wrt=("x", "y"))
    assert g(1.0, y=2.0) == pytest.approx((2.0 + math.cos(1.0), 1.0))


def test_parameter_named_like_a_builtin():
    try:
        g = srcgrad.grad(bad.shadows_type)(2.0, 3.0)
    except SrcgradError:
        raise
    except Exception as exc:
        pytest.fail(f"an internal {type(exc).__name__} escaped: {exc}")
    assert g == pytest.approx(3.0)


# ---- non-scalar outputs ----------------------------------------------------------------

@pytest.mark.parametrize("case, args", [
    ("array_output", (np.ones(3),)),
    ("array_output_vecmat", (np.ones(2), np.ones((2, 3)))),
    ("array_output_transpose", (np.ones((2, 3)),)),
])
@pytest.mark.parametrize("transform", [srcgrad.grad, srcgrad.value_and_grad],
                         ids=["grad", "value_and_grad"])
def test_array_output_is_non_scalar_output(case, args, transform):
    exc = expect_error(NonScalarOutput, transform(getattr(bad, case)), *args)
    assert "vjp" in str(exc)
    line, _ = marked(case)
    assert str(exc).startswith(f"{BAD_PATH}:{line}:"), str(exc)
    assert "scalar" in exc.message


def test_array_output_works_with_vjp():
    out, vjp_fn = srcgrad.vjp(bad.array_output, np.ones(3))
    np.testing.assert_allclose(out, 2.0 * np.ones(3))
    np.testing.assert_allclose(vjp_fn(np.arange(3.0))[0], 2.0 * np.arange(3.0))


@pytest.mark.parametrize("x", [np.float64(3.0), np.array(3.0)], ids=["float64", "0-d array"])
def test_transpose_of_scalar_output_does_not_leak_attribute_error(x):
    try:
        g = srcgrad.grad(bad.transpose_of_scalar)(x)
    except SrcgradError:
        raise
    except Exception as exc:
        pytest.fail(f"an internal {type(exc).__name__} escaped: {exc}")
    assert float(g) == pytest.approx(6.0)


# ---- derivatives undefined at the point ------------------------------------------------

@pytest.mark.parametrize("x", [0.0, np.float64(0.0)], ids=["float", "float64"])
def test_undefined_derivative_names_the_users_line(x):
    line, text = marked("sqrt_at_zero")
    exc = expect_error(SrcgradError, srcgrad.grad(bad.sqrt_at_zero), x)
    assert not isinstance(exc, ZeroDivisionError)
    msg = str(exc)
    assert msg.startswith(f"{BAD_PATH}:"), msg
    assert msg.startswith(f"{BAD_PATH}:{line}:") and "math.sqrt(y)" in msg, msg
    assert exc.hint and msg.endswith(exc.hint)
    assert all(part.strip() for part in msg.split("\n")), f"not one paragraph:\n{msg}"


def test_undefined_derivative_is_located_at_the_users_line():
    line, text = marked("sqrt_at_zero")
    exc = expect_error(SrcgradError, srcgrad.grad(bad.sqrt_at_zero), 0.0)
    assert str(exc).startswith(f"{BAD_PATH}:{line}:"), str(exc)
    assert str(exc).split("\n")[1].strip() == text.strip()


# ---- step functions: a zero gradient is announced, once per location -----------------


def _step_warnings(fn, *args) -> list[str]:
    """Each ZeroGradientWarning of building fn's gradient, as "file:line: message" with
    the file and line the warning is attributed to (which filters and IDEs use)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        srcgrad.grad(fn)(*args)
    return [f"{w.filename}:{w.lineno}: {w.message}" for w in caught
            if issubclass(w.category, ZeroGradientWarning)]


@pytest.mark.parametrize("name", ["round_times_x", "floor_sum", "sign_scale", "argmax_number",
                                  "int_of_x", "floordiv_of_x", "builtin_round"])
def test_gradient_into_a_step_function_warns_with_its_location(name):
    fn = getattr(step_code, name)
    messages = _step_warnings(fn, 1.7)
    line = _marker_line(name)
    assert len(messages) == 1, messages
    assert messages[0].startswith(f"{step_code.__file__}:{line}: "), messages[0]
    assert "zero" in messages[0] and "stop_gradient" in messages[0]


@pytest.mark.parametrize("name", ["argmax_index", "stopped_sign", "mask_compare",
                                  "round_of_constant", "round_unused"])
def test_no_warning_where_no_gradient_is_lost(name):
    assert _step_warnings(getattr(step_code, name), 1.7) == []


def test_step_warning_is_given_once_per_location():
    """Python's default action shows it once per location (the registry of the user's
    module), though a new specialization analyses the code again."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        srcgrad.grad(step_code.once)(0.3)
        srcgrad.grad(step_code.once)(np.array([0.3, 2.0]))  # a new specialization
    found = [w for w in caught if issubclass(w.category, ZeroGradientWarning)]
    line = step_code.once.__code__.co_firstlineno + 1
    assert [(w.filename, w.lineno) for w in found] == [(step_code.__file__, line)]


def _marker_line(name: str) -> int:
    lines = (FIXTURES / "step_code.py").read_text().splitlines()
    hits = [i for i, text in enumerate(lines, 1) if text.endswith(f"# STEP: {name}")]
    assert len(hits) == 1, name
    return hits[0]


def test_unsupported_case_of_a_rule_is_a_located_error():
    """qr's derivative exists only for m >= n: a wide input is reported at the call."""
    exc = expect_error(SrcgradError, srcgrad.grad(step_code.wide_qr), np.ones((2, 3)))
    assert f"step_code.py:{_marker_line('wide_qr')}:" in str(exc)
    assert "NotImplementedError" in str(exc) and "m >= n" in str(exc)


def test_differentiated_value_in_a_constant_parameter_is_an_error():
    """np.quantile's rule treats q as a constant: differentiating through q would be a
    silent zero, so it is refused at the call, naming the parameter."""
    exc = expect_error(NoDerivativeRule, srcgrad.grad(step_code.quantile_of_q), 0.3)
    assert f"step_code.py:{_marker_line('quantile_of_q')}:" in str(exc)
    assert "'q'" in str(exc) and "np.quantile" in str(exc)


def test_slicing_a_list_of_differentiated_values_is_differentiated():
    # (refused before; tests/test_containers.py has the slices of lists in full)
    x = np.arange(4.0) + 1.0
    assert np.array_equal(srcgrad.grad(step_code.list_slice)(x), [2 * x[0], 0.0, 0.0, 0.0])
    assert srcgrad.jvp(step_code.list_slice, (x,), (np.ones(4),))[1] == 2 * x[0]


def test_a_lambda_missing_from_its_source_line_is_a_usage_error(tmp_path):
    """The file on disk no longer holds the lambda (edited, or `python -c`): a located
    UsageError, not an InternalError from locating it."""
    path = tmp_path / "moved.py"
    path.write_text("X = 1\n")
    scope: dict = {"np": np}
    exec(compile("f = lambda x: np.sum(x * x)\n", str(path), "exec"), scope)  # noqa: S102
    with pytest.raises(srcgrad.UsageError, match="lambda to differentiate is not found"):
        srcgrad.grad(scope["f"])(np.ones(2))
