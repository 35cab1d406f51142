"""The sheets of results: Scenarios (what a price move would do to the hedge, with its chart) and Backtest
(what the policy would have done on history: inputs, results, both value lines and a chart). Written by
:class:`xlhedge.workbook.builder.TemplateBuilder`, which this class is a part of."""

from __future__ import annotations

from xlhedge.backtest import DATA_SOURCES
from xlhedge.engine.policy import SHEET_POLICIES
from xlhedge.workbook import layout as L
from xlhedge.workbook import spec, vba
from xlhedge.workbook.formats import plain_above, set_widths


class ResultSheets:
    """Scenarios and Backtest (needs the builder's ``sheets``, ``fmt``, ``wb``, ``button``, ``set_vba_name``,
    ``single_cell``, ``table_header``, ``table_formulas`` and ``color_costs``)."""

    # ------------------------------------------------------------------ Scenarios
    def scenarios(self) -> None:
        ws, f = self.sheets[L.SCENARIOS], self.fmt
        self.set_vba_name(ws, "Sheet4")
        ws.write("A1", "Scenarios: what a price move does", f.title)
        col = spec.SCENARIO_COL
        ws.merge_range(f"A2:{col[spec.SCENARIO_COLUMNS[-1].key]}2",
                       "BTC moves by the % on the left; each coin moves with it (coins hedged with "
                       "BTC move beta times as much). Hedged = coins + short, after funding over the "
                       "horizon. Cash does not move. A rise that reaches the shorts' liquidation price "
                       "(Settings leverage, each short on its maintenance tier) closes them there: their "
                       "margin is lost and the coins are unhedged from then on.", f.note)
        ws.set_row(1, 62)
        for cell in spec.SINGLE_CELLS:
            if cell.sheet == L.SCENARIOS:
                ws.write(f"A{cell.ref[1:]}", cell.label, f.text_bold)
                self.single_cell(cell.key)
        self.color_costs(ws, spec.SINGLE_CELL["cost"].ref)
        hr = L.SCENARIO_FIRST_ROW - 1
        self.table_header(L.SCENARIOS, hr, height=32)
        for i, move in enumerate(L.SCENARIO_MOVES):
            ws.write_number(f"{col['move']}{L.SCENARIO_FIRST_ROW + i}", move, f.pct)
        self.table_formulas(L.SCENARIOS)
        first, last = L.SCENARIO_FIRST_ROW, L.SCENARIO_FIRST_ROW + len(L.SCENARIO_MOVES) - 1
        chart = self.wb.add_chart({"type": "line"})
        move = col["move"]
        for line, color in ((col["unhedged"], "#C00000"), (col["hedged"], "#1F4E78")):
            chart.add_series({
                "name": f"=Scenarios!${line}${hr}",
                "categories": f"=Scenarios!${move}${first}:${move}${last}",
                "values": f"=Scenarios!${line}${first}:${line}${last}",
                "line": {"color": color, "width": 2.25},
                "marker": {"type": "circle", "size": 5, "fill": {"color": color}, "border": {"color": color}},
            })
        chart.set_title({"name": "P&L by price move", "name_font": {"size": 12}})
        chart.set_x_axis({"name": "Price move", "num_format": "0%", "label_position": "low"})
        chart.set_y_axis({"name": "P&L (USD)", "num_format": "$#,##0", "major_gridlines": {"visible": True}})
        chart.set_legend({"position": "bottom"})
        chart.set_size({"width": 560, "height": 340})
        ws.insert_chart("G4", chart)
        short = col["short"]
        ws.conditional_format(f"{move}{first}:{short}{last}", {"type": "formula", "criteria": f'=${short}{first}<>""',
                                                             "format": self.fmt.liquidated})
        ws.protect("", {"format_columns": True, "objects": False})

    # ------------------------------------------------------------------ Backtest
    def backtest(self) -> None:
        """Inputs (yours), results and both value lines (written by the backtest), and a chart."""
        from xlhedge.backtest import run_backtest
        from xlhedge.workbook.backtest_sheet import results_rows, series_rows

        ws, f = self.sheets[L.BACKTEST], self.fmt
        self.set_vba_name(ws, "Sheet8")
        set_widths(ws, {"A": 34, "B": 13, "C": 2, "D": 48, "E": 46, "F": 2})
        series = L.BACKTEST_SERIES  # its format is the columns': the backtest's cells take it
        for (key, col, _), width in zip(series.columns, (12, 14, 14), strict=True):
            ws.set_column(f"{col}:{col}", width, f.day if key == "date" else f.usd)
        plain_above(ws, f.plain, L.BACKTEST_FIRST_ROW - 1, series.columns[0][1], series.columns[-1][1])
        ws.write("A1", "Backtest: would the hedge have worked?", f.title)
        ws.merge_range("A2:I2", "Your Portfolio (coins hedged with their own perpetual) and Settings replayed day by "
                                "day: funding at its real times, rebalancing when the hedged fraction leaves the "
                                "band, fees, and liquidation at your leverage. Click 'Run backtest' (right), or run "
                                "xlhedge backtest xlhedge.xlsm in a terminal.", f.note)
        ws.set_row(1, 32)
        run = run_backtest({"BTC": 5, "ETH": 50}, 100_000, data="demo")  # the sample holdings, offline
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
                rule = {"validate": "list", "source": list({"policy": SHEET_POLICIES, "data": DATA_SOURCES,
                                                            "top_up": L.YES_NO}[item.name])}
            ws.data_validation(f"B{r}", {**rule, "input_title": item.label[:32], "input_message": item.note[:255]})
        results = L.BACKTEST_RESULTS
        rows = results_rows(run)
        for i in range(results.last_row - results.first_row + 1):
            r = results.first_row + i
            label, value, fmt = rows[i] if i < len(rows) else (None, None, "out_text")
            if i == 0:
                ws.set_row(r - 1, 30)  # the data source is a sentence
            ws.write(f"D{r}", label, f.text_bold)  # None: a formatted blank
            ws.write(f"E{r}", value, getattr(f, fmt))
        for _, col, header in series.columns:
            ws.write(f"{col}{hr}", header, f.header)
        for i, row in enumerate(series_rows(run)[: series.last_row - series.first_row + 1]):
            for (key, col, _), value in zip(series.columns, row, strict=True):
                if value is not None:
                    ws.write(f"{col}{series.first_row + i}", value, f.day if key == "date" else f.usd)
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
