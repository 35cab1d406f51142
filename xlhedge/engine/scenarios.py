"""Profit and loss of a hedged spot holding under price moves."""

from __future__ import annotations

import numpy as np
import pandas as pd

from xlhedge.engine._checks import as_float_array, check_range, scalar_or_array


def hedge_pnl(spot_value, hedge_notional, price_change, funding_cost=0.0):
    """USD P&L of spot plus short after a common price move.

    ``spot_value * change - hedge_notional * change - funding_cost``: the spot
    gains what the short loses (and the reverse), funding is a cost (> 0 = paid).
    Basis and fees are ignored.

    Parameters
    ----------
    spot_value : float or array
        USD value of the spot holding before the move.
    hedge_notional : float or array
        USD notional of the short perpetual.
    price_change : float or array
        Relative price move as a fraction (-0.15 = a 15 % fall), >= -1.
    funding_cost : float or array
        USD funding paid over the period (negative = received).

    Returns
    -------
    float or ndarray
        Net USD P&L.

    Examples
    --------
    >>> hedge_pnl(100_000, 50_000, -0.15)   # a 50 % hedge halves the loss
    -7500.0
    """
    spot = as_float_array(spot_value, "spot_value")
    short = as_float_array(hedge_notional, "hedge_notional")
    change = as_float_array(price_change, "price_change")
    cost = as_float_array(funding_cost, "funding_cost")
    check_range(change, "price_change", -1.0, 100.0)
    for arr, name in ((spot, "spot_value"), (short, "hedge_notional"), (cost, "funding_cost")):
        check_range(arr, name)
    return scalar_or_array(spot * change - short * change - cost)


def scenario_table(spot_value, hedge_notional, moves=None, funding_cost=0.0) -> pd.DataFrame:
    """P&L table over a grid of price moves.

    Parameters
    ----------
    spot_value, hedge_notional, funding_cost : float
        As in :func:`hedge_pnl` (USD).
    moves : array, optional
        Price moves as fractions; default -50 % .. +50 % in 10 % steps.

    Returns
    -------
    pandas.DataFrame
        Columns ``move``, ``unhedged``, ``hedged``, ``difference`` (USD), where
        ``difference = hedged - unhedged`` is what the hedge added.
    """
    grid = np.round(np.arange(-0.5, 0.5001, 0.1), 10) + 0.0 if moves is None else np.asarray(moves)
    unhedged = hedge_pnl(spot_value, 0.0, grid)
    hedged = hedge_pnl(spot_value, hedge_notional, grid, funding_cost)
    return pd.DataFrame(
        {"move": grid, "unhedged": unhedged, "hedged": hedged, "difference": hedged - unhedged}
    )
