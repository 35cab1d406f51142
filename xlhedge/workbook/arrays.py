"""Legacy array formulas ({=...}) over a column: how one is written, recorded and which cells it fills."""

from __future__ import annotations


def array_key(text: str, ref: str) -> str:
    """How an array formula is recorded (builder) and read back (model): ``{=...}@H5:H24``."""
    return "{" + text + "}@" + ref


def array_cells(ws) -> dict[str, list[str]]:
    """Each array formula of an openpyxl sheet: its first cell (which holds the formula) -> every cell
    it fills, that one first."""
    from openpyxl.utils.cell import get_column_letter, range_boundaries

    out = {}
    for master, ref in ws.array_formulae.items():
        c1, r1, c2, r2 = range_boundaries(ref)
        out[master] = [f"{get_column_letter(c)}{r}" for r in range(r1, r2 + 1) for c in range(c1, c2 + 1)]
    return out
