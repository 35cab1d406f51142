"""The Excel side of the workbook port (XlwingsBook: the Refresh button in Excel and the xlwings Lite
scripts) on a real file through an xlwings-shaped stand-in: the same results as the headless port."""

from __future__ import annotations

import runpy
import shutil
import sys

import openpyxl
import pandas as pd
import pytest

from tests.xlwings_fake import FakeBook
from xlhedge.backtest_book import run_in_book
from xlhedge.refresh import refresh_workbook, run_refresh
from xlhedge.workbook import layout as L
from xlhedge.workbook.book import XlwingsBook


def _table(path, sheet=L.FUNDING, ref=None):
    ws = openpyxl.load_workbook(path)[sheet]
    ref = ref or L.FUNDING_TABLE.ref
    return [[c.value for c in row] for row in ws[ref]]


def test_the_excel_refresh_writes_what_the_headless_one_does(book, tmp_path, exchanges):
    other = tmp_path / "other.xlsm"
    shutil.copyfile(book, other)
    refresh_workbook(book, exchanges="binance,okx")
    excel = FakeBook(other)
    result = run_refresh(XlwingsBook(excel), exchanges="binance,okx")
    excel.save()
    assert sorted(result.answered) == ["binance", "okx"]
    keep = [k for k, _, _ in L.FUNDING_COLUMNS].index("fetched_at")

    def without_times(rows):
        return [[v for i, v in enumerate(r) if i != keep] for r in rows]

    assert without_times(_table(other)) == without_times(_table(book))
    assert _table(other, ref=L.CROWD_TABLE.ref)[0][:6] == _table(book, ref=L.CROWD_TABLE.ref)[0][:6]


def test_the_excel_backtest_writes_the_sheet(book):
    excel = FakeBook(book, active=L.BACKTEST)
    run = run_in_book(XlwingsBook(excel))
    excel.save()
    ws = openpyxl.load_workbook(book)[L.BACKTEST]
    assert ws[L.BACKTEST_RESULTS.cell("value", 4)].value == pytest.approx(run.result.effectiveness)
    assert ws[L.BACKTEST_SERIES.cell("hedged", len(run.times) - 1)].value == pytest.approx(run.result.value_hedged[-1])
    assert ws[L.BACKTEST_STATUS_CELL].value.startswith("Run ")


def test_the_lite_scripts_run_on_the_lite_workbook(built_lite, tmp_path, exchanges, monkeypatch):
    """main.py's refresh_market_data and backtest, with the xlwings Lite stand-in, one exchange after
    another as in the browser."""
    from tests.test_lite import STANDIN
    from xlhedge.market import tasks
    from xlhedge.workbook import lite
    monkeypatch.setattr(tasks, "SEQUENTIAL", True)
    from xlhedge.engine import backtest as engine
    monkeypatch.setitem(sys.modules, "numba", None)  # Pyodide has no numba: the backtest runs as Python
    monkeypatch.setattr(engine, "_COMPILED", None)
    monkeypatch.setenv("XLHEDGE_JIT", "1")  # numba asked for even at the demo's size: its absence decides
    path = tmp_path / "xlhedge-lite.xlsx"
    shutil.copyfile(built_lite, path)
    main = tmp_path / "main.py"
    main.write_text(lite.main_py(), encoding="utf-8")
    monkeypatch.syspath_prepend(str(STANDIN))
    for name in [m for m in sys.modules if m == "xlwings" or m.startswith("xlwings.")]:
        monkeypatch.delitem(sys.modules, name)
    namespace = runpy.run_path(str(main), run_name="main")
    book = FakeBook(path)
    wb = book.wb
    wb[L.SETTINGS][f"B{L.SETTING_ROW['RefreshExchanges']}"] = "binance,bybit"
    monkeypatch.setenv("XLHEDGE_CACHE", str(tmp_path / "cache"))
    now = pd.Timestamp(exchanges.now_ms, unit="ms", tz="UTC")
    wb[L.BACKTEST][f"B{L.BACKTEST_INPUT_ROW['start']}"] = f"{now - pd.Timedelta(days=60):%Y-%m-%d}"  # the loopback's
    wb[L.BACKTEST][f"B{L.BACKTEST_INPUT_ROW['end']}"] = f"{now - pd.Timedelta(days=1):%Y-%m-%d}"  # history
    namespace["refresh_market_data"](book)
    namespace["backtest"](book)
    book.save()
    funding = openpyxl.load_workbook(path)[L.FUNDING]
    assert funding[L.STATUS_CELL].value.startswith("Refreshed") and "binance ok" in funding[L.STATUS_CELL].value
    status = openpyxl.load_workbook(path)[L.BACKTEST][L.BACKTEST_STATUS_CELL].value
    assert status.startswith("Run ") and status.endswith("binance: the perpetual's and its index's daily closes, "
                                                         "highs and funding history (real).")
    assert engine._COMPILED is False  # it did run as Python
