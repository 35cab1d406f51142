"""Times in cells: a date, an Excel date number or text, read as UTC; what an empty "as of" means;
the events an event rule looks at.

Used by the Excel functions (``EVENT_RATIO``, ``EVENT_NOTE``) and the backtest's event list, so a date
typed in a cell means the same time to both.
"""

from __future__ import annotations

import numpy as np

from xlhedge import engine
from xlhedge.cells import CellError, is_blank, parse_number, unwrap_single

_EXCEL_EPOCH = np.datetime64("1899-12-30T00:00", "ns")
_FIXED_NOW: list = []  # set by :func:`clock_at`


def now_utc() -> np.datetime64:
    """What "now" means for an empty ``as_of``: the time :func:`clock_at` fixed, else the environment's
    ``XLHEDGE_NOW`` (UTC, e.g. 2026-11-20T08:00, for reproducible builds and tests), else the clock."""
    import datetime as dt
    import os

    if _FIXED_NOW:
        return _FIXED_NOW[-1]
    fixed = os.environ.get("XLHEDGE_NOW", "").strip()
    if fixed:
        return np.datetime64(fixed.rstrip("Z"), "ns")
    return np.datetime64(dt.datetime.now(dt.UTC).replace(tzinfo=None), "ns")


class clock_at:
    """``with clock_at(time):`` every empty ``as_of`` means ``time`` (UTC)."""

    def __init__(self, time):
        self.time = np.datetime64(time, "ns")

    def __enter__(self):
        _FIXED_NOW.append(self.time)
        return self

    def __exit__(self, *exc):
        _FIXED_NOW.pop()


_FIRST_TIME, _LAST_TIME = np.datetime64("1900-01-01", "m"), np.datetime64("2200-01-01", "m")


def cell_time(value, name: str) -> np.datetime64:
    """A time in UTC from a cell: a date, an Excel date number, text like 2026-12-07 12:00; blank = now.
    Years 1900 to 2199 (nanosecond times end in 2262)."""
    import datetime as dt

    value = unwrap_single(value)
    if is_blank(value):
        return now_utc()
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        minutes = np.datetime64(value, "m")
    elif isinstance(value, dt.date):
        minutes = np.datetime64(value, "m")
    elif isinstance(value, str):
        text = value.strip().rstrip("Z").replace(" UTC", "").replace(" ", "T")
        try:
            minutes = np.datetime64(text, "m") if text[:1].isdigit() else None
        except ValueError:
            minutes = None
        if minutes is None or np.isnat(minutes):
            raise CellError(f"{name} must be a date, e.g. 2026-12-07 or 2026-12-07 12:00 (UTC)")
    else:
        serial = parse_number(value, name)
        if not 1 <= serial < 109_574:  # Excel's 1900-01-01 .. 2199-12-31
            raise CellError(f"{name} must be a date from 1900 to 2199 (got {serial:g})")
        return _EXCEL_EPOCH + np.timedelta64(round(serial * 86_400_000), "ms")
    if not _FIRST_TIME <= minutes < _LAST_TIME:
        raise CellError(f"{name} must be a date from 1900 to 2199")
    if isinstance(value, dt.datetime):
        return np.datetime64(value, "ns")
    return minutes.astype("datetime64[ns]")


def _empty_time(value) -> bool:
    """An empty cell of a time column, however the client encodes it: nothing, "", or the 0 older Excel
    desktop builds pass to Office.js custom functions (Excel's day 0 is no one's event)."""
    return is_blank(value) or (isinstance(value, (int, float)) and not isinstance(value, bool) and value == 0)


def event_list(events) -> tuple[list[str], np.ndarray]:
    """Names and UTC times of the events: a range of dates, or of two columns (name, date); empty rows
    are skipped. Blank: the FOMC decisions shipped with xlhedge."""
    if is_blank(unwrap_single(events)):
        shipped = engine.shipped_events()
        return [e.name for e in shipped], np.array([e.time for e in shipped], dtype="datetime64[ns]")
    cells = np.asarray(events if isinstance(events, (list, tuple, np.ndarray)) else [events], dtype=object)
    if cells.ndim == 2 and cells.shape[1] == 2 and any(
            isinstance(v, str) and v.strip() and not v.strip()[:1].isdigit() for v in cells[:, 0]):
        rows = [(v[0], v[1]) for v in cells if not _empty_time(v[1])]
    else:
        rows = [(None, v) for v in cells.ravel() if not _empty_time(v)]
    if not rows:
        raise CellError("events is an empty range", "#N/A")
    names = ["event" if is_blank(n) else str(n).strip()[:30] for n, _ in rows]
    return names, np.array([cell_time(v, "events") for _, v in rows], dtype="datetime64[ns]")
