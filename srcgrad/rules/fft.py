"""Rules for ``numpy.fft``: the discrete Fourier transforms and the shifts.

Every one is (real-)linear in its array: forward mode applies the transform to the
tangent (``linear=True``; ``irfft`` of a complex tangent too, since it is the map
itself); reverse mode applies its transpose under the bilinear pairing
``Re(sum(g * t))`` (JAX's convention), ``srcgrad.runtime.fft``'s helpers (their
docstrings derive them). ``n``, ``axis``, ``s``, ``axes`` and ``norm`` are constant. The
results of ``fft``, ``ifft``, ``rfft``, ``ihfft`` and their n-d forms are complex for a
real input (``dtype="complex"``), those of ``irfft``, ``irfftn`` and ``hfft`` real
(``"real"``); a shift is complex when its input is. ``out=`` and ``device=`` are in no
signature, so a call with them is refused where it is written. ``fftfreq`` and
``rfftfreq`` are differentiable in the spacing ``d``.

``helper_table`` gives the helpers their own rules, for second order: each helper is
real-linear in the adjoint it transforms, and its transpose is the primitive itself
(``fft_grad``'s is ``np.fft.fft`` with the same ``n``, ``axis`` and ``norm``), so forward
mode over a gradient applies the helper to the tangent and reverse mode over a gradient
applies the primitive.
"""

from typing import Any

import numpy as np

from ..runtime import fft
from .registry import Table, exported

table = Table({"np": np, **exported(fft)})
helper_table = Table({"np": np, **exported(fft)})

_COMPLEX: dict[str, Any] = {"linear": True, "complex": True}
ONE = "a, n=None, axis=-1, norm=None"
ONE_ARGS = "n, axis, norm"
ND = "a, s=None, axes=None, norm=None"
TWO = "a, s=None, axes=(-2, -1), norm=None"
ND_ARGS = "s, axes, norm"

for _fn, _params, _args, _helper, _dtype in (
        (np.fft.fft, ONE, ONE_ARGS, "fft_grad", "complex"),
        (np.fft.ifft, ONE, ONE_ARGS, "ifft_grad", "complex"),
        (np.fft.rfft, ONE, ONE_ARGS, "rfft_grad", "complex"),
        (np.fft.irfft, ONE, ONE_ARGS, "irfft_grad", "real"),
        (np.fft.hfft, ONE, ONE_ARGS, "hfft_grad", "real"),
        (np.fft.ihfft, ONE, ONE_ARGS, "ihfft_grad", "complex"),
        (np.fft.fftn, ND, ND_ARGS, "fftn_grad", "complex"),
        (np.fft.ifftn, ND, ND_ARGS, "ifftn_grad", "complex"),
        (np.fft.rfftn, ND, ND_ARGS, "rfftn_grad", "complex"),
        (np.fft.irfftn, ND, ND_ARGS, "irfftn_grad", "real"),
        (np.fft.fft2, TWO, ND_ARGS, "fftn_grad", "complex"),
        (np.fft.ifft2, TWO, ND_ARGS, "ifftn_grad", "complex"),
        (np.fft.rfft2, TWO, ND_ARGS, "rfftn_grad", "complex"),
        (np.fft.irfft2, TWO, ND_ARGS, "irfftn_grad", "real")):
    table.vjp(_fn, _params, a=f"{_helper}(g, a, {_args})", dtype=_dtype, **_COMPLEX)

# The shifts are permutations: each one's transpose is its inverse, the other shift.
table.vjp(np.fft.fftshift, "x, axes=None", x="np.fft.ifftshift(g, axes)", **_COMPLEX)
table.vjp(np.fft.ifftshift, "x, axes=None", x="np.fft.fftshift(g, axes)", **_COMPLEX)

# The sample frequencies k / (n d): the spacing d scales them (n is an integer).
for _freq in (np.fft.fftfreq, np.fft.rfftfreq):
    table.vjp(_freq, "n, d=1.0", d="-np.sum(g * ans) / d", jvp_d="-ans / d * dot")

# ---- the helpers, for second order ------------------------------------------------------
# Linear in the adjoint c; a gives only a shape and whether it is real (zero derivative).
for _helper_fn, _prim, _args in (
        (fft.fft_grad, "fft", ONE_ARGS), (fft.ifft_grad, "ifft", ONE_ARGS),
        (fft.rfft_grad, "rfft", ONE_ARGS), (fft.irfft_grad, "irfft", ONE_ARGS),
        (fft.hfft_grad, "hfft", ONE_ARGS), (fft.ihfft_grad, "ihfft", ONE_ARGS),
        (fft.fftn_grad, "fftn", ND_ARGS), (fft.ifftn_grad, "ifftn", ND_ARGS),
        (fft.rfftn_grad, "rfftn", ND_ARGS), (fft.irfftn_grad, "irfftn", ND_ARGS)):
    helper_table.vjp(_helper_fn, f"c, a, {_args}", c=f"np.fft.{_prim}(g, {_args})",
                     zero=("a",), **_COMPLEX)
