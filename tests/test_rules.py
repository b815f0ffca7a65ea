"""Every registered derivative rule, checked numerically.

The rows live in ``rulespec.py``. From them a module of ordinary user
functions is generated (srcgrad reads source, so they are written to a real
file), and each row is checked for each of its argument shape cases:

- differentiable rules: ``srcgrad.grad`` against central finite differences
  computed here, at values drawn by hypothesis inside the row's domain;
- non-differentiable rules: the gradient flowing through them is exactly zero,
  against the hand formula d/dx (S * x) = S with S held constant.

Array outputs are reduced to a scalar with fixed random weights, so every
entry of the Jacobian counts. NaN is never masked: a non-finite gradient
fails the test.
"""

from __future__ import annotations

import inspect
import math
import warnings
from collections import Counter

import hypothesis.extra.numpy as hnp
import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import given, settings
from rulespec import DIFF, F64, NONDIFF, F, Spec, function_name, key_name, load_module

import srcgrad
from srcgrad import frontend, ir, transform
from srcgrad.rules import BUILTIN as REGISTRY

EPS = 1e-6  # central difference step (float64)
MIN_EXAMPLES_PER_CASE = 3  # the profile's max_examples is spread over a row's shape cases


@pytest.fixture(scope="session")
def generated(tmp_path_factory):
    """The generated user module (see ``rulespec.module_source``)."""
    return load_module(tmp_path_factory.mktemp("rules") / "rule_functions.py",
                       "rule_functions")


# ---- the spec table equals the registry -------------------------------------------


def _registered(nondiff: bool) -> set[tuple[object, int]]:
    return {(key, i) for key, rules in REGISTRY.items() for i, rule in enumerate(rules)
            if rule.nondiff == nondiff}


def _names(pairs) -> list[str]:
    return sorted(f"{key_name(key)}#{i}" for key, i in pairs)


@pytest.mark.parametrize(("rows", "nondiff"), [(DIFF, False), (NONDIFF, True)],
                         ids=["differentiable", "nondiff"])
def test_spec_rows_equal_registered_overloads(rows, nondiff):
    registered = _registered(nondiff)
    covered = {(s.key, s.overload) for s in rows}
    missing, extra = _names(registered - covered), _names(covered - registered)
    kind = "non-differentiable" if nondiff else "differentiable"
    assert not missing, f"{kind} rules without a spec row: {missing}"
    assert not extra, f"spec rows without such a {kind} rule: {extra}"
    per_key = Counter(key for key, _ in registered)
    assert Counter(key for key, _ in covered) == per_key


def test_every_overload_has_a_row():
    """Both tables together: every key, with its number of overloads."""
    rows = DIFF + NONDIFF
    expected = {key: len(rules) for key, rules in REGISTRY.items()}
    covered = Counter()
    for key, _ in {(s.key, s.overload) for s in rows}:
        covered[key] += 1
    assert dict(covered) == expected


@pytest.mark.parametrize("rows", [DIFF, NONDIFF], ids=["differentiable", "nondiff"])
def test_row_ids_are_unique(rows):
    ids = Counter(f"{key_name(s.key)}:{s.id}" for s in rows)
    assert [i for i, n in ids.items() if n > 1] == []


def _xfail(reason: str) -> list:
    """A known srcgrad bug outside the rule tables: the test must fail until it is fixed."""
    return [pytest.mark.xfail(strict=True, reason=reason)]


def _rows(rows: list[Spec], kind: str):
    for i, s in enumerate(rows):
        marks = _xfail(s.xfail) if s.xfail and not s.xfail_cases else []
        yield pytest.param(function_name(kind, i, s), s, id=f"{key_name(s.key)}:{s.id}",
                           marks=marks)


@pytest.mark.parametrize(("name", "spec"), [*_rows(DIFF, "d"), *_rows(NONDIFF, "n")])
def test_row_exercises_its_rule(generated, name, spec):
    """The row's source really reaches the overload it claims to cover."""
    rules = REGISTRY.get(spec.key, [])
    assert spec.overload < len(rules), f"no overload #{spec.overload} for {key_name(spec.key)}"
    wanted = rules[spec.overload]
    fn = frontend.lower(frontend.capture(getattr(generated, name)))
    stmts = [n for n in ir.walk(fn.body) if isinstance(n, ir.Stmt)]
    hits = [found[0] for found in map(transform.rule_for, stmts) if found is not None]
    assert any(rule is wanted for rule in hits), \
        f"{spec.source!r} does not use {wanted.name}{wanted.signature}"


# ---- drawing arguments -------------------------------------------------------------


def _elements(domain) -> st.SearchStrategy[float]:
    return st.one_of([st.floats(lo, hi, allow_nan=False, allow_infinity=False,
                                allow_subnormal=False) for lo, hi in domain])


def _argument(shape, domain) -> st.SearchStrategy:
    if shape == F:
        return _elements(domain)
    if shape == F64:
        return _elements(domain).map(np.float64)
    return hnp.arrays(np.float64, shape, elements=_elements(domain))


def _shape_id(shape) -> str:
    if isinstance(shape, str):
        return shape
    return "x".join(map(str, shape)) if shape else "0d"


def _cases(rows: list[Spec]):
    for i, s in enumerate(rows):
        for case in s.cases:
            ident = f"{key_name(s.key)}:{s.id}:{','.join(map(_shape_id, case))}"
            yield pytest.param(i, case, id=ident, marks=_xfail(s.xfail) if s.xfails(case) else [])


def _check_with_hypothesis(spec: Spec, case, check) -> None:
    """Run ``check(args)`` on arguments of the case's shapes drawn from the row's domain."""
    per_row = settings.default.max_examples  # 15 by default (tests/conftest.py)
    n = max(MIN_EXAMPLES_PER_CASE, math.ceil(per_row / len(spec.cases)))
    strategies = [_argument(shape, dom) for shape, dom in zip(case, spec.domains())]

    @settings(max_examples=n, deadline=None)
    @given(st.tuples(*strategies))
    def run(args):
        check(args)

    run()


def _weights(shape) -> np.ndarray:
    """Fixed random weights: the scalar reduction of an array output."""
    return np.random.default_rng(20240611).standard_normal(shape)


# ---- numerical helpers (deliberately independent of srcgrad) -----------------------


def _like(original, values: np.ndarray):
    """``values`` in the type of ``original``: Python float, NumPy scalar or array."""
    if type(original) is float:
        return float(values)
    if isinstance(original, np.generic):
        return type(original)(values)
    return values


def _finite_difference(f, args: tuple, i: int) -> np.ndarray:
    x = args[i]
    base = np.array(x, dtype=np.float64)
    out = np.empty(base.shape)
    for idx in np.ndindex(base.shape):
        values = []
        for step in (EPS, -EPS):
            moved = base.copy()
            moved[idx] += step
            values.append(f(*args[:i], _like(x, moved), *args[i + 1:]))
        out[idx] = (values[0] - values[1]) / (2 * EPS)
    return out


def _sum_to(a, shape) -> np.ndarray:
    """Sum a broadcast array back down to ``shape``."""
    a = np.asarray(a, dtype=np.float64)
    while a.ndim > len(shape):
        a = a.sum(axis=0)
    for axis, n in enumerate(shape):
        if n == 1 and a.shape[axis] != 1:
            a = a.sum(axis=axis, keepdims=True)
    return a


def _describe(args) -> str:
    return ", ".join(repr(a) for a in args)


def _check_shapes_and_types(spec: Spec, args: tuple, grads: tuple) -> None:
    assert len(grads) == len(args)
    for name, a, g in zip(spec.params, args, grads):
        assert np.shape(g) == np.shape(a), \
            f"d/d{name} has shape {np.shape(g)}, {name} has shape {np.shape(a)}"
    if spec.python and all(type(a) is float for a in args):
        for name, g in zip(spec.params, grads):
            assert type(g) is float, f"d/d{name} of Python floats is a {type(g).__name__}"


# ---- differentiable rules: against finite differences ------------------------------


@pytest.mark.parametrize(("index", "case"), list(_cases(DIFF)))
def test_gradient_matches_finite_differences(generated, index, case):
    spec = DIFF[index]
    plain = getattr(generated, function_name("d", index, spec))
    weighted = getattr(generated, function_name("dw", index, spec))
    n = spec.arity

    def check(args):
        out = plain(*args)
        if all(type(a) is float for a in args) and np.ndim(out) == 0:
            f, extra = plain, ()
        else:
            f, extra = weighted, (_weights(np.shape(out)),)
        grads = srcgrad.grad(f, wrt=tuple(range(n)))(*args, *extra)
        _check_shapes_and_types(spec, args, grads)
        for i, (name, g) in enumerate(zip(spec.params, grads)):
            fd = _finite_difference(lambda *a: f(*a, *extra), args, i)
            g = np.asarray(g, dtype=np.float64)
            where = f"d/d{name} of {spec.source} at {_describe(args)}"
            assert np.all(np.isfinite(fd)), f"{where}: finite differences {fd} (bad domain?)"
            assert np.all(np.isfinite(g)), f"{where}: srcgrad gives {g}"
            bad = np.abs(g - fd) > spec.atol + spec.rtol * np.abs(fd)
            assert not bad.any(), f"{where}: srcgrad gives {g}, finite differences {fd}"

    _check_with_hypothesis(spec, case, check)


# ---- declared non-differentiable rules: exactly zero -------------------------------


# Rows whose ZeroGradientWarning was seen: a row's cases share its functions, whose
# derivatives are cached, so only the first build of each kind of argument warns.
_STEP_WARNED: set[int] = set()


@pytest.mark.parametrize(("index", "case"), list(_cases(NONDIFF)))
def test_gradient_through_nondiff_rule_is_zero(generated, index, case):
    """``S * x`` with S non-differentiable: d/dx is S (summed to x's shape), and
    every other argument, reaching the output only through S, gets exactly 0. A step
    function (round, sign...) gets a ZeroGradientWarning at the row's line, others none."""
    spec = NONDIFF[index]
    step = REGISTRY[spec.key][spec.overload].step
    value = getattr(generated, function_name("n", index, spec))
    n = spec.arity

    def check(args):
        s = value(*args)
        x = args[0]
        if all(type(a) is float for a in args) and np.ndim(s) == 0:
            f, extra, dx = getattr(generated, function_name("nf", index, spec)), (), float(s)
        else:
            w = _weights(np.broadcast_shapes(np.shape(s), np.shape(x)))
            f, extra = getattr(generated, function_name("nw", index, spec)), (w,)
            dx = _sum_to(np.asarray(s, dtype=np.float64) * w, np.shape(x))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", srcgrad.SrcgradWarning)
            grads = srcgrad.grad(f, wrt=tuple(range(n)))(*args, *extra)
        if _check_step_warnings(spec, f, caught):
            _STEP_WARNED.add(index)
        _check_shapes_and_types(spec, args, grads)
        where = f"{spec.source} at {_describe(args)}"
        g = np.asarray(grads[0], dtype=np.float64)
        assert np.all(np.isfinite(g)), f"d/dx of ({where}) * x: srcgrad gives {g}"
        np.testing.assert_allclose(g, dx, rtol=1e-12, atol=1e-12, equal_nan=False,
                                   err_msg=f"d/dx of ({where}) * x")
        for name, g in zip(spec.params[1:], grads[1:]):
            assert np.all(np.asarray(g) == 0.0), f"d/d{name} of ({where}) * x is {g}, not 0"

    _check_with_hypothesis(spec, case, check)
    assert (index in _STEP_WARNED) == step, \
        f"{spec.source}: step={step}, but a ZeroGradientWarning was{' not' if step else ''} seen"


def _check_step_warnings(spec: Spec, f, caught: list) -> int:
    """How many of ``caught`` are srcgrad's, each a ZeroGradientWarning at a line of
    ``f``'s body, where the row's code is (not srcgrad's); others are passed on."""
    first = f.__code__.co_firstlineno
    body = range(first + 1, first + len(inspect.getsource(f).splitlines()))
    ours = 0
    for w in caught:
        if not issubclass(w.category, srcgrad.SrcgradWarning):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
            continue
        assert w.category is srcgrad.ZeroGradientWarning, str(w.message)
        assert w.filename == f.__code__.co_filename and w.lineno in body, \
            f"{spec.source}: warned at {w.filename}:{w.lineno}, not in {f.__name__}'s body"
        ours += 1
    return ours


# ---- forward mode: the same rules, tangents against finite differences ---------------


@pytest.mark.parametrize(("index", "case"), list(_cases(DIFF)))
def test_tangent_matches_finite_differences(generated, index, case):
    """jvp's directional derivative of every rule against a central difference along a
    random direction (the rule's forward form: partials, jvp_x or linear)."""
    spec = DIFF[index]
    plain = getattr(generated, function_name("d", index, spec))
    rng = np.random.default_rng(index)

    def check(args):
        direction = tuple(type(a)(rng.normal()) if np.ndim(a) == 0 and not isinstance(
            a, np.ndarray) else rng.normal(size=np.shape(a)) for a in args)
        value, tangent = srcgrad.jvp(plain, args, direction)
        np.testing.assert_array_equal(value, plain(*args))
        eps = 1e-6
        hi = plain(*(a + eps * d for a, d in zip(args, direction)))
        lo = plain(*(a - eps * d for a, d in zip(args, direction)))
        fd = (np.asarray(hi, dtype=float) - np.asarray(lo, dtype=float)) / (2 * eps)
        where = f"tangent of {spec.source} at {_describe(args)}"
        assert np.shape(tangent) == np.shape(fd), f"{where}: shape {np.shape(tangent)}"
        bad = np.abs(np.asarray(tangent, dtype=float) - fd) > \
            (spec.atol + spec.rtol * np.abs(fd))
        assert not bad.any(), f"{where}: srcgrad gives {tangent}, finite differences {fd}"
        # Forward and reverse mode agree: <J v, w> = <v, J^T w> for a random w.
        w = rng.normal(size=np.shape(value)) if np.ndim(value) else float(rng.normal())
        _, pullback = srcgrad.vjp(plain, *args)
        lhs = float(np.sum(np.asarray(tangent) * w))
        rhs = sum(float(np.sum(np.asarray(c) * d)) for c, d in zip(pullback(w), direction))
        assert lhs == pytest.approx(rhs, rel=1e-9, abs=1e-9), f"{where}: <Jv, w> != <v, J^T w>"

    _check_with_hypothesis(spec, case, check)


def test_every_rule_has_both_modes():
    """Each differentiable parameter of each rule has a reverse form (partials, vjp or
    a structural adjoint) and a forward form (partials, jvp share, linear, or a write
    that forward mode repeats on the tangent)."""
    writes = {"setitem", "append"}
    missing = []
    for key, rules in REGISTRY.items():
        for rule in rules:
            for p in rule.params:
                if not rule.differentiable(p):
                    continue
                reverse = p in rule.partials or p in rule.vjps or p in rule.structural
                forward = p in rule.partials or p in rule.jvps or rule.linear or key in writes
                if not (reverse and forward):
                    missing.append(f"{key_name(key)}:{p}")
    assert not missing, missing


# ---- float32: gradients and tangents keep the argument's precision -------------------


def _float32_cases(rows: list[Spec]):
    for i, s in enumerate(rows):
        case = next((c for c in s.cases if all(isinstance(shape, tuple) and shape
                                                for shape in c)), None)
        if case is not None:
            ident = f"{key_name(s.key)}:{s.id}:{','.join(map(_shape_id, case))}"
            yield pytest.param(i, case, id=ident)


def _draw(rng, shape, domain) -> np.ndarray:
    lo, hi = np.array(domain).T
    pick = rng.integers(len(domain), size=shape)
    return rng.uniform(lo[pick], hi[pick])


@pytest.mark.parametrize(("index", "case"), list(_float32_cases(DIFF)))
def test_float32_arguments_give_float32_derivatives(generated, index, case):
    """float32 in, float32 out (no silent float64 upcast), and the same numbers as
    float64 to float32 precision, in both modes."""
    spec = DIFF[index]
    weighted = getattr(generated, function_name("dw", index, spec))
    rng = np.random.default_rng(index)
    args64 = tuple(_draw(rng, shape, dom) for shape, dom in zip(case, spec.domains()))
    w64 = _weights(np.shape(getattr(generated, function_name("d", index, spec))(*args64)))
    args32 = tuple(a.astype(np.float32) for a in args64)
    wrt = tuple(range(spec.arity))
    grads64 = srcgrad.grad(weighted, wrt=wrt)(*args64, w64)
    grads32 = srcgrad.grad(weighted, wrt=wrt)(*args32, w64.astype(np.float32))
    for name, g32, g64 in zip(spec.params, grads32, grads64):
        assert np.asarray(g32).dtype == np.float32, f"d/d{name} is {np.asarray(g32).dtype}"
        np.testing.assert_allclose(g32, g64, rtol=1e-3, atol=1e-3, err_msg=f"d/d{name}")
    direction = tuple(rng.normal(size=np.shape(a)).astype(np.float32) for a in args32)
    plain = getattr(generated, function_name("d", index, spec))
    _, tangent = srcgrad.jvp(plain, args32, direction)
    assert np.asarray(tangent).dtype == np.asarray(plain(*args32)).dtype


# ---- second order: Hessian-vector products against differences of gradients ---------


@pytest.mark.parametrize(("index", "case"), list(_float32_cases(DIFF)))
def test_hessian_vector_product_matches_gradient_differences(generated, index, case):
    """Forward over reverse through each rule: H v equals the central difference of
    the gradient along v (the gradient itself is checked against values above)."""
    spec = DIFF[index]
    weighted = getattr(generated, function_name("dw", index, spec))
    rng = np.random.default_rng(index)
    args = tuple(_draw(rng, shape, dom) for shape, dom in zip(case, spec.domains()))
    w = _weights(np.shape(getattr(generated, function_name("d", index, spec))(*args)))
    v = rng.normal(size=np.shape(args[0]))
    hv = srcgrad.hvp(weighted, wrt=0)(*args, w, v)
    gradient = srcgrad.grad(weighted, wrt=0)
    eps = 1e-5
    fd = (gradient(args[0] + eps * v, *args[1:], w) - gradient(args[0] - eps * v, *args[1:], w)) \
        / (2 * eps)
    np.testing.assert_allclose(hv, fd, rtol=1e-5, atol=1e-5, err_msg=spec.source)
