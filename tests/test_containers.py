"""Containers as people write them (tests/fixtures/container_programs.py):
comprehensions (several fors, nested, dict comprehensions), dicts iterated and
merged through branches and loops, tuples carried by for and while loops, slices of
lists (arguments and lists made at run time), lists appended to.

Every gradient is checked against central differences (tests/numeric.py) over the
flattened leaves of the tuple, list and dict arguments, every tangent (jvp) against
the gradient (vjp) along a random direction; what stays refused is a located error
with a hint."""

from __future__ import annotations

import copy
import re
from pathlib import Path

import numpy as np
import pytest
from fixtures import container_programs as P
from numeric import directional, gradient

import srcgrad
from srcgrad.errors import SrcgradError, UnsupportedSyntax

RNG = np.random.default_rng(14)
FIXTURE = Path(P.__file__)


# -- flattening structured arguments to check them with numbers alone ----------------------
def _leaves(a):
    if isinstance(a, dict):
        return [x for v in a.values() for x in _leaves(v)]
    if isinstance(a, (list, tuple)):
        return [x for v in a for x in _leaves(v)]
    return [a]


def _rebuilt(a, it):
    """``a``'s structure with its leaves taken from the iterator ``it``."""
    if isinstance(a, dict):
        return {k: _rebuilt(v, it) for k, v in a.items()}
    if isinstance(a, (list, tuple)):
        return type(a)(_rebuilt(v, it) for v in a)
    leaf = next(it)
    return float(leaf) if isinstance(a, float) else leaf


def _flat(a) -> np.ndarray:
    return np.concatenate([np.ravel(np.asarray(x, dtype=float)) for x in _leaves(a)])


def _unflat(a, v: np.ndarray):
    """The inverse of ``_flat`` for arguments shaped like ``a``."""
    parts, k = [], 0
    for x in _leaves(a):
        n = int(np.size(x))
        part = v[k:k + n].reshape(np.shape(x))
        parts.append(part if isinstance(x, np.ndarray) else float(part))
        k += n
    return _rebuilt(a, iter(parts))


def numeric_grad(f, args: tuple, i: int):
    """d f / d args[i] by central differences, in ``args[i]``'s structure (each call on
    fresh copies of the arguments: a function may append to a list argument)."""
    def along(v):
        rest = copy.deepcopy(args)
        return f(*rest[:i], _unflat(args[i], v), *rest[i + 1:])
    return _unflat(args[i], gradient(along, (_flat(args[i]),), 0))


def assert_close(got, want, what=""):
    assert type(got) is type(want) or not isinstance(want, (list, tuple, dict)), \
        f"{what}: {type(got).__name__} for a {type(want).__name__}"
    if isinstance(want, dict):
        assert list(got) == list(want), what
        for k in want:
            assert_close(got[k], want[k], f"{what}[{k!r}]")
    elif isinstance(want, (list, tuple)):
        assert len(got) == len(want), what
        for j, (g, w) in enumerate(zip(got, want)):
            assert_close(g, w, f"{what}[{j}]")
    else:
        assert np.shape(got) == np.shape(want), f"{what}: shape {np.shape(got)}"
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-8, err_msg=what)


def check(f, args: tuple, wrt: tuple[int, ...]):
    """grad and value_and_grad against central differences; jvp against vjp."""
    kept = copy.deepcopy(args)
    grads = srcgrad.grad(f, wrt=wrt)(*args)
    value, grads2 = srcgrad.value_and_grad(f, wrt=wrt)(*args)
    assert _leaves(args) is not None and _same(args, kept), "the arguments were changed"
    assert value == pytest.approx(f(*copy.deepcopy(args)), rel=1e-12)
    for i, g, g2 in zip(wrt, grads, grads2):
        want = numeric_grad(f, args, i)
        assert_close(g, want, f"{f.__name__} d/d{i}")
        assert_close(g2, want, f"{f.__name__} d/d{i} (value_and_grad)")
    # forward mode: <J t, 1> = <t, grad> along a random direction of every wrt argument
    tangents = tuple(_unflat(a, RNG.normal(size=_flat(a).size)) if i in wrt else
                     _unflat(a, np.zeros(_flat(a).size)) for i, a in enumerate(args))
    _, tangent = srcgrad.jvp(f, args, tangents)
    want = sum(float(_flat(t) @ _flat(g)) for t, g in zip([tangents[i] for i in wrt], grads))
    assert float(tangent) == pytest.approx(want, rel=1e-9, abs=1e-12)
    def along(*xs):
        rest = list(copy.deepcopy(args))
        for i, x in zip(wrt, xs):
            rest[i] = _unflat(args[i], x)
        return f(*rest)

    numeric = directional(along, tuple(_flat(args[i]) for i in wrt),
                          tuple(_flat(tangents[i]) for i in wrt))
    assert float(tangent) == pytest.approx(float(numeric), rel=1e-6, abs=1e-9)


def _same(a, b) -> bool:
    if isinstance(a, dict):
        return isinstance(b, dict) and list(a) == list(b) and all(
            _same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(map(_same, a, b))
    return np.array_equal(a, b)


def vec(n):
    return RNG.normal(size=n)


# -- programs and their numbers ------------------------------------------------------------
W, U = 0.5 * RNG.normal(size=(3, 2)), 0.5 * RNG.normal(size=(3, 3))
CASES = [
    (P.lstm_loss, ([vec(2), vec(2), vec(2), vec(2)], vec(3), W, U), (0, 1, 2, 3)),
    (P.lstm_while, (RNG.normal(size=(3, 2)), vec(3), W, U), (0, 1, 2, 3)),
    (P.two_layers, ([vec(2), vec(2), vec(2)], vec(3), W, U), (0, 1, 2, 3)),
    (P.nested_stats_while, (0.7,), (0,)),
    (P.penalized, ({"W": RNG.normal(size=(2, 3)), "b": vec(2)}, vec(3)), (0, 1)),
    (P.scaled_params, ({"a": vec(3), "c": 0.7, "b": vec(3)}, 0.8), (0, 1)),
    (P.scaled_params, ({"a": vec(2), "b": 1.3}, -0.4), (0, 1)),
    (P.dict_from_constants, (0.9,), (0,)),
    (P.sorted_keys, ({"b": 0.5, "a": 1.5, "c": 2.0}, 1.1), (0, 1)),
    (P.first_large, ({"a": 0.5, "b": 1.0, "c": 3.0}, 1.1), (0, 1)),
    (P.first_large, ({"a": 0.5, "b": 0.6}, 0.9), (0, 1)),
    (P.running_stats, ([0.5, -0.3, 1.2, 0.8, -1.1], 0.9), (0, 1)),
    (P.stats_while, (0.7,), (0,)),
    (P.branchy_tuple, (0.6, 1.5), (0, 1)),
    (P.branchy_tuple, (0.6, -1.5), (0, 1)),
    (P.tuple_of_dicts, (0.6, 1.5), (0, 1)),
    (P.tuple_of_dicts, (0.6, -1.5), (0, 1)),
    (P.kernel_matrix, ([0.1, 0.7, -0.4], vec(3)), (0, 1)),
    (P.cross_terms, ([0.5, 1.5, -0.5], [1.0, 2.0, 3.5]), (0, 1)),
    (P.stacked, ([vec(2), vec(2), vec(2)],), (0,)),
    (P.pairwise, ([0.3, 1.1, -0.6, 2.0],), (0,)),
    (P.pairwise, ((vec(2), vec(2), vec(2)),), (0,)),
    (P.smooth, (vec(2), 1, 4), (0,)),
    (P.smooth, (0.4, 0, 5), (0,)),
    (P.argument_slices, ([0.3, 1.1, -0.6, 2.0],), (0,)),
    (P.stacked_arguments, ([vec(2), vec(2), vec(2)], (vec(3), vec(1))), (0, 1)),
    (P.slice_at_run_time, ([0.3, 1.1, -0.6, 2.0, 0.4], 2, 3), (0,)),
    (P.slice_at_run_time, ([vec(2), vec(2), vec(2), vec(2)], 1, 2), (0,)),
    (P.rebuilt, ([0.3, 1.1, -0.6], {"a": 0.5, "b": -1.5}, 0.7), (0, 1, 2)),
    (P.dict_with_list_by_position, ({"a": 0.5, "b": 1.0}, [0.5, 1.0]), (0, 1)),
    (P.same_keys_with_none, (0.5,), (0,)),
    (P.same_keys_with_none, (-0.5,), (0,)),
    (P.extend_in_a_loop, ([0.5, 1.0], 2.0), (0, 1)),
    (P.mean_of_stacked_list, ([vec(2), vec(2)],), (0,)),
    (P.mean_of_list, ([vec(2), vec(2)],), (0,)),
    (P.appended, ([0.3, 1.1, -0.6], 0.7), (0, 1)),
    (P.appended_in_loop, ([0.3, 1.1], 0.7), (0, 1)),
]


@pytest.mark.parametrize("f, args, wrt", CASES,
                         ids=[f"{c[0].__name__}-{i}" for i, c in enumerate(CASES)])
def test_gradients_match_central_differences(f, args, wrt):
    check(f, args, wrt)


@pytest.mark.parametrize("x", [0.5, -0.5])
def test_different_keys_in_branches_is_located(x):
    with pytest.raises(UnsupportedSyntax) as info:
        srcgrad.grad(P.different_keys)(x)
    exc = info.value
    assert exc.loc.line == _line_of("if x > 0.0:", "different_keys")
    assert "keys 'a', 'b' and keys 'a'" in str(exc) and "same keys" in exc.hint


def test_append_to_a_list_argument_leaves_the_callers_list_alone():
    xs = [0.3, 1.1, -0.6]
    grads = srcgrad.grad(P.appended, wrt=(0, 1))(xs, 0.7)
    assert xs == [0.3, 1.1, -0.6]
    assert len(grads[0]) == 3
    ys = [0.3, 1.1]
    _, tangent = srcgrad.jvp(P.appended_in_loop, (ys, 0.7), ([1.0, 0.0], 0.0))
    assert ys == [0.3, 1.1]
    assert srcgrad.value_and_grad(P.appended_in_loop)(ys, 0.7)[0] == \
        pytest.approx(P.appended_in_loop([0.3, 1.1], 0.7))


def test_a_dict_comprehension_adds_no_run_time_structure():
    text = srcgrad.derivative_source(P.dict_from_constants)
    assert "dict" not in text.replace("dict_from_constants", "")
    assert P.dict_from_constants(0.9) == srcgrad.value_and_grad(P.dict_from_constants)(0.9)[0]


def test_a_user_helper_named_like_a_runtime_helper_keeps_its_meaning():
    text = srcgrad.derivative_source(P.smooth, wrt=0)
    assert "unslice" in text  # srcgrad's, for the slices' adjoints, under another name
    check(P.smooth, (0.4, 1, 4), (0,))


# -- what stays refused: located, with a hint --------------------------------------------
def _line_of(text: str, function: str) -> int:
    lines = FIXTURE.read_text().splitlines()
    start = next(i for i, s in enumerate(lines) if s.startswith(f"def {function}("))
    return next(i for i, s in enumerate(lines[start:], start) if text in s) + 1


REFUSED = [
    (P.set_comprehension, ([0.5, 1.0],), "set comprehensions"),
    (P.key_not_known, ([0.5, 1.0],), "keys of a dict comprehension"),
    (P.dict_with_list, ({"a": 0.5, "b": 1.0}, [0.5, 1.0]), "known while lowering"),
    (P.extend_by_list, ([0.5, 1.0], 2.0), "extend by a list made at run time"),
    (P.appended_alias, ([0.5, 1.0], 2.0), "'ys' also refers to"),
    (P.max_of_comprehension, ([0.5, 1.0],), "max() of a comprehension"),
    (P.write_while_iterating, ({"a": 0.5, "b": 1.0},), "while a loop iterates over it"),
]


@pytest.mark.parametrize("f, args, message", REFUSED, ids=[r[0].__name__ for r in REFUSED])
def test_refused_with_location_and_hint(f, args, message):
    with pytest.raises(SrcgradError) as info:
        srcgrad.grad(f)(*args)
    exc = info.value
    assert message in str(exc)
    assert exc.loc is not None and exc.loc.file == str(FIXTURE)
    marker = re.compile(rf"#\s*REFUSED: {f.__name__}$")
    line = next(i for i, s in enumerate(FIXTURE.read_text().splitlines(), 1)
                if marker.search(s))
    assert exc.loc.line == line
    assert exc.hint and exc.hint.strip()


def test_dict_methods_of_a_parameter_not_known_as_a_dict_are_located():
    # derivative_source has no arguments: `params` is a dict only through constant keys
    with pytest.raises(UnsupportedSyntax) as info:
        srcgrad.derivative_source(P.penalized)
    exc = info.value
    assert "params.items() needs a dict whose keys srcgrad knows" in str(exc)
    assert exc.loc.line == _line_of("params.items()", "penalized") and "params[" in exc.hint
