"""Event-driven hedging: the shipped FOMC dates, the window rule by hand and by brute force, the functions."""

import datetime as dt
import json
from importlib import resources

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xlhedge import engine
from xlhedge.udfs import EVENT_NOTE, EVENT_RATIO

DEC_FOMC = np.array(["2026-12-09T19:00"], dtype="datetime64[ns]")


def t(text):
    return np.datetime64(text, "ns")


def test_shipped_fomc_decisions_are_wednesdays_at_2pm_new_york_time():
    zoneinfo = pytest.importorskip("zoneinfo")
    try:
        new_york = zoneinfo.ZoneInfo("America/New_York")
    except zoneinfo.ZoneInfoNotFoundError:
        pytest.skip("no time zone database on this machine")
    raw = json.loads(resources.files("xlhedge").joinpath("data/events.json").read_text(encoding="utf-8"))
    events = engine.shipped_events()
    assert len(events) == 16 and {e.name for e in events} == {"FOMC"}  # 8 a year, 2026 and 2027
    assert all(e["source"] in raw["sources"] for e in raw["events"])
    for e in events:
        utc = dt.datetime.fromisoformat(str(e.time)[:19]).replace(tzinfo=dt.UTC)
        local = utc.astimezone(new_york)
        assert (local.weekday(), local.hour, local.minute) == (2, 14, 0), e
    # the two the issue names: 2026-12-09 (winter time: 19:00 UTC) and a summer one (18:00 UTC)
    stamps = [str(e.time)[:16] for e in events]
    assert "2026-12-09T19:00" in stamps and "2026-06-17T18:00" in stamps


@pytest.mark.parametrize("as_of, expected", [
    ("2026-12-05T12:00", 0.4),   # 4.3 days before: outside the 3-day window
    ("2026-12-06T19:00", 0.8),   # exactly 3 days before: the window opens
    ("2026-12-07T12:00", 0.8),   # 2.3 days before: an FOMC date inside the window lifts 0.40 to 0.80
    ("2026-12-10T19:00", 0.8),   # exactly 24 hours after: still inside
    ("2026-12-10T19:01", 0.4),   # a minute later: back to the chosen ratio
])
def test_the_window_by_hand(as_of, expected):
    assert engine.event_ratio(0.4, t(as_of), DEC_FOMC) == pytest.approx(expected)


def test_a_higher_ratio_is_never_lowered_and_the_shipped_list_works():
    assert engine.event_ratio(0.95, t("2026-12-08T00:00"), DEC_FOMC) == pytest.approx(0.95)
    shipped = np.array([e.time for e in engine.shipped_events()])
    got = engine.event_ratio(np.array([0.4, 0.4, 0.4]),
                             np.array(["2026-12-07T12:00", "2026-11-27T12:00", "2027-06-08T00:00"],
                                      dtype="datetime64[ns]"), shipped)
    np.testing.assert_allclose(got, [0.8, 0.4, 0.8])


def _brute_force(ts, evs, before_days, after_hours):
    """Plain loop: windows holding t; the nearest upcoming event among them, else the latest past one."""
    out = []
    for x in ts:
        inside = [i for i, e in enumerate(evs)
                  if e - np.timedelta64(int(before_days * 24 * 3600), "s") <= x
                  <= e + np.timedelta64(int(after_hours * 3600), "s")]
        upcoming = [i for i in inside if evs[i] >= x]
        if upcoming:
            out.append(min(upcoming, key=lambda i: evs[i]))
        elif inside:
            out.append(max(inside, key=lambda i: evs[i]))
        else:
            out.append(-1)
    return np.array(out)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.lists(st.integers(0, 400), min_size=0, max_size=12, unique=True),
       st.lists(st.integers(-50, 450), min_size=1, max_size=30),
       st.integers(0, 10), st.integers(0, 72))
def test_window_index_equals_a_plain_loop(event_hours, at_hours, before_days, after_hours):
    start = np.datetime64("2026-01-01T00:00", "ns")
    evs = start + np.array(event_hours, dtype="int64") * np.timedelta64(1, "h") * 7  # spread over ~4 months
    ts = start + np.array(at_hours, dtype="int64") * np.timedelta64(1, "h") * 7
    np.random.default_rng(len(event_hours)).shuffle(evs)  # any order
    got = engine.event_window_index(ts, evs, before_days, after_hours)
    np.testing.assert_array_equal(got, _brute_force(ts, evs, before_days, after_hours))


def test_the_excel_functions():
    assert EVENT_RATIO(0.4, "2026-12-07") == pytest.approx(0.8)
    assert EVENT_RATIO(0.4, dt.datetime(2026, 12, 1)) == pytest.approx(0.4)
    assert EVENT_RATIO(0.4, 46363) == pytest.approx(0.8)  # Excel's date number of 2026-12-07
    assert EVENT_RATIO([[0.4], [0.9]], "2026-12-10 18:00") == [[pytest.approx(0.8)], [pytest.approx(0.9)]]
    # the user's own event (a network upgrade on 2026-03-02 12:00 UTC), 1 day before, floor 1.0
    assert EVENT_RATIO(0.4, "2026-03-01 12:00", 1, 24, 1.0, [["2026-03-02 12:00"], [None]]) == pytest.approx(1.0)
    assert EVENT_NOTE("2026-12-07 19:00") == "FOMC 2026-12-09 19:00 UTC in 2.0 days: at least 80%"
    assert EVENT_NOTE("2026-12-10 12:00") == "FOMC 2026-12-09 19:00 UTC 17 hours ago: at least 80%"
    assert EVENT_NOTE("2026-12-01") == "Next: FOMC 2026-12-09 19:00 UTC in 8.8 days; 80% from 3 days before"
    assert EVENT_NOTE("2028-06-01") == "No upcoming event: add dates to the Events table"
    assert EVENT_NOTE("2026-01-01", events=[[46024.5]]) == "event 2026-01-02 12:00 UTC in 36 hours: at least 80%"


@pytest.mark.parametrize("call, message", [
    (lambda: EVENT_RATIO(0.4, "yesterday"), "#VALUE! as_of must be a date"),
    (lambda: EVENT_RATIO(0.4, -5), "#VALUE! as_of must be a date"),
    # found by the fuzzer: 9999-12-31 overflowed nanosecond times into 1707 ("-86270.3 days ago")
    (lambda: EVENT_NOTE(2958465), "#VALUE! as_of must be a date from 1900 to 2199"),
    (lambda: EVENT_NOTE("3000-01-01"), "#VALUE! as_of must be a date from 1900 to 2199"),
    (lambda: EVENT_RATIO(-0.1, "2026-12-07"), "#VALUE! base_ratio must be >= 0"),
    (lambda: EVENT_RATIO(0.4, "2026-12-07", -1), "#VALUE! days_before must be >= 0"),
    (lambda: EVENT_NOTE("2026-12-07", events=[[None], [None]]), "#N/A events is an empty range"),
])
def test_bad_input_gets_a_cell_sized_message(call, message):
    got = call()
    assert isinstance(got, str) and got.startswith(message) and len(got) <= 120
