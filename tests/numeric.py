"""Reference derivatives from numbers alone: Richardson-extrapolated central differences.

``D(h) = (f(x + h) - f(x - h)) / 2h`` has error ``c h^2 + O(h^4)``, so
``(4 D(h/2) - D(h)) / 3`` cancels the ``h^2`` term; with ``h = 1e-3`` the
truncation error is ~1e-12 times the fifth derivative and the rounding error
~1e-12 / h, far below the tolerances the tests use.
"""

from __future__ import annotations

import numpy as np


def _perturbed(args: tuple, i: int, k, step: float) -> tuple:
    out = list(args)
    if isinstance(args[i], np.ndarray):
        a = np.array(args[i], dtype=float)
        a[k] += step
        out[i] = a
    else:
        out[i] = args[i] + step
    return tuple(out)


def _central(f, args: tuple, i: int, k, h: float) -> float:
    return (np.asarray(f(*_perturbed(args, i, k, h)), dtype=float)
            - np.asarray(f(*_perturbed(args, i, k, -h)), dtype=float)) / (2 * h)


def gradient(f, args: tuple, i: int, h: float = 1e-3):
    """d f / d args[i] (f scalar-valued; args[i] a float or a float array)."""
    if not isinstance(args[i], np.ndarray):
        return float((4 * _central(f, args, i, None, h / 2) - _central(f, args, i, None, h)) / 3)
    g = np.zeros(np.shape(args[i]))
    for k in np.ndindex(g.shape):
        g[k] = (4 * _central(f, args, i, k, h / 2) - _central(f, args, i, k, h)) / 3
    return g


def directional(f, args: tuple, tangents: tuple, h: float = 1e-3):
    """The derivative of ``f`` at ``args`` along ``tangents`` (f may be array-valued)."""
    def along(t):
        return tuple(a + t * v for a, v in zip(args, tangents))

    def d(step):
        return (np.asarray(f(*along(step)), dtype=float)
                - np.asarray(f(*along(-step)), dtype=float)) / (2 * step)

    return (4 * d(h / 2) - d(h)) / 3


def complex_gradient(f, args: tuple, i: int, h: float = 1e-3):
    """The gradient of a real-valued ``f`` in the complex argument ``args[i]``, in the
    convention of JAX and autograd: ``df/dx - 1j * df/dy`` for ``z = x + iy``, each
    partial from Richardson-extrapolated central differences of the real numbers."""
    z = np.asarray(args[i], dtype=complex)

    def part(unit):
        def along(t):
            out = list(args)
            out[i] = z + t * unit
            return f(*out)
        d = [(along(s) - along(-s)) / (2 * s) for s in (h / 2, h)]
        return (4 * d[0] - d[1]) / 3

    g = np.zeros(z.shape, dtype=complex)
    for k in np.ndindex(z.shape):
        e = np.zeros(z.shape)
        e[k] = 1.0
        g[k] = part(e) - 1j * part(1j * e)
    return g if z.ndim else complex(g)


def complex_directional(f, args: tuple, tangents: tuple, h: float = 1e-3):
    """The derivative of ``f`` (complex values allowed) at ``args`` along ``tangents``."""
    def along(t):
        return np.asarray(f(*(a + t * v for a, v in zip(args, tangents))))

    d = [(along(s) - along(-s)) / (2 * s) for s in (h / 2, h)]
    return (4 * d[0] - d[1]) / 3
