"""The template's formulas, computed in Python: the numbers the workbook shows, without Excel.

The Portfolio and Hedge formulas are the sheet specification's expressions
(:mod:`xlhedge.workbook.spec`), computed here from a workbook's inputs with Excel's rules
(:mod:`xlhedge.workbook.formula`), calling the very same UDFs (:mod:`xlhedge.udfs`) with the values
a formula would pass them; the builder writes the same expressions as Excel text.

It is what makes the headless commands fast: ``xlhedge refresh`` stores every
formula's result and ``xlhedge plan`` prints the Hedge sheet from here, in a
fraction of the time the general evaluator (the ``formulas`` package) takes to
compile the workbook. It covers the template's formulas only: when a workbook's
formulas differ from the template's (a user added or edited one),
:func:`formula_values` returns None and callers fall back to the general
evaluator. The test suite checks, on generated workbooks, that both agree cell
for cell.
"""

from __future__ import annotations

import datetime as dt
import math

from xlhedge.workbook import layout as L
from xlhedge.workbook import spec
from xlhedge.workbook.excel import ERROR_TEXTS, VALUE, XlErr, is_number
from xlhedge.workbook.formula import Env, Rows

P, H, S, SC = L.PORTFOLIO, L.HEDGE, L.SETTINGS, L.SCENARIOS


class Book:
    """Cell values of an openpyxl workbook, read on demand (formula cells read as None); ``inputs``
    {(sheet, cell): value} stand for what those cells hold (what a user would type). An input for a cell
    of a template formula replaces that formula's result (a value typed over it, or what a formula of the
    user's own there computes: :mod:`xlhedge.workbook.own_formulas`); errors as their text ("#N/A")."""

    def __init__(self, wb, inputs: dict | None = None):
        self.wb = wb
        self.inputs = inputs or {}

    def get(self, sheet: str, ref: str):
        v = self.inputs[(sheet, ref)] if (sheet, ref) in self.inputs else self.wb[sheet][ref].value
        if isinstance(v, str) and v.startswith("="):
            return None
        if hasattr(v, "text"):  # ArrayFormula
            return None
        if isinstance(v, float) and not math.isfinite(v):
            return VALUE
        return v

    def column(self, sheet: str, col: str, first: int, last: int) -> list:
        ws = self.wb[sheet]
        out = []
        for (cell,) in ws[f"{col}{first}:{col}{last}"]:
            v = self.inputs.get((sheet, cell.coordinate), cell.value)
            out.append(None if isinstance(v, str) and v.startswith("=") else v)
        return out


class BookEnv(Env):
    """The specification's expressions over a workbook: typed cells from the book, formula columns
    computed (each once, when first needed)."""

    def __init__(self, book: Book):
        self.book = book
        self.columns: dict = {}
        self.totals: dict = {}
        self.names: dict = {}
        self.singles: dict = {}

    def column(self, sheet: str, key: str) -> Rows:
        if (sheet, key) not in self.columns:
            first, rows, letters = spec.TABLES[sheet]
            formula = next(c.formula for c in spec.columns(sheet) if c.key == key)
            if formula is None:
                values = Rows(self.book.get(sheet, f"{letters[key]}{first + i}") for i in range(rows))
            else:
                values = formula.value(self)
                values = Rows(map(_shown, values)) if isinstance(values, Rows) else Rows([_shown(values)] * rows)
                for i in range(rows):
                    values[i] = self._instead(sheet, f"{letters[key]}{first + i}", values[i])
            self.columns[(sheet, key)] = values
        return self.columns[(sheet, key)]

    def _instead(self, sheet: str, ref: str, computed):
        """What a formula cell holds: the input given for it, else what its template formula computed."""
        if (sheet, ref) not in self.book.inputs:
            return computed
        value = self.book.inputs[(sheet, ref)]
        return XlErr(value) if isinstance(value, str) and value in ERROR_TEXTS else value

    def name(self, name: str):
        if name not in self.names:
            self.names[name] = self._read_name(name)
        return self.names[name]

    def _read_name(self, name: str):
        if name in spec.RANGES:
            sheet, col, first, last = spec.RANGES[name]
            computed = [c.key for c in spec.columns(sheet) if c.formula is not None
                        and spec.TABLES[sheet][2][c.key] == col] if sheet in spec.TABLES else []
            if computed:  # a range of formulas (the Venues sheet's best venues)
                return list(self.column(sheet, computed[0]))
            return self.book.column(sheet, col, first, last)
        event_name, sheet, name_col, when_col, first, last = spec.EVENT_RANGE
        if name == event_name:
            return [[self.book.get(sheet, f"{name_col}{r}"), self.book.get(sheet, f"{when_col}{r}")]
                    for r in range(first, last + 1)]
        return self.book.get(S, f"B{L.SETTING_ROW[name]}")

    def total(self, sheet: str, key: str):
        if (sheet, key) not in self.totals:
            computed = next(c.total for c in spec.columns(sheet) if c.key == key).value(self)
            ref = f"{spec.TABLES[sheet][2][key]}{spec.TOTAL_ROW[sheet]}"
            self.totals[(sheet, key)] = self._instead(sheet, ref, computed)
        return self.totals[(sheet, key)]

    def cell(self, sheet: str, ref: str):
        return self.book.get(sheet, ref)

    def single(self, key: str):
        if key not in self.singles:
            cell = spec.SINGLE_CELL[key]
            self.singles[key] = self._instead(cell.sheet, cell.ref, _shown(cell.formula.value(self)))
        return self.singles[key]


def _shown(value):
    """A formula's result as its cell holds it: a reference to an empty cell (``INDEX`` of a blank table
    cell, which the expressions keep empty: ISNUMBER says FALSE) is 0 in the cell, as Excel shows it and
    as formulas that read the cell see it. Text, numbers, errors and a function's blank ("") stay."""
    return 0.0 if value is None else value


def compute(book: Book, start_status_cell: str) -> dict:
    """Every template formula's value, keyed (sheet, cell) like :func:`evaluate_workbook`; ``start_status_cell``:
    where the Start sheet repeats the refresh status."""
    env = BookEnv(book)
    out: dict = {(cell.sheet, cell.ref): env.single(cell.key) for cell in spec.SINGLE_CELLS}
    for sheet, (first, _, letters) in spec.TABLES.items():
        for column in spec.columns(sheet):
            if column.formula is not None:
                for i, value in enumerate(env.column(sheet, column.key)):
                    out[(sheet, f"{letters[column.key]}{first + i}")] = value
            if column.total is not None:
                out[(sheet, f"{letters[column.key]}{spec.TOTAL_ROW[sheet]}")] = env.total(sheet, column.key)
    status = book.get(L.FUNDING, L.STATUS_CELL)
    out[("Start", start_status_cell)] = env._instead("Start", start_status_cell,
                                                     None if status is None or status == "" else status)
    return {key: _result(value) for key, value in out.items()}


def _result(value):
    """A computed value as :func:`evaluate_workbook` reports it: None for empty, errors as text."""
    if isinstance(value, XlErr):
        return str(value)
    if value == "" or value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, dt.datetime):  # a date a function passed through: the number the cell holds
        from openpyxl.utils.datetime import to_excel  # (as the general evaluator reads a typed date)

        return to_excel(value.replace(tzinfo=None))
    if is_number(value):
        return float(value)
    return value
