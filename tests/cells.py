"""Cells addressed by key, as the product addresses them: a test names the column, the sheet
specification (``xlhedge.workbook.spec``) gives its letter, so an inserted column moves no test."""

from __future__ import annotations

from xlhedge.workbook import layout as L
from xlhedge.workbook import spec


def ref(sheet: str, key: str, row: int) -> str:
    """The cell of column ``key`` of ``sheet``'s table on sheet row ``row``: ``ref("Hedge", "short_notional",
    7) == "J7"``."""
    return f"{spec.TABLES[sheet][2][key]}{row}"


def at(sheet: str, key: str, row: int) -> tuple[str, str]:
    """(sheet, cell), as evaluated values and typed inputs are keyed."""
    return sheet, ref(sheet, key, row)


def single(key: str) -> tuple[str, str]:
    """(sheet, cell) of a single formula cell by key (``single("exposure") == ("Scenarios", "B4")``)."""
    cell = spec.SINGLE_CELL[key]
    return cell.sheet, cell.ref


def setting(name: str) -> tuple[str, str]:
    """(sheet, cell) of a Settings value by name."""
    return L.SETTINGS, f"B{L.SETTING_ROW[name]}"


CASH = (L.PORTFOLIO, spec.CASH_CELL)


def type_in(ws, row: int, **typed) -> None:
    """Type values into a table row of an openpyxl sheet by key, as a user would:
    ``type_in(wb["Portfolio"], 7, asset="SOL", quantity=1000)``."""
    for key, value in typed.items():
        ws[ref(ws.title, key, row)] = value


def typed(sheet: str, row: int, **values) -> dict:
    """Inputs for the evaluator, {(sheet, cell): value}, of one table row by key:
    ``typed("Portfolio", 7, asset="SOL", quantity=1000)``."""
    return {at(sheet, key, row): value for key, value in values.items()}


def write_own_margin_rule(path) -> tuple[str, str]:
    """Give the workbook at ``path`` a formula of the user's own (the first Hedge row's margin = half its
    short). Returns the margin's and the short's cells."""
    import openpyxl

    wb = openpyxl.load_workbook(path, keep_vba=True)
    margin, short = (ref(L.HEDGE, key, L.HEDGE_FIRST_ROW) for key in ("margin", "short_notional"))
    wb[L.HEDGE][margin] = f"={short}/2"
    wb.save(path)
    return margin, short
