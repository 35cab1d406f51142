"""Turning what Excel passes into numbers, and errors into short cell messages.

xlwings hands a UDF a float, a string, a bool, ``None`` (empty cell), a
datetime, a flat list (one row) or a list of lists (a 2-D range), and tests
may pass numpy arrays. This module converts those into numpy arrays with a
blank mask, broadcasts them like an Excel array formula, and converts results
back into a float or a list of lists that spills. Nothing here knows about
xlwings, so it is tested by calling it directly.
"""

from __future__ import annotations

import datetime as _dt
import functools
import itertools
import math
import numbers
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

MAX_MESSAGE = 120


class CellError(ValueError):
    """A bad input, shown in the cell as ``"<code> <message>"``."""

    def __init__(self, message: str, code: str = "#VALUE!"):
        super().__init__(message)
        self.code = code

    def cell_text(self) -> str:
        return clip_message(f"{self.code} {self}")


def clip_message(text: str) -> str:
    """Keep a cell message within :data:`MAX_MESSAGE` characters, on one line."""
    text = " ".join(str(text).split())
    return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 3] + "..."


def cell_safe(func: Callable) -> Callable:
    """Decorator: never raise out of a UDF; return a cell message instead."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            with np.errstate(all="ignore"):  # overflow shows as a message, not a warning
                return func(*args, **kwargs)
        except CellError as exc:
            return exc.cell_text()
        except (ValueError, OverflowError, ZeroDivisionError, FloatingPointError) as exc:
            return clip_message(f"#VALUE! {exc}")
        except RecursionError:
            return "#VALUE! input is nested too deeply"
        except Exception as exc:  # a UDF must not crash Excel's Python process
            return clip_message(f"#VALUE! unexpected {type(exc).__name__}: {exc}")

    return wrapper


def is_message(result) -> bool:
    """A UDF result that is one cell message (an error for the whole call)."""
    return isinstance(result, str) and result.startswith("#")


def _rows_of(value) -> int:
    """Rows of a rectangular 2-D range argument (list of lists or 2-D array); 0 for anything else."""
    if isinstance(value, np.ndarray):
        return value.shape[0] if value.ndim == 2 and value.shape[1] else 0
    if isinstance(value, (list, tuple)) and value and all(isinstance(r, (list, tuple)) for r in value):
        widths = {len(r) for r in value}
        return len(value) if len(widths) == 1 and widths != {0} else 0
    return 0


def _first_row(result):
    """One row's result as a list of cells (a scalar or message is one cell)."""
    if isinstance(result, list):
        if result and isinstance(result[0], list):
            return list(result[0])
        return list(result) if result else [None]
    return [result]


def row_by_row(call: Callable, args: dict, rowwise: tuple[str, ...], ranges: tuple[str, ...]):
    """Call ``call`` once per row and stack the rows, so one bad row shows its own message.

    ``args`` are the bound arguments of one call that failed as a whole. The
    rows are those of the ``rowwise`` arguments (their row counts must agree);
    every argument in ``ranges`` with that many rows is split with them, the
    others (one cell, a price history, an event list) go to each row whole.
    A row whose first per-row argument is empty stays empty.
    Returns None when there is nothing to split (a single row or disagreeing sizes).
    """
    counts = {_rows_of(args[name]) for name in rowwise if name in args} - {0}
    if len(counts) != 1:
        return None
    n = counts.pop()
    if n < 2:
        return None
    split = [name for name in ranges if name in args and _rows_of(args[name]) == n]
    driver = next(name for name in rowwise if name in args and _rows_of(args[name]) == n)
    rows = []
    for i in range(n):
        if all(is_blank(v) for v in args[driver][i]):  # an empty row stays empty, as in a whole-column call
            rows.append([None])
            continue
        one = dict(args)
        for name in split:  # one cell as itself, so a message names no position
            row = list(args[name][i])
            one[name] = row[0] if len(row) == 1 else [row]
        rows.append(_first_row(call(**one)))
    width = max(len(r) for r in rows)
    return [r + [None] * (width - len(r)) if len(r) < width else r for r in rows]


# ---------------------------------------------------------------- scalars

def is_blank(value) -> bool:
    """An empty cell: None, empty or all-space text, or a NaN passed by a caller."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    return False


def unwrap_single(value):
    """A 1x1 range ([[x]], [x], 1-element array) is the value itself."""
    if isinstance(value, np.ndarray):
        return value.reshape(()).item() if value.size == 1 else value
    if isinstance(value, (list, tuple)) and len(value) == 1:
        inner = value[0]
        if not isinstance(inner, (list, tuple)):
            return inner
        if len(inner) == 1 and not isinstance(inner[0], (list, tuple)):
            return inner[0]
    return value


def _describe(value) -> str:
    if isinstance(value, (bool, np.bool_)):
        return "TRUE/FALSE"
    if isinstance(value, str):
        text = value.strip()
        return f'text "{text[:18]}"' if len(text) <= 18 else f'text "{text[:15]}..."'
    if isinstance(value, (_dt.date, _dt.datetime)):
        return "a date"
    if isinstance(value, (list, tuple, np.ndarray)):
        return "a range"
    return type(value).__name__


#: The codes our cell messages start with ("#VALUE! outlook must be ...").
MESSAGE_CODES = ("#VALUE!", "#N/A")


def upstream_error(text: str) -> CellError | None:
    """The CellError that one of our messages from another formula stands for, else None; passed on
    unchanged, the cell says what is really wrong instead of "base_ratio is text ...". """
    head, _, rest = text.strip().partition(" ")
    if head in MESSAGE_CODES and rest.strip():
        return CellError(rest.strip(), head)
    return None


def looks_numeric(text: str) -> bool:
    """Text a function reads as a number ("0.6", "60%", "1,000") rather than as a label."""
    try:
        float(text.strip().rstrip("%").replace(",", ""))
    except ValueError:
        return False
    return True


def parse_number(value, name: str, where: str = "") -> float:
    """One cell as a finite float; NaN for blank. Text like "12.5" or "50%" is accepted."""
    if value is None:
        return math.nan
    if isinstance(value, (bool, np.bool_)):
        raise CellError(f"{name}{where} is TRUE/FALSE; a number is needed")
    if isinstance(value, numbers.Real):
        num = float(value)
    elif isinstance(value, str):
        passed_on = upstream_error(value)
        if passed_on is not None:  # another cell's message: passed on as it is, as Excel passes on errors
            raise passed_on
        text = value.strip().replace(",", "")
        if not text:
            return math.nan
        scale = 1.0
        if text.endswith("%"):
            text, scale = text[:-1].strip(), 0.01
        try:
            num = float(text) * scale
        except ValueError:
            raise CellError(f"{name}{where} is {_describe(value)}; a number is needed") from None
    else:
        raise CellError(f"{name}{where} is {_describe(value)}; a number is needed")
    if not math.isfinite(num):
        raise CellError(f"{name}{where} must be a finite number")
    return num


def cell_number(value, name: str, default: float | None = None) -> float:
    """A scalar argument: one number, or ``default`` when the cell is empty."""
    value = unwrap_single(value)
    if isinstance(value, (list, tuple, np.ndarray)):
        raise CellError(f"{name} must be one cell, not a range")
    num = parse_number(value, name)
    if math.isnan(num):
        if default is None:
            raise CellError(f"{name} is empty; a number is needed", "#N/A")
        return float(default)
    return num


def cell_text(value, name: str, choices: tuple[str, ...], default: str | None = None) -> str:
    """A scalar text argument from a fixed list (case-insensitive, trimmed)."""
    value = unwrap_single(value)
    if is_blank(value):
        if default is None:
            raise CellError(f"{name} is empty; use {' or '.join(choices)}", "#N/A")
        return default
    text = str(value).strip().lower() if isinstance(value, str) else None
    if text not in choices:
        raise CellError(f'{name} must be {" or ".join(repr(c) for c in choices)}')
    return text


def cell_bool(value, name: str, default: bool = False) -> bool:
    """TRUE/FALSE (also 1/0 and the texts true/false/yes/no)."""
    value = unwrap_single(value)
    if is_blank(value):
        return default
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, numbers.Real) and float(value) in (0.0, 1.0):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("true", "yes", "false", "no"):
        return value.strip().lower() in ("true", "yes")
    raise CellError(f"{name} must be TRUE or FALSE")


# ---------------------------------------------------------------- arrays

@dataclass
class CellArray:
    """Numbers of a cell argument: ``values`` (NaN where blank) and its layout.

    ``ndim`` is 0 for one cell, 1 for a flat list (a row, as xlwings writes
    it) and 2 for a list of lists.
    """

    values: np.ndarray
    ndim: int

    @property
    def blank(self) -> np.ndarray:
        return np.isnan(self.values)


def _check_rectangular(value, name: str) -> None:
    if value and isinstance(value[0], (list, tuple)):
        width = len(value[0])
        for row in value:
            if not isinstance(row, (list, tuple)) or len(row) != width:
                raise CellError(f"{name} has rows of different lengths")
            for item in row:
                if isinstance(item, (list, tuple)):
                    raise CellError(f"{name} must be a 1-D or 2-D range")
    else:
        for item in value:
            if isinstance(item, (list, tuple)):
                raise CellError(f"{name} has rows of different lengths")


def _slow_parse(value, name: str) -> np.ndarray:
    """Element-by-element parse with the position of the first bad cell."""
    if value and isinstance(value[0], (list, tuple)):
        return np.array(
            [
                [parse_number(v, name, f" (row {i + 1}, col {j + 1})") for j, v in enumerate(row)]
                for i, row in enumerate(value)
            ],
            dtype=float,
        ).reshape(len(value), len(value[0]))
    return np.array(
        [parse_number(v, name, f" (item {i + 1})") for i, v in enumerate(value)], dtype=float
    )


_PLAIN_NUMBERS = frozenset((float, int))
_ROWS = frozenset((list, tuple))


def cell_array(value, name: str, default: float | None = None) -> CellArray:
    """Any argument that may be one cell or a range, as a :class:`CellArray`.

    A blank single cell takes ``default`` (or is an ``#N/A`` error when there
    is none); blank cells inside a range stay blank (NaN).
    """
    if isinstance(value, np.ndarray):
        if value.ndim > 2:
            raise CellError(f"{name} must be a 1-D or 2-D range")
        if value.dtype.kind in "fiu":
            arr = np.asarray(value, dtype=float)
            if not np.all(np.isfinite(arr[~np.isnan(arr)])):
                raise CellError(f"{name} must hold finite numbers")
        else:
            arr = _slow_parse(value.tolist(), name)
        if arr.ndim == 0:
            return cell_array(float(arr), name, default)
        return CellArray(arr, arr.ndim)
    if isinstance(value, tuple):
        value = list(value)
    if not isinstance(value, list):
        return CellArray(np.asarray(cell_number(value, name, default)), 0)
    if not value:
        raise CellError(f"{name} is an empty range", "#N/A")
    if _plain_numbers(value):
        arr = np.asarray(value, dtype=float)
        if not np.isfinite(arr).all():
            raise CellError(f"{name} must hold finite numbers")
    else:
        _check_rectangular(value, name)
        arr = _slow_parse(value, name)
    return CellArray(arr, arr.ndim)


def _plain_numbers(value: list) -> bool:
    """Whether a range holds only numbers (no text, blank or TRUE/FALSE) in rows of one length: numpy reads it
    as it is. Types and lengths are collected in C (``map`` into a set): a 10,000-row column in a fifth of a
    loop's time."""
    if not isinstance(value[0], list | tuple):
        return set(map(type, value)) <= _PLAIN_NUMBERS
    return (set(map(type, value)) <= _ROWS and len(set(map(len, value))) == 1
            and set(map(type, itertools.chain.from_iterable(value))) <= _PLAIN_NUMBERS)


def cell_texts(value, name: str) -> tuple[np.ndarray, int]:
    """Texts of one cell or a range (blank: ""; numbers as Excel shows whole ones: 2 -> "2"), and the
    layout (``ndim`` as :class:`CellArray`'s)."""
    cells, ndim = cell_values(value, name)
    texts = np.empty(cells.shape, dtype=object)
    for idx, item in np.ndenumerate(cells):
        texts[idx] = _text_of(item)
    return texts, ndim


def cell_values(value, name: str) -> tuple[np.ndarray, int]:
    """The cells of one cell or a range as they are (blank: None), and the layout (``ndim`` as
    :class:`CellArray`'s)."""
    value = unwrap_single(value)
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, tuple):
        value = list(value)
    if not isinstance(value, list):
        return np.asarray([None if is_blank(value) else value], dtype=object).reshape(()), 0
    if not value:
        raise CellError(f"{name} is an empty range", "#N/A")
    _check_rectangular(value, name)
    cells = np.empty((len(value), len(value[0])) if isinstance(value[0], list | tuple) else len(value), dtype=object)
    for idx, item in np.ndenumerate(np.asarray(value, dtype=object)):
        cells[idx] = None if is_blank(item) else item
    return cells, cells.ndim


def _text_of(item) -> str:
    if is_blank(item):
        return ""
    if isinstance(item, float) and item.is_integer():
        return str(int(item))
    return str(item).strip()


def text_cells(values: np.ndarray, ndim: int):
    """Texts shaped for Excel like :func:`to_cells` shapes numbers: one text, a row, or rows."""
    if ndim == 0 and values.size == 1:
        one = values.reshape(()).item()
        return "" if one is None else str(one)
    return _spilled(values.tolist(), values.ndim, ndim)


def _spilled(listed, result_ndim: int, ndim: int):
    """A result's values as Excel spills them: a row for a flat result, rows when the inputs were rows."""
    if result_ndim == 0:
        listed = [listed]
    if ndim == 2 and result_ndim == 1:
        listed = [listed]
    return listed


def broadcast(*arrays: tuple[CellArray, str]) -> tuple[np.ndarray, ...]:
    """Broadcast cell arrays like an Excel array formula, naming a mismatch."""
    try:
        return tuple(np.broadcast_arrays(*(a.values for a, _ in arrays)))
    except ValueError:
        sizes = ", ".join(f"{n} {'x'.join(map(str, a.values.shape)) or '1'}" for a, n in arrays)
        raise CellError(f"ranges of different sizes: {sizes}") from None


def to_cells(result, *inputs: CellArray):
    """A float for all-scalar inputs, else a list (row) or list of lists that spills.

    Cells where any input was blank come back empty (``None``). A non-finite
    result anywhere is an error rather than a silent ``inf``.
    """
    out = np.asarray(result, dtype=float)
    blank = np.zeros(out.shape, dtype=bool)
    for arr in inputs:
        blank |= np.broadcast_to(arr.blank, out.shape) if arr.values.ndim else arr.blank
    if not np.isfinite(out[~blank]).all():
        raise CellError("the result is too large to be a number; check the input sizes")
    ndim = max((a.ndim for a in inputs), default=0)
    if ndim == 0 and out.size == 1:
        return float(out.reshape(()))
    if blank.any():
        obj = out.astype(object)
        obj[blank] = None
        return _spilled(obj.tolist(), out.ndim, ndim)
    return _spilled(out.tolist(), out.ndim, ndim)


def price_series(alt, btc, alt_name: str) -> tuple[np.ndarray, np.ndarray]:
    """Align alt and BTC price ranges (row or column, oldest first); text counts as empty."""
    alt_arr = lenient_array(alt, alt_name)
    btc_arr = lenient_array(btc, "btc_prices")
    btc_vec = btc_arr.ravel()
    if btc_arr.ndim == 2 and min(btc_arr.shape) != 1:
        raise CellError("btc_prices must be one row or one column")
    n = btc_vec.size
    if alt_arr.ndim == 1 or min(alt_arr.shape) == 1:
        alt_out = alt_arr.ravel()
        if alt_out.size != n:
            raise CellError(f"price ranges differ in length ({alt_out.size} vs {n})")
        return alt_out, btc_vec
    if alt_arr.shape[0] == n:
        return alt_arr, btc_vec  # one column per alt
    if alt_arr.shape[1] == n:
        return alt_arr.T, btc_vec  # one row per alt
    raise CellError(f"price ranges differ in length ({alt_arr.shape[0]} vs {n})")


_PRICE_TYPES = {float, int, type(None)}


def lenient_array(value, name: str) -> np.ndarray:
    """Prices: numbers stay, empty or non-numeric cells become NaN (dropped pairwise)."""
    if isinstance(value, np.ndarray) and value.dtype.kind in "fiu":
        return np.asarray(value, dtype=float)
    if isinstance(value, list) and value:
        cells = (x for row in value for x in row) if isinstance(value[0], list) else iter(value)
        if {type(x) for x in cells} <= _PRICE_TYPES:  # the common case: numbers and empties
            try:
                return np.asarray(value, dtype=float)
            except ValueError:
                pass  # ragged: the checks below say so
    rows = np.asarray(value if isinstance(value, (list, tuple, np.ndarray)) else [value], object)
    if rows.ndim > 2:
        raise CellError(f"{name} must be a 1-D or 2-D range")
    out = np.full(rows.shape, np.nan)
    for idx, item in np.ndenumerate(rows):
        if isinstance(item, (int, float, np.integer, np.floating)) and not isinstance(
            item, (bool, np.bool_)
        ):
            out[idx] = float(item)
    return out
