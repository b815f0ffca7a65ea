"""The backend stage: IR to Python source.

``emit`` prints an ``ir.Function`` as a Python function; ``namespace`` collects the
module-level names that function reads (the namespace it runs in); ``storage`` decides
which values share a name and a buffer; ``verify`` checks that the printed code never
writes a buffer another live name still reads; ``module`` writes the header (imports,
constants) that makes the shown code a runnable module.
"""

from .emit import Emitted, emit
from .module import header

__all__ = ["Emitted", "emit", "header"]
