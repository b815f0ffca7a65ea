"""The coverage table: every primitive srcgrad knows, made from the rule registry.

Contract: ``table()`` is the Markdown text of ``docs/coverage.md``, one row per
primitive and overload, in a stable order, with how each mode handles it.
``srcgrad coverage`` writes the file and ``srcgrad coverage --check`` fails
when it is stale (a test runs the check), so the documented list can never
drift from the rules that ship.
"""

from __future__ import annotations

from . import rules

HEADER = """# Coverage

What srcgrad differentiates, generated from the rule registry by
`srcgrad coverage` (a test fails when this file is stale). "partials": an
elementwise rule (its partial derivatives serve both modes); "adjoint": the
reverse-mode contribution is declared; "linear": forward mode applies the
primitive to the tangents; "tangent": forward mode's share is declared;
"structural": indexing and in-place writes, handled by the transforms;
"none": declared non-differentiable (its result carries no derivative).
"complex": "yes" where the rule is right for complex operands (docs/complex.md),
"variant" where a rule written for them takes over, "-" where a complex value
reaching it is refused with a located error.

| primitive | signature | reverse | forward | complex |
| --- | --- | --- | --- | --- |
"""


def _name(key: object, rule: rules.Rule) -> str:
    if isinstance(key, str):
        return f"`{key}` (operator)" if not key.startswith("attr.") else f"`.{key[5:]}`"
    return f"`{rule.name}`"


def _modes(rule: rules.Rule) -> tuple[str, str]:
    if rule.nondiff:
        return "none", "none"
    if rule.partials:
        return "partials", "partials"
    if rule.structural:
        return "structural", "linear" if rule.linear else "structural"
    forward = "linear" if rule.linear else "tangent" if rule.jvps else "-"
    return "adjoint", forward


def _complex(key: object, rule: rules.Rule) -> str:
    if rule.nondiff:
        return ""
    if rule.complex:
        return "yes"
    return "variant" if rules.complexes.variant(key, rule) is not None else "-"


def table() -> str:
    rows = []
    for key, overloads in rules.BUILTIN.items():
        for rule in overloads:
            reverse, forward = _modes(rule)
            signature = str(rule.signature).replace("|", "\\|")
            rows.append((_name(key, rule), f"`{signature}`", reverse, forward,
                         _complex(key, rule)))
    rows.sort()
    lines = [f"| {a} | {b} | {c} | {d} | {e} |" for a, b, c, d, e in rows]
    return HEADER + "\n".join(lines) + f"\n\n{len(rows)} rules.\n"
