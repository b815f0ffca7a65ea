"""Forward mode against reverse mode for a Jacobian of n inputs and m outputs.

Forward mode pushes one tangent through the function per input: the m x n Jacobian
costs n Jacobian-vector products. Reverse mode pulls one cotangent back per output:
m vector-Jacobian products. Each costs a small constant times the function, so forward
mode wins when n < m (tall Jacobians), reverse mode when m < n (wide ones, a gradient
being the widest: m = 1); ``srcgrad.jacobian(f, mode="auto")`` picks the smaller count.

``table`` times ``srcgrad.jacobian(f, mode=...)`` of f(x) = tanh(A @ x) * x.sum() for
several (n, m) (``timeit``, median of repeats, derivatives generated before timing),
and checks that both modes give the same matrix, equal to the one written by hand.

Run ``python examples/jacobian_modes.py`` (``--quick`` for small sizes).
"""

from __future__ import annotations

import sys
import timeit

import numpy as np

import srcgrad

SIZES = [(1, 200), (10, 200), (50, 50), (200, 10), (200, 1)]
QUICK_SIZES = [(2, 30), (30, 2)]


def f(x, A):
    """R^n -> R^m: every output depends on every input."""
    return np.tanh(A @ x) * np.sum(x)


def jacobian_by_hand(x: np.ndarray, A: np.ndarray) -> np.ndarray:
    """d f_i / d x_j = (1 - tanh(A x)_i^2) A_ij sum(x) + tanh(A x)_i."""
    t = np.tanh(A @ x)
    return (1 - t**2)[:, None] * A * np.sum(x) + t[:, None]


def _median(call, repeat: int, number: int) -> float:
    return float(np.median(timeit.repeat(call, number=number, repeat=repeat))) / number


def table(sizes, repeat: int = 5, number: int = 5) -> list[tuple[int, int, float, float, float]]:
    """(n, m, forward seconds, reverse seconds, largest difference from the hand-written
    Jacobian over both modes)."""
    forward = srcgrad.jacobian(f, mode="forward")
    reverse = srcgrad.jacobian(f, mode="reverse")
    rows = []
    for n, m in sizes:
        rng = np.random.default_rng(n * 1000 + m)
        x, A = rng.normal(size=n), rng.normal(size=(m, n)) / np.sqrt(n)
        expected = jacobian_by_hand(x, A)
        error = max(float(np.max(np.abs(forward(x, A) - expected))),
                    float(np.max(np.abs(reverse(x, A) - expected))))
        rows.append((n, m, _median(lambda x=x, A=A: forward(x, A), repeat, number),
                     _median(lambda x=x, A=A: reverse(x, A), repeat, number), error))
    return rows


def main(quick: bool = False) -> None:
    rows = table(QUICK_SIZES, repeat=3, number=2) if quick else table(SIZES)
    print("srcgrad.jacobian(f, mode=...) of f(x) = tanh(A @ x) * sum(x), x in R^n, f(x) in R^m")
    print(f"{'n':>4} {'m':>4} {'forward (n jvps)':>17} {'reverse (m vjps)':>17} "
          f"{'faster':>8} {'error':>8}")
    for n, m, t_fwd, t_rev, error in rows:
        faster = "forward" if t_fwd < t_rev else "reverse"
        print(f"{n:>4} {m:>4} {t_fwd * 1e3:>15.2f}ms {t_rev * 1e3:>15.2f}ms "
              f"{faster:>8} {error:>8.1e}")
    print("error: the largest difference of either mode from the Jacobian written by hand")


if __name__ == "__main__":
    main(quick="--quick" in sys.argv[1:])
