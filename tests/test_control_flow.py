"""Control flow and in-place array writes, checked end to end.

Every program lives in ``tests/fixtures/programs.py`` (srcgrad reads source, so
they are module-level functions of a real file). Each row of ``CASES`` pairs a
program with a hypothesis strategy for its arguments, designed so that every
branch and several trip counts are taken while staying a margin away from the
points where the function is not differentiable (comparisons that flip, loop
exits that move). Hand-picked ``examples`` pin down each branch and edge case
(empty loops, zero trips) deterministically.

For every drawn argument tuple the generic check asserts that

1. ``value_and_grad``'s value equals the program's own value, exactly;
2. the gradient matches central finite differences written here, for every
   float argument (NaN is never masked);
3. the caller's arguments are not mutated (also for programs that write into
   an argument: srcgrad must work on a copy);
4. calling the gradient again gives bit-identical results;
5. differentiating with respect to one argument at a time gives the same
   gradients (a different activity analysis, so different generated code).
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field

import hypothesis.extra.numpy as hnp
import hypothesis.strategies as st
import numpy as np
import pytest
from fixtures import programs as P
from hypothesis import HealthCheck, example, given, settings

import srcgrad

EPS = 1e-6  # central difference step (float64)
RTOL = 1e-5
ATOL = 1e-5

# ---- strategies ----------------------------------------------------------------------


def floats(lo: float, hi: float, avoid=(), margin: float = 0.05):
    """Floats in [lo, hi], at least ``margin`` away from every point in ``avoid``."""
    s = st.floats(lo, hi, allow_nan=False, allow_infinity=False)
    if avoid:
        s = s.filter(lambda v: all(abs(v - k) > margin for k in avoid))
    return s


def arrays(shape, lo: float = -2.0, hi: float = 2.0, avoid=(), margin: float = 0.05):
    return hnp.arrays(np.float64, shape, elements=floats(lo, hi, avoid, margin))


def vec(lo_n: int = 1, hi_n: int = 6, **kw):
    """A 1-d float array of a drawn length."""
    return st.integers(lo_n, hi_n).flatmap(lambda n: arrays((n,), **kw))


def sized(lo_n: int, hi_n: int, build):
    """Arguments whose shapes share a drawn size ``n``."""
    return st.integers(lo_n, hi_n).flatmap(build)


def sized2(lo_n: int, hi_n: int, lo_m: int, hi_m: int, build):
    return st.tuples(st.integers(lo_n, hi_n), st.integers(lo_m, hi_m)).flatmap(
        lambda nm: build(*nm))


def apart(*values, margin: float = 0.05) -> bool:
    """No two of ``values`` (scalars) closer than ``margin``."""
    v = sorted(values)
    return all(b - a > margin for a, b in zip(v, v[1:]))


# Filters for programs whose kinks depend on several arguments at once.


def _nested_ifs_ok(a) -> bool:
    x, y = a
    return x > 0.0 or abs(y - x) > 0.05


def _conditional_ok(a) -> bool:
    x, y = a
    z = x * y if x > 0.0 else x - y
    return abs(z - 1.0) > 0.05 and abs(y - z) > 0.05


def _row_sums_ok(a) -> bool:
    x, c = a
    return bool(np.all(np.abs(np.sum(x, axis=1) - c) > 0.05))


def _zip_ok(a) -> bool:
    u, v = a
    k = min(len(u), len(v))
    return bool(np.all(np.abs(u[:k] - v[:k]) > 0.05))


def _grow_ok(a) -> bool:
    x, y = a
    for _ in range(40):
        if abs(y - 10.0) < 1e-2:
            return False
        if y >= 10.0:
            return True
        y = y * x
    return False


def _partial_sums_ok(x) -> bool:
    return bool(np.all(np.abs(np.cumsum(x**2) - 3.0) > 0.05))


def _return_in_while_ok(a) -> bool:
    y, c = a
    for _ in range(10):
        y = y * c + 0.25
        if abs(y - 4.0) < 0.02:
            return False
        if y > 4.0:
            return True
    return True


def _distinct(x) -> bool:
    return apart(*x)


def _max_path_ok(X) -> bool:
    """The two candidates of every max in ``max_path`` differ by a margin."""
    n, m = X.shape
    D = np.zeros((n, m))
    D[:, 0] = np.cumsum(X[:, 0])
    D[0, :] = np.cumsum(X[0, :])
    for i in range(1, n):
        for j in range(1, m):
            if abs(D[i - 1, j] - D[i, j - 1]) < 0.05:
                return False
            D[i, j] = X[i, j] + max(D[i - 1, j], D[i, j - 1])
    return True


def _exits_ok(y: float, step, limit: float, margin: float = 1e-2) -> bool:
    """``while y < limit: y = step(y)`` exits a margin away from ``limit``."""
    for _ in range(60):
        if abs(y - limit) < margin * limit:
            return False
        if y >= limit:
            return True
        y = step(y)
    return False


def _doubling_ok(x) -> bool:
    return all(v <= 0.05 or _exits_ok(v, lambda y: y * 2.0 + 0.1, 5.0) and
               _exits_ok(v, lambda y: y * 2.0, 5.0) and abs(_double(v) - 9.0) > 0.1
               for v in x)


def _double(v: float) -> float:
    while v < 5.0:
        v = v * 2.0
    return v


def _tripling_ok(x) -> bool:
    """Away from the jumps of return_in_while_in_for: each y the loop test sees, the
    first one included (v = 10.0 exactly enters no loop, v - h does)."""
    for v in x:
        y = v
        while True:
            if min(abs(y - 10.0 / 3.0), abs(y - 8.0 / 3.0), abs(y - 3.0), abs(y - 10.0)) < 0.02:
                return False
            if y >= 10.0:
                break
            y = y * 3.0
    return True


def _nested_while_ok(x) -> bool:
    return all(_exits_ok(x + k, lambda y: y * 1.5, 10.0) for k in range(3))


def _growth_ok(x) -> bool:
    return _exits_ok(x, lambda y: y * 1.7, 10.0)


def _while_true_ok(x) -> bool:
    for v in x:
        y = v
        while v > 0.0 and y <= 6.0:
            y = y * 1.5
            if min(abs(y - 6.0), abs(y - 3.0), abs(y - 3.5)) < 0.02:
                return False
    return True


def _banded_ok(t) -> bool:
    x, n = t
    for i in range(n):
        k = min(len(x), i + 1)
        acc = sum(x[j] * (i - j + 1) for j in range(k))
        if abs(acc) < 0.05:
            return False
    return True


def _rows_dot_ok(t) -> bool:
    X, w = t
    return bool(np.all(np.abs(X @ w) > 0.05))


# ---- the table -------------------------------------------------------------------------


@dataclass
class Case:
    fn: object
    args: st.SearchStrategy  # draws the tuple of positional arguments
    wrt: tuple[int, ...]  # the float arguments (all of them)
    examples: list = field(default_factory=list)  # argument tuples that must be checked
    xfail: dict = field(default_factory=dict)  # variant ("python" or "0d") -> known bug

    @property
    def has_float(self) -> bool:
        """Whether some float argument is a Python float (then the 0-d variant exists)."""
        return any(isinstance(ex[i], float) for ex in self.examples for i in self.wrt)

    @property
    def name(self) -> str:
        return self.fn.__name__


def a(*values):
    """A hand-picked argument tuple; lists become float arrays."""
    return tuple(np.array(v, dtype=float) if isinstance(v, list) else v for v in values)


S = floats  # short names for the table
V = vec

CASES = [
    # -- if / elif / else, conditional expressions, and/or/not
    Case(P.piecewise, st.tuples(S(-3, 3, avoid=(1.0, -1.0))), (0,),
         [a(2.0), a(0.3), a(-2.0)]),
    Case(P.different_names_per_branch, st.tuples(S(-3, 3), S(-3, 3)).filter(
        lambda t: apart(*t)), (0, 1), [a(1.0, 0.5), a(0.5, 1.0)]),
    Case(P.nested_ifs, st.tuples(S(-3, 3, avoid=(0.0,)), S(-3, 3, avoid=(0.0, -1.0))).filter(
        _nested_ifs_ok), (0, 1), [a(1.0, 1.0), a(1.0, -0.5), a(1.0, -2.0), a(-1.0, 0.5),
                                  a(-1.0, -2.0)]),
    Case(P.conditional_expressions, st.tuples(S(-2, 2, avoid=(0.0,)), S(-2, 2)).filter(
        _conditional_ok), (0, 1), [a(0.5, 0.5), a(1.5, 1.5), a(-1.0, 0.5), a(-0.5, -2.0)]),
    Case(P.boolean_conditions, st.tuples(S(-3, 3, avoid=(0.0, -1.0)), S(-3, 3, avoid=(0.0, 1.0))),
         (0, 1), [a(1.0, 1.0), a(-2.0, 0.5), a(-0.5, 2.0), a(-0.5, 0.5), a(0.5, -0.5)]),
    Case(P.array_branch, st.tuples(V(1, 5).filter(lambda x: abs(np.sum(x)) > 0.05)), (0,),
         [a([1.0, 2.0]), a([-1.0, 0.5])]),
    Case(P.array_conditional_expression,
         sized(1, 5, lambda n: st.tuples(arrays((n,)), arrays((n,)))).filter(
             lambda t: abs(np.dot(*t)) > 0.05), (0, 1),
         [a([1.0, 2.0], [1.0, 1.0]), a([1.0, 2.0], [-1.0, -1.0])]),
    Case(P.early_returns, st.tuples(S(-2, 4, avoid=(0.0, math.pi / 6, 5 * math.pi / 6))), (0,),
         [a(-1.0), a(0.2), a(1.0), a(3.0)]),
    Case(P.branch_in_loop, st.tuples(V(0, 6, avoid=(0.5, -0.5))), (0,),
         [a([1.0, 0.0, -1.0, 2.0]), a([])]),
    Case(P.branch_assigns_array_or_float,
         st.tuples(st.integers(0, 4).flatmap(lambda n: arrays((n, 3))), S(-1, 1)).filter(
             _row_sums_ok), (0, 1), [a([[1.0, 1.0, 1.0], [-1.0, 0.0, 0.0]], 0.5)]),
    # -- for loops over range / rows / enumerate / zip, nested
    Case(P.strided_pairs, st.tuples(V(1, 7)), (0,), [a([1.0]), a([1.0, 2.0, 3.0, 4.0, 5.0])]),
    Case(P.horner, st.tuples(V(1, 6), S(-1.5, 1.5)), (0, 1), [a([1.0, -2.0, 3.0], 0.5)]),
    Case(P.negative_stride_from_shape, st.tuples(V(1, 7), S(-1.5, 1.5)), (0, 1),
         [a([0.5], 1.0), a([0.5, 1.0, -1.0, 2.0], 0.7)]),
    Case(P.row_loop, st.tuples(st.integers(0, 4).flatmap(lambda n: arrays((n, 3))),
                               arrays((3,))), (0, 1), [a(np.zeros((0, 3)), [1.0, 2.0, 3.0])]),
    Case(P.enumerate_weights, st.tuples(V(0, 6)), (0,), [a([1.0, 2.0, 3.0])]),
    Case(P.zip_pairs, st.tuples(V(0, 5), V(0, 5)).filter(_zip_ok), (0, 1),
         [a([1.0, -1.0, 2.0], [0.0, 0.0]), a([0.0], [1.0, 2.0])]),
    Case(P.nested_loops, sized(1, 5, lambda n: st.tuples(arrays((n,)), arrays((n, n)))), (0, 1),
         [a([1.0, 2.0, 3.0], np.arange(9.0).reshape(3, 3))]),
    Case(P.nested_row_loops, sized2(0, 4, 0, 4, lambda n, m: st.tuples(arrays((n, m)))), (0,),
         [a([[1.0, 2.0], [0.5, -0.5]])]),
    Case(P.compound_interest, st.tuples(S(0.1, 1.0), S(0.0, 0.2), st.integers(0, 6)), (0, 1),
         [a(0.5, 0.1, 0), a(0.5, 0.1, 4)]),
    Case(P.loop_bounds_from_arguments, st.tuples(S(-2, 2), st.integers(0, 3),
                                                 st.integers(0, 6)), (0,),
         [a(1.5, 2, 5), a(1.5, 3, 1)]),
    # -- while loops: convergence and data-dependent trip counts
    Case(P.newton_sqrt, st.tuples(S(0.25, 50.0)), (0,), [a(2.0), a(49.0)]),
    Case(P.kepler, st.tuples(S(0.1, 3.0), S(0.0, 0.8)), (0, 1), [a(1.0, 0.5)]),
    Case(P.kepler_while_true, st.tuples(S(0.1, 3.0), S(0.0, 0.8)), (0, 1), [a(1.0, 0.5)]),
    Case(P.grow_until, st.tuples(S(1.3, 3.0), S(0.5, 12.0)).filter(_grow_ok), (0, 1),
         [a(1.5, 1.0), a(2.0, 11.0)]),
    Case(P.repeated_sqrt, st.tuples(S(0.1, 10.0), st.integers(0, 5)), (0,),
         [a(2.0, 0), a(2.0, 3)]),
    Case(P.while_over_array, st.tuples(V(0, 6).filter(_partial_sums_ok)), (0,),
         [a([1.0, 1.0, 1.2, 1.0]), a([0.5, 0.5]), a([])]),
    # -- break, continue, return inside branches and loops
    Case(P.sum_until_negative, st.tuples(V(0, 6, avoid=(0.0,))), (0,),
         [a([1.0, 2.0, -1.0, 3.0]), a([1.0, 2.0])]),
    Case(P.skip_small, sized(0, 6, lambda n: st.tuples(arrays((n,), avoid=(0.5, -0.5)),
                                                        arrays((n,)))), (0, 1),
         [a([1.0, 0.2, -1.0], [1.0, 2.0, 3.0])]),
    Case(P.break_and_continue, st.tuples(V(0, 6, avoid=(0.0, -1.0))), (0,),
         [a([1.0, -0.5, 2.0, -2.0, 3.0]), a([0.5, 1.5])]),
    Case(P.return_in_loop, st.tuples(V(0, 6, avoid=(1.0,))), (0,),
         [a([0.5, -0.5, 2.0, 0.1]), a([0.5, 0.2])]),
    Case(P.return_in_nested_loops, sized2(0, 4, 0, 4, lambda n, m: st.tuples(
        arrays((n, m), avoid=(1.0,)))), (0,),
         [a([[0.5, 0.2], [2.0, 0.1]]), a([[0.5, 0.2], [0.3, 0.1]])]),
    Case(P.return_in_while, st.tuples(S(0.0, 2.0), S(0.5, 2.0)).filter(_return_in_while_ok),
         (0, 1), [a(1.0, 1.5), a(0.1, 0.5)]),
    # -- several loop-carried values of several kinds
    Case(P.many_carried, st.tuples(V(1, 5, lo=-1.0, hi=1.0).filter(_distinct),
                                   arrays((3,), lo=-1.0, hi=1.0)), (0, 1),
         [a([0.1, 0.5, -0.3], [0.2, -0.4, 0.9])]),
    Case(P.update_every_other, st.tuples(V(0, 6)), (0,), [a([1.0, 2.0, 3.0, 4.0, 5.0])]),
    # -- array writes
    Case(P.cumulative_sum, st.tuples(V(1, 6)), (0,), [a([1.0, 2.0, 3.0])]),
    Case(P.cumulative_product, st.tuples(V(0, 6)), (0,), [a([1.0, 2.0, 3.0]), a([])]),
    Case(P.full_then_update, st.tuples(V(0, 6), S(-2, 2)), (0, 1), [a([1.0, 2.0], 0.5)]),
    Case(P.empty_then_filled, st.tuples(V(1, 6)), (0,), [a([1.0, 2.0, 3.0])]),
    Case(P.zeros_like_accumulate, st.tuples(V(1, 6), S(-2, 2)), (0, 1), [a([1.0, 2.0], 3.0)]),
    Case(P.array_from_scalars, st.tuples(S(-2, 2), S(-2, 2)), (0, 1), [a(1.0, 2.0)]),
    Case(P.outer_by_hand, st.tuples(V(1, 4), V(1, 4)), (0, 1), [a([1.0, 2.0], [0.5])]),
    Case(P.row_and_column_writes, st.tuples(V(1, 4), V(1, 4)), (0, 1),
         [a([1.0, 2.0], [0.5, -1.0, 2.0])]),
    Case(P.row_writes, st.tuples(st.integers(1, 4).flatmap(lambda n: arrays((n, 3))),
                                 arrays((3,))), (0, 1),
         [a([[1.0, 2.0, 3.0], [0.5, 0.5, 0.5]], [0.1, -0.2, 0.3])]),
    Case(P.slice_writes, st.tuples(V(1, 6)), (0,), [a([1.0]), a([1.0, 2.0, 3.0, 4.0])]),
    Case(P.slice_writes_in_loop, st.tuples(V(1, 6)), (0,), [a([1.0, 2.0, 3.0])]),
    Case(P.computed_indices, st.tuples(V(1, 6)), (0,), [a([1.0, 2.0, 3.0, 4.0])]),
    Case(P.histogram_like, st.tuples(V(0, 7), S(-2, 2)), (0, 1),
         [a([1.0, 2.0, 3.0, 4.0, 5.0], 0.5)]),
    Case(P.write_into_copy, st.tuples(V(1, 6, lo=-1.5, hi=1.5)), (0,), [a([1.0, 2.0, 3.0])]),
    Case(P.write_into_argument, st.tuples(V(1, 6)), (0,), [a([1.0, 2.0, 3.0]), a([2.0])]),
    Case(P.write_into_argument_in_loop, st.tuples(V(1, 6), S(-1.5, 1.5)), (0, 1),
         [a([1.0, 2.0, 3.0], 0.5)]),
    Case(P.write_in_branch, st.tuples(V(1, 6, avoid=(0.0,))), (0,), [a([1.0, -2.0, 3.0])]),
    # -- dynamic programs
    Case(P.soft_edit_distance, st.tuples(V(1, 4), V(1, 4), S(0.3, 2.0)), (0, 1, 2),
         [a([1.0, 2.0, 3.0], [1.0, 3.0], 0.5)]),
    Case(P.soft_edit_distance_scalar, st.tuples(V(1, 4), V(1, 4), S(0.3, 2.0)), (0, 1, 2),
         [a([1.0, 2.0, 3.0], [1.0, 3.0], 0.5)]),
    Case(P.prefix_sum_table, sized2(1, 4, 1, 4, lambda n, m: st.tuples(arrays((n, m)))), (0,),
         [a([[1.0, 2.0], [3.0, 4.0]])]),
    Case(P.max_path, sized2(1, 4, 1, 4, lambda n, m: st.tuples(arrays((n, m)))).filter(
        lambda t: _max_path_ok(t[0])), (0,), [a([[1.0, 2.0, 0.5], [3.0, -4.0, 1.5]])]),
    Case(P.hmm_forward, sized2(1, 4, 1, 3, lambda T, K: st.tuples(arrays((K, K)),
                                                                  arrays((T, K)))), (0, 1),
         [a([[0.5, -1.0], [0.2, 0.1]], [[1.0, 2.0], [0.5, -0.5], [0.3, 0.0]])]),
    # -- loops inside loops and branches
    Case(P.while_in_for, st.tuples(V(0, 5, lo=0.2, hi=6.0).filter(_doubling_ok)), (0,),
         [a([0.5, 1.5, 0.3, 6.0])]),
    Case(P.while_in_branch_in_loop, st.tuples(V(0, 5, lo=-2.0, hi=6.0, avoid=(0.0,)).filter(
        _doubling_ok)), (0,), [a([1.0, 3.0]), a([-1.0, 1.0, 6.0])]),
    Case(P.while_then_break, st.tuples(V(0, 5, lo=0.2, hi=6.0).filter(_doubling_ok)), (0,),
         [a([1.0, 3.0]), a([3.0, 1.0, 0.5])]),
    Case(P.return_in_while_in_for, st.tuples(V(0, 5, lo=0.2, hi=12.0).filter(_tripling_ok)),
         (0,), [a([0.5, 1.5, 0.3, 2.0]), a([0.5, 1.5])]),
    Case(P.for_in_while, st.tuples(V(0, 4, lo=-1.0, hi=1.0), st.integers(0, 3)), (0,),
         [a([0.5, 1.5, 0.3], 3), a([0.5], 0)]),
    Case(P.nested_while, st.tuples(S(0.5, 12.0).filter(_nested_while_ok)), (0,),
         [a(3.0), a(11.0)]),
    Case(P.sum_of_powers, st.tuples(S(-1.5, 1.5), st.integers(0, 4)), (0,),
         [a(0.7, 4), a(0.7, 1)]),
    Case(P.sum_of_powers_array, st.tuples(V(1, 3, lo=-1.5, hi=1.5), st.integers(0, 4)), (0,),
         [a([0.7, -1.2], 4)]),
    Case(P.inner_break, sized2(0, 3, 0, 4, lambda n, m: st.tuples(arrays((n, m),
                                                                        avoid=(0.0,)))), (0,),
         [a([[0.5, 1.5, -0.3], [2.0, 0.1, 0.7], [-0.3, -0.6, 1.1]])]),
    Case(P.loop_in_branch, st.tuples(V(0, 5), S(-2.0, 2.0, avoid=(0.0,))), (0, 1),
         [a([1.0, 3.0, -0.5], 0.7), a([1.0, 3.0, -0.5], -0.7)]),
    Case(P.branch_with_loop_in_loop, sized2(0, 3, 1, 3, lambda n, m: st.tuples(
        arrays((n, m), avoid=(0.0,)))), (0,), [a([[1.0, 3.0], [-0.5, 0.3], [0.2, 0.4]])]),
    Case(P.continue_in_while, st.tuples(V(0, 6, avoid=(0.0,))), (0,),
         [a([1.0, 3.0, -0.5, 0.3])]),
    # -- values used after loops and branches
    Case(P.used_after_loop, st.tuples(S(-2.0, 2.0)), (0,), [a(0.5)]),
    Case(P.used_after_while, st.tuples(S(0.5, 12.0).filter(_growth_ok)), (0,),
         [a(1.3), a(11.0)]),
    Case(P.used_after_branch, st.tuples(S(-2.0, 2.0, avoid=(0.0,))), (0,), [a(0.7), a(-0.7)]),
    Case(P.carried_array_with_branch, sized(0, 4, lambda n: st.tuples(
        arrays((n, 2)), arrays((2,)))).filter(_rows_dot_ok), (0, 1),
         [a([[1.0, 3.0], [-0.5, 0.3], [0.2, -0.4]], [0.5, 0.6])]),
    Case(P.power_iteration, st.tuples(arrays((3, 3), lo=0.5, hi=2.0),
                                      arrays((3,), lo=0.5, hi=2.0)), (0, 1),
         [a(np.eye(3) + 1.0, [1.0, 2.0, 3.0])]),
    # -- kinds that change in a loop
    Case(P.float_becomes_array, sized2(1, 4, 1, 3, lambda n, m: st.tuples(arrays((n, m)))),
         (0,), [a([[1.0, 2.0], [3.0, 4.0]])]),
    Case(P.int_becomes_float, st.tuples(V(0, 5)), (0,), [a([1.0, 2.0]), a([])]),
    Case(P.and_or_values, st.tuples(S(-2, 2, avoid=(0.0,)), S(-2, 2, avoid=(0.0,))), (0, 1),
         [a(0.5, 2.0), a(-0.5, 2.0)]),
    # -- more array writes
    Case(P.running_loss, sized(1, 5, lambda n: st.tuples(arrays((n,)), arrays((n,)))), (0, 1),
         [a([1.0, 3.0, -0.5], [0.5, 2.0, 1.5])]),
    Case(P.circular_difference, st.tuples(V(1, 6)), (0,), [a([1.0, 3.0, -0.5])]),
    Case(P.negative_index_writes, st.tuples(V(1, 4)), (0,), [a([1.0, 3.0, -0.5])]),
    Case(P.stepped_slices, st.tuples(V(1, 6)), (0,), [a([1.0, 3.0, -0.5, 0.3])]),
    Case(P.scalar_into_row, st.tuples(V(1, 5)), (0,), [a([1.0, 3.0, -0.5, 0.3])]),
    Case(P.vector_into_column, st.integers(1, 3).flatmap(lambda m: st.tuples(
        arrays((3, m)), arrays((3,)))), (0, 1), [a(np.ones((3, 2)), [0.5, 2.0, 1.5])]),
    Case(P.scalar_argument_written, st.tuples(V(0, 5), S(-2, 2)), (0, 1),
         [a([1.0, 3.0, -0.5], 0.7)]),
    Case(P.full_and_likes, st.tuples(V(1, 5), S(-2, 2)), (0, 1), [a([1.0, 3.0, -0.5], 0.7)]),
    Case(P.conditional_write, st.tuples(V(1, 5, avoid=(0.0,))), (0,), [a([1.0, -3.0])]),
    Case(P.reassigned_then_written, st.tuples(V(1, 5)), (0,), [a([1.0, 3.0, -0.5])]),
    Case(P.iterate_while_writing, st.tuples(V(1, 5)), (0,), [a([1.0, 3.0, -0.5])]),
    Case(P.in_place_2d_updates, sized(1, 4, lambda n: st.tuples(arrays((n, n)))), (0,),
         [a([[1.0, 3.0], [-0.5, 0.3]])]),
    Case(P.enumerate_rows, sized(1, 3, lambda m: st.tuples(
        st.integers(0, 4).flatmap(lambda n: arrays((n, m))), arrays((m,)))), (0, 1),
         [a([[1.0, 3.0], [-0.5, 0.3]], [0.5, 2.0])]),
    Case(P.zip_rows, st.tuples(st.integers(0, 4).flatmap(lambda n: arrays((n, 2))), V(0, 4)),
         (0, 1), [a([[1.0, 3.0], [-0.5, 0.3]], [0.5, 2.0, 1.5])]),
    Case(P.chained_subscripts, st.integers(1, 4).flatmap(lambda n: st.tuples(arrays((n, 2)))),
         (0,), [a([[1.0, 3.0], [-0.5, 0.3], [0.2, 0.4]])]),
    # -- more returns, early exits, iterative solvers
    Case(P.early_return_then_loop, st.tuples(V(0, 5), S(-2, 2, avoid=(0.0,))), (0, 1),
         [a([0.5, 0.7, -0.3, 0.9], 0.6), a([0.5], -0.6)]),
    Case(P.loop_in_one_branch, st.tuples(V(0, 5), S(-2, 2, avoid=(0.0,))), (0, 1),
         [a([0.5, 0.7], 0.6), a([0.5], -0.6)]),
    Case(P.elif_returns, st.tuples(S(-3, 3, avoid=(2.0, 0.0, -1.0))), (0,),
         [a(2.5), a(1.0), a(-0.5), a(-2.0)]),
    Case(P.return_in_nested_branches_in_loop, st.tuples(V(0, 6, avoid=(0.0, 1.0))), (0,),
         [a([0.5, 0.7, -0.3, 1.9]), a([0.5, -0.3])]),
    Case(P.return_written_element, st.tuples(V(1, 6)), (0,), [a([0.5, 0.7, -0.3, 0.9])]),
    Case(P.while_on_written_entries, st.tuples(S(0.2, 6.0).filter(
        lambda x: _exits_ok(x, lambda y: y * 2.0, 5.0))), (0,), [a(0.7), a(5.5)]),
    Case(P.while_true_array, st.tuples(V(1, 5)), (0,), [a([0.5, 0.7, -0.3])]),
    # A positive contraction: never nilpotent, so the iteration (and the derivative of its
    # iterates) converges geometrically instead of stopping exactly after a few steps with
    # a derivative that has not converged yet (a property of the program, not of srcgrad).
    Case(P.jacobi, sized(1, 4, lambda n: st.tuples(arrays((n, n), lo=0.05 / n, hi=0.5 / n),
                                                    arrays((n,)))), (0, 1),
         [a([[0.1, 0.2], [0.1, 0.3]], [1.0, 2.0])]),
    Case(P.gradient_descent, st.tuples(S(-1.0, 1.0), S(-1.0, 1.0)), (0, 1), [a(0.5, 1.5)]),
    Case(P.trip_count_from_float, st.tuples(S(0.1, 1.9).filter(
        lambda x: abs(x * 3.0 - round(x * 3.0)) > 0.05)), (0,), [a(1.2), a(0.2)]),
    Case(P.reused_loop_name, st.tuples(V(0, 5)), (0,), [a([0.5, 0.7, -0.3])]),
    Case(P.augmented_names, st.tuples(V(0, 5), S(-1.5, 1.5)), (0, 1),
         [a([0.5, 0.7, -0.3], 0.6)]),
    Case(P.running_max_used_after, st.tuples(V(1, 5).filter(_distinct)), (0,),
         [a([0.5, 0.7, -0.3, 0.9]), a([1.0, 0.5])]),
    Case(P.zip_three, st.tuples(V(0, 3), V(0, 3), V(0, 3)), (0, 1, 2),
         [a([0.5, 0.7], [0.5, 0.7, 0.1], [0.5, 0.7, -0.3, 0.9])]),
    Case(P.countdown, st.tuples(S(-1.5, 1.5), st.integers(-1, 5)), (0,), [a(0.7, 3), a(0.7, 0)]),
    Case(P.inner_while_bounded_by_carried, st.tuples(S(-1.5, 1.5)), (0,), [a(0.7)]),
    Case(P.copy_per_row, sized2(0, 3, 1, 4, lambda n, m: st.tuples(arrays((n, m)))), (0,),
         [a([[1.0, 0.5, 2.0], [0.3, -0.4, 1.2]])]),
    Case(P.row_writes_with_row_reads, sized2(1, 4, 1, 3, lambda n, m: st.tuples(
        arrays((n, m), lo=-1.2, hi=1.2))), (0,), [a([[1.0, 0.5, 2.0], [0.3, -0.4, 1.2]])]),
    Case(P.guarded_and, st.tuples(V(0, 5, avoid=(0.0, -1.0))), (0,),
         [a([1.0, 0.5, -2.0, 2.0]), a([]), a([-0.5, 0.5])]),
    Case(P.guarded_or, st.tuples(V(0, 5, avoid=(0.0,))), (0,),
         [a([1.0, 0.5, -2.0, 2.0]), a([]), a([-0.5, -0.5])]),
    Case(P.energy_after_update, st.tuples(S(-2, 2)), (0,), [a(0.7)]),
    Case(P.self_convolution, st.tuples(V(1, 5)), (0,), [a([1.0, 0.7, 0.2, -0.5])]),
    Case(P.branches_in_nested_loops, sized2(0, 3, 1, 4, lambda n, m: st.tuples(
        arrays((n, m), avoid=(0.0, 0.5)))), (0,),
         [a([[1.0, 0.7, 0.2], [-0.3, 0.8, 0.9], [0.6, 0.1, 1.2]])]),
    Case(P.while_in_branch_in_while, st.tuples(S(-2, 2)), (0,), [a(0.7)]),
    Case(P.soft_dtw, st.tuples(V(1, 4), V(1, 4)), (0, 1), [a([1.0, -0.7, 0.2], [2.2, 0.9])]),
    Case(P.full_with_shape_of, st.tuples(sized2(1, 3, 1, 3, lambda n, m: arrays((n, m))),
                                         S(-2, 2)), (0, 1), [a(np.ones((2, 3)), 0.5)]),
    Case(P.break_and_continue_in_while_true, st.tuples(V(0, 5, lo=-1.0, hi=7.0, avoid=(0.0,))
                                                       .filter(_while_true_ok)), (0,),
         [a([1.0, -0.7, 0.2, 2.2, 0.9]), a([7.0])]),
    Case(P.banded_sums, st.tuples(V(0, 5), st.integers(0, 5)).filter(_banded_ok), (0,),
         [a([1.0, -0.7, 0.2, 2.2, 0.9], 4), a([1.0], 0)]),
    Case(P.row_maxima, sized2(0, 3, 1, 4, lambda n, m: st.tuples(arrays((n, m)))).filter(
        lambda t: all(apart(*row) for row in t[0])), (0,),
         [a([[1.0, -0.7, 0.2], [2.2, 0.9, 3.1]])]),
    Case(P.relaxation_sweeps, st.tuples(V(1, 6, lo=-1.0, hi=1.0)), (0,),
         [a([1.0, -0.7, 0.2, 0.9])]),
    # -- the derivative needs an array version that a later write overwrites
    Case(P.energy_before_update, st.tuples(S(-2, 2)), (0,), [a(0.7)]),
    Case(P.overwritten_in_straight_line, st.tuples(S(-2, 2), arrays((3,))), (0, 1),
         [a(0.7, [1.0, 2.0, 3.0])]),
]


# ---- known srcgrad bugs ------------------------------------------------------------------

# program name -> (reason, variants): marked xfail(strict=True), so a fix shows up as a
# failure that asks for the entry to be removed. Empty: every bug these programs found
# (while trip counts in branches, nested scalar adjoints sharing storage, the tape aliasing
# arrays written later, the returned value clobbered by restores, carried adjoints zeroed
# in the branch not taken) was fixed in 75d3419 and 16c5610; the rows stay as regressions.
KNOWN_BUGS: dict[str, tuple[str, tuple[str, ...]]] = {}
for _c in CASES:
    if _c.name in KNOWN_BUGS:
        _reason, _variants = KNOWN_BUGS[_c.name]
        _c.xfail = dict.fromkeys(_variants, _reason)


def _params(cases, variants=("python", "0d"), known_bugs=True):
    out = []
    for c in cases:
        for variant in variants:
            if variant == "0d" and not c.has_float:
                continue
            reason = c.xfail.get(variant) if known_bugs else None
            marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
            name = c.name if variant == "python" else f"{c.name}-0d"
            out.append(pytest.param(c, variant, id=name, marks=marks))
    return out


def as_0d(case: Case, args: tuple) -> tuple:
    """The 0-d variant: Python float arguments passed as 0-d arrays, so that srcgrad
    specializes on array kinds ("any") instead of scalars."""
    return tuple(np.array(v) if i in case.wrt and isinstance(v, float) else v
                 for i, v in enumerate(args))


# ---- the generic check -------------------------------------------------------------------


def _fresh(args: tuple) -> tuple:
    """A deep copy, so that a program that writes into its arguments cannot
    change the caller's (or the next evaluation's) values."""
    return copy.deepcopy(args)


def _call(fn, args: tuple) -> float:
    return fn(*_fresh(args))


def central_difference(fn, args: tuple, i: int) -> np.ndarray:
    x = np.array(args[i], dtype=float)
    out = np.zeros(x.shape)
    kind = float if isinstance(args[i], float) else np.array  # keep the argument's type
    for idx in np.ndindex(x.shape):
        plus, minus = x.copy(), x.copy()
        plus[idx] += EPS
        minus[idx] -= EPS
        hi = _call(fn, (*args[:i], kind(plus), *args[i + 1:]))
        lo = _call(fn, (*args[:i], kind(minus), *args[i + 1:]))
        out[idx] = (hi - lo) / (2 * EPS)
    return out


def assert_unchanged(args: tuple, originals: tuple) -> None:
    for k, (now, before) in enumerate(zip(args, originals)):
        assert type(now) is type(before), f"argument {k} changed type"
        if isinstance(before, np.ndarray):
            assert now.dtype == before.dtype and now.shape == before.shape, \
                f"argument {k} changed dtype or shape"
            assert np.array_equal(now, before), f"argument {k} was mutated: {before} -> {now}"
        else:
            assert now == before, f"argument {k} was mutated: {before} -> {now}"


def assert_same_value(got, expected) -> None:
    assert np.ndim(got) == 0, f"value has shape {np.shape(got)}"
    assert np.isfinite(expected)
    # The forward sweep runs the same operations in the same order: exact.
    assert float(got) == float(expected), f"value {got!r} != f(...) = {expected!r}"


def check_program(case: Case, args: tuple) -> None:
    originals = _fresh(args)
    expected = _call(case.fn, args)
    vg = srcgrad.value_and_grad(case.fn, wrt=case.wrt)
    value, grads = vg(*args)
    assert_unchanged(args, originals)  # (3)
    assert_same_value(value, expected)  # (1)
    assert isinstance(grads, tuple) and len(grads) == len(case.wrt)
    for i, g in zip(case.wrt, grads):  # (2)
        fd = central_difference(case.fn, args, i)
        assert np.shape(g) == np.shape(args[i]), \
            f"gradient of argument {i} has shape {np.shape(g)}, expected {np.shape(args[i])}"
        g = np.asarray(g, dtype=float)
        assert np.all(np.isfinite(g)), f"non-finite gradient of argument {i}: {g}"
        np.testing.assert_allclose(g, fd, rtol=RTOL, atol=ATOL, equal_nan=False,
                                   err_msg=f"gradient of argument {i} vs finite differences")
    value2, grads2 = vg(*args)  # (4)
    assert_unchanged(args, originals)
    assert float(value2) == float(value)
    for g1, g2 in zip(grads, grads2):
        assert np.array_equal(np.asarray(g1), np.asarray(g2)), "second call differs"
    if len(case.wrt) > 1:  # (5) one argument at a time: a different activity analysis
        for i, g in zip(case.wrt, grads):
            alone = srcgrad.grad(case.fn, wrt=i)(*args)
            assert_unchanged(args, originals)
            np.testing.assert_allclose(alone, g, rtol=1e-10, atol=1e-12,
                                       err_msg=f"grad(wrt={i}) differs from the joint gradient")


@pytest.mark.parametrize("case, variant", _params(CASES))
def test_value_and_gradient(case: Case, variant: str) -> None:
    convert = (lambda args: as_0d(case, args)) if variant == "0d" else (lambda args: args)
    test = given(case.args.map(convert))(lambda args: check_program(case, args))
    for ex in case.examples:
        test = example(convert(ex))(test)
    # max_examples comes from the profile (conftest.py): 15, or 500 with HYPOTHESIS_PROFILE=slow
    test = settings(deadline=None,
                    suppress_health_check=[HealthCheck.filter_too_much,
                                           HealthCheck.too_slow])(test)
    test()


@pytest.mark.parametrize("case, variant", _params(CASES, ("python",), known_bugs=False))
def test_derivative_source_compiles(case: Case, variant: str) -> None:
    source = srcgrad.derivative_source(case.fn, wrt=case.wrt)
    assert isinstance(source, str) and f"def {case.name}" in source
    compile(source, f"<derivative of {case.name}>", "exec")



@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_forward_mode_agrees_with_reverse_mode(case: Case) -> None:
    """<J v, 1> = <v, J^T 1> on each hand-picked example: jvp's tangent along a random
    direction against the (finite-difference-checked) gradient, and the same value."""
    rng = np.random.default_rng(0)
    for args in case.examples:
        direction = [rng.normal(size=np.shape(args[i])) if isinstance(args[i], np.ndarray)
                     else float(rng.normal()) for i in case.wrt]
        tangents = [0.0 * a if isinstance(a, float) else np.zeros(np.shape(a))
                    if isinstance(a, np.ndarray) else 0 for a in args]
        for i, d in zip(case.wrt, direction):
            tangents[i] = d
        floats = [i for i, a in enumerate(args) if isinstance(a, (float, np.ndarray))
                  and np.asarray(a).dtype.kind == "f"]
        if set(floats) != set(case.wrt):
            continue  # an integer array argument: jvp takes tangents for floats only
        value, tangent = srcgrad.jvp(case.fn, args, tangents)
        assert float(value) == float(case.fn(*copy.deepcopy(args)))  # f may write into args
        grads = srcgrad.grad(case.fn, wrt=case.wrt)(*args)
        grads = grads if isinstance(grads, tuple) else (grads,)
        expected = sum(float(np.sum(np.asarray(g) * d)) for g, d in zip(grads, direction))
        assert float(tangent) == pytest.approx(expected, rel=1e-9, abs=1e-9)
