"""BingX perpetual swaps (v2): premiumIndex (all symbols), the contracts' order rules (kept for a day),
open interest, funding and price history.

Errors come as HTTP 200 with ``code != 0``. Symbols read "BTC-USDT"; numbers
arrive as strings; ``fundingIntervalHours`` (hours) is in newer answers only.
"""

from __future__ import annotations

from xlhedge.market.cache import kept_for_a_day
from xlhedge.market.errors import ExchangeError
from xlhedge.market.http import Client, Envelope
from xlhedge.market.parsing import forward_pages, portfolio_symbols, row, split_symbol, to_float, to_ms

NAME = "bingx"
BASE_URL = "https://open-api.bingx.com"  # its public API host (tests: XLHEDGE_BINGX_URL)
SYMBOL_FORMAT = "{}-USDT"
TAKER_FEE = 0.0005  # per trade, fraction of the notional (the Settings fee table's default); source below
FEE_SOURCE = "ccxt 4.5.90 bingx.py: fees.swap.taker; read 2026-11-30"
ENVELOPE = Envelope("code", (0, "0"), "data", "msg")
MIN_INTERVAL = 0.05  # public market endpoints: about 100 requests per 10 s per IP
DEFAULT_INTERVAL_HOURS = 8.0  # answers from before fundingIntervalHours existed: BingX's 8-hour default
KLINE_INTERVALS = {"1h": "1h", "4h": "4h", "1d": "1d"}


def snapshot(client: Client, bases: list[str] | None = None) -> list[dict]:
    """Every perpetual in one request, the order rules of all in another (sent together); open interest
    (one request per symbol) for ``bases`` only."""
    premium, rules = client.parallel(
        (client.data, "/openApi/swap/v2/quote/premiumIndex"),
        (client.side, "order rules", kept_for_a_day, "bingx-order-rules", client.base_url,
         lambda: order_rules(client.data("/openApi/swap/v2/quote/contracts"))),
    )
    rules = rules or {}
    items = []
    for item in premium or []:
        symbol = item.get("symbol") or ""
        rate = to_float(item.get("lastFundingRate"))
        next_ms = to_ms(item.get("nextFundingTime"))
        base, quote = split_symbol(symbol, "-")
        if not symbol or rate is None or not next_ms or not quote:
            continue
        items.append((item, symbol, base, quote, rate, next_ms))
    interest = client.each_side("open interest", _open_interest_usd,
                                  portfolio_symbols([(s, b, q) for _, s, b, q, _, _ in items], bases))
    return [
        row(NAME, symbol, base, rate, to_float(item.get("fundingIntervalHours")) or DEFAULT_INTERVAL_HOURS,
            next_ms, item.get("markPrice"), quote=quote, index=item.get("indexPrice"),
            open_interest_usd=interest.get(symbol), **rules.get(symbol, {}))
        for item, symbol, base, quote, rate, next_ms in items
    ]


def order_rules(contracts) -> dict[str, dict]:
    """symbol -> lot_step (10^-quantityPrecision), min_qty (tradeMinQuantity), min_notional (tradeMinUSDT)
    and max_leverage (maxShortLeverage: the hedge is a short) from /quote/contracts; quantities are in coins
    (a contract is one coin). An answer of another shape is this request's failure, never the exchange's."""
    out = {}
    try:
        for item in contracts or []:
            digits = to_float(item.get("quantityPrecision"))
            out[item.get("symbol")] = {
                "lot_step": 10.0 ** -digits if digits is not None else None,
                "min_qty": to_float(item.get("tradeMinQuantity")),
                "min_notional": to_float(item.get("tradeMinUSDT")),
                "max_leverage": to_float(item.get("maxShortLeverage")) or to_float(item.get("maxLongLeverage"))}
    except (AttributeError, TypeError) as exc:
        raise ExchangeError(NAME, "/openApi/swap/v2/quote/contracts", f"unexpected shape ({type(exc).__name__})") \
            from None
    return out


def _open_interest_usd(client: Client, symbol: str) -> float | None:
    """Open interest of one symbol in USDT (BingX reports the position value)."""
    body = client.data("/openApi/swap/v2/quote/openInterest", {"symbol": symbol}) or {}
    if not isinstance(body, dict):
        raise ExchangeError(NAME, "/openApi/swap/v2/quote/openInterest", f"unexpected shape ({type(body).__name__})")
    return to_float(body.get("openInterest"))


def funding_history(client: Client, symbol: str, start: int, end: int, bar=None):
    """(time ms, rate) oldest first; pages of 1000 forwards from ``start``."""
    return forward_pages(
        lambda c: client.data("/openApi/swap/v2/quote/fundingRate",
                              {"symbol": symbol, "startTime": c, "endTime": end, "limit": 1000}),
        lambda p: (int(p["fundingTime"]), float(p["fundingRate"])),
        1000, start, end, bar)


def price_history(client: Client, symbol: str, interval: str, start: int, end: int, bar=None):
    """(open time ms, open, high, low, close) oldest first; v3 klines, 1440 a page."""
    return forward_pages(
        lambda c: client.data("/openApi/swap/v3/quote/klines",
                              {"symbol": symbol, "interval": KLINE_INTERVALS[interval],
                               "startTime": c, "endTime": end, "limit": 1440}),
        lambda k: (int(k["time"]), *(float(k[f]) for f in ("open", "high", "low", "close"))),
        1440, start, end, bar)
