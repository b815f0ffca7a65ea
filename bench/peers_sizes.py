"""The peers' versions of ``workloads_sizes.py``'s workloads, in ``peers.py``'s style
(``peers._functions`` merges them in; nothing here imports a peer before it is used).

- Workloads that share a primal share its version: ``ALIASES`` maps their keys to it
  (the three tanh(A @ x) sizes, the small softmax).
- The per-example loss is the gradient of one example; the workload's driver (the
  user's loop over examples) wraps every library's gradient alike.
- Soft-DTW fills its table in place; as in ``peers.py``, the eager peers keep a dict
  of cells instead; JAX eager's is written but skipped (``SKIPS``: too slow to run).
  Under ``jax.jit`` a JAX user writes the table as an array updated with
  ``.at[].set`` in a ``lax.fori_loop`` over the cells (an unrolled Python loop of
  2,500 cells would take minutes to compile, as CKY's does).
- The list recurrence takes a list of floats; under ``jax.jit`` the list is stacked
  and walked with ``lax.fori_loop`` (the gradient is still a list).
"""

from __future__ import annotations

# (peer, key) -> why that version is not run
SKIPS = {("jax", "soft_dtw"): "2,500 cells of eager dispatch: measured 15.5 s a call, 149 s "
                              "for the first; would triple the bench's run (the jit one runs)"}

ALIASES = {"tanh_mv_10": "tanh_mv", "tanh_mv_100": "tanh_mv", "tanh_mv_1000": "tanh_mv",
           "softmax_small": "softmax"}


def _eager(np_like, stack) -> dict:
    """The eager versions, for a NumPy-like module (autograd.numpy, jax.numpy, torch)
    whose names used here agree; ``stack`` makes a 1-d array of three scalars."""

    def tanh_mv(A, x):
        return np_like.sum(np_like.tanh(A @ x))

    def per_example(w, x, y):
        return np_like.log(1.0 + np_like.exp(-y * np_like.dot(w, x)))

    def soft_dtw(x, y, gamma):
        n = x.shape[0]
        m = y.shape[0]
        D = (x[:, None] - y[None, :]) ** 2
        inf = float("inf")
        R = {(0, 0): 0.0}
        for i in range(1, n + 1):
            R[i, 0] = inf
        for j in range(1, m + 1):
            R[0, j] = inf
        for i in range(1, n + 1):
            for j in range(1, m + 1):
                r = -stack([R[i - 1, j - 1], R[i - 1, j], R[i, j - 1]]) / gamma
                mx = np_like.max(r)
                R[i, j] = D[i - 1, j - 1] - gamma * (mx + np_like.log(np_like.sum(
                    np_like.exp(r - mx))))
        return R[n, m]

    def list_rnn(w, x):
        h = 0.0
        for t in range(len(x)):
            h = np_like.tanh(w * h + x[t])
        return h

    return {"tanh_mv": tanh_mv, "per_example": per_example, "soft_dtw": soft_dtw,
            "list_rnn": list_rnn}


def _autograd() -> dict:
    import autograd.numpy as anp

    return _eager(anp, anp.array)


def _jax() -> dict:
    import jax.numpy as jnp

    return _eager(jnp, jnp.array)


def _torch() -> dict:
    import torch

    def stack(cells):
        return torch.stack([c if isinstance(c, torch.Tensor)
                            else torch.tensor(c, dtype=torch.float64) for c in cells])

    functions = _eager(torch, stack)

    def list_rnn(w, x):  # math on a tensor: torch.tanh, on the first step's float too
        h = torch.tensor(0.0, dtype=torch.float64)
        for t in range(len(x)):
            h = torch.tanh(w * h + x[t])
        return h

    functions["list_rnn"] = list_rnn
    return functions


def _jax_jit() -> dict:
    import jax
    import jax.numpy as jnp

    def soft_dtw(x, y, gamma):
        n = x.shape[0]
        m = y.shape[0]
        D = (x[:, None] - y[None, :]) ** 2
        R = jnp.full((n + 1, m + 1), jnp.inf).at[0, 0].set(0.0)

        def cell(k, R):
            i = k // m + 1
            j = k % m + 1
            r = -jnp.stack([R[i - 1, j - 1], R[i - 1, j], R[i, j - 1]]) / gamma
            mx = jnp.max(r)
            return R.at[i, j].set(D[i - 1, j - 1] - gamma * (mx + jnp.log(jnp.sum(
                jnp.exp(r - mx)))))

        return jax.lax.fori_loop(0, n * m, cell, R)[n, m]

    def list_rnn(w, x):
        xs = jnp.stack(x)
        return jax.lax.fori_loop(0, xs.shape[0], lambda t, h: jnp.tanh(w * h + xs[t]), 0.0 * w)

    return {"soft_dtw": soft_dtw, "list_rnn": list_rnn}


def functions(peer: str) -> dict:
    """The new workloads' versions for ``peer``; for "jax.jit", only those that differ
    from the eager JAX ones (which ``peers`` jits)."""
    return {"autograd": _autograd, "jax": _jax, "jax.jit": _jax_jit, "torch": _torch}[peer]()
