"""The backtest replays the Hedge sheet's policy: the crowded-longs rule included, read from the
Settings as the sheet reads them."""

from __future__ import annotations

import numpy as np
import openpyxl
import pandas as pd
import pytest

from xlhedge.backtest import run_backtest
from xlhedge.backtest_book import read_book_inputs
from xlhedge.backtest_history import History
from xlhedge.engine import funding_percentile, rolling_funding_percentile
from xlhedge.workbook import layout as L
from xlhedge.workbook.book import OpenpyxlBook, release


def test_rolling_percentile_by_hand_and_against_the_one_at_a_time_measure():
    days = np.arange("2024-01-01", "2024-01-06", dtype="datetime64[D]").astype("datetime64[ns]")
    rates = np.array([[1.0], [3.0], [2.0], [5.0], [4.0]])
    at = days[[0, 4]] + np.timedelta64(1, "h")
    got = rolling_funding_percentile(days, rates, at, lookback_days=3)
    # 01-01 01:00: only the first rate -> 1; 01-05 01:00: rates since 01-02 01:00 are 2, 5, 4; 4 beats 2 of 3
    assert got[:, 0] == pytest.approx([1.0, 2 / 3])
    rng = np.random.default_rng(7)
    times = np.sort(rng.choice(np.arange(0, 90 * 24), 200, replace=False)).astype("timedelta64[h]") \
        + np.datetime64("2024-01-01", "ns")
    many = rng.normal(0, 1, (200, 3))
    many[rng.random((200, 3)) < 0.1] = np.nan
    steps = np.datetime64("2024-01-01", "ns") + np.arange(0, 90, 5).astype("timedelta64[D]")
    got = rolling_funding_percentile(times, many, steps, lookback_days=30)
    for t, step in enumerate(steps):
        last = np.searchsorted(times, step, side="right") - 1
        for n in range(3):
            if last < 0:
                assert np.isnan(got[t, n])
                continue
            window = many[(times >= step - np.timedelta64(30, "D")) & (times <= step), n]
            want = funding_percentile(many[last, n], window)
            assert got[t, n] == pytest.approx(want, nan_ok=True)


def _history():
    """40 daily closes at a constant price; daily funding that falls from 0.03% to 0.01%, then jumps to
    0.05% on day 35: the highest of its 30 days (the funding rule leaves 0.05% a day alone: 0.017% per 8 h)."""
    days = pd.date_range("2024-01-01", periods=40, freq="D", tz="UTC")
    rates = np.concatenate([np.linspace(0.0003, 0.0001, 35), np.full(5, 0.0005)])
    prices = pd.DataFrame({"BTC": np.full(40, 50_000.0)}, index=days)
    return History(prices, days.tz_convert(None).to_numpy(dtype="datetime64[ns]"), pd.DataFrame({"BTC": rates}),
                   "hand-made")


def test_the_crowded_rule_raises_the_target_when_funding_tops_its_month():
    run = dict(start="2024-01-01", end="2024-02-10", data="live", history=_history(), policy="funding")
    off = run_backtest({"BTC": 1}, **run)
    on = run_backtest({"BTC": 1}, crowded=True, crowded_bump=0.1, **run)
    assert np.asarray(off.target)[:, 0] == pytest.approx(np.full(40, 0.4))
    # day 0: its own rate is the only one (percentile 1) -> raised; days 1-34: each the lowest so far -> 0.4
    expected = np.full(40, 0.4)
    expected[0] = 0.5
    expected[35:] = 0.5
    assert np.asarray(on.target)[:, 0] == pytest.approx(expected)


def test_the_backtest_reads_the_rule_switches_and_percent_text_as_the_sheet_does(book):
    wb = openpyxl.load_workbook(book, keep_vba=True)
    ws = wb[L.SETTINGS]
    ws[f"B{L.SETTING_ROW['CrowdedRule']}"] = "Yes"
    ws[f"B{L.SETTING_ROW['CrowdedBump']}"] = "15%"
    ws[f"B{L.SETTING_ROW['FundingAdjust']}"] = None  # an emptied switch: the sheet's ="yes" is false
    ws[f"B{L.SETTING_ROW['MaxRatio']}"] = "90%"
    wb.save(book)
    port = OpenpyxlBook(book)
    try:
        got = read_book_inputs(port)
    finally:
        release(port.wb)
    assert got["crowded"] is True and got["crowded_bump"] == pytest.approx(0.15)
    assert got["funding_adjust"] is False and got["max_ratio"] == pytest.approx(0.9)


def test_the_sheet_policy_replays_the_hedge_sheet_on_the_same_day(book, calculate):
    """The template's Settings with every rule as switched there, on one day whose funding is the Funding
    table's: the backtest's targets are the ratios the Hedge sheet shows (computed by the workbook model, and
    independently by the formulas evaluator), for the funding rule and for the event rule around a date typed
    in the Events table."""
    from tests.cells import at
    from xlhedge.backtest import target_ratios

    def sheet_and_replay(typed: dict):
        """Type into the Settings, then: the Hedge sheet's ratios and the replay's."""
        wb = openpyxl.load_workbook(book, keep_vba=True)
        for (sheet, cell), value in typed.items():
            wb[sheet][cell] = value
        wb.save(book)
        values = calculate(book)
        port = OpenpyxlBook(book)
        try:
            options = read_book_inputs(port)
        finally:
            release(port.wb)
        rows = {values[at(L.HEDGE, "asset", r)]: r for r in (5, 6)}
        rates = {coin: values[at(L.HEDGE, "funding_rate", r)] for coin, r in rows.items()}
        hours = {values[at(L.HEDGE, "interval_hours", r)] for r in rows.values()}
        assert len(hours) == 1  # one funding clock for both coins, as the history's single time index
        interval = pd.Timedelta(hours=hours.pop())
        paid = pd.DatetimeIndex([day - 2 * interval, day - interval])
        history = History(pd.DataFrame({"BTC": [1.0, 1.0], "ETH": [1.0, 1.0]}, index=[day - pd.Timedelta(days=1), day]),
                          paid.tz_convert(None).to_numpy(dtype="datetime64[ns]"),
                          pd.DataFrame({coin: [rate, rate] for coin, rate in rates.items()}), "hand-made")
        target = target_ratios("sheet", history.prices.index, history, ["BTC", "ETH"],
                               **{k: options[k] for k in keep})
        return [values[at(L.HEDGE, "hedge_ratio", rows[c])] for c in ("BTC", "ETH")], list(target[-1]), options

    day = pd.Timestamp("2026-11-20 08:00", tz="UTC")  # the tests' "now" (XLHEDGE_NOW), the sheet's as_of
    keep = ("outlook", "conviction", "ratio", "threshold", "adjustment", "max_ratio", "funding_adjust", "crowded",
            "crowded_bump", "crowded_percentile", "crowded_oi_rise", "events", "event_times", "event_rule")
    setting = {name: (L.SETTINGS, f"B{L.SETTING_ROW[name]}") for name in ("FundingAdjust", "EventRule", "Outlook")}
    sheet, replay, _ = sheet_and_replay({setting["FundingAdjust"]: "yes", setting["EventRule"]: "yes",
                                         setting["Outlook"]: "bearish"})
    assert replay == pytest.approx(sheet)
    assert replay[0] != pytest.approx(0.6)  # the funding rule moved the bearish 60% (the sample's rates)
    # an event two days ahead lifts both, on the sheet and in the replay
    _, when_col, _ = L.EVENTS_COLUMNS
    sheet, replay, options = sheet_and_replay({(L.SETTINGS, f"{when_col}{L.EVENTS_FIRST_ROW}"): "2026-11-22 12:00"})
    assert replay == pytest.approx(sheet)
    assert min(replay) >= options["events"][2]


@pytest.mark.parametrize(("args", "words"), [
    (["--fee", "-0.5"], "fee must be from 0 to 5% of the traded notional"),
    (["--fee", "2"], "fee must be from 0 to 5%"),
    (["--slippage", "-1"], "slippage must be from 0 to 5%"),
    (["--ratio", "5"], "ratio must be from 0 to 1"),
    (["--policy", "static", "--ratio", "1.5"], "ratio must be from 0 to 1"),
    (["--data", "live", "--exchange", "kraken"], "exchange must be one of binance, bybit"),
])
def test_bad_choices_are_refused_in_one_line_and_the_workbook_is_untouched(book, capsys, args, words):
    from tests.byte_compare import first_difference
    from xlhedge.cli import main

    before = book.read_bytes()
    assert main(["backtest", str(book), *args]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and words in err, err
    assert first_difference(before, book.read_bytes(), book.name) is None
    assert main(["backtest", *args]) == 1  # the same without a workbook
    assert words in capsys.readouterr().err


def test_a_fee_typed_as_text_on_the_sheet_is_named_not_replaced(book, capsys):
    from xlhedge.cli import main

    wb = openpyxl.load_workbook(book, keep_vba=True)
    wb[L.BACKTEST][f"B{L.BACKTEST_INPUT_ROW['fee']}"] = "abc"
    wb.save(book)
    assert main(["backtest", str(book)]) == 1
    assert "Backtest sheet, Taker fee: type a number such as 0.05% (got 'abc')" in capsys.readouterr().err
    wb = openpyxl.load_workbook(book, keep_vba=True)
    wb[L.BACKTEST][f"B{L.BACKTEST_INPUT_ROW['fee']}"] = "0.1%"  # percent text is a number, as in the functions
    wb[L.BACKTEST][f"B{L.BACKTEST_INPUT_ROW['policy']}"] = "sheet"
    wb.save(book)
    assert main(["backtest", str(book)]) == 0
    assert "Policy:" in capsys.readouterr().out
