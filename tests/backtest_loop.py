"""A plain step-by-step simulation of the backtest's rules, written apart from the engine:
the reference the vectorised engine is tested against (and the bench's baseline).

Rules (from xlhedge.engine.backtest's docstring): open the target short at step 0 (fee and
slippage on the traded notional); at each later step book the short's P&L from the previous
close and the funding it receives (coins x price x rate); a short whose step price reaches
entry x (1 + 1/L) / (1 + m) is closed and loses its whole margin (entry notional / L), or with
top-up keeps going with its liquidation price re-based on the current price; then, at the close,
trade back to the target when the hedged fraction is more than the band away (a bigger short
averages its entry price).
"""

from __future__ import annotations


def plain_simulation(prices, coins, targets, rates, band, fee, slip, lev, mmr, cash=0.0, top_up=False):
    """Lists in, dict of totals and per-step values out (no numpy on purpose)."""
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
            liq = entry[a] * (1 + 1 / lev) / (1 + mmr)
            if size[a] > 0 and price >= liq and not top_up:
                flow += -size[a] * entry[a] / lev - size[a] * (entry[a] - previous)
                liquidations.append((t, a))
                size[a] = 0.0
            else:
                if size[a] > 0 and price >= liq:
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
        spot = sum(coins[a] * prices[t][a] for a in range(assets)) + cash
        value_u.append(spot)
        value_h.append(spot + running)
    return {"value_unhedged": value_u, "value_hedged": value_h, "funding_cost": -received_total, "fees": fees,
            "slippage": slips, "rebalances": rebalances, "liquidations": sorted(liquidations),
            "top_ups": sorted(top_ups)}
