"""One xlwings version, the configs Excel really reads, doctor on fake Windows and Mac homes,
and upgrade-book."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile

import openpyxl
import pytest

from tests.cells import ref, type_in
from tests.conftest import ROOT
from xlhedge import xlwings_setup as X
from xlhedge.doctor import FAIL, OK, WARN, format_checks, run_checks
from xlhedge.workbook import layout as L
from xlhedge.workbook import vba


def test_one_xlwings_version_everywhere():
    import xlwings

    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    pins = [d for d in deps if d.startswith("xlwings")]
    assert pins == [f"xlwings=={X.XLWINGS_VERSION}"]
    assert xlwings.__version__ == X.XLWINGS_VERSION
    assert vba.workbook_xlwings_version(ROOT / "workbook" / "xlhedge.xlsm") == X.XLWINGS_VERSION
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    assert requires.split("#")[0].strip() == ">=" + ".".join(map(str, X.PYTHON_REQUIRED))
    for installer in ("install.sh", "install.ps1"):
        assert "sys.version_info >= (3, 11)" in (ROOT / "install" / installer).read_text()


def test_config_locations_are_the_ones_excel_reads(tmp_path):
    assert X.user_config_path("darwin", tmp_path) == (
        tmp_path / "Library" / "Containers" / "com.microsoft.Excel" / "Data" / "xlwings.conf")
    assert X.user_config_path("win32", tmp_path) == tmp_path / ".xlwings" / "xlwings.conf"
    assert X.interpreter_key("darwin") == "INTERPRETER_MAC" and X.interpreter_key("win32") == "INTERPRETER_WIN"


def test_windows_config_keeps_an_accented_user_name_in_the_ansi_code_page(tmp_path):
    conf = tmp_path / "xlwings.conf"
    conf.write_bytes(b'"ONEDRIVE_CONSUMER_WIN","D:\\\\OneDrive"\r\n"INTERPRETER_WIN","C:\\\\old\\\\python.exe"\r\n')
    python = r"C:\Users\Zoë\.xlhedge\venv\Scripts\python.exe"
    X.edit_config(conf, {"INTERPRETER_WIN": python, "UDF MODULES": "xlhedge.udfs"}, platform="win32")
    raw = conf.read_bytes()
    assert "Zoë".encode("cp1252") in raw and "Zoë".encode() not in raw  # what VBA's Input # reads
    assert raw.count(b"\r\n") == 3
    assert X.read_config(conf, "win32") == {"ONEDRIVE_CONSUMER_WIN": "D:\\\\OneDrive", "INTERPRETER_WIN": python,
                                            "UDF MODULES": "xlhedge.udfs"}
    with pytest.raises(ValueError, match="cannot be written in this Windows code page"):
        X.edit_config(conf, {"INTERPRETER_WIN": r"C:\Users\张伟\python.exe"}, platform="win32")


def _fake_windows(home, venv_has_dll=True):
    python = home / ".xlhedge" / "venv" / "Scripts" / "python.exe"
    python.parent.mkdir(parents=True)
    python.write_text("")
    if venv_has_dll:  # pip puts the DLL in the venv's root, one folder above Scripts
        (home / ".xlhedge" / "venv" / X.dll_name()).write_text("")
    site = home / ".xlhedge" / "venv" / "Lib" / "site-packages"
    site.mkdir(parents=True)
    return python, site


def test_doctor_on_a_healthy_windows_setup(tmp_path, built_template):
    from xlhedge import bridge

    home = tmp_path / "Zoë"
    python, site = _fake_windows(home)
    X.edit_config(X.user_config_path("win32", home), {"INTERPRETER_WIN": str(python), "UDF MODULES": "xlhedge.udfs"},
                  platform="win32")
    bridge.install(site)
    book = tmp_path / "My Hedge.xlsm"
    shutil.copyfile(built_template, book)
    checks = run_checks(book, platform="win32", home=home, site_packages=site, network=False)
    assert [c.name for c in checks if c.status == FAIL] == []
    status = {c.name: c.status for c in checks}
    assert status["xlwings DLL"] == status["INTERPRETER_WIN in force"] == status["workbook VBA"] == OK
    assert status["Use UDF Server"] == OK  # the template switches it off on its own sheet
    assert status["workbook formulas"] == OK
    assert "Everything checked is fine." in format_checks(checks)


def test_doctor_says_where_a_workbooks_formulas_are_not_the_templates(tmp_path, built_template):
    """A formula of the user's own and a value typed over two of the template's: said, as information (plan and
    venues compute them as they are), with the cells grouped by column."""
    from tests.cells import write_own_margin_rule
    from xlhedge.doctor import INFO, check_formulas

    book = tmp_path / "mine.xlsm"
    shutil.copyfile(built_template, book)
    margin, _ = write_own_margin_rule(book)
    wb = openpyxl.load_workbook(book, keep_vba=True)
    for row in (6, 7):  # a number typed over the margin of rows 6 and 7
        wb[L.HEDGE][ref(L.HEDGE, "margin", row)] = 1000
    wb.save(book)
    found = check_formulas(book)
    column = margin.rstrip("0123456789")
    assert found.status == INFO
    assert found.detail.startswith(f"3 formulas not this version's template's ({L.HEDGE}!{column}5:{column}7): ")
    assert check_formulas(built_template).status == OK


def test_doctor_on_a_broken_windows_setup_says_what_to_run(tmp_path, built_template):
    home = tmp_path / "home"
    _, site = _fake_windows(home, venv_has_dll=False)
    X.edit_config(X.user_config_path("win32", home), {"INTERPRETER_WIN": str(home / "gone" / "python.exe")},
                  platform="win32")
    book = tmp_path / "book.xlsm"
    shutil.copyfile(built_template, book)
    wb = openpyxl.load_workbook(book, keep_vba=True)  # the user switched the UDF server on for this book
    wb["xlwings.conf"]["B2"] = "True"
    wb.save(book)
    (tmp_path / "xlwings.conf").write_text('"UDF MODULES","mymodule"\n')  # a config beside the book
    checks = run_checks(book, platform="win32", home=home, site_packages=site, network=False,
                        installed_xlwings="0.36.0", python=(3, 10, 9))
    failed = {c.name: c for c in checks if c.status == FAIL}
    assert set(failed) == {"Python", "xlwings", "xlwings DLL", "INTERPRETER_WIN in force", "Use UDF Server",
                           "Refresh bridge"}
    assert "pip install xlwings==0.37.8" in failed["xlwings"].fix
    assert "False" in failed["Use UDF Server"].fix
    assert "from the user config" in failed["INTERPRETER_WIN in force"].detail
    # the sheet's UDF Modules wins over the file beside the book
    assert next(c for c in checks if c.name == "UDF Modules in force").status == OK
    text = format_checks(checks)
    assert text.count("fix: ") == 6 and text.endswith("6 problems found.")


def test_doctor_on_a_mac_reads_the_sandbox_config_not_the_old_one(tmp_path):
    home = tmp_path / "home"
    python = home / ".xlhedge" / "venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text("")
    old = home / ".xlwings" / "xlwings.conf"  # where xlhedge 0.1 wrote it: Excel for Mac never reads it
    old.parent.mkdir(parents=True)
    old.write_text(f'"INTERPRETER_MAC","{python}"\n"UDF MODULES","xlhedge.udfs"\n')
    checks = run_checks(None, platform="darwin", home=home, site_packages=tmp_path, network=False)
    failed = {c.name for c in checks if c.status == FAIL}
    assert {"RunPython AppleScript", "INTERPRETER_MAC in force", "UDF Modules in force"} <= failed
    assert any(c.name == "config: ~/.xlwings/xlwings.conf" and c.status == "warn" for c in checks)
    X.install_applescript(home)
    X.edit_config(X.user_config_path("darwin", home), {"INTERPRETER_MAC": str(python), "UDF MODULES": "xlhedge.udfs"},
                  platform="darwin")
    checks = run_checks(None, platform="darwin", home=home, site_packages=tmp_path, network=False)
    assert {c.name for c in checks if c.status == FAIL} == {"Refresh bridge"}


def test_doctor_checks_each_exchange(exchanges):
    from tests.loopback import Fault

    exchanges.fault("mexc", "/api/v1/contract/funding_rate", Fault(status=500, times=99))
    checks = {c.name: c for c in run_checks(platform="linux", timeout=3)}
    assert checks["exchange: binance"].status == OK and "contracts" in checks["exchange: binance"].detail
    assert checks["exchange: mexc"].status == FAIL and "HTTP 500" in checks["exchange: mexc"].detail


@pytest.mark.slow
def test_upgrade_book_replaces_only_the_vba_project(tmp_path, built_template):
    book = tmp_path / "My Hedge.xlsm"
    quickstart = vba.standalone_template().with_name("quickstart.xlsm")
    with zipfile.ZipFile(quickstart) as z:
        foreign = z.read("xl/vbaProject.bin")  # a VBA project without the xlwings module
    with zipfile.ZipFile(built_template) as src, zipfile.ZipFile(book, "w") as dst:
        for info in src.infolist():
            dst.writestr(info, foreign if info.filename == "xl/vbaProject.bin" else src.read(info.filename))
    wb = openpyxl.load_workbook(book, keep_vba=True)
    type_in(wb[L.PORTFOLIO], 5, quantity=7)
    wb.save(book)
    assert vba.workbook_xlwings_version(book) is None
    checks = {c.name: c for c in run_checks(book, platform="win32", home=tmp_path, network=False)}
    assert checks["workbook VBA"].status == FAIL and "upgrade-book" in checks["workbook VBA"].fix
    refresh = subprocess.run([sys.executable, "-m", "xlhedge", "refresh", str(book), "--offline"],
                             capture_output=True, text=True, timeout=120)
    assert refresh.returncode == 0 and f"run 'xlhedge upgrade-book {book}'" in refresh.stderr
    with zipfile.ZipFile(book) as z:
        before = {n: z.read(n) for n in z.namelist()}
    out = subprocess.run([sys.executable, "-m", "xlhedge", "upgrade-book", str(book)], capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0 and f"-> {X.XLWINGS_VERSION}" in out.stdout, out.stderr
    with zipfile.ZipFile(book) as z:
        after = {n: z.read(n) for n in z.namelist()}
    assert vba.workbook_xlwings_version(book) == X.XLWINGS_VERSION
    assert after["xl/vbaProject.bin"] == vba.vba_project_bytes()
    changed = {n for n in before if before[n] != after[n]}
    assert changed <= {"xl/vbaProject.bin", "docProps/custom.xml"}
    assert openpyxl.load_workbook(book)[L.PORTFOLIO][ref(L.PORTFOLIO, "quantity", 5)].value == 7
    assert re.search(rb"xlwings_version[^>]*><vt:lpwstr>" + X.XLWINGS_VERSION.encode(), after["docProps/custom.xml"])
    again = subprocess.run([sys.executable, "-m", "xlhedge", "upgrade-book", str(book)], capture_output=True,
                           text=True, timeout=120)
    assert "nothing to do" in again.stdout
    xlsx = tmp_path / "plain.xlsx"
    openpyxl.Workbook().save(xlsx)
    refused = subprocess.run([sys.executable, "-m", "xlhedge", "upgrade-book", str(xlsx)], capture_output=True,
                             text=True, timeout=120)
    assert refused.returncode == 1 and len(refused.stderr.strip().splitlines()) == 1


def test_doctor_tells_whether_the_backtest_is_compiled(monkeypatch):
    from xlhedge import doctor
    from xlhedge.engine import backtest

    assert doctor.check_backtest_compiler().status == OK
    monkeypatch.setenv("XLHEDGE_JIT", "0")
    assert doctor.check_backtest_compiler().status == doctor.INFO
    monkeypatch.delenv("XLHEDGE_JIT")

    def broken(*args):
        raise RuntimeError("LLVM ERROR: out of memory")

    monkeypatch.setattr(backtest, "_COMPILED", broken)  # what a compiler broken on this machine would do
    check = doctor.check_backtest_compiler()
    assert check.status == FAIL and "LLVM ERROR" in check.detail and "XLHEDGE_JIT=0" in check.fix
    monkeypatch.setitem(sys.modules, "numba", None)  # not installed
    check = doctor.check_backtest_compiler()
    assert check.status == doctor.WARN and check.fix.startswith("pip install numba")


def test_doctor_groups_one_cause_into_one_finding(monkeypatch):
    for ex in L.EXCHANGES:  # no network at all: nothing listens there
        monkeypatch.setenv(f"XLHEDGE_{ex.upper()}_URL", "http://127.0.0.1:9")
    checks = run_checks(platform="linux", timeout=2)
    failed = [c for c in checks if c.status == FAIL]
    assert [c.name for c in failed] == ["exchanges"]
    assert failed[0].detail.startswith("none answered (") and "other exchanges still work" not in failed[0].fix
    assert format_checks(checks).endswith("1 problem found.")


def test_doctor_names_exchanges_failing_for_the_same_reason_together(exchanges):
    from tests.loopback import Fault

    exchanges.fault("mexc", "/api/v1/contract/funding_rate", Fault(status=404, times=99))
    exchanges.fault("bingx", "/openApi/swap/v2/quote/premiumIndex", Fault(status=404, times=99))
    exchanges.fault("okx", "/api/v5/public/open-interest", Fault(status=404, times=99))  # a side request
    checks = {c.name: c for c in run_checks(platform="linux", timeout=5)}
    both = checks["exchange: bingx, mexc"]
    assert both.status == FAIL and both.detail == "HTTP 404: fault"  # the loopback says "fault"
    assert checks["exchange: okx"].status == WARN and "no open interest (open-interest: HTTP 404: fault)" in \
        checks["exchange: okx"].detail
    assert checks["exchange: binance"].status == OK


def test_doctor_honours_the_platform_the_installer_was_told(tmp_path):
    env = {**os.environ, "XLHEDGE_PLATFORM": "mac", "HOME": str(tmp_path)}
    out = subprocess.run([sys.executable, "-m", "xlhedge", "doctor", "--no-network"], capture_output=True,
                         text=True, env=env, timeout=120)
    assert "RunPython AppleScript" in out.stdout and "INTERPRETER_MAC in force" in out.stdout
    assert "no desktop Excel on Linux" not in out.stdout


def test_uninstall_removes_a_config_file_that_held_only_our_keys(tmp_path):
    conf = X.user_config_path("darwin", tmp_path)
    assert X.main(["set-config", "--platform", "mac", "--home", str(tmp_path), "--interpreter", "/py"]) == 0
    assert conf.is_file()
    assert X.main(["remove-config", "--platform", "mac", "--home", str(tmp_path)]) == 0
    assert not conf.exists()  # nothing of the user's was in it
    conf.parent.mkdir(parents=True, exist_ok=True)
    conf.write_text('"ONEDRIVE_CONSUMER_MAC","/Users/me/OneDrive"\n')
    X.main(["set-config", "--platform", "mac", "--home", str(tmp_path), "--interpreter", "/py"])
    X.main(["remove-config", "--platform", "mac", "--home", str(tmp_path)])
    assert X.read_config(conf, "darwin") == {"ONEDRIVE_CONSUMER_MAC": "/Users/me/OneDrive"}
    script = X.applescript_path(tmp_path)
    script.parent.mkdir(parents=True)
    script.write_text("on run\nend run\n")
    assert X.main(["remove-applescript", "--home", str(tmp_path)]) == 0 and not script.exists()


def test_doctor_says_how_old_the_shipped_binance_brackets_are():
    import datetime as dt

    from xlhedge import doctor

    check = doctor.check_shipped_brackets(today=dt.date(2026, 12, 1))
    assert check.status == doctor.INFO and check.name == "binance brackets"
    assert check.detail.startswith("800 contracts' maintenance tiers shipped as of 2026-07-02 (152 days old)")
    assert "binance brackets" in format_checks(run_checks(network=False, platform="linux"))
