"""Store each formula's current value in the file, so viewers that cannot run the
xlhedge functions (LibreOffice, previews, Excel before "Enable functions") show numbers.

openpyxl writes formula cells with an empty cached value (``<f>..</f><v />``).
After a headless refresh, :func:`fill_cached_values` evaluates every formula
with the real engine (:mod:`xlhedge.workbook.evaluate`) and writes the results
into those ``<v>`` elements. Only worksheet parts change; every other part of
the file is copied byte for byte.
"""

from __future__ import annotations

import math
import re
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

from xlhedge.workbook.arrays import array_cells
from xlhedge.workbook.excel import ERROR_TEXTS
from xlhedge.workbook.files import replaced_atomically
from xlhedge.workbook.stored import set_cell, stored_number

_CELL = re.compile(r'<c r="(?P<ref>[A-Z]+[0-9]+)"(?P<attrs>[^>]*)>(?P<f><f\b[^>]*?>.*?</f>|<f[^>]*/>)<v\s*/>(?=</c>)',
                   re.S)
_SHEET = re.compile(r'<sheet\b[^>]*?name="(?P<name>[^"]+)"[^>]*?r:id="(?P<rid>[^"]+)"')
_REL = re.compile(r'<Relationship\b[^>]*?Id="(?P<id>[^"]+)"[^>]*?Target="(?P<target>[^"]+)"')
_REL_REVERSED = re.compile(r'<Relationship\b[^>]*?Target="(?P<target>[^"]+)"[^>]*?Id="(?P<id>[^"]+)"')


def _unescape_attr(text: str) -> str:
    return text.replace("&amp;", "&").replace("&quot;", '"').replace("&apos;", "'").replace(
        "&lt;", "<").replace("&gt;", ">")


def sheet_parts(z: zipfile.ZipFile) -> dict[str, str]:
    """Worksheet name -> part name inside the zip (``xl/worksheets/sheet3.xml``)."""
    workbook = z.read("xl/workbook.xml").decode("utf-8")
    rels_xml = z.read("xl/_rels/workbook.xml.rels").decode("utf-8")
    rels = {m["id"]: m["target"] for m in _REL.finditer(rels_xml)}
    rels.update({m["id"]: m["target"] for m in _REL_REVERSED.finditer(rels_xml)})
    parts = {}
    for m in _SHEET.finditer(workbook):
        target = rels.get(m["rid"], "")
        target = target.lstrip("/") if target.startswith("/") else "xl/" + target
        parts[_unescape_attr(m["name"])] = target
    return parts


def _cached(value) -> tuple[str, str] | None:
    """(type attribute, text of <v>) for a value; None leaves the cell uncached."""
    if value is None:
        return ' t="str"', ""
    if isinstance(value, bool):
        return ' t="b"', "1" if value else "0"
    if isinstance(value, (int, float)):
        return ("", repr(stored_number(float(value)))) if math.isfinite(value) else (' t="e"', "#NUM!")
    text = str(value)
    if text in ERROR_TEXTS:
        return ' t="e"', text
    return ' t="str"', escape(text)


def put_array_values(wb, values: dict) -> int:
    """Write the results of array formulas into the cells they cover (all but the first, which holds
    the formula): Excel stores those cells as plain values. Returns cells written."""
    written = 0
    for ws in wb.worksheets:
        for master, cells in array_cells(ws).items():
            for coordinate in cells:
                if coordinate == master or (ws.title, coordinate) not in values:
                    continue
                set_cell(ws[coordinate], values[(ws.title, coordinate)])  # a result, never read as a formula
                written += 1
    return written


def fill_cached_values(path, values: dict | None = None) -> int:
    """Write evaluated formula results into ``path`` (in place, atomically); returns cells filled."""
    path = Path(path)
    if values is None:
        from xlhedge.workbook.evaluate import evaluate_workbook

        values = evaluate_workbook(path)
    filled = 0
    with replaced_atomically(path) as tmp, zipfile.ZipFile(path) as src, zipfile.ZipFile(tmp, "w") as dst:
        parts = {part: name for name, part in sheet_parts(src).items()}
        for item in src.infolist():
            data = src.read(item.filename)
            sheet = parts.get(item.filename)
            if sheet is not None:
                def put(match, sheet=sheet):
                    nonlocal filled
                    cached = _cached(values.get((sheet, match["ref"]))) \
                        if (sheet, match["ref"]) in values else None
                    if cached is None or ' t="' in match["attrs"]:
                        return match.group(0)
                    filled += 1
                    kind, text = cached
                    return f'<c r="{match["ref"]}"{match["attrs"]}{kind}>{match["f"]}<v>{text}</v>'

                data = _CELL.sub(put, data.decode("utf-8")).encode("utf-8")
            dst.writestr(item, data)
    return filled
