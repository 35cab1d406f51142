"""Margin and liquidation of an isolated, linear perpetual position."""

from __future__ import annotations

import numpy as np

from xlhedge.engine import defaults as D
from xlhedge.engine._checks import as_float_array, check_range, scalar_or_array


def initial_margin(notional, leverage):
    """Collateral to post for a position: ``notional / leverage`` (USD)."""
    n = as_float_array(notional, "notional")
    lev = as_float_array(leverage, "leverage")
    check_range(n, "notional", 0.0)
    check_range(lev, "leverage", 1.0, 200.0)
    return scalar_or_array(n / lev)


def liquidation_price(
    entry_price, leverage, maintenance_margin_rate=D.MAINTENANCE_MARGIN, side="short", maintenance_amount=0.0
):
    """Approximate liquidation price of an isolated linear position (no fees).

    Short: ``(entry * (1 + 1/L) + mm_amount/qty) / (1 + m)``; with no
    maintenance amount this is ``entry * (1 + 1/L) / (1 + m)``.
    Long: ``entry * (1 - 1/L) / (1 - m)``.
    The spot holding does not protect an isolated short: only the posted
    margin does.

    Parameters
    ----------
    entry_price : float or array
        Entry price in USD, > 0.
    leverage : float or array
        Leverage L, 1..200 (initial margin = notional / L).
    maintenance_margin_rate : float or array
        Maintenance margin rate m as a fraction (0.004 = 0.4 %), in [0, 0.5).
    side : {"short", "long"}
    maintenance_amount : float or array
        Binance-style maintenance amount per coin of position, in USD
        (the tier's "cum" divided by the quantity); 0 when unknown.

    Returns
    -------
    float or ndarray
        Mark price in USD at which the position is liquidated.

    Examples
    --------
    >>> round(liquidation_price(60_000, 3), 2)   # short at 3x: liquidated ~32.8 % higher
    79681.27
    """
    p = as_float_array(entry_price, "entry_price")
    lev = as_float_array(leverage, "leverage")
    mmr = as_float_array(maintenance_margin_rate, "maintenance_margin_rate")
    amt = as_float_array(maintenance_amount, "maintenance_amount")
    check_range(p, "entry_price", 0.0, low_open=True)
    check_range(lev, "leverage", 1.0, 200.0)
    check_range(mmr, "maintenance_margin_rate", 0.0, 0.5, high_open=True)
    check_range(amt, "maintenance_amount", 0.0)
    key = str(side).strip().lower()
    if key == "short":
        liq = (p * (1.0 + 1.0 / lev) + amt) / (1.0 + mmr)
    elif key == "long":
        liq = np.maximum((p * (1.0 - 1.0 / lev) + amt) / (1.0 - mmr), 0.0)
    else:
        raise ValueError('side must be "short" or "long"')
    return scalar_or_array(liq)


def liquidation_move(leverage, maintenance_margin_rate=D.MAINTENANCE_MARGIN):
    """Price rise, as a fraction, at which an isolated short is liquidated.

    ``(1 + 1/L) / (1 + m) - 1``, the same for every entry price: at 3x and
    0.4 % a short is liquidated by a rise of about 32.8 %.

    Parameters
    ----------
    leverage : float or array
        Leverage L, 1..200.
    maintenance_margin_rate : float or array
        Maintenance margin rate m as a fraction, in [0, 0.5).

    Returns
    -------
    float or ndarray
        The rise (0.328 = +32.8 %) at which the short's liquidation price is reached.

    Examples
    --------
    >>> round(liquidation_move(3, 0.004), 4)
    0.328
    """
    return scalar_or_array(np.asarray(liquidation_price(1.0, leverage, maintenance_margin_rate)) - 1.0)
