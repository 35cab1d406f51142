"""Funding and price history, paginated through each exchange's limits."""

from __future__ import annotations

import sys
import time

import pandas as pd

from xlhedge.market.errors import ExchangeError
from xlhedge.market.exchanges import exchange as registered
from xlhedge.market.parsing import CANDLE

INTERVALS = ("1h", "4h", "1d")


def utc_time(value, name: str = "start") -> pd.Timestamp:
    """A UTC time from a date, a time or text ("2025-01-31", "2025-01-31 08:00"); ``name`` for the message."""
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError):
        raise ValueError(f"{name} must be a UTC date like 2025-01-31 or 2025-01-31 08:00 (got {value!r})") from None
    if pd.isna(ts):
        raise ValueError(f"{name} must be a UTC date like 2025-01-31 (got {value!r})")
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def _window(start, end, default_days: int) -> tuple[int, int]:
    end_ts = utc_time(end, "end") if end is not None else pd.Timestamp.now(tz="UTC")
    start_ts = utc_time(start, "start") if start is not None else end_ts - pd.Timedelta(days=default_days)
    if start_ts >= end_ts:
        raise ValueError("start must be before end")
    return int(start_ts.timestamp() * 1000), int(end_ts.timestamp() * 1000)


def _pull(kind, exchange, symbol, start, end, timeout, progress, value_cols, *extra):
    venue = registered(exchange or "")
    name = venue.name
    begin, finish = _window(start, end, 365 if kind in ("price_history", "index_history") else 30)
    client = venue.client(time.monotonic() + timeout)
    bar = None
    if progress:
        try:
            import tqdm
        except ImportError:  # xlwings Lite installs only what its requirements list: no bar there
            pass
        else:
            bar = tqdm.tqdm(desc=f"{name} {symbol} {kind.replace('_', ' ')}", unit=" rows",
                            file=sys.stderr, leave=False)
    try:
        rows = getattr(venue.adapter, kind)(client, symbol, *extra, begin, finish, bar=bar)
    except ExchangeError:
        raise
    except (KeyError, IndexError, TypeError, ValueError) as exc:
        raise ExchangeError(name, kind, f"unexpected shape ({type(exc).__name__})") from None
    finally:
        if bar is not None:
            bar.close()
    frame = pd.DataFrame(rows, columns=["time", *value_cols]).drop_duplicates("time")
    # answers may reach outside the window (a candle opened before the start): keep the window
    frame = frame[(frame["time"] >= begin) & (frame["time"] <= finish)]
    frame["time"] = pd.to_datetime(frame["time"], unit="ms", utc=True)
    frame[list(value_cols)] = frame[list(value_cols)].astype(float)
    return frame.sort_values("time").reset_index(drop=True)


def funding_history(exchange, symbol, start=None, end=None, timeout=60.0, progress=False):
    """Past funding rates of one contract.

    Parameters
    ----------
    exchange : str
        One of binance, bybit, okx, hyperliquid, bingx, mexc, weex.
    symbol : str
        Exchange-native symbol: "BTCUSDT" (Binance, Bybit, WEEX), "BTC-USDT-SWAP" or "BTC" (OKX),
        "BTC" (Hyperliquid), "BTC-USDT" (BingX), "BTC_USDT" (MEXC).
    start, end : datetime-like, optional
        UTC window; default the last 30 days.
    timeout : float
        Seconds the whole pull may take.
    progress : bool
        Show a progress bar on stderr.

    Returns
    -------
    pandas.DataFrame
        Columns ``time`` (UTC), ``funding_rate`` (per interval, fraction) and
        ``interval_hours`` (from the spacing of the timestamps), oldest first.
    """
    frame = _pull("funding_history", exchange, symbol, start, end, timeout, progress, ("funding_rate",))
    frame["interval_hours"] = spacing_hours(frame["time"])
    return frame


def spacing_hours(times: pd.Series) -> pd.Series:
    """Hours since the previous funding time (the first row: until the next), to the minute.

    Exchanges change intervals (Hyperliquid paid every 8 h in 2023, hourly since), and a
    contract can move from 8 h to 4 h, so the interval of each payment is read from the
    timestamps, never assumed. Timestamps carry millisecond jitter (…00048): rounded away.
    """
    minutes = times.dt.round("min").diff().dt.total_seconds() / 60.0
    if len(minutes) > 1:
        minutes.iloc[0] = minutes.iloc[1]
    return (minutes / 60.0).astype(float)


def price_history(exchange, symbol, interval="1d", start=None, end=None, timeout=60.0, progress=False):
    """One contract's candles: open, high, low and close (betas read the closes, the backtest the highs of
    its shorts too).

    Parameters
    ----------
    interval : {"1h", "4h", "1d"}
        Candle length.
    start, end : datetime-like, optional
        UTC window; default the last 365 days.

    Returns
    -------
    pandas.DataFrame
        Columns ``time`` (UTC, candle open), ``open``, ``high``, ``low`` and ``close`` (USD), oldest first.
    """
    if interval not in INTERVALS:
        raise ValueError(f"interval must be one of {', '.join(INTERVALS)}")
    return _pull("price_history", exchange, symbol, start, end, timeout, progress, CANDLE, interval)


def publishes_index_history(exchange) -> bool:
    """Whether xlhedge reads the index's (spot basket's) candles from this exchange (Binance, Bybit, OKX,
    MEXC; Hyperliquid, BingX and WEEX publish candles of the perpetual only)."""
    return hasattr(registered(exchange or "").adapter, "index_history")


def index_history(exchange, symbol, interval="1d", start=None, end=None, timeout=60.0, progress=False):
    """Closing prices of the index a perpetual follows (what spot did), candle by candle.

    Parameters
    ----------
    symbol : str
        The perpetual's symbol, as for :func:`price_history` ("BTCUSDT", "BTC-USDT-SWAP", "BTC_USDT").

    Returns
    -------
    pandas.DataFrame
        Columns ``time`` (UTC, candle open) and ``close`` (USD), oldest first.

    Raises
    ------
    ValueError
        The exchange publishes no index candles.
    """
    if interval not in INTERVALS:
        raise ValueError(f"interval must be one of {', '.join(INTERVALS)}")
    if not publishes_index_history(exchange):
        raise ValueError(f"{exchange} publishes no index price history")
    return _pull("index_history", exchange, symbol, start, end, timeout, progress, ("close",), interval)


def publishes_maintenance_tiers(exchange) -> bool:
    """Whether xlhedge has this exchange's maintenance-margin tiers by USD notional (Bybit's risk limits,
    Hyperliquid's margin tables, the Binance brackets it ships: Binance's own need a signed request; OKX's count
    contracts, not USD)."""
    return hasattr(registered(exchange or "").adapter, "maintenance_tiers")


def maintenance_tiers_said(exchange) -> str:
    """Whose maintenance tiers :func:`maintenance_tiers` gives, in words for a note ("bybit's maintenance tiers
    of today"; an adapter that ships its tiers says so in its ``tiers_said()``)."""
    said = getattr(registered(exchange).adapter, "tiers_said", None)
    return said() if said else f"{exchange}'s maintenance tiers of today"


def maintenance_tiers(exchange, symbol, timeout=30.0):
    """The contract's maintenance-margin tiers by position notional (USD), as the exchange publishes them
    (Binance: as shipped, :mod:`xlhedge.market.binance_brackets`).

    Returns
    -------
    xlhedge.engine.MaintenanceTiers

    Raises
    ------
    ValueError
        The exchange publishes none here, or does not list the contract.
    MarketDataError
        The exchange did not answer, or answered in an unexpected shape.
    """
    if not publishes_maintenance_tiers(exchange):
        raise ValueError(f"{exchange} publishes no maintenance tiers xlhedge reads")
    venue = registered(exchange)
    try:
        return venue.adapter.maintenance_tiers(venue.client(time.monotonic() + timeout), symbol)
    except ExchangeError:
        raise
    except (KeyError, IndexError, TypeError) as exc:
        raise ExchangeError(venue.name, "maintenance tiers", f"unexpected shape ({type(exc).__name__})") from None


def publishes_open_interest_history(exchange) -> bool:
    """Whether xlhedge reads open-interest history from this exchange (Binance and Bybit)."""
    return hasattr(registered(exchange or "").adapter, "open_interest_history")


def open_interest_history(exchange, symbol, start=None, end=None, timeout=30.0, progress=False):
    """Daily open interest of one contract, in coins (Binance keeps the last 30 days).

    Returns
    -------
    pandas.DataFrame
        Columns ``time`` (UTC) and ``open_interest`` (coins), oldest first.

    Raises
    ------
    ValueError
        The exchange publishes no open-interest history (OKX, Hyperliquid, BingX, MEXC, WEEX here).
    """
    if not publishes_open_interest_history(exchange):
        raise ValueError(f"{exchange} publishes no open-interest history")
    return _pull("open_interest_history", exchange, symbol, start, end, timeout, progress, ("open_interest",))
