"""The dated sample snapshot shipped with xlhedge, for offline use."""

from __future__ import annotations

import json
from importlib import resources

import pandas as pd

from xlhedge.market.binance_brackets import shipped_brackets
from xlhedge.market.snapshot import COLUMNS, FLOAT_COLUMNS, keep_symbols, parse_exchanges, parse_symbols


def sample_snapshot(exchanges=None, symbols=None) -> pd.DataFrame:
    """The bundled snapshot as a frame shaped like :func:`funding_snapshot`'s.

    ``df.attrs["sample_as_of"]`` holds its date (UTC); ``fetched_at`` is that date.
    """
    raw = json.loads(resources.files("xlhedge").joinpath("data/sample_snapshot.json").read_text())
    as_of = pd.Timestamp(raw["as_of"])
    frame = pd.DataFrame(raw["rows"])
    frame["next_funding_time"] = pd.to_datetime(frame["next_funding_time"], utc=True)
    frame["fetched_at"] = as_of
    frame["basis"] = frame["mark_price"] / frame["index_price"] - 1.0
    frame = frame[frame["exchange"].isin(parse_exchanges(exchanges))]
    frame = keep_symbols(frame, parse_symbols(symbols))
    # a field the sample does not carry is NaN, as a refresh leaves what an exchange does not publish
    frame = frame.reindex(columns=COLUMNS).astype({c: float for c in FLOAT_COLUMNS}).reset_index(drop=True)
    # Binance's rows carry the brackets shipped with xlhedge, as a refresh gives them
    frame["maintenance_tiers"] = frame["symbol"].map(shipped_brackets).where(frame["exchange"] == "binance")
    frame.attrs["errors"] = {}
    frame.attrs["sample_as_of"] = as_of
    return frame
