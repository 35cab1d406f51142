"""Profit and loss of a hedged spot holding under price moves."""

from __future__ import annotations

import numpy as np
import pandas as pd

from xlhedge.engine import defaults as D
from xlhedge.engine._checks import as_float_array, check_range, scalar_or_array
from xlhedge.engine.margin import liquidation_move


def hedge_pnl(spot_value, hedge_notional, price_change, funding_cost=0.0, leverage=np.nan,
              maintenance_margin_rate=D.MAINTENANCE_MARGIN, liquidation_rise=np.nan):
    """USD P&L of spot plus short after a common price move.

    ``spot_value * change - hedge_notional * change - funding_cost``: the spot
    gains what the short loses (and the reverse), funding is a cost (> 0 = paid).
    Basis and fees are ignored.

    With a ``leverage``, the short is an isolated position: a rise that reaches
    its liquidation price (:func:`liquidation_move`) closes it there and its
    whole margin, ``hedge_notional / leverage``, is lost (what the price loss
    leaves of it goes to the exchange's liquidation fee). The short is then
    gone, so it neither pays nor earns the funding: the P&L is
    ``spot_value * change - hedge_notional / leverage``.

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
    leverage : float or array, optional
        Leverage of the isolated short, 1..200; NaN (default) = never liquidated.
    maintenance_margin_rate : float or array
        Maintenance margin rate as a fraction (0.004 = 0.4 %).
    liquidation_rise : float or array, optional
        The rise (fraction) that liquidates the short when it is known from the venue's tiers
        (:func:`~xlhedge.engine.margin.venue_liquidation_price`); NaN (default): the flat
        :func:`liquidation_move` of the leverage and rate.

    Returns
    -------
    float or ndarray
        Net USD P&L.

    Examples
    --------
    >>> hedge_pnl(100_000, 50_000, -0.15)   # a 50 % hedge halves the loss
    -7500.0
    >>> round(hedge_pnl(100_000, 50_000, 0.5, leverage=3), 2)   # +50 %: the 3x short liquidated, margin lost
    33333.33
    """
    spot = as_float_array(spot_value, "spot_value")
    short = as_float_array(hedge_notional, "hedge_notional")
    change = as_float_array(price_change, "price_change")
    cost = as_float_array(funding_cost, "funding_cost")
    check_range(change, "price_change", -1.0, 100.0)
    for arr, name in ((spot, "spot_value"), (short, "hedge_notional"), (cost, "funding_cost")):
        check_range(arr, name)
    lev = as_float_array(leverage, "leverage")
    pnl = spot * change - short * change - cost
    liquidated = short_liquidated(short, change, lev, maintenance_margin_rate, liquidation_rise)
    if liquidated.any():
        pnl = np.where(liquidated, spot * change - short / np.where(np.isnan(lev), 1.0, lev), pnl)
    return scalar_or_array(pnl)


def short_liquidated(hedge_notional, price_change, leverage=np.nan, maintenance_margin_rate=D.MAINTENANCE_MARGIN,
                     liquidation_rise=np.nan) -> np.ndarray:
    """Whether an isolated short is liquidated by the move: a short (> 0) and a rise at or past
    ``liquidation_rise`` where given, else :func:`liquidation_move`; never without a leverage (NaN)."""
    short = as_float_array(hedge_notional, "hedge_notional")
    change = as_float_array(price_change, "price_change")
    lev = as_float_array(leverage, "leverage")
    if np.all(np.isnan(lev)):
        return np.zeros(np.broadcast(short, change, lev).shape, dtype=bool)
    mmr = as_float_array(maintenance_margin_rate, "maintenance_margin_rate")
    move = liquidation_move(np.where(np.isnan(lev), 1.0, lev), np.where(np.isnan(mmr), D.MAINTENANCE_MARGIN, mmr))
    given = as_float_array(liquidation_rise, "liquidation_rise")
    move = np.where(np.isnan(given), move, given)
    return (change >= np.where(np.isnan(lev), np.inf, move)) & (short > 0)


def scenario_table(spot_value, hedge_notional, moves=None, funding_cost=0.0, leverage=np.nan,
                   maintenance_margin_rate=D.MAINTENANCE_MARGIN) -> pd.DataFrame:
    """P&L table over a grid of price moves.

    Parameters
    ----------
    spot_value, hedge_notional, funding_cost : float
        As in :func:`hedge_pnl` (USD).
    moves : array, optional
        Price moves as fractions; default -50 % .. +50 % in 10 % steps.
    leverage, maintenance_margin_rate : float, optional
        As in :func:`hedge_pnl`: with a leverage, rows past the short's
        liquidation move lose its margin instead of hedging.

    Returns
    -------
    pandas.DataFrame
        Columns ``move``, ``unhedged``, ``hedged``, ``difference`` (USD), where
        ``difference = hedged - unhedged`` is what the hedge added, and
        ``liquidated`` (bool: the short was liquidated in that row).
    """
    grid = np.round(np.arange(-0.5, 0.5001, 0.1), 10) + 0.0 if moves is None else np.asarray(moves)
    unhedged = hedge_pnl(spot_value, 0.0, grid)
    hedged = hedge_pnl(spot_value, hedge_notional, grid, funding_cost, leverage, maintenance_margin_rate)
    liquidated = np.broadcast_to(short_liquidated(hedge_notional, grid, leverage, maintenance_margin_rate),
                                 grid.shape)
    return pd.DataFrame({"move": grid, "unhedged": unhedged, "hedged": hedged,
                         "difference": hedged - unhedged, "liquidated": liquidated})
