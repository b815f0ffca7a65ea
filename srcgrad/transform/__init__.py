"""The transform stage: IR to derivative IR.

``analysis`` finds each statement's rule, the kinds of values and which are active;
``shapes`` infers shapes from the argument shapes; ``reverse`` (with its parts
``reverse_flow``, ``reverse_arrays``, ``reverse_tape``) builds the gradient and
``forward`` the tangent.
"""

from .analysis import ANY, LIST, SCALAR, Analysis, kind_of_value, operand_vars, rule_for
from .forward import forward
from .reverse import check_writes, reverse
from .shapes import infer as infer_shapes

__all__ = ["ANY", "LIST", "SCALAR", "Analysis", "check_writes", "forward", "infer_shapes",
           "kind_of_value", "operand_vars", "reverse", "rule_for"]
