"""Hyperliquid perpetuals: POST /info metaAndAssetCtxs (all assets), fundingHistory, candles.

Hyperliquid pays funding every hour today, on the hour; in 2023 it paid every
8 hours (tests/fixtures/real/hyperliquid), so history spacing is read from the
timestamps, never assumed. Perpetuals are margined in USDC; "kPEPE" is 1,000 PEPE.
"""

from __future__ import annotations

import time

from xlhedge.engine.margin import MaintenanceTiers
from xlhedge.market.http import Client
from xlhedge.market.parsing import forward_pages, row, to_float

NAME = "hyperliquid"
BASE_URL = "https://api.hyperliquid.xyz"  # its public API host (tests: XLHEDGE_HYPERLIQUID_URL)
SYMBOL_FORMAT = "{}"
TAKER_FEE = 0.00045  # per trade, fraction of the notional (the Settings fee table's default); source below
FEE_SOURCE = "ccxt 4.5.90 hyperliquid.py: fees.swap.taker (base tier); read 2026-11-30"
INTERVAL_HOURS = 1.0
MIN_ORDER_USD = 10.0  # Hyperliquid refuses orders below 10 USD of value (its documented minimum)
HOUR_MS = 3_600_000


def snapshot(client: Client, bases: list[str] | None = None) -> list[dict]:
    """Every listed perpetual in one request; delisted assets are skipped."""
    meta, ctxs = client.post("/info", {"type": "metaAndAssetCtxs"})
    tables = _margin_tables(meta)
    now_ms = int(time.time() * 1000)
    next_ms = (now_ms // HOUR_MS + 1) * HOUR_MS
    rows = []
    texts: dict = {}  # (table id, leverage) -> the tiers' text: many assets share a table, each is made once
    for asset, ctx in zip(meta["universe"], ctxs, strict=True):
        rate = to_float(ctx.get("funding"))
        if asset.get("isDelisted") or rate is None:
            continue
        name = asset["name"]
        decimals = to_float(asset.get("szDecimals"))  # sizes are in coins of the asset, to this many decimals
        rows.append(row(NAME, name, name, rate, INTERVAL_HOURS, next_ms, ctx.get("markPx"), quote="USDC",
                        index=ctx.get("oraclePx"), open_interest=ctx.get("openInterest"), k_prefix=True,
                        lot_step=None if decimals is None else 10.0 ** -decimals,
                        min_qty=None if decimals is None else 10.0 ** -decimals, min_notional=MIN_ORDER_USD,
                        max_leverage=asset.get("maxLeverage"), tiers=_tiers_text(asset, tables, texts)))
    return rows


def maintenance_tiers(client: Client, symbol: str) -> MaintenanceTiers:
    """The asset's margin table as maintenance tiers (:func:`_tiers`)."""
    meta = client.post("/info", {"type": "meta"})
    asset = next((a for a in meta["universe"] if a.get("name") == symbol), None)
    if asset is None:
        raise ValueError(f"hyperliquid lists no {symbol}")
    tiers = _tiers(asset, _margin_tables(meta))
    if tiers is None:
        raise ValueError(f"hyperliquid's answer lacks {symbol}'s margin table {asset.get('marginTableId')}")
    return tiers


def _margin_tables(meta: dict) -> dict:
    return {table_id: table for table_id, table in meta.get("marginTables") or []}


def _tiers_text(asset: dict, tables: dict, texts: dict) -> str | None:
    """:func:`_tiers` as its text, from ``texts`` when an asset with the same table and leverage made it."""
    key = (asset.get("marginTableId"), asset.get("maxLeverage"))
    if key not in texts:
        tiers = _tiers(asset, tables)
        texts[key] = None if tiers is None else tiers.text
    return texts[key]


def _tiers(asset: dict, tables: dict) -> MaintenanceTiers | None:
    """From each tier's ``lowerBound`` (USD of position) the maintenance rate is half the initial margin at the
    tier's ``maxLeverage``, 1 / (2 x maxLeverage), with the continuous amounts. A table id below 50 is not
    listed: it is one tier at that leverage (the asset's ``maxLeverage``). None: a tiered table the answer does
    not carry, or no leverage."""
    table_id = to_float(asset.get("marginTableId"))
    table = tables.get(asset.get("marginTableId"))
    if table:
        tiers = [(float(t["lowerBound"]), float(t["maxLeverage"])) for t in table["marginTiers"]]
    elif (table_id is None or table_id < 50) and to_float(asset.get("maxLeverage")):
        tiers = [(0.0, float(asset["maxLeverage"]))]
    else:
        return None
    return MaintenanceTiers.of([floor for floor, _ in tiers], [1.0 / (2.0 * lev) for _, lev in tiers])


def funding_history(client: Client, symbol: str, start: int, end: int, bar=None):
    """(time ms, rate) oldest first; at most 500 per answer, paged forwards."""
    return forward_pages(
        lambda c: client.post("/info", {"type": "fundingHistory", "coin": symbol, "startTime": c, "endTime": end}),
        lambda p: (int(p["time"]), float(p["fundingRate"])),
        500, start, end, bar)


def price_history(client: Client, symbol: str, interval: str, start: int, end: int, bar=None):
    """(open time ms, open, high, low, close) oldest first; candleSnapshot, paged forwards.

    The first candle of an answer can open before ``start``; the caller trims it.
    """
    return forward_pages(
        lambda c: client.post("/info", {"type": "candleSnapshot", "req": {
            "coin": symbol, "interval": interval, "startTime": c, "endTime": end}}),
        lambda k: (int(k["t"]), *(float(k[f]) for f in "ohlc")),
        500, start, end, bar)
