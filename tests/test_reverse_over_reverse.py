"""Reverse mode over reverse mode (issue 14): the run-time helpers that generated
gradient code calls have reverse rules, and ``vjp``/``jacobian(..., mode="reverse")`` of
``srcgrad.grad(f)`` differentiate the gradient code again in reverse mode
(``srcgrad/higher.py``; the tape of loops and of branches in loops made lists,
``higher_tape.py``), checked against central differences of the gradient and against
forward over reverse; a helper with a forward rule only is refused at the user's line,
and there vjp goes forward over reverse."""

from __future__ import annotations

import ast
import inspect
import pathlib

import numeric
import numpy as np
import pytest
from fixtures import helper_calls as H
from fixtures import rr_programs as P

import srcgrad
from srcgrad import api, higher, ir, runtime
from srcgrad.build import _entry, _kind
from srcgrad.rules import BUILTIN, REGISTRY

# ---- every helper gradient code can call has a reverse rule -------------------------


def _callees(rule) -> list:
    return [s.op.obj for t in (*rule.vjps.values(), *rule.partials.values())
            for s in t.stmts if isinstance(s.op, ir.Callee)]


def _gradient_helpers() -> list:
    """The run-time helpers reverse-mode code can call: those the reverse rules of user
    primitives name, and those the transform, optimizer and backend bind themselves."""
    found = {id(o): o for rules in BUILTIN.values() for r in rules for o in _callees(r)
             if (getattr(o, "__module__", None) or "").startswith("srcgrad.runtime")}
    root = pathlib.Path(srcgrad.__file__).parent
    for stage in ("transform", "optimize", "backend"):
        for path in (root / stage).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) \
                        and node.value.id in ("runtime", "rt") and \
                        inspect.isfunction(getattr(runtime, node.attr, None)):
                    o = getattr(runtime, node.attr)
                    found[id(o)] = o
    return sorted(found.values(), key=lambda o: (o.__module__, o.__name__))


# The helpers of nonlinear primitives whose reverse rules are not written yet: reverse
# mode over code calling them is a located NoDerivativeRule (vjp goes forward over reverse).
FORWARD_ONLY = {"cholesky_grad", "eigh_grad", "eigvalsh_grad", "pinv_grad", "qr_grad",
                "slogdet_grad", "svd_grad", "svdvals_grad", "cross_grad", "einsum_grad",
                "matrix_power_grad", "norm_grad", "eigvals_grad", "eig_grad"}


# Helpers only code for the numba backend calls (emit's typed code), which is never
# differentiated again: grad of a numba gradient is refused (tests/test_compiled.py).
COMPILED_ONLY = {"add_at", "check_finite"}


def _missing_reverse(fn) -> list[str]:
    rules = REGISTRY.get(fn, [])
    assert rules, f"{fn.__name__} has no rule at all"
    rule = rules[0]
    if rule.nondiff:
        return []
    return [p for p in rule.params if rule.differentiable(p) and p not in rule.vjps
            and p not in rule.partials]


@pytest.mark.parametrize("fn", [
    pytest.param(fn, marks=pytest.mark.xfail(strict=True, reason="nonlinear adjoint helper: "
                                             "forward rule only")) if fn.__name__ in
    FORWARD_ONLY else fn for fn in _gradient_helpers() if fn.__name__ not in COMPILED_ONLY],
    ids=lambda f: f"{f.__module__}.{f.__name__}")
def test_every_helper_gradient_code_calls_has_a_reverse_rule(fn):
    assert not _missing_reverse(fn), f"{fn.__name__}: no reverse rule for {_missing_reverse(fn)}"


def test_the_enumeration_sees_the_helpers():
    names = {fn.__name__ for fn in _gradient_helpers()}
    assert {"unbroadcast", "expand", "as_dtype_of", "matmul_grad_a", "take_grad", "seed",
            "kept", "sum_to", "keep"} <= names
    assert FORWARD_ONLY <= names
    for op in ("addat", "scatter", "iadd", "droplast", "copyitem"):  # adjoint-only IR ops
        assert not [p for p in REGISTRY[op][0].structural if p not in REGISTRY[op][0].vjps]


# ---- the helpers' rules, called as user code, against differences --------------------

rng = np.random.default_rng(1)


def r(*shape):
    return rng.normal(size=shape)


HELPER_CASES = [
    (H.via_unbroadcast, (r(3, 4), r(1, 4))), (H.via_expand, (r(3), r(3, 4))),
    (H.via_expand_all, (r(4), r(3, 4))), (H.via_keep, (r(4), r(1, 4))),
    (H.via_sum_to, (r(3, 4), r(3, 1))), (H.via_as_dtype_of, (r(3, 4), r(3, 4))),
    (H.via_transpose_grad, (r(3, 4), r(4, 3))), (H.via_fit, (r(4), r(3, 4))),
    (H.via_piece, (r(5), r(3))), (H.via_dot_grad_a, (r(3, 2), r(4, 2))),
    (H.via_dot_grad_b, (r(2, 3), r(2, 3))), (H.via_matmul_grad_a, (r(3, 2), r(4, 2))),
    (H.via_matmul_grad_b, (r(2, 4), r(2, 3))), (H.via_diff_grad, (r(3, 4), r(4, 4))),
    (H.via_take_grad, (r(3, 3), r(3, 4))), (H.via_repeat_grad, (r(6, 4), r(3, 4))),
    (H.via_tile_grad, (r(6, 4), r(3, 4))), (H.via_diagonal_grad, (r(3), r(3, 4))),
    (H.via_pad_grad, (r(5, 6), r(3, 4))), (H.via_rot90_grad, (r(4, 3), r(3, 4))),
    (H.via_hstack_grad, (r(3, 5), r(3, 4))), (H.via_trace_grad, (0.7, r(3, 4))),
    (H.via_quantile_grad, (r(3), r(3, 4))), (H.via_lse_expand, (r(3), r(3, 4))),
    (H.via_inner_grad_a, (r(3, 2), r(2, 4))), (H.via_tensordot_grad_b, (r(3, 2), r(3, 3))),
    (H.via_kron_grad_a, (r(6, 8), r(2, 2))), (H.via_outer_last, (r(3), r(4))),
    (H.via_lse_weights, (r(3, 4), r(3))),
    (H.via_det_grad, (0.8, r(3, 3) + 3 * np.eye(3))), (H.via_solve_grad_a, (r(3), r(3))),
    (H.via_solve_grad_a_matrix, (r(3, 2), r(3, 2))),
    (H.via_ratio, (r(3), r(3) + 4.0)), (H.via_pow_log, (r(3), r(3))),
    (H.via_sqrt_slope, (r(3), r(3))),
    (H.via_gradient_grad, (r(2, 3, 4), r(3, 4))), (H.via_gradient_vjp, (r(3, 4), r(2, 3, 4))),
    (H.via_interp_slope, (r(4), r(5))), (H.via_interp_slope_vjp, (r(5), r(4))),
    (H.via_interp_fp_grad, (r(5), H.XS)), (H.via_interp_fp_jvp, (r(4), H.XS)),
    (H.via_convolve_grad, (r(5), r(5))), (H.via_correlate_grad_a, (r(8), r(5))),
    (H.via_correlate_grad_v, (r(2), r(6))), (H.via_polyder_grad, (r(3), r(5))),
    (H.via_poly_powers, (r(3), r(4))), (H.via_col_outer, (r(3), r(4))),
    (H.via_lstsq_gram, (r(5, 3), r(3, 3))),
]


@pytest.mark.parametrize("f, args", HELPER_CASES, ids=lambda c: getattr(c, "__name__", ""))
def test_helper_rules_both_modes_match_differences(f, args):
    for i in range(2):
        want = numeric.gradient(f, args, i)
        np.testing.assert_allclose(srcgrad.grad(f, wrt=i)(*args), want, rtol=1e-6, atol=1e-8)
        t = [np.zeros(np.shape(a)) if np.ndim(a) else 0.0 for a in args]
        t[i] = r(*np.shape(args[i])) if np.ndim(args[i]) else 1.0
        np.testing.assert_allclose(srcgrad.jvp(f, args, tuple(t))[1],
                                   np.sum(np.asarray(want) * t[i]), rtol=1e-6, atol=1e-8)


# ---- vjp and jacobian of a gradient, by reverse over reverse ----------------------------

PROGRAMS = [
    (P.mlp_loss, (r(3, 4), r(4), r(4, 2), r(5, 3), r(5, 2)), 0),
    (P.mlp_loss, (r(3, 4), r(4), r(4, 2), r(5, 3), r(5, 2)), 1),
    (P.softmax_cross_entropy, (r(3, 4), r(5, 3), np.eye(4)[[0, 1, 2, 3, 1]]), 0),
    (P.huber, (0.3, 1.0), 0), (P.huber, (2.5, 1.0), 0), (P.huber, (-2.5, 1.0), 1),
    (P.branch_on_norm, (r(3) + 1.0, r(3)), 0), (P.branch_on_norm, (0.35 * r(3), r(3)), 1),
    (P.branch_on_norm, (0.05 * r(3), r(3)), 0),
    (P.assemble, (r(3),), 0), (P.outer_features, (r(3), r(4)), 1),
    (P.dot_products, (r(3), r(3)), 0), (P.matrix_chain, (r(3, 3), r(3, 3)), 1),
    (P.gathered, (r(4), r(3)), 0), (P.scalar_helpers, (0.7, 0.2), 0),
    (P.scalar_helpers, (0.7, 0.9), 1),
    (P.looped_rows, (r(4, 3), r(3)), 1), (P.looped_rows, (r(4, 3), r(3)), 0),
    (P.rk_step, (0.4, 1.3), 0), (P.rk_step, (0.4, 1.3), 1),
    (P.strided_updates, (r(6), 0.7), 0), (P.strided_updates, (r(6), 0.7), 1),
    (P.halving, (3.0,), 0), (P.halving, (0.5,), 0), (P.pairwise, (r(3, 2),), 0),
    (P.clipped_steps, (0.7, 0.9), 0), (P.clipped_steps, (0.3, 0.9), 1),
    (P.det_energy, (r(3, 3) + 3 * np.eye(3),), 0), (P.gaussian_fit, (r(3, 3), r(3)), 0),
    (P.gaussian_fit, (r(3, 3), r(3)), 1),
]


def _gradient_jacobian(grad_f, args, j):
    """Central differences of the gradient along each entry of argument j:
    shape (gradient size, argument size)."""
    x = np.asarray(args[j], dtype=float)
    cols = []
    for k in range(x.size if x.ndim else 1):
        t = [np.zeros(np.shape(a)) if np.ndim(a) else 0.0 for a in args]
        e = np.zeros(x.size)
        e[k] = 1.0
        t[j] = e.reshape(x.shape) if x.ndim else 1.0
        cols.append(np.ravel(numeric.directional(grad_f, args, tuple(t))))
    if not cols:  # an empty argument
        return np.zeros((np.size(grad_f(*args)), 0))
    return np.stack(cols, axis=1)


@pytest.fixture
def reverse_only(monkeypatch):
    """vjp of a gradient may not take the forward-over-reverse route."""
    def refuse(*_):
        raise AssertionError("forward over reverse was used")
    monkeypatch.setattr(api, "_second_order", refuse)


@pytest.mark.parametrize("f, args, i", PROGRAMS, ids=lambda c: getattr(c, "__name__", None))
def test_vjp_of_gradient_by_reverse_over_reverse(f, args, i, reverse_only):
    grad_f = srcgrad.grad(f, wrt=i)
    value, pullback = srcgrad.vjp(grad_f, *args)
    np.testing.assert_allclose(value, grad_f(*args), rtol=1e-12)
    u = r(*np.shape(value)) if np.ndim(value) else 0.7
    cotangents = pullback(u)
    assert len(cotangents) == len(args)
    for j, got in enumerate(cotangents):
        want = np.ravel(u) @ _gradient_jacobian(grad_f, args, j)
        np.testing.assert_allclose(np.ravel(got), want, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("f, args, i", PROGRAMS[::2], ids=lambda c: getattr(c, "__name__", None))
def test_jacobian_reverse_of_gradient_is_the_hessian(f, args, i):
    grad_f = srcgrad.grad(f, wrt=i)
    H_rev = srcgrad.jacobian(grad_f, wrt=i, mode="reverse")(*args)
    H_fwd = srcgrad.jacobian(grad_f, wrt=i, mode="forward")(*args)  # forward over reverse
    np.testing.assert_allclose(H_rev, H_fwd, rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(H_rev, srcgrad.hessian(f, wrt=i)(*args), rtol=1e-9, atol=1e-10)
    want = _gradient_jacobian(grad_f, args, i).reshape(np.shape(H_rev))
    np.testing.assert_allclose(H_rev, want, rtol=1e-5, atol=1e-7)


def test_reverse_over_reverse_code_reads_like_gradient_code():
    d = higher.reverse_over_gradient(_entry(P.huber), 0, ("scalar", "scalar"))
    assert d.source.startswith("def huber_grad_vjp(r, delta, r_bar")
    assert "reverse mode over the generated gradient" in d.source


# ---- helpers with forward rules only: refused, taken forward over reverse ----------------

def test_helper_without_reverse_rule_is_refused_at_the_users_line():
    A = np.array([[1.0, 0.3], [0.2, 0.9]])
    with pytest.raises(srcgrad.NoDerivativeRule) as e:
        higher.reverse_over_gradient(_entry(P.norm_energy), 0, ("any",))
    assert e.value.loc.text.strip() == "return np.linalg.norm(A, 'nuc') + np.sum(A * A)"
    assert "norm_grad" in e.value.message and "forward over reverse" in e.value.hint
    grad_f = srcgrad.grad(P.norm_energy)
    H = srcgrad.jacobian(grad_f, mode="reverse")(A)  # forward over reverse, silently
    np.testing.assert_allclose(H, srcgrad.hessian(P.norm_energy)(A), rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(H, _gradient_jacobian(grad_f, (A,), 0).reshape(2, 2, 2, 2),
                               rtol=1e-5, atol=1e-6)


# ---- the control-flow programs: reverse over reverse wherever it builds ------------------

def _control_flow_examples():
    import test_control_flow
    for case in test_control_flow.CASES:
        for args in case.examples[:1]:
            if all(isinstance(a, (float, np.ndarray)) for a in args):
                yield pytest.param(case.fn, tuple(args), case.wrt[0], id=case.fn.__name__)


@pytest.mark.parametrize("f, args, i", list(_control_flow_examples()))
def test_control_flow_programs_by_reverse_over_reverse(f, args, i, reverse_only):
    kinds = tuple(map(_kind, args))
    try:
        higher.reverse_over_gradient(_entry(f), i, kinds)
    except (higher.Unsupported, srcgrad.UnsupportedSyntax, srcgrad.NoDerivativeRule) as e:
        assert e.loc is not None and e.hint  # refused, located: vjp goes forward over reverse
        pytest.skip(f"refused: {e.message}")
    grad_f = srcgrad.grad(f, wrt=i)
    value, pullback = srcgrad.vjp(grad_f, *args)
    u = r(*np.shape(value)) if np.ndim(value) else 0.7
    for j, got in enumerate(pullback(u)):
        want = np.ravel(u) @ _gradient_jacobian(grad_f, args, j)
        np.testing.assert_allclose(np.ravel(got), want, rtol=1e-5, atol=1e-6)


def test_the_control_flow_programs_all_go_reverse_over_reverse():
    built = 0
    for p in _control_flow_examples():
        f, args, i = p.values
        try:
            higher.reverse_over_gradient(_entry(f), i, tuple(map(_kind, args)))
            built += 1
        except (higher.Unsupported, srcgrad.UnsupportedSyntax, srcgrad.NoDerivativeRule):
            pass
    assert built == len(list(_control_flow_examples()))


def test_every_transpose_helper_is_called_by_a_reverse_rule():
    """``srcgrad.runtime.transposes`` holds what reverse-over-reverse code calls: each
    helper is named by a reverse rule, or is what ``higher`` writes the adjoint sweep's
    in-place writes with."""
    from srcgrad.rules import helpers
    named = {id(o) for rules in helpers.table.rules.values() for rule in rules
             for o in _callees(rule)} | {id(f) for f in higher._WRITES.values()}
    unused = [n for n in runtime.transposes.__all__
              if id(getattr(runtime.transposes, n)) not in named]
    assert not unused


# ---- the examples: reverse over reverse against forward over reverse ---------------------

def _example_programs():
    from test_shown_code import EXAMPLE_PROGRAMS
    for f, (args, wrt) in EXAMPLE_PROGRAMS.items():
        i = wrt if isinstance(wrt, int) else wrt[0]
        marks = [pytest.mark.xfail(strict=True, raises=srcgrad.InternalError, reason=(
            "the storage verifier (SRCGRAD_VERIFY) flags the list append that replaces "
            "the tape push of chart_6 after chart[i, k, A] = ... wrote into it (the push "
            "read it for its shape only); without the verifier the numbers match "
            "differences of the gradient"))] if f.__name__ == "log_partition" and \
            f.__module__ == "cky" else []
        if all(isinstance(a, (float, np.ndarray)) for a in args):
            yield pytest.param(f, tuple(args), i, id=f"{f.__module__}.{f.__name__}",
                               marks=marks)


@pytest.mark.parametrize("f, args, i", list(_example_programs()))
def test_examples_by_reverse_over_reverse(f, args, i, reverse_only):
    grad_f = srcgrad.grad(f, wrt=i)
    value, pullback = srcgrad.vjp(grad_f, *args)
    u = r(*np.shape(value)) if np.ndim(value) else 0.7
    got = pullback(u)
    for j in range(len(args)):  # <u, d grad / d arg_j v> by forward over reverse
        v = [np.zeros(np.shape(a)) if np.ndim(a) else 0.0 for a in args]
        v[j] = r(*np.shape(args[j])) if np.ndim(args[j]) else 1.0
        forward = srcgrad.jvp(grad_f, args, tuple(v))[1]
        np.testing.assert_allclose(np.sum(got[j] * v[j]), np.sum(u * forward),
                                   rtol=1e-8, atol=1e-10)
