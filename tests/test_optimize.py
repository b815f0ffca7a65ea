"""The optimizer's passes, one at a time: each keeps the numbers and does its job.

Every program here is differentiated with all passes, with none, and with each
pass alone switched off; the gradients must agree with central differences in
every configuration, and the pass must leave its mark on the generated source.
"""

import numpy as np
import pytest

import srcgrad
from srcgrad import api, frontend, ir, optimize, transform
from srcgrad.errors import Loc


def shared_reads(x, w):
    total = 0.0
    for i in range(x.shape[0]):
        total = total + np.tanh(x[i] * w) * np.tanh(x[i] * w) + x[i] * 2.0
    return np.sum(total)


def constants(x):
    scale = 2.0 * 3.0
    return np.sum(x * scale + 1.0 / 4.0)


def max_pool(x):
    return np.sum(np.max(x, axis=1) * np.sum(np.exp(x), axis=0)[:1])


def nan_safe(x):
    zero = 0.0 * 5.0
    return np.sum(x * zero + x)  # 0 * x must not be folded away: x may be NaN


PROGRAMS = [
    (shared_reads, (np.array([[0.3, -0.2], [0.1, 0.5], [-0.7, 0.4]]), np.array([0.9, -1.1]))),
    (constants, (np.array([0.5, -1.5]),)),
    (max_pool, (np.array([[0.3, -0.2, 1.0], [0.1, 0.5, -0.4]]),)),
    (nan_safe, (np.array([0.5, -1.5]),)),
]


def _gradient(f, args, disabled):
    indices = tuple(range(len(args)))
    kinds = tuple(api._kind(a) for a in args)
    d = api._entry(f).derivative(indices, "one", kinds,
                                 shapes=tuple(np.shape(a) for a in args), disabled=disabled)
    return d, d.fn(*args)[1:]


def _central(f, args, i, eps=1e-6):
    x = np.array(args[i], dtype=float)
    out = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        hi, lo = x.copy(), x.copy()
        hi[idx] += eps
        lo[idx] -= eps
        out[idx] = (f(*args[:i], hi, *args[i + 1:]) - f(*args[:i], lo, *args[i + 1:])) / (2 * eps)
    return out


CONFIGS = [frozenset(), frozenset(optimize.PASSES)] + [frozenset({p}) for p in optimize.PASSES]


@pytest.mark.parametrize("disabled", CONFIGS, ids=lambda d: "all" if not d else
                         "none" if len(d) > 1 else f"no-{next(iter(d))}")
@pytest.mark.parametrize(("f", "args"), PROGRAMS, ids=lambda p: getattr(p, "__name__", ""))
def test_every_configuration_gives_the_right_gradient(f, args, disabled):
    _, grads = _gradient(f, args, disabled)
    for i, g in enumerate(grads):
        np.testing.assert_allclose(g, _central(f, args, i), rtol=1e-6, atol=1e-8)


def _source(f, args, disabled=frozenset()):
    """The generated code without its provenance comments (they quote the user)."""
    text = _gradient(f, args, disabled)[0].source
    return "\n".join(line for line in text.splitlines() if not line.strip().startswith("#"))


def test_common_subexpressions_are_computed_once():
    f, args = PROGRAMS[0]
    on, off = _source(f, args), _source(f, args, frozenset({"cse"}))
    assert off.count("np.tanh(") >= 2 and on.count("np.tanh(") == 1


def test_constants_are_folded_but_never_multiplications_by_zero_of_variables():
    f, args = PROGRAMS[1]
    on, off = _source(f, args), _source(f, args, frozenset({"fold"}))
    assert "2.0 * 3.0" in off and "2.0 * 3.0" not in on and "6.0" in on
    g, args = PROGRAMS[3]
    nan_source = _source(g, args)
    assert "x * 0.0" in nan_source or "x * zero" in nan_source
    value, grads = srcgrad.value_and_grad(g)(np.array([np.nan, 1.0]))
    assert np.isnan(value)  # 0 * NaN + NaN, as the user wrote it
    np.testing.assert_array_equal(grads, [1.0, 1.0])


def test_expand_before_a_product_is_not_materialized():
    """In code for any shapes the pass does it; specialized code does it already."""
    f, args = PROGRAMS[2]
    entry = api._entry(f)
    on = entry.derivative((0,), "one", ("any",)).source
    off = entry.derivative((0,), "one", ("any",), disabled=frozenset({"expand"})).source
    assert "keep(" in on and "keep(" not in off
    assert "np.reshape(" in _source(f, args, frozenset({"expand"}))  # kept axes, statically


def test_copies_of_temporaries_are_propagated():
    x, t, u = ir.Var("x"), ir.Var("t1", "temp"), ir.Var("t2", "temp")
    loc = Loc("f.py", 1, 0)
    body = [ir.Stmt(t, "copy", (x,), loc), ir.Stmt(u, "mul", (t, t), loc)]
    fn = ir.Function("f", (x,), body, (u,), loc)
    out = optimize.optimize(fn, frozenset(optimize.PASSES) - {"copies", "dce"})
    assert [str(s) for s in out.body] == ["t2 = mul x, x"]


def test_the_tape_keeps_only_what_the_adjoint_reads():
    """The HMM specialized on its shapes: values read only for their shapes are gone."""
    import hmm  # examples/ is on the path (tests/conftest.py)

    args = hmm.example(T=5, K=3)
    d, _ = _gradient(hmm.log_partition, args, frozenset())
    push = next(line for line in d.source.splitlines() if "tape.append" in line)
    # 2 values (the exponentials, their sum); 11 before specialization, pruning and the
    # log-sum-exp shift (optimize/shifts.py: the max is not differentiated)
    assert push.count(",") == 1, push
    # t - 1 is computed again in the adjoint loop, not recorded
    adjoint = d.source[d.source.index("reversed(range("):]
    assert "alpha_bar[t - 1]" in adjoint
    marginals = srcgrad.grad(hmm.log_partition, wrt=2)(*args)
    np.testing.assert_allclose(marginals, hmm.forward_backward(*args), rtol=1e-10)


def test_no_opt_prints_the_raw_transform():
    raw = srcgrad.derivative_source(shared_reads, wrt=(0, 1), optimized=False)
    opt = srcgrad.derivative_source(shared_reads, wrt=(0, 1))
    assert raw.count("np.tanh(") > opt.count("np.tanh(")  # the comments quote it twice


def test_reverse_is_unchanged_by_lowering_twice():
    fn = frontend.lower(frontend.capture(constants))
    a = transform.reverse(fn, (0,), {"x": "any"})
    b = transform.reverse(fn, (0,), {"x": "any"})
    assert str(a) == str(b)


def test_nested_loop_accumulators_are_not_zeroed_per_iteration():
    """CKY: the adjoint of log_binary is summed by three nested loops into one buffer,
    not a fresh zero array per enclosing iteration; the gradient is still
    inside-outside's."""
    import cky  # examples/ is on the path (tests/conftest.py)

    args = cky.example()
    source = srcgrad.derivative_source(cky.log_partition, wrt=(0, 1))
    assert source.count("zeros_like(log_binary)") == 1
    grads = srcgrad.grad(cky.log_partition, wrt=(0, 1))(*args)
    for g, expected in zip(grads, cky.inside_outside(*args)):
        np.testing.assert_allclose(g, expected, rtol=1e-10, atol=1e-12)
