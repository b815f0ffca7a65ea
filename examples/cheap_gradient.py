"""The cheap gradient principle, measured.

Reverse mode computes the gradient of a scalar function of any number of inputs for a
small constant times the cost of the function itself (Griewank and Walther bound the
operation count by about 4 to 5; in practice 2 to 5): the forward sweep recomputes
the function, the adjoint sweep does a few operations per operation of the forward one.
Finite differences, by contrast, cost n + 1 or 2n evaluations for n inputs.

``ratios`` times, on each example, the function and srcgrad's generated gradient
(``timeit``, median of repeats, the derivative generated before timing) and prints
gradient time / function time next to the bound. The examples: the lecture's
function (a few scalar operations: Python's per-call overhead is most of the time), a
logistic regression loss, the classifier of ``mlp.py`` (over plain arrays, and as the
bound method ``model.loss`` of a dataclass of parameters), and the HMM forward algorithm
of ``hmm.py`` (a loop over time: the gradient also stores and replays a tape).

Run ``python examples/cheap_gradient.py`` (``--quick`` for fewer repeats). The ratios
depend on the machine and its load; nothing here asserts a speed.
"""

from __future__ import annotations

import sys
import timeit
from collections.abc import Callable

import hmm
import lecture
import mlp
import numpy as np

import srcgrad

BOUND = 5.0  # the textbook's small constant for the operation count of reverse mode


def logistic_loss(w, x, labels):
    """Mean logistic loss of a linear classifier, with a little weight decay."""
    margins = (x @ w) * (2 * labels - 1)
    return np.mean(np.logaddexp(0.0, -margins)) + 1e-3 * np.sum(w**2)


def mlp_loss(W1, b1, W2, b2, x, labels):
    """The loss of ``mlp.MLP`` (tanh, decay 1e-3) written over arrays: the same arithmetic."""
    logits = np.tanh(x @ W1 + b1) @ W2 + b2
    m = np.max(logits, axis=1, keepdims=True)
    log_z = m[:, 0] + np.log(np.sum(np.exp(logits - m), axis=1))
    picked = logits[np.arange(len(labels)), labels]
    return np.mean(log_z - picked) + 1e-3 * (np.sum(W1**2) + np.sum(W2**2))


def examples() -> list[tuple[str, Callable, tuple, object]]:
    """(name, function, arguments, wrt) of each example."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 20))
    labels = (x[:, 0] + rng.normal(size=200) > 0).astype(float)
    model = mlp.MLP()
    mlp_x, mlp_labels = mlp.data()
    params = model.init()
    return [
        ("lecture f(x, y, z)", lecture.f, lecture.POINT, (0, 1, 2)),
        ("logistic regression, 200 x 20", logistic_loss, (rng.normal(size=20), x, labels), 0),
        ("MLP 4-8-3, 60 examples, arrays", mlp_loss,
         (params.W1, params.b1, params.W2, params.b2, mlp_x, mlp_labels), (0, 1, 2, 3)),
        ("the same, model.loss(Params)", model.loss, (params, mlp_x, mlp_labels), 0),
        ("HMM forward, T = 50, K = 5", hmm.log_partition, hmm.example(T=50, K=5), (0, 1, 2)),
    ]


def _median(call: Callable, repeat: int, number: int) -> float:
    return float(np.median(timeit.repeat(call, number=number, repeat=repeat))) / number


def ratios(repeat: int = 7, number: int | None = None) -> list[tuple[str, float, float]]:
    """(name, function seconds, gradient seconds) for each example."""
    rows = []
    for name, fn, args, wrt in examples():
        gradient = srcgrad.grad(fn, wrt=wrt)
        gradient(*args)  # generate the derivative before timing it

        def f_call(fn=fn, args=args):
            return fn(*args)

        def g_call(gradient=gradient, args=args):
            return gradient(*args)

        n = number or max(1, timeit.Timer(f_call).autorange()[0] // 5)
        rows.append((name, _median(f_call, repeat, n), _median(g_call, repeat, n)))
    return rows


def main(quick: bool = False) -> None:
    rows = ratios(repeat=3, number=3) if quick else ratios()
    print(f"gradient time / function time (reverse mode; the bound is about {BOUND:g})")
    print(f"{'example':<32} {'function':>10} {'gradient':>10} {'ratio':>6}")
    for name, t_f, t_g in rows:
        print(f"{name:<32} {t_f * 1e6:>8.1f}us {t_g * 1e6:>8.1f}us {t_g / t_f:>6.1f}")
    print()
    print("model.loss(Params) runs the same arithmetic as the arrays row: the difference in")
    print("its gradient's time is spent around the generated code, in what a call of the")
    print("gradient of a bound method with a dataclass argument does before and after it.")


if __name__ == "__main__":
    main(quick="--quick" in sys.argv[1:])
