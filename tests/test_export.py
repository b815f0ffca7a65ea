"""``srcgrad.export``: the derivative as a standalone module (srcgrad/exporting/).

Each exported module is imported in a fresh interpreter (``python -I``) where an import
hook makes ``import srcgrad`` fail, and called there; its numbers are compared, in
this process, with ``srcgrad``'s own transforms and with independent ones (a hand-written
forward-backward, central differences, the lecture's hand-derived gradient).
"""

from __future__ import annotations

import importlib
import math
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import srcgrad
from srcgrad import exporting as ex
from srcgrad import highlight, runtime

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
sys.path.insert(0, str(EXAMPLES))
hmm = importlib.import_module("hmm")
lecture = importlib.import_module("lecture")
mlp = importlib.import_module("mlp")

# Runs in the fresh interpreter: srcgrad cannot be imported; the module is called on the
# arrays of in.npz (in order; 0-d ones as Python numbers) and what it returns is saved to out.npz.
_RUNNER = """
import sys
class _NoSrcgrad:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "srcgrad":
            raise ImportError("srcgrad is blocked in this interpreter")
sys.meta_path.insert(0, _NoSrcgrad())
try:
    import srcgrad
except ImportError:
    pass
else:
    raise SystemExit("srcgrad could be imported")
folder, module, function = sys.argv[1:4]
for extra in [folder, *sys.argv[4:]]:
    sys.path.insert(0, extra)
import importlib
import numpy as np
data = np.load(folder + "/in.npz")
args = [data[f"arr_{k}"] for k in range(len(data.files))]
args = [a.item() if a.ndim == 0 else a for a in args]
out = getattr(importlib.import_module(module), function)(*args)
np.savez(folder + "/out.npz", *[np.asarray(o) for o in out])
assert "srcgrad" not in sys.modules
"""


def run_isolated(text: str, folder: Path, function: str, args: tuple,
                 path: tuple[str, ...] = ()) -> list[np.ndarray]:
    """Write ``text`` as ``folder/exported_*.py``, call ``function`` on ``args`` in a
    fresh interpreter without srcgrad; what it returned."""
    name = f"exported_{function}"
    (folder / f"{name}.py").write_text(text)
    np.savez(folder / "in.npz", *[np.asarray(a) for a in args])
    proc = subprocess.run([sys.executable, "-I", "-c", _RUNNER, str(folder), name, function,
                           *path], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    out = np.load(folder / "out.npz")
    return [out[f"arr_{k}"] for k in range(len(out.files))]


def _imports(text: str) -> set[str]:
    import ast
    found = set()
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            found.add(node.module or "")
    return found


# ---- the examples -----------------------------------------------------------------------

def test_lecture_gradient_without_srcgrad(tmp_path):
    text = srcgrad.export(lecture.f, wrt=("x", "y", "z"))
    assert _imports(text) == {"math"}
    for point in [(2.0, -1.0, 0.0), (0.3, 1.7, -0.4)]:
        value, *grads = run_isolated(text, tmp_path, "f_grad", point)
        x, y, z = point
        d = x * x + y * math.exp(z)  # by hand: f = sin(x^2 + y e^z) + z
        assert float(value) == pytest.approx(math.sin(d) + z, rel=1e-12)
        expected = [math.cos(d) * 2 * x, math.cos(d) * math.exp(z),
                    math.cos(d) * y * math.exp(z) + 1]
        assert [float(g) for g in grads] == pytest.approx(expected, rel=1e-12)
        assert [float(g) for g in grads] == pytest.approx(
            list(srcgrad.grad(lecture.f, wrt=("x", "y", "z"))(*point)), rel=1e-14)
    assert [round(float(g), 2) for g in run_isolated(text, tmp_path, "f_grad",
                                                      (2.0, -1.0, 0.0))[1:]] == \
        [-3.96, -0.99, 1.99]  # the lecture's slide


def test_lecture_tangent_without_srcgrad(tmp_path):
    text = srcgrad.export(lecture.f, wrt=("x", "z"), mode="forward")
    point, tangent = (0.3, 1.7, -0.4), (0.5, -2.0)
    value, dot = run_isolated(text, tmp_path, "f_jvp", point + tangent)
    expected = srcgrad.jvp(lecture.f, point, (0.5, 0.0, -2.0))
    assert (float(value), float(dot)) == pytest.approx(expected, rel=1e-14)


@pytest.mark.parametrize("how", ["example", "shapes"])
def test_hmm_gradient_without_srcgrad(tmp_path, how):
    args = hmm.example(T=6, K=3, seed=2)
    given = {"example": args} if how == "example" else \
        {"shapes": "log_init=3,log_trans=3x3,log_emit=6x3"}
    text = srcgrad.export(hmm.log_partition, wrt=(0, 1, 2), **given)
    assert _imports(text) == {"numpy"}
    value, *grads = run_isolated(text, tmp_path, "log_partition_grad", args)
    want_value, want = srcgrad.value_and_grad(hmm.log_partition, wrt=(0, 1, 2))(*args)
    assert float(value) == pytest.approx(float(want_value), rel=1e-13)
    for got, expected in zip(grads, want, strict=True):
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-14)
    # d log Z / d log_emit is the posterior marginals, computed by hand
    np.testing.assert_allclose(grads[2], hmm.forward_backward(*args), rtol=1e-10, atol=1e-13)


def test_shape_specialized_export_refuses_other_shapes(tmp_path):
    text = srcgrad.export(hmm.log_partition, wrt="log_emit",
                          shapes={"log_init": (3,), "log_trans": (3, 3), "log_emit": (6, 3)})
    assert "np.zeros((6, 3))" in text or "(6, 3)" in text
    name = "exported_shapes"
    (tmp_path / f"{name}.py").write_text(text)
    code = (f"import sys; sys.path.insert(0, {str(tmp_path)!r}); import numpy as np; "
            f"from {name} import log_partition_grad as g; "
            "g(np.zeros(3), np.zeros((3, 3)), np.zeros((7, 3)))")
    proc = subprocess.run([sys.executable, "-I", "-c", code], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode != 0
    assert "exported for arrays of shapes" in proc.stderr and "(6, 3)" in proc.stderr


def test_mlp_method_with_dataclass_parameters(tmp_path):
    model = mlp.MLP()
    x, labels = mlp.data(n=12)
    params = model.init()
    with pytest.raises(srcgrad.SrcgradError, match="example"):
        srcgrad.export(model.loss)  # the dataclass's fields are known from a call only
    text = srcgrad.export(model.loss, example=(params, x, labels))
    assert _imports(text) == {"numpy"}
    leaves = (params.W1, params.b1, params.W2, params.b2, x, labels)
    value, *grads = run_isolated(text, tmp_path, "loss_grad", leaves)
    want_value, want = srcgrad.value_and_grad(model.loss)(params, x, labels)
    assert float(value) == pytest.approx(float(want_value), rel=1e-13)
    for got, field in zip(grads, ("W1", "b1", "W2", "b2"), strict=True):
        np.testing.assert_allclose(got, getattr(want, field), rtol=1e-12, atol=1e-14)
    # one entry against central differences (independent of srcgrad)
    h, up, down = 1e-6, params.W1.copy(), params.W1.copy()
    up[1, 2] += h
    down[1, 2] -= h
    fd = (model.loss(mlp.Params(up, params.b1, params.W2, params.b2), x, labels)
          - model.loss(mlp.Params(down, params.b1, params.W2, params.b2), x, labels)) / (2 * h)
    assert grads[0][1, 2] == pytest.approx(fd, rel=1e-6, abs=1e-9)


# ---- globals, refusals, usage ----------------------------------------------------------

def test_module_globals_are_imported_from_the_users_module(tmp_path):
    (tmp_path / "weights_mod.py").write_text(textwrap.dedent("""
        import numpy as np

        W = np.array([[1.0, -2.0], [0.5, 3.0], [0.0, 1.5]])
        SCALE = 0.7


        def f(x):
            return SCALE * np.sum(np.tanh(W @ x) ** 2)
    """))
    sys.path.insert(0, str(tmp_path))
    try:
        mod = importlib.import_module("weights_mod")
        text = srcgrad.export(mod.f, example=(np.array([0.2, -0.4]),))
        run_dir = tmp_path / "run"
        run_dir.mkdir()
        value, grad = run_isolated(text, run_dir, "f_grad", (np.array([0.2, -0.4]),),
                                   path=(str(tmp_path),))
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("weights_mod", None)
    assert "from weights_mod import" in text and "W" in text
    x = np.array([0.2, -0.4])
    t = np.tanh(mod.W @ x)
    np.testing.assert_allclose(grad, mod.W.T @ (mod.SCALE * 2 * t * (1 - t * t)), rtol=1e-12)
    assert float(value) == pytest.approx(mod.f(x), rel=1e-14)


def test_a_value_without_a_home_is_refused_at_its_line():
    def make():
        def bump(v):  # a local function: nothing can import it
            return v * 1.5
        srcgrad.defpartials(bump, "v", "1.5")

        def f(x):
            return bump(x) * 2.0  # READS BUMP
        return f

    f = make()
    with pytest.raises(ex.NotExportable) as info:
        srcgrad.export(f, example=(1.0,))
    message = str(info.value)
    assert "bump" in message and "cannot refer to it" in message
    assert "READS BUMP" in message  # located: the user's line is quoted


def test_parse_shapes():
    assert ex.parse_shapes("x=3x4, y=4,s=") == {"x": (3, 4), "y": (4,), "s": None}
    for bad in ["x=3xa", "x", "3=4", "x=-1", "x=3,x=4"]:
        with pytest.raises(srcgrad.UsageError, match="shapes"):
            ex.parse_shapes(bad)


def test_shapes_must_name_the_parameters():
    with pytest.raises(srcgrad.UsageError, match="no parameter q"):
        srcgrad.export(hmm.log_partition, shapes="q=3")
    with pytest.raises(srcgrad.UsageError, match="no shape given for log_emit"):
        srcgrad.export(hmm.log_partition, shapes="log_init=3,log_trans=3x3")


def test_unwritable_path_is_an_error(tmp_path):
    with pytest.raises(srcgrad.UsageError, match="cannot write"):
        srcgrad.export(lecture.f, path=tmp_path / "no_such_folder" / "f_grad.py")


def test_written_file_is_the_returned_text(tmp_path):
    target = tmp_path / "f_grad.py"
    assert srcgrad.export(lecture.f, wrt=("x", "y", "z"), path=target) == target.read_text()


# ---- the copied helpers ------------------------------------------------------------------

def test_every_runtime_helper_copies_into_a_module_without_srcgrad(tmp_path):
    """All public helpers at once (renames included: equal names in several modules,
    ``decomp._read`` made a plain name): the module imports, and the copies compute
    what the originals do."""
    modules = [runtime, *(getattr(runtime, m) for m in (
        "casts", "complexes", "decomp", "finite", "linalg", "matfuncs", "ported",
        "second_order", "shape", "sorting", "special", "stats", "transposes"))]
    used = {}
    for m in modules:
        for n in m.__all__:
            used[n if n not in used else f"{n}_{m.__name__.rsplit('.', 1)[1]}"] = getattr(m, n)
    copied = ex.helpers.copy(used, {})
    imports = [f"import {mod.__name__} as {alias}" for alias, mod in copied.modules.items()]
    text = "\n".join(imports) + "\n\n\n" + "\n\n\n".join(copied.blocks) + "\n"
    text += textwrap.dedent("""
        def probe(a, b):
            return unbroadcast(a, b), ratio(a, b), sum_to(a, (1, 3))
    """)
    a = np.array([[1.0, 2.0, 0.5], [0.0, -1.0, 3.0], [2.0, 1.0, 1.0]])
    b = np.array([[2.0, 0.0, 4.0]])
    got = run_isolated(text, tmp_path, "probe", (a, b))
    np.testing.assert_array_equal(got[0], runtime.unbroadcast(a, b))
    np.testing.assert_array_equal(got[1], runtime.finite.ratio(a, b))
    np.testing.assert_array_equal(got[2], runtime.sum_to(a, (1, 3)))


def test_exported_module_names_no_srcgrad():
    for text in (srcgrad.export(hmm.log_partition, wrt=(0, 1, 2)),
                 srcgrad.export(lecture.f_numpy, example=(np.ones(3), np.ones(3), 0.5))):
        assert not any(m.split(".")[0] == "srcgrad" for m in _imports(text))
        compile(text, "<exported>", "exec")


# ---- colours ------------------------------------------------------------------------------

def test_highlight_colours_and_strips_back():
    text = srcgrad.derivative_source(lecture.f, wrt=("x", "y", "z"))
    coloured = highlight.highlight(text)
    assert highlight.strip(coloured) == text
    assert f"{highlight.KEYWORD}def{highlight.RESET}" in coloured
    assert f"{highlight.ADJOINT}x_bar{highlight.RESET}" in coloured
    assert f"{highlight.NUMBER}2{highlight.RESET}" in coloured
    assert highlight.COMMENT + "# line 31: g = e + z" in coloured
    assert highlight.STRING + '"""Gradient of f' in coloured


def test_usage_errors_are_located_at_the_call():
    with pytest.raises(srcgrad.UsageError) as info:
        srcgrad.export(hmm.log_partition, shapes="log_emit=6x")  # THE CALL
    assert info.value.loc is not None and info.value.loc.file == __file__
    assert "THE CALL" in str(info.value)
