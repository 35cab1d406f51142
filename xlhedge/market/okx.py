"""OKX USDT swaps: funding-rate (instId=ANY for all), mark-price (all swaps), history.

The funding interval is read from the answer itself: ``nextFundingTime - fundingTime``.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from xlhedge.market.errors import ExchangeError
from xlhedge.market.http import Client
from xlhedge.market.parsing import before_oldest, collect_pages, row, to_float, to_ms

NAME = "okx"
SUFFIX = "-USDT-SWAP"
BARS = {"1h": "1H", "4h": "4H", "1d": "1Dutc"}


def _data(client: Client, path: str, params: dict) -> list:
    body = client.get(path, params)
    if str(body.get("code")) != "0":
        raise ExchangeError(NAME, path, f"code {body.get('code')}: {str(body.get('msg', ''))[:60]}")
    return body["data"]


def inst_id(symbol_or_base: str) -> str:
    """"BTC" or "BTC-USDT-SWAP" -> "BTC-USDT-SWAP"."""
    text = symbol_or_base.upper()
    return text if text.endswith(SUFFIX) else text + SUFFIX


def _rates(client: Client, bases: list[str] | None) -> list[dict]:
    """Funding of every swap with ``instId=ANY``; older API versions refuse it: then one call per base."""
    try:
        return _data(client, "/api/v5/public/funding-rate", {"instId": "ANY"})
    except ExchangeError:
        if not bases:
            raise
    with ThreadPoolExecutor(max_workers=min(8, len(bases))) as pool:
        parts = list(pool.map(
            lambda b: _data(client, "/api/v5/public/funding-rate", {"instId": inst_id(b)}), bases))
    return [item for part in parts for item in part]


def snapshot(client: Client, bases: list[str] | None = None) -> list[dict]:
    """All USDT swaps in two bulk calls sent together; per-instrument calls only if ANY is refused."""
    rates, mark_rows = client.parallel(
        (_rates, client, bases),
        (_data, client, "/api/v5/public/mark-price", {"instType": "SWAP"}),
    )
    marks = {m["instId"]: to_float(m.get("markPx")) for m in mark_rows}
    rows = []
    for item in rates:
        symbol = item.get("instId") or ""
        rate = to_float(item.get("fundingRate"))
        this_ms, next_ms = to_ms(item.get("fundingTime")), to_ms(item.get("nextFundingTime"))
        if not symbol.endswith(SUFFIX) or rate is None or not this_ms or not next_ms:
            continue
        hours = (next_ms - this_ms) / 3_600_000
        if hours <= 0:
            continue
        rows.append(row(NAME, symbol, symbol[: -len(SUFFIX)], rate, hours, this_ms, marks.get(symbol)))
    return rows


def _backwards(client: Client, path: str, params: dict, parse_row, start: int, end: int, bar):
    """OKX pages newest first, 100 at a time, with ``after`` = older than this time."""
    rows = collect_pages(
        lambda c: _data(client, path, {**params, "after": c, "limit": 100}),
        parse_row, 100, end + 1, lambda c: c > start, lambda r: before_oldest(r) + 1, bar)
    return sorted({r for r in rows if start <= r[0] <= end})


def funding_history(client: Client, symbol: str, start: int, end: int, bar=None):
    """(time ms, rate) oldest first."""
    return _backwards(client, "/api/v5/public/funding-rate-history", {"instId": inst_id(symbol)},
                      lambda p: (int(p["fundingTime"]), float(p["realizedRate"] or p["fundingRate"])),
                      start, end, bar)


def price_history(client: Client, symbol: str, interval: str, start: int, end: int, bar=None):
    """(time ms, close) oldest first, from history-candles."""
    return _backwards(client, "/api/v5/market/history-candles",
                      {"instId": inst_id(symbol), "bar": BARS[interval]},
                      lambda k: (int(k[0]), float(k[4])), start, end, bar)
