"""What a hedge policy would have done: spot coins plus isolated short perpetuals, step by step.

Conventions (as everywhere in the engine): prices in USD per coin, ratios and
rates as fractions, funding rates per payment exactly as published (positive =
longs pay shorts, so the short *receives* ``short coins x price x rate``).
Costs reported are costs: positive = paid.

The simulation is exact and path-dependent: a rebalance or a liquidation
changes everything after it, so no array formula can skip the steps. As
quant backtesters do, the step rules are one plain function compiled with
numba (cached on disk: about 1 s for the first backtest after an install,
0.3 s for the first in a new process, numba's import included). Where
numba is absent (xlwings Lite: Pyodide has no numba) the same function runs
as Python on lists: same rules, same results, about the speed of a plain loop.
Everything around it (inputs, funding at the real times, effectiveness,
drawdowns) is vectorised numpy.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, field

import numpy as np

from xlhedge.engine import defaults as D
from xlhedge.engine._checks import as_float_array
from xlhedge.engine.margin import MaintenanceTiers


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
        """Hedge effectiveness (Ederington): 1 - Var(step changes of the hedged value) / Var(step changes
        of the unhedged value), in USD. A static hedge h of a perpetual that tracks spot, without costs,
        scores 1 - (1 - h)^2 on any path (0.64 at h = 0.4)."""
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
    """1 - Var(hedged value changes) / Var(unhedged value changes) over the steps (USD changes, not
    returns: the short's gains and losses pile up as cash, so returns would weigh the same dollar swing
    by how far the path has trended); NaN when the unhedged value never moves.

    Parameters
    ----------
    unhedged, hedged : array, shape (T,)
        Portfolio values in USD at each step.
    """
    du, dh = np.diff(np.asarray(unhedged, dtype=float)), np.diff(np.asarray(hedged, dtype=float))
    var_u = float(np.var(du))
    return float("nan") if var_u == 0 else 1.0 - float(np.var(dh)) / var_u


def max_drawdown(values) -> float:
    """Largest fall from a running peak, as a fraction of that peak (0 when it only rises)."""
    values = np.asarray(values, dtype=float)
    return float(np.max(1.0 - values / np.maximum.accumulate(values)))


def _tier_arrays(tiers, maintenance_margin: float, N: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Floors, rates and amounts of each coin's tiers as (N, K) arrays; fewer tiers are padded with
    floors of +inf (never reached)."""
    if tiers is None:
        tiers = MaintenanceTiers.flat(maintenance_margin)
    per_coin = [tiers] * N if isinstance(tiers, MaintenanceTiers) else list(tiers)
    if len(per_coin) != N or not all(isinstance(t, MaintenanceTiers) for t in per_coin):
        raise ValueError(f"maintenance_tiers must be one MaintenanceTiers or one per coin ({N})")
    K = max(len(t.floors) for t in per_coin)
    floors, rates, amounts = np.full((N, K), np.inf), np.zeros((N, K)), np.zeros((N, K))
    for a, t in enumerate(per_coin):
        k = len(t.floors)
        floors[a, :k], rates[a, :k], amounts[a, :k] = t.floors, t.rates, t.amounts
    return floors, rates, amounts


def _per_step(value, name: str, T: int, N: int) -> np.ndarray:
    """``value`` as a (T, N) float array: a scalar, a row per asset, a column per step (shape (T,)) or (T, N)."""
    arr = as_float_array(value, name)
    if arr.ndim == 1 and arr.shape[0] == T and T != N:
        arr = arr[:, None]
    try:
        return np.broadcast_to(arr, (T, N)).astype(float)
    except ValueError:
        raise ValueError(f"{name} must have one value per step and asset ({T} x {N}), not shape "
                         f"{arr.shape}") from None


def simulate(prices, coins, target_ratio, funding_rates=None, *, perp_prices=None, highs=None,
             band: float = D.REBALANCE_BAND, fee_rate: float = 0.0, slippage_rate: float = 0.0,
             leverage: float = D.LEVERAGE, maintenance_margin: float = D.MAINTENANCE_MARGIN,
             maintenance_tiers=None, cash: float = 0.0, top_up: bool = False,
             jit: bool | None = None) -> BacktestResult:
    """Simulate spot holdings hedged with isolated short perpetuals of the same coins.

    Parameters
    ----------
    prices : array, shape (T, N)
        USD per coin at each step (e.g. daily or hourly closes), T >= 2, all > 0: what the holding is
        worth (spot, or the index).
    perp_prices : array, shape (T, N), optional
        The perpetual's own closes, where the short is marked, traded and paid funding on (default:
        ``prices``, a perpetual that tracks spot exactly; the difference is the basis).
    highs : array, shape (T, N), optional
        The highest price of the perpetual during each step (default: its close): a short is liquidated
        when the high reaches its liquidation price, even if the step closes below it.
    coins : array, shape (N,)
        Coins held (constant: the policy hedges them, it does not trade them).
    target_ratio : float or array broadcastable to (T, N)
        Fraction of the coins to hold short at each step (the policy: static, funding-adjusted,
        event-driven or the user's own column).
    funding_rates : array, shape (T, N), optional
        Funding paid at step t (the sum of the rates of the funding times in (t-1, t], at the
        contract's real times; 0 or NaN where none). Positive: longs pay shorts.
    band : float
        Rebalance when |short coins / coins - target| > band (fraction of the coins).
    fee_rate, slippage_rate : float
        Taker fee and slippage, fractions of the traded notional.
    leverage, maintenance_margin : float
        Isolated margin: a short is liquidated when the step's high reaches
        entry x (1 + 1/leverage) / (1 + maintenance_margin); its margin (notional at entry /
        leverage) is lost, and the policy re-hedges at that step's close.
    maintenance_tiers : MaintenanceTiers or sequence of them (one per coin), optional
        The venue's tiers in place of the one ``maintenance_margin`` rate: the liquidation price is
        :func:`xlhedge.engine.margin.tiered_liquidation_price` of the short's size and entry, so a
        larger short (a higher tier) is liquidated closer to its entry.
    cash : float
        USD not invested (not hedged).
    top_up : bool
        Instead of liquidation, add margin from cash (the liquidation price moves up to where it
        would be for a short opened at the current price).
    jit : bool, optional
        Run the step loop compiled by numba where it is installed (True) or as plain Python (False); by
        default the environment variable ``XLHEDGE_JIT`` decides (0: Python, 1: numba), else the run's
        size: numba from :data:`JIT_MIN_CELLS` steps x coins up. Same results either way.

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
    perp = p if perp_prices is None else _per_step(perp_prices, "perp_prices", T, N)
    if not np.isfinite(perp).all() or (perp <= 0).any():
        raise ValueError("perp_prices must be finite prices > 0")
    high = perp if highs is None else np.maximum(_per_step(highs, "highs", T, N), perp)
    if not np.isfinite(high).all():
        raise ValueError("highs must be finite prices")
    held = np.broadcast_to(as_float_array(coins, "coins"), (N,)).astype(float)
    if (held < 0).any() or not np.isfinite(held).all():
        raise ValueError("coins must be finite and >= 0")
    target = _per_step(target_ratio, "target_ratio", T, N)
    if not np.isfinite(target).all() or (target < 0).any():
        raise ValueError("target_ratio must be finite and >= 0")
    rates = _per_step(0.0 if funding_rates is None else funding_rates, "funding_rates", T, N)
    rates[np.isnan(rates)] = 0.0  # no payment at that step
    if np.isinf(rates).any():
        raise ValueError("funding_rates must be finite (NaN or 0 = no payment)")
    if leverage < 1 or not 0 <= maintenance_margin < 1:
        raise ValueError("leverage must be >= 1 and maintenance_margin in [0, 1)")

    arrays = (perp, high, held, target, rates, *_tier_arrays(maintenance_tiers, maintenance_margin, N))
    params = (float(band), float(fee_rate + slippage_rate), float(leverage), bool(top_up))
    compiled = None if jit is False else _jit_rules(None if jit else T * N)
    out = None
    if compiled is not None:
        try:
            # contiguous and writable: numba compiles once per array layout, and a read-only view (of a
            # DataFrame's values) would be another layout, another compile of several seconds
            out = compiled(*(np.require(x, np.float64, ("C", "W")) for x in arrays), *params)
        except Exception as exc:  # numba or LLVM broken on this machine (no compiler, no cache folder...)
            global _COMPILED
            _COMPILED = False
            warnings.warn(f"numba could not run the backtest ({type(exc).__name__}: {exc}); it runs as plain "
                          "Python from now on (same results, slower)", RuntimeWarning, stacklevel=2)
    if out is None:  # plain Python reads lists several times faster than numpy scalars
        out = _step_rules(*(x.tolist() for x in arrays), *params)
    flows, short, event, received, traded, rebalances = out
    unhedged = p @ held + cash
    return BacktestResult(
        value_unhedged=unhedged, value_hedged=unhedged + np.cumsum(flows), short_coins=short,
        funding_cost=-float(received), fees=float(traded) * fee_rate, slippage=float(traded) * slippage_rate,
        rebalances=int(rebalances), liquidations=_events(event, 1), top_ups=_events(event, 2))


def _events(event: np.ndarray, kind: int) -> list[tuple[int, int]]:
    """(step, asset) of the events of one kind, in time order."""
    where = np.flatnonzero(event == kind)
    return list(zip(*(x.tolist() for x in np.divmod(where, event.shape[1])), strict=True)) if len(where) else []


#: numba's dispatcher once compiled, False when numba cannot be imported, None until first asked.
_COMPILED = None


#: Steps x coins from which a backtest runs compiled by numba (unless ``XLHEDGE_JIT`` says otherwise). Below
#: it plain Python is faster than numba's start-up in a fresh process: the loop takes ~30 us a step and
#: coin as Python, while importing numba and loading the compiled loop takes about 1 s (compiling it, the
#: first time after an install or an upgrade: several). The bundled demo (2 coins, 731 days) is 1,462.
JIT_MIN_CELLS = 20_000


def jit_mode() -> str:
    """``XLHEDGE_JIT``: "0" (plain Python), "1" (numba for every run) or "auto" (unset: by the run's size)."""
    value = os.environ.get("XLHEDGE_JIT", "auto").strip().lower()
    return value if value in ("0", "1") else "auto"


def jit_switched_off() -> bool:
    """True when the environment variable ``XLHEDGE_JIT`` is ``0``: the step rules run as plain Python."""
    return jit_mode() == "0"


def _jit_rules(cells: int | None = None):
    """The step rules compiled by numba (cached on disk) for a run of ``cells`` steps x coins (None: any
    size), or None where they run as Python: a run below :data:`JIT_MIN_CELLS` (unless ``XLHEDGE_JIT=1``),
    ``XLHEDGE_JIT=0``, or no numba (xlwings Lite: Pyodide has none)."""
    mode = jit_mode()
    if mode == "0" or (mode == "auto" and cells is not None and cells < JIT_MIN_CELLS):
        return None
    global _COMPILED
    if _COMPILED is None:
        try:
            import numba
        except ImportError:
            _COMPILED = False
        else:
            _COMPILED = numba.njit(cache=True, nogil=True)(_step_rules)
    return _COMPILED or None


def _step_rules(p, high, held, target, rates, floors, mm_rates, mm_amounts, band, cost_rate, leverage, top_up):
    """The short's rules, step by step and coin by coin (written for numba; runs as Python too).

    ``p`` (the perpetual's closes), ``high`` (its highs), ``target``, ``rates`` are (T, N) arrays, or
    lists of lists (faster as plain Python); they are read as ``x[t][a]`` so both work. ``floors``,
    ``mm_rates``, ``mm_amounts``: each coin's maintenance tiers, (N, K). Returns (flows (T,), short
    (T, N), event (T, N): 1 = liquidated, 2 = topped up, funding received, USD traded, rebalances).
    """
    T, N = len(p), len(held)
    flows = np.zeros(T)
    short = np.zeros((T, N))
    event = np.zeros((T, N), np.int8)
    s = np.zeros(N)
    entry = np.zeros(N)
    received = 0.0
    traded = 0.0
    rebalances = 0
    level = np.full(N, np.inf)  # each short's liquidation price, for the size and entry it was worked out at
    level_size = np.zeros(N)
    level_entry = np.zeros(N)
    for a in range(N):  # open the target short at the first close
        if held[a] > 0:
            s[a] = target[0][a] * held[a]
            entry[a] = p[0][a]
            traded += s[a] * p[0][a]
            flows[0] -= s[a] * p[0][a] * cost_rate
            short[0, a] = s[a]
    for t in range(1, T):
        flow = 0.0
        for a in range(N):
            if held[a] <= 0:
                continue
            price, previous, size = p[t][a], p[t - 1][a], s[a]
            liquidated = False
            if size > 0 and (size != level_size[a] or entry[a] != level_entry[a]):
                # the liquidation price, again only when the short changed: the tier its notional there is in
                level[a], level_size[a], level_entry[a] = np.inf, size, entry[a]
                base = size * entry[a] * (1.0 + 1.0 / leverage)  # margin + P&L = base - size x price
                tiers = floors[a]
                for k in range(len(tiers)):
                    floor = tiers[k]
                    if floor == np.inf:
                        break
                    cap = tiers[k + 1] if k + 1 < len(tiers) else np.inf
                    m, d = mm_rates[a][k], mm_amounts[a][k]
                    inside = (base + d) / (size * (1.0 + m))
                    if floor <= size * inside < cap and inside < level[a]:
                        level[a] = inside
                    if floor > 0 and base - floor <= floor * m - d and floor / size < level[a]:
                        level[a] = floor / size  # the margin falls short where this tier starts
            if size > 0 and high[t][a] >= level[a]:
                if top_up:  # margin added from cash: the liquidation price re-based on the close
                    entry[a] = price
                    event[t, a] = 2
                else:  # closed at the liquidation price: the loss since entry is the whole margin
                    flow -= size * entry[a] / leverage + size * (entry[a] - previous)
                    event[t, a] = 1
                    size = 0.0
                    liquidated = True
            if not liquidated:
                got = size * price * rates[t][a]
                received += got
                flow += size * (previous - price) + got
            want = target[t][a] * held[a]
            if abs(size / held[a] - target[t][a]) > band:  # back to the target at the close
                notional = abs(want - size) * price
                traded += notional
                flow -= notional * cost_rate
                if want > size:  # a bigger short: its entry is the average of old and new
                    entry[a] = (size * entry[a] + (want - size) * price) / want
                size = want
                rebalances += 1
            s[a] = size
            short[t, a] = size
        flows[t] = flow
    return flows, short, event, received, traded, rebalances


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
