"""The exchanges xlhedge reads, declared once: name -> adapter, base URL, symbol format and limits.

Every list of exchanges (the snapshot, the history downloads, the workbook's
drop-downs, the command line's help, doctor) reads :data:`EXCHANGES` or
:func:`exchange`; adding an exchange is one adapter module and one line here.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from types import ModuleType

from xlhedge.market import binance, bingx, bybit, hyperliquid, mexc, okx, weex
from xlhedge.market.http import Client, Envelope


@dataclass(frozen=True)
class Exchange:
    """One exchange's public API, as its adapter module declares it."""

    name: str
    adapter: ModuleType  # snapshot(), funding_history(), price_history() [, open_interest_history()]
    base_url: str  # the public HTTPS host
    symbol_format: str  # "{}USDT": the USDT perpetual of a coin
    envelope: Envelope | None  # how answers wrap data and errors (None: bare JSON)
    min_interval: float  # seconds between request starts to one endpoint (its rate limit)
    taker_fee: float  # per trade, fraction of the notional (the Settings fee table's default)
    fee_source: str  # where that fee was read, and when

    def url(self) -> str:
        """The base URL in use: ``XLHEDGE_<NAME>_URL`` when set (the tests' loopback), else the public one."""
        return os.environ.get(f"XLHEDGE_{self.name.upper()}_URL", self.base_url).rstrip("/")

    def client(self, deadline: float) -> Client:
        """A client for this exchange that stops at ``deadline`` (``time.monotonic()`` seconds); its first
        retry waits ``XLHEDGE_RETRY_DELAY`` seconds when set (the tests' loopback answers at once), else
        the client's default."""
        return Client(self.name, deadline, base_url=self.url(), envelope=self.envelope,
                      min_interval=self.min_interval, **_retry_delay())

    def perp_symbol(self, coin: str) -> str:
        """The coin's USDT perpetual here: "BTC" -> "BTCUSDT" (binance), "BTC-USDT-SWAP" (okx) ..."""
        return self.symbol_format.format(coin.upper())


def _retry_delay() -> dict:
    """``{"backoff": seconds}`` from ``XLHEDGE_RETRY_DELAY`` (a number >= 0); unset or unreadable: {} (the
    client's default)."""
    try:
        delay = float(os.environ.get("XLHEDGE_RETRY_DELAY", ""))
    except ValueError:
        return {}
    return {"backoff": delay} if 0 <= delay < float("inf") else {}


def _declared(module: ModuleType) -> Exchange:
    return Exchange(module.NAME, module, module.BASE_URL, module.SYMBOL_FORMAT, getattr(module, "ENVELOPE", None),
                    getattr(module, "MIN_INTERVAL", 0.0), module.TAKER_FEE, module.FEE_SOURCE)


#: name -> exchange, in the order tables and menus list them.
REGISTRY = {e.name: e for e in map(_declared, (binance, bybit, okx, hyperliquid, bingx, mexc, weex))}
EXCHANGES = tuple(REGISTRY)


def exchange(name: str) -> Exchange:
    """The exchange called ``name`` (any case, spaces ignored).

    Raises
    ------
    ValueError
        An exchange xlhedge does not read, naming the ones it does.
    """
    key = str(name).strip().lower()
    if key not in REGISTRY:
        raise ValueError(f"unknown exchange {name!r}; choose one of {', '.join(EXCHANGES)}")
    return REGISTRY[key]
