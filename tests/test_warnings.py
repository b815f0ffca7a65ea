"""srcgrad's warnings are about the user's code (issue 19).

Contract checked here: a ZeroGradientWarning is given only for a step function
the user wrote (np.sign, np.round, np.floor, ...), never for one inside
srcgrad's own derivative rules (abs's derivative is a sign, seen when
differentiating twice); every warning is attributed to the user's file, line
and module, so that Python's warning filters (by module, line, action) work;
and each transform (grad, value_and_grad, jvp, vjp, hessian, hvp, jacobian)
gives it. The functions differentiated are defined in this file, one step
call per line marked ``# STEP: <name>``.
"""

from __future__ import annotations

import importlib.util
import re
import sys
import types
import warnings
from pathlib import Path

import numpy as np
import pytest

import srcgrad
from srcgrad import SrcgradWarning, ZeroGradientWarning

HERE = __file__
X = np.array([0.7, -1.6, 2.2])


def cubic_abs(x):
    return np.sum(np.abs(x) ** 3)


def signed_square(x):
    return np.sum(np.sign(x) * x**2)  # STEP: signed_square


def rounded(x):
    return np.sum(np.round(x) * x)  # STEP: rounded


def floored(x):
    y = x * 2.0
    return np.sum(np.floor(y) * x)  # STEP: floored


def fresh(f):
    """A new function object with ``f``'s code: srcgrad caches derivatives per function
    (and warns when it builds one), so each test builds its own."""
    return types.FunctionType(f.__code__, f.__globals__, f.__name__, f.__defaults__,
                              f.__closure__)


def _marked(name: str) -> int:
    """The line of this file marked ``# STEP: name``."""
    lines = Path(HERE).read_text().splitlines()
    hits = [i for i, text in enumerate(lines, 1) if text.endswith(f"# STEP: {name}")]
    assert len(hits) == 1, name
    return hits[0]


def _caught(run, action: str = "always") -> list[warnings.WarningMessage]:
    """The srcgrad warnings ``run()`` gives under the filter ``action``."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter(action)
        run()
    return [w for w in caught if issubclass(w.category, SrcgradWarning)]


def _at(caught: list) -> list[tuple[str, str, int]]:
    return [(w.category.__name__, w.filename, w.lineno) for w in caught]


# ---- no warning for srcgrad's own step functions ----------------------------------


def _second_order_paths(f):
    """Every way to differentiate ``f`` twice, each at X (on a fresh copy of f)."""
    f = fresh(f)
    return {
        "hessian": lambda: srcgrad.hessian(f)(X),
        "hvp": lambda: srcgrad.hvp(f)(X, np.ones(3)),
        "jvp of grad": lambda: srcgrad.jvp(srcgrad.grad(f), (X,), (np.ones(3),)),
        "vjp of grad": lambda: srcgrad.vjp(srcgrad.grad(f), X)[1](np.ones(3)),
    }


@pytest.mark.parametrize("path", list(_second_order_paths(cubic_abs)))
def test_second_derivative_through_abs_does_not_warn(path):
    """abs's derivative contains np.sign; differentiating it again must not report a
    step function the user never wrote."""
    assert _caught(_second_order_paths(cubic_abs)[path]) == []


def test_hessian_through_abs_is_right():
    h = srcgrad.hessian(cubic_abs)(X)
    np.testing.assert_allclose(h, np.diag(6.0 * np.abs(X)), rtol=1e-12)


def test_second_order_warns_once_for_the_users_step():
    """A hessian analyses the user's code (first derivative) and srcgrad's (the
    derivative of that): only the first reports the step, once."""
    caught = _caught(lambda: srcgrad.hessian(fresh(signed_square))(X))
    assert _at(caught) == [("ZeroGradientWarning", HERE, _marked("signed_square"))]


# ---- a warning for the user's step functions, at the user's line -------------------


def _first_order_paths(f):
    """Every transform of ``f`` at X (on a fresh copy of f)."""
    f = fresh(f)
    return {
        "grad": lambda: srcgrad.grad(f)(X),
        "value_and_grad": lambda: srcgrad.value_and_grad(f)(X),
        "jvp": lambda: srcgrad.jvp(f, (X,), (np.ones(3),)),
        "vjp": lambda: srcgrad.vjp(f, X)[1](1.0),
        "hessian": lambda: srcgrad.hessian(f)(X),
        "hvp": lambda: srcgrad.hvp(f)(X, np.ones(3)),
        "jacobian": lambda: srcgrad.jacobian(f)(X),
        "derivative_source": lambda: srcgrad.derivative_source(f),
    }


@pytest.mark.parametrize("name", ["signed_square", "rounded", "floored"])
@pytest.mark.parametrize("path", list(_first_order_paths(rounded)))
def test_users_step_function_warns_at_its_line(name, path):
    f = globals()[name]
    caught = _caught(_first_order_paths(f)[path])
    assert _at(caught) == [("ZeroGradientWarning", HERE, _marked(name))]
    w = caught[0]
    assert "is zero" in str(w.message) and "stop_gradient" in str(w.message)
    assert w.message.loc.line == w.lineno and w.message.loc.file == w.filename


def test_pytest_warns_sees_the_users_file():
    with pytest.warns(ZeroGradientWarning, match="np.round is zero") as record:
        srcgrad.grad(fresh(rounded))(X)
    assert [(w.filename, w.lineno) for w in record] == [(HERE, _marked("rounded"))]


# ---- filters work: module, line, action --------------------------------------------


def _filtered(f, **filter_args) -> list:
    """The srcgrad warnings of f's gradient under "always", after ``filter_args``."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.filterwarnings("ignore", category=ZeroGradientWarning, **filter_args)
        srcgrad.grad(fresh(f))(X)
    return [w for w in caught if issubclass(w.category, SrcgradWarning)]


def test_ignore_by_module_applies_to_the_users_module():
    assert _filtered(rounded, module=__name__ + "$") == []
    assert len(_filtered(rounded, module="srcgrad")) == 1  # srcgrad is not the source


def test_ignore_by_line_applies_to_the_users_line():
    assert _filtered(floored, lineno=_marked("floored")) == []
    assert len(_filtered(floored, lineno=_marked("floored") - 1)) == 1


def test_default_action_shows_it_once_and_records_it_in_the_users_module():
    f = fresh(signed_square)

    def twice():
        srcgrad.grad(f)(X)
        srcgrad.hessian(f)(X)  # analyses f again, to build its first derivative
    caught = _caught(twice, action="default")
    assert _at(caught) == [("ZeroGradientWarning", HERE, _marked("signed_square"))]
    registry = globals()["__warningregistry__"]
    assert any(isinstance(k, tuple) and k[1:] == (ZeroGradientWarning, _marked("signed_square"))
               for k in registry)


def test_this_suite_runs_with_srcgrad_warnings_as_errors():
    """pyproject.toml's filterwarnings: a warning no test expects fails the test."""
    with pytest.raises(ZeroGradientWarning):
        srcgrad.grad(fresh(rounded))(X)


def test_error_action_raises_the_warning_itself_on_every_call():
    """An error filter gives the user the ZeroGradientWarning (not an InternalError),
    and a derivative that raised is not cached: the next call raises again."""
    g = srcgrad.grad(fresh(rounded))
    with warnings.catch_warnings():
        warnings.simplefilter("error", ZeroGradientWarning)
        for _ in range(2):
            with pytest.raises(ZeroGradientWarning, match="np.round is zero") as info:
                g(X)
            assert info.value.loc.line == _marked("rounded")


# ---- a step in another file: attributed to that file and its module ----------------

HELPER = '''import numpy as np


def snap(x):
    return np.sum(np.rint(x) * x)
'''


def _module_at(path: Path, name: str | None):
    """Execute ``path`` as a module, registered in sys.modules under ``name`` if any."""
    spec = importlib.util.spec_from_file_location(name or path.stem, path)
    module = importlib.util.module_from_spec(spec)
    if name:
        sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def helper_module(tmp_path):
    path = tmp_path / "warn_helper.py"
    path.write_text(HELPER)
    name = "srcgrad_test_warn_helper"
    yield _module_at(path, name)
    sys.modules.pop(name, None)


def test_step_in_an_imported_helper_is_attributed_to_the_helper(helper_module):
    snap = helper_module.snap

    def uses_helper(x):
        return snap(x) * 2.0

    path = helper_module.__file__
    caught = _caught(lambda: srcgrad.grad(uses_helper)(X))
    assert _at(caught) == [("ZeroGradientWarning", path, 5)]
    assert _filtered(uses_helper, module="srcgrad_test_warn_helper$") == []


def test_module_not_in_sys_modules_gets_its_name_from_the_path(tmp_path):
    """A module executed from a spec alone: attributed to its file; the module name
    filters see is the path without ".py", as Python derives it."""
    path = tmp_path / "unlisted_helper.py"
    path.write_text(HELPER)
    snap = _module_at(path, None).snap
    caught = _caught(lambda: srcgrad.grad(fresh(snap))(X))
    assert _at(caught) == [("ZeroGradientWarning", str(path), 5)]
    assert _filtered(snap, module=re.escape(str(path)[:-3]) + "$") == []
    assert len(_filtered(snap, module="unlisted_helper")) == 1  # not the name it gets
