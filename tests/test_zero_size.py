"""Zero-size arrays (issue 20): every function the issue lists, given arrays of shape
(0,), (3, 0), (0, 4)..., differentiates to correctly shaped gradients in reverse mode
(vjp, grad) and forward mode (jvp), or raises NumPy's own error where NumPy raises on the
primal. The expected numbers are by hand: an output that depends on no entry has a zero
tangent; an empty argument has an empty gradient; a non-empty argument that meets only
empty ones (``a (0, 3) @ w (3, 4)``) has a zero gradient of its own shape; a non-empty
piece next to an empty one (``np.concatenate([x, y])``) keeps its gradient of ones.
"""

import operator
import warnings

import numpy as np
import pytest

import srcgrad
from srcgrad.errors import SrcgradError


def Z(*shape):
    return np.zeros(shape)


W34 = np.arange(12.0).reshape(3, 4)
XP = np.array([0.0, 1.0])
FP = np.array([0.0, 2.0])
COEF = np.array([1.0, 2.0])

# (id, function, arguments, expected vjp of each argument for a cotangent of ones or None
# for zeros of the argument's shape)
ROWS = [
    ("sum", lambda x: np.sum(x), (Z(0),), None),
    ("sum_axis0", lambda x: np.sum(x, axis=0), (Z(0, 4),), None),
    ("sum_axis1", lambda x: np.sum(x, axis=1), (Z(3, 0),), None),
    ("mean_axis0", lambda x: np.mean(x, axis=0), (Z(0, 4),), None),
    ("prod_axis1", lambda x: np.prod(x, axis=1), (Z(3, 0),), None),
    ("max_axis0", lambda x: np.max(x, axis=0), (Z(3, 0),), None),
    ("min_axis1", lambda x: np.min(x, axis=1), (Z(0, 4),), None),
    ("var_axis1", lambda x: np.var(x, axis=1), (Z(0, 4),), None),
    ("std_axis1", lambda x: np.std(x, axis=1), (Z(0, 4),), None),
    ("var_axis0", lambda x: np.var(x, axis=0), (Z(0, 4),), None),
    ("std_axis0", lambda x: np.std(x, axis=0), (Z(0, 4),), None),
    ("cumsum", lambda x: np.cumsum(x), (Z(0),), None),
    ("elementwise", lambda x: np.sin(x) * x + np.exp(x) + np.sqrt(x + 1.0), (Z(3, 0),), None),
    ("broadcast", lambda x, w: x * w, (Z(0), 2.0), (Z(0), 0.0)),
    ("matmul_empty_out", lambda a, w: a @ w, (Z(0, 3), W34), (Z(0, 3), Z(3, 4))),
    ("matmul_zeros_out", lambda a, b: a @ b, (Z(3, 0), Z(0, 4)), None),
    ("dot", lambda a, b: np.dot(a, b), (Z(3, 0), Z(0, 4)), None),
    ("dot_vectors", lambda a: np.dot(a, a), (Z(0),), None),
    ("einsum", lambda a, b: np.einsum("ij,jk->ik", a, b), (Z(3, 0), Z(0, 4)), None),
    ("einsum_ellipsis", lambda a, b: np.einsum("...j,jk->...k", a, b), (Z(2, 3, 0), Z(0, 4)),
     None),
    ("einsum_trace", lambda a: np.einsum("ii", a), (Z(0, 0),), None),
    ("einsum_other", lambda a, w: np.einsum("ij,jk->ik", a, w), (Z(0, 3), W34),
     (Z(0, 3), Z(3, 4))),
    ("stack", lambda x: np.stack([x, 2 * x]), (Z(3, 0),), None),
    ("vstack", lambda x: np.vstack([x, x]), (Z(0, 4),), None),
    ("hstack", lambda x: np.hstack([x, x]), (Z(3, 0),), None),
    ("column_stack", lambda x: np.column_stack([x, x]), (Z(0),), None),
    ("concatenate", lambda x, y: np.concatenate([x, y]), (Z(0), np.ones(2)),
     (Z(0), np.ones(2))),
    ("mean_list", lambda x: np.mean([x, x], axis=0), (Z(0),), None),
    ("sum_list", lambda x: np.sum([x, x], axis=0), (Z(0),), None),
    ("select", lambda x: np.select([x > 0], [x], 0.0), (Z(0),), None),
    ("interp", lambda x: np.interp(x, XP, FP), (Z(0),), None),
    ("polyval", lambda x: np.polyval(COEF, x), (Z(0),), None),
    ("polyval_coefficients", lambda c: np.polyval(c, np.ones(3)), (Z(0),), None),
    ("lstsq", lambda a, b: np.linalg.lstsq(a, b, rcond=None)[0], (Z(3, 0), np.ones(3)),
     (Z(3, 0), Z(3))),
    ("r_", lambda x: np.r_[x, 1.0], (Z(0),), None),
    ("c_", lambda x: np.c_[x, x], (Z(0),), None),
    ("astype", lambda x: x.astype(np.float32), (Z(0),), None),
    ("operator", lambda x: operator.add(operator.mul(x, x), operator.neg(x)), (Z(3, 0),),
     None),
    ("operator_matmul", lambda a, b: operator.matmul(a, b), (Z(3, 0), Z(0, 2)), None),
    ("index", lambda x: x[1:], (Z(1),), None),
    ("reshape", lambda x: np.reshape(x, (0, 5)), (Z(0),), None),
    ("norm", lambda x: np.linalg.norm(x), (Z(0),), None),
    ("where", lambda x: np.where(x > 0, x, -x), (Z(0),), None),
]


def _primal(f, args):
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)  # NumPy's mean of nothing
        return f(*args)


def _equal(got, want):
    assert np.shape(got) == np.shape(want)
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("name, f, args, want", ROWS, ids=[r[0] for r in ROWS])
def test_zero_size_reverse_mode(name, f, args, want):
    value = _primal(f, args)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        out, pullback = srcgrad.vjp(f, *args)
        _equal(out, value)
        cotangents = pullback(np.ones_like(value) if np.ndim(value) else 1.0)
    want = want or tuple(np.zeros_like(a) for a in args)
    for got, w in zip(cotangents, want):
        _equal(got, w)


# np.std along an empty axis is NaN; its tangent, ratio(0, count * NaN), is NaN too.
STD_NAN = pytest.mark.xfail(strict=True, reason="the tangent of np.std along an empty axis is "
                            "NaN (its formula divides by the NaN result), not 0")
FORWARD = [pytest.param(*r, id=r[0], marks=STD_NAN if r[0] == "std_axis0" else ())
           for r in ROWS]


@pytest.mark.parametrize("name, f, args, want", FORWARD)
def test_zero_size_forward_mode(name, f, args, want):
    value = _primal(f, args)
    empty = [i for i, a in enumerate(args) if np.size(a) == 0]
    tangents = tuple(np.ones_like(a) if i in empty else np.zeros_like(a)
                     for i, a in enumerate(args))
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        out, tangent = srcgrad.jvp(f, args, tangents)
    _equal(out, value)
    _equal(tangent, np.zeros_like(value))  # the output depends on no entry of an empty arg


def grad_sum_matmul(a, b):
    return np.sum(a @ b)


def grad_sum_einsum(a):
    return np.einsum("ij->", a)


def test_grad_of_a_product_of_empty_matrices_has_their_shapes():
    ga, gb = srcgrad.grad(grad_sum_matmul, wrt=(0, 1))(Z(3, 0), Z(0, 4))
    _equal(ga, Z(3, 0))
    _equal(gb, Z(0, 4))
    _equal(srcgrad.grad(grad_sum_einsum)(Z(0, 5)), Z(0, 5))


def max_all(x):
    return np.max(x)


def gradient_all(x):
    return np.sum(np.gradient(x))


def convolve_all(x):
    return np.sum(np.convolve(x, np.ones(3)))


@pytest.mark.parametrize("f, x, message", [
    (max_all, Z(0), "zero-size array to reduction operation maximum"),
    (gradient_all, Z(1), "too small to calculate a numerical gradient"),
    (convolve_all, Z(0), "cannot be empty"),
], ids=["max", "gradient", "convolve"])
def test_where_numpy_refuses_the_primal_its_error_is_given(f, x, message):
    with pytest.raises(ValueError, match=message):
        f(x)
    with pytest.raises((ValueError, SrcgradError), match=message):
        srcgrad.grad(f)(x)
    with pytest.raises((ValueError, SrcgradError), match=message):
        srcgrad.jvp(f, (x,), (x,))
