"""Gradients of CuPy arrays (issue 17): the code path Dask arrays take, without the guard
against computing (a CuPy array holds its values on the device).

The tests marked ``gpu`` run only where CuPy and a GPU are present, and are skipped with
the reason otherwise: on the machines srcgrad is developed and tested on there is no
GPU, so they have not run (README, "What was run where"). What does run everywhere is
the same path with a stand-in: ``ndarray``, an array class of a module named ``cupy``
that hands every NumPy function and ufunc to NumPy on its data and wraps the results
(as CuPy does on the device), and refuses to be converted to a NumPy array (as CuPy
does). It checks that such an array is taken as a CuPy array, gets the code for any
shape, stays a stand-in through the run-time helpers, and that a mixed call is a
located error; it says nothing about CuPy itself.
"""

from __future__ import annotations

import numpy as np
import pytest
from fixtures import dask_losses as L

import srcgrad
from srcgrad import arrays


def _gpu() -> str | None:
    """Why the GPU tests cannot run here (None if they can)."""
    try:
        import cupy
    except ImportError:
        return "CuPy is not installed (and needs a GPU)"
    try:
        if cupy.cuda.runtime.getDeviceCount() < 1:
            return "CuPy finds no GPU"
    except Exception as exc:  # noqa: BLE001 - CUDA's own error: no driver, no device
        return f"CuPy finds no GPU ({type(exc).__name__}: {exc})"
    return None


gpu = pytest.mark.skipif(_gpu() is not None, reason=str(_gpu()))


def _data(put):
    """Rows, labels, one-hot labels, and the same put on the device by ``put``."""
    rng = np.random.default_rng(3)
    X = rng.normal(size=(64, 4))
    y = (rng.random(64) < 0.5).astype(float)
    Y = np.eye(3)[rng.integers(0, 3, 64)]
    return X, y, Y, (put(X), put(y), put(Y))


@pytest.mark.gpu
@gpu
def test_gradients_of_cupy_arrays_stay_on_the_device():
    import cupy

    X, y, Y, (Xc, yc, Yc) = _data(cupy.asarray)
    w = np.linspace(-0.5, 0.5, 4)
    g = srcgrad.grad(L.logistic)(cupy.asarray(w), Xc, yc)
    assert isinstance(g, cupy.ndarray)
    np.testing.assert_allclose(cupy.asnumpy(g), L.logistic_hand(w, X, y), rtol=1e-10)
    W, b = np.ones((4, 3)) * 0.1, np.zeros(3)
    gW, gb = srcgrad.grad(L.softmax_xent, wrt=(0, 1))(cupy.asarray(W), cupy.asarray(b), Xc, Yc)
    want = L.softmax_xent_hand(W, b, X, Y)
    np.testing.assert_allclose(cupy.asnumpy(gW), want[0], rtol=1e-10)
    np.testing.assert_allclose(cupy.asnumpy(gb), want[1], rtol=1e-10)


@pytest.mark.gpu
@gpu
def test_a_branch_on_a_cupy_value_is_decided_and_mixing_is_located():
    import cupy

    X, _, _, (Xc, _, _) = _data(cupy.asarray)
    w = np.ones(4)
    g = srcgrad.grad(L.branching)(cupy.asarray(w), Xc)  # bool() of a CuPy value: computed
    np.testing.assert_allclose(cupy.asnumpy(g), srcgrad.grad(L.branching)(w, X))
    with pytest.raises(srcgrad.SrcgradError) as info:  # CuPy takes no NumPy operand
        srcgrad.grad(L.logistic)(w, Xc, cupy.zeros(64))
    assert info.value.loc is not None


# ---- the stand-in: the CuPy path, run everywhere ---------------------------------------------

def _unwrap(x):
    if isinstance(x, ndarray):
        return x.data
    if isinstance(x, (list, tuple)):
        return type(x)(_unwrap(e) for e in x)
    if isinstance(x, np.ndarray):  # CuPy takes no NumPy array as an operand
        raise TypeError("Unsupported type <class 'numpy.ndarray'>")
    return x


def _wrap(x):
    if isinstance(x, np.ndarray):
        return ndarray(x)
    if isinstance(x, (list, tuple)):
        return type(x)(_wrap(e) for e in x)
    return x


class ndarray(np.lib.mixins.NDArrayOperatorsMixin):  # noqa: N801 - CuPy's class name
    """An array whose data NumPy computes, standing in for a CuPy array: a class
    ``ndarray`` of a module ``cupy`` (``__module__``; nothing is put in sys.modules)."""

    __module__ = "cupy"

    def __init__(self, data):
        self.data = np.asarray(data)

    shape = property(lambda self: self.data.shape)
    dtype = property(lambda self: self.data.dtype)
    ndim = property(lambda self: self.data.ndim)
    T = property(lambda self: ndarray(self.data.T))

    def __array__(self, dtype=None, copy=None):
        raise TypeError("Implicit conversion to a NumPy array is not allowed")

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if "out" in kwargs:
            kwargs["out"] = _unwrap(kwargs["out"])
        return _wrap(getattr(ufunc, method)(*_unwrap(inputs), **kwargs))

    def __array_function__(self, func, types_, args, kwargs):
        return _wrap(func(*_unwrap(args), **_unwrap(kwargs)))

    def __getitem__(self, index):
        return _wrap(self.data[_unwrap(index)])

    def __setitem__(self, index, value):
        self.data[_unwrap(index)] = _unwrap(value)

    def __len__(self):
        return len(self.data)

    def __iter__(self):
        return (ndarray(row) for row in self.data)

    def __bool__(self):
        return bool(self.data)

    def __float__(self):
        return float(self.data)

    def astype(self, dtype):
        return ndarray(self.data.astype(dtype))

    def copy(self):
        return ndarray(self.data.copy())

    def reshape(self, *shape):
        return ndarray(self.data.reshape(*shape))

    def sum(self, *args, **kwargs):
        return _wrap(self.data.sum(*args, **kwargs))


stand_in = ndarray


class Elsewhere:
    """An array NumPy dispatches to, of another library: a type srcgrad does not take."""

    shape, dtype = (3,), np.dtype(float)

    def __array_function__(self, func, types_, args, kwargs):
        return NotImplemented


def test_the_stand_in_is_taken_for_a_cupy_array():
    assert arrays.library(stand_in(np.ones(3))) == "cupy"
    assert arrays.library(Elsewhere()) is None and arrays.unsupported(Elsewhere())


def test_gradients_of_the_stand_in_stay_stand_ins_and_equal_numpys():
    X, y, Y, (Xc, yc, Yc) = _data(stand_in)
    w = np.linspace(-0.5, 0.5, 4)
    g = srcgrad.grad(L.logistic)(stand_in(w), Xc, yc)
    assert isinstance(g, stand_in)
    np.testing.assert_allclose(g.data, L.logistic_hand(w, X, y), rtol=1e-12)
    W, b = np.ones((4, 3)) * 0.1, np.zeros(3)
    gW, gb = srcgrad.grad(L.softmax_xent, wrt=(0, 1))(stand_in(W), stand_in(b), Xc, Yc)
    want = L.softmax_xent_hand(W, b, X, Y)
    assert isinstance(gW, stand_in) and isinstance(gb, stand_in)
    np.testing.assert_allclose(gW.data, want[0], rtol=1e-12)
    np.testing.assert_allclose(gb.data, want[1], rtol=1e-12, atol=1e-15)
    g = srcgrad.grad(L.branching)(stand_in(w), Xc)  # a branch: decided (no guard for CuPy)
    np.testing.assert_allclose(g.data, srcgrad.grad(L.branching)(w, X))
    g = srcgrad.grad(L.after_epochs)(stand_in(w), Xc, yc)  # a loop, the tape
    np.testing.assert_allclose(g.data, srcgrad.grad(L.after_epochs)(w, X, y), rtol=1e-12)


def test_mixing_numpy_into_the_stand_in_is_a_located_error():
    _, _, _, (Xc, yc, _) = _data(stand_in)
    with pytest.raises(srcgrad.SrcgradError) as info:
        srcgrad.grad(L.logistic)(np.ones(4), Xc, yc)
    assert info.value.loc is not None and "X @ w" in info.value.loc.text
