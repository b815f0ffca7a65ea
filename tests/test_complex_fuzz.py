"""Random programs over complex and real arrays, checked against finite differences.

Each program is a few statements drawn from ``STATEMENTS`` (complex arithmetic,
elementwise functions, conj/real/imag/abs, reductions, reversals, a loop carrying a
complex value, a branch, an in-place write), over a complex argument ``z`` and a real
one ``x``; its output is a real number reading every value. The gradient in ``z`` is
compared with ``df/dx - 1j df/dy`` from central differences, the gradient in ``x``
with the real one, and ``jvp`` with ``vjp`` (the transpose identity). ``make test``
runs ``COUNT`` programs; ``SRCGRAD_COMPLEX_FUZZ=N`` runs N more.
"""

from __future__ import annotations

import os
import random
import textwrap

import numpy as np
import pytest
from numeric import complex_gradient, gradient

import srcgrad

COUNT = 40
EXTRA = int(os.environ.get("SRCGRAD_COMPLEX_FUZZ", "0"))

# {a}, {b}: earlier values (complex or real arrays of shape (3,)); {n}: the new name.
STATEMENTS = [
    "{n} = {a} * {b}",
    "{n} = {a} + 0.5j * {b}",
    "{n} = {a} - {b} * (0.3 - 0.2j)",
    "{n} = {a} / (2.5 + {b} * {b})",
    "{n} = np.exp(0.3 * {a})",
    "{n} = np.sin({a}) + np.cos({b})",
    "{n} = np.conj({a}) * {b}",
    "{n} = {a}.conj() + {b}.real",
    "{n} = np.real({a}) * np.imag({b})",
    "{n} = np.abs({a} + 2.0) * {b}",
    "{n} = {a} ** 2 - {b}",
    "{n} = np.sum({a}) * {b}",
    "{n} = np.cumsum({a}) * 0.5",
    "{n} = {a}[::-1] * {b}",
    "{n} = np.where(MASK, {a}, {b})",
    "{n} = np.sqrt({a} * {a} + 4.0)",
    "{n} = np.outer({a}, {b}) @ {a} * 0.1",
    "{n} = np.tanh(0.5 * {a}) * 1j",
    "{n} = np.vdot({a}, {b}) * {a}",
    # a loop carrying a complex value, and a branch on a constant flag
    "{n} = {a} * 1.0\nfor k in range(3):\n    {n} = {n} * (0.6 + 0.3j) + {b} * 0.2",
    "if FLAG:\n    {n} = {a} * {b}\nelse:\n    {n} = {a} + {b}",
    # an in-place write into a complex array
    "{n} = np.zeros(3, dtype=complex)\n{n}[0] = {a}[1] * {b}[2]\n{n}[1:] = {a}[:2] + 1j",
]

MASK = np.array([True, False, True])
FLAG = True
Z = np.array([0.7 + 0.4j, -0.5 + 0.9j, 1.2 - 0.3j])
X = np.array([0.6, -1.1, 0.8])
W = np.array([0.3 - 0.7j, 1.1 + 0.2j, -0.4 + 0.5j])


def program(seed: int) -> str:
    rng = random.Random(seed)
    names = ["z", "x"]
    lines = []
    for k in range(rng.randint(2, 5)):
        a, b = rng.choice(names), rng.choice(names)
        new = f"v{k}"
        lines.append(rng.choice(STATEMENTS).format(n=new, a=a, b=b))
        names.append(new)
    reads = " + ".join(f"np.real(np.sum({v} * W))" for v in names[2:])
    lines.append(f"return np.sum(np.abs({names[-1]}) ** 2) + {reads}")
    return "def f(z, x):\n" + textwrap.indent("\n".join(lines), "    ") + "\n"


def compile_program(source: str, seed: int, where: str):
    path = os.path.join(where, f"complex_{seed}.py")
    with open(path, "w") as fh:  # srcgrad reads the source from a file, as for users
        fh.write("import numpy as np\n\n" + source)
    scope = {"np": np, "MASK": MASK, "FLAG": FLAG, "W": W, "__file__": path}
    exec(compile("import numpy as np\n\n" + source, path, "exec"), scope)  # noqa: S102
    return scope["f"]


@pytest.mark.parametrize("seed", range(COUNT + EXTRA))
def test_random_complex_program(seed, tmp_path):
    source = program(seed)
    f = compile_program(source, seed, str(tmp_path))
    gz, gx = srcgrad.grad(f, wrt=(0, 1))(Z, X)
    assert np.iscomplexobj(gz) and np.isrealobj(gx), source
    np.testing.assert_allclose(gz, complex_gradient(f, (Z, X), 0), rtol=1e-6, atol=1e-8,
                               err_msg=source)
    np.testing.assert_allclose(gx, gradient(f, (Z, X), 1), rtol=1e-6, atol=1e-8,
                               err_msg=source)
    tz, tx = W[::-1].copy(), np.array([0.2, 0.5, -0.3])
    _, tangent = srcgrad.jvp(f, (Z, X), (tz, tx))
    assert tangent == pytest.approx(float(np.real(np.sum(gz * tz)) + np.sum(gx * tx)),
                                    rel=1e-9, abs=1e-12), source
