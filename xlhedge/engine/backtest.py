"""What a hedge policy would have done: spot coins plus isolated short perpetuals, step by step.

Conventions (as everywhere in the engine): prices in USD per coin, ratios and
rates as fractions, funding rates per payment exactly as published (positive =
longs pay shorts, so the short *receives* ``short coins x price x rate``).
Costs reported are costs: positive = paid.

The simulation is exact and path-dependent (a rebalance or a liquidation
changes everything after it), yet vectorised: between two events (a
rebalance when the hedged fraction leaves the band, a liquidation when the
price reaches the short's liquidation price) the short is constant, so the
P&L and funding of a whole stretch are computed with array operations, and the
next event is found with a vectorised search. Work grows with the number of
steps plus the number of events, not steps x coins in Python.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from xlhedge.engine._checks import as_float_array

#: Steps searched at once for the next event; doubles while none is found.
_FIRST_WINDOW = 64


@dataclass
class BacktestResult:
    """Values over time and totals of one simulation.

    Attributes
    ----------
    value_unhedged, value_hedged : ndarray, shape (T,)
        USD: the coins at each step's price plus cash; hedged adds the shorts'
        P&L, funding received, minus fees and slippage (margin is part of cash).
    short_coins : ndarray, shape (T, N)
        Coins short per asset after each step's trades.
    funding_cost, fees, slippage : float
        USD over the whole run; ``funding_cost`` > 0 = the shorts paid.
    rebalances : int
        Trades after the opening one (band breaches and re-hedges after a liquidation).
    liquidations : list of (step, asset index)
        Shorts closed at their liquidation price (margin lost).
    top_ups : list of (step, asset index)
        With ``top_up``: shorts kept open by adding margin from cash instead.
    """

    value_unhedged: np.ndarray
    value_hedged: np.ndarray
    short_coins: np.ndarray
    funding_cost: float
    fees: float
    slippage: float
    rebalances: int
    liquidations: list = field(default_factory=list)
    top_ups: list = field(default_factory=list)

    @property
    def effectiveness(self) -> float:
        """Hedge effectiveness (Ederington): 1 - Var(hedged returns) / Var(unhedged returns)."""
        return hedge_effectiveness(self.value_unhedged, self.value_hedged)

    @property
    def max_drawdown(self) -> tuple[float, float]:
        """(unhedged, hedged) largest fall from a previous peak, as fractions (0.3 = -30%)."""
        return max_drawdown(self.value_unhedged), max_drawdown(self.value_hedged)

    @property
    def worst_step(self) -> tuple[tuple[int, float], tuple[int, float]]:
        """((step, return), (step, return)) of the worst single step, unhedged and hedged."""
        out = []
        for values in (self.value_unhedged, self.value_hedged):
            r = step_returns(values)
            i = int(np.argmin(r))
            out.append((i + 1, float(r[i])))
        return out[0], out[1]


def step_returns(values) -> np.ndarray:
    values = np.asarray(values, dtype=float)
    return values[1:] / values[:-1] - 1.0


def hedge_effectiveness(unhedged, hedged) -> float:
    """1 - Var(hedged step returns) / Var(unhedged step returns); NaN when the unhedged value never moves."""
    ru, rh = step_returns(unhedged), step_returns(hedged)
    var_u = float(np.var(ru))
    return float("nan") if var_u == 0 else 1.0 - float(np.var(rh)) / var_u


def max_drawdown(values) -> float:
    """Largest fall from a running peak, as a fraction of that peak (0 when it only rises)."""
    values = np.asarray(values, dtype=float)
    return float(np.max(1.0 - values / np.maximum.accumulate(values)))


def liquidation_price_short(entry, leverage: float, maintenance_margin: float):
    """Isolated linear short: entry x (1 + 1/leverage) / (1 + maintenance margin rate)."""
    return entry * (1.0 + 1.0 / leverage) / (1.0 + maintenance_margin)


def _targets(target_ratio, T: int, N: int) -> np.ndarray:
    target = as_float_array(target_ratio, "target_ratio")
    if target.ndim == 1 and target.shape[0] == T and T != N:
        target = target[:, None]
    target = np.broadcast_to(target, (T, N)).astype(float)
    if not np.isfinite(target).all() or (target < 0).any():
        raise ValueError("target_ratio must be finite and >= 0")
    return target


def simulate(prices, coins, target_ratio, funding_rates=None, *, band: float = 0.05, fee_rate: float = 0.0,
             slippage_rate: float = 0.0, leverage: float = 3.0, maintenance_margin: float = 0.004,
             cash: float = 0.0, top_up: bool = False) -> BacktestResult:
    """Simulate spot holdings hedged with isolated short perpetuals of the same coins.

    Parameters
    ----------
    prices : array, shape (T, N)
        USD per coin at each step (e.g. daily or hourly closes), T >= 2, all > 0.
    coins : array, shape (N,)
        Coins held (constant: the policy hedges them, it does not trade them).
    target_ratio : float or array broadcastable to (T, N)
        Fraction of the coins to hold short at each step (the policy: static, funding-adjusted,
        event-driven or the user's own column).
    funding_rates : array, shape (T, N), optional
        Funding paid at step t (the sum of the rates of the funding times in (t-1, t], at the
        contract's real times; 0 where none). Positive: longs pay shorts.
    band : float
        Rebalance when |short coins / coins - target| > band (fraction of the coins).
    fee_rate, slippage_rate : float
        Taker fee and slippage, fractions of the traded notional.
    leverage, maintenance_margin : float
        Isolated margin: a short is liquidated when the step's price reaches
        entry x (1 + 1/leverage) / (1 + maintenance_margin); its margin (notional at entry /
        leverage) is lost, and the policy re-hedges at that step's close.
    cash : float
        USD not invested (not hedged).
    top_up : bool
        Instead of liquidation, add margin from cash (the liquidation price moves up to where it
        would be for a short opened at the current price).

    Returns
    -------
    BacktestResult
    """
    p = as_float_array(prices, "prices")
    if p.ndim == 1:
        p = p[:, None]
    T, N = p.shape
    if T < 2 or not np.isfinite(p).all() or (p <= 0).any():
        raise ValueError("prices must be at least 2 steps of finite prices > 0")
    held = np.broadcast_to(as_float_array(coins, "coins"), (N,)).astype(float)
    if (held < 0).any() or not np.isfinite(held).all():
        raise ValueError("coins must be finite and >= 0")
    target = _targets(target_ratio, T, N)
    rates = np.zeros((T, N)) if funding_rates is None else np.nan_to_num(
        np.broadcast_to(as_float_array(funding_rates, "funding_rates"), (T, N)).astype(float))
    if leverage < 1 or not 0 <= maintenance_margin < 1:
        raise ValueError("leverage must be >= 1 and maintenance_margin in [0, 1)")

    pnl = np.zeros((T, N))       # shorts' P&L booked at each step
    received = np.zeros((T, N))  # funding received by the shorts
    paid = np.zeros((T, N))      # fees + slippage
    short = np.zeros((T, N))
    active = held > 0
    safe_held = np.where(active, held, 1.0)
    s = np.where(active, target[0] * held, 0.0)
    entry = p[0].copy()
    cost_rate = fee_rate + slippage_rate
    traded_usd = [float(np.sum(s * p[0]))]  # every trade's notional, for fees and slippage
    paid[0] = s * p[0] * cost_rate
    short[0] = s
    rebalances = 0
    liquidations, top_ups = [], []
    t, window = 0, _FIRST_WINDOW
    while t < T - 1:
        # all assets move together: find the first step, in a window, where any asset has an event
        stop = min(T, t + 1 + window)
        seg = slice(t + 1, stop)
        liq_price = liquidation_price_short(entry, leverage, maintenance_margin)
        liq_hit = (p[seg] >= liq_price) & (s > 0)
        breach = (np.abs(s / safe_held - target[seg]) > band) & active
        rows = np.flatnonzero((liq_hit | breach).any(axis=1))
        end = t + 1 + int(rows[0]) if len(rows) else stop - 1  # the last step booked with these shorts
        span = slice(t + 1, end + 1)
        pnl[span] = s * (p[t:end] - p[t + 1:end + 1])
        received[span] = s * p[span] * rates[span]
        short[span] = s
        if not len(rows):
            t, window = end, window * 2
            continue
        window = _FIRST_WINDOW
        k = end - t - 1
        hit = liq_hit[k]
        if hit.any():
            if top_up:
                entry = np.where(hit, p[end], entry)
                top_ups += [(end, int(n)) for n in np.flatnonzero(hit)]
            else:
                # closed at the liquidation price: the loss since entry is the whole margin
                pnl[end] = np.where(hit, -s * entry / leverage - s * (entry - p[end - 1]), pnl[end])
                received[end] = np.where(hit, 0.0, received[end])
                liquidations += [(end, int(n)) for n in np.flatnonzero(hit)]
                s = np.where(hit, 0.0, s)
        want = target[end] * held
        trade = active & (np.abs(s / safe_held - target[end]) > band)
        if trade.any():
            notional = np.where(trade, np.abs(want - s) * p[end], 0.0)
            traded_usd.append(float(notional.sum()))
            paid[end] += notional * cost_rate
            grow = trade & (want > s)  # a bigger short: its entry is the average of old and new
            entry = np.where(grow, (s * entry + (want - s) * p[end]) / np.where(grow, want, 1.0), entry)
            s = np.where(trade, want, s)
            rebalances += int(trade.sum())
        short[end] = s
        t = end
    fees = float(np.sum(traded_usd)) * fee_rate
    slippage = float(np.sum(traded_usd)) * slippage_rate

    flows = (pnl + received - paid).sum(axis=1)
    unhedged = p @ held + cash
    return BacktestResult(
        value_unhedged=unhedged, value_hedged=unhedged + np.cumsum(flows), short_coins=short,
        funding_cost=float(-received.sum()), fees=float(fees), slippage=float(slippage), rebalances=rebalances,
        liquidations=sorted(liquidations), top_ups=sorted(top_ups))


def funding_at_steps(step_times, pay_times, rates) -> np.ndarray:
    """Funding of each step: the sum of the rates paid at the real funding times in (previous step, step].

    Parameters
    ----------
    step_times : array of datetime64, shape (T,)
        Times of the price steps (e.g. daily closes), increasing.
    pay_times : array of datetime64, shape (K,)
        The contract's funding times, increasing (8 h, 4 h, 1 h, or a mix: they are read, not assumed).
    rates : array, shape (K,) or (K, N)
        Rate paid at each funding time (per interval, fraction; positive = longs pay shorts); NaN = none.

    Returns
    -------
    ndarray, shape (T,) or (T, N)
        Row 0 is 0 (nothing is held before the first step); payments before it or after the last
        step are not counted.
    """
    steps = np.asarray(step_times, dtype="datetime64[ns]")
    paid = np.asarray(pay_times, dtype="datetime64[ns]")
    r = np.nan_to_num(as_float_array(rates, "rates"))
    if r.shape[0] != paid.shape[0]:
        raise ValueError("rates must have one row per funding time")
    cumulative = np.concatenate([np.zeros((1, *r.shape[1:])), np.cumsum(r, axis=0)])
    upto = cumulative[np.searchsorted(paid, steps, side="right")]  # sum of payments at or before each step
    out = np.diff(upto, axis=0, prepend=upto[:1])
    return out
