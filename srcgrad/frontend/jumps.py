"""Desugaring of ``break``, ``continue`` and ``return`` (lower stage).

Contract: ``remove_jumps(stmts, fresh, refuse)`` returns statements with the
same meaning, no ``break``/``continue``, no ``return`` inside a loop, and every
``return`` the last statement of its path, so the IR needs no jumps:

- what follows a statement that may jump (an ``if`` with a jump somewhere in
  it) is moved into each of its paths that does not jump (``settle``), at any
  depth of ``if``s; so a path that jumped never runs, nor needs, the code after
  it (a name it leaves unbound is not "maybe unbound" there); statements
  written right after a jump are refused (they never run);
- in a loop, ``break`` sets ``stop``: a ``for`` loop is marked (its ``EXIT``
  attribute names ``stop``) and ends after the iteration that set it (the IR
  loop's ``exit``: a real ``break`` in the generated code), a ``while`` loop
  tests ``not stop and <test>``; ``continue`` just ends its path;
- a loop's ``else`` block follows the loop, under ``if not stop:`` when the loop
  has a ``break`` (or a ``return``, which sets ``stop`` too); a break of a loop
  nested in the loop does not count (it sets that loop's own flag);
- ``return v`` in a loop stores ``v`` in ``result``, sets ``returned`` and
  stops every enclosing loop; after each loop holding it, ``if returned:``
  leaves the next enclosing loop (``break``), or after the outermost one
  returns ``result``, a return like any other, settled in its turn.

A ``with`` keeps only its warning filters: the rest of its body follows it in
the enclosing block (``statements.py`` accepts only contexts that change no
number, so where the body runs is the same), its jumps handled as any other.

``fresh`` makes the flag names (never one of the user's); ``refuse(node, why)``
makes the located error for a function whose paths would multiply too much.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import gast

_LOOPS = (gast.For, gast.While)
# The attribute of a ``for`` node naming its break flag (``frontend.flow`` makes the
# loop end once the flag is true).
EXIT = "srcgrad_exit"
_JUMPS = (gast.Break, gast.Continue, gast.Return)
# AST nodes copied into the paths after jumps, at most: each `if` that may jump in
# both branches doubles what follows it, so a long chain of them is refused.
_BUDGET = 100_000


def iteration(node: gast.For) -> list:
    """One iteration of ``node`` for a loop that is unrolled while lowering (over a dict,
    objects or functions known now): a fresh copy of its body, under ``if not stop:``
    when a ``break`` may have ended the loop before it (the lowered loop's ``exit``
    does that for a loop that stays one)."""
    body = copy.deepcopy(node.body)
    flag = getattr(node, EXIT, None)
    if flag is None:
        return body
    return [_located(gast.If(_not(flag, node), body, []), node)]


def remove_jumps(stmts: list, fresh: Callable[[str], str], refuse: Callable) -> list:
    jumps = _Jumps(fresh, refuse)
    return jumps.settle(jumps.block(stmts), gast.Return)


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


def may_jump(s: gast.stmt, kinds: type | tuple[type, ...]) -> bool:
    """``s`` holds a jump of ``kinds`` of its own (not one inside a nested loop)."""
    if isinstance(s, kinds):
        return True
    return isinstance(s, gast.If) and any(may_jump(b, kinds) for b in s.body + s.orelse)


def always_jumps(stmts: list, kinds: type | tuple[type, ...]) -> bool:
    """Every path through ``stmts`` ends in a jump of ``kinds``."""
    if not stmts:
        return False
    last = stmts[-1]
    return isinstance(last, kinds) or (isinstance(last, gast.If) and always_jumps(
        last.body, kinds) and always_jumps(last.orelse, kinds))


class _Jumps:
    def __init__(self, fresh: Callable[[str], str], refuse: Callable):
        self.fresh, self.refuse = fresh, refuse
        self.returned: str | None = None
        self.result: list[str] | None = None
        self.copied = 0

    def settle(self, stmts: list, kinds) -> list:
        """``stmts`` with what follows a statement that may jump moved into its paths
        that do not jump (see the module docstring)."""
        for i, s in enumerate(stmts):
            if isinstance(s, kinds):
                if i + 1 < len(stmts):  # written after the jump: likely a mistake
                    word = type(s).__name__.lower()
                    raise self.refuse(stmts[i + 1], f"code after {word} is not supported",
                                      "Delete it: it never runs.")
                return stmts
            if isinstance(s, gast.If) and may_jump(s, kinds):
                rest = stmts[i + 1:]
                takers = [attr for attr in ("body", "orelse")
                          if rest and not always_jumps(getattr(s, attr), kinds)]
                # Each path gets its own copy, made before any is settled: settling
                # changes the ifs of what it settles in place.
                tails = {attr: rest if k == 0 else self.copy(rest, s)
                         for k, attr in enumerate(takers)}
                for attr in ("body", "orelse"):
                    setattr(s, attr, self.settle(getattr(s, attr) + tails.get(attr, []),
                                                 kinds))
                return stmts[: i + 1]
        return stmts

    def copy(self, stmts: list, where) -> list:
        self.copied += sum(1 for s in stmts for _ in gast.walk(s))
        if self.copied > _BUDGET:
            raise self.refuse(where, "too many paths through the returns, breaks and "
                              "continues of this function to differentiate",
                              "Assign the value to return to a variable in each branch "
                              "and return it once, at the end.")
        return copy.deepcopy(stmts)

    def block(self, stmts: list) -> list:
        """Desugar the loops of ``stmts`` (and of its ``if``s), innermost first."""
        out = []
        for s in stmts:
            if isinstance(s, _LOOPS):
                out += self.loop(s)
            elif isinstance(s, gast.With):
                # Its body joins the enclosing block, so that its jumps are seen (only
                # no-op contexts are accepted: statements.py); warning filters stay in
                # it (dropped with it).
                rest = [b for b in s.body if not _is_filter(b)]
                s.body = [b for b in s.body if _is_filter(b)] or [_located(gast.Pass(), s)]
                out += [s, *self.block(rest)]
            else:
                if isinstance(s, gast.If):
                    s.body = self.block(s.body)
                    s.orelse = self.block(s.orelse)
                out.append(s)
        return out

    def loop(self, node) -> list:
        pre = []
        orelse, node.orelse = self.block(node.orelse), []  # runs after the loop, below
        returns = any(isinstance(n, gast.Return) for n in gast.walk(node))
        owner = returns and self.returned is None
        if owner:  # the outermost loop holding a return keeps its value
            self.returned, self.result = self.fresh("returned"), self.results(node)
            pre += [_assign(self.returned, _const(False, node), node),
                    *(_assign(r, _const(None, node), node) for r in self.result)]
        body = self.settle(self.block(node.body), _JUMPS)  # inner loops first
        kinds = {type(n) for s in body for n in _own_jumps(s)}
        stop = self.fresh("stop") if kinds & {gast.Break, gast.Return} else None
        node.body = self.rewrite(body, stop) or [_located(gast.Pass(), node)]
        if stop is not None:
            pre.append(_assign(stop, _const(False, node), node))
            if isinstance(node, gast.For):
                setattr(node, EXIT, stop)  # flow.py: the loop ends once it is set
            else:
                node.test = _located(gast.BoolOp(gast.And(), [_not(stop, node), node.test]),
                                     node.test)
        post = []
        if returns:  # also a return in a nested loop: it stops this loop too
            assert self.returned is not None  # set by this loop or an enclosing one
            exit_ = gast.Return(self.result_value(node)) if owner else gast.Break()
            post = [_located(gast.If(_name(self.returned, node), [_located(exit_, node)], []),
                             node)]
        if owner:
            self.returned = self.result = None
        if orelse:  # for/while ... else: runs when no break (nor return) ended the loop
            post += [_located(gast.If(_not(stop, node), orelse, []), node)] \
                if stop is not None else orelse
        return [*pre, node, *post]

    def results(self, node) -> list[str]:
        """Where the loop's returns keep their value: one variable per entry when every
        return in it is a tuple display of one length (``return m, v``), so the value is
        a tuple on every path; else one variable."""
        values = [n.value for n in gast.walk(node) if isinstance(n, gast.Return)]
        sizes = {len(v.elts) if isinstance(v, gast.Tuple) else None for v in values}
        size = sizes.pop() if len(sizes) == 1 else None
        if size is None or size < 2:
            return [self.fresh("result")]
        return [self.fresh(f"result{k}") for k in range(size)]

    def result_value(self, node):
        assert self.result is not None  # in a loop that returns
        if len(self.result) == 1:
            return _name(self.result[0], node)
        return _located(gast.Tuple([_name(r, node) for r in self.result], gast.Load()), node)

    def rewrite(self, stmts: list, stop: str | None) -> list:
        """A settled iteration's jumps (each the last of its path) as flag assignments."""
        out = []
        for s in stmts:
            if isinstance(s, gast.If):
                s.body = self.rewrite(s.body, stop) or [_located(gast.Pass(), s)]
                s.orelse = self.rewrite(s.orelse, stop)
                out.append(s)
            elif isinstance(s, gast.Return):
                # a return in a loop: loop() made its flags and the loop's stop flag
                assert self.result is not None and self.returned is not None and stop is not None
                value = s.value if s.value is not None else _const(None, s)
                values = value.elts if len(self.result) > 1 else [value]
                out += [*(_assign(r, v, s) for r, v in zip(self.result, values)),
                        _assign(self.returned, _const(True, s), s),
                        _assign(stop, _const(True, s), s)]
            elif isinstance(s, gast.Break):
                assert stop is not None  # a break: loop() made the stop flag
                out.append(_assign(stop, _const(True, s), s))
            elif not isinstance(s, gast.Continue):  # continue: its path just ends
                out.append(s)
        return out


def _is_filter(s) -> bool:
    """``warnings.simplefilter(...)`` or ``warnings.filterwarnings(...)`` as a statement
    (kept in its ``with``; ``statements.py`` checks what it names)."""
    call = s.value if isinstance(s, gast.Expr) else None
    return isinstance(call, gast.Call) and isinstance(call.func, gast.Attribute) and \
        isinstance(call.func.value, gast.Name) and call.func.value.id == "warnings" and \
        call.func.attr in ("simplefilter", "filterwarnings")


def _own_jumps(s) -> list:
    """The jumps of ``s`` that belong to the loop around it (not to nested loops)."""
    if isinstance(s, _JUMPS):
        return [s]
    if isinstance(s, gast.If):
        return [j for b in s.body + s.orelse for j in _own_jumps(b)]
    return []
