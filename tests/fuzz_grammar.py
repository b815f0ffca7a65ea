"""A hypothesis strategy for random valid programs in srcgrad's supported subset.

``programs()`` draws a ``Program``: the source of a module defining ``f(x, y)``
(and up to two helpers before it) plus the arguments to call it with. Every
choice is a hypothesis draw, so a failing program shrinks to a small one.

Values have a static kind: ``S`` (a float), ``V`` (an array of shape ``(n,)``),
``M`` (shape ``(2, n)``); ``x`` is a V or an M, ``y`` an S or a V. Covered:

- arithmetic ``+ - * /`` (divisors kept away from zero), ``math.sin/tanh/exp``
  on scalars, ``np.sin/cos/tanh/exp`` and ``np.log(1.0 + e * e)``;
  broadcasting (``v[:, None] * w``, row vectors against matrices, keepdims);
  ``np.sum/mean/max/min`` with and without ``axis``/``keepdims``, ``@``, the
  max-shifted log-sum-exp, over a vector or over axis 0 of a matrix;
- helpers defined in the module (loops, branches, early returns, calls of the
  helper before them), returning a value or a tuple that is unpacked, called
  from ``f`` anywhere, loops included;
- ``for`` over ``range`` (nested, carrying scalars, arrays, lists, several
  values at once), ``while`` with a counter, ``if``/``elif``/``else`` on data,
  ``break``, ``continue``, ``return`` at any depth (in an inner ``if``, in a
  loop in an ``if``); parallel assignment ``a, b = b, a`` and ``a, b = b, a * s``;
- ``np.zeros`` tables filled in a loop from their earlier entries, ``+=`` and
  ``=`` on entries and slices, ``list.append`` then ``np.stack`` or ``sum``;
- in-place operators through an alias (``w = v; w += e``);
- issue 14's Python (``fuzz_language``, one statement in five): tuples carried
  by ``for`` and ``while`` loops, dicts set in branches and iterated with
  ``.items()``, comprehensions with two ``for``s, a condition, nesting and list
  slices (``zip(xs[:-1], xs[1:])``), functions passed as values (NumPy's, the
  user's, a lambda, from a module-level dict; keyword arguments), loop variables
  and values assigned in a loop read after it, ``for``/``while`` ... ``else``,
  ``assert``.

Not covered: other NumPy functions than the above, ``abs``/``np.maximum``
(kinks everywhere), integer or boolean arrays, fancy indexing, closures,
containers, dataclasses and objects as arguments, methods, non-scalar results
(``f`` always returns a float), exceptions. Programs never write into
their arguments (arrays are only written when the name owns a fresh array).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import hypothesis.strategies as st
import numpy as np

CONSTS = ("0.5", "1.5", "-0.7", "0.3", "2.0")
THRESHOLDS = ("0.0", "0.3", "-0.4", "1.0")
MAX_DEPTH = 2


@dataclass
class Program:
    source: str
    x: np.ndarray
    y: float | np.ndarray

    def __repr__(self) -> str:  # what hypothesis prints for a falsifying example
        return f"Program(x={self.x!r}, y={self.y!r}, source=\n{self.source})"


@dataclass
class Helper:
    name: str
    params: tuple[str, ...]  # kinds of the parameters
    returns: tuple[str, ...]  # kinds; two: a tuple to unpack


@dataclass
class Scope:
    """What a block may read and write while it is generated."""

    n: int
    kinds: dict[str, str]  # name -> S, V or M
    owned: set[str]  # arrays the function made itself: the only ones written into
    helpers: list[Helper]
    counter: list[int]
    returns: tuple[str, ...] = ("S",)  # kinds the enclosing function returns
    indices: dict[str, tuple[int, int]] = field(default_factory=dict)  # loop var -> range
    loop: bool = False
    depth: int = 0

    def fresh(self, prefix: str) -> str:
        self.counter[0] += 1
        return f"{prefix}{self.counter[0]}"

    def inner(self, **changes) -> Scope:
        """A nested block: names it defines stay local to it (they may not be bound)."""
        d = dict(self.__dict__, kinds=dict(self.kinds), owned=set(self.owned),
                 indices=dict(self.indices), depth=self.depth + 1)
        d.update(changes)
        return Scope(**d)

    def names(self, kind: str) -> list[str]:
        return [k for k, v in self.kinds.items() if v == kind]


def indent(lines: list[str]) -> list[str]:
    return ["    " + line for line in lines]


# ---------------------------------------------------------------- expressions

def expr(draw, sc: Scope, kind: str, depth: int = 0) -> str:
    """An expression of ``kind``; compound ones are parenthesized."""
    leaf = depth >= 2 or draw(st.integers(0, 2)) == 0
    if leaf:
        return _leaf(draw, sc, kind)
    return {"S": _scalar, "V": _vector, "M": _matrix}[kind](draw, sc, depth + 1)


def _index(draw, sc: Scope, size: int) -> str:
    usable = [i for i, (lo, hi) in sc.indices.items() if 0 <= lo and hi <= size]
    if usable and draw(st.booleans()):
        return draw(st.sampled_from(usable))
    return str(draw(st.integers(0, size - 1)))


def _leaf(draw, sc: Scope, kind: str) -> str:
    options = list(sc.names(kind))
    if kind == "S":
        options += [f"{v}[{_index(draw, sc, sc.n)}]" for v in sc.names("V")[-2:]]
        options += [f"{m}[{draw(st.integers(0, 1))}, {_index(draw, sc, sc.n)}]"
                    for m in sc.names("M")[-1:]]
        options.append(draw(st.sampled_from(CONSTS)))
    elif kind == "V":
        options += [f"{m}[{draw(st.integers(0, 1))}]" for m in sc.names("M")[-1:]]
        if not options:
            return f"(np.ones({sc.n}) * {expr(draw, sc, 'S', 2)})"
    elif not options:
        return f"np.stack([{_leaf(draw, sc, 'V')}, {_leaf(draw, sc, 'V')}])"
    if kind != "S" and sc.names(kind) and draw(st.integers(0, 5)) == 0:
        return view(draw, sc, kind)
    return draw(st.sampled_from(options))


def view(draw, sc: Scope, kind: str, of: str | None = None) -> str:
    """A view of a named array (``of``, or a recent one), possibly through a chain
    (``m[0][::-1]``, ``np.ravel(m)[:n]``): a vector for kind "V", else a matrix. The
    adjoint must read it as it was when it was taken, whatever is written later."""
    n = sc.n
    if of is not None and sc.kinds[of] == "M":
        k = draw(st.integers(0, 1))
        return draw(st.sampled_from([f"{of}[{k}][::-1]", f"{of}[::-1][{k}]",
                                     f"np.ravel({of})[:{n}]", f"{of}.T[:, {k}]"]))
    a = of or draw(st.sampled_from(sc.names(kind)[-2:]))
    if kind == "V":
        forms = [f"{a}[::-1]", f"{a}[:][::-1]", f"np.squeeze({a}[None, :])",
                 f"{a}.reshape({n})"]
        for m in ([] if of else sc.names("M")[-1:]):
            k = draw(st.integers(0, 1))
            forms += [f"{m}[{k}][::-1]", f"{m}[::-1][{k}]", f"np.ravel({m})[:{n}]",
                      f"{m}.reshape({2 * n})[{n}:]", f"np.squeeze({m}[{k}:{k + 1}])",
                      f"{m}.T[:, {k}]", f"{m}[:, ::-1][{k}]"]
    else:
        forms = [f"{a}[::-1]", f"{a}[:, ::-1]", f"{a}.T.T", f"np.reshape({a}, (2, {n}))",
                 f"{a}[None][0]"]
    return draw(st.sampled_from(forms))


def _call(draw, sc: Scope, kind: str, depth: int) -> str | None:
    fits = [h for h in sc.helpers if h.returns == (kind,)]
    if not fits:
        return None
    h = draw(st.sampled_from(fits))
    return f"{h.name}({', '.join(expr(draw, sc, k, depth) for k in h.params)})"


def _scalar(draw, sc: Scope, depth: int) -> str:
    def a(k="S"):
        return expr(draw, sc, k, depth)

    form = draw(st.integers(0, 9))
    if form == 0:
        return f"({a()} {draw(st.sampled_from('+-*'))} {a()})"
    if form == 1:
        e = a()
        return f"({a()} / (1.5 + {e} * {e}))"
    if form == 2:
        return f"{draw(st.sampled_from(['math.sin', 'math.tanh', 'np.tanh', 'np.sin']))}({a()})"
    if form == 3:
        e = a()
        return f"(math.exp(math.tanh({e})) + np.log(1.0 + {e} * {e}))"
    if form == 4:
        fn = draw(st.sampled_from(["np.sum", "np.mean", "np.max", "np.min"]))
        return f"{fn}({a(draw(st.sampled_from('VM')))})"
    if form == 5:
        return f"({a('V')} @ {a('V')})"
    if form == 6:
        return f"np.sum({a('M')} @ {a('V')})"
    if form == 7:
        return f"np.sum(np.tanh({a('V')}[:, None] - {a('V')}))"
    return _call(draw, sc, "S", depth) or f"({a()} + {a()})"


def _vector(draw, sc: Scope, depth: int) -> str:
    def a(k="V"):
        return expr(draw, sc, k, depth)

    form = draw(st.integers(0, 9))
    if form == 0:
        return f"({a()} {draw(st.sampled_from('+-*'))} {a()})"
    if form == 1:
        s, v = a("S"), a()
        return f"({s} * {v})" if draw(st.booleans()) else f"({v} - {s})"
    if form == 2:
        return f"{draw(st.sampled_from(['np.sin', 'np.tanh', 'np.cos', 'np.exp']))}({a()})"
    if form == 3:
        e = a()
        return f"np.log(1.0 + {e} * {e})"
    if form == 4:
        fn = draw(st.sampled_from(["np.sum", "np.mean", "np.max", "np.min"]))
        return f"{fn}({a('M')}, axis=0)"
    if form == 5:
        return f"(({a('M')} @ {a()}) @ {a('M')})"
    if form == 6:
        fn = draw(st.sampled_from(["np.max", "np.sum"]))
        return f"{fn}({a()}[:, None] * {a()}, axis={draw(st.integers(0, 1))})"
    if form == 7:
        e = a()
        return f"({a()} / (1.0 + {e} * {e}))"
    return _call(draw, sc, "V", depth) or f"({a()} + {a()})"


def _matrix(draw, sc: Scope, depth: int) -> str:
    def a(k="M"):
        return expr(draw, sc, k, depth)

    form = draw(st.integers(0, 5))
    if form == 0:
        return f"({a()} {draw(st.sampled_from('+-*'))} {a(draw(st.sampled_from('SVM')))})"
    if form == 1:
        return f"np.tanh({a()})"
    if form == 2:
        m = a()
        fn = draw(st.sampled_from(["np.max", "np.min", "np.mean", "np.sum"]))
        return f"({m} - {fn}({m}, axis=1, keepdims=True))"
    if form == 3:
        return f"({a()} * np.sum({a()}, axis=0, keepdims=True))"
    if form == 4:
        return f"np.stack([{a('V')}, {a('V')}])"
    return f"({a('V')}[None, :] * {a()})"


def to_scalar(draw, name: str, kind: str) -> str:
    if kind == "S":
        return name
    fn = draw(st.sampled_from(["np.sum", "np.mean", "np.max", "np.min"]))
    return f"{fn}({name})"


def condition(draw, sc: Scope) -> str:
    op = draw(st.sampled_from([">", "<"]))
    return f"{expr(draw, sc, 'S', 1)} {op} {draw(st.sampled_from(THRESHOLDS))}"
