"""The IR stage: the SSA intermediate representation every other stage reads and writes.

``nodes`` holds the node types, the printer and ``verify``; ``naming`` the names of IR
values (shared by the frontend, the transforms and the backend); ``aliases`` the
in-place hazards lowering records and the transforms check. Other stages import from
here, never from the modules.
"""

from .aliases import HAZARDS, check_inplace, hazard_key
from .naming import ADJOINT_SUFFIX, Namer, adjoint_name
from .nodes import (
    ATTRIBUTES,
    BINARY,
    CHECKS,
    COMPARE,
    OPERATORS,
    SYMBOLS,
    UNARY,
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
    may_share_first,
    node_defs,
    node_uses,
    verify,
    walk,
)

__all__ = [
    "ADJOINT_SUFFIX", "ATTRIBUTES", "BINARY", "CHECKS", "COMPARE", "HAZARDS", "OPERATORS",
    "SYMBOLS", "UNARY", "Callee", "Const", "Function", "If", "Loop", "Namer", "Node", "Operand",
    "Phi", "Stmt", "Var", "adjoint_name", "check_inplace", "clone", "fold", "hazard_key",
    "is_check", "is_number", "may_share_first", "node_defs", "node_uses", "verify", "walk",
]
