"""The dispatcher's paths from a call to the generated code (``dispatch``'s helpers).

Contract: a call with array arguments runs ``Shaped.call``, written out for its
argument count and array positions: one dict lookup on the arrays' shapes and
dtypes, then the derivative specialized on them (built on the first call of each
combination, after the argument checks). A call whose arguments are floats and
lists or tuples of floats alone (``floats_key``) skips the checks and the
flattening of structured arguments once its lengths were met
(``floats_result``). Both return exactly what the general path returns: the same
derivative, fed the same leaves.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import checks
from .build import Derivative, array_key


def floats_key(args: tuple[object, ...]) -> tuple[object, ...] | None:
    """For arguments that are floats and lists or tuples of floats alone (a recurrence
    over a list of numbers): their types and lengths, which fix the derivative and how
    its results are put back; None for any other call."""
    key: list[object] = []
    for a in args:
        t = type(a)
        if t is float:
            key.append(t)
        elif isinstance(a, (list, tuple)) and (t is list or t is tuple) and \
                all(type(v) is float for v in a):
            key.append((t, len(a)))
        else:
            return None
    return tuple(key)


def floats_result(d: Derivative, args: tuple[object, ...], indices: tuple[int, ...],
                   grads_only: bool) -> object:
    """What ``dispatch._structured`` returns for such arguments: the leaves passed in order, each
    list's (tuple's) gradient a list (tuple) of its leaves' adjoints."""
    leaves: list[object] = []
    for a in args:
        if isinstance(a, (list, tuple)):
            leaves.extend(a)
        else:
            leaves.append(a)
    out = d.fn(*leaves)
    grads, k = [], 1
    for i in indices:
        a = args[i]
        if isinstance(a, (list, tuple)):
            grads.append(type(a)(out[k:k + len(a)]))
            k += len(a)
        else:
            grads.append(out[k])
            k += 1
    if grads_only:
        return grads[0] if len(grads) == 1 else tuple(grads)
    return (out[0], *grads)


class Shaped:
    """Calls the derivative specialized on the shapes of the array arguments (one per
    shape combination, built on first use; see ``transform/shapes.py``). Keyed on dtypes too:
    arrays of one type can hold integers (which ``check`` refuses: it is given the
    arguments on each new key) or complex numbers (a derivative of their own)."""

    def __init__(self, build: Callable[[tuple[object, ...], tuple[int, ...], tuple[object, ...]],
                                         Derivative],
                 arrays: tuple[int, ...], n: int,
                 check: Callable[[tuple[object, ...]], None] = lambda args: None):
        self.build, self.arrays, self.n, self.check = build, arrays, n, check
        self.key = _key_function(arrays)
        self.table: dict[tuple[object, ...], Derivative] = {}
        self.fns: dict[tuple[object, ...], Callable[..., Any]] = {}  # the same, their code
        self.by_shapes: dict[tuple[object, ...], Derivative] = {}
        self.call = _shaped_call(arrays, n, self.fns, self.miss)

    def miss(self, *args: Any) -> object:
        """A call with shapes or dtypes not met before: build (or find) its derivative."""
        self.check(args)
        shapes, dtypes = array_key(args)
        cplx = checks.complex_positions(args)
        if (shapes, cplx, dtypes) not in self.by_shapes:
            self.by_shapes[shapes, cplx, dtypes] = self.build(shapes, cplx, dtypes)
        key = self.key(args)
        d = self.table[key] = self.by_shapes[shapes, cplx, dtypes]
        self.fns[key] = d.fn
        return d.fn(*args)

    def derivative_for(self, args: tuple[object, ...]) -> Derivative | None:
        """The derivative that calls with ``args``' shapes and dtypes run (made yet?)."""
        return self.table.get(self.key(args))


def _shaped_call(arrays: tuple[int, ...], n: int, fns: dict[tuple[object, ...], Callable[..., Any]],
                 miss: Callable[..., object]) -> Callable[..., object]:
    """``Shaped``'s call, written out for its argument count and array positions: one
    dict lookup on the arrays' shapes and dtypes, then the code (the dispatcher's own cost
    per call stays a fraction of a microsecond)."""
    params = ", ".join(f"a{i}" for i in range(n))
    key = "".join(f"a{i}.shape, a{i}.dtype, " for i in arrays)
    text = (f"def call({params}):\n"
            f"    fn = fns.get(({key}))\n"
            f"    if fn is None:\n"
            f"        return miss({params})\n"
            f"    return fn({params})\n")
    namespace: dict[str, Any] = {"fns": fns, "miss": miss}
    exec(compile(text, "<srcgrad shaped call>", "exec"), namespace)  # noqa: S102 - ours
    call: Callable[..., object] = namespace["call"]
    return call


_KEYS: dict[tuple[int, ...], Callable[[tuple[object, ...]], tuple[object, ...]]] = {}


def _key_function(arrays: tuple[int, ...]) -> Callable[[tuple[object, ...]], tuple[object, ...]]:
    """``args -> (args[i].shape, args[i].dtype, ...)`` for ``i`` in ``arrays``, written out:
    a call pays attribute reads and one tuple, no loop (the dispatcher's own cost)."""
    fn = _KEYS.get(arrays)
    if fn is None:
        parts = "".join(f"a[{i}].shape, a[{i}].dtype, " for i in arrays)
        fn = _KEYS[arrays] = eval(f"lambda a: ({parts})")  # noqa: S307 - our own text
    return fn
