"""Desugaring of ``break``, ``continue`` and ``return`` inside loops (lower stage).

Contract: ``remove_jumps(stmts, fresh)`` returns statements with the same
meaning and no ``break``/``continue`` and no ``return`` inside a loop, so the
IR needs no jumps. In a loop that jumps:

- ``skip`` (reset at the top of every iteration) is set by any jump; the
  statements after a branch that may jump run under ``if not skip``;
- ``stop`` is set by ``break``: a ``for`` loop runs its remaining iterations
  as no-ops (``if not stop:`` around the body), a ``while`` loop tests
  ``not stop and <test>``;
- ``return v`` stores ``v`` in ``result``, sets ``returned`` and stops every
  enclosing loop; after the outermost one, ``if returned: return result``.

``fresh`` makes the flag names (never one of the user's).
"""

from __future__ import annotations

from collections.abc import Callable

import gast

_LOOPS = (gast.For, gast.While)


def remove_jumps(stmts: list, fresh: Callable[[str], str]) -> list:
    return _Jumps(fresh).block(stmts, in_loop=False)


def _located(node, like):
    return gast.copy_location(node, like)


def _assign(name: str, value, like) -> gast.Assign:
    target = _located(gast.Name(name, gast.Store(), None, None), like)
    return _located(gast.Assign([target], value, None), like)


def _name(name: str, like) -> gast.Name:
    return _located(gast.Name(name, gast.Load(), None, None), like)


def _const(value, like) -> gast.Constant:
    return _located(gast.Constant(value, None), like)


def _not(name: str, like) -> gast.UnaryOp:
    return _located(gast.UnaryOp(gast.Not(), _name(name, like)), like)


def _jumps_here(stmts: list) -> set[type]:
    """The jump statements in ``stmts`` that belong to this loop (not nested ones)."""
    found = set()
    for s in stmts:
        if isinstance(s, (gast.Break, gast.Continue, gast.Return)):
            found.add(type(s))
        elif isinstance(s, gast.If):
            found |= _jumps_here(s.body) | _jumps_here(s.orelse)
    return found


class _Jumps:
    def __init__(self, fresh: Callable[[str], str]):
        self.fresh = fresh
        self.returned: str | None = None
        self.result: str | None = None

    def block(self, stmts: list, in_loop: bool) -> list:
        out = []
        for s in stmts:
            if isinstance(s, _LOOPS):
                out += self.loop(s, in_loop)
            else:
                if isinstance(s, gast.If):
                    s.body = self.block(s.body, in_loop)
                    s.orelse = self.block(s.orelse, in_loop)
                out.append(s)
        return out

    def loop(self, node, in_loop: bool) -> list:
        pre = []
        owner = self.returned is None and any(isinstance(n, gast.Return)
                                              for n in gast.walk(node))
        if owner:  # the outermost loop holding a return keeps its value
            self.returned, self.result = self.fresh("returned"), self.fresh("result")
            pre += [_assign(self.returned, _const(False, node), node),
                    _assign(self.result, _const(None, node), node)]
        node.body = self.block(node.body, in_loop=True)  # inner loops first
        kinds = _jumps_here(node.body)
        if not kinds:
            return [*pre, node]
        skip = self.fresh("skip")
        stop = self.fresh("stop") if kinds & {gast.Break, gast.Return} else None
        body, _ = self.seq(node.body, skip, stop)
        node.body = [_assign(skip, _const(False, node), node), *body]
        if stop is not None:
            pre.append(_assign(stop, _const(False, node), node))
            if isinstance(node, gast.For):
                node.body = [_located(gast.If(_not(stop, node), node.body, []), node)]
            else:
                node.test = _located(gast.BoolOp(gast.And(), [_not(stop, node), node.test]),
                                     node.test)
        post = []
        if gast.Return in kinds or owner:
            exit_ = gast.Return(_name(self.result, node)) if owner else gast.Break()
            post = [_located(gast.If(_name(self.returned, node), [_located(exit_, node)], []),
                             node)]
        if owner:
            self.returned = self.result = None
        return [*pre, node, *post]

    def seq(self, stmts: list, skip: str, stop: str | None) -> tuple[list, bool]:
        """Rewrite one iteration's statements; True if they may jump."""
        out = []
        for i, s in enumerate(stmts):
            if isinstance(s, (gast.Break, gast.Continue, gast.Return)):
                out += self.jump(s, skip, stop)
                return out, True
            if isinstance(s, gast.If):
                s.body, jumps_then = self.seq(s.body, skip, stop)
                s.orelse, jumps_else = self.seq(s.orelse, skip, stop)
                s.body = s.body or [_located(gast.Pass(), s)]
                out.append(s)
                if jumps_then or jumps_else:
                    rest, _ = self.seq(stmts[i + 1:], skip, stop)
                    if rest:
                        out.append(_located(gast.If(_not(skip, s), rest, []), s))
                    return out, True
                continue
            out.append(s)
        return out, False

    def jump(self, s, skip: str, stop: str | None) -> list:
        out = []
        if isinstance(s, gast.Return):
            value = s.value if s.value is not None else _const(None, s)
            out += [_assign(self.result, value, s), _assign(self.returned, _const(True, s), s)]
        if not isinstance(s, gast.Continue):
            out.append(_assign(stop, _const(True, s), s))
        out.append(_assign(skip, _const(True, s), s))
        return out
