"""Funding-rate arithmetic: normalisation, APR and carry cost of a position.

Sign convention (the one exchanges use): a positive funding rate means longs
pay shorts, a negative one means shorts pay longs. Costs returned here are
costs to the position holder: positive = you pay, negative = you receive.
"""

from __future__ import annotations

import numpy as np

from xlhedge.engine._checks import as_float_array, check_range, scalar_or_array

HOURS_PER_YEAR = 8760.0


def _side_sign(side) -> float:
    """+1 for a long, -1 for a short: cost = sign * notional * rate."""
    key = str(side).strip().lower()
    if key in ("short", "s", "sell"):
        return -1.0
    if key in ("long", "l", "buy"):
        return 1.0
    raise ValueError('side must be "short" or "long"')


def _intervals(interval_hours) -> np.ndarray:
    hours = as_float_array(interval_hours, "interval_hours")
    check_range(hours, "interval_hours", 0.0, 24.0 * 7, low_open=True)
    return hours


def rate_per_8h(funding_rate, interval_hours=8.0):
    """Funding rate restated per 8 hours: ``rate * 8 / interval_hours``.

    Parameters
    ----------
    funding_rate : float or array
        Rate per funding interval (0.0001 = 0.01 %).
    interval_hours : float or array
        Hours between payments.

    Returns
    -------
    float or ndarray
        The same rate per 8 h, so that contracts paying every 1 h, 4 h or 8 h
        compare like for like.
    """
    rate = as_float_array(funding_rate, "funding_rate")
    return scalar_or_array(rate * 8.0 / _intervals(interval_hours))


def short_carry_cost_per_8h(funding_rate, interval_hours=8.0):
    """What holding a short costs per 8 h, as a fraction of notional (``-rate_per_8h``).

    Positive = the short pays, negative = the short is paid.
    """
    return scalar_or_array(-np.asarray(rate_per_8h(funding_rate, interval_hours)))


def funding_apr(funding_rate, interval_hours=8.0):
    """Annualised funding rate: ``rate * 8760 / interval_hours`` (simple, not compounded).

    Parameters
    ----------
    funding_rate : float or array
        Rate per funding interval.
    interval_hours : float or array
        Hours between payments.

    Returns
    -------
    float or ndarray
        Yearly rate as a fraction (0.1095 = 10.95 % a year). It is what a long
        pays (and a short receives) in a year at a constant rate.
    """
    rate = as_float_array(funding_rate, "funding_rate")
    return scalar_or_array(rate * HOURS_PER_YEAR / _intervals(interval_hours))


def funding_cost(notional, funding_rate, interval_hours=8.0, horizon_days=1.0, side="short"):
    """Funding a position pays over a horizon at a constant rate, in USD.

    Parameters
    ----------
    notional : float or array
        Position size in USD (mark price x quantity), >= 0.
    funding_rate : float or array
        Rate per funding interval (0.0001 = 0.01 %), assumed constant.
    interval_hours : float or array
        Hours between payments.
    horizon_days : float or array
        Days the position is held; fractional payments count pro rata.
    side : {"short", "long"}
        Which side of the perpetual is held.

    Returns
    -------
    float or ndarray
        USD cost, positive = you pay. A short at a positive rate has a
        negative cost (it is paid).

    Examples
    --------
    >>> funding_cost(100_000, 0.0001)            # 3 payments a day, short is paid
    -30.0
    """
    n = as_float_array(notional, "notional")
    check_range(n, "notional", 0.0)
    rate = as_float_array(funding_rate, "funding_rate")
    days = as_float_array(horizon_days, "horizon_days")
    check_range(days, "horizon_days", 0.0, 36500.0)
    payments = days * 24.0 / _intervals(interval_hours)
    return scalar_or_array(_side_sign(side) * n * rate * payments)


def realised_funding_cost(notional, rates, side="short"):
    """Funding paid over a history of per-interval rates, in USD.

    Parameters
    ----------
    notional : float
        Position size in USD, assumed constant over the history.
    rates : array
        Funding rates of the intervals the position was held; NaN entries
        (missing data) are skipped.
    side : {"short", "long"}

    Returns
    -------
    float
        ``-notional * sum(rates)`` for a short, ``+notional * sum(rates)`` for a long.
    """
    n = as_float_array(notional, "notional")
    check_range(n, "notional", 0.0)
    r = as_float_array(rates, "funding_rate")
    finite = r[~np.isnan(r)]
    if not np.all(np.isfinite(finite)):
        raise ValueError("funding_rate must hold finite numbers")
    return scalar_or_array(_side_sign(side) * n * finite.sum())
