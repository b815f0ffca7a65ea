"""The IR: text form, the verifier after every stage, and the layering of modules."""

import ast
import math
import pathlib

import numpy as np
import pytest

from srcgrad import emit, ir, lower, optimize, parse, reverse
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
    primal = lower.lower(parse.capture(fn))
    ir.verify(primal)
    n = len(primal.params)
    for kinds in ("scalar", "any"):
        for seed in ("one", "param"):
            d = reverse.reverse(primal, tuple(range(n)), {p.name: kinds for p in primal.params},
                                seed)
            ir.verify(d)
            opt = optimize.optimize(d)
            ir.verify(opt)
            source, _, _ = emit.emit(opt)
            compile(source, "<test>", "exec")


def test_every_statement_has_a_location_in_the_user_file():
    primal = lower.lower(parse.capture(arrays))
    d = reverse.reverse(primal, (0, 1, 2), {}, "one")
    first = arrays.__code__.co_firstlineno
    for s in d.body:
        assert s.loc.file == __file__
        assert first <= s.loc.line <= first + 4
        assert s.loc.text.strip()


def test_text_form_is_one_statement_per_line():
    text = str(lower.lower(parse.capture(lecture)))
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
    primal = lower.lower(parse.capture(with_dead_code))
    assert any(s.target.name == "unused" for s in primal.body)
    d = optimize.dead_code(reverse.reverse(primal, (0,), {"x": "scalar"}, "one"))
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


# Which srcgrad modules each module may import: the pipeline's layers, one way.
ALLOWED = {
    "errors": set(), "naming": set(), "runtime": set(),
    "ir": {"errors", "runtime"}, "parse": {"errors"},
    "lower_structs": {"ir"},
    "lower_calls": {"ir", "errors", "lower_structs"},
    "lower_flow": {"ir", "lower_calls"},
    "lower_jumps": set(),
    "lower_inplace": {"ir", "errors"},
    "lower_views": {"ir", "errors", "runtime"},
    "lower": {"ir", "errors", "naming", "parse", "lower_flow", "lower_jumps", "lower_calls",
              "lower_inplace", "lower_views"},
    "rules": {"ir", "errors", "runtime", "rules"},
    "analysis": {"ir", "errors", "rules"},
    "reverse_flow": {"ir", "errors", "runtime"},
    "shapes": {"ir", "analysis"},
    "reverse_arrays": {"ir", "errors", "runtime", "analysis", "reverse_flow"},
    "reverse_tape": {"ir", "errors", "runtime", "reverse_flow", "lower_inplace"},
    "reverse": {"ir", "errors", "naming", "rules", "runtime", "analysis", "reverse_flow",
                "shapes", "reverse_arrays", "reverse_tape"},
    "forward": {"ir", "errors", "naming", "runtime", "analysis"},
    "simplify": {"ir", "runtime", "rules"},
    "optimize": {"ir", "simplify"},
    "storage": {"ir", "naming"},
    "verify_storage": {"ir", "errors"},
    "emit": {"ir", "errors", "naming", "storage", "verify_storage"},
    "emit_module": {"runtime"},
    "build": {"ir", "errors", "emit", "lower", "optimize", "parse", "reverse", "forward",
              "runtime"},
    "checks": {"errors", "build"},
    "api": {"ir", "errors", "emit", "optimize", "runtime", "forward", "build", "checks",
            "shown"},
    "shown": {"ir", "errors", "optimize", "reverse", "build", "emit_module"},
    "coverage": {"rules"},
    "cli": {"api", "errors", "coverage"},
    "custom": {"rules", "errors", "runtime"},
    "__init__": {"api", "errors", "custom"},
}


def _imports(path: pathlib.Path, package: list[str]) -> set[str]:
    """The srcgrad modules ``path`` imports, a package (``rules``, ``runtime``) counting as
    one; ``package`` is the folders between srcgrad/ and the file."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package[:len(package) - node.level + 1]
            if node.module:
                found.add((base + node.module.split("."))[0])
            else:
                found.update((base + [a.name])[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("srcgrad"):
            parts = node.module.split(".")[1:]  # from srcgrad.runtime import ...
            found.update([parts[0]] if parts else [a.name for a in node.names])
        elif isinstance(node, ast.Import):
            found.update((a.name.split(".")[1:] or ["srcgrad"])[0] for a in node.names
                         if a.name.split(".")[0] == "srcgrad")
    return found


def test_module_layering_has_no_back_edges():
    """A package's files may import each other, and what ALLOWED lets the package import:
    ``runtime``, what generated code calls, imports nothing else of srcgrad."""
    root = pathlib.Path(ir.__file__).parent
    packages = set()
    for path in sorted(root.rglob("*.py")):
        package = list(path.relative_to(root).parts[:-1])
        name = package[0] if package else path.stem
        if package:
            packages.add(name)
        imported = _imports(path, package) - {"srcgrad"}
        assert imported <= ALLOWED[name] | ({name} if package else set()), (path, imported)
    assert packages == {"rules", "runtime"} and not ALLOWED["runtime"]
