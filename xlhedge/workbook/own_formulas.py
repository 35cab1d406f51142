"""A workbook with formulas of its own: the template's formulas computed by the workbook model, the user's by
the general evaluator on a copy where every other formula is its value.

A user who adds a formula (a column of their own, a margin rule) or types a value over one of the
template's no longer has the template's formulas, so the workbook model alone cannot tell the values. The
general evaluator (``formulas``) can, but compiling the whole workbook takes 10 to 20 s on every
``plan`` and ``refresh``. Here it compiles only the user's formulas:

1. the model computes the template's formulas, with a typed value over one of them standing for it;
2. a copy of the workbook holds those results as plain values and keeps only the user's formulas,
   which the general evaluator computes (a compile of a few formulas: about 2 s);
3. their results stand for those cells in the model, which computes again; when a template formula
   depends on a user's formula that depends on it in turn, the rounds repeat until nothing changes.

The values are the general evaluator's on the whole workbook (the test suite compares the two cell
for cell); a circular dependency that does not settle falls back to that whole evaluation.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from xlhedge.workbook.arrays import filled_by
from xlhedge.workbook.model import Book, compute

#: Rounds of model and evaluator before a dependency loop counts as not settling.
MAX_ROUNDS = 6


def own_formula_values(path, wb) -> dict:
    """Every formula cell's value of the workbook at ``path`` (``wb``: it, read by openpyxl, not changed),
    keyed (sheet, cell) as :func:`~xlhedge.workbook.evaluate.evaluate_workbook` gives them. Anything this
    way cannot take (a typed value the model refuses, say) is computed the whole workbook's way."""
    from xlhedge.workbook.evaluate import evaluate_workbook

    try:
        return _by_parts(path, wb)
    except Exception:  # the slow way gives the same numbers: never a reason to fail
        return evaluate_workbook(path)


def _by_parts(path, wb) -> dict:
    from xlhedge.workbook.evaluate import evaluate_workbook
    from xlhedge.workbook.template import _start_status_cell, book_formulas, template_formulas

    template, book = template_formulas(), book_formulas(wb)
    own = {cell for cell, text in book.items() if template.get(cell) != text}
    template_cells, own_cells = _filled(template), _filled({cell: book[cell] for cell in own})
    typed = {cell: wb[cell[0]][cell[1]].value for cell in template_cells - _filled(book)}  # typed over (or emptied)
    inputs, given_before, mine = dict(typed), None, {}
    with tempfile.TemporaryDirectory(prefix="xlhedge-own-") as folder:
        copy = Path(folder) / "own-formulas.xlsx"
        for _ in range(MAX_ROUNDS):
            values = compute(Book(wb, inputs), _start_status_cell())
            given = {cell: values.get(cell) for cell in template_cells - own_cells}
            if given == given_before:  # what the user's formulas read is what they were computed from
                return {**{cell: v for cell, v in values.items() if cell not in typed}, **mine}  # formula cells
            if given_before is None:
                _write_copy(path, copy, given, own)
                written = given
                mine = evaluate_workbook(copy)  # the user's formulas only: compiled once
            else:  # calculated again with what differs from the copy
                mine = evaluate_workbook(copy, {cell: v for cell, v in given.items() if v != written[cell]})
            inputs = {**typed, **{cell: value for cell, value in mine.items() if cell in template_cells}}
            given_before = given
    return evaluate_workbook(path)  # a loop that does not settle: the whole workbook, as Excel would


def _filled(formulas: dict) -> set:
    """Every cell the formulas {(sheet, cell): text} fill: an array formula all of its range."""
    return {(sheet, cell) for (sheet, ref), text in formulas.items() for cell in filled_by(ref, text)}


def _write_copy(path, copy: Path, values: dict, own: set) -> None:
    """``path`` saved as ``copy`` with every formula but the ``own`` ones replaced by its value from
    ``values`` (text stays text; an error's text is the error)."""
    import openpyxl

    from xlhedge.workbook.excel import ERROR_TEXTS
    from xlhedge.workbook.stored import set_cell

    wb = openpyxl.load_workbook(path, keep_vba=False)
    try:
        for ws in wb.worksheets:
            for row in ws.iter_rows():
                for c in row:
                    if c.data_type == "f" and (ws.title, c.coordinate) not in own:
                        c.value = None
        for (sheet, ref), value in values.items():
            cell = wb[sheet][ref]
            if isinstance(value, str) and value in ERROR_TEXTS:
                cell.value = value  # openpyxl stores an error's text as that error
            else:
                set_cell(cell, value)
        wb.save(copy)
    finally:
        wb.close()
