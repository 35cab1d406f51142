"""Crowded longs: funding high for its own history while open interest grows.

When many traders pile into leveraged longs, longs pay shorts a funding rate
that is high *for that contract* and open interest (the coins held in open
positions) grows. Such markets tend to fall hard when the longs are forced
out, which is when a hedge matters; and because the rate is positive, the
short is paid to wait. The signal therefore only ever raises the hedge:

* the current rate, restated per 8 h, is positive and at or above the
  ``min_percentile`` of the contract's own rates over the look-back (0.9: higher
  than 90% of them);
* open interest grew by at least ``min_oi_rise`` over its look-back, where the
  exchange publishes open-interest history; where it does not (NaN), the
  funding test alone decides, since a false alarm costs nothing while the
  short is paid.

Units: rates per funding interval as published (fractions), percentiles and
changes as fractions (0.9 = 90th percentile, 0.1 = +10%), ratios as fractions.
"""

from __future__ import annotations

import numpy as np

from xlhedge.engine._checks import as_float_array, check_range

#: Days of the contract's own funding history the current rate is ranked among.
FUNDING_LOOKBACK_DAYS = 30
#: Days over which the change of open interest is measured.
OI_CHANGE_DAYS = 7


def funding_percentile(rate_8h, history_8h):
    """Share of past rates at or below the current one (0 = lowest ever, 1 = highest).

    Parameters
    ----------
    rate_8h : float or array
        Current funding rate restated per 8 h (see :func:`rate_per_8h`); one per contract, shape (N,),
        with a 2-D history.
    history_8h : array of float
        Past rates of the same contract, each restated per 8 h, shape (W,); or (W, N), a column per
        contract. NaN are ignored.

    Returns
    -------
    float or ndarray
        In [0, 1] (shape (N,) for a 2-D history); NaN when there is no history or no current rate.
    """
    history = as_float_array(history_8h, "history")
    rate = as_float_array(rate_8h, "rate")
    columns = history.ndim == 2
    history = history.reshape(history.shape[0], -1) if columns else history.reshape(-1, 1)
    known = ~np.isnan(history)
    counted = np.count_nonzero(known, axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.count_nonzero((history <= rate) & known, axis=0) / counted
    out = np.where(np.isnan(rate) | (counted == 0), np.nan, share)
    return out if columns else float(out[0])


def rolling_funding_percentile(paid_at, rates_8h, at, lookback_days=FUNDING_LOOKBACK_DAYS):
    """At each time of ``at``: :func:`funding_percentile` of the latest rate paid at or before it among
    the rates paid in the ``lookback_days`` before it (that one included), per contract.

    Parameters
    ----------
    paid_at : array of datetime64
        Payment times, oldest first, shape (P,).
    rates_8h : array of float
        Rates restated per 8 h (:func:`rate_per_8h`), shape (P, N): one column per contract.
    at : array of datetime64
        When the percentile is wanted, shape (T,).
    lookback_days : float
        Days of history ranked against.

    Returns
    -------
    ndarray
        Shape (T, N), in [0, 1]; NaN before the first payment or where the latest rate is NaN.
    """
    when = np.asarray(paid_at, dtype="datetime64[ns]")
    rates = as_float_array(rates_8h, "rates_8h")
    rates = rates.reshape(len(when), -1)
    steps = np.asarray(at, dtype="datetime64[ns]")
    last = np.searchsorted(when, steps, side="right") - 1
    first = np.searchsorted(when, steps - np.timedelta64(int(lookback_days * 86400), "s"), side="left")
    out = np.full((len(steps), rates.shape[1]), np.nan)
    for t, (lo, hi) in enumerate(zip(first, last, strict=True)):
        if hi >= 0:
            out[t] = funding_percentile(rates[hi], rates[lo:hi + 1])
    return out


def open_interest_change(open_interest, times=None, start=None) -> float:
    """Relative change of open interest over a window (0.1 = +10%).

    Parameters
    ----------
    open_interest : array of float
        Open interest, oldest first (coins or USD: only the ratio counts).
    times : array of datetime64 or int, optional
        When each value was recorded (same length, same order). With ``start``, the change runs
        from the value at or before ``start`` (the latest such) to the last value, so a 7-day
        window is 7 days whether or not the request began exactly on a recorded point.
    start : datetime64 or int, optional
        The window's start, in the unit of ``times``.

    Returns
    -------
    float
        ``last / base - 1`` where base is the first value (no ``start``) or the value at or before
        ``start``; NaN with fewer than two positive values, or with no value at or before ``start``.
    """
    series = as_float_array(open_interest, "open_interest").ravel()
    keep = ~np.isnan(series) & (series > 0)
    if start is None:
        series = series[keep]
        if series.size < 2:
            return float("nan")
        return float(series[-1] / series[0] - 1.0)
    when = np.asarray(times).ravel()
    if when.shape != series.shape:
        raise ValueError(f"open_interest and times must have the same length ({series.size} and {when.size})")
    series, when = series[keep], when[keep]
    at_or_before = np.flatnonzero(when <= start)
    if series.size < 2 or at_or_before.size == 0 or at_or_before[-1] == series.size - 1:
        return float("nan")
    return float(series[-1] / series[at_or_before[-1]] - 1.0)


def rolling_open_interest_change(recorded_at, open_interest, at, days: float = OI_CHANGE_DAYS):
    """Open-interest change over the ``days`` before each time of ``at`` (0.1 = +10%), vectorised.

    The rule of :func:`open_interest_change` at every step: the latest value at or before the step
    against the latest value at or before ``days`` earlier.

    Parameters
    ----------
    recorded_at : array of datetime64[ns], shape (R,)
        When each value was recorded, increasing.
    open_interest : array of float, shape (R,) or (R, N)
        Open interest (coins or USD), one column per contract; NaN or <= 0: not recorded.
    at : array of datetime64[ns], shape (T,)
        The steps.

    Returns
    -------
    ndarray, shape (T,) or (T, N)
        The change; NaN where no value is recorded at or before the window's start, or the window
        holds no later one.
    """
    when = np.asarray(recorded_at, dtype="datetime64[ns]")
    values = as_float_array(open_interest, "open_interest")
    steps = np.asarray(at, dtype="datetime64[ns]")
    now = np.searchsorted(when, steps, side="right") - 1
    then = np.searchsorted(when, steps - np.timedelta64(int(days * 86_400e9), "ns"), side="right") - 1
    shape = (len(steps), *values.shape[1:])
    if len(when) == 0:
        return np.full(shape, np.nan)
    later, earlier = values[np.maximum(now, 0)], values[np.maximum(then, 0)]
    usable = ((then >= 0) & (now > then)).reshape((-1,) + (1,) * (values.ndim - 1))
    with np.errstate(divide="ignore", invalid="ignore"):
        change = later / earlier - 1.0
    good = usable & (later > 0) & (earlier > 0)
    return np.where(good, change, np.nan).reshape(shape)


def crowded_longs(funding_rate, percentile, oi_change, min_percentile=0.9, min_oi_rise=0.1):
    """True where the longs look crowded (see the module notes).

    Parameters
    ----------
    funding_rate : float or array
        Current rate per interval; the signal needs it positive (longs pay shorts).
    percentile : float or array
        :func:`funding_percentile` of the current rate; NaN = unknown (no signal).
    oi_change : float or array
        :func:`open_interest_change`; NaN = not published (funding alone decides).
    min_percentile : float
        In [0, 1].
    min_oi_rise : float
        Fraction, >= -1.

    Returns
    -------
    bool or ndarray of bool
    """
    rate = as_float_array(funding_rate, "funding_rate")
    pct = as_float_array(percentile, "percentile")
    oi = as_float_array(oi_change, "oi_change")
    check_range(pct, "percentile", 0.0, 1.0)
    check_range(as_float_array(min_percentile, "min_percentile"), "min_percentile", 0.0, 1.0)
    check_range(as_float_array(min_oi_rise, "min_oi_rise"), "min_oi_rise", -1.0)
    with np.errstate(invalid="ignore"):
        hot = (rate > 0) & (pct >= min_percentile)
        growing = np.isnan(oi) | (oi >= min_oi_rise)
    return hot & growing


def crowded_ratio(base_ratio, funding_rate, percentile, oi_change, bump=0.1, min_percentile=0.9,
                  min_oi_rise=0.1, max_ratio=1.0):
    """The hedge ratio raised by ``bump`` (capped at ``max_ratio``) where :func:`crowded_longs` fires.

    Parameters
    ----------
    base_ratio : float or array
        The ratio without the signal (0.4 = 40%).
    bump : float
        Added to the ratio when the signal fires, in [0, 1].
    max_ratio : float
        Highest ratio allowed; a base already above it is left as it is.

    Returns
    -------
    float or ndarray
        Same shape as the broadcast inputs.
    """
    base = as_float_array(base_ratio, "base_ratio")
    check_range(base, "base_ratio", 0.0)
    check_range(as_float_array(bump, "bump"), "bump", 0.0, 1.0)
    cap = as_float_array(max_ratio, "max_ratio")
    check_range(cap, "max_ratio", 0.0, 2.0)
    fires = crowded_longs(funding_rate, percentile, oi_change, min_percentile, min_oi_rise)
    raised = np.maximum(np.minimum(base + bump, cap), base)
    out = np.where(fires, raised, base)
    return float(out) if out.ndim == 0 else out
