"""Errors raised by the market-data layer; each names the exchange and endpoint."""

from __future__ import annotations

import textwrap


def shorten(text: str, width: int) -> str:
    """``text`` in at most ``width`` characters, cut between words (never mid-word), "..." if cut."""
    return textwrap.shorten(" ".join(str(text).split()), width=width, placeholder="...")


def reason(message: str) -> str:
    """What went wrong, without the endpoint: "/fapi/v1/premiumIndex: HTTP 500" -> "HTTP 500"."""
    head, sep, tail = str(message).partition(": ")
    names_a_place = head == "answer" or any(word.startswith("/") for word in head.split())
    return tail if sep and names_a_place else str(message)


def summarize(errors: dict[str, str], width: int = 60) -> str:
    """One clause per distinct reason: "binance, bybit: cannot connect after 4 tries; okx: HTTP 500"."""
    groups: dict[str, list[str]] = {}
    for exchange, message in errors.items():
        groups.setdefault(shorten(reason(message), width), []).append(exchange)
    return "; ".join(f"{', '.join(names)}: {why}" for why, names in groups.items())


class MarketDataError(RuntimeError):
    """No requested exchange answered (or a history pull failed).

    ``errors`` maps each exchange to its message ("endpoint: reason"), when known.
    """

    def __init__(self, message: str, errors: dict[str, str] | None = None):
        self.errors = dict(errors or {})
        super().__init__(f"{message} ({summarize(self.errors)})" if self.errors else message)


class ExchangeError(MarketDataError):
    """One exchange failed: ``exchange`` and ``endpoint`` say where, ``reason`` what; ``unanswered``: no
    answer came at all (cannot connect, no answer in time, still busy after the retries), as offline."""

    def __init__(self, exchange: str, endpoint: str, message: str, unanswered: bool = False):
        super().__init__(f"{exchange} {endpoint}: {message}")
        self.exchange = exchange
        self.endpoint = endpoint
        self.reason = message
        self.unanswered = unanswered
