"""The hedge target: how a coin's hedge ratio is set, rule after rule.

One policy for every place that needs a target: the workbook's Hedge sheet (whose hedge-ratio
formula is generated from :data:`RULES`, one xlhedge function per rule), ``xlhedge plan`` (which
reads that sheet) and the backtest (which calls :func:`hedge_target` at every step).

The rules, in order (each sees the ratio the one before it set):

1. ``funding``: the outlook band and conviction give a base ratio; a short that pays a lot of
   funding is trimmed, one that is paid a lot is extended (:func:`funding_adjusted_ratio`), capped.
2. ``crowded``: where longs look crowded the ratio is raised (:func:`crowded_ratio`), capped.
3. ``events``: around a scheduled event the ratio is at least the floor (:func:`event_ratio`).

Units: ratios are fractions (0.4 = 40%), funding rates per interval as published, intervals in
hours, percentiles and open-interest changes as fractions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from xlhedge.engine import defaults as D
from xlhedge.engine.crowding import crowded_ratio
from xlhedge.engine.events import event_ratio
from xlhedge.engine.ratios import base_ratio, funding_adjusted_ratio

#: The rules of the hedge target, in the order they apply.
#: What a backtest can replay: the base ratio alone (static), the funding rule (with crowded longs when
#: switched on), that and the event rule (events), every rule as the Settings switch it (sheet), or
#: ratios you give (own, from a file: not offered on the Backtest sheet).
BACKTEST_POLICIES = ("static", "funding", "events", "sheet", "own")
SHEET_POLICIES = BACKTEST_POLICIES[:-1]
RULES = ("funding", "crowded", "events")


@dataclass(frozen=True)
class HedgePolicy:
    """The settings of the hedge target (the Settings sheet's, by the same names in snake case).

    ``ratio`` overrides the outlook's base ratio (a static ratio); ``funding_adjust``, ``crowded``
    and ``events`` switch their rules on.
    """

    outlook: str | float = "neutral"
    conviction: float = 0.5
    ratio: float | None = None
    funding_adjust: bool = True
    funding_threshold: float = D.FUNDING_THRESHOLD
    adjustment: float = D.FUNDING_ADJUSTMENT
    max_ratio: float = 1.0
    crowded: bool = False
    crowded_bump: float = 0.1
    crowded_percentile: float = 0.9
    crowded_oi_rise: float = 0.1
    events: bool = False
    event_days_before: float = 3.0
    event_hours_after: float = 24.0
    event_floor: float = 0.8

    def base(self) -> float:
        """The ratio before any rule: ``ratio``, else the outlook (a band label at the conviction, or a
        ratio typed as a number). The rules clip the result to [0, ``max_ratio``]."""
        if self.ratio is not None:
            return float(self.ratio)
        if isinstance(self.outlook, (int, float)) and not isinstance(self.outlook, bool):
            return float(self.outlook)
        return float(base_ratio(self.outlook, self.conviction))

def hedge_target(policy: HedgePolicy, funding_rate=np.nan, interval_hours=8.0, percentile=np.nan,
                 oi_change=np.nan, as_of=None, event_times=()):
    """The hedge ratio the policy sets, for one coin or many (numpy broadcasting).

    Parameters
    ----------
    policy : HedgePolicy
    funding_rate : float or array
        The contract's funding rate per interval (NaN: unknown, no adjustment, no crowding signal).
    interval_hours : float or array
        Hours between funding payments.
    percentile : float or array
        The rate's percentile among the contract's recent rates (NaN: not measured).
    oi_change : float or array
        Open-interest change over its window (NaN: not published; funding alone decides).
    as_of : datetime64 or array, optional
        When the target applies (the events rule); needed when ``policy.events``.
    event_times : array of datetime64
        Event times (UTC).

    Returns
    -------
    float or ndarray
        The target ratio, a fraction of the exposure.

    Examples
    --------
    >>> round(hedge_target(HedgePolicy(outlook="neutral", conviction=0.5), funding_rate=-0.001), 6)
    0.28
    """
    rate = np.asarray(funding_rate, dtype=float)
    ratio = funding_adjusted_ratio(policy.base(), rate if policy.funding_adjust else np.nan, interval_hours,
                                   policy.funding_threshold, policy.adjustment, policy.max_ratio)
    if policy.crowded:
        ratio = crowded_ratio(ratio, rate, percentile, oi_change, policy.crowded_bump, policy.crowded_percentile,
                              policy.crowded_oi_rise, policy.max_ratio)
    if policy.events:
        if as_of is None:
            raise ValueError("the events rule needs the time the target applies (as_of)")
        ratio = event_ratio(ratio, as_of, np.asarray(event_times, dtype="datetime64[ns]"), policy.event_days_before,
                            policy.event_hours_after, policy.event_floor)
    return ratio
