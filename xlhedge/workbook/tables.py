"""The workbook's side tables as cell values and back: the Funding, beta and crowding tables (market
frames <-> rows of cells), and the Portfolio rows the refresh and the backtest need."""

from __future__ import annotations

import numpy as np
import pandas as pd

from xlhedge.engine import funding_apr
from xlhedge.market.contracts import lookup_keys
from xlhedge.market.snapshot import COLUMNS, FLOAT_COLUMNS, TIME_COLUMNS
from xlhedge.workbook import layout as L

TABLE_COLUMNS = [*COLUMNS, "stale"]


BETA_KEYS = L.BETA_TABLE.keys


CROWD_KEYS = L.CROWD_TABLE.keys


FORMULA_STARTS = ("=", "+", "-", "@")


def _cell_value(value):
    """A frame value as a cell value: naive-UTC datetimes, floats, None for missing."""
    if isinstance(value, pd.Timestamp):
        return None if pd.isna(value) else value.tz_convert("UTC").tz_localize(None).to_pydatetime()
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, (np.floating, np.integer)):
        return float(value)
    return value


def table_rows(table: pd.DataFrame) -> list[list]:
    """Cell values of the Funding table, in column order (datetimes naive UTC)."""
    coin_key, symbol_key = lookup_keys(table) if len(table) else ([], [])
    frame = table.assign(
        apr=funding_apr(table["funding_rate"].to_numpy(float), table["interval_hours"].to_numpy(float))
        if len(table) else [],
        key=coin_key,
        symbol_key=symbol_key,
    )
    return [[_cell_value(v) for v in row] for row in frame[L.FUNDING_TABLE.keys].itertuples(index=False)]


def beta_rows(table: pd.DataFrame) -> list[list]:
    """Cell values of the beta table, in column order."""
    return [[_cell_value(v) for v in row] for row in table[BETA_KEYS].itertuples(index=False)]


def crowd_rows(table: pd.DataFrame) -> list[list]:
    """Cell values of the crowding table, in column order."""
    return [[_cell_value(v) for v in row] for row in table[CROWD_KEYS].itertuples(index=False)]


def _side_table(rows: list[list], keys: list[str], numbers: tuple[str, ...], when: str) -> pd.DataFrame:
    """A side table (betas, crowding) from cell values: rows keyed by text in the first column."""
    records = [dict(zip(keys, r, strict=True)) for r in rows if r and isinstance(r[0], str) and r[0]]
    frame = pd.DataFrame(records, columns=keys)
    for col in numbers:
        frame[col] = pd.to_numeric(frame[col], errors="coerce")
    frame[when] = pd.to_datetime(frame[when], errors="coerce", utc=True)
    frame["stale"] = frame["stale"].fillna(L.STALE_NO).astype(str)
    return frame


def rows_to_crowding(rows: list[list]) -> pd.DataFrame:
    """The previous crowding table from cell values."""
    return _side_table(rows, CROWD_KEYS, ("funding_percentile", "funding_samples", "oi_change"), "measured_at")


def rows_to_betas(rows: list[list]) -> pd.DataFrame:
    """The previous beta table from cell values."""
    return _side_table(rows, BETA_KEYS, ("beta", "r2", "n"), "estimated_at")


def rows_to_table(rows: list[list]) -> pd.DataFrame:
    """The previous Funding table from cell values (rows without an exchange are skipped)."""
    keys = L.FUNDING_TABLE.keys
    records = [dict(zip(keys, r, strict=True)) for r in rows if r and r[0] not in (None, "")]
    frame = pd.DataFrame(records, columns=keys)
    for col in FLOAT_COLUMNS:
        frame[col] = pd.to_numeric(frame[col], errors="coerce").astype(float)
    for col in TIME_COLUMNS:
        frame[col] = pd.to_datetime(frame[col], errors="coerce", utc=True)
    frame["stale"] = frame["stale"].fillna(L.STALE_NO).astype(str)
    for col in ("exchange", "symbol", "base", "quote", "margin"):
        frame[col] = frame[col].fillna("").astype(str)
    return frame[TABLE_COLUMNS]


def _as_text(value):
    """Strings that Excel would read as formulas are written with a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value
