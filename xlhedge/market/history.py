"""Funding and price history, paginated through each exchange's limits."""

from __future__ import annotations

import sys
import time

import pandas as pd

from xlhedge.market.errors import ExchangeError
from xlhedge.market.http import Client
from xlhedge.market.snapshot import ADAPTERS, parse_exchanges

INTERVALS = ("1h", "4h", "1d")


def _utc(value) -> pd.Timestamp:
    ts = pd.Timestamp(value)
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def _window(start, end, default_days: int) -> tuple[int, int]:
    end_ts = _utc(end) if end is not None else pd.Timestamp.now(tz="UTC")
    start_ts = _utc(start) if start is not None else end_ts - pd.Timedelta(days=default_days)
    if start_ts >= end_ts:
        raise ValueError("start must be before end")
    return int(start_ts.timestamp() * 1000), int(end_ts.timestamp() * 1000)


def _pull(kind, exchange, symbol, start, end, timeout, progress, value_col, *extra):
    name = parse_exchanges([exchange])[0]
    begin, finish = _window(start, end, 30 if kind == "funding_history" else 365)
    client = Client(name, time.monotonic() + timeout)
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(desc=f"{name} {symbol} {kind.replace('_', ' ')}", unit=" rows",
                   file=sys.stderr, leave=False)
    try:
        rows = getattr(ADAPTERS[name], kind)(client, symbol, *extra, begin, finish, bar=bar)
    except ExchangeError:
        raise
    except (KeyError, IndexError, TypeError, ValueError) as exc:
        raise ExchangeError(name, kind, f"unexpected shape ({type(exc).__name__})") from None
    finally:
        if bar is not None:
            bar.close()
    frame = pd.DataFrame(rows, columns=["time", value_col]).drop_duplicates("time")
    frame["time"] = pd.to_datetime(frame["time"], unit="ms", utc=True)
    frame[value_col] = frame[value_col].astype(float)
    return frame.sort_values("time").reset_index(drop=True)


def funding_history(exchange, symbol, start=None, end=None, timeout=60.0, progress=False):
    """Past funding rates of one contract.

    Parameters
    ----------
    exchange : str
        "binance", "bybit", "okx" or "hyperliquid".
    symbol : str
        Exchange-native symbol ("BTCUSDT", "BTC-USDT-SWAP" or "BTC" for OKX, "BTC" for Hyperliquid).
    start, end : datetime-like, optional
        UTC window; default the last 30 days.
    timeout : float
        Seconds the whole pull may take.
    progress : bool
        Show a progress bar on stderr.

    Returns
    -------
    pandas.DataFrame
        Columns ``time`` (UTC) and ``funding_rate`` (per interval), oldest first.
    """
    return _pull("funding_history", exchange, symbol, start, end, timeout, progress, "funding_rate")


def price_history(exchange, symbol, interval="1d", start=None, end=None, timeout=60.0, progress=False):
    """Closing prices of one contract (for beta estimation).

    Parameters
    ----------
    interval : {"1h", "4h", "1d"}
        Candle length.
    start, end : datetime-like, optional
        UTC window; default the last 365 days.

    Returns
    -------
    pandas.DataFrame
        Columns ``time`` (UTC, candle open) and ``close`` (USD), oldest first.
    """
    if interval not in INTERVALS:
        raise ValueError(f"interval must be one of {', '.join(INTERVALS)}")
    return _pull("price_history", exchange, symbol, start, end, timeout, progress, "close", interval)
