"""Rebalancing a hedge back to its target ratio after prices move."""

from __future__ import annotations

import numpy as np

from xlhedge.engine._checks import as_float_array, check_range, scalar_or_array


def rebalance_trade(spot_value, short_notional, target_ratio, band=0.05):
    """USD to add to the short to return to the target ratio, or 0 inside the band.

    Parameters
    ----------
    spot_value : float or array
        Current USD value of the spot holding, >= 0.
    short_notional : float or array
        Current USD notional of the short already held, >= 0.
    target_ratio : float or array
        Target hedge ratio (fraction of spot).
    band : float or array
        Tolerance on the ratio: no trade while ``|actual - target| <= band``.

    Returns
    -------
    float or ndarray
        USD notional to sell (add to the short, > 0) or buy back (< 0).
        With no spot value, the whole short is bought back.

    Examples
    --------
    >>> rebalance_trade(120_000, 60_000, 0.6)   # actual 50 %: add 12k
    12000.0
    """
    spot = as_float_array(spot_value, "spot_value")
    short = as_float_array(short_notional, "short_notional")
    target = as_float_array(target_ratio, "target_ratio")
    tol = as_float_array(band, "band")
    check_range(spot, "spot_value", 0.0)
    check_range(short, "short_notional", 0.0)
    check_range(target, "target_ratio", 0.0, 10.0)
    check_range(tol, "band", 0.0, 10.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        actual = np.where(spot > 0, short / np.where(spot > 0, spot, 1.0), np.inf)
    trade = target * spot - short
    # A tiny tolerance keeps "exactly on the band edge" inside it despite float noise.
    inside = np.abs(actual - target) <= tol + 1e-12
    inside &= spot > 0
    no_position = (spot == 0) & (short == 0)
    return scalar_or_array(np.where(inside | no_position, 0.0, trade))
