"""Finite differences against the gradient: cost and accuracy.

Cost. A central difference needs two evaluations of f per input, so the gradient of
a function of n inputs costs 2n evaluations; srcgrad's generated gradient costs a
small constant times one evaluation, whatever n. ``cost_table`` times both (median
of repeats, ``timeit``) for n from 10 to 1000.

Accuracy. The forward difference (f(x + h) - f(x)) / h has truncation error about
h |f''| / 2; the central difference (f(x + h) - f(x - h)) / (2h) about h**2 |f'''| / 6.
Both lose about eps |f| / h to round-off (eps = 2.2e-16), so the error against the
exact derivative, drawn against h on log scales, is a V: it falls with h (slope 1,
slope 2) until round-off takes over and it rises again (slope -1). The best step is
near sqrt(eps) = 1e-8 for forward differences and eps**(1/3) = 6e-6 for central ones,
and even there about half (forward) or a third (central) of the digits are lost.
srcgrad's derivative has no step: it is exact up to the rounding of each operation.

Run ``python examples/finite_differences.py`` (``--quick`` for small sizes); it
prints both tables and draws the V into ``docs/fd_error.png`` when matplotlib is
installed (``pip install matplotlib``).
"""

from __future__ import annotations

import math
import sys
import timeit
from pathlib import Path

import numpy as np

import srcgrad

PLOT = Path(__file__).resolve().parent.parent / "docs" / "fd_error.png"


def f(x):
    """A function of n inputs, each coupled to every other one through x @ x."""
    return np.sin(x @ x) + np.sum(np.log1p(x**2))


def central_differences(fn, x: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """The gradient by central differences: two evaluations of fn per input."""
    grad = np.empty_like(x)
    for i in range(x.size):
        step = np.zeros_like(x)
        step[i] = h
        grad[i] = (fn(x + step) - fn(x - step)) / (2 * h)
    return grad


def median_time(call, repeat: int, number: int | None = None) -> float:
    """Median seconds per call over ``repeat`` runs of ``number`` calls (by default
    enough calls for a run to be measured: about 40 ms)."""
    if number is None:
        number = max(1, timeit.Timer(call).autorange()[0] // 5)
    return float(np.median(timeit.repeat(call, number=number, repeat=repeat))) / number


def cost_table(sizes, repeat: int = 5,
               number: int | None = None) -> list[tuple[int, float, float, float]]:
    """(n, time of f, time of central differences, time of srcgrad's gradient)."""
    gradient = srcgrad.grad(f)
    rows = []
    for n in sizes:
        x = np.random.default_rng(n).normal(size=n) / math.sqrt(n)
        gradient(x)  # generate the derivative for this shape before timing it
        t_f = median_time(lambda x=x: f(x), repeat, number)
        t_fd = median_time(lambda x=x: central_differences(f, x), max(1, repeat // 2), number)
        t_grad = median_time(lambda x=x: gradient(x), repeat, number)
        rows.append((n, t_f, t_fd, t_grad))
    return rows


def lecture(x):
    """The lecture function at y = -1, z = 0, as a function of x."""
    return math.sin(x**2 + -1.0 * math.exp(0.0)) + 0.0


def error_table(x: float = 2.0, exponents=range(1, 14)) -> list[tuple[float, float, float]]:
    """(h, error of the forward difference, error of the central difference) against
    the exact derivative, for h = 1e-1 ... 1e-13."""
    exact = srcgrad.grad(lecture)(x)
    rows = []
    for k in exponents:
        h = 10.0 ** -k
        forward = (lecture(x + h) - lecture(x)) / h
        central = (lecture(x + h) - lecture(x - h)) / (2 * h)
        rows.append((h, abs(forward - exact), abs(central - exact)))
    return rows


def plot(rows, path: Path) -> bool:
    """Draw the error against h into ``path``; False (and a note) without matplotlib."""
    try:
        import matplotlib
    except ImportError:
        print(f"matplotlib is not installed: no picture written to {path} "
              "(pip install matplotlib, then run this again)")
        return False
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    hs = [r[0] for r in rows]
    fig, ax = plt.subplots(figsize=(6, 4))
    # a difference that happens to be exact has error 0: drawn at 1e-17, below the axis's data
    ax.loglog(hs, [max(r[1], 1e-17) for r in rows], "o-", label="forward (f(x+h) - f(x)) / h")
    ax.loglog(hs, [max(r[2], 1e-17) for r in rows], "s-", label="central (f(x+h) - f(x-h)) / 2h")
    ax.invert_xaxis()
    ax.set_xlabel("step h")
    ax.set_ylabel("|difference - exact derivative|")
    ax.set_title("d/dx sin(x² - 1) at x = 2: truncation, then round-off")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    print(f"wrote {path}")
    return True


def main(quick: bool = False, picture: Path | None = PLOT) -> None:
    sizes = (10, 30, 100) if quick else (10, 30, 100, 300, 1000)
    print("cost: time of f, of its gradient by central differences (2n evaluations),")
    print("and of srcgrad's gradient, for n inputs (median of repeats)")
    print(f"{'n':>5} {'f':>10} {'differences':>12} {'srcgrad':>10} "
          f"{'differences/f':>14} {'srcgrad/f':>10}")
    timings = cost_table(sizes, repeat=3, number=5) if quick else cost_table(sizes, repeat=7)
    for n, t_f, t_fd, t_grad in timings:
        print(f"{n:>5} {t_f * 1e6:>8.1f}us {t_fd * 1e6:>10.0f}us {t_grad * 1e6:>8.1f}us "
              f"{t_fd / t_f:>14.0f} {t_grad / t_f:>10.1f}")
    print()
    rows = error_table()
    print("accuracy: error of the differences against srcgrad's exact derivative of "
          "sin(x**2 - 1) at x = 2")
    print(f"{'h':>7} {'forward':>10} {'central':>10}")
    for h, forward, central in rows:
        print(f"{h:>7.0e} {forward:>10.1e} {central:>10.1e}")
    best_forward = min(rows, key=lambda r: r[1])[0]
    best_central = min(rows, key=lambda r: r[2])[0]
    print(f"smallest error at h = {best_forward:.0e} (forward), {best_central:.0e} (central)")
    if picture is not None:
        plot(rows, picture)


if __name__ == "__main__":
    main(quick="--quick" in sys.argv[1:])
