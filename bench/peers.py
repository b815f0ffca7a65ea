"""The same workloads for the peers, each in its library's own style.

- HIPS autograd: ``autograd.numpy`` and ``autograd.grad``; arrays are never
  written in place (autograd does not support it), so tables are lists of rows.
- JAX: ``jax.numpy`` with float64 enabled, ``jax.grad`` run eagerly and
  ``jax.jit(jax.grad(...))``; results are waited for (``block_until_ready``).
- PyTorch: float64 tensors with ``requires_grad``, ``loss.backward()``, ``.grad``.

The algorithms are the workloads' own (same loops, same log-sum-exp written
out), translated; where a workload fills an array in place, the peers keep a
list or dict of rows or cells, as their users do. Under ``jax.jit`` the long
loops use ``lax.fori_loop``/``lax.scan`` (see ``_jax_jit_functions``), and CKY is
skipped (``Skipped``). A peer that is not installed
is reported as such by ``available()``; nothing here imports it before then.

``build(peer, key, args, wrt)`` returns ``(grad_fn, peer_args)``: calling
``grad_fn(*peer_args)`` computes the gradient for ``wrt`` (one value for one
argument, else a tuple in wrt's order; a list of floats' is a list) in that
library's types; ``to_numpy`` turns it into NumPy for the check. Converting the
NumPy inputs is done once, outside the timed calls. The workloads of
``workloads_sizes.py`` have their versions in ``peers_sizes.py``.
"""

from __future__ import annotations

import importlib.util

import numpy as np
import peers_sizes

PEERS = ("autograd", "jax", "jax.jit", "torch")
_MODULE = {"autograd": "autograd", "jax": "jax", "jax.jit": "jax", "torch": "torch"}


def available(peer: str) -> bool:
    return importlib.util.find_spec(_MODULE[peer]) is not None


# ---- HIPS autograd ----------------------------------------------------------------
def _autograd_functions():
    import autograd.numpy as anp

    def lecture(x, y, z):
        return anp.sin(x**2 + y * anp.exp(z)) + z

    def recurrence(x, a):
        for _ in range(1000):
            x = a * anp.sin(x) + 0.1 * x
        return x

    def softmax(W, X, Y):
        scores = anp.dot(X, W)
        logz = anp.log(anp.sum(anp.exp(scores), axis=1))
        return anp.mean(logz - anp.sum(scores * Y, axis=1))

    def mlp(W1, W2, X, Y):
        h = anp.tanh(anp.dot(X, W1))
        out = anp.dot(h, W2)
        return 0.5 * anp.mean(anp.sum((out - Y) ** 2, axis=1))

    def hmm(log_init, log_trans, log_emit):
        T = log_emit.shape[0]
        alpha = log_init + log_emit[0]
        for t in range(1, T):
            scores = alpha[:, None] + log_trans
            m = anp.max(scores, axis=0)
            alpha = m + anp.log(anp.sum(anp.exp(scores - m), axis=0)) + log_emit[t]
        m = anp.max(alpha)
        return m + anp.log(anp.sum(anp.exp(alpha - m)))

    def cky(log_binary, log_unary, words):
        n = len(words)
        N = log_binary.shape[0]
        chart = {}
        for i in range(n):
            chart[i, i + 1] = log_unary[:, words[i]]
        for length in range(2, n + 1):
            for i in range(n - length + 1):
                k = i + length
                cell = []
                for A in range(N):
                    scores = anp.stack([log_binary[A] + chart[i, j][:, None] + chart[j, k][None, :]
                                        for j in range(i + 1, k)])
                    m = anp.max(scores)
                    cell.append(m + anp.log(anp.sum(anp.exp(scores - m))))
                chart[i, k] = anp.stack(cell)
        return chart[0, n][0]

    def small_ops(w, x):
        h = x
        for _ in range(50):
            h = anp.tanh(w * h + 0.5 * h)
        return anp.sum(h * h)

    return locals()


# ---- JAX --------------------------------------------------------------------------
def _jax_functions():
    import jax.numpy as jnp

    def lecture(x, y, z):
        return jnp.sin(x**2 + y * jnp.exp(z)) + z

    def recurrence(x, a):
        for _ in range(1000):
            x = a * jnp.sin(x) + 0.1 * x
        return x

    def softmax(W, X, Y):
        scores = X @ W
        logz = jnp.log(jnp.sum(jnp.exp(scores), axis=1))
        return jnp.mean(logz - jnp.sum(scores * Y, axis=1))

    def mlp(W1, W2, X, Y):
        h = jnp.tanh(X @ W1)
        out = h @ W2
        return 0.5 * jnp.mean(jnp.sum((out - Y) ** 2, axis=1))

    def hmm(log_init, log_trans, log_emit):
        T = log_emit.shape[0]
        alpha = log_init + log_emit[0]
        for t in range(1, T):
            scores = alpha[:, None] + log_trans
            m = jnp.max(scores, axis=0)
            alpha = m + jnp.log(jnp.sum(jnp.exp(scores - m), axis=0)) + log_emit[t]
        m = jnp.max(alpha)
        return m + jnp.log(jnp.sum(jnp.exp(alpha - m)))

    def cky(log_binary, log_unary, words):
        n = len(words)
        N = log_binary.shape[0]
        chart = {}
        for i in range(n):
            chart[i, i + 1] = log_unary[:, words[i]]
        for length in range(2, n + 1):
            for i in range(n - length + 1):
                k = i + length
                cell = []
                for A in range(N):
                    scores = jnp.stack([log_binary[A] + chart[i, j][:, None] + chart[j, k][None, :]
                                        for j in range(i + 1, k)])
                    m = jnp.max(scores)
                    cell.append(m + jnp.log(jnp.sum(jnp.exp(scores - m))))
                chart[i, k] = jnp.stack(cell)
        return chart[0, n][0]

    def small_ops(w, x):
        h = x
        for _ in range(50):
            h = jnp.tanh(w * h + 0.5 * h)
        return jnp.sum(h * h)

    return locals()


def _jax_jit_functions():
    """Under jit, a JAX user writes long loops with ``lax.fori_loop`` and ``lax.scan``:
    a Python loop is unrolled into the compiled program, and compiling the unrolled
    1000-step recurrence took 23 s and the 200-step HMM 64 s here (CKY's nested loops
    did not finish in 5 minutes). The rest is the eager code, jitted."""
    import jax
    import jax.numpy as jnp

    def recurrence(x, a):
        return jax.lax.fori_loop(0, 1000, lambda _, x: a * jnp.sin(x) + 0.1 * x, x)

    def hmm(log_init, log_trans, log_emit):
        def step(alpha, emit):
            scores = alpha[:, None] + log_trans
            m = jnp.max(scores, axis=0)
            alpha = m + jnp.log(jnp.sum(jnp.exp(scores - m), axis=0)) + emit
            return alpha, None

        alpha, _ = jax.lax.scan(step, log_init + log_emit[0], log_emit[1:])
        m = jnp.max(alpha)
        return m + jnp.log(jnp.sum(jnp.exp(alpha - m)))

    functions = dict(_functions("jax"))
    functions.update(recurrence=recurrence, hmm=hmm)
    del functions["cky"]
    return functions


class Skipped(Exception):
    """A peer's version that is deliberately not run; the message says why."""


# ---- PyTorch ----------------------------------------------------------------------
def _torch_functions():
    import torch

    def lecture(x, y, z):
        return torch.sin(x**2 + y * torch.exp(z)) + z

    def recurrence(x, a):
        for _ in range(1000):
            x = a * torch.sin(x) + 0.1 * x
        return x

    def softmax(W, X, Y):
        scores = X @ W
        logz = torch.log(torch.sum(torch.exp(scores), dim=1))
        return torch.mean(logz - torch.sum(scores * Y, dim=1))

    def mlp(W1, W2, X, Y):
        h = torch.tanh(X @ W1)
        out = h @ W2
        return 0.5 * torch.mean(torch.sum((out - Y) ** 2, dim=1))

    def hmm(log_init, log_trans, log_emit):
        T = log_emit.shape[0]
        alpha = log_init + log_emit[0]
        for t in range(1, T):
            scores = alpha[:, None] + log_trans
            m = torch.amax(scores, dim=0)
            alpha = m + torch.log(torch.sum(torch.exp(scores - m), dim=0)) + log_emit[t]
        m = torch.max(alpha)
        return m + torch.log(torch.sum(torch.exp(alpha - m)))

    def cky(log_binary, log_unary, words):
        n = len(words)
        N = log_binary.shape[0]
        chart = {}
        for i in range(n):
            chart[i, i + 1] = log_unary[:, words[i]]
        for length in range(2, n + 1):
            for i in range(n - length + 1):
                k = i + length
                cell = []
                for A in range(N):
                    scores = torch.stack([log_binary[A] + chart[i, j][:, None]
                                          + chart[j, k][None, :] for j in range(i + 1, k)])
                    m = torch.max(scores)
                    cell.append(m + torch.log(torch.sum(torch.exp(scores - m))))
                chart[i, k] = torch.stack(cell)
        return chart[0, n][0]

    def small_ops(w, x):
        h = x
        for _ in range(50):
            h = torch.tanh(w * h + 0.5 * h)
        return torch.sum(h * h)

    return locals()


# ---- gradients, as each library's users take them ----------------------------------
_cache: dict[str, dict] = {}


def _functions(peer: str) -> dict:
    if peer not in _cache:
        if _MODULE[peer] == "jax":
            import jax

            jax.config.update("jax_enable_x64", True)
        _cache[peer] = {"autograd": _autograd_functions, "jax": _jax_functions,
                        "jax.jit": _jax_jit_functions, "torch": _torch_functions}[peer]()
        _cache[peer].update(peers_sizes.functions(peer))
    return _cache[peer]


def build(peer: str, key: str, args: tuple, wrt: tuple[int, ...]):
    if peer == "jax.jit" and key == "cky":
        raise Skipped("compiling the unrolled loops takes minutes (did not finish in 5 min)")
    if (peer, key) in peers_sizes.SKIPS:
        raise Skipped(peers_sizes.SKIPS[peer, key])
    f = _functions(peer)[peers_sizes.ALIASES.get(key, key)]
    # one argument: one gradient, not a 1-tuple (as the hand-written ones and srcgrad's),
    # so that a workload's driver can sum it
    argnums = wrt[0] if len(wrt) == 1 else wrt
    if peer == "autograd":
        import autograd

        g = autograd.grad(f, argnums)  # a tuple of argnums gives a tuple of gradients
        return g, args
    if peer in ("jax", "jax.jit"):
        import jax
        import jax.numpy as jnp

        g = jax.grad(f, argnums=argnums)
        if peer == "jax.jit":
            g = jax.jit(g)

        def waited(*a):
            return jax.block_until_ready(g(*a))

        return waited, tuple(jnp.asarray(a) if _is_real_array(a) else a for a in args)
    if peer == "torch":
        import torch

        def leaf(t):
            return t.detach().requires_grad_()

        def backward(*a):
            a = list(a)
            for i in wrt:  # a list of floats: a list of leaves, a list of gradients
                a[i] = [leaf(t) for t in a[i]] if isinstance(a[i], list) else leaf(a[i])
            f(*a).backward()
            grads = tuple([t.grad for t in a[i]] if isinstance(a[i], list) else a[i].grad
                          for i in wrt)
            return grads[0] if len(wrt) == 1 else grads

        def tensor(a):
            if _is_real_array(a) or isinstance(a, float):
                return torch.tensor(a, dtype=torch.float64)
            if isinstance(a, list) and all(isinstance(v, float) for v in a):
                return [torch.tensor(v, dtype=torch.float64) for v in a]
            return [int(v) for v in a] if isinstance(a, np.ndarray) else a

        return backward, tuple(tensor(a) for a in args)
    raise ValueError(peer)


def _is_real_array(a) -> bool:
    return isinstance(a, np.ndarray) and a.dtype.kind == "f"


def to_numpy(result) -> tuple:
    result = result if isinstance(result, tuple) else (result,)
    out = []
    for r in result:
        if isinstance(r, list):  # a list's gradient: one per float
            r = [v.detach().numpy() if hasattr(v, "detach") else v for v in r]
        if hasattr(r, "detach"):  # a torch tensor
            r = r.detach().numpy()
        out.append(np.asarray(r, dtype=np.float64))
    return tuple(out)
