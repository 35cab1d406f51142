"""Tiered liquidation: the tiers' cell text, each venue's tiers as the snapshot carries them (from captured
bodies where there are some), LIQ_PRICE on a column of tier texts, and the Hedge, Venues and Scenarios
sheets on the tier of the short's size. Expected prices are each venue's published formula worked by hand
here (Binance's isolated short: LP = (WB + cum + q x EP) / (q x (1 + MMR)), WB = q x EP / leverage), with
the tier checked against the notional at that price."""

from __future__ import annotations

import json

import numpy as np
import openpyxl
import pytest

from tests.cells import type_in
from tests.test_market_real import body, one
from xlhedge import engine, udfs
from xlhedge.engine.margin import MaintenanceTiers
from xlhedge.market import funding_snapshot
from xlhedge.market.binance_brackets import brackets_from_ccxt_tiers, shipped, shipped_brackets
from xlhedge.plan import compute_plan, read_inputs
from xlhedge.venues import venue_table
from xlhedge.workbook import layout as L

BINANCE_BTC = shipped_brackets("BTCUSDT")
#: The shipped brackets by hand: (floor USD, maintMarginRatio, cum USD).
BRACKETS = [(0, 0.004, 0), (300_000, 0.005, 300), (800_000, 0.0065, 1_500), (3_000_000, 0.01, 12_000),
            (12_000_000, 0.02, 132_000)]


def binance_short(entry: float, coins: float, leverage: float, brackets=BRACKETS) -> tuple[float, int]:
    """Binance's isolated short by hand: try each bracket, keep the one the notional at the price falls in."""
    wallet = coins * entry / leverage
    for k, (floor, rate, cum) in enumerate(brackets):
        price = (wallet + cum + coins * entry) / (coins * (1 + rate))
        cap = brackets[k + 1][0] if k + 1 < len(brackets) else float("inf")
        if floor <= coins * price < cap:
            return price, k + 1
    raise AssertionError("no bracket")


# ---------------------------------------------------------------- the cell text and the engine

def test_tiers_read_back_from_their_text():
    tiers = MaintenanceTiers.parse(BINANCE_BTC)
    assert len(tiers.floors) == 12 and tiers.rates[-1] == 0.5  # Binance's last bracket: 50%
    assert MaintenanceTiers.parse(tiers.text) == tiers
    # amounts left out: the continuous ones (each floor x the rise of the rate, summed)
    assert MaintenanceTiers.parse("0/0.004; 300,000/0.005; 800000/0.0065").amounts == pytest.approx((0, 300, 1500))
    for bad in ("", "0/0.004/0; 300000/0.005", "0/abc", "100/0.004", "0/0.004; 0/0.005"):
        with pytest.raises(ValueError):
            MaintenanceTiers.parse(bad)


@pytest.mark.parametrize("coins", [2, 10, 50])
def test_binance_first_and_higher_brackets_by_hand(coins):
    want, bracket = binance_short(90_000, coins, 3)
    assert bracket == {2: 1, 10: 3, 50: 4}[coins]  # 2 BTC in the first bracket, 10 in the third, 50 the fourth
    got = udfs.LIQ_PRICE(90_000, 3, 0.004, "short", coins, None, None, None, BINANCE_BTC)
    assert got == pytest.approx(want, rel=1e-12)
    # against the flat 0.4%: the same in the first bracket, lower (closer) above it
    flat = 90_000 * (1 + 1 / 3) / 1.004
    assert (got == pytest.approx(flat)) if bracket == 1 else got < flat


def test_liq_price_takes_a_column_of_tiers_blank_rows_flat():
    hand10, _ = binance_short(90_000, 10, 3)
    got = udfs.LIQ_PRICE([[90_000]] * 3, 3, 0.004, "short", [[10]] * 3, None, None, None,
                         [[BINANCE_BTC], [None], [BINANCE_BTC]])
    assert got[0][0] == pytest.approx(hand10) and got[2][0] == pytest.approx(hand10)
    assert got[1][0] == pytest.approx(90_000 * (4 / 3) / 1.004)  # no tiers: the flat rate
    assert udfs.LIQ_PRICE(90_000, 3, 0.004, "short", None, None, None, None, BINANCE_BTC).startswith(
        "#VALUE! quantity (coins) is needed with tiers")
    message = udfs.LIQ_PRICE(90_000, 3, 0.004, "short", 1, None, None, None, "0/0.004/0; 5%")
    assert message.startswith("#VALUE! tiers:") and len(message) < 120


def test_a_scenario_liquidates_at_the_rise_it_is_given():
    # a 3x short of 50,000 on 100,000 of coins: flat, a 32.8% rise liquidates it; tiers said 31%
    assert engine.hedge_pnl(100_000, 50_000, 0.32, leverage=3) == pytest.approx(100_000 * 0.32 - 50_000 * 0.32)
    assert engine.hedge_pnl(100_000, 50_000, 0.32, leverage=3, liquidation_rise=0.31) == pytest.approx(
        100_000 * 0.32 - 50_000 / 3)
    assert udfs.HEDGE_PNL(100_000, 50_000, [[0.3], [0.32]], 0, 3, 0.004, 0.31) == [
        [pytest.approx(15_000.0)], [pytest.approx(32_000 - 50_000 / 3)]]


# ---------------------------------------------------------------- what each venue publishes

def test_the_shipped_binance_brackets_are_the_captured_ones():
    captured = json.loads(body("binance/leverage_tiers_fragment.json"))
    got = brackets_from_ccxt_tiers(captured)
    # the USD-settled perpetuals by Binance's symbol: not the dated future (BTC/USDT:USDT-260925), nor ETHBTC,
    # whose brackets count BTC
    assert sorted(got) == ["1000PEPEUSDT", "BTCUSDC", "BTCUSDT", "DOGEUSDT", "ETHUSDT"]
    assert captured["ETH/BTC:BTC"][1]["info"]["notionalFloor"] == 5  # from 5 BTC of notional, not 5 USD
    assert all(shipped_brackets(symbol) == text for symbol, text in got.items())  # the file ships what was read
    # BTCUSDT's first three brackets as the capture's "info" says them (notionalFloor, maintMarginRatio, cum)
    assert got["BTCUSDT"].startswith("0/0.004/0; 300000/0.005/300; 800000/0.0065/1500; ")
    assert got["BTCUSDT"] == BINANCE_BTC
    # every shipped table: Binance's cum equals the continuous amount worked from its floors and rates
    data = shipped()
    assert len(data["brackets"]) == 800 and data["as_of"] == "2026-07-02" and "freqtrade" in data["source"]
    for symbol, text in data["brackets"].items():
        tiers = MaintenanceTiers.parse(text)
        amount = 0.0
        for k in range(1, len(tiers.floors)):
            amount += tiers.floors[k] * (tiers.rates[k] - tiers.rates[k - 1])
            assert tiers.amounts[k] == pytest.approx(amount, rel=1e-9, abs=1e-6), symbol
    # the perpetuals of a live premiumIndex (November 2024): all have brackets but the two BTC-quoted ones and
    # five delisted since
    listed = [p["symbol"] for p in json.loads(body("binance/premiumIndex.json"))
              if "_" not in p["symbol"] and str(p["nextFundingTime"]) != "0"]
    assert sorted(s for s in listed if shipped_brackets(s) is None) == [
        "BNBBTC", "EOSUSDT", "ETHBTC", "FRONTUSDT", "MATICUSDC", "MATICUSDT", "SXPUSDT"]


def test_a_binance_refresh_carries_the_shipped_brackets(exchanges):
    from xlhedge.market.history import maintenance_tiers

    df = funding_snapshot(["binance"])
    assert one(df, "BTCUSDT").maintenance_tiers == BINANCE_BTC
    assert one(df, "ETHUSDT").maintenance_tiers.startswith("0/0.004/0; 300000/0.005/300; ")
    assert maintenance_tiers("binance", "BTCUSDT") == MaintenanceTiers.parse(BINANCE_BTC)  # the backtest's
    assert not any(key[0] == "binance" and "Bracket" in key[1] for key in exchanges.hits)  # nothing asked
    with pytest.raises(ValueError, match="no binance brackets for NOPEUSDT"):
        maintenance_tiers("binance", "NOPEUSDT")


def test_mexc_risk_levels_from_a_live_detail(exchanges):
    detail = json.loads(body("mexc/contract_detail_BTC_USDT_risk.json"))
    exchanges.serve_body("mexc", "/api/v1/contract/detail",
                         json.dumps({"success": True, "code": 0, "data": [detail]}).encode())
    btc = one(funding_snapshot(["mexc"]), "BTC_USDT")
    tiers = MaintenanceTiers.parse(btc.maintenance_tiers)
    mark = btc.mark_price
    # 13 levels: 0.15%, then 0.5% more per level; level 2 from 15,000 contracts of 0.0001 BTC at the mark
    assert len(tiers.rates) == 13 and tiers.rates[:3] == pytest.approx((0.0015, 0.0065, 0.0115))
    assert tiers.floors[1] == pytest.approx(15_000 * 0.0001 * mark)
    assert tiers.floors[2] == pytest.approx(215_000 * 0.0001 * mark)
    assert set(tiers.amounts) == {0.0}  # the level's rate on the whole position
    # 5 BTC at 3x sits in level 2: the flat formula at 0.65%
    one_level = udfs.LIQ_PRICE(mark, 3, 0.004, "short", 5, None, None, None, btc.maintenance_tiers)
    assert one_level == pytest.approx(mark * (4 / 3) / 1.0065)
    assert udfs.LIQ_PRICE(mark, 3, 0.004, "short", 1, None, None, None, btc.maintenance_tiers) == pytest.approx(
        mark * (4 / 3) / 1.0015)  # 1 BTC: level 1


def test_bybit_risk_limits_for_every_contract_paged(exchanges):
    df = funding_snapshot(["bybit"])
    texts = df.set_index("symbol")["maintenance_tiers"]
    assert texts.notna().all() and len(texts) >= 3  # two a page: the cursor was followed
    tiers = MaintenanceTiers.parse(texts.iloc[-1])
    # the loopback's three limits, sent highest first, sorted; mmDeduction kept as the amounts
    assert tiers.floors == (0.0, 2000.0, 2_000_000.0) and tiers.rates == (0.005, 0.01, 0.02)
    assert tiers.amounts == (0.0, 10.0, 20_010.0)


def test_hyperliquid_tables_from_the_snapshot_answer(exchanges):
    exchanges.serve_body("hyperliquid", "/info", body("hyperliquid/metaAndAssetCtxs_prefix.json"))
    df = funding_snapshot(["hyperliquid"])
    meta = json.loads(body("hyperliquid/metaAndAssetCtxs_prefix.json"))[0]
    for asset in meta["universe"]:
        if asset.get("isDelisted"):
            continue
        text = one(df, asset["name"]).maintenance_tiers
        if asset.get("marginTableId", 0) < 50:  # one tier at the asset's leverage: 1 / (2 x maxLeverage)
            assert MaintenanceTiers.parse(text).rates == (1 / (2 * asset["maxLeverage"]),)
        else:  # a tiered table that capture emptied: not made up
            assert text is None or (isinstance(text, float) and np.isnan(text))


def test_okx_position_tiers_for_the_portfolio_coins(exchanges):
    df = funding_snapshot(["okx"], symbols=["BTC"])
    btc = one(df, "BTC-USDT-SWAP")
    tiers = MaintenanceTiers.parse(btc.maintenance_tiers)
    # the loopback's two tiers (sent second first): to 1,000 contracts at 0.4%, then 0.6%; a contract is
    # contract_size coins, so tier 2 starts at 1,000 x size x mark USD
    assert tiers.rates == (0.004, 0.006) and tiers.amounts == (0.0, 0.0)
    assert tiers.floors[1] == pytest.approx(1000 * btc.contract_size * btc.mark_price)
    assert exchanges.hits[("okx", "/api/v5/public/position-tiers")] == 1  # only the portfolio's coin asked
    funding_snapshot(["okx"], symbols=["BTC"])  # kept for a day: not asked again
    assert exchanges.hits[("okx", "/api/v5/public/position-tiers")] == 1
    everything = funding_snapshot(["okx"])  # no portfolio: no coin's tiers asked (one request per coin)
    assert everything["maintenance_tiers"].isna().all()
    assert exchanges.hits[("okx", "/api/v5/public/position-tiers")] == 1


def test_okx_tier_one_as_recorded_live(exchanges):
    from xlhedge.market.okx import tiers_at_mark

    answer = json.loads(body("okx/position-tiers_tier1_fragment.json"))["data"]
    # BTC-USDT's first tier: 1,000 contracts of 0.01 BTC at 0.4%; the ETH row of the same array is not BTC's
    tiers = tiers_at_mark(answer, "BTC-USDT", 0.01, 90_000.0)
    assert tiers.text == "0/0.004/0"
    eth = tiers_at_mark(answer, "ETH-USDT", 0.1, 3_000.0)
    assert eth.rates == (0.004,)
    assert udfs.LIQ_PRICE(90_000, 3, 0.01, "short", 2, None, None, None, tiers.text) == pytest.approx(
        90_000 * (4 / 3) / 1.004)  # the venue's 0.4%, not the 1% typed as the flat rate


# ---------------------------------------------------------------- the sheets

def test_the_hedge_sheet_liquidates_a_large_short_on_its_bracket(book):
    wb = openpyxl.load_workbook(book, keep_vba=True)
    type_in(wb[L.PORTFOLIO], 5, quantity=25)  # BTC on binance: a short of about 10 BTC, the third bracket
    wb.save(book)
    plan = compute_plan(read_inputs(book))
    btc = plan.iloc[0]
    coins = btc["short_notional"] / btc["mark_price"]
    want, bracket = binance_short(btc["mark_price"], coins, 3)
    assert bracket == 3 and btc["liquidation_price"] == pytest.approx(want, rel=1e-12)
    assert btc["liquidation_rise"] == pytest.approx(want / btc["mark_price"] - 1)
    # the Venues sheet measures binance's row on the same bracket (its short at the outlook's ratio)
    venues = venue_table(read_inputs(book))
    row = venues[(venues["coin"] == "BTC") & (venues["exchange"] == "binance")].iloc[0]
    want, bracket = binance_short(row["mark_price"], row["short_notional"] / row["mark_price"], 3)
    assert bracket == 3 and row["liquidation_rise"] == pytest.approx(want / row["mark_price"] - 1, rel=1e-12)
    # your own row on Settings wins over the shipped brackets: one flat tier of 1%
    wb = openpyxl.load_workbook(book, keep_vba=True)
    wb[L.SETTINGS][f"{L.TIER_COLUMNS[0]}{L.TIER_FIRST_ROW}"] = "binance|BTCUSDT"
    wb[L.SETTINGS][f"{L.TIER_COLUMNS[1]}{L.TIER_FIRST_ROW}"] = "0/0.01/0"
    wb.save(book)
    btc = compute_plan(read_inputs(book)).iloc[0]
    assert btc["liquidation_price"] == pytest.approx(btc["mark_price"] * (4 / 3) / 1.01, rel=1e-12)


def test_a_refresh_brings_the_venues_tiers_to_the_hedge_sheet(book, exchanges):
    from xlhedge.refresh import refresh_workbook

    wb = openpyxl.load_workbook(book, keep_vba=True)
    type_in(wb[L.PORTFOLIO], 5, exchange="bybit")
    wb.save(book)
    refresh_workbook(book, exchanges="bybit")
    funding = openpyxl.load_workbook(book)[L.FUNDING]
    column = L.FUNDING_COL["maintenance_tiers"]
    written = {(funding[f"A{r}"].value, funding[f"{L.FUNDING_COL['symbol']}{r}"].value): funding[f"{column}{r}"].value
               for r in range(L.FUNDING_FIRST_ROW, L.FUNDING_LAST_ROW + 1)}
    assert written["bybit", "BTCUSDT"] == "0/0.005/0; 2000/0.01/10; 2000000/0.02/20010"  # the loopback's risk limits
    btc = compute_plan(read_inputs(book)).iloc[0]
    coins = btc["short_notional"] / btc["mark_price"]
    want, tier = binance_short(btc["mark_price"], coins, 3, [(0, 0.005, 0), (2000, 0.01, 10), (2e6, 0.02, 20010)])
    assert tier == 2 and btc["liquidation_price"] == pytest.approx(want, rel=1e-12)
