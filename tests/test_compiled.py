"""The numba backend (``backend="numba"``, ``srcgrad/compiled/``): selection and its
errors, the fallback to Python with one located warning, and the compiled numbers
against the Python backend's on the benchmark's workloads, the control-flow
programs and the structured-argument paths.

The rule spec table and random programs run against the compiled backend in
``test_compiled_sweeps.py``. Without numba, everything here that compiles is
skipped with the reason; the errors for a missing numba are tested either way.
"""

from __future__ import annotations

import copy
import importlib.util
import math
import os
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest
from fixtures import compiled_config as cfg
from fixtures import programs as P
from hypothesis import HealthCheck, given, settings

import srcgrad
from srcgrad.compiled import CompiledFallbackWarning
from srcgrad.errors import SrcgradError, UsageError

HAVE_NUMBA = importlib.util.find_spec("numba") is not None
needs_numba = pytest.mark.skipif(not HAVE_NUMBA, reason="numba is not installed "
                                 "(pip install 'srcgrad[numba]'; make test installs it)")
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def _same(got, want, rtol=1e-9, atol=1e-12) -> None:
    """Equal structure, shapes and Python types of numbers; values to rounding (numba's
    kernels sum and take exponentials in another order than NumPy's)."""
    if isinstance(want, (tuple, list)):
        assert type(got) is type(want) and len(got) == len(want), (got, want)
        for g, w in zip(got, want):
            _same(g, w, rtol, atol)
        return
    assert np.shape(got) == np.shape(want), (got, want)
    if isinstance(want, float):
        assert isinstance(got, float), (type(got), got)
    np.testing.assert_allclose(got, want, rtol=rtol, atol=atol)


def _compiled(call):
    """``call()``'s result and the CompiledFallbackWarnings it gave."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = call()
    return out, [w for w in caught if issubclass(w.category, CompiledFallbackWarning)]


# ---- selecting the backend -------------------------------------------------------------


def quadratic(x, y):
    return x * x * y + math.sin(y)


@pytest.mark.parametrize("make", [
    lambda: srcgrad.grad(quadratic, backend="cuda"),
    lambda: srcgrad.value_and_grad(quadratic, backend="Numba"),
    lambda: srcgrad.vjp(quadratic, 1.0, 2.0, backend="jit"),
    lambda: srcgrad.jvp(quadratic, (1.0, 2.0), (1.0, 0.0), backend=None),
    lambda: srcgrad.derivative_source(quadratic, backend="llvm"),
], ids=["grad", "value_and_grad", "vjp", "jvp", "derivative_source"])
def test_an_unknown_backend_is_refused_naming_the_backends(make):
    with pytest.raises(UsageError, match="the backends are 'python', 'numba'"):
        make()


def test_cache_needs_the_numba_backend():
    with pytest.raises(UsageError, match="cache=True .* needs backend='numba'"):
        srcgrad.grad(quadratic, cache=True)
    with pytest.raises(UsageError, match="True or False"):
        srcgrad.grad(quadratic, backend="numba", cache="yes")


def test_numba_missing_is_a_usage_error_saying_what_to_install(monkeypatch):
    from srcgrad.compiled import numba_backend

    monkeypatch.setattr(numba_backend.importlib.util, "find_spec", lambda name: None)
    for make in (lambda: srcgrad.grad(quadratic, backend="numba"),
                 lambda: srcgrad.derivative_source(quadratic, backend="numba")):
        with pytest.raises(UsageError, match=r"pip install 'srcgrad\[numba\]'"):
            make()


def test_the_python_backend_is_the_default_and_needs_nothing():
    assert srcgrad.grad(quadratic, wrt=(0, 1))(1.5, 2.0) == \
        srcgrad.grad(quadratic, wrt=(0, 1), backend="python")(1.5, 2.0)


@needs_numba
def test_what_compiles_once_only_is_refused_with_what_to_write():
    with pytest.raises(UsageError, match="without has_aux"):
        srcgrad.grad(quadratic, has_aux=True, backend="numba")
    with pytest.raises(UsageError, match="without has_aux"):
        srcgrad.grad(srcgrad.grad(quadratic), backend="numba")
    with pytest.raises(UsageError, match="Python backend"):
        srcgrad.jvp(srcgrad.grad(quadratic), (1.0, 2.0), (1.0, 0.0), backend="numba")


# ---- the benchmark's workloads ---------------------------------------------------------


def _workloads():
    sys.path.insert(0, os.path.join(ROOT, "bench"))
    try:
        import workloads
    finally:
        sys.path.remove(os.path.join(ROOT, "bench"))
    return workloads


@needs_numba
@pytest.mark.parametrize("key", ["lecture", "recurrence", "softmax", "mlp", "hmm", "cky",
                                 "small_ops"])
def test_the_benchmark_workloads_compile_and_agree(key):
    W = _workloads()
    w = next(w for w in W.WORKLOADS if w.key == key)
    args = w.make_args(np.random.default_rng(3))
    want = srcgrad.value_and_grad(w.primal, wrt=w.wrt)(*args)
    got, fell = _compiled(lambda: srcgrad.value_and_grad(w.primal, wrt=w.wrt,
                                                         backend="numba")(*args))
    assert fell == [], [str(f.message) for f in fell]
    _same(got, want)
    _same(srcgrad.grad(w.primal, wrt=w.wrt, backend="numba")(*args), want[1])


# ---- the control-flow programs ---------------------------------------------------------

# Programs the compiled backend may run in Python, at some arguments, and why (each
# must still agree; every other program must compile).
FALLS_BACK = {
    "float_becomes_array": "a name holding a float, then an array: no one numba type",
    # A name bound by a return inside a loop is None until then: numba types it as a
    # float and raises TypeError converting None, where Python never reads it.
    "return_in_loop": "None, then a float",
    "return_in_nested_loops": "None, then a float",
    "return_in_while_in_for": "None, then a float",
    "return_in_nested_branches_in_loop": "None, then a float",
    # Integer products (index arithmetic such as 2 * i): numba's integers wrap where
    # Python's grow, so any integer product or power runs in Python (for now).
    "strided_pairs": "integer product", "horner": "integer product",
    "negative_stride_from_shape": "integer product", "slice_writes_in_loop": "integer product",
    "computed_indices": "integer product", "reused_loop_name": "integer product",
}


def _control_flow_cases():
    sys.path.insert(0, HERE)
    import test_control_flow as T

    return [pytest.param(c, id=c.name) for c in T.CASES]


def _agree(case, args) -> list:
    """The compiled value and gradient equal the Python backend's; the fallbacks."""
    want = srcgrad.value_and_grad(case.fn, wrt=case.wrt)(*copy.deepcopy(args))
    got, fell = _compiled(lambda: srcgrad.value_and_grad(case.fn, wrt=case.wrt,
                                                         backend="numba")(*args))
    _same(got, want)
    return fell


def _check_case(case, examples: int, drawn: int) -> None:
    """The first ``examples`` hand-picked examples (branches, empty loops), then
    ``drawn`` drawn arguments (at least one argument tuple in all)."""
    fell = []
    for args in case.examples[:examples]:
        fell += _agree(case, args)

    drawn = drawn or (0 if case.examples[:examples] else 1)
    if drawn:
        @settings(max_examples=drawn, derandomize=True, database=None, deadline=None,
                  suppress_health_check=list(HealthCheck))
        @given(case.args)
        def draw(args):
            fell.extend(_agree(case, args))

        draw()
    if case.name not in FALLS_BACK:  # (those may, at some arguments: the numbers agree)
        assert fell == [], [str(f.message) for f in fell]


@needs_numba
@pytest.mark.parametrize("case", _control_flow_cases())
def test_control_flow_programs_compile_and_agree(case):
    _check_case(case, examples=1, drawn=0)


@needs_numba
@pytest.mark.slow
@pytest.mark.parametrize("case", _control_flow_cases())
def test_control_flow_programs_at_more_arguments(case):
    _check_case(case, examples=3, drawn=3)


def tied_maxima(x, w):
    return np.sum(np.max(x * w, axis=1)) + np.max(x)


@needs_numba
def test_ties_share_the_adjoint_as_in_python():
    """Where max is attained twice the adjoint is split (numba's sums of booleans
    once counted a tie as 1: a wrong gradient the overload table caught)."""
    x = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 0.5], [3.0, 1.0, 3.0]])
    w = np.ones(3)
    got, fell = _compiled(lambda: srcgrad.grad(tied_maxima, wrt=(0, 1), backend="numba")(x, w))
    assert fell == []
    want = srcgrad.grad(tied_maxima, wrt=(0, 1))(x, w)
    _same(got, want)
    # by hand: half of each row's tied maximum, a quarter of the four overall maxima
    np.testing.assert_array_equal(got[0], [[0.0, 0.75, 0.75], [0.5, 0.5, 0.0],
                                           [0.75, 0.0, 0.75]])


# ---- falling back ------------------------------------------------------------------------


@needs_numba
def test_what_numba_cannot_compile_runs_in_python_after_one_located_warning():
    x = np.linspace(0.1, 1.0, 6).reshape(2, 3)
    g = srcgrad.grad(P.float_becomes_array, backend="numba")
    (out,), fell = _compiled(lambda: (g(x),))
    assert len(fell) == 1
    message = str(fell[0].message)
    assert fell[0].filename == P.__file__
    assert "numba cannot compile this derivative" in message
    assert "it runs with the Python backend" in message
    assert "Cannot unify" in message  # numba's reason, in a line
    _same(out, srcgrad.grad(P.float_becomes_array)(x))
    (again,), fell = _compiled(lambda: (g(x * 2),))
    assert fell == []  # once per derivative: it stays on Python
    _same(again, srcgrad.grad(P.float_becomes_array)(x * 2))


@needs_numba
def test_a_run_time_error_of_compiled_code_is_located_as_in_python():
    g = srcgrad.grad(_ratio, backend="numba")
    with pytest.raises(SrcgradError, match="ZeroDivisionError") as compiled:
        g(1.0, 0.0)
    with pytest.raises(SrcgradError, match="ZeroDivisionError") as python:
        srcgrad.grad(_ratio)(1.0, 0.0)
    assert compiled.value.loc == python.value.loc
    assert g(1.0, 2.0) == 0.5  # and the next call compiles and runs


def _ratio(x, y):
    return x / y


@needs_numba
def test_a_derivative_of_many_parameters_runs_in_python_saying_why():
    """A list of 100 floats is 100 parameters: numba's compile would take minutes."""
    xs = [0.01 * k for k in range(100)]
    got, fell = _compiled(lambda: srcgrad.grad(list_loss, wrt=0, backend="numba")(xs, 2.0))
    assert len(fell) == 1 and "derivative of 101 parameters" in str(fell[0].message)
    assert "pass them as one array" in str(fell[0].message)
    _same(got, srcgrad.grad(list_loss, wrt=0)(xs, 2.0))


# ---- where numba's numbers would differ from Python's: the Python backend runs --------


def taylor_exp(x):
    """An integer factorial: numba's 64-bit integers wrap at 21!."""
    s = 1.0
    fact = 1
    for k in range(1, 25):
        fact = fact * k
        s = s + x**k / fact
    return s


def inverse_square(x, n):
    return x * n**-2  # an int to a negative power: 0.25 in Python, 0 in numba


def root(x):
    return math.sqrt(x)


def copied_list(x):
    ws = [1.0, 2.0, 3.0]
    w = np.copy(ws)  # the user's np.copy of a list: an array, as NumPy makes it
    return np.mean(w + w) * x


def attribute_array(x):
    return np.sum(cfg.W * x * x)


def global_scale(x):
    return np.sum(cfg.ALPHA * x * x)


def matrix_output(x):
    return np.outer(x, x)


@needs_numba
@pytest.mark.parametrize(("fn", "args", "reason"), [
    (taylor_exp, (10.0,), "integer multiplication or power"),
    (inverse_square, (3.0, 2), "integer multiplication or power"),
    (attribute_array, (np.array([1.0, 1.0]),), "reads the array cfg.W"),
    (global_scale, (np.array([1.0, 1.0], dtype=np.float32),), "a float32 argument"),
], ids=["int overflow", "int negative power", "module attribute array", "float32"])
def test_what_would_differ_in_numba_runs_in_python(fn, args, reason):
    got, fell = _compiled(lambda: srcgrad.value_and_grad(fn, backend="numba")(*args))
    assert len(fell) == 1 and reason in str(fell[0].message), [str(f.message) for f in fell]
    _same(got, srcgrad.value_and_grad(fn)(*args))


@needs_numba
def test_a_module_attribute_array_changed_in_place_is_seen():
    x = np.array([1.0, 1.0])
    g = srcgrad.grad(attribute_array, backend="numba")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CompiledFallbackWarning)
        g(x)
        saved = cfg.W.copy()
        try:
            cfg.W[:] = [10.0, 20.0]
            np.testing.assert_array_equal(g(x), [20.0, 40.0])
        finally:
            cfg.W[:] = saved


@needs_numba
def test_a_math_domain_error_is_raised_and_located_as_in_python():
    """Compiled math.sqrt(-1.0) is NaN; the NaN makes the call run in Python, which
    raises where the Python backend does."""
    g = srcgrad.grad(root, backend="numba")
    assert g(4.0) == 0.25
    with pytest.raises(SrcgradError, match="ValueError") as compiled:
        g(-1.0)
    with pytest.raises(SrcgradError, match="ValueError") as python:
        srcgrad.grad(root)(-1.0)
    assert compiled.value.loc == python.value.loc
    assert g(1.0) == 0.5  # still the compiled code


@needs_numba
def test_the_users_np_copy_of_a_list_is_an_array():
    got, fell = _compiled(lambda: srcgrad.value_and_grad(copied_list, backend="numba")(2.0))
    _same(got, srcgrad.value_and_grad(copied_list)(2.0))


@needs_numba
def test_a_non_scalar_output_is_refused_as_in_python():
    x = np.array([1.0, 2.0])
    with pytest.raises(SrcgradError) as python:
        srcgrad.grad(matrix_output)(x)
    with pytest.raises(type(python.value)) as compiled, warnings.catch_warnings():
        warnings.simplefilter("ignore", CompiledFallbackWarning)
        srcgrad.grad(matrix_output, backend="numba")(x)
    assert str(compiled.value) == str(python.value)


@needs_numba
def test_cache_true_keys_on_the_numbers_the_code_reads(tmp_path, monkeypatch):
    """numba compiles a module's numbers in as constants: a changed one is another
    cached file, never the stale machine code."""
    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(tmp_path))
    x = np.array([1.0, 1.0])
    g = srcgrad.grad(global_scale, backend="numba", cache=True)
    np.testing.assert_array_equal(g(x), [2.0, 2.0])
    monkeypatch.setattr(cfg, "ALPHA", 3.0)  # the derivative is rebuilt (a changed global)
    np.testing.assert_array_equal(g(x), [6.0, 6.0])


# ---- module-level arrays are read on every call ----------------------------------------

WEIGHTS = np.array([1.0, 2.0, 3.0])


def weighted(x):
    return np.sum(WEIGHTS * np.tanh(x))


@needs_numba
def test_a_global_array_changed_in_place_is_seen_by_compiled_code():
    x = np.array([0.1, -0.2, 0.3])
    g = srcgrad.grad(weighted, backend="numba")
    _same(g(x), srcgrad.grad(weighted)(x))
    saved = WEIGHTS.copy()
    try:
        np.multiply(WEIGHTS, 10.0, out=WEIGHTS)  # an update in place: numba would freeze
        # the old values if they were compiled in
        _same(g(x), srcgrad.grad(weighted)(x))
        np.testing.assert_allclose(g(x), 10.0 * saved * (1 - np.tanh(x) ** 2))
    finally:
        WEIGHTS[:] = saved


# ---- structured arguments, methods, vjp and jvp ----------------------------------------


def list_loss(xs, scale):
    total = 0.0
    for v in xs:
        total = total + scale * v * v
    return total


BACKEND = "numba" if HAVE_NUMBA else "python"  # (the class is made on import)


class Model:
    def __init__(self, w):
        self.w = w

    @srcgrad.grad(wrt="x", backend=BACKEND)
    def loss_grad(self, x):
        return np.sum(np.tanh(self.w * x))

    def loss(self, x):
        return np.sum(np.tanh(self.w * x))


@needs_numba
def test_lists_of_floats_methods_vjp_and_jvp_agree():
    xs = [0.5, -1.0, 2.0]
    _same(srcgrad.grad(list_loss, wrt=(0, 1), backend="numba")(xs, 3.0),
          srcgrad.grad(list_loss, wrt=(0, 1))(xs, 3.0))
    m, x = Model(np.array([0.5, 2.0])), np.array([1.0, -1.0])
    _same(m.loss_grad(x), srcgrad.grad(m.loss)(x))
    _same(srcgrad.grad(m.loss, backend="numba")(x), srcgrad.grad(m.loss)(x))

    def f(x, W):
        return np.tanh(W @ x) * 2.0

    W = np.arange(6.0).reshape(2, 3) / 10
    out, pull = srcgrad.vjp(f, x[:1].repeat(3), W, backend="numba")
    out_py, pull_py = srcgrad.vjp(f, x[:1].repeat(3), W)
    _same(out, out_py)
    _same(pull(np.array([1.0, -2.0])), pull_py(np.array([1.0, -2.0])))
    _same(srcgrad.jvp(f, (np.ones(3), W), (np.ones(3), W), backend="numba"),
          srcgrad.jvp(f, (np.ones(3), W), (np.ones(3), W)))


# ---- the code shown is the code compiled -----------------------------------------------


@needs_numba
def test_show_backend_numba_prints_typed_tapes_and_no_reversed():
    W = _workloads()
    w = next(w for w in W.WORKLOADS if w.key == "cky")
    args = w.make_args(np.random.default_rng(0))
    text = srcgrad.derivative_source(w.primal, wrt=w.wrt, example=args, backend="numba")
    python = srcgrad.derivative_source(w.primal, wrt=w.wrt, example=args)
    assert "reversed(" not in text and "reversed(" in python
    assert "tape_1 = []" in text and "tape_1" not in python  # one tape per group
    assert "np.zeros((n, t1, N))" in text  # shapes as tuples
    namespace: dict = {}
    exec(compile(text, "<shown>", "exec"), namespace)  # the shown module runs in Python
    _same(namespace["log_partition_grad"](*args)[1:],
          srcgrad.value_and_grad(w.primal, wrt=w.wrt)(*args)[1])


@needs_numba
def test_the_cli_shows_the_numba_code(tmp_path):
    out = subprocess.run([sys.executable, "-m", "srcgrad.cli", "show",
                          os.path.join(ROOT, "examples", "hmm.py") + ":log_partition",
                          "--wrt", "log_emit", "--backend", "numba", "--color", "never",
                          "--shapes", "log_init=4,log_trans=4x4,log_emit=9x4"],
                         capture_output=True, text=True, check=True).stdout
    assert "def log_partition_grad(" in out and "reversed(" not in out
    assert "for t in range(T - 1, 0, -1):" in out


# ---- cache=True: the machine code on disk ----------------------------------------------


_CACHED = textwrap.dedent("""
    import sys, numpy as np
    sys.path.insert(0, {here!r})
    import srcgrad
    from srcgrad.dispatch import code_for
    from fixtures.programs import nested_loops
    x, W = np.linspace(0.1, 0.9, 3), np.arange(9.0).reshape(3, 3) / 10
    g = srcgrad.grad(nested_loops, wrt=(0, 1), backend="numba", cache=True)
    print(repr([a.tolist() for a in g(x, W)]))
    jit = code_for(g, x, W).__globals__["_sg_run"]
    print(sum(jit.stats.cache_hits.values()), sum(jit.stats.cache_misses.values()))
""")


@needs_numba
def test_cache_true_lets_a_second_process_skip_the_compile(tmp_path):
    env = {**os.environ, "SRCGRAD_CACHE_DIR": str(tmp_path)}
    script = _CACHED.format(here=HERE)
    runs = []
    for _ in range(2):
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                              env=env, cwd=ROOT)
        assert done.returncode == 0, done.stderr
        runs.append(done.stdout.split("\n"))
    assert runs[0][0] == runs[1][0]  # the same gradient
    hits, misses = (tuple(map(int, r[1].split())) for r in runs)
    assert hits == (0, 1) and misses == (1, 0)  # compiled, then loaded
    assert any(name.endswith(".py") for name in os.listdir(tmp_path / "numba"))
