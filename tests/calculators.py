"""The two ways a test computes a workbook's formulas, both keyed (sheet, cell) with typed ``inputs``
{(sheet, cell): value} standing for what a user would type:

- the workbook model (``xlhedge.workbook.template.formula_values``): the product's own evaluation of the
  sheet specification, what ``plan`` and the refresh use; a fraction of a second;
- the general evaluator (``xlhedge.workbook.evaluate.evaluate_workbook``, the ``formulas`` package): the
  independent check, which reads the Excel text the builder wrote; seconds a calculation.

A sheet test that takes the ``calculate`` fixture (tests/conftest.py) runs once with each: the model in the
default part, the evaluator in the end-to-end part (``-m slow``). The default part still checks the two
against each other cell for cell (the shipped template, random portfolios: tests/test_model.py).
"""

from __future__ import annotations

from pathlib import Path

import openpyxl

from xlhedge.workbook import template

_READ: dict = {}  # (path, modified ns, size) -> openpyxl workbook: a file computed with several inputs is read once


def model_values(path, inputs: dict | None = None) -> dict:
    """Every formula's value by the workbook model; fails when the book's formulas are not the template's."""
    path = Path(path)
    stat = path.stat()
    key = (str(path.resolve()), stat.st_mtime_ns, stat.st_size)
    if key not in _READ:
        _READ.clear()
        _READ[key] = openpyxl.load_workbook(path, keep_vba=True)
    values = template.formula_values(_READ[key], inputs)
    assert values is not None, f"{path.name} has formulas of its own: the model computes the template's only"
    return values


def evaluator_values(path, inputs: dict | None = None) -> dict:
    from xlhedge.workbook.evaluate import evaluate_workbook

    return evaluate_workbook(path, inputs)


CALCULATORS = {"model": model_values, "evaluator": evaluator_values}


def stored_values(path, cells) -> dict:
    """What the file holds for each of ``cells`` ((sheet, cell) keys) as a formula gives it: openpyxl reads a
    date-formatted cell as a datetime, a formula's result is its serial day number."""
    import datetime as dt

    from openpyxl.utils.datetime import to_excel

    book = openpyxl.load_workbook(path, data_only=True)
    values = {}
    for sheet, cell in cells:
        value = book[sheet][cell].value
        values[sheet, cell] = to_excel(value) if isinstance(value, dt.datetime) else value
    return values
