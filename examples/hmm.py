"""The HMM forward algorithm, differentiated: forward -> forward-backward.

``log_partition`` is the textbook forward algorithm in log space: the alpha
table is filled in a loop over time, one row per step, with a log-sum-exp
written out with NumPy. srcgrad differentiates it as written; the gradient of
log Z with respect to the emission scores is the table of posterior state
marginals, the quantity forward-backward computes. The adjoint of the alpha
table is the backward (beta) pass, generated.

Run it to see the posterior marginals, computed as the gradient, next to a
hand-written forward-backward, and the generated adjoint loop: the backward pass.
"""

import re

import numpy as np

import srcgrad


def log_partition(log_init, log_trans, log_emit):
    """log Z of a linear-chain model: log_emit[t, j] scores state j at time t."""
    T = log_emit.shape[0]
    alpha = np.zeros(log_emit.shape)
    alpha[0] = log_init + log_emit[0]
    for t in range(1, T):
        scores = alpha[t - 1][:, None] + log_trans  # scores[i, j]: from state i to j
        m = np.max(scores, axis=0)
        alpha[t] = m + np.log(np.sum(np.exp(scores - m), axis=0)) + log_emit[t]
    m = np.max(alpha[T - 1])
    return m + np.log(np.sum(np.exp(alpha[T - 1] - m)))


def log_partition_per_state(log_init, log_trans, log_emit):
    """The same, with an explicit loop over the next state j, as in most textbooks."""
    T = log_emit.shape[0]
    K = log_emit.shape[1]
    alpha = np.zeros((T, K))
    alpha[0] = log_init + log_emit[0]
    for t in range(1, T):
        for j in range(K):
            scores = alpha[t - 1] + log_trans[:, j]
            m = np.max(scores)
            alpha[t, j] = m + np.log(np.sum(np.exp(scores - m))) + log_emit[t, j]
    m = np.max(alpha[T - 1])
    return m + np.log(np.sum(np.exp(alpha[T - 1] - m)))


def _logsumexp(a, axis=None):
    m = np.max(a, axis=axis, keepdims=True)
    return np.squeeze(m, axis=axis) + np.log(np.sum(np.exp(a - m), axis=axis))


def forward_backward(log_init, log_trans, log_emit):
    """Posterior state marginals p(state_t = j | x), written by hand (for comparison)."""
    T, K = log_emit.shape
    alpha = np.zeros((T, K))
    beta = np.zeros((T, K))
    alpha[0] = log_init + log_emit[0]
    for t in range(1, T):
        alpha[t] = _logsumexp(alpha[t - 1][:, None] + log_trans, axis=0) + log_emit[t]
    for t in range(T - 2, -1, -1):
        beta[t] = _logsumexp(log_trans + (log_emit[t + 1] + beta[t + 1])[None, :], axis=1)
    log_z = _logsumexp(alpha[T - 1])
    return np.exp(alpha + beta - log_z)


def adjoint_loop(source: str) -> str:
    """The first loop of a generated derivative's adjoint sweep (a ``for ... in
    reversed(...)``), with its body, under the generated function's ``def`` line
    (the lines between elided as ``...``)."""
    lines = source.splitlines()
    header = next(line for line in lines if line.startswith("def "))
    start = next(i for i, line in enumerate(lines)
                 if re.match(r"\s*for .+ in reversed\(", line))
    indent = len(lines[start]) - len(lines[start].lstrip())
    end = start + 1
    while end < len(lines) and (len(lines[end]) - len(lines[end].lstrip()) > indent
                                or not lines[end].strip()):
        end += 1
    return "\n".join([header, "    ...", *lines[start:end]])


def example(T=6, K=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=K), rng.normal(size=(K, K)), rng.normal(size=(T, K))


def main() -> None:
    args = example()
    marginals = srcgrad.grad(log_partition, wrt="log_emit")(*args)
    expected = forward_backward(*args)
    with np.printoptions(precision=4, suppress=True):  # not set for the caller's prints
        print("posterior marginals p(state_t = j | x), as d log Z / d log_emit (srcgrad):")
        print(marginals)
        print("posterior marginals (hand-written forward-backward):")
        print(expected)
    print("largest difference:", float(np.max(np.abs(marginals - expected))))
    print("each row sums to one:", np.allclose(marginals.sum(axis=1), 1.0))
    print()
    print("the backward pass: the adjoint loop of srcgrad's generated gradient")
    print("(srcgrad.derivative_source(log_partition, wrt='log_emit'))")
    print(adjoint_loop(srcgrad.derivative_source(log_partition, wrt="log_emit")))


if __name__ == "__main__":
    main()
