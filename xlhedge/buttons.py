"""What the workbook's buttons run ("Refresh market data", "Run backtest"): both call the workbook's
one macro, xlwings' ``SampleCall``, which reaches :func:`clicked` through :func:`xlhedge.main` (for
``xlhedge.xlsm``) or :mod:`xlhedge.bridge` (for a renamed workbook)."""

from __future__ import annotations

import sys

from xlhedge.workbook import layout as L


def clicked(fullname: str | None = None) -> None:
    """In Excel, the backtest when the button is on the Backtest sheet, else the refresh of the calling
    workbook; where no Excel runs (``fullname`` given, a test or a server), refresh that file headlessly."""
    if fullname and not excel_available():
        from xlhedge.refresh import refresh_workbook

        refresh_workbook(fullname)
        return
    import xlwings as xw

    if xw.Book.caller().sheets.active.name == L.BACKTEST:
        from xlhedge.backtest_book import backtest_caller

        backtest_caller()
    else:
        from xlhedge.refresh import refresh_caller

        refresh_caller()


def excel_available() -> bool:
    """Desktop Excel runs only on Windows and macOS."""
    return sys.platform in ("win32", "darwin")
