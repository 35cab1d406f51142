"""Build the xlhedge template (.xlsm) with XlsxWriter, reproducibly.

``build_template(path)`` writes the workbook. Formula cells carry cached
values computed by evaluating every formula with the real engine
(:mod:`xlhedge.workbook.evaluate`), so a viewer that cannot run Python
(LibreOffice, Excel before "Enable functions") shows real numbers.
The same inputs give the same bytes on every build.
"""

from __future__ import annotations

import datetime as dt
import re
import tempfile
from pathlib import Path

import xlsxwriter
from xlsxwriter.utility import xl_cell_to_rowcol, xl_col_to_name

from xlhedge import udfs
from xlhedge.market.sample import sample_snapshot
from xlhedge.version import __version__
from xlhedge.workbook import layout as L
from xlhedge.workbook import vba
from xlhedge.workbook.arrays import array_formula_text, array_key
from xlhedge.workbook.messages import (
    MSG_BASIS_ABOVE,
    MSG_BASIS_BELOW,
    MSG_CROWD_UNKNOWN,
    MSG_CROWDED_OFF,
    MSG_CROWDED_ON,
    MSG_LIQUIDATED,
    MSG_NO_BETA,
    MSG_NO_PRICE,
    MSG_NO_PRICE_TAIL,
    MSG_NO_RATE,
    MSG_PRICE_TEXT,
    MSG_QTY_NEGATIVE,
    MSG_QTY_TEXT,
    MSG_WEAK_CROSS,
)
from xlhedge.workbook.stored import StoredNumbersWorksheet
from xlhedge.workbook.tables import table_rows

CREATED = dt.datetime(2026, 11, 1, 0, 0, 0)
INPUT_FILL = "#FFF2CC"
HEADER_FILL = "#1F4E78"
TOTAL_FILL = "#DDEBF7"
FONT = "Calibri"

SAMPLE_PORTFOLIO = (  # the article's defensive example (5 BTC, 50 ETH, cash), valued at the live marks
    {"asset": "BTC", "quantity": 5, "hedge_with": "own perp", "current_short": 0},
    {"asset": "ETH", "quantity": 50, "hedge_with": "own perp", "current_short": 0},
)
SAMPLE_CASH = 100000


class _Formats:
    def __init__(self, wb: xlsxwriter.Workbook):
        base = {"font_name": FONT, "font_size": 11, "valign": "vcenter"}

        def make(**kw):
            return wb.add_format({**base, **kw})

        self.title = make(bold=True, font_size=18, font_color=HEADER_FILL)
        self.subtitle = make(bold=True, font_size=13, font_color=HEADER_FILL)
        self.text = make(text_wrap=True, valign="top")
        self.text_bold = make(text_wrap=True, bold=True, valign="top")
        self.label = make(bold=True)
        self.note = make(italic=True, font_color="#595959", text_wrap=True, valign="top")
        self.warn = make(bold=True, font_color="#C00000", text_wrap=True, valign="top")
        self.header = make(bold=True, font_color="white", bg_color=HEADER_FILL, text_wrap=True,
                           border=1, align="center")
        inp = {"bg_color": INPUT_FILL, "border": 1, "border_color": "#BFBFBF", "locked": False}
        self.in_text = make(**inp)
        self.in_num = make(num_format="#,##0.########", **inp)
        self.in_usd = make(num_format="$#,##0", **inp)
        self.in_pct = make(num_format="0.0%", **inp)
        self.in_when = make(num_format="yyyy-mm-dd hh:mm", **inp)
        self.in_pct4 = make(num_format="0.000%", **inp)
        self.in_int = make(num_format="0", **inp)
        out = {"border": 1, "border_color": "#D9D9D9"}
        self.out_text = make(**out)
        self.usd = make(num_format="$#,##0;[Red]-$#,##0", **out)
        self.price = make(num_format="$#,##0.00##", **out)
        self.price2 = make(num_format="$#,##0.00", **out)
        self.cost = make(num_format="$#,##0;-$#,##0;$0", **out)
        self.total_cost = make(bold=True, bg_color=TOTAL_FILL, num_format="$#,##0;-$#,##0;$0", border=1)
        self.pays = wb.add_format({"font_color": "#C00000"})
        self.earns = wb.add_format({"font_color": "#00703C"})
        self.pct = make(num_format="0.0%", **out)
        self.rate = make(num_format="0.0000%;[Red]-0.0000%", **out)
        self.apr = make(num_format="0.00%;[Red]-0.00%", **out)
        self.num = make(num_format="#,##0.###", **out)
        self.size = make(num_format="#,##0.########", **out)
        self.basis = make(num_format="0.000%;[Red]-0.000%", **out)
        self.hours = make(num_format="0", **out)
        self.when = make(num_format="yyyy-mm-dd hh:mm", **out)
        self.day = make(num_format="yyyy-mm-dd", **out)
        self.out_wrap = make(text_wrap=True, valign="top", **out)
        self.total_label = make(bold=True, bg_color=TOTAL_FILL, border=1)
        self.total_usd = make(bold=True, bg_color=TOTAL_FILL, num_format="$#,##0;[Red]-$#,##0", border=1)
        self.total_pct = make(bold=True, bg_color=TOTAL_FILL, num_format="0.0%", border=1)
        self.total_blank = make(bg_color=TOTAL_FILL, border=1)
        self.status = make(bold=True, text_wrap=True, valign="top", font_color="#1F4E78")
        self.stale = make(bg_color="#FCE4D6")
        self.sample = make(bg_color="#EDEDED", font_color="#7F7F7F")
        self.liquidated = wb.add_format({"bg_color": "#F8CBAD", "font_color": "#9C0006"})
        self.event = make(bold=True, font_color="#9C5700")
        self.warn_text = make(font_color="#9C5700", **out)


def _widths(ws, widths: dict[str, float]) -> None:
    """Column widths by letter or range of letters: {"A": 12, "F:G": 8}."""
    for cols, width in widths.items():
        ws.set_column(cols if ":" in cols else f"{cols}:{cols}", width)


def _f(values: dict | None, sheet: str, cell: str):
    """Cached value for a formula cell, from a previous evaluation (0 when unknown)."""
    if values is None:
        return 0
    value = values.get((sheet, cell))
    return "" if value is None else value


def funding_lookup(values: str, key: str) -> str:
    """INDEX into a Funding column at the contract ``key`` names: the coin's hedge contract
    (``FundingKeys``, e.g. "binance|BTC"), else an exact symbol (``SymbolKeys``, "binance|BTCUSDC").
    The same rule as :func:`xlhedge.market.contracts.resolve`."""
    return f"INDEX({values},IFERROR(MATCH({key},FundingKeys,0),MATCH({key},SymbolKeys,0)))"


#: A call of one of the xlhedge functions in a formula (for the Lite edition's ``_xldudf_`` names).
_UDF_CALL = re.compile(r"(?<![A-Za-z_.])(" + "|".join(sorted(udfs.UDFS, key=len, reverse=True)) + r")\(")


class TemplateBuilder:
    """Writes each sheet; ``values`` are cached formula results keyed by (sheet, cell)."""

    def __init__(self, path, values: dict | None = None, lite: bool = False):
        """``path``: a file path, or a binary file object (an in-memory build). ``lite``: the xlwings Lite
        edition (an .xlsx: no VBA, no buttons, no xlwings.conf sheet; functions stored as Office.js
        custom functions)."""
        self.values = values
        self.lite = lite
        self.written: dict[tuple[str, str], str] = {}  # every formula, as written: (sheet, cell) -> text
        options = {"strings_to_numbers": False, "strings_to_formulas": False, "strings_to_urls": False}
        if hasattr(path, "write"):
            options["in_memory"] = True
        self.wb = xlsxwriter.Workbook(path if hasattr(path, "write") else str(path), options)
        self.fmt = _Formats(self.wb)
        self.sheets = {name: self.wb.add_worksheet(name, worksheet_class=StoredNumbersWorksheet)
                       for name in L.SHEETS if not (lite and name == L.CONF)}

    def stored(self, formula: str) -> str:
        """The formula as the file stores it: in the Lite edition each xlhedge function is an Office.js
        custom function, which Excel writes as ``_xldudf_NAME(``."""
        return _UDF_CALL.sub(r"_xldudf_\1(", formula) if self.lite else formula

    def set_vba_name(self, ws, name: str) -> None:
        if not self.lite:
            ws.set_vba_name(name)

    def button(self, ws, cell: str, options: dict) -> None:
        """A macro button (desktop); the Lite edition runs its scripts from the xlwings Lite task pane."""
        if not self.lite:
            ws.insert_button(cell, options)

    def formula(self, sheet: str, cell: str, formula: str, fmt) -> None:
        self.written[(sheet, cell)] = formula
        self.sheets[sheet].write_formula(cell, self.stored(formula), fmt, _f(self.values, sheet, cell))

    def column_formula(self, sheet: str, col: str, first: int, last: int, formula: str, fmt) -> None:
        """One legacy array formula ({=...}) over ``col first:last``: each xlhedge function in it is
        called once for the whole column. ``formula`` uses ``{c}`` for "first:last" of a column
        (e.g. ``{A}`` -> ``A5:A24``). Every cell gets its cached value."""
        ref = f"{col}{first}:{col}{last}"
        text = array_formula_text(formula, first, last)
        self.written[(sheet, f"{col}{first}")] = array_key(text, ref)
        ws = self.sheets[sheet]
        ws.write_array_formula(ref, "{" + self.stored(text) + "}", fmt, _f(self.values, sheet, f"{col}{first}"))
        if self.values is None:
            return
        for r in range(first + 1, last + 1):  # Excel keeps the other cells of an array as plain values
            # write() picks the cell type; "" is a formatted blank (strings are never formulas or numbers here)
            ws.write(f"{col}{r}", _f(self.values, sheet, f"{col}{r}"), fmt)

    # ------------------------------------------------------------------ workbook
    def build(self) -> None:
        wb = self.wb
        wb.set_properties({
            "title": "xlhedge: hedge spot crypto with short perpetual futures",
            "subject": "Hedge plan, funding carry, scenarios",
            "author": "xlhedge",
            "company": "xlhedge",
            "comments": f"Built by xlhedge {__version__}",
            "created": CREATED,
        })
        wb.set_custom_property("xlhedge_version", __version__)
        if self.lite:
            wb.set_custom_property("xlhedge_edition", "xlwings Lite")
        else:
            wb.set_custom_property("xlwings_version", vba.xlwings_version())
            wb.add_vba_project(self._vba_file(), is_stream=False)
            wb.set_vba_name("ThisWorkbook")
        for setting in L.SETTING_LIST:
            wb.define_name(setting.name, f"=Settings!$B${L.SETTING_ROW[setting.name]}")
        for name, key in (("FundingKeys", "key"), ("SymbolKeys", "symbol_key"), ("FundingRates", "funding_rate"),
                          ("FundingIntervals", "interval_hours"), ("MarkPrices", "mark_price")):
            col = L.FUNDING_COL[key]
            wb.define_name(name, f"=Funding!${col}${L.FUNDING_FIRST_ROW}:${col}${L.FUNDING_LAST_ROW}")
        wb.define_name("Bases", f"=Funding!${L.FUNDING_COL['basis']}${L.FUNDING_FIRST_ROW}:"
                                f"${L.FUNDING_COL['basis']}${L.FUNDING_LAST_ROW}")
        r2_col = L.BETA_COLUMNS[2][1]
        wb.define_name("BetaR2", f"=Funding!${r2_col}${L.BETA_FIRST_ROW}:${r2_col}${L.BETA_LAST_ROW}")
        name_col, when_col, _ = L.EVENTS_COLUMNS
        wb.define_name("EventList", f"=Settings!${name_col}${L.EVENTS_FIRST_ROW}:${when_col}${L.EVENTS_LAST_ROW}")
        for name, (_, col, _) in (("BetaKeys", L.BETA_COLUMNS[0]), ("BetaValues", L.BETA_COLUMNS[1])):
            wb.define_name(name, f"=Funding!${col}${L.BETA_FIRST_ROW}:${col}${L.BETA_LAST_ROW}")
        crowd = {key: col for key, col, _ in L.CROWD_COLUMNS}
        for name, key in (("CrowdKeys", "key"), ("CrowdPercentiles", "funding_percentile"),
                          ("CrowdOIChanges", "oi_change")):
            wb.define_name(name, f"=Funding!${crowd[key]}${L.CROWD_FIRST_ROW}:${crowd[key]}${L.CROWD_LAST_ROW}")
        self.start()
        self.portfolio()
        self.hedge()
        self.scenarios()
        self.backtest()
        self.funding()
        self.settings()
        if not self.lite:
            self.conf()
        self.page_setup()
        self.sheets["Start"].activate()
        wb.close()

    #: The Hedge sheet prints (and renders) on pages that start at these columns, each with the Asset
    #: column and the headers repeated: the plan a user reads first (asset to short notional and mark),
    #: then the order and its costs, then exposure and risk, then the checks. One page of all 27
    #: columns would be unreadable.
    HEDGE_PAGE_STARTS = ("A", "L", "S", "X")
    HEDGE_PRINT_SCALE = 80  # percent: the widest page (A:K) still fits A4 landscape

    @classmethod
    def printed_pages(cls, sheet: str) -> int:
        """How many pages ``sheet`` prints on (one, but the Hedge sheet)."""
        return len(cls.HEDGE_PAGE_STARTS) if sheet == L.HEDGE else 1

    def page_setup(self) -> None:
        """Landscape, one page wide (the Hedge sheet: three pages), with print areas: what a printout
        (or a PDF) shows."""
        areas = {
            "Start": "A1:E32",
            L.PORTFOLIO: f"A1:J{L.CASH_ROW + 1}",
            L.HEDGE: f"A1:{L.HEDGE_COLUMNS[-1].col}{L.HEDGE_TOTAL_ROW + 2}",
            L.SCENARIOS: f"A1:P{L.SCENARIO_FIRST_ROW + len(L.SCENARIO_MOVES) + 2}",
            L.FUNDING: f"A1:{L.CROWD_COLUMNS[-1][1]}{L.FUNDING_FIRST_ROW + 40}",
            L.BACKTEST: f"A1:U{L.BACKTEST_RESULTS.last_row + 2}",
            L.SETTINGS: f"A1:L{max(L.SETTINGS_FIRST_ROW + len(L.SETTING_LIST) + 1, L.EVENTS_LAST_ROW)}",
            L.CONF: "A1:D9",
        }
        for name, ws in self.sheets.items():  # (the Lite edition has no xlwings.conf sheet)
            ws.set_landscape()
            ws.set_paper(9)  # A4
            if name == L.HEDGE:
                ws.set_print_scale(self.HEDGE_PRINT_SCALE)
                ws.set_v_pagebreaks([xl_cell_to_rowcol(f"{c}1")[1] for c in self.HEDGE_PAGE_STARTS[1:]])
                ws.repeat_columns("A:A")
                ws.repeat_rows(L.HEDGE_FIRST_ROW - 2)  # the column headers
            else:
                ws.fit_to_pages(1, 1 if name in (L.SCENARIOS, L.PORTFOLIO, L.CONF, L.SETTINGS, L.BACKTEST,
                                                 "Start") else 0)
            ws.print_area(areas[name])
            ws.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.5)
            ws.set_header(f"&L&\"Calibri,Bold\"xlhedge&R{name}")

    def _vba_file(self) -> str:
        tmp = Path(tempfile.mkdtemp(prefix="xlhedge-vba-")) / "vbaProject.bin"
        tmp.write_bytes(vba.vba_project_bytes())
        return str(tmp)

    # ------------------------------------------------------------------ Start
    def start(self) -> None:
        ws, f = self.sheets["Start"], self.fmt
        self.set_vba_name(ws, "Sheet1")
        ws.hide_gridlines(2)
        _widths(ws, {"A": 2, "B": 92, "C": 3, "D": 34})
        ws.write("B2", "xlhedge: insure your crypto with short perpetual futures", f.title)
        ws.set_row(1, 30)
        rows = [
            ("What it does", f.subtitle, 20),
            ("You hold coins (spot). A short perpetual future of the same coin gains when the price "
             "falls, so it offsets part of the loss. This workbook tells you how much to short, how "
             "many contracts that is, what it earns or costs in funding, and the price at which the "
             "short would be liquidated.", f.text, 62),
            ("Three steps", f.subtitle, 20),
            ("1. Portfolio sheet: type your coins and quantities in the yellow cells (cash too).",
             f.text, 18),
            (("2. Run 'refresh_market_data' in the xlwings Lite task pane" if self.lite else
              "2. Click 'Refresh market data' (right)") + " for live funding rates and prices. Until then "
             "the Funding sheet shows dated SAMPLE data.", f.text, 32),
            ("3. Hedge sheet: read how much to short per coin, the contracts, margin, liquidation "
             "price and funding. Scenarios shows what a price move does with and without the hedge.",
             f.text, 32),
            ("Settings: pick your outlook (bearish, neutral, bullish) and conviction; the hedge ratio "
             "follows. Yellow cells are yours to change; everything else is calculated.", f.text, 32),
            ("Funding: who pays whom", f.subtitle, 20),
            ("Exchanges publish a funding rate per interval (often 8 hours, sometimes 4 or 1). A "
             "POSITIVE rate means longs pay shorts, so your short hedge EARNS it. A NEGATIVE rate "
             "means shorts pay longs: then the hedge costs you. On the Hedge sheet a funding cost "
             "below zero is money you receive.", f.text, 62),
            ("When the short costs more than the threshold in Settings, the hedge ratio is trimmed; "
             "when it is paid well, the ratio may be raised up to the maximum ratio.", f.text, 32),
            ("Hedging an altcoin with BTC", f.subtitle, 20),
            ("An altcoin with a beta of 2 moves about twice as much as BTC. To offset it with BTC "
             "perpetuals you need about $2 of BTC short for every $1 of the coin, not $0.50. The "
             "hedge only removes the part of the coin's moves that follows BTC: the Hedge sheet's R² is "
             "that share, and below 0.5 its Check column says the cross-hedge is weak.", f.text, 48),
            ("Leverage and liquidation", f.subtitle, 20),
            ("Your coins do not protect the short from liquidation: only the margin you post does. "
             "If the price rises to the liquidation price, the short is closed and the coins are "
             "unhedged and the margin is lost. Low leverage (2x-3x) keeps that price far away; the "
             "Scenarios sheet marks the price rises that would liquidate it.", f.warn, 64),
            ("Known events, the basis and crowded longs", f.subtitle, 20),
            ("Prices jump around scheduled events such as the Fed's rate decisions (FOMC). From 3 days "
             "before until 24 hours after each event in the Events table (Settings sheet), the hedge "
             "ratio is at least 80%, and the Hedge sheet says which event is near. Add your own dates: "
             "CPI releases, network upgrades, token unlocks.", f.text, 48),
            ("The basis is the gap between the perpetual's price and spot. As it closes, a short opened "
             "above spot gains and one opened below spot loses; the Check column warns beyond 0.5%.",
             f.text, 32),
            ("Crowded longs: when funding is higher than 90% of its own last 30 days and open interest "
             "grew 10% in a week, many traders hold leveraged longs and a sharp fall is likelier. Switch "
             "the rule on in Settings to add 10% to the hedge then; it costs nothing extra, since that "
             "funding pays the short. The Hedge sheet shows both measures beside the signal.", f.text, 64),
            ("Buttons", f.subtitle, 20),
            ("'Enable functions' (Windows) imports the xlhedge formulas into this workbook once; "
             "'Refresh market data' fetches funding rates and prices (Windows and Mac). Both need "
             "xlhedge installed: see install/ in the xlhedge project. If one does not work, run "
             "'xlhedge doctor xlhedge.xlsm' in a terminal: it says what is wrong and what to run.", f.text, 62),
        ]
        if self.lite:
            rows[-2:] = [
                ("xlwings Lite edition", f.subtitle, 20),
                ("This file carries its Python code: install the free xlwings Lite add-in (Home > Add-ins, "
                 "search 'xlwings Lite') and the formulas work in Excel on Windows, on a Mac and on the web, "
                 "without installing Python. In its task pane, run 'refresh_market_data' for live rates (from "
                 "the exchanges your browser may reach; the status names any it could not: refresh those with "
                 "'xlhedge refresh' on a computer with Python, or use the desktop edition) and 'backtest' for "
                 "the Backtest sheet.", f.text, 92),
            ]
        row = 3
        for text, fmt, height in rows:
            ws.write(row, 1, text, fmt)
            ws.set_row(row, height)
            row += 1
        ws.write(row + 1, 1, "Last refresh", f.subtitle)
        self.formula("Start", f"B{row + 3}", f"=Funding!{L.STATUS_CELL}", f.status)
        ws.set_row(row + 2, 48)
        self.button(ws, "D4", {"macro": vba.ENABLE_FUNCTIONS_MACRO, "caption": "Enable functions",
                               "width": 220, "height": 40})
        self.button(ws, "D8", {"macro": vba.REFRESH_MACRO, "caption": "Refresh market data",
                               "width": 220, "height": 40})
        ws.write("D12", "Sign convention: rate > 0 means longs pay shorts.", f.note)
        ws.protect("", {"objects": False})

    # ------------------------------------------------------------------ Portfolio
    def portfolio(self) -> None:
        ws, f = self.sheets[L.PORTFOLIO], self.fmt
        self.set_vba_name(ws, "Sheet2")
        cols = L.PORTFOLIO_COLUMNS
        ws.write("A1", "Portfolio: what you hold", f.title)
        ws.merge_range("A2:J2", "Type in the yellow cells. Asset: a coin (BTC), or an exchange's symbol "
                                "(BTCUSDC) to hedge with that contract. Value at: leave it empty to value the coins "
                                "at the live mark (Funding sheet); a number overrides the mark for the value and "
                                "the contracts alike. Hedge with 'BTC perp' for coins without a good "
                                "perpetual; type their beta to BTC, or leave it empty and the refresh "
                                "estimates it from 180 days of prices.", f.note)
        ws.set_row(1, 46)
        _widths(ws, {"A": 12, "B": 12, "C": 18, "D": 14, "E": 13, "F": 11, "G": 16, "H": 16, "I": 17, "J": 16})
        hr = L.PORTFOLIO_HEADER_ROW
        for _key, (col, header) in cols.items():
            ws.write(f"{col}{hr}", header, f.header)
        ws.set_row(hr - 1, 48)
        first, last = L.PORTFOLIO_FIRST_ROW, L.PORTFOLIO_LAST_ROW
        input_fmt = {"asset": f.in_text, "quantity": f.in_num, "typed_price": f.in_usd,
                     "hedge_with": f.in_text, "beta": f.in_num, "exchange": f.in_text,
                     "current_short": f.in_usd}
        for i in range(L.PORTFOLIO_ROWS):
            r = first + i
            sample = SAMPLE_PORTFOLIO[i] if i < len(SAMPLE_PORTFOLIO) else {}
            for key in L.PORTFOLIO_INPUTS:
                col = cols[key][0]
                value = sample.get(key)
                if value is None:
                    ws.write_blank(f"{col}{r}", None, input_fmt[key])
                else:
                    ws.write(f"{col}{r}", value, input_fmt[key])
            exchange = f'IF(G{r}="",DefaultExchange,LOWER(TRIM(G{r})))'
            key_expr = f'{exchange}&"|"&UPPER(TRIM(A{r}))'
            # ISTEXT first: Excel's ISNUMBER("5") is FALSE, some evaluators say TRUE; both agree on ISTEXT
            self.formula(L.PORTFOLIO, f"D{r}",
                         f'=IF(A{r}="","",IF(ISTEXT(C{r}),"",IF(ISNUMBER(C{r}),C{r},'
                         f'IFERROR({funding_lookup("MarkPrices", key_expr)},""))))', f.price)
            self.formula(L.PORTFOLIO, f"I{r}",
                         f'=IF(A{r}="","",IF(ISTEXT(B{r}),"{MSG_QTY_TEXT}",IF(ISTEXT(C{r}),"{MSG_PRICE_TEXT}",'
                         f'IF(NOT(ISNUMBER(B{r})),"",IF(B{r}<0,"{MSG_QTY_NEGATIVE}",IF(ISNUMBER(D{r}),B{r}*D{r},'
                         f'"{MSG_NO_PRICE}"&{exchange}&"{MSG_NO_PRICE_TAIL}"))))))', f.usd)
            self.formula(L.PORTFOLIO, f"J{r}",
                         f'=IF(A{r}="","",IF(ISTEXT(F{r}),"",IF(ISNUMBER(F{r}),F{r},'
                         f'IFERROR(INDEX(BetaValues,MATCH(UPPER(TRIM(A{r})),BetaKeys,0)),""))))', f.num)
        cash = L.CASH_ROW
        ws.merge_range(f"A{cash}:H{cash}", "Cash / stablecoins (not hedged)", f.total_label)
        ws.write(f"I{cash}", SAMPLE_CASH, f.in_usd)
        ws.merge_range(f"A{cash + 1}:H{cash + 1}", "Total portfolio", f.total_label)
        self.formula(L.PORTFOLIO, f"I{cash + 1}", f"=SUM(I{first}:I{last})+I{cash}", f.total_usd)
        ws.data_validation(f"E{first}:E{last}", {"validate": "list", "source": list(L.HEDGE_WITH)})
        ws.data_validation(f"G{first}:G{last}", {"validate": "list", "source": list(L.EXCHANGES)})
        for col in ("B", "C", "H"):
            ws.data_validation(f"{col}{first}:{col}{last}", {
                "validate": "decimal", "criteria": ">=", "value": 0,
                "error_title": "Not a valid amount", "error_message": "Type a number of 0 or more."})
        ws.data_validation(f"F{first}:F{last}", {
            "validate": "decimal", "criteria": "between", "minimum": -20, "maximum": 20,
            "error_title": "Not a valid beta", "error_message": "Beta is a number, typically 0.5 to 3."})
        ws.data_validation(f"I{cash}", {"validate": "decimal", "criteria": ">=", "value": 0})
        ws.freeze_panes(hr, 1)
        ws.protect("", {"format_columns": True, "format_rows": True})

    # ------------------------------------------------------------------ Hedge

    def hedge(self) -> None:
        ws, f = self.sheets[L.HEDGE], self.fmt
        self.set_vba_name(ws, "Sheet3")
        ws.write("A1", "Hedge plan", f.title)
        ws.merge_range("A2:AA2", "Everything here is calculated from Portfolio, Settings and Funding. Short "
                                "notional = spot value x hedge ratio (x beta for coins hedged with BTC), at the "
                                "same price as the spot value, so a 40% hedge shorts 40% of the coins you hold. "
                                "Contracts are rounded down, so you never short more than planned.", f.note)
        ws.set_row(1, 32)
        self.formula(L.HEDGE, L.EVENT_NOTE_CELL, '=IF(EventRule="yes",EVENT_NOTE("",EventDaysBefore,EventHoursAfter,'
                                    'EventFloor,EventList),"")', f.event)
        hr = L.HEDGE_FIRST_ROW - 1
        for col, header, width, _ in (c[1:] for c in L.HEDGE_COLUMNS):
            ws.set_column(f"{col}:{col}", width)
            ws.write(f"{col}{hr}", header, f.header)
        ws.set_row(hr - 1, 48)
        p = L.PORTFOLIO
        key = "E{r}&\"|\"&D{r}"
        for i in range(L.PORTFOLIO_ROWS):
            r = L.HEDGE_FIRST_ROW + i
            pr = L.PORTFOLIO_FIRST_ROW + i
            k = key.format(r=r)
            formulas = {
                "A": f'=IF({p}!A{pr}="","",UPPER(TRIM({p}!A{pr})))',
                "B": f'=IF(A{r}="","",{p}!I{pr})',
                "C": f'=IF(A{r}="","",IF({p}!E{pr}="BTC perp","BTC perp","own perp"))',
                "D": f'=IF(A{r}="","",IF(C{r}="BTC perp","BTC",A{r}))',
                "E": f'=IF(A{r}="","",IF({p}!G{pr}="",DefaultExchange,LOWER(TRIM({p}!G{pr}))))',
                "F": f'=IF(A{r}="","",IFERROR({funding_lookup("FundingRates", k)},""))',
                "G": f'=IF(A{r}="","",IFERROR({funding_lookup("FundingIntervals", k)},8))',
                "I": f'=IF(A{r}="","",IF(C{r}="BTC perp",{p}!J{pr},1))',
                "K": (f'=IF(A{r}="","",IF(C{r}="own perp",IF(ISNUMBER({p}!D{pr}),{p}!D{pr},""),'
                      f'IFERROR({funding_lookup("MarkPrices", k)},"")))'),
                "M": f'=IF(ISNUMBER(J{r}),J{r}/Leverage,"")',
                "Q": f'=IF(A{r}="","",IF(ISTEXT({p}!H{pr}),0,IF(ISNUMBER({p}!H{pr}),{p}!H{pr},0)))',
                "S": f'=IF(ISNUMBER(B{r}),B{r}*IF(C{r}="BTC perp",IF(ISNUMBER(I{r}),I{r},1),1),"")',
                "T": f'=IF(AND(ISNUMBER(L{r}),ISNUMBER(K{r}),ISNUMBER(S{r})),IF(S{r}>0,L{r}*K{r}/S{r},""),"")',
                "U": f'=IF(AND(ISNUMBER(N{r}),ISNUMBER(K{r})),N{r}/K{r}-1,"")',
                "V": f'=IF(A{r}="","",IFERROR({funding_lookup("Bases", k)},""))',
                "W": (f'=IF(A{r}="","",IF(C{r}="BTC perp",IF(ISNUMBER({p}!F{pr}),"",'
                      f'IFERROR(INDEX(BetaR2,MATCH(A{r},BetaKeys,0)),"")),""))'),
                "X": (f'=IF(A{r}="","",IF(AND(ISNUMBER(V{r}),ISNUMBER(BasisWarn)),IF(ABS(V{r})>BasisWarn,'
                      f'IF(V{r}>0,"{MSG_BASIS_ABOVE}","{MSG_BASIS_BELOW}"),""),"")'
                      f'&IF(AND(ISNUMBER(W{r}),ISNUMBER(R2Warn)),IF(W{r}<R2Warn,"{MSG_WEAK_CROSS}",""),""))'),
                "Y": f'=IF(A{r}="","",IFERROR(INDEX(CrowdPercentiles,MATCH({k},CrowdKeys,0)),""))',
                "Z": f'=IF(A{r}="","",IFERROR(INDEX(CrowdOIChanges,MATCH({k},CrowdKeys,0)),""))',
            }
            for _, col, _, _, fmt_name in L.HEDGE_COLUMNS:
                if col in formulas:
                    self.formula(L.HEDGE, f"{col}{r}", formulas[col], getattr(f, fmt_name))
        t, first, last = L.HEDGE_TOTAL_ROW, L.HEDGE_FIRST_ROW, L.HEDGE_FIRST_ROW + L.PORTFOLIO_ROWS - 1
        # The columns that call Python: one array formula each, so a full recalculation calls each
        # function once for all rows (a bad row still gets its own message: see udfs.xl_udf).
        ratio = ('HEDGE_RATIO(Outlook,Conviction,IF(FundingAdjust="yes",{F},""),{G},FundingThreshold,'
                 'Adjustment,MaxRatio)')
        ratio = (f'IF(CrowdedRule="yes",CROWDED_RATIO({ratio},{{F}},{{Y}},{{Z}},CrowdedBump,CrowdedPercentile,'
                 f'CrowdedOIRise,MaxRatio),{ratio})')
        columns = {
            "H": (f'=IF({{A}}="","",IF(EventRule="yes",EVENT_RATIO({ratio},"",EventDaysBefore,'
                  f'EventHoursAfter,EventFloor,EventList),{ratio}))'),
            "AA": (f'=IF({{A}}="","",IF(ISNUMBER({{Y}}),IF(CROWDED_RATIO(0,{{F}},{{Y}},{{Z}},1,CrowdedPercentile,'
                   f'CrowdedOIRise,1)>0,IF(CrowdedRule="yes","{MSG_CROWDED_ON}","{MSG_CROWDED_OFF}"),"no"),'
                   f'"{MSG_CROWD_UNKNOWN}"))'),
            "J": (f'=IF({{A}}="","",IF(ISNUMBER({{B}}),IF({{C}}="BTC perp",IF(ISNUMBER({{I}}),'
                  f'BETA_HEDGE({{B}}*{{H}},{{I}}),"{MSG_NO_BETA}"),{{B}}*{{H}}),""))'),
            "L": '=IF(ISNUMBER({J}),IF(ISNUMBER({K}),HEDGE_CONTRACTS({J},{K}),""),"")',
            "N": '=IF(ISNUMBER({J}),IF(ISNUMBER({K}),LIQ_PRICE({K},Leverage,MaintenanceMargin),""),"")',
            "O": (f'=IF(ISNUMBER({{J}}),IF(ISNUMBER({{F}}),FUNDING_COST({{J}},{{F}},{{G}},HorizonDays),'
                  f'"{MSG_NO_RATE}"),"")'),
            "P": '=IF(ISNUMBER({F}),FUNDING_APR({F},{G}),"")',
            "R": ('=IF(ISNUMBER({J}),IF(ISNUMBER({B}),IF({B}>0,HEDGE_REBALANCE({B},{Q},{J}/{B},'
                  'RebalanceBand),""),""),"")'),
        }
        for _, col, _, _, fmt_name in L.HEDGE_COLUMNS:
            if col in columns:
                self.column_formula(L.HEDGE, col, first, last, columns[col], getattr(f, fmt_name))
        ws.write(f"A{t}", "Total", f.total_label)
        for col in (c.col for c in L.HEDGE_COLUMNS[1:]):
            if col == "O":
                self.formula(L.HEDGE, f"O{t}", f"=SUM(O{first}:O{last})", f.total_cost)
            elif col in "BJMQRS":
                self.formula(L.HEDGE, f"{col}{t}", f"=SUM({col}{first}:{col}{last})", f.total_usd)
            elif col == "H":
                self.formula(L.HEDGE, f"H{t}", f'=IF(B{t}>0,J{t}/B{t},"")', f.total_pct)
            else:
                ws.write_blank(f"{col}{t}", None, f.total_blank)
        ws.merge_range(f"A{t + 2}:AA{t + 2}", "Overall ratio (H) = total short / total spot. Funding cost > 0 "
                                             "means you pay, < 0 (green) means the short is paid. Rebalance "
                                             "> 0: add to the short; < 0: buy back. Hedged fraction (T) = what "
                                             "the rounded contracts cover: coins short / coins held (for BTC "
                                             "perp: short / BTC-equivalent exposure). A rise beyond U liquidates "
                                             "the short: it is closed and its margin lost (see Scenarios). R²: the "
                                             "share of a coin's moves BTC explains (1 = all; below the Settings "
                                             "minimum the BTC short protects little).",
                       f.note)
        self.color_costs(ws, f"O{first}:O{t}")
        ws.freeze_panes(L.HEDGE_FIRST_ROW - 1, 1)
        ws.protect("", {"format_columns": True, "format_rows": True})

    def color_costs(self, ws, rng: str) -> None:
        """Funding costs: red when you pay (> 0), green when the short is paid (< 0)."""
        ws.conditional_format(rng, {"type": "cell", "criteria": ">", "value": 0, "format": self.fmt.pays})
        ws.conditional_format(rng, {"type": "cell", "criteria": "<", "value": 0, "format": self.fmt.earns})

    # ------------------------------------------------------------------ Scenarios
    def scenarios(self) -> None:
        ws, f = self.sheets[L.SCENARIOS], self.fmt
        self.set_vba_name(ws, "Sheet4")
        _widths(ws, {"A": 42, "B:D": 16, "E": 34})
        ws.write("A1", "Scenarios: what a price move does", f.title)
        ws.merge_range("A2:E2", "BTC moves by the % on the left; each coin moves with it (coins hedged with "
                                "BTC move beta times as much). Hedged = coins + short, after funding over the "
                                "horizon. Cash does not move. A rise that reaches the shorts' liquidation price "
                                "(Settings leverage) closes them there: their margin is lost and the coins are "
                                "unhedged from then on.", f.note)
        ws.set_row(1, 62)
        hedge_u = f"Hedge!U{L.HEDGE_FIRST_ROW}:U{L.HEDGE_FIRST_ROW + L.PORTFOLIO_ROWS - 1}"
        labels = (("A4", "Exposure (USD, BTC-equivalent)", "=Hedge!S{t}", f.usd),
                  ("A5", "Short notional (USD)", "=Hedge!J{t}", f.usd),
                  ("A6", "Funding cost over horizon (USD, <0 = earned)", "=Hedge!O{t}", f.cost),
                  ("A7", "Shorts liquidated by a rise of", f'=IF(COUNT({hedge_u})=0,"",MIN({hedge_u}))', f.pct))
        for cell, label, formula, fmt in labels:
            ws.write(cell, label, f.text_bold)
            self.formula(L.SCENARIOS, "B" + cell[1:], formula.format(t=L.HEDGE_TOTAL_ROW), fmt)
        self.color_costs(ws, "B6")
        hr = L.SCENARIO_FIRST_ROW - 1
        for col, header in zip("ABCDE", ("Price move", "Unhedged P&L", "Hedged P&L", "What the hedge adds",
                                         "Short"), strict=False):
            ws.write(f"{col}{hr}", header, f.header)
        ws.set_row(hr - 1, 32)
        for i, move in enumerate(L.SCENARIO_MOVES):
            r = L.SCENARIO_FIRST_ROW + i
            ws.write_number(f"A{r}", move, f.pct)
            self.formula(L.SCENARIOS, f"D{r}", f"=C{r}-B{r}", f.usd)
            self.formula(L.SCENARIOS, f"E{r}", f'=IF(AND(ISNUMBER($B$5),ISNUMBER($B$7)),IF(AND($B$5>0,A{r}>=$B$7),'
                                              f'"{MSG_LIQUIDATED}",""),"")', f.out_text)
        first, last = L.SCENARIO_FIRST_ROW, L.SCENARIO_FIRST_ROW + len(L.SCENARIO_MOVES) - 1
        self.column_formula(L.SCENARIOS, "B", first, last, "=HEDGE_PNL($B$4,0,{A})", f.usd)
        self.column_formula(L.SCENARIOS, "C", first, last,
                            "=HEDGE_PNL($B$4,$B$5,{A},$B$6,Leverage,MaintenanceMargin)", f.usd)
        chart = self.wb.add_chart({"type": "line"})
        for col, _name, color in (("B", "Unhedged", "#C00000"), ("C", "Hedged", "#1F4E78")):
            chart.add_series({
                "name": f"=Scenarios!${col}${hr}",
                "categories": f"=Scenarios!$A${first}:$A${last}",
                "values": f"=Scenarios!${col}${first}:${col}${last}",
                "line": {"color": color, "width": 2.25},
                "marker": {"type": "circle", "size": 5, "fill": {"color": color}, "border": {"color": color}},
            })
        chart.set_title({"name": "P&L by price move", "name_font": {"size": 12}})
        chart.set_x_axis({"name": "Price move", "num_format": "0%", "label_position": "low"})
        chart.set_y_axis({"name": "P&L (USD)", "num_format": "$#,##0", "major_gridlines": {"visible": True}})
        chart.set_legend({"position": "bottom"})
        chart.set_size({"width": 560, "height": 340})
        ws.insert_chart("G4", chart)
        ws.conditional_format(f"A{first}:E{last}", {"type": "formula", "criteria": f'=$E{first}<>""',
                                                    "format": self.fmt.liquidated})
        ws.protect("", {"format_columns": True, "objects": False})

    # ------------------------------------------------------------------ Backtest
    #: Number format of each result row (the order of :meth:`xlhedge.backtest.Backtest.summary`).
    BACKTEST_FORMATS = ("out_wrap", "out_text", "out_text", "out_text", "pct", "pct", "pct", "out_text",
                        "out_text", "cost", "usd", "usd", "hours", "out_text", "usd", "usd")

    def backtest(self) -> None:
        """Inputs (yours), results and both value lines (written by the backtest), and a chart."""
        from xlhedge.backtest import run_backtest
        from xlhedge.workbook.backtest_sheet import results_rows, series_rows

        ws, f = self.sheets[L.BACKTEST], self.fmt
        self.set_vba_name(ws, "Sheet8")
        _widths(ws, {"A": 34, "B": 13, "C": 2, "D": 48, "E": 46, "F": 2, "G": 12, "H": 14, "I": 14})
        ws.write("A1", "Backtest: would the hedge have worked?", f.title)
        ws.merge_range("A2:I2", "Your Portfolio (coins hedged with their own perpetual) and Settings replayed day by "
                                "day: funding at its real times, rebalancing when the hedged fraction leaves the "
                                "band, fees, and liquidation at your leverage. Click 'Run backtest' (right), or run "
                                "xlhedge backtest xlhedge.xlsm in a terminal.", f.note)
        ws.set_row(1, 32)
        run = run_backtest({"BTC": 5, "ETH": 50}, 100_000)  # the template's sample holdings, on the demo data
        ws.merge_range(f"{L.BACKTEST_STATUS_CELL}:I3", f"Sample result ({run.history.source}). Run it for your "
                                                      "portfolio.", f.status)
        ws.set_row(2, 30)
        ws.set_row(L.BACKTEST_FIRST_ROW - 2, 32)
        hr = L.BACKTEST_FIRST_ROW - 1
        for col, header in (("A", "Input"), ("B", "Value"), ("D", "Result"), ("E", "Value")):
            ws.write(f"{col}{hr}", header, f.header)
        fmts = {"text": f.in_text, "pct": f.in_pct, "pct4": f.in_pct4}
        for item in L.BACKTEST_INPUTS:
            r = L.BACKTEST_INPUT_ROW[item.name]
            ws.write(f"A{r}", item.label, f.text_bold)
            value = item.default
            if value is None:
                ws.write_blank(f"B{r}", None, fmts[item.fmt])
            else:
                ws.write(f"B{r}", value, fmts[item.fmt])
            # the note shows when the cell is selected (a comment would share the button's drawing,
            # which openpyxl rewrites on save, losing the button)
            rule = {"validate": "any"}
            if item.name in ("policy", "data", "top_up"):
                rule = {"validate": "list", "source": {"policy": ["static", "funding", "events"],
                                                       "data": ["demo", "live"], "top_up": ["yes", "no"]}[item.name]}
            ws.data_validation(f"B{r}", {**rule, "input_title": item.label[:32], "input_message": item.note[:255]})
        results = L.BACKTEST_RESULTS
        rows = results_rows(run)
        for i in range(results.last_row - results.first_row + 1):
            r = results.first_row + i
            label, value = rows[i] if i < len(rows) else (None, None)
            if i == 0:
                ws.set_row(r - 1, 30)  # the data source is a sentence
            fmt = getattr(f, self.BACKTEST_FORMATS[i]) if i < len(self.BACKTEST_FORMATS) else f.out_text
            ws.write(f"D{r}", label, f.text_bold)  # None: a formatted blank
            ws.write(f"E{r}", value, fmt)
        series = L.BACKTEST_SERIES
        for _, col, header in series.columns:
            ws.write(f"{col}{hr}", header, f.header)
        data = series_rows(run)
        for i in range(series.last_row - series.first_row + 1):
            r = series.first_row + i
            row = data[i] if i < len(data) else (None, None, None)
            for (key, col, _), value in zip(series.columns, row, strict=True):
                ws.write(f"{col}{r}", value, f.day if key == "date" else f.usd)
        chart = self.wb.add_chart({"type": "line"})
        first, last = series.first_row, series.last_row
        for col, _name, color in (("H", "Unhedged", "#C00000"), ("I", "Hedged", "#1F4E78")):
            chart.add_series({
                "name": f"=Backtest!${col}${hr}",
                "categories": f"=Backtest!$G${first}:$G${last}",
                "values": f"=Backtest!${col}${first}:${col}${last}",
                "line": {"color": color, "width": 1.5},
            })
        chart.set_title({"name": "Portfolio value (USD), unhedged and hedged", "name_font": {"size": 12}})
        chart.set_x_axis({"date_axis": True, "num_format": "yyyy-mm", "label_position": "low", "major_unit": 3,
                          "major_unit_type": "months"})
        chart.set_y_axis({"num_format": "$#,##0", "major_gridlines": {"visible": True}})
        chart.set_legend({"position": "bottom"})
        chart.show_blanks_as("gap")
        chart.set_size({"width": 620, "height": 360})
        ws.insert_chart("K4", chart)
        self.button(ws, "K23", {"macro": vba.REFRESH_MACRO, "caption": "Run backtest", "width": 160, "height": 36})
        ws.freeze_panes(hr, 0)

    # ------------------------------------------------------------------ Funding
    def funding(self) -> None:
        ws, f = self.sheets[L.FUNDING], self.fmt
        self.set_vba_name(ws, "Sheet5")
        snap = sample_snapshot()
        snap["stale"] = L.STALE_SAMPLE
        as_of = snap.attrs["sample_as_of"]
        widths = {"exchange": 11, "symbol": 15, "base": 7, "quote": 7, "margin": 8, "funding_rate": 12,
                  "interval_hours": 8, "apr": 11, "next_funding_time": 16, "predicted_rate": 11, "mark_price": 13,
                  "index_price": 13, "basis": 10, "open_interest_usd": 15, "contract_size": 11, "multiplier": 8,
                  "fetched_at": 16, "stale": 7, "key": 16, "symbol_key": 20}
        _widths(ws, {L.FUNDING_COL[key]: width for key, width in widths.items()})
        last_col = L.FUNDING_COLUMNS[-1][1]
        ws.write("A1", "Funding rates, prices and open interest", f.title)
        ws.write("A2", "Status", f.text_bold)
        how = ("Run 'refresh_market_data' in the xlwings Lite task pane" if self.lite
               else "Click 'Refresh market data' on the Start sheet")
        ws.merge_range(f"B2:{last_col}2", f"SAMPLE data from {as_of:%Y-%m-%d %H:%M} UTC, shipped with xlhedge. "
                                          f"{how} for live data.", f.status)
        ws.set_row(1, 34)
        ws.merge_range(f"A3:{last_col}3", f"SAMPLE DATA from {as_of:%Y-%m-%d %H:%M} UTC, shipped with xlhedge: "
                                          "not live. Positive rate = longs pay shorts (a short hedge earns it).",
                       f.note)
        ws.set_row(2, 30)
        ws.merge_range(f"A4:{L.FUNDING_COL['open_interest_usd']}4",
                       "The hedge uses one contract per exchange and coin: USDT-margined, else USDC-margined, else "
                       "coin-margined (the rows with a 'Lookup key (hedge contract)'). Type a symbol such as BTCUSDC "
                       "in the Portfolio to hedge with that contract instead.", f.note)
        ws.set_row(3, 30)
        hr = L.FUNDING_HEADER_ROW
        for _, col, header in L.FUNDING_COLUMNS:
            ws.write(f"{col}{hr}", header, f.header)
        ws.set_row(hr - 1, 48)
        col_fmt = {"exchange": f.out_text, "symbol": f.out_text, "base": f.out_text, "quote": f.out_text,
                   "margin": f.out_text, "funding_rate": f.rate, "interval_hours": f.hours, "apr": f.apr,
                   "next_funding_time": f.when, "predicted_rate": f.rate, "mark_price": f.price,
                   "index_price": f.price, "basis": f.basis, "open_interest_usd": f.usd, "contract_size": f.size,
                   "multiplier": f.size, "fetched_at": f.when, "stale": f.out_text, "key": f.out_text,
                   "symbol_key": f.out_text}
        rows = table_rows(snap)
        for i in range(L.FUNDING_ROWS):
            r = L.FUNDING_FIRST_ROW + i
            values = rows[i] if i < len(rows) else [None] * len(L.FUNDING_COLUMNS)
            for (key, col, _), value in zip(L.FUNDING_COLUMNS, values, strict=False):
                cell, fmt = f"{col}{r}", col_fmt[key]
                if value is None:
                    ws.write_blank(cell, None, fmt)
                elif isinstance(value, str):
                    ws.write_string(cell, value, fmt)
                elif isinstance(value, dt.datetime):
                    ws.write_datetime(cell, value, fmt)
                else:
                    ws.write_number(cell, value, fmt)
        rng = f"A{L.FUNDING_FIRST_ROW}:{last_col}{L.FUNDING_LAST_ROW}"
        stale = f"${L.FUNDING_COL['stale']}{L.FUNDING_FIRST_ROW}"
        ws.conditional_format(rng, {"type": "formula", "criteria": f'={stale}="yes"', "format": f.stale})
        ws.conditional_format(rng, {"type": "formula", "criteria": f'={stale}="sample"', "format": f.sample})
        self.beta_table(ws)
        self.crowd_table(ws)
        ws.freeze_panes(hr, 0)

    def beta_table(self, ws) -> None:
        """The refresh's second table: betas to BTC of the coins hedged with the BTC perp."""
        f = self.fmt
        self.side_table(ws, L.BETA_TABLE, L.FUNDING_COLUMNS[-1][1], L.BETA_TITLE_CELL,
                        "Betas to BTC (estimated by the refresh from 180 daily closes)", (9, 10, 13, 12, 12, 17, 8),
                        {"base": f.out_text, "beta": f.num, "r2": f.pct, "n": f.hours, "exchange": f.out_text,
                         "estimated_at": f.when, "stale": f.out_text})

    def crowd_table(self, ws) -> None:
        """The refresh's third table: the crowded-longs inputs of each portfolio coin's hedge contract."""
        f = self.fmt
        self.side_table(ws, L.CROWD_TABLE, L.BETA_COLUMNS[-1][1], L.CROWD_TITLE_CELL,
                        "Crowded longs? (measured by the refresh for your hedge contracts)",
                        (15, 10, 7, 14, 10, 13, 17, 8),
                        {"key": f.out_text, "exchange": f.out_text, "base": f.out_text, "funding_percentile": f.pct,
                         "funding_samples": f.hours, "oi_change": f.pct, "measured_at": f.when, "stale": f.out_text})

    def side_table(self, ws, table: L.Table, after: str, title_cell: str, title: str, widths, fmts: dict) -> None:
        """A table the refresh fills beside the Funding table: a gap column after ``after``, a title,
        headers, formatted empty rows, and grey rows when its last column (Stale?) says yes."""
        f = self.fmt
        gap = xl_col_to_name(xl_cell_to_rowcol(f"{after}1")[1] + 1)
        ws.set_column(f"{gap}:{gap}", 3)
        for (_, col, _), width in zip(table.columns, widths, strict=True):
            ws.set_column(f"{col}:{col}", width)
        ws.write(title_cell, title, f.label)
        hr = L.FUNDING_HEADER_ROW
        for _, col, header in table.columns:
            ws.write(f"{col}{hr}", header, f.header)
        for r in range(table.first_row, table.last_row + 1):
            for key, col, _ in table.columns:
                ws.write_blank(f"{col}{r}", None, fmts[key])
        first, last = table.columns[0][1], table.columns[-1][1]
        ws.conditional_format(f"{first}{table.first_row}:{last}{table.last_row}",
                              {"type": "formula", "criteria": f'=${last}{table.first_row}="yes"', "format": f.stale})

    # ------------------------------------------------------------------ Settings
    def settings(self) -> None:
        ws, f = self.sheets[L.SETTINGS], self.fmt
        self.set_vba_name(ws, "Sheet6")
        _widths(ws, {"A": 40, "B": 14, "C": 64, "D": 3, "E": 11, "F:G": 8, "H": 12, "I": 3, "J": 12, "K": 17,
                     "L": 44})
        ws.write("A1", "Settings", f.title)
        for col, header in zip("ABC", ("Setting", "Value", "What it means"), strict=False):
            ws.write(f"{col}{L.SETTINGS_FIRST_ROW - 1}", header, f.header)
        fmts = {"text": f.in_text, "pct": f.in_pct, "pct4": f.in_pct4, "num": f.in_num, "int": f.in_int,
                "usd": f.in_usd}
        for s in L.SETTING_LIST:
            r = L.SETTING_ROW[s.name]
            ws.write(f"A{r}", s.label, f.text_bold)
            ws.write(f"B{r}", s.default, fmts[s.fmt])
            ws.write(f"C{r}", s.note, f.note)
        rules = {
            "Outlook": {"validate": "list", "source": list(L.OUTLOOKS)},
            "Conviction": {"validate": "decimal", "criteria": "between", "minimum": 0, "maximum": 1},
            "FundingAdjust": {"validate": "list", "source": ["yes", "no"]},
            "FundingThreshold": {"validate": "decimal", "criteria": "between", "minimum": 0, "maximum": 0.05},
            "Adjustment": {"validate": "decimal", "criteria": "between", "minimum": 0, "maximum": 1},
            "MaxRatio": {"validate": "decimal", "criteria": "between", "minimum": 0.1, "maximum": 3},
            "Leverage": {"validate": "decimal", "criteria": "between", "minimum": 1, "maximum": 125},
            "MaintenanceMargin": {"validate": "decimal", "criteria": "between", "minimum": 0, "maximum": 0.2},
            "HorizonDays": {"validate": "decimal", "criteria": "between", "minimum": 0, "maximum": 3650},
            "RebalanceBand": {"validate": "decimal", "criteria": "between", "minimum": 0, "maximum": 1},
            "DefaultExchange": {"validate": "list", "source": list(L.EXCHANGES)},
            "EventRule": {"validate": "list", "source": ["yes", "no"]},
            "EventDaysBefore": {"validate": "decimal", "criteria": "between", "minimum": 0, "maximum": 60},
            "EventHoursAfter": {"validate": "decimal", "criteria": "between", "minimum": 0, "maximum": 720},
            "EventFloor": {"validate": "decimal", "criteria": "between", "minimum": 0, "maximum": 1},
            "BasisWarn": {"validate": "decimal", "criteria": "between", "minimum": 0, "maximum": 1},
            "R2Warn": {"validate": "decimal", "criteria": "between", "minimum": 0, "maximum": 1},
            "CrowdedRule": {"validate": "list", "source": ["yes", "no"]},
            "CrowdedBump": {"validate": "decimal", "criteria": "between", "minimum": 0, "maximum": 1},
            "CrowdedPercentile": {"validate": "decimal", "criteria": "between", "minimum": 0, "maximum": 1},
            "CrowdedOIRise": {"validate": "decimal", "criteria": "between", "minimum": -1, "maximum": 10},
        }  # RefreshExchanges is free text (a list); the refresh says which names it does not know
        for name, rule in rules.items():
            ws.data_validation(f"B{L.SETTING_ROW[name]}", {
                **rule, "error_title": "Not allowed here",
                "error_message": next(s.note for s in L.SETTING_LIST if s.name == name)[:255]})
        top = L.SETTINGS_FIRST_ROW - 3
        ws.write(f"E{top}", "Outlook bands", f.subtitle)
        for col, header in zip("EFGH", ("Outlook", "Low", "High", "At your conviction"), strict=False):
            ws.write(f"{col}{top + 2}", header, f.header)
        from xlhedge.engine.ratios import OUTLOOK_BANDS

        for i, (name, (low, high)) in enumerate(OUTLOOK_BANDS.items()):
            r = top + 3 + i
            ws.write(f"E{r}", name, f.out_text)
            ws.write(f"F{r}", low, f.pct)
            ws.write(f"G{r}", high, f.pct)
        first = top + 3
        self.column_formula(L.SETTINGS, "H", first, first + len(OUTLOOK_BANDS) - 1, "=HEDGE_RATIO({E},Conviction)",
                            f.pct)
        foot = L.SETTINGS_FIRST_ROW + len(L.SETTING_LIST) + 1
        ws.merge_range(f"A{foot}:C{foot}", "The funding adjustment is applied on the Hedge sheet, per coin, to "
                                           "the short's carry cost: -rate x 8 / interval hours (a positive "
                                           "rate pays the short, so it is a negative cost).", f.note)
        ws.set_row(foot - 1, 32)
        ws.set_row(top + 1, 32)
        self.events_table(ws, top)
        ws.protect("", {"format_columns": True})

    def events_table(self, ws, top: int) -> None:
        """Scheduled events (UTC) beside the settings: the shipped FOMC decisions, then rows for yours."""
        from xlhedge.engine.events import shipped_events

        f = self.fmt
        name_col, when_col, source_col = L.EVENTS_COLUMNS
        ws.write(f"{name_col}{top}", "Events (UTC)", f.subtitle)
        for col, header in zip(L.EVENTS_COLUMNS, ("Event", "When (UTC)", "Source / note"), strict=False):
            ws.write(f"{col}{top + 2}", header, f.header)
        shipped = shipped_events()
        for i in range(L.EVENTS_ROWS):
            r = L.EVENTS_FIRST_ROW + i
            if i < len(shipped):
                e = shipped[i]
                ws.write_string(f"{name_col}{r}", e.name, f.in_text)
                ws.write_datetime(f"{when_col}{r}", e.time.astype("datetime64[us]").item(), f.in_when)
                ws.write_string(f"{source_col}{r}", f"Federal Reserve schedule ({e.source})", f.in_text)
            else:
                for col, fmt in zip(L.EVENTS_COLUMNS, (f.in_text, f.in_when, f.in_text), strict=False):
                    ws.write_blank(f"{col}{r}", None, fmt)
        ws.data_validation(f"{when_col}{L.EVENTS_FIRST_ROW}:{when_col}{L.EVENTS_LAST_ROW}", {
            "validate": "date", "criteria": "between", "minimum": dt.date(2000, 1, 1),
            "maximum": dt.date(2100, 1, 1), "error_title": "Not a date",
            "error_message": "Type a date and time in UTC, e.g. 2027-03-02 12:00."})

    # ------------------------------------------------------------------ xlwings.conf
    def conf(self) -> None:
        ws, f = self.sheets[L.CONF], self.fmt
        self.set_vba_name(ws, "Sheet7")
        _widths(ws, {"A": 22, "B": 28, "C": 2, "D": 90})
        ws.write("A1", "UDF Modules", f.out_text)
        ws.write("B1", L.UDF_MODULES, f.in_text)
        ws.write("D1", "The Python module with the xlhedge formulas (used by 'Enable functions').", f.note)
        ws.write("A2", "USE UDF SERVER", f.out_text)
        ws.write_string("B2", "False", f.in_text)
        ws.write("D2", "Keep False: Refresh then starts its own Python even if 'Use UDF Server' is on.", f.note)
        keys = (
            ("_Interpreter_Win", "Path to python.exe of the xlhedge install (the installer sets it for you)."),
            ("_Interpreter_Mac", "Path to the python of the xlhedge install on a Mac."),
            ("_PYTHONPATH", "Extra folders for Python, separated by ;"),
            ("_Conda Path", "Only if you use conda instead of the installer."),
            ("_Conda Env", "Only if you use conda instead of the installer."),
        )
        for i, (key, note) in enumerate(keys, start=3):
            ws.write(f"A{i}", key, f.out_text)
            ws.write_blank(f"B{i}", None, f.in_text)
            ws.write(f"D{i}", note, f.note)
        ws.write(f"D{len(keys) + 4}", "Keys starting with '_' are switched off. To override the installer's "
                                      "setting for this workbook only, fill in the value and remove the '_'. "
                                      "An empty key without '_' would override it with nothing.", f.note)
        ws.set_row(len(keys) + 3, 32)


