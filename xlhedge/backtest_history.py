"""Price and funding history for the backtest: the bundled demo (``xlhedge/data/backtest``: real Binance
funding of BTC and ETH for 2022-2023 at its real 8-hourly times, and a SYNTHETIC, seeded daily price path,
because no price history whose licence allows shipping it was found), or an exchange's own daily closes,
highs, funding and open interest, kept in an on-disk cache so a re-run fetches only what is missing.

Units: prices USD per coin, rates fractions per funding interval, open interest in coins.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from xlhedge.engine.crowding import FUNDING_LOOKBACK_DAYS, OI_CHANGE_DAYS
from xlhedge.market.cache import cache_root, write_atomically

DEMO_COINS = ("BTC", "ETH")
DEMO_START, DEMO_END = pd.Timestamp("2022-01-01", tz="UTC"), pd.Timestamp("2024-01-01", tz="UTC")
#: What the bundled prices are, said wherever they are shown.
SYNTHETIC_NOTE = "demo data: real Binance funding (2022-2023), SYNTHETIC prices and highs (a seeded random path)"
#: Said when a history has one price series for the holding and the short.
ONE_SERIES_NOTE = "one price series: the perpetual tracks spot (no basis)"


class BacktestError(ValueError):
    """A backtest that cannot run, said in one sentence a user can act on."""


class HistoryUnavailable(BacktestError):
    """The exchange did not answer (offline, blocked, down): the ``auto`` data falls back to the demo."""


@dataclass
class History:
    """Daily closes of each coin (index: UTC step times) and funding at its real times; where known, the
    perpetual's own closes (else it tracks ``prices``), its highest price of each step and the open
    interest (coins) at its record times."""

    prices: pd.DataFrame  # what the holding is worth: spot or index closes, USD per coin
    funding_times: np.ndarray  # datetime64[ns], increasing
    funding_rates: pd.DataFrame  # one column per coin, one row per funding time
    source: str
    perp: pd.DataFrame | None = None  # the perpetual's closes, same index and columns as prices
    highs: pd.DataFrame | None = None  # the perpetual's high of each step (liquidations), same shape
    open_interest: pd.DataFrame | None = None  # index: UTC record times; a column per coin (NaN: none)
    tiers: dict = field(default_factory=dict)  # coin -> the venue's MaintenanceTiers, where it publishes them

    def window(self, rows, coins: list[str]) -> History:
        """The same history for some steps (a boolean mask) and coins."""
        def part(frame):
            return None if frame is None else frame.loc[rows, coins]

        oi = None if self.open_interest is None else self.open_interest.reindex(columns=coins)
        return History(self.prices.loc[rows, coins], self.funding_times, self.funding_rates, self.source,
                       part(self.perp), part(self.highs), oi, {c: t for c, t in self.tiers.items() if c in coins})


def synthetic_prices(start=DEMO_START, end=DEMO_END, seed: int = 2022) -> pd.DataFrame:
    """The demo's SYNTHETIC daily closes of BTC and ETH (not market data): a seeded random walk of
    log returns, BTC 3.3% a day, ETH 1.2 x BTC's move plus 2.2% of its own (R² about 0.77)."""
    times = pd.date_range(start, end, freq="D", inclusive="both")
    rng = np.random.default_rng(seed)
    btc = rng.normal(0.0, 0.033, len(times) - 1)
    eth = 1.2 * btc + rng.normal(0.0, 0.022, len(times) - 1)
    paths = np.exp(np.cumsum(np.vstack([np.zeros((1, 2)), np.column_stack([btc, eth])]), axis=0))
    return pd.DataFrame(np.round(paths * [46_000.0, 3_700.0], 2), index=times, columns=list(DEMO_COINS))


def synthetic_highs(closes: pd.DataFrame, seed: int = 2023) -> pd.DataFrame:
    """The demo's SYNTHETIC daily highs (not market data): each day's high is above its open (the previous
    close) and its close by a seeded half-normal move, 1.2% a day for BTC and 1.5% for ETH."""
    rng = np.random.default_rng(seed)
    spread = np.abs(rng.normal(0.0, [0.012, 0.015], closes.shape))
    opens = closes.shift(1).fillna(closes)
    return np.round(np.maximum(opens, closes) * np.exp(spread), 2)


def demo_history() -> History:
    """The bundled demo: real Binance funding at its 8-hourly times, synthetic daily closes and highs
    (one series: the perpetual tracks spot)."""
    folder = resources.files("xlhedge").joinpath("data/backtest")
    funding = pd.read_csv(folder.joinpath("funding_binance_2022_2023.csv").open(encoding="utf-8"),
                          index_col="time_utc")
    times = pd.to_datetime(funding.index, utc=True)
    prices = pd.read_csv(folder.joinpath("prices_synthetic_2022_2023.csv").open(encoding="utf-8"),
                         index_col="date")
    prices.index = pd.to_datetime(prices.index, utc=True)
    highs = pd.read_csv(folder.joinpath("highs_synthetic_2022_2023.csv").open(encoding="utf-8"), index_col="date")
    highs.index = pd.to_datetime(highs.index, utc=True)
    return History(prices.astype(float), times.tz_convert(None).to_numpy(dtype="datetime64[ns]"),
                   funding.reset_index(drop=True).astype(float), SYNTHETIC_NOTE, highs=highs.astype(float))


def cache_dir() -> Path:
    """Where downloaded history is kept: ``history`` in the cache folder (``XLHEDGE_CACHE``, else the
    user's cache folder's ``xlhedge``)."""
    return cache_root() / "history"


def cached_history(kind: str, exchange: str, symbol: str, start: pd.Timestamp, end: pd.Timestamp,
                   fetch, folder: Path | None = None) -> pd.DataFrame:
    """History of one contract from the cache, fetching only the part before or after what is kept.

    ``fetch(start, end)`` returns a frame with a UTC ``time`` column, oldest first. The cache file
    holds the union of everything fetched (``<kind>_<exchange>_<symbol>.csv``) and is replaced
    atomically, so a failed download never loses what was kept.
    """
    folder = folder or cache_dir()
    path = folder / f"{kind}_{exchange}_{symbol.replace('/', '-')}.csv"
    kept = pd.read_csv(path, parse_dates=["time"]) if path.exists() else None
    parts = [] if kept is None else [kept]
    if kept is None or kept.empty:
        parts.append(fetch(start, end))
    else:
        first, last = kept["time"].min(), kept["time"].max()
        if start < first:
            parts.append(fetch(start, first))
        if end > last:
            parts.append(fetch(last, end))
    frame = pd.concat([p for p in parts if len(p)], ignore_index=True) if any(len(p) for p in parts) else parts[0]
    frame["time"] = pd.to_datetime(frame["time"], utc=True)
    frame = frame.drop_duplicates("time", keep="last").sort_values("time").reset_index(drop=True)
    write_atomically(path, frame.to_csv(index=False))
    return frame[(frame["time"] >= start) & (frame["time"] <= end)].reset_index(drop=True)


def live_history(coins, exchange: str, start: pd.Timestamp, end: pd.Timestamp, timeout: float = 60.0,
                 progress: bool = True, folder: Path | None = None, open_interest: bool = False) -> History:
    """Daily history of each coin's USDT perpetual on ``exchange`` (cached): the perpetual's closes and
    highs, its funding, the index's closes where the exchange publishes index candles (the holding is
    valued at the index, the short at the perpetual: the basis shows) and, with ``open_interest``, the
    open interest where it publishes that history (the crowded-longs rule).

    Raises
    ------
    HistoryUnavailable
        The exchange did not answer.
    BacktestError
        It answered, but not with the history (an unlisted coin, no candles in the window).
    """
    from xlhedge.market import MarketDataError, funding_history, index_history, price_history
    from xlhedge.market.betas import perp_symbol
    from xlhedge.market.history import (
        maintenance_tiers,
        open_interest_history,
        publishes_index_history,
        publishes_maintenance_tiers,
        publishes_open_interest_history,
    )

    with_index = publishes_index_history(exchange)
    with_oi = open_interest and publishes_open_interest_history(exchange)
    closes, perps, highs, funding, interest, tiers = {}, {}, {}, [], {}, {}
    for coin in coins:
        symbol = perp_symbol(exchange, coin)

        def kept(kind, pull, days_before=0, symbol=symbol):  # pull(symbol, start, end): a frame from the exchange
            return cached_history(kind, exchange, symbol, start - pd.Timedelta(days=days_before), end,
                                  lambda a, b: pull(symbol, a, b), folder)
        try:
            px = kept("prices", lambda s, a, b: price_history(exchange, s, "1d", a, b, timeout, progress))
            # the month before the start too: the first steps' rates are ranked among their own month's
            fr = kept("funding", lambda s, a, b: funding_history(exchange, s, a, b, timeout, progress),
                      FUNDING_LOOKBACK_DAYS + 1)
            ix = (kept("index", lambda s, a, b: index_history(exchange, s, "1d", a, b, timeout, progress))
                  if with_index else None)
        except MarketDataError as exc:
            if getattr(exc, "unanswered", False):
                raise HistoryUnavailable(f"{exchange} did not answer ({exc.reason})") from None
            raise BacktestError(f"{coin} on {exchange}: {exc}") from None
        except ValueError as exc:
            raise BacktestError(f"{coin} on {exchange}: {exc}") from None
        if px.empty:
            raise BacktestError(f"{coin} on {exchange}: no daily prices between {start:%Y-%m-%d} and {end:%Y-%m-%d}")
        # a daily candle opens at 00:00 and closes 24 h later: its close is the price at the next midnight
        at_close = px.set_index(px["time"] + pd.Timedelta(days=1))
        perps[coin] = at_close["close"]
        # a cache written before highs were kept has none: those days count their close as their high
        highs[coin] = at_close["high"].fillna(at_close["close"]) if "high" in at_close else at_close["close"]
        closes[coin] = (ix.set_index(ix["time"] + pd.Timedelta(days=1))["close"] if ix is not None
                        else at_close["close"])
        funding.append(fr.set_index("time")["funding_rate"].rename(coin))
        if publishes_maintenance_tiers(exchange):  # today's tiers: the venue publishes no history of them
            with contextlib.suppress(MarketDataError, ValueError):  # else the Settings rate (said in the notes)
                tiers[coin] = maintenance_tiers(exchange, symbol, timeout)
        if with_oi:
            try:
                oi = kept("open_interest", lambda s, a, b: open_interest_history(exchange, s, a, b, timeout, progress),
                          OI_CHANGE_DAYS + 1)
                interest[coin] = oi.set_index("time")["open_interest"]
            except (MarketDataError, ValueError):  # kept for a few weeks only (Binance: 30 days): none
                pass
    prices = pd.DataFrame(closes).dropna()
    perp = pd.DataFrame(perps).reindex(prices.index)
    prices = prices[perp.notna().all(axis=1)]  # steps with both series
    rates = pd.concat(funding, axis=1).sort_index()
    oi = pd.DataFrame(interest).sort_index() if interest else None
    series = "the perpetual's and its index's daily closes" if with_index else "the perpetual's daily closes"
    return History(prices, rates.index.tz_convert(None).to_numpy(dtype="datetime64[ns]"),
                   rates.reset_index(drop=True), f"{exchange}: {series}, highs and funding history (real)",
                   perp=perp.reindex(prices.index) if with_index else None,
                   highs=pd.DataFrame(highs).reindex(prices.index), open_interest=oi, tiers=tiers)
