"""Event-driven hedging: a higher hedge ratio around scheduled, volatile events.

Around a known event (an FOMC decision, a CPI release, a network upgrade, a
token unlock) prices jump more than usual. The rule: from ``days_before`` days
before an event until ``hours_after`` hours after it, the ratio in force is at
least ``floor``; outside every such window it is the ratio you chose. Times are
UTC; the engine takes them as numpy ``datetime64`` (or anything
:func:`numpy.datetime64` reads).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np

from xlhedge.engine._checks import as_float_array, check_range

_NS_PER_HOUR = 3_600 * 10**9


@dataclass(frozen=True)
class Event:
    """One scheduled event: its name, its time in UTC and where the date comes from."""

    name: str
    time: np.datetime64
    source: str = ""


@lru_cache(maxsize=1)
def shipped_events() -> tuple[Event, ...]:
    """The FOMC decisions shipped with xlhedge (``xlhedge/data/events.json``, sources inside), oldest first."""
    raw = json.loads(resources.files("xlhedge").joinpath("data/events.json").read_text(encoding="utf-8"))
    events = [Event(e["name"], np.datetime64(e["utc"].rstrip("Z"), "ns"), e["source"]) for e in raw["events"]]
    return tuple(sorted(events, key=lambda e: e.time))


def _as_ns(times) -> np.ndarray:
    return np.asarray(times, dtype="datetime64[ns]").astype(np.int64)


def event_window_index(as_of, event_times, days_before=3.0, hours_after=24.0) -> np.ndarray:
    """Index of the event whose window holds each time, or -1.

    A time ``t`` is inside event ``e``'s window when
    ``e - days_before days <= t <= e + hours_after hours``. When windows
    overlap, the nearest upcoming event is chosen (else the latest past one).

    Parameters
    ----------
    as_of : datetime64 or array
        Times (UTC) to look at.
    event_times : array of datetime64
        Event times (UTC), any order.
    days_before : float
        Days before an event the window opens, >= 0.
    hours_after : float
        Hours after an event the window closes, >= 0.

    Returns
    -------
    ndarray of int
        Same shape as ``as_of``: the index into ``event_times``, -1 outside every window.

    Examples
    --------
    >>> events = np.array(["2026-12-09T19:00"], dtype="datetime64[ns]")
    >>> event_window_index(np.datetime64("2026-12-07T12:00"), events).item()
    0
    """
    before = float(as_float_array(days_before, "days_before"))
    after = float(as_float_array(hours_after, "hours_after"))
    check_range(np.asarray(before), "days_before", 0.0, 366.0)
    check_range(np.asarray(after), "hours_after", 0.0, 24.0 * 366)
    t = _as_ns(as_of)
    ev = _as_ns(event_times).ravel()
    if ev.size == 0:
        return np.full(t.shape, -1, dtype=int)
    order = np.argsort(ev, kind="stable")
    sorted_ev = ev[order]
    # two candidates per time: the first event at or after it (in its window once it opens) and the
    # last one before it (in its window until it closes); the upcoming one wins
    opens = sorted_ev - np.int64(round(before * 24 * _NS_PER_HOUR))
    closes = sorted_ev + np.int64(round(after * _NS_PER_HOUR))
    upcoming = np.searchsorted(sorted_ev, t, side="left")  # first event >= t
    idx = np.full(t.shape, -1, dtype=int)
    has_next = upcoming < sorted_ev.size
    nxt = np.minimum(upcoming, sorted_ev.size - 1)
    in_next = has_next & (t >= opens[nxt])
    prev = upcoming - 1
    has_prev = prev >= 0
    prv = np.maximum(prev, 0)
    in_prev = has_prev & (t <= closes[prv])
    idx = np.where(in_prev, order[prv], idx)
    idx = np.where(in_next, order[nxt], idx)  # an upcoming event wins over a past one
    return idx


def event_ratio(base_ratio, as_of, event_times, days_before=3.0, hours_after=24.0, floor=0.8):
    """Hedge ratio in force: at least ``floor`` inside an event's window, ``base_ratio`` otherwise.

    Parameters
    ----------
    base_ratio : float or array
        The ratio chosen without events (fraction of spot, e.g. 0.4), >= 0.
    as_of : datetime64 or array
        Times (UTC); broadcast against ``base_ratio``.
    event_times : array of datetime64
        Event times (UTC).
    days_before, hours_after : float
        The window, as in :func:`event_window_index`.
    floor : float
        Minimum ratio inside a window (the article suggests 0.8 to 1.0), >= 0.

    Returns
    -------
    float or ndarray
        ``max(base_ratio, floor)`` inside a window, ``base_ratio`` outside.

    Examples
    --------
    >>> events = np.array(["2026-12-09T19:00"], dtype="datetime64[ns]")
    >>> event_ratio(0.4, np.datetime64("2026-12-07T12:00"), events)
    0.8
    >>> event_ratio(0.4, np.datetime64("2026-12-01T12:00"), events)
    0.4
    """
    base = as_float_array(base_ratio, "base_ratio")
    low = as_float_array(floor, "floor")
    check_range(base, "base_ratio", 0.0)
    check_range(low, "floor", 0.0, 10.0)
    inside = event_window_index(as_of, event_times, days_before, hours_after) >= 0
    out = np.where(inside, np.maximum(base, low), base)
    return float(out) if out.ndim == 0 else out
