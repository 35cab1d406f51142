"""Writing a user's file safely: refused while Excel has it open or it is read-only, replaced atomically.

Every command that changes a workbook (refresh, backtest, upgrade-book, template
``--force``) writes a temporary file beside it and replaces the original only
once the new one is complete, through :func:`replaced_atomically`: one place
for the checks and for the messages, which always name the user's file.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

#: Excel keeps this owner file beside a workbook while it has the workbook open ("~$" + its name).
LOCK_PREFIX = "~$"


class NotWritable(PermissionError):
    """The file must not or cannot be written now; ``str()`` is the one line to show."""

    def __init__(self, message: str, path: Path):
        super().__init__(message)
        self.filename = str(path)
        self.message = message

    def __str__(self) -> str:
        return self.message


def excel_lock_file(path: Path) -> Path:
    """Where Excel puts its owner file while ``path`` is open."""
    return Path(path).with_name(LOCK_PREFIX + Path(path).name)


def check_writable(path: Path) -> None:
    """Raise :class:`NotWritable` when ``path`` is open in Excel (its lock file is beside it), is
    read-only, or sits in a folder that cannot be written; a file that does not exist yet is fine
    when its folder exists and can be written."""
    path = Path(path)
    if excel_lock_file(path).exists():
        raise NotWritable(f"{path} is open in Excel ({excel_lock_file(path).name} is beside it): close it in "
                          "Excel first, or it would keep a stale copy and refuse to save", path)
    writable = stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH
    if path.exists() and (not path.stat().st_mode & writable or not os.access(path, os.W_OK)):
        raise NotWritable(f"{path} is read-only: make it writable (file properties) or copy it", path)
    folder = path.parent
    if not folder.is_dir():
        raise NotWritable(f"no such folder: {folder} (create it first, or choose another --out)", path)
    if not os.access(folder, os.W_OK):
        raise NotWritable(f"cannot write in {folder}: permission denied", path)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def replaced_atomically(path: Path) -> Iterator[Path]:
    """A temporary file beside ``path`` to write; on leaving the block without an error it replaces
    ``path`` (keeping its permissions), otherwise it is removed and ``path`` is untouched.

    Raises
    ------
    NotWritable
        Before anything is written (see :func:`check_writable`), or when the system refuses the write;
        the message names ``path``, never the temporary file.
    """
    path = Path(path)
    check_writable(path)
    try:
        fd, name = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=path.suffix, dir=path.parent)
    except PermissionError:
        raise NotWritable(f"cannot write in {path.parent}: permission denied", path) from None
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        with contextlib.suppress(OSError):  # the original's permissions, or a new file's usual ones
            os.chmod(tmp, path.stat().st_mode & 0o777 if path.exists() else 0o666 & ~_umask())
        try:
            os.replace(tmp, path)
        except PermissionError:
            raise NotWritable(f"cannot replace {path}: permission denied (is it open in Excel?)", path) from None
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()
