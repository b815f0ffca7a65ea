"""Leaving SSA: phi copies that run at once, and versions that share a Python name.

A loop that carries ``a, b = b, a`` ends each iteration (and each adjoint
iteration) with copies that form a cycle; emitted one after the other they
lose a value unless a temporary breaks the cycle. Forward mode interleaves
tangent statements that read the primal values of their own line, so a later
version sharing the name must not have overwritten them yet. Every program is
checked, in every mode, against central finite differences written here.
"""

from __future__ import annotations

import numpy as np
import pytest

import srcgrad

EPS = 1e-6


def central(f, args, i):
    """d f / d args[i] by central differences (an array for an array argument)."""
    args = [np.array(a, dtype=float) if isinstance(a, np.ndarray) else a for a in args]
    x = args[i]
    if not isinstance(x, np.ndarray):
        up, down = list(args), list(args)
        up[i], down[i] = x + EPS, x - EPS
        return (f(*up) - f(*down)) / (2 * EPS)
    out = np.zeros(x.shape)
    for k in np.ndindex(x.shape):
        up, down = [a.copy() if isinstance(a, np.ndarray) else a for a in args], list(args)
        down = [a.copy() if isinstance(a, np.ndarray) else a for a in down]
        up[i][k] += EPS
        down[i][k] -= EPS
        out[k] = (f(*up) - f(*down)) / (2 * EPS)
    return out


def close(got, want):
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


# ---- programs --------------------------------------------------------------------------


def swap(x, y):
    a = x
    b = y
    for _ in range(2):
        a, b = b, a
    return a  # = x


def swap_odd(x, y):
    a = x
    b = y
    for _ in range(3):
        a, b = b, a
    return a + 3 * b  # = y + 3x


def swap_arrays(x, y):  # x: shape (3,), y float
    a = x[0]
    b = x[1]
    for _ in range(3):
        a, b = b, a * y
    return a  # = x[1] * y


def rotate(x, y, z):
    a = x
    b = y
    c = z
    for _ in range(4):
        a, b, c = b, c, a
    return a + 2 * b + 3 * c


def rotate_scaled(x, y, z):
    a = x
    b = y
    c = z
    for _ in range(4):
        a, b, c = b, c * a, a
    return a + 2 * b + 3 * c


def swap_in_branch(x, y):
    a = x
    b = y
    for k in range(5):
        if k % 2 == 0:
            a, b = b, a
        else:
            a, b = b * a, a
    return a + 3 * b


def swap_in_branch_only(x, y):
    a = x
    b = y
    if x > 0:
        a, b = b, a
    return a * 2 + b  # a merge of swapped names, no loop


def swap_nested(x, y):
    a = x
    b = y
    for _ in range(2):
        for _ in range(3):
            a, b = b, a
        a = a * y
    return a + 5 * b


def swap_vectors(x, y):
    a = x
    b = y
    for _ in range(3):
        a, b = b, a * b
    return np.sum(a * np.arange(1.0, 3.0)) + np.sum(b)


def swap_while(x, y):
    a = x
    b = y
    n = 0
    while n < 3:
        a, b = b, a * 0.5 + b
        n = n + 1
    return a * b


FLOATS = [(swap, (0.7, 1.3)), (swap_odd, (0.7, 1.3)), (rotate, (0.7, 1.3, -0.6)),
          (rotate_scaled, (0.7, 1.3, -0.6)), (swap_in_branch, (0.7, 1.3)),
          (swap_in_branch_only, (0.7, 1.3)), (swap_in_branch_only, (-0.7, 1.3)),
          (swap_nested, (0.7, 1.3)), (swap_while, (0.7, 1.3))]
ARRAYS = [(swap_arrays, (np.array([0.3, 1.2, -0.4]), 1.1)),
          (swap_vectors, (np.array([0.7, 2.0]), np.array([1.3, -1.0]))),
          (swap_odd, (np.array(0.7), np.array(1.3)))]
CASES = FLOATS + ARRAYS
IDS = [f"{f.__name__}-{k}" for k, (f, _) in enumerate(CASES)]


def test_swap_gradient_by_hand():
    """The issue's numbers: swapping twice returns x."""
    assert srcgrad.grad(swap, wrt=(0, 1))(0.7, 1.3) == (1.0, 0.0)
    g = srcgrad.grad(swap_arrays, wrt=(0, 1))(np.array([0.3, 1.2, -0.4]), 1.1)
    close(g[0], [0.0, 1.1, 0.0])
    close(g[1], 1.2)


@pytest.mark.parametrize(("f", "args"), CASES, ids=IDS)
def test_reverse(f, args):
    n = len(args)
    want = [central(f, args, i) for i in range(n)]
    for got in (srcgrad.grad(f, wrt=tuple(range(n)))(*args),
                srcgrad.value_and_grad(f, wrt=tuple(range(n)))(*args)[1]):
        for g, w in zip(got, want):
            close(g, w)
    for i in range(n):  # one at a time: other activity, other code
        close(srcgrad.grad(f, wrt=i)(*args), want[i])
    value, back = srcgrad.vjp(f, *args)
    assert value == f(*args)
    for g, w in zip(back(2.0), want):
        close(g, 2.0 * np.asarray(w))


@pytest.mark.parametrize(("f", "args"), CASES, ids=IDS)
def test_forward(f, args):
    rng = np.random.default_rng(0)
    tangents = tuple(rng.normal(size=np.shape(a)) if isinstance(a, np.ndarray)
                     else float(rng.normal()) for a in args)
    value, dot = srcgrad.jvp(f, args, tangents)
    assert value == f(*args)
    want = sum(np.sum(central(f, args, i) * t) for i, t in enumerate(tangents))
    close(dot, want)


# ---- forward mode: tangents read the primal values of their own line ---------------------


def carried_then_inner(x, y):
    g = y
    for _ in range(2):
        g = g * x
        for _ in range(1):
            g = g + x
    return g


def carried_sin_then_inner(x, y):
    g = y
    for _ in range(3):
        g = np.sin(g) * g + x
        for _ in range(2):
            g = g * x + 0.1
    return g


def carried_branch_then_inner(x, y):
    g = y
    for i in range(3):
        if i % 2 == 0:
            g = g * x
        else:
            g = g + x * g
        for _ in range(2):
            g = g * g * 0.5 + x
    return g


def carried_twice_in_body(x, y):
    g = y
    h = x
    for _ in range(3):
        g = g * h
        h = h * g
        g = g / (1.0 + h * h)
    return g + h


def carried_array_in_place(x, y):
    v = np.array([1.0, 2.0]) * y
    for _ in range(2):
        v[0] = v[0] * x + v[1]
        for _ in range(2):
            v[1] = v[1] * v[0]
    return np.sum(v)


def carried_while_inner(x, y):
    g = y
    n = 0
    while n < 2:
        g = g * x
        k = 0
        while k < 2:
            g = g + x * g
            k = k + 1
        n = n + 1
    return g


FORWARD = [carried_then_inner, carried_sin_then_inner, carried_branch_then_inner,
           carried_twice_in_body, carried_array_in_place, carried_while_inner]


@pytest.mark.parametrize("f", FORWARD, ids=[f.__name__ for f in FORWARD])
@pytest.mark.parametrize("wrt", [0, 1])
def test_forward_reads_its_own_line(f, wrt):
    args = (0.7, 0.9)
    tangents = (1.0, 0.0) if wrt == 0 else (0.0, 1.0)
    value, dot = srcgrad.jvp(f, args, tangents)
    want = central(f, args, wrt)
    assert value == f(*args)
    close(dot, want)
    close(srcgrad.grad(f, wrt=wrt)(*args), want)  # and reverse mode agrees
