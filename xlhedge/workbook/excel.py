"""Excel's rules for values, as the template's formulas rely on them: an empty cell reads as 0 in
arithmetic and INDEX, MATCH ignores case, errors (#VALUE!, #N/A) propagate through arithmetic and SUM,
SUM skips text, text compares greater than any number.

:mod:`xlhedge.workbook.formula` evaluates the sheet specification's expressions with these rules.
"""

from __future__ import annotations


class XlErr(str):
    """An Excel error value (#VALUE!, #N/A ...): propagates through arithmetic and SUM."""


VALUE = XlErr("#VALUE!")
#: Excel's error values as a file stores them (a cell of type "e"): their text stands for the error.
ERROR_TEXTS = frozenset({"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A"})


def is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def is_text(v) -> bool:
    return isinstance(v, str) and not isinstance(v, XlErr)


def text(v) -> str:
    """A value as Excel turns it into text (for TRIM, UPPER, &)."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if is_number(v):
        return str(int(v)) if float(v).is_integer() else repr(float(v))
    return str(v)


def num(v):
    """A value as arithmetic sees it: empty is 0, text that reads as a number is that number."""
    if isinstance(v, XlErr):
        return v
    if v is None:
        return 0.0
    if isinstance(v, bool):
        return float(v)
    if is_number(v):
        return float(v)
    try:
        return float(str(v).strip())
    except ValueError:
        return VALUE


def _arith(op, a, b):
    """``a op b`` as Excel does it: operands read as numbers, the first error wins."""
    a, b = num(a), num(b)
    if isinstance(a, XlErr):
        return a
    return b if isinstance(b, XlErr) else op(a, b)


def mul(a, b):
    return _arith(lambda x, y: x * y, a, b)


def div(a, b):
    return _arith(lambda x, y: XlErr("#DIV/0!") if y == 0 else x / y, a, b)


def sub(a, b):
    return _arith(lambda x, y: x - y, a, b)


def add(a, b):
    return _arith(lambda x, y: x + y, a, b)


def total(values):
    """SUM over cells: numbers add up, text and empty cells are skipped, an error wins."""
    out = 0.0
    for v in values:
        if isinstance(v, XlErr):
            return v
        if is_number(v):
            out += float(v)
    return out


def match(key: str, keys: list) -> int | None:
    """MATCH(key, range, 0): position of the first case-insensitive equal cell, or None."""
    wanted = key.casefold()
    for i, k in enumerate(keys):
        if k is not None and k != "" and text(k).casefold() == wanted:
            return i
    return None


def index(values: list, i: int):
    """INDEX(range, i): the cell itself, an empty one as empty (a reference to an empty cell: ISNUMBER
    says FALSE, arithmetic reads 0), as the general evaluator reads it."""
    return values[i]


def udf_arg(v):
    """What a formula hands an xlhedge function (as xlwings would): floats, text, None for empty/error."""
    if v is None or isinstance(v, XlErr):
        return None
    if isinstance(v, bool):
        return v
    if is_number(v):
        return float(v)
    return v
