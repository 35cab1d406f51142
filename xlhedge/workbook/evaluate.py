"""Evaluate every formula of a workbook headlessly, with the xlhedge functions bound
to the real Python UDFs (``formulas`` package).

The ``formulas`` package hands custom functions numpy arrays (ranges) or
scalars, with its own markers for empty cells and errors. :func:`_bridge`
turns those into what xlwings would pass (floats, strings, ``None``, lists of
lists), so the UDFs run exactly as they would under Excel.
"""

from __future__ import annotations

import contextlib
import functools
import re
from pathlib import Path

import numpy as np

from xlhedge import udfs

_REF = re.compile(r"^'?\[(?P<book>[^\]]+)\](?P<sheet>.+?)'?!(?P<cell>[A-Z]+\d+)(?::(?P<end>[A-Z]+\d+))?$")


def _plain(value):
    """One value as xlwings would pass it (None for empty, float for numbers)."""
    import schedula as sh
    from formulas.tokens.operand import XlError

    if value is sh.EMPTY or value is None:
        return None
    if isinstance(value, XlError):
        return None  # xlwings passes error cells as None by default
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer, np.floating, int, float)):
        return float(value)
    return value


def _to_xlwings(arg):
    import formulas

    if isinstance(arg, formulas.ranges.Ranges):
        arg = arg.value
    if isinstance(arg, np.ndarray):
        if arg.size == 1:
            return _plain(arg.reshape(()).item() if arg.ndim else arg.item())
        return [[_plain(v) for v in row] for row in np.atleast_2d(arg).tolist()]
    return _plain(arg)


def _from_udf(result):
    """A UDF result as ``formulas`` expects: a scalar, or a 2-D object array for spills."""
    if isinstance(result, list):
        rows = [r if isinstance(r, list) else [r] for r in result] if result and isinstance(
            result[0], list) else [result]
        return np.asarray([["" if v is None else v for v in row] for row in rows], dtype=object)
    return result


def _bridge(name: str):
    """The function ``formulas`` calls for ``name``: looks the UDF up at each call (a compiled
    model is reused across calls, and tests may count or replace a function)."""

    @functools.wraps(udfs.UDFS[name])
    def call(*args):
        return _from_udf(udfs.UDFS[name](*(_to_xlwings(a) for a in args)))

    return call


def register_udfs() -> None:
    """Make every xlhedge UDF callable from formulas evaluated by ``formulas``."""
    import formulas
    from formulas.functions import wrap_func

    table = formulas.get_functions()
    for name in udfs.UDFS:
        table[name] = wrap_func(_bridge(name), ranges=True)
        table[f"_XLDUDF_{name}"] = table[name]  # the Lite edition stores them as Office.js custom functions


def evaluate_workbook(path, inputs: dict | None = None) -> dict:
    """Values of every formula cell, keyed by (sheet name, cell), e.g. ("Hedge", "J5").

    Parameters
    ----------
    path : path-like
        The workbook.
    inputs : dict, optional
        Cell overrides {(sheet, cell): value} applied before calculating
        (what a user would type).

    Returns
    -------
    dict
        Python values: float, str, bool, or None for an empty result.
    """
    register_udfs()
    path = Path(path)
    stat = path.stat()
    model = _compiled(str(path.resolve()), stat.st_mtime_ns, stat.st_size)
    overrides = {}
    if inputs:
        for (sheet, cell), value in inputs.items():
            overrides[f"'[{path.name}]{sheet.upper()}'!{cell}"] = value
    solution = model.calculate(inputs=overrides) if overrides else model.calculate()
    names = {s.upper(): s for s in _sheet_names(path)}
    out = {}
    for ref, ranges in solution.items():
        match = _REF.match(str(ref))
        if not match:
            continue
        sheet = names.get(match["sheet"].upper())
        if sheet is None:
            continue
        value = ranges.value if hasattr(ranges, "value") else ranges
        if match["end"]:  # an array formula's range: one value per cell
            for cell, item in _spread(match["cell"], match["end"], value):
                out[(sheet, cell)] = _cell_value(item)
        else:
            out[(sheet, match["cell"])] = _cell_value(value)
    formulas_cells = _formula_cells(path)
    return {key: out.get(key) for key in formulas_cells}


def _spread(first: str, last: str, value):
    """(cell, value) for every cell of the range first:last, from a 2-D result."""
    from openpyxl.utils.cell import column_index_from_string, coordinate_from_string, get_column_letter

    (c1, r1), (c2, r2) = coordinate_from_string(first), coordinate_from_string(last)
    i1, i2 = column_index_from_string(c1), column_index_from_string(c2)
    grid = np.atleast_2d(np.asarray(value, dtype=object))
    for r in range(r1, r2 + 1):
        for i in range(i1, i2 + 1):
            y, x = r - r1, i - i1
            item = grid[min(y, grid.shape[0] - 1), min(x, grid.shape[1] - 1)]
            yield f"{get_column_letter(i)}{r}", item


@functools.lru_cache(maxsize=4)
def _compiled(path: str, mtime_ns: int, size: int):
    """The compiled model of a workbook file, reused while the file is unchanged (compiling takes
    seconds; calculating with other inputs does not change it)."""
    import formulas

    with _quiet_formulas():
        return formulas.ExcelModel().loads(path).finish()


@contextlib.contextmanager
def _quiet_formulas():
    """``formulas`` draws a progress bar while it reads a workbook; keep the terminal clean."""
    import types

    import formulas.excel
    import tqdm

    original = formulas.excel.tqdm
    formulas.excel.tqdm = types.SimpleNamespace(tqdm=functools.partial(tqdm.tqdm, disable=True))
    try:
        yield
    finally:
        formulas.excel.tqdm = original


def _cell_value(value):
    from formulas.tokens.operand import XlError

    if isinstance(value, np.ndarray):
        value = value.reshape(-1)[0] if value.size else None
    if isinstance(value, XlError):
        return str(value)
    value = _plain(value)
    return None if value == "" else value


def _sheet_names(path: Path) -> list[str]:
    import openpyxl

    wb = openpyxl.load_workbook(path, read_only=True, keep_vba=False)
    try:
        return wb.sheetnames
    finally:
        wb.close()


def _formula_cells(path: Path) -> list[tuple[str, str]]:
    """Every cell a formula fills: formula cells, and each cell of an array formula's range."""
    import openpyxl

    from xlhedge.workbook.arrays import array_cells

    wb = openpyxl.load_workbook(path, keep_vba=False)
    cells = []
    for ws in wb.worksheets:
        arrays = array_cells(ws)
        for row in ws.iter_rows():
            for c in row:
                if c.data_type == "f" and c.coordinate in arrays:
                    cells += [(ws.title, coordinate) for coordinate in arrays[c.coordinate]]
                elif c.data_type == "f":
                    cells.append((ws.title, c.coordinate))
    return cells
