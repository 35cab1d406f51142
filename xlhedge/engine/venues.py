"""Where to short: the cost of carrying a short at each venue, and the best venue per coin."""

from __future__ import annotations

import numpy as np
import pandas as pd

from xlhedge.engine import defaults as D
from xlhedge.engine._checks import as_float_array, check_range, scalar_or_array
from xlhedge.engine.funding import funding_cost

#: The best venue's mark, in the Venues sheet's *Best?* column.
BEST = "best"
#: Why a venue cannot be the best one (what the Venues sheet's *Best?* column says instead).
NOT_LISTED = "no rate"
BELOW_MINIMUM = "below the minimum"
OVER_OI_SHARE = "over the open-interest cap"


def venue_cost(notional, funding_rate, interval_hours=8.0, horizon_days=D.HORIZON_DAYS, taker_fee=D.TAKER_FEE):
    """What a short costs at a venue over the horizon: funding plus the taker fees to open and close it.

    Parameters
    ----------
    notional : float or array
        USD notional of the short, >= 0.
    funding_rate : float or array
        The venue's rate per its interval (0.0001 = 0.01 %), assumed constant.
    interval_hours : float or array
        The venue's hours between payments.
    horizon_days : float or array
        Days the short is held.
    taker_fee : float or array
        The venue's taker fee, a fraction of the notional per trade (0.0005 = 0.05 %), >= 0.

    Returns
    -------
    float or ndarray
        USD, positive = the short costs you, negative = it earns you (funding received exceeds the fees).

    Examples
    --------
    >>> venue_cost(100_000, 0.0001, 8, 30, 0.0005)   # 90 payments of $10 received, $100 of fees
    -800.0
    """
    fee = as_float_array(taker_fee, "taker_fee")
    check_range(fee, "taker_fee", 0.0, 0.1)
    n = as_float_array(notional, "notional")
    return scalar_or_array(np.asarray(funding_cost(n, funding_rate, interval_hours, horizon_days)) + 2.0 * fee * n)


def meets_minimum(contracts, min_qty, min_notional, notional):
    """Whether an order is at least the venue's smallest order (in contracts and in USD) and not empty.

    Parameters
    ----------
    contracts : float or array
        Contracts to sell, in the venue's units.
    min_qty, min_notional : float or array
        The venue's smallest order in contracts and in USD; NaN or 0: none published.
    notional : float or array
        USD notional of the order.

    Returns
    -------
    bool or ndarray of bool
    """
    count, least, least_usd, usd = (np.asarray(v, dtype=float) for v in (contracts, min_qty, min_notional, notional))
    # a comparison with NaN is false, and one with a minimum of 0 holds for any order of more than nothing
    ok = (count > 0) & ~(count < least - 1e-12) & ~(usd < least_usd)
    return bool(ok) if np.ndim(ok) == 0 else ok


def best_venues(groups, cost, meets, notional, open_interest, max_oi_share):
    """The best venue of each group (a coin): the lowest cost among those that qualify.

    A venue qualifies when it has a cost (its rate is known), the order meets its minimum and the short
    is at most ``max_oi_share`` of its open interest (unknown open interest does not disqualify).

    Parameters
    ----------
    groups : array
        A label per row (the coin); rows of one label compete.
    cost : array
        USD cost over the horizon (:func:`venue_cost`); NaN: no rate at this venue.
    meets : array of bool
        The order meets the venue's minimum (:func:`meets_minimum`).
    notional, open_interest : array
        USD notional of the short and the venue's open interest in USD (NaN: not published).
    max_oi_share : float
        Largest share of a venue's open interest the short may be (0.01 = 1 %), > 0.

    Returns
    -------
    ndarray of object
        Per row: :data:`BEST` for the winner of its group, :data:`NOT_LISTED`, :data:`BELOW_MINIMUM` or
        :data:`OVER_OI_SHARE` for a row that does not qualify, "" otherwise. A tie goes to the first row.
    """
    share = float(max_oi_share)
    if not share > 0:
        raise ValueError(f"max_oi_share must be > 0 (got {share:g})")
    labels = np.asarray(groups, dtype=object).ravel()
    c, usd, oi = (np.asarray(v, dtype=float).ravel() for v in (cost, notional, open_interest))
    ok_min = np.asarray(meets, dtype=bool).ravel()
    # each row's mark as a number into _MARKS: a row out for several reasons gives the first of no rate,
    # below the minimum, over the cap
    mark = np.where(ok_min, (oi > 0) & (usd > share * oi), 2)
    mark[~np.isfinite(c)] = 3
    rows = np.flatnonzero(mark == 0)
    if rows.size:
        mark[rows[_first_cheapest(labels[rows], c[rows])]] = 4
    return _MARKS[mark]


#: The marks :func:`best_venues` gives, by number.
_MARKS = np.array(["", OVER_OI_SHARE, BELOW_MINIMUM, NOT_LISTED, BEST], dtype=object)


def _first_cheapest(labels: np.ndarray, cost: np.ndarray) -> np.ndarray:
    """Positions of each label's lowest cost (the first one on a tie); ``cost`` is finite.

    A venue table lists a coin's venues one after another, so its labels come in runs: when no label has two
    runs, each run is a group and one pass over the runs finds their minimums. Rows in any other order are
    sorted by group, then cost (a stable sort: a tie keeps the row order)."""
    new_run = np.empty(labels.size, dtype=bool)  # True where a run of labels starts
    new_run[:1] = True
    np.not_equal(labels[1:], labels[:-1], out=new_run[1:])
    starts = np.flatnonzero(new_run)
    if len(set(labels[starts].tolist())) == starts.size:
        # each run's least (cost, position) pair: numpy orders complex numbers by their real part, then by
        # their imaginary part, so the least of cost + 1j * position is the first of the cheapest rows
        pairs = np.empty(cost.size, dtype=complex)
        pairs.real, pairs.imag = cost, np.arange(cost.size)
        return np.minimum.reduceat(pairs, starts).imag.astype(np.intp)
    codes = _group_numbers(labels)
    order = np.lexsort((cost, codes))
    first = np.ones(order.size, dtype=bool)
    first[1:] = codes[order][1:] != codes[order][:-1]
    return order[first]


def _group_numbers(labels: np.ndarray) -> np.ndarray:
    """Each label's group as a number: a dict for a sheet's few hundred rows (pandas' factorize costs more to
    call than it saves there), factorize beyond."""
    if labels.size > 1000:
        return pd.factorize(labels)[0]
    seen: dict = {}
    return np.fromiter((seen.setdefault(g, len(seen)) for g in labels), dtype=np.int64, count=labels.size)
