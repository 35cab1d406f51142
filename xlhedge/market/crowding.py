"""Crowded-longs inputs of the portfolio's hedge contracts: funding against its own history and the
change of open interest, from each exchange's history endpoints (see :mod:`xlhedge.engine.crowding`)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from xlhedge.engine import funding_percentile, open_interest_change, rate_per_8h
from xlhedge.engine.crowding import FUNDING_LOOKBACK_DAYS, OI_CHANGE_DAYS
from xlhedge.market.contracts import resolve
from xlhedge.market.errors import MarketDataError
from xlhedge.market.history import funding_history, open_interest_history, publishes_open_interest_history
from xlhedge.market.tasks import map_values

#: The measures of each hedge contract, in the order the Funding sheet's crowding table shows them.
COLUMNS = ["key", "exchange", "base", "funding_percentile", "funding_samples", "oi_change", "measured_at"]


def crowding_inputs(contracts, table: pd.DataFrame, now=None, timeout: float = 30.0,
                    funding: Callable = funding_history, oi: Callable = open_interest_history,
                    ) -> tuple[pd.DataFrame, dict]:
    """Funding percentile and open-interest change of each hedge contract.

    Parameters
    ----------
    contracts : iterable of (str, str)
        (exchange, coin) of each hedge contract ("binance", "BTC"); the contract itself is the one
        the Funding table's lookup picks (:func:`xlhedge.market.contracts.resolve`).
    table : pandas.DataFrame
        The refreshed Funding table (current rate, interval and exchange symbol of each contract).
    timeout : float
        Seconds allowed for each history download.

    Returns
    -------
    (pandas.DataFrame, dict)
        Rows with :data:`COLUMNS`: funding_percentile (0..1, of the current rate restated per 8 h
        among the last 30 days of rates, each per 8 h), funding_samples, oi_change (7 days, NaN
        where the exchange publishes no open-interest history); and ``key -> message`` for the
        contracts that could not be measured.
    """
    now = now or pd.Timestamp.now(tz="UTC")
    contracts = list(dict.fromkeys((ex.lower(), coin.upper()) for ex, coin in contracts))
    if not contracts or table.empty:
        return pd.DataFrame(columns=COLUMNS), {}
    positions = resolve(table, [ex for ex, _ in contracts], [coin for _, coin in contracts])

    def measure(item):
        (ex, coin), pos = item
        key = f"{ex}|{coin}"
        if pos < 0:
            return key, None, "no such contract in the Funding table"
        row = table.iloc[pos]
        if not np.isfinite(row["funding_rate"]):
            return key, None, "no current funding rate"
        try:
            past = funding(ex, row["symbol"], now - pd.Timedelta(days=FUNDING_LOOKBACK_DAYS), now, timeout)
            change = float("nan")
            if publishes_open_interest_history(ex):
                window_start = now - pd.Timedelta(days=OI_CHANGE_DAYS)
                # a day more than the window, so a point at or before its start is among the answers
                series = oi(ex, row["symbol"], window_start - pd.Timedelta(days=1), now, timeout)
                change = open_interest_change(series["open_interest"].to_numpy(float),
                                              _naive_utc(series["time"]), _naive_utc(window_start))
        except (MarketDataError, ValueError) as exc:
            return key, None, str(exc)[:120]
        history_8h = rate_per_8h(past["funding_rate"].to_numpy(float), past["interval_hours"].to_numpy(float))
        now_8h = rate_per_8h(float(row["funding_rate"]), float(row["interval_hours"]))
        return key, {"key": key, "exchange": ex, "base": coin,
                     "funding_percentile": funding_percentile(now_8h, history_8h),
                     "funding_samples": int(np.isfinite(history_8h).sum()), "oi_change": change,
                     "measured_at": now.floor("s")}, None

    results = map_values(measure, zip(contracts, positions, strict=True))
    rows = [r for _, r, _ in results if r is not None]
    errors = {key: why for key, r, why in results if r is None}
    return pd.DataFrame(rows, columns=COLUMNS), errors


def _naive_utc(when):
    """UTC times (a Series or a Timestamp) as naive datetime64[ns], comparable with each other."""
    if isinstance(when, pd.Series):
        return pd.to_datetime(when, utc=True).dt.tz_convert(None).to_numpy("datetime64[ns]")
    return pd.Timestamp(when).tz_convert("UTC").tz_convert(None).to_datetime64().astype("datetime64[ns]")
