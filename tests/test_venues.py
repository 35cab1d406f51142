"""Where to short: the venue cost, the best venue per coin, the Venues sheet, a Portfolio row on
``best`` and ``xlhedge venues``. Expected numbers are worked out here from the sample snapshot's rows
with plain arithmetic and loops, not with the product's functions."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.cells import at, setting, type_in, typed
from xlhedge import engine, udfs
from xlhedge.market.exchanges import REGISTRY
from xlhedge.market.sample import sample_snapshot
from xlhedge.plan import compute_plan, read_inputs
from xlhedge.venues import venue_table
from xlhedge.workbook import layout as L
from xlhedge.workbook import spec

V = L.VENUES
HORIZON_DAYS = 30  # the template's Settings


# ---------------------------------------------------------------- the engine

def test_cost_is_funding_plus_the_fees_to_open_and_close():
    # $100,000 short at 0.01% per 8 h for 30 days: 90 payments of $10 received; fees 2 x $50
    assert engine.venue_cost(100_000, 0.0001, 8, 30, 0.0005) == pytest.approx(-900 + 100)
    # the same rate per hour is 8x the funding: 720 payments of $10
    assert engine.venue_cost(100_000, 0.0001, 1, 30, 0.0005) == pytest.approx(-7200 + 100)
    # a negative rate: the short pays
    assert engine.venue_cost(50_000, -0.0002, 4, 2, 0.0) == pytest.approx(50_000 * 0.0002 * 12)
    with pytest.raises(ValueError, match="taker_fee"):
        engine.venue_cost(1, 0.0001, 8, 30, -0.001)


def test_an_order_meets_the_minimum_in_contracts_and_in_usd():
    got = engine.meets_minimum([2, 0.004, 2, 0, 5], [0.001, 0.01, np.nan, 0, 0], [100, 0, 5, 0, np.nan],
                               [182_500, 400, 4, 0, 10])
    assert list(got) == [True, False, False, False, True]


def _best_by_hand(groups, cost, meets, notional, oi, share):
    """One loop per row: the first row of lowest cost among those that qualify, per group."""
    out = [""] * len(groups)
    winner: dict = {}
    for i, g in enumerate(groups):
        if not math.isfinite(cost[i]):
            out[i] = "no rate"
        elif not meets[i]:
            out[i] = "below the minimum"
        elif oi[i] > 0 and notional[i] > share * oi[i]:
            out[i] = "over the open-interest cap"
        elif g not in winner or cost[i] < cost[winner[g]]:
            winner[g] = i
    for i in winner.values():
        out[i] = "best"
    return out


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(
    st.sampled_from("ABC"), st.one_of(st.just(float("nan")), st.integers(-50, 50).map(float)), st.booleans(),
    st.integers(0, 100).map(float), st.sampled_from([float("nan"), 0.0, 1e3, 1e5])), min_size=1, max_size=25),
    st.booleans())
def test_the_best_venue_is_the_cheapest_that_qualifies(rows, coin_by_coin):
    if coin_by_coin:  # as the Venues sheet lists them: each coin's venues one after another
        rows = sorted(rows, key=lambda r: r[0])
    groups, cost, meets, notional, oi = (list(x) for x in zip(*rows, strict=True))
    got = engine.best_venues(groups, cost, meets, notional, oi, 0.01)
    assert list(got) == _best_by_hand(groups, cost, meets, notional, oi, 0.01)


def test_the_best_venue_of_thousands_of_coins_in_any_order():
    rng = np.random.default_rng(3)
    coins = np.repeat([f"C{i}" for i in range(2000)], 7)
    cost = rng.integers(-5, 5, coins.size).astype(float)  # many ties: the first row must win
    cost[rng.random(coins.size) < 0.1] = np.nan
    meets, notional, oi = rng.random(coins.size) < 0.9, np.full(coins.size, 10.0), np.full(coins.size, np.nan)
    for order in (np.arange(coins.size), rng.permutation(coins.size)):
        groups, c, m = coins[order].tolist(), cost[order].tolist(), meets[order].tolist()
        got = engine.best_venues(groups, c, m, notional, oi, 0.01)
        assert list(got) == _best_by_hand(groups, c, m, notional, oi, 0.01)


# ---------------------------------------------------------------- the functions

def test_lookup_values_is_index_match_for_a_whole_column():
    keys = [["binance|BTC"], [None], ["OKX|btc"], ["kraken|BTC"], ["okx|ETH"]]
    found = [["binance|BTC"], ["okx|BTC"], ["okx|ETH"], [None]]
    values = [[0.0001], ["linear"], [None], [7.0]]
    assert udfs.LOOKUP_VALUES(keys, found, values) == [[0.0001], [None], ["linear"], [None], [None]]
    assert udfs.LOOKUP_VALUES(keys, found, values, 0.5) == [[0.0001], [0.5], ["linear"], [0.5], [0.5]]
    assert udfs.LOOKUP_VALUES([["a"]], [["a"], ["b"]], [[1.0]]).startswith("#VALUE! lookup_keys and values differ")


def test_repeat_rows_gives_each_row_or_the_whole_column_again():
    assert udfs.REPEAT_ROWS([["BTC"], [None]], 3) == [["BTC"]] * 3 + [[None]] * 3
    assert udfs.REPEAT_ROWS([["a"], ["b"]], 2, True) == [["a"], ["b"], ["a"], ["b"]]
    assert udfs.REPEAT_ROWS([["a"]], 2.5).startswith("#VALUE! times must be a whole number")


def test_venue_best_names_why_a_venue_is_out():
    got = udfs.VENUE_BEST([["BTC"], ["BTC"], ["BTC"], [None]], [[-10.0], [-20.0], [None], [None]],
                          [[2.0], [0.001], [1.0], [None]], [[0.001], [0.01], [None], [None]],
                          None, [[1e5], [1e5], [1e5], [None]], None, 0.01)
    assert got == [["best"], ["below the minimum"], ["no rate"], [None]]
    assert udfs.VENUE_BEST([["BTC"]], [[1.0]], [[1.0]], max_oi_share=0).startswith("#VALUE! max_oi_share")


# ---------------------------------------------------------------- the sheet, against the sample snapshot

def _expected(coin: str, spot_value: float, ratio: float = 0.4, share: float = 0.01,
              price: float | None = None) -> dict:
    """Per venue listing ``coin``: (cost over 30 days, contracts, qualifies), from the snapshot's rows and
    the shipped fees, by hand; and the best venue. ``price``: the coin's price used (its coins are
    short / price at every venue); default the default exchange's (binance's) mark."""
    snap = sample_snapshot()
    short = spot_value * ratio
    if price is None:
        price = float(snap[(snap["base"] == coin) & (snap["symbol"] == f"{coin}USDT")
                           & (snap["exchange"] == "binance")]["mark_price"].iloc[0])
    out = {}
    for r in snap[snap["base"] == coin].itertuples():
        if r.symbol != REGISTRY[r.exchange].perp_symbol(coin):  # the coin's USDT perpetual on that venue
            continue
        fee = REGISTRY[r.exchange].taker_fee
        payments = HORIZON_DAYS * 24 / r.interval_hours
        cost = -short * r.funding_rate * payments + 2 * fee * short
        step = r.lot_step if r.lot_step > 0 else 0.001
        contracts = math.floor(round(short / (price * r.contract_size) / step, 9)) * step
        ok = contracts > 0 and not (r.min_qty > 0 and contracts < r.min_qty - 1e-12) \
            and not (r.min_notional > 0 and short < r.min_notional) \
            and not (r.open_interest_usd > 0 and short > share * r.open_interest_usd)
        out[r.exchange] = (cost, contracts, ok)
    best = min((e for e in out if out[e][2]), key=lambda e: out[e][0])
    return {"venues": out, "best": best}


def _venue_rows(values, first_row: int) -> dict:
    """exchange -> {key: value} of one coin's block of the Venues sheet."""
    rows = {}
    for i in range(L.VENUES_PER_COIN):
        r = first_row + i
        row = {key: values[at(V, key, r)] for key in spec.VENUE_COL}
        rows[row["exchange"]] = row
    return rows


def test_the_venues_sheet_compares_every_venue_at_one_size(built_template, calculate):
    values = calculate(built_template)
    btc_spot = values[at(L.HEDGE, "spot_value", 5)]
    want = _expected("BTC", btc_spot)
    rows = _venue_rows(values, L.VENUE_FIRST_ROW)
    assert list(rows) == list(L.EXCHANGES)  # one row per exchange, in the registry's order
    for exchange, (cost, contracts, _) in want["venues"].items():
        row = rows[exchange]
        assert row["coin"] == "BTC" and row["short_notional"] == pytest.approx(0.4 * btc_spot)
        assert row["net_cost"] == pytest.approx(cost, rel=1e-12), exchange
        assert row["contracts"] == pytest.approx(contracts), exchange
        assert row["funding_8h"] == pytest.approx(row["funding_rate"] * 8 / row["interval_hours"])
    assert [e for e, row in rows.items() if row["best"] == "best"] == [want["best"]]
    # the Hedge sheet's 2 BTC (40% of 5) at every venue, in its units: not $182,500.80 at each venue's own mark
    # (mexc's 91,250.90 would make 19,999 contracts of 0.0001 BTC, hyperliquid's 1.99996 BTC)
    assert values[at(L.HEDGE, "contracts", 5)] == pytest.approx(2)
    assert rows["okx"]["order"] == "Sell 200.00 BTC-USDT-SWAP on okx (0.01 BTC each)"
    assert rows["mexc"]["contracts"] == pytest.approx(20_000)
    assert rows["hyperliquid"]["order"] == "Sell 2.00000 BTC on hyperliquid"
    assert rows["hyperliquid"]["interval_hours"] == 1  # hourly funding, restated per 8 h
    # the fee of each venue is the Settings table's
    assert {e: row["taker_fee"] for e, row in rows.items()} == {e: REGISTRY[e].taker_fee for e in L.EXCHANGES}


def test_a_typed_value_at_sets_the_coins_at_every_venue(built_template, calculate):
    # BTC valued at $100,000 (Value at): 5 BTC are $500,000 and the short $200,000, 2 BTC at that price on the
    # Hedge sheet and at every venue; at a venue's own mark (91,250.90 on mexc) it would be 2.19 BTC, 44% of
    # the coins held instead of 40%
    values = calculate(built_template, typed(L.PORTFOLIO, 5, typed_price=100_000))
    assert values[at(L.HEDGE, "short_notional", 5)] == pytest.approx(200_000)
    assert values[at(L.HEDGE, "contracts", 5)] == pytest.approx(2)
    want = _expected("BTC", 500_000, price=100_000)["venues"]
    rows = _venue_rows(values, L.VENUE_FIRST_ROW)
    assert {e: rows[e]["contracts"] for e in want} == pytest.approx({e: c for e, (_, c, _) in want.items()})
    assert rows["mexc"]["contracts"] == pytest.approx(20_000) and rows["okx"]["contracts"] == pytest.approx(200)


def test_a_portfolio_row_on_best_shorts_at_the_best_venue(book, calculate):
    wb = openpyxl.load_workbook(book, keep_vba=True)
    type_in(wb[L.PORTFOLIO], 5, exchange="best")
    type_in(wb[L.PORTFOLIO], 6, exchange=" Best ")
    wb.save(book)
    values = calculate(book)
    btc = _expected("BTC", values[at(L.HEDGE, "spot_value", 5)])["best"]
    eth = _expected("ETH", values[at(L.HEDGE, "spot_value", 6)])["best"]
    assert (btc, eth) == ("hyperliquid", "bybit")  # the sample's cheapest, worked out above
    assert values[at(L.HEDGE, "exchange", 5)] == btc and values[at(L.HEDGE, "exchange", 6)] == eth
    assert values[at(L.HEDGE, "order", 5)].endswith("on hyperliquid")
    # the price stays the default exchange's (the sheet's Price used), so the venues compare one size
    assert values[at(L.PORTFOLIO, "price", 5)] == pytest.approx(91_250.4)
    plan = compute_plan(read_inputs(book))  # plan prints the same venue
    assert list(plan["exchange"][:2]) == [btc, eth] and not any(plan["problem"][:2])


def test_the_open_interest_cap_and_the_minimum_move_the_best_venue(built_template, calculate):
    # a cap of 0.006%: $182,500 is 0.0062% of hyperliquid's $2.95bn, so it is out; binance's $8.12bn is not
    inputs = {setting("MaxOIShare"): 0.00006}
    values = calculate(built_template, inputs)
    want = _expected("BTC", values[at(L.HEDGE, "spot_value", 5)], share=0.00006)
    rows = _venue_rows(values, L.VENUE_FIRST_ROW)
    assert rows["hyperliquid"]["best"] == "over the open-interest cap"
    assert want["best"] == "binance" and rows["binance"]["best"] == "best"
    # 0.0025 BTC: a $91 short (0.001 BTC, one lot) is below binance's minimum order of $100
    small = calculate(built_template, typed(L.PORTFOLIO, 5, quantity=0.0025))
    rows = _venue_rows(small, L.VENUE_FIRST_ROW)
    short = rows["binance"]["short_notional"]
    assert short == pytest.approx(0.0025 * 91_250.4 * 0.4)
    assert rows["binance"]["best"] == "below the minimum"
    assert rows["binance"]["order"] == f"Below binance's minimum order of $100: ${short:,.0f}"
    want = _expected("BTC", 0.0025 * 91_250.4)
    assert [e for e, row in rows.items() if row["best"] == "best"] == [want["best"]]


def test_xlhedge_venues_prints_the_sheet(book, capsys):
    from xlhedge.cli import main

    out = subprocess.run([sys.executable, "-m", "xlhedge", "venues", str(book)], capture_output=True, text=True,
                         timeout=120)  # the command as a user runs it; its other formats in this process
    assert out.returncode == 0, out.stderr
    table = venue_table(read_inputs(book))
    best = table[table["best"] == "best"]
    assert list(best["coin"]) == ["BTC", "ETH"]
    for r in best.itertuples():  # the best venue is marked, with its order, in the printed block
        line = next(line for line in out.stdout.splitlines() if line.startswith("*") and r.exchange in line)
        assert r.order in line and f"-${abs(r.net_cost):,.0f}" in line
        heading = out.stdout.splitlines()[out.stdout.splitlines().index(line) - 1]
        assert heading.index("Order") == line.index(r.order)  # the orders' heading above them, not off to the right
    assert not any(line.endswith(" ") for line in out.stdout.splitlines())
    assert main(["venues", str(book), "--format", "csv"]) == 0
    header, first = capsys.readouterr().out.splitlines()[:2]
    row = dict(zip(header.split(","), first.split(","), strict=True))
    assert row["exchange"] == "binance" and row["next_funding"] == "2026-11-20T16:00Z"  # the sample's, in UTC
    assert main(["venues", str(book.parent / "nope.xlsm")]) != 0
    err = capsys.readouterr().err
    assert "nope.xlsm" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_a_best_row_is_measured_on_every_venue_that_lists_it():
    from xlhedge.workbook.portfolio import Holding, btc_hedged, hedge_contracts, holding_problem

    best = Holding(5, "ETH", 1.0, None, L.OWN_PERP, L.BEST, True, "", "binance")
    sol = Holding(6, "SOL", 1.0, None, L.BTC_PERP, L.BEST, True, "", "okx")
    listed = {("bybit", "ETH"), ("okx", "ETH"), ("okx", "BTC"), ("mexc", "SOL")}
    # the crowding of each venue the best one may be; the beta's prices where the price is read
    assert hedge_contracts([best, sol], listed) == [("bybit", "ETH"), ("okx", "ETH"), ("okx", "BTC")]
    assert btc_hedged([best, sol]) == [("SOL", "okx")]
    assert holding_problem("ETH", 5, 1.0, None, L.BEST, True) == ""
    assert "or best" in holding_problem("ETH", 5, 1.0, None, "kraken", True)
