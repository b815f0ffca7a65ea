"""Errors raised by srcgrad, and the located diagnostics they print.

Contract: every error srcgrad lets reach a user is a ``SrcgradError``. Errors
about the user's code carry a ``Loc`` and format as a single paragraph::

    path:line:col: message
        the user's source line
        ^
    what to do instead

Internal exceptions (KeyError, AttributeError, ...) never escape the public
API; the driver converts anything unexpected into ``InternalError`` naming the
user location it was working on.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Loc:
    """A position in the user's source: 1-based line, 0-based column (as in ast)."""

    file: str
    line: int
    col: int
    text: str = ""  # the whole source line, for the caret display

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col + 1}"


class SrcgradError(Exception):
    """Base class of every error srcgrad raises on purpose."""

    hint = ""

    def __init__(self, message: str, loc: Loc | None = None, hint: str | None = None):
        self.message = message
        self.loc = loc
        if hint is not None:
            self.hint = hint
        super().__init__(self.render())

    def render(self) -> str:
        head = f"{self.loc}: {self.message}" if self.loc else self.message
        parts = [head]
        if self.loc and self.loc.text:
            line = self.loc.text.rstrip("\n")
            stripped = line.lstrip()
            indent = len(line) - len(stripped)
            parts.append("    " + stripped)
            parts.append("    " + " " * max(self.loc.col - indent, 0) + "^")
        if self.hint:
            parts.append(self.hint)
        return "\n".join(parts)


class ZeroGradientWarning(UserWarning):
    """A differentiated value flows through a step function (round, floor, sign, an
    argmax used as a number): its derivative there is zero almost everywhere, so the
    gradient along that path is exactly 0. Raised once per location."""

    hint = ("Its derivative is 0 wherever it is defined, so no gradient flows through "
            "it. If that is intended, write srcgrad.stop_gradient(...) around its argument.")

    def __init__(self, message: str, loc: Loc):
        self.loc = loc
        super().__init__(SrcgradError(message, loc, self.hint).render())


class SourceUnavailable(SrcgradError):
    hint = (
        "srcgrad reads the function's source file; define the function in a .py file "
        "(not at an interactive prompt or through exec) and import it."
    )


class UnsupportedSyntax(SrcgradError):
    hint = "Rewrite this part with supported constructs (see the README's status section)."


class NoDerivativeRule(SrcgradError):
    hint = ("srcgrad knows the derivatives listed in the README's status section; for another "
            "function, declare its derivative with srcgrad.defpartials or srcgrad.defvjp, or "
            "mark it with srcgrad.nondiff.")


class NonScalarOutput(SrcgradError):
    hint = "grad needs a scalar output; use srcgrad.vjp(f, *args) for array outputs."


class NameResolutionError(SrcgradError):
    hint = "Every name the function uses must be a parameter, a local, or a global/closure value."


class UsageError(SrcgradError):
    """Wrong use of the public API (bad wrt, wrong number of arguments...)."""


class InternalError(SrcgradError):
    hint = "This is a bug in srcgrad; please report it with the function that triggered it."
