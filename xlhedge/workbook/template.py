"""The template as a whole: built twice (once to compute every formula with the real engine, once with
those results stored), and the values of a workbook whose formulas are still the template's.

:mod:`xlhedge.workbook.builder` writes the sheets, :mod:`xlhedge.workbook.model` computes the
formulas' values in Python; this module puts the two together.
"""

from __future__ import annotations

import functools
import tempfile
from pathlib import Path

from xlhedge.market.sample import sample_snapshot
from xlhedge.workbook import layout as L
from xlhedge.workbook.arrays import array_key
from xlhedge.workbook.builder import TemplateBuilder
from xlhedge.workbook.files import check_writable, replaced_atomically
from xlhedge.workbook.model import Book, compute


@functools.lru_cache(maxsize=1)
def template_formulas() -> dict:
    """{(sheet, cell): formula text} of a freshly built template (built in memory, once)."""
    import io

    builder = TemplateBuilder(io.BytesIO())
    builder.build()
    return dict(builder.written)


@functools.lru_cache(maxsize=1)
def _start_status_cell() -> str:
    return next(cell for (sheet, cell), formula in template_formulas().items()
                if sheet == "Start" and formula == f"=Funding!{L.STATUS_CELL}")


def book_formulas(wb) -> dict:
    """{(sheet, cell): formula text} of every formula cell of an openpyxl workbook."""
    out = {}
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if c.data_type != "f":
                    continue
                if hasattr(c.value, "ref"):  # an array formula (openpyxl's ArrayFormula)
                    out[(ws.title, c.coordinate)] = array_key(_plain_names(c.value.text), c.value.ref)
                else:
                    out[(ws.title, c.coordinate)] = _plain_names(c.value if isinstance(c.value, str) else str(c.value))
    return out


def _plain_names(formula: str) -> str:
    """A formula with the Lite edition's stored function names (``_xldudf_HEDGE_RATIO``) as typed."""
    return formula.replace("_xldudf_", "")


def formula_values(wb, inputs: dict | None = None) -> dict | None:
    """The values of every formula of an openpyxl workbook, or None when its formulas are not the
    template's (then only the general evaluator can tell). ``inputs``: cell overrides {(sheet, cell):
    value}, as :func:`~xlhedge.workbook.evaluate.evaluate_workbook` takes them (what a user would type)."""
    if book_formulas(wb) != template_formulas():
        return None
    return compute(Book(wb, inputs), _start_status_cell())


def sample_as_of():
    """The time (UTC) of the sample market data the template ships with."""
    import pandas as pd

    return pd.Timestamp(sample_snapshot().attrs["sample_as_of"]).tz_convert("UTC").tz_localize(None).to_datetime64()


def formula_results(path: Path) -> dict:
    """Every formula's value: the workbook model for the template's formulas, else the evaluator."""
    import openpyxl

    values = formula_values(openpyxl.load_workbook(path, keep_vba=True))
    if values is None:
        from xlhedge.workbook.evaluate import evaluate_workbook

        values = evaluate_workbook(path)
    return values


class WorkbookExists(FileExistsError):
    """The target workbook exists and overwriting it was not asked for."""


def build_template(path, values: dict | None = None, evaluate: bool = True, force: bool = False,
                   lite: bool = False) -> Path:
    """Write the template to ``path``, atomically; an existing file is replaced only with ``force``.

    With ``evaluate`` (the default) the workbook is built twice: once to
    compute every formula with the real engine (:mod:`xlhedge.workbook.model`),
    once with those results as the cached values of the formula cells.

    Raises
    ------
    WorkbookExists
        ``path`` exists (a user's workbook, perhaps edited) and ``force`` is false.
    ValueError
        ``path`` does not end in the edition's extension (.xlsm desktop, .xlsx Lite).
    NotWritable
        The folder does not exist, or ``path`` is open in Excel or read-only.
    """
    path = Path(path)
    wanted = ".xlsx" if lite else ".xlsm"
    if path.suffix.lower() != wanted:
        edition = "the Lite edition is an .xlsx (it has no VBA)" if lite else \
            "the workbook is macro-enabled (.xlsm: its buttons run macros)"
        raise ValueError(f"{path.name}: {edition}; use a name ending in {wanted}")
    if path.exists() and not force:
        raise WorkbookExists(f"{path} already exists; it may hold your edits. Use --force to replace it, "
                             "or --out to write somewhere else")
    check_writable(path)
    if values is None and evaluate:
        with tempfile.TemporaryDirectory(prefix="xlhedge-draft-") as tmp:
            draft = Path(tmp) / path.name
            TemplateBuilder(draft, lite=lite).build()
            from xlhedge.cell_times import clock_at

            # the template's numbers are a plan as of its sample data: the same file whatever the day
            with clock_at(sample_as_of()):
                values = formula_results(draft)
    with replaced_atomically(path) as built:
        TemplateBuilder(built, values, lite=lite).build()
        if lite:
            from xlhedge.workbook.lite import add_web_extension

            add_web_extension(built)
    return path
