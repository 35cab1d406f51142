"""Legacy array formulas ({=...}) over a column: how one is written, recorded and which cells it fills."""

from __future__ import annotations


def array_key(text: str, ref: str) -> str:
    """How an array formula is recorded (builder) and read back (model): ``{=...}@H5:H24``."""
    return "{" + text + "}@" + ref


def filled_by(cell: str, recorded: str) -> list[str]:
    """The cells the formula recorded for ``cell`` fills: an array formula's (:func:`array_key`) whole
    range, else the cell."""
    if recorded.startswith("{") and "}@" in recorded:
        return _range_cells(recorded.rsplit("}@", 1)[1])
    return [cell]


def array_cells(ws) -> dict[str, list[str]]:
    """Each array formula of an openpyxl sheet: its first cell (which holds the formula) -> every cell
    it fills, that one first."""
    return {master: _range_cells(ref) for master, ref in ws.array_formulae.items()}


def _range_cells(ref: str) -> list[str]:
    """The cells of a range ("H5:H24"), row by row."""
    from openpyxl.utils.cell import get_column_letter, range_boundaries

    c1, r1, c2, r2 = range_boundaries(ref)
    return [f"{get_column_letter(c)}{r}" for r in range(r1, r2 + 1) for c in range(c1, c2 + 1)]
