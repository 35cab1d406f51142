"""Hyperliquid perpetuals: POST /info metaAndAssetCtxs (all assets), fundingHistory, candles.

Hyperliquid pays funding every hour, on the hour.
"""

from __future__ import annotations

import time

from xlhedge.market.http import Client
from xlhedge.market.parsing import page_guard, row, to_float

NAME = "hyperliquid"
INTERVAL_HOURS = 1.0
HOUR_MS = 3_600_000


def snapshot(client: Client) -> list[dict]:
    """Every listed perpetual in one request; delisted assets are skipped."""
    meta, ctxs = client.post("/info", {"type": "metaAndAssetCtxs"})
    now_ms = int(time.time() * 1000)
    next_ms = (now_ms // HOUR_MS + 1) * HOUR_MS
    rows = []
    for asset, ctx in zip(meta["universe"], ctxs, strict=True):
        rate = to_float(ctx.get("funding"))
        if asset.get("isDelisted") or rate is None:
            continue
        name = asset["name"]
        rows.append(row(NAME, name, name, rate, INTERVAL_HOURS, next_ms, to_float(ctx.get("markPx"))))
    return rows


def funding_history(client: Client, symbol: str, start: int, end: int, bar=None):
    """(time ms, rate) oldest first; at most 500 per answer, paged forwards."""
    out, cursor, pages = [], start, 0
    while cursor <= end:
        page = client.post("/info", {"type": "fundingHistory", "coin": symbol,
                                     "startTime": cursor, "endTime": end})
        pages += 1
        page_guard(pages)
        if not page:
            break
        out += [(int(p["time"]), float(p["fundingRate"])) for p in page]
        if bar is not None:
            bar.update(len(page))
        if len(page) < 500:
            break
        cursor = int(page[-1]["time"]) + 1
    return out


def price_history(client: Client, symbol: str, interval: str, start: int, end: int, bar=None):
    """(open time ms, close) oldest first; candleSnapshot, paged forwards."""
    out, cursor, pages = [], start, 0
    while cursor <= end:
        page = client.post("/info", {"type": "candleSnapshot", "req": {
            "coin": symbol, "interval": interval, "startTime": cursor, "endTime": end}})
        pages += 1
        page_guard(pages)
        if not page:
            break
        out += [(int(c["t"]), float(c["c"])) for c in page]
        if bar is not None:
            bar.update(len(page))
        if len(page) < 500:
            break
        cursor = int(page[-1]["t"]) + 1
    return out
