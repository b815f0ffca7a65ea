"""Shape-specialized code is what an expert writes by hand (issue 21).

With the shapes and dtypes of a call known, the generated code calls no generic
run-time helper where a plain NumPy expression does (``transform/specialize.py``
and the passes it names). Checked here:

- ``LEFT`` lists, for every benchmark workload and every control-flow program of
  ``test_control_flow``, the helper calls left in the code its first example's call
  runs; each helper left has its reason in ``specialize.REWRITES`` or ``KEPT``;
- the rewrites by table (matmul ranks, broadcasting, reductions with and without
  axes, dtypes): no helper left, and the gradient the dispatcher runs against
  Richardson-extrapolated central differences (``numeric.py``);
- what ``derivative_source(..., example=...)`` / ``shapes=...`` shows is the code the
  call runs (``dispatch.code_for``).
"""

from __future__ import annotations

import ast
import inspect
import os
import sys
import warnings
from collections import Counter

import numpy as np
import pytest
import test_control_flow as CF
from fixtures import specialized_programs as S
from numeric import gradient

import srcgrad
from srcgrad import dispatch, runtime
from srcgrad.transform import specialize

_ROOT = os.path.join(os.path.dirname(__file__), "..")
sys.path[:0] = [os.path.join(_ROOT, "bench"), os.path.join(_ROOT, "examples")]
import workloads_sizes  # noqa: E402 - the bench's workloads, as bench/run.py imports them


def helpers_left(source: str) -> dict[str, int]:
    """The ``srcgrad.runtime`` helpers a derivative's source calls, with their counts."""
    tree = ast.parse(source)
    names = {a.asname or a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)
             and (n.module or "").startswith("srcgrad.runtime") for a in n.names}
    used: Counter[str] = Counter()
    for n in ast.walk(tree):
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in names:
            used[n.func.id] += 1
        elif isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and \
                isinstance(n.func.value, ast.Name) and n.func.value.id in names:
            used[f"{n.func.value.id}.{n.func.attr}"] += 1
    return dict(used)


def _shown(fn, wrt, args) -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return srcgrad.derivative_source(fn, wrt=wrt, example=args)


# ---- the helper calls left, per workload and program ----------------------------------
# Each helper named here has its reason in specialize.REWRITES (the rewrite did not
# apply: a shape the specialization does not know) or specialize.KEPT.
LEFT: dict[str, dict[str, int]] = {
    # scores = np.zeros((length - 1, N, N)): a shape set by a loop variable
    'bench.cky': {'sum_to': 1, 'unbroadcast': 2},
    # the zero adjoint of a list (one zero per entry)
    'bench.list_rnn': {'zeros_like': 1},
    # the first example's X is empty (0x3): nothing known past an empty axis
    'row_loop': {'matmul_grad_a': 1, 'matmul_grad_b': 1, 'seed': 1, 'unbroadcast': 2},
    # x[idx] = v with integer-array indices: which write survived
    'slice_writes': {'kept': 2, 'sum_to': 1, 'unbroadcast': 1, 'write_marks': 2, 'write_order': 2},
    # the same, in a loop
    'slice_writes_in_loop': {'kept': 1, 'unbroadcast': 1, 'write_marks': 1, 'write_order': 1},
    # y[(3 * i + 1) % n]: an index not known to be one number
    'computed_indices': {'unbroadcast': 4},
    # builtin max: which argument it returned
    'max_path': {'pick': 2},
    # sqrt's derivative, with its warning at 0
    'power_iteration': {'sqrt_slope': 1},
    # total = 0.0, then total + row * row: a shape that changes
    'float_becomes_array': {'expand': 1, 'sum_to': 1, 'unbroadcast': 1},
    # builtin min: which argument it returned
    'soft_dtw': {'pick': 3},
    # np.zeros(n) for an argument n: a shape set by a value
    'banded_sums': {'expand': 1},
}

_WORKLOADS = [pytest.param(w, id=w.key) for w in workloads_sizes.ALL]
_PROGRAMS = [pytest.param(c, id=c.name) for c in CF.CASES if c.examples]


def call_args(w) -> tuple:
    """The arguments of one call of the workload's gradient: per example where its
    driver loops over examples; a short list for the list recurrence (the same code,
    fewer leaves to build it for)."""
    args = w.make_args(np.random.default_rng(0))
    if w.key == "per_example":
        return args[0], args[1][0], args[2][0]
    if w.key == "list_rnn":
        return args[0], args[1][:8]
    return args


@pytest.mark.parametrize("w", _WORKLOADS)
def test_helpers_left_in_benchmark_workload(w):
    left = helpers_left(_shown(w.primal, w.wrt, call_args(w)))
    assert left == LEFT.get(f"bench.{w.key}", {})


@pytest.mark.parametrize("case", _PROGRAMS)
def test_helpers_left_in_control_flow_program(case):
    assert helpers_left(_shown(case.fn, case.wrt, case.examples[0])) == LEFT.get(case.name, {})


def _helper(name: str) -> object:
    """The run-time helper a generated module imports as ``name`` (from
    ``srcgrad.runtime`` or one of its modules)."""
    for home in (runtime, runtime.finite, runtime.casts):
        obj: object = home
        try:
            for part in name.split("."):
                obj = getattr(obj, part)
        except AttributeError:
            continue
        return obj
    raise AssertionError(f"{name} is not a run-time helper")


def test_every_helper_left_says_why():
    reasons = {**{k: r.kept for k, r in specialize.REWRITES.items()}, **specialize.KEPT}
    for where, left in LEFT.items():
        for name in left:
            why = reasons.get(_helper(name))
            assert why, f"{where}: {name} is left without a reason in transform/specialize.py"


# ---- the rewrites, by table -----------------------------------------------------------
_rng = np.random.default_rng(21)


def _arr(*shape):
    return _rng.normal(size=shape)


REWRITES = [  # (program, arguments, wrt, a fragment the code must hold)
    (S.tanh_matvec, (_arr(4, 4), _arr(4)), 1, "A.T @"),
    (S.tanh_matvec, (_arr(4, 4), _arr(4)), 0, "np.outer("),
    (S.matmul_both, (_arr(3), _arr(3)), (0, 1), None),
    (S.matmul_both, (_arr(2, 3), _arr(3)), (0, 1), "np.outer("),
    (S.matmul_both, (_arr(3), _arr(3, 4)), (0, 1), "np.outer("),
    (S.matmul_both, (_arr(2, 3), _arr(3, 4)), (0, 1), ".T"),
    (S.dot_both, (_arr(2, 3), _arr(3, 4)), (0, 1), ".T"),
    (S.dot_both, (_arr(3), _arr(3, 2)), (0, 1), "np.outer("),
    (S.broadcast_add, (_arr(3, 1), _arr(1, 4)), (0, 1), "keepdims=True"),
    (S.broadcast_add, (_arr(4), _arr(3, 4)), (0, 1), "axis=(0,)"),
    (S.broadcast_mul, (_arr(2, 3, 4), _arr(4)), (0, 1), "axis=(0, 1)"),
    (S.row_sums_weighted, (_arr(3, 5), _arr(3)), (0, 1), "np.reshape("),
    (S.column_means, (_arr(4, 3),), 0, None),
    (S.kept_axis_max, (_arr(3, 4),), 0, None),
    (S.reduce_two_axes, (_arr(2, 3, 4),), 0, "np.reshape("),
    (S.full_reduction_materialized, (_arr(5),), 0, None),
    (S.scalar_times_array, (1.5, _arr(3, 2)), (0, 1), "np.sum("),
    (S.int_data, (_arr(4), np.arange(4)), 0, None),
    (S.softmax_xent, (_arr(5, 3), _arr(4, 5), np.eye(3)[[0, 2, 1, 1]]), 0, None),
]


# (ties of a max: specialize.KEPT; softmax_xent's max is a log-sum-exp shift, not
# differentiated: optimize/shifts.py)
_KEPT_IN_TABLE = {"kept_axis_max": {"argmax_mask": 1}}


def _id(row) -> str:
    fn, args, wrt = row[:3]
    shapes = "_".join("x".join(map(str, np.shape(a))) or "s" for a in args)
    return f"{fn.__name__}-{shapes}-wrt{wrt}"


@pytest.mark.parametrize("row", REWRITES, ids=[_id(r) for r in REWRITES])
def test_rewrite_leaves_no_helper_and_is_exact(row):
    fn, args, wrt, fragment = row
    source = _shown(srcgrad.grad(fn, wrt=wrt), wrt, args)
    assert helpers_left(source) == _KEPT_IN_TABLE.get(fn.__name__, {}), source
    if fragment is not None:
        assert fragment in source, source
    got = srcgrad.grad(fn, wrt=wrt)(*args)
    got = got if isinstance(wrt, tuple) else (got,)
    for i, g in zip(wrt if isinstance(wrt, tuple) else (wrt,), got):
        want = gradient(fn, args, i)
        assert np.shape(g) == np.shape(args[i])
        np.testing.assert_allclose(g, want, rtol=1e-7, atol=1e-9)
        if isinstance(g, np.ndarray):  # the user's own array: writable, not an input's view
            assert g.flags.writeable and not any(
                np.shares_memory(g, a) for a in args if isinstance(a, np.ndarray))


def test_seed_of_a_known_scalar_output_is_one():
    source = _shown(S.tanh_matvec, 1, (_arr(3, 3), _arr(3)))
    assert "seed(" not in source  # and a product with it is the other factor itself
    assert "x_bar = A.T @ (1 - t1 * t1)" in source, source


def test_float32_arguments_keep_their_cast():
    """as_dtype_of stays where the dtypes do not already agree: float32 in, float32 out."""
    x = _arr(3).astype(np.float32)
    source = _shown(S.broadcast_mul, (0, 1), (x, x.copy()))
    assert "as_dtype_of" in source
    gx, gy = srcgrad.grad(S.broadcast_mul, wrt=(0, 1))(x, x.copy())
    assert gx.dtype == np.float32 and gy.dtype == np.float32


def test_a_cast_on_the_way_keeps_the_dtype_helper():
    source = _shown(S.cast_in_the_middle, 0, (_arr(3),))
    assert "as_dtype_of" in source
    g = srcgrad.grad(S.cast_in_the_middle)(_arr(3))
    assert g.dtype == np.float64


def test_list_of_floats_recurrence_has_no_helper():
    xs = list(_arr(6))
    source = _shown(S.list_recurrence, 0, (0.7, xs))
    assert helpers_left(source) == {}, source
    g = srcgrad.grad(S.list_recurrence)(0.7, xs)
    np.testing.assert_allclose(g, gradient(S.list_recurrence, (0.7, xs), 0), rtol=1e-7)


# ---- what is shown is what runs -----------------------------------------------------
_SHOWN_RUNS = [
    (S.tanh_matvec, (_arr(4, 4), _arr(4)), 1),
    (S.broadcast_add, (_arr(3, 1), _arr(1, 4)), (0, 1)),
    (S.scalar_times_array, (1.5, _arr(3, 2)), (0, 1)),
]


@pytest.mark.parametrize("row", _SHOWN_RUNS, ids=[_id(r) for r in _SHOWN_RUNS])
def test_shown_code_is_the_code_calls_run(row):
    fn, args, wrt = row
    g = srcgrad.grad(fn, wrt=wrt)
    ran = inspect.getsource(dispatch.code_for(g, *args))
    shown = _shown(g, wrt, args)
    assert ran.strip() in shown


def test_shapes_stand_for_float64_arrays():
    by_shapes = srcgrad.derivative_source(S.tanh_matvec, wrt=1, shapes="A=10x10,x=10")
    by_example = _shown(S.tanh_matvec, 1, (np.zeros((10, 10)), np.zeros(10)))
    assert by_shapes == by_example
    assert "A.T @" in by_shapes and "import" in by_shapes


def test_shapes_and_example_together_are_refused():
    with pytest.raises(srcgrad.UsageError, match="example or shapes"):
        srcgrad.derivative_source(S.tanh_matvec, shapes="A=2x2,x=2",
                                  example=(np.zeros((2, 2)), np.zeros(2)))


# ---- calls with lists of floats (callpaths.floats_key: no flattening per call) ----------
@pytest.mark.parametrize("container", [list, tuple])
@pytest.mark.parametrize("wrt", [0, 1, (0, 1)])
def test_lists_of_floats_called_again_and_again(container, wrt):
    g = srcgrad.grad(S.list_recurrence, wrt=wrt)
    for n in (5, 5, 3, 5):  # the second call of a length takes the fast path
        xs = container(float(v) for v in _arr(n))
        got = g(0.7, xs)
        got = got if isinstance(wrt, tuple) else (got,)
        for i, gi in zip(wrt if isinstance(wrt, tuple) else (wrt,), got):
            want = gradient(S.list_recurrence, (0.7, list(xs)), 0) if i == 0 else \
                [gradient(lambda *v: S.list_recurrence(0.7, list(v)), tuple(xs), k)
                 for k in range(n)]
            if i == 1:
                assert type(gi) is container and len(gi) == n
            np.testing.assert_allclose(np.asarray(gi, dtype=float), want, rtol=1e-7,
                                       atol=1e-9)  # (central differences: absolute error)


def test_lists_of_numpy_floats_are_not_taken_for_floats():
    """np.float64 entries (a float subclass) take the general path, with the same result."""
    g = srcgrad.grad(S.list_recurrence, wrt=1)
    xs = [0.1, -0.4, 0.3]
    plain = g(0.7, xs)
    g(0.7, xs)  # (the fast path, again)
    mixed = g(0.7, [np.float64(v) for v in xs])
    np.testing.assert_allclose(mixed, plain, rtol=0, atol=0)


def test_show_with_shapes_prints_the_code_an_expert_writes(capsys):
    from srcgrad import cli

    path = inspect.getsourcefile(S)
    assert cli.main(["show", f"{path}:tanh_matvec", "--wrt", "x", "--shapes", "A=10x10,x=10",
                     "--color", "never"]) == 0
    shown = capsys.readouterr().out
    assert "x_bar = A.T @ (1 - t1 * t1)" in shown and "srcgrad.runtime" not in shown, shown


def test_two_parameters_never_share_one_gradient_array():
    """x + y gives both the same adjoint: each gradient must still be an array of its
    own (an optimizer's in-place update of one must not change the other)."""
    x, y = _arr(3), _arr(3)
    gx, gy = srcgrad.grad(S.shared_adjoint, wrt=(0, 1))(x, y)
    assert not np.shares_memory(gx, gy)
    want = gradient(S.shared_adjoint, (x, y), 0)
    gx *= 0.0
    np.testing.assert_allclose(gy, want, rtol=1e-7, atol=1e-9)
