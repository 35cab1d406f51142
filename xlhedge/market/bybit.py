"""Bybit v5 linear contracts: tickers (all symbols), instruments-info (intervals), history.

Bybit reports errors as HTTP 200 with ``retCode != 0``; those are raised here.
"""

from __future__ import annotations

from xlhedge.market.errors import ExchangeError
from xlhedge.market.http import Client
from xlhedge.market.parsing import base_of, before_oldest, collect_pages, page_guard, row, to_float, to_ms

NAME = "bybit"
KLINE_INTERVALS = {"1h": "60", "4h": "240", "1d": "D"}


def _result(client: Client, path: str, params: dict) -> dict:
    body = client.get(path, params)
    code = body.get("retCode")
    if code != 0:
        raise ExchangeError(NAME, path, f"retCode {code}: {str(body.get('retMsg', ''))[:60]}")
    return body["result"]


def _instruments(client: Client) -> dict[str, dict]:
    """Every linear instrument, following ``nextPageCursor``."""
    instruments, cursor, pages = {}, "", 0
    while True:
        params = {"category": "linear", "limit": 1000}
        if cursor:
            params["cursor"] = cursor
        page = _result(client, "/v5/market/instruments-info", params)
        pages += 1
        page_guard(pages, 100)
        for item in page["list"]:
            instruments[item["symbol"]] = item
        cursor = page.get("nextPageCursor") or ""
        if not cursor:
            return instruments


def snapshot(client: Client) -> list[dict]:
    """Linear perpetuals with a funding rate: tickers and instruments-info (paged), sent together."""
    tickers, instruments = client.parallel(
        (lambda: _result(client, "/v5/market/tickers", {"category": "linear"})["list"],),
        (_instruments, client),
    )
    rows = []
    for item in tickers:
        symbol = item.get("symbol") or ""
        rate = to_float(item.get("fundingRate"))
        inst = instruments.get(symbol)
        if not symbol or rate is None or inst is None:
            continue
        if inst.get("contractType", "LinearPerpetual") != "LinearPerpetual":
            continue
        minutes = to_float(inst.get("fundingInterval"))
        if not minutes:
            continue
        rows.append(
            row(NAME, symbol, inst.get("baseCoin") or base_of(symbol), rate, minutes / 60.0,
                to_ms(item.get("nextFundingTime")), to_float(item.get("markPrice")))
        )
    return rows


def funding_history(client: Client, symbol: str, start: int, end: int, bar=None):
    """(time ms, rate) oldest first; Bybit pages newest first, 200 at a time."""
    rows = collect_pages(
        lambda c: _result(client, "/v5/market/funding/history",
                          {"category": "linear", "symbol": symbol, "startTime": start,
                           "endTime": c, "limit": 200})["list"],
        lambda p: (int(p["fundingRateTimestamp"]), float(p["fundingRate"])),
        200, end, lambda c: c >= start, before_oldest, bar)
    return sorted(set(rows))


def price_history(client: Client, symbol: str, interval: str, start: int, end: int, bar=None):
    """(start time ms, close) oldest first; klines newest first, 1000 a page."""
    rows = collect_pages(
        lambda c: _result(client, "/v5/market/kline",
                          {"category": "linear", "symbol": symbol, "interval": KLINE_INTERVALS[interval],
                           "start": start, "end": c, "limit": 1000})["list"],
        lambda k: (int(k[0]), float(k[4])),
        1000, end, lambda c: c >= start, before_oldest, bar)
    return sorted(set(rows))
