"""Helpers to read exchange answers: string-typed numbers, empty fields, contract identity.

Every adapter turns one contract into one row with :func:`row`, which is where
the shared rules live: prices per coin (scaled bases such as 1000PEPE or kPEPE
are divided by their multiplier), the basis, open interest in USD.
"""

from __future__ import annotations

import functools
import math
import re

from xlhedge.engine.margin import MaintenanceTiers
from xlhedge.market.cache import NEW_LISTING_HOURS, RULES_MAX_AGE_HOURS, kept_for_a_day
from xlhedge.market.errors import ExchangeError

#: Quote assets recognised at the end of a concatenated symbol ("ETHBTC" -> ETH / BTC).
QUOTES = ("USDT", "USDC", "FDUSD", "BUSD", "USD1", "USD", "BTC", "ETH")
#: Scaled-base prefixes: "1000PEPE" is 1,000 PEPE, "1MBABYDOGE" 1,000,000 BABYDOGE.
SCALE_PREFIXES = (("1000000", 1_000_000), ("100000", 100_000), ("10000", 10_000), ("1000", 1_000),
                  ("1M", 1_000_000))
LINEAR, INVERSE = "linear", "inverse"


#: The prices of a candle, in the order the adapters give them after its time (USD per exchange unit).
CANDLE = ("open", "high", "low", "close")


def to_float(value) -> float | None:
    """A number from an exchange field ("0.0001", 0.0001, 6.2e-05); None for "", None or junk."""
    kind = type(value)  # the common cases first (called about 15 times per contract): text, then a float
    if kind is str:
        try:
            num = float(value)
        except ValueError:
            return None
    elif kind is float:
        num = value
    elif value is None or kind is bool:
        return None
    else:
        try:
            num = float(value)
        except (TypeError, ValueError):
            return None
    return num if math.isfinite(num) else None


def to_ms(value) -> int | None:
    """Epoch milliseconds from an int or a numeric string; None when absent or zero."""
    num = to_float(value)
    return int(num) if num else None


def split_symbol(symbol: str, separator: str = "") -> tuple[str, str]:
    """(base, quote) of a symbol: "ETHBTC" -> ("ETH", "BTC"), "BTC-USDT" with "-" -> ("BTC", "USDT").

    A symbol without a known quote keeps its whole text as the base and an empty quote.
    """
    text = symbol.strip()
    if separator and separator in text:
        base, _, quote = text.partition(separator)
        return base, quote
    for quote in QUOTES:
        if text.endswith(quote) and len(text) > len(quote):
            return text[: -len(quote)], quote
    return text, ""


def base_of(symbol: str) -> str:
    """Base asset of a concatenated linear symbol: "BTCUSDT" -> "BTC", "1000PEPEUSDC" -> "1000PEPE"."""
    return split_symbol(symbol)[0]


_K_PREFIX = re.compile(r"^k[A-Z0-9]")


@functools.lru_cache(maxsize=8192)  # the same few thousand bases on every refresh
def unscale(base: str, k_prefix: bool = False) -> tuple[str, float]:
    """(coin, coins per unit) of a possibly scaled base.

    "1000PEPE" -> ("PEPE", 1000); "1MBABYDOGE" -> ("BABYDOGE", 1e6); with ``k_prefix``
    (Hyperliquid), "kPEPE" -> ("PEPE", 1000). "1INCH" and "2Z" are coins, not scaled.
    """
    if k_prefix and _K_PREFIX.match(base):
        return base[1:], 1000.0
    for prefix, factor in SCALE_PREFIXES:
        rest = base[len(prefix):]
        if base.startswith(prefix) and rest[:1].isalpha():
            return rest, float(factor)
    return base, 1.0


#: Per-symbol requests a snapshot may make (open interest where no bulk endpoint has it).
MAX_PER_SYMBOL_CALLS = 20


def portfolio_symbols(contracts, bases: list[str] | None, quotes=("USDT", "USDC")) -> list[str]:
    """Symbols among ``contracts`` [(symbol, base, quote)] whose coin is in ``bases`` (the portfolio).

    A field that costs one request per symbol is fetched for these only; none without a portfolio.
    """
    if not bases:
        return []
    return [symbol for symbol, base, quote in contracts
            if unscale(base)[0] in bases and (not quotes or quote in quotes)][:MAX_PER_SYMBOL_CALLS]


def kept_specifications(client, name: str, path: str, params: dict | None, key: str, fields: tuple[str, ...],
                        max_age_hours: float = RULES_MAX_AGE_HOURS) -> dict[str, dict]:
    """``item[key]`` -> the ``fields`` the rows use of each item of a list answer (an exchange's instruments),
    kept for a day as ``name`` (``max_age_hours``: sooner); an item that is not an object is the answer's
    failure."""
    def fetch():
        specs = {}
        for item in client.data(path, params) or []:
            if not isinstance(item, dict):
                raise ExchangeError(client.exchange, path, f"unexpected shape ({type(item).__name__})")
            if item.get(key):
                specs[item[key]] = {k: item[k] for k in fields if k in item}
        return specs

    return kept_for_a_day(name, client.base_url, fetch, max_age_hours)


def with_new_listings(client, what: str, specs: dict, listed, ask_again) -> dict:
    """``specs`` (kept), or ``ask_again(NEW_LISTING_HOURS)``'s when a contract ``listed`` lacks one: a listing
    since they were kept (asked at most that often; a failure keeps ``specs``, said as ``what``)."""
    if specs and any(symbol not in specs for symbol in listed):
        return client.side(what, ask_again, NEW_LISTING_HOURS) or specs
    return specs


def row(exchange: str, symbol: str, base: str, rate, interval_hours, next_ms, mark, *,
        quote: str, margin: str = LINEAR, contract_size=1.0, index=None, open_interest=None,
        open_interest_usd=None, predicted_rate=None, k_prefix: bool = False, lot_step=None, min_qty=None,
        min_notional=None, max_leverage=None, tiers=None) -> dict:
    """One snapshot row; prices come in per exchange unit and leave per coin.

    Parameters
    ----------
    base : str
        The exchange's base ("1000PEPE", "kPEPE", "BTC"); the row keeps the coin ("PEPE").
    rate, predicted_rate : float
        Funding per interval as published (fraction); predicted = the exchange's forecast.
    mark, index : float
        Prices per exchange unit in the quote currency.
    contract_size : float
        Exchange units per contract (linear) or USD face value (inverse).
    open_interest : float, optional
        Open interest in exchange units (coins of ``base``, contracts x size already
        applied); valued at the mark when ``open_interest_usd`` is not given.
    lot_step, min_qty : float, optional
        The order size's step and minimum, in contracts (None: not published here).
    min_notional : float, optional
        The smallest order the venue accepts, USD notional.
    max_leverage : float, optional
        The highest leverage of the first tier.
    tiers : MaintenanceTiers or str, optional
        The maintenance-margin tiers, kept as their text (a text is kept as it is: it was made by
        :attr:`MaintenanceTiers.text`); None: not published here.
    """
    coin, multiplier = unscale(str(base) if k_prefix else str(base).upper(), k_prefix)
    coin = coin.upper()
    mark = to_float(mark)
    index = to_float(index)
    size = to_float(contract_size)
    if open_interest_usd is None and open_interest is not None and mark is not None:
        oi = to_float(open_interest)
        open_interest_usd = None if oi is None else oi * mark
    basis = mark / index - 1.0 if mark is not None and index else None
    return {
        "exchange": exchange,
        "symbol": str(symbol),
        "base": coin,
        "quote": str(quote).upper(),
        "margin": margin,
        "contract_size": None if size is None else (size * multiplier if margin == LINEAR else size),
        "multiplier": multiplier,
        "funding_rate": rate,
        "interval_hours": float(interval_hours),
        "next_funding_time": next_ms,
        "predicted_rate": to_float(predicted_rate),
        "mark_price": None if mark is None else mark / multiplier,
        "index_price": None if index is None else index / multiplier,
        "basis": basis,
        "open_interest_usd": to_float(open_interest_usd),
        "lot_step": to_float(lot_step),
        "min_qty": to_float(min_qty),
        "min_notional": to_float(min_notional),
        "max_leverage": to_float(max_leverage),
        "maintenance_tiers": tiers if tiers is None or isinstance(tiers, str) else tiers.text,
    }


def tiers_in_contracts(sizes, rates, coins_per_contract: float | None,
                       mark: float | None) -> MaintenanceTiers | None:
    """Tiers a venue sizes in contracts (from ``sizes[k]`` contracts, ``rates[k]`` on the whole position: no
    deduction) as maintenance tiers in USD: contracts x coins per contract x the mark, so they hold near today's
    price. None: no contract size or mark to value them, or tiers that do not make a table."""
    if not coins_per_contract or not mark:
        return None
    usd = coins_per_contract * mark
    try:
        return MaintenanceTiers.of([size * usd for size in sizes], rates, [0.0] * len(rates))
    except ValueError:
        return None


def page_guard(pages: int, limit: int = 10_000) -> None:
    """Stop a runaway pagination loop (an API that keeps returning the same page)."""
    if pages > limit:
        raise ValueError("pagination did not end")


def collect_pages(fetch_page, parse_row, page_size: int, cursor: int, keep_going, advance, bar=None) -> list:
    """Page through a time-ordered history endpoint.

    ``fetch_page(cursor)`` returns one page; ``parse_row(item)`` gives ``(time ms, value)``
    or None for an item to skip. Paging stops on an empty or short page, or when
    ``keep_going(cursor)`` is false; ``advance(rows)`` gives the next cursor (forwards:
    after the newest row; backwards: before the oldest). Rows come back as fetched;
    callers sort and trim.
    """
    out, pages = [], 0
    while keep_going(cursor):
        page = fetch_page(cursor)
        pages += 1
        page_guard(pages)
        if not page:
            break
        rows = [r for r in (parse_row(item) for item in page) if r is not None]
        out += rows
        if bar is not None:
            bar.update(len(page))
        if len(page) < page_size or not rows:
            break
        cursor = advance(rows)
    return out


def forward_pages(fetch_page, parse_row, page_size: int, start: int, end: int, bar=None) -> list:
    """(time ms, value, ...) rows of a history endpoint paged forwards from ``start`` to ``end``,
    oldest first and without repeats, whatever order each page comes in."""
    rows = collect_pages(fetch_page, parse_row, page_size, start, lambda c: c <= end, after_newest, bar)
    return sorted(set(rows))


def after_newest(rows) -> int:
    """The cursor after a page of (time ms, ...) rows."""
    return max(row[0] for row in rows) + 1


def before_oldest(rows) -> int:
    """The cursor before a page of (time ms, ...) rows."""
    return min(row[0] for row in rows) - 1
