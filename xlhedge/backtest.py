"""Would the hedge have worked? The workbook's hedge policy replayed on price and funding history.

The simulation itself is :func:`xlhedge.engine.backtest.simulate` (pure). This
module gathers what it needs and reports what it did:

* history (:mod:`xlhedge.backtest_history`): the bundled demo (real Binance
  funding, SYNTHETIC prices) or the exchange's own daily closes and funding
  history, kept in an on-disk cache so a re-run fetches only what is missing;
* the policy: ``static`` (one ratio), ``funding`` (HEDGE_RATIO's rule at each
  step, from the rate in force, and the crowded-longs rule when it is on),
  ``events`` (the funding rule plus the event rule around the event dates),
  ``sheet`` (exactly the workbook's Settings: each rule on or off as there),
  or ``own`` (a ratio per step you give);
* the results: values over time, hedge effectiveness, drawdowns, funding,
  fees, slippage, rebalances, liquidations and the worst day of each;
* the workbook: :mod:`xlhedge.backtest_book` reads the Portfolio, Settings and
  the Backtest sheet's inputs and writes the results through the workbook port
  (:mod:`xlhedge.workbook.backtest_sheet` shapes them into the sheet's rows).

Units: prices USD per coin, ratios and rates fractions, costs USD (> 0 = paid).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from xlhedge import engine
from xlhedge.backtest_history import (
    DEMO_COINS,
    DEMO_END,
    DEMO_START,
    ONE_SERIES_NOTE,
    BacktestError,
    History,
    HistoryUnavailable,
    demo_history,
    live_history,
)
from xlhedge.engine import defaults as D
from xlhedge.engine.backtest import BacktestResult, funding_at_steps, simulate
from xlhedge.engine.margin import MaintenanceTiers
from xlhedge.engine.policy import BACKTEST_POLICIES, HedgePolicy, hedge_target

POLICIES = BACKTEST_POLICIES
#: Fees and slippage a run accepts, fractions of the traded notional (5% is far beyond any exchange's).
COST_RANGE = (0.0, 0.05)
#: Where prices and funding come from; the first is the default: the exchange's history when it answers,
#: else the bundled demo (auto), the exchange's only (live), the bundled demo only (demo).
DATA_SOURCES = ("auto", "live", "demo")


@dataclass
class Backtest:
    """One run: its inputs, the simulation and the dates of its steps."""

    coins: dict[str, float]
    cash: float
    policy: str
    history: History
    result: BacktestResult
    target: np.ndarray
    notes: list[str] = field(default_factory=list)
    basis: float | None = None  # USD the basis added to the hedged value (None: one price series)

    @property
    def times(self) -> pd.DatetimeIndex:
        return self.history.prices.index

    def series(self) -> pd.DataFrame:
        """Date, unhedged and hedged value (USD) at each step."""
        return pd.DataFrame({"date": self.times, "unhedged": self.result.value_unhedged,
                             "hedged": self.result.value_hedged})

    def summary(self) -> list[tuple[str, object, str]]:
        """(label, value, kind) rows: what the Backtest sheet and the CLI show. ``kind`` says how the value
        reads: "sentence", "text", "pct" (a fraction), "usd", "cost" (USD, > 0 = paid) or "count"."""
        r, t = self.result, self.times
        (du, dh), ((su, ru), (sh, rh)) = r.max_drawdown, r.worst_step
        coins = list(self.coins)
        liquidations = ", ".join(f"{coins[a]} {t[s]:%Y-%m-%d}" for s, a in r.liquidations) or "none"
        return [
            ("Data", self.history.source, "sentence"),
            ("Period", f"{t[0]:%Y-%m-%d} to {t[-1]:%Y-%m-%d} ({len(t)} daily closes)", "text"),
            ("Holdings", ", ".join(f"{c:g} {k}" for k, c in self.coins.items()) + f", ${self.cash:,.0f} cash",
             "text"),
            ("Policy", self.policy + f" (average ratio {np.mean(self.target):.0%})", "text"),
            ("Hedge effectiveness (on daily USD changes)", r.effectiveness, "pct"),
            ("Max drawdown, unhedged", -du, "pct"),
            ("Max drawdown, hedged", -dh, "pct"),
            ("Worst day, unhedged", f"{ru:.1%} on {t[su]:%Y-%m-%d}", "text"),
            ("Worst day, hedged", f"{rh:.1%} on {t[sh]:%Y-%m-%d}", "text"),
            ("Funding (USD, < 0 = the shorts earned)", r.funding_cost, "cost"),
            ("Fees (USD)", r.fees, "usd"),
            ("Slippage (USD)", r.slippage, "usd"),
            ("Rebalances", r.rebalances, "count"),
            ("Liquidations (at the day's high)", liquidations, "text"),
            ("Basis (USD, the perpetual against spot)", "n/a: one price series" if self.basis is None
             else self.basis, "usd"),
            ("Value at the end, unhedged (USD)", float(r.value_unhedged[-1]), "usd"),
            ("Value at the end, hedged (USD)", float(r.value_hedged[-1]), "usd"),
        ]


# ---------------------------------------------------------------- policy

def target_ratios(policy: str, times: pd.DatetimeIndex, history: History, coins: list[str], *,
                  ratio: float | None = None, outlook="neutral", conviction: float = 0.5,
                  threshold: float = D.FUNDING_THRESHOLD, adjustment: float = D.FUNDING_ADJUSTMENT,
                  max_ratio: float = 1.0, funding_adjust: bool = True,
                  crowded: bool = False, crowded_bump: float = 0.1, crowded_percentile: float = 0.9,
                  crowded_oi_rise: float = 0.1,
                  events: tuple = (3.0, 24.0, 0.8), event_times=None, event_rule: bool = False,
                  own=None) -> np.ndarray:
    """Target hedge ratio of each coin at each step, shape (T, N): the engine's hedge target
    (:func:`xlhedge.engine.policy.hedge_target`, the policy the Hedge sheet's formula is made from).

    ``static``: the base ratio (``ratio``, else the outlook's) and no rule; ``funding``: the funding
    rule with the latest rate paid at or before the step (its interval read from the funding times),
    and the crowded-longs rule when ``crowded`` (the rate's percentile among the last 30 days' rates,
    and the open interest's change over the 7 days before the step where the history has it; where
    it has none, funding alone decides, as the sheet does for exchanges that do not publish it);
    ``events``: that, then at least the floor around each of ``event_times`` (default:
    the shipped FOMC decisions; ``events`` = days before, hours after, floor); ``sheet``: each rule
    on or off as the Settings say (``funding_adjust``, ``crowded``, ``event_rule``), which is the Hedge
    sheet's formula; ``own``: ``own`` ratios, one per step (or per step and coin).
    """
    T, N = len(times), len(coins)
    if policy == "own":
        if own is None:
            raise BacktestError("the own policy needs a ratio per step")
        return np.broadcast_to(np.asarray(own, dtype=float).reshape(T, -1), (T, N))
    days, hours_after, floor = events
    rules = HedgePolicy(outlook=outlook, conviction=conviction, ratio=ratio,
                        funding_adjust=funding_adjust and policy != "static", funding_threshold=threshold,
                        adjustment=adjustment, max_ratio=max_ratio, crowded=crowded and policy != "static",
                        crowded_bump=crowded_bump, crowded_percentile=crowded_percentile,
                        crowded_oi_rise=crowded_oi_rise,
                        events=policy == "events" or (policy == "sheet" and event_rule), event_days_before=days,
                        event_hours_after=hours_after, event_floor=floor)
    if policy == "static":
        return np.full((T, N), hedge_target(rules))
    from xlhedge.market.history import spacing_hours

    steps = times.tz_convert(None).to_numpy(dtype="datetime64[ns]")
    paid = history.funding_times
    last = np.searchsorted(paid, steps, side="right") - 1  # the latest payment at or before each step
    # each payment's interval, from the timestamps (as `history funding` reports it); a lone payment: 8 h
    hours = spacing_hours(pd.Series(pd.to_datetime(paid))).fillna(8.0).to_numpy(float)
    rates = history.funding_rates[coins].to_numpy(float)
    known = last >= 0
    rate = np.where(known[:, None], rates[np.maximum(last, 0)], np.nan)
    interval = np.where(known, hours[np.maximum(last, 0)], 8.0)[:, None]
    percentile = (engine.rolling_funding_percentile(paid, engine.rate_per_8h(rates, hours[:, None]), steps)
                  if rules.crowded else np.nan)
    oi_change = np.nan  # not published: funding alone decides, as in the sheet
    if rules.crowded and history.open_interest is not None:
        recorded = history.open_interest.reindex(columns=coins)
        oi_change = engine.rolling_open_interest_change(
            recorded.index.tz_convert(None).to_numpy(dtype="datetime64[ns]"), recorded.to_numpy(float), steps)
    if rules.events and event_times is None:
        event_times = [e.time for e in engine.shipped_events()]
    target = hedge_target(rules, rate, interval, percentile, oi_change, steps[:, None],
                          () if event_times is None else event_times)
    return np.broadcast_to(np.asarray(target, dtype=float), (T, N)).copy()


# ---------------------------------------------------------------- run

def run_backtest(coins: dict[str, float], cash: float = 0.0, *, start=None, end=None, policy: str = "funding",
                 data: str = DATA_SOURCES[0], exchange: str = "binance", fee: float = D.TAKER_FEE,
                 slippage: float = D.SLIPPAGE, leverage: float = D.LEVERAGE,
                 maintenance_margin: float = D.MAINTENANCE_MARGIN, maintenance_tiers=None,
                 band: float = D.REBALANCE_BAND,
                 top_up: bool = False, history: History | None = None, **policy_options) -> Backtest:
    """Replay the hedge policy for ``coins`` (coin -> coins held) between ``start`` and ``end`` (UTC dates).

    ``start`` and ``end`` are both included (the closes stamped on those dates; default: the demo's two
    years, else the last 365 days). ``data``: ``auto`` uses the exchange's history when it answers and
    the bundled demo when it does not (said in the notes), ``live`` the exchange's only, ``demo`` the
    bundled only. ``maintenance_tiers`` (a :class:`~xlhedge.engine.MaintenanceTiers`, or one per coin)
    replaces the one ``maintenance_margin`` rate: a larger short is liquidated closer to its entry.
    ``ratio`` (0 to 1) replaces the outlook's base ratio for every policy: the static
    policy holds it, the rules adjust it.

    Raises
    ------
    BacktestError
        Unknown policy, data or exchange, a ratio outside 0 to 1, fees or slippage outside 0 to 5%, a
        coin the data does not have, a window with fewer than two closes.
    """
    check_choices(policy, data, exchange, policy_options.get("ratio"), fee, slippage)
    coins = {str(k).strip().upper(): float(v) for k, v in coins.items() if float(v) > 0}
    if not coins:
        raise BacktestError("no coins to hedge: type quantities in the Portfolio")
    begin, finish = _period(start, end, data)
    notes = []
    crowded = policy != "static" and bool(policy_options.get("crowded"))
    if history is None and data != "demo":
        try:
            history = live_history(list(coins), exchange, begin, finish, open_interest=crowded)
        except HistoryUnavailable as exc:
            if data == "live":
                raise
            notes.append(f"{exc}: the bundled demo data instead")
            data = "demo"
            begin, finish = _period(start, end, data)
        else:
            notes += _coverage(history, begin, crowded)
    if history is None:  # the demo: asked for, or what auto falls back to
        missing = [c for c in coins if c not in DEMO_COINS]
        if missing:
            notes.append(f"the demo data has BTC and ETH only: {', '.join(missing)} left out")
            coins = {c: q for c, q in coins.items() if c in DEMO_COINS}
            if not coins:
                raise BacktestError("the demo data has BTC and ETH only; use --data live for other coins")
        history = demo_history()
    rows = (history.prices.index >= begin) & (history.prices.index <= finish)
    window = history.window(rows, list(coins))
    prices = window.prices
    if len(prices) < 2:
        raise BacktestError(f"fewer than two daily closes between {begin:%Y-%m-%d} and {finish:%Y-%m-%d} "
                            f"({history.source})")
    if window.perp is None:
        notes.append(ONE_SERIES_NOTE)
    if policy == "own" and isinstance(policy_options.get("own"), pd.DataFrame):
        policy_options["own"] = own_ratios(policy_options["own"], prices.index, list(coins))
    if policy == "events":
        times = policy_options.get("event_times")
        times = [e.time for e in engine.shipped_events()] if times is None else times
        inside = [t for t in np.asarray(times, dtype="datetime64[ns]")
                  if begin.tz_convert(None) <= pd.Timestamp(t) <= finish.tz_convert(None)]
        if not inside:
            notes.append("no event in this period: add its past dates (FOMC, CPI ...) to the Events table")
    target = target_ratios(policy, prices.index, window, list(coins), **policy_options)
    if maintenance_tiers is None and window.tiers:  # the venue's tiers, the Settings rate where it has none
        from xlhedge.market.history import maintenance_tiers_said

        maintenance_tiers = [window.tiers.get(c) or MaintenanceTiers.flat(maintenance_margin) for c in coins]
        named = ", ".join(c for c in coins if c in window.tiers)
        notes.append(f"liquidation at {maintenance_tiers_said(exchange)} for {named} (by position size)")
    steps = prices.index.tz_convert(None).to_numpy(dtype="datetime64[ns]")
    funding = funding_at_steps(steps, history.funding_times, history.funding_rates[list(coins)].to_numpy(float))
    def replay(perp):
        return simulate(prices.to_numpy(float), list(coins.values()), target, funding, perp_prices=perp,
                        highs=None if window.highs is None else window.highs.to_numpy(float), band=band,
                        fee_rate=fee, slippage_rate=slippage, leverage=leverage,
                        maintenance_margin=maintenance_margin, maintenance_tiers=maintenance_tiers, cash=cash,
                        top_up=top_up)

    result = replay(None if window.perp is None else window.perp.to_numpy(float))
    basis = None
    if window.perp is not None:  # what the perpetual's own price did, against one that tracks spot
        basis = float(result.value_hedged[-1] - replay(None).value_hedged[-1])
    return Backtest(coins, cash, policy, window, result, target, notes, basis)


def _period(start, end, data: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    """First and last close of a run: as given, else the demo's two years or the last 365 days."""
    begin = _utc(start, DEMO_START if data == "demo" else None, "start")
    finish = _utc(end, DEMO_END if data == "demo" else pd.Timestamp.now(tz="UTC").normalize(), "end")
    if begin is None:
        begin = finish - pd.Timedelta(days=365)
    if begin >= finish:
        raise BacktestError("start must be before end")
    return begin, finish


def _coverage(history: History, begin: pd.Timestamp, crowded: bool) -> list[str]:
    """What a live history lacks for the crowded-longs rule, in words: open interest before it was kept."""
    notes = []
    if crowded:
        kept = None if history.open_interest is None else history.open_interest.dropna(how="all")
        if kept is None or kept.empty:
            notes.append("no open-interest history here: the crowded-longs rule reads funding alone")
        elif kept.index[0] > begin + pd.Timedelta(days=7):
            notes.append(f"open interest is kept from {kept.index[0]:%Y-%m-%d}: before that the crowded-longs "
                         "rule reads funding alone")
    return notes


def check_choices(policy: str, data: str, exchange: str, ratio, fee: float, slippage: float) -> None:
    """The run's choices, each refused in one sentence naming what is accepted."""
    from xlhedge.market.exchanges import EXCHANGES

    if policy not in POLICIES:
        raise BacktestError(f"policy must be one of {', '.join(POLICIES)} (got {policy!r})")
    if data not in DATA_SOURCES:
        raise BacktestError(f"data must be one of {', '.join(DATA_SOURCES)} (got {data!r})")
    if data != "demo" and exchange not in EXCHANGES:
        raise BacktestError(f"exchange must be one of {', '.join(EXCHANGES)} (got {exchange!r})")
    if ratio is not None and not 0 <= ratio <= 1:
        raise BacktestError(f"ratio must be from 0 to 1, a fraction of the holding (0.4 = 40%; got {ratio:g})")
    low, high = COST_RANGE
    for name, value in (("fee", fee), ("slippage", slippage)):
        if not low <= value <= high:
            raise BacktestError(f"{name} must be from {low:g} to {high:.0%} of the traded notional "
                                f"(0.0005 = 0.05%; got {value:g})")


def read_ratios(path) -> pd.DataFrame:
    """Your own ratios from a CSV file: a ``date`` column, then ``ratio`` (every coin) or one column
    per coin (BTC, ETH ...); fractions (0.4 = 40%)."""
    try:
        frame = pd.read_csv(path)
    except (OSError, ValueError) as exc:
        raise BacktestError(f"cannot read the ratios file {path}: {exc}") from None
    if "date" not in frame.columns or len(frame.columns) < 2:
        raise BacktestError("the ratios file needs a date column and a ratio column (or one per coin)")
    frame["date"] = pd.to_datetime(frame["date"], utc=True, errors="coerce")
    if frame["date"].isna().any():
        raise BacktestError("the ratios file has a date that is not a date (use 2022-01-31)")
    return frame.set_index("date").sort_index()


def own_ratios(frame: pd.DataFrame, times: pd.DatetimeIndex, coins: list[str]) -> np.ndarray:
    """Your ratios at each step: the latest row dated at or before it (before the first row: the first)."""
    columns = {c.upper(): c for c in frame.columns}
    picked = [columns.get(coin, columns.get("RATIO")) for coin in coins]
    if None in picked:
        missing = [coin for coin, col in zip(coins, picked, strict=True) if col is None]
        raise BacktestError(f"the ratios file has no ratio column for {', '.join(missing)}")
    values = frame[picked].apply(pd.to_numeric, errors="coerce")
    if values.isna().any().any() or (values < 0).any().any():
        raise BacktestError("the ratios file must hold numbers >= 0 (0.4 = 40%)")
    at = np.clip(np.searchsorted(frame.index, times, side="right") - 1, 0, None)
    return values.to_numpy(float)[at]


def _utc(value, default, name: str):
    """A UTC time from a command-line or cell value; ``default`` when it is empty."""
    from xlhedge.market.history import utc_time as utc

    if value is None or (isinstance(value, str) and not value.strip()):
        return default
    try:
        return utc(value, name)
    except ValueError as exc:
        raise BacktestError(str(exc)) from None


def format_summary(run: Backtest) -> str:
    """The results as the CLI prints them."""
    lines = []
    for label, value, kind in run.summary():
        if isinstance(value, str):
            text = value
        elif kind == "pct":
            text = f"{value:.1%}"
        elif kind in ("usd", "cost"):
            text = f"{'-' if value < 0 else ''}${abs(value):,.0f}"
        else:
            text = f"{value:,}"
        lines.append(f"{label + ':':<54}{text}")
    lines += [f"Note: {n}" for n in run.notes]
    return "\n".join(lines)


