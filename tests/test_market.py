"""xlhedge.market against a real loopback HTTP server speaking the exchanges' shapes."""

import os
import time

import numpy as np
import pandas as pd
import pytest

from tests.loopback import (
    EPOCH_MS,
    HOUR_MS,
    Contract,
    Fault,
    _hist_close,
    _hist_high,
    _hist_low,
    _hist_open,
    _hist_rate,
    block_like_a_browser,
    hist_basis,
)
from xlhedge.market import COLUMNS, EXCHANGES, MarketDataError, funding_history, funding_snapshot, price_history
from xlhedge.market.cache import cache_root
from xlhedge.market.contracts import canonical_mask


def by_key(frame):
    return {(r.exchange, r.base): r for r in frame.itertuples()}


@pytest.mark.parametrize("field, number", [
    ("0.0001", 0.0001), ("-6.2e-05", -6.2e-05), (" 12.5 ", 12.5), (0.0001, 0.0001), (5, 5.0), (b"1.5", 1.5),
    ("", None), ("abc", None), (None, None), (True, None), (False, None), ("inf", None), ("NaN", None),
    (float("nan"), None), (float("-inf"), None), ([1], None), ({"v": 1}, None)])
def test_an_exchange_field_as_a_number(field, number):
    from xlhedge.market.parsing import to_float

    got = to_float(field)
    assert got == number and (got is None or type(got) is float)


def test_snapshot_contract(exchanges):
    df = funding_snapshot()
    assert list(df.columns) == COLUMNS
    assert df.attrs["errors"] == {}
    assert len(df) == 22  # BTC, ETH, SOL on seven exchanges, plus OKX's coin-margined BTC swap
    rows = by_key(df[canonical_mask(df)])
    # numbers arrive as strings (JSON numbers on MEXC) and become floats
    assert rows[("binance", "BTC")].funding_rate == pytest.approx(0.0001)
    assert rows[("binance", "BTC")].mark_price == pytest.approx(60000.0)
    assert rows[("mexc", "BTC")].funding_rate == pytest.approx(0.000091)
    # intervals come from each exchange's own field and unit, never assumed
    assert rows[("binance", "SOL")].interval_hours == 4  # fundingInfo (hours)
    assert rows[("binance", "BTC")].interval_hours == 8  # not in fundingInfo: the default 8h
    assert rows[("bybit", "SOL")].interval_hours == 4  # instruments-info fundingInterval 240 (minutes)
    assert rows[("okx", "SOL")].interval_hours == 4  # nextFundingTime - fundingTime
    assert rows[("hyperliquid", "BTC")].interval_hours == 1
    assert rows[("bingx", "SOL")].interval_hours == 4  # fundingIntervalHours (hours)
    assert rows[("mexc", "SOL")].interval_hours == 1  # collectCycle (hours)
    assert rows[("weex", "SOL")].interval_hours == 4  # collectCycle 240 (minutes)
    assert rows[("okx", "ETH")].symbol == "ETH-USDT-SWAP"
    assert rows[("okx", "ETH")].mark_price == pytest.approx(3000.5)  # joined from mark-price
    for col in ("next_funding_time", "fetched_at"):
        assert str(df[col].dt.tz) == "UTC"
    assert df["next_funding_time"].notna().all()


def test_rows_come_by_coin_then_in_the_order_the_exchanges_were_named(exchanges):
    from xlhedge.market.snapshot import FLOAT_COLUMNS

    df = funding_snapshot(exchanges="weex,binance,okx")
    keys = list(zip(df["base"], df["exchange"], strict=True))
    named = {"weex": 0, "binance": 1, "okx": 2}
    assert keys == sorted(keys, key=lambda k: (k[0], named[k[1]]))  # the stable order: OKX's two BTC swaps stay
    assert [k for k in keys if k[0] == "BTC"] == [("BTC", "weex"), ("BTC", "binance"), ("BTC", "okx"), ("BTC", "okx")]
    assert all(df[c].dtype == np.float64 for c in FLOAT_COLUMNS)
    # a field an exchange does not publish is NaN, not None (Binance has no predicted rate)
    assert df.loc[df["exchange"] == "binance", "predicted_rate"].isna().all()
    btc = df[(df["exchange"] == "binance") & (df["base"] == "BTC")].iloc[0]
    assert btc.next_funding_time == pd.Timestamp(exchanges._next_ms(8), unit="ms", tz="UTC")  # epoch ms, exactly


def test_contract_identity_and_the_signal_fields(exchanges):
    from tests.loopback import CONTRACT_SIZES

    df = funding_snapshot()
    rows = by_key(df[canonical_mask(df)])
    assert {(r.quote, r.margin) for r in rows.values() if r.exchange != "hyperliquid"} == {("USDT", "linear")}
    assert rows[("hyperliquid", "BTC")].quote == "USDC"
    inverse = df[df["symbol"] == "BTC-USD-SWAP"].iloc[0]
    assert (inverse.quote, inverse.margin, inverse.contract_size) == ("USD", "inverse", 100.0)
    assert rows[("okx", "BTC")].contract_size == CONTRACT_SIZES["BTC"]  # ctVal from instruments
    assert rows[("mexc", "ETH")].contract_size == CONTRACT_SIZES["ETH"]  # contractSize from detail
    # basis = mark / index - 1 from the served strings (the fake index is mark / 1.001, to 6 places)
    for r in rows.values():
        index = round(r.mark_price / 1.001, 6)
        assert r.index_price == pytest.approx(index, abs=1e-6)
        assert r.basis == pytest.approx(r.mark_price / index - 1.0, rel=1e-9)
    # open interest in USD where the bulk answers carry it (coins x mark, or the exchange's own USD figure)
    assert rows[("bybit", "BTC")].open_interest_usd == pytest.approx(1000 * 60010.0)  # openInterestValue
    assert rows[("okx", "ETH")].open_interest_usd == pytest.approx(1000 * 3000.5)  # oiUsd
    assert rows[("hyperliquid", "SOL")].open_interest_usd == pytest.approx(1000 * 150.02)  # coins x markPx
    assert rows[("mexc", "BTC")].open_interest_usd == pytest.approx(1000 * 60004.0)  # holdVol x size x mark
    # per-symbol endpoints are not called without a portfolio: empty, never made up
    for ex in ("binance", "bingx", "weex"):
        assert np.isnan(rows[(ex, "BTC")].open_interest_usd)
    assert rows[("weex", "ETH")].predicted_rate == pytest.approx(0.00002)  # forecastFundingRate
    assert np.isnan(rows[("binance", "ETH")].predicted_rate)


def test_per_symbol_open_interest_only_for_the_portfolio(exchanges):
    df = funding_snapshot(symbols="BTC")
    rows = by_key(df[canonical_mask(df)])
    assert rows[("binance", "BTC")].open_interest_usd == pytest.approx(1000 * 60000.0)  # coins x mark
    assert rows[("bingx", "BTC")].open_interest_usd == pytest.approx(1000 * 60003.0)  # BingX's USD value
    assert rows[("weex", "BTC")].open_interest_usd == pytest.approx(1000 * 60006.0)
    for ex, path in (("binance", "/fapi/v1/openInterest"), ("bingx", "/openApi/swap/v2/quote/openInterest"),
                     ("weex", "/capi/v3/market/openInterest")):
        assert exchanges.hits[(ex, path)] == 1  # BTC only, not ETH or SOL


def test_contracts_without_funding_are_skipped(exchanges):
    df = funding_snapshot()
    assert "NEWCOIN" not in set(df["base"])  # pre-launch: empty lastFundingRate
    assert not df["symbol"].str.contains("_USDT_|USDT_", regex=True).any()  # Binance delivery contract
    assert "BTCUSDT_260327" not in set(df["symbol"])
    assert "BTC-26DEC25" not in set(df["symbol"])  # Bybit futures
    assert "OLDCOIN" not in set(df["base"])  # Hyperliquid delisted


def test_bulk_endpoints_once_each_and_cursor_pagination(exchanges):
    funding_snapshot()
    hits = exchanges.hits
    assert hits[("binance", "/fapi/v1/premiumIndex")] == 1
    assert hits[("binance", "/fapi/v1/fundingInfo")] == 1
    assert hits[("bybit", "/v5/market/tickers")] == 1
    assert hits[("bybit", "/v5/market/instruments-info")] == 2  # 4 instruments, pages of 2
    assert hits[("okx", "/api/v5/public/funding-rate")] == 1
    assert hits[("okx", "/api/v5/market/index-tickers")] == 2  # USDT and USD indexes
    assert hits[("hyperliquid", "/info")] == 1
    assert hits[("bingx", "/openApi/swap/v2/quote/premiumIndex")] == 1
    assert hits[("mexc", "/api/v1/contract/funding_rate")] == 1
    assert hits[("weex", "/capi/v3/market/premiumIndex")] == 1
    assert hits[("binance", "/fapi/v1/exchangeInfo")] == 1
    assert hits[("bingx", "/openApi/swap/v2/quote/contracts")] == 1
    assert hits[("bybit", "/v5/market/risk-limit")] == 2  # every contract's risk limits, pages of 2
    # binance 3 (with its order rules), bybit 5 (with its risk limits), okx 6 (funding, mark, instruments,
    # open interest, 2 indexes), hyperliquid 1, bingx 2 (with its order rules), mexc 3 (funding, detail,
    # ticker), weex 1
    assert sum(hits.values()) == 21
    # within a day the order rules, risk limits, OKX's instruments and MEXC's details come from the cache: the
    # next snapshot asks 15
    df = funding_snapshot()
    assert hits[("binance", "/fapi/v1/exchangeInfo")] == 1 and sum(hits.values()) == 21 + 15
    btc = df[(df["exchange"] == "binance") & (df["symbol"] == "BTCUSDT")].iloc[0]
    assert (btc["lot_step"], btc["min_qty"], btc["min_notional"]) == (0.001, 0.001, 100.0)  # kept, not lost


def test_each_exchange_says_its_order_rules(exchanges):
    df = funding_snapshot().set_index(["exchange", "symbol"])
    rules = ["contract_size", "lot_step", "min_qty", "min_notional", "max_leverage"]
    got = {key: [None if np.isnan(v) else v for v in df.loc[key, rules]] for key in [
        ("binance", "BTCUSDT"), ("bybit", "BTCUSDT"), ("okx", "BTC-USDT-SWAP"), ("okx", "BTC-USD-SWAP"),
        ("hyperliquid", "BTC"), ("mexc", "BTC_USDT"), ("bingx", "BTC-USDT"), ("weex", "BTCUSDT")]}
    assert got == {  # as the loopback serves them, each from that exchange's own field names
        ("binance", "BTCUSDT"): [1.0, 0.001, 0.001, 100.0, None],  # brackets need a signed request
        ("bybit", "BTCUSDT"): [1.0, 0.001, 0.001, 5.0, 100.0],
        ("okx", "BTC-USDT-SWAP"): [0.0001, 0.01, 0.01, None, 100.0],
        ("okx", "BTC-USD-SWAP"): [100.0, 1.0, 1.0, None, 100.0],
        ("hyperliquid", "BTC"): [1.0, 0.0001, 0.0001, 10.0, 50.0],
        ("mexc", "BTC_USDT"): [0.0001, 1.0, 1.0, None, 125.0],
        ("bingx", "BTC-USDT"): [1.0, 0.0001, 0.0001, 2.0, 100.0],  # the short's leverage, not the long's 125
        ("weex", "BTCUSDT"): [1.0, None, None, None, None],
    }


def test_symbols_filter_and_exchange_subset(exchanges):
    df = funding_snapshot(["okx", "bybit"], symbols="btc, eth")
    assert set(df["base"]) == {"BTC", "ETH"}
    assert set(df["exchange"]) == {"okx", "bybit"}
    assert not any(k[0] == "binance" for k in exchanges.hits)


def test_one_exchange_failing_leaves_the_others(exchanges):
    exchanges.fault("bybit", "/v5/market/tickers", Fault(status=500, times=99))
    df = funding_snapshot(timeout=5)
    assert set(df["exchange"]) == {"binance", "okx", "hyperliquid", "bingx", "mexc", "weex"}
    assert "bybit" in df.attrs["errors"]
    assert "/v5/market/tickers" in df.attrs["errors"]["bybit"]
    assert "HTTP 500" in df.attrs["errors"]["bybit"]


def test_bybit_http_200_error(exchanges):
    body = b'{"retCode":10006,"retMsg":"Too many visits!","result":{},"retExtInfo":{},"time":1}'
    exchanges.fault("bybit", "/v5/market/tickers", Fault(body=body))
    df = funding_snapshot(["bybit", "binance"])
    assert "retCode 10006" in df.attrs["errors"]["bybit"]
    assert len(df) == 3


def test_429_with_retry_after_is_honoured(exchanges):
    exchanges.fault("binance", "/fapi/v1/premiumIndex", Fault(status=429, headers={"Retry-After": "1"}))
    start = time.monotonic()
    df = funding_snapshot(["binance"], timeout=5)
    assert time.monotonic() - start >= 1.0
    assert len(df) == 3
    assert exchanges.hits[("binance", "/fapi/v1/premiumIndex")] == 2


@pytest.mark.parametrize(("typed", "first_wait"), [("0.01", 0.01), ("2", 2.0), ("", 0.25), ("soon", 0.25),
                                                  ("-1", 0.25), ("inf", 0.25)])
def test_the_first_retry_waits_what_the_environment_says(monkeypatch, typed, first_wait):
    """XLHEDGE_RETRY_DELAY (the tests set 0.01); anything but a number >= 0 keeps the client's 0.25 s."""
    from xlhedge.market.exchanges import REGISTRY

    monkeypatch.setenv("XLHEDGE_RETRY_DELAY", typed)
    client = REGISTRY["bybit"].client(time.monotonic() + 60)
    assert client._delay(0, None) == first_wait and client._delay(1, None) == min(2 * first_wait, 4.0)


def test_a_proxy_in_the_environment_carries_the_requests(exchanges, monkeypatch):
    """Behind a company proxy (HTTP_PROXY, as requests reads it): the exchanges' host is not reachable
    directly (``.invalid`` never resolves), only through the proxy, which here is the loopback server."""
    monkeypatch.setenv("XLHEDGE_BINANCE_URL", "http://fapi.exchange.invalid/binance")
    monkeypatch.setenv("HTTP_PROXY", exchanges.url)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    df = funding_snapshot(exchanges="binance")
    assert df.attrs["errors"] == {} and set(df["exchange"]) == {"binance"} and len(df) == 3
    monkeypatch.setenv("NO_PROXY", "exchange.invalid")  # a host the proxy must not be used for
    with pytest.raises(MarketDataError, match="cannot connect"):
        funding_snapshot(exchanges="binance", timeout=2)


def test_retry_after_longer_than_the_timeout_gives_up_early(exchanges):
    exchanges.fault("okx", "/api/v5/public/funding-rate", Fault(status=429, headers={"Retry-After": "60"}))
    start = time.monotonic()
    df = funding_snapshot(["okx", "binance"], timeout=3)
    # it did not sleep the 60 s asked for (the bound is loose on purpose: no speed is asserted)
    assert time.monotonic() - start < 30
    assert "retry would pass the timeout" in df.attrs["errors"]["okx"]


def test_500_then_success_is_retried(exchanges):
    exchanges.fault("hyperliquid", "/info", Fault(status=502, times=2))
    df = funding_snapshot(["hyperliquid"])
    assert len(df) == 3


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"symbol": "BTCUSDT", "markPr', "not valid JSON"),
        (b"<html><body>502 Bad Gateway</body></html>", "not valid JSON"),
        (b'{"unexpected": true}', "unexpected shape"),
        (b"[null, 5]", "unexpected shape"),
    ],
)
def test_malformed_bodies(exchanges, body, message):
    exchanges.fault("binance", "/fapi/v1/premiumIndex", Fault(body=body))
    df = funding_snapshot(["binance", "okx"])
    assert message in df.attrs["errors"]["binance"]
    assert set(df["exchange"]) == {"okx"}


def test_a_hanging_exchange_does_not_hold_up_the_others(exchanges):
    exchanges.fault("hyperliquid", "/info", Fault(delay=40, times=9))
    start = time.monotonic()
    df = funding_snapshot(timeout=1.5)
    elapsed = time.monotonic() - start
    assert elapsed < 20  # did not wait for the 40 s answer (loose bound: no speed is asserted)
    assert "hyperliquid" in df.attrs["errors"]
    assert len(df) == 19


def test_connection_refused(exchanges, monkeypatch):
    import socket

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now
    monkeypatch.setenv("XLHEDGE_BINANCE_URL", f"http://127.0.0.1:{port}")
    df = funding_snapshot(["binance", "bybit"], timeout=2)
    assert "cannot connect" in df.attrs["errors"]["binance"]
    assert len(df) == 3


def test_every_exchange_failing_raises(exchanges):
    for ex, path in (("binance", "/fapi/v1/premiumIndex"), ("bybit", "/v5/market/tickers"),
                     ("okx", "/api/v5/public/funding-rate"), ("hyperliquid", "/info"),
                     ("bingx", "/openApi/swap/v2/quote/premiumIndex"), ("mexc", "/api/v1/contract/funding_rate"),
                     ("weex", "/capi/v3/market/premiumIndex")):
        exchanges.fault(ex, path, Fault(status=503, times=99))
    with pytest.raises(MarketDataError, match="no exchange answered") as info:
        funding_snapshot(timeout=2)
    assert set(info.value.errors) == set(EXCHANGES)
    # one clause per distinct reason, each exchange named once (on a loaded machine some exchanges stop
    # early because a retry would pass the timeout: a second reason, in a clause of its own)
    text = str(info.value)
    clauses = [c.split(": ", 1) for c in text[text.index("(") + 1:-1].split("; ")]
    reasons = [reason for _, reason in clauses]
    assert len(set(reasons)) == len(reasons) and all("HTTP 503" in r for r in reasons), text
    named = [ex for names, _ in clauses for ex in names.split(", ")]
    assert sorted(named) == sorted(EXCHANGES), text


def test_okx_without_instid_any_falls_back_per_instrument(exchanges):
    exchanges.okx_any_supported = False
    df = funding_snapshot(["okx"], symbols=["BTC", "ETH"])
    assert set(df["base"]) == {"BTC", "ETH"}
    assert exchanges.hits[("okx", "/api/v5/public/funding-rate")] == 3  # ANY, then one each


def test_unknown_exchange():
    with pytest.raises(ValueError, match="unknown exchange 'ftx'"):
        funding_snapshot(["ftx"])


def test_all_and_the_users_default_set(exchanges, monkeypatch):
    from xlhedge.market import parse_exchanges

    assert parse_exchanges("all") == list(EXCHANGES) == parse_exchanges(None)
    monkeypatch.setenv("XLHEDGE_EXCHANGES", "okx, mexc")
    assert parse_exchanges(None) == ["okx", "mexc"]
    assert set(funding_snapshot()["exchange"]) == {"okx", "mexc"}
    assert parse_exchanges("ALL") == list(EXCHANGES)


def _expected(symbol, hours, start, end, value):
    step = hours * HOUR_MS
    first = EPOCH_MS + -(-(start - EPOCH_MS) // step) * step
    return [(t, value(symbol, t)) for t in range(first, end + 1, step)]


@pytest.mark.parametrize(
    ("exchange", "symbol", "native", "hours"),
    [("binance", "BTCUSDT", "BTCUSDT", 8), ("bybit", "ETHUSDT", "ETHUSDT", 8),
     ("okx", "BTC", "BTC-USDT-SWAP", 8), ("hyperliquid", "ETH", "ETH", 1),
     ("bingx", "BTC-USDT", "BTC-USDT", 8), ("mexc", "ETH_USDT", "ETH_USDT", 8), ("weex", "BTCUSDT", "BTCUSDT", 8)],
)
def test_funding_history_pages_through_limits(exchanges, exchange, symbol, native, hours):
    start, end = pd.Timestamp("2025-01-01", tz="UTC"), pd.Timestamp("2026-01-10", tz="UTC")
    got = funding_history(exchange, symbol, start, end)
    s_ms, e_ms = int(start.timestamp() * 1000), int(end.timestamp() * 1000)
    want = _expected(native, hours, s_ms, e_ms, _hist_rate)
    assert len(got) == len(want) > 1000  # more than one page on every exchange
    assert (got["interval_hours"] == hours).all()  # read from the spacing of the timestamps
    epoch = pd.Timestamp(0, tz="UTC")
    assert list((got["time"] - epoch) // pd.Timedelta(milliseconds=1)) == [t for t, _ in want]
    assert got["funding_rate"].tolist() == pytest.approx([r for _, r in want])


@pytest.mark.parametrize(("exchange", "symbol", "native"),
                         [("binance", "BTCUSDT", "BTCUSDT"), ("bybit", "BTCUSDT", "BTCUSDT"),
                          ("okx", "BTC-USDT-SWAP", "BTC-USDT-SWAP"), ("hyperliquid", "BTC", "BTC"),
                          ("bingx", "BTC-USDT", "BTC-USDT"), ("mexc", "BTC_USDT", "BTC_USDT"),
                          ("weex", "BTCUSDT", "BTCUSDT")])
def test_price_history(exchanges, exchange, symbol, native):
    start, end = pd.Timestamp("2025-01-01", tz="UTC"), pd.Timestamp("2025-04-01", tz="UTC")
    got = price_history(exchange, symbol, "1h", start, end)
    want = _expected(native, 1, int(start.timestamp() * 1000), int(end.timestamp() * 1000), _hist_close)
    assert len(got) == len(want) == 2161
    assert got["close"].tolist() == pytest.approx([c for _, c in want])
    assert got["high"].tolist() == pytest.approx([_hist_high(c) for _, c in want])  # each exchange's own field
    assert got["open"].tolist() == pytest.approx([_hist_open(c) for _, c in want])
    assert got["low"].tolist() == pytest.approx([_hist_low(c) for _, c in want])
    assert list(got.columns) == ["time", "open", "high", "low", "close"]
    assert got["time"].is_monotonic_increasing


@pytest.mark.parametrize(("exchange", "symbol"), [("binance", "BTCUSDT"), ("bybit", "BTCUSDT"),
                                                  ("okx", "BTC-USDT-SWAP"), ("mexc", "BTC_USDT")])
def test_index_history_is_the_perpetuals_close_less_its_basis(exchanges, exchange, symbol):
    from xlhedge.market.history import index_history

    start, end = pd.Timestamp("2025-01-01", tz="UTC"), pd.Timestamp("2025-06-01", tz="UTC")
    got = index_history(exchange, symbol, "1d", start, end)
    closes = price_history(exchange, symbol, "1d", start, end)
    assert len(got) == len(closes) == 152  # days from 2025-01-01 to 2025-06-01 (two pages on OKX)
    assert (got["time"] == closes["time"]).all()
    epoch = pd.Timestamp(0, tz="UTC")
    basis = np.array([hist_basis(t) for t in (got["time"] - epoch) // pd.Timedelta(milliseconds=1)])
    # perpetual = index x (1 + basis): the index read from each exchange's own index endpoint
    assert (closes["close"] / got["close"] - 1).to_numpy() == pytest.approx(basis, abs=1e-12)
    assert np.abs(basis).max() > 0.002


def test_index_history_where_none_is_published(exchanges):
    from xlhedge.market.history import index_history, publishes_index_history

    assert [ex for ex in EXCHANGES if publishes_index_history(ex)] == ["binance", "bybit", "okx", "mexc"]
    with pytest.raises(ValueError, match="hyperliquid publishes no index price history"):
        index_history("hyperliquid", "BTC")


def test_history_keeps_to_the_window_and_leaves_out_the_open_candle(exchanges):
    # Hyperliquid answers with the candle that contains the start first, even if it opened before
    start = pd.Timestamp("2025-03-01 00:30", tz="UTC")
    got = price_history("hyperliquid", "BTC", "1h", start, pd.Timestamp("2025-03-02", tz="UTC"))
    assert got["time"].iloc[0] == pd.Timestamp("2025-03-01 01:00", tz="UTC")
    # OKX's newest candle is still open (confirm "0"): it is not a close
    now = pd.Timestamp.now(tz="UTC")
    got = price_history("okx", "BTC", "1h", now - pd.Timedelta(hours=5), now)
    assert got["time"].iloc[-1] + pd.Timedelta(hours=1) <= now
    assert len(got) == 4


def test_history_errors(exchanges):
    with pytest.raises(ValueError, match="interval"):
        price_history("binance", "BTCUSDT", "3m")
    with pytest.raises(ValueError, match="start must be before end"):
        funding_history("binance", "BTCUSDT", "2025-02-01", "2025-01-01")
    exchanges.fault("bybit", "/v5/market/funding/history", Fault(status=500, times=9))
    with pytest.raises(MarketDataError, match="bybit /v5/market/funding/history"):
        funding_history("bybit", "BTCUSDT", "2025-01-01", "2025-01-05", timeout=2)


def test_betas_from_price_history(exchanges):
    from tests.loopback import BETAS
    from xlhedge.market.betas import estimate_betas, perp_symbol

    assert [perp_symbol(ex, "sol") for ex in EXCHANGES] == [
        "SOLUSDT", "SOLUSDT", "SOL-USDT-SWAP", "SOL", "SOL-USDT", "SOL_USDT", "SOLUSDT"]
    exchanges.fault("bybit", "/v5/market/kline", Fault(status=500, times=99))
    frame, errors = estimate_betas([("eth", "okx"), ("SOL", "hyperliquid"), ("XRP", "bybit")], timeout=2)
    got = dict(zip(frame["base"], frame["beta"], strict=True))
    assert got == pytest.approx({"ETH": BETAS["ETH"], "SOL": BETAS["SOL"]}, rel=1e-9)
    assert set(errors) == {"XRP"} and "/v5/market/kline" in errors["XRP"]


#: Each supporting request of each adapter: (exchange, path, what the rows then lack, the columns left empty).
SIDE_REQUESTS = [
    ("mexc", "/api/v1/contract/ticker", "open interest", ["open_interest_usd"]),
    ("mexc", "/api/v1/contract/detail", "contract sizes", ["contract_size", "open_interest_usd"]),
    ("okx", "/api/v5/public/mark-price", "mark prices", ["mark_price", "basis"]),
    ("okx", "/api/v5/public/instruments", "contract sizes", ["contract_size"]),
    ("okx", "/api/v5/public/open-interest", "open interest", ["open_interest_usd"]),
    ("okx", "/api/v5/market/index-tickers", "index prices", ["index_price", "basis"]),
    ("binance", "/fapi/v1/fundingInfo", "funding intervals", ["interval_hours"]),
    ("binance", "/fapi/v1/openInterest", "open interest", ["open_interest_usd"]),
    ("bybit", "/v5/market/instruments-info", "instrument details", []),
    ("bingx", "/openApi/swap/v2/quote/openInterest", "open interest", ["open_interest_usd"]),
    ("weex", "/capi/v3/market/openInterest", "open interest", ["open_interest_usd"]),
]
ALWAYS = ["funding_rate", "next_funding_time"]  # what the main funding answer alone gives


@pytest.mark.parametrize(("exchange", "path", "what", "emptied"), SIDE_REQUESTS,
                         ids=[f"{ex}{path}" for ex, path, _, _ in SIDE_REQUESTS])
def test_a_failing_side_request_leaves_the_rows_and_names_what_is_missing(exchanges, exchange, path, what, emptied,
                                                                         monkeypatch, tmp_path):
    whole = funding_snapshot(exchange, "BTC,ETH,SOL", timeout=10)
    monkeypatch.setenv("XLHEDGE_CACHE", str(tmp_path / "nothing-kept"))  # specifications kept for a day: none yet
    exchanges.fault(exchange, path, Fault(status=503, times=99))
    partial = funding_snapshot(exchange, "BTC,ETH,SOL", timeout=10)
    assert partial.attrs["errors"] == {}
    assert list(partial["symbol"]) == list(whole["symbol"])  # every contract is still there
    kept = [c for c in ("funding_rate", "interval_hours", "next_funding_time", "mark_price", "index_price",
                        "contract_size") if c not in emptied]
    pd.testing.assert_frame_equal(partial[kept], whole[kept])
    for col in emptied:
        assert partial[col].isna().all() and whole[col].notna().any(), col
    share = " for 3 of 3 contracts" if path.endswith("/openInterest") else ""
    tail = path.rsplit("/", 1)[-1]
    assert partial.attrs["missing"] == {exchange: f"no {what}{share} ({tail}: HTTP 503 after 4 tries)"}
    assert whole.attrs["missing"] == {}


@pytest.mark.parametrize(("exchange", "path", "kept_as", "listed"), [
    ("okx", "/api/v5/public/instruments", "okx-instruments", "NEWCOIN-USDT-SWAP"),
    ("mexc", "/api/v1/contract/detail", "mexc-contract-details", "NEWCOIN_USDT")])
def test_specifications_are_kept_for_a_day_and_asked_again_for_a_listing_they_lack(exchanges, exchange, path,
                                                                                   kept_as, listed):
    whole = funding_snapshot(exchange, timeout=10)
    assert exchanges.hits[(exchange, path)] == 1
    exchanges.fault(exchange, path, Fault(status=503, times=99))  # the kept copy serves: nothing is lost or said
    again = funding_snapshot(exchange, timeout=10)
    assert exchanges.hits[(exchange, path)] == 1 and again.attrs["missing"] == {}
    pd.testing.assert_series_equal(again["contract_size"], whole["contract_size"])
    exchanges.faults.clear()
    exchanges.contracts[exchange].append(Contract("NEWCOIN", "0.0001", 8, 2.0))  # listed since they were kept
    kept, = cache_root().glob(f"rules/{kept_as}-*.json")
    young = funding_snapshot(exchange, timeout=10)  # kept within the hour: not asked again yet
    assert exchanges.hits[(exchange, path)] == 1 and np.isnan(
        young.loc[young["symbol"] == listed, "contract_size"].iloc[0])
    os.utime(kept, (time.time() - 7200, time.time() - 7200))  # kept two hours ago: asked again for the listing
    first = funding_snapshot(exchange, timeout=10)
    assert exchanges.hits[(exchange, path)] == 2
    assert first.loc[first["symbol"] == listed, "contract_size"].iloc[0] == 1.0


def test_mexc_without_its_ticker_still_has_rate_interval_next_time_mark_and_index(exchanges):
    exchanges.fault("mexc", "/api/v1/contract/ticker", Fault(status=503, times=99))
    df = funding_snapshot("mexc", timeout=10)
    rows = by_key(df[canonical_mask(df)])
    assert set(df["base"]) == {"BTC", "ETH", "SOL"}
    btc = rows[("mexc", "BTC")]
    assert (btc.funding_rate, btc.interval_hours) == (pytest.approx(0.000091), 8)
    assert btc.mark_price > 0 and btc.index_price > 0 and pd.notna(btc.next_funding_time)
    assert df.attrs["missing"] == {"mexc": "no open interest (ticker: HTTP 503 after 4 tries)"}


def test_order_rules_kept_for_a_day_survive_a_failed_download(tmp_path, monkeypatch):
    from xlhedge.market.cache import kept_for_a_day

    monkeypatch.setenv("XLHEDGE_CACHE", str(tmp_path))
    calls = []

    def fetch():
        calls.append(1)
        return {"BTCUSDT": {"lot_step": 0.001}}

    def down():
        raise MarketDataError("binance did not answer")

    assert kept_for_a_day("rules", "http://a", fetch) == {"BTCUSDT": {"lot_step": 0.001}}
    assert kept_for_a_day("rules", "http://a", fetch) == {"BTCUSDT": {"lot_step": 0.001}} and len(calls) == 1
    assert kept_for_a_day("rules", "http://b", fetch) and len(calls) == 2  # another server: its own answer
    # older than allowed: asked again; when that fails, the kept answer is used, whatever its age
    assert kept_for_a_day("rules", "http://a", down, max_age_hours=0) == {"BTCUSDT": {"lot_step": 0.001}}
    with pytest.raises(MarketDataError):
        kept_for_a_day("rules", "http://never-asked", down)
    assert sorted(p.name.split("-")[0] for p in (tmp_path / "rules").iterdir()) == ["rules", "rules"]


def test_maintenance_tiers_where_published(exchanges):
    from xlhedge.market.history import maintenance_tiers, publishes_maintenance_tiers

    assert [ex for ex in EXCHANGES if publishes_maintenance_tiers(ex)] == ["binance", "bybit", "hyperliquid"]
    btc = maintenance_tiers("hyperliquid", "BTC")  # the loopback's table 60: 50x, then 25x from 10,000 USD
    assert (btc.floors, btc.rates) == ((0.0, 10_000.0), (0.01, 0.02))
    assert maintenance_tiers("hyperliquid", "ETH").rates == (0.05,)  # table id 10, not listed: one tier at 10x
    with pytest.raises(ValueError, match="okx publishes no maintenance tiers"):
        maintenance_tiers("okx", "BTC-USDT-SWAP")


def test_a_transport_failure_of_any_kind_is_that_exchanges_failure(exchanges, monkeypatch):
    """In the browser, a request the browser blocks raises a JavaScript error, not a requests one: after other
    exchanges answered, one such failure must cost that exchange only, named, and never the whole refresh."""
    block_like_a_browser(monkeypatch, "bybit")  # tests.loopback.JsException, raised before the request leaves
    df = funding_snapshot(["binance", "bybit", "okx"], timeout=5)
    assert set(df["exchange"]) == {"binance", "okx"}
    assert df.attrs["errors"]["bybit"].endswith(
        "blocked by the browser (CORS)? The browser refused the request (JsException)")
    assert exchanges.hits[("bybit", "/v5/market/tickers")] == 0  # refused before it left: no retries either
