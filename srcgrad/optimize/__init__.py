"""The optimize stage: IR to equivalent, cheaper IR.

``passes`` names the passes (``PASSES``, each one can be disabled) and runs them
(``optimize`` on a derivative, ``simplify_primal`` on a primal); ``simplify`` holds the
rewriting passes (constant folding, copy propagation, common subexpressions).
"""

from .passes import PASSES, PRIMAL_PASSES, dead_code, optimize, prune_tape, simplify_primal

__all__ = ["PASSES", "PRIMAL_PASSES", "dead_code", "optimize", "prune_tape", "simplify_primal"]
