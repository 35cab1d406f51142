"""Bybit v5 linear contracts: tickers (all symbols), instruments-info (identity, intervals), history.

Bybit reports errors as HTTP 200 with ``retCode != 0``. The ticker carries
index price and open interest in USD; instruments-info says which contracts
are perpetuals, their base and quote coins (USDC perpetuals are named
"BTCPERP") and the funding interval in minutes.
"""

from __future__ import annotations

from xlhedge.engine.margin import MaintenanceTiers
from xlhedge.market.cache import kept_for_a_day
from xlhedge.market.http import Client, Envelope
from xlhedge.market.parsing import before_oldest, collect_pages, page_guard, row, split_symbol, to_float, to_ms

NAME = "bybit"
BASE_URL = "https://api.bybit.com"  # its public API host (tests: XLHEDGE_BYBIT_URL)
SYMBOL_FORMAT = "{}USDT"
TAKER_FEE = 0.00055  # per trade, fraction of the notional (the Settings fee table's default); source below
FEE_SOURCE = "ccxt 4.5.90 bybit.py: a linear BTCUSDT execution's feeRate; read 2026-11-30"
ENVELOPE = Envelope("retCode", (0,), "result", "retMsg")
KLINE_INTERVALS = {"1h": "60", "4h": "240", "1d": "D"}


def _listed(client: Client, path: str, params: dict):
    """Every item of a linear listing, following ``nextPageCursor`` page after page."""
    cursor, pages = "", 0
    while True:
        page = client.data(path, {"category": "linear", **params, **({"cursor": cursor} if cursor else {})})
        pages += 1
        page_guard(pages, 100)
        yield from page["list"]
        cursor = page.get("nextPageCursor") or ""
        if not cursor:
            return


def _instruments(client: Client) -> dict[str, dict]:
    """Every linear instrument, 1,000 a page."""
    return {item["symbol"]: item for item in _listed(client, "/v5/market/instruments-info", {"limit": 1000})}


def snapshot(client: Client, bases: list[str] | None = None) -> list[dict]:
    """Linear perpetuals with a funding rate: tickers, instruments-info (paged) and the risk limits (paged, kept
    for a day), sent together."""
    tickers, instruments, limits = client.parallel(
        (lambda: client.data("/v5/market/tickers", {"category": "linear"})["list"],),
        (client.side, "instrument details", _instruments, client),
        (client.side, "risk limits", kept_for_a_day, "bybit-risk-limits", client.base_url,
         lambda: risk_limits(client)),
    )
    instruments, limits = instruments or {}, limits or {}  # without them each row comes from its ticker alone
    rows = []
    for item in tickers:
        symbol = item.get("symbol") or ""
        rate = to_float(item.get("fundingRate"))
        # a contract listed between the two answers has no instrument yet: its ticker says enough
        inst = instruments.get(symbol) or _from_ticker(item)
        if not symbol or rate is None or inst is None:
            continue
        if inst.get("contractType", "LinearPerpetual") != "LinearPerpetual":
            continue
        minutes = to_float(inst.get("fundingInterval"))
        hours = minutes / 60.0 if minutes else to_float(item.get("fundingIntervalHour"))
        if not hours:
            continue
        lots, leverage = inst.get("lotSizeFilter") or {}, inst.get("leverageFilter") or {}
        rows.append(
            row(NAME, symbol, inst.get("baseCoin") or symbol, rate, hours, to_ms(item.get("nextFundingTime")),
                item.get("markPrice"), quote=inst.get("quoteCoin") or "", index=item.get("indexPrice"),
                open_interest_usd=to_float(item.get("openInterestValue")), lot_step=lots.get("qtyStep"),
                min_qty=lots.get("minOrderQty"), min_notional=lots.get("minNotionalValue"),
                max_leverage=leverage.get("maxLeverage"),
                tiers=limits.get(symbol) or None)  # the text risk_limits made (kept for a day)
        )
    return rows


def _from_ticker(item: dict) -> dict | None:
    """Identity of a perpetual from its ticker alone (newer tickers carry ``fundingIntervalHour``)."""
    base, quote = split_symbol(item.get("symbol") or "")
    if not quote or not to_float(item.get("fundingIntervalHour")):
        return None
    return {"baseCoin": base, "quoteCoin": quote}


def funding_history(client: Client, symbol: str, start: int, end: int, bar=None):
    """(time ms, rate) oldest first; Bybit pages newest first, 200 at a time."""
    rows = collect_pages(
        lambda c: client.data("/v5/market/funding/history",
                              {"category": "linear", "symbol": symbol, "startTime": start,
                               "endTime": c, "limit": 200})["list"],
        lambda p: (int(p["fundingRateTimestamp"]), float(p["fundingRate"])),
        200, end, lambda c: c >= start, before_oldest, bar)
    return sorted(set(rows))


def price_history(client: Client, symbol: str, interval: str, start: int, end: int, bar=None):
    """(start time ms, open, high, low, close) oldest first; klines newest first, 1000 a page ([start, open, high,
    low, close, ...])."""
    rows = collect_pages(
        lambda c: client.data("/v5/market/kline",
                              {"category": "linear", "symbol": symbol, "interval": KLINE_INTERVALS[interval],
                               "start": start, "end": c, "limit": 1000})["list"],
        lambda k: (int(k[0]), *map(float, k[1:5])),
        1000, end, lambda c: c >= start, before_oldest, bar)
    return sorted(set(rows))


def index_history(client: Client, symbol: str, interval: str, start: int, end: int, bar=None):
    """(start time ms, close) of the index oldest first; index-price-kline rows are [start, open, high,
    low, close], newest first, 1000 a page."""
    rows = collect_pages(
        lambda c: client.data("/v5/market/index-price-kline",
                              {"category": "linear", "symbol": symbol, "interval": KLINE_INTERVALS[interval],
                               "start": start, "end": c, "limit": 1000})["list"],
        lambda k: (int(k[0]), float(k[4])),
        1000, end, lambda c: c >= start, before_oldest, bar)
    return sorted(set(rows))


def maintenance_tiers(client: Client, symbol: str) -> MaintenanceTiers:
    """The contract's risk limits as maintenance tiers (:func:`_tiers`)."""
    rows = [r for r in client.data("/v5/market/risk-limit", {"category": "linear", "symbol": symbol})["list"]
            if r.get("symbol", symbol) == symbol]
    return _tiers(rows)


def risk_limits(client: Client) -> dict[str, str]:
    """symbol -> the tiers' text (:attr:`MaintenanceTiers.text`) of every linear contract: risk-limit without a
    symbol, following ``nextPageCursor``. A contract whose tiers do not make a table is left out."""
    by_symbol: dict[str, list] = {}
    for item in _listed(client, "/v5/market/risk-limit", {}):
        by_symbol.setdefault(item.get("symbol") or "", []).append(item)
    out = {}
    for symbol, rows in by_symbol.items():
        try:
            out[symbol] = _tiers(rows).text
        except (ValueError, KeyError, TypeError):
            continue
    return out


def _tiers(rows: list[dict]) -> MaintenanceTiers:
    """Risk limits as maintenance tiers: each tier runs up to its ``riskLimitValue`` (USD of position) at its
    ``maintenanceMargin`` rate, less ``mmDeduction`` where the answer has it (else the continuous amounts).
    Tiers are sorted by their limit: answers do not list them in order."""
    rows = sorted(rows, key=lambda r: float(r["riskLimitValue"]))
    caps = [float(r["riskLimitValue"]) for r in rows]
    deductions = [to_float(r.get("mmDeduction")) for r in rows]
    return MaintenanceTiers.of([0.0, *caps[:-1]], [float(r["maintenanceMargin"]) for r in rows],
                               None if None in deductions else deductions)


def open_interest_history(client: Client, symbol: str, start: int, end: int, bar=None) -> list[tuple]:
    """(time ms, open interest in coins) oldest first, one row a day; pages come newest first."""
    rows = collect_pages(
        lambda c: client.data("/v5/market/open-interest",
                              {"category": "linear", "symbol": symbol, "intervalTime": "1d", "startTime": start,
                               "endTime": c, "limit": 200})["list"],
        lambda p: (int(p["timestamp"]), float(p["openInterest"])),
        200, end, lambda c: c >= start, before_oldest, bar)
    return sorted(set(rows))
