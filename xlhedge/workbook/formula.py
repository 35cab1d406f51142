"""Formulas as small expressions: one definition gives the Excel text the builder writes and the
value the model computes.

An expression is a tree of :class:`Expr` nodes: cells of a sheet column (:func:`ref`, by the column's
key), defined names (``Leverage``), literals, Excel functions (``IF``, ``INDEX`` ...), operators and
the xlhedge functions (``HEDGE_RATIO`` ...). :meth:`Expr.excel` writes it for one row (``A5``) or for
a whole column (``A5:A24``, an array formula); :meth:`Expr.value` computes it for every row at once
with Excel's rules (:mod:`xlhedge.workbook.excel`), calling each xlhedge function once per column
as an array formula does.

Build expressions with the helpers: ``IF(eq(A, ""), "", B * H)``; ``&`` joins text as in Excel.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from xlhedge import udfs
from xlhedge.workbook.excel import VALUE, XlErr, index, is_number, is_text, match, num, text, total, udf_arg
from xlhedge.workbook.excel import add as _add
from xlhedge.workbook.excel import div as _div
from xlhedge.workbook.excel import mul as _mul
from xlhedge.workbook.excel import sub as _sub

NA = XlErr("#N/A")


class Rows(list):
    """One value per row of a column: what a column reference (and anything computed from one) is."""


def lift(fn: Callable, *args):
    """``fn`` applied row by row where an argument is :class:`Rows`, once otherwise."""
    n = next((len(a) for a in args if isinstance(a, Rows)), None)
    if n is None:
        return fn(*args)
    return Rows(fn(*(a[i] if isinstance(a, Rows) else a for a in args)) for i in range(n))


@dataclass(frozen=True)
class Where:
    """Where a formula is written: its sheet, the row (an offset into the table) or None for an
    array formula over the whole column, and each sheet's table (first row, rows, key -> letter)."""

    sheet: str
    row: int | None
    tables: dict  # sheet -> (first row, number of rows, {key: column letter})
    totals: dict = field(default_factory=dict)  # sheet -> its table's total row
    cells: dict = field(default_factory=dict)  # key -> (sheet, cell) of the single formula cells

    def cell(self, sheet: str, key: str) -> str:
        first, rows, letters = self.tables[sheet]
        col = letters[key]
        ref = f"{col}{first}:{col}{first + rows - 1}" if self.row is None else f"{col}{first + self.row}"
        return ref if sheet == self.sheet else f"{sheet}!{ref}"


class Env:
    """What expressions are computed from: ``column(sheet, key)`` -> :class:`Rows`, ``name(name)`` ->
    a value (a setting) or a list (a range), ``total(sheet, key)`` -> a total-row value,
    ``cell(sheet, ref)`` -> a typed cell's value, ``single(key)`` -> a single formula cell's value."""

    def column(self, sheet: str, key: str) -> Rows:
        raise NotImplementedError

    def name(self, name: str):
        raise NotImplementedError

    def total(self, sheet: str, key: str):
        raise NotImplementedError

    def cell(self, sheet: str, ref: str):
        raise NotImplementedError

    def single(self, key: str):
        raise NotImplementedError


class Expr:
    """A formula node. ``prec``: how tightly it binds when written (atoms and calls bind tightest)."""

    prec = 9

    def excel(self, at: Where) -> str:
        raise NotImplementedError

    def value(self, env: Env):
        raise NotImplementedError

    def __add__(self, other):
        return Op("+", self, lit(other))

    def __sub__(self, other):
        return Op("-", self, lit(other))

    def __mul__(self, other):
        return Op("*", self, lit(other))

    def __truediv__(self, other):
        return Op("/", self, lit(other))

    def __and__(self, other):
        return Op("&", self, lit(other))

    def __rand__(self, other):
        return Op("&", lit(other), self)


def lit(v) -> Expr:
    return v if isinstance(v, Expr) else Lit(v)


@dataclass(frozen=True, eq=False)
class Lit(Expr):
    v: object

    def excel(self, at: Where) -> str:
        if isinstance(self.v, str):
            return '"' + self.v.replace('"', '""') + '"'
        if isinstance(self.v, bool):
            return "TRUE" if self.v else "FALSE"
        return str(int(self.v)) if float(self.v).is_integer() else repr(float(self.v))

    def value(self, env: Env):
        return self.v


@dataclass(frozen=True, eq=False)
class Ref(Expr):
    """A cell of a table column, in the formula's row (or the whole column in an array formula)."""

    sheet: str
    key: str

    def excel(self, at: Where) -> str:
        return at.cell(self.sheet, self.key)

    def value(self, env: Env):
        return env.column(self.sheet, self.key)


@dataclass(frozen=True, eq=False)
class Each(Expr):
    """A cell of another table's row that this row belongs to, when this table has ``per`` rows for
    each of that one's (the Venues sheet: one row per venue for each Hedge row; its row ``i`` reads
    Hedge row ``i // per``). In an array formula: ``REPEAT_ROWS(Hedge!A5:A24,7)``."""

    sheet: str
    key: str
    per: int

    def excel(self, at: Where) -> str:
        first, rows, letters = at.tables[self.sheet]
        col = letters[self.key]
        if at.row is None:
            return f"REPEAT_ROWS({self.sheet}!{col}{first}:{col}{first + rows - 1},{self.per})"
        return f"{self.sheet}!{col}{first + at.row // self.per}"

    def value(self, env: Env):
        parent = env.column(self.sheet, self.key)
        return Rows(parent[i // self.per] for i in range(len(parent) * self.per))


@dataclass(frozen=True, eq=False)
class Tiled(Expr):
    """A defined name's range repeated ``times`` times down the table (the Venues sheet's exchange
    column: the fee table's exchanges, once for each coin). In an array formula:
    ``REPEAT_ROWS(FeeExchanges,20,TRUE)``."""

    name: str
    times: int

    def excel(self, at: Where) -> str:
        if at.row is not None:
            raise ValueError(f"Tiled({self.name}) is written as an array formula only")
        return f"REPEAT_ROWS({self.name},{self.times},TRUE)"

    def value(self, env: Env):
        values = ["" if v is None else v for v in env.name(self.name)]
        return Rows(values * self.times)


@dataclass(frozen=True, eq=False)
class Total(Expr):
    """A table column's total-row cell (``J26``)."""

    sheet: str
    key: str

    def excel(self, at: Where) -> str:
        ref = f"{at.tables[self.sheet][2][self.key]}{at.totals[self.sheet]}"
        return ref if self.sheet == at.sheet else f"{self.sheet}!{ref}"

    def value(self, env: Env):
        return env.total(self.sheet, self.key)


@dataclass(frozen=True, eq=False)
class Cell(Expr):
    """One fixed cell (``I26``), of the formula's sheet or another."""

    sheet: str
    ref: str

    def excel(self, at: Where) -> str:
        return self.ref if self.sheet == at.sheet else f"{self.sheet}!{self.ref}"

    def value(self, env: Env):
        return env.cell(self.sheet, self.ref)


@dataclass(frozen=True, eq=False)
class At(Expr):
    """One of the single formula cells, by key (``At("exposure")`` -> ``$B$4``): fixed wherever the
    formula is copied."""

    key: str

    def excel(self, at: Where) -> str:
        sheet, ref = at.cells[self.key]
        col, row = ref.rstrip("0123456789"), ref[len(ref.rstrip("0123456789")):]
        return f"${col}${row}" if sheet == at.sheet else f"{sheet}!${col}${row}"

    def value(self, env: Env):
        return env.single(self.key)


@dataclass(frozen=True, eq=False)
class Name(Expr):
    """A defined name: a setting (``Leverage``) or a range (``FundingKeys``)."""

    name: str

    def excel(self, at: Where) -> str:
        return self.name

    def value(self, env: Env):
        return env.name(self.name)


_PREC = {"=": 1, "<": 1, ">": 1, "<>": 1, ">=": 1, "<=": 1, "&": 2, "+": 3, "-": 3, "*": 4, "/": 4}


def _compare_key(v, other):
    """(type rank, value) as Excel orders values: numbers < text < booleans; empty is 0, "" or FALSE."""
    if v is None:
        v = "" if is_text(other) else (False if isinstance(other, bool) else 0.0)
    if isinstance(v, bool):
        return 2, v
    if is_number(v):
        return 0, float(v)
    return 1, text(v).casefold()


def compare(op: str, a, b):
    """``a op b`` for one pair of cell values: errors win; text compares without case."""
    if isinstance(a, XlErr):
        return a
    if isinstance(b, XlErr):
        return b
    ka, kb = _compare_key(a, b), _compare_key(b, a)
    return {"=": ka == kb, "<>": ka != kb, "<": ka < kb, ">": ka > kb, "<=": ka <= kb, ">=": ka >= kb}[op]


def concat(a, b):
    if isinstance(a, XlErr):
        return a
    return b if isinstance(b, XlErr) else text(a) + text(b)


_OPS = {"+": _add, "-": _sub, "*": _mul, "/": _div, "&": concat}


@dataclass(frozen=True, eq=False)
class Op(Expr):
    op: str
    a: Expr
    b: Expr

    @property
    def prec(self) -> int:  # type: ignore[override]
        return _PREC[self.op]

    def excel(self, at: Where) -> str:
        left, right = self.a.excel(at), self.b.excel(at)
        if self.a.prec < self.prec:
            left = f"({left})"
        if self.b.prec <= self.prec:
            right = f"({right})"
        return f"{left}{self.op}{right}"

    def value(self, env: Env):
        fn = _OPS.get(self.op) or (lambda x, y: compare(self.op, x, y))
        return lift(fn, self.a.value(env), self.b.value(env))


def eq(a, b) -> Op:
    return Op("=", lit(a), lit(b))


def gt(a, b) -> Op:
    return Op(">", lit(a), lit(b))


def lt(a, b) -> Op:
    return Op("<", lit(a), lit(b))


def ge(a, b) -> Op:
    return Op(">=", lit(a), lit(b))


# ---------------------------------------------------------------- Excel's functions, one row at a time

def truth(v):
    """A condition as IF and AND read it: numbers are true unless 0, text is #VALUE!."""
    if isinstance(v, XlErr):
        return v
    if v is None or isinstance(v, bool):
        return bool(v)
    if is_number(v):
        return v != 0
    return VALUE


def _if(cond, yes, no):
    c = truth(cond)
    return c if isinstance(c, XlErr) else (yes if c else no)


def _and(*values):
    out = True
    for v in values:
        c = truth(v)
        if isinstance(c, XlErr):
            return c
        out = out and c
    return out


def _not(v):
    c = truth(v)
    return c if isinstance(c, XlErr) else not c


def _text_fn(fn):
    return lambda v: v if isinstance(v, XlErr) else fn(text(v))


def _abs(v):
    n = num(v)
    return n if isinstance(n, XlErr) else abs(n)


def _index(values, position):
    if isinstance(position, XlErr):
        return position
    return index(values, int(position) - 1)


def _match(key, keys, _exact=0):
    if isinstance(key, XlErr):
        return key
    found = match(text(key), keys)
    return NA if found is None else found + 1


def _iferror(v, alternative):
    return alternative if isinstance(v, XlErr) else v


_ROW_FUNCTIONS: dict[str, Callable] = {
    "IF": _if, "AND": _and, "NOT": _not, "ISNUMBER": is_number, "ISTEXT": is_text, "IFERROR": _iferror,
    "ABS": _abs, "UPPER": _text_fn(str.upper), "LOWER": _text_fn(str.lower), "TRIM": _text_fn(lambda s: s.strip(" ")),
    "INDEX": _index, "MATCH": _match,
}


def _count(values):
    return float(sum(1 for v in values if is_number(v)))


def _min(values):
    numbers = [float(v) for v in values if is_number(v)]
    return min(numbers) if numbers else 0.0


#: Functions over a whole column (SUM(B5:B24)): they take the rows and give one value.
_COLUMN_FUNCTIONS: dict[str, Callable] = {"SUM": total, "COUNT": _count, "MIN": _min}


@dataclass(frozen=True, eq=False)
class Fn(Expr):
    """A call of one of Excel's functions."""

    name: str
    args: tuple

    def excel(self, at: Where) -> str:
        return f"{self.name}({','.join(a.excel(at) for a in self.args)})"

    def value(self, env: Env):
        if self.name == "IF":  # one condition for all rows: only the branch taken is computed, as in Excel
            condition = self.args[0].value(env)
            if not isinstance(condition, Rows):
                taken = truth(condition)
                return taken if isinstance(taken, XlErr) else self.args[1 if taken else 2].value(env)
            values = [condition, *(a.value(env) for a in self.args[1:])]
        else:
            values = [a.value(env) for a in self.args]
        if self.name in _COLUMN_FUNCTIONS:
            return _COLUMN_FUNCTIONS[self.name](values[0])
        return lift(_ROW_FUNCTIONS[self.name], *values)


def _fn(name: str):
    return lambda *args: Fn(name, tuple(lit(a) for a in args))


IF, AND, NOT, ISNUMBER, ISTEXT, IFERROR, ABS, UPPER, LOWER, TRIM, INDEX, MATCH, SUM, COUNT, MIN = (
    _fn(n) for n in ("IF", "AND", "NOT", "ISNUMBER", "ISTEXT", "IFERROR", "ABS", "UPPER", "LOWER", "TRIM",
                     "INDEX", "MATCH", "SUM", "COUNT", "MIN"))


# ---------------------------------------------------------------- the xlhedge functions

def _cell_result(v):
    """A function's value as one cell shows it: the first value of a spill, None as empty."""
    while isinstance(v, list):
        v = v[0] if v else None
    return "" if v is None else v


@dataclass(frozen=True, eq=False)
class Udf(Expr):
    """A call of an xlhedge function (:data:`xlhedge.udfs.UDFS`). Computed once for all rows: a
    :class:`Rows` argument goes as a column range, as in the template's array formulas."""

    name: str
    args: tuple

    def excel(self, at: Where) -> str:
        return f"{self.name}({','.join(a.excel(at) for a in self.args)})"

    def value(self, env: Env):
        values = [a.value(env) for a in self.args]
        rows = next((len(v) for v in values if isinstance(v, Rows)), None)
        passed = [[[udf_arg(x)] for x in v] if isinstance(v, Rows) else udf_arg(v) for v in values]
        result = udfs.UDFS[self.name](*passed)
        if rows is None:
            return _cell_result(result)
        if not isinstance(result, list):
            return Rows([_cell_result(result)] * rows)
        return Rows(_cell_result(r) for r in result)


def udf(name: str, *args) -> Udf:
    if name not in udfs.UDFS:
        raise KeyError(f"no xlhedge function {name}")
    return Udf(name, tuple(lit(a) for a in args))

