"""Current funding for every perpetual of several exchanges, fetched in parallel."""

from __future__ import annotations

import os
import time
from operator import itemgetter

import numpy as np
import pandas as pd

from xlhedge.market.errors import ExchangeError, MarketDataError
from xlhedge.market.exchanges import EXCHANGES, REGISTRY
from xlhedge.market.tasks import map_tasks

#: Environment variable naming the exchanges used when a command names none (default: all seven).
DEFAULT_EXCHANGES_ENV = "XLHEDGE_EXCHANGES"
COLUMNS = [
    "exchange", "symbol", "base", "quote", "margin", "contract_size", "multiplier",
    "funding_rate", "interval_hours", "next_funding_time", "predicted_rate",
    "mark_price", "index_price", "basis", "open_interest_usd", "fetched_at",
    "lot_step", "min_qty", "min_notional", "max_leverage", "maintenance_tiers",
]
FLOAT_COLUMNS = ["contract_size", "multiplier", "funding_rate", "interval_hours", "predicted_rate",
                 "mark_price", "index_price", "basis", "open_interest_usd", "lot_step", "min_qty", "min_notional",
                 "max_leverage"]
TIME_COLUMNS = ["next_funding_time", "fetched_at"]


def parse_exchanges(exchanges) -> list[str]:
    """Exchange names from a list or a comma-separated string.

    Empty means the user's default set (``XLHEDGE_EXCHANGES``, else all seven);
    "all" means all seven.
    """
    if not exchanges:
        exchanges = os.environ.get(DEFAULT_EXCHANGES_ENV, "") or "all"
    names = exchanges.split(",") if isinstance(exchanges, str) else list(exchanges)
    names = [str(n).strip().lower() for n in names if n and str(n).strip()]
    if not names or "all" in names:
        return list(EXCHANGES)
    unknown = [n for n in names if n not in REGISTRY]
    if unknown:
        raise ValueError(f"unknown exchange {unknown[0]!r}; choose from {', '.join(EXCHANGES)} or all")
    return list(dict.fromkeys(names))


def parse_symbols(symbols) -> list[str] | None:
    """Coins or exchange symbols ("BTC,eth", "BTCUSDC") in upper case; None for all."""
    if not symbols:
        return None
    names = symbols.split(",") if isinstance(symbols, str) else list(symbols)
    return [s.strip().upper() for s in names if s and s.strip()] or None


def _fetch(name: str, deadline: float, bases: list[str] | None) -> tuple[list[dict], str]:
    """The exchange's rows, and what they lack because a supporting request failed ("" when nothing)."""
    client = REGISTRY[name].client(deadline)
    try:
        return REGISTRY[name].adapter.snapshot(client, bases), client.missing()
    except ExchangeError:
        raise
    except (KeyError, IndexError, TypeError, ValueError, AttributeError) as exc:
        raise ExchangeError(name, "answer", f"unexpected shape ({type(exc).__name__})") from None


def empty_frame() -> pd.DataFrame:
    """A snapshot frame with no rows and the contract's dtypes."""
    return _typed(pd.DataFrame({c: pd.Series(dtype=object) for c in COLUMNS}))


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.astype({c: float for c in FLOAT_COLUMNS})
    for col in TIME_COLUMNS:
        frame[col] = pd.to_datetime(frame[col], utc=True, unit="ms" if col == "next_funding_time" else None)
    return frame


def _frame(rows: list[dict], fetched_at: pd.Timestamp, order: dict[str, int]) -> pd.DataFrame:
    """The rows (made by :func:`~xlhedge.market.parsing.row`) as a typed frame sorted by coin, then exchange in
    ``order``, built a column at a time: for 2,100 rows a third faster than pandas' reader of records."""
    rows = sorted(rows, key=lambda r: (r["base"], order[r["exchange"]]))
    names = [c for c in COLUMNS if c != "fetched_at"]  # every key :func:`parsing.row` writes
    floats = set(FLOAT_COLUMNS) | {"next_funding_time"}
    by_column = zip(*map(itemgetter(*names), rows), strict=True)  # the rows' values, a column at a time
    columns = {name: np.array(values, dtype=float) if name in floats else list(values)  # None -> NaN
               for name, values in zip(names, by_column, strict=True)}
    columns["next_funding_time"] = pd.to_datetime(columns["next_funding_time"], unit="ms", utc=True)
    columns["fetched_at"] = pd.DatetimeIndex([fetched_at] * len(rows))
    return pd.DataFrame(columns, columns=COLUMNS)


def keep_symbols(frame: pd.DataFrame, bases: list[str] | None) -> pd.DataFrame:
    """Rows whose coin or exchange symbol is in ``bases`` (all rows when None)."""
    if not bases:
        return frame
    return frame[frame["base"].isin(bases) | frame["symbol"].str.upper().isin(bases)]


def funding_snapshot(exchanges=None, symbols=None, timeout: float = 10.0) -> pd.DataFrame:
    """Current funding rates, intervals, prices and open interest of perpetual contracts.

    Parameters
    ----------
    exchanges : list of str or str, optional
        Any of binance, bybit, okx, hyperliquid, bingx, mexc, weex, or "all"
        (default: ``XLHEDGE_EXCHANGES``, else all).
    symbols : list of str or str, optional
        Coins ("BTC", "PEPE") or exchange symbols ("BTCUSDC") to keep; default: every contract.
        Per-symbol extras (open interest on Binance, BingX and WEEX) are fetched only for these.
    timeout : float
        Seconds the whole snapshot may take, retries included.

    Returns
    -------
    pandas.DataFrame
        One row per perpetual (columns :data:`COLUMNS`): exchange, symbol (exchange-native),
        base (the coin, scaled bases divided out: 1000PEPE -> PEPE with multiplier 1000),
        quote (USDT, USDC, USD, BTC ...), margin ("linear" or "inverse"), contract_size
        (coins per contract, or USD face value for inverse), funding_rate and predicted_rate
        (per interval, fractions), interval_hours, next_funding_time and fetched_at (UTC),
        mark_price and index_price (USD per coin), basis (mark / index - 1),
        open_interest_usd; the order rules: lot_step and min_qty (contracts), min_notional (USD)
        and max_leverage. A field an exchange does not publish is NaN, never made up.
        ``df.attrs["errors"]`` maps each exchange that failed to a short message;
        ``df.attrs["missing"]`` each exchange that answered but lacks a column because a supporting
        request failed ("no open interest (ticker: HTTP 503)").

    Raises
    ------
    MarketDataError
        When every requested exchange failed; its ``errors`` maps each to why.
    """
    names = parse_exchanges(exchanges)
    bases = parse_symbols(symbols)
    deadline = time.monotonic() + float(timeout)
    rows: list[dict] = []
    errors: dict[str, str] = {}
    missing: dict[str, str] = {}
    results, pending = map_tasks(lambda n: _fetch(n, deadline, bases), names, max_workers=len(names),
                                 timeout=max(deadline - time.monotonic(), 0) + 0.5)
    fetched_at = pd.Timestamp.now(tz="UTC").floor("s")
    for i, (name, (got, exc)) in enumerate(zip(names, results, strict=True)):
        if i in pending:
            errors[name] = f"answer: timed out after {timeout:g}s"
        elif isinstance(exc, ExchangeError):
            errors[name] = f"{exc.endpoint}: {exc.reason}"
        elif exc is not None:  # a bug in one adapter must not lose the others
            errors[name] = f"answer: {type(exc).__name__}: {exc}"[:160]
        else:
            got, lacking = got
            rows += got
            if lacking:
                missing[name] = lacking
    if len(errors) == len(names):
        raise MarketDataError("no exchange answered", {n: errors[n] for n in names})
    order = {n: i for i, n in enumerate(names)}
    frame = _frame(rows, fetched_at, order) if rows else empty_frame()
    frame = keep_symbols(frame, bases).reset_index(drop=True)
    frame.attrs["errors"] = errors
    frame.attrs["missing"] = missing
    return frame
