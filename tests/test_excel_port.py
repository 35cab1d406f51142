"""The Excel side of the workbook port (XlwingsBook: the Refresh button in Excel and the xlwings Lite
scripts) on a real file through an xlwings-shaped stand-in: the same results as the headless port. The Lite
scripts as the pane runs them (main.py's own files): tests/test_lite.py."""

from __future__ import annotations

import shutil

import openpyxl
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


def test_the_buttons_run_what_their_sheet_shows(book, exchanges, monkeypatch):
    """Both buttons call one macro (xlhedge.buttons.clicked): on the Backtest sheet it is the backtest, where
    a refused input is said in the status cell; elsewhere the refresh of the calling workbook."""
    import xlwings as xw

    from xlhedge.buttons import clicked

    excel = FakeBook(book, active=L.BACKTEST)
    monkeypatch.setattr(xw.Book, "caller", staticmethod(lambda: excel))  # the workbook whose button was clicked
    excel.sheets[L.BACKTEST].range(f"B{L.BACKTEST_INPUT_ROW['policy']}").value = "sometimes"
    funding_status = excel.wb[L.FUNDING][L.STATUS_CELL].value
    clicked()
    assert excel.wb[L.BACKTEST][L.BACKTEST_STATUS_CELL].value == (
        "Not run: Backtest sheet, Policy: use static, funding, events or sheet (got 'sometimes')")
    assert excel.wb[L.FUNDING][L.STATUS_CELL].value == funding_status  # no refresh from that button
    excel.sheets._active = excel.sheets[L.HEDGE]
    excel.wb[L.SETTINGS][f"B{L.SETTING_ROW['RefreshExchanges']}"] = "binance"
    clicked()
    status = excel.wb[L.FUNDING][L.STATUS_CELL].value
    assert status.startswith("Refreshed") and "binance ok" in status, status
