"""Read back everything of an xlhedge workbook that a refresh must leave alone."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import openpyxl

from xlhedge.workbook import layout as L
from xlhedge.workbook.arrays import array_cells


def user_inputs(path: Path) -> dict:
    """Every cell a user may type into (unlocked cells) outside the Funding sheet, with its value."""
    wb = openpyxl.load_workbook(path, keep_vba=True)
    out = {}
    for ws in wb.worksheets:
        if ws.title == L.FUNDING:
            continue
        for row in ws.iter_rows():
            for cell in row:
                if cell.protection.locked is False or cell.data_type == "f":
                    out[(ws.title, cell.coordinate)] = (comparable(cell.value), cell.data_type)
    return out


def comparable(value):
    """A cell's content as a value ``==`` compares: an array formula as (range, formula text)."""
    return ("array", value.ref, value.text) if hasattr(value, "ref") and hasattr(value, "text") else value


def computed_cells(ws) -> set[str]:
    """Cells an array formula fills besides its first (their contents are results, not inputs)."""
    return {cell for master, cells in array_cells(ws).items() for cell in cells if cell != master}


def everything_but_funding(path: Path) -> dict:
    """Sheets, names, validations, charts, buttons, VBA, conf values and every non-Funding cell."""
    wb = openpyxl.load_workbook(path, keep_vba=True)
    with zipfile.ZipFile(path) as z:
        vba = hashlib.sha256(z.read("xl/vbaProject.bin")).hexdigest()
        vml = sorted(z.read(n).decode() for n in z.namelist() if n.endswith(".vml"))
        macros = sorted(m for text in vml for m in _macros(text))
    cells = {}
    validations = {}
    charts = {}
    for ws in wb.worksheets:
        validations[ws.title] = sorted(
            (str(dv.sqref), dv.type, dv.formula1, dv.formula2) for dv in ws.data_validations.dataValidation)
        charts[ws.title] = [
            (type(c).__name__, [s.val.numRef.f for s in c.series]) for c in ws._charts]
        if ws.title == L.FUNDING:
            continue
        computed = computed_cells(ws)
        for row in ws.iter_rows():
            for cell in row:
                if cell.value is not None and cell.coordinate not in computed:
                    cells[(ws.title, cell.coordinate)] = comparable(cell.value)
    return {
        "sheets": wb.sheetnames,
        "names": sorted((n, wb.defined_names[n].attr_text) for n in wb.defined_names),
        "validations": validations,
        "charts": charts,
        "vba": vba,
        "macros": macros,
        "cells": cells,
        "freeze": {ws.title: ws.freeze_panes for ws in wb.worksheets},
        "protected": {ws.title: ws.protection.sheet for ws in wb.worksheets},
    }


def _macros(vml: str) -> list[str]:
    import re

    return re.findall(r"<x:FmlaMacro>\[0\]!([^<]+)</x:FmlaMacro>", vml)
