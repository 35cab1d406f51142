"""The backtest as a user runs it: bundled demo data, exchange history with its cache, the CLI and
the workbook's Backtest sheet."""

from __future__ import annotations

import csv
import subprocess
import sys
from importlib import resources

import numpy as np
import openpyxl
import pandas as pd
import pytest

from tests.backtest_loop import plain_effectiveness, plain_simulation
from tests.byte_compare import first_difference
from tests.cells import type_in
from tests.workbook_snapshot import user_inputs
from xlhedge.backtest import run_backtest
from xlhedge.backtest_book import backtest_workbook
from xlhedge.backtest_history import (
    BacktestError,
    cached_history,
    demo_history,
    synthetic_highs,
    synthetic_prices,
)
from xlhedge.engine.backtest import funding_at_steps
from xlhedge.workbook import layout as L

DATA = resources.files("xlhedge").joinpath("data/backtest")


def test_the_demo_funding_is_the_sources_rows_in_utc():
    """Typed from supervik/historical-funding-rates-fetcher's Binance files (times there are UTC+3:
    2022-01-01 03:00 is 00:00 UTC); 730 days x 3 payments, every 8 hours."""
    rows = list(csv.reader(DATA.joinpath("funding_binance_2022_2023.csv").open(encoding="utf-8")))
    assert rows[0] == ["time_utc", "BTC", "ETH"]
    assert rows[1] == ["2022-01-01T00:00Z", "0.00010000", "0.00010000"]
    assert len(rows) - 1 == 730 * 3
    history = demo_history()
    gaps = np.diff(history.funding_times).astype("timedelta64[h]").astype(int)
    assert set(gaps) == {8}
    assert "SYNTHETIC" in history.source


def test_the_demo_prices_are_the_labelled_synthetic_path():
    shipped = pd.read_csv(DATA.joinpath("prices_synthetic_2022_2023.csv").open(encoding="utf-8"), index_col="date")
    made = synthetic_prices()
    assert np.array_equal(shipped.to_numpy(), made.to_numpy())
    highs = pd.read_csv(DATA.joinpath("highs_synthetic_2022_2023.csv").open(encoding="utf-8"), index_col="date")
    assert np.array_equal(highs.to_numpy(), synthetic_highs(made).to_numpy())
    assert (highs.to_numpy() >= shipped.to_numpy()).all() and (highs.to_numpy()[1:] >= shipped.to_numpy()[:-1]).all()
    assert list(shipped.index[[0, -1]]) == ["2022-01-01", "2024-01-01"]
    assert "SYNTHETIC" in DATA.joinpath("SOURCES.md").read_text(encoding="utf-8")


def test_funding_is_booked_at_its_real_times():
    """Daily closes at midnight; payments at 00, 08, 16 h: a step gets the two of the previous day
    after midnight and the one at its own midnight; a 1-hourly contract gets 24."""
    steps = np.array(["2022-01-01", "2022-01-02", "2022-01-03"], dtype="datetime64[ns]")
    eight = np.arange(np.datetime64("2022-01-01T00:00"), np.datetime64("2022-01-03T01:00"), np.timedelta64(8, "h"))
    hourly = np.arange(np.datetime64("2022-01-01T00:00"), np.datetime64("2022-01-03T01:00"), np.timedelta64(1, "h"))
    assert list(funding_at_steps(steps, eight, np.ones(len(eight)))) == [0, 3, 3]
    assert list(funding_at_steps(steps, hourly, np.ones(len(hourly)))) == [0, 24, 24]


def test_the_demo_run_equals_the_plain_loop():
    run = run_backtest({"BTC": 5, "ETH": 50}, 100_000, policy="static", ratio=0.4, fee=0.0005, slippage=0.0002,
                       data="demo")
    prices = run.history.prices.to_numpy(float)
    steps = run.times.tz_convert(None).to_numpy(dtype="datetime64[ns]")
    # funding of each step summed here by hand from the raw payments
    history = demo_history()
    pay = pd.to_datetime(history.funding_times)
    rates = []
    for i, t in enumerate(pd.to_datetime(steps)):
        if i == 0:
            rates.append([0.0, 0.0])
            continue
        inside = (pay > pd.to_datetime(steps[i - 1])) & (pay <= t)
        rates.append(list(history.funding_rates[["BTC", "ETH"]].to_numpy()[inside].sum(axis=0)))
    highs = run.history.highs.to_numpy(float)
    want = plain_simulation(prices.tolist(), [5.0, 50.0], [[0.4, 0.4]] * len(prices), rates, 0.05, 0.0005, 0.0002,
                            3.0, 0.004, cash=100_000, highs=highs.tolist())
    assert run.result.value_hedged == pytest.approx(want["value_hedged"], rel=1e-9)
    assert run.result.value_unhedged == pytest.approx(want["value_unhedged"], rel=1e-9)
    assert run.result.funding_cost == pytest.approx(want["funding_cost"], rel=1e-9)
    assert run.result.rebalances == want["rebalances"]
    assert run.result.liquidations == want["liquidations"]
    assert run.result.effectiveness == pytest.approx(plain_effectiveness(want["value_unhedged"],
                                                                         want["value_hedged"]), rel=1e-9)
    assert any("one price series" in n for n in run.notes) and run.basis is None
    # positive funding dominated 2022-2023: the shorts earned it
    assert run.result.funding_cost < 0
    assert 0 < run.result.effectiveness < 1


def test_policies_and_mistakes():
    funding = run_backtest({"BTC": 5}, policy="funding", data="demo")
    static = run_backtest({"BTC": 5}, policy="static", ratio=0.4, data="demo")
    assert funding.target.shape == static.target.shape == (731, 1)
    # neutral 0.5 is 40%; the rate in force at a close is the one paid at that midnight: above +0.05%
    # per 8h (the short is paid well) it is raised by 30% to 52%, below -0.05% trimmed to 28%
    history = demo_history()
    at_midnight = pd.Series(history.funding_rates["BTC"].to_numpy(), index=pd.to_datetime(history.funding_times))
    rate = at_midnight.reindex(funding.times.tz_convert(None)).to_numpy()
    want = np.where(rate > 0.0005, 0.52, np.where(rate < -0.0005, 0.28, 0.4))
    assert funding.target[:, 0] == pytest.approx(want)
    assert (want == 0.52).sum() > 0 and (want == 0.28).sum() > 0
    events = run_backtest({"BTC": 5}, policy="events", event_times=[np.datetime64("2022-06-15T18:00")], data="demo")
    inside = (events.times >= pd.Timestamp("2022-06-12 18:00", tz="UTC")) & (
        events.times <= pd.Timestamp("2022-06-16 18:00", tz="UTC"))
    assert np.all(events.target[inside] >= 0.8) and inside.sum() == 4
    with pytest.raises(BacktestError, match="start must be a UTC date"):
        run_backtest({"BTC": 5}, start="yesterday", data="demo")
    with pytest.raises(BacktestError, match="BTC and ETH only"):
        run_backtest({"SOL": 5}, data="demo")
    assert "SOL" in run_backtest({"BTC": 1, "SOL": 5}, data="demo").notes[0]


def test_cli_prints_the_demo(tmp_path):
    out = subprocess.run([sys.executable, "-m", "xlhedge", "backtest"], capture_output=True, text=True,
                         timeout=120, check=True)
    assert "SYNTHETIC prices" in out.stdout and "Hedge effectiveness" in out.stdout
    # the tests' exchanges are a closed port: the default data (auto) says so and uses the demo
    assert "Note: binance did not answer (cannot connect after 4 tries): the bundled demo data instead" in out.stdout


def test_the_workbook_run_writes_the_sheet_and_keeps_your_edits(book):
    wb = openpyxl.load_workbook(book, keep_vba=True)
    wb[L.BACKTEST][f"B{L.BACKTEST_INPUT_ROW['policy']}"] = "static"
    wb[L.BACKTEST][f"B{L.BACKTEST_INPUT_ROW['start']}"] = "2023-01-01"
    wb[L.BACKTEST][f"B{L.BACKTEST_INPUT_ROW['data']}"] = "demo"
    type_in(wb[L.PORTFOLIO], 5, quantity=2)  # 2 BTC instead of 5
    wb.save(book)
    before = {k: v for k, v in user_inputs(book).items() if k[0] != L.BACKTEST}
    run = backtest_workbook(book)
    assert user_inputs(book) != {} and {k: v for k, v in user_inputs(book).items() if k[0] != L.BACKTEST} == before
    ws = openpyxl.load_workbook(book)[L.BACKTEST]
    result, series = L.BACKTEST_RESULTS.cell, L.BACKTEST_SERIES.cell
    assert ws[result("label", 4)].value.startswith("Hedge effectiveness")
    assert ws[result("value", 4)].value == pytest.approx(run.result.effectiveness)
    assert ws[series("date", 0)].value.date().isoformat() == "2023-01-01"
    assert ws[series("date", 365)].value.date().isoformat() == "2024-01-01"
    assert ws[series("date", 366)].value is None  # the longer sample run's rows are cleared
    prices = pd.read_csv(DATA.joinpath("prices_synthetic_2022_2023.csv").open(encoding="utf-8"), index_col="date")
    btc, eth = prices.loc["2023-01-01", ["BTC", "ETH"]]
    # the coins at the first close, and the cash
    assert ws[series("unhedged", 0)].value == pytest.approx(2 * btc + 50 * eth + 100_000)
    assert run.coins == {"BTC": 2.0, "ETH": 50.0}
    assert ws[L.BACKTEST_STATUS_CELL].value.startswith("Run ")


def test_a_failed_run_leaves_the_file_as_it_was(book):
    wb = openpyxl.load_workbook(book, keep_vba=True)
    wb[L.BACKTEST][f"B{L.BACKTEST_INPUT_ROW['policy']}"] = "sometimes"
    wb.save(book)
    before = book.read_bytes()
    with pytest.raises(BacktestError, match="Policy"):
        backtest_workbook(book)
    assert first_difference(before, book.read_bytes(), book.name) is None


def test_live_history_is_cached_and_only_the_missing_part_fetched(exchanges, tmp_path, monkeypatch):
    monkeypatch.setenv("XLHEDGE_CACHE", str(tmp_path / "cache"))
    now = pd.Timestamp(exchanges.now_ms, unit="ms", tz="UTC").normalize()
    start = now - pd.Timedelta(days=60)
    first = run_backtest({"BTC": 1, "ETH": 10}, start=start, end=now - pd.Timedelta(days=10), data="live")
    klines = exchanges.hits[("binance", "/fapi/v1/klines")]
    assert len(first.times) == 50 and klines >= 2
    assert (first.history.highs.to_numpy() > first.history.prices.to_numpy()).all()  # the candles' own highs
    assert "highs" in first.history.source
    again = run_backtest({"BTC": 1, "ETH": 10}, start=start, end=now - pd.Timedelta(days=10), data="live")
    assert exchanges.hits[("binance", "/fapi/v1/klines")] == klines  # nothing new asked
    assert again.result.value_hedged == pytest.approx(first.result.value_hedged)
    longer = run_backtest({"BTC": 1, "ETH": 10}, start=start, end=now, data="live")
    assert exchanges.hits[("binance", "/fapi/v1/klines")] == klines + 2  # one page per coin for the last days
    assert len(longer.times) == 60


def test_the_default_data_is_the_exchanges_history_holding_at_the_index_short_at_the_perpetual(
        exchanges, tmp_path, monkeypatch):
    from tests.loopback import HOUR_MS, _hist_close, _hist_index, _hist_rate

    monkeypatch.setenv("XLHEDGE_CACHE", str(tmp_path / "cache"))
    now = pd.Timestamp(exchanges.now_ms, unit="ms", tz="UTC").normalize()
    run = run_backtest({"BTC": 2}, start=now - pd.Timedelta(days=40), end=now - pd.Timedelta(days=5),
                       policy="static", ratio=0.5, band=10, fee=0.0, slippage=0.0)  # data: auto, the default
    assert run.history.source == ("binance: the perpetual's and its index's daily closes, highs and funding "
                                  "history (real)")
    assert run.notes == ["liquidation at the Binance brackets shipped with xlhedge (as of 2026-07-02) for BTC "
                         "(by position size)"] and exchanges.hits[("binance", "/fapi/v1/indexPriceKlines")] >= 1

    def ms(t):  # a close stamped t is the daily candle opened a day before
        return int((t - pd.Timedelta(days=1)).timestamp() * 1000)

    index = np.array([_hist_index("BTCUSDT", ms(t)) for t in run.times])
    perp = np.array([_hist_close("BTCUSDT", ms(t)) for t in run.times])
    assert run.history.prices["BTC"].to_numpy() == pytest.approx(index, rel=1e-12)
    assert run.history.perp["BTC"].to_numpy() == pytest.approx(perp, rel=1e-12)
    # funding of each step: the 8-hourly payments in (previous close, close], summed by hand
    paid = [sum(_hist_rate("BTCUSDT", int(t.timestamp() * 1000) - k * 8 * HOUR_MS) for k in range(3))
            for t in run.times]
    short = 0.5 * 2  # coins, opened at the first close and never rebalanced (band 10)
    carry = sum(short * perp[k] * paid[k] for k in range(1, len(perp)))
    assert run.result.value_hedged[-1] == pytest.approx(2 * index[-1] + short * (perp[0] - perp[-1]) + carry,
                                                        rel=1e-12)
    # what the basis added: the hedged value against a perpetual that tracks the index
    tracking = short * (index[0] - index[-1]) + sum(short * index[k] * paid[k] for k in range(1, len(index)))
    assert run.basis == pytest.approx(short * (perp[0] - perp[-1]) + carry - tracking, rel=1e-9)
    assert abs(run.basis) > 0.001


def test_live_data_from_a_silent_exchange_is_refused_in_one_line():
    with pytest.raises(BacktestError, match=r"^binance did not answer \(cannot connect after 4 tries\)$"):
        run_backtest({"BTC": 1}, data="live")


def test_the_crowded_rule_reads_open_interest_history_where_it_is_published(exchanges, tmp_path, monkeypatch):
    from xlhedge.engine import hedge_target, rolling_open_interest_change
    from xlhedge.engine.policy import HedgePolicy

    monkeypatch.setenv("XLHEDGE_CACHE", str(tmp_path / "cache"))
    now = pd.Timestamp(exchanges.now_ms, unit="ms", tz="UTC").normalize()
    window = dict(start=now - pd.Timedelta(days=40), end=now - pd.Timedelta(days=5), crowded=True, policy="funding")
    bybit = run_backtest({"BTC": 1}, exchange="bybit", **window)
    oi = bybit.history.open_interest["BTC"]
    assert len(oi) == 36 + 8 and exchanges.hits[("bybit", "/v5/market/open-interest")] >= 1
    steps = bybit.times.tz_convert(None).to_numpy("datetime64[ns]")
    change = rolling_open_interest_change(oi.index.tz_convert(None).to_numpy("datetime64[ns]"), oi.to_numpy(), steps)
    assert change == pytest.approx(np.full(len(steps), 1.02**7 - 1))  # the loopback's +2% a day, over 7 days
    # hyperliquid publishes none: funding alone decides, and the run says so
    quiet = run_backtest({"BTC": 1}, exchange="hyperliquid", **window)
    assert "no open-interest history here: the crowded-longs rule reads funding alone" in quiet.notes
    assert quiet.history.perp is None and any("one price series" in n for n in quiet.notes)
    # the rule's target with that change is the engine's, step by step (the percentile as the backtest ranks it)
    assert bybit.target[:, 0] == pytest.approx(target_with(bybit, change, HedgePolicy(crowded=True), hedge_target))
    flat = target_with(bybit, np.zeros(len(steps)), HedgePolicy(crowded=True), hedge_target)  # OI not rising
    assert (bybit.target[:, 0] > flat + 0.05).sum() >= 3  # the rising open interest is what raised those steps


def target_with(run, oi_change, policy, hedge_target):
    """The funding and crowded rules at each step, from the run's funding, with the given OI change."""
    from xlhedge.engine import rate_per_8h, rolling_funding_percentile
    from xlhedge.market.history import spacing_hours

    steps = run.times.tz_convert(None).to_numpy("datetime64[ns]")
    paid, rates = run.history.funding_times, run.history.funding_rates["BTC"].to_numpy(float)
    hours = spacing_hours(pd.Series(pd.to_datetime(paid))).to_numpy(float)
    last = np.searchsorted(paid, steps, side="right") - 1
    percentile = rolling_funding_percentile(paid, rate_per_8h(rates, hours)[:, None], steps)[:, 0]
    return hedge_target(policy, rates[last], hours[last], percentile, oi_change)


def test_cached_history_survives_a_failed_download(tmp_path):
    t = pd.date_range("2024-01-01", periods=5, freq="D", tz="UTC")

    def fetch(a, b):
        return pd.DataFrame({"time": t[(t >= a) & (t <= b)], "close": 1.0})

    got = cached_history("prices", "x", "BTC", t[0], t[2], fetch, tmp_path)
    assert len(got) == 3

    def broken(a, b):
        raise BacktestError("down")

    with pytest.raises(BacktestError):
        cached_history("prices", "x", "BTC", t[0], t[4], broken, tmp_path)
    assert len(pd.read_csv(tmp_path / "prices_x_BTC.csv")) == 3  # what was kept is still there


def test_a_long_run_is_thinned_evenly_for_the_sheet():
    from xlhedge.backtest_history import History
    from xlhedge.workbook.backtest_sheet import series_rows

    days = pd.date_range("2018-01-01", periods=2000, freq="D", tz="UTC")
    prices = pd.DataFrame({"BTC": np.linspace(10_000, 20_000, 2000)}, index=days)
    history = History(prices, days.tz_convert(None).to_numpy(dtype="datetime64[ns]"),
                      pd.DataFrame({"BTC": np.zeros(2000)}), "test")
    run = run_backtest({"BTC": 1}, start="2018-01-01", end="2024-01-01", data="live", policy="static",
                       history=history)
    rows = series_rows(run)
    assert len(run.times) == 2000 and len(rows) == L.BACKTEST_SERIES_ROWS
    assert rows[0][0].date().isoformat() == "2018-01-01" and rows[-1][0] == days[-1].tz_localize(None)


def test_your_own_ratio_column(tmp_path):
    from xlhedge.backtest import read_ratios

    path = tmp_path / "ratios.csv"
    path.write_text("date,BTC,eth\n2022-01-01,0.2,0.3\n2022-07-01,0.8,0.5\n", encoding="utf-8")
    run = run_backtest({"BTC": 5, "ETH": 50}, policy="own", own=read_ratios(path), data="demo")
    july = run.times.get_loc(pd.Timestamp("2022-07-01", tz="UTC"))
    assert run.target[july - 1].tolist() == [0.2, 0.3] and run.target[july].tolist() == [0.8, 0.5]
    path.write_text("date,ratio\n2022-01-01,-1\n", encoding="utf-8")
    with pytest.raises(BacktestError, match=">= 0"):
        run_backtest({"BTC": 5}, policy="own", own=read_ratios(path), data="demo")


def test_the_events_table_is_read_as_event_ratio_reads_it(book):
    """Text, a date cell and an Excel date number (what xlwings Lite hands over) are the same dates."""
    import datetime

    from xlhedge.backtest_book import _event_times
    from xlhedge.workbook.book import OpenpyxlBook

    wb = openpyxl.load_workbook(book, keep_vba=True)
    ws = wb[L.SETTINGS]
    _, when, _ = L.EVENTS_COLUMNS
    rows = range(L.EVENTS_LAST_ROW - 3, L.EVENTS_LAST_ROW + 1)
    for r, value in zip(rows, ("2022-06-15 18:00", datetime.datetime(2022, 11, 10, 13, 30), 46363, "soon"),
                        strict=True):
        ws[f"{when}{r}"] = value
    wb.save(book)
    got = [str(t)[:16] for t in _event_times(OpenpyxlBook(book))[-3:]]
    assert got == ["2022-06-15T18:00", "2022-11-10T13:30", "2026-12-07T00:00"]  # 46363 = 2026-12-07; "soon" skipped


def test_the_readme_demo_numbers_are_what_the_backtest_prints():
    """The README's paragraph on hedge effectiveness quotes the sample's demo run: each number is checked."""
    from tests.conftest import ROOT

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    run = run_backtest({"BTC": 5, "ETH": 50}, 100_000, data="demo")
    r = run.result
    (du, dh), ((_, ru), (_, rh)) = r.max_drawdown, r.worst_step
    quoted = [f"removed **{r.effectiveness:.1%}** of the variance", f"fell from -{du:.1%} to -{dh:.1%}",
              f"worst day from {ru:.1%} to {rh:.1%}", f"*earned*\n${-r.funding_cost:,.0f} of funding",
              f"paid ${r.fees:,.0f} of fees and ${r.slippage:,.0f} of slippage over {r.rebalances} rebalances"]
    flat = " ".join(readme.split())
    for words in quoted:
        assert " ".join(words.split()) in flat, words
    assert r.liquidations == []


def test_a_live_run_liquidates_at_the_venues_tiers(exchanges, tmp_path, monkeypatch):
    """Bybit's risk limits on the loopback: 0.5% to 2,000 USD of position, 1% (less 10 USD) to 2,000,000. A
    30 BTC short at 100 USD is 3,000 USD: the second tier. At 50x it is liquidated at (3,000 x 1.02 + 10) /
    (30 x 1.01) = 101.32, where the Settings' one rate (0.4%) would wait until 100 x 1.02 / 1.004 = 101.59."""
    from xlhedge.backtest_history import History

    monkeypatch.setenv("XLHEDGE_CACHE", str(tmp_path / "cache"))
    now = pd.Timestamp(exchanges.now_ms, unit="ms", tz="UTC").normalize()
    live = run_backtest({"BTC": 30}, start=now - pd.Timedelta(days=30), end=now - pd.Timedelta(days=2),
                        policy="static", ratio=1.0, exchange="bybit")
    tiers = live.history.tiers["BTC"]
    assert (tiers.floors, tiers.rates, tiers.amounts) == ((0.0, 2000.0, 2_000_000.0), (0.005, 0.01, 0.02),
                                                         (0.0, 10.0, 20_010.0))
    assert "liquidation at bybit's maintenance tiers of today for BTC (by position size)" in live.notes
    # a day trading up to 101.45 and closing at 100.50: between the two levels
    days = pd.date_range("2025-03-01", periods=3, freq="D", tz="UTC")
    prices = pd.DataFrame({"BTC": [100.0, 100.5, 100.2]}, index=days)
    hand = History(prices, days.tz_convert(None).to_numpy("datetime64[ns]"), pd.DataFrame({"BTC": [0.0] * 3}),
                   "hand-made", highs=pd.DataFrame({"BTC": [100.0, 101.45, 100.3]}, index=days), tiers={"BTC": tiers})
    run = dict(start=days[0], end=days[-1], policy="static", ratio=1.0, leverage=50.0, fee=0.0, slippage=0.0,
               maintenance_margin=0.004, data="live", history=hand)
    tiered, flat = run_backtest({"BTC": 30}, **run), run_backtest({"BTC": 10}, **run)
    assert tiered.result.liquidations == [(1, 0)]  # 30 BTC: the second tier
    assert flat.result.liquidations == []  # 10 BTC, 1,000 USD: the first tier, 0.5%: 100 x 1.02 / 1.005 = 101.49
    margin = 30 * 100 / 50
    assert tiered.result.value_hedged[1] == pytest.approx(30 * 100.5 - margin)  # the whole margin lost


def test_an_unknown_data_source_on_the_sheet_is_named(book):
    wb = openpyxl.load_workbook(book, keep_vba=True)
    wb[L.BACKTEST][f"B{L.BACKTEST_INPUT_ROW['data']}"] = "maybe"
    wb.save(book)
    with pytest.raises(BacktestError, match=r"^Backtest sheet, Data: use auto, live or demo \(got 'maybe'\)$"):
        backtest_workbook(book)
