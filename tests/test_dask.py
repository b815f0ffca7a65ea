"""Gradients of Dask arrays (issue 17): the same generated code, NumPy dispatching to Dask.

What is checked, on Dask's local scheduler (``test_dask_cluster.py`` runs a cluster):

- users' losses (``fixtures/dask_losses.py``) on chunked Dask arrays give a Dask
  gradient, lazy, which computed equals srcgrad's gradient of the same NumPy arrays to
  rounding, and the hand-written gradient (or central differences); mixed NumPy and
  Dask arguments, structured ones, value_and_grad, has_aux, float32;
- nothing is computed while the gradient is built: a branch on a Dask value, a math
  function of one, a scatter-add, an in-place update of a NumPy array with a Dask value
  are located refusals saying what to write instead; the guard lets other threads
  compute;
- the run-time helpers, each on Dask arrays: Dask out, no computation, NumPy's numbers;
- an array type srcgrad does not take is refused at the call, naming it and the
  supported ones; NumPy arguments are specialized as before; numba refuses Dask;
- every 20th row of the rule spec table (all rows under ``-m slow``) on Dask arrays:
  the NumPy gradient, or a located refusal; never another number, never a crash.

Skipped without dask (``pip install 'srcgrad[dask]'``; ``make test`` installs it).
"""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import threading

import numeric
import numpy as np
import pytest

dask = pytest.importorskip("dask", reason="dask is not installed (pip install 'srcgrad[dask]')")
da = pytest.importorskip("dask.array", reason="dask.array is not installed")
from dask.callbacks import Callback  # noqa: E402
from fixtures import dask_losses as L  # noqa: E402
from rulespec import sampled_rows  # noqa: E402

import srcgrad  # noqa: E402
from srcgrad import lazy, runtime  # noqa: E402
from srcgrad.runtime import finite  # noqa: E402

N, D = 120, 4
ROWS = 30  # rows per chunk: 4 chunks


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(17)
    X = rng.normal(size=(N, D))
    y = (rng.random(N) < 0.5).astype(float)
    Y = np.eye(3)[rng.integers(0, 3, N)]
    return X, y, Y


def chunked(a):
    return da.from_array(a, chunks=(ROWS,) + a.shape[1:])


def computed(g):
    """A gradient (a tuple, a dataclass of arrays) computed, as NumPy values."""
    if dataclasses.is_dataclass(g):
        return type(g)(*dask.compute(*vars(g).values()))
    return dask.compute(g)[0]


def leaves(g):
    if dataclasses.is_dataclass(g):
        return list(vars(g).values())
    return list(g) if isinstance(g, tuple) else [g]


def same(got, want, rtol=1e-11):
    """Computed Dask results equal NumPy's to rounding (the chunks sum in another order)."""
    for g, w in zip(leaves(computed(got)), leaves(want), strict=True):
        assert np.shape(g) == np.shape(w)
        np.testing.assert_allclose(g, w, rtol=rtol, atol=1e-13)


class Counting(Callback):
    """Counts the graphs Dask's local schedulers run while it is active."""

    def __init__(self):
        super().__init__()
        self.runs = 0

    def _start(self, dsk):
        self.runs += 1


def lazy_call(fn, *args):
    """``fn(*args)``, checking that Dask ran no graph meanwhile."""
    with Counting() as counting:
        out = fn(*args)
    assert counting.runs == 0
    return out


# ---- users' losses: Dask gradients, lazy, equal to NumPy's ---------------------------------

def test_logistic_regression(data):
    X, y, _ = data
    w = np.linspace(-0.5, 0.5, D)
    g = lazy_call(srcgrad.grad(L.logistic), w, chunked(X), chunked(y))
    assert isinstance(g, da.Array) and g.shape == (D,)
    numpy_grad = srcgrad.grad(L.logistic)(w, X, y)
    same(g, numpy_grad)
    same(g, L.logistic_hand(w, X, y))  # X^T (sigmoid(Xw) - y) / n


def test_softmax_cross_entropy_with_a_broadcast_bias(data):
    X, _, Y = data
    rng = np.random.default_rng(1)
    W, b = rng.normal(size=(D, 3)), rng.normal(size=3)
    gW, gb = lazy_call(srcgrad.grad(L.softmax_xent, wrt=("W", "b")), W, b, chunked(X),
                       chunked(Y))
    assert isinstance(gW, da.Array) and isinstance(gb, da.Array)
    same((gW, gb), srcgrad.grad(L.softmax_xent, wrt=("W", "b"))(W, b, X, Y))
    same((gW, gb), L.softmax_xent_hand(W, b, X, Y))


def test_a_python_float_bias_gets_a_lazy_gradient(data):
    X, y, _ = data
    w = np.full(D, 0.1)
    gw, gb = lazy_call(srcgrad.grad(L.logistic_bias, wrt=(0, 1)), w, 0.3, chunked(X),
                       chunked(y))
    assert isinstance(gb, da.Array) and gb.shape == ()  # not float(): nothing computed
    same((gw, gb), srcgrad.grad(L.logistic_bias, wrt=(0, 1))(w, 0.3, X, y))
    np.testing.assert_allclose(gb.compute(), numeric.gradient(L.logistic_bias, (w, 0.3, X, y), 1),
                               rtol=1e-6)


def test_dataclass_parameters_and_a_helper(data):
    X, y, _ = data
    rng = np.random.default_rng(2)
    params = L.Params(rng.normal(size=(D, 5)), rng.normal(size=5), rng.normal(size=5))
    g = lazy_call(srcgrad.grad(L.mlp_loss), params, chunked(X), chunked(y))
    assert isinstance(g, L.Params) and all(isinstance(v, da.Array) for v in vars(g).values())
    same(g, srcgrad.grad(L.mlp_loss)(params, X, y))
    fd = numeric.gradient(lambda W2: L.mlp_loss(dataclasses.replace(params, W2=W2), X, y),
                     (params.W2,), 0)
    np.testing.assert_allclose(g.W2.compute(), fd, rtol=1e-6, atol=1e-9)


def test_a_loop_over_epochs_calling_a_helper(data):
    """Three gradient steps differentiated through: each epoch's arrays on the tape."""
    X, y, _ = data
    w = np.linspace(-0.2, 0.3, D)
    g = lazy_call(srcgrad.grad(L.after_epochs), w, chunked(X), chunked(y))
    same(g, srcgrad.grad(L.after_epochs)(w, X, y))
    np.testing.assert_allclose(g.compute(), numeric.gradient(L.after_epochs, (w, X, y), 0),
                               rtol=1e-6, atol=1e-9)


def test_a_norm_penalty_and_an_array_written_in_place(data):
    X, y, _ = data
    w = np.linspace(0.3, -0.4, D)
    same(lazy_call(srcgrad.grad(L.ridge), w, chunked(X), chunked(y)),
         srcgrad.grad(L.ridge)(w, X, y))
    g = lazy_call(srcgrad.grad(L.written), w, chunked(X))  # t[0] = 0.0; t[2:4] = ...
    same(g, srcgrad.grad(L.written)(w, X))
    np.testing.assert_allclose(g.compute(), numeric.gradient(L.written, (w, X), 0), rtol=1e-6)


def test_a_sum_built_with_in_place_additions_in_a_loop(data):
    X, _, _ = data
    w = np.linspace(-0.3, 0.3, D)
    g = lazy_call(srcgrad.grad(L.running), w, chunked(X))
    same(g, srcgrad.grad(L.running)(w, X))
    np.testing.assert_allclose(g.compute(), numeric.gradient(L.running, (w, X), 0), rtol=1e-6)


def test_value_and_grad_of_a_zero_dimensional_dask_loss(data):
    X, y, _ = data
    w = np.zeros(D)
    value, g = lazy_call(srcgrad.value_and_grad(L.logistic), w, chunked(X), chunked(y))
    assert isinstance(value, da.Array) and value.shape == ()  # seed(out) of a 0-d Dask value
    np.testing.assert_allclose(value.compute(), np.log(2.0), rtol=1e-12)
    same(g, srcgrad.grad(L.logistic)(w, X, y))


def test_has_aux_returns_the_aux_lazy(data):
    X, y, _ = data

    def with_aux(w, X, y):
        return L.logistic(w, X, y), X @ w

    w = np.full(D, 0.2)
    g, aux = lazy_call(srcgrad.grad(with_aux, has_aux=True), w, chunked(X), chunked(y))
    assert isinstance(aux, da.Array)
    same(g, srcgrad.grad(L.logistic)(w, X, y))
    np.testing.assert_allclose(aux.compute(), X @ w)


def test_float32_stays_float32(data):
    X, y, _ = data
    w = np.full(D, 0.1, dtype=np.float32)
    g = srcgrad.grad(L.logistic)(w, chunked(X.astype(np.float32)), chunked(y.astype(np.float32)))
    assert g.dtype == np.float32
    same(g, srcgrad.grad(L.logistic)(w, X.astype(np.float32), y.astype(np.float32)), rtol=1e-5)


def test_dask_parameters_and_complex_values(data):
    X, y, _ = data
    w = chunked(np.linspace(-1, 1, D).reshape(D, 1))[:, 0]
    g = srcgrad.grad(L.logistic)(w, chunked(X), chunked(y))
    same(g, srcgrad.grad(L.logistic)(w.compute(), X, y))

    def power(z, X):
        return np.sum(np.abs(X @ z) ** 2)

    z = np.array([1 + 2j, -0.5j, 0.3, 2 - 1j])
    same(srcgrad.grad(power)(da.from_array(z, chunks=2), chunked(X)),
         srcgrad.grad(power)(z, X))


# ---- mixing NumPy and Dask, the specializations -------------------------------------------

def test_numpy_and_dask_arguments_mix_as_numpy_dispatches(data):
    X, y, _ = data
    w = np.full(D, 0.1)
    grad = srcgrad.grad(L.logistic)
    numpy_first = grad(w, X, y)
    assert type(numpy_first) is np.ndarray
    mixed = grad(w, chunked(X), y)  # NumPy labels, Dask rows: X @ w is Dask, so is all after
    assert isinstance(mixed, da.Array)
    same(mixed, numpy_first)
    again = grad(w, X, y)  # the NumPy specialization is still the one NumPy arrays run
    assert type(again) is np.ndarray
    np.testing.assert_array_equal(again, numpy_first)


def test_dask_arrays_get_code_for_any_shape(data):
    """The code a Dask call runs is not specialized on shapes (NumPy's is): its helpers
    decide on the arrays, and it is the code derivative_source shows for the call."""
    X, y, _ = data
    w = np.zeros(D)
    for_numpy = srcgrad.derivative_source(L.logistic, example=(w, X, y))
    for_dask = srcgrad.derivative_source(L.logistic, example=(w, chunked(X), chunked(y)))
    assert "X.T @ z_bar" in for_numpy and "seed(" not in for_numpy
    assert "seed(out)" in for_dask and "matmul_grad_b(z_bar, X, w)" in for_dask
    grad = srcgrad.grad(L.logistic)
    grad(w, chunked(X), chunked(y))
    grad(w, X, y)
    kept = grad.__srcgrad_specializations__.by_types
    assert len(kept) == 2  # one per kinds of arguments: (ndarray, Array, Array), NumPy's


def test_numba_backend_refuses_dask_arrays(data):
    pytest.importorskip("numba", reason="numba is not installed")
    X, y, _ = data
    with pytest.raises(srcgrad.UsageError, match="compiles code for NumPy arrays") as info:
        srcgrad.grad(L.logistic, backend="numba")(np.zeros(D), chunked(X), chunked(y))
    assert "Use the default backend" in str(info.value)
    assert info.value.loc is not None and info.value.loc.file == __file__


def test_transforms_other_than_grad_refuse_dask_arrays(data):
    X, y, _ = data
    w = np.zeros(D)
    Xd, yd = chunked(X), chunked(y)
    for call in (lambda: srcgrad.vjp(L.logistic, w, Xd, yd),
                 lambda: srcgrad.jvp(L.logistic, (w, Xd, yd), (w, Xd, yd)),
                 lambda: srcgrad.hessian(L.logistic)(w, Xd, yd),
                 lambda: srcgrad.grad(srcgrad.grad(L.logistic_bias, wrt=1), wrt=1)(
                     w, 0.1, Xd, yd)):
        with pytest.raises(srcgrad.UsageError, match="of Dask arrays is not supported"):
            call()


# ---- what would compute is refused, located -------------------------------------------------

def test_a_branch_on_a_dask_value_is_refused_at_its_line(data):
    X, _, _ = data
    with pytest.raises(srcgrad.UsageError, match="an if, a while or bool") as info:
        lazy_call(srcgrad.grad(L.branching), np.ones(D), chunked(X))
    assert info.value.loc.text.strip() == "if s > 0:"
    assert "np.where" in info.value.hint
    assert np.allclose(srcgrad.grad(L.branching)(np.ones(D), X),  # NumPy: decided now
                       np.sign(np.sum(X @ np.ones(D))) * X.sum(axis=0))


def test_a_python_number_of_a_dask_value_is_refused(data):
    X, _, _ = data

    def as_float(w, X):
        return float(np.sum(X @ w)) * 2.0

    w = np.ones(D)  # grad leaves the value out (dead code); value_and_grad needs it
    np.testing.assert_allclose(srcgrad.grad(as_float)(w, chunked(X)).compute(),
                               2.0 * X.sum(axis=0))
    with pytest.raises(srcgrad.UsageError, match="a Python number made of a Dask value"):
        lazy_call(srcgrad.value_and_grad(as_float), w, chunked(X))


def test_a_numpy_function_dask_lacks_is_refused_by_name(data):
    X, _, _ = data

    def sorted_sum(w, X):
        return np.sum(np.sort(X @ w)[-3:])

    with pytest.raises(srcgrad.UsageError, match="np.sort, which Dask does not implement"):
        lazy_call(srcgrad.grad(sorted_sum), np.ones(D), chunked(X))


def test_a_scatter_add_is_refused(data):
    X, _, _ = data
    with pytest.raises(srcgrad.UsageError, match="scatter-add") as info:
        srcgrad.grad(L.picking)(np.ones(D), chunked(X), np.array([0, 3, 3]))
    assert "z[labels]" in info.value.loc.text


def test_an_in_place_update_of_a_numpy_adjoint_is_refused_and_a_dask_one_works(data):
    X, y, _ = data
    theta = np.linspace(-0.3, 0.3, D + 1)
    with pytest.raises(srcgrad.UsageError, match="in-place update of a NumPy array") as info:
        srcgrad.grad(L.packed)(theta, chunked(X), chunked(y))
    assert "from_array" in info.value.hint
    g = lazy_call(srcgrad.grad(L.packed), da.from_array(theta), chunked(X), chunked(y))
    same(g, srcgrad.grad(L.packed)(theta, X, y))


def test_other_threads_compute_while_a_gradient_is_built(data):
    X, _, _ = data
    results, errors = [], []
    inside, done = threading.Event(), threading.Event()

    def other():
        inside.wait()
        try:
            results.append(float(chunked(X).sum().compute()))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        done.set()

    thread = threading.Thread(target=other)
    thread.start()
    with lazy.nothing_computed():
        inside.set()
        assert done.wait(30)
        with pytest.raises(srcgrad.arrays.NotLazy):
            chunked(X).sum().compute()
    thread.join()
    assert not errors and results == pytest.approx([X.sum()])
    assert dask.config.get("scheduler", None) is None  # put back
    assert float(chunked(X).sum().compute()) == pytest.approx(X.sum())


# ---- the run-time helpers on Dask arrays ----------------------------------------------------

def _helper_cases():
    rng = np.random.default_rng(5)
    a = rng.normal(size=(6, 4))
    a[0, 0] = 0.0
    m = a.max(axis=1)
    return [
        ("expand", runtime.expand, (2.0, a, None, False)),
        ("expand axis", runtime.expand, (m, a, 1, False)),
        ("unbroadcast", runtime.unbroadcast, (a, a[:1])),
        ("unbroadcast to a float", runtime.unbroadcast, (a, 1.5)),
        ("sum_to", runtime.sum_to, (a, (4,))),
        ("zeros_like", runtime.zeros_like, (a,)),
        ("as_dtype_of", runtime.as_dtype_of, (a, a.astype(np.float32))),
        ("copy_adjoint", runtime.copy_adjoint, (a,)),
        ("keep", runtime.keep, (m, a, 1, False)),
        ("argmax_mask", runtime.argmax_mask, (a, m, 1, False)),
        ("between", runtime.between, (a, -0.5, 0.5)),
        ("write_order", runtime.write_order, (a[:2],)),
        ("write_marks", runtime.write_marks, (a,)),
        ("unstack", runtime.unstack, (a, 1)),
        ("split_like", runtime.split_like, (a, [a[:2], a[2:]], 0)),
        ("transpose_grad", runtime.transpose_grad, (a, (1, 0))),
        ("matmul_grad_a", runtime.matmul_grad_a, (a[:, :3], a, a[:4, :3])),
        ("matmul_grad_b", runtime.matmul_grad_b, (a[:, :3], a, a[:4, :3])),
        ("dot_grad_a", runtime.dot_grad_a, (a[:, 0], a, a[0])),
        ("average_weights", runtime.average_weights, (a, 1, np.arange(1.0, 5.0))),
        ("ratio", finite.ratio, (a, a[:, :1])),
        ("sqrt_slope", finite.sqrt_slope, (np.abs(a),)),
        ("pow_log", finite.pow_log, (a ** 2, a)),
        ("pow_slope", finite.pow_slope, (a, np.abs(a), 0.5)),
        ("spread_divisor", finite.spread_divisor, (a, a[0], 1)),
    ]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # log(0), 0 ** -0.5: NumPy's too
@pytest.mark.parametrize("name, helper, args", _helper_cases(), ids=lambda c: str(c)[:20])
def test_each_helper_keeps_dask_arrays_dask_and_computes_nothing(name, helper, args):
    want = helper(*args)
    with np.errstate(divide="ignore", invalid="ignore"), lazy.nothing_computed():
        got = helper(*(chunked(a) if isinstance(a, np.ndarray) and a.ndim else a
                       for a in args))
    got_list, want_list = (got, want) if isinstance(want, list) else ([got], [want])
    for g, w in zip(got_list, want_list, strict=True):
        if isinstance(w, np.ndarray) and w.ndim:
            assert isinstance(g, da.Array), name
        g = computed(g)
        assert np.shape(g) == np.shape(w) and np.result_type(g) == np.result_type(w), name
        np.testing.assert_allclose(g, w, rtol=1e-13, atol=0, err_msg=name)


def test_seed_of_a_zero_dimensional_dask_value():
    with lazy.nothing_computed():
        assert runtime.seed(chunked(np.ones((4, 2))).sum()) == 1.0
        with pytest.raises(runtime.NotScalar):
            runtime.seed(chunked(np.ones((4, 2))))


# ---- arguments: other array types, what was accepted before --------------------------------

class FakeArray:
    """An array-like NumPy would convert (``__array__``) but not dispatch to."""

    shape, dtype = (3,), np.dtype(float)

    def __array__(self, dtype=None, copy=None):
        return np.ones(3)


def test_an_array_type_srcgrad_does_not_take_is_refused_at_the_call(data):
    X, y, _ = data
    for args in ((FakeArray(), X, y), (np.zeros(D), FakeArray(), y)):  # wrt or data
        with pytest.raises(srcgrad.UsageError) as info:
            srcgrad.grad(L.logistic)(*args)
        text = str(info.value)
        assert "FakeArray (test_dask.FakeArray)" in text and "no __array_function__" in text
        assert "Dask arrays (dask.array.Array)" in text and "CuPy arrays" in text
        assert info.value.loc.file == __file__
    inside = L.Params(FakeArray(), np.zeros(5), np.zeros(5))
    with pytest.raises(srcgrad.UsageError, match="'params' of mlp_loss: params.W1 is a FakeArray"):
        srcgrad.grad(L.mlp_loss)(inside, X, y)


def test_numpy_arguments_are_taken_as_before(data):
    """NumPy arrays, numbers, containers, dataclasses and objects: the NumPy path."""
    X, y, _ = data
    w = np.full(D, 0.2)
    assert type(srcgrad.grad(L.logistic)(w, X, y)) is np.ndarray
    assert isinstance(srcgrad.grad(lambda a, b: a * b, wrt=(0, 1))(2.0, 3.0)[0], float)

    def in_dict(p, X):
        return np.sum(np.tanh(X @ p["w"]) * p["s"])

    g = srcgrad.grad(in_dict)({"w": w, "s": 2.0}, X)
    assert type(g["w"]) is np.ndarray and isinstance(g["s"], float)
    params = L.Params(np.ones((D, 2)), np.zeros(2), np.ones(2))
    assert all(type(v) is np.ndarray for v in vars(srcgrad.grad(L.mlp_loss)(params, X, y))
               .values())
    with pytest.raises(srcgrad.UsageError, match="array of int64"):
        srcgrad.grad(L.logistic)(np.arange(D), X, y)
    with pytest.raises(srcgrad.UsageError, match="a Dask array of int64"):
        srcgrad.grad(L.logistic)(da.arange(D), chunked(X), chunked(y))


def test_a_dask_array_of_unknown_shape_is_refused_at_the_call(data):
    X, y, _ = data
    picked = chunked(y) > 0.5
    rows = chunked(X)[picked]  # boolean indexing: chunk sizes unknown
    with pytest.raises(srcgrad.UsageError, match="compute_chunk_sizes"):
        srcgrad.grad(L.logistic)(np.zeros(D), rows, chunked(y)[picked])


def test_has_aux_with_a_write_into_a_dask_argument_leaves_it_alone():
    """Found by a second read: the caller's Dask array was changed by the call, and each
    call's gradient was of the array written before."""
    w, Xn = np.ones(2), np.arange(1.0, 7.0).reshape(3, 2)
    X = da.from_array(Xn.copy(), chunks=2)
    want = srcgrad.grad(L.doubles_a_column, has_aux=True)(w, Xn.copy())[0]
    for _ in range(3):
        g, _ = srcgrad.grad(L.doubles_a_column, has_aux=True)(w, X)
        np.testing.assert_allclose(g.compute(), want)
    np.testing.assert_array_equal(X.compute(), Xn)


def test_unknown_chunks_are_refused_on_every_call_not_only_the_first(data):
    X = chunked(data[0])
    g = srcgrad.grad(L.variance)
    np.testing.assert_allclose(g(X).compute(), srcgrad.grad(L.variance)(data[0]))
    with pytest.raises(srcgrad.UsageError, match="compute_chunk_sizes"):
        g(X[X[:, 0] > 0])


def test_a_reshape_to_minus_one(data):
    X = data[0]
    want = srcgrad.grad(L.flattened, wrt=(0, 1))(np.ones(D), X)
    got = srcgrad.grad(L.flattened, wrt=(0, 1))(np.ones(D), chunked(X))
    for a, b in zip(got, want):
        np.testing.assert_allclose(np.asarray(a), b, rtol=1e-12)


def test_a_scheduler_left_behind_by_another_thread_does_not_break_dask(data):
    """Another thread's dask.config.set that saved the guard's scheduler and restores it
    after the guard left: computing still works (the guard passes graphs on)."""
    X = chunked(data[0])
    with lazy.nothing_computed():
        leaked = dask.config.set(scheduler=dask.config.get("scheduler"))  # saves _refuse
    try:
        leaked.__exit__(None, None, None)  # puts _refuse back, after the guard left
        assert float(X.sum().compute()) == pytest.approx(float(data[0].sum()))
        srcgrad.grad(L.logistic)(np.zeros(D), X, chunked(data[1]))  # enters again
        assert float(X.sum().compute()) == pytest.approx(float(data[0].sum()))
    finally:
        dask.config.set(scheduler=None)


def test_einsum_gives_a_lazy_gradient_not_a_numpy_array_of_the_data(data):
    X = data[0]
    got = srcgrad.grad(L.contracted, wrt=(0, 1))(np.ones(D), chunked(X))
    assert isinstance(got[1], da.Array)
    want = srcgrad.grad(L.contracted, wrt=(0, 1))(np.ones(D), X)
    for a, b in zip(got, want):
        np.testing.assert_allclose(np.asarray(a), b, rtol=1e-12)


def test_import_srcgrad_does_not_import_dask():
    code = "import sys, srcgrad; assert 'dask' not in sys.modules, 'dask imported'"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


# ---- the rule spec table on Dask arrays -----------------------------------------------------

SAMPLE = 20


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    from rulespec import load_module

    return load_module(tmp_path_factory.mktemp("dask_rules") / "dask_rule_functions.py",
                       "dask_rule_functions")


def check_row(generated, index: int) -> str:
    """'same' (the NumPy gradient, computed from a lazy one), 'refused' (a located
    error), or 'skipped' (no array among the row's arguments); fails otherwise."""
    from rulespec import DIFF, F64, F, function_name

    spec = DIFF[index]
    rng = np.random.default_rng(index)

    def draw(shape, domain):
        lo, hi = domain[0]
        pad = 0.1 * (hi - lo)
        if shape in (F, F64):
            v = rng.uniform(lo + pad, hi - pad)
            return float(v) if shape == F else np.float64(v)
        return rng.uniform(lo + pad, hi - pad, shape)

    args = tuple(draw(s, d) for s, d in zip(spec.cases[0], spec.domains()))
    f = getattr(generated, function_name("d", index, spec))
    try:
        out = f(*args)
    except Exception:  # noqa: BLE001 - a row for other arguments (test_rules draws them)
        return "skipped"
    extra = (np.random.default_rng(7).standard_normal(np.shape(out)),)
    f = getattr(generated, function_name("dw", index, spec))
    if not any(isinstance(a, np.ndarray) and a.ndim for a in args):
        return "skipped"
    wrt = tuple(range(spec.arity))
    want = srcgrad.grad(f, wrt=wrt)(*args, *extra)
    dargs = [da.from_array(a, chunks=tuple(max(1, (n + 1) // 2) for n in a.shape))
             if isinstance(a, np.ndarray) else a for a in (*args, *extra)]
    try:
        with Counting() as counting:
            got = srcgrad.grad(f, wrt=wrt)(*dargs)
    except srcgrad.SrcgradError as exc:
        assert exc.loc is not None and exc.loc.line > 0, exc
        return "refused"
    assert counting.runs == 0, spec.source
    for g, w in zip(dask.compute(*got), want, strict=True):
        assert np.shape(g) == np.shape(w), spec.source
        np.testing.assert_allclose(g, w, rtol=1e-9, atol=1e-12, err_msg=spec.source)
    return "same"


@pytest.mark.parametrize("index", sampled_rows(SAMPLE))
def test_spec_rows_sample(generated, index):
    check_row(generated, index)


@pytest.mark.slow
@pytest.mark.parametrize("index", sampled_rows(1))
def test_spec_rows_all(generated, index):
    check_row(generated, index)
