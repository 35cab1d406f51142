"""The xlwings side of an Excel install: one pinned version, where xlwings reads its settings.

Facts from xlwings 0.37.8's own VBA (``xlwings.bas``) and Python:

* The workbook's VBA is tied to one xlwings version: on Windows it loads
  ``xlwings64-<version>.dll`` from the interpreter's folder or the folder above
  it (a virtual environment's root); on the Mac it calls
  ``xlwings-<version>.applescript`` in ``~/Library/Application Scripts/com.microsoft.Excel``.
* ``GetConfig`` reads a key from the workbook's ``xlwings.conf`` sheet, then a
  ``xlwings.conf`` file beside the workbook, then the user file: Windows
  ``%USERPROFILE%\\.xlwings\\xlwings.conf``, Mac
  ``~/Library/Containers/com.microsoft.Excel/Data/xlwings.conf`` (Excel's
  sandbox; xlwings' Python reads the same file). A key on the sheet wins even
  when its value is empty.
* The VBA reads these files with ``Open ... For Input`` / ``Input #``: lines of
  ``"KEY","VALUE"`` in the system's ANSI code page on Windows.

``python -m xlhedge.xlwings_setup set-config --interpreter PATH`` (and
``remove-config``) is what both installers run, so the file is written the
same way, in the encoding the VBA reads.
"""

from __future__ import annotations

import argparse
import codecs
import csv
import io
import os
import sys
from pathlib import Path

#: The xlwings whose VBA the template carries. pyproject.toml pins the same version
#: (tests/test_xlwings_setup.py checks the pin, this constant, the installed package and
#: the committed workbook's VBA agree).
XLWINGS_VERSION = "0.37.8"
#: The oldest Python that xlwings release installs on.
PYTHON_REQUIRED = (3, 11)
#: Keys the installers own in the user config file.
UDF_MODULE = "xlhedge.udfs"


#: Environment variable that makes the installers and doctor act as on another system (for the tests):
#: windows, mac or linux (also Darwin/Linux, as ``uname -s`` says them).
PLATFORM_ENV = "XLHEDGE_PLATFORM"


def sys_platform(name: str | None) -> str | None:
    """The ``sys.platform`` value for "windows", "mac" or "linux" (any case; Darwin too); None for none."""
    return {"windows": "win32", "mac": "darwin", "darwin": "darwin", "linux": "linux"}.get((name or "").lower())


def platform_name(platform: str | None = None) -> str:
    """"windows", "mac" or "linux" for a ``sys.platform`` value (default: ``XLHEDGE_PLATFORM``, else this
    machine)."""
    platform = platform or sys_platform(os.environ.get(PLATFORM_ENV)) or sys.platform
    if platform.startswith("win"):
        return "windows"
    return "mac" if platform == "darwin" else "linux"


def interpreter_key(platform: str | None = None) -> str:
    return "INTERPRETER_MAC" if platform_name(platform) == "mac" else "INTERPRETER_WIN"


def user_config_path(platform: str | None = None, home: Path | None = None) -> Path:
    """The user-level xlwings.conf that Excel's xlwings VBA reads on this platform."""
    home = Path(home) if home is not None else Path.home()
    if platform_name(platform) == "mac":
        return home / "Library" / "Containers" / "com.microsoft.Excel" / "Data" / "xlwings.conf"
    return home / ".xlwings" / "xlwings.conf"


def config_encoding(platform: str | None = None) -> str:
    """What VBA's ``Open ... For Input`` reads: the ANSI code page on Windows ("mbcs"), else UTF-8.

    Off Windows (the tests), "mbcs" does not exist: a Western code page stands in for it.
    """
    if platform_name(platform) != "windows":
        return "utf-8"
    try:
        codecs.lookup("mbcs")
        return "mbcs"
    except LookupError:
        return "cp1252"


def _decode(raw: bytes, platform: str | None) -> str:
    """A config file's text: UTF-8 if it is, else the platform's code page (never fails)."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode(config_encoding(platform) if platform_name(platform) == "windows" else "latin-1",
                          errors="replace")


def applescript_path(home: Path | None = None) -> Path:
    """Where Excel for Mac finds the AppleScript that RunPython calls."""
    home = Path(home) if home is not None else Path.home()
    return (home / "Library" / "Application Scripts" / "com.microsoft.Excel"
            / f"xlwings-{XLWINGS_VERSION}.applescript")


def install_applescript(home: Path | None = None) -> Path:
    """Put the pinned xlwings' RunPython AppleScript where Excel for Mac runs scripts from.

    The same file ``xlwings runpython install`` copies (that command exists only on a Mac).
    """
    import shutil

    import xlwings

    source = Path(xlwings.__file__).parent / f"xlwings-{XLWINGS_VERSION}.applescript"
    if not source.is_file():
        raise OSError(f"{source.name} is not in the installed xlwings {xlwings.__version__}; "
                      f"pip install xlwings=={XLWINGS_VERSION}")
    target = applescript_path(home)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    return target


def dll_name() -> str:
    return f"xlwings64-{XLWINGS_VERSION}.dll"


def dll_candidates(interpreter: Path) -> list[Path]:
    """Where the VBA looks for the DLL: beside python.exe, then one folder up (a venv's root)."""
    interpreter = Path(interpreter)
    return [interpreter.parent / dll_name(), interpreter.parent.parent / dll_name()]


def parse_config(text: str) -> dict[str, str]:
    """``"KEY","VALUE"`` lines (VBA's ``Write #`` format) -> {KEY (upper case): value}."""
    out = {}
    for row in csv.reader(io.StringIO(text)):
        if row and row[0].strip():
            out[row[0].strip().upper()] = row[1] if len(row) > 1 else ""
    return out


def read_config(path: Path, platform: str | None = None) -> dict[str, str] | None:
    """The keys of a config file; None when it does not exist."""
    path = Path(path)
    if not path.is_file():
        return None
    return parse_config(_decode(path.read_bytes(), platform))


def edit_config(path: Path, set_keys: dict[str, str] | None = None, remove: tuple[str, ...] = (),
                platform: str | None = None) -> Path:
    """Set or remove keys in an xlwings.conf, keeping every other line as it was.

    Written in the encoding the VBA reads (the ANSI code page on Windows); a value that
    code page cannot hold (a user name in another script) raises ``ValueError`` saying so,
    rather than writing a path Excel would read wrongly.
    """
    path = Path(path)
    set_keys = {k.upper(): v for k, v in (set_keys or {}).items()}
    drop = set(set_keys) | {k.upper() for k in remove}
    encoding = config_encoding(platform)
    lines = []
    if path.is_file():
        lines = [ln for ln in _decode(path.read_bytes(), platform).splitlines()
                 if not (ln.strip() and next(csv.reader([ln]), [""])[0].strip().upper() in drop)]
    lines += [f'"{k}","{v}"' for k, v in set_keys.items()]
    text = "\n".join(lines) + ("\n" if lines else "")
    try:
        data = text.replace("\n", "\r\n" if platform_name(platform) == "windows" else "\n").encode(encoding)
    except UnicodeEncodeError as exc:
        raise ValueError(f"{path}: '{exc.object[exc.start:exc.end]}' cannot be written in this Windows "
                         "code page, so Excel could not read the path; install xlhedge under a folder "
                         "whose name has only characters of your system's language") from None
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".xlhedge-tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return path


def main(argv: list[str] | None = None) -> int:
    """``set-config --interpreter PATH`` / ``remove-config`` / ``config-path`` / ``install-applescript`` /
    ``applescript-path`` / ``remove-applescript`` (what the installers run); prints the file it wrote,
    removed or would read. ``remove-config`` deletes the file when no other key is left in it."""
    parser = argparse.ArgumentParser(prog="python -m xlhedge.xlwings_setup")
    parser.add_argument("action", choices=("set-config", "remove-config", "config-path", "install-applescript",
                                           "applescript-path", "remove-applescript"))
    parser.add_argument("--interpreter", default=sys.executable)
    parser.add_argument("--home", help="home folder (default: yours)")
    parser.add_argument("--platform", help="windows, mac or linux (default: this machine)")
    args = parser.parse_args(argv)
    platform = sys_platform(args.platform)
    path = user_config_path(platform, Path(args.home) if args.home else None)
    key = interpreter_key(platform)
    try:
        if args.action == "set-config":
            edit_config(path, {key: args.interpreter, "UDF MODULES": UDF_MODULE}, platform=platform)
        elif args.action == "remove-config" and path.exists():
            edit_config(path, remove=(key, "UDF MODULES"), platform=platform)
            if not read_config(path, platform):  # nothing of the user's left: the file was ours alone
                path.unlink()
        elif args.action == "install-applescript":
            path = install_applescript(Path(args.home) if args.home else None)
        elif args.action in ("applescript-path", "remove-applescript"):
            path = applescript_path(Path(args.home) if args.home else None)
            if args.action == "remove-applescript" and path.exists():
                path.unlink()
    except (OSError, ValueError) as exc:
        print(f"xlhedge: {exc}", file=sys.stderr)
        return 1
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
