"""Hedge ratios from an outlook and conviction, adjusted for the cost of funding."""

from __future__ import annotations

import numpy as np

from xlhedge.engine import defaults as D
from xlhedge.engine._checks import as_float_array, check_range, scalar_or_array
from xlhedge.engine.funding import short_carry_cost_per_8h

#: Outlook -> (lowest, highest) hedge ratio, as fractions of spot value.
OUTLOOK_BANDS: dict[str, tuple[float, float]] = {
    "bearish": (0.75, 1.00),
    "neutral": (0.30, 0.50),
    "bullish": (0.10, 0.25),
}

#: Other spellings users type, all mapping onto the three bands.
OUTLOOK_ALIASES: dict[str, str] = {
    "high bearish conviction": "bearish",
    "high bearish": "bearish",
    "neutral/uncertain": "neutral",
    "uncertain": "neutral",
    "mildly bullish": "bullish",
}


def outlook_band(outlook: str) -> tuple[float, float]:
    """Return the (low, high) hedge-ratio band of an outlook label.

    Parameters
    ----------
    outlook : str
        ``"bearish"``, ``"neutral"`` or ``"bullish"`` (case and surrounding
        spaces ignored), or one of the longer labels in :data:`OUTLOOK_ALIASES`.

    Returns
    -------
    tuple of float
        Lowest and highest hedge ratio as fractions (0.75 = 75 %).
    """
    key = " ".join(str(outlook).strip().lower().split())
    key = OUTLOOK_ALIASES.get(key, key)
    if key not in OUTLOOK_BANDS:
        raise ValueError("outlook must be bearish, neutral, bullish or a ratio like 0.6")
    return OUTLOOK_BANDS[key]


def base_ratio(outlook, conviction=0.5):
    """Hedge ratio implied by an outlook band and a conviction inside it.

    Parameters
    ----------
    outlook : str or array of str
        Outlook label (see :func:`outlook_band`).
    conviction : float or array
        Where in the band to sit, 0 = low end, 1 = high end.

    Returns
    -------
    float or ndarray
        ``low + conviction * (high - low)`` as a fraction of spot value.
    """
    conv = as_float_array(conviction, "conviction")
    check_range(conv, "conviction", 0.0, 1.0)
    labels = np.asarray(outlook, dtype=object)
    bands = np.vectorize(outlook_band, otypes=[float, float])(labels) if labels.ndim else None
    if bands is None:
        low, high = outlook_band(str(labels.item()))
    else:
        low, high = bands
    return scalar_or_array(np.asarray(low + conv * (np.asarray(high) - low)))


def funding_adjusted_ratio(
    ratio,
    funding_rate,
    interval_hours=8.0,
    cost_threshold=D.FUNDING_THRESHOLD,
    adjustment=D.FUNDING_ADJUSTMENT,
    max_ratio=1.0,
):
    """Trim or extend a hedge ratio according to what carrying the short costs.

    The short's carry cost per 8 h is ``-funding_rate * 8 / interval_hours``
    (a positive funding rate pays shorts, so it is a negative cost). Above
    ``cost_threshold`` the ratio is cut by ``adjustment``; below
    ``-cost_threshold`` (the short is paid well) it is raised by ``adjustment``.
    The result is clipped to ``[0, max_ratio]``.

    Parameters
    ----------
    ratio : float or array
        Hedge ratio before the adjustment (fraction of spot value).
    funding_rate : float or array
        Funding rate per interval as the exchange publishes it (0.0001 = 0.01 %).
        NaN means "no rate known": no adjustment.
    interval_hours : float or array
        Hours between funding payments (8, 4, 1 ...).
    cost_threshold : float
        Carry cost per 8 h (fraction of notional) that triggers the adjustment.
    adjustment : float
        Fraction by which the ratio is cut or raised (0.3 = 30 %).
    max_ratio : float
        Upper cap of the result (1.0 = never hedge more than the spot).

    Returns
    -------
    float or ndarray
        Adjusted hedge ratio, a fraction of spot value.
    """
    r = as_float_array(ratio, "ratio")
    thr = as_float_array(cost_threshold, "cost_threshold")
    adj = as_float_array(adjustment, "adjustment")
    cap = as_float_array(max_ratio, "max_ratio")
    check_range(thr, "cost_threshold", 0.0)
    check_range(adj, "adjustment", 0.0, 1.0)
    check_range(cap, "max_ratio", 0.0, 10.0)
    cost = as_float_array(short_carry_cost_per_8h(funding_rate, interval_hours), "funding_rate")
    known = ~np.isnan(cost)
    factor = np.where(known & (cost > thr), 1.0 - adj, 1.0)
    factor = np.where(known & (cost < -thr), 1.0 + adj, factor)
    return scalar_or_array(np.clip(r * factor, 0.0, cap))


def hedge_ratio(
    outlook,
    conviction=0.5,
    funding_rate=np.nan,
    interval_hours=8.0,
    cost_threshold=D.FUNDING_THRESHOLD,
    adjustment=D.FUNDING_ADJUSTMENT,
    max_ratio=1.0,
):
    """Fraction of spot value to short, from an outlook (or a ratio) and funding.

    Parameters
    ----------
    outlook : str, float or array
        An outlook label (``"bearish"``, ``"neutral"``, ``"bullish"``) or the
        base ratio itself as a fraction in ``[0, max_ratio]``.
    conviction : float
        Position inside the outlook band, 0..1 (ignored for a numeric outlook).
    funding_rate, interval_hours, cost_threshold, adjustment, max_ratio
        See :func:`funding_adjusted_ratio`. NaN funding means no adjustment.

    Returns
    -------
    float or ndarray
        Hedge ratio as a fraction of spot value, within ``[0, max_ratio]``.

    Examples
    --------
    >>> hedge_ratio("neutral")
    0.4
    >>> hedge_ratio(1.0, funding_rate=-0.001)  # short pays 0.1 %/8h: trim by 30 %
    0.7
    """
    cap = as_float_array(max_ratio, "max_ratio")
    check_range(cap, "max_ratio", 0.0, 10.0)
    if isinstance(outlook, str):
        base = base_ratio(outlook, conviction)
    else:
        arr = np.asarray(outlook, dtype=object)
        if arr.dtype == object and any(isinstance(x, str) for x in np.ravel(arr)):
            base = np.vectorize(_one_base, otypes=[float])(arr, conviction, cap)
        else:
            base = as_float_array(outlook, "outlook")
            check_range(base, "outlook", 0.0, float(np.max(cap)))
            conv = as_float_array(conviction, "conviction")
            check_range(conv, "conviction", 0.0, 1.0)
    return funding_adjusted_ratio(
        base, funding_rate, interval_hours, cost_threshold, adjustment, max_ratio
    )


def _one_base(outlook, conviction, cap) -> float:
    """Base ratio for one element of a mixed label/number outlook array."""
    if isinstance(outlook, str):
        return float(base_ratio(outlook, conviction))
    value = float(outlook)
    check_range(np.asarray(value), "outlook", 0.0, float(cap))
    return value
