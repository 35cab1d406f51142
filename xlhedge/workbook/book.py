"""The workbook port: where data enters and leaves a workbook, through openpyxl or through xlwings.

The refresh, the backtest, ``plan`` and the Lite scripts read and write a
workbook only through a :class:`BookPort`: read a table block, write a table
block, read and write single cells. :class:`OpenpyxlBook` works on a file
(headless, saved atomically with every formula's result stored),
:class:`XlwingsBook` on a workbook open in Excel (the buttons) or in xlwings
Lite. Strings from the network are written as text, never as formulas.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import pandas as pd

from xlhedge.workbook import layout as L
from xlhedge.workbook import spec
from xlhedge.workbook.files import replaced_atomically
from xlhedge.workbook.tables import (
    _as_text,
    beta_rows,
    crowd_rows,
    rows_to_betas,
    rows_to_crowding,
    rows_to_table,
    table_rows,
)


class WorkbookError(ValueError):
    """The file is missing, unreadable, or not an xlhedge workbook."""


class BookPort:
    """What the refresh and the backtest read and write, in terms of a book's ``_read``/``write_block`` of a
    table block, ``_cell``/``_set_cell`` and ``read_portfolio_column`` (one Portfolio column's values, a row
    each); :class:`OpenpyxlBook` and :class:`XlwingsBook` supply those."""

    def read_table(self) -> pd.DataFrame:
        return rows_to_table(self._read(L.FUNDING_TABLE))

    def write_table(self, table: pd.DataFrame) -> None:
        self.write_block(L.FUNDING_TABLE, table_rows(table)[: L.FUNDING_ROWS])

    def read_beta_table(self) -> pd.DataFrame:
        return rows_to_betas(self._read(L.BETA_TABLE))

    def write_beta_table(self, table: pd.DataFrame) -> None:
        self.write_block(L.BETA_TABLE, beta_rows(table)[: L.BETA_ROWS])

    def read_setting(self, name: str):
        return self._cell(L.SETTINGS, f"B{L.SETTING_ROW[name]}")

    def sheet_names(self) -> list[str]:
        return self._sheet_names()

    def write_status(self, status: str, note: str) -> None:
        self._set_cell(L.FUNDING, L.STATUS_CELL, status)
        self._set_cell(L.FUNDING, L.NOTE_CELL, note)

    def write_cell(self, sheet: str, ref: str, value) -> None:
        """One cell (a status line); text stays text."""
        self._set_cell(sheet, ref, value)

    def read_cells(self, sheet: str, refs: list[str]) -> list:
        """Values of single cells (the backtest's inputs)."""
        return [self._cell(sheet, ref) for ref in refs]

    def read_crowding(self) -> pd.DataFrame:
        return rows_to_crowding(self._read(L.CROWD_TABLE))

    def write_crowding(self, table: pd.DataFrame) -> None:
        self.write_block(L.CROWD_TABLE, crowd_rows(table)[: L.CROWD_ROWS])


class OpenpyxlBook(BookPort):
    """Reads and writes the refresh's cells through openpyxl (``keep_vba=True``)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.wb = load_book(self.path)
        self.funding = self.wb[L.FUNDING]
        from xlhedge.workbook.lite import web_extension_parts

        self.web_extension = web_extension_parts(self.path)

    def read_portfolio_column(self, key: str) -> list:
        col, sheet = spec.PORTFOLIO_COL[key], self.wb[L.PORTFOLIO]
        return [sheet[f"{col}{r}"].value for r in range(L.PORTFOLIO_FIRST_ROW, L.PORTFOLIO_LAST_ROW + 1)]

    def _read(self, table: L.Table) -> list[list]:
        return [[c.value for c in row] for row in self.wb[table.sheet][table.ref]]

    def write_block(self, table: L.Table, rows: list[list]) -> None:
        """Fill the table's cells, blanking rows past the data; text stays text. A cell written for the
        first time takes its column's format, as Excel gives it; an empty cell is not written at all
        (the template formats the table's columns, not thousands of empty cells)."""
        ws = self.wb[table.sheet]
        formats = column_formats(ws)
        for i in range(table.last_row - table.first_row + 1):
            values = rows[i] if i < len(rows) else [None] * len(table.columns)
            for (_, col, _), value in zip(table.columns, values, strict=True):
                put_value(ws, f"{col}{table.first_row + i}", value, formats)


    def _cell(self, sheet: str, ref: str):
        return self.wb[sheet][ref].value

    def _sheet_names(self) -> list[str]:
        return list(self.wb.sheetnames)

    def _set_cell(self, sheet: str, ref: str, value) -> None:
        ws = self.wb[sheet]
        put_value(ws, ref, value, column_formats(ws))


    def save(self) -> None:
        """Write to a temporary file beside the original, then replace it atomically."""
        try:
            with replaced_atomically(self.path) as tmp:
                self._save_with_results(tmp)
                if self.web_extension:  # the Lite edition: its code parts, which openpyxl drops, byte for byte
                    from xlhedge.workbook.lite import carry_web_extension

                    carry_web_extension(self.path, tmp, self.web_extension)
        finally:
            release(self.wb)


    def _save_with_results(self, path: Path) -> None:
        """Save to ``path`` with every formula's fresh result stored, so viewers without the xlhedge
        functions still show numbers (openpyxl drops them). The template's formulas are computed by
        the workbook model (fast); a workbook with formulas of its own has those computed by the general
        evaluator (:mod:`~xlhedge.workbook.own_formulas`), and a formula it does not know leaves the
        results out (Excel recalculates anyway)."""
        from xlhedge.workbook.cached import fill_cached_values, put_array_values
        from xlhedge.workbook.template import formula_values

        values = formula_values(self.wb)
        if values is not None:
            put_array_values(self.wb, values)
        self.wb.save(path)
        if values is None:
            from xlhedge.workbook.own_formulas import own_formula_values

            try:
                values = own_formula_values(path, self.wb)
            except Exception:  # results are a courtesy to viewers, never a reason to fail
                return
            if put_array_values(self.wb, values):
                self.wb.save(path)
        with contextlib.suppress(Exception):
            fill_cached_values(path, values)


_STYLE_PARTS = ("font", "fill", "border", "alignment", "protection", "number_format")


def column_formats(ws) -> dict:
    """{column letter: its format's parts} of the columns of an openpyxl sheet that have a format."""
    from openpyxl.utils import get_column_letter

    out = {}
    for dim in ws.column_dimensions.values():
        if dim.has_style and dim.min:
            for index in range(dim.min, (dim.max or dim.min) + 1):
                out[get_column_letter(index)] = {part: _plain_style(getattr(dim, part)) for part in _STYLE_PARTS}
    return out


def _plain_style(part):
    """A column's font, fill, ... as a cell takes it (openpyxl hands them out wrapped, read-only)."""
    import copy

    return part if isinstance(part, str) else copy.copy(part)


def put_value(ws, ref: str, value, formats: dict) -> None:
    """Set one cell of an openpyxl sheet; text stays text. Emptying a cell that was never written leaves it
    unwritten; a cell written for the first time takes its column's format from ``formats``
    (:func:`column_formats`), as Excel shows a value typed there."""
    from openpyxl.utils.cell import column_index_from_string, coordinate_from_string

    letter, row = coordinate_from_string(ref)
    exists = (row, column_index_from_string(letter)) in ws._cells  # openpyxl creates a cell on any access
    if value is None and not exists:
        return
    cell = ws[ref]
    if not exists and letter in formats:
        for part, style in formats[letter].items():
            setattr(cell, part, style)
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"  # never a formula, whatever the text starts with


def load_book(path: Path):
    """Open an xlhedge workbook with openpyxl, or raise :class:`WorkbookError` saying why not."""
    import zipfile

    import openpyxl

    path = Path(path)
    if not path.exists():
        raise WorkbookError(f"no such file: {path}")
    if not zipfile.is_zipfile(path):
        raise WorkbookError(f"{path.name} is not an Excel workbook (.xlsm/.xlsx)")
    with zipfile.ZipFile(path) as z:
        if "xl/workbook.xml" not in z.namelist():
            raise WorkbookError(f"{path.name} is a zip file, not an Excel workbook (.xlsm/.xlsx)")
    try:
        wb = openpyxl.load_workbook(path, keep_vba=path.suffix.lower() == ".xlsm", keep_links=True)
    except Exception as exc:  # openpyxl raises many types for damaged or hostile files
        raise WorkbookError(f"cannot read {path.name}: {type(exc).__name__}: {str(exc)[:120]}") from None
    try:
        missing = [s for s in (L.PORTFOLIO, L.FUNDING, L.SETTINGS) if s not in wb.sheetnames]
        if missing:
            raise WorkbookError(f"{path.name} is not an xlhedge workbook (no {', '.join(missing)} sheet)")
        check_layout((cell.value for cell in wb[L.FUNDING][L.FUNDING_HEADER_ROW]), path.name)
    except WorkbookError:
        release(wb)
        raise
    return wb


def release(wb) -> None:
    """Close the in-memory zip openpyxl keeps of a workbook's VBA parts. Left to the garbage collector
    at exit, it may be closed after its buffer and print "Exception ignored in ZipFile.__del__"."""
    archive = getattr(wb, "vba_archive", None)
    if archive is not None:
        archive.close()


def check_layout(headers, name: str) -> None:
    """Refuse a workbook whose Funding table has other columns than this version writes."""
    found = [h for h in headers if h not in (None, "")][: len(L.FUNDING_COLUMNS)]
    wanted = [header for _, _, header in L.FUNDING_COLUMNS]
    if found != wanted:
        raise WorkbookError(
            f"{name} was made by another version of xlhedge (its Funding sheet has other columns). "
            "Make a fresh one with 'xlhedge template --out NEW.xlsm' and copy your Portfolio and Settings into it.")


class XlwingsBook(BookPort):
    """Reads and writes the refresh's cells of an open workbook through xlwings."""

    def __init__(self, book):
        self.book = book
        self.funding = book.sheets[L.FUNDING]
        hr, last = L.FUNDING_HEADER_ROW, L.FUNDING_COLUMNS[-1][1]
        check_layout(self.funding.range(f"A{hr}:{last}{hr}").value, book.name)

    def read_portfolio_column(self, key: str) -> list:
        col = spec.PORTFOLIO_COL[key]
        rng = f"{col}{L.PORTFOLIO_FIRST_ROW}:{col}{L.PORTFOLIO_LAST_ROW}"
        return list(self.book.sheets[L.PORTFOLIO].range(rng).options(ndim=1).value)

    def _read(self, table: L.Table) -> list[list]:
        return self.book.sheets[table.sheet].range(table.ref).options(ndim=2).value

    def write_block(self, table: L.Table, rows: list[list]) -> None:
        sheet = self.book.sheets[table.sheet]
        sheet.range(table.ref).clear_contents()
        if rows:
            first = table.columns[0][1]
            sheet.range(f"{first}{table.first_row}").value = [[_as_text(v) for v in row] for row in rows]

    def _cell(self, sheet: str, ref: str):
        return self.book.sheets[sheet].range(ref).value

    def _sheet_names(self) -> list[str]:
        return [s.name for s in self.book.sheets]

    def _set_cell(self, sheet: str, ref: str, value) -> None:
        self.book.sheets[sheet].range(ref).value = _as_text(value)
