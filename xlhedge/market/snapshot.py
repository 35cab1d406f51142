"""Current funding for every perpetual of several exchanges, fetched in parallel."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor, wait

import pandas as pd

from xlhedge.market import binance, bybit, hyperliquid, okx
from xlhedge.market.errors import ExchangeError, MarketDataError
from xlhedge.market.http import Client

ADAPTERS = {m.NAME: m for m in (binance, bybit, okx, hyperliquid)}
EXCHANGES = tuple(ADAPTERS)
COLUMNS = [
    "exchange", "symbol", "base", "funding_rate", "interval_hours",
    "next_funding_time", "mark_price", "fetched_at",
]


def parse_exchanges(exchanges) -> list[str]:
    """Exchange names from a list or a comma-separated string; all four when empty."""
    if not exchanges:
        return list(EXCHANGES)
    names = exchanges.split(",") if isinstance(exchanges, str) else list(exchanges)
    names = [n.strip().lower() for n in names if n and n.strip()]
    unknown = [n for n in names if n not in ADAPTERS]
    if unknown:
        raise ValueError(f"unknown exchange {unknown[0]!r}; choose from {', '.join(EXCHANGES)}")
    return list(dict.fromkeys(names))


def parse_symbols(symbols) -> list[str] | None:
    """Base assets ("BTC,eth" or a list) in upper case; None for all."""
    if not symbols:
        return None
    names = symbols.split(",") if isinstance(symbols, str) else list(symbols)
    return [s.strip().upper() for s in names if s and s.strip()] or None


def _fetch(name: str, deadline: float, bases: list[str] | None) -> list[dict]:
    client = Client(name, deadline)
    try:
        if name == "okx":
            return okx.snapshot(client, bases)
        return ADAPTERS[name].snapshot(client)
    except ExchangeError:
        raise
    except (KeyError, IndexError, TypeError, ValueError, AttributeError) as exc:
        raise ExchangeError(name, "answer", f"unexpected shape ({type(exc).__name__})") from None


def empty_frame() -> pd.DataFrame:
    """A snapshot frame with no rows and the contract's dtypes."""
    frame = pd.DataFrame({c: pd.Series(dtype=object) for c in COLUMNS})
    for col in ("funding_rate", "interval_hours", "mark_price"):
        frame[col] = frame[col].astype(float)
    for col in ("next_funding_time", "fetched_at"):
        frame[col] = pd.to_datetime(frame[col], utc=True)
    return frame


def funding_snapshot(exchanges=None, symbols=None, timeout: float = 10.0) -> pd.DataFrame:
    """Current funding rates, intervals and mark prices of perpetual contracts.

    Parameters
    ----------
    exchanges : list of str or str, optional
        Any of "binance", "bybit", "okx", "hyperliquid" (default: all).
    symbols : list of str or str, optional
        Base assets to keep ("BTC", "ETH"); default: every contract.
    timeout : float
        Seconds the whole snapshot may take, retries included.

    Returns
    -------
    pandas.DataFrame
        One row per perpetual: exchange, symbol (exchange-native), base,
        funding_rate (per interval, fraction), interval_hours, next_funding_time
        and fetched_at (UTC timestamps), mark_price (USD).
        ``df.attrs["errors"]`` maps each exchange that failed to a short message.

    Raises
    ------
    MarketDataError
        When every requested exchange failed.
    """
    names = parse_exchanges(exchanges)
    bases = parse_symbols(symbols)
    deadline = time.monotonic() + float(timeout)
    rows: list[dict] = []
    errors: dict[str, str] = {}
    pool = ThreadPoolExecutor(max_workers=len(names), thread_name_prefix="xlhedge-market")
    futures = {pool.submit(_fetch, n, deadline, bases): n for n in names}
    done, pending = wait(futures, timeout=max(deadline - time.monotonic(), 0) + 0.5)
    pool.shutdown(wait=False, cancel_futures=True)
    fetched_at = pd.Timestamp.now(tz="UTC").floor("s")
    for future in done:
        name = futures[future]
        try:
            got = future.result()
        except ExchangeError as exc:
            errors[name] = str(exc)
            continue
        except Exception as exc:  # a bug in one adapter must not lose the others
            errors[name] = f"{name}: {type(exc).__name__}: {exc}"[:160]
            continue
        for r in got:
            r["fetched_at"] = fetched_at
        rows += got
    for future in pending:
        errors[futures[future]] = f"{futures[future]}: timed out after {timeout:g}s"
    if len(errors) == len(names):
        reasons = "; ".join(f"{n}: {errors[n].split(': ', 1)[-1].split(';')[0][:60]}" for n in names)
        raise MarketDataError(f"no exchange answered ({reasons})")
    frame = pd.DataFrame(rows, columns=COLUMNS) if rows else empty_frame()
    if bases:
        frame = frame[frame["base"].isin(bases)]
    frame = frame.astype({"funding_rate": float, "interval_hours": float, "mark_price": float})
    frame["next_funding_time"] = pd.to_datetime(frame["next_funding_time"], unit="ms", utc=True)
    frame["fetched_at"] = pd.to_datetime(frame["fetched_at"], utc=True)
    order = {n: i for i, n in enumerate(names)}
    frame = frame.sort_values(["base", "exchange"], key=lambda s: s.map(order) if s.name == "exchange" else s)
    frame = frame.reset_index(drop=True)
    frame.attrs["errors"] = errors
    return frame
