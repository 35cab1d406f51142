"""The template's cell formats (yellow inputs, blue headers, number formats) and column widths."""

from __future__ import annotations

import xlsxwriter

INPUT_FILL = "#FFF2CC"
HEADER_FILL = "#1F4E78"
TOTAL_FILL = "#DDEBF7"
FONT = "Calibri"


class Formats:
    """Every cell format of the template, made once per workbook."""

    def __init__(self, wb: xlsxwriter.Workbook):
        base = {"font_name": FONT, "font_size": 11, "valign": "vcenter"}

        def make(**kw):
            return wb.add_format({**base, **kw})

        self.title = make(bold=True, font_size=18, font_color=HEADER_FILL)
        self.subtitle = make(bold=True, font_size=13, font_color=HEADER_FILL)
        self.text = make(text_wrap=True, valign="top")
        self.text_bold = make(text_wrap=True, bold=True, valign="top")
        self.label = make(bold=True)
        self.plain = make()  # no border: the cells above a table whose columns carry its format
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
        self.best = wb.add_format({"bold": True, "bg_color": "#E2EFDA"})
        self.warn_text = make(font_color="#9C5700", **out)


def set_widths(ws, widths: dict[str, float]) -> None:
    """Column widths by letter or range of letters: {"A": 12, "F:G": 8}."""
    for cols, width in widths.items():
        ws.set_column(cols if ":" in cols else f"{cols}:{cols}", width)


def plain_above(ws, fmt, header_row: int, first_col: str, last_col: str) -> None:
    """Blank cells without the column format (``fmt``: no border) above a table whose columns carry its
    format, from row 1 to the row above ``header_row`` (1-based); titles and notes written later replace them."""
    from xlsxwriter.utility import xl_cell_to_rowcol

    first, last = xl_cell_to_rowcol(f"{first_col}1")[1], xl_cell_to_rowcol(f"{last_col}1")[1]
    for row in range(header_row - 1):
        for col in range(first, last + 1):
            ws.write_blank(row, col, None, fmt)
