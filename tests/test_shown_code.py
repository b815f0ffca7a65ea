"""Shown code is the code that runs, and runs when pasted (issue 19).

``srcgrad.derivative_source`` and ``srcgrad show`` print a complete module: the
imports of NumPy / ``math`` as the user's module spells them, of the run-time
helpers the code calls (``srcgrad.runtime``, a public module) and of the user's
globals it reads, then the code. Here the shown text is exec'd alone, in a fresh
namespace with nothing bound, or written to a file and run by another Python
process, and must give the numbers ``value_and_grad`` / ``grad`` give, for every
example program and every control-flow test program.
"""

from __future__ import annotations

import ast
import copy
import inspect
import pathlib
import subprocess
import sys
import textwrap

import cky
import custom_rule
import hmm
import lecture
import long_loop
import numpy as np
import pytest
import test_control_flow
from fixtures import model_loss

import srcgrad
from srcgrad import backend, ir, runtime
from srcgrad.errors import Loc

EXAMPLES = pathlib.Path(__file__).resolve().parent.parent / "examples"


def run_shown(source: str, args: tuple, name: str | None = None):
    """Exec ``source`` in a fresh namespace and call its (last) function on a copy of
    ``args``."""
    namespace: dict = {}
    exec(compile(source, "<shown>", "exec"), namespace)  # noqa: S102
    defined = [n.name for n in ast.parse(source).body if isinstance(n, ast.FunctionDef)]
    assert defined, source
    return namespace[name or defined[-1]](*copy.deepcopy(args))


def assert_same(got, expected, what: str) -> None:
    got = got if isinstance(got, tuple) else (got,)
    expected = expected if isinstance(expected, tuple) else (expected,)
    assert len(got) == len(expected), f"{what}: {len(got)} results, expected {len(expected)}"
    for k, (a, b) in enumerate(zip(got, expected)):
        if isinstance(b, dict):
            assert list(a) == list(b), f"{what}: result {k} has keys {list(a)}"
            assert_same(tuple(a.values()), tuple(b.values()), what)
        elif isinstance(b, (list, tuple)):
            assert_same(tuple(a), tuple(b), what)
        else:
            assert np.shape(a) == np.shape(b), f"{what}: result {k} has shape {np.shape(a)}"
            assert np.array_equal(np.asarray(a), np.asarray(b)), \
                f"{what}: result {k} is {a}, value_and_grad gives {b}"


def check(fn, args: tuple, wrt) -> None:
    """The shown code of ``fn`` (and of ``grad(fn)``), exec'd alone, gives what the
    calls give."""
    value, grads = srcgrad.value_and_grad(fn, wrt=wrt)(*copy.deepcopy(args))
    grads = grads if isinstance(wrt, tuple) else (grads,)
    source = srcgrad.derivative_source(fn, wrt=wrt)
    assert_same(run_shown(source, args), (value, *grads), f"shown code of {fn.__name__}")
    gradient = srcgrad.grad(fn, wrt=wrt)
    shown = srcgrad.derivative_source(gradient)
    assert_same(run_shown(shown, args), gradient(*copy.deepcopy(args)),
                f"shown code of grad({fn.__name__})")


# ---- the example programs --------------------------------------------------------------

_X = np.array([-30.0, 0.0, 1.5, 30.0])
EXAMPLE_PROGRAMS = {
    lecture.f: (lecture.POINT, (0, 1, 2)),
    lecture.f_expression: (lecture.POINT, (0, 1, 2)),
    lecture.f_numpy: (lecture.POINT, (0, 1, 2)),
    lecture.f_numpy_expression: (lecture.POINT, (0, 1, 2)),
    hmm.log_partition: (hmm.example(5, 3, 1), (0, 1, 2)),
    hmm.log_partition_per_state: (hmm.example(4, 3, 2), (0, 1, 2)),
    cky.log_partition: (cky.example(4, 2, 3, 0), (0, 1)),
    custom_rule.loss: ((_X,), 0),
    custom_rule.naive_loss: ((_X[1:3],), 0),
    long_loop.loss: (long_loop.example(7, 3), (0, 1, 3)),
    long_loop.taped_loss: (long_loop.example(5, 2), (0, 1)),
}
# Functions of the examples that are not differentiated there.
NOT_PROGRAMS = {"example", "main", "run_and_watch", "forward_backward", "inside_outside",
                "naive_softplus", "softplus", "_logsumexp", "adjoint_loop", "measure"}


def test_every_example_program_is_checked():
    listed = {(f.__module__, f.__name__) for f in EXAMPLE_PROGRAMS}
    for module in (cky, custom_rule, hmm, lecture, long_loop):
        for name, f in vars(module).items():
            if inspect.isfunction(f) and f.__module__ == module.__name__ \
                    and name not in NOT_PROGRAMS:
                assert (module.__name__, name) in listed, f"{module.__name__}.{name} unchecked"


@pytest.mark.parametrize("fn", list(EXAMPLE_PROGRAMS),
                         ids=[f"{f.__module__}.{f.__name__}" for f in EXAMPLE_PROGRAMS])
def test_example_program_shown_code_runs_alone(fn):
    args, wrt = EXAMPLE_PROGRAMS[fn]
    check(fn, args, wrt)


@pytest.mark.parametrize("fn", [lecture.f, lecture.f_numpy_expression, hmm.log_partition,
                                custom_rule.loss], ids=lambda f: f"{f.__module__}.{f.__name__}")
def test_tangent_and_hessian_vector_code_run_alone(fn):
    """mode="forward" and order=2 print modules that run too: the tangent along the
    first argument, and the Hessian-vector product, as jvp and hvp give them."""
    args, _ = EXAMPLE_PROGRAMS[fn]
    rng = np.random.default_rng(1)
    v = rng.normal(size=np.shape(args[0])) if np.ndim(args[0]) else 0.7
    zeros = [np.zeros(np.shape(a)) if isinstance(a, np.ndarray) and a.dtype.kind == "f"
             else 0.0 for a in args]
    value, tangent = srcgrad.jvp(fn, args, (v, *zeros[1:]))
    got = run_shown(srcgrad.derivative_source(fn, mode="forward"), (*args, v))
    np.testing.assert_allclose(got[0], value, rtol=1e-13)
    np.testing.assert_allclose(got[1], tangent, rtol=1e-12, atol=1e-12)
    hv = run_shown(srcgrad.derivative_source(fn, order=2), (*args, v))[1]
    assert np.array_equal(hv, srcgrad.hvp(fn)(*copy.deepcopy(args), v))


# ---- the control-flow test programs ----------------------------------------------------

CASES = test_control_flow.CASES


def test_every_control_flow_program_is_checked():
    assert len(CASES) >= 90 and all(case.examples for case in CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_control_flow_program_shown_code_runs_alone(case):
    for args in case.examples:
        check(case.fn, args, case.wrt)


# ---- what the module header holds -------------------------------------------------------

def test_imports_are_those_the_code_uses():
    text = srcgrad.derivative_source(hmm.log_partition)
    head = text[:text.index("def ")]
    assert head.startswith("import numpy as np\n\nfrom srcgrad.runtime import ")
    (found,) = [n for n in ast.parse(head).body if isinstance(n, ast.ImportFrom)]
    names = [a.name for a in found.names]
    body = text[text.index("def "):]
    assert set(names) == {n for n in runtime.__all__ if f"{n}(" in body}
    assert names == sorted(names)
    scalar = srcgrad.derivative_source(lecture.f, wrt=(0, 1, 2))
    assert scalar.startswith("import math\n\n\ndef f_grad(x, y, z):\n")  # no helper needed


USER_MODULE = '''
import math

import numpy as numpy_
import scipy
from scipy import special

import srcgrad

W = numpy_.array([0.5, -1.0, 2.0])
LAM = 0.25


def tilt(x):
    return numpy_.sum(x * x) * 0.5


srcgrad.defpartials(tilt, "x", "x")


def with_globals(x):
    return numpy_.sum(W * special.expit(x)) * LAM + tilt(x) + numpy_.sum(scipy.special.erf(x))


def dict_loss(params, x):
    h = numpy_.tanh(x @ params["layer"]["W"] + params["layer"]["b"])
    scale, shift = params["affine"]
    return numpy_.sum(h) * scale + shift + math.sin(params["bias"])


@srcgrad.grad(wrt="y")
def decorated(x, y):
    return numpy_.sum(numpy_.sin(x) * y * y) + LAM


def make(data):
    k = 2.5

    def fit(w):
        r = data @ w - k
        return r.dot(r)

    return fit


fit = make(numpy_.arange(6.0).reshape(3, 2))


def scaled(x):
    return x * W


def shadowing(x):
    W = x * 2.0
    return numpy_.sum(scaled(W))
'''


@pytest.fixture
def usermod(tmp_path, monkeypatch):
    """A user's module in a folder of its own, imported as ``usermod``."""
    (tmp_path / "usermod.py").write_text(USER_MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "usermod", raising=False)
    import usermod

    yield usermod
    sys.modules.pop("usermod", None)


def test_globals_helpers_and_module_aliases_are_imported(usermod):
    text = srcgrad.derivative_source(usermod.with_globals)
    head = text[:text.index("\ndef ")]
    assert head.splitlines() == [  # the user's spelling, and the rules' (np)
        "import numpy as np", "import numpy as numpy_", "import scipy", "import scipy.special",
        "from scipy import special", "",
        "from srcgrad.runtime import as_dtype_of, expand, seed, unbroadcast", "",
        "from usermod import LAM, W, tilt", ""]
    x = np.array([0.3, -1.2, 2.0])
    check(usermod.with_globals, (x,), 0)


def test_a_global_renamed_for_a_local_of_the_same_name(usermod):
    text = srcgrad.derivative_source(usermod.shadowing)
    assert "\nfrom usermod import W as W_1\n" in text and "out_1 = W * W_1" in text
    check(usermod.shadowing, (np.array([1.0, -2.0, 0.5]),), 0)


def test_closure_values_are_defined_by_their_literals(usermod):
    text = srcgrad.derivative_source(usermod.fit)
    assert "data = np.array([[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]])\nk = 2.5\n" in text
    check(usermod.fit, (np.array([0.3, -0.2]),), 0)


def test_dict_arguments_are_shown_as_the_code_that_runs(usermod):
    params = {"layer": {"W": np.arange(6.0).reshape(3, 2) / 7, "b": np.array([0.1, -0.2])},
              "affine": [1.5, -0.2], "bias": 0.3}
    x = np.linspace(-1, 1, 12).reshape(4, 3)
    text = srcgrad.derivative_source(usermod.dict_loss)
    assert "np.add.at" not in text and "params_bar" not in text
    call = ("dict_loss_grad(params['layer']['W'], params['layer']['b'], params['affine'], "
            "params['bias'], x)")
    assert "# params is a dict: this code takes the entries" in text and call in text
    leaves = (params["layer"]["W"], params["layer"]["b"], params["affine"], params["bias"], x)
    value, g = srcgrad.value_and_grad(usermod.dict_loss)(params, x)
    assert_same(run_shown(text, leaves), (value, g["layer"]["W"], g["layer"]["b"],
                                          g["affine"], g["bias"]), "dict_loss")
    by_grad = srcgrad.derivative_source(srcgrad.grad(usermod.dict_loss))
    assert call in by_grad
    assert_same(run_shown(by_grad, leaves)[1:], tuple(run_shown(text, leaves)[1:]), "grad")


def test_list_arguments_run_as_shown():
    def weighted(ws, xs):
        total = 0.0
        for w, x in zip(ws, xs):
            total = total + w * x
        return total

    args = ([1.0, 2.0], [3.0, 4.0])
    text = srcgrad.derivative_source(weighted, wrt=(0, 1))
    value, (gw, gx) = srcgrad.value_and_grad(weighted, wrt=(0, 1))(*args)
    assert_same(run_shown(text, args), (value, gw, gx), "weighted")


def test_model_split_across_modules(usermod):
    rng = np.random.default_rng(0)
    args = (rng.normal(size=(4, 5)), rng.normal(size=5), rng.normal(size=(5, 3)),
            rng.normal(size=(6, 4)), rng.integers(0, 3, size=6))
    check(model_loss.loss, args, (0, 1, 2))


def test_constants_bound_under_generated_names_are_defined():
    """``emit`` binds a constant with no name of its own as ``const0``; the header
    defines it by its literal."""
    loc = Loc(__file__, 1, 0, "")
    x, t = ir.Var("x"), ir.Var("t", "temp")
    values = [np.array([[1.0, 2.5]]), np.float32(0.5), np.array([1, 2], dtype=np.int8),
              float("inf")]
    body, out = [], x
    for k, v in enumerate(values):
        target = ir.Var(f"t{k}", "temp")
        body.append(ir.Stmt(target, "mul", (out, ir.Const(v)), loc))
        out = target
    fn = ir.Function("scaled", (x,), body, (out,), loc)
    source, namespace, _ = backend.emit(fn)
    assert "const0" in source and t.name not in namespace
    lines = backend.header(source, namespace, fn.name)
    assert lines == ["import numpy as np", "", "const0 = np.array([[1.0, 2.5]])",
                     "const1 = np.float32(0.5)", "const2 = np.array([1, 2], dtype=np.int8)"]
    text = "\n".join(lines) + "\n\n\n" + source
    got = run_shown(text, (np.array([2.0, 4.0]),))
    expected = np.array([2.0, 4.0]) * values[0] * values[1] * values[2] * values[3]
    assert np.array_equal(got, expected)


# ---- on what @srcgrad.grad made ----------------------------------------------------------

def test_derivative_source_of_a_decorated_function_shows_what_it_runs(usermod):
    text = srcgrad.derivative_source(usermod.decorated)
    assert "def decorated_grad(x, y):" in text and "with respect to y." in text
    args = (np.array([0.5, 1.0]), 2.0)
    assert_same(run_shown(text, args), usermod.decorated(*args), "decorated")
    assert srcgrad.derivative_source(usermod.decorated, wrt="y") == text
    with pytest.raises(srcgrad.UsageError, match="with respect to y, not wrt='x'"):
        srcgrad.derivative_source(usermod.decorated, wrt="x")
    with pytest.raises(srcgrad.UsageError, match="mode='reverse' and order=1"):
        srcgrad.derivative_source(usermod.decorated, mode="forward")
    ir_text = srcgrad.derivative_ir(usermod.decorated)
    assert "def decorated_grad(x, y):" in ir_text


def test_value_and_grad_shows_the_value_too(usermod):
    vg = srcgrad.value_and_grad(usermod.decorated.__wrapped__, wrt=(0, 1))
    args = (np.array([0.5, 1.0]), 2.0)
    value, grads = vg(*args)
    assert_same(run_shown(srcgrad.derivative_source(vg), args), (value, *grads), "vg")


def test_what_is_not_a_gradient_is_refused_with_what_to_do():
    with pytest.raises(srcgrad.UsageError, match="derivative_source\\(f_numpy, order=2\\)"):
        srcgrad.derivative_source(srcgrad.hessian(lecture.f_numpy))


# ---- pasted into a file, run by another Python -------------------------------------------

def test_cli_output_pasted_next_to_the_user_module_runs(tmp_path):
    (tmp_path / "usermod.py").write_text(USER_MODULE)
    script = pathlib.Path(sys.executable).parent / "srcgrad"
    runner = [str(script)] if script.exists() else [sys.executable, "-m", "srcgrad.cli"]
    shown = subprocess.run([*runner, "show", "usermod.py:with_globals"], cwd=tmp_path,
                           capture_output=True, text=True, timeout=300)
    assert shown.returncode == 0, shown.stderr
    assert "from usermod import LAM, W, tilt" in shown.stdout
    (tmp_path / "shown.py").write_text(shown.stdout)
    (tmp_path / "driver.py").write_text(textwrap.dedent("""\
        import numpy as np
        import srcgrad
        import usermod
        from shown import with_globals_grad

        x = np.array([0.3, -1.2, 2.0])
        got = with_globals_grad(x)
        value, grad = srcgrad.value_and_grad(usermod.with_globals)(x)
        assert got[0] == value and np.array_equal(got[1], grad), (got, value, grad)
        print("same")
        """))
    ran = subprocess.run([sys.executable, "driver.py"], cwd=tmp_path, capture_output=True,
                         text=True, timeout=300)
    assert ran.returncode == 0 and ran.stdout == "same\n", ran.stderr
