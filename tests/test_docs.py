"""The documentation is tested: README.md and docs/*.md cannot drift from srcgrad.

Conventions for fenced blocks (every fence must name one of these languages):

- ```python: a complete file. The test writes it to ``example.py`` in a fresh
  temporary folder, makes that folder the current directory and runs
  ``example.py`` as ``__main__`` (as ``python example.py`` would, so located
  errors and generated docstrings name ``example.py``); it must not raise.
- ```sh: one command a line, run from the repository's root (``#`` starts a
  comment). ``make ...`` and ``. .venv/bin/activate`` are the set-up the README
  describes and are not run here (``make test`` is this very run); the others must
  start with ``.venv/bin/srcgrad`` or ``srcgrad`` (run as this interpreter's
  ``srcgrad`` script, or ``python -m srcgrad.cli``), or ``.venv/bin/python`` or
  ``python`` (run with this interpreter), and must exit 0.
- ```text: not run. A text block that follows a python or sh block with only
  blank lines between is that block's output: what it prints must equal it (each
  line's trailing spaces and the final blank lines aside).

The API reference is built with pdoc, as ``make docs`` does, into a temporary
folder.
"""

from __future__ import annotations

import contextlib
import io
import re
import runpy
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

import srcgrad

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LANGUAGES = {"python", "sh", "text"}
_FENCE = re.compile(r"^```(\S*)\s*$")


@dataclass
class Block:
    path: Path
    line: int  # of the opening fence, 1-based
    lang: str
    text: str
    output: str | None = None  # the text block that follows it, if any
    end: int = 0  # line index of the closing fence

    @property
    def id(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"


def blocks(path: Path) -> list[Block]:
    """The fenced blocks of a Markdown file, each code block with its output block."""
    found: list[Block] = []
    lines = path.read_text().splitlines()
    i, last_end = 0, -10
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        start = i
        i += 1
        body = []
        while i < len(lines) and lines[i].rstrip() != "```":
            body.append(lines[i])
            i += 1
        if i == len(lines):
            raise AssertionError(f"{path}:{start + 1}: unclosed fence")
        block = Block(path, start + 1, m.group(1), "\n".join(body) + "\n")
        between = lines[last_end + 1:start]
        if (block.lang == "text" and found and found[-1].lang in ("python", "sh")
                and found[-1].output is None and last_end == found[-1].end
                and all(not s.strip() for s in between)):
            found[-1].output = block.text
        block.end = i
        found.append(block)
        last_end = i
        i += 1
    return found


ALL = [b for path in DOCS for b in blocks(path)]
PYTHON = [b for b in ALL if b.lang == "python"]
SHELL = [b for b in ALL if b.lang == "sh"]


def _same(got: str, expected: str) -> bool:
    def norm(s: str) -> str:
        return "\n".join(line.rstrip() for line in s.rstrip().splitlines())
    return norm(got) == norm(expected)


def test_every_fence_names_a_known_language():
    bad = [f"{b.id}: ```{b.lang}" for b in ALL if b.lang not in LANGUAGES]
    assert not bad, "fenced blocks must be python, sh or text:\n" + "\n".join(bad)


def test_there_are_snippets_to_run():
    assert len(PYTHON) >= 10 and SHELL


def test_relative_links_resolve():
    missing = []
    for path in DOCS:
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", path.read_text()):
            if "://" not in target and not (path.parent / target).exists():
                missing.append(f"{path.relative_to(ROOT)}: {target}")
    assert not missing, missing


@pytest.mark.parametrize("block", PYTHON, ids=[b.id for b in PYTHON])
def test_python_snippet(block: Block, tmp_path, monkeypatch):
    if "import dask" in block.text:  # the srcgrad[dask] extra (make test installs it)
        pytest.importorskip("dask.array", reason="dask is not installed")
    script = tmp_path / "example.py"
    script.write_text(block.text)
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        runpy.run_path("example.py", run_name="__main__")  # located errors say example.py
    if block.output is not None:
        assert _same(out.getvalue(), block.output), \
            f"{block.id} printed:\n{out.getvalue()}\nthe document shows:\n{block.output}"


def _command(words: list[str]) -> list[str] | None:
    """The command to run for a documented one, or None for set-up commands."""
    head = words[0]
    if head == "make" or words[:2] == [".", ".venv/bin/activate"]:
        return None
    if head in (".venv/bin/srcgrad", "srcgrad"):
        script = Path(sys.executable).parent / "srcgrad"
        runner = [str(script)] if script.exists() else [sys.executable, "-m", "srcgrad.cli"]
        return runner + words[1:]
    if head in (".venv/bin/python", "python"):
        return [sys.executable, *words[1:]]
    raise AssertionError(f"no way to run {' '.join(words)!r} in a test")


@pytest.mark.parametrize("block", SHELL, ids=[b.id for b in SHELL])
def test_shell_snippet(block: Block):
    printed = []
    for line in block.text.splitlines():
        words = shlex.split(line, comments=True)
        if not words:
            continue
        command = _command(words)
        if command is None:
            continue
        p = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
        assert p.returncode == 0, f"{block.id}: {line}\n{p.stderr}"
        printed.append(p.stdout)
    if block.output is not None:
        got = "".join(printed)
        assert _same(got, block.output), \
            f"{block.id} printed:\n{got}\nthe document shows:\n{block.output}"


def test_api_reference_builds(tmp_path):
    """What ``make docs`` does (``pdoc srcgrad -o docs/api``), into a temporary folder:
    a page for the package, with an entry for every public name."""
    pdoc = pytest.importorskip("pdoc", reason="pdoc is not installed (it is in the dev "
                               "extra: pip install -e '.[dev]')")
    pdoc.pdoc("srcgrad", output_directory=tmp_path)
    page = tmp_path / "srcgrad.html"
    assert page.exists() and (tmp_path / "index.html").exists()
    html = page.read_text()
    missing = [name for name in srcgrad.__all__ if f'id="{name}"' not in html]
    assert not missing, f"public names without an entry in the API reference: {missing}"
    for name in ("grad", "value_and_grad", "vjp", "jvp", "jacobian", "hessian", "hvp",
                 "derivative_source", "check_grad"):
        assert getattr(srcgrad, name).__doc__, f"srcgrad.{name} has no docstring"
