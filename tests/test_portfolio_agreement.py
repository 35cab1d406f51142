"""The sheet, ``plan`` and the backtest read the Portfolio the same way: a row the sheet's totals leave out
is left out everywhere, with the same message naming the cell to edit."""

from __future__ import annotations

import openpyxl
import pytest

from tests.byte_compare import first_difference
from tests.cells import at, type_in
from xlhedge.backtest import BacktestError
from xlhedge.backtest_book import read_book_inputs
from xlhedge.plan import compute_plan, read_inputs
from xlhedge.workbook import layout as L
from xlhedge.workbook import messages as M
from xlhedge.workbook import spec
from xlhedge.workbook.book import OpenpyxlBook, release

#: What a new user typed (row 5 is BTC, 5 coins, as shipped), and the message each row earns.
TYPED = {
    6: ({"asset": "ETH", "quantity": 50, "typed_price": "abc"},
        "ETH (Portfolio!C6): Value at is text: type a number or leave it empty",
        M.MSG_PRICE_TEXT),
    7: ({"asset": "SOL", "quantity": "lots", "hedge_with": "own perp"},
        "SOL (Portfolio!B7): quantity is text: type a number",
        M.MSG_QTY_TEXT),
    8: ({"asset": "DOGE", "quantity": -100, "hedge_with": "own perp"},
        "DOGE (Portfolio!B8): quantity is negative: type 0 or more",
        M.MSG_QTY_NEGATIVE),
    9: ({"asset": "BNB", "quantity": 3, "hedge_with": "own perp", "exchange": "kraken"},
        "BNB (Portfolio!G9): exchange 'kraken' is not supported; choose one of "
        "binance, bybit, okx, hyperliquid, bingx, mexc, weex or best", None),
}


@pytest.fixture
def typed(book):
    wb = openpyxl.load_workbook(book, keep_vba=True)
    ws = wb[L.PORTFOLIO]
    for row, (cells, _, _) in TYPED.items():
        type_in(ws, row, **cells)
    wb.save(book)
    return book


def test_sheet_plan_and_backtest_leave_out_the_same_rows_with_the_same_words(typed, calculate):
    values = calculate(typed)  # the sheet: the model, and in the end-to-end part the independent evaluator
    plan = compute_plan(read_inputs(typed)).set_index("asset")
    port = OpenpyxlBook(typed)
    try:
        backtest = read_book_inputs(port)
    finally:
        release(port.wb)
    for row, (cells, said, sheet_message) in TYPED.items():
        asset = cells["asset"]
        if sheet_message is not None:  # the Portfolio's own formula says why in the Spot value cell
            assert values[at(L.PORTFOLIO, "spot_value", row)] == sheet_message
        assert plan.loc[asset, "problem"] == said
        assert said in backtest["skipped"] and asset not in backtest["coins"]
    assert plan.loc["BTC", "problem"] == "" and backtest["coins"] == {"BTC": 5.0}
    # the totals leave them out: the sheet's total spot is BTC's alone, and so is plan's
    btc = values[at(L.PORTFOLIO, "spot_value", 5)]
    assert values[at(L.PORTFOLIO, "spot_value", L.CASH_ROW + 1)] == pytest.approx(btc + 100_000)
    assert plan.loc["BTC", "spot_value"] == pytest.approx(btc)
    assert plan.loc[[cells["asset"] for cells, _, _ in TYPED.values()], "short_notional"].isna().all()


def test_cash_typed_as_text_is_named_by_the_backtest_and_the_workbook_is_untouched(book, capsys):
    from xlhedge.cli import main

    wb = openpyxl.load_workbook(book, keep_vba=True)
    wb[L.PORTFOLIO][spec.CASH_CELL] = "lots of cash"
    wb.save(book)
    before = book.read_bytes()
    assert main(["backtest", str(book)]) == 1
    assert capsys.readouterr().err.strip() == (
        f"xlhedge: error: Portfolio: cash (Portfolio!I{L.CASH_ROW}) is text ('lots of cash'): type a number of "
        "USD, or 0")
    assert first_difference(before, book.read_bytes(), book.name) is None
    with pytest.raises(BacktestError, match="is negative"):
        wb[L.PORTFOLIO][spec.CASH_CELL] = -5
        wb.save(book)
        port = OpenpyxlBook(book)
        try:
            read_book_inputs(port)
        finally:
            release(port.wb)


def test_a_setting_the_functions_refuse_is_named_by_its_cell_in_plan_and_backtest(book, capsys, calculate):
    from xlhedge.cli import main

    wb = openpyxl.load_workbook(book, keep_vba=True)
    ws = wb[L.SETTINGS]
    for name, value in (("Outlook", "sideways"), ("Leverage", 0), ("HorizonDays", -30)):
        ws[f"B{L.SETTING_ROW[name]}"] = value
    wb.save(book)
    values = calculate(book)
    outlook = "outlook must be bearish, neutral, bullish or a ratio like 0.6"
    assert values[at(L.HEDGE, "hedge_ratio", 5)] == f"#VALUE! {outlook}"  # what the sheet shows in the ratio column
    assert main(["plan", str(book)]) == 0
    out = capsys.readouterr().out
    wanted = [f"Settings!B{L.SETTING_ROW['Outlook']} (Market outlook): {outlook}",
              f"Settings!B{L.SETTING_ROW['Leverage']} (Leverage on the short): "
              "leverage must be >= 1 and <= 200 (got 0)",
              f"Settings!B{L.SETTING_ROW['HorizonDays']} (Horizon (days)): horizon_days must be >= 0 and <= 36500 "
              "(got -30)"]
    assert "Settings to fix:\n" + "\n".join(f"  {w}" for w in wanted) in out
    assert f"  BTC: {wanted[0]}" in out and "Hedge!H5" not in out and "Funding -30d" not in out
    before = book.read_bytes()
    assert main(["backtest", str(book)]) == 1
    assert capsys.readouterr().err.strip() == f"xlhedge: error: {wanted[0]}"
    assert first_difference(before, book.read_bytes(), book.name) is None


def test_plan_says_what_the_sheet_says_for_a_row_with_a_short(book, capsys, calculate):
    """A coin with a price but no contract: the sheet's funding cell says why; plan says it with the cell.
    A coin hedged with the BTC perp but without a beta: counted in the spot total (as on the sheet), not hedged."""
    from xlhedge.cli import main

    wb = openpyxl.load_workbook(book, keep_vba=True)
    ws = wb[L.PORTFOLIO]
    type_in(ws, 7, asset="DOGE", quantity=4000, typed_price=0.1, hedge_with="own perp")
    type_in(ws, 8, asset="SOL", quantity=100, typed_price=150, hedge_with="BTC perp")
    wb.save(book)
    values = calculate(book)
    assert values[at(L.HEDGE, "funding_cost", 7)] == M.MSG_NO_RATE
    assert main(["plan", str(book)]) == 0
    out = capsys.readouterr().out
    assert f"  DOGE: {M.MSG_NO_RATE.split(' ', 1)[1]} ({L.HEDGE}!{spec.HEDGE_COL['funding_cost']}7)" in out
    assert "  DOGE: No DOGE contract of binance in the Funding table: refresh" in out  # the order it cannot place
    assert "Not hedged (in the spot total, no short):\n  SOL (Portfolio!F8): hedged with the BTC perp" in out
    total = next(line for line in out.splitlines() if line.startswith("TOTAL"))
    spot = values[at(L.HEDGE, "spot_value", L.HEDGE_TOTAL_ROW)]
    assert f"${spot:,.0f}" in total  # plan's total spot is the sheet's, SOL included


def test_the_refresh_fetches_the_contracts_the_sheet_reads(book, calculate):
    """The refresh reads the Portfolio through the same reader: the contracts it fetches (funding,
    crowding) are the ones the Hedge sheet looks up, and the betas it estimates are of the rows the sheet
    hedges with the BTC perp, by the sheet's rule ("btc perp" in any case is the BTC perp; " BTC perp"
    with a space is not)."""
    from xlhedge.workbook.portfolio import btc_hedged, hedge_contracts, market_coins, read_holdings

    wb = openpyxl.load_workbook(book, keep_vba=True)
    ws = wb[L.PORTFOLIO]
    type_in(ws, 7, asset="SOL", quantity=100, typed_price=150, hedge_with="btc perp")
    type_in(ws, 8, asset="ADA", quantity=100, typed_price=1, hedge_with=" BTC perp")
    type_in(ws, 9, asset="eth", quantity="lots", exchange="okx")  # a typing problem: the contract is still read
    type_in(ws, 10, asset="BNB", quantity=3, exchange="kraken")  # not an exchange xlhedge reads
    wb.save(book)
    values = calculate(book)
    sheet = [(values[at(L.HEDGE, "exchange", r)], values[at(L.HEDGE, "perp", r)], values[at(L.HEDGE, "hedge_with", r)])
             for r in range(5, 11)]
    assert sheet == [("binance", "BTC", "own perp"), ("binance", "ETH", "own perp"), ("binance", "BTC", "BTC perp"),
                     ("binance", "ADA", "own perp"), ("okx", "ETH", "own perp"), ("kraken", "BNB", "own perp")]
    port = OpenpyxlBook(book)
    try:
        holdings = read_holdings(port)
    finally:
        release(port.wb)
    assert hedge_contracts(holdings) == list(dict.fromkeys((ex, perp) for ex, perp, _ in sheet if ex != "kraken"))
    assert btc_hedged(holdings) == [("SOL", "binance")]
    assert market_coins(holdings) == ["BTC", "ETH", "SOL", "ADA", "BNB"]
