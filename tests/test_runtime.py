"""``srcgrad.runtime`` is the public package of what generated code calls (issue 19).

Shown code imports srcgrad's helpers from ``srcgrad.runtime`` (the core) and its
modules (``from srcgrad.runtime.linalg import det_grad``). Checked here: each module
states its contract and lists in ``__all__`` exactly its public functions, each with a
one-line contract; every srcgrad function that rule text or the transform can bind is
one of them; and the code generated for every rule spec row (gradient, tangent and
Hessian-vector product), example program and control-flow program binds and imports
srcgrad functions only from there, calling every helper of the modules.
"""

from __future__ import annotations

import ast
import copy
import importlib
import importlib.util
import inspect
import pathlib
import pkgutil
import sys
import warnings

import numpy as np
import pytest
import test_control_flow
from rulespec import DIFF, NONDIFF, function_name, load_module
from test_shown_code import EXAMPLE_PROGRAMS, run_shown

import srcgrad
from srcgrad import backend, rules, runtime
from srcgrad.rules import helpers

MODULES = [runtime, *(importlib.import_module(f"{runtime.__name__}.{m.name}")
                      for m in pkgutil.iter_modules(runtime.__path__))]


def _not_public(obj) -> str | None:
    """Why ``obj`` is not a public run-time helper (None if it is one)."""
    name = getattr(obj, "__name__", repr(obj))
    module = sys.modules.get(getattr(obj, "__module__", None) or "")
    if module not in MODULES:
        return f"{name} is defined in {getattr(module, '__name__', module)}, not srcgrad.runtime"
    if name not in module.__all__ or getattr(module, name) is not obj:
        return f"{module.__name__}.{name} is not in its module's __all__"
    doc = inspect.getdoc(obj)
    if not doc or not doc.splitlines()[0].strip():
        return f"{module.__name__}.{name} has no docstring"
    return None


# ---- each module: a contract, and __all__ exactly its public functions ----------------

def test_the_package_holds_the_core_and_its_modules():
    assert [m.__name__ for m in MODULES[1:]] == [
        f"srcgrad.runtime.{m}" for m in
        ("casts", "checkpoints", "complexes", "decomp", "fft", "finite", "foreign",
         "linalg", "matfuncs", "ported",
         "second_order", "shape", "sorting", "special", "stats", "transposes")]
    for module in MODULES[1:]:  # importing srcgrad.runtime imports them
        assert getattr(runtime, module.__name__.rpartition(".")[2]) is module


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.__name__)
def test_all_lists_exactly_the_public_functions_each_with_a_contract(module):
    defined = {name for name, obj in vars(module).items()
               if inspect.isfunction(obj) and obj.__module__ == module.__name__
               and not name.startswith("_")}
    assert list(module.__all__) == sorted(defined)
    for name in module.__all__:
        assert _not_public(getattr(module, name)) is None
    doc = module.__doc__
    assert "public" in doc.lower() and "stable" in doc, module.__name__
    assert "contract" in doc.lower() and "__all__" in doc, module.__name__


# ---- what srcgrad can bind ------------------------------------------------------------

def _runtime_names_in_srcgrad() -> set[str]:
    """Every name srcgrad's own code (outside the package) takes from srcgrad.runtime:
    ``runtime.x``, ``rt.x``, ``from .runtime import x``, and in a file that looks names
    up with ``getattr(runtime, name)``, every string naming a helper."""
    found = set()
    root = pathlib.Path(srcgrad.__file__).parent
    for path in root.rglob("*.py"):
        if path.parent.name == "runtime":
            continue
        text = path.read_text()
        by_string = "getattr(runtime, name)" in text or "getattr(rt, name)" in text
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and \
                    node.value.id in ("runtime", "rt"):
                found.add(node.attr)
            elif isinstance(node, ast.ImportFrom) and (node.module or "").endswith("runtime"):
                found.update(a.name for a in node.names)
            elif by_string and isinstance(node, ast.Constant) and \
                    isinstance(node.value, str) and hasattr(runtime, node.value):
                found.add(node.value)
    return found


def test_every_helper_the_transform_binds_is_public():
    used = {n for n in _runtime_names_in_srcgrad() if inspect.isfunction(getattr(runtime, n))}
    assert {"seed", "unbroadcast", "expand", "zeros_like", "as_dtype_of", "fit",
            "disjoint_write", "kept"} <= used
    assert used <= set(runtime.__all__), used - set(runtime.__all__)


def test_every_srcgrad_function_rule_text_can_call_is_public():
    """A rule's text calls the names of its table's namespace; srcgrad's own are
    run-time helpers (NumPy, math and SciPy aside)."""
    own = {id(obj): obj for table in (*rules.TABLES, helpers.table)
           for obj in table.namespace.values()
           if callable(obj) and (getattr(obj, "__module__", None) or "").startswith("srcgrad")}
    assert len(own) >= 90
    problems = [p for p in map(_not_public, own.values()) if p]
    assert not problems, problems


# ---- what generated code binds and shown code imports --------------------------------

@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """(texts, bound): the shown code of every rule spec row (reverse with respect to
    all arguments, forward, order 2), example program and control-flow program, and
    every srcgrad object the emitter bound in the namespaces of that code."""
    rows = load_module(tmp_path_factory.mktemp("runtime") / "runtime_rows.py", "runtime_rows")
    programs = [(getattr(rows, function_name("dw", i, s)), tuple(range(len(s.params))), True)
                for i, s in enumerate(DIFF)]
    programs += [(getattr(rows, function_name("nw", i, s)), 0, False)
                 for i, s in enumerate(NONDIFF)]
    programs += [(fn, wrt, True) for fn, (_, wrt) in EXAMPLE_PROGRAMS.items()]
    programs += [(case.fn, case.wrt, True) for case in test_control_flow.CASES]
    bound: dict[int, object] = {}
    emitted = backend.emit

    def recording(fn, **options):
        out = emitted(fn, **options)
        bound.update((id(o), o) for o in out.namespace.values()
                     if (getattr(o, "__module__", None) or "").startswith("srcgrad"))
        return out

    texts = []
    with pytest.MonkeyPatch.context() as mp, warnings.catch_warnings():
        mp.setattr(backend, "emit", recording)
        warnings.simplefilter("ignore")  # step functions warn
        for fn, wrt, more in programs:
            for kw in ({"wrt": wrt}, *([{"mode": "forward"}, {"order": 2}] if more else [])):
                try:
                    texts.append(srcgrad.derivative_source(fn, **kw))
                except srcgrad.SrcgradError:  # not differentiable that way: no code
                    pass
    assert len(texts) > 2400
    return texts, list(bound.values())


def _srcgrad_imports(text: str) -> list[tuple[str, str]]:
    return [(node.module, alias.name) for node in ast.parse(text).body
            if isinstance(node, ast.ImportFrom) and node.module.split(".")[0] == "srcgrad"
            for alias in node.names]


def test_generated_code_binds_only_public_runtime_helpers(generated):
    _, bound = generated
    functions = [o for o in bound if not inspect.ismodule(o)]
    assert len(functions) > 90
    problems = sorted({p for p in map(_not_public, functions) if p})
    assert not problems, problems


# Helpers only the code for complex arguments (or its second order) calls: the programs
# above take real ones; tests/test_complex.py shows code that calls each.
# And helpers only reverse over reverse calls (the rule of a helper's adjoint).
NOT_SHOWN = {"srcgrad.runtime.complexes": {"abs_slope_vjp", "clog", "complex_copy",
                                           "into_complex"},
             "srcgrad.runtime.special": {"rows_stack"},
             # a checkpointed loop reading an array that later code writes into:
             # tests/test_checkpoint.py shows code that calls it
             "srcgrad.runtime.checkpoints": {"frozen"}}


def test_shown_code_imports_srcgrad_helpers_from_the_runtime_package(generated):
    texts, _ = generated
    used: dict[str, set[str]] = {}
    for text in texts:
        assert "srcgrad cannot print" not in text
        for module, name in _srcgrad_imports(text):
            assert module == "srcgrad.runtime" or module.startswith("srcgrad.runtime."), \
                (module, name)
            assert _not_public(getattr(importlib.import_module(module), name)) is None
            used.setdefault(module, set()).add(name)
    for module in MODULES[1:]:  # the core's: some only for programs not here (views)
        if module is runtime.transposes:  # reverse-over-reverse code only, not shown:
            continue  # test_reverse_over_reverse checks that rule text calls each
        if module is runtime.foreign:  # called by the core for Dask and CuPy arrays,
            continue  # never by generated code (tests/test_dask.py runs each)
        # (complex arguments' code: test_complex.py checks these in its shown code)
        expected = set(module.__all__) - NOT_SHOWN.get(module.__name__, set())
        assert used.get(module.__name__) == expected, \
            (module.__name__, expected - used.get(module.__name__, set()))


def test_shown_code_imports_a_module_helper_from_its_module():
    """One import line per module of the package, after the core's, and it runs."""
    def f(a, b):
        return np.linalg.det(a @ b) + np.sum(np.linalg.eigvalsh(a + a.T))

    text = srcgrad.derivative_source(f)
    assert text.startswith(
        "import numpy as np\n\n"
        "from srcgrad.runtime import (\n"
        "    as_dtype_of, expand, matmul_grad_a, seed, unbroadcast\n"
        ")\n"
        "from srcgrad.runtime.decomp import eigvalsh_grad\n"
        "from srcgrad.runtime.linalg import det_grad\n\n\n"
        "def f_grad(a, b):\n"), text
    args = (np.array([[2.0, 0.5], [0.3, 1.5]]), np.array([[1.0, 0.2], [-0.4, 0.9]]))
    value, grad = srcgrad.value_and_grad(f)(*copy.deepcopy(args))
    got = run_shown(text, args)
    assert got[0] == value and np.array_equal(got[1], grad)
