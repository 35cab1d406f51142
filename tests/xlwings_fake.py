"""An open workbook as xlwings shows it to Python (``book.sheets[...].range(...).value``), backed by a
real file through openpyxl, so the Excel-side port (:class:`xlhedge.workbook.book.XlwingsBook`, also what the
xlwings Lite scripts use) runs headlessly.

It follows xlwings' documented reading rules: one cell reads as its value; a single row or column
as a flat list (``options(ndim=1)`` too), a block or ``options(ndim=2)`` as a list of lists; empty
cells as None; numbers as float. Writing a list of lists at a cell fills the block from there;
``clear_contents`` empties the cells and keeps their formats.
"""

from __future__ import annotations

import openpyxl
from openpyxl.utils.cell import range_boundaries


def _plain(value):
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return float(value)
    if isinstance(value, str) and value == "":
        return None
    return value


class FakeRange:
    def __init__(self, ws, ref: str, ndim: int | None = None):
        self.ws, self.ref, self.ndim = ws, ref, ndim

    def options(self, ndim=None, **_):
        return FakeRange(self.ws, self.ref, ndim)

    def _cells(self):
        c1, r1, c2, r2 = range_boundaries(self.ref if ":" in self.ref else f"{self.ref}:{self.ref}")
        return [[self.ws.cell(r, c) for c in range(c1, c2 + 1)] for r in range(r1, r2 + 1)]

    @property
    def value(self):
        rows = [[_plain(c.value) for c in row] for row in self._cells()]
        if self.ndim == 2:
            return rows
        if len(rows) == 1 and len(rows[0]) == 1 and self.ndim is None:
            return rows[0][0]
        if len(rows) == 1:
            return rows[0]
        if all(len(r) == 1 for r in rows):
            return [r[0] for r in rows]
        return rows

    @value.setter
    def value(self, data):
        top = self._cells()[0][0]
        rows = data if isinstance(data, list) and data and isinstance(data[0], list) else [[data]]
        for i, row in enumerate(rows):
            for j, v in enumerate(row):
                cell = self.ws.cell(top.row + i, top.column + j)
                cell.value = v
                if isinstance(v, str):
                    cell.data_type = "s"

    def clear_contents(self):
        for row in self._cells():
            for c in row:
                c.value = None


class FakeSheet:
    def __init__(self, ws):
        self.ws, self.name = ws, ws.title

    def range(self, ref: str) -> FakeRange:
        return FakeRange(self.ws, ref)


class FakeSheets(list):
    def __getitem__(self, key):
        if isinstance(key, str):
            return next(s for s in self if s.name == key)
        return super().__getitem__(key)

    @property
    def active(self):
        return self._active


class FakeBook:
    """``FakeBook(path)``; ``save()`` writes it back (keeping the VBA of an .xlsm)."""

    def __init__(self, path, active: str = "Start"):
        self.path = path
        self.wb = openpyxl.load_workbook(path, keep_vba=str(path).endswith(".xlsm"))
        self.name = path.name
        self.sheets = FakeSheets(FakeSheet(ws) for ws in self.wb.worksheets)
        self.sheets._active = self.sheets[active]

    def save(self):
        self.wb.save(self.path)
