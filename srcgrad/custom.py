"""User-defined derivatives, written like srcgrad's own rule tables.

Contract: ``defpartials(f, "x, y", "d/dx", "d/dy")`` declares an elementwise
function by its partial derivatives, ``defvjp(f, "x, axis=None", x="...")``
declares the adjoint contribution of each differentiable parameter, and
``nondiff(f)`` declares ``f`` non-differentiable. The expressions are Python
text in the parameters, ``ans`` (the result) and ``g`` (the output's
adjoint), resolved in ``f``'s module (so they can call ``np`` or the user's own
helpers). From then on srcgrad calls ``f`` and inlines the rule into the
generated code, instead of differentiating ``f``'s body. ``primitive`` is the
decorator form of the first two. Register rules before the first gradient of a
function that calls ``f`` is built: generated code is cached.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import rules
from .errors import SrcgradError, UsageError
from .runtime import stop_gradient


def _table(fn: Callable) -> rules.Table:
    if not callable(fn):
        raise UsageError(f"a derivative rule needs a function, got {fn!r}")
    return rules.Table(dict(getattr(fn, "__globals__", {})))


def _install(fn: Callable, table: rules.Table) -> Callable:
    rules.REGISTRY[fn] = table.rules[fn]  # replaces an earlier rule for fn
    try:
        # call it, never inline its body (an attribute Callable does not declare)
        setattr(fn, "__srcgrad_rule__", True)  # noqa: B010
    except (AttributeError, TypeError):
        pass  # a builtin: never inlined anyway
    return fn


def _compiled(fn: Callable, declare: Callable) -> Callable:
    table = _table(fn)
    try:
        declare(table)
    except (KeyError, AttributeError, SyntaxError) as exc:
        raise SrcgradError(f"the derivative rule given for {getattr(fn, '__name__', fn)} "
                           f"cannot be read: {type(exc).__name__}: {exc}",
                           hint="Rule expressions may use the parameters, ans, g, and names "
                                "defined in the function's module.") from None
    return _install(fn, table)


def defpartials(fn: Callable, params: str, *partials: str | None,
                result: str = "elementwise", zero: tuple[str, ...] = ()) -> Callable:
    """Declare elementwise ``fn`` by its partial derivatives (``None``: not differentiable
    with respect to that parameter, so a differentiated value passed there is a located
    error; name it in ``zero`` too if its derivative is zero)."""
    return _compiled(fn, lambda t: t.partials(fn, params, *partials, result=result,
                                              zero=zero))


def defvjp(fn: Callable, params: str, result: str = "any", broadcasting: bool = False,
           **vjps: str) -> Callable:
    """Declare ``fn`` by the adjoint contribution of each differentiable parameter."""
    return _compiled(fn, lambda t: t.vjp(fn, params, result=result, broadcasting=broadcasting,
                                         **vjps))


def nondiff(fn: Callable) -> Callable:
    """Declare ``fn`` non-differentiable: its result carries no derivative."""
    return _compiled(fn, lambda t: t.nondiff(fn))


def primitive(params: str, *partials: str | None, **vjps: str) -> Callable:
    """Decorator form: ``@primitive("x", "1 - ans * ans")`` (partials) or
    ``@primitive("x", x="g * ...")`` (adjoint contributions)."""
    if bool(partials) == bool(vjps):
        raise UsageError("primitive takes either partial derivatives or adjoint "
                         "contributions (name=expression), not both and not neither")

    def register(fn: Callable) -> Callable:
        if partials:
            return defpartials(fn, params, *partials)
        contributions: dict[str, Any] = vjps  # (names a parameter of defvjp: taken as one)
        return defvjp(fn, params, **contributions)

    return register


__all__ = ["defpartials", "defvjp", "nondiff", "primitive", "stop_gradient"]
