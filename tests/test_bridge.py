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


def samplecall_command(book: Path, windows_quotes: bool = False) -> str:
    """The -c command xlwings' RunPython builds for Module1.SampleCall (see the VBA)."""
    module = book.name[: book.name.rfind(".")]
    pythonpath = f"true;{book};{book};;;;"
    quote = '\\"' if windows_quotes else '"'
    return (f"import xlwings.utils;xlwings.utils.prepare_sys_path({quote}{pythonpath}{quote}); "
            f"import {module};{module}.main()")


def test_parse_command_both_quote_styles(tmp_path):
    book = tmp_path / "My Hedge (2).xlsm"
    for windows in (False, True):
        assert bridge.parse_command(samplecall_command(book, windows)) == ("My Hedge (2)", book)
    assert bridge.parse_command("import xlwings.server; xlwings.server.serve('x')") is None


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


def test_renamed_workbook_refreshes_through_the_bridge(book, tmp_path, exchanges, bridged_python):
    renamed = tmp_path / "My Hedge (2).xlsm"
    shutil.copyfile(book, renamed)
    # xlwings appends the caller's identity after the command; xw.Book.caller() reads it from sys.argv
    xlwings_args = [f"--wb={renamed.name}", "--from_xl=1", "--app=Excel", "--hwnd=1"]
    out = subprocess.run([str(bridged_python), "-B", "-c", samplecall_command(renamed), *xlwings_args],
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
