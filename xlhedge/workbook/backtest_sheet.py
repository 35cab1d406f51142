"""The Backtest sheet's rows: a run's summary and both value lines as the sheet holds them."""

from __future__ import annotations

import numpy as np

from xlhedge.backtest import Backtest
from xlhedge.workbook import layout as L

#: The cell format of each kind of summary value (``Backtest.summary``), on the Backtest sheet.
RESULT_FORMATS = {"sentence": "out_wrap", "text": "out_text", "pct": "pct", "usd": "usd", "cost": "cost",
                  "count": "hours"}


def results_rows(run: Backtest) -> list[tuple[str, object, str]]:
    """The summary as the Backtest sheet's result rows (label, value, cell format from the value's kind);
    notes after the numbers."""
    rows = [(label, value, RESULT_FORMATS[kind]) for label, value, kind in run.summary()]
    rows += [("Note", n, RESULT_FORMATS["text"]) for n in run.notes]
    return rows[: L.BACKTEST_RESULTS.last_row - L.BACKTEST_RESULTS.first_row + 1]


def series_rows(run: Backtest) -> list[tuple]:
    """(date, unhedged, hedged) of each step as sheet values (naive UTC dates); a run longer than the
    sheet's rows is thinned evenly (first and last close kept) for the chart."""
    frame = run.series()
    if len(frame) > L.BACKTEST_SERIES_ROWS:
        frame = frame.iloc[np.unique(np.linspace(0, len(frame) - 1, L.BACKTEST_SERIES_ROWS).round().astype(int))]
    return [(d.tz_convert("UTC").tz_localize(None).to_pydatetime(), float(u), float(h))
            for d, u, h in frame.itertuples(index=False)]
