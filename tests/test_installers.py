"""install/install.sh end to end in a throw-away HOME (Linux: command-line mode), and the
PowerShell installer checked statically against it (no PowerShell on this machine)."""

import os
import re
import shutil
import subprocess

import pytest

from tests.conftest import ROOT

SH = ROOT / "install" / "install.sh"
PS1 = ROOT / "install" / "install.ps1"


def steps(path):
    return re.findall(r"^# Step: ([^.(]+)", path.read_text(), re.M)


@pytest.mark.skipif(not shutil.which("shellcheck"), reason="shellcheck not installed")
def test_shellcheck_clean():
    out = subprocess.run(["shellcheck", str(SH)], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout


def test_powershell_parses_plausibly_and_does_what_the_shell_script_does():
    text = PS1.read_text()
    for opener, closer in ("{}", "()", "[]"):
        assert text.count(opener) == text.count(closer), opener
    for needle in ("xlwings addin install", "xlwings addin remove", "xlhedge.bridge install",
                   "INTERPRETER_WIN", "UDF MODULES", "template --out", "$Uninstall",
                   "Trust access to the VBA project object model", "sys.version_info >= (3, 10)"):
        assert needle in text, needle


def test_step_lists_match():
    assert [s.strip() for s in steps(SH)] == [s.strip() for s in steps(PS1)]
    assert len(steps(SH)) == 6


@pytest.fixture
def home(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "PYTHONPATH"))}
    env.update(HOME=str(home), PIP_DISABLE_PIP_VERSION_CHECK="1")
    env["PATH"] = f"{home}/.local/bin:" + ":".join(
        p for p in env["PATH"].split(":") if "/.venv/" not in p and "/venv/bin" not in p)
    return home, env


def test_install_sh_end_to_end(home):
    home, env = home
    first = subprocess.run(["bash", str(SH)], capture_output=True, text=True, env=env, timeout=900)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "Linux has no desktop Excel: installed the command line only" in first.stdout
    command = home / ".local" / "bin" / "xlhedge"
    assert command.is_symlink()
    version = subprocess.run([str(command), "--version"], capture_output=True, text=True, env=env)
    assert version.stdout.startswith("xlhedge ")
    assert not (home / ".xlwings").exists()  # no Excel steps on Linux
    second = subprocess.run(["bash", str(SH)], capture_output=True, text=True, env=env, timeout=900)
    assert second.returncode == 0 and "updating" in second.stdout
    gone = subprocess.run(["bash", str(SH), "--uninstall"], capture_output=True, text=True, env=env)
    assert gone.returncode == 0 and "removed" in gone.stdout
    assert not command.exists() and not (home / ".xlhedge").exists()


def test_install_sh_rejects_unknown_options(home):
    _, env = home
    out = subprocess.run(["bash", str(SH), "--frobnicate"], capture_output=True, text=True, env=env)
    assert out.returncode == 1 and "unknown option --frobnicate" in out.stderr
