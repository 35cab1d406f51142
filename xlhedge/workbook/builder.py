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
from xlsxwriter.utility import xl_cell_to_rowcol

from xlhedge import udfs
from xlhedge.engine.venues import BEST as BEST_VENUE
from xlhedge.version import __version__
from xlhedge.workbook import layout as L
from xlhedge.workbook import spec, vba
from xlhedge.workbook.arrays import array_key
from xlhedge.workbook.data_sheets import DataSheets
from xlhedge.workbook.formats import Formats, set_widths
from xlhedge.workbook.result_sheets import ResultSheets
from xlhedge.workbook.stored import StoredNumbersWorksheet

CREATED = dt.datetime(2026, 11, 1, 0, 0, 0)

SAMPLE_PORTFOLIO = (  # the article's defensive example (5 BTC, 50 ETH, cash), valued at the live marks
    {"asset": "BTC", "quantity": 5, "hedge_with": L.OWN_PERP, "current_short": 0},
    {"asset": "ETH", "quantity": 50, "hedge_with": L.OWN_PERP, "current_short": 0},
)
SAMPLE_CASH = 100000


def _absolute(cells: str) -> str:
    """A range with its rows and columns fixed: "A1:K40" -> "$A$1:$K$40"."""
    return re.sub(r"([A-Z]+)(\d+)", r"$\1$\2", cells)


def _f(values: dict | None, sheet: str, cell: str):
    """Cached value for a formula cell, from a previous evaluation (0 when unknown)."""
    if values is None:
        return 0
    value = values.get((sheet, cell))
    return "" if value is None else value


#: A call of one of the xlhedge functions in a formula (for the Lite edition's ``_xldudf_`` names).
_UDF_CALL = re.compile(r"(?<![A-Za-z_.])(" + "|".join(sorted(udfs.UDFS, key=len, reverse=True)) + r")\(")


class TemplateBuilder(DataSheets, ResultSheets):
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
        self.fmt = Formats(self.wb)
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

    def column_formula(self, sheet: str, col: str, first: int, last: int, text: str, fmt) -> None:
        """One legacy array formula ({=...}) over ``col first:last``: each xlhedge function in it is
        called once for the whole column. Every cell gets its cached value."""
        ref = f"{col}{first}:{col}{last}"
        self.written[(sheet, f"{col}{first}")] = array_key(text, ref)
        ws = self.sheets[sheet]
        if self.lite:  # as Excel stores a formula over custom functions: a dynamic array, spilled
            ws.write_dynamic_array_formula(ref, self.stored(text), fmt, _f(self.values, sheet, f"{col}{first}"))
        else:  # classic xlwings: a legacy array formula, which every Excel version keeps
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
        for name, (sheet, col, first, last) in spec.RANGES.items():
            wb.define_name(name, f"={sheet}!${col}${first}:${col}${last}")
        name, sheet, name_col, when_col, first, last = spec.EVENT_RANGE
        wb.define_name(name, f"={sheet}!${name_col}${first}:${when_col}${last}")
        self.start()
        self.portfolio()
        self.hedge()
        self.venues()
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
    HEDGE_PAGE_STARTS = tuple(spec.HEDGE_COL[key] for key in (
        "asset", "symbol", "contracts", "funding_cost", "btc_exposure", "check"))
    HEDGE_PRINT_SCALE = 80  # percent: the widest page (A:K) still fits A4 landscape
    #: The Venues sheet prints its first coins' venues on three pages: the funding, then the cost and the
    #: order rules, then the order (coin and venue repeated); ``xlhedge venues`` prints every coin.
    VENUE_PAGE_STARTS = tuple(spec.VENUE_COL[key] for key in ("coin", "open_interest", "order"))
    VENUE_PRINT_COINS = 5
    VENUE_PRINT_SCALE = 62
    #: The Funding sheet prints on four pages: the rates and prices, then the contracts' order rules (their
    #: lookup key names each row), then the betas, then the crowded-longs measures.
    FUNDING_PAGE_STARTS = ("A", L.FUNDING_COL["contract_size"], L.BETA_COLUMNS[0][1], L.CROWD_COLUMNS[0][1])
    FUNDING_PRINT_ROWS = 40
    FUNDING_PRINT_SCALE = 67  # percent: the title, notes, headers and 40 rows on one A4 landscape page

    @classmethod
    def page_starts(cls, sheet: str) -> tuple[str, ...]:
        """The columns ``sheet``'s printed pages start at (the Hedge, Venues and Funding sheets; the others
        print on one page: ("A",))."""
        return {L.HEDGE: cls.HEDGE_PAGE_STARTS, L.VENUES: cls.VENUE_PAGE_STARTS,
                L.FUNDING: cls.FUNDING_PAGE_STARTS}.get(sheet, ("A",))

    @classmethod
    def first_page_end(cls, sheet: str) -> str:
        """The last column of the Hedge, Venues or Funding sheet's first printed page: the sheet's notes wrap
        within it, so that they read whole on screen and on that page, and the later pages (which start at the
        column headers) show no slice of them."""
        return L.letter(L.position(cls.page_starts(sheet)[1]) - 1)

    @classmethod
    def printed_pages(cls, sheet: str) -> int:
        """How many pages ``sheet`` prints on (one, but the Hedge, Venues and Funding sheets)."""
        return len(cls.page_starts(sheet))

    def page_setup(self) -> None:
        """Landscape A4 with print areas, what a printout (or a PDF) shows: one page a sheet, but the Hedge,
        Venues and Funding sheets, which print a page from each of their page starts."""
        venue_rows = L.VENUE_FIRST_ROW + self.VENUE_PRINT_COINS * L.VENUES_PER_COIN - 1
        areas = {
            "Start": "A1:E34",
            L.PORTFOLIO: f"A1:J{L.CASH_ROW + 1}",
            L.SCENARIOS: f"A1:P{L.SCENARIO_FIRST_ROW + len(L.SCENARIO_MOVES) + 2}",
            L.BACKTEST: f"A1:U{L.BACKTEST_RESULTS.last_row + 2}",
            L.SETTINGS: f"A1:L{max(L.TIER_LAST_ROW, L.EVENTS_LAST_ROW)}",
            L.CONF: "A1:D9",
        }
        # the Hedge, Venues and Funding sheets print their first page from the title down and the others from
        # the column headers (the side tables' titles) down: ranges that each start a page, so that no later page
        # shows a slice of the title or the notes
        hedge_header, hedge_total = L.HEDGE_FIRST_ROW - 1, L.HEDGE_TOTAL_ROW
        venue_header, funding_rows = L.VENUE_FIRST_ROW - 1, L.FUNDING_FIRST_ROW + self.FUNDING_PRINT_ROWS
        split = {
            L.HEDGE: (f"A1:{self.first_page_end(L.HEDGE)}{hedge_total + 2}",
                      f"{self.HEDGE_PAGE_STARTS[1]}{hedge_header}:{spec.HEDGE_LAST_COL}{hedge_total}"),
            L.VENUES: (f"A1:{self.first_page_end(L.VENUES)}{venue_rows}",
                       f"{self.VENUE_PAGE_STARTS[1]}{venue_header}:{spec.VENUE_COL['best']}{venue_rows}"),
            L.FUNDING: (f"A1:{self.first_page_end(L.FUNDING)}{funding_rows}",
                        f"{self.FUNDING_PAGE_STARTS[1]}{L.FUNDING_HEADER_ROW}:{L.FUNDING_COLUMNS[-1][1]}{funding_rows}",
                        f"{L.BETA_TITLE_CELL}:{L.BETA_COLUMNS[-1][1]}{funding_rows}",
                        f"{L.CROWD_TITLE_CELL}:{L.CROWD_COLUMNS[-1][1]}{funding_rows}"),
        }
        for name, ws in self.sheets.items():  # (the Lite edition has no xlwings.conf sheet)
            ws.set_landscape()
            ws.set_paper(9)  # A4
            if name == L.HEDGE:
                ws.set_print_scale(self.HEDGE_PRINT_SCALE)
                ws.set_v_pagebreaks([xl_cell_to_rowcol(f"{c}1")[1] for c in self.HEDGE_PAGE_STARTS[1:]])
                ws.repeat_columns("A:A")
                ws.repeat_rows(L.HEDGE_FIRST_ROW - 2)  # the column headers
            elif name == L.VENUES:
                ws.set_print_scale(self.VENUE_PRINT_SCALE)
                ws.set_v_pagebreaks([xl_cell_to_rowcol(f"{c}1")[1] for c in self.VENUE_PAGE_STARTS[1:]])
                ws.repeat_columns(f"A:{spec.VENUE_COL['exchange']}")
                ws.repeat_rows(L.VENUE_FIRST_ROW - 2)
            elif name == L.FUNDING:
                ws.set_print_scale(self.FUNDING_PRINT_SCALE)
            else:
                ws.fit_to_pages(1, 1 if name in (L.SCENARIOS, L.PORTFOLIO, L.CONF, L.SETTINGS, L.BACKTEST,
                                                 "Start") else 0)
            if name in split:
                self.wb.define_name(f"{name}!_xlnm.Print_Area",
                                    ",".join(f"{name}!{_absolute(part)}" for part in split[name]))
            else:
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
        set_widths(ws, {"A": 2, "B": 92, "C": 3, "D": 34})
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
            ("3. Hedge sheet: read how much to short per coin and the order to place, in that exchange's "
             "own contracts (an OKX BTC contract is 0.01 BTC, a MEXC one 0.0001 BTC; below its minimum the "
             "order says so), the margin, liquidation price and funding. Scenarios shows what a price move "
             "does with and without the hedge.", f.text, 46),
            ("Settings: pick your outlook (bearish, neutral, bullish) and conviction; the hedge ratio "
             "follows. Yellow cells are yours to change; everything else is calculated.", f.text, 32),
            ("Funding: who pays whom", f.subtitle, 20),
            ("Exchanges publish a funding rate per interval (often 8 hours, sometimes 4 or 1). A "
             "POSITIVE rate means longs pay shorts, so your short hedge EARNS it. A NEGATIVE rate "
             "means shorts pay longs: then the hedge costs you. On the Hedge sheet a funding cost "
             "below zero is money you receive.", f.text, 62),
            ("When the short costs more than the threshold in Settings, the hedge ratio is trimmed; "
             "when it is paid well, the ratio may be raised up to the maximum ratio.", f.text, 32),
            ("Where to short", f.subtitle, 20),
            ("Venues compares every exchange for each coin at one size: funding per 8 hours (venues pay every "
             "1, 4 or 8 hours, so raw rates mislead), the cost over your horizon with the taker fees to open "
             "and close (Settings), the order in that venue's units and whether it meets its minimum. 'best' "
             "marks the cheapest that does, if your short stays under 1% of its open interest; type 'best' as "
             "a Portfolio row's exchange to use it.", f.text, 62),
            ("Hedging an altcoin with BTC", f.subtitle, 20),
            ("An altcoin with a beta of 2 moves about twice as much as BTC. To offset it with BTC "
             "perpetuals you need about $2 of BTC short for every $1 of the coin, not $0.50. The "
             "hedge only removes the part of the coin's moves that follows BTC: the Hedge sheet's R² is "
             "that share, and below 0.5 its Check column says the cross-hedge is weak.", f.text, 48),
            ("Leverage and liquidation", f.subtitle, 20),
            ("Your coins do not protect the short from liquidation: only the margin you post does. "
             "If the price rises to the liquidation price, the short is closed and the coins are "
             "unhedged and the margin is lost. Low leverage (2x-3x) keeps that price far away; the "
             "Scenarios sheet marks the price rises that would liquidate it. A larger short is liquidated "
             "sooner: exchanges ask more maintenance margin in higher tiers, and the sheets use your venue's "
             "(Settings > Maintenance tiers, else what the refresh fetched, else the flat rate).", f.warn, 96),
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
                 "without installing Python. The first time: open the xlwings Lite pane (its button on the Home "
                 "tab; until it has run once, formula cells show #NAME?), trust the workbook when asked, and "
                 "recalculate (Ctrl+Alt+F9) if a cell still shows #NAME?. In the pane, run 'refresh_market_data' "
                 "for live rates (from the exchanges your browser may reach; the status names any it could not: "
                 "refresh those with 'xlhedge refresh' on a computer with Python, or use the desktop edition) and "
                 "'backtest' for the Backtest sheet.", f.text, 122),
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
        ws.write("A1", "Portfolio: what you hold", f.title)
        last_col = spec.PORTFOLIO_COL[spec.PORTFOLIO_COLUMNS[-1].key]
        ws.merge_range(f"A2:{last_col}2", "Type in the yellow cells. Asset: a coin (BTC), or an exchange's symbol "
                                "(BTCUSDC) to hedge with that contract. Value at: leave it empty to value the coins "
                                "at the live mark (Funding sheet); a number overrides the mark for the value and "
                                "the contracts alike. Hedge with 'BTC perp' for coins without a good "
                                "perpetual; type their beta to BTC, or leave it empty and the refresh "
                                "estimates it from 180 days of prices. Exchange: where the short is held (blank: "
                                "the Settings default; best: the cheapest venue on the Venues sheet).", f.note)
        ws.set_row(1, 46)
        self.table_header(L.PORTFOLIO, L.PORTFOLIO_HEADER_ROW)
        first, last = L.PORTFOLIO_FIRST_ROW, L.PORTFOLIO_LAST_ROW
        col = spec.PORTFOLIO_COL
        for i in range(L.PORTFOLIO_ROWS):
            r = first + i
            sample = SAMPLE_PORTFOLIO[i] if i < len(SAMPLE_PORTFOLIO) else {}
            for column in spec.PORTFOLIO_COLUMNS:
                if column.formula is not None:
                    continue
                value = sample.get(column.key)
                if value is None:
                    ws.write_blank(f"{col[column.key]}{r}", None, getattr(f, column.fmt))
                else:
                    ws.write(f"{col[column.key]}{r}", value, getattr(f, column.fmt))
        self.table_formulas(L.PORTFOLIO)
        cash = L.CASH_ROW
        end = spec.letter(list(col).index("spot_value") - 1)  # the labels end beside the values
        ws.merge_range(f"A{cash}:{end}{cash}", "Cash / stablecoins (not hedged)", f.total_label)
        ws.write(spec.CASH_CELL, SAMPLE_CASH, f.in_usd)
        ws.merge_range(f"A{cash + 1}:{end}{cash + 1}", "Total portfolio", f.total_label)
        self.single_cell("portfolio_total")
        for key, choices in (("hedge_with", L.HEDGE_WITH), ("exchange", L.ROW_EXCHANGES)):
            ws.data_validation(f"{col[key]}{first}:{col[key]}{last}", {"validate": "list", "source": list(choices)})
        for key in ("quantity", "typed_price", "current_short"):
            ws.data_validation(f"{col[key]}{first}:{col[key]}{last}", {
                "validate": "decimal", "criteria": ">=", "value": 0,
                "error_title": "Not a valid amount", "error_message": "Type a number of 0 or more."})
        ws.data_validation(f"{col['beta']}{first}:{col['beta']}{last}", {
            "validate": "decimal", "criteria": "between", "minimum": -20, "maximum": 20,
            "error_title": "Not a valid beta", "error_message": "Beta is a number, typically 0.5 to 3."})
        ws.data_validation(spec.CASH_CELL, {"validate": "decimal", "criteria": ">=", "value": 0})
        ws.freeze_panes(L.PORTFOLIO_HEADER_ROW, 1)
        ws.protect("", {"format_columns": True, "format_rows": True})

    def table_header(self, sheet: str, row: int, height: float = 48) -> None:
        """A table's column headers (row ``row``) and widths, from the specification."""
        ws, letters = self.sheets[sheet], spec.TABLES[sheet][2]
        for column in spec.columns(sheet):
            col = letters[column.key]
            ws.set_column(f"{col}:{col}", column.width)
            ws.write(f"{col}{row}", column.header, self.fmt.header)
        ws.set_row(row - 1, height)

    def table_formulas(self, sheet: str) -> None:
        """Every formula column of a table, from the specification: one formula per row, or one array
        formula for the column (the columns that call Python: a full recalculation calls each function
        once for all rows; a bad row still gets its own message, see udfs.xl_udf). Then the totals."""
        first, rows, letters = spec.TABLES[sheet]
        for column in spec.columns(sheet):
            if column.formula is None:
                continue
            fmt, col = getattr(self.fmt, column.fmt), letters[column.key]
            if column.array:
                self.column_formula(sheet, col, first, first + rows - 1,
                                    "=" + column.formula.excel(spec.where(sheet, None)), fmt)
            else:
                for i in range(rows):
                    self.formula(sheet, f"{col}{first + i}", "=" + column.formula.excel(spec.where(sheet, i)), fmt)

    def single_cell(self, key: str) -> None:
        """One of the specification's single formula cells."""
        cell = spec.SINGLE_CELL[key]
        self.formula(cell.sheet, cell.ref, "=" + cell.formula.excel(spec.where(cell.sheet, None)),
                     getattr(self.fmt, cell.fmt))

    # ------------------------------------------------------------------ Hedge

    def hedge(self) -> None:
        ws, f = self.sheets[L.HEDGE], self.fmt
        self.set_vba_name(ws, "Sheet3")
        ws.write("A1", "Hedge plan", f.title)
        page = self.first_page_end(L.HEDGE)
        ws.merge_range(f"A2:{page}2",
                       "Everything here is calculated from Portfolio, Settings and Funding. Short "
                                "notional = spot value x hedge ratio (x beta for coins hedged with BTC), at the "
                                "same price as the spot value, so a 40% hedge shorts 40% of the coins you hold. "
                                "Contracts are rounded down, so you never short more than planned.", f.note)
        ws.set_row(1, 32)  # two lines across the first printed page
        self.single_cell("event_note")
        self.table_header(L.HEDGE, L.HEDGE_FIRST_ROW - 1, height=62)
        self.table_formulas(L.HEDGE)
        t, first = L.HEDGE_TOTAL_ROW, L.HEDGE_FIRST_ROW
        ws.write(f"A{t}", "Total", f.total_label)
        for column in spec.HEDGE_COLUMNS[1:]:
            cell = f"{spec.HEDGE_COL[column.key]}{t}"
            if column.total is None:
                ws.write_blank(cell, None, f.total_blank)
            else:
                self.formula(L.HEDGE, cell, "=" + column.total.excel(spec.where(L.HEDGE, None)),
                             getattr(f, column.total_fmt))
        col = spec.HEDGE_COL
        ws.merge_range(f"A{t + 2}:{page}{t + 2}",
                       f"Overall ratio ({col['hedge_ratio']}) = total short / total spot. Funding cost > 0 "
                       "means you pay, < 0 (green) means the short is paid. Rebalance > 0: add to the short; "
                       f"< 0: buy back. Hedged fraction ({col['hedged_fraction']}) = what the rounded contracts "
                       "cover: coins short / coins held (for BTC perp: short / BTC-equivalent exposure). A rise "
                       f"beyond {col['liquidation_rise']} liquidates the short: it is closed and its margin lost "
                       "(see Scenarios). R²: the share of a coin's moves BTC explains (1 = all; below the "
                       "Settings minimum the BTC short protects little).", f.note)
        ws.set_row(t + 1, 64)  # four lines across the first printed page
        self.color_costs(ws, f"{col['funding_cost']}{first}:{col['funding_cost']}{t}")
        ws.freeze_panes(L.HEDGE_FIRST_ROW - 1, 1)
        ws.protect("", {"format_columns": True, "format_rows": True})

    def color_costs(self, ws, rng: str) -> None:
        """Funding costs: red when you pay (> 0), green when the short is paid (< 0)."""
        ws.conditional_format(rng, {"type": "cell", "criteria": ">", "value": 0, "format": self.fmt.pays})
        ws.conditional_format(rng, {"type": "cell", "criteria": "<", "value": 0, "format": self.fmt.earns})

    # ------------------------------------------------------------------ Venues
    def venues(self) -> None:
        """Where to short: every venue's terms for each Portfolio coin, the best one marked."""
        ws, f = self.sheets[L.VENUES], self.fmt
        self.set_vba_name(ws, "Sheet9")
        col = spec.VENUE_COL
        ws.write("A1", "Venues: where to short each coin", f.title)
        ws.merge_range(f"A2:{self.first_page_end(L.VENUES)}2",
                       "One row per exchange for each coin on the Portfolio sheet, all at one size: your "
                       "outlook's hedge ratio (B3). Funding is compared per 8 hours, since venues pay every 1, 4 "
                       "or 8 hours. The cost over the horizon (Settings) is funding plus the taker fee to open "
                       "and to close (fees: Settings). Each order is the Hedge sheet's coins in that venue's "
                       "units. 'best': the cheapest venue whose order meets its minimum "
                       "and whose short stays within the Settings share of its open interest. Type 'best' as a "
                       "Portfolio row's exchange to short there.", f.note)
        ws.set_row(1, 46)
        cell = spec.SINGLE_CELL["venue_ratio"]
        before = L.letter(L.position(cell.ref.rstrip("0123456789")) - 1)
        ws.merge_range(f"A{cell.ref[1:]}:{before}{cell.ref[1:]}", cell.label, f.text_bold)
        self.single_cell("venue_ratio")
        self.table_header(L.VENUES, L.VENUE_FIRST_ROW - 1, height=62)
        self.table_formulas(L.VENUES)
        first = L.VENUE_FIRST_ROW
        self.color_costs(ws, f"{col['net_cost']}{first}:{col['net_cost']}{L.VENUE_LAST_ROW}")
        best = col["best"]
        ws.conditional_format(f"A{first}:{best}{L.VENUE_LAST_ROW}", {
            "type": "formula", "criteria": f'=${best}{first}="{BEST_VENUE}"', "format": f.best})
        ws.freeze_panes(first - 1, 2)
        ws.protect("", {"format_columns": True, "format_rows": True})
