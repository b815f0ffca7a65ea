"""The CKY inside algorithm, differentiated: inside -> inside-outside.

``log_partition`` is the textbook inside algorithm for a PCFG in Chomsky
normal form, in log space: loops over span length, start, nonterminal and
split point, filling a chart in place. srcgrad differentiates it as written;
the gradient of log Z with respect to the rule scores is the expected number
of times each rule is used, the quantity inside-outside computes. The adjoint
of the chart is the outside pass, generated.

Run it to see the expected rule counts, computed as the gradient, next to a
hand-written inside-outside, and the generated adjoint loop: the outside pass.
"""

import numpy as np
from hmm import adjoint_loop

import srcgrad


def log_partition(log_binary, log_unary, words):
    """log Z of a sentence: log_binary[A, B, C] scores A -> B C, log_unary[A, w] A -> w."""
    n = len(words)
    N = log_binary.shape[0]
    chart = np.zeros((n, n + 1, N))  # chart[i, k, A]: log inside score of A over words i..k-1
    for i in range(n):
        chart[i, i + 1] = log_unary[:, words[i]]
    for length in range(2, n + 1):
        for i in range(n - length + 1):
            k = i + length
            for A in range(N):
                scores = np.zeros((length - 1, N, N))
                for j in range(i + 1, k):
                    scores[j - i - 1] = log_binary[A] + chart[i, j][:, None] + chart[j, k][None, :]
                m = np.max(scores)
                chart[i, k, A] = m + np.log(np.sum(np.exp(scores - m)))
    return chart[0, n, 0]  # nonterminal 0 is the start symbol


def inside_outside(log_binary, log_unary, words):
    """Expected rule counts, written by hand in probability space (for comparison)."""
    rules, emit = np.exp(log_binary), np.exp(log_unary)
    n, N = len(words), rules.shape[0]
    inside = np.zeros((n, n + 1, N))
    for i in range(n):
        inside[i, i + 1] = emit[:, words[i]]
    for length in range(2, n + 1):
        for i in range(n - length + 1):
            k = i + length
            for j in range(i + 1, k):
                inside[i, k] += np.einsum("abc,b,c->a", rules, inside[i, j], inside[j, k])
    z = inside[0, n, 0]
    outside = np.zeros((n, n + 1, N))
    outside[0, n, 0] = 1.0
    binary_counts = np.zeros_like(rules)
    for length in range(n, 1, -1):
        for i in range(n - length + 1):
            k = i + length
            for j in range(i + 1, k):
                left, right, parent = inside[i, j], inside[j, k], outside[i, k]
                binary_counts += np.einsum("a,b,c->abc", parent, left, right) * rules / z
                outside[i, j] += np.einsum("a,abc,c->b", parent, rules, right)
                outside[j, k] += np.einsum("a,abc,b->c", parent, rules, left)
    unary_counts = np.zeros_like(emit)
    for i in range(n):
        unary_counts[:, words[i]] += outside[i, i + 1] * inside[i, i + 1] / z
    return binary_counts, unary_counts


def example(n=5, N=3, V=4, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(N, N, N)), rng.normal(size=(N, V)), rng.integers(0, V, size=n)


def main() -> None:
    log_binary, log_unary, words = example()
    d_binary, d_unary = srcgrad.grad(log_partition, wrt=(0, 1))(log_binary, log_unary, words)
    counts, unary_counts = inside_outside(log_binary, log_unary, words)
    print("expected counts of A -> B C, for A = 0 (srcgrad):")
    print(np.round(d_binary[0], 4))
    print("largest difference from hand-written inside-outside:",
          float(max(np.max(np.abs(d_binary - counts)), np.max(np.abs(d_unary - unary_counts)))))
    print("expected counts of A -> w (srcgrad):")
    print(np.round(d_unary, 4))
    print("unary counts sum to the sentence length:", float(np.sum(d_unary)))
    print()
    print("the outside pass: the adjoint loop of srcgrad's generated gradient")
    print("(srcgrad.derivative_source(log_partition, wrt=(0, 1)))")
    print(adjoint_loop(srcgrad.derivative_source(log_partition, wrt=(0, 1))))


if __name__ == "__main__":
    main()
