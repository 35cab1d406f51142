"""Helpers to read exchange answers: string-typed numbers, empty fields, base assets."""

from __future__ import annotations

import math

QUOTES = ("USDT", "USDC", "FDUSD", "BUSD", "USD")


def to_float(value) -> float | None:
    """A number from an exchange field ("0.0001", 0.0001); None for "", None or junk."""
    if value is None or isinstance(value, bool):
        return None
    try:
        num = float(value)
    except (TypeError, ValueError):
        return None
    return num if math.isfinite(num) else None


def to_ms(value) -> int | None:
    """Epoch milliseconds from an int or a numeric string; None when absent or zero."""
    num = to_float(value)
    return int(num) if num else None


def base_of(symbol: str) -> str:
    """Base asset of a linear symbol: "BTCUSDT" -> "BTC", "1000PEPEUSDC" -> "1000PEPE"."""
    for quote in QUOTES:
        if symbol.endswith(quote) and len(symbol) > len(quote):
            return symbol[: -len(quote)]
    return symbol


def row(exchange, symbol, base, rate, interval_hours, next_ms, mark) -> dict:
    """One snapshot row in the contract's column order."""
    return {
        "exchange": exchange,
        "symbol": str(symbol),
        "base": str(base).upper(),
        "funding_rate": rate,
        "interval_hours": float(interval_hours),
        "next_funding_time": next_ms,
        "mark_price": mark,
    }


def page_guard(pages: int, limit: int = 10_000) -> None:
    """Stop a runaway pagination loop (an API that keeps returning the same page)."""
    if pages > limit:
        raise ValueError("pagination did not end")


def collect_pages(fetch_page, parse_row, page_size: int, cursor: int, keep_going, advance, bar=None) -> list:
    """Page through a time-ordered history endpoint.

    ``fetch_page(cursor)`` returns one page; ``parse_row(item)`` gives ``(time ms, value)``.
    Paging stops on an empty or short page, or when ``keep_going(cursor)`` is false;
    ``advance(rows)`` gives the next cursor (forwards: after the newest row; backwards:
    before the oldest). Rows come back as fetched; callers sort and trim.
    """
    out, pages = [], 0
    while keep_going(cursor):
        page = fetch_page(cursor)
        pages += 1
        page_guard(pages)
        if not page:
            break
        rows = [parse_row(item) for item in page]
        out += rows
        if bar is not None:
            bar.update(len(page))
        if len(page) < page_size:
            break
        cursor = advance(rows)
    return out


def after_newest(rows) -> int:
    return max(t for t, _ in rows) + 1


def before_oldest(rows) -> int:
    return min(t for t, _ in rows) - 1
