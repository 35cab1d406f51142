"""Where to short: a workbook's Venues sheet, computed without Excel.

This is what ``xlhedge venues BOOK.xlsm`` prints: for each Portfolio coin, every exchange that lists
its hedge contract, compared at one size (the outlook's ratio), with the funding per 8 hours, the cost
over the horizon with the taker fees to open and close, the order in that venue's units and the best
venue marked. The numbers are the sheet's own (:mod:`xlhedge.workbook.model`), read by column key.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from xlhedge.engine.venues import BEST, NOT_LISTED
from xlhedge.plan import Inputs
from xlhedge.workbook import layout as L
from xlhedge.workbook import spec

#: The Venues columns ``venues`` reads (by key; the sheet declares them once in workbook.spec).
VENUE_KEYS = ("coin", "exchange", "perp", "symbol", "short_notional", "funding_rate", "interval_hours", "funding_8h",
              "funding_apr", "next_funding", "predicted_rate", "basis", "open_interest", "taker_fee", "net_cost",
              "mark_price", "contracts", "order", "liquidation_rise", "best")
_NUMBERS = ("short_notional", "funding_rate", "interval_hours", "funding_8h", "funding_apr", "next_funding",
            "predicted_rate", "basis", "open_interest", "taker_fee", "net_cost", "mark_price", "contracts",
            "liquidation_rise")


def _number(value) -> float:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else float("nan")


def venue_table(inputs: Inputs) -> pd.DataFrame:
    """Every Venues row with a coin (one per venue and Portfolio coin), as numbers and words; ``row`` is
    the sheet's row."""
    records = []
    for i in range(L.VENUE_ROWS):
        r = L.VENUE_FIRST_ROW + i
        row = {key: inputs.values.get((L.VENUES, f"{spec.VENUE_COL[key]}{r}")) for key in VENUE_KEYS}
        if not row["coin"]:
            continue
        rec = {"row": r, **{key: row[key] or "" for key in VENUE_KEYS if key not in _NUMBERS}}
        rec.update({key: _number(row[key]) for key in _NUMBERS})
        records.append(rec)
    return pd.DataFrame(records, columns=["row", *VENUE_KEYS])


def _excel_time(serial: float, fmt: str = "%m-%d %H:%M") -> str:
    """A date as the sheet holds it (days since 1899-12-30, UTC) in words; "" when there is none."""
    if not np.isfinite(serial):
        return ""
    return (pd.Timestamp("1899-12-30") + pd.to_timedelta(serial, unit="D")).round("min").strftime(fmt)


def for_export(table: pd.DataFrame) -> pd.DataFrame:
    """The table for CSV or JSON: the next funding time as an ISO time in UTC, not the sheet's day number."""
    out = table.copy()
    out["next_funding"] = [_excel_time(v, "%Y-%m-%dT%H:%MZ") for v in out["next_funding"]]
    return out


def format_venues(table: pd.DataFrame, horizon_days: float) -> str:
    """The table as text: one block per coin, its venues cheapest first, the best marked."""
    if table.empty:
        return "No holdings in the Portfolio sheet."

    def usd(x):
        return "" if not np.isfinite(x) else f"{'-' if x < 0 else ''}${abs(x):,.0f}"

    def pct(x, digits=4):
        return "" if not np.isfinite(x) else f"{x:.{digits}%}"

    blocks = []
    horizon = f"Cost {horizon_days:g}d" if horizon_days > 0 else "Cost"
    for coin, group in table.groupby("coin", sort=False):
        listed = group[group["best"] != NOT_LISTED].sort_values("net_cost", na_position="last")
        short = group["short_notional"].dropna()
        head = f"{coin}: short {usd(short.iloc[0])} of the {group['perp'].iloc[0]} perp" if len(short) else \
            f"{coin}: no short to compare (see the Hedge sheet)"
        if listed.empty:
            blocks.append(head + "\n  no venue in the Funding table lists it: refresh")
            continue
        rows = [{
            "": "*" if r.best == BEST else "", "Venue": r.exchange, "Contract": r.symbol,
            "Funding/8h": pct(r.funding_8h), "APR": pct(r.funding_apr, 2), "Every": (
                f"{r.interval_hours:g}h" if np.isfinite(r.interval_hours) else ""),
            "Next (UTC)": _excel_time(r.next_funding), "Basis": pct(r.basis, 3), "Open interest": usd(r.open_interest),
            "Fee": pct(r.taker_fee, 3), horizon: usd(r.net_cost), "Liq. rise": pct(r.liquidation_rise, 1),
            "Order": r.order if r.best in (BEST, "") else f"{r.order} ({r.best})",
        } for r in listed.itertuples()]
        missing = sorted(set(group["exchange"]) - set(listed["exchange"]))
        frame = pd.DataFrame(rows)
        width = int(frame["Order"].str.len().max())
        lines = frame.to_string(index=False, formatters={"Order": lambda o, w=width: f"{o:<{w}}"}).splitlines()
        start = len(lines[1]) - width  # where the orders start: their heading goes there too, not to the right
        lines[0] = lines[0][:start] + "Order"
        text = head + "\n" + "\n".join(line.rstrip() for line in lines)
        if missing:
            text += f"\n  not listed (or not refreshed): {', '.join(missing)}"
        blocks.append(text)
    return ("\n\n".join(blocks) + "\n\n* best: the lowest cost over the horizon (funding plus the taker fee to open "
            "and to close; < 0 = you earn) whose order meets the venue's minimum and whose short stays within the "
            "Settings share of its open interest. Funding per 8 h puts venues paying every 1, 4 or 8 h on one "
            "scale. Type 'best' as a Portfolio row's exchange to short there.")
