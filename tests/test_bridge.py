"""The Refresh button on a renamed workbook: the start-up bridge, run for real in a new interpreter."""

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import openpyxl
import pytest

from xlhedge import bridge
from xlhedge.workbook import layout as L


def samplecall_command(fullname, mac: bool = False, sheet_config: tuple = ("", "", "")) -> str:
    """The -c command Python receives from xlwings' RunPython for Module1.SampleCall.

    Windows (``ExecuteWindows``): the PYTHONPATH string has backslashes doubled and sits in
    double quotes. Mac (the AppleScript ``VbaHandler``): apostrophes escaped, single quotes.
    """
    fullname = str(fullname)
    name = fullname.replace("\\", "/").rsplit("/", 1)[-1]
    module = name[: name.rfind(".")]
    pythonpath = ";".join(["true", fullname, fullname, *sheet_config, ""])
    # the Mac escapes apostrophes for its single quotes; Windows doubles backslashes in its double quotes
    mac_literal = "'" + pythonpath.replace("'", "\\'") + "'"
    windows_literal = '"' + pythonpath.replace("\\", "\\\\") + '"'
    literal = mac_literal if mac else windows_literal
    return f"import xlwings.utils;xlwings.utils.prepare_sys_path({literal}); import {module};{module}.main()"


@pytest.mark.parametrize("mac", [False, True])
@pytest.mark.parametrize("name", ["My Hedge (2).xlsm", "Tom's hedge & co.xlsm", "plan 2026.xlsm"])
def test_parse_command_reads_the_path_as_python_does(tmp_path, mac, name):
    book = tmp_path / "folder with spaces" / name
    assert bridge.parse_command(samplecall_command(book, mac)) == (name[:-5], book)
    assert bridge.parse_command("import xlwings.server; xlwings.server.serve('x')") is None


def test_windows_and_unc_paths_keep_their_drive_and_share():
    from pathlib import PureWindowsPath

    for fullname, anchor in ((r"C:\Users\Zoë\My Hedge (2).xlsm", "C:\\"),
                             (r"\\fileserver\team\Hedges\My Hedge.xlsm", "\\\\fileserver\\team\\")):
        _, path = bridge.parse_command(samplecall_command(fullname))
        assert str(path) == fullname and PureWindowsPath(str(path)).anchor == anchor


def test_onedrive_url_becomes_the_synced_local_file(book, tmp_path):
    local_root = tmp_path / "OneDrive"
    (local_root / "Documents").mkdir(parents=True)
    synced = local_root / "Documents" / "My Hedge (2).xlsm"
    shutil.copyfile(book, synced)
    url = "https://d.docs.live.net/1234abcd/Documents/My Hedge (2).xlsm"
    for mac in (False, True):
        command = samplecall_command(url, mac, sheet_config=(str(local_root), "", ""))
        assert bridge.parse_command(command) == ("My Hedge (2)", synced)
    # not synced here: nothing to intercept, so Python reports the command as xlwings would
    assert bridge.parse_command(samplecall_command(url.replace("Documents", "Elsewhere"))) is None


def test_needs_bridge_only_for_renamed_xlhedge_books(book, tmp_path):
    renamed = tmp_path / "plan 2026.xlsm"
    shutil.copyfile(book, renamed)
    assert bridge.needs_bridge("plan 2026", renamed)
    assert not bridge.needs_bridge("xlhedge", book)  # imports this package normally
    own = tmp_path / "mybook.xlsm"
    shutil.copyfile(book, own)
    (tmp_path / "mybook.py").write_text("def main(): pass\n")
    assert not bridge.needs_bridge("mybook", own)  # the user's own module wins
    other = tmp_path / "budget.xlsx"
    openpyxl.Workbook().save(other)
    assert not bridge.needs_bridge("budget", other)


def test_intercept_dispatches_with_the_workbook_path(book, tmp_path):
    renamed = tmp_path / "Hedge copy.xlsm"
    shutil.copyfile(book, renamed)
    seen = []
    argv = ["python", "-B", "-c", samplecall_command(renamed)]
    assert bridge.intercept(argv, run=seen.append) is True
    assert seen == [renamed]
    assert bridge.intercept(["python", "-c", "print(1)"], run=seen.append) is False
    assert bridge.intercept(["python", "script.py"], run=seen.append) is False


def test_install_is_idempotent_and_uninstalls(tmp_path):
    assert bridge.install(tmp_path).read_text() == bridge.PTH_LINE
    bridge.install(tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == [bridge.PTH_NAME]
    assert bridge.uninstall(tmp_path) and not bridge.uninstall(tmp_path)


@pytest.fixture
def bridged_python(tmp_path):
    """A new venv whose site-packages has the bridge .pth and a path line to this install."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    here = [sysconfig.get_paths()["purelib"], str(Path(__file__).resolve().parents[1])]
    (site / "aa_xlhedge_test_paths.pth").write_text("\n".join(here) + "\n")
    bridge.install(site)
    return python


@pytest.mark.parametrize("mac", [False, True])
def test_renamed_workbook_refreshes_through_the_bridge(book, tmp_path, exchanges, bridged_python, mac):
    (tmp_path / "Tom's folder").mkdir()
    renamed = tmp_path / "Tom's folder" / ("My Hedge (2).xlsm" if mac else "Tom's hedge & co (2).xlsm")
    shutil.copyfile(book, renamed)
    # xlwings appends the caller's identity after the command; xw.Book.caller() reads it from sys.argv
    xlwings_args = [f"--wb={renamed.name}", "--from_xl=1", "--app=Excel", "--hwnd=1"]
    out = subprocess.run([str(bridged_python), "-B", "-c", samplecall_command(renamed, mac), *xlwings_args],
                         capture_output=True, text=True, timeout=120, env={**os.environ})
    assert out.returncode == 0, out.stderr
    ws = openpyxl.load_workbook(renamed)[L.FUNDING]
    assert ws[L.STATUS_CELL].value.startswith("Refreshed")
    assert "binance ok" in ws[L.STATUS_CELL].value
    assert ws[f"{L.FUNDING_COL['stale']}6"].value == "no"  # live rows, no longer the sample


def test_other_commands_run_untouched(bridged_python):
    out = subprocess.run([str(bridged_python), "-c", "print(6 * 7)"], capture_output=True, text=True,
                         timeout=60)
    assert out.stdout.strip() == "42" and out.returncode == 0


@pytest.mark.slow
def test_no_stdout_under_pythonw_and_exit_handlers_still_run(book, tmp_path, bridged_python):
    """pythonw.exe has no stdout/stderr; xlwings' Mac clean-up is an exit handler: both must work."""
    renamed = tmp_path / "My Hedge (2).xlsm"
    shutil.copyfile(book, renamed)
    marker = tmp_path / "exit-handler-ran"
    script = (
        "import atexit, sys, pathlib\n"
        f"atexit.register(lambda: pathlib.Path({str(marker)!r}).write_text('yes'))\n"
        "sys.stdout = None; sys.stderr = None\n"
        "from xlhedge import bridge\n"
        f"bridge.intercept(['python', '-c', {samplecall_command(renamed)!r}])\n"
        "raise SystemExit(7)  # not reached: the bridge ends the process\n"
    )
    out = subprocess.run([str(bridged_python), "-c", script], capture_output=True, text=True, timeout=120,
                         env={**os.environ, **{f"XLHEDGE_{ex.upper()}_URL": "http://127.0.0.1:9"
                                               for ex in L.EXCHANGES}})
    assert out.returncode == 0, out.stderr
    assert marker.read_text() == "yes"
    assert openpyxl.load_workbook(renamed)[L.FUNDING][L.STATUS_CELL].value.startswith("Refreshed")
