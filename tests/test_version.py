"""``srcgrad --version`` and ``srcgrad.__version__`` say the version pyproject.toml
declares (and the installed metadata, which ``make`` refreshes when it changes)."""

from __future__ import annotations

import importlib.metadata
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import srcgrad
from srcgrad import cli

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"


def declared() -> str:
    project = PYPROJECT.read_text().split("[project]", 1)[1]
    return re.search(r'^version\s*=\s*"([^"]+)"', project, re.M).group(1)


def test_version_is_the_declared_one():
    assert srcgrad.__version__ == declared()
    assert importlib.metadata.version("srcgrad") == declared()


def test_cli_prints_the_version(capsys):
    with pytest.raises(SystemExit) as done:
        cli.main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out == f"srcgrad {declared()}\n"


def test_console_script_prints_the_version():
    script = os.path.join(os.path.dirname(sys.executable), "srcgrad")
    proc = subprocess.run([script, "--version"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == f"srcgrad {declared()}\n"
