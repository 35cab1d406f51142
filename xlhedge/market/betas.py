"""Betas to BTC estimated from exchange price history (for coins hedged with the BTC perpetual)."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from xlhedge.engine import estimate_beta
from xlhedge.market.errors import MarketDataError
from xlhedge.market.exchanges import exchange as registered
from xlhedge.market.history import price_history
from xlhedge.market.tasks import map_values

BETA_DAYS = 180


def perp_symbol(exchange: str, base: str) -> str:
    """The exchange's symbol of a coin's USDT perpetual ("SOL" on okx -> "SOL-USDT-SWAP")."""
    return registered(exchange).perp_symbol(base)


def estimate_betas(pairs, days: int = BETA_DAYS, timeout: float = 30.0,
                   prices: Callable = price_history, now=None) -> tuple[pd.DataFrame, dict]:
    """Beta of each (coin, exchange) to BTC from ``days`` of daily closes on that exchange.

    Parameters
    ----------
    pairs : iterable of (str, str)
        (base asset, exchange) to estimate.
    days : int
        Look-back window in days (daily candles; log returns, OLS).
    timeout : float
        Seconds allowed for each price download.

    Returns
    -------
    (pandas.DataFrame, dict)
        Rows ``base, beta, r2, n, exchange, estimated_at`` and a dict of
        ``base -> message`` for the coins that could not be estimated.
    """
    pairs = list(dict.fromkeys((b.upper(), ex) for b, ex in pairs))
    now = now or pd.Timestamp.now(tz="UTC")
    start = now - pd.Timedelta(days=days)
    wanted = {(ex, b) for b, ex in pairs} | {(ex, "BTC") for _, ex in pairs}

    def fetch(key):
        ex, base = key
        try:
            frame = prices(ex, perp_symbol(ex, base), "1d", start, now, timeout)
            return key, frame.set_index("time")["close"], None
        except (MarketDataError, ValueError) as exc:
            return key, None, str(exc)[:120]

    got = {key: (series, err) for key, series, err in map_values(fetch, sorted(wanted))}
    rows, errors = [], {}
    for base, ex in pairs:
        alt, alt_err = got[(ex, base)]
        btc, btc_err = got[(ex, "BTC")]
        if alt is None or btc is None:
            errors[base] = alt_err or btc_err
            continue
        joined = pd.concat([alt.rename("alt"), btc.rename("btc")], axis=1, join="inner").dropna()
        try:
            est = estimate_beta(joined["alt"].to_numpy(), joined["btc"].to_numpy())
        except ValueError as exc:
            errors[base] = f"{ex}: {exc}"
            continue
        rows.append({"base": base, "beta": float(est.beta), "r2": float(est.r2), "n": int(est.n),
                     "exchange": ex, "estimated_at": now.floor("s")})
    return pd.DataFrame(rows, columns=["base", "beta", "r2", "n", "exchange", "estimated_at"]), errors
