"""Lowering of ``assert`` and of ``with`` over known no-op numeric contexts (frontend).

Contract, on top of ``lower.py``'s:

- ``assert cond`` / ``assert cond, "message"`` becomes one ``assert`` statement of
  the IR (args: the condition, and the message when given): a check
  (``ir.is_check``), kept by dead-code elimination in every derivative, never
  differentiated, emitted as the same ``assert`` at the place of the forward
  sweep where the user wrote it (so ``python -O`` drops it, as it drops the
  user's). The message must be a constant string: Python evaluates it only when
  the check fails, an expression there would run on every call.
- ``with`` over a context of ``NO_OP_CONTEXTS`` (``np.errstate``,
  ``np.printoptions``, ``warnings.catch_warnings``): the body is lowered as if
  the ``with`` were not there, and the generated code does not enter the
  context. These contexts change only which warnings are shown and how arrays
  print, never a number; so the derivative computes what the function computes
  (it may show a floating-point ``RuntimeWarning`` the context silenced). An
  ``np.errstate`` that turns a floating-point condition into an error
  (``"raise"``, ``"call"``) changes what the function does and is refused, as is
  ``with ... as name`` and every other context manager. Inside
  ``warnings.catch_warnings()``, ``warnings.simplefilter(...)`` and
  ``warnings.filterwarnings(...)`` statements are dropped with it.
- ``REFUSED``: statements refused with what to write instead (``try``, ``global``,
  ``del``, ``match``, ``raise``...); ``refuse_generators``: a ``yield`` anywhere in
  a body, nested defs included.

These functions receive the lowering core; they read ``state.env`` only through
it and append to ``state.body`` (``state.emit``).
"""

from __future__ import annotations

import warnings

import gast
import numpy as np

from .. import ir
from . import names
from .state import Core

# Contexts whose body is lowered as if the ``with`` were not there (see above).
NO_OP_CONTEXTS = (np.errstate, np.printoptions, warnings.catch_warnings)
# Calls that only set warning filters: dropped inside ``warnings.catch_warnings()``.
_FILTERS = (warnings.simplefilter, warnings.filterwarnings)
_ERRSTATE_OK = frozenset({"ignore", "warn", "print", "log"})
_WITH_HINT = ("Move the code that needs this context out of the differentiated "
              "function; inside it, only `with np.errstate(...)`, "
              "`with np.printoptions(...)` and `with warnings.catch_warnings():` are "
              "accepted (and dropped: they change no number).")


def assert_(core: Core, node: gast.Assert) -> None:
    """``assert cond, "message"``: checked where the forward sweep reaches it."""
    state = core.state
    cond = core.value(node.test)
    args = [cond]
    if node.msg is not None:
        msg = node.msg
        if not (isinstance(msg, gast.Constant) and isinstance(msg.value, str)):
            raise state.unsupported(msg, "the message of an assert must be a constant "
                                    "string here",
                                    'Write assert cond, "what went wrong" (no f-string or '
                                    "expression).")
        args.append(ir.Const(msg.value))
    state.emit(state.temp(), "assert", args, node)


def with_(core: Core, node: gast.With) -> None:
    """``with`` over a no-op numeric context: the body alone (see the module docstring)."""
    state = core.state
    filters = False
    for item in node.items:
        context = _context(core, item.context_expr)
        if item.optional_vars is not None:
            raise state.unsupported(item.optional_vars, "`with ... as name` is not "
                                    "supported in a differentiated function",
                                    "Drop `as ...`: what the context gives cannot be used "
                                    "in a differentiated function.")
        if context is np.errstate:
            _check_errstate(core, item.context_expr)
        filters |= context is warnings.catch_warnings
    for s in node.body:
        if state.terminated:
            raise state.unsupported(s, "code after return is not supported")
        if filters and _is_filter(core, s):
            continue
        core.stmt(s)


def _context(core: Core, expr: gast.expr) -> object:
    """The known context ``expr`` makes, or a located refusal."""
    state = core.state
    dotted = names.dotted(expr.func) if isinstance(expr, gast.Call) else None
    if dotted is not None and dotted[0] not in state.env:
        obj, _ = names.resolve(state, dotted, expr)
        if any(obj is c for c in NO_OP_CONTEXTS):
            return obj
    raise state.unsupported(expr, "this context manager is not supported in a "
                            "differentiated function", _WITH_HINT)


def _check_errstate(core: Core, call: gast.Call) -> None:
    """``np.errstate`` with constant settings that only change warnings."""
    for arg in [*call.args, *call.keywords]:
        value = arg.value if isinstance(arg, gast.keyword) else arg
        if not (isinstance(arg, gast.keyword) and isinstance(value, gast.Constant)
                and value.value in _ERRSTATE_OK):
            raise core.state.unsupported(
                value, "np.errstate is accepted here only with constant \"ignore\", "
                "\"warn\", \"print\" or \"log\" settings (srcgrad drops the context, which "
                "would drop an error it raises)",
                "Check the condition explicitly (e.g. assert np.all(x > 0)) instead of "
                "np.errstate(...=\"raise\").")


def _is_filter(core: Core, s: gast.stmt) -> bool:
    """``warnings.simplefilter(...)`` or ``warnings.filterwarnings(...)`` as a statement."""
    if not (isinstance(s, gast.Expr) and isinstance(s.value, gast.Call)):
        return False
    dotted = names.dotted(s.value.func)
    if dotted is None or dotted[0] in core.state.env:
        return False
    obj, _ = names.resolve(core.state, dotted, s.value)
    return any(obj is f for f in _FILTERS)


# Refused statements, each with what to write instead (the syntax fence's rows).
REFUSED = {
    gast.Try: ("try/except is not supported in a differentiated function: the derivative "
               "cannot follow an exception",
               "Test for the case before the operation (if ..., np.where(...)) instead of "
               "catching its error; keep the try around the call of the derivative."),
    gast.AsyncFunctionDef: ("an async def is not supported in a differentiated function",
                            "Write a plain def (inlined where it is called)."),
    gast.Global: ("a global declaration is not supported in a differentiated function "
                  "(it is needed only to assign a module-level name)",
                  "Read module-level values without `global`; return a new value instead "
                  "of assigning a global one."),
    gast.Nonlocal: ("a nonlocal declaration is not supported in a differentiated function "
                    "(it is needed only to assign an enclosing function's name)",
                    "Return the new value from the inner function and assign it in the "
                    "outer one."),
    gast.Delete: ("del is not supported in a differentiated function",
                  "Remove the del: a value no longer used is dropped anyway; assign the "
                  "name a new value if it must change."),
    gast.Match: ("match is not supported in a differentiated function",
                 "Write the cases as if/elif/else."),
    gast.Raise: ("raise is not supported in a differentiated function",
                 'Check with assert cond, "message" (checked in the derivative too), or '
                 "check the arguments before calling the derivative."),
}


REFUSED[gast.TryStar] = REFUSED[gast.Try]


def refuse(core: Core, node: gast.stmt) -> None:
    """A statement of ``REFUSED``: its located error, with what to write instead."""
    what, hint = REFUSED[type(node)]
    raise core.state.unsupported(node, what, hint)


def refuse_generators(stmts: list, refuse_at) -> None:
    """A ``yield`` anywhere in ``stmts`` (nested defs too): the located refusal."""
    for s in stmts:
        for n in gast.walk(s):
            if isinstance(n, (gast.Yield, gast.YieldFrom)):
                raise refuse_at(n, "yield makes a generator, and generators are not "
                                "supported in a differentiated function",
                                "Build a list instead (xs = [], then xs.append(v)) and "
                                "return it or its sum, or compute the value directly.")
