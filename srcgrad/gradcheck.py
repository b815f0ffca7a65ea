"""``check_grad``: srcgrad's gradient against central finite differences, for tests and
for users checking a custom rule (``srcgrad.check_grad``, ``srcgrad.GradientMismatch``).
A structured argument (``pytrees``) is checked leaf by leaf; a mismatch names the leaf
(``layers[0].W``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from . import pytrees
from .api import grad
from .build import _params, _wrt
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
    for i, g_i in zip(indices, analytic):
        worst = max(worst, _check_leaves(f, args, i, g_i, eps, rtol, atol))
    return worst


def _check_leaves(f: Callable[..., Any], args: tuple[Any, ...], i: int, g_i: object,
                  eps: float, rtol: float, atol: float) -> float:
    """Argument ``i``'s gradient ``g_i`` against differences, leaf by leaf for a
    structured argument (``pytrees``: each leaf varied inside the argument)."""
    self_param = _params(f)[i] == "self"
    structure, leaves = pytrees.flatten(args[i], self_param)
    if structure is None:
        return _check_one(f, args, i, g_i, eps, rtol, atol, str(i))
    grads = pytrees.flatten(g_i, self_param)[1]
    paths = pytrees.leaf_paths(structure, leaves, _params(f)[i])
    worst = 0.0
    for k, ((path, _), g) in enumerate(zip(paths, grads)):
        def of_leaf(*a: Any, k: int = k) -> Any:
            new = list(leaves)
            new[k] = a[i]
            return f(*a[:i], pytrees.unflatten(structure, new, args[i]), *a[i + 1:])
        at = (*args[:i], leaves[k], *args[i + 1:])
        worst = max(worst, _check_one(of_leaf, at, i, g, eps, rtol, atol, path, f))
    return worst


def _check_one(f: Callable[..., Any], args: tuple[Any, ...], i: int, g: object, eps: float,
               rtol: float, atol: float, what: str,
               named: Callable[..., Any] | None = None) -> float:
    """``g`` against central differences of ``f`` in ``args[i]``; the largest error."""
    fd = _central_difference(f, args, i, eps)
    g = np.asarray(g, dtype=float)
    if g.shape != fd.shape:
        raise GradientMismatch(f"gradient of argument {what} has shape {g.shape}, "
                               f"expected {fd.shape}")
    err = np.abs(g - fd)
    if not np.all(err <= atol + rtol * np.abs(fd)):
        raise GradientMismatch(f"gradient of argument {what} of {(named or f).__name__}: "
                               f"srcgrad gives {g}, finite differences give {fd}")
    return float(np.max(err, initial=0.0))


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
