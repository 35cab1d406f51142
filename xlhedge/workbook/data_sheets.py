"""The sheets that hold data and settings: Funding (the refresh's tables, with the sample data),
Settings (with the Events table) and xlwings.conf. Written by :class:`xlhedge.workbook.builder.TemplateBuilder`,
which this class is a part of."""

from __future__ import annotations

import datetime as dt

from xlsxwriter.utility import xl_cell_to_rowcol, xl_col_to_name

from xlhedge.engine.ratios import OUTLOOK_BANDS
from xlhedge.market.sample import sample_snapshot
from xlhedge.workbook import layout as L
from xlhedge.workbook import spec
from xlhedge.workbook.formats import plain_above, set_widths
from xlhedge.workbook.tables import table_rows


class DataSheets:
    """Funding, Settings and xlwings.conf (needs the builder's ``sheets``, ``fmt``, ``button``, ``formula``,
    ``set_vba_name`` and ``values``)."""

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
                  "fetched_at": 16, "stale": 7, "key": 16, "symbol_key": 20, "lot_step": 10, "min_qty": 10,
                  "min_notional": 10, "max_leverage": 8, "maintenance_tiers": 40}
        last_col = L.FUNDING_COLUMNS[-1][1]
        plain_above(ws, f.plain, L.FUNDING_HEADER_ROW, "A", L.CROWD_COLUMNS[-1][1])
        ws.write("A1", "Funding rates, prices and open interest", f.title)
        ws.write("A2", "Status", f.text_bold)
        how = ("Run 'refresh_market_data' in the xlwings Lite task pane" if self.lite
               else "Click 'Refresh market data' on the Start sheet")
        page = self.first_page_end(L.FUNDING)  # the notes wrap within the first printed page
        ws.merge_range(f"B2:{page}2", f"SAMPLE data from {as_of:%Y-%m-%d %H:%M} UTC, shipped with xlhedge. "
                                          f"{how} for live data.", f.status)
        ws.set_row(1, 46)  # three lines: a refresh names every exchange and what it gave
        ws.merge_range(f"A3:{page}3", f"SAMPLE DATA from {as_of:%Y-%m-%d %H:%M} UTC, shipped with xlhedge: "
                                          "not live. Positive rate = longs pay shorts (a short hedge earns it).",
                       f.note)
        ws.set_row(2, 30)
        ws.merge_range(f"A4:{page}4",
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
                   "symbol_key": f.out_text, "lot_step": f.size, "min_qty": f.size, "min_notional": f.usd,
                   "max_leverage": f.size, "maintenance_tiers": f.out_text}
        for key, col, _ in L.FUNDING_COLUMNS:  # the format is the column's: the refresh's cells take it
            ws.set_column(f"{col}:{col}", widths[key], col_fmt[key])
        for i, values in enumerate(table_rows(snap)[: L.FUNDING_ROWS]):
            r = L.FUNDING_FIRST_ROW + i
            for (key, col, _), value in zip(L.FUNDING_COLUMNS, values, strict=False):
                cell, fmt = f"{col}{r}", col_fmt[key]
                if value is None:
                    continue
                if isinstance(value, str):
                    ws.write_string(cell, value, fmt)
                elif isinstance(value, dt.datetime):
                    ws.write_datetime(cell, value, fmt)
                else:
                    ws.write_number(cell, value, fmt)
        # a space in the empty column after the table: Excel and LibreOffice run a long text (the tiers) on over
        # empty cells only, so it stops at its own column instead of running across the tables beside it
        gap = L.letter(L.position(last_col) + 1)
        for r in range(L.FUNDING_FIRST_ROW, L.FUNDING_LAST_ROW + 1):
            ws.write_string(f"{gap}{r}", " ", f.plain)
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
        headers, formatted columns, and grey rows when its last column (Stale?) says yes."""
        f = self.fmt
        gap = xl_col_to_name(xl_cell_to_rowcol(f"{after}1")[1] + 1)
        ws.set_column(f"{gap}:{gap}", 3)
        for (key, col, _), width in zip(table.columns, widths, strict=True):
            ws.set_column(f"{col}:{col}", width, fmts[key])  # the refresh's cells take the column's format
        ws.write(title_cell, title, f.label)
        hr = L.FUNDING_HEADER_ROW
        for _, col, header in table.columns:
            ws.write(f"{col}{hr}", header, f.header)
        first, last = table.columns[0][1], table.columns[-1][1]
        ws.conditional_format(f"{first}{table.first_row}:{last}{table.last_row}",
                              {"type": "formula", "criteria": f'=${last}{table.first_row}="yes"', "format": f.stale})

    # ------------------------------------------------------------------ Settings
    def settings(self) -> None:
        ws, f = self.sheets[L.SETTINGS], self.fmt
        self.set_vba_name(ws, "Sheet6")
        set_widths(ws, {"A": 40, "B": 14, "C": 64, "D": 3, "I": 3, "J": 12, "K": 17,
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
            "FundingAdjust": {"validate": "list", "source": list(L.YES_NO)},
            "FundingThreshold": {"validate": "decimal", "criteria": "between", "minimum": 0, "maximum": 0.05},
            "Adjustment": {"validate": "decimal", "criteria": "between", "minimum": 0, "maximum": 1},
            "MaxRatio": {"validate": "decimal", "criteria": "between", "minimum": 0.1, "maximum": 3},
            "Leverage": {"validate": "decimal", "criteria": "between", "minimum": 1, "maximum": 125},
            "MaintenanceMargin": {"validate": "decimal", "criteria": "between", "minimum": 0, "maximum": 0.2},
            "HorizonDays": {"validate": "decimal", "criteria": "between", "minimum": 0, "maximum": 3650},
            "RebalanceBand": {"validate": "decimal", "criteria": "between", "minimum": 0, "maximum": 1},
            "DefaultExchange": {"validate": "list", "source": list(L.EXCHANGES)},
            "EventRule": {"validate": "list", "source": list(L.YES_NO)},
            "EventDaysBefore": {"validate": "decimal", "criteria": "between", "minimum": 0, "maximum": 60},
            "EventHoursAfter": {"validate": "decimal", "criteria": "between", "minimum": 0, "maximum": 720},
            "EventFloor": {"validate": "decimal", "criteria": "between", "minimum": 0, "maximum": 1},
            "BasisWarn": {"validate": "decimal", "criteria": "between", "minimum": 0, "maximum": 1},
            "R2Warn": {"validate": "decimal", "criteria": "between", "minimum": 0, "maximum": 1},
            "CrowdedRule": {"validate": "list", "source": list(L.YES_NO)},
            "CrowdedBump": {"validate": "decimal", "criteria": "between", "minimum": 0, "maximum": 1},
            "CrowdedPercentile": {"validate": "decimal", "criteria": "between", "minimum": 0, "maximum": 1},
            "CrowdedOIRise": {"validate": "decimal", "criteria": "between", "minimum": -1, "maximum": 10},
        }  # RefreshExchanges is free text (a list); the refresh says which names it does not know
        for name, rule in rules.items():
            ws.data_validation(f"B{L.SETTING_ROW[name]}", {
                **rule, "error_title": "Not allowed here",
                "error_message": next(s.note for s in L.SETTING_LIST if s.name == name)[:255]})
        top = L.SETTINGS_FIRST_ROW - 3  # the outlook bands beside the settings, from the specification
        band = spec.BAND_COL
        ws.write(f"{band['outlook']}{top}", "Outlook bands", f.subtitle)
        self.table_header(L.SETTINGS, top + 2, height=32)
        for i, (name, (low, high)) in enumerate(OUTLOOK_BANDS.items()):
            r = L.SETTINGS_FIRST_ROW + i
            ws.write(f"{band['outlook']}{r}", name, f.out_text)
            ws.write(f"{band['low']}{r}", low, f.pct)
            ws.write(f"{band['high']}{r}", high, f.pct)
        self.table_formulas(L.SETTINGS)
        foot = L.SETTINGS_FIRST_ROW + len(L.SETTING_LIST) + 1
        ws.merge_range(f"A{foot}:C{foot}", "The funding adjustment is applied on the Hedge sheet, per coin, to "
                                           "the short's carry cost: -rate x 8 / interval hours (a positive "
                                           "rate pays the short, so it is a negative cost).", f.note)
        ws.set_row(foot - 1, 32)
        self.fee_table(ws)
        self.tier_table(ws)
        self.events_table(ws, top)
        ws.protect("", {"format_columns": True})

    def fee_table(self, ws) -> None:
        """Each exchange's taker fee under the settings (the Venues sheet's fees): yours to edit, with where
        the shipped value was read."""
        from xlhedge.market.exchanges import REGISTRY

        f = self.fmt
        name_col, fee_col, source_col = L.FEE_COLUMNS
        ws.write(f"{name_col}{L.FEE_TITLE_ROW}", "Taker fees (per trade, fraction of the notional)", f.subtitle)
        for col, header in zip(L.FEE_COLUMNS, ("Exchange", "Taker fee", "Source (edit the fee if yours differs)"),
                               strict=True):
            ws.write(f"{col}{L.FEE_FIRST_ROW - 1}", header, f.header)
        for i, name in enumerate(L.EXCHANGES):
            r = L.FEE_FIRST_ROW + i
            ws.write_string(f"{name_col}{r}", name, f.out_text)
            ws.write_number(f"{fee_col}{r}", REGISTRY[name].taker_fee, f.in_pct4)
            ws.write_string(f"{source_col}{r}", REGISTRY[name].fee_source, f.note)
        ws.data_validation(f"{fee_col}{L.FEE_FIRST_ROW}:{fee_col}{L.FEE_LAST_ROW}", {
            "validate": "decimal", "criteria": "between", "minimum": 0, "maximum": 0.01,
            "error_title": "Not a fee", "error_message": "A fraction of the notional: 0.05% is 0.0005."})

    def tier_table(self, ws) -> None:
        """Maintenance tiers you supply, under the fees: they win over a venue's (the Funding sheet's, where
        Binance's are the brackets shipped with xlhedge: Binance's own need a signed request)."""
        from xlhedge.market.binance_brackets import shipped

        f = self.fmt
        key_col, tiers_col, source_col = L.TIER_COLUMNS
        ws.write(f"{key_col}{L.TIER_TITLE_ROW}", "Maintenance tiers: yours win over the venue's (Funding sheet; "
                                                 "Binance's are the brackets shipped with xlhedge, as of "
                                                 f"{shipped()['as_of']}); none: the maintenance margin rate above",
                 f.subtitle)
        wide = f"{tiers_col}{{}}:{L.letter(L.position(tiers_col) + 1)}{{}}"  # the tiers over two columns
        ws.write(f"{key_col}{L.TIER_FIRST_ROW - 1}", "Contract (exchange|symbol)", f.header)
        ws.merge_range(wide.format(L.TIER_FIRST_ROW - 1, L.TIER_FIRST_ROW - 1),
                       "Tiers: from USD / rate / amount USD; ...", f.header)
        last = spec.BAND_COL[spec.BAND_COLUMNS[-1].key]  # the source over the empty columns to the bands' last
        source_cells = f"{source_col}{{}}:{last}{{}}"
        ws.merge_range(source_cells.format(L.TIER_FIRST_ROW - 1, L.TIER_FIRST_ROW - 1), "Source", f.header)
        for i in range(L.TIER_ROWS):
            r = L.TIER_FIRST_ROW + i
            ws.write_blank(f"{key_col}{r}", None, f.in_text)
            ws.merge_range(wide.format(r, r), None, f.in_text)
            ws.merge_range(source_cells.format(r, r), None, f.note)

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
        set_widths(ws, {"A": 22, "B": 28, "C": 2, "D": 90})
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


