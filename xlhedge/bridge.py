"""Keep the Refresh button working when a user saves the workbook under another name.

The button runs xlwings' ``SampleCall`` macro, which executes
``python -c "...prepare_sys_path(...); import <workbook name>;<workbook name>.main()"``.
For ``xlhedge.xlsm`` that imports this package. For ``My Hedge (2).xlsm`` it
would be a syntax error, and for ``plan.xlsm`` an import of a module that does
not exist.

The installer puts a one-line ``xlhedge_bridge.pth`` into xlhedge's private
virtual environment. Python runs it at start-up, before it compiles the ``-c``
command; :func:`intercept` then recognises SampleCall's command for a workbook
that is an xlhedge workbook, runs the refresh for it and exits. Every other
command (the UDF server, ``xlhedge.xlsm``'s own import, a workbook with its own
module beside it) runs untouched.

``python -m xlhedge.bridge install|uninstall|status`` manages the file.
"""

from __future__ import annotations

import ast
import atexit
import contextlib
import os
import re
import sys
import sysconfig
import zipfile
from pathlib import Path

PTH_NAME = "xlhedge_bridge.pth"
PTH_LINE = "import xlhedge.bridge; xlhedge.bridge.intercept()\n"
# prepare_sys_path("...") on Windows, prepare_sys_path('...') on the Mac: a Python string literal
_SAMPLECALL = re.compile(
    r"""prepare_sys_path\((?P<lit>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')\)\s*;\s*"""
    r"import (?P<mod>[^;]+?)\s*;\s*(?P=mod)\.main\(\)\s*$",
    re.S,
)


def parse_command(command: str) -> tuple[str, Path] | None:
    """(module name, workbook path) of a SampleCall command, or None for anything else.

    The arguments are the string literal xlwings writes into the command (backslashes
    doubled on Windows, apostrophes escaped on the Mac), read back exactly as Python
    reads it. A OneDrive or SharePoint URL (Excel's FullName of a synced workbook) is
    turned into the local file with xlwings' own resolver and the folders the
    workbook's config gives.
    """
    match = _SAMPLECALL.search(command)
    if not match:
        return None
    try:
        args = ast.literal_eval(match["lit"]).split(";")
    except (ValueError, SyntaxError):
        return None
    fullname = args[2] if len(args) > 2 and args[2] else (args[1] if len(args) > 1 else "")
    if not fullname:
        return None
    if "://" in fullname:
        fullname = _local_path(fullname, args)
        if fullname is None:
            return None
    return match["mod"].strip(), Path(fullname)


def _local_path(url: str, args: list[str]) -> str | None:
    """The synced local file of a OneDrive/SharePoint URL, or None when it cannot be found."""
    try:
        from xlwings.utils import fullname_url_to_local_path

        extra = [a or None for a in (args[3:6] + [""] * 3)[:3]]
        return fullname_url_to_local_path(url, *extra)
    except Exception:
        return None


def is_xlhedge_workbook(path: Path) -> bool:
    """A quick look inside the zip: does it have the Funding and xlwings.conf sheets?"""
    try:
        with zipfile.ZipFile(path) as z:
            names = z.read("xl/workbook.xml").decode("utf-8", "replace")
    except (OSError, KeyError, zipfile.BadZipFile):
        return False
    return 'name="Funding"' in names and 'name="Portfolio"' in names


def needs_bridge(module: str, book: Path) -> bool:
    """True when Python could not run SampleCall's command itself for this workbook."""
    if module == "xlhedge":
        return False
    if module != book.stem:
        return False
    if module.isidentifier() and (book.parent / f"{module}.py").exists():
        return False  # the user keeps a module of that name beside the workbook
    return is_xlhedge_workbook(book)


def intercept(argv: list[str] | None = None, run=None) -> bool:
    """Called at interpreter start (from the .pth file). Never raises.

    Returns False when the command is not SampleCall's for a renamed xlhedge
    workbook (Python then carries on as usual); otherwise runs the refresh and
    exits the process.
    """
    try:
        argv = list(sys.orig_argv if argv is None else argv)
        if "-c" not in argv:
            return False
        command = argv[argv.index("-c") + 1]
        parsed = parse_command(command)
        if parsed is None or not needs_bridge(*parsed):
            return False
        book = parsed[1]
    except Exception:
        return False
    if run is not None:
        run(book)
        return True
    code = 0
    try:
        from xlhedge.buttons import clicked

        clicked(str(book))
    except Exception as exc:
        _say(f"xlhedge refresh failed: {exc}")
        code = 1
    _finish(code)
    return True  # not reached


def _say(text: str) -> None:
    """Write to stderr if there is one (under pythonw.exe there is none). xlwings shows it in Excel."""
    if sys.stderr is not None:
        with contextlib.suppress(Exception):
            print(text, file=sys.stderr)


def _finish(code: int) -> None:
    """End the process the way a normal run ends, before Python has compiled the -c command.

    The streams are flushed when they exist, then the exit handlers run: on the Mac,
    xlwings registers one that calls the workbook's ``CleanUp`` macro, which resets the
    status bar and shows any error from the log; skipping it left "Running..." on screen.
    """
    for stream in (sys.stdout, sys.stderr):
        if stream is not None:
            with contextlib.suppress(Exception):
                stream.flush()
    with contextlib.suppress(Exception):
        atexit._run_exitfuncs()
    os._exit(code)


def site_packages() -> Path:
    return Path(sysconfig.get_paths()["purelib"])


def install(target: Path | None = None) -> Path:
    """Write the .pth file into this interpreter's site-packages (idempotent)."""
    path = (target or site_packages()) / PTH_NAME
    path.write_text(PTH_LINE)
    return path


def uninstall(target: Path | None = None) -> bool:
    path = (target or site_packages()) / PTH_NAME
    if path.exists():
        path.unlink()
        return True
    return False


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    action = args[0] if args else "status"
    if action == "install":
        print(f"installed {install()}")
    elif action == "uninstall":
        print("removed" if uninstall() else "not installed")
    elif action == "status":
        path = site_packages() / PTH_NAME
        print(f"{'installed' if path.exists() else 'not installed'}: {path}")
    else:
        print("usage: python -m xlhedge.bridge install|uninstall|status", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
