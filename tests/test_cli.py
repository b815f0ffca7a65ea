"""The installed ``srcgrad`` console script, run as a user runs it (a subprocess).

Contract (design.md, cli.py): ``srcgrad show FILE.py:FUNC [--wrt x,y] [--ir]``
prints the derivative source (or IR) on stdout; errors go to stderr as one
located paragraph with exit code 1; usage errors exit 2; never a traceback.
"""

from __future__ import annotations

import importlib.util
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from srcgrad import cli, runtime

SRCGRAD = os.path.join(os.path.dirname(sys.executable), "srcgrad")
FIXTURES = Path(__file__).resolve().parent / "fixtures"
GOOD = str(FIXTURES / "good_code.py")
BAD = str(FIXTURES / "bad_code.py")


def run(*args: str, cwd: str | None = None, hashseed: str = "0") -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONHASHSEED": hashseed}
    proc = subprocess.run([SRCGRAD, *args], capture_output=True, cwd=cwd, env=env, timeout=60)
    proc.out, proc.err = proc.stdout.decode(), proc.stderr.decode()
    assert "Traceback" not in proc.err, f"a traceback reached the user:\n{proc.err}"
    return proc


def marked(path: str, marker: str) -> tuple[int, str]:
    """(1-based line, text) of the one line of ``path`` ending in ``# marker``."""
    pattern = re.compile(rf"#\s*{re.escape(marker)}\s*$")
    lines = Path(path).read_text().splitlines()
    hits = [(i, t) for i, t in enumerate(lines, 1) if pattern.search(t)]
    assert len(hits) == 1, f"expected one '# {marker}' line in {path}"
    return hits[0]


def test_console_script_is_installed():
    assert os.access(SRCGRAD, os.X_OK), f"{SRCGRAD} is not an installed executable"


# ---- show -------------------------------------------------------------------------------

@pytest.mark.parametrize("func, wrt", [("poly", None), ("poly", "x,z"), ("loss", "w,b")])
def test_show_prints_compilable_source(func, wrt):
    p = run("show", f"{GOOD}:{func}", *(["--wrt", wrt] if wrt else []))
    assert p.returncode == 0, p.err
    assert p.err == ""
    compile(p.out, f"<srcgrad show {func}>", "exec")
    assert f"def {func}_grad(" in p.out


def _load_good():
    spec = importlib.util.spec_from_file_location("srcgrad_test_good_code", GOOD)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _printed_gradient(wrt: str | None):
    """Run the printed source of poly's gradient with the fixture's globals and the
    runtime helpers in scope; return the function it defines."""
    p = run("show", f"{GOOD}:poly", *(["--wrt", wrt] if wrt else []))
    assert p.returncode == 0, p.err
    namespace = {k: v for k, v in vars(runtime).items() if not k.startswith("_")}
    namespace.update(vars(_load_good()))
    exec(compile(p.out, "<srcgrad show poly>", "exec"), namespace)
    return namespace["poly_grad"]


def _partials(x, y, z):
    """d/dx, d/dy, d/dz of poly(x, y, z) = (x*y + sin z) * z - y / x, by hand."""
    return y * z + y / x**2, x * z - 1 / x, x * y + math.sin(z) + z * math.cos(z)


@pytest.mark.parametrize("wrt, which", [(None, [0]), ("x,z", [0, 2]), ("z", [2]),
                                        ("2,y", [2, 1])])
def test_wrt_selects_the_returned_adjoints(wrt, which):
    point = (1.5, -0.5, 2.0)
    value, *adjoints = _printed_gradient(wrt)(*point)
    assert value == pytest.approx(_load_good().poly(*point))
    expected = [_partials(*point)[i] for i in which]
    assert adjoints == pytest.approx(expected)


def test_ir_prints_the_ir():
    line, _ = marked(GOOD, "RETURN: poly")
    p = run("show", f"{GOOD}:poly", "--ir")
    assert p.returncode == 0, p.err
    assert p.err == ""
    assert "def poly(x, y, z):" in p.out and "def poly_grad(" in p.out
    assert f"# line {line}" in p.out  # each statement names the user's line
    assert p.out != run("show", f"{GOOD}:poly").out


@pytest.mark.parametrize("args", [
    ("show", f"{GOOD}:loss", "--wrt", "w,b,x"),
    ("show", f"{GOOD}:loss", "--wrt", "w,b,x", "--ir"),
    ("show", f"{GOOD}:poly", "--wrt", "x,y,z"),
    ("show", f"{BAD}:no_rule_math"),
], ids=["source", "ir", "scalar", "error"])
def test_output_is_deterministic(args):
    first = run(*args, hashseed="1")
    second = run(*args, hashseed="2")
    assert (first.returncode, first.stdout, first.stderr) == \
        (second.returncode, second.stdout, second.stderr)
    assert first.stdout or first.stderr


# ---- errors: exit 1, one paragraph on stderr, nothing on stdout -------------------------

def test_missing_file():
    missing = str(FIXTURES / "no_such_file.py")
    p = run("show", f"{missing}:poly")
    assert p.returncode == 1
    assert p.out == ""
    assert "no_such_file.py" in p.err


def test_missing_function():
    p = run("show", f"{GOOD}:no_such_function")
    assert p.returncode == 1
    assert p.out == ""
    assert "no_such_function" in p.err and "good_code.py" in p.err


def test_name_that_is_not_a_function():
    p = run("show", f"{GOOD}:math")
    assert p.returncode == 1
    assert p.out == ""
    assert "math" in p.err


# (fixture function, token the caret must point at)
UNSUPPORTED = [("try_statement", "try"), ("async_function", "async"),
               ("no_rule_math", "math.gamma"), ("undefined_name", "not_defined_anywhere")]


@pytest.mark.parametrize("case, token", UNSUPPORTED, ids=[c for c, _ in UNSUPPORTED])
def test_unsupported_construct_is_located(case, token):
    line, text = marked(BAD, f"BAD: {case}")
    col = text.index(token) + 1
    p = run("show", f"{BAD}:{case}")
    assert p.returncode == 1
    assert p.out == ""
    err = p.err.rstrip("\n").split("\n")
    head = next(i for i, s in enumerate(err) if f"{BAD}:{line}:{col}: " in s)
    shown, caret = err[head + 1], err[head + 2]
    assert shown.strip() == text.strip()
    assert caret.strip() == "^" and shown[caret.index("^"):].startswith(token)
    assert all(s.strip() for s in err), "the error is not one paragraph"


def test_unsupported_construct_with_relative_path():
    line, text = marked(BAD, "BAD: try_statement")
    p = run("show", "bad_code.py:try_statement", cwd=str(FIXTURES))
    assert p.returncode == 1
    assert p.out == ""
    m = re.search(r"(\S*bad_code\.py):(\d+):(\d+): ", p.err)
    assert m, p.err
    assert os.path.samefile(os.path.join(FIXTURES, m.group(1)), BAD)
    assert (int(m.group(2)), int(m.group(3))) == (line, text.index("try") + 1)


def test_bad_wrt_is_an_error():
    p = run("show", f"{GOOD}:poly", "--wrt", "nope")
    assert p.returncode == 1
    assert p.out == ""
    assert "nope" in p.err


def test_module_that_fails_to_import(tmp_path):
    path = tmp_path / "boom.py"
    path.write_text("raise RuntimeError('boom at import')\n\ndef f(x):\n    return x\n")
    p = run("show", f"{path}:f")
    assert p.returncode == 1
    assert p.out == ""
    assert "boom.py" in p.err and "boom at import" in p.err


def test_module_with_a_syntax_error(tmp_path):
    path = tmp_path / "broken.py"
    path.write_text("def f(x):\n    return x +\n")
    p = run("show", f"{path}:f")
    assert p.returncode == 1
    assert p.out == ""
    assert re.search(r"broken\.py:2:\d+: ", p.err), p.err


# ---- usage errors: exit 2 ---------------------------------------------------------------

@pytest.mark.parametrize("args", [
    (),
    ("show",),
    ("show", GOOD),
    ("show", f"{GOOD}:"),
    ("show", ":poly"),
    ("show", f"{GOOD}:poly", "--bogus"),
    ("frobnicate", f"{GOOD}:poly"),
], ids=["no-subcommand", "no-target", "no-colon", "no-function", "no-file", "unknown-option",
        "unknown-subcommand"])
def test_bad_usage_exits_2(args):
    p = run(*args)
    assert p.returncode == 2, (p.returncode, p.err)
    assert p.out == ""
    assert "usage:" in p.err


def test_mode_option():
    p = run("show", f"{GOOD}:poly", "--mode", "reverse")
    assert p.returncode == 0, p.err
    assert p.out == run("show", f"{GOOD}:poly").out


def test_coverage_table_is_up_to_date():
    """docs/coverage.md is generated from the registry; regenerate it with
    `srcgrad coverage` after adding a rule."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    p = run("coverage", "--check", cwd=root)
    assert p.returncode == 0, p.err


def test_no_opt_prints_the_transform_before_the_optimizer():
    """The HMM example: the raw transform recomputes T - 1 (no common subexpressions);
    the default output computes it once. Both compile."""
    hmm = str(FIXTURES.parent.parent / "examples" / "hmm.py")
    raw = run("show", f"{hmm}:log_partition", "--wrt", "log_emit", "--no-opt")
    opt = run("show", f"{hmm}:log_partition", "--wrt", "log_emit")
    assert raw.returncode == 0 and opt.returncode == 0, raw.err + opt.err
    for p in (raw, opt):
        compile(p.out, "<srcgrad show hmm>", "exec")
    assert raw.out.count("= T - 1\n") == 2 and opt.out.count("= T - 1\n") == 1


# ---- export, --shapes, --diff, --color, --help ------------------------------------------

EXAMPLES = FIXTURES.parent.parent / "examples"
HMM_SHAPES = "log_init=3,log_trans=3x3,log_emit=6x3"
_NO_SRCGRAD = """
import sys
class _Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "srcgrad":
            raise ImportError("blocked")
sys.meta_path.insert(0, _Block())
sys.path.insert(0, sys.argv[1])
from f_grad import f_grad
print(repr(f_grad(0.3, 1.7, -0.4)))
assert "srcgrad" not in sys.modules
"""


def test_export_writes_a_module_that_runs_without_srcgrad(tmp_path):
    out = tmp_path / "f_grad.py"
    p = run("export", f"{EXAMPLES / 'lecture.py'}:f", "--wrt", "x,y,z", "-o", str(out))
    assert p.returncode == 0, p.err
    assert p.out == "" and "wrote" in p.err
    assert "srcgrad" not in "".join(line for line in out.read_text().splitlines()
                                    if line.startswith(("import", "from")))
    proc = subprocess.run([sys.executable, "-I", "-c", _NO_SRCGRAD, str(tmp_path)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    value, *grads = eval(proc.stdout)  # noqa: S307 - a tuple of floats we printed
    x, y, z = 0.3, 1.7, -0.4
    d = x * x + y * math.exp(z)  # f = sin(x^2 + y e^z) + z, by hand
    assert value == pytest.approx(math.sin(d) + z, rel=1e-12)
    assert grads == pytest.approx([math.cos(d) * 2 * x, math.cos(d) * math.exp(z),
                                   math.cos(d) * y * math.exp(z) + 1], rel=1e-12)


def test_export_with_shapes_writes_the_specialized_code(tmp_path):
    out = tmp_path / "lp_grad.py"
    p = run("export", f"{EXAMPLES / 'hmm.py'}:log_partition", "--wrt", "log_emit",
            "--shapes", HMM_SHAPES, "-o", str(out))
    assert p.returncode == 0, p.err
    text = out.read_text()
    assert "np.zeros((6, 3))" in text and "exported for arrays of shapes" in text


@pytest.mark.parametrize("args, message", [
    (("export", f"{GOOD}:no_such_function", "-o", "{out}"), "no function named"),
    (("export", f"{GOOD}:poly", "--shapes", "x=3xb", "-o", "{out}"), "shapes: cannot read"),
    (("export", f"{GOOD}:poly", "-o", "{tmp}/no_such_folder/out.py"), "cannot write"),
    (("show", f"{GOOD}:poly", "--shapes", "x=3x", "--wrt", "x"), "shapes: cannot read"),
    (("export", f"{EXAMPLES / 'mlp.py'}:MLP.loss", "-o", "{out}"), "example="),
], ids=["unknown-function", "bad-shapes", "unwritable", "show-shapes",
        "dataclass-argument"])
def test_export_errors_exit_1(tmp_path, args, message):
    out = tmp_path / "out.py"
    p = run(*(a.format(out=out, tmp=tmp_path) for a in args))
    assert p.returncode == 1, (p.returncode, p.err)
    assert p.out == "" and message in p.err
    assert not out.exists()


def test_export_of_unsupported_code_is_located(tmp_path):
    line, text = marked(BAD, "BAD: try_statement")
    out = tmp_path / "out.py"
    p = run("export", f"{BAD}:try_statement", "-o", str(out))
    assert p.returncode == 1
    assert f"{BAD}:{line}:{text.index('try') + 1}: " in p.err
    assert not out.exists()


def test_export_needs_an_output():
    p = run("export", f"{GOOD}:poly")
    assert p.returncode == 2 and "-o" in p.err


def test_show_shapes_prints_the_code_calls_run():
    target = f"{EXAMPLES / 'hmm.py'}:log_partition"
    general = run("show", target, "--wrt", "log_emit")
    shaped = run("show", target, "--wrt", "log_emit", "--shapes", HMM_SHAPES)
    assert shaped.returncode == 0, shaped.err
    compile(shaped.out, "<shaped>", "exec")
    assert "np.zeros((6, 3))" in shaped.out and "np.zeros((6, 3))" not in general.out


def test_show_diff_is_the_optimizers_changes():
    p = run("show", f"{EXAMPLES / 'hmm.py'}:log_partition", "--wrt", "log_emit", "--diff")
    assert p.returncode == 0, p.err
    lines = p.out.splitlines()
    assert lines[0].startswith("--- transform") and lines[1].startswith("+++ optimized")
    # the raw transform computes T - 1 twice, the optimized code once (see above)
    assert any(s.startswith("-") and s.endswith("= T - 1") for s in lines)
    assert "\x1b[" not in p.out  # piped: no colours


def test_show_colours_on_request_only():
    target = f"{GOOD}:poly"
    plain = run("show", target)
    coloured = run("show", target, "--color", "always")
    assert "\x1b[" not in plain.out and "\x1b[" in coloured.out
    assert re.sub(r"\x1b\[[0-9;]*m", "", coloured.out) == plain.out


@pytest.mark.parametrize("command", ["show", "export", "coverage"])
def test_every_subcommand_help_has_an_example(command, capsys):
    with pytest.raises(SystemExit) as exit_:  # (argparse's help: in this process, cheaply)
        cli.main([command, "--help"])
    out = capsys.readouterr().out
    assert exit_.value.code == 0
    assert "examples:" in out and f"srcgrad {command}" in out.split("examples:")[1]


def test_version_option():
    p = run("--version")
    assert p.returncode == 0 and re.fullmatch(r"srcgrad \d+\.\d+\.\d+\n", p.out)
