"""Shape inference (srcgrad/transform/shapes.py): known exactly when the argument shapes fix it."""

import numpy as np

from srcgrad import frontend, transform


def _infer(f, **arg_shapes):
    fn = frontend.lower(frontend.capture(f))
    kinds = {p.name: transform.ANY for p in fn.params}
    a = transform.Analysis(fn, (0,), kinds)
    found = transform.infer_shapes(fn, a, arg_shapes)
    return {k: v for k, v in found.items() if isinstance(k, str)}


def _loop(x, w):
    T = x.shape[0]
    h = np.zeros(x.shape[1])
    for t in range(1, T):
        row = x[t - 1]
        h = np.tanh(h * w + row)
    y = h @ np.ones((x.shape[1], 2))
    return np.sum(y)


def _mask_and_branch(x):
    big = x[x > 0]
    if np.sum(x) > 0:
        z = x * 2.0
    else:
        z = np.ones(3)
    return np.sum(big) + np.sum(z)


def _growing(x):
    s = x
    for _ in range(3):
        s = np.concatenate([s, x])
    return np.sum(s)


def test_shapes_through_a_loop_and_products():
    found = _infer(_loop, x=(5, 4), w=(4,))
    assert found["T"] == ()
    assert found["row"] == (4,)
    assert found["y"] == (2,)
    h_versions = [v for k, v in found.items() if k.startswith("h")]
    assert h_versions and all(v == (4,) for v in h_versions)


def test_value_dependent_shapes_stay_unknown():
    found = _infer(_mask_and_branch, x=(3,))
    assert "big" not in found  # a boolean mask: its length depends on the values
    z = [v for k, v in found.items() if k.startswith("z")]
    assert (3,) in z  # both branches make a (3,) array, so the merged value is known


def test_a_shape_that_changes_in_a_loop_is_unknown():
    found = _infer(_growing, x=(2,))
    arrays = {k for k, v in found.items() if v != ()}
    assert arrays == {"x", "s"}  # s before the loop; its versions in and after it: unknown
