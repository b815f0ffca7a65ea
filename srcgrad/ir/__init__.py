"""The IR stage: the SSA intermediate representation every other stage reads and writes.

``nodes`` holds the node types and the printer; ``verify`` the check of their
invariants; ``naming`` the names of IR values (shared by the frontend, the transforms
and the backend); ``aliases`` the calls that may return a view of their argument, and
the in-place hazards lowering records and the transforms check. Other stages import
from here, never from the modules.
"""

from .aliases import HAZARDS, SAME_BUFFER, check_inplace, hazard_key, may_share_first
from .naming import ADJOINT_SUFFIX, Namer, adjoint_name
from .nodes import (
    ATTRIBUTES,
    BINARY,
    CHECKS,
    COMPARE,
    OPERATORS,
    READ_UNBOUND,
    SYMBOLS,
    UNARY,
    UNBOUND,
    Callee,
    Const,
    Function,
    If,
    Loop,
    Node,
    Operand,
    Phi,
    Stmt,
    Var,
    clone,
    fold,
    is_check,
    is_number,
    is_unbound,
    loop_out,
    node_defs,
    node_uses,
    plain_power,
    walk,
)
from .verify import verify

__all__ = [
    "ADJOINT_SUFFIX", "ATTRIBUTES", "BINARY", "CHECKS", "COMPARE", "HAZARDS", "OPERATORS",
    "SAME_BUFFER", "SYMBOLS", "UNARY", "Callee", "Const", "Function", "If", "Loop", "Namer",
    "Node", "Operand", "Phi", "Stmt", "Var", "adjoint_name", "check_inplace", "clone", "fold",
    "hazard_key", "is_check", "is_number", "loop_out", "may_share_first", "node_defs",
    "node_uses", "plain_power", "verify", "walk", "UNBOUND", "READ_UNBOUND", "is_unbound",
]
