"""The committed workbooks equal a fresh build on any machine: numbers are quantised before they are
stored (xlhedge/workbook/stored.py), so another processor's SIMD path, numba on or off, or another
thread count cannot change a byte."""

from __future__ import annotations

import datetime
import io
import math
import os
import subprocess
import sys
import zipfile

import numpy as np
import pytest
import xlsxwriter
from hypothesis import given
from hypothesis import strategies as st

from tests.byte_compare import first_difference, workbook_difference
from tests.conftest import ROOT
from xlhedge.workbook.stored import SIGNIFICANT_DIGITS, StoredNumbersWorksheet, stored_number

#: Numeric code paths the builds run under: numpy without its AVX2/FMA kernels, numba compiling for a
#: generic x86 (or the backtest as plain Python), one BLAS/OpenMP thread or several.
NUMERIC_PATHS = {
    "generic-cpu, one thread": {"NPY_DISABLE_CPU_FEATURES": "X86_V3", "NUMBA_CPU_NAME": "generic",
                                "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"},
    "no numba, several threads": {"XLHEDGE_JIT": "0", "OMP_NUM_THREADS": "4", "OPENBLAS_NUM_THREADS": "4"},
}

BUILD_BOTH = """
import sys
from xlhedge.workbook.template import build_template
build_template(sys.argv[1] + "/xlhedge.xlsm")
build_template(sys.argv[1] + "/xlhedge-lite.xlsx", lite=True)
"""


@pytest.mark.slow
def test_both_committed_workbooks_equal_builds_under_other_numeric_paths(tmp_path):
    runs = {}
    for label, env in NUMERIC_PATHS.items():  # both builds at once: one per core
        out = tmp_path / label.replace(" ", "_").replace(",", "")
        out.mkdir()
        cache = tmp_path / f"numba-cache-{len(runs)}"  # a cold compile under this CPU name, not a cached one
        runs[label] = out, subprocess.Popen(
            [sys.executable, "-c", BUILD_BOTH, str(out)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            env={**os.environ, **env, "NUMBA_CACHE_DIR": str(cache)}, text=True)
    for label, (out, proc) in runs.items():
        log, _ = proc.communicate(timeout=300)
        assert proc.returncode == 0, f"{label}: {log[-2000:]}"
        for name in ("xlhedge.xlsm", "xlhedge-lite.xlsx"):
            found = workbook_difference(ROOT / "workbook" / name, out / name)
            assert found is None, f"built with {label}: {found}"


def _one_number_book(value: float) -> bytes:
    """A workbook with ``value`` in a cell, as a formula's cached result and in a chart's series."""
    buffer = io.BytesIO()
    wb = xlsxwriter.Workbook(buffer, {"in_memory": True})
    wb.set_properties({"created": datetime.datetime(2026, 1, 1)})
    ws = wb.add_worksheet("S", worksheet_class=StoredNumbersWorksheet)
    ws.write("A1", value)
    ws.write_formula("B1", "=A1*1", None, value)
    ws.write_array_formula("C1:C2", "{=A1:A2*1}", None, value)
    chart = wb.add_chart({"type": "line"})
    chart.add_series({"values": "=S!$A$1:$A$1"})
    ws.insert_chart("E2", chart)
    wb.close()
    return buffer.getvalue()


@pytest.mark.parametrize("value", [536886.35, -0.5916643387966981, 0.0001, 1e-9, 46346.33333333333])
def test_a_last_digit_difference_does_not_reach_the_file(value):
    neighbour = float(np.nextafter(value, math.inf))
    assert neighbour != value
    assert first_difference(_one_number_book(value), _one_number_book(neighbour)) is None
    with zipfile.ZipFile(io.BytesIO(_one_number_book(value))) as z:
        sheet = z.read("xl/worksheets/sheet1.xml").decode()
    assert f"<v>{value:.10G}</v>" in sheet  # ten significant digits, as Excel would show them


def test_worksheets_of_the_builder_are_the_quantising_kind(built_template):
    from xlhedge.workbook.builder import TemplateBuilder

    builder = TemplateBuilder(io.BytesIO())
    assert all(isinstance(ws, StoredNumbersWorksheet) for ws in builder.sheets.values())
    builder.wb.close()


@given(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e12, max_value=1e12))
def test_a_stored_number_keeps_its_significant_digits(x):
    kept = stored_number(x)
    assert kept == pytest.approx(x, rel=10.0 ** (1 - SIGNIFICANT_DIGITS), abs=1e-300)
    assert stored_number(kept) == kept  # storing twice changes nothing


def test_stored_number_leaves_what_is_not_a_float():
    assert [stored_number(v) for v in (5, True, "5.000000000001", None)] == [5, True, "5.000000000001", None]
    assert math.isnan(stored_number(float("nan"))) and stored_number(math.inf) == math.inf
    assert stored_number(536886.3500000001) == 536886.35
    assert stored_number(-0.591664338796698) == stored_number(-0.5916643387966981) == -0.5916643388


def test_the_first_difference_is_named_by_part_and_offset(tmp_path):
    a, b = tmp_path / "a.xlsx", tmp_path / "b.xlsx"
    a.write_bytes(_one_number_book(1.25))
    b.write_bytes(_one_number_book(1.5))
    found = workbook_difference(a, b)
    assert found.startswith("xl/worksheets/sheet1.xml differs at byte ")
    assert "1.25" in found and "1.5" in found and len(found) < 400
    assert first_difference(b"abc", b"abd", "x").startswith("x differs at byte 2 (sizes 3 and 3)")
    assert first_difference(b"ab", b"abc").startswith("bytes differs at byte 2")
