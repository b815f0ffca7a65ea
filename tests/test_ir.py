"""The IR: text form, the verifier after every stage, and the layering of modules."""

import ast
import math
import pathlib

import numpy as np
import pytest

from srcgrad import backend, frontend, ir, optimize, transform
from srcgrad.errors import InternalError, Loc


def lecture(x, y, z):
    return math.sin(x**2 + y * math.exp(z)) + z


def arrays(w, x, b):
    h = np.tanh(x @ w + b)
    h2 = h * h
    h2 -= np.mean(h, axis=0, keepdims=True)
    return np.sum(h2.T) / np.size(h)


def reuse(x):
    y = x * x
    z = y + y * x
    return max(z, y, 1.0)


PROGRAMS = [lecture, arrays, reuse]


@pytest.mark.parametrize("fn", PROGRAMS, ids=lambda f: f.__name__)
def test_every_stage_output_verifies(fn):
    primal = frontend.lower(frontend.capture(fn))
    ir.verify(primal)
    n = len(primal.params)
    for kinds in ("scalar", "any"):
        for seed in ("one", "param"):
            d = transform.reverse(primal, tuple(range(n)), {p.name: kinds for p in primal.params},
                                seed)
            ir.verify(d)
            opt = optimize.optimize(d)
            ir.verify(opt)
            source, _, _ = backend.emit(opt)
            compile(source, "<test>", "exec")


def test_every_statement_has_a_location_in_the_user_file():
    primal = frontend.lower(frontend.capture(arrays))
    d = transform.reverse(primal, (0, 1, 2), {}, "one")
    first = arrays.__code__.co_firstlineno
    for s in d.body:
        assert s.loc.file == __file__
        assert first <= s.loc.line <= first + 4
        assert s.loc.text.strip()


def test_text_form_is_one_statement_per_line():
    text = str(frontend.lower(frontend.capture(lecture)))
    assert text.splitlines() == [
        "def lecture(x, y, z):",
        f"    t1 = pow x, 2{' ' * 27}  # line {lecture.__code__.co_firstlineno + 1}",
        f"    t2 = math.exp z{' ' * 25}  # line {lecture.__code__.co_firstlineno + 1}",
        f"    t3 = mul y, t2{' ' * 26}  # line {lecture.__code__.co_firstlineno + 1}",
        f"    t4 = add t1, t3{' ' * 25}  # line {lecture.__code__.co_firstlineno + 1}",
        f"    t5 = math.sin t4{' ' * 24}  # line {lecture.__code__.co_firstlineno + 1}",
        f"    out = add t5, z{' ' * 25}  # line {lecture.__code__.co_firstlineno + 1}",
        "    return out",
    ]


def with_dead_code(x):
    unused = np.exp(x)  # noqa: F841 - the dead statement under test
    y = x * 2.0
    return y


def test_dead_code_removes_what_no_return_needs():
    primal = frontend.lower(frontend.capture(with_dead_code))
    assert any(s.target.name == "unused" for s in primal.body)
    d = optimize.dead_code(transform.reverse(primal, (0,), {"x": "scalar"}, "one"))
    defined = {s.target.name for s in d.body}
    assert "unused" not in defined
    used = {u.name for s in d.body for u in s.uses()} | {r.name for r in d.returns
                                                         if isinstance(r, ir.Var)}
    assert defined <= used


LOC = Loc("f.py", 1, 0, "x")


@pytest.mark.parametrize("body, message", [
    ([ir.Stmt(ir.Var("y"), "add", (ir.Var("x"), ir.Var("nope")), LOC)], "used before"),
    ([ir.Stmt(ir.Var("x"), "neg", (ir.Var("x"),), LOC)], "defined twice"),
    ([ir.Stmt(ir.Var("y"), "frobnicate", (ir.Var("x"),), LOC)], "unknown op"),
    ([ir.Stmt(ir.Var("y"), "neg", (ir.Var("x"),), None)], "without location"),
])
def test_verifier_rejects_broken_ir(body, message):
    fn = ir.Function("f", (ir.Var("x"),), body, (ir.Var("x"),), LOC)
    with pytest.raises(InternalError, match=message):
        ir.verify(fn)


# The pipeline's stages, lowest first: a stage imports only stages on a lower line, and
# only what their ``__init__`` names (``from ..ir import Var``, ``from .. import ir``),
# never one of their modules (``from ..ir.nodes import Var``). Files of one package
# import each other freely. ``frontend`` and ``transform`` share a line: neither may
# import the other.
LAYERS = [
    {"errors", "runtime"},
    {"loops"},  # srcgrad.checkpointed, the user's marker (imports runtime)
    {"arrays"},  # the array types taken: NumPy's, Dask's and CuPy's (imports errors alone)
    {"pytrees", "lazy"},  # structured arguments taken apart; lazy: Dask computes nothing
    {"ir"},
    {"rules"},
    {"frontend", "transform"},
    {"optimize"},
    {"backend"},
    {"compiled"},  # the numba backend: after emit, imported by build
    {"build", "higher_tape"},
    {"checks", "shown", "custom", "coverage", "higher"},
    {"callpaths"},  # the dispatcher's per-call paths
    {"dispatch", "structured", "outputs", "exporting"},
    {"api"},
    {"gradcheck", "graphs", "highlight"},  # graphs: pictures of a computation graph
    {"cli", "__init__"},
]
RANK = {stage: rank for rank, layer in enumerate(LAYERS) for stage in layer}
PACKAGES = {"runtime", "ir", "rules", "frontend", "transform", "optimize", "backend", "graphs",
            "exporting", "compiled"}


def _imports(path: pathlib.Path, package: list[str]):
    """(module path under srcgrad/, names or None) of each srcgrad import in ``path``;
    ``package`` is the folders between srcgrad/ and the file."""
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level:
            parts = package[:len(package) - node.level + 1] + \
                (node.module.split(".") if node.module else [])
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "srcgrad":
            parts = node.module.split(".")[1:]  # from srcgrad.runtime import ...
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.split(".")[0] == "srcgrad" and a.name != "srcgrad":
                    yield a.name.split(".")[1:], None
            continue
        else:
            continue
        if parts:
            yield parts, [a.name for a in node.names]
        else:  # from . import api: each name is a stage
            yield from (([a.name], None) for a in node.names)


def _exported(init: pathlib.Path) -> set[str]:
    """The names a package's ``__init__`` binds at its top level."""
    names, todo = set(), list(ast.parse(init.read_text()).body)
    while todo:
        node = todo.pop()
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name))
        elif isinstance(node, (ast.If, ast.Try)):
            todo += node.body + node.orelse + getattr(node, "handlers", []) + \
                getattr(node, "finalbody", [])
        elif isinstance(node, ast.ExceptHandler):
            todo += node.body
    return names


def test_module_layering_has_no_back_edges():
    """Each stage imports only stages below it, through their ``__init__``; ``runtime``,
    what generated code calls, imports nothing else of srcgrad."""
    root = pathlib.Path(ir.__file__).parent.parent
    packages = set()
    for path in sorted(root.rglob("*.py")):
        package = list(path.relative_to(root).parts[:-1])
        stage = package[0] if package else path.stem
        if package:
            packages.add(stage)
        for parts, names in _imports(path, package):
            if parts[0] == stage:
                continue
            assert RANK[parts[0]] < RANK[stage], (path, "imports a stage above or beside it",
                                                  parts[0])
            assert len(parts) == 1, (path, "reaches past the __init__ of", ".".join(parts))
            if names and parts[0] in PACKAGES:
                missing = set(names) - _exported(root / parts[0] / "__init__.py")
                assert not missing, (path, f"{parts[0]}/__init__.py does not name", missing)
    assert packages == PACKAGES
