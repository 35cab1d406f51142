"""WEEX futures, API v3: premiumIndex (all symbols), open interest, funding and price history.

v3 answers are bare JSON (a list or an object), Binance-like; errors carry
``code`` and ``msg``. ``collectCycle`` is the interval in **minutes** (480 =
8 h); ``forecastFundingRate`` is the predicted next rate. The older v2 API
(``cmt_btcusdt`` symbols) is not used: its symbols and fields differ.
"""

from __future__ import annotations

from xlhedge.market.errors import ExchangeError
from xlhedge.market.http import Client
from xlhedge.market.parsing import forward_pages, portfolio_symbols, row, split_symbol, to_float, to_ms

NAME = "weex"
BASE_URL = "https://api-contract.weex.com"  # its public API host (tests: XLHEDGE_WEEX_URL)
SYMBOL_FORMAT = "{}USDT"
TAKER_FEE = 0.0008  # per trade, fraction of the notional (the Settings fee table's default); source below
FEE_SOURCE = "ccxt 4.5.90 weex.py: fees.contract.taker, 0.08 in percent; read 2026-11-30"
MIN_INTERVAL = 0.05
KLINE_INTERVALS = {"1h": "1h", "4h": "4h", "1d": "1d"}
HISTORY_KLINES_LIMIT = 100  # historyKlines answers at most 100 candles


def _bare(client: Client, path: str, params: dict | None = None, kind=list):
    """A v3 answer of the expected type; an error object becomes an ExchangeError."""
    body = client.get(path, params)
    if isinstance(body, dict) and "code" in body and kind is list:
        raise ExchangeError(NAME, path, f"code {body.get('code')}: {str(body.get('msg', ''))[:60]}")
    if not isinstance(body, kind):
        raise ExchangeError(NAME, path, f"unexpected shape ({type(body).__name__})")
    return body


def snapshot(client: Client, bases: list[str] | None = None) -> list[dict]:
    """Every perpetual in one request; open interest (one request per symbol) for ``bases`` only."""
    items = []
    for item in _bare(client, "/capi/v3/market/premiumIndex"):
        symbol = item.get("symbol") or ""
        rate = to_float(item.get("lastFundingRate"))
        minutes = to_float(item.get("collectCycle"))
        next_ms = to_ms(item.get("nextFundingTime"))
        base, quote = split_symbol(symbol)
        if not symbol or rate is None or not minutes or not next_ms or not quote:
            continue
        items.append((item, symbol, base, quote, rate, minutes, next_ms))
    interest = client.each_side("open interest", _open_interest,
                                  portfolio_symbols([(s, b, q) for _, s, b, q, *_ in items], bases))
    return [
        row(NAME, symbol, base, rate, minutes / 60.0, next_ms, item.get("markPrice"), quote=quote,
            index=item.get("indexPrice"), predicted_rate=item.get("forecastFundingRate"),
            open_interest=interest.get(symbol))
        for item, symbol, base, quote, rate, minutes, next_ms in items
    ]


def _open_interest(client: Client, symbol: str) -> float | None:
    """Open interest of one symbol in coins."""
    return to_float(_bare(client, "/capi/v3/market/openInterest", {"symbol": symbol}, dict).get("openInterest"))


def funding_history(client: Client, symbol: str, start: int, end: int, bar=None):
    """(time ms, rate) oldest first; pages of 1000 forwards from ``start``."""
    return forward_pages(
        lambda c: _bare(client, "/capi/v3/market/fundingRate",
                        {"symbol": symbol, "startTime": c, "endTime": end, "limit": 1000}),
        lambda p: (int(p["fundingTime"]), float(p["fundingRate"])),
        1000, start, end, bar)


def price_history(client: Client, symbol: str, interval: str, start: int, end: int, bar=None):
    """(open time ms, open, high, low, close) oldest first; historyKlines, 100 a page, Binance-style rows."""
    return forward_pages(
        lambda c: _bare(client, "/capi/v3/market/historyKlines",
                        {"symbol": symbol, "interval": KLINE_INTERVALS[interval], "startTime": c,
                         "endTime": end, "limit": HISTORY_KLINES_LIMIT}),
        lambda k: (int(k[0]), *map(float, k[1:5])),
        HISTORY_KLINES_LIMIT, start, end, bar)
