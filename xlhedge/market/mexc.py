"""MEXC futures: funding_rate and ticker (all contracts), contract details (kept for a day), history.

Answers wrap data as ``{"success": true, "code": 0, "data": ...}``; numbers are
JSON numbers; ``collectCycle`` is the interval in hours; open interest
(``holdVol``) is in contracts of ``contractSize`` coins; kline times are in
**seconds** (converted here). Funding history pages by number, newest first,
with no time filter. Limit: about 20 requests per 2 s per endpoint.
"""

from __future__ import annotations

from xlhedge.engine.margin import MaintenanceTiers
from xlhedge.market.cache import RULES_MAX_AGE_HOURS
from xlhedge.market.http import Client, Envelope
from xlhedge.market.parsing import (
    CANDLE,
    INVERSE,
    LINEAR,
    kept_specifications,
    page_guard,
    row,
    split_symbol,
    tiers_in_contracts,
    to_float,
    to_ms,
    with_new_listings,
)

NAME = "mexc"
BASE_URL = "https://contract.mexc.com"  # its public API host (tests: XLHEDGE_MEXC_URL)
SYMBOL_FORMAT = "{}_USDT"
TAKER_FEE = 0.0004  # per trade, fraction of the notional (the Settings fee table's default); source below
FEE_SOURCE = "MEXC contract/detail: BTC_USDT's takerFeeRate (tests/fixtures/real/mexc)"
ENVELOPE = Envelope("code", (0, "0"), "data", "message")
MIN_INTERVAL = 0.1
KLINE_INTERVALS = {"1h": ("Min60", 3600), "4h": ("Hour4", 14400), "1d": ("Day1", 86400)}
KLINE_PAGE = 2000
HISTORY_PAGE = 100


def snapshot(client: Client, bases: list[str] | None = None) -> list[dict]:
    """Every contract: funding and tickers in two bulk requests sent together, with the contracts' details
    (kept for a day).

    The funding answer alone carries rate, interval, next time, mark and index: when the detail or
    ticker request fails, the rows stay and lack contract size / open interest (see ``Client.side``).
    """
    rates, detail, tickers = client.parallel(
        (client.data, "/api/v1/contract/funding_rate"),
        (client.side, "contract sizes", _details, client),
        (client.side, "open interest", client.data, "/api/v1/contract/ticker"),
    )
    detail = with_new_listings(client, "contract sizes", detail or {}, (item.get("symbol") for item in rates or []),
                               lambda hours: _details(client, hours))
    ticker = {t.get("symbol"): t for t in tickers or []}
    rows = []
    for item in rates or []:
        symbol = item.get("symbol") or ""
        rate = to_float(item.get("fundingRate"))
        hours = to_float(item.get("collectCycle"))
        next_ms = to_ms(item.get("nextSettleTime"))
        base, quote = split_symbol(symbol, "_")
        if not symbol or rate is None or not hours or not next_ms or not quote:
            continue
        spec, tick = detail.get(symbol, {}), ticker.get(symbol, {})
        settle = str(spec.get("settleCoin") or ("" if spec else quote)).upper()  # no detail: BTC_USD is inverse
        margin = INVERSE if settle in (base.upper(), "USD") else LINEAR
        size = to_float(spec.get("contractSize"))
        mark = item.get("fairPrice", tick.get("fairPrice"))
        held = to_float(tick.get("holdVol"))
        in_units = held * size if held is not None and size else None  # coins (linear) or USD (inverse)
        rows.append(row(NAME, symbol, base, rate, hours, next_ms, mark, quote=quote, margin=margin,
                        contract_size=size, index=item.get("idxPrice", tick.get("indexPrice")),
                        open_interest=in_units if margin == LINEAR else None,
                        open_interest_usd=in_units if margin == INVERSE else None, lot_step=spec.get("volUnit"),
                        min_qty=spec.get("minVol"), max_leverage=spec.get("maxLeverage"),
                        tiers=risk_tiers(spec, to_float(mark)) if margin == LINEAR else None))
    return rows


#: What the rows use of a contract's detail: margin, size, order rules and risk levels.
DETAIL_FIELDS = ("settleCoin", "contractSize", "volUnit", "minVol", "maxLeverage", "riskLimitType", "riskBaseVol",
                 "riskIncrVol", "riskLevelLimit", "maintenanceMarginRate", "riskIncrMmr")


def _details(client: Client, max_age_hours: float = RULES_MAX_AGE_HOURS) -> dict[str, dict]:
    """symbol -> the contract's detail as the rows use it (:data:`DETAIL_FIELDS`), kept for a day
    (``max_age_hours``: sooner)."""
    return kept_specifications(client, "mexc-contract-details", "/api/v1/contract/detail", None, "symbol",
                               DETAIL_FIELDS, max_age_hours)


def risk_tiers(spec: dict, mark: float | None) -> MaintenanceTiers | None:
    """The contract's risk levels as maintenance tiers, from its detail (no extra request).

    MEXC limits by volume: level 1 holds up to ``riskBaseVol`` contracts at ``maintenanceMarginRate``; each
    further level holds ``riskIncrVol`` more at ``riskIncrMmr`` more, up to ``riskLevelLimit`` levels
    (:func:`~xlhedge.market.parsing.tiers_in_contracts`: USD at the mark, the rate on the whole position; MEXC
    publishes no deduction). None: a detail without these fields, or limits by value."""
    base, step, levels = (to_float(spec.get(k)) for k in ("riskBaseVol", "riskIncrVol", "riskLevelLimit"))
    rate, rise, size = (to_float(spec.get(k)) for k in ("maintenanceMarginRate", "riskIncrMmr", "contractSize"))
    if str(spec.get("riskLimitType") or "BY_VOLUME") != "BY_VOLUME" or None in (base, step, levels, rate):
        return None
    count = max(1, int(levels)) if step and rise else 1
    return tiers_in_contracts([0.0, *(base + k * step for k in range(count - 1))],
                              [rate + k * (rise or 0.0) for k in range(count)], size, mark)


def funding_history(client: Client, symbol: str, start: int, end: int, bar=None):
    """(time ms, rate) oldest first; pages newest first until one reaches back past ``start``."""
    rows, page_num = [], 1
    while True:
        page = client.data("/api/v1/contract/funding_rate/history",
                           {"symbol": symbol, "page_num": page_num, "page_size": HISTORY_PAGE}) or {}
        items = page.get("resultList") or []
        got = [(int(p["settleTime"]), float(p["fundingRate"])) for p in items]
        rows += got
        if bar is not None:
            bar.update(len(items))
        total = int(page.get("totalPage") or 0)
        if not got or page_num >= total or min(t for t, _ in got) < start:
            break
        page_num += 1
        page_guard(page_num)
    return sorted({r for r in rows if start <= r[0] <= end})


def price_history(client: Client, symbol: str, interval: str, start: int, end: int, bar=None):
    """(open time ms, open, high, low, close) oldest first; kline answers are columns with times in seconds."""
    return _klines(client, f"/api/v1/contract/kline/{symbol}", CANDLE, interval, start, end, bar)


def index_history(client: Client, symbol: str, interval: str, start: int, end: int, bar=None):
    """(open time ms, close) of the index oldest first (kline/index_price: the same columns as kline)."""
    return _klines(client, f"/api/v1/contract/kline/index_price/{symbol}", ("close",), interval, start, end, bar)


def _klines(client: Client, path: str, values: tuple, interval: str, start: int, end: int, bar):
    """(open time ms, *values) oldest first, windows of KLINE_PAGE candles forwards from ``start``."""
    name, step = KLINE_INTERVALS[interval]
    rows, cursor, pages = [], start // 1000, 0
    while cursor <= end // 1000:
        data = client.data(path, {"interval": name, "start": cursor,
                                  "end": min(end // 1000, cursor + step * KLINE_PAGE)})
        columns = [(data or {}).get(key) or [] for key in ("time", *values)]
        got = [(int(t) * 1000, *map(float, v)) for t, *v in zip(*columns, strict=True)]
        rows += got
        if bar is not None:
            bar.update(len(got))
        pages += 1
        page_guard(pages)
        if got:
            cursor = max(cursor, max(row[0] for row in got) // 1000) + step
        else:  # an empty window (before the listing): go on to the next one
            cursor += step * (KLINE_PAGE + 1)
    return sorted(set(rows))
