"""Numbers as a workbook stores them: quantised once, here, so a file's bytes never depend on the machine.

A sum computed with another processor's SIMD path, another BLAS, numba on or
off, or another numpy/pandas version can differ in its last binary digit
(``536886.3500000001`` against ``536886.35``). Excel shows at most 15
significant digits, and every figure xlhedge stores is good to far fewer, so
each number a workbook stores is rounded to :data:`SIGNIFICANT_DIGITS`
significant digits first. Two builds then differ only where a last-digit
difference straddles a rounding boundary: about one chance in 10^6 per
differing number at 10 digits (a double carries about 16), where 12 digits
would leave one in 10^4. The builder writes through
:class:`StoredNumbersWorksheet` (every number, every formula's cached value,
and so every chart's cached series), and the headless refresh's cached values
go through :func:`stored_number` too.
"""

from __future__ import annotations

import math

from xlsxwriter.worksheet import Worksheet

#: Significant digits a stored number keeps: cents up to $100 million, a funding rate of 0.0001 to 1e-14.
SIGNIFICANT_DIGITS = 10


def stored_number(value):
    """``value`` rounded to :data:`SIGNIFICANT_DIGITS` significant digits (floats only).

    Integers, booleans, text, None, NaN and infinities come back unchanged.
    """
    if isinstance(value, bool) or not isinstance(value, float) or not math.isfinite(value):
        return value
    return float(f"{value:.{SIGNIFICANT_DIGITS}g}")


def set_cell(cell, value) -> None:
    """Set an openpyxl cell to ``value``; text stays text, never read back as a formula whatever it starts
    with."""
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"


def _stored(value):
    """A float-like value (numpy floats too) quantised; anything else unchanged."""
    if isinstance(value, (bool, int, str)) or value is None:
        return value
    try:
        return stored_number(float(value))
    except (TypeError, ValueError):
        return value


class StoredNumbersWorksheet(Worksheet):
    """An XlsxWriter worksheet whose numbers and cached formula results are quantised.

    ``write``, ``write_number``, ``write_datetime`` and the blank padding of array
    formulas all end in ``_write_number``; every formula form ends in
    ``_write_formula`` or ``_write_array_formula``: those three are the one place.
    """

    def _write_number(self, row, col, number, cell_format=None):
        return super()._write_number(row, col, _stored(number), cell_format)

    def _write_formula(self, row, col, formula, cell_format=None, value=0):
        return super()._write_formula(row, col, formula, cell_format, _stored(value))

    def _write_array_formula(self, first_row, first_col, last_row, last_col, formula, cell_format=None, value=0,
                             atype="static"):
        return super()._write_array_formula(first_row, first_col, last_row, last_col, formula, cell_format,
                                            _stored(value), atype)
