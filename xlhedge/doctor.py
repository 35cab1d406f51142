"""``xlhedge doctor``: what is wrong with an Excel set-up, and what to run to fix it.

Every check is computed from files and versions (no Excel needed), for the
platform and home folder given, so the tests run it against fake Windows and
Mac home folders.
"""

from __future__ import annotations

import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

from xlhedge import xlwings_setup as X

OK, FAIL, WARN, INFO = "ok", "FAIL", "warn", "info"


@dataclass
class Check:
    """One line of the report: what was checked, the outcome, what was found, how to fix it."""

    name: str
    status: str
    detail: str
    fix: str = ""


def _truthy(value) -> bool:
    return str(value).strip().lower() in ("true", "1", "yes")


def _sheet_config(book: Path) -> dict[str, str] | None:
    """Keys on the workbook's xlwings.conf sheet (column A down to the first empty cell), as xlwings reads them."""
    import openpyxl

    try:
        wb = openpyxl.load_workbook(book, read_only=True)
    except Exception:
        return None
    try:
        if "xlwings.conf" not in wb.sheetnames:
            return None
        out = {}
        for key, value, *_ in wb["xlwings.conf"].iter_rows(min_col=1, max_col=2, values_only=True):
            if key in (None, ""):
                break
            out[str(key).strip().upper()] = "" if value is None else str(value)
        return out
    finally:
        wb.close()


def config_sources(book: Path | None, platform: str | None,
                   home: Path | None) -> list[tuple[str, Path | None, dict | None]]:
    """(label, where, keys) in the order xlwings' GetConfig reads them; keys None when absent."""
    sources = []
    if book is not None:
        sources.append(("workbook's xlwings.conf sheet", book, _sheet_config(book)))
        beside = book.parent / "xlwings.conf"
        sources.append(("xlwings.conf beside the workbook", beside, X.read_config(beside, platform)))
    user = X.user_config_path(platform, home)
    sources.append(("user config", user, X.read_config(user, platform)))
    return sources


def in_force(sources, key: str) -> tuple[str | None, str | None]:
    """(value, source label) of the first source that has ``key`` (present even if empty wins)."""
    for label, _, keys in sources:
        if keys is not None and key in keys:
            return keys[key], label
    return None, None


def check_versions(installed_xlwings: str | None, python: tuple) -> list[Check]:
    checks = []
    need = ".".join(map(str, X.PYTHON_REQUIRED))
    checks.append(Check("Python", OK if python >= X.PYTHON_REQUIRED else FAIL,
                        f"{'.'.join(map(str, python[:3]))} (xlwings {X.XLWINGS_VERSION} needs {need}+)",
                        "" if python >= X.PYTHON_REQUIRED else f"install Python {need} or newer, then run the "
                                                                 "installer again"))
    if installed_xlwings == X.XLWINGS_VERSION:
        checks.append(Check("xlwings", OK, f"{installed_xlwings}, the version the workbook's VBA is written for"))
    else:
        checks.append(Check("xlwings", FAIL, f"{installed_xlwings or 'not installed'}; the workbook needs "
                                             f"{X.XLWINGS_VERSION}",
                            f"pip install xlwings=={X.XLWINGS_VERSION} (or run the installer again)"))
    return checks


def check_runtime_files(platform: str | None, home: Path | None, interpreter: Path) -> list[Check]:
    """The DLL next to the interpreter (Windows) or the RunPython AppleScript (Mac)."""
    name = X.platform_name(platform)
    if name == "windows":
        found = [p for p in X.dll_candidates(interpreter) if p.is_file()]
        if found:
            return [Check("xlwings DLL", OK, str(found[0]))]
        return [Check("xlwings DLL", FAIL, f"{X.dll_name()} is not beside {interpreter} nor one folder up",
                      f"{interpreter} -m pip install --force-reinstall xlwings=={X.XLWINGS_VERSION}")]
    if name == "mac":
        script = X.applescript_path(home)
        if script.is_file():
            return [Check("RunPython AppleScript", OK, str(script))]
        return [Check("RunPython AppleScript", FAIL, f"{script.name} is missing from {script.parent}",
                      f"{interpreter} -m xlhedge.xlwings_setup install-applescript (or run the installer)")]
    return [Check("Excel", INFO, "no desktop Excel on Linux: use xlhedge refresh / plan from the command line")]


def check_configs(book: Path | None, platform: str | None, home: Path | None) -> tuple[list[Check], Path | None]:
    """Every config that applies, what each sets, which wins; returns the interpreter in force."""
    checks = []
    key = X.interpreter_key(platform)
    sources = config_sources(book, platform, home)
    for label, where, keys in sources:
        if keys is None:
            checks.append(Check(f"config: {label}", INFO, f"none ({where})"))
            continue
        shown = {k: keys[k] for k in (key, "UDF MODULES", "USE UDF SERVER") if k in keys}
        text = ", ".join(f"{k}={v!r}" for k, v in shown.items()) or "none of the keys xlhedge needs"
        checks.append(Check(f"config: {label}", INFO, f"{text} ({where})"))
    if X.platform_name(platform) == "mac":
        legacy = (Path(home) if home else Path.home()) / ".xlwings" / "xlwings.conf"
        if legacy.is_file():
            checks.append(Check("config: ~/.xlwings/xlwings.conf", WARN,
                                "Excel for Mac does not read this file (it reads the one in its sandbox)",
                                "run the installer again: it writes the file Excel reads"))
    interpreter, source = in_force(sources, key)
    if not interpreter:
        where = f"set by the {source} but empty" if source else "set nowhere"
        checks.append(Check(f"{key} in force", FAIL, where,
                            f"run the installer (it writes {X.user_config_path(platform, home)})"))
        interpreter_path = None
    else:
        interpreter_path = Path(interpreter)
        exists = interpreter_path.is_file()
        checks.append(Check(f"{key} in force", OK if exists else FAIL, f"{interpreter} (from the {source})",
                            "" if exists else "run the installer again, or fix the path in that config"))
    modules, source = in_force(sources, "UDF MODULES")
    ours = modules is not None and X.UDF_MODULE in [m.strip() for m in str(modules).split(";")]
    checks.append(Check("UDF Modules in force", OK if ours else FAIL,
                        f"{modules!r} (from the {source})" if source else "set nowhere",
                        "" if ours else f"set 'UDF Modules' to {X.UDF_MODULE} on the workbook's xlwings.conf sheet"))
    server, source = in_force(sources, "USE UDF SERVER")
    if server is not None and _truthy(server):
        checks.append(Check("Use UDF Server", FAIL, f"on (from the {source}): the Refresh button would run inside "
                                                    "the UDF server and never reach xlhedge",
                            "set 'USE UDF SERVER' to False on the workbook's xlwings.conf sheet"))
    else:
        checks.append(Check("Use UDF Server", OK, f"off ({'from the ' + source if source else 'default'})"))
    return checks, interpreter_path


def check_bridge(site_packages: Path) -> Check:
    from xlhedge.bridge import PTH_NAME

    pth = Path(site_packages) / PTH_NAME
    if pth.is_file():
        return Check("Refresh bridge", OK, str(pth))
    return Check("Refresh bridge", FAIL, f"{PTH_NAME} is not in {site_packages}: renamed workbooks cannot refresh",
                 "python -m xlhedge.bridge install (with the interpreter in force)")


def check_workbook(book: Path) -> list[Check]:
    from xlhedge.workbook.book import WorkbookError, load_book, release
    from xlhedge.workbook.lite import carried_main_py, main_py
    from xlhedge.workbook.vba import workbook_xlwings_version

    try:
        release(load_book(book))
    except WorkbookError as exc:
        return [Check("workbook", FAIL, str(exc), "xlhedge template --out NEW.xlsm (then copy your inputs)")]
    carried = carried_main_py(book)
    if carried is not None:  # the Lite edition: no VBA; its Python is inside the file
        if carried == main_py():
            return [Check("workbook code", OK, "xlwings Lite edition carrying this xlhedge's code (no VBA needed)")]
        return [Check("workbook code", INFO, "xlwings Lite edition carrying another xlhedge's code (an older "
                      "version, or edited in the add-in's editor); xlhedge template --lite --out NEW.xlsx has "
                      "this version's (copy your Portfolio and Settings into it)")]
    version = workbook_xlwings_version(book)
    if version is None:
        return [Check("workbook VBA", FAIL, f"{book.name} has no xlwings VBA module",
                      f"xlhedge upgrade-book {book}")]
    if version != X.XLWINGS_VERSION:
        return [Check("workbook VBA", FAIL, f"written for xlwings {version}; installed is {X.XLWINGS_VERSION}",
                      f"xlhedge upgrade-book {book}")]
    return [Check("workbook VBA", OK, f"xlwings {version}, the installed version")]


def check_formulas(book: Path, lite: bool = False) -> Check:
    """Where the workbook's formulas are not this version's template's: the user's own edits, or a workbook made
    by an older xlhedge (plan and venues then compute its formulas as they are)."""
    import openpyxl

    from xlhedge.workbook.template import book_formulas, template_formulas

    template, own = template_formulas(), book_formulas(openpyxl.load_workbook(book, keep_vba=True))
    differ = sorted({cell for cell in template.keys() | own.keys() if template.get(cell) != own.get(cell)})
    if not differ:
        return Check("workbook formulas", OK, "this version's template's")
    columns: dict[tuple[str, str], list[int]] = {}
    for sheet, cell in differ:
        column = cell.rstrip("0123456789")
        columns.setdefault((sheet, column), []).append(int(cell[len(column):]))
    where = [f"{sheet}!{col}{min(rows)}" + (f":{col}{max(rows)}" if max(rows) > min(rows) else "")
             for (sheet, col), rows in columns.items()]
    shown = ", ".join(where[:4]) + (f" and {len(where) - 4} more" if len(where) > 4 else "")
    return Check("workbook formulas", INFO,
                 f"{len(differ)} formula{'s' if len(differ) != 1 else ''} not this version's template's ({shown}): "
                 "your own, or from an older xlhedge; plan and venues compute them as they are. For this "
                 "version's, copy your Portfolio and Settings into "
                 + ("xlhedge template --lite --out NEW.xlsx" if lite else "xlhedge template --out NEW.xlsm"))


def check_exchanges(timeout: float) -> list[Check]:
    from xlhedge.market import EXCHANGES, MarketDataError, funding_snapshot
    from xlhedge.market.errors import reason, shorten, summarize

    try:
        frame = funding_snapshot(list(EXCHANGES), timeout=timeout)
        errors = frame.attrs.get("errors", {})
    except MarketDataError as exc:
        frame, errors = None, exc.errors
    if len(errors) == len(EXCHANGES):  # one cause, one finding
        return [Check("exchanges", FAIL, f"none answered ({summarize(errors, 80)})",
                      "check the internet connection or proxy; meanwhile 'xlhedge demo --offline' and "
                      "'xlhedge funding --offline' use the bundled sample data")]
    checks = []
    for ex in EXCHANGES:
        if ex not in errors:
            lacking = frame.attrs.get("missing", {}).get(ex)
            detail = f"{int((frame['exchange'] == ex).sum())} contracts" + (f", {lacking}" if lacking else "")
            checks.append(Check(f"exchange: {ex}", WARN if lacking else OK, detail[:140],
                                "try again later; the rows come without those columns meanwhile" if lacking else ""))
    by_reason: dict[str, list[str]] = {}
    for ex in EXCHANGES:
        if ex in errors:
            by_reason.setdefault(shorten(reason(errors[ex]), 100), []).append(ex)
    for why, names in by_reason.items():
        checks.append(Check(f"exchange: {', '.join(names)}", FAIL, why,
                            "try again later (the others answered); refresh the others with --exchanges"))
    return checks


def check_backtest_compiler() -> Check:
    """numba compiles the backtest's step loop; without it the same rules run as plain Python."""
    from xlhedge.engine.backtest import jit_switched_off, simulate

    name = "backtest compiler"
    if jit_switched_off():
        return Check(name, INFO, "XLHEDGE_JIT=0: backtests run as plain Python (same results, slower)")
    try:
        import numba
    except ImportError:
        return Check(name, WARN, "numba is not installed: backtests run as plain Python (same results; "
                                 "long runs about 100x slower)", "pip install numba (or run the installer again)")

    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:  # the backtest falls back to Python, with a warning
        warnings.simplefilter("always")
        # 3x short liquidated at 140 (liquidation price 132.80): a result known by hand
        worked = simulate([100, 140, 150], [1], 1.0, jit=True).liquidations == [(1, 0)]
    fallback = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]
    problem = fallback[0][:200] if fallback else "a known example gave a wrong result"
    worked = worked and not fallback
    if not worked:
        return Check(name, FAIL, f"{problem} (numba {numba.__version__})",
                     "set the environment variable XLHEDGE_JIT=0 (plain Python, same results) and report this")
    return Check(name, OK, f"numba {numba.__version__} compiles the backtest's step loop "
                           f"({time.perf_counter() - start:.1f} s here; cached on disk after the first time)")


def check_shipped_brackets(today=None) -> Check:
    """How old the Binance brackets shipped with xlhedge are (Binance answers its own only to a signed request)."""
    import datetime as dt

    from xlhedge.market.binance_brackets import shipped

    data = shipped()
    age = ((today or dt.date.today()) - dt.date.fromisoformat(data["as_of"])).days
    return Check("binance brackets", INFO, f"{len(data['brackets'])} contracts' maintenance tiers shipped as of "
                                           f"{data['as_of']} ({age} days old); for a large short compare them with "
                                           "your account's Leverage & Margin page: a Settings row replaces them")


def run_checks(book=None, platform: str | None = None, home: Path | None = None,
               site_packages: Path | None = None, network: bool = True, timeout: float = 8.0,
               installed_xlwings: str | None = "auto", python: tuple | None = None) -> list[Check]:
    """All checks, for this machine unless ``platform``/``home``/``site_packages`` say otherwise."""
    from xlhedge.bridge import site_packages as here

    if installed_xlwings == "auto":
        try:
            import xlwings

            installed_xlwings = xlwings.__version__
        except ImportError:
            installed_xlwings = None
    book = Path(book) if book else None
    checks = check_versions(installed_xlwings, tuple(python or sys.version_info[:3]))
    checks.append(check_backtest_compiler())
    checks.append(check_shipped_brackets())
    if X.platform_name(platform) == "linux":  # no Excel: the command line is all there is to check
        checks += check_runtime_files(platform, home, Path(sys.executable))
    else:
        config_checks, interpreter = check_configs(book, platform, home)
        checks += check_runtime_files(platform, home, interpreter or Path(sys.executable))
        checks += config_checks
        checks.append(check_bridge(site_packages or here()))
    if book is not None:
        checks += check_workbook(book)
        if checks[-1].name in ("workbook VBA", "workbook code"):  # an xlhedge workbook, readable
            checks.append(check_formulas(book, lite=checks[-1].name == "workbook code"))
    if network:
        checks += check_exchanges(timeout)
    return checks


def format_checks(checks: list[Check]) -> str:
    """A table: check, status, what was found; a "fix:" line under each failure."""
    width = max(len(c.name) for c in checks)
    lines = []
    for c in checks:
        lines.append(f"{c.name:<{width}}  {c.status:<4}  {c.detail}")
        if c.fix and c.status in (FAIL, WARN):
            lines.append(f"{'':<{width}}        fix: {c.fix}")
    failed = sum(c.status == FAIL for c in checks)
    lines.append(f"{failed} problem{'s' if failed != 1 else ''} found." if failed else "Everything checked is fine.")
    return "\n".join(lines)
