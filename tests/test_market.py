"""xlhedge.market against a real loopback HTTP server speaking the exchanges' shapes."""

import time

import pandas as pd
import pytest

from xlhedge.market import COLUMNS, MarketDataError, funding_history, funding_snapshot, price_history
from xlhedge.market.loopback import EPOCH_MS, HOUR_MS, Fault, _hist_close, _hist_rate


def by_key(frame):
    return {(r.exchange, r.base): r for r in frame.itertuples()}


def test_snapshot_contract(exchanges):
    df = funding_snapshot()
    assert list(df.columns) == COLUMNS
    assert df.attrs["errors"] == {}
    assert len(df) == 12  # BTC, ETH, SOL on four exchanges
    rows = by_key(df)
    # numbers arrive as strings and become floats
    assert rows[("binance", "BTC")].funding_rate == pytest.approx(0.0001)
    assert rows[("binance", "BTC")].mark_price == pytest.approx(60000.0)
    # intervals come from the exchange, not assumed
    assert rows[("binance", "SOL")].interval_hours == 4  # fundingInfo
    assert rows[("binance", "BTC")].interval_hours == 8  # not in fundingInfo: the default 8h
    assert rows[("bybit", "SOL")].interval_hours == 4  # instruments-info fundingInterval 240 min
    assert rows[("okx", "SOL")].interval_hours == 4  # nextFundingTime - fundingTime
    assert rows[("hyperliquid", "BTC")].interval_hours == 1
    assert rows[("okx", "ETH")].symbol == "ETH-USDT-SWAP"
    assert rows[("okx", "ETH")].mark_price == pytest.approx(3000.5)  # joined from mark-price
    for col in ("next_funding_time", "fetched_at"):
        assert str(df[col].dt.tz) == "UTC"
    assert df["next_funding_time"].notna().all()


def test_contracts_without_funding_are_skipped(exchanges):
    df = funding_snapshot()
    assert "NEWCOIN" not in set(df["base"])  # pre-launch: empty lastFundingRate
    assert not df["symbol"].str.contains("_").any()  # Binance delivery contract
    assert "BTC-26DEC25" not in set(df["symbol"])  # Bybit futures
    assert "BTC-USD-SWAP" not in set(df["symbol"])  # OKX coin-margined
    assert "OLDCOIN" not in set(df["base"])  # Hyperliquid delisted


def test_bulk_endpoints_once_each_and_cursor_pagination(exchanges):
    funding_snapshot()
    hits = exchanges.hits
    assert hits[("binance", "/fapi/v1/premiumIndex")] == 1
    assert hits[("binance", "/fapi/v1/fundingInfo")] == 1
    assert hits[("bybit", "/v5/market/tickers")] == 1
    assert hits[("bybit", "/v5/market/instruments-info")] == 2  # 4 instruments, pages of 2
    assert hits[("okx", "/api/v5/public/funding-rate")] == 1
    assert hits[("hyperliquid", "/info")] == 1
    assert sum(hits.values()) == 8


def test_symbols_filter_and_exchange_subset(exchanges):
    df = funding_snapshot(["okx", "bybit"], symbols="btc, eth")
    assert set(df["base"]) == {"BTC", "ETH"}
    assert set(df["exchange"]) == {"okx", "bybit"}
    assert not any(k[0] == "binance" for k in exchanges.hits)


def test_one_exchange_failing_leaves_the_others(exchanges):
    exchanges.fault("bybit", "/v5/market/tickers", Fault(status=500, times=99))
    df = funding_snapshot(timeout=5)
    assert set(df["exchange"]) == {"binance", "okx", "hyperliquid"}
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


def test_retry_after_longer_than_the_timeout_gives_up_early(exchanges):
    exchanges.fault("okx", "/api/v5/public/funding-rate", Fault(status=429, headers={"Retry-After": "60"}))
    start = time.monotonic()
    df = funding_snapshot(["okx", "binance"], timeout=3)
    assert time.monotonic() - start < 2
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
    exchanges.fault("hyperliquid", "/info", Fault(delay=6, times=9))
    start = time.monotonic()
    df = funding_snapshot(timeout=1.5)
    elapsed = time.monotonic() - start
    assert elapsed < 1.5 + 0.8
    assert "hyperliquid" in df.attrs["errors"]
    assert len(df) == 9


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
                     ("okx", "/api/v5/public/funding-rate"), ("hyperliquid", "/info")):
        exchanges.fault(ex, path, Fault(status=503, times=99))
    with pytest.raises(MarketDataError, match="no exchange answered"):
        funding_snapshot(timeout=2)


def test_okx_without_instid_any_falls_back_per_instrument(exchanges):
    exchanges.okx_any_supported = False
    df = funding_snapshot(["okx"], symbols=["BTC", "ETH"])
    assert set(df["base"]) == {"BTC", "ETH"}
    assert exchanges.hits[("okx", "/api/v5/public/funding-rate")] == 3  # ANY, then one each


def test_unknown_exchange():
    with pytest.raises(ValueError, match="unknown exchange 'ftx'"):
        funding_snapshot(["ftx"])


def _expected(symbol, hours, start, end, value):
    step = hours * HOUR_MS
    first = EPOCH_MS + -(-(start - EPOCH_MS) // step) * step
    return [(t, value(symbol, t)) for t in range(first, end + 1, step)]


@pytest.mark.parametrize(
    ("exchange", "symbol", "native", "hours"),
    [("binance", "BTCUSDT", "BTCUSDT", 8), ("bybit", "ETHUSDT", "ETHUSDT", 8),
     ("okx", "BTC", "BTC-USDT-SWAP", 8), ("hyperliquid", "ETH", "ETH", 1)],
)
def test_funding_history_pages_through_limits(exchanges, exchange, symbol, native, hours):
    start, end = pd.Timestamp("2025-01-01", tz="UTC"), pd.Timestamp("2026-01-10", tz="UTC")
    got = funding_history(exchange, symbol, start, end)
    s_ms, e_ms = int(start.timestamp() * 1000), int(end.timestamp() * 1000)
    want = _expected(native, hours, s_ms, e_ms, _hist_rate)
    assert len(got) == len(want) > 1000  # more than one page on every exchange
    epoch = pd.Timestamp(0, tz="UTC")
    assert list((got["time"] - epoch) // pd.Timedelta(milliseconds=1)) == [t for t, _ in want]
    assert got["funding_rate"].tolist() == pytest.approx([r for _, r in want])


@pytest.mark.parametrize(("exchange", "symbol", "native"),
                         [("binance", "BTCUSDT", "BTCUSDT"), ("bybit", "BTCUSDT", "BTCUSDT"),
                          ("okx", "BTC-USDT-SWAP", "BTC-USDT-SWAP"), ("hyperliquid", "BTC", "BTC")])
def test_price_history(exchanges, exchange, symbol, native):
    start, end = pd.Timestamp("2025-01-01", tz="UTC"), pd.Timestamp("2025-04-01", tz="UTC")
    got = price_history(exchange, symbol, "1h", start, end)
    want = _expected(native, 1, int(start.timestamp() * 1000), int(end.timestamp() * 1000), _hist_close)
    assert len(got) == len(want) == 2161
    assert got["close"].tolist() == pytest.approx([c for _, c in want])
    assert got["time"].is_monotonic_increasing


def test_history_errors(exchanges):
    with pytest.raises(ValueError, match="interval"):
        price_history("binance", "BTCUSDT", "3m")
    with pytest.raises(ValueError, match="start must be before end"):
        funding_history("binance", "BTCUSDT", "2025-02-01", "2025-01-01")
    exchanges.fault("bybit", "/v5/market/funding/history", Fault(status=500, times=9))
    with pytest.raises(MarketDataError, match="bybit /v5/market/funding/history"):
        funding_history("bybit", "BTCUSDT", "2025-01-01", "2025-01-05", timeout=2)


def test_betas_from_price_history(exchanges):
    from xlhedge.market.betas import estimate_betas, perp_symbol
    from xlhedge.market.loopback import BETAS

    assert [perp_symbol(ex, "sol") for ex in ("binance", "bybit", "okx", "hyperliquid")] == [
        "SOLUSDT", "SOLUSDT", "SOL-USDT-SWAP", "SOL"]
    exchanges.fault("bybit", "/v5/market/kline", Fault(status=500, times=99))
    frame, errors = estimate_betas([("eth", "okx"), ("SOL", "hyperliquid"), ("XRP", "bybit")], timeout=2)
    got = dict(zip(frame["base"], frame["beta"], strict=True))
    assert got == pytest.approx({"ETH": BETAS["ETH"], "SOL": BETAS["SOL"]}, rel=1e-9)
    assert set(errors) == {"XRP"} and "/v5/market/kline" in errors["XRP"]
