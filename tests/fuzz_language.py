"""Statement forms of the program fuzzer for the Python of issue 14: structure
carried through loops and branches, dict iteration, comprehensions and list
slices, functions passed as values, loop variables read after their loops,
``for``/``while`` ... ``else`` and ``assert``.

Each form returns source lines and registers the names it defines in the scope
(``fuzz_statements.statement`` draws them like the others). ``PRELUDE`` is the
module-level code every program starts with: the functions the function-value
forms pass around (NumPy's, the user's own, a lambda in a dict); ``WRAPPERS``, what
follows ``f``: the same computation with its arguments in a dataclass, a NamedTuple,
a dict, a list (``f(*xs)``), an object (``grad(FzModel.loss, wrt="self")``) and a
bound method reading constants of its object (``grad(FzBound().loss)``).
"""

from __future__ import annotations

import hypothesis.strategies as st
from fuzz_grammar import THRESHOLDS, Scope, condition, expr, indent, to_scalar

PRELUDE = [
    "def soft(t):",
    "    return np.log(1.0 + np.exp(t))",
    "",
    "",
    'ACTS = {"tanh": np.tanh, "soft": soft, "sq": lambda t: t * t * 0.5}',
    "",
    "",
    "def apply(fn, a, scale=1.0):",
    "    return fn(a) * scale",
]
# After f: the same computation through structured arguments (the ``structured``
# oracle of fuzz_oracles differentiates each and compares with f's own gradient).
WRAPPERS = [
    "",
    "",
    "@dataclasses.dataclass",
    "class FzArgs:",
    "    x: object",
    "    y: object",
    '    tag: str = "fz"',
    "",
    "",
    "class FzPair(typing.NamedTuple):",
    "    x: object",
    "    y: object",
    "",
    "",
    "class FzModel:",
    "    def __init__(self, x, y):",
    "        self.x, self.y = x, y",
    "",
    "    def loss(self):",
    "        return f(self.x, self.y)",
    "",
    "",
    "class FzBound:",
    "    scale = 1.0",
    "",
    "    def __init__(self):",
    "        self.weight = 1.0",
    "",
    "    def loss(self, x, y):",
    "        return f(x, y) * self.weight * self.scale",
    "",
    "",
    "def fz_dataclass(a):",
    "    return f(a.x, a.y)",
    "",
    "",
    "def fz_namedtuple(p):",
    "    x, y = p",
    "    return f(x, y)",
    "",
    "",
    "def fz_dict(d):",
    '    return f(d["x"], d["y"])',
    "",
    "",
    "def fz_list(xs):",
    "    return f(*xs)",
]
FUNCTIONS = ("np.tanh", "np.sin", "soft", 'ACTS["tanh"]', 'ACTS["soft"]', 'ACTS["sq"]',
             "lambda t: t * 0.5 + np.tanh(t)")


def _block(draw, sc: Scope, most: int) -> list[str]:
    from fuzz_statements import block  # (fuzz_statements imports this module)
    return block(draw, sc, most)


def carried_state(draw, sc: Scope) -> list[str]:
    """A tuple ``(s, v)`` carried through a ``for`` or ``while`` loop, unpacked at the
    top of each step and rebuilt at its end (an LSTM-style recurrence)."""
    name, a, b, out = sc.fresh("st"), sc.fresh("a"), sc.fresh("b"), sc.fresh("r")
    kind = draw(st.sampled_from("SV"))
    lines = [f"{name} = ({expr(draw, sc, 'S', 1)}, {expr(draw, sc, kind, 1)})"]
    if draw(st.booleans()):
        i, k = sc.fresh("i"), draw(st.integers(1, sc.n))
        body = sc.inner(indices={**sc.indices, i: (0, k)}, loop=True)
        lines.append(f"for {i} in range({k}):")
        head: list[str] = []
    else:
        c = sc.fresh("k")
        body = sc.inner(loop=True)
        lines += [f"{c} = 0", f"while {c} < {draw(st.integers(1, 3))}:"]
        head = [f"{c} += 1"]
    body.kinds.update({a: "S", b: kind})
    step = [f"{a}, {b} = {name}", *_block(draw, body, 2),
            f"{name} = (np.tanh({a} + {expr(draw, body, 'S', 1)}), "
            f"{b} * {expr(draw, body, 'S', 1)} + {expr(draw, body, kind, 1)})"]
    lines += indent(head + step)
    lines.append(f"{out} = {name}[0] * {to_scalar(draw, f'{name}[1]', kind)}")
    sc.kinds[out] = "S"
    return lines


def dict_state(draw, sc: Scope) -> list[str]:
    """A dict of constant keys set differently by the branches of an ``if``, then read
    by key or iterated with ``.items()``."""
    d, out = sc.fresh("d"), sc.fresh("r")
    kind = draw(st.sampled_from("VM"))
    lines = [f'{d} = {{"w": {expr(draw, sc, "S", 1)}, "v": {expr(draw, sc, kind, 1)}}}',
             f"if {condition(draw, sc)}:",
             f'    {d} = {{"w": {d}["w"] * {expr(draw, sc, "S", 1)}, '
             f'"v": np.tanh({d}["v"])}}']
    if draw(st.booleans()):
        lines += ["else:", f'    {d}["w"] = {d}["w"] + {expr(draw, sc, "S", 1)}']
    if draw(st.booleans()):
        key, value = sc.fresh("key"), sc.fresh("val")
        lines += [f"{out} = 0.0", f"for {key}, {value} in {d}.items():",
                  f"    {out} = {out} + np.sum({value} * {value})"]
    else:
        lines.append(f'{out} = {d}["w"] * {to_scalar(draw, f"{d}[{chr(34)}v{chr(34)}]", kind)}')
    sc.kinds[out] = "S"
    return lines


def comprehension(draw, sc: Scope) -> list[str]:
    """A list of values, then a comprehension with two ``for``s and a condition over it
    or over its slices (``zip(xs[:-1], xs[1:])``, ``xs[::-1]``)."""
    xs, out = sc.fresh("L"), sc.fresh("r")
    kind = draw(st.sampled_from("SV"))
    items = ", ".join(expr(draw, sc, kind, 1) for _ in range(draw(st.integers(2, 4))))
    a, b = sc.fresh("p"), sc.fresh("q")
    form = draw(st.integers(0, 2))
    if form == 0:
        cut = draw(st.sampled_from(["[1:]", "[::-1]", "[:-1]", ""]))
        test = f" if np.sum({a}) > {draw(st.sampled_from(THRESHOLDS))}" \
            if draw(st.booleans()) else ""
        body = f"sum({a} * np.tanh({b}) for {a} in {xs} for {b} in {xs}{cut}{test})"
    elif form == 1:
        body = f"sum(({b} - {a}) * ({b} - {a}) for {a}, {b} in zip({xs}[:-1], {xs}[1:]))"
    else:
        body = f"sum([sum([{a} * {b} for {b} in {xs}[1:]]) for {a} in {xs}])"
    lines = [f"{xs} = [{items}]", f"{out} = {body}"]
    if kind == "V":
        lines[-1] = f"{out} = np.sum({body})"
    sc.kinds[out] = "S"
    return lines


def function_value(draw, sc: Scope) -> list[str]:
    """A function passed as a value: to the module's ``apply``, from the ``ACTS`` dict,
    as a lambda; called on a scalar or an array."""
    kind, out = draw(st.sampled_from("SVM")), sc.fresh("u")
    fn = draw(st.sampled_from(FUNCTIONS))
    arg = expr(draw, sc, kind, 1)
    form = draw(st.integers(0, 2))
    if form == 0:
        text = f"apply({fn}, {arg})"
    elif form == 1:
        text = f"apply({fn}, {arg}, scale={draw(st.sampled_from(['0.5', '2.0']))})"
    else:
        fn = fn if not fn.startswith("lambda") else f"({fn})"
        text = f"{fn}({arg})"
    sc.kinds[out] = kind
    return [f"{out} = {text}"]


def after_loop(draw, sc: Scope) -> list[str]:
    """A loop whose variable (and a value assigned in it) is read after it; with an
    ``else`` block that runs when the loop did not break."""
    i, k, last = sc.fresh("i"), draw(st.integers(1, sc.n)), sc.fresh("z")
    body = sc.inner(indices={**sc.indices, i: (0, k)}, loop=True)
    lines = [f"for {i} in range({k}):", f"    {last} = {expr(draw, body, 'S', 1)} * {i}",
             *indent(_block(draw, body, 2))]
    if draw(st.booleans()):
        lines += [f"    if {condition(draw, body)}:", "        break"]
    if draw(st.booleans()):
        lines += ["else:", f"    {last} = {last} + {expr(draw, sc, 'S', 1)}"]
    out = sc.fresh("r")
    lines.append(f"{out} = {last} * ({i} + 1)")
    sc.kinds[out] = "S"
    return lines


def while_else(draw, sc: Scope) -> list[str]:
    c, out = sc.fresh("k"), sc.fresh("r")
    body = sc.inner(loop=True)
    lines = [f"{out} = {expr(draw, sc, 'S', 1)}", f"{c} = 0",
             f"while {c} < {draw(st.integers(1, 3))}:", f"    {c} += 1",
             f"    {out} = np.tanh({out}) + {expr(draw, body, 'S', 1)}",
             f"    if {condition(draw, body)}:", "        break",
             "else:", f"    {out} = {out} * {expr(draw, sc, 'S', 1)}"]
    sc.kinds[out] = "S"
    return lines


def assertion(draw, sc: Scope) -> list[str]:
    """An ``assert`` that holds (checked by the forward sweep, not differentiated)."""
    e = expr(draw, sc, draw(st.sampled_from("SVM")), 1)
    return [f'assert np.all(np.isfinite({e})), "finite"']


FORMS = (carried_state, dict_state, comprehension, function_value, after_loop, while_else,
         assertion)
