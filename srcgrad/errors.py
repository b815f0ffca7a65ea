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

Every warning srcgrad issues is a ``SrcgradWarning`` (formatted the same way),
issued with ``warn()``: attributed to the user's file, line and module, never
to a line of srcgrad.
"""

from __future__ import annotations

import contextlib
import os
import sys
import types
import warnings
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any


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


class SrcgradWarning(UserWarning):
    """Base class of every warning srcgrad issues. A warning is about the user's code:
    ``loc`` says where, and ``warn()`` issues it as if that line of the user's had
    called ``warnings.warn``: attributed to the user's file, line and module (whose
    ``__warningregistry__`` keeps Python's once-per-location default), so filters by
    module, filename or line, ``-W error`` and IDEs all point at the user's code."""

    hint = ""

    def __init__(self, message: str, loc: Loc):
        self.loc = loc
        super().__init__(SrcgradError(message, loc, self.hint).render())

    def warn(self) -> None:
        """Issue this warning at ``loc``, unless this build already gave it."""
        in_build = _BUILD_WARNED.get()
        if in_build is not None:
            if (type(self), str(self)) in in_build:
                return
            in_build.add((type(self), str(self)))
        name, namespace, registry = _attribution(self.loc.file)
        key = (str(self), type(self), self.loc.line)  # warnings' own registry key
        if _SHOWN_UNDER != warnings.filters:  # the filters changed: Python forgets too
            _SHOWN.clear()
            _SHOWN_UNDER[:] = warnings.filters
        if (self.loc.file, key) in _SHOWN:
            return
        warnings.warn_explicit(self, type(self), self.loc.file, self.loc.line,
                               module=name, registry=registry, module_globals=namespace)
        if registry.get(key):  # shown under an action that shows it once (not "always")
            _SHOWN.add((self.loc.file, key))


# The warnings given by the build in progress: one build may analyse the same user
# code twice (forward mode checks it as reverse mode would, a hessian builds the
# gradient first), and says what it found once.
_BUILD_WARNED: ContextVar[set[tuple[type, str]] | None] = ContextVar("srcgrad_build_warned",
                                                                    default=None)


@contextlib.contextmanager
def one_warning_per_build() -> Iterator[None]:
    """Within the outermost of these, each warning (message and location) is given
    at most once."""
    if _BUILD_WARNED.get() is not None:
        yield
        return
    token = _BUILD_WARNED.set(set())
    try:
        yield
    finally:
        _BUILD_WARNED.reset(token)


# What Python's registries recorded as shown, while the filters stay as they were:
# any catch_warnings (srcgrad's shape inference has one) clears every registry on
# exit even though it restores the same filters, and the next build of the same
# code would show its warning again.
_SHOWN: set[tuple[str, tuple[str, type, int]]] = set()
_SHOWN_UNDER: list[object] = []
_REGISTRIES: dict[str, dict[Any, Any]] = {}  # for files no loaded module came from


def _attribution(filename: str) -> tuple[str, dict[str, Any] | None, dict[Any, Any]]:
    """The module name, module globals and warning registry a warning about a line of
    ``filename`` belongs to: those of the loaded module whose source it is. For a
    file no loaded module came from (a module executed from a spec alone), the name
    is the path without ".py", as warnings derives it (an explicit None would drop
    the warning), and the registry one of srcgrad's."""
    modules = [(m, path) for m in list(sys.modules.values()) if isinstance(m, types.ModuleType)
               and isinstance(path := getattr(m, "__file__", None), str)]
    tests: tuple[Callable[[str], bool], ...] = (
        lambda path: path == filename,
        lambda path: os.path.realpath(path) == os.path.realpath(filename))
    for same in tests:
        for m, path in modules:
            if same(path):
                namespace = vars(m)
                return m.__name__, namespace, namespace.setdefault("__warningregistry__", {})
    name = filename[:-3] if filename.endswith(".py") else filename
    return name, None, _REGISTRIES.setdefault(filename, {})


class ZeroGradientWarning(SrcgradWarning):
    """A differentiated value flows through a step function of the user's code (round,
    floor, sign, an argmax used as a number): its derivative there is zero almost
    everywhere, so the gradient along that path is exactly 0. Issued where the user
    wrote the call, never for a step inside srcgrad's own derivative rules."""

    hint = ("Its derivative is 0 wherever it is defined, so no gradient flows through "
            "it. If that is intended, write srcgrad.stop_gradient(...) around its argument.")


class UndefinedDerivativeWarning(SrcgradWarning):
    """A derivative was taken at arguments where it does not exist and srcgrad documents
    no subgradient (``x ** y`` in ``y`` at ``x == 0``, ``y <= 0``): the derivative there
    is NaN, and this warning names the user's line instead of leaving a silent NaN."""

    hint = ("The function is not differentiable at these arguments; move the point, or "
            "keep this value out of what is differentiated (srcgrad.stop_gradient).")


class SourceUnavailable(SrcgradError):
    hint = (
        "srcgrad reads the function's source file; define the function in a .py file "
        "(not at an interactive prompt or through exec) and import it."
    )


class UnsupportedSyntax(SrcgradError):
    hint = ("Rewrite this part with supported constructs (see \"What is refused, and what "
            "to write instead\" in docs/guide.md).")


class StructuredOutput(UnsupportedSyntax):
    """The function returns a tuple, list, dict or dataclass where one value is needed
    (``grad``, ``hvp``...); ``vjp``, ``jvp`` and ``jacobian`` catch it and take the
    output apart (``outputs.py``)."""


class NoDerivativeRule(SrcgradError):
    hint = ("srcgrad knows the derivatives listed in docs/coverage.md; for another "
            "function, declare its derivative with srcgrad.defpartials or srcgrad.defvjp, or "
            "mark it with srcgrad.nondiff.")


class NonScalarOutput(SrcgradError):
    hint = "grad needs a scalar output; use srcgrad.vjp(f, *args) for array outputs."


class NameResolutionError(SrcgradError):
    hint = "Every name the function uses must be a parameter, a local, or a global/closure value."


class UsageError(SrcgradError):
    """Wrong use of the public API (bad wrt, wrong number of arguments...)."""


class ArgumentError(UsageError, TypeError):
    """A call that does not fit the differentiated function's signature (too few or too
    many arguments, an unknown keyword), with the message Python gives for the same
    call of ``f``; a ``TypeError`` too, as that call of ``f`` would raise."""


class InternalError(SrcgradError):
    hint = "This is a bug in srcgrad; please report it with the function that triggered it."
