"""The layers point downwards and no package's modules import each other in a circle: the import-linter
contracts in pyproject.toml, run as CI runs them."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT


def test_the_import_contracts_hold():
    lint = Path(sys.executable).with_name("lint-imports")
    out = subprocess.run([str(lint), "--config", str(ROOT / "pyproject.toml")], capture_output=True, text=True,
                         cwd=ROOT, timeout=300)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]
    assert "Contracts: 3 kept, 0 broken." in out.stdout


def test_the_test_doubles_are_not_in_the_installed_package():
    package = ROOT / "xlhedge"
    assert not list(package.rglob("loopback.py"))
    importing_tests = []
    for path in package.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            if any(n == "tests" or n.startswith("tests.") for n in names):
                importing_tests.append(path.relative_to(ROOT))
    assert importing_tests == []
