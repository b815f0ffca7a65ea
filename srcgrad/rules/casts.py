"""Rules for ``x.astype(dtype)`` (lowered to ``srcgrad.runtime.casts``, see there).

A cast to a float dtype is linear: its tangent is the tangent cast, its adjoint is
``g`` cast back to the input's dtype (float32 in, float32 gradient out). A cast to an
integer or bool dtype is a step function: no derivative, and the step-function
warning when a gradient reaches it, as for ``np.floor``.
"""

from .. import runtime
from ..runtime import casts
from .registry import Table

table = Table({"as_dtype_of": runtime.as_dtype_of})

table.vjp(casts.cast, "x, dtype", result="elementwise", linear=True,
          x="as_dtype_of(g, x)", name="ndarray.astype (float)")
table.nondiff(casts.cast_off, params="x, dtype", result="elementwise", step=True)
