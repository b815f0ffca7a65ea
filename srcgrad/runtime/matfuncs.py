"""Run-time helpers for ``scipy.linalg``'s matrix functions and ``scipy.signal.convolve``:
adjoints and tangents that are more than an expression. Public and stable.

Generated code calls them where it differentiates ``scipy.linalg.expm``,
``scipy.linalg.solve_triangular`` or ``scipy.signal.convolve``
(``srcgrad.rules.scipy_linalg``). SciPy is imported when one is called (it is then
installed: the code being differentiated calls it), never by importing this module.

- ``expm_frechet(a, e)``: the Fréchet derivative of expm at ``a`` along ``e``, the
  upper-right block of ``expm([[a, e], [0, a]])``; ``expm_frechet2(a, e, f)`` its
  derivative in ``a`` along ``f``, the corner block of the 4-block upper triangular
  matrix with ``a`` on its diagonal, ``e`` and ``f`` above it. Both take stacks of
  matrices (..., n, n).
- ``transposed(trans)``: whether ``solve_triangular``'s ``trans`` (0, 1, 2, 'N', 'T',
  'C') solves with the transpose (real matrices: 'C' is 'T').
- ``cho_pair(c)``: ``[c, 0.0]``, the adjoint or tangent of ``cho_factor``'s pair
  ``(c, lower)`` given that of ``c`` (the flag has none).
- ``conv_grad1(c, in1, in2, mode)`` and ``conv_grad2(c, in1, in2, mode)``: the adjoints
  of ``convolve(in1, in2, mode)`` in ``in1`` and in ``in2``: ``c`` is placed in the
  'full' output (where the mode's output sits in it) and correlated with the other
  input. Each is linear in ``c`` and in the other input; the own input gives a shape.

Contract (that of ``srcgrad.runtime``): plain functions of NumPy values, with no srcgrad
state and no side effect on their arguments; names, parameters and results are stable.
``__all__`` lists the functions generated code may call.
"""

from __future__ import annotations

import numpy as np

__all__ = ["cho_pair", "conv_grad1", "conv_grad2", "expm_frechet", "expm_frechet2",
           "transposed"]


def _blocks(rows: list[list]) -> np.ndarray:
    return np.concatenate([np.concatenate(r, axis=-1) for r in rows], axis=-2)


def expm_frechet(a, e):
    """The Fréchet derivative of expm at ``a`` along ``e`` (stacks of matrices)."""
    from scipy.linalg import expm
    a, e = np.broadcast_arrays(np.asarray(a), np.asarray(e))
    n = a.shape[-1]
    z = np.zeros_like(a)
    return expm(_blocks([[a, e], [z, a]]))[..., :n, n:]


def expm_frechet2(a, e, f):
    """The derivative of ``expm_frechet(a, e)`` in ``a`` along ``f``."""
    from scipy.linalg import expm
    a, e, f = np.broadcast_arrays(np.asarray(a), np.asarray(e), np.asarray(f))
    n = a.shape[-1]
    z = np.zeros_like(a)
    big = _blocks([[a, e, f, z], [z, a, z, f], [z, z, a, e], [z, z, z, a]])
    return expm(big)[..., :n, 3 * n:]


def transposed(trans) -> bool:
    """Whether solve_triangular's ``trans`` solves with the transpose."""
    if trans in (0, "N", "n"):
        return False
    if trans in (1, 2, "T", "C", "t", "c"):
        return True
    raise ValueError(f"solve_triangular: trans={trans!r} is not one of 0, 1, 2, 'N', 'T', 'C'")


def _full(g, in1, in2, mode):
    """g placed where ``convolve(in1, in2, mode)``'s output sits in the 'full' output."""
    s1, s2 = np.shape(in1), np.shape(in2)
    full = tuple(a + b - 1 for a, b in zip(s1, s2))
    if mode == "full":
        return np.asarray(g)
    if mode == "same":
        start = tuple((f - a) // 2 for f, a in zip(full, s1))
    elif mode == "valid":
        start = tuple(min(a, b) - 1 for a, b in zip(s1, s2))
    else:
        raise ValueError(f"convolve: mode={mode!r} is not 'full', 'valid' or 'same'")
    out = np.zeros(full, dtype=np.result_type(g, in1, in2))
    out[tuple(slice(s, s + n) for s, n in zip(start, np.shape(g)))] = g
    return out


def conv_grad1(c, in1, in2, mode):
    """The adjoint of ``convolve(in1, in2, mode)`` in ``in1``, given ``c``."""
    from scipy.signal import correlate
    return correlate(_full(c, in1, in2, mode), in2, "valid")


def conv_grad2(c, in1, in2, mode):
    """The adjoint of ``convolve(in1, in2, mode)`` in ``in2``, given ``c``."""
    from scipy.signal import correlate
    return correlate(_full(c, in1, in2, mode), in1, "valid")


def cho_pair(c):
    """``[c, 0]``: the adjoint or tangent of cho_factor's pair ``(c, lower)``."""
    return [np.array(c, copy=True), np.zeros((), dtype=np.result_type(c, np.float32))]
