"""The numba backend against the rule spec table and random programs.

Every differentiable row of the spec table (``rulespec.DIFF``, its first shape
case) and programs drawn by the fuzzer's grammar (``fuzz_statements``) are
differentiated with ``backend="numba"`` and checked against the Python backend's
gradient to rounding and against finite differences with the row's own tolerance
(the fuzzer's Richardson oracle for programs). What numba cannot compile falls
back to Python after a ``CompiledFallbackWarning``: allowed here (the numbers
are checked the same), and counted by ``python tests/test_compiled_sweeps.py``.

Under ``make test`` a fixed sample runs (every 20th row, a few programs); the
``slow`` tests (``make test-compiled``) run the whole table and 300 programs.
Skipped without numba.
"""

from __future__ import annotations

import importlib.util
import warnings
from collections import Counter

import numpy as np
import pytest
from fuzz_oracles import _flat, _gradient
from fuzz_programs import admissible
from fuzz_statements import programs
from hypothesis import HealthCheck, assume, given, seed, settings
from rulespec import DIFF, F64, F, function_name, load_module, sampled_rows

import srcgrad
from srcgrad.compiled import CompiledFallbackWarning

pytestmark = pytest.mark.skipif(importlib.util.find_spec("numba") is None,
                                reason="numba is not installed (pip install 'srcgrad[numba]')")

SAMPLE = 20  # make test: every SAMPLE-th row


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """The rule spec table's user module (as test_rules.py writes it)."""
    return load_module(tmp_path_factory.mktemp("compiled_rules") /
                       "compiled_rule_functions.py", "compiled_rule_functions")


def _draw(shape, domain, rng):
    """A value of the case's kind inside the row's first interval, away from its ends."""
    lo, hi = domain[0]
    pad = 0.1 * (hi - lo)
    if shape == F:
        return float(rng.uniform(lo + pad, hi - pad))
    if shape == F64:
        return np.float64(rng.uniform(lo + pad, hi - pad))
    return rng.uniform(lo + pad, hi - pad, shape)


def _finite_difference(f, args: tuple, i: int, eps: float = 1e-6) -> np.ndarray:
    base = np.array(args[i], dtype=np.float64)
    out = np.empty(base.shape)
    for idx in np.ndindex(base.shape):
        values = []
        for step in (eps, -eps):
            moved = base.copy()
            moved[idx] += step
            x = float(moved) if type(args[i]) is float else \
                type(args[i])(moved) if isinstance(args[i], np.generic) else moved
            values.append(f(*args[:i], x, *args[i + 1:]))
        out[idx] = (values[0] - values[1]) / (2 * eps)
    return out


def check_row(generated, index: int) -> str:
    """'compiled', 'fell back' or 'skipped' (the row's arguments are outside what the
    Python backend handles here); raises AssertionError on a wrong number."""
    spec = DIFF[index]
    rng = np.random.default_rng(index)
    args = tuple(_draw(shape, dom, rng) for shape, dom in zip(spec.cases[0], spec.domains()))
    plain = getattr(generated, function_name("d", index, spec))
    try:
        out = plain(*args)
    except Exception:  # noqa: BLE001 - a row for other arguments (test_rules draws them)
        return "skipped"
    if all(type(a) is float for a in args) and np.ndim(out) == 0:
        f, extra = plain, ()
    else:
        f = getattr(generated, function_name("dw", index, spec))
        extra = (np.random.default_rng(20240611).standard_normal(np.shape(out)),)
    wrt = tuple(range(spec.arity))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        got = srcgrad.grad(f, wrt=wrt, backend="numba")(*args, *extra)
    want = srcgrad.grad(f, wrt=wrt)(*args, *extra)
    for name, g, w, i in zip(spec.params, got, want, range(spec.arity)):
        where = f"d/d{name} of {spec.source}"
        assert np.shape(g) == np.shape(w), where
        np.testing.assert_allclose(g, w, rtol=1e-9, atol=1e-12, err_msg=where)
        fd = _finite_difference(lambda *a: f(*a, *extra), args, i)
        bad = np.abs(np.asarray(g) - fd) > spec.atol + spec.rtol * np.abs(fd)
        assert not bad.any(), f"{where}: compiled {g}, finite differences {fd}"
    fell = [w for w in caught if issubclass(w.category, CompiledFallbackWarning)]
    return "fell back" if fell else "compiled"


@pytest.mark.parametrize("index", sampled_rows(SAMPLE))
def test_spec_rows_sample(generated, index):
    check_row(generated, index)


@pytest.mark.slow
@pytest.mark.parametrize("index", sampled_rows(1))
def test_spec_rows_all(generated, index):
    check_row(generated, index)


def check_program(program) -> bool | None:
    """Whether the compiled gradient fell back; None if the arguments are not
    admissible (as the fuzzer decides). Raises on a wrong number."""
    from fuzz_oracles import load

    f = load(program.source)
    if not admissible(program, f):
        return None
    x, y = program.x, program.y
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            value, grads = srcgrad.value_and_grad(f, wrt=(0, 1), backend="numba")(x, y)
        except srcgrad.SrcgradError as exc:  # refused: the Python backend must refuse too
            with pytest.raises(type(exc)):
                srcgrad.value_and_grad(f, wrt=(0, 1))(x, y)
            return False
    want_value, want_grads = srcgrad.value_and_grad(f, wrt=(0, 1))(x, y)
    np.testing.assert_allclose(value, want_value, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(_flat(*grads), _flat(*want_grads), rtol=1e-9, atol=1e-12)
    _gradient(f, x, y, _flat(*grads))  # Richardson-extrapolated differences
    return any(issubclass(w.category, CompiledFallbackWarning) for w in caught)


def _programs_test(count: int):
    @settings(max_examples=count, deadline=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(programs())
    def test(program):
        assume(check_program(program) is not None)

    return test


test_random_programs_sample = seed(20261207)(_programs_test(12))
test_random_programs_all = pytest.mark.slow(_programs_test(300))


def main() -> None:
    """Counts over the whole spec table: compiled, fell back (by numba's reason)."""
    import pathlib
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        module = load_module(pathlib.Path(folder) / "compiled_rule_functions.py",
                             "compiled_rule_functions")
        counts: Counter = Counter()
        for i, s in enumerate(DIFF):
            if not s.xfail:
                counts[check_row(module, i)] += 1
        print(dict(counts))


if __name__ == "__main__":
    main()

