"""The xlwings Lite edition, checked without Excel: its parts against a real xlwings Lite workbook,
its generated main.py run under CPython with a stand-in for xlwings Lite, the functions called with
Office.js-shaped arguments, imports and threads, and a refresh that keeps its code parts."""

from __future__ import annotations

import ast
import html
import json
import re
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

from tests.byte_compare import workbook_difference
from tests.conftest import ROOT
from xlhedge.market.binance_brackets import shipped_brackets
from xlhedge.workbook import lite
from xlhedge.workbook.template import build_template

REAL = ROOT / "tests" / "fixtures" / "real" / "xlwings_lite"
COMMITTED = ROOT / "workbook" / "xlhedge-lite.xlsx"
STANDIN = ROOT / "tests" / "lite_standin"


@pytest.fixture
def lite_book(built_lite) -> Path:
    return built_lite


def _tags(xml: str) -> list[tuple[str, tuple]]:
    """Element names with their attribute names, in order (the structure, not the values)."""
    return [(m[1], tuple(sorted(re.findall(r'\s([\w:]+)="', m[2])))) for m in re.finditer(r"<([\w:]+)([^>]*)>", xml)]


def _properties(xml: str) -> dict[str, str]:
    return {n: json.loads(html.unescape(v)) for n, v in re.findall(r'<we:property name="([^"]+)" value="([^"]*)"/>',
                                                                   xml)}


def test_builds_reproducibly_and_matches_the_committed_file(lite_book, tmp_path):
    again = build_template(tmp_path / "again.xlsx", lite=True)
    assert workbook_difference(lite_book, again) is None
    found = workbook_difference(COMMITTED, lite_book)
    assert found is None, f"{found}: run xlhedge template --lite --out workbook/xlhedge-lite.xlsx --force"
    with zipfile.ZipFile(lite_book) as z:
        names = z.namelist()
    assert "xl/vbaProject.bin" not in names and not any("vml" in n for n in names)


def test_parts_relationships_and_content_types_match_a_real_lite_workbook(lite_book):
    with zipfile.ZipFile(lite_book) as z:
        ours = {n: z.read(n).decode("utf-8") for n in (*lite.PARTS, "_rels/.rels", "[Content_Types].xml")}
    real_panes = (REAL / "taskpanes.xml").read_text(encoding="utf-8")
    assert _tags(ours["xl/webextensions/taskpanes.xml"]) == _tags(real_panes)
    assert ours["xl/webextensions/_rels/taskpanes.xml.rels"].split() == (REAL / "taskpanes.xml.rels").read_text(
        encoding="utf-8").split()
    skeleton = (REAL / "webextension1_skeleton.xml").read_text(encoding="utf-8")
    # the xlwings Lite workbook's parts, but the function list, which that workbook (no functions) left empty
    listed = re.sub(r"<we:customFunctionIds>[^<]*</we:customFunctionIds>", "",
                    ours["xl/webextensions/webextension1.xml"]).replace(
        "<we:customFunctionIdList></we:customFunctionIdList>", "<we:customFunctionIdList/>")
    assert _tags(listed) == _tags(skeleton.replace("<we:containsCustomFunctions/>",
                                                   '<we:containsCustomFunctions val="1"/>'))
    real_props = re.findall(r'<we:property name="([^"]+)"', skeleton)
    assert sorted(_properties(ours["xl/webextensions/webextension1.xml"])) == sorted(real_props)
    assert re.search(r'<we:reference id="wa200008175"[^>]*storeType="OMEX"', ours["xl/webextensions/webextension1.xml"])
    # the root relationship and the overrides, as the real file has them
    real_rel = re.search(r'<Relationship [^>]*webextensiontaskpanes[^>]*/>', (REAL / "root_rels.xml").read_text())
    assert re.search(r'Type="http://schemas.microsoft.com/office/2011/relationships/webextensiontaskpanes" '
                     r'Target="xl/webextensions/taskpanes.xml"', ours["_rels/.rels"]) and real_rel
    for line in (REAL / "content_types_webextensions.xml").read_text().split():
        if "PartName" in line:
            assert line.split("=")[1].split('"')[1] in ours["[Content_Types].xml"]


def _extension_list(xml: str) -> str:
    return xml[xml.index("<we:extLst>"):xml.index("</we:extLst>")]


def test_functions_are_stored_as_excel_stores_bound_custom_functions(lite_book):
    """The web extension lists every function as Excel does once they are in cells (a workbook Excel saved:
    xlwings-server's e2e test workbook), and the column formulas are dynamic arrays (cm="1" over
    xl/metadata.xml), as in that workbook's sheets."""
    from xlhedge import udfs

    real = _extension_list((REAL / "e2e_custom_functions_webextension2.xml").read_text(encoding="utf-8"))
    with zipfile.ZipFile(lite_book) as z:
        ours = _extension_list(z.read("xl/webextensions/webextension1.xml").decode("utf-8"))
        hedge = z.read("xl/worksheets/sheet3.xml").decode("utf-8")
        metadata = z.read("xl/metadata.xml").decode("utf-8")
    one = r"<we:customFunctionIds>[^<]*</we:customFunctionIds>"
    assert re.sub(f"({one})+", "IDS", ours) == re.sub(f"({one})+", "IDS", real)
    assert re.findall(r"<we:customFunctionIds>([^<]*)<", ours) == [f"_xldudf_{n}" for n in sorted(udfs.UDFS)]
    arrays = re.findall(r'<c r="[A-Z]+\d+"([^>]*)><f t="array"', hedge)
    assert arrays and all('cm="1"' in attrs for attrs in arrays)
    assert "dynamicArrayProperties" in metadata and 'fDynamic="1"' in metadata


def test_doctor_knows_the_lite_edition_and_whose_code_it_carries(lite_book, tmp_path, built_template):
    """No VBA is right for the Lite edition; its code is compared with this version's main.py, read back from the
    file's web-extension part (an older copy: said, with the command that makes this version's)."""
    from xlhedge.doctor import FAIL, INFO, OK, check_formulas, check_workbook

    assert lite.carried_main_py(lite_book) == lite.main_py()
    assert lite.carried_main_py(built_template) is None  # the desktop edition carries none
    assert [(c.name, c.status) for c in check_workbook(lite_book)] == [("workbook code", OK)]
    older = tmp_path / "older.xlsx"
    part = "xl/webextensions/webextension1.xml"
    with zipfile.ZipFile(lite_book) as src, zipfile.ZipFile(older, "w") as dst:
        for info in src.infolist():  # the same file with one line of its main.py changed, as an older build
            data = src.read(info.filename)
            if info.filename == part:
                data = data.replace(b"xlwings Lite edition: hedge", b"xlwings Lite edition (older): hedge", 1)
            dst.writestr(info, data)
    assert lite.carried_main_py(older).startswith('"""xlhedge ') and lite.carried_main_py(older) != lite.main_py()
    (found,) = check_workbook(older)
    assert found.status == INFO and "xlhedge template --lite --out NEW.xlsx" in found.detail
    assert FAIL not in {found.status, check_formulas(older, lite=True).status}


def test_requirements_are_what_pyodide_provides(lite_book):
    from xlhedge.xlwings_setup import XLWINGS_VERSION

    with zipfile.ZipFile(lite_book) as z:
        props = _properties(z.read("xl/webextensions/webextension1.xml").decode("utf-8"))
    reqs = [line.split()[0] for line in props["requirements.txt"].splitlines()]
    # the add-in's four required lines, then numpy and pandas (in Pyodide's distribution) and requests (pure wheel),
    # unpinned: Pyodide ships them, and the add-in records what it installed in requirements-pinned.txt
    assert reqs == [f"xlwings=={XLWINGS_VERSION}", "python-dotenv==1.0.1", "pyodide-http", "black", "numpy", "pandas",
                    "requests"]
    # xlwings 0.36.6 fixed Pyodide 314 support and 0.36.7 empty cells arriving as JavaScript nulls
    assert tuple(int(n) for n in XLWINGS_VERSION.split(".")) >= (0, 36, 7)
    assert props["pyodideVersion"] == "314.0.0" and props["addinVersion"] == "1.0.0.103"
    assert props["main.py"] == lite.main_py()


PYODIDE_OK = {"numpy", "pandas", "requests", "xlwings", "xlhedge", "pyodide_http"}
#: Imported inside functions that only desktop commands reach (never at import time, never in Lite).
DESKTOP_ONLY = {"openpyxl", "oletools", "formulas", "schedula", "xlsxwriter"}
#: Tried inside a function that carries on without it (the backtest's compiler, the history's progress bar:
#: neither is in the Lite requirements).
OPTIONAL = {"numba", "tqdm"}


def _imports(tree) -> list[tuple[str, bool]]:
    """(top-level module, imported at module level?) of every import."""
    out = []
    for node in ast.walk(tree):
        names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                 else [node.module or ""] if isinstance(node, ast.ImportFrom) and node.level == 0 else [])
        for name in names:
            out.append((name.split(".")[0], node in tree.body or any(node in getattr(b, "body", [])
                                                                      for b in tree.body if isinstance(b, ast.Try))))
    return out


def test_imports_stay_within_pyodide_and_nothing_starts_threads_or_sockets():
    files = lite.embedded_files()
    assert "udfs.py" in files and "engine/ratios.py" in files and not any("loopback" in f for f in files)
    for path, text in files.items():
        if not path.endswith(".py"):
            continue
        tree = ast.parse(text)
        for module, top in _imports(tree):
            if module in sys.stdlib_module_names or module in PYODIDE_OK:
                continue
            assert module in DESKTOP_ONLY | OPTIONAL and not top, f"{path} imports {module}"
            if module in OPTIONAL:
                assert re.search(rf"try:\s+import {module}\s+except ImportError:", text), path
        if path != "market/tasks.py":  # the one place that starts threads, never in the browser
            assert "ThreadPoolExecutor" not in text and "threading.Thread" not in text, path
        assert "import socket" not in text and "socket." not in text, path
    assert re.search(r'SEQUENTIAL = sys.platform == "emscripten"', files["market/tasks.py"])


RUN_MAIN = textwrap.dedent('''
    import json, runpy, sys
    sys.path.insert(0, {standin!r})
    for name in {absent!r}:  # not in xlwings Lite (importing these fails there)
        sys.modules[name] = None
    import xlwings
    main = runpy.run_path({main!r}, run_name="main")
    call = xlwings.call_like_lite
    out = {{
        "origin": sys.modules["xlhedge.udfs"].__file__,
        "registered": sorted(n for n, f in main.items() if hasattr(f, "__xlfunc__")),
        "scripts": sorted(xlwings.scripts),
        "ratio": call(main["HEDGE_RATIO"], [["neutral"]]),
        "ratio_paid": call(main["HEDGE_RATIO"], [["neutral"]], [[0.5]], [[0.001]], [[8]]),
        "contracts": call(main["HEDGE_CONTRACTS"], [[100000]], [[60000]]),
        "column": call(main["HEDGE_CONTRACTS"], [[1000], [2000], ["x"], [""]], [[100], [50], [10], [10]]),
        "cost": call(main["FUNDING_COST"], [[100000]], [[0.0001]], [[8]], [[30]]),
        "beta": call(main["BETA_HEDGE"], [[100000]], [[2]]),
        "liq": call(main["LIQ_PRICE"], [[60000]], [[3]]),
        "pnl": call(main["HEDGE_PNL"], [[608861]], [[243544.4]], [[0.5]], [[0]], [[3]], [[0.004]]),
        "crowded": call(main["CROWDED_RATIO"], [[0.4]], [[0.0003]], [[0.95]], [[0.15]]),
        "event": call(main["EVENT_RATIO"], [[0.4]], [[46363]]),
        "bad": call(main["LIQ_PRICE"], [[60000]], [[0.5]]),
    }}
    import importlib
    out["carried"] = {{}}  # every module main.py carries, imported as the scripts would: from its files alone
    for path in main["_FILES"]:
        if path.endswith(".py"):
            name = ("xlhedge/" + path[:-3]).removesuffix("/__init__").replace("/", ".")
            try:
                out["carried"][name] = importlib.import_module(name).__file__
            except Exception as exc:
                out["carried"][name] = f"{{type(exc).__name__}}: {{exc}}"
    print(json.dumps(out))
''')


def test_main_py_runs_and_the_functions_equal_the_engine(tmp_path):
    from xlhedge import engine

    main = tmp_path / "main.py"
    main.write_text(lite.main_py(), encoding="utf-8")
    compile(main.read_text(encoding="utf-8"), "main.py", "exec")
    code = RUN_MAIN.format(standin=str(STANDIN), main=str(main), absent=sorted(OPTIONAL | DESKTOP_ONLY))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         cwd=tmp_path, env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "TMPDIR": str(tmp_path)})
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)
    assert "xlhedge-lite-" in got["origin"]  # the functions came from the files main.py carries
    # and so does everything the Refresh and Backtest scripts import (a module left out fails only there)
    assert {"xlhedge.refresh", "xlhedge.backtest_book", "xlhedge.workbook.book"} <= set(got["carried"])
    unloadable = {name: where for name, where in got["carried"].items() if "xlhedge-lite-" not in where}
    assert not unloadable, unloadable
    assert set(got["registered"]) == set(__import__("xlhedge.udfs").udfs.UDFS)
    assert got["scripts"] == ["backtest", "refresh_market_data"]
    assert got["ratio"] == pytest.approx(engine.hedge_ratio("neutral", 0.5))
    assert got["ratio_paid"] == pytest.approx(engine.hedge_ratio("neutral", 0.5, 0.001, 8))
    assert got["contracts"] == pytest.approx(engine.contracts_for_notional(100000, 60000).contracts)
    assert got["column"][:2] == [[10.0], [40.0]] and got["column"][2][0].startswith("#VALUE!")
    assert got["column"][3] == [None]
    assert got["cost"] == pytest.approx(engine.funding_cost(100000, 0.0001, 8, 30))
    assert got["beta"] == pytest.approx(200000)
    assert got["liq"] == pytest.approx(engine.liquidation_price(60000, 3, 0.004))
    assert got["pnl"] == pytest.approx(223_249.03, abs=0.01)  # the sample at +50%, short liquidated
    assert got["crowded"] == pytest.approx(0.5)
    assert got["event"] == pytest.approx(0.8)  # Excel date 46363 = 2026-12-07: FOMC on the 9th
    assert got["bad"].startswith("#VALUE! leverage")


RUN_SCRIPTS = textwrap.dedent('''
    import importlib, importlib.util, pathlib, runpy, sys
    sys.path.insert(0, {standin!r})
    for name in {absent!r}:  # as in xlwings Lite: only its requirements are installed (importing these fails)
        sys.modules[name] = None
    main = runpy.run_path({main!r}, run_name="main")  # xlhedge now comes from the files main.py carries
    importlib.import_module("xlhedge.market.tasks").SEQUENTIAL = True  # the browser's: no threads, one by one
    spec = importlib.util.spec_from_file_location("xlwings_fake", {fake!r})
    fake = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fake)
    print("origin", sys.modules["xlhedge.refresh"].__file__ if "xlhedge.refresh" in sys.modules else "-")
    book = fake.FakeBook(pathlib.Path({book!r}))
    main["refresh_market_data"](book)
    main["backtest"](book)
    print("compiled", sys.modules["xlhedge.engine.backtest"]._COMPILED)
    book.save()
    book.sheets["Backtest"].range({policy!r}).value = "sometimes"  # a policy the run refuses
    main["backtest"](book)
    book.sheets["Backtest"].range({policy!r}).value = "funding"
    book.save()
    print("origin", sys.modules["xlhedge.refresh"].__file__, sys.modules["xlhedge.backtest_book"].__file__)
''')


def test_the_scripts_run_from_the_files_main_py_carries(lite_book, tmp_path, exchanges):
    """Refresh and Backtest as xlwings Lite runs them: main.py's own files only (no installed xlhedge, no
    package its requirements do not list, no threads), on a copy of the Lite book, against the loopback
    exchanges: the refresh, a backtest on the exchange's history (as Python: numba asked for and absent),
    and one the sheet's input refuses (said in the status cell, not raised; the last results stay)."""
    import os

    import openpyxl

    from xlhedge.workbook import layout as L

    book = tmp_path / "mine.xlsx"
    wb = openpyxl.load_workbook(lite_book)
    wb[L.SETTINGS][f"B{L.SETTING_ROW['RefreshExchanges']}"] = "binance,bybit"
    inputs = {"start": "2025-03-01", "end": "2025-05-01", "data": "live"}  # what the loopback's history holds
    for name, value in inputs.items():
        wb[L.BACKTEST][f"B{L.BACKTEST_INPUT_ROW[name]}"] = value
    wb.save(book)
    main = tmp_path / "main.py"
    main.write_text(lite.main_py(), encoding="utf-8")
    code = RUN_SCRIPTS.format(standin=str(STANDIN), main=str(main), fake=str(ROOT / "tests" / "xlwings_fake.py"),
                              book=str(book), policy=f"B{L.BACKTEST_INPUT_ROW['policy']}",
                              absent=sorted(OPTIONAL | DESKTOP_ONLY - {"openpyxl"}))  # openpyxl: the fake book's
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "TMPDIR": str(tmp_path),  # main.py unpacks in TMPDIR
           "XLHEDGE_JIT": "1",  # numba asked for even at this size: its absence decides
           **{k: v for k, v in os.environ.items() if k.startswith("XLHEDGE_") and k != "XLHEDGE_JIT"}}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=tmp_path,
                         env=env)
    assert out.returncode == 0, out.stderr[-2000:]
    origins = [line.split()[1:] for line in out.stdout.splitlines() if line.startswith("origin")]
    # imported by the scripts, from main.py's files (unpacked under this test's TMPDIR)
    assert origins[0] == ["-"] and all(o.startswith(str(tmp_path / "xlhedge-lite-")) for o in origins[1])
    assert "compiled False" in out.stdout  # the step loop ran as Python
    funding = openpyxl.load_workbook(book)[L.FUNDING]
    assert funding[L.STATUS_CELL].value.startswith("Refreshed") and "binance ok" in funding[L.STATUS_CELL].value
    assert {funding[L.FUNDING_TABLE.cell("exchange", i)].value for i in range(L.FUNDING_ROWS)} >= {"binance", "bybit"}
    def cell(key, i):
        return funding[L.FUNDING_TABLE.cell(key, i)].value

    tiers = {cell("symbol", i): cell("maintenance_tiers", i) for i in range(L.FUNDING_ROWS)
             if cell("exchange", i) == "binance"}
    assert tiers["BTCUSDT"] == shipped_brackets("BTCUSDT")  # the shipped brackets, read from main.py's data file
    assert re.search(r"Data: +binance: the perpetual's", out.stdout), out.stdout  # live history, no progress bar
    refused = "Not run: Backtest sheet, Policy: use static, funding, events or sheet (got 'sometimes')"
    assert refused in out.stdout, out.stdout
    sheet = openpyxl.load_workbook(book)[L.BACKTEST]
    assert sheet[L.BACKTEST_STATUS_CELL].value == refused
    effectiveness = sheet[L.BACKTEST_RESULTS.cell("value", 4)].value  # the good run's results stay
    assert isinstance(effectiveness, float) and f"{effectiveness:.1%}" in out.stdout


RUN_BLANKS = textwrap.dedent('''
    import json, runpy, sys
    sys.path.insert(0, {standin!r})
    for name in {absent!r}:  # not in xlwings Lite (importing these fails there)
        sys.modules[name] = None
    import xlwings
    main = runpy.run_path({main!r}, run_name="main")
    call = xlwings.call_like_lite
    out = {{}}
    for label, empty in (("null", xlwings.NULL), ("text", ""), ("zero", 0)):
        out[label] = {{
            "cost": call(main["FUNDING_COST"], [[100000]], [[0.0001]], [[empty]], [[empty]]),
            "ratio": call(main["HEDGE_RATIO"], [["neutral"]], [[empty]]),
            "column": call(main["HEDGE_CONTRACTS"], [[1000], [empty]], [[100], [100]]),
            "event": call(main["EVENT_RATIO"], [[0.4]], [[46363]], [[3]], [[24]], [[0.8]],
                          [["FOMC", 46365.7917], [empty, empty], [empty, empty]]),
        }}
    print(json.dumps(out))
''')


def test_an_empty_cell_arrives_as_each_client_sends_it(tmp_path):
    """Through the stand-in of xlwings' custom-function entry point, an empty cell sent as a JavaScript null
    (Excel on the web), as "" or as 0 (older desktop builds): null and "" are the function's default (a
    single cell) or an empty cell (in a range); 0 is a number, so the template's formulas never hand a
    function an empty cell (next test). An events table whose empty rows arrive as 0 still works."""
    main = tmp_path / "main.py"
    main.write_text(lite.main_py(), encoding="utf-8")
    code = RUN_BLANKS.format(standin=str(STANDIN), main=str(main), absent=sorted(OPTIONAL | DESKTOP_ONLY))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         cwd=tmp_path, env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "TMPDIR": str(tmp_path)})
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)
    for label in ("null", "text"):  # the defaults: 8-hourly payments for 1 day, conviction 0.5
        assert got[label]["cost"] == pytest.approx(-100000 * 0.0001 * 3)
        assert got[label]["ratio"] == pytest.approx(0.4)
        assert got[label]["column"] == [[10.0], [None]]
    assert got["zero"]["cost"].startswith("#VALUE! interval_hours must be > 0")
    assert got["zero"]["ratio"] == pytest.approx(0.3)  # conviction 0: the low end of the neutral band
    assert got["zero"]["column"] == [[10.0], [0.0]]
    assert all(got[label]["event"] == pytest.approx(0.8) for label in got)  # FOMC 2 days ahead; empty rows skipped


#: Settings whose function's own default differs from the Settings default (FUNDING_COST's horizon is 1 day,
#: the sheet's 30; LIQ_PRICE has no default leverage), so passing the empty cell would change the numbers.
EMPTIED = ("HorizonDays", "Leverage")


def test_the_lite_workbook_computes_what_the_desktop_one_does(lite_book, built_template, tmp_path, calculate):
    """The Lite edition's formulas give the desktop's numbers. And a formula hands a function a Settings cell
    through IF(cell="", default, cell): emptied settings compute as their defaults (the ones plan and the
    backtest use), whatever the client would pass for them; both emptied in one copy (one calculation):
    either one passed through would change a number. One test, so a worker compiles the Lite book once. The
    desktop's numbers are the workbook model's (test_model holds it to the general evaluator cell for cell on
    the desktop template); the Lite book's, the model's on its formulas (the desktop's, as Excel stores custom
    functions and dynamic arrays) and, in the end-to-end part, the general evaluator's on its own text."""
    import openpyxl

    from xlhedge.workbook import layout as L
    from xlhedge.workbook.template import book_formulas, formula_values, template_formulas

    assert book_formulas(openpyxl.load_workbook(lite_book)) == template_formulas()
    ours = calculate(lite_book)
    desktop = formula_values(openpyxl.load_workbook(built_template, keep_vba=True))
    hedge = {k: v for k, v in desktop.items() if k[0] in ("Hedge", "Scenarios", "Portfolio")}
    assert hedge and all(ours[k] == pytest.approx(v) if isinstance(v, float) else ours[k] == v
                         for k, v in hedge.items())

    emptied = tmp_path / "emptied.xlsx"
    wb = openpyxl.load_workbook(lite_book)
    for name in EMPTIED:
        cell = wb[L.SETTINGS][f"B{L.SETTING_ROW[name]}"]
        assert cell.value == L.SETTING_DEFAULT[name]  # the shipped book holds the defaults: ours is the typed case
        cell.value = None
    wb.save(emptied)
    got = calculate(emptied)
    hedge = {k: v for k, v in ours.items() if k[0] in ("Hedge", "Scenarios", "Venues")}
    assert all(got[k] == pytest.approx(v) if isinstance(v, float) else got[k] == v for k, v in hedge.items())
    assert any(isinstance(v, float) for v in hedge.values())


def test_a_refresh_keeps_the_code_parts_byte_for_byte(lite_book, tmp_path, exchanges):
    from xlhedge.refresh import refresh_workbook

    book = tmp_path / "mine.xlsx"
    book.write_bytes(lite_book.read_bytes())
    before = lite.web_extension_parts(book)
    refresh_workbook(book, exchanges="binance")
    assert lite.web_extension_parts(book) == before and lite.METADATA in before
    with zipfile.ZipFile(book) as z:  # openpyxl dropped the dynamic arrays' marks on save: they are back
        hedge = z.read("xl/worksheets/sheet3.xml").decode("utf-8")
        assert "/sheetMetadata" in z.read("xl/_rels/workbook.xml.rels").decode()
    arrays = re.findall(r'<c r="[A-Z]+\d+"([^>]*)><f t="array"', hedge)
    assert arrays and all('cm="1"' in attrs for attrs in arrays)
    with zipfile.ZipFile(book) as z:
        assert "webextensiontaskpanes" in z.read("_rels/.rels").decode()
        assert "webextension+xml" in z.read("[Content_Types].xml").decode()
        assert "xl/vbaProject.bin" not in z.namelist()


def test_the_refresh_runs_one_exchange_after_another_without_threads(book, exchanges, monkeypatch):
    """What the Lite script does in the browser (no threads): the same refresh, sequential."""
    import threading

    from xlhedge.market import tasks
    from xlhedge.refresh import refresh_workbook

    monkeypatch.setattr(tasks, "SEQUENTIAL", True)

    start = threading.Thread.start

    def no_threads(self):  # the refresh (this thread) may not start one; the loopback server still may
        if threading.current_thread() is threading.main_thread():
            raise RuntimeError("can't start new thread")
        start(self)

    monkeypatch.setattr(threading.Thread, "start", no_threads)
    result = refresh_workbook(book, exchanges="binance,bybit,okx")
    assert sorted(result.answered) == ["binance", "bybit", "okx"]


def test_a_browser_blocked_exchange_costs_that_exchange_only(lite_book, tmp_path, exchanges, monkeypatch):
    """The Lite refresh as the browser runs it (one exchange after another), on a Lite workbook refreshed
    once: when Bybit's requests raise a JavaScript error (not a requests one) after Binance answered, every
    answering exchange is written fresh, Bybit's rows are kept and marked stale, and the status says why."""
    import openpyxl

    from tests.loopback import block_like_a_browser
    from xlhedge.market import tasks
    from xlhedge.refresh import refresh_workbook
    from xlhedge.workbook import layout as L

    monkeypatch.setattr(tasks, "SEQUENTIAL", True)
    book = tmp_path / "mine.xlsx"
    book.write_bytes(lite_book.read_bytes())
    refresh_workbook(book, exchanges="binance,bybit,okx")  # the last good data
    block_like_a_browser(monkeypatch, "bybit")
    result = refresh_workbook(book, exchanges="binance,bybit,okx")
    assert sorted(result.answered) == ["binance", "okx"]
    assert "blocked by the browser (CORS)?" in result.status
    ws = openpyxl.load_workbook(book)[L.FUNDING]
    rows = [(ws[L.FUNDING_TABLE.cell("exchange", i)].value, ws[L.FUNDING_TABLE.cell("stale", i)].value)
            for i in range(L.FUNDING_ROWS)]
    stale = {ex: {s for e, s in rows if e == ex} for ex in ("binance", "bybit", "okx")}
    assert stale == {"binance": {L.STALE_NO}, "bybit": {L.STALE_YES}, "okx": {L.STALE_NO}}
    assert lite.METADATA in lite.web_extension_parts(book)  # still the Lite workbook it was
