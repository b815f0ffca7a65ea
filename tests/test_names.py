"""Name hygiene: whatever the user calls things, the generated code works (issue 12).

Generated code runs in a namespace of srcgrad's run-time helpers, NumPy and the
user's globals, and defines a function ``<f>_grad`` (``_vjp``, ``_jvp``,
``_hvp``) with variables ``t1``, ``x_bar``, ``x_dot``, ``value``, ``tape``...
Every such name, and every name a rule may refer to (enumerated from the rule
tables and the runtime module, so new helpers are covered without editing this
file), is used here as the differentiated function's name, a called helper's
name, an array and a scalar parameter, a local and a loop index; each program is
differentiated by grad, value_and_grad, vjp, jvp and hessian and checked
against central finite differences.
"""

from __future__ import annotations

import builtins
import importlib.util
import itertools
import keyword
import os

import numpy as np
import pytest

import srcgrad
from srcgrad import rules, runtime
from srcgrad.rules import helpers

EPS = 1e-6


def helper_names() -> set[str]:
    """Every name rule text may call, and every public runtime helper."""
    names = set().union(*(t.namespace for t in (*rules.TABLES, helpers.table)))
    names |= {n for n in dir(runtime) if not n.startswith("_") and callable(getattr(runtime, n))}
    return names


# The emitter's own names, the builtins it calls, and the patterns of generated names
# for the programs below (their function is ``f``, their parameters ``x`` and ``y``).
GENERATED = {"t1", "t2", "t3", "x_bar", "y_bar", "u_bar", "x_dot", "y_dot", "u_dot",
             "x_bar_dot", "value", "n_iter", "tape", "_", "const0", "const1", "g", "ans",
             "dot", "c", "f_grad", "f_vjp", "f_jvp", "f_hvp", "f_order3", "x_saved",
             "range", "reversed", "float", "slice", "len", "min", "math", "np", "numpy"}
DEFAULTS = {"F": "f", "X": "x", "Y": "y", "L": "u", "C": "helper", "I": "i_"}
NAMES = sorted(n for n in helper_names() | GENERATED
               if n.isidentifier() and not keyword.iskeyword(n) and n not in DEFAULTS.values()
               and n not in {"acc_", "k_", "a_", "b_", "NP_", "RANGE_"})

# x: an array of shape (3,), y: a float. A loop (the tape), a while loop (a trip
# counter), a branch, broadcasting, reductions and a call of a user helper.
PROGRAM = '''\
import numpy as NP_

RANGE_ = range  # the program must run with a variable named ``range`` too


def {C}(a_, b_):
    return NP_.sum(NP_.cos(a_) * b_)


def {F}({X}, {Y}):
    {L} = NP_.sin({X}) * {Y}
    acc_ = 0.0
    for {I} in RANGE_(2):
        acc_ = acc_ + NP_.sum({L} * {X}) * ({Y} + {I})
    k_ = 0
    while k_ < 2:
        acc_ = acc_ * 0.5 + {X}[k_] * {L}[k_ + 1]
        k_ = k_ + 1
    if {Y} > 0:
        acc_ = acc_ + {Y} * {Y}
    return acc_ + NP_.sum(NP_.transpose(NP_.outer({X}, {X})) ** 2) + {C}({X}, {Y})
'''
ROLES = {"function": "F", "callee": "C", "array_param": "X", "scalar_param": "Y",
         "local": "L", "index": "I"}

# The Hessian's code (forward over the gradient) names things the way the gradient's
# does: two roles suffice for `make test`; the slow profile runs it in every role.
SECOND_ORDER_ROLES = set(ROLES) if os.environ.get("HYPOTHESIS_PROFILE") == "slow" else \
    {"function", "local"}

_modules = itertools.count()


@pytest.fixture(scope="module")
def load(tmp_path_factory):
    """A module from source text, in a real file (srcgrad reads the source)."""
    where = tmp_path_factory.mktemp("names")

    def make(source: str):
        name = f"names_{next(_modules)}"
        path = where / f"{name}.py"
        path.write_text(source)
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    return make


def central(f, args, i, eps=EPS):
    """d f / d args[i] by central differences, of shape ``args[i].shape + f's shape``."""
    x = args[i]
    if np.ndim(x) == 0:
        up, down = list(args), list(args)
        up[i], down[i] = x + eps, x - eps
        return (f(*up) - f(*down)) / (2 * eps)
    parts = []
    for k in np.ndindex(np.shape(x)):
        up, down = list(args), list(args)
        up[i], down[i] = np.array(x, dtype=float), np.array(x, dtype=float)
        up[i][k] += eps
        down[i][k] -= eps
        parts.append((f(*up) - f(*down)) / (2 * eps))
    return np.reshape(parts, np.shape(x) + np.shape(parts[0]))


def close(got, want, tol=1e-5):
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol)


def check_every_mode(f, args, second_order=True):
    """grad, value_and_grad, vjp, jvp and hessian of ``f`` at ``args`` (an array and a
    float) against finite differences."""
    want = [central(f, args, i) for i in range(len(args))]
    for got, w in zip(srcgrad.grad(f, wrt=(0, 1))(*args), want):
        close(got, w)
    value, got = srcgrad.value_and_grad(f, wrt=1)(*args)
    assert value == f(*args)
    close(got, want[1])
    value, back = srcgrad.vjp(f, *args)
    for got, w in zip(back(2.0), want):
        close(got, 2.0 * w)
    tangents = (np.array([0.5, -1.0, 2.0]), 0.7)
    value, dot = srcgrad.jvp(f, args, tangents)
    close(dot, np.sum(want[0] * tangents[0]) + want[1] * tangents[1])
    for i in range(len(args) if second_order else 0):  # differences of differences
        want2 = central(lambda *a, i=i: central(f, a, i, 1e-4), args, i, 1e-4)
        close(srcgrad.hessian(f, wrt=i)(*args), want2, 1e-4)


ARGS = (np.array([0.3, -0.8, 1.1]), 0.9)


@pytest.mark.parametrize("role", list(ROLES))
@pytest.mark.parametrize("name", NAMES)
def test_name_in_every_role(load, name, role):
    module = load(PROGRAM.format(**{**DEFAULTS, ROLES[role]: name}))
    check_every_mode(getattr(module, name if role == "function" else "f"), ARGS,
                     role in SECOND_ORDER_ROLES)


# ---- a function named like the function a helper differentiates -----------------------
# ``def transpose(x)`` has the gradient ``transpose_grad``, which is also the helper the
# adjoint of np.transpose calls. Each row calls the NumPy function whose adjoint helper
# is ``<name>_grad`` on x of shape (3, 3).

CALLS = {
    "transpose": "NP_.transpose(x)", "trace": "NP_.trace(x)",
    "einsum": "NP_.einsum('ij,jk->ik', x, x)", "cross": "NP_.cross(x[0], x[1])",
    "diag": "NP_.diag(x)", "diagonal": "NP_.diagonal(x)", "diff": "NP_.diff(x, axis=0)",
    "pad": "NP_.pad(x, 1)", "hstack": "NP_.hstack([x, x * x])",
    "vstack": "NP_.vstack([x, x * x])", "dstack": "NP_.dstack([x, x * x])",
    "column_stack": "NP_.column_stack([x[0], x[1]])", "split": "NP_.split(x, 3)[1]",
    "hsplit": "NP_.hsplit(x, 3)[2]", "repeat": "NP_.repeat(x, 2)", "tile": "NP_.tile(x, 2)",
    "rot90": "NP_.rot90(x)", "take": "NP_.take(x, [0, 2])",
    "take_along_axis": "NP_.take_along_axis(x, NP_.array([[0], [2], [1]]), axis=1)",
    "append": "NP_.append(x, x[0])", "resize": "NP_.resize(x, (2, 5))",
    "partition": "NP_.partition(x[0] * 3 + x[1], 1)", "quantile": "NP_.quantile(x, 0.3)",
    "linspace": "NP_.linspace(x[0, 0], x[1, 1], 4)", "sum": "NP_.sum(x, axis=0)",
    "meshgrid": "NP_.meshgrid(x[0], x[1])[0]", "norm": "NP_.linalg.norm(x)",
    "det": "NP_.linalg.det(x + 3 * NP_.eye(3))",
    "slogdet": "NP_.linalg.slogdet(x + 3 * NP_.eye(3))[1]",
    "matrix_power": "NP_.linalg.matrix_power(x, 2)", "pinv": "NP_.linalg.pinv(x)",
    "cholesky": "NP_.linalg.cholesky(x @ x.T + NP_.eye(3))",
    "eigvalsh": "NP_.linalg.eigvalsh(x + x.T)", "svdvals": "NP_.linalg.svdvals(x)",
    "qr": "NP_.linalg.qr(x)[1]", "eigh": "NP_.linalg.eigh(x + x.T)[0]",
    "svd": "NP_.linalg.svd(x)[1]", "unstack": "NP_.unstack(x)[1]",
    "convolve": "NP_.convolve(x[0], x[1], 'same')", "gradient": "NP_.gradient(x, 0.5)[1]",
    "polyder": "NP_.polyder(x[0], 1)",
    "eig": "NP_.real(NP_.linalg.eig(0.1 * x + NP_.diag(NP_.array([1.0, 3.0, 5.0])))[0])",
    "eigvals": "NP_.real(NP_.linalg.eigvals(0.1 * x + NP_.diag(NP_.array([1.0, 3.0, 5.0]))))",
    "fft": "NP_.real(NP_.fft.fft(x, axis=0))",
    **({"cumulative_sum": "NP_.cumulative_sum(x, axis=0)"} if hasattr(np, "cumulative_sum")
       else {}),  # NumPy >= 2.1
}
X33 = np.array([[0.3, -0.5, 0.8], [1.1, 0.2, -0.4], [0.6, 0.9, 1.3]])


def _numpy_function(name: str):
    return getattr(np, name, None) or getattr(np.linalg, name, None)


def test_every_numpy_helper_name_has_a_call():
    """New ``<name>_grad`` helpers are caught: add a row to CALLS."""
    missing = {h[: -len("_grad")] for h in helper_names() if h.endswith("_grad")
               and _numpy_function(h[: -len("_grad")]) is not None} - set(CALLS)
    assert not missing, f"add a call of each to CALLS: {sorted(missing)}"


@pytest.mark.parametrize("name", sorted(CALLS))
def test_function_named_like_a_numpy_function(load, name):
    module = load(f"import numpy as NP_\n\n\ndef {name}(x, y):\n"
                  f"    return NP_.sum(NP_.sin({CALLS[name]}) * y)\n")
    f = getattr(module, name)
    args = (X33, 1.3)
    want = [central(f, args, i) for i in range(2)]
    for got, w in zip(srcgrad.grad(f, wrt=(0, 1))(*args), want):
        close(got, w)
    _, dot = srcgrad.jvp(f, args, (np.ones((3, 3)), 0.5))
    close(dot, np.sum(want[0]) + 0.5 * want[1])
    close(srcgrad.hessian(f, wrt=1)(*args),
          central(lambda *a: central(f, a, 1, 1e-4), args, 1, 1e-4), 1e-4)


# ---- a module global named like the generated function -----------------------------------


@pytest.mark.parametrize("suffix", ["grad", "vjp", "jvp", "hvp"])
def test_global_named_like_the_derivative(load, suffix):
    """``scale`` reads a global ``scale_grad``: the generated ``scale_grad`` must not
    replace it in the namespace the derivative runs in."""
    module = load(f"import numpy as NP_\n\nscale_{suffix} = NP_.array([2.0, -1.0, 0.5])\n\n\n"
                  f"def scale(x, y):\n    return NP_.sum(NP_.sin(x * scale_{suffix}) * y * y)\n")
    check_every_mode(module.scale, ARGS)


def test_builtins_are_not_in_the_names():
    """The builtins the emitter calls are among the names tested above."""
    assert {"range", "reversed", "float", "slice"} <= set(NAMES)
    assert all(hasattr(builtins, n) for n in ("range", "reversed", "float", "slice"))


# ---- names of the emitter's constants and builtins, where the code needs them ---------

CONSTANTS = '''\
import numpy as NP_


def f(x, {Y}):
    {L} = NP_.minimum(x, 1e308 * 10.0) * {Y}
    return NP_.sum({L}[1:] * {L}[:2]) + NP_.sum(x[[0, 0, 2]] * {Y} * {L}[[1, 1, 0]])
'''


@pytest.mark.parametrize("role", ["scalar_param", "local"])
@pytest.mark.parametrize("name", ["float", "slice", "const0", "const1", "const2", "np", "_",
                                  "t1", "x_bar", "unbroadcast", "expand", "zeros_like"])
def test_constant_and_builtin_names(load, name, role):
    """An infinite constant (``float('inf')``), slices and constant index lists (bound
    in the namespace) next to a variable of the same name."""
    module = load(CONSTANTS.format(**{**DEFAULTS, ROLES[role]: name}))
    check_every_mode(module.f, ARGS)
