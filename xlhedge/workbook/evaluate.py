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
from dataclasses import dataclass
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

    Compiling a workbook's formulas takes seconds; calculating them does not. A workbook whose formulas
    are the same as one compiled before in this process (a copy of the template with other inputs, the
    same file after a refresh) is calculated on that compiled model, with each of its typed values
    given as an input (an emptied cell as an empty one). A value in a cell the compiled model has no
    node for compiles anew.

    Parameters
    ----------
    path : path-like
        The workbook.
    inputs : dict, optional
        Cell overrides {(sheet, cell): value} applied before calculating
        (what a user would type; None: the cell emptied).

    Returns
    -------
    dict
        Python values: float, str, bool, or None for an empty result.
    """
    register_udfs()
    book = _read_book(Path(path))
    compiled = _compiled_for(Path(path), book)
    typed = {**book.constants, **(inputs or {})}
    overrides = {compiled.key(cell): _input_value(value) for cell, value in typed.items()
                 if compiled.constants.get(cell, _ABSENT) != value and value is not None}
    overrides.update({compiled.key(cell): _empty() for cell in compiled.constants
                      if cell not in typed or typed[cell] is None})  # an input of None: an emptied cell
    with _quiet_formulas():
        solution = compiled.model.calculate(inputs=overrides) if overrides else compiled.model.calculate()
    names = {s.upper(): s for s in book.sheet_names}
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
    return {key: out.get(key) for key in book.formula_cells}


_ABSENT = object()


def _empty():
    """An emptied cell as ``formulas`` holds an empty cell of a range (a bare ``EMPTY`` is "no value")."""
    import schedula as sh

    return np.asarray([[sh.EMPTY]], dtype=object)


def _input_value(value):
    """A typed value as ``formulas`` reads it from a file: dates as serial numbers."""
    import datetime as dt

    from openpyxl.utils.datetime import to_excel

    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return to_excel(value)
    return value


@dataclass(frozen=True)
class _Book:
    """What the evaluator needs of a workbook file: its sheets, the cells formulas fill, the formulas
    themselves (whose text decides whether a compiled model can be reused) and the typed values."""

    sheet_names: list[str]
    formula_cells: list[tuple[str, str]]
    formulas: tuple  # (sheet names, defined names, ((sheet, cell, text, last cell it fills), ...))
    constants: dict  # (sheet, cell) -> typed value


_READ: dict = {}  # (path, modified ns, size) -> _Book: a workbook evaluated again with other inputs is read once


def _read_book(path: Path) -> _Book:
    """The book at ``path``, read again only when the file changed (its time or size)."""
    stat = path.stat()
    key = (str(path.resolve()), stat.st_mtime_ns, stat.st_size)
    if key not in _READ:
        _READ.clear()  # one book kept: the common case is one file evaluated with several inputs
        _READ[key] = _load_book(path)
    return _READ[key]


def _load_book(path: Path) -> _Book:
    import openpyxl

    from xlhedge.workbook.arrays import array_cells

    wb = openpyxl.load_workbook(path, keep_vba=False)
    try:
        cells, formulas, constants = [], [], {}
        for ws in wb.worksheets:
            arrays = array_cells(ws)
            spilled = {cell for filled in arrays.values() for cell in filled}  # their cached values too
            for row in ws.iter_rows():
                for c in row:
                    if c.data_type == "f":
                        filled = arrays.get(c.coordinate, [c.coordinate])
                        cells += [(ws.title, coordinate) for coordinate in filled]
                        formulas.append((ws.title, c.coordinate, str(getattr(c.value, "text", c.value)),
                                         filled[-1]))
                    elif c.value is not None and c.value != "" and c.coordinate not in spilled:
                        constants[(ws.title, c.coordinate)] = c.value
        names = tuple(sorted((name, str(d.attr_text)) for name, d in wb.defined_names.items()))
        return _Book(list(wb.sheetnames), cells, (tuple(wb.sheetnames), names, tuple(formulas)), constants)
    finally:
        wb.close()


@dataclass(frozen=True)
class _Compiled:
    model: object
    name: str  # the file name the model's cell keys carry
    constants: dict  # the typed values it was compiled with
    known: frozenset  # the cells it has a node for

    def key(self, cell: tuple[str, str]) -> str:
        return f"'[{self.name}]{cell[0].upper()}'!{cell[1]}"


_COMPILED: dict = {}  # formulas -> the models compiled for them (a few: one per shape of filled cells)
_KEEP = 6  # compiled models kept in a process


def _compiled_for(path: Path, book: _Book) -> _Compiled:
    """A compiled model whose formulas are the book's and which has a node for every cell the book has a
    value in (compiled before in this process, else now: a refreshed table fills cells the template left
    empty, and ``formulas`` reads a range from the nodes of its cells)."""
    models = _COMPILED.setdefault(book.formulas, [])
    for found in models:
        if all(found.key(cell) in found.known for cell in book.constants):
            return found
    import formulas

    with _quiet_formulas():
        model = formulas.ExcelModel().loads(str(path)).finish()
    compiled = _Compiled(model, path.name, dict(book.constants), frozenset(str(k) for k in model.dsp.data_nodes))
    models.append(compiled)
    while sum(len(m) for m in _COMPILED.values()) > _KEEP:  # the oldest go first
        oldest = next(k for k, m in _COMPILED.items() if m)
        _COMPILED[oldest].pop(0)
        if not _COMPILED[oldest]:
            del _COMPILED[oldest]
    return compiled


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


@contextlib.contextmanager
def _quiet_formulas():
    """Keep the terminal clean while ``formulas`` works: it draws a progress bar while it reads a workbook,
    and its dispatcher (schedula) logs a step it skips with its traceback ("Failed DISPATCHING 'REPEAT_ROWS'
    ... Range Settings!A32:A38 has not value": an empty range, after which the values are right, as the
    tests compare them with the workbook model's). What a cell computes is in its value, errors included."""
    import logging
    import types

    import formulas.excel
    import tqdm

    original = formulas.excel.tqdm
    dispatcher = logging.getLogger("schedula")
    level = dispatcher.level
    formulas.excel.tqdm = types.SimpleNamespace(tqdm=functools.partial(tqdm.tqdm, disable=True))
    dispatcher.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        formulas.excel.tqdm = original
        dispatcher.setLevel(level)


def _cell_value(value):
    from formulas.tokens.operand import XlError

    if isinstance(value, np.ndarray):
        value = value.reshape(-1)[0] if value.size else None
    if isinstance(value, XlError):
        return str(value)
    value = _plain(value)
    return None if value == "" else value
