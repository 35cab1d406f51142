"""Crowded longs: the engine's rule by hand, the refresh's measures through the loopback exchanges,
and the Hedge sheet's ratio with the rule on and off."""

from __future__ import annotations

import math

import numpy as np
import openpyxl
import pandas as pd
import pytest

from tests.cells import at
from tests.loopback import EPOCH_MS, HOUR_MS, Fault, _hist_rate
from xlhedge import engine, udfs
from xlhedge.market.crowding import crowding_inputs
from xlhedge.refresh import refresh_workbook
from xlhedge.workbook import layout as L
from xlhedge.workbook.template import formula_results


def test_percentile_and_open_interest_change_by_hand():
    # 10 past rates per 8h: 0.0001 x (1..10); now 0.00095 is above 9 of them
    history = [0.0001 * k for k in range(1, 11)]
    assert engine.funding_percentile(0.00095, history) == pytest.approx(0.9)
    assert engine.funding_percentile(0.0001, history) == pytest.approx(0.1)  # ties count as at or below
    assert math.isnan(engine.funding_percentile(0.0001, []))
    assert engine.open_interest_change([1000, 1050, 1120]) == pytest.approx(0.12)
    assert math.isnan(engine.open_interest_change([1000]))


@pytest.mark.parametrize(("rate", "pct", "oi", "fires"), [
    (0.0003, 0.95, 0.12, True),          # hot funding, open interest +12%
    (0.0003, 0.95, 0.05, False),         # open interest barely moved
    (0.0003, 0.95, float("nan"), True),  # no open-interest history: funding decides
    (0.0003, 0.85, 0.5, False),          # funding not high for its own history
    (-0.0003, 0.99, 0.5, False),         # shorts pay longs: nobody is crowding into longs
])
def test_the_signal(rate, pct, oi, fires):
    assert bool(engine.crowded_longs(rate, pct, oi)) is fires
    # the sample's 40% is raised by 10 points only when it fires
    assert engine.crowded_ratio(0.4, rate, pct, oi) == pytest.approx(0.5 if fires else 0.4)


def test_the_raise_stops_at_the_maximum_and_never_lowers():
    assert engine.crowded_ratio(0.95, 0.0003, 0.95, 0.2) == pytest.approx(1.0)
    assert engine.crowded_ratio(1.2, 0.0003, 0.95, 0.2, max_ratio=1.0) == pytest.approx(1.2)
    got = udfs.CROWDED_RATIO([[0.4], [0.4], [None]], [[0.0003], [-0.0003], [0.0003]], [[0.95], [0.99], [None]],
                             [[None], [0.5], [None]])
    assert got == [[pytest.approx(0.5)], [pytest.approx(0.4)], [None]]


@pytest.mark.parametrize("hour_of_day", [0, 12])  # 0: a request at 00:30 UTC (the loopback's clock is hourly)
def test_measures_through_the_loopback_exchanges(exchanges, hour_of_day):
    """Binance: 30 days of 8-hourly rates and daily open-interest points; OKX: funding only."""
    day = 24 * HOUR_MS
    exchanges.now_ms = (exchanges.now_ms - EPOCH_MS) // day * day + EPOCH_MS + hour_of_day * HOUR_MS
    now = pd.Timestamp(exchanges.now_ms, unit="ms", tz="UTC")
    assert now.hour == hour_of_day
    table = pd.DataFrame({"exchange": ["binance", "okx"], "symbol": ["BTCUSDT", "BTC-USDT-SWAP"],
                          "base": ["BTC", "BTC"], "quote": ["USDT", "USDT"], "margin": ["linear", "linear"],
                          "funding_rate": [0.0001, 0.0001], "interval_hours": [8.0, 8.0]})
    got, errors = crowding_inputs([("binance", "BTC"), ("okx", "BTC")], table, now=now, timeout=20)
    assert errors == {}
    by_key = got.set_index("key")
    # independently: the loopback's rates are 0.0001 x ((k + len(symbol)) % 5 - 1), k = hours since its epoch
    start_ms = int((now - pd.Timedelta(days=30)).timestamp() * 1000)
    times = [t for t in range(EPOCH_MS, exchanges.now_ms + 1, 8 * HOUR_MS) if t >= start_ms]
    rates = np.array([_hist_rate("BTCUSDT", t) for t in times])
    assert by_key.loc["binance|BTC", "funding_samples"] == len(times)
    assert by_key.loc["binance|BTC", "funding_percentile"] == pytest.approx(np.mean(rates <= 0.0001))
    # open interest grows 2% a day on daily points: a 7-day change is 1.02^7 - 1 at any hour, never 1.02^8 - 1
    assert by_key.loc["binance|BTC", "oi_change"] == pytest.approx(1.02**7 - 1)
    assert math.isnan(by_key.loc["okx|BTC", "oi_change"])  # OKX: not read here


def test_open_interest_change_runs_from_the_point_at_or_before_the_window_start():
    days = np.arange(9).astype("datetime64[D]")  # nine daily points, 1000 growing by 100 a day
    oi = 1000.0 + 100.0 * np.arange(9)
    # the window starts exactly on day 1: from day 1 (1100) to day 8 (1800)
    assert engine.open_interest_change(oi, days, np.datetime64("1970-01-02")) == pytest.approx(1800 / 1100 - 1)
    # in the middle of day 1: the point at or before it is still day 1's
    assert engine.open_interest_change(oi, days, np.datetime64("1970-01-02T12")) == pytest.approx(1800 / 1100 - 1)
    # nothing recorded at or before the start, or the start after the last point: unknown
    assert math.isnan(engine.open_interest_change(oi[1:], days[1:], np.datetime64("1970-01-01T12")))
    assert math.isnan(engine.open_interest_change(oi, days, np.datetime64("1970-01-10")))
    with pytest.raises(ValueError, match="same length"):
        engine.open_interest_change(oi, days[:3], np.datetime64("1970-01-02"))


def test_refresh_fills_the_table_and_keeps_it_when_the_exchanges_fail(book, exchanges):
    refresh_workbook(book, exchanges="binance")
    wb = openpyxl.load_workbook(book)
    ws = wb[L.FUNDING]
    keys = [ws[L.CROWD_TABLE.cell("key", i)].value for i in range(3)]
    assert keys == ["binance|BTC", "binance|ETH", None]
    pct = ws[L.CROWD_TABLE.cell("funding_percentile")].value
    assert 0 <= pct <= 1 and ws[L.CROWD_TABLE.cell("oi_change")].value == pytest.approx(1.02**7 - 1, rel=1e-6)
    # the Hedge sheet shows them beside the signal (the workbook model, held to the general evaluator on a
    # refreshed workbook by test_headless_refresh_stores_every_formula_result)
    values = formula_results(book)
    assert values[at(L.HEDGE, "funding_percentile", 5)] == pytest.approx(pct)
    assert values[at(L.HEDGE, "crowded", 5)] in ("no", "yes (rule off in Settings)")
    exchanges.fault("binance", "/fapi/v1/fundingRate", Fault(status=500, times=99))  # history fails, rates not
    refresh_workbook(book, exchanges="binance")
    ws = openpyxl.load_workbook(book)[L.FUNDING]
    assert ws[L.CROWD_TABLE.cell("funding_percentile")].value == pytest.approx(pct)
    assert ws[L.CROWD_TABLE.cell("stale")].value == "yes"  # kept, marked stale


def test_the_rule_lifts_the_ratio_on_the_hedge_sheet(built_template, calculate):
    """Sample: neutral 0.5 -> 40%. BTC's funding above 95% of its month with open interest +15%:
    rule on -> 50%, 2.5 BTC short; ETH (no measure) stays at 40%."""
    crowd = {key: (L.FUNDING, L.CROWD_TABLE.cell(key)) for key in ("key", "funding_percentile", "oi_change")}
    inputs = {crowd["key"]: "binance|BTC", crowd["funding_percentile"]: 0.95, crowd["oi_change"]: 0.15,
              (L.SETTINGS, f"B{L.SETTING_ROW['CrowdedRule']}"): "yes"}
    values = calculate(built_template, inputs)
    h = L.HEDGE
    assert values[at(h, "hedge_ratio", 5)] == pytest.approx(0.5)
    assert values[at(h, "contracts", 5)] == pytest.approx(2.5)
    assert values[at(h, "crowded", 5)].startswith("yes: ratio raised")
    assert values[at(h, "hedge_ratio", 6)] == pytest.approx(0.4)
    assert values[at(h, "crowded", 6)].startswith("not measured")
    off = calculate(built_template, {k: v for k, v in inputs.items() if k[0] == L.FUNDING})
    assert off[at(h, "hedge_ratio", 5)] == pytest.approx(0.4)
    assert off[at(h, "crowded", 5)] == "yes (rule off in Settings)"
