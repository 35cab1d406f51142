"""The hedge plan of a workbook: its Hedge sheet, computed without Excel.

This is what ``xlhedge plan BOOK.xlsm`` and ``xlhedge demo`` print. The numbers
are the Hedge sheet's own (:mod:`xlhedge.workbook.model` computes the
template's formulas with the same xlhedge functions), so the plan and the sheet
cannot disagree. A row the sheet leaves out of its totals (a quantity typed as
text, a coin hedged with BTC but without a beta, an exchange xlhedge does not
know) is named here with its sheet and cell and what to do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from xlhedge.engine.crowding import FUNDING_LOOKBACK_DAYS, OI_CHANGE_DAYS
from xlhedge.workbook import layout as L
from xlhedge.workbook import spec
from xlhedge.workbook.book import OpenpyxlBook, release
from xlhedge.workbook.portfolio import holding_problem
from xlhedge.workbook.settings import settings_problems, with_defaults
from xlhedge.workbook.template import formula_values

PLAN_COLUMNS = [
    "asset", "spot_value", "hedge_with", "perp", "exchange", "contract", "funding_rate", "interval_hours",
    "hedge_ratio", "beta", "short_notional", "mark_price", "contracts", "margin", "liquidation_price",
    "funding_cost", "funding_apr", "short_held", "rebalance", "hedged_fraction", "liquidation_rise", "basis", "r2_btc",
    "funding_percentile", "oi_change", "crowded", "order", "check", "problem",
]
#: Hedge sheet column of each numeric plan column (the sheet's columns are declared in workbook.spec).
HEDGE_COLUMN = {key: spec.HEDGE_COL[key] for key in (
    "spot_value", "funding_rate", "interval_hours", "hedge_ratio", "beta", "short_notional", "mark_price",
    "contracts", "margin", "liquidation_price", "funding_cost", "funding_apr", "short_held", "rebalance",
    "hedged_fraction", "liquidation_rise", "basis", "r2_btc", "funding_percentile", "oi_change")}


@dataclass
class Inputs:
    """A workbook's formula values (the sheet's numbers), settings and Portfolio rows."""

    values: dict
    settings: dict
    portfolio: list[dict] = field(default_factory=list)
    own_formulas: bool = False  # the workbook's formulas are not this version's template's
    settings_problems: dict = field(default_factory=dict)  # setting -> what to fix, naming its cell


def read_inputs(path) -> Inputs:
    """Read a workbook and compute its formulas (the template's; others with the general evaluator)."""
    book = OpenpyxlBook(Path(path))
    values = formula_values(book.wb)
    own = values is None
    if own:  # the user changed a formula, or an older xlhedge made the workbook: evaluate it as it is
        from xlhedge.workbook.own_formulas import own_formula_values

        values = own_formula_values(path, book.wb)
    ws = book.wb[L.PORTFOLIO]
    portfolio = [{key: ws[f"{spec.PORTFOLIO_COL[key]}{L.PORTFOLIO_FIRST_ROW + i}"].value
                  for key in spec.PORTFOLIO_INPUTS}
                 for i in range(L.PORTFOLIO_ROWS)]
    typed = {s.name: book.read_setting(s.name) for s in L.SETTING_LIST}
    settings = with_defaults(typed)
    release(book.wb)
    return Inputs(values, settings, portfolio, own, settings_problems(typed))


def _number(value) -> float:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else np.nan


def _message(value) -> str | None:
    return value if isinstance(value, str) and value.startswith("#") else None


def problem(inputs: Inputs, i: int, row: dict) -> str:
    """Why row ``i`` (Hedge sheet values by column key) has no short, naming the coin, the cell and what
    to do ("" if it has one)."""
    r = L.PORTFOLIO_FIRST_ROW + i
    asset, typed = row["asset"], inputs.portfolio[i]
    found = holding_problem(asset, r, typed.get("quantity"), typed.get("typed_price"),
                            str(row["exchange"] or "") or None, bool(typed.get("exchange")))
    if found:  # what the Portfolio's own formula leaves out, in the words every command uses
        return found
    spot = _message(row["spot_value"])
    if spot:  # no price on that exchange
        cell = spec.PORTFOLIO_COL["exchange"] if typed.get("exchange") else spec.PORTFOLIO_COL["asset"]
        return f"{asset} ({L.PORTFOLIO}!{cell}{r}): {spot.split(' ', 1)[1]}"
    if np.isnan(_number(row["spot_value"])):
        cell = f"{L.PORTFOLIO}!{spec.PORTFOLIO_COL['quantity']}{r}"
        return f"{asset} ({cell}): no quantity yet; type how many coins you hold" \
            if typed.get("quantity") in (None, "") else ""
    for key in ("hedge_ratio", "short_notional"):
        msg = _message(row[key])
        if msg and inputs.settings_problems:  # a setting the functions refuse: name it, not the Hedge cell
            return f"{asset}: {next(iter(inputs.settings_problems.values()))}"
        if msg:
            if row["hedge_with"] == L.BTC_PERP and "beta" in msg:
                cell = f"{L.PORTFOLIO}!{spec.PORTFOLIO_COL['beta']}{r}"
                return f"{asset} ({cell}): hedged with the BTC perp but has no beta; type it there, or click Refresh " \
                       "to estimate it"
            cell = f"{spec.HEDGE_COL[key]}{L.HEDGE_FIRST_ROW + i}"
            return f"{asset} ({L.HEDGE}!{cell}): {msg.split(' ', 1)[1] if ' ' in msg else msg}"
    return ""


def _cell_messages(inputs: Inputs, row: dict, hedge_row: int) -> str:
    """What the Hedge sheet says instead of a number in a row that has a short (a contract without a
    funding rate ...), naming the cell; nothing when a setting is to blame (plan lists those once)."""
    if inputs.settings_problems:
        return ""
    said = [f"{msg.split(' ', 1)[1]} ({L.HEDGE}!{col}{hedge_row})" for key, col in HEDGE_COLUMN.items()
            if key not in ("spot_value", "hedge_ratio", "short_notional") and (msg := _message(row[key]))
            and " " in msg]
    return "; ".join(dict.fromkeys(said))


def compute_plan(inputs: Inputs) -> pd.DataFrame:
    """Per holding, the Hedge sheet's row: ratio, short notional (USD), contracts, margin, liquidation
    price, funding; ``problem`` says why a row has no short (and so is left out of the totals)."""
    records, rows_at = [], []
    for i in range(L.PORTFOLIO_ROWS):
        hr = L.HEDGE_FIRST_ROW + i
        row = {key: inputs.values.get((L.HEDGE, f"{col}{hr}")) for key, col in spec.HEDGE_COL.items()}
        if not row["asset"]:
            continue
        rec = {key: row[key] for key in ("asset", "hedge_with", "perp", "exchange")}
        rec["contract"] = row["symbol"] if isinstance(row["symbol"], str) else ""  # the sheet's choice of contract
        rec.update({key: _number(row[key]) for key in HEDGE_COLUMN})
        rec["problem"] = problem(inputs, i, row)
        check = row["check"].strip() if isinstance(row["check"], str) else ""
        rec["check"] = "; ".join(c for c in (check, "" if rec["problem"] else _cell_messages(inputs, row, hr)) if c)
        rec["crowded"] = row["crowded"] if isinstance(row["crowded"], str) else ""
        rec["order"] = row["order"] if isinstance(row["order"], str) and not _message(row["order"]) else ""
        records.append(rec)
        rows_at.append(i)
    if not records:
        return pd.DataFrame(columns=PLAN_COLUMNS)
    return pd.DataFrame(records)[PLAN_COLUMNS]


def totals(plan: pd.DataFrame) -> dict:
    """Sums in USD and the overall ratio (short / spot), as the Hedge sheet's total row."""
    spot = float(np.nansum(plan["spot_value"]))
    short = float(np.nansum(plan["short_notional"]))
    return {
        "spot_value": spot, "short_notional": short, "hedge_ratio": short / spot if spot else 0.0,
        "margin": float(np.nansum(plan["margin"])), "funding_cost": float(np.nansum(plan["funding_cost"])),
        "rebalance": float(np.nansum(plan["rebalance"])),
    }


def _liquidation_rise(plan: pd.DataFrame) -> str:
    rises = plan["liquidation_rise"].to_numpy(float)
    rises = rises[np.isfinite(rises)]
    return f" (a rise of {rises.min():.1%} liquidates the shorts)" if rises.size else ""


def _crowding(r) -> str:
    """One plan row's crowded-longs signal with its inputs, as the Hedge sheet shows them."""
    if not np.isfinite(r.funding_percentile):
        return r.crowded
    oi = (f"open interest {r.oi_change:+.1%} over {OI_CHANGE_DAYS} days" if np.isfinite(r.oi_change)
          else "no open-interest history here")
    return (f"funding at the {r.funding_percentile:.0%} percentile of its last {FUNDING_LOOKBACK_DAYS} days, "
            f"{oi}: {r.crowded}")


def format_table(plan: pd.DataFrame, horizon_days: float, settings_problems=()) -> str:
    """The plan as a readable text table with a totals line, and the rows left out with why."""
    if plan.empty:
        return "No holdings in the Portfolio sheet."
    t = totals(plan)

    def usd(x):
        return "" if not np.isfinite(x) else f"{'-' if x < 0 else ''}${abs(x):,.0f}"

    def price(x):
        return "" if not np.isfinite(x) else f"${x:,.2f}"

    funding_label = f"Funding {horizon_days:g}d" if horizon_days > 0 else "Funding"
    rows = []
    for r in plan.itertuples():
        rows.append({
            "Asset": r.asset, "Spot": usd(r.spot_value), "Perp": f"{r.contract or r.perp} @ {r.exchange}",
            "Ratio": f"{r.hedge_ratio:.1%}" if np.isfinite(r.hedge_ratio) else "",
            "Short (USD)": usd(r.short_notional),
            "Contracts": "" if not np.isfinite(r.contracts) else f"{r.contracts:,.6g}",
            "Hedged": "" if not np.isfinite(r.hedged_fraction) else f"{r.hedged_fraction:.1%}",
            "Margin": usd(r.margin), "Liq. price": price(r.liquidation_price),
            funding_label: usd(r.funding_cost),
            "Funding APR": "" if not np.isfinite(r.funding_apr) else f"{r.funding_apr:.2%}",
            "Rebalance": usd(r.rebalance),
        })
    rows.append({"Asset": "TOTAL", "Spot": usd(t["spot_value"]), "Perp": "",
                 "Ratio": f"{t['hedge_ratio']:.1%}", "Short (USD)": usd(t["short_notional"]), "Contracts": "",
                 "Hedged": "",
                 "Margin": usd(t["margin"]), "Liq. price": "", funding_label: usd(t["funding_cost"]),
                 "Funding APR": "", "Rebalance": usd(t["rebalance"])})
    text = pd.DataFrame(rows).to_string(index=False)
    orders = [f"  {a}: {o}" for a, o in zip(plan["asset"], plan["order"], strict=True) if o]
    if orders:
        text += "\nOrders to place (in each venue's units; Contracts above):\n" + "\n".join(orders)
    checks = [f"  {a}: {c}" for a, c in zip(plan["asset"], plan["check"], strict=True) if c]
    if checks:
        text += "\nChecks:\n" + "\n".join(checks)
    crowded = [f"  {r.asset}: {_crowding(r)}" for r in plan.itertuples() if np.isfinite(r.funding_percentile)]
    if crowded:
        text += "\nCrowded longs (funding high for its own month while open interest grows):\n" + "\n".join(crowded)
    if settings_problems:
        text += "\nSettings to fix:\n" + "\n".join(f"  {p}" for p in settings_problems)
    # a row without a spot value is out of every total; one with a spot value but no short counts in the
    # spot total (the coins are held) and is simply not hedged: the total ratio says so
    held = np.isfinite(plan["spot_value"].to_numpy(float))
    left_out = [p for p, h in zip(plan["problem"], held, strict=True) if p and not h]
    unhedged = [p for p, h in zip(plan["problem"], held, strict=True) if p and h]
    if left_out:
        text += "\nLeft out of the totals:\n" + "\n".join(f"  {p}" for p in left_out)
    if unhedged:
        text += "\nNot hedged (in the spot total, no short):\n" + "\n".join(f"  {p}" for p in unhedged)
    return (text + "\nFunding cost > 0 = you pay; < 0 = the short is paid (positive rates pay shorts)."
            "\nHedged = coins short / coins held after rounding the contracts down (BTC perp: short / "
            "BTC-equivalent)."
            "\nLiquidation price: isolated short at the Settings leverage, on the maintenance tier of its size "
            "(Settings' tier table, else the venue's, else the flat rate); your coins do not protect it"
            + _liquidation_rise(plan) + ".")
