"""The Settings sheet as every command reads it: each setting's value (its default when the cell is
empty), and what is wrong with the ones the engine would refuse, naming the cell to edit.

The rules are the engine's own: each check calls the engine function that uses the settings, so a
setting the Hedge sheet's formulas reject (leverage 0, outlook "sideways", a negative horizon) is
named here with the engine's words, and ``plan`` and the backtest say the same thing.
"""

from __future__ import annotations

from xlhedge import engine
from xlhedge.cells import CellError, looks_numeric, parse_number
from xlhedge.workbook import layout as L

#: (the settings an engine call checks, the engine's argument name of each, the call)
CHECKS = (
    (("Outlook", "Conviction"), ("outlook", "conviction"),
     lambda v: engine.base_ratio("neutral" if _is_ratio(v["Outlook"]) else v["Outlook"], v["Conviction"])),
    (("Leverage", "MaintenanceMargin"), ("leverage", "maintenance_margin_rate"),
     lambda v: engine.liquidation_move(v["Leverage"], v["MaintenanceMargin"])),
    (("HorizonDays",), ("horizon_days",), lambda v: engine.funding_cost(1.0, 0.0, 8.0, v["HorizonDays"])),
    (("FundingThreshold", "Adjustment", "MaxRatio"), ("cost_threshold", "adjustment", "max_ratio"),
     lambda v: engine.funding_adjusted_ratio(0.5, 0.0, 8.0, v["FundingThreshold"], v["Adjustment"], v["MaxRatio"])),
)
_LABEL = {s.name: s.label for s in L.SETTING_LIST}


def with_defaults(values: dict) -> dict:
    """Each setting's value, its default where the cell is empty."""
    return {s.name: s.default if values.get(s.name) in (None, "") else values[s.name] for s in L.SETTING_LIST}


def _is_ratio(outlook) -> bool:
    """An outlook HEDGE_RATIO reads as a ratio (0.6, "60%"), not as a band label."""
    return not isinstance(outlook, str) or looks_numeric(outlook)


def _as_functions_read(setting: L.Setting, value):
    """A number setting as the functions read its cell ("50%" is 0.5); text they cannot read stays text
    (the engine then says it must be a number); text settings as typed."""
    if setting.fmt == "text" or not isinstance(value, str):
        return value
    try:
        return parse_number(value, setting.name)
    except CellError:
        return value


def settings_problems(values: dict) -> dict[str, str]:
    """Setting name -> "Settings!B10 (Leverage on the short): leverage must be >= 1 and <= 200 (got 0)" for
    each setting the engine refuses; empty when all are fine. ``values``: as read (empty = default)."""
    values = {s.name: _as_functions_read(s, v) for s, v in zip(L.SETTING_LIST, with_defaults(values).values(),
                                                                strict=True)}
    out = {}
    for names, arguments, call in CHECKS:
        try:
            call(values)
        except (ValueError, TypeError) as exc:
            said = str(exc)
            name = next((n for n, a in zip(names, arguments, strict=True) if said.startswith(a)), names[0])
            out[name] = f"{L.SETTINGS}!B{L.SETTING_ROW[name]} ({_LABEL[name]}): {said}"
    return out
