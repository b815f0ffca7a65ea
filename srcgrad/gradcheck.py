"""``check_grad``: srcgrad's gradient against central finite differences, for tests and
for users checking a custom rule (``srcgrad.check_grad``, ``srcgrad.GradientMismatch``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .api import grad
from .build import _wrt
from .errors import SrcgradError


class GradientMismatch(SrcgradError):
    hint = "srcgrad's gradient disagrees with finite differences; please report this."


def check_grad(f: Callable[..., Any], *args: object, wrt: object = 0, eps: float = 1e-6,
               rtol: float = 1e-5, atol: float = 1e-7) -> float:
    """Compare ``grad(f, wrt)`` with central finite differences at ``args``.

    Returns the largest absolute difference; raises ``GradientMismatch`` when
    some entry differs by more than ``atol + rtol * |finite difference|``.
    """
    indices, single = _wrt(f, wrt)
    analytic = grad(f, wrt)(*args)
    analytic = (analytic,) if single else analytic
    worst = 0.0
    for i, g in zip(indices, analytic):
        fd = _central_difference(f, args, i, eps)
        g = np.asarray(g, dtype=float)
        if g.shape != fd.shape:
            raise GradientMismatch(f"gradient of argument {i} has shape {g.shape}, "
                                   f"expected {fd.shape}")
        err = np.abs(g - fd)
        worst = max(worst, float(np.max(err, initial=0.0)))
        if not np.all(err <= atol + rtol * np.abs(fd)):
            raise GradientMismatch(f"gradient of argument {i} of {f.__name__}: srcgrad gives "
                                   f"{g}, finite differences give {fd}")
    return worst


def _central_difference(f: Callable[..., Any], args: tuple[Any, ...], i: int, eps: float
                        ) -> np.ndarray:
    x = np.array(args[i], dtype=float)
    out = np.zeros(x.shape)
    for idx in np.ndindex(x.shape):
        plus, minus = x.copy(), x.copy()
        plus[idx] += eps
        minus[idx] -= eps
        as_arg = (lambda v: float(v)) if x.ndim == 0 else (lambda v: v)
        hi = f(*args[:i], as_arg(plus), *args[i + 1:])
        lo = f(*args[:i], as_arg(minus), *args[i + 1:])
        out[idx] = (hi - lo) / (2 * eps)
    return out
