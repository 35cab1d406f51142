"""Public market data from Binance, Bybit, OKX and Hyperliquid (no API keys).

Base URLs can be overridden with ``XLHEDGE_<EXCHANGE>_URL`` (tests point them
at a loopback server).
"""

from xlhedge.market.errors import ExchangeError, MarketDataError
from xlhedge.market.history import funding_history, index_history, price_history
from xlhedge.market.snapshot import COLUMNS, EXCHANGES, funding_snapshot, parse_exchanges

__all__ = [
    "COLUMNS",
    "EXCHANGES",
    "ExchangeError",
    "MarketDataError",
    "funding_history",
    "funding_snapshot",
    "index_history",
    "parse_exchanges",
    "price_history",
]
