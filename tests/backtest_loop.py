"""A plain step-by-step simulation of the backtest's rules, written apart from the engine:
the reference the vectorised engine is tested against (and the bench's baseline).

Rules (from xlhedge.engine.backtest's docstring): open the target short at step 0 (fee and
slippage on the traded notional); at each later step book the short's P&L from the previous
close and the funding it receives (coins x price x rate), all at the perpetual's price (the holding is
valued at spot); a short whose step high reaches entry x (1 + 1/L) / (1 + m) is closed and loses its
whole margin (entry notional / L), or with top-up keeps going with its liquidation price re-based on
the current price; then, at the close,
trade back to the target when the hedged fraction is more than the band away (a bigger short
averages its entry price).
"""

from __future__ import annotations


def liquidation_by_bisection(size, entry, lev, tiers):
    """The price where a short's margin plus P&L, size x entry / lev + size x (entry - P), first falls to
    the maintenance margin of its notional, max over tiers ``(floor, rate, amount)`` with floor <= size x P of
    size x P x rate - amount: found by halving an interval 100 times (not by the engine's closed form)."""
    def short_of_margin(price):
        notional = size * price
        _, rate, amount = max(t for t in tiers if t[0] <= notional)
        return size * entry / lev + size * (entry - price) <= notional * rate - amount

    low, high = entry, entry * (1 + 1 / lev) + 1.0  # not yet at the entry; past it once the margin is gone
    for _ in range(100):
        middle = (low + high) / 2
        low, high = (low, middle) if short_of_margin(middle) else (middle, high)
    return high


def plain_simulation(prices, coins, targets, rates, band, fee, slip, lev, mmr, cash=0.0, top_up=False,
                     perp=None, highs=None, tiers=None):
    """Lists in, dict of totals and per-step values out (no numpy on purpose). ``prices``: spot;
    ``perp``: the perpetual's closes (default: spot); ``highs``: its highs (default: its closes); ``tiers``:
    (floor USD, rate, amount USD) tuples in place of the one rate ``mmr``, the liquidation price then
    found by bisection."""
    spot = prices
    prices = spot if perp is None else perp
    highs = prices if highs is None else highs
    steps, assets = len(prices), len(coins)
    value_u, value_h = [], []
    running = 0.0
    fees = slips = received_total = 0.0
    rebalances, liquidations, top_ups = 0, [], []
    size = [0.0] * assets
    entry = [0.0] * assets
    for t in range(steps):
        flow = 0.0
        for a in range(assets):
            if coins[a] == 0:
                continue
            price = prices[t][a]
            if t == 0:
                size[a] = targets[t][a] * coins[a]
                entry[a] = price
                cost = size[a] * price
                fees += cost * fee
                slips += cost * slip
                flow -= cost * (fee + slip)
                continue
            previous = prices[t - 1][a]
            if tiers is None:
                liq = entry[a] * (1 + 1 / lev) / (1 + mmr)
            else:
                liq = liquidation_by_bisection(size[a], entry[a], lev, tiers) if size[a] > 0 else float("inf")
            high = max(highs[t][a], price)
            if size[a] > 0 and high >= liq and not top_up:
                flow += -size[a] * entry[a] / lev - size[a] * (entry[a] - previous)
                liquidations.append((t, a))
                size[a] = 0.0
            else:
                if size[a] > 0 and high >= liq:
                    entry[a] = price
                    top_ups.append((t, a))
                flow += size[a] * (previous - price)
                got = size[a] * price * rates[t][a]
                received_total += got
                flow += got
            want = targets[t][a] * coins[a]
            if abs(size[a] / coins[a] - targets[t][a]) > band:
                traded = abs(want - size[a]) * price
                fees += traded * fee
                slips += traded * slip
                flow -= traded * (fee + slip)
                if want > size[a]:
                    entry[a] = (size[a] * entry[a] + (want - size[a]) * price) / want
                size[a] = want
                rebalances += 1
        running += flow
        worth = sum(coins[a] * spot[t][a] for a in range(assets)) + cash
        value_u.append(worth)
        value_h.append(worth + running)
    return {"value_unhedged": value_u, "value_hedged": value_h, "funding_cost": -received_total, "fees": fees,
            "slippage": slips, "rebalances": rebalances, "liquidations": sorted(liquidations),
            "top_ups": sorted(top_ups)}


def plain_effectiveness(unhedged, hedged):
    """1 - Var(hedged value changes) / Var(unhedged value changes), with two loops and the textbook
    variance (population, as numpy's default)."""
    def variance(values):
        changes = [values[i + 1] - values[i] for i in range(len(values) - 1)]
        mean = sum(changes) / len(changes)
        return sum((c - mean) ** 2 for c in changes) / len(changes)

    return 1 - variance(hedged) / variance(unhedged)
