"""Render a workbook to PDF and PNG pages with LibreOffice and pdftoppm, to look at it.

LibreOffice cannot run the Python functions, so it is told never to
recalculate: it shows the cached values the builder stored, which were
computed by evaluating every formula with the real engine.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

PROFILE_XCU = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>1</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="ODFRecalcMode" oor:op="fuse"><value>1</value></prop></item>
</oor:items>
"""


def tools_available() -> bool:
    return bool(shutil.which("soffice") and shutil.which("pdftoppm"))


def to_pdf(book: Path, outdir: Path, timeout: float = 120.0) -> Path:
    """Convert ``book`` to ``outdir/<stem>.pdf`` with a private LibreOffice profile."""
    outdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="xlhedge-lo-") as profile:
        user = Path(profile) / "user"
        user.mkdir()
        (user / "registrymodifications.xcu").write_text(PROFILE_XCU)
        subprocess.run(
            ["timeout", str(int(timeout)), "soffice", f"-env:UserInstallation=file://{profile}",
             "--headless", "--norestore", "--convert-to", "pdf", "--outdir", str(outdir), str(book)],
            check=True, capture_output=True, timeout=timeout + 10,
        )
    pdf = outdir / f"{book.stem}.pdf"
    if not pdf.exists():
        raise RuntimeError(f"LibreOffice wrote no PDF for {book.name}")
    return pdf


def to_pngs(pdf: Path, outdir: Path, dpi: int = 80) -> list[Path]:
    """One PNG per PDF page: ``outdir/page-1.png`` ..."""
    outdir.mkdir(parents=True, exist_ok=True)
    subprocess.run(["pdftoppm", "-png", "-r", str(dpi), str(pdf), str(outdir / "page")],
                   check=True, capture_output=True, timeout=120)
    return sorted(outdir.glob("page-*.png"), key=lambda p: int(p.stem.split("-")[-1]))
