"""Run-time helpers for ``numpy.fft``: the adjoints of the discrete Fourier transforms.
Public and stable.

``<fn>_grad(g, a, ...)`` is the adjoint contribution to ``a`` of ``np.fft.<fn>(a, ...)``
(the 2-d and n-d forms share ``fftn_grad``... with their ``s`` and ``axes``), given the
output's adjoint ``g``. The convention is JAX's: a cotangent pairs with a tangent through
the bilinear real pairing ``<g, t> = Re(sum(g * t))`` (no conjugation), so the adjoint of
a complex-linear map ``L`` is its plain transpose ``L^T``. The DFT matrix ``F`` and its
inverse are symmetric: the transpose of ``fft`` is ``fft`` and that of ``ifft`` is
``ifft``, with the same ``norm`` (a scale transposes to itself); the zero-padding or
truncation to ``n`` transposes to truncation or zero-padding back to ``a``'s length.
``rfft`` is the first ``n // 2 + 1`` rows of ``F``: its transpose pads ``g`` to ``n``
before the ``fft``. ``irfft`` is real-linear, not complex-linear: with the weights
``w = (1, 2, ..., 2, 1 if n is even)``, ``irfft(a)[j] = Re(sum_k w_k a_k e^(2 pi i jk/n))
* scale``, so its adjoint is ``w * conj(rfft(g))`` scaled the same way (the imaginary
parts of the zero and Nyquist entries, which ``irfft`` ignores, get none); ``hfft`` and
``ihfft`` are ``irfft`` and ``rfft`` with conjugations (conj is its own transpose). An ``a`` that
is real gets the real part (the pairing with a real tangent reads nothing else). The
n-d transforms are 1-d transforms applied in NumPy's order; their adjoint applies the
1-d adjoints in the reverse order.

Every helper is real-linear in ``g``; its own transpose is the primitive (``fft_grad``'s
is ``np.fft.fft(g, n, axis, norm)``), which is what second order uses.

Contract (that of ``srcgrad.runtime``): plain functions of NumPy values, with no srcgrad
state and no side effect on their arguments; none returns a view of its argument.
``__all__`` lists the functions generated code may call. The float type is NumPy's:
the transforms of float32 and complex64 values are complex64, and so are the adjoints.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = [
    "fft_grad", "fftn_grad", "hfft_grad", "ifft_grad", "ifftn_grad", "ihfft_grad",
    "irfft_grad", "irfftn_grad", "rfft_grad", "rfftn_grad",
]

# One 1-d transform of an n-d one: (kind, n, axis, the input's length along axis).
_Step = tuple[str, int, int, int]


def fft_grad(g: Any, a: Any, n: Any = None, axis: int = -1, norm: Any = None) -> Any:
    """Adjoint of ``np.fft.fft(a, n, axis, norm)`` in ``a``: ``fft(g)``, fitted to ``a``."""
    return _apply(g, a, _steps1("fft", a, n, axis), norm)


def ifft_grad(g: Any, a: Any, n: Any = None, axis: int = -1, norm: Any = None) -> Any:
    """Adjoint of ``np.fft.ifft(a, n, axis, norm)`` in ``a``: ``ifft(g)``, fitted to ``a``."""
    return _apply(g, a, _steps1("ifft", a, n, axis), norm)


def rfft_grad(g: Any, a: Any, n: Any = None, axis: int = -1, norm: Any = None) -> Any:
    """Adjoint of ``np.fft.rfft(a, n, axis, norm)`` in ``a``: the real part of ``fft(g, n)``."""
    return _apply(g, a, _steps1("rfft", a, n, axis), norm)


def irfft_grad(g: Any, a: Any, n: Any = None, axis: int = -1, norm: Any = None) -> Any:
    """Adjoint of ``np.fft.irfft(a, n, axis, norm)`` in ``a``: ``w * conj(rfft(g))``, scaled."""
    if n is None:
        n = 2 * (np.shape(a)[axis] - 1)
    return _apply(g, a, _steps1("irfft", a, n, axis), norm)


def hfft_grad(g: Any, a: Any, n: Any = None, axis: int = -1, norm: Any = None) -> Any:
    """Adjoint of ``np.fft.hfft(a, n, axis, norm)`` in ``a``: NumPy's ``hfft`` is
    ``irfft(conj(a))`` with the direction of ``norm`` swapped, and conj is its own
    transpose under the pairing."""
    return np.conj(irfft_grad(g, np.conj(a), n, axis, _swap(norm)))


def ihfft_grad(g: Any, a: Any, n: Any = None, axis: int = -1, norm: Any = None) -> Any:
    """Adjoint of ``np.fft.ihfft(a, n, axis, norm)`` in ``a``: NumPy's ``ihfft`` is
    ``conj(rfft(a))`` with the direction of ``norm`` swapped."""
    return rfft_grad(np.conj(g), a, n, axis, _swap(norm))


def fftn_grad(g: Any, a: Any, s: Any = None, axes: Any = None, norm: Any = None) -> Any:
    """Adjoint of ``np.fft.fftn(a, s, axes, norm)`` (and ``fft2``) in ``a``."""
    return _apply(g, a, _stepsn("fft", np.shape(a), s, axes), norm)


def ifftn_grad(g: Any, a: Any, s: Any = None, axes: Any = None, norm: Any = None) -> Any:
    """Adjoint of ``np.fft.ifftn(a, s, axes, norm)`` (and ``ifft2``) in ``a``."""
    return _apply(g, a, _stepsn("ifft", np.shape(a), s, axes), norm)


def rfftn_grad(g: Any, a: Any, s: Any = None, axes: Any = None, norm: Any = None) -> Any:
    """Adjoint of ``np.fft.rfftn(a, s, axes, norm)`` (and ``rfft2``) in ``a``."""
    return _apply(g, a, _stepsn("rfft", np.shape(a), s, axes), norm)


def irfftn_grad(g: Any, a: Any, s: Any = None, axes: Any = None, norm: Any = None) -> Any:
    """Adjoint of ``np.fft.irfftn(a, s, axes, norm)`` (and ``irfft2``) in ``a``."""
    return _apply(g, a, _stepsn("irfft", np.shape(a), s, axes), norm)


# ---- the transforms as 1-d steps -----------------------------------------------------

def _steps1(kind: str, a: Any, n: Any, axis: int) -> list[_Step]:
    shape = np.shape(a)
    axis = _axis(axis, len(shape))
    return [(kind, shape[axis] if n is None else int(n), axis, shape[axis])]


def _stepsn(kind: str, shape: tuple[int, ...], s: Any, axes: Any) -> list[_Step]:
    """The 1-d transforms NumPy's ``<kind>n`` applies, in its order (numpy.fft's
    ``_cook_nd_args``: ``s`` defaults to the shape along ``axes``, ``axes`` to the last
    ``len(s)`` axes, an ``s[i]`` of -1 to the whole axis, of None (deprecated) to the
    1-d transform's default; ``irfftn``'s last length to ``2 * (m - 1)``)."""
    ndim = len(shape)
    given = s is not None
    if axes is None:
        axes = list(range(-len(s), 0)) if given else list(range(ndim))
    axes = [_axis(ax, ndim) for ax in axes]
    sizes = list(s) if given else [shape[ax] for ax in axes]
    if kind == "irfft" and not given:
        sizes[-1] = 2 * (shape[axes[-1]] - 1)
    # (-1: the whole axis as given; None, deprecated: the 1-d default, at its turn)
    sizes = [shape[ax] if k is not None and k == -1 else k for k, ax in zip(sizes, axes)]
    if kind == "fft" or kind == "ifft":  # the last axis first
        order = [(kind, sizes[i], axes[i]) for i in reversed(range(len(axes)))]
    elif kind == "rfft":
        order = [("rfft", sizes[-1], axes[-1])]
        order += [("fft", sizes[i], axes[i]) for i in reversed(range(len(axes) - 1))]
    else:
        order = [("ifft", sizes[i], axes[i]) for i in range(len(axes) - 1)]
        order.append(("irfft", sizes[-1], axes[-1]))
    current = list(shape)
    steps: list[_Step] = []
    for k, size, ax in order:
        if size is None:
            size = 2 * (current[ax] - 1) if k == "irfft" else current[ax]
        steps.append((k, int(size), ax, current[ax]))
        current[ax] = int(size) // 2 + 1 if k == "rfft" else int(size)
    return steps


def _axis(axis: int, ndim: int) -> int:
    axis = int(axis)
    return axis + ndim if axis < 0 else axis


# ---- the adjoints ----------------------------------------------------------------------

def _apply(g: Any, a: Any, steps: list[_Step], norm: Any) -> Any:
    """The transposes of ``steps`` applied to ``g``, last step first; the real part for a
    real ``a``."""
    out = np.asarray(g)
    for kind, n, axis, length in reversed(steps):
        out = _fit(_transpose(kind, out, n, axis, norm), length, axis)
    if not np.iscomplexobj(a):
        out = np.real(out)
    return np.array(out, copy=True) if np.shares_memory(out, g) else out


def _transpose(kind: str, g: Any, n: int, axis: int, norm: Any) -> Any:
    """The transpose of one 1-d transform of length ``n`` applied to ``g``, before the
    fitting back to the input's length."""
    if kind == "fft":
        return np.fft.fft(g, axis=axis, norm=norm)
    if kind == "ifft":
        return np.fft.ifft(g, axis=axis, norm=norm)
    if kind == "rfft":  # (g pads to n: the rows rfft drops)
        return np.fft.fft(g, n=n, axis=axis, norm=norm)
    # irfft, seen from its real output: the pairing reads the real part of g. conj(rfft)
    # is the transform with e^(+2 pi i jk/n); the forward scale of irfft is rfft's with
    # the direction swapped.
    spectrum = np.conj(np.fft.rfft(np.real(g), n=n, axis=axis, norm=_swap(norm)))
    weights = np.full(n // 2 + 1, 2.0, dtype=spectrum.real.dtype)
    weights[0] = 1.0
    if n % 2 == 0:
        weights[-1] = 1.0
    shape = [1] * spectrum.ndim
    shape[axis] = n // 2 + 1
    return spectrum * np.reshape(weights, shape)


def _swap(norm: Any) -> Any:
    return {None: "forward", "backward": "forward", "ortho": "ortho",
            "forward": "backward"}[norm]


def _fit(x: Any, length: int, axis: int) -> Any:
    """``x`` truncated or zero-padded to ``length`` along ``axis`` (the transpose of the
    padding or truncation a transform's ``n`` makes)."""
    have = x.shape[axis]
    if have > length:
        index = [slice(None)] * x.ndim
        index[axis] = slice(0, length)
        return x[tuple(index)]
    if have < length:
        pad = [(0, 0)] * x.ndim
        pad[axis] = (0, length - have)
        return np.pad(x, pad)
    return x
