"""Binance USD-M futures: premiumIndex (all symbols), fundingInfo (non-8h intervals), history."""

from __future__ import annotations

from xlhedge.market.http import Client
from xlhedge.market.parsing import after_newest, base_of, collect_pages, row, to_float, to_ms

NAME = "binance"
DEFAULT_INTERVAL_HOURS = 8.0  # fundingInfo lists only the symbols that differ from this
KLINE_INTERVALS = {"1h": "1h", "4h": "4h", "1d": "1d"}


def snapshot(client: Client) -> list[dict]:
    """Every USD-M perpetual with a funding rate: two bulk requests, sent together."""
    premium, info = client.parallel((client.get, "/fapi/v1/premiumIndex"), (client.get, "/fapi/v1/fundingInfo"))
    intervals = {
        item["symbol"]: float(item["fundingIntervalHours"])
        for item in info
        if to_float(item.get("fundingIntervalHours"))
    }
    rows = []
    for item in premium:
        symbol = item.get("symbol") or ""
        rate = to_float(item.get("lastFundingRate"))
        if not symbol or rate is None or "_" in symbol:  # delivery contracts carry no funding
            continue
        rows.append(
            row(NAME, symbol, base_of(symbol), rate,
                intervals.get(symbol, DEFAULT_INTERVAL_HOURS),
                to_ms(item.get("nextFundingTime")), to_float(item.get("markPrice")))
        )
    return rows


def funding_history(client: Client, symbol: str, start: int, end: int, bar=None) -> list[tuple]:
    """(time ms, rate) oldest first; pages of 1000 forwards from ``start``."""
    return collect_pages(
        lambda c: client.get("/fapi/v1/fundingRate",
                             {"symbol": symbol, "startTime": c, "endTime": end, "limit": 1000}),
        lambda p: (int(p["fundingTime"]), float(p["fundingRate"])),
        1000, start, lambda c: c <= end, after_newest, bar)


def price_history(client: Client, symbol: str, interval: str, start: int, end: int, bar=None):
    """(open time ms, close) oldest first; klines in pages of 1500."""
    return collect_pages(
        lambda c: client.get("/fapi/v1/klines", {"symbol": symbol, "interval": KLINE_INTERVALS[interval],
                                                 "startTime": c, "endTime": end, "limit": 1500}),
        lambda k: (int(k[0]), float(k[4])),
        1500, start, lambda c: c <= end, after_newest, bar)
