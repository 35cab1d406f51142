"""The template's formulas, computed in Python: the numbers the workbook shows, without Excel.

Every formula cell of the template is built by :mod:`xlhedge.workbook.builder`
from a handful of patterns: per-row lookups into the Funding table, the xlhedge
functions (HEDGE_RATIO, BETA_HEDGE, ...), sums. This module computes the same
cells from a workbook's inputs, calling the very same UDFs
(:mod:`xlhedge.udfs`) with the values a formula would pass them, and Excel's
rules for the rest (empty reads as 0 in INDEX, case-insensitive MATCH, errors
propagate through arithmetic and SUM, text is ignored by SUM).

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

import functools
import math

from xlhedge import udfs
from xlhedge.workbook import layout as L
from xlhedge.workbook import messages as M

P, H, S, SC = L.PORTFOLIO, L.HEDGE, L.SETTINGS, L.SCENARIOS


class XlErr(str):
    """An Excel error value (#VALUE!, #N/A ...): propagates through arithmetic and SUM."""


VALUE = XlErr("#VALUE!")


# ---------------------------------------------------------------- Excel's rules

def is_blank(v) -> bool:
    """``X=""``: true for an empty cell and for empty text."""
    return v is None or v == ""


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


def upper_trim(v) -> str:
    return text(v).strip(" ").upper()


def lower_trim(v) -> str:
    return text(v).strip(" ").lower()


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


def gt0(v) -> bool | XlErr:
    """``X>0`` (text compares greater than any number in Excel)."""
    if isinstance(v, XlErr):
        return v
    if is_text(v):
        return True
    return num(v) > 0


def match(key: str, keys: list) -> int | None:
    """MATCH(key, range, 0): position of the first case-insensitive equal cell, or None."""
    wanted = key.casefold()
    for i, k in enumerate(keys):
        if not is_blank(k) and text(k).casefold() == wanted:
            return i
    return None


def index(values: list, i: int):
    """INDEX(range, i): an empty cell reads as 0."""
    v = values[i]
    return 0.0 if v is None else v


def udf_arg(v):
    """What a formula hands an xlhedge function (as xlwings would): floats, text, None for empty/error."""
    if v is None or isinstance(v, XlErr):
        return None
    if isinstance(v, bool):
        return v
    if is_number(v):
        return float(v)
    return v


def call(name: str, *args):
    result = udfs.UDFS[name](*(udf_arg(a) for a in args))
    if isinstance(result, list):  # a one-cell formula shows the first value of a spill
        while isinstance(result, list):
            result = result[0] if result else None
    return result


class Column(list):
    """A column of values handed to a function by an array formula (``{=F(H5:H24)}``)."""


def call_column(name: str, *args) -> list:
    """One call for a whole column, as an array formula makes it: :class:`Column` arguments go as
    a column range, the rest as one cell. Returns one value per row (a single value fills them all)."""
    rows = max(len(a) for a in args if isinstance(a, Column))
    passed = [[[udf_arg(v)] for v in a] if isinstance(a, Column) else udf_arg(a) for a in args]
    result = udfs.UDFS[name](*passed)
    if isinstance(result, list):
        return [(r[0] if isinstance(r, list) else r) for r in result]
    return [result] * rows


# ---------------------------------------------------------------- the template

class Book:
    """Cell values of an openpyxl workbook, read on demand (formula cells read as None)."""

    def __init__(self, wb):
        self.wb = wb

    def get(self, sheet: str, ref: str):
        v = self.wb[sheet][ref].value
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
            v = cell.value
            out.append(None if isinstance(v, str) and v.startswith("=") else v)
        return out


def compute(book: Book, start_status_cell: str) -> dict:
    """Every template formula's value, keyed (sheet, cell) like :func:`evaluate_workbook`; ``start_status_cell``:
    where the Start sheet repeats the refresh status."""
    out: dict = {}
    setting = {s.name: book.get(S, f"B{L.SETTING_ROW[s.name]}") for s in L.SETTING_LIST}
    f_first, f_last = L.FUNDING_FIRST_ROW, L.FUNDING_LAST_ROW
    fcol = {k: book.column(L.FUNDING, L.FUNDING_COL[k], f_first, f_last)
            for k in ("key", "symbol_key", "funding_rate", "interval_hours", "mark_price", "basis")}
    beta_keys = book.column(L.FUNDING, L.BETA_COLUMNS[0][1], L.BETA_FIRST_ROW, L.BETA_LAST_ROW)
    beta_values = book.column(L.FUNDING, L.BETA_COLUMNS[1][1], L.BETA_FIRST_ROW, L.BETA_LAST_ROW)
    beta_r2 = book.column(L.FUNDING, L.BETA_COLUMNS[2][1], L.BETA_FIRST_ROW, L.BETA_LAST_ROW)
    crowd_col = {key: col for key, col, _ in L.CROWD_COLUMNS}
    crowd = {key: book.column(L.FUNDING, crowd_col[key], L.CROWD_FIRST_ROW, L.CROWD_LAST_ROW)
             for key in ("key", "funding_percentile", "oi_change")}

    def crowd_lookup(values: str, key: str):
        """IFERROR(INDEX(values, MATCH(key, CrowdKeys, 0)), "")."""
        i = match(key, crowd["key"])
        return "" if i is None else index(crowd[values], i)

    def lookup(values: str, key: str):
        """IFERROR-able INDEX(values, IFERROR(MATCH(key, FundingKeys), MATCH(key, SymbolKeys)))."""
        i = match(key, fcol["key"])
        if i is None:
            i = match(key, fcol["symbol_key"])
        return None if i is None else index(fcol[values], i)

    def exchange_of(g):
        return text(setting["DefaultExchange"]) if is_blank(g) else lower_trim(g)

    name_col, when_col, _ = L.EVENTS_COLUMNS
    event_list = [[book.get(S, f"{name_col}{r}"), book.get(S, f"{when_col}{r}")]
                  for r in range(L.EVENTS_FIRST_ROW, L.EVENTS_LAST_ROW + 1)]
    event_args = (setting["EventDaysBefore"], setting["EventHoursAfter"], setting["EventFloor"], event_list)
    events_on = text(setting["EventRule"]).casefold() == "yes"
    out[(H, L.EVENT_NOTE_CELL)] = call("EVENT_NOTE", "", *event_args) if events_on else ""
    hedge_rows = []
    for i in range(L.PORTFOLIO_ROWS):  # the per-cell formulas (no Python functions in them)
        pr = L.PORTFOLIO_FIRST_ROW + i
        a, b, c, e, f, g, h = (book.get(P, f"{col}{pr}") for col in "ABCEFGH")
        # Portfolio D: price used
        if is_blank(a) or is_text(c):
            d = ""
        elif is_number(c):
            d = c
        else:
            found = lookup("mark_price", f"{exchange_of(g)}|{upper_trim(a)}")
            d = "" if found is None else found
        # Portfolio I: spot value, or why not
        if is_blank(a):
            spot = ""
        elif is_text(b):
            spot = M.MSG_QTY_TEXT
        elif is_text(c):
            spot = M.MSG_PRICE_TEXT
        elif not is_number(b):
            spot = ""
        elif b < 0:
            spot = M.MSG_QTY_NEGATIVE
        elif is_number(d):
            spot = mul(b, d)
        else:
            spot = M.MSG_NO_PRICE + exchange_of(g) + M.MSG_NO_PRICE_TAIL
        # Portfolio J: beta used
        if is_blank(a) or is_text(f):
            beta_used = ""
        elif is_number(f):
            beta_used = f
        else:
            j = match(upper_trim(a), beta_keys)
            beta_used = "" if j is None else index(beta_values, j)
        out[(P, f"D{pr}")], out[(P, f"I{pr}")], out[(P, f"J{pr}")] = d, spot, beta_used

        row: dict = {}
        row["A"] = "" if is_blank(a) else upper_trim(a)
        blank = row["A"] == ""
        row["B"] = "" if blank else spot
        row["C"] = "" if blank else ("BTC perp" if text(e).casefold() == "btc perp" else "own perp")
        row["D"] = "" if blank else ("BTC" if row["C"] == "BTC perp" else row["A"])
        row["E"] = "" if blank else exchange_of(g)
        key = f"{text(row['E'])}|{text(row['D'])}"
        if blank:
            row["F"] = row["G"] = ""
        else:
            rate = lookup("funding_rate", key)
            row["F"] = "" if rate is None else rate
            hours = lookup("interval_hours", key)
            row["G"] = 8.0 if hours is None else hours
        row["I"] = "" if blank else (beta_used if row["C"] == "BTC perp" else 1.0)
        if blank:
            row["K"] = ""
        elif row["C"] == "own perp":  # the Portfolio's price: the value and the contracts use one price
            row["K"] = d if is_number(d) else ""
        else:
            mark = lookup("mark_price", key)
            row["K"] = "" if mark is None else mark
        row["Q"] = "" if blank else (h if is_number(h) else 0.0)
        row["Y"] = "" if blank else crowd_lookup("funding_percentile", key)
        row["Z"] = "" if blank else crowd_lookup("oi_change", key)
        if blank:
            row["V"] = row["W"] = ""
        else:
            basis = lookup("basis", key)
            row["V"] = "" if basis is None else basis
            j = match(row["A"], beta_keys) if row["C"] == "BTC perp" and not is_number(f) else None
            row["W"] = "" if j is None else index(beta_r2, j)
        row["blank"] = blank
        hedge_rows.append(row)

    def col(name: str) -> Column:
        return Column(r[name] for r in hedge_rows)

    # The array formulas: each function once for the whole column, then IF picks per row.
    adjust = col("F") if text(setting["FundingAdjust"]).casefold() == "yes" else ""
    ratios = call_column("HEDGE_RATIO", setting["Outlook"], setting["Conviction"], adjust, col("G"),
                         setting["FundingThreshold"], setting["Adjustment"], setting["MaxRatio"])
    crowd_args = (col("F"), col("Y"), col("Z"))
    crowd_settings = (setting["CrowdedPercentile"], setting["CrowdedOIRise"])
    crowded_on = text(setting["CrowdedRule"]).casefold() == "yes"
    if crowded_on:
        ratios = call_column("CROWDED_RATIO", Column(ratios), *crowd_args, setting["CrowdedBump"], *crowd_settings,
                             setting["MaxRatio"])
    if events_on:
        ratios = call_column("EVENT_RATIO", Column(ratios), "", *event_args)
    fired = call_column("CROWDED_RATIO", 0.0, *crowd_args, 1.0, *crowd_settings, 1.0)
    for row, fires in zip(hedge_rows, fired, strict=True):
        if row["blank"]:
            row["AA"] = ""
        elif not is_number(row["Y"]):
            row["AA"] = M.MSG_CROWD_UNKNOWN
        else:
            hot = gt0("" if fires is None else fires)
            row["AA"] = hot if isinstance(hot, XlErr) else (
                (M.MSG_CROWDED_ON if crowded_on else M.MSG_CROWDED_OFF) if hot else "no")
    for row, ratio in zip(hedge_rows, ratios, strict=True):
        row["H"] = "" if row["blank"] else ("" if ratio is None else ratio)
    shorts = Column(mul(r["B"], r["H"]) for r in hedge_rows)
    beta_shorts = call_column("BETA_HEDGE", shorts, col("I"))
    for row, short, beta_short in zip(hedge_rows, shorts, beta_shorts, strict=True):
        if row["blank"] or not is_number(row["B"]):
            row["J"] = ""
        elif row["C"] == "BTC perp":
            row["J"] = (("" if beta_short is None else beta_short) if is_number(row["I"]) else M.MSG_NO_BETA)
        else:
            row["J"] = short
    contracts = call_column("HEDGE_CONTRACTS", col("J"), col("K"))
    liquidation = call_column("LIQ_PRICE", col("K"), setting["Leverage"], setting["MaintenanceMargin"])
    costs = call_column("FUNDING_COST", col("J"), col("F"), col("G"), setting["HorizonDays"])
    aprs = call_column("FUNDING_APR", col("F"), col("G"))
    trades = call_column("HEDGE_REBALANCE", col("B"), col("Q"), Column(div(r["J"], r["B"]) for r in hedge_rows),
                         setting["RebalanceBand"])

    def cell(v):
        return "" if v is None else v

    for i, row in enumerate(hedge_rows):
        both = is_number(row["J"]) and is_number(row["K"])
        row["L"] = cell(contracts[i]) if both else ""
        row["M"] = div(row["J"], setting["Leverage"]) if is_number(row["J"]) else ""
        row["N"] = cell(liquidation[i]) if both else ""
        row["O"] = (cell(costs[i]) if is_number(row["F"]) else M.MSG_NO_RATE) if is_number(row["J"]) else ""
        row["P"] = cell(aprs[i]) if is_number(row["F"]) else ""
        row["R"] = cell(trades[i]) if is_number(row["J"]) and is_number(row["B"]) and row["B"] > 0 else ""
        if is_number(row["B"]):
            factor = (row["I"] if is_number(row["I"]) else 1.0) if row["C"] == "BTC perp" else 1.0
            row["S"] = mul(row["B"], factor)
        else:
            row["S"] = ""
        if is_number(row["L"]) and is_number(row["K"]) and is_number(row["S"]) and row["S"] > 0:
            row["T"] = div(mul(row["L"], row["K"]), row["S"])
        else:
            row["T"] = ""
        both = is_number(row["N"]) and is_number(row["K"])
        row["U"] = sub(div(row["N"], row["K"]), 1.0) if both else ""
        warn = ""
        if not row["blank"]:
            limit = setting["BasisWarn"]
            if is_number(row["V"]) and is_number(limit) and abs(num(row["V"])) > num(limit):
                warn = M.MSG_BASIS_ABOVE if num(row["V"]) > 0 else M.MSG_BASIS_BELOW
            if is_number(row["W"]) and is_number(setting["R2Warn"]) and num(row["W"]) < num(setting["R2Warn"]):
                warn += M.MSG_WEAK_CROSS
        row["X"] = warn
        hr = L.HEDGE_FIRST_ROW + i
        for name, value in row.items():
            if name != "blank":
                out[(H, f"{name}{hr}")] = value

    t = L.HEDGE_TOTAL_ROW
    for col in "BJMOQRS":
        out[(H, f"{col}{t}")] = total(r[col] for r in hedge_rows)
    positive = gt0(out[(H, f"B{t}")])
    out[(H, f"H{t}")] = positive if isinstance(positive, XlErr) else (
        div(out[(H, f"J{t}")], out[(H, f"B{t}")]) if positive else "")
    cash = book.get(P, f"I{L.CASH_ROW}")
    portfolio_total = total(out[(P, f"I{L.PORTFOLIO_FIRST_ROW + i}")] for i in range(L.PORTFOLIO_ROWS))
    out[(P, f"I{L.CASH_ROW + 1}")] = add(portfolio_total, cash)

    exposure, short, cost = (out[(H, f"{c}{t}")] for c in "SJO")
    out[(SC, "B4")], out[(SC, "B5")], out[(SC, "B6")] = exposure, short, cost
    rises = [r["U"] for r in hedge_rows if is_number(r["U"])]  # COUNT / MIN skip text and blanks
    first_rise = min(rises) if rises else ""
    out[(SC, "B7")] = first_rise
    moves = Column(book.get(SC, f"A{L.SCENARIO_FIRST_ROW + i}") for i in range(len(L.SCENARIO_MOVES)))
    unhedged_pnl = call_column("HEDGE_PNL", exposure, 0.0, moves)
    hedged_pnl = call_column("HEDGE_PNL", exposure, short, moves, cost, setting["Leverage"],
                             setting["MaintenanceMargin"])
    for i, move in enumerate(moves):
        r = L.SCENARIO_FIRST_ROW + i
        unhedged, hedged = cell(unhedged_pnl[i]), cell(hedged_pnl[i])
        out[(SC, f"B{r}")], out[(SC, f"C{r}")], out[(SC, f"D{r}")] = unhedged, hedged, sub(hedged, unhedged)
        hit = is_number(short) and is_number(first_rise) and short > 0 and is_number(move) and move >= first_rise
        out[(SC, f"E{r}")] = M.MSG_LIQUIDATED if hit else ""

    outlooks = Column(book.get(S, f"E{L.SETTINGS_FIRST_ROW + i}") for i in range(len(_bands())))
    for i, ratio in enumerate(call_column("HEDGE_RATIO", outlooks, setting["Conviction"])):
        out[(S, f"H{L.SETTINGS_FIRST_ROW + i}")] = cell(ratio)  # the outlook band table beside the settings
    status = book.get(L.FUNDING, L.STATUS_CELL)
    out[("Start", start_status_cell)] = None if is_blank(status) else status
    return {key: _result(value) for key, value in out.items()}


def _result(value):
    """A computed value as :func:`evaluate_workbook` reports it: None for empty, errors as text."""
    if isinstance(value, XlErr):
        return str(value)
    if value == "" or value is None:
        return None
    if isinstance(value, bool):
        return value
    if is_number(value):
        return float(value)
    return value


@functools.lru_cache(maxsize=1)
def _bands():
    from xlhedge.engine.ratios import OUTLOOK_BANDS

    return tuple(OUTLOOK_BANDS)


