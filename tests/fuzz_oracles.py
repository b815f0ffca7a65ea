"""The fuzzer's oracles: what must hold for every program srcgrad accepts.

``check(f, x, y)`` runs every oracle on ``f(x, y)``, differentiated with
respect to both arguments, and returns one ``Outcome`` per oracle:

1. ``value``: ``value_and_grad``'s value is ``f``'s, exactly;
2. ``grad``: the gradient matches Richardson-extrapolated central differences
   (a mismatch counts only when smaller steps confirm it);
3. ``jvp-vjp``: ``<jvp(v), u> == <v, vjp(u)>`` for random ``v``, ``u``, and the
   jvp's value is ``f``'s;
4. ``hvp`` (when asked): the Hessian-vector product matches central
   differences of gradients;
5. ``passes``: the derivative built with every optimizer pass switched off
   gives the same value and gradient;
5b. ``structured`` (programs with ``fuzz_language.WRAPPERS``): the same
   computation with ``x`` and ``y`` in a dataclass, a NamedTuple, a dict, a list or
   an object (``wrt="self"``), or called as a bound method reading constants of
   its object, gives f's value and, in the argument's type, f's gradient;
6. every oracle also checks that no srcgrad call wrote into ``x`` or ``y``.

An outcome is ``ok``, ``refused`` (a located ``SrcgradError`` that says what is
unsupported), ``wrong`` (a number is off) or ``crash`` (``InternalError``, a
failure of the generated code, or any other exception). ``kink_margin`` says
how close an input is to a point where ``f`` is not differentiable.
"""

from __future__ import annotations

import ast
import hashlib
import importlib.util
import itertools
import operator
import os
import tempfile
import types
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import srcgrad

# The storage verifier is one of the oracles: on in the runner as under pytest.
os.environ.setdefault("SRCGRAD_VERIFY", "1")
from srcgrad import build, optimize

H = 1e-3  # the first difference step
# A mismatch counts only when every smaller step confirms it: a function with
# large high derivatives (seed 202's needs ~1e5 for its Hessian) puts the
# extrapolated differences at H off in the fourth digit, while at H / 64 the
# rounding error is still ~1e-11 of the value.
CONFIRM_STEPS = (H, H / 4, H / 16, H / 64)
RTOL, ATOL = 1e-6, 1e-7  # gradients against differences, relative to the scale
EXACT_RTOL = 1e-10  # identities that hold up to rounding (jvp-vjp, passes on/off)
KINDS = ("ok", "refused", "wrong", "crash")  # in order of severity

_DIR = tempfile.TemporaryDirectory(prefix="srcgrad-fuzz-")
_serial = itertools.count()


@dataclass(frozen=True)
class Outcome:
    kind: str
    oracle: str
    detail: str = ""


class Wrong(AssertionError):
    """An oracle found a wrong number."""


def load(source: str, name: str = "f"):
    """``name`` from ``source``, imported from a real file (srcgrad reads source)."""
    digest = hashlib.sha1(source.encode()).hexdigest()[:12]
    module_name = f"fuzz_program_{next(_serial)}_{digest}"
    path = Path(_DIR.name) / f"{module_name}.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, name)


# ---------------------------------------------------------------- kinks

class _Instrument(ast.NodeTransformer):
    """Routes comparisons and max/min through recorders of how close they are to a tie."""

    def visit_Compare(self, node: ast.Compare) -> ast.AST:
        self.generic_visit(node)
        if len(node.ops) != 1:
            return node
        op = ast.Constant(type(node.ops[0]).__name__)
        return ast.Call(ast.Name("_fz_compare", ast.Load()),
                        [node.left, node.comparators[0], op], [])

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        if ast.unparse(node.func) in ("np.max", "np.min", "max", "min"):
            return ast.Call(ast.Name("_fz_extreme", ast.Load()), [node.func, *node.args],
                            node.keywords)
        return node


_OPS = {"Gt": operator.gt, "Lt": operator.lt, "GtE": operator.ge, "LtE": operator.le,
        "Eq": operator.eq, "NotEq": operator.ne}


def _extreme_gap(args: tuple, axis) -> float:
    """The smallest gap between the two largest and the two smallest candidates."""
    if len(args) > 1:
        a = np.sort(np.array([float(v) for v in args]))
        axis = 0
    else:
        a = np.asarray(args[0], dtype=float)
        a = np.sort(a.ravel() if axis is None else a, axis=0 if axis is None else axis)
        axis = 0 if axis is None else axis
    k = a.shape[axis]
    if k < 2:
        return np.inf
    top = np.take(a, k - 1, axis) - np.take(a, k - 2, axis)
    bottom = np.take(a, 1, axis) - np.take(a, 0, axis)
    return float(min(np.min(top), np.min(bottom)))


def kink_margin(source: str, x, y, name: str = "f") -> float:
    """How far ``f(x, y)`` runs from a tie: the smallest distance between the two
    sides of a comparison it evaluates, or between the top two of a max or min."""
    tree = _Instrument().visit(ast.parse(source))
    ast.fix_missing_locations(tree)
    gaps = [np.inf]

    def compare(a, b, op):
        if not all(isinstance(v, (int, np.integer)) for v in (a, b)):  # counters never tie
            gaps.append(float(np.min(np.abs(np.asarray(a, dtype=float) - b))))
        return _OPS[op](a, b)

    def extreme(fn, *args, axis=None, **kw):
        gaps.append(_extreme_gap(args, axis))
        return fn(*args, **({} if axis is None else {"axis": axis}), **kw)

    namespace = {"_fz_compare": compare, "_fz_extreme": extreme}
    exec(compile(tree, "<instrumented>", "exec"), namespace)  # noqa: S102 - our own program
    namespace[name](np.copy(x), np.copy(y) if isinstance(y, np.ndarray) else y)
    return min(gaps)


# ---------------------------------------------------------------- helpers

def _flat(*parts) -> np.ndarray:
    return np.concatenate([np.ravel(np.asarray(p, dtype=float)) for p in parts])


def _like(values: np.ndarray, arg):
    """``values`` shaped like ``arg`` (a float stays a float)."""
    return values.reshape(arg.shape) if isinstance(arg, np.ndarray) else float(values[0])


def _split(vec: np.ndarray, x, y):
    """``vec`` as an (x, y) pair shaped like the arguments."""
    nx = np.size(x)
    return _like(vec[:nx], x), _like(vec[nx:], y)


def _close(got, want, rtol: float, atol: float) -> bool:
    got, want = np.asarray(got, dtype=float), np.asarray(want, dtype=float)
    scale = max(1.0, float(np.max(np.abs(want), initial=0.0)))
    return bool(np.all(np.abs(got - want) <= atol * scale + rtol * np.abs(want)))


def richardson(fn, point: np.ndarray, direction: np.ndarray, h: float):
    """The derivative of ``fn`` at ``point`` along ``direction``: central differences
    at steps h and h/2, extrapolated to cancel the h**2 error term."""
    def central(step):
        return (np.asarray(fn(point + step * direction)) -
                np.asarray(fn(point - step * direction))) / (2 * step)
    return (4 * central(h / 2) - central(h)) / 3


def _confirmed_mismatch(got: np.ndarray, estimate) -> str:
    """'' if ``got`` matches ``estimate(h)`` for some step of CONFIRM_STEPS; else a report."""
    for h in CONFIRM_STEPS:
        want = estimate(h)
        if _close(got, want, RTOL, ATOL):
            return ""
    return f"srcgrad {np.array2string(got, precision=10)} != differences {want}"


def _same(a, b) -> bool:
    return all(np.array_equal(p, q) for p, q in zip(a, b))


# ---------------------------------------------------------------- oracles

def _value(f, x, y, value):
    got, grads = srcgrad.value_and_grad(f, wrt=(0, 1))(x, y)
    if not np.array_equal(got, value):
        raise Wrong(f"value_and_grad's value {got!r} != f's {value!r}")
    return _flat(*grads)


def _gradient(f, x, y, grad):
    point = _flat(x, y)
    units = np.eye(point.size)

    def estimate(h):
        return np.array([richardson(lambda p: f(*_split(p, x, y)), point, e, h) for e in units])
    report = _confirmed_mismatch(grad, estimate)
    if report:
        raise Wrong(f"gradient wrt (x, y): {report}")


def _jvp_vjp(f, x, y, value, rng):
    v = rng.uniform(-1, 1, _flat(x, y).size)
    u = float(rng.uniform(0.5, 1.5))
    got, tangent = srcgrad.jvp(f, (x, y), _split(v, x, y))
    if not np.array_equal(got, value):
        raise Wrong(f"jvp's value {got!r} != f's {value!r}")
    _, pullback = srcgrad.vjp(f, x, y)
    cotangent = _flat(*pullback(u))
    lhs, rhs = float(tangent) * u, float(v @ cotangent)
    scale = max(1.0, float(np.abs(v) @ np.abs(cotangent)))
    if not abs(lhs - rhs) <= EXACT_RTOL * scale:
        raise Wrong(f"<jvp(v), u> = {lhs!r} but <v, vjp(u)> = {rhs!r}")


def _hvp(f, x, y, rng):
    v = _like(rng.uniform(-1, 1, np.size(x)), x)
    got = np.ravel(srcgrad.hvp(f, wrt=0)(x, y, v))
    gradient = srcgrad.grad(f, wrt=0)

    def estimate(h):
        return richardson(lambda p: np.ravel(gradient(_like(p, x), y)),
                          np.ravel(x), np.ravel(v), h)
    report = _confirmed_mismatch(got, estimate)
    if report:
        raise Wrong(f"hvp wrt x: {report}")


_WRAPPED = ("dataclass", "namedtuple", "dict", "list", "self", "bound")


def _structured(f, x, y, value, grad, which: int):
    """The same computation through structured arguments (fuzz_language.WRAPPERS):
    its value is f's and its gradient, rebuilt in the argument's type, f's."""
    module = types.SimpleNamespace(**f.__globals__)
    kind = _WRAPPED[which % len(_WRAPPED)]
    if kind == "bound":  # x, y as they are; self's attributes constants (times 1.0)
        got, parts = srcgrad.value_and_grad(module.FzBound().loss, wrt=(0, 1))(x, y)
        if not np.array_equal(got, value):
            raise Wrong(f"through a bound method: value {got!r} != f's {value!r}")
        if not _close(_flat(*parts), grad, EXACT_RTOL, EXACT_RTOL):
            raise Wrong(f"through a bound method: gradient {_flat(*parts)} != f's {grad}")
        return
    if kind == "self":
        got, g = srcgrad.value_and_grad(module.FzModel.loss, wrt="self")(module.FzModel(x, y))
        parts, expected = (g.x, g.y), module.FzModel
    else:
        packed = {"dataclass": module.FzArgs(x, y), "namedtuple": module.FzPair(x, y),
                  "dict": {"x": x, "y": y}, "list": [x, y]}[kind]
        got, g = srcgrad.value_and_grad(getattr(module, f"fz_{kind}"))(packed)
        parts = (g["x"], g["y"]) if kind == "dict" else (g[0], g[1]) if kind != "dataclass" \
            else (g.x, g.y)
        expected = type(packed)
    if type(g) is not expected:
        raise Wrong(f"the gradient through a {kind} is a {type(g).__name__}")
    if not np.array_equal(got, value):
        raise Wrong(f"through a {kind}: value {got!r} != f's {value!r}")
    if not _close(_flat(*parts), grad, EXACT_RTOL, EXACT_RTOL):
        raise Wrong(f"through a {kind}: gradient {_flat(*parts)} != f's {grad}")


def _passes_off(f, x, y, value, grad):
    kinds = (build._kind(x), build._kind(y))
    shapes = tuple(a.shape if isinstance(a, np.ndarray) else None for a in (x, y))
    d = build._entry(f).derivative((0, 1), "one", kinds, (), shapes,
                                   disabled=frozenset(optimize.PASSES))
    got, *grads = build._call(d, (x, y))
    if not np.array_equal(got, value):
        raise Wrong(f"with the optimizer off, the value {got!r} != f's {value!r}")
    if not _close(_flat(*grads), grad, EXACT_RTOL, EXACT_RTOL):
        raise Wrong(f"gradient with the optimizer off {_flat(*grads)} != with it on {grad}")


def _checkpointed(f, x, y, value, grad, policy):
    """Every top-level loop checkpointed (transform/checkpointing.py): the same numbers."""
    kinds = (build._kind(x), build._kind(y))
    shapes = tuple(a.shape if isinstance(a, np.ndarray) else None for a in (x, y))
    d = build._entry(f).derivative((0, 1), "one", kinds, (), shapes, checkpoint=policy)
    got, *grads = build._call(d, (x, y))
    if not np.array_equal(got, value):
        raise Wrong(f"checkpointed ({policy}), the value {got!r} != f's {value!r}")
    if not _close(_flat(*grads), grad, EXACT_RTOL, EXACT_RTOL):
        raise Wrong(f"gradient checkpointed ({policy}) {_flat(*grads)} != taped {grad}")


# ---------------------------------------------------------------- the driver

def classify(exc: BaseException) -> tuple[str, str]:
    """(kind, message) for an exception a srcgrad call raised."""
    if isinstance(exc, Wrong):
        return "wrong", str(exc)
    if isinstance(exc, srcgrad.InternalError):
        return "crash", f"InternalError: {exc.message}"
    if type(exc) is srcgrad.SrcgradError:  # the generated code failed at run time
        return "crash", f"generated code failed: {exc.message}"
    if isinstance(exc, srcgrad.SrcgradError):
        if exc.loc is None:
            return "crash", f"unlocated {type(exc).__name__}: {exc.message}"
        return "refused", f"{type(exc).__name__}: {exc.message}"
    return "crash", f"{type(exc).__name__}: {exc}"


def _attempt(name: str, x, y, run) -> tuple[Outcome, object]:
    """Run one oracle; also check that it left the caller's arguments alone."""
    before = (np.copy(x), np.copy(y))
    result = None
    try:
        result = run()
        if not _same(before, (x, y)):
            raise Wrong("a srcgrad call wrote into the caller's arguments")
    except Exception as exc:  # every failure is an outcome to report
        return Outcome(*_classify_pair(exc, name)), None
    return Outcome("ok", name), result


def _classify_pair(exc: BaseException, name: str) -> tuple[str, str, str]:
    kind, message = classify(exc)
    return kind, name, message


def check(f, x, y, hvp: bool = False, seed: int = 0) -> list[Outcome]:
    """Every oracle's outcome for ``f`` at ``(x, y)``."""
    rng = np.random.default_rng(seed)
    value = f(np.copy(x), np.copy(y) if isinstance(y, np.ndarray) else y)
    first, grad = _attempt("value", x, y, lambda: _value(f, x, y, value))
    outcomes = [first]
    if grad is not None:
        outcomes.append(_attempt("grad", x, y, lambda: _gradient(f, x, y, grad))[0])
        outcomes.append(_attempt("passes", x, y, lambda: _passes_off(f, x, y, value, grad))[0])
        pick = np.random.default_rng(seed + 17)  # (its own: the other oracles' draws stay)
        policy = (("snapshots", 1 + int(pick.integers(3))), ("every", None))[int(pick.integers(2))]
        outcomes.append(_attempt("checkpointed", x, y, lambda: _checkpointed(
            f, x, y, value, grad, policy))[0])
        if "fz_list" in f.__globals__:  # (the regressions have no wrappers)
            outcomes.append(_attempt("structured", x, y, lambda: _structured(
                f, x, y, value, grad, seed + int(rng.integers(len(_WRAPPED)))))[0])
    outcomes.append(_attempt("jvp-vjp", x, y, lambda: _jvp_vjp(f, x, y, value, rng))[0])
    if hvp:
        outcomes.append(_attempt("hvp", x, y, lambda: _hvp(f, x, y, rng))[0])
    return outcomes


def worst(outcomes: list[Outcome]) -> Outcome:
    return max(outcomes, key=lambda o: KINDS.index(o.kind))
