"""Errors raised by the market-data layer; each names the exchange and endpoint."""

from __future__ import annotations


class MarketDataError(RuntimeError):
    """No requested exchange answered (or a history pull failed)."""


class ExchangeError(MarketDataError):
    """One exchange failed: ``exchange`` and ``endpoint`` say where, ``str()`` says what."""

    def __init__(self, exchange: str, endpoint: str, message: str):
        super().__init__(f"{exchange} {endpoint}: {message}")
        self.exchange = exchange
        self.endpoint = endpoint
        self.reason = message
