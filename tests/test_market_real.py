"""The adapters on what the exchanges really send.

Each body in tests/fixtures/real (source in MANIFEST.toml) is served verbatim by
the loopback server and fetched through the whole pipeline (HTTP, envelope,
parsing, contract choice). Expected values are read out of the bodies by hand
and typed here; they are not computed by the code under test.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from xlhedge.market import funding_history, funding_snapshot, price_history
from xlhedge.market.contracts import canonical_mask, resolve
from xlhedge.market.history import open_interest_history

REAL = Path(__file__).parent / "fixtures" / "real"
UTC = "UTC"


def body(name: str) -> bytes:
    return (REAL / name).read_bytes()


def ms(value: int) -> pd.Timestamp:
    return pd.Timestamp(value, unit="ms", tz=UTC)


def one(df: pd.DataFrame, symbol: str):
    rows = df[df["symbol"] == symbol]
    assert len(rows) == 1, symbol
    return rows.iloc[0]


def test_every_body_in_the_manifest_exists_and_says_where_it_came_from():
    manifest = tomllib.loads((REAL / "MANIFEST.toml").read_text())["body"]
    kinds = {"live", "fragment", "example", "missing"}
    files = {entry["file"] for entry in manifest}
    for entry in manifest:
        assert entry["kind"] in kinds
        assert entry["exchange"] in ("binance", "bybit", "okx", "hyperliquid", "bingx", "mexc", "weex")
        if entry["kind"] != "missing":
            assert (REAL / entry["file"]).is_file(), entry["file"]
            assert entry["source"] and entry["captured"]
            json.loads((REAL / entry["file"]).read_text())  # kept as valid JSON, verbatim
    on_disk = {str(p.relative_to(REAL)) for p in REAL.rglob("*.json")}
    assert on_disk <= files  # no body without its source
    # a capture of the funding snapshot endpoint for each of the seven exchanges
    snapshot_endpoints = {e["exchange"] for e in manifest if e["kind"] != "missing" and any(
        k in e["endpoint"] for k in ("premiumIndex", "tickers", "funding-rate", "metaAndAssetCtxs",
                                     "contract/funding_rate"))}
    assert snapshot_endpoints == {"binance", "bybit", "okx", "hyperliquid", "bingx", "mexc", "weex"}


# ---------------------------------------------------------------- Binance

@pytest.fixture
def binance_real(exchanges):
    exchanges.serve_body("binance", "/fapi/v1/premiumIndex", body("binance/premiumIndex.json"))
    exchanges.serve_body("binance", "/fapi/v1/fundingInfo", b"[]")  # every symbol on the 8-hour default
    return funding_snapshot(["binance"])


def test_binance_usdc_listed_first_does_not_become_the_btc_hedge(binance_real):
    df = binance_real
    usdc, usdt = one(df, "BTCUSDC"), one(df, "BTCUSDT")
    assert (usdc.base, usdc.quote, usdt.base, usdt.quote) == ("BTC", "USDC", "BTC", "USDT")
    pos = resolve(df, ["binance"], ["BTC"])[0]
    assert df.iloc[pos]["symbol"] == "BTCUSDT"
    # the values of the BTCUSDT object in the body
    assert usdt.funding_rate == pytest.approx(0.00013062)
    assert usdt.mark_price == pytest.approx(93951.8)
    assert usdt.index_price == pytest.approx(93902.89680851)
    assert usdt.basis == pytest.approx(93951.8 / 93902.89680851 - 1)
    assert usdt.interval_hours == 8
    assert usdt.next_funding_time == pd.Timestamp("2024-11-27 16:00", tz=UTC)  # 1732723200000
    # a user who names the USDC contract gets exactly that one
    assert df.iloc[resolve(df, ["binance"], ["btcusdc"])[0]]["funding_rate"] == pytest.approx(0.00018617)


def test_binance_btc_quoted_perpetuals_are_not_usd_rows(binance_real):
    df = binance_real
    ethbtc = one(df, "ETHBTC")
    assert (ethbtc.base, ethbtc.quote) == ("ETH", "BTC")
    assert ethbtc.mark_price == pytest.approx(0.03712)  # in BTC, and labelled so
    eth = df.iloc[resolve(df, ["binance"], ["ETH"])[0]]
    assert eth.symbol == "ETHUSDT"
    assert not canonical_mask(df)[df.index[df["symbol"].isin(["ETHBTC", "BNBBTC"])]].any()


def test_binance_dated_futures_and_scaled_bases(binance_real):
    df = binance_real
    assert not df["symbol"].str.contains("_").any()  # BTCUSDT_250328 etc.: rate 0, nextFundingTime 0
    assert len(df) == 379 - 4
    shib = one(df, "1000SHIBUSDT")
    assert (shib.base, shib.multiplier, shib.contract_size) == ("SHIB", 1000.0, 1000.0)
    assert shib.mark_price == pytest.approx(0.024954 / 1000)  # a price per coin stays a price per coin
    assert shib.index_price == pytest.approx(0.02494471 / 1000)


# ---------------------------------------------------------------- Bybit

def test_bybit_ticker_as_sent(exchanges):
    exchanges.serve_body("bybit", "/v5/market/tickers", body("bybit/tickers_linear_BTCUSDT.json"))
    df = funding_snapshot(["bybit"])
    btc = one(df, "BTCUSDT")
    assert btc.funding_rate == pytest.approx(0.00001938)
    assert btc.next_funding_time == ms(1762243200000) == pd.Timestamp("2025-11-04 08:00", tz=UTC)
    assert btc.mark_price == pytest.approx(107084.00)
    assert btc.index_price == pytest.approx(107135.27)
    assert btc.basis == pytest.approx(107084.00 / 107135.27 - 1)
    assert btc.open_interest_usd == pytest.approx(5453073976.80)  # openInterestValue, already USD
    assert (btc.quote, btc.margin, btc.interval_hours) == ("USDT", "linear", 8)


def test_bybit_scaled_bases_as_sent(exchanges):
    items = json.loads(body("bybit/tickers_linear_list_items.json"))
    ok = {"retCode": 0, "retMsg": "OK", "retExtInfo": {}, "time": 1748631000000}
    exchanges.serve_body("bybit", "/v5/market/tickers", json.dumps(
        {**ok, "result": {"category": "linear", "list": items}}).encode())
    # instruments-info: no capture of these two; the documented shape, with Bybit's baseCoin naming
    instruments = [{"symbol": s, "contractType": "LinearPerpetual", "baseCoin": s[:-4], "quoteCoin": "USDT",
                    "fundingInterval": 480} for s in ("1000000BABYDOGEUSDT", "1000000CHEEMSUSDT")]
    exchanges.serve_body("bybit", "/v5/market/instruments-info", json.dumps(
        {**ok, "result": {"category": "linear", "list": instruments, "nextPageCursor": ""}}).encode())
    df = funding_snapshot(["bybit"])
    baby = one(df, "1000000BABYDOGEUSDT")
    assert (baby.base, baby.multiplier) == ("BABYDOGE", 1_000_000)
    assert baby.mark_price == pytest.approx(0.0013993 / 1e6)
    assert baby.open_interest_usd == pytest.approx(3047591.58)
    assert baby.next_funding_time == ms(1748635200000)


# ---------------------------------------------------------------- OKX

def test_okx_funding_time_is_the_upcoming_settlement(exchanges):
    push = json.loads(body("okx/funding-rate_push_BTC-USDT-SWAP.json"))
    exchanges.serve_body("okx", "/api/v5/public/funding-rate",
                         json.dumps({"code": "0", "msg": "", "data": push["data"]}).encode())
    df = funding_snapshot(["okx"])
    btc = one(df, "BTC-USDT-SWAP")
    assert btc.funding_rate == pytest.approx(0.0001875391284828)
    # ts 07:31 UTC; fundingTime 08:00 is the next payment, nextFundingTime 16:00 the one after
    assert btc.next_funding_time == ms(1700726400000) == pd.Timestamp("2023-11-23 08:00", tz=UTC)
    assert btc.interval_hours == 8
    assert np.isnan(btc.predicted_rate)  # nextFundingRate "": empty, never made up


def test_okx_order_rules_and_orders_in_its_units(exchanges):
    from xlhedge.udfs import HEDGE_CONTRACTS, HEDGE_ORDER

    exchanges.serve_body("okx", "/api/v5/public/instruments", body("okx/instruments_SWAP.json"))
    df = funding_snapshot(["okx"])
    btc, inverse = one(df, "BTC-USDT-SWAP"), one(df, "BTC-USD-SWAP")
    # read out of the body: ctVal "0.01", lotSz "0.01", minSz "0.01", lever "100"; the inverse swap ctVal
    # "100" (USD), lotSz "1", minSz "1"
    assert (btc.contract_size, btc.lot_step, btc.min_qty, btc.max_leverage) == (0.01, 0.01, 0.01, 100.0)
    assert (inverse.margin, inverse.contract_size, inverse.lot_step, inverse.min_qty) == ("inverse", 100.0, 1.0, 1.0)
    assert np.isnan(btc.min_notional)  # OKX publishes no minimum in USD
    # a 2 BTC short is 200 contracts of 0.01 BTC; an inverse short of USD 182,500 is 1,825 contracts of USD 100
    mark = btc.mark_price
    assert HEDGE_CONTRACTS(2 * mark, mark, btc.contract_size, btc.lot_step) == 200
    assert HEDGE_CONTRACTS(182_500, inverse.mark_price, inverse.contract_size, inverse.lot_step, inverse.margin) == 1825
    assert HEDGE_ORDER(200, btc.lot_step, "BTC-USDT-SWAP", "okx", btc.contract_size, btc.margin, "BTC",
                       btc.min_qty) == "Sell 200.00 BTC-USDT-SWAP on okx (0.01 BTC each)"
    assert HEDGE_ORDER(1825, inverse.lot_step, "BTC-USD-SWAP", "okx", inverse.contract_size, inverse.margin,
                       "BTC", inverse.min_qty) == "Sell 1,825 BTC-USD-SWAP on okx (USD 100 each)"
    # USD 50 of BTC is 0.05 of a 100-dollar inverse contract: below its minimum of 1
    assert HEDGE_ORDER(HEDGE_CONTRACTS(50, inverse.mark_price, 100, 1, "inverse"), 1, "BTC-USD-SWAP", "okx", 100,
                       "inverse", "BTC", 1) == "Below okx's minimum of 1 contracts: 0"


def test_mexc_contract_size_makes_two_btc_twenty_thousand_contracts(exchanges):
    from xlhedge.udfs import HEDGE_CONTRACTS, HEDGE_ORDER

    exchanges.serve_body("mexc", "/api/v1/contract/detail", body("mexc/contract_detail.json"))
    btc = one(funding_snapshot(["mexc"]), "BTC_USDT")
    assert btc.contract_size == 0.0001  # "contractSize":0.0001
    assert np.isnan(btc.lot_step) and np.isnan(btc.min_qty)  # the fragment carries no minVol / volUnit
    step = None if np.isnan(btc.lot_step) else btc.lot_step  # a blank cell, as the sheet passes it
    contracts = HEDGE_CONTRACTS(2 * btc.mark_price, btc.mark_price, btc.contract_size, step)
    assert contracts == 20_000
    assert HEDGE_ORDER(contracts, step, "BTC_USDT", "mexc", btc.contract_size, "linear", "BTC") == (
        "Sell 20,000.000 BTC_USDT on mexc (0.0001 BTC each; order step not published: rounded to 0.001)")


def test_binance_order_rules_as_sent(exchanges):
    from xlhedge.udfs import HEDGE_ORDER

    exchanges.serve_body("binance", "/fapi/v1/exchangeInfo", body("binance/exchangeInfo_fragment.json"))
    df = funding_snapshot(["binance"])
    btc = one(df, "BTCUSDT")
    # MARKET_LOT_SIZE stepSize "0.001", minQty "0.001"; MIN_NOTIONAL notional "10" (in 2022)
    assert (btc.lot_step, btc.min_qty, btc.min_notional) == (0.001, 0.001, 10.0)
    assert np.isnan(one(df, "SOLUSDT").lot_step)  # not in the fragment: not made up
    assert HEDGE_ORDER(0.0001, 0.001, "BTCUSDT", "binance", 1, "linear", "BTC", 0.001, 10, 6.0) == (
        "Below binance's minimum of 0.001 contracts: 0.0001")
    assert HEDGE_ORDER(0.001, 0.001, "BTCUSDT", "binance", 1, "linear", "BTC", 0.001, 100, 60.0) == (
        "Below binance's minimum order of $100: $60")
    # an empty exchange cell still makes a sentence (the fuzz test found "Nothing to sell on : ...")
    assert HEDGE_ORDER(0, None, "BTCUSDT", None, 1, None, "BTC") == (
        "Nothing to sell on this exchange: less than one lot")


def test_binance_order_rules_of_another_shape_leave_the_rows(exchanges):
    exchanges.serve_body("binance", "/fapi/v1/exchangeInfo", b'[{"symbol": "BTCUSDT"}]')
    df = funding_snapshot(["binance"])
    btc = one(df, "BTCUSDT")
    assert btc.funding_rate == pytest.approx(0.0001) and np.isnan(btc.lot_step)  # the row, without its rules
    assert "order rules" in df.attrs["missing"]["binance"]


def test_bybit_order_rules_as_sent(exchanges):
    exchanges.serve_body("bybit", "/v5/market/instruments-info", body("bybit/instruments-info_linear_BTCUSDT.json"))
    btc = one(funding_snapshot(["bybit"]), "BTCUSDT")
    # lotSizeFilter qtyStep "0.001", minOrderQty "0.001"; leverageFilter maxLeverage "100.00"
    assert (btc.lot_step, btc.min_qty, btc.max_leverage) == (0.001, 0.001, 100.0)
    assert np.isnan(btc.min_notional)  # a 2023 answer: minNotionalValue came later


# ---------------------------------------------------------------- Hyperliquid

def test_hyperliquid_asset_contexts_as_sent(exchanges):
    exchanges.serve_body("hyperliquid", "/info", body("hyperliquid/metaAndAssetCtxs_prefix.json"))
    df = funding_snapshot(["hyperliquid"])
    assert list(df["symbol"]) == ["ATOM", "BTC", "ETH"]  # MATIC is delisted (null premium and midPx)
    btc = one(df, "BTC")
    assert btc.funding_rate == pytest.approx(0.0000052764)
    assert btc.mark_price == pytest.approx(80639.0)
    assert btc.index_price == pytest.approx(80684.7)  # oraclePx
    assert btc.basis == pytest.approx(80639.0 / 80684.7 - 1)
    assert btc.open_interest_usd == pytest.approx(36295.80812 * 80639.0)
    assert (btc.quote, btc.margin, btc.interval_hours) == ("USDC", "linear", 1)


def test_hyperliquid_history_was_not_always_hourly(exchanges):
    exchanges.serve_body("hyperliquid", "/info", body("hyperliquid/fundingHistory_BTC.json"))
    got = funding_history("hyperliquid", "BTC", ms(1681923833000), ms(1684811870000))
    assert len(got) == 34
    assert got["time"].iloc[0] == ms(1683849600048)
    assert got["funding_rate"].iloc[0] == pytest.approx(-0.00061334)
    assert got["funding_rate"].iloc[-1] == pytest.approx(-0.00018991)
    assert (got["interval_hours"] == 8).all()  # May 2023: every 8 hours, read from the timestamps


def test_hyperliquid_candle_opened_before_the_start_is_dropped(exchanges):
    exchanges.serve_body("hyperliquid", "/info", body("hyperliquid/candleSnapshot_kPEPE_1h.json"))
    got = price_history("hyperliquid", "kPEPE", "1h", ms(1684702007000), ms(1684784807000))
    candles = json.loads(body("hyperliquid/candleSnapshot_kPEPE_1h.json"))
    assert candles[0]["t"] == 1684699200000 < 1684702007000  # what the exchange sent
    assert len(got) == 23
    assert got["time"].iloc[0] == ms(1684702800000)
    assert got["close"].iloc[0] == pytest.approx(float(candles[1]["c"]))
    assert got["high"].tolist() == pytest.approx([float(c["h"]) for c in candles[1:]])  # the backtest's highs
    assert got["open"].iloc[0] == float(candles[1]["o"]) and got["low"].iloc[0] == float(candles[1]["l"])


def test_binance_open_interest_history_as_sent(exchanges):
    """timestamp is a JSON number (the docs show a string); sumOpenInterest is in coins, as text."""
    exchanges.serve_body("binance", "/futures/data/openInterestHist", body("binance/openInterestHist_BTCUSDT.json"))
    got = open_interest_history("binance", "BTCUSDT", ms(1788786000000), ms(1788787000000))
    assert list(got["time"]) == [ms(1788786300000), ms(1788786600000), ms(1788786900000)]
    assert list(got["open_interest"]) == [107259.199, 107240.843, 107227.247]


def test_binance_index_klines_as_documented(exchanges):
    from xlhedge.market.history import index_history

    exchanges.serve_body("binance", "/fapi/v1/indexPriceKlines", body("binance/indexPriceKlines_example.json"))
    got = index_history("binance", "BTCUSDT", "1h", "2020-06-04", "2020-06-05")
    assert got["time"].tolist() == [ms(1591256400000)] and got["close"].tolist() == [9651.552]  # row[4], not high


def test_bybit_open_interest_history_as_sent(exchanges):
    """Rows newest first, values and timestamps as text: read oldest first."""
    exchanges.serve_body("bybit", "/v5/market/open-interest", body("bybit/open-interest_ETHUSDT.json"))
    got = open_interest_history("bybit", "ETHUSDT", ms(1677832000000), ms(1677833000000))
    assert list(got["time"]) == [ms(1677832500000), ms(1677832800000)]
    assert list(got["open_interest"]) == [411484.61, 411496.22]


# ---------------------------------------------------------------- BingX, MEXC, WEEX

def test_bingx_premium_index_as_sent(exchanges):
    exchanges.serve_body("bingx", "/openApi/swap/v2/quote/premiumIndex", body("bingx/premiumIndex.json"))
    df = funding_snapshot(["bingx"])
    btc, eth = one(df, "BTC-USDT"), one(df, "ETH-USDT")
    assert (btc.base, btc.quote) == ("BTC", "USDT")
    assert btc.funding_rate == pytest.approx(0.0001) and eth.funding_rate == pytest.approx(-0.0001)
    assert btc.mark_price == pytest.approx(16884.5) and btc.index_price == pytest.approx(16886.9)
    assert btc.next_funding_time == ms(1672041600000)
    assert btc.interval_hours == 8  # no fundingIntervalHours in this (older) answer: BingX's default


def test_bingx_order_rules_as_sent(exchanges):
    from xlhedge.udfs import HEDGE_CONTRACTS, HEDGE_ORDER

    exchanges.serve_body("bingx", "/openApi/swap/v2/quote/contracts", body("bingx/quote_contracts.json"))
    df = funding_snapshot(["bingx"])
    btc = one(df, "BTC-USDT")
    # quantityPrecision "4" (a step of 10^-4 coins), tradeMinQuantity "0.0001", tradeMinUSDT "2", maxShortLeverage "125"
    assert (btc.lot_step, btc.min_qty, btc.min_notional, btc.max_leverage) == (0.0001, 0.0001, 2.0, 125.0)
    assert np.isnan(one(df, "ETH-USDT").lot_step)  # not in the answer: not made up
    count = HEDGE_CONTRACTS(182_500, 91_250, btc.contract_size, btc.lot_step)
    assert count == pytest.approx(2.0)
    assert HEDGE_ORDER(count, btc.lot_step, "BTC-USDT", "bingx", 1, "linear", "BTC", btc.min_qty, btc.min_notional,
                       182_500) == "Sell 2.0000 BTC-USDT on bingx"
    assert HEDGE_ORDER(0.0000, btc.lot_step, "BTC-USDT", "bingx", 1, "linear", "BTC", btc.min_qty, btc.min_notional,
                       1.5).startswith("Below bingx's minimum")


def test_bingx_error_envelope(exchanges):
    exchanges.serve_body("bingx", "/openApi/swap/v2/quote/premiumIndex",
                         b'{"code":100410,"msg":"rate limitation","data":{}}')
    df = funding_snapshot(["bingx", "okx"])
    assert "code 100410: rate limitation" in df.attrs["errors"]["bingx"]


def test_mexc_funding_detail_and_ticker_as_sent(exchanges):
    exchanges.serve_body("mexc", "/api/v1/contract/funding_rate", body("mexc/funding_rate.json"))
    exchanges.serve_body("mexc", "/api/v1/contract/detail", body("mexc/contract_detail.json"))
    exchanges.serve_body("mexc", "/api/v1/contract/ticker", body("mexc/contract_ticker.json"))
    df = funding_snapshot(["mexc"])
    btc, cvc = one(df, "BTC_USDT"), one(df, "CVC_USDT")
    assert btc.funding_rate == pytest.approx(0.0001)
    assert btc.interval_hours == 8 and cvc.interval_hours == 1  # collectCycle, hours
    assert btc.next_funding_time == ms(1789833600000)
    assert btc.mark_price == pytest.approx(81351.6)  # fairPrice of the funding answer
    assert btc.index_price == pytest.approx(81382.7)  # idxPrice
    assert btc.contract_size == pytest.approx(0.0001)
    assert btc.open_interest_usd == pytest.approx(531307174 * 0.0001 * 81351.6)  # holdVol contracts
    assert np.isnan(cvc.contract_size) and np.isnan(cvc.open_interest_usd)  # not in detail/ticker


def test_mexc_every_cycle_and_foreign_quotes(exchanges):
    exchanges.serve_body("mexc", "/api/v1/contract/funding_rate", body("mexc/funding_rate_cycles.json"))
    df = funding_snapshot(["mexc"])
    hours = dict(zip(df["symbol"], df["interval_hours"], strict=True))
    assert (hours["BTC_USDT"], hours["XAU_USDT"], hours["SOPH_USDT"], hours["US30_USDT"]) == (8, 4, 1, 24)
    spx = one(df, "SPX500_USD1")
    assert spx.quote == "USD1" and not canonical_mask(df)[df.index[df["symbol"] == "SPX500_USD1"]].any()
    assert one(df, "ETH_USDT").funding_rate == pytest.approx(5.2e-05)


def test_weex_v3_as_sent(exchanges):
    exchanges.serve_body("weex", "/capi/v3/market/premiumIndex", body("weex/premiumIndex.json"))
    exchanges.serve_body("weex", "/capi/v3/market/openInterest", body("weex/openInterest.json"))
    df = funding_snapshot(["weex"], symbols="ETH")
    eth = one(df, "ETHUSDT")
    assert eth.funding_rate == pytest.approx(0.00001031)
    assert eth.predicted_rate == pytest.approx(0.00005618)  # forecastFundingRate
    assert eth.interval_hours == 8  # collectCycle 480 is minutes
    assert eth.next_funding_time == ms(1775606400000)
    assert eth.mark_price == pytest.approx(2133.71) and eth.index_price == pytest.approx(2134.44)
    assert eth.open_interest_usd == pytest.approx(1772356.352 * 2133.71)  # coins x mark


def test_weex_funding_history_item_as_sent(exchanges):
    item = json.loads(body("weex/fundingRate_item.json"))
    exchanges.serve_body("weex", "/capi/v3/market/fundingRate", json.dumps([item]).encode())
    got = funding_history("weex", "ETHUSDT", ms(1775500000000), ms(1775600000000))
    assert list(got["time"]) == [ms(1775577600000)]
    assert got["funding_rate"].iloc[0] == pytest.approx(0.00001031)


def test_hyperliquid_margin_tables_as_sent(exchanges):
    from xlhedge.market.history import maintenance_tiers

    exchanges.serve_body("hyperliquid", "/info", body("hyperliquid/meta_prefix.json"))
    btc = maintenance_tiers("hyperliquid", "BTC")
    # table 56, "tiered 40x": 40x from 0, 20x from 150,000,000 USD; maintenance = 1 / (2 x max leverage)
    assert (btc.floors, btc.rates) == ((0.0, 150_000_000.0), (1 / 80, 1 / 40))
    assert btc.amounts == pytest.approx((0.0, 150_000_000 * (1 / 40 - 1 / 80)))
    # the same file's account: 4,720.8375 USD of maintenance margin on 377,667 USD of BTC
    assert btc.maintenance(377_667.0) == pytest.approx(4_720.8375, abs=1e-9)
    atom = maintenance_tiers("hyperliquid", "ATOM")  # marginTableId 5, not listed: one tier at 5x
    assert (atom.floors, atom.rates) == ((0.0,), (0.1,))
    with pytest.raises(ValueError, match="hyperliquid lists no PEPE"):
        maintenance_tiers("hyperliquid", "PEPE")


def test_bybit_risk_limits_as_sent_are_sorted(exchanges):
    from xlhedge.market.history import maintenance_tiers

    result = json.loads(body("bybit/risk-limit_BTCUSDT_result.json"))
    exchanges.serve_body("bybit", "/v5/market/risk-limit",
                         json.dumps({"retCode": 0, "retMsg": "OK", "result": result}).encode())
    tiers = maintenance_tiers("bybit", "BTCUSDT")
    # sent highest first: to 300,000 USD at 0.33%, then to 2,000,000 at 0.5%; no mmDeduction: continuous
    assert (tiers.floors, tiers.rates) == ((0.0, 300_000.0), (0.0033, 0.005))
    assert tiers.amounts == pytest.approx((0.0, 300_000 * (0.005 - 0.0033)))
