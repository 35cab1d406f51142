"""Every command in README.md is run here (or, for the few that cannot run inside the suite,
mapped to the test that covers it). A new command in the README without an entry fails."""

import os
import re
import shutil
import subprocess
import sys

import pytest

from tests.conftest import ROOT

README = (ROOT / "README.md").read_text()


def bash_commands() -> list[str]:
    lines = []
    for block in re.findall(r"```bash\n(.*?)```", README, re.S):
        for line in block.splitlines():
            line = line.split("  #")[0].strip()
            if line and not line.startswith("#"):
                lines.append(line)
    return lines


SETUP = "python3 -m venv .venv && .venv/bin/pip install -q -e . && .venv/bin/xlhedge demo"
TEST_COMMAND = ('python3 -m venv .venv && .venv/bin/pip install -q -e ".[test]" && .venv/bin/python -m pytest'
                ' && .venv/bin/python -m pytest -m slow')
COVERED_ELSEWHERE = {
    TEST_COMMAND: "run by .ci/run (test_ci_runs_the_readme_test_command checks it is the same line)",
    "bash install/install.sh": "tests/test_installers.py::test_install_sh_end_to_end",
    ".venv/bin/python -m pytest": "the suite itself",
    ".venv/bin/python -m pytest -m slow": "the suite itself (its end-to-end part)",
    ".venv/bin/lint-imports": "tests/test_architecture.py::test_the_import_contracts_hold",
}
DEV = {
    ".venv/bin/ruff check .": [sys.executable, "-m", "ruff", "check", "."],
    # three groups of the benchmark (each asserts that xlhedge and its baseline agree before it times them)
    ".venv/bin/python -m bench": [sys.executable, "-m", "bench", "--only", "arrays", "--only", "venues",
                                  "--only", "headless"],
}


def test_every_command_is_accounted_for():
    known = {SETUP, *COVERED_ELSEWHERE, *DEV}
    for line in bash_commands():
        assert line in known or line.startswith((".venv/bin/xlhedge ", "xlhedge ")), line


def test_ci_runs_the_readme_test_command():
    out = subprocess.run(
        ["awk", '/<!-- test-command -->/{f=1; next} f && /^```/{if (started) exit; started=1; next} f && started',
         "README.md"], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == TEST_COMMAND
    assert "README.md" in (ROOT / ".ci" / "run").read_text()


def _group(line: str) -> str:
    """The market-data commands need no workbook: they run beside the workbook commands."""
    words = line.split()
    if words[0] != "xlhedge":
        return "rebuild"
    return "market" if words[1] in ("funding", "history") else "workbook"


@pytest.mark.slow
@pytest.mark.parametrize("group", ["workbook", "market", "rebuild"])
def test_xlhedge_commands_in_the_readme_run(group, tmp_path, exchanges):
    """In the README's order, one folder per group (a workbook command may use the file an earlier one made)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    commands = [c for c in bash_commands() if c.startswith(("xlhedge ", ".venv/bin/xlhedge ")) and _group(c) == group]
    assert len(commands) >= {"workbook": 12, "market": 5, "rebuild": 2}[group]
    for line in commands:
        args = line.split()[1:]
        if "--png" in args:  # the development rebuild: write to a scratch copy, not the repo
            args = ["template", "--out", str(tmp_path / "rebuilt.xlsm")]
            if shutil.which("soffice"):
                args += ["--png", str(tmp_path / "png")]
        elif "--lite" in args and "workbook/xlhedge-lite.xlsx" in args:  # likewise for the Lite rebuild
            args = ["template", "--lite", "--out", str(tmp_path / "rebuilt-lite.xlsx")]
        out = subprocess.run([sys.executable, "-m", "xlhedge", *args], capture_output=True, text=True,
                             cwd=tmp_path, env=env, timeout=300)
        assert out.returncode == 0, f"{line}\n{out.stdout}\n{out.stderr}"
        assert "Traceback" not in out.stderr
    if group == "market":
        assert (tmp_path / "btc-funding.csv").exists() and (tmp_path / "btc-1h.csv").exists()


@pytest.mark.parametrize("line", [pytest.param(line, marks=[pytest.mark.slow] if "bench" in line else [])
                                  for line in sorted(DEV)])
def test_development_commands_run(line):
    out = subprocess.run(DEV[line], capture_output=True, text=True, cwd=ROOT, timeout=600,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert out.returncode == 0, out.stdout + out.stderr
    if "bench" in line:
        # a smoke test: the benchmark runs and prints its lines; whether a timing target is met
        # depends on the machine's load, so it is never asserted here
        lines = out.stdout.splitlines()
        assert lines[0].startswith("machine: ")
        assert any(re.match(r"^hedge_plan_\S+: xlhedge=\S+ baseline=\S+ ratio=\S+x", ln) for ln in lines), out.stdout
        assert re.match(r"^targets: \d+ met, \d+ missed", lines[-1])


@pytest.mark.slow
def test_first_command_on_a_fresh_copy_prints_a_plan(tmp_path, exchanges):
    tracked = subprocess.run(["git", "ls-files"], capture_output=True, text=True, cwd=ROOT).stdout.split()
    if not tracked:
        pytest.skip("not a git checkout")
    clone = tmp_path / "clone"
    for name in tracked:
        src = ROOT / name
        if src.is_file():
            (clone / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, clone / name)
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    env["PIP_COMPILE"] = "0"  # pip --no-compile: no .pyc for every package (half the time), same install
    out = subprocess.run(["bash", "-c", SETUP], capture_output=True, text=True, cwd=clone, env=env, timeout=900)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "Market data: live from binance, bybit, okx, hyperliquid" in out.stdout
    assert "TOTAL" in out.stdout and "$180,000" in out.stdout  # 40% of 5 x 60,000 + 50 x 3,000 (loopback marks)


def test_the_readme_counts_the_tests_there_are():
    out = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-n0", "-p", "no:cacheprovider"],
                         capture_output=True, text=True, cwd=ROOT, timeout=300)
    default, _, slow = re.search(r"(\d+)/(\d+) tests? collected \((\d+) deselected\)", out.stdout).groups()
    said = {int(n) for n in re.findall(r"(\d+) tests[,;]", README)}
    assert said == {int(default)}, f"README says {sorted(said)} tests, the default suite has {default}"
    said = {int(n) for n in re.findall(r"(\d+) end-to-end tests", README)}
    assert said == {int(slow)}, f"README says {sorted(said)} end-to-end tests, the suite has {slow}"


def test_the_readme_shows_every_page_of_the_hedge_sheet():
    from xlhedge.workbook import layout as L
    from xlhedge.workbook.builder import TemplateBuilder

    pages = TemplateBuilder.printed_pages(L.HEDGE)
    names = ["docs/sheet-hedge.png", *(f"docs/sheet-hedge-{n}.png" for n in range(2, pages + 1))]
    assert all(f"]({name})" in README and (ROOT / name).is_file() for name in names)
