"""The lecture's demonstrations (examples/paths.py, finite_differences.py,
cheap_gradient.py, jacobian_modes.py, hmm.py, cky.py) and docs/lagrangian.md.

Each example runs here at its small sizes (``main(quick=True)``); what it claims is
checked against numbers computed without srcgrad: path counts against the graph the
generated source draws, the sum over paths and the hand-written Jacobian against
central differences, the Lagrangian page's table against the generated gradient's
locals. Timings are printed by the examples, never asserted.
"""

from __future__ import annotations

import ast
import math
import re
from pathlib import Path

import cheap_gradient
import cky
import finite_differences
import hmm
import jacobian_modes
import lecture
import numpy as np
import paths
import pytest

import srcgrad

ROOT = Path(__file__).resolve().parent.parent


def _central(fn, x: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """Central differences of a function of one array, written here (not srcgrad's)."""
    grad = np.empty_like(x)
    for i in range(x.size):
        e = np.zeros_like(x)
        e[i] = h
        grad.flat[i] = (fn(x + e) - fn(x - e)) / (2 * h)
    return grad


# paths.py


def _paths_in_source(source: str) -> int:
    """Paths from the inputs x[j] to the returned value in the graph the source draws:
    one node per assignment (or input), an edge from each name it reads."""
    body = next(n for n in ast.parse(source).body if isinstance(n, ast.FunctionDef)).body
    count: dict[str, int] = {}  # paths from any input to each node

    def into(expr: ast.expr) -> int:
        total = 0
        for node in ast.walk(expr):
            if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) \
                    and node.value.id == "x":
                total += 1  # an input x[j]: one path (the empty one) starts there
            elif isinstance(node, ast.Name) and node.id in count:
                total += count[node.id]
        return total

    for stmt in body:
        if isinstance(stmt, ast.Assign):
            count[stmt.targets[0].id] = into(stmt.value)  # type: ignore[attr-defined]
        elif isinstance(stmt, ast.Return):
            assert stmt.value is not None
            return into(stmt.value)
    raise AssertionError("no return")


@pytest.mark.parametrize("n, w", [(1, 2), (3, 2), (2, 3), (4, 3)])
def test_path_count_is_the_closed_form(n, w):
    assert _paths_in_source(paths.layered_source(n, w)) == paths.path_count(n, w) == w ** (n + 1)


def test_the_sum_over_paths_is_the_gradient(tmp_path):
    n, w = 3, 3
    x, W = paths.instance(n, w)
    by_paths = paths.gradient_by_paths(x, W)
    layered = paths.layered_function(n, w, str(tmp_path))
    # the sum over paths against numbers: central differences of the function itself
    np.testing.assert_allclose(by_paths, _central(lambda v: layered(v, W), x),
                               rtol=1e-8, atol=1e-9)
    np.testing.assert_allclose(srcgrad.grad(layered, wrt="x")(x, W), by_paths,
                               rtol=1e-13, atol=1e-14)
    assert paths.check(n, w, str(tmp_path)) < 1e-13


def test_generated_work_grows_linearly_while_paths_multiply(tmp_path):
    counts = [paths.generated_counts(paths.layered_function(n, 2, str(tmp_path)))
              for n in (1, 2, 3, 4)]
    steps = {(b[0] - a[0], b[1] - a[1]) for a, b in zip(counts, counts[1:])}
    assert len(steps) == 1  # the same statements and products for each layer added
    (statements, products), = steps
    # per layer: w*w forward products, and each edge's adjoint product (w*w) plus
    # each node's cos factor (w): linear in the edges
    assert products == 2 * 2 * 2 + 2


def test_paths_example_runs(capsys):
    paths.main(quick=True)
    out = capsys.readouterr().out
    assert re.search(r"^\s+4\s+243\s+39\s+\d+\s+\d+$", out, re.M)
    difference = float(re.search(r"largest difference (\S+)", out).group(1))
    assert difference < 1e-13
    assert "def layered_grad(x, W):" in out


# finite_differences.py


def test_gradient_of_the_timed_function_is_right():
    x = np.linspace(-1.0, 1.5, 7)
    by_hand = math.cos(x @ x) * 2 * x + 2 * x / (1 + x**2)
    np.testing.assert_allclose(srcgrad.grad(finite_differences.f)(x), by_hand, rtol=1e-14)
    np.testing.assert_allclose(finite_differences.central_differences(finite_differences.f, x),
                               by_hand, rtol=1e-8, atol=1e-9)


def test_difference_errors_make_the_v():
    rows = finite_differences.error_table()
    hs = [r[0] for r in rows]
    assert hs[0] == 1e-1 and hs[-1] == pytest.approx(1e-13)
    best_forward = min(rows, key=lambda r: r[1])[0]
    best_central = min(rows, key=lambda r: r[2])[0]
    assert 1e-10 <= best_forward <= 1e-6  # near sqrt(eps)
    assert 1e-8 <= best_central <= 1e-4  # near eps ** (1/3)
    h, forward, central = rows[3]  # h = 1e-4: truncation, O(h) against O(h**2)
    second = 2 * math.cos(3.0) - 16 * math.sin(3.0)  # d2/dx2 sin(x**2 - 1) at x = 2
    assert h == pytest.approx(1e-4)
    assert forward == pytest.approx(abs(second) * h / 2, rel=0.05)
    assert central < 1e-6
    assert rows[-1][1] > 1e-5 and rows[-1][2] > 1e-5  # round-off at h = 1e-13


def test_finite_differences_example_runs_and_draws(capsys, tmp_path):
    picture = tmp_path / "fd_error.png"
    finite_differences.main(quick=True, picture=picture)
    out = capsys.readouterr().out
    assert "smallest error at h = 1e-08 (forward)" in out
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        assert "matplotlib is not installed" in out and not picture.exists()
    else:
        assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (ROOT / "docs" / "fd_error.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# cheap_gradient.py and jacobian_modes.py


def test_timed_examples_have_right_gradients():
    examples = cheap_gradient.examples()
    for name, fn, args, wrt in examples:
        assert srcgrad.check_grad(fn, *args, wrt=wrt) < 1e-6, name
    (arrays_name, _, arrays, _), (method_name, method, structured, _) = examples[2:4]
    assert "arrays" in arrays_name and "model.loss" in method_name
    # the two MLP rows time the same arithmetic
    assert cheap_gradient.mlp_loss(*arrays) == pytest.approx(method(*structured), rel=1e-14)


def test_cheap_gradient_example_prints_ratios(capsys):
    cheap_gradient.main(quick=True)
    out = capsys.readouterr().out
    ratios = re.findall(r"us\s+(\d+\.\d)$", out, re.M)
    assert len(ratios) == len(cheap_gradient.examples()) and all(float(r) > 0 for r in ratios)


def test_hand_written_jacobian_matches_differences():
    rng = np.random.default_rng(5)
    x, A = rng.normal(size=4), rng.normal(size=(3, 4))
    by_columns = np.stack([_central(lambda v, j=j: jacobian_modes.f(v, A)[j], x)
                           for j in range(3)])
    np.testing.assert_allclose(jacobian_modes.jacobian_by_hand(x, A), by_columns,
                               rtol=1e-8, atol=1e-9)


def test_jacobian_modes_example_runs(capsys):
    jacobian_modes.main(quick=True)
    rows = re.findall(r"^\s+(\d+)\s+(\d+)\s+\S+ms\s+\S+ms\s+\w+\s+(\S+)$",
                      capsys.readouterr().out, re.M)
    assert [(int(n), int(m)) for n, m, _ in rows] == jacobian_modes.QUICK_SIZES
    assert all(float(error) < 1e-12 for _, _, error in rows)


# hmm.py and cky.py


def test_adjoint_loop_is_the_reversed_loop_and_its_body():
    source = "def f_grad(x):\n    a = 1\n    for t in reversed(range(3)):\n" \
             "        a += t\n\n        a *= 2\n    return a\n"
    assert hmm.adjoint_loop(source) == ("def f_grad(x):\n    ...\n    for t in reversed(range(3)):"
                                        "\n        a += t\n\n        a *= 2")


def test_hmm_and_cky_print_marginals_and_the_adjoint_loop(capsys):
    hmm.main()
    out = capsys.readouterr().out
    assert "posterior marginals p(state_t = j | x)" in out
    assert "    for t in reversed(range(1, T)):" in out
    assert "alpha_bar[t - 1] +=" in out
    cky.main()
    out = capsys.readouterr().out
    assert "expected counts of A -> w" in out
    assert "    for length in reversed(" in out and "for j in reversed(" in out


# docs/lagrangian.md


def test_lagrangian_page_numbers_are_srcgrads():
    page = (ROOT / "docs" / "lagrangian.md").read_text()
    section = page.split("## The numbers", 1)[1]
    table = re.findall(r"^\| `(\w)` \| (\S+) \| (\S+) \|$", section, re.M)
    assert [row[0] for row in table] == ["g", "e", "d", "c", "b", "a", "x", "y", "z"]
    (_, grads), frame = lecture.run_and_watch(
        srcgrad.value_and_grad(lecture.f, wrt=(0, 1, 2)), lecture.POINT)
    values = dict(zip("xyz", lecture.POINT))
    adjoints = dict(zip("xyz", grads))
    for name in lecture.NODES:
        values[name], adjoints[name] = frame[name], frame[name + "_bar"]

    def shown(number: str, actual: float) -> bool:  # equal to the digits the page shows
        digits = len(number.split(".")[1]) if "." in number else 0
        return round(actual, digits) == float(number)

    for name, value, adjoint in table:
        assert shown(value, values[name]), (name, value, values[name])
        assert shown(adjoint, adjoints[name]), (name, adjoint, adjoints[name])
