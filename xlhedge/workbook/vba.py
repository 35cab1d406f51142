"""The VBA project of the template: the one xlwings ships for standalone workbooks.

It holds the whole xlwings VBA module (``RunPython``, ``ImportPythonUDFs``,
config readers) and ``Module1.SampleCall``, which runs
``import <workbook name>; <workbook name>.main()``. It is read from the
installed xlwings at build time, never committed separately.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import xlwings

#: Macros the template's buttons call; both exist in xlwings' standalone VBA project.
ENABLE_FUNCTIONS_MACRO = "ImportPythonUDFs"
REFRESH_MACRO = "SampleCall"


def standalone_template() -> Path:
    return Path(xlwings.__file__).parent / "quickstart_standalone.xlsm"


def vba_project_bytes() -> bytes:
    """``xl/vbaProject.bin`` of xlwings' standalone quickstart workbook."""
    with zipfile.ZipFile(standalone_template()) as z:
        return z.read("xl/vbaProject.bin")


def xlwings_version() -> str:
    return xlwings.__version__
