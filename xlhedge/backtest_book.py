"""``xlhedge backtest BOOK`` and the "Run backtest" button: the backtest a workbook describes (its
Portfolio, Settings and the Backtest sheet's inputs), run and written back through the workbook port."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from xlhedge.backtest import DATA_SOURCES, Backtest, BacktestError, run_backtest
from xlhedge.cell_times import cell_time
from xlhedge.cells import CellError, is_blank, parse_number
from xlhedge.engine.policy import SHEET_POLICIES
from xlhedge.workbook import layout as L
from xlhedge.workbook.backtest_sheet import results_rows, series_rows
from xlhedge.workbook.book import OpenpyxlBook, XlwingsBook, release
from xlhedge.workbook.files import check_writable
from xlhedge.workbook.formula import compare
from xlhedge.workbook.portfolio import read_cash, read_holdings
from xlhedge.workbook.settings import settings_problems, with_defaults


def _number(value, default: float) -> float:
    """A number as the functions read a cell ("50%" is 0.5, "1,000" is 1000); blank or unreadable: ``default``."""
    try:
        out = parse_number(value, "value")
    except CellError:
        return default
    return out if np.isfinite(out) else default


def _switch(value) -> bool:
    """A yes/no setting as the sheet's formulas read it (``="yes"``, Excel's comparison)."""
    return compare("=", value, "yes") is True


def _typed_number(value, default, label: str, example: str):
    """A number typed in a Backtest sheet input ("0.05%" is 0.0005); blank: ``default``; text that is not a
    number is refused naming the input, never replaced by the default."""
    if is_blank(value):
        return default
    try:
        out = parse_number(value, label)
    except CellError:
        out = float("nan")
    if not np.isfinite(out):
        raise BacktestError(f"Backtest sheet, {label}: type a number such as {example} (got {value!r})")
    return out


def _choice(value, choices, default: str, name: str) -> str:
    text = str(value).strip().lower() if value is not None and str(value).strip() else default
    if text not in choices:
        listed = f"{', '.join(choices[:-1])} or {choices[-1]}" if len(choices) > 1 else choices[0]
        raise BacktestError(f"Backtest sheet, {name}: use {listed} (got {value!r})")
    return text


def read_book_inputs(book) -> dict:
    """What a run needs from a workbook (through the refresh's workbook port): coins held (own perp
    rows), cash, the Settings and the Backtest sheet's inputs."""
    coins, skipped = {}, []
    for holding in read_holdings(book):  # the rows the Portfolio's totals leave out are left out here too
        if holding.problem:
            skipped.append(holding.problem)
        elif holding.hedge_with == L.BTC_PERP:
            skipped.append(f"{holding.asset} (hedged with the BTC perp: cross hedges are not replayed)")
        elif holding.coins > 0:
            coins[holding.asset] = coins.get(holding.asset, 0.0) + holding.coins
    try:
        cash = read_cash(book)
    except ValueError as exc:
        raise BacktestError(f"Portfolio: {exc}") from None
    typed = {s.name: book.read_setting(s.name) for s in L.SETTING_LIST}  # each cell once (in Excel, a call each)
    wrong = settings_problems(typed)
    if wrong:  # the engine would refuse it: say so, as plan does, instead of running on a default
        raise BacktestError(next(iter(wrong.values())))
    setting = with_defaults(typed)

    def number(name: str) -> float:  # a Settings number; text the engine does not check: its default
        return _number(setting[name], float(L.SETTING_DEFAULT[name]))

    bt_default = L.BACKTEST_INPUT_DEFAULT
    refs = [f"B{L.BACKTEST_INPUT_ROW[item.name]}" for item in L.BACKTEST_INPUTS]
    sheet = dict(zip([item.name for item in L.BACKTEST_INPUTS], book.read_cells(L.BACKTEST, refs), strict=True))
    return {
        "coins": coins, "cash": cash, "skipped": skipped,
        "start": sheet["start"], "end": sheet["end"],
        "policy": _choice(sheet["policy"], SHEET_POLICIES, bt_default["policy"], "Policy"),
        "data": _choice(sheet["data"], DATA_SOURCES, bt_default["data"], "Data"),
        "top_up": _choice(sheet["top_up"], L.YES_NO, bt_default["top_up"], "Top up") == "yes",
        "fee": _typed_number(sheet["fee"], bt_default["fee"], "Taker fee", "0.05%"),
        "slippage": _typed_number(sheet["slippage"], bt_default["slippage"], "Slippage", "0.02%"),
        "ratio": _typed_number(sheet["ratio"], None, "Base ratio", "40%"),
        "exchange": str(setting["DefaultExchange"]).strip().lower(),
        "leverage": number("Leverage"),
        "maintenance_margin": number("MaintenanceMargin"),
        "band": number("RebalanceBand"),
        "outlook": setting["Outlook"], "conviction": number("Conviction"),
        "threshold": number("FundingThreshold"),
        "adjustment": number("Adjustment"), "max_ratio": number("MaxRatio"),
        "funding_adjust": _switch(typed["FundingAdjust"]),  # as the sheet reads them: empty is off
        "crowded": _switch(typed["CrowdedRule"]), "crowded_bump": number("CrowdedBump"),
        "crowded_percentile": number("CrowdedPercentile"), "crowded_oi_rise": number("CrowdedOIRise"),
        "events": (number("EventDaysBefore"), number("EventHoursAfter"), number("EventFloor")),
        "event_rule": _switch(typed["EventRule"]),
        "event_times": _event_times(book),
    }


def _event_times(book) -> list:
    """The dates of the Settings sheet's Events table (shipped rows and yours), read as EVENT_RATIO reads
    them (a date, an Excel date number or text, UTC); unreadable ones skipped."""
    _, when_col, _ = L.EVENTS_COLUMNS
    refs = [f"{when_col}{r}" for r in range(L.EVENTS_FIRST_ROW, L.EVENTS_LAST_ROW + 1)]
    out = []
    for value in book.read_cells(L.SETTINGS, refs):
        if is_blank(value):
            continue
        try:
            out.append(cell_time(value, "events"))
        except CellError:
            continue
    return out


def run_in_book(book, now=None, **overrides) -> Backtest:
    """Run the backtest a workbook describes (``overrides``: command-line choices) and write the
    Backtest sheet's results, both value lines and its status through the workbook port."""
    if L.BACKTEST not in book.sheet_names():
        raise BacktestError("this workbook has no Backtest sheet (made by an older xlhedge): "
                            "copy your Portfolio into a new one from xlhedge template --out NEW.xlsm")
    inputs = read_book_inputs(book)
    inputs.update({k: v for k, v in overrides.items() if v is not None})
    skipped = inputs.pop("skipped")
    coins, cash = inputs.pop("coins"), inputs.pop("cash")
    run = run_backtest(coins, cash, **inputs)
    run.notes = [*(f"left out: {s}" for s in skipped), *run.notes]
    book.write_block(L.BACKTEST_RESULTS, [[label, value] for label, value, _ in results_rows(run)])
    book.write_block(L.BACKTEST_SERIES, [list(r) for r in series_rows(run)])
    when = (now or pd.Timestamp.now(tz="UTC")).strftime("%Y-%m-%d %H:%M UTC")
    book.write_cell(L.BACKTEST, L.BACKTEST_STATUS_CELL, f"Run {when}: {run.history.source}.")
    return run


def backtest_workbook(path, **overrides) -> Backtest:
    """``xlhedge backtest BOOK``: run and write the results into the file, replaced atomically
    (a failure leaves the file as it was)."""
    check_writable(Path(path))  # before the run: a workbook open in Excel or read-only is refused
    book = OpenpyxlBook(Path(path))
    try:
        run = run_in_book(book, **overrides)
        book.save()
    finally:
        release(book.wb)
    return run


def run_or_say_why_not(book) -> tuple[Backtest | None, str]:
    """A run from inside Excel (the desktop button, the xlwings Lite script): (the run, "") or (None, why
    not). An input the run refuses is said in the sheet's status cell (the last results stay), as the
    command line says it."""
    try:
        return run_in_book(book), ""
    except BacktestError as exc:
        why = f"Not run: {exc}"
        book.write_cell(L.BACKTEST, L.BACKTEST_STATUS_CELL, why)
        return None, why


def backtest_caller() -> Backtest | None:
    """The 'Run backtest' button in Excel: the calling workbook, through xlwings."""
    import xlwings as xw

    return run_or_say_why_not(XlwingsBook(xw.Book.caller()))[0]
