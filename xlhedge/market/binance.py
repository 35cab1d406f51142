"""Binance USD-M futures: premiumIndex (all symbols), fundingInfo (non-8h intervals), exchangeInfo's order
rules (kept for a day: the answer is large and changes rarely), history; the maintenance tiers are the
brackets shipped with xlhedge (:mod:`xlhedge.market.binance_brackets`: Binance's need a signed request).

Real answers (tests/fixtures/real/binance) list USDC contracts before USDT ones,
BTC-quoted perpetuals (ETHBTC) and dated futures with a zero rate and
``nextFundingTime`` 0; the symbol's suffix says the quote.
"""

from __future__ import annotations

from xlhedge.engine.margin import MaintenanceTiers
from xlhedge.market.cache import kept_for_a_day
from xlhedge.market.errors import ExchangeError
from xlhedge.market.http import Client
from xlhedge.market.parsing import forward_pages, portfolio_symbols, row, split_symbol, to_float, to_ms

NAME = "binance"
BASE_URL = "https://fapi.binance.com"  # its public API host (tests: XLHEDGE_BINANCE_URL)
SYMBOL_FORMAT = "{}USDT"
TAKER_FEE = 0.0005  # per trade, fraction of the notional (the Settings fee table's default); source below
FEE_SOURCE = "ccxt 4.5.90 binance.py: fees.linear.trading.taker (VIP 0); read 2026-11-30"
DEFAULT_INTERVAL_HOURS = 8.0  # fundingInfo lists only the symbols that differ from this
KLINE_INTERVALS = {"1h": "1h", "4h": "4h", "1d": "1d"}


def snapshot(client: Client, bases: list[str] | None = None) -> list[dict]:
    """Every USD-M perpetual with a funding rate: two bulk requests, sent together.

    Open interest costs one request per symbol, so it is fetched only for the
    USDT and USDC contracts of ``bases`` (empty otherwise).
    """
    from xlhedge.market.binance_brackets import shipped_brackets  # here, so `python -m` that module runs clean

    premium, info, rules = client.parallel(
        (client.get, "/fapi/v1/premiumIndex"),
        (client.side, "funding intervals", client.get, "/fapi/v1/fundingInfo"),
        (client.side, "order rules", kept_for_a_day, "binance-order-rules", client.base_url,
         lambda: order_rules(client.get("/fapi/v1/exchangeInfo"))),
    )
    rules = rules or {}
    intervals = {
        item["symbol"]: float(item["fundingIntervalHours"])
        for item in info or []
        if to_float(item.get("fundingIntervalHours"))
    }
    # fundingInfo lists only the symbols that differ from 8 h: without it no interval is known
    default_hours = DEFAULT_INTERVAL_HOURS if info is not None else float("nan")
    items = []
    for item in premium:
        symbol = item.get("symbol") or ""
        rate = to_float(item.get("lastFundingRate"))
        next_ms = to_ms(item.get("nextFundingTime"))
        base, quote = split_symbol(symbol)
        # dated futures ("BTCUSDT_250328") carry rate 0 and nextFundingTime 0: no funding
        if not symbol or rate is None or "_" in symbol or not quote or str(item.get("nextFundingTime")) == "0":
            continue
        items.append((item, symbol, base, quote, rate, next_ms))
    open_interest = client.each_side("open interest", _open_interest,
                                  portfolio_symbols([(s, b, q) for _, s, b, q, _, _ in items], bases))
    return [
        row(NAME, symbol, base, rate, intervals.get(symbol, default_hours), next_ms,
            item.get("markPrice"), quote=quote, index=item.get("indexPrice"),
            open_interest=open_interest.get(symbol), tiers=shipped_brackets(symbol), **rules.get(symbol, {}))
        for item, symbol, base, quote, rate, next_ms in items
    ]


def order_rules(info: dict) -> dict[str, dict]:
    """symbol -> lot_step, min_qty (coins: a contract is one coin) and min_notional (USD) from exchangeInfo's
    filters; a market order (how a hedge is opened) follows MARKET_LOT_SIZE where it is given. Leverage
    brackets need a signed request: not here. An answer of another shape is this request's failure (the
    rows stay, without their rules), never the exchange's."""
    out = {}
    try:
        for item in info.get("symbols") or []:
            filters = {f.get("filterType"): f for f in item.get("filters") or []}
            lots = filters.get("MARKET_LOT_SIZE") or filters.get("LOT_SIZE") or {}
            out[item.get("symbol")] = {"lot_step": to_float(lots.get("stepSize")),
                                       "min_qty": to_float(lots.get("minQty")),
                                       "min_notional": to_float((filters.get("MIN_NOTIONAL") or {}).get("notional"))}
    except (AttributeError, TypeError) as exc:
        raise ExchangeError(NAME, "/fapi/v1/exchangeInfo", f"unexpected shape ({type(exc).__name__})") from None
    return out


def maintenance_tiers(client: Client, symbol: str) -> MaintenanceTiers:
    """The symbol's brackets as shipped (no request: Binance's need a signed one)."""
    from xlhedge.market.binance_brackets import shipped_brackets

    text = shipped_brackets(symbol)
    if text is None:
        raise ValueError(f"xlhedge ships no binance brackets for {symbol}")
    return MaintenanceTiers.parse(text)


def tiers_said() -> str:
    """Whose tiers :func:`maintenance_tiers` gives, for a backtest's notes."""
    from xlhedge.market.binance_brackets import shipped

    return f"the Binance brackets shipped with xlhedge (as of {shipped()['as_of']})"


def _open_interest(client: Client, symbol: str) -> float | None:
    """Open interest of one symbol in its base units."""
    body = client.get("/fapi/v1/openInterest", {"symbol": symbol})
    if not isinstance(body, dict):
        raise ExchangeError(NAME, "/fapi/v1/openInterest", f"unexpected shape ({type(body).__name__})")
    return to_float(body.get("openInterest"))


def funding_history(client: Client, symbol: str, start: int, end: int, bar=None) -> list[tuple]:
    """(time ms, rate) oldest first; pages of 1000 forwards from ``start``."""
    return forward_pages(
        lambda c: client.get("/fapi/v1/fundingRate",
                             {"symbol": symbol, "startTime": c, "endTime": end, "limit": 1000}),
        lambda p: (int(p["fundingTime"]), float(p["fundingRate"])),
        1000, start, end, bar)


def price_history(client: Client, symbol: str, interval: str, start: int, end: int, bar=None):
    """(open time ms, open, high, low, close) oldest first; klines in pages of 1500 ([open time, open, high, low,
    close, ...])."""
    return forward_pages(
        lambda c: client.get("/fapi/v1/klines", {"symbol": symbol, "interval": KLINE_INTERVALS[interval],
                                                 "startTime": c, "endTime": end, "limit": 1500}),
        lambda k: (int(k[0]), *map(float, k[1:5])),
        1500, start, end, bar)


def index_history(client: Client, symbol: str, interval: str, start: int, end: int, bar=None):
    """(open time ms, close) of the index (the spot basket the mark price follows) oldest first;
    indexPriceKlines takes the pair ("BTCUSDT") and answers rows shaped like klines."""
    return forward_pages(
        lambda c: client.get("/fapi/v1/indexPriceKlines", {"pair": symbol, "interval": KLINE_INTERVALS[interval],
                                                           "startTime": c, "endTime": end, "limit": 1500}),
        lambda k: (int(k[0]), float(k[4])),
        1500, start, end, bar)


def open_interest_history(client: Client, symbol: str, start: int, end: int, bar=None) -> list[tuple]:
    """(time ms, open interest in coins) oldest first, one row a day; Binance keeps only the last
    30 days. Real answers carry ``timestamp`` as a number (the docs show a string) and values as strings."""
    rows = client.get("/futures/data/openInterestHist",
                      {"symbol": symbol, "period": "1d", "startTime": start, "endTime": end, "limit": 500})
    if bar is not None:
        bar.update(len(rows))
    return sorted((int(r["timestamp"]), float(r["sumOpenInterest"])) for r in rows)
