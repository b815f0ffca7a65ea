"""Statements, helpers and whole programs for the program fuzzer.

See ``fuzz_grammar`` for what is covered. ``programs()`` is the strategy; each
statement form below is one function returning source lines. A nested block
works on a copy of the scope, so names it defines are not read after it (they
might be unbound); the names it rebinds keep their kind (and ownership: only
arrays the program made itself are ever written into).
"""

from __future__ import annotations

import hypothesis.strategies as st
import numpy as np
from fuzz_grammar import (
    CONSTS,
    MAX_DEPTH,
    Helper,
    Program,
    Scope,
    condition,
    expr,
    indent,
    to_scalar,
    view,
)
from fuzz_language import FORMS as LANGUAGE
from fuzz_language import PRELUDE, WRAPPERS


def _owns(text: str) -> bool:
    """Whether an expression surely makes a fresh array (not a name, view or call result)."""
    return text.startswith(("(", "np.")) and \
        not text.startswith(("np.ravel", "np.squeeze", "np.reshape"))


def assign(draw, sc: Scope) -> list[str]:
    kind = draw(st.sampled_from("SVM"))
    name, text = sc.fresh(kind.lower()), expr(draw, sc, kind)
    sc.kinds[name] = kind
    if _owns(text):
        sc.owned.add(name)
    return [f"{name} = {text}"]


def update(draw, sc: Scope) -> list[str]:
    name = draw(st.sampled_from(sorted(sc.kinds)))
    kind = sc.kinds[name]
    e = expr(draw, sc, draw(st.sampled_from({"S": "S", "V": "SV", "M": "SVM"}[kind])))
    form = draw(st.integers(0, 3))
    if form == 0:
        return [f"{name} = {name} {draw(st.sampled_from('+-*'))} {e}"]
    if form == 1:
        return [f"{name} = np.tanh({name}) + {e}"]
    if form == 2 and (kind == "S" or name in sc.owned):
        return [f"{name} {draw(st.sampled_from(['+=', '-=', '*=']))} {e}"]
    return [f"{name} = np.tanh({name} + {draw(st.sampled_from(CONSTS))} + {name} * {name})"]


def write_entry(draw, sc: Scope) -> list[str]:
    name = draw(st.sampled_from(sorted(n for n in sc.owned if sc.kinds[n] != "S")))
    i = draw(st.integers(0, sc.n - 1))
    s = expr(draw, sc, "S")
    # the value written reads a view of the array itself, kept for the adjoint
    through_view = f"np.sum({view(draw, sc, 'V', name)} * {expr(draw, sc, 'V', 1)})"
    if sc.kinds[name] == "M":
        r = draw(st.integers(0, 1))
        row = expr(draw, sc, "V")
        return [draw(st.sampled_from([f"{name}[{r}, {i}] += {s}", f"{name}[{r}] = {row}",
                                      f"{name}[:, {i}] = {name}[:, {i}] * {s}",
                                      f"{name}[:, {i}] = {name}[:, {i}] * {through_view}"]))]
    return [draw(st.sampled_from([f"{name}[{i}] = {s}", f"{name}[{i}] += {s}",
                                  f"{name}[1:] += {s} * {name}[:-1]",
                                  f"{name}[{i}] = {through_view}"]))]


def alias(draw, sc: Scope) -> list[str]:
    """An in-place operator through a second name for the same array."""
    name = draw(st.sampled_from(sorted(n for n in sc.owned if sc.kinds[n] != "S")))
    other = sc.fresh("w")
    sc.kinds[other] = sc.kinds[name]
    e = expr(draw, sc, draw(st.sampled_from("SV")))
    return [f"{other} = {name}", f"{other} {draw(st.sampled_from(['+=', '*=']))} {e}"]


def _pairs(sc: Scope) -> list[tuple[str, str]]:
    """Names that may trade values: same kind, both owned or both not."""
    return [(a, b) for a in sorted(sc.kinds) for b in sorted(sc.kinds)
            if a < b and sc.kinds[a] == sc.kinds[b] and (a in sc.owned) == (b in sc.owned)]


def swap(draw, sc: Scope) -> list[str]:
    a, b = draw(st.sampled_from(_pairs(sc)))
    if draw(st.booleans()):
        return [f"{a}, {b} = {b}, {a}"]
    return [f"{a}, {b} = {b}, {a} * {expr(draw, sc, 'S', 1)}"]


def log_sum_exp(draw, sc: Scope) -> list[str]:
    """The max-shifted log-sum-exp, of a vector or over axis 0 of a matrix."""
    over_vector = draw(st.booleans())
    e = expr(draw, sc, "V" if over_vector else "M")
    t, m, out = sc.fresh("t"), sc.fresh("m"), sc.fresh("s")
    if over_vector:
        sc.kinds[out] = "S"
        return [f"{t} = {e}", f"{m} = np.max({t})",
                f"{out} = {m} + np.log(np.sum(np.exp({t} - {m})))"]
    sc.kinds[out] = "V"
    sc.owned.add(out)
    return [f"{t} = {e}", f"{m} = np.max({t}, axis=0, keepdims=True)",
            f"{out} = {m}[0] + np.log(np.sum(np.exp({t} - {m}), axis=0))"]


def unpack(draw, sc: Scope) -> list[str]:
    h = draw(st.sampled_from([h for h in sc.helpers if len(h.returns) == 2]))
    args = ", ".join(expr(draw, sc, k, 1) for k in h.params)
    names = [sc.fresh(k.lower()) for k in h.returns]
    sc.kinds.update(zip(names, h.returns))
    return [f"{', '.join(names)} = {h.name}({args})"]


def table(draw, sc: Scope) -> list[str]:
    """``np.zeros`` filled in a loop from its earlier entries."""
    t, i = sc.fresh("T"), sc.fresh("i")
    body = sc.inner(indices={**sc.indices, i: (1, sc.n)})
    scale, term = expr(draw, body, "S", 1), expr(draw, body, "S", 1)
    lines = [f"{t} = np.zeros({sc.n})", f"{t}[0] = {expr(draw, sc, 'S', 1)}",
             f"for {i} in range(1, {sc.n}):", f"    {t}[{i}] = {t}[{i} - 1] * {scale} + {term}"]
    sc.kinds[t] = "V"
    sc.owned.add(t)
    return lines


def for_loop(draw, sc: Scope) -> list[str]:
    i, k = sc.fresh("i"), draw(st.integers(1, sc.n))
    body = sc.inner(indices={**sc.indices, i: (0, k)}, loop=True)
    if draw(st.booleans()):  # a list carried through the loop, then stacked or reduced
        kind, name, out = draw(st.sampled_from("SV")), sc.fresh("L"), sc.fresh("r")
        first = f"{name}.append({expr(draw, body, kind)})"  # before any break
        # NumPy functions given the list itself: the list's adjoint is made a list again
        how = draw(st.sampled_from(["sum({})", "np.sum(np.stack({}), axis=0)",
                                    "np.sum({}, axis=0)", "np.mean(np.copy({}), axis=0)"]))
        lines = [first, *block(draw, body, 3)]
        sc.kinds[out] = kind
        return [f"{name} = []", f"for {i} in range({k}):", *indent(lines),
                f"{out} = {how.format(name)}"]
    return [f"for {i} in range({k}):", *indent(block(draw, body, 3))]


def while_loop(draw, sc: Scope) -> list[str]:
    c, k = sc.fresh("k"), draw(st.integers(1, 3))
    test = f"{c} < {k}"
    if draw(st.booleans()):
        test += f" and {condition(draw, sc)}"
    body = block(draw, sc.inner(loop=True), 3)
    return [f"{c} = 0", f"while {test}:", f"    {c} += 1", *indent(body)]


def if_else(draw, sc: Scope) -> list[str]:
    lines = [f"if {condition(draw, sc)}:", *indent(block(draw, sc.inner(), 2))]
    if draw(st.booleans()):
        lines += [f"elif {condition(draw, sc)}:", *indent(block(draw, sc.inner(), 2))]
    if draw(st.booleans()):
        lines += ["else:", *indent(block(draw, sc.inner(), 2))]
    return lines


def jump(draw, sc: Scope) -> list[str]:
    """``break``, ``continue`` (in loops) or an early ``return``, under a condition."""
    words = ["return"] + (["break", "continue"] if sc.loop else [])
    word = draw(st.sampled_from(words))
    if word == "return":
        word = "return " + ", ".join(expr(draw, sc, k, 1) for k in sc.returns)
    lines = [f"if {condition(draw, sc)}:", f"    {word}"]
    if draw(st.booleans()):  # in an inner if
        lines = [f"if {condition(draw, sc)}:", *indent(lines)]
    return lines


def unconditional(draw, sc: Scope) -> list[str]:
    return ["return " + ", ".join(final(draw, sc, k) for k in sc.returns)]


def statement(draw, sc: Scope) -> list[str]:
    if draw(st.integers(0, 4)) == 0:  # one statement in five: issue 14's Python
        loops = sc.depth < MAX_DEPTH
        return draw(st.sampled_from([f for f in LANGUAGE if loops or f.__name__ in (
            "comprehension", "function_value", "assertion")]))(draw, sc)
    arrays = any(sc.kinds[n] != "S" for n in sc.owned)
    forms = [assign, update, log_sum_exp, table,
             *([for_loop, while_loop, if_else] if sc.depth < MAX_DEPTH else []),
             *([write_entry, alias] if arrays else []), jump,
             *([unpack] if any(len(h.returns) == 2 for h in sc.helpers) else [])]
    if _pairs(sc):
        forms.append(swap)
    return draw(st.sampled_from(forms))(draw, sc)


def block(draw, sc: Scope, most: int) -> list[str]:
    lines: list[str] = []
    for _ in range(draw(st.integers(1, most))):
        lines += statement(draw, sc)
    return lines


def final(draw, sc: Scope, kind: str) -> str:
    """A returned value of ``kind`` that reads the latest names (and one more)."""
    names = sorted(sc.kinds, key=lambda n: int("".join(c for c in n if c.isdigit()) or 0))
    last = names[-1] if names else None
    other = draw(st.sampled_from(names)) if names else None
    if kind == "S":
        parts = [to_scalar(draw, n, sc.kinds[n]) for n in dict.fromkeys((last, other)) if n]
        return " + ".join(parts) or expr(draw, sc, "S")
    same = [n for n in names if sc.kinds[n] == kind]
    return f"({same[-1]} + {expr(draw, sc, kind, 1)})" if same else expr(draw, sc, kind)


def helper(draw, name: str, helpers: list[Helper], n: int, counter: list[int]) -> tuple[
        Helper, list[str]]:
    params = tuple(draw(st.sampled_from("SVM")) for _ in range(draw(st.integers(1, 2))))
    returns = draw(st.sampled_from([("S",), ("V",), ("S", "V"), ("S", "S")]))
    names = ("a", "b")[:len(params)]
    sc = Scope(n, dict(zip(names, params)), set(), list(helpers), counter, returns)
    body = block(draw, sc, 3) + unconditional(draw, sc)
    h = Helper(name, params, returns)
    return h, [f"def {name}({', '.join(names)}):", *indent(body)]


def inputs(draw, x_kind: str, y_kind: str, n: int):
    """Arguments with entries spread apart (no ties in a max of the raw inputs)."""
    size = n * (2 if x_kind == "M" else 1) + (n if y_kind == "V" else 1)
    spread = np.linspace(-1.13, 1.21, size)
    order = draw(st.permutations(range(size)))
    jitter = draw(st.lists(st.floats(-0.1, 0.1), min_size=size, max_size=size))
    values = spread[list(order)] + np.array(jitter)
    nx = n * (2 if x_kind == "M" else 1)
    x = values[:nx].reshape((2, n) if x_kind == "M" else (n,))
    y = values[nx:] if y_kind == "V" else float(values[nx])
    return x, y


@st.composite
def programs(draw) -> Program:
    n = draw(st.integers(3, 4))
    x_kind, y_kind = draw(st.sampled_from("VM")), draw(st.sampled_from("SV"))
    counter = [0]
    helpers: list[Helper] = []
    lines = ["import dataclasses", "import math", "import typing", "", "import numpy as np",
             "", "", *PRELUDE, ""]
    for k in range(draw(st.integers(0, 2))):
        h, text = helper(draw, f"h{k}", helpers, n, counter)
        helpers.append(h)
        lines += ["", *text, ""]
    sc = Scope(n, {"x": x_kind, "y": y_kind}, set(), helpers, counter)
    body = block(draw, sc, 5) + unconditional(draw, sc)
    lines += ["", "def f(x, y):", *indent(body), *WRAPPERS]
    x, y = inputs(draw, x_kind, y_kind, n)
    return Program("\n".join(lines) + "\n", x, y)
