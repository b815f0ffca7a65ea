"""Which calls may hand back (a view of) their argument: ``ir.SAME_BUFFER``.

The reverse transform copies a view the adjoint reads when its array is written in
place later, and the emitter does not move a read past a write into the same buffer;
both learn what is a view from ``ir.may_share_first``. A function missing from the
list would let a write change a value the derivative still needs, silently. This test
calls every function that has a derivative rule on a few arrays and argument patterns
and checks that each one whose result shares memory with its argument is listed.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from srcgrad import ir, rules, runtime
from srcgrad.runtime import linalg, shape, special

A = np.arange(1.0, 13.0).reshape(3, 4) / 13.0
TRIALS = [(A,), (A, 0), (A, 1), (A, 2), (A, (4, 3)), (A, (2, 3, 4)), (A, 0, 1), (A[0],),
          (A[:, :3],), (A * (1 + 1j),)]  # (np.imag of a complex array is a view)
# Arguments that show a run-time helper handing back a view of its adjoint (the
# signatures TRIALS do not fit).
HELPER_TRIALS = {
    linalg.einsum_grad: (A, "ij->ji", 0, A.T),
    linalg.einsum_jvp: (A, "ij->ji", 0, A),
    shape.rot90_grad: (A, 1, None),
    shape.pad_grad: (A, np.zeros((1, 2)), 1),
    shape.hstack_grad: (A, 0, np.zeros((3, 1)), np.zeros((3, 3))),
    shape.vstack_grad: (A, 0, np.zeros((1, 4)), np.zeros((2, 4))),
    shape.column_stack_grad: (A, 0, np.zeros(3), np.zeros((3, 3))),
    shape.dstack_grad: (A[None], 0, np.zeros((1, 3, 1)), np.zeros((1, 3, 3))),
    shape.append_grad: (A, np.zeros((3, 3)), np.zeros((3, 1)), 1, 0),
    special.lse_expand: (A, A, None, True),
}


def _shares(fn) -> bool:
    for args in [*TRIALS, *([HELPER_TRIALS[fn]] if fn in HELPER_TRIALS else [])]:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                out = fn(*args)
        except Exception:  # noqa: BLE001 - a trial signature the function does not take
            continue
        outs = out if isinstance(out, (list, tuple)) else [out]
        if any(isinstance(o, np.ndarray) and np.shares_memory(o, args[0]) for o in outs):
            return True
    return False


def _ruled_functions() -> list:
    return [key for key in rules.REGISTRY if callable(key) and not isinstance(key, str)]


@pytest.mark.parametrize("fn", _ruled_functions(),
                         ids=lambda f: f"{getattr(f, '__module__', '')}.{f.__name__}")
def test_every_view_making_function_is_listed(fn):
    if _shares(fn):
        assert fn in ir.SAME_BUFFER, f"{fn.__name__} may return a view of its argument"


def test_the_list_holds_only_view_making_functions():
    """No entry is there by mistake (each is seen to share memory at least once)."""
    helpers = {runtime.sum_to, runtime.unbroadcast, runtime.as_dtype_of, runtime.as_input,
               runtime.expand, runtime.keep, runtime.stop_gradient, runtime.fit,
               runtime.disjoint_write, runtime.sum_grad}
    for fn in ir.SAME_BUFFER - helpers:
        assert _shares(fn), fn.__name__


def test_transpose_attribute_and_indexing():
    t = ir.Var("t")
    x = ir.Var("x")
    assert ir.may_share_first(ir.Stmt(t, "attr.T", (x,), None))
    assert not ir.may_share_first(ir.Stmt(t, "attr.shape", (x,), None))
    assert not ir.may_share_first(ir.Stmt(t, "neg", (x,), None))
