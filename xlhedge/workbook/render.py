"""Render a workbook to PDF and PNG pages with LibreOffice and pdftoppm, to look at it.

LibreOffice cannot run the Python functions, so it is told never to
recalculate: it shows the cached values the builder stored, which were
computed by evaluating every formula with the real engine. It recalculates
array formulas ({=...}) on load whatever that setting says, so the page is
rendered from a copy whose array formulas are replaced by their stored
results (:func:`results_only_copy`); the workbook itself is not touched.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import zipfile
from pathlib import Path

PROFILE_XCU = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load">
<prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>1</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load">
<prop oor:name="ODFRecalcMode" oor:op="fuse"><value>1</value></prop></item>
</oor:items>
"""


def tools_available() -> bool:
    return bool(shutil.which("soffice") and shutil.which("pdftoppm"))


_ARRAY_FORMULA = re.compile(r'<f t="array"[^>]*?(?:/>|>.*?</f>)', re.S)


def results_only_copy(book: Path, target: Path) -> Path:
    """Copy ``book`` to ``target`` with each array formula removed from its cell, its stored result kept."""
    from xlhedge.workbook.cached import sheet_parts

    with zipfile.ZipFile(book) as src, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as dst:
        sheets = set(sheet_parts(src).values())
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename in sheets:
                data = _ARRAY_FORMULA.sub("", data.decode("utf-8")).encode("utf-8")
            dst.writestr(item, data)
    return target


def to_pdf(book: Path, outdir: Path, timeout: float = 120.0) -> Path:
    """Convert ``book`` to ``outdir/<stem>.pdf`` (its stored results) with a private LibreOffice profile."""
    outdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="xlhedge-lo-") as profile:
        book = results_only_copy(Path(book), Path(profile) / Path(book).name)
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


def render_sheets(book: Path, outdir: Path, dpi: int = 130) -> list[Path]:
    """One PNG per printed page, named after its sheet (``sheet-hedge.png``, then ``sheet-hedge-2.png``
    ... for a sheet printed on several pages), for the README."""
    from xlhedge.workbook import layout as L
    from xlhedge.workbook.builder import TemplateBuilder

    with tempfile.TemporaryDirectory(prefix="xlhedge-render-") as tmp:
        pdf = to_pdf(Path(book), Path(tmp))
        pages = iter(to_pngs(pdf, Path(tmp) / "png", dpi=dpi))
        outdir.mkdir(parents=True, exist_ok=True)
        out = []
        for sheet in L.SHEETS:
            for n in range(1, TemplateBuilder.printed_pages(sheet) + 1):
                page = next(pages, None)
                if page is None:  # the Lite edition has no xlwings.conf sheet
                    return out
                stem = f"sheet-{sheet.lower().replace('.', '-')}" + (f"-{n}" if n > 1 else "")
                _crop_to_content(page, outdir / f"{stem}.png")
                out.append(outdir / f"{stem}.png")
        return out


def _crop_to_content(page: Path, target: Path, margin: int = 12) -> None:
    """Copy a page PNG, cropped to what is printed on it (needs Pillow; plain copy without)."""
    try:
        from PIL import Image, ImageChops
    except ImportError:
        shutil.copyfile(page, target)
        return
    img = Image.open(page).convert("RGB")
    box = ImageChops.difference(img, Image.new("RGB", img.size, "white")).getbbox()
    if box:
        left, top, right, bottom = box
        img = img.crop((max(left - margin, 0), max(top - margin, 0),
                        min(right + margin, img.width), min(bottom + margin, img.height)))
    img.save(target, optimize=True)
