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
    for needle in ("xlhedge.xlwings_setup", '"$Action-config"', 'Edit-Conf "set"', 'Edit-Conf "remove"',
                   '"--platform", "windows"',
                   '"xlhedge.bridge", "install"', '"template", "--out"', "$Uninstall",
                   "Trust access to the VBA project object model", "sys.version_info >= (3, 11)"):
        assert needle in text, needle
    assert "addin" not in text.replace("add-in", "")  # no xlwings add-in: the workbook has its own VBA


def test_powershell_is_safe_in_windows_powershell_5_1():
    raw = PS1.read_bytes()
    assert raw.isascii()  # 5.1 reads a file without a byte-order mark in the ANSI code page
    code = [ln.split("#")[0] for ln in raw.decode().splitlines()]
    calls = [ln for ln in code if re.search(r"&\s*\$", ln)]
    # every native program runs through Invoke-Native (exit code checked, stderr not an error)
    assert calls == ["        $output = & $Exe @Arguments 2>&1 | ForEach-Object { \"$_\" }"], calls
    assert "Set-Content -Path $conf" not in raw.decode()  # the config is written by Python, in the ANSI code page
    assert not re.search(r"\$Py\b[^\n]*2>\$null", raw.decode())


def test_step_lists_match():
    assert [s.strip() for s in steps(SH)] == [s.strip() for s in steps(PS1)]
    assert len(steps(SH)) == 5


@pytest.fixture
def home(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "PYTHONPATH"))}
    # PIP_COMPILE=0 (pip install --no-compile): no .pyc for every installed package (about half of a
    # fresh install's time here); what is installed, and the installer's own commands, are the same
    env.update(HOME=str(home), PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_COMPILE="0")
    env["PATH"] = f"{home}/.local/bin:" + ":".join(
        p for p in env["PATH"].split(":") if "/.venv/" not in p and "/venv/bin" not in p)
    return home, env


@pytest.mark.slow
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


@pytest.mark.slow
def test_install_sh_mac_steps_in_a_fake_home(home):
    """The Mac branch, run here with XLHEDGE_PLATFORM=mac: the config Excel for Mac reads, the
    RunPython AppleScript, no add-in, the workbook copy; then doctor finds the set-up healthy."""
    from xlhedge import xlwings_setup as X
    from xlhedge.doctor import FAIL, run_checks

    home, env = home
    env = {**env, "XLHEDGE_PLATFORM": "mac"}
    out = subprocess.run(["bash", str(SH)], capture_output=True, text=True, env=env, timeout=900)
    assert out.returncode == 0, out.stdout + out.stderr
    conf = home / "Library" / "Containers" / "com.microsoft.Excel" / "Data" / "xlwings.conf"
    python = home / ".xlhedge" / "venv" / "bin" / "python"
    assert X.read_config(conf, "darwin") == {"INTERPRETER_MAC": str(python), "UDF MODULES": "xlhedge.udfs"}
    assert not (home / ".xlwings").exists()  # not where Excel for Mac looks
    assert X.applescript_path(home).is_file()
    assert (home / "Documents" / "xlhedge.xlsm").is_file()
    site = next((home / ".xlhedge" / "venv" / "lib").glob("python3*/site-packages"))
    checks = run_checks(home / "Documents" / "xlhedge.xlsm", platform="darwin", home=home, site_packages=site,
                        network=False)
    assert [c for c in checks if c.status == FAIL] == []
    # the user edits the workbook, runs the installer again: the workbook and other config keys stay
    conf.write_text(conf.read_text() + '"ONEDRIVE_CONSUMER_MAC","/Users/me/OneDrive"\n')
    again = subprocess.run(["bash", str(SH)], capture_output=True, text=True, env=env, timeout=900)
    assert again.returncode == 0 and "kept your existing" in again.stdout
    assert X.read_config(conf, "darwin")["ONEDRIVE_CONSUMER_MAC"] == "/Users/me/OneDrive"
    gone = subprocess.run(["bash", str(SH), "--uninstall"], capture_output=True, text=True, env=env)
    assert gone.returncode == 0
    assert X.read_config(conf, "darwin") == {"ONEDRIVE_CONSUMER_MAC": "/Users/me/OneDrive"}
    assert not X.applescript_path(home).exists()  # it was not there before the install: ours to remove
    assert not (home / ".xlhedge").exists() and (home / "Documents" / "xlhedge.xlsm").is_file()


def test_install_sh_rejects_unknown_options(home):
    _, env = home
    out = subprocess.run(["bash", str(SH), "--frobnicate"], capture_output=True, text=True, env=env)
    assert out.returncode == 1 and "unknown option --frobnicate" in out.stderr
