"""Syntax colours for the source ``srcgrad show`` prints on a terminal.

Contract: ``highlight(text)`` returns ``text`` with ANSI colour codes around keywords,
adjoint names (``x_bar``), comments, numbers and strings (docstrings included), found
with the ``tokenize`` module; removing the codes (``strip``) gives ``text`` back
byte for byte. Text that does not tokenize (it always should: it is generated
Python) comes back unchanged. ``diff(lines)`` colours a unified diff: removed lines
red, added lines green, hunk headers cyan.
"""

from __future__ import annotations

import io
import keyword
import re
import tokenize

RESET = "\x1b[0m"
KEYWORD = "\x1b[1;35m"  # bold magenta
ADJOINT = "\x1b[1;33m"  # bold yellow: the _bar variables, the lesson of the code
COMMENT = "\x1b[2;3m"  # dim italic
NUMBER = "\x1b[36m"  # cyan
STRING = "\x1b[32m"  # green
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def highlight(text: str) -> str:
    lines = text.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))
    spans: list[tuple[int, int, str]] = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            colour = _colour(tok)
            if colour is not None:
                (r0, c0), (r1, c1) = tok.start, tok.end
                spans.append((starts[r0 - 1] + c0, starts[r1 - 1] + c1, colour))
    except (tokenize.TokenError, SyntaxError, IndexError):
        return text
    out, at = [], 0
    for start, end, colour in spans:
        out += [text[at:start], colour, text[start:end], RESET]
        at = end
    out.append(text[at:])
    return "".join(out)


def _colour(tok: tokenize.TokenInfo) -> str | None:
    if tok.type == tokenize.NAME:
        if keyword.iskeyword(tok.string):
            return KEYWORD
        return ADJOINT if tok.string.endswith("_bar") else None
    return {tokenize.COMMENT: COMMENT, tokenize.NUMBER: NUMBER,
            tokenize.STRING: STRING}.get(tok.type)


def diff(text: str) -> str:
    out = []
    for line in text.splitlines(keepends=True):
        colour = ("\x1b[1m" if line.startswith(("---", "+++")) else
                  "\x1b[31m" if line.startswith("-") else "\x1b[32m" if line.startswith("+")
                  else "\x1b[36m" if line.startswith("@@") else None)
        body, end = (line[:-1], "\n") if line.endswith("\n") else (line, "")
        out.append(f"{colour}{body}{RESET}{end}" if colour else line)
    return "".join(out)


def strip(text: str) -> str:
    """``text`` without ANSI colour codes."""
    return _ANSI.sub("", text)
