"""The VBA project of the template: the one xlwings ships for standalone workbooks.

It holds the whole xlwings VBA module (``RunPython``, ``ImportPythonUDFs``,
config readers) and ``Module1.SampleCall``, which runs
``import <workbook name>; <workbook name>.main()``. It is read from the
installed xlwings at build time, never committed separately.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import xlwings

from xlhedge.workbook.files import replaced_atomically

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


_VERSION_CONST = re.compile(r'XLWINGS_VERSION\s+As\s+String\s*=\s*"([^"]+)"', re.I)


def workbook_xlwings_version(path) -> str | None:
    """The xlwings version a workbook's VBA is written for (its ``XLWINGS_VERSION`` constant).

    None when the file has no xlwings VBA (an .xlsx, or VBA without the xlwings module).
    """
    from oletools.olevba import VBA_Parser

    parser = VBA_Parser(str(path))
    try:
        if not parser.detect_vba_macros():
            return None
        for _, _, _, code in parser.extract_macros():
            match = _VERSION_CONST.search(code or "")
            if match:
                return match.group(1)
        return None
    finally:
        parser.close()


def replace_vba_project(path, force_same: bool = False) -> tuple[str | None, str]:
    """Put the installed xlwings' VBA project into a workbook, keeping every other part byte for byte.

    Cells, buttons (their macro names are unchanged: ``SampleCall`` and
    ``ImportPythonUDFs`` exist in every standalone xlwings project), charts, names and
    formats live in other parts of the file and are copied unchanged. The file is
    replaced atomically. Returns (old version, new version).
    """
    path = Path(path)
    with zipfile.ZipFile(path) as z:
        if "xl/vbaProject.bin" not in z.namelist():
            raise ValueError(f"{path.name} has no VBA project (saved as .xlsx?); make a fresh workbook with "
                             "'xlhedge template --out NEW.xlsm' and copy your inputs into it")
    old = workbook_xlwings_version(path)  # None: VBA without the xlwings module, replaced all the same
    new = xlwings_version()
    if old == new and not force_same:
        return old, new
    with replaced_atomically(path) as tmp, zipfile.ZipFile(path) as src, zipfile.ZipFile(tmp, "w") as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "xl/vbaProject.bin":
                data = vba_project_bytes()
            elif info.filename == "docProps/custom.xml":  # the version noted by the builder
                data = re.sub(rb'(name="xlwings_version"[^>]*><vt:lpwstr>)[^<]*(<)',
                              rb"\g<1>" + new.encode() + rb"\g<2>", data)
            dst.writestr(info, data)
    return old, new
