"""The dated sample snapshot shipped with xlhedge, for offline use."""

from __future__ import annotations

import json
from importlib import resources

import pandas as pd

from xlhedge.market.snapshot import COLUMNS, parse_exchanges, parse_symbols


def sample_snapshot(exchanges=None, symbols=None) -> pd.DataFrame:
    """The bundled snapshot as a frame shaped like :func:`funding_snapshot`'s.

    ``df.attrs["sample_as_of"]`` holds its date (UTC); ``fetched_at`` is that date.
    """
    raw = json.loads(resources.files("xlhedge").joinpath("data/sample_snapshot.json").read_text())
    as_of = pd.Timestamp(raw["as_of"])
    frame = pd.DataFrame(raw["rows"])
    frame["next_funding_time"] = pd.to_datetime(frame["next_funding_time"], utc=True)
    frame["fetched_at"] = as_of
    frame = frame[frame["exchange"].isin(parse_exchanges(exchanges))]
    bases = parse_symbols(symbols)
    if bases:
        frame = frame[frame["base"].isin(bases)]
    frame = frame[COLUMNS].astype({"funding_rate": float, "interval_hours": float, "mark_price": float})
    frame = frame.reset_index(drop=True)
    frame.attrs["errors"] = {}
    frame.attrs["sample_as_of"] = as_of
    return frame
