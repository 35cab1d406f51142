"""Binance USD-M futures: premiumIndex (all symbols), fundingInfo (non-8h intervals), history."""

from __future__ import annotations

from xlhedge.market.http import Client
from xlhedge.market.parsing import base_of, page_guard, row, to_float, to_ms

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
    out, cursor, pages = [], start, 0
    while cursor <= end:
        page = client.get("/fapi/v1/fundingRate",
                          {"symbol": symbol, "startTime": cursor, "endTime": end, "limit": 1000})
        pages += 1
        page_guard(pages)
        if not page:
            break
        out += [(int(p["fundingTime"]), float(p["fundingRate"])) for p in page]
        if bar is not None:
            bar.update(len(page))
        if len(page) < 1000:
            break
        cursor = int(page[-1]["fundingTime"]) + 1
    return out


def price_history(client: Client, symbol: str, interval: str, start: int, end: int, bar=None):
    """(open time ms, close) oldest first; klines in pages of 1500."""
    out, cursor, pages = [], start, 0
    while cursor <= end:
        page = client.get("/fapi/v1/klines", {"symbol": symbol, "interval": KLINE_INTERVALS[interval],
                                              "startTime": cursor, "endTime": end, "limit": 1500})
        pages += 1
        page_guard(pages)
        if not page:
            break
        out += [(int(k[0]), float(k[4])) for k in page]
        if bar is not None:
            bar.update(len(page))
        if len(page) < 1500:
            break
        cursor = int(page[-1][0]) + 1
    return out
