"""``srcgrad.graph`` and ``srcgrad graph``: the computation graph at a point, with each
value and its adjoint, checked against the lecture's numbers, hand-derived formulas and
central finite differences; the renderers' output parsed (SVG as XML, DOT by a
grammar check, PNG by its signature)."""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import lecture
import numpy as np
import pytest

import srcgrad
from srcgrad import cli
from srcgrad.graphs import GraphTooLarge

ROOT = Path(__file__).resolve().parent.parent
LECTURE = str(ROOT / "examples" / "lecture.py")


def central(f, args, i, h=1e-6):
    """d f / d args[i] by central differences (args[i] a float or an array: all entries)."""
    x = np.asarray(args[i], dtype=float)
    out = np.zeros_like(x)
    for k in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[k] += h
        down[k] -= h
        a = list(args)
        a[i] = up if x.ndim else float(up)
        b = list(args)
        b[i] = down if x.ndim else float(down)
        out[k] = (f(*a) - f(*b)) / (2 * h)
    return out if x.ndim else float(out)


@pytest.fixture(scope="module")
def lecture_graph():
    return srcgrad.graph(lecture.f, *lecture.POINT)


def test_lecture_values_and_adjoints_are_the_slides(lecture_graph):
    g = lecture_graph
    values = {"x": "2", "y": "-1", "z": "0", "a": "4", "b": "1", "c": "-1", "d": "3",
              "e": "0.141", "g": "0.141"}
    adjoints = {"g": "1", "e": "1", "d": "-0.99", "a": "-0.99", "c": "-0.99", "b": "0.99",
                "x": "-3.96", "y": "-0.99", "z": "1.99"}
    for name, text in values.items():
        assert g.node(name).value_lines() == [text], name
    for name, text in adjoints.items():
        assert g.node(name).adjoint_lines() == [text], name
    # the numbers behind the text: the chain rule by hand
    d = 4 - 1
    assert g.node("d").adjoint == pytest.approx(math.cos(d), abs=1e-15)
    assert g.node("x").adjoint == pytest.approx(math.cos(d) * 4, abs=1e-15)
    assert g.node("z").adjoint == pytest.approx(-math.cos(d) + 1, abs=1e-15)
    assert g.node("e").value == pytest.approx(math.sin(3), abs=1e-15)


def test_lecture_nodes_edges_and_marks(lecture_graph):
    g = lecture_graph
    assert [n.label for n in g.nodes] == ["x", "y", "z", "a", "b", "c", "d", "e", "g"]
    assert {n.label for n in g.nodes if n.kind == "input"} == {"x", "y", "z"}
    assert [n.label for n in g.nodes if n.kind == "output"] == ["g"]
    edges = {(e.src, e.dst): e.label for e in g.edges}
    assert edges == {("x", "a"): "(·)²", ("z", "b"): "exp", ("y", "c"): "×", ("b", "c"): "×",
                     ("a", "d"): "+", ("c", "d"): "+", ("d", "e"): "sin", ("e", "g"): "+",
                     ("z", "g"): "+"}
    assert [n.label for n in g.nodes if g.fanout(n.id) > 1] == ["z"]
    assert "fan-out 2" in g.svg() and "fan-out 2" in g.dot()
    text = str(g)
    assert "z " in text and "(used 2 times)" in text and "adjoint 1.99" in text


def test_svg_parses_and_shows_every_node(lecture_graph):
    root = ET.fromstring(lecture_graph.svg())
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    for label in ("x  (input)", "a", "g  (output)", "adjoint = -3.96", "value = 0.141", "sin"):
        assert label in texts, label
    assert lecture_graph._repr_svg_() == lecture_graph.svg()


_DOT_STMT = re.compile(r'^  ("(?:[^"\\]|\\.)*")( -> ("(?:[^"\\]|\\.)*"))? \[(.*)\];$')
_DOT_ATTR = re.compile(r'\s*[a-z]+=(?:"(?:[^"\\]|\\.)*"|[0-9A-Za-z#.]+)\s*(,|$)')


def check_dot(text: str) -> list[str]:
    """A small check of the DOT subset dot.render writes; the statements' ids."""
    lines = text.splitlines()
    assert re.fullmatch(r'digraph "(?:[^"\\]|\\.)*" \{', lines[0]) and lines[-1] == "}"
    ids = []
    for line in lines[1:-1]:
        if re.fullmatch(r"  (rankdir=LR|label=\"(?:[^\"\\]|\\.)*\"; labelloc=t|"
                        r"(node|edge) \[.*\]);", line):
            continue
        m = _DOT_STMT.match(line)
        assert m, line
        assert "".join(a.group(0) for a in _DOT_ATTR.finditer(m.group(4))) == m.group(4), line
        ids.append(m.group(1) + (m.group(2) or ""))
    return ids


def test_dot_is_valid(lecture_graph):
    ids = check_dot(lecture_graph.dot())
    assert '"x"' in ids and '"z" -> "b"' in ids and len(ids) == 9 + 9
    try:
        import pydot
    except ImportError:
        return
    (parsed,) = pydot.graph_from_dot_data(lecture_graph.dot())
    assert len(parsed.get_edges()) == 9


def test_png_has_the_signature_or_says_what_to_install(lecture_graph, tmp_path):
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        with pytest.raises(srcgrad.UsageError, match=r"pip install srcgrad\[viz\]"):
            lecture_graph.save(str(tmp_path / "g.png"))
        pytest.skip("matplotlib is not installed (the viz extra): PNG refused as it should")
    path = lecture_graph.save(str(tmp_path / "g.png"))
    assert Path(path).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_committed_readme_picture_is_up_to_date(lecture_graph):
    """docs/lecture_graph.svg is `srcgrad graph examples/lecture.py:f --at x=2,y=-1,z=0
    -o docs/lecture_graph.svg`."""
    assert (ROOT / "docs" / "lecture_graph.svg").read_text(encoding="utf-8") == \
        lecture_graph.svg()


def arrays(W, x):
    h = np.tanh(W @ x)
    return np.sum(h * h)


def test_arrays_show_shapes_and_adjoints_match_finite_differences():
    W = np.linspace(-1.0, 1.2, 12).reshape(3, 4)
    x = np.array([0.5, -1.0, 2.0, 0.25])
    g = srcgrad.graph(arrays, W, x)
    assert g.node("W").value_lines() == ["shape 3×4", "min -1 mean 0.1 max 1.2"]
    assert g.node("W@x").value_lines()[0].endswith("(3)")
    assert g.node("h").adjoint_lines()[0].startswith("[")
    np.testing.assert_allclose(g.node("W").adjoint, central(arrays, (W, x), 0), rtol=1e-6)
    np.testing.assert_allclose(g.node("x").adjoint, central(arrays, (W, x), 1), rtol=1e-6)
    h = np.tanh(W @ x)  # by hand: d sum(h*h) / d h = 2h
    np.testing.assert_allclose(g.node("h").adjoint, 2 * h, rtol=1e-14)
    assert g.fanout("h") == 1  # h * h: one primitive, one edge (labelled ×)
    ET.fromstring(g.svg())


def three_steps(x, w):
    s = 0.0
    for i in range(3):  # noqa: B007 - the labels name the iterations by i
        s = s + np.sin(x * w)
        x = x * 2.0
    return s


def test_small_loop_is_unrolled_iteration_by_iteration():
    g = srcgrad.graph(three_steps, 0.7, 1.3)
    labels = [n.label for n in g.nodes]
    for i in range(3):
        assert f"s_2 (i={i})" in labels and f"sin(x*w) (i={i})" in labels or \
            f"sin(x_2*w) (i={i})" in labels
    assert g.node("x").adjoint == pytest.approx(central(three_steps, (0.7, 1.3), 0),
                                                rel=1e-7)
    assert g.node("w").adjoint == pytest.approx(central(three_steps, (0.7, 1.3), 1),
                                                rel=1e-7)
    assert g.node("s_2 (i=2)").kind == "output"
    assert g.node("s_2 (i=2)").value == pytest.approx(sum(math.sin(0.7 * 2**i * 1.3)
                                                          for i in range(3)))
    assert g.fanout("w") == 3
    # s_bar flows through the versions of s unchanged (the derivative keeps no variable
    # of its own for them): each is d s_final / d s_k = 1; x's last version is dead: 0
    for label in ("s", "s_2 (i=0)", "s_2 (i=1)", "s_2 (i=2)"):
        assert g.node(label).adjoint == 1.0, label
    assert g.node("x_2 (i=2)").adjoint == 0.0


def long_loop(x, n: int):
    s = 0.0
    for i in range(n):
        s = s + np.sin(x) * i
    return s


def test_long_loop_is_one_region_with_its_carried_value():
    g = srcgrad.graph(long_loop, 0.3, 1000)
    (region,) = [n for n in g.nodes if n.kind == "region"]
    assert region.label == "for loop (line 178, 1000 iterations)".replace(
        "178", str(long_loop.__code__.co_firstlineno + 2))
    out = [n for n in g.nodes if n.kind == "output"]
    assert len(out) == 1 and out[0].value == pytest.approx(math.sin(0.3) * 499500)
    assert g.node("x").adjoint == pytest.approx(math.cos(0.3) * 499500, rel=1e-12)
    assert {e.src for e in g.edges if e.dst == region.id} == {"x", "n", "s"}
    assert len(g.nodes) < 10
    ET.fromstring(g.svg())
    check_dot(g.dot())


def test_too_big_is_a_located_error():
    with pytest.raises(GraphTooLarge) as info:
        srcgrad.graph(long_loop, 0.3, 1000, unroll=2000)
    assert info.value.loc is not None and info.value.loc.line == \
        long_loop.__code__.co_firstlineno + 2
    assert "more than 300 nodes" in str(info.value) and "max_nodes" in str(info.value)
    with pytest.raises(GraphTooLarge):
        srcgrad.graph(lecture.f, *lecture.POINT, max_nodes=5)


def branchy(x):
    if x > 0:
        y = np.exp(np.sin(x) ** 2 + x)
    else:
        y = -x
    return y


def test_the_branch_taken_at_the_point():
    up = srcgrad.graph(branchy, 0.5)
    assert "sin(x)**2" in [n.label for n in up.nodes]
    assert up.node("x").adjoint == pytest.approx(central(branchy, (0.5,), 0), rel=1e-7)
    down = srcgrad.graph(branchy, -0.5)
    assert "sin(x)" not in [n.label for n in down.nodes]
    assert down.node("x").adjoint == -1.0


def test_bad_arguments_are_located():
    with pytest.raises(srcgrad.UsageError) as info:
        srcgrad.graph(lecture.f, 2.0, -1.0)
    assert "missing a required argument: 'z'" in str(info.value)
    assert info.value.loc is not None and info.value.loc.line == lecture.f.__code__.co_firstlineno
    with pytest.raises(srcgrad.UsageError, match="numbers and arrays"):
        srcgrad.graph(lecture.f, 2.0, "a", 0.0)


# -- the command line --------------------------------------------------------------


def test_cli_writes_svg_and_dot(tmp_path, capsys):
    for suffix in ("svg", "dot"):
        out = tmp_path / f"f.{suffix}"
        assert cli.main(["graph", f"{LECTURE}:f", "--at", "x=2,y=-1,z=0", "-o", str(out)]) == 0
        assert "wrote" in capsys.readouterr().out
        text = out.read_text(encoding="utf-8")
        if suffix == "svg":
            ET.fromstring(text)
        else:
            check_dot(text)
    assert cli.main(["graph", f"{LECTURE}:f", "--at", "x=2,y=-1,z=0"]) == 0
    assert "adjoint -3.96" in capsys.readouterr().out


@pytest.mark.parametrize(("args", "message"), [
    (["graph", f"{LECTURE}:nope", "--at", "x=2"], "no function named 'nope'"),
    (["graph", f"{LECTURE}:f", "--at", "x=abc,y=1,z=0"], "--at 'x=abc': expected NAME=NUMBER"),
    (["graph", f"{LECTURE}:f", "--at", "x=2,y=-1"], "lecture.py:25:1: the arguments do not "
     "fit f's parameters: missing a required argument: 'z'"),
    (["graph", f"{LECTURE}:f", "--at", "x=2,y=-1,z=0", "-o", "f.jpg"], "cannot tell the "
     "picture format"),
])
def test_cli_errors_are_located_with_exit_code_1(args, message, capsys):
    assert cli.main(args) == 1
    err = capsys.readouterr().err
    assert err.startswith("srcgrad: ") and message in err and "Traceback" not in err


def broadcasting(x, w):
    u = x * w
    v = np.sin(u) + w
    return np.sum(v)


def test_every_adjoint_has_its_values_shape():
    x = np.array([0.1, -0.4, 2.0])
    g = srcgrad.graph(broadcasting, x, 0.5)
    for n in g.nodes:
        assert np.shape(n.adjoint) == np.shape(n.value), n.label
    assert g.node("w").adjoint == pytest.approx(float(np.sum(np.cos(x * 0.5) * x)) + 3,
                                                rel=1e-14)
    np.testing.assert_allclose(g.node("u").adjoint, np.cos(x * 0.5), rtol=1e-14)


def spin(x):
    k = 0
    while k < 3:
        x = x * np.cos(x)
        k = k + 1
    return x


def stop_early(x):
    s = 0.0
    for i in range(5):
        s = s + x ** i
        if s > 2:
            break
    return s


def test_while_and_break_loops_are_boxes_with_the_right_adjoints():
    g = srcgrad.graph(spin, 0.5)
    (box,) = [n for n in g.nodes if n.kind == "region"]
    assert box.label.startswith("while loop")
    assert g.node("x").adjoint == pytest.approx(central(spin, (0.5,), 0), rel=1e-7)
    g = srcgrad.graph(stop_early, 1.1)
    (box,) = [n for n in g.nodes if n.kind == "region"]
    assert box.label.endswith("at most 5 iterations)")
    assert g.node("x").adjoint == pytest.approx(central(stop_early, (1.1,), 0), rel=1e-7)


def grid(x):
    s = 0.0
    for i in range(2):
        for j in range(2):
            s = s + x * i - j
    return s


def test_nested_loops_name_both_iterations():
    g = srcgrad.graph(grid, 0.3)
    assert g.node("s_3 (i=1, j=0)").value == pytest.approx(0.3 - 1)
    assert g.node("x").adjoint == 2.0 and g.fanout("x") == 4


def written_in_place(x):
    y = np.zeros(3)
    y[0] = x[1] ** 2
    return np.sum(y * x)


def test_writes_in_place_are_refused_at_the_write():
    with pytest.raises(srcgrad.UnsupportedSyntax, match="written in place") as info:
        srcgrad.graph(written_in_place, np.array([1.0, 2.0, 3.0]))
    assert info.value.loc.line == written_in_place.__code__.co_firstlineno + 2


def spiral(x):
    return np.abs(np.exp(1j * x) + x) ** 2


def test_complex_values_inside_show_no_adjoint_and_real_ones_are_right():
    g = srcgrad.graph(spiral, 0.3)
    assert g.node("exp(1j*x)").adjoint is None
    assert g.node("exp(1j*x)").adjoint_lines() == ["·"]
    by_hand = 2 * (math.cos(0.3) + 0.3) * (1 - math.sin(0.3)) + 2 * math.sin(0.3) * math.cos(0.3)
    assert g.node("x").adjoint == pytest.approx(by_hand, rel=1e-14)
    with pytest.raises(srcgrad.UsageError, match="real numbers and arrays; x is a complex"):
        srcgrad.graph(spiral, 0.3 + 1j)


def test_an_array_output_is_refused_with_what_to_write():
    with pytest.raises(srcgrad.NonScalarOutput, match=r"shape \(2,\)") as info:
        srcgrad.graph(three_steps, np.ones(2), 1.0)
    assert "np.sum" in str(info.value)
