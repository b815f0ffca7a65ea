"""srcgrad: source-to-source automatic differentiation for Python and NumPy.

The public names; docs/guide.md is the user's guide to them.
"""

from .api import (
    derivative_ir,
    derivative_source,
    export,
    grad,
    hessian,
    hvp,
    jacobian,
    jvp,
    value_and_grad,
    vjp,
)
from .custom import defpartials, defvjp, nondiff, primitive, stop_gradient
from .errors import (
    InternalError,
    NameResolutionError,
    NoDerivativeRule,
    NonScalarOutput,
    SourceUnavailable,
    SrcgradError,
    SrcgradWarning,
    UndefinedDerivativeWarning,
    UnsupportedSyntax,
    UsageError,
    ZeroGradientWarning,
)
from .gradcheck import GradientMismatch, check_grad
from .graphs import graph
from .loops import checkpointed
from .pytrees import register_class

__version__ = "0.1.0"

__all__ = [
    "GradientMismatch",
    "InternalError",
    "NameResolutionError",
    "NoDerivativeRule",
    "NonScalarOutput",
    "SourceUnavailable",
    "SrcgradError",
    "SrcgradWarning",
    "ZeroGradientWarning",
    "UndefinedDerivativeWarning",
    "UnsupportedSyntax",
    "UsageError",
    "check_grad",
    "checkpointed",
    "defpartials",
    "defvjp",
    "nondiff",
    "primitive",
    "register_class",
    "stop_gradient",
    "derivative_ir",
    "derivative_source",
    "export",
    "grad",
    "graph",
    "hessian",
    "hvp",
    "jacobian",
    "jvp",
    "value_and_grad",
    "vjp",
]
