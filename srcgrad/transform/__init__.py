"""The transform stage: IR to derivative IR.

``analysis`` finds each statement's rule, the kinds of values and which are active;
``shapes`` infers shapes from the argument shapes; ``reverse`` builds the gradient
and ``forward`` the tangent. ``reverse`` drives parts that each receive explicitly
what they may touch: the sweep's shared state (``reverse_state``), the core that
emits and sums contributions (``reverse_core``), use counts (``reverse_uses``),
branches and loops (``reverse_flow``), indexing and broadcasting
(``reverse_arrays``), the tape and in-place writes (``reverse_tape``).
"""

from .analysis import ANY, LIST, SCALAR, Analysis, kind_of_value, operand_vars, rule_for
from .checkpointing import check_marks, checkpoint
from .forward import forward
from .reverse import check_writes, reverse
from .shapes import infer as infer_shapes

__all__ = ["ANY", "LIST", "SCALAR", "Analysis", "check_marks", "check_writes", "checkpoint",
           "forward", "infer_shapes", "kind_of_value", "operand_vars", "reverse", "rule_for"]
