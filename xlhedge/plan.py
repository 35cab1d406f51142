"""The hedge plan of a workbook, computed by the engine from its Portfolio, Settings and Funding.

This is what ``xlhedge plan BOOK.xlsm`` and ``xlhedge demo`` print. It reads
the user's inputs (never the cached formula results) and follows the same
rules as the Hedge sheet, vectorised over the holdings.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from xlhedge import engine
from xlhedge.market.contracts import resolve
from xlhedge.refresh import OpenpyxlBook
from xlhedge.workbook import layout as L

PLAN_COLUMNS = [
    "asset", "spot_value", "hedge_with", "perp", "exchange", "contract", "funding_rate", "interval_hours",
    "hedge_ratio", "beta", "short_notional", "mark_price", "contracts", "margin", "liquidation_price",
    "funding_cost", "funding_apr", "short_held", "rebalance",
]


@dataclass
class Inputs:
    """What a user typed: holdings (one row each), settings by defined name, and the Funding table."""

    holdings: pd.DataFrame
    settings: dict
    funding: pd.DataFrame
    cash: float
    betas: dict


def read_inputs(path) -> Inputs:
    """Read holdings, settings and the Funding table of an xlhedge workbook."""
    book = OpenpyxlBook(Path(path))
    ws = book.wb[L.PORTFOLIO]
    records = []
    for r in range(L.PORTFOLIO_FIRST_ROW, L.PORTFOLIO_LAST_ROW + 1):
        rec = {key: ws[f"{L.PORTFOLIO_COLUMNS[key][0]}{r}"].value for key in L.PORTFOLIO_INPUTS}
        if isinstance(rec["asset"], str) and rec["asset"].strip():
            records.append(rec)
    holdings = pd.DataFrame(records, columns=list(L.PORTFOLIO_INPUTS))
    sheet = book.wb[L.SETTINGS]
    settings = {}
    for s in L.SETTING_LIST:
        value = sheet[f"B{L.SETTING_ROW[s.name]}"].value
        settings[s.name] = s.default if value in (None, "") else value
    cash = ws[f"I{L.CASH_ROW}"].value
    estimated = book.read_beta_table()
    betas = dict(zip(estimated["base"], estimated["beta"], strict=True))
    return Inputs(holdings, settings, book.read_table(), float(cash) if _is_number(cash) else 0.0, betas)


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and np.isfinite(value)


def _num(values, default=np.nan) -> np.ndarray:
    return np.array([float(v) if _is_number(v) else default for v in values], dtype=float)


def compute_plan(inputs: Inputs) -> pd.DataFrame:
    """Per holding: ratio, short notional (USD), contracts, margin, liquidation price, funding.

    Follows the Hedge sheet: coins hedged with "BTC perp" short ``ratio x beta x value`` of
    BTC (a typed beta wins over the refresh's estimate); prices typed by the user win over
    mark prices; a missing funding rate means no funding adjustment and no funding cost.
    """
    h, s = inputs.holdings, inputs.settings
    n = len(h)
    if n == 0:
        return pd.DataFrame(columns=PLAN_COLUMNS)
    assets = h["asset"].astype(str).str.strip().str.upper().to_numpy()
    via_btc = (h["hedge_with"].astype(str) == "BTC perp").to_numpy()
    perp = np.where(via_btc, "BTC", assets)
    default_ex = str(s["DefaultExchange"]).strip().lower()
    exchange = np.array([str(e).strip().lower() if isinstance(e, str) and e.strip() else default_ex
                         for e in h["exchange"]])
    table = inputs.funding.reset_index(drop=True)
    own_row = resolve(table, exchange, assets)  # the workbook's lookup: hedge contract, else exact symbol
    perp_row = resolve(table, exchange, perp)

    def pick(column, rows, default=np.nan):
        values = table[column].to_numpy(float) if len(table) else np.zeros(0)
        return np.array([values[i] if i >= 0 else default for i in rows], dtype=float)

    rate = pick("funding_rate", perp_row)
    hours = np.nan_to_num(pick("interval_hours", perp_row), nan=8.0)
    perp_mark = pick("mark_price", perp_row)
    own_mark = pick("mark_price", own_row)
    symbols = table["symbol"].to_numpy(object) if len(table) else np.zeros(0, dtype=object)
    contract = np.array([symbols[i] if i >= 0 else "" for i in perp_row], dtype=object)
    typed = _num(h["typed_price"])
    price = np.where(np.isnan(typed), own_mark, typed)
    spot = _num(h["quantity"]) * price
    adjust = str(s["FundingAdjust"]).strip().lower() == "yes"
    ratio = engine.hedge_ratio(
        np.full(n, str(s["Outlook"]), dtype=object), float(s["Conviction"]),
        rate if adjust else np.full(n, np.nan), hours,
        s["FundingThreshold"], s["Adjustment"], s["MaxRatio"])
    ratio = np.atleast_1d(ratio)
    typed_beta = _num(h["beta"])
    known = np.array([inputs.betas.get(a, np.nan) for a in assets], dtype=float)
    beta = np.where(via_btc, np.where(np.isnan(typed_beta), known, typed_beta), 1.0)
    notional = spot * ratio * beta
    mark = np.where(np.isnan(perp_mark) & ~via_btc, price, perp_mark)
    ok = np.isfinite(notional) & np.isfinite(mark)
    contracts = np.full(n, np.nan)
    if ok.any():
        contracts[ok] = engine.contracts_for_notional(notional[ok], mark[ok]).contracts
    leverage, mmr = float(s["Leverage"]), float(s["MaintenanceMargin"])
    liq = np.full(n, np.nan)
    has_mark = np.isfinite(mark)
    if has_mark.any():
        liq[has_mark] = engine.liquidation_price(mark[has_mark], leverage, mmr)
    cost = np.where(np.isfinite(rate) & np.isfinite(notional),
                    engine.funding_cost(np.nan_to_num(notional), np.nan_to_num(rate), hours,
                                        float(s["HorizonDays"])), np.nan)
    apr = np.where(np.isfinite(rate), engine.funding_apr(np.nan_to_num(rate), hours), np.nan)
    held = _num(h["current_short"], 0.0)
    target = np.divide(notional, spot, out=np.full(n, np.nan), where=spot > 0)
    rebalance = np.full(n, np.nan)
    good = np.isfinite(target)
    if good.any():
        rebalance[good] = engine.rebalance_trade(spot[good], held[good], target[good],
                                                 float(s["RebalanceBand"]))
    return pd.DataFrame({
        "asset": assets, "spot_value": spot, "hedge_with": np.where(via_btc, "BTC perp", "own perp"),
        "perp": perp, "exchange": exchange, "contract": contract, "funding_rate": rate, "interval_hours": hours,
        "hedge_ratio": ratio, "beta": beta, "short_notional": notional, "mark_price": mark,
        "contracts": contracts, "margin": notional / leverage, "liquidation_price": liq,
        "funding_cost": cost, "funding_apr": apr, "short_held": held, "rebalance": rebalance,
    })[PLAN_COLUMNS]


def totals(plan: pd.DataFrame) -> dict:
    """Sums in USD and the overall ratio (short / spot)."""
    spot = float(np.nansum(plan["spot_value"]))
    short = float(np.nansum(plan["short_notional"]))
    return {
        "spot_value": spot, "short_notional": short, "hedge_ratio": short / spot if spot else 0.0,
        "margin": float(np.nansum(plan["margin"])), "funding_cost": float(np.nansum(plan["funding_cost"])),
        "rebalance": float(np.nansum(plan["rebalance"])),
    }


def format_table(plan: pd.DataFrame, horizon_days: float) -> str:
    """The plan as a readable text table with a totals line."""
    if plan.empty:
        return "No holdings in the Portfolio sheet."
    t = totals(plan)

    def usd(x):
        return "" if not np.isfinite(x) else f"{'-' if x < 0 else ''}${abs(x):,.0f}"

    def price(x):
        return "" if not np.isfinite(x) else f"${x:,.2f}"

    rows = []
    for r in plan.itertuples():
        rows.append({
            "Asset": r.asset, "Spot": usd(r.spot_value), "Perp": f"{r.contract or r.perp} @ {r.exchange}",
            "Ratio": f"{r.hedge_ratio:.1%}" if np.isfinite(r.hedge_ratio) else "",
            "Short (USD)": usd(r.short_notional),
            "Contracts": "" if not np.isfinite(r.contracts) else f"{r.contracts:,.6g}",
            "Margin": usd(r.margin), "Liq. price": price(r.liquidation_price),
            f"Funding {horizon_days:g}d": usd(r.funding_cost),
            "Funding APR": "" if not np.isfinite(r.funding_apr) else f"{r.funding_apr:.2%}",
            "Rebalance": usd(r.rebalance),
        })
    rows.append({"Asset": "TOTAL", "Spot": usd(t["spot_value"]), "Perp": "",
                 "Ratio": f"{t['hedge_ratio']:.1%}", "Short (USD)": usd(t["short_notional"]), "Contracts": "",
                 "Margin": usd(t["margin"]), "Liq. price": "", f"Funding {horizon_days:g}d": usd(t["funding_cost"]),
                 "Funding APR": "", "Rebalance": usd(t["rebalance"])})
    frame = pd.DataFrame(rows)
    text = frame.to_string(index=False)
    return (text + "\nFunding cost > 0 = you pay; < 0 = the short is paid (positive rates pay shorts)."
            "\nLiquidation price: isolated short at the Settings leverage; your coins do not protect it.")
