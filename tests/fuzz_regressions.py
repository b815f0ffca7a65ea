"""Named regression programs for the fuzzer's oracles.

Each ``Regression`` is the source of a module defining ``f(x, y)`` and the
arguments to check it at (away from kinks). The first ones are the examples of
issues 12 and 22; the rest are programs the fuzzer found, shrunk by hypothesis
and trimmed by hand. ``tests/test_fuzz.py`` runs every oracle of
``fuzz_oracles`` on each of them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Regression:
    name: str
    source: str
    x: np.ndarray | float
    y: np.ndarray | float
    known: str = ""  # where it comes from
    may_refuse: bool = False  # a located refusal is as good as the right gradient


def _module(body: str) -> str:
    return "import math\n\nimport numpy as np\n\n\n" + body.strip("\n") + "\n"


X3 = np.array([0.4, -0.7, 1.1])
Y3 = np.array([-0.3, 0.8, 0.25])

# Issue 22's nested return, checked where it returns and where it falls through.
INNER_RETURN = _module("""
def f(x, y):
    if x[0] > 0.0:
        if x[1] > 0.0:
            return 5.0 * x[2]
        s = 3.0 * x[0]
    else:
        s = 7.0 * x[1]
    return s
""")

ISSUES = [
    Regression("sum_then_index", _module("""
def f(x, y):
    a = y + x
    return y[0] + a[2]
"""), X3, Y3, "issue 12"),
    Regression("straight_line", _module("""
def f(x, y):
    s = x[0] * x[1] + x[1] + x[2]
    return s * s
"""), X3, 0.5, "issue 12"),
    Regression("two_accumulators", _module("""
def f(x, y):
    s = 0.0
    t = 0.0
    for i in range(3):
        s = s + x[i]
        t = t + x[i]
    return s + t
"""), X3, 0.5, "issue 12"),
    Regression("carried_twice", _module("""
def f(x, y):
    c = x[0]
    for k in range(2):
        c = c + 0.3 + c * c
    return c
"""), X3, 0.5, "issue 12"),
    Regression("swap", _module("""
def f(x, y):
    a = x
    b = y
    for k in range(2):
        a, b = b, a
    return a
"""), 0.7, -0.4, "issue 12"),
    Regression("swap_arrays", _module("""
def f(x, y):
    a = x[0]
    b = x[1]
    for i in range(3):
        a, b = b, a * y
    return a
"""), X3, 0.9, "issue 12"),
    Regression("fwd_nested", _module("""
def f(x, y):
    g = y
    for i in range(2):
        g = g * x
        for j in range(1):
            g = g + x
    return g
"""), 0.6, 1.3, "issue 22: forward mode in nested loops"),
    Regression("inner_return", INNER_RETURN, np.array([0.4, 0.7, 1.1]), 0.5, "issue 22"),
    Regression("inner_return_falls_through", INNER_RETURN, X3, 0.5, "issue 22"),
    Regression("return_in_loop_in_if", _module("""
def f(x, y):
    if x[0] > 0.0:
        for i in range(2):
            if x[1] > 0.0:
                return 5.0 * x[2]
    return 3.0 * x[0]
"""), np.array([0.4, 0.7, 1.1]), 0.5, "issue 22"),
    Regression("through_a_name", _module("""
def f(x, y):
    v = np.tanh(x)
    w = v
    w += 0.5 * np.sin(x)
    return np.sum(v * v)
"""), X3, 0.5, "issue 22: right gradient or a located refusal", may_refuse=True),
    Regression("log_linear_nll", _module("""
F = np.sin(np.arange(60.0)).reshape(4, 3, 5)
Y = np.eye(3)[[0, 2, 1, 0]]


def lse(v):
    m = np.max(v)
    return m + np.log(np.sum(np.exp(v - m)))


def f(x, y):
    nll = 0.0
    for i in range(4):
        scores = F[i] @ x
        nll = nll + lse(scores) - Y[i] @ scores
    return nll + y * (x @ x)
"""), np.array([0.3, -0.5, 0.9, 0.1, -1.2]), 0.1, "issue 22"),
    Regression("hmm_forward_vectorized", _module("""
A = np.log(np.array([[0.6, 0.3, 0.1], [0.2, 0.5, 0.3], [0.25, 0.25, 0.5]]))


def f(x, y):
    alpha = y + x[0]
    for t in range(1, 4):
        s = alpha[:, None] + A
        m = np.max(s, axis=0)
        alpha = m + np.log(np.sum(np.exp(s - m), axis=0)) + x[t]
    m = np.max(alpha)
    return m + np.log(np.sum(np.exp(alpha - m)))
"""), np.log(np.array([[0.5, 0.2, 0.3], [0.1, 0.6, 0.3], [0.3, 0.3, 0.4], [0.7, 0.1, 0.2]])),
        np.log(np.array([0.5, 0.3, 0.2])), "issue 22"),
]

FOUND = [
    Regression("while_rebinds_argument", _module("""
def f(x, y):
    k = 0
    while k < 1 and x[0] > 0.0:
        k += 1
        x = np.tanh(x) + (x + (x + x))
    return np.sum(y) + np.sum(x)
"""), np.array([-1.13, -0.662, -0.194]), Y3,
        "fuzzer: InternalError 'x_1_bar is read after its buffer was changed in place'"),
    Regression("list_holds_a_view_written_later", _module("""
def f(x, y):
    m = x * 1.0
    L = []
    for i in range(1):
        L.append(m[0])
        m[0] = m[1]
    r = sum(L)
    return np.sum(r * y) + np.mean(m)
"""), np.array([[-1.07, 1.21, 0.95], [-0.89, -0.48, 0.33]]), np.array([0.67, -0.25, 0.04]),
        "fuzzer: the appended row is a view that m[0] = m[1] changes; the gradient and the "
        "jvp follow the old row (value right)", may_refuse=True),
    Regression("adjoint_passed_through_then_carried", _module("""
def f(x, y):
    T1 = np.zeros(3)
    T1[0] = x[1, 2]
    for i2 in range(1, 3):
        T1[i2] = T1[i2 - 1] * x[0, 0]
    v5 = (T1 - x[1, 1])
    x = x + v5[1]
    return np.mean(x)
"""), np.array([[-0.8375, -1.13, -0.545], [-0.2525, 0.04, 0.3325]]),
        np.array([0.625, 0.9175, 1.21]),
        "fuzzer seed 303: v5's adjoint is T1's (a - b passes it on), which the loop's "
        "adjoint changes in place; -v5_bar, inlined after the loop, read the changed one"),
    Regression("swap_then_reshaped_adjoint", _module("""
def f(x, y):
    for k in range(1):
        x, y = y, x
        r11 = y + np.squeeze(x)
        x = r11 * y[1]
    return x[0]
"""), np.array([-0.12714276, -1.13, 1.15130427, 0.24170419]),
        np.array([0.48528017, 0.93630089, -0.54467791, -0.79571429]),
        "fuzzer seed 404: x's carried adjoint ends as y's, updated in place; both were "
        "given one variable, so the seed was overwritten (gradient zero)"),
    Regression("early_return_then_branch_in_while", _module("""
def f(x, y):
    if x[0] < -0.4:
        return 1.5
    k1 = 0
    while k1 < 1:
        k1 += 1
        if x[0] < -0.4:
            break
        y = np.tanh(y) + x[1]
    return y
"""), np.array([1.21001, -1.1299999, -0.35]), 0.43,
        "fuzzer seed 404: only a branch inside the loop pushes on the tape, which "
        "was never created (NameError)"),
    Regression("checked_write_of_a_slice", _module("""
def f(x, y):
    v7 = np.max((y[None, :] * x), axis=0)
    s8 = v7[1]
    v7[1:] += (np.tanh(v7) @ (0.5 * y)) * v7[:-1]
    return s8 + np.mean(v7)
"""), np.array([[0.04, -0.30104322, -1.22354581], [0.2580496, 1.30154285, 0.91743896]]),
        np.array([0.625, -0.80410546, -0.545]),
        "fuzzer seed 606: the run-time check of v7[1:] += ... printed its index as "
        "disjoint_write(..., 1:) (SyntaxError in the generated code)"),
    Regression("merged_at_an_if_then_written", _module("""
def f(x, y):
    v1 = x / (1.0 + (x * y) * (x * y))
    if 0.5 > 0.3:
        s5 = y[1]
    else:
        v1 = np.tanh(v1 + 1.5 + v1 * v1)
    v1[1] = np.sum(v1[::-1] * x)
    return np.max(v1)
"""), np.array([-1.12298611, 0.3651914, -0.193999]), np.array([1.11, -0.6019068, 0.74201]),
        "fuzzer seed 808: v1 merged at the if is written after it; the adjoint read the "
        "version before the if (-v1 / t2), which the write had changed (the verifier's "
        "InternalError; a wrong gradient without it)"),
    Regression("shape_read_after_a_merged_write", _module("""
def f(x, y):
    T2 = x[0] * 1.0
    if 1.5 < 0.0:
        T2[1] = np.sum(T2.reshape(4) * x[0])
    elif np.max(T2) > -0.4:
        s = 1.0
    else:
        T2[1] += T2[2]
    T2[1:] += x[0, 2] * T2[:-1]
    return np.sum(T2)
"""), np.array([[-0.49181818, -0.70454545, -0.91727273, -1.13],
                [-0.27909091, -0.06636364, 0.14636364, 0.35909091]]),
        np.array([0.57181818, 0.78454545, 0.99727273, 1.21]),
        "fuzzer seed 909: the storage verifier rejected vjp's code, whose numbers are "
        "right: np.shape(T2), read for the shape alone after a write in place into the "
        "value T2 flows into at the ifs, was taken for a read after a reassignment"),
    Regression("overlapping_slices_then_rows", _module("""
def f(x, y):
    T5 = np.zeros(3)
    T5[0] = x[1, 1] + x[0, 2]
    T5[1:] += np.sum(np.tanh((T5 + x[0])[:, None] - T5 / (1.0 + T5 * T5))) * T5[:-1]
    T5[1] += T5 * x[0] @ (T5 * T5)
    L8 = []
    for i7 in range(3):
        L8.append(np.sin(2.0 + T5[i7]))
    r9 = np.sum(np.stack(L8), axis=0)
    return r9
"""), np.array([[-0.74, 1.19930066, 0.42053345], [-1.05490761, 0.79086436, 0.13045273]]),
        -0.35, "fuzzer seed 202: right all along; Hessian entries ~1e5 put the differences "
        "at H = 1e-3 off in the fourth digit, so the oracle now confirms at smaller steps"),
    Regression("product_with_a_reversed_view_written_later", _module("""
def f(x, y):
    T2 = np.zeros(4)
    T2[0] = x[1]
    for i3 in range(1, 4):
        T2[i3] = T2[i3 - 1] * 0.3 + np.min(x)
    T2[2] += np.sum(np.tanh(np.stack([y, np.squeeze(y[None, :])])) @ T2[::-1])
    if T2[3] > -0.4:
        T2 = np.tanh(T2) + ((2.0 + y[2]) * np.sum(np.stack([y, T2]), axis=0))
    elif (T2[1] / (1.5 + y[0] * y[0])) < 1.0:
        T2[0] = (y[::-1] @ y[::-1])
    return np.sum(T2) + np.sum(x)
"""), np.array([-0.79571429, -1.13, -0.46142857, -0.12714286]),
        np.array([0.20714286, 0.54142857, 0.87571429, 1.21]),
        "fuzzer seed 21 (issue 14's grammar): value_and_grad's value off f's in the last "
        "bit: the forward sweep computed with a contiguous copy of T2[::-1] (taken for the "
        "adjoint), and a product with a reversed view rounds otherwise; the forward now "
        "keeps the view and the adjoint reads a snapshot"),
    Regression("list_read_then_appended", _module("""
def f(x, y):
    ys = [x, 2 * x]
    s = sum(ys)
    ys.append(3 * x * y)
    return np.sum(s + sum(ys))
"""), X3, 0.5, "issue 20: the adjoint of sum(ys) read ys after the append (the storage "
        "verifier's InternalError; the numbers were right only because zip truncated); "
        "a list version the adjoint reads is now snapshotted before an append, as an "
        "array's before a write"),
    Regression("helper_loop_in_a_while_test", _module("""
def h(a, b):
    k = 0
    while k < 2 and a[0] * b[0] > 0.0:
        k += 1
        a = a + np.tanh(a + b[0])
    return np.sum(a)


def f(x, y):
    r = y[0]
    k = 0
    while k < 2 and h(x, y) < 50.0:
        k += 1
        r = np.tanh(r) + y[1]
    return r + y[2]
"""), X3, np.array([0.5, 0.2, -0.1]), "slow profile after issue 21: a helper whose loop "
        "reassigns its parameter, inlined in a while loop's test, stored its array in the "
        "caller's x although the next test read x again (storage.py did not count a "
        "loop's test block as inside it; the verifier's InternalError, exposed once a "
        "float64 gradient no longer read x at the end)"),
]

# Seed 303: a view of an array, taken through a chain (a row then a slice, a reshape then
# a slice...) before the array is written in place, read by the adjoint after the write.
# One row per way of taking the view; each was wrong before (a single x[i] or x[:, j]
# was already copied).
_VIEWS = ["m[0][:, None] * x", "m[0][1:] * x[1:]", "m[:, 1:][0] * x[1:]",
          "m.reshape(6)[:3] * x", "np.ravel(m)[:3] * x", "m[0].T * x",
          "np.squeeze(m[0:1]) * x", "m[::-1][0] * x", "m.T[1] * x[1]",
          "np.transpose(m)[:, 0] * x", "np.reshape(m, (3, 2))[0] * x[:2]"]
VIEWS = [Regression(f"view_then_write_{i}", _module(f"""
def f(x, y):
    m = np.stack([x, x * x])
    for i in range({1 + i % 2}):
        m[:, 2] = m[:, 2] * np.sum({view}) + y
    return np.sum(m * m)
"""), np.array([1.21, 0.3825286, -0.35]), -0.3, "fuzzer seed 303 (shrunk): m29[0][:, None]")
    for i, view in enumerate(_VIEWS)]

ALL = ISSUES + FOUND + VIEWS
