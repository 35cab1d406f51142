"""A clear answer to every mistake: option errors in one line, workbooks open in Excel or read-only
refused before anything is written, messages that name the user's file, never a stray traceback."""

from __future__ import annotations

import errno
import os
import shutil
import stat
import subprocess
import sys

import openpyxl
import pytest

from tests.byte_compare import first_difference
from xlhedge.cli import USAGE_ERROR, main
from xlhedge.workbook import files


@pytest.mark.parametrize(("args", "said"), [
    (["backtest", "--fee", "abc"], "argument --fee: invalid float value: 'abc' (xlhedge backtest --help)"),
    (["backtest", "--policy", "sideways"], "argument --policy: invalid choice: 'sideways'"),
    (["refresh", "book.xlsm", "--timeout", "abc"], "argument --timeout: 'abc' is not a number"),
    (["refresh", "book.xlsm", "--timeout", "-5"], "argument --timeout: must be a number above 0 (got -5)"),
    (["funding", "--timeout", "0"], "argument --timeout: must be a number above 0 (got 0)"),
    (["refresh"], "the following arguments are required: book (xlhedge refresh --help)"),
    (["--bogus"], "unrecognized arguments: --bogus (xlhedge --help)"),
    (["sideways"], "argument COMMAND: invalid choice: 'sideways'"),
])
def test_an_option_error_is_one_line_with_the_usage_status(capsys, args, said):
    with pytest.raises(SystemExit) as ended:
        main(args)
    assert ended.value.code == USAGE_ERROR == 2
    err = capsys.readouterr().err
    assert err.startswith("xlhedge: error: ") and said in err
    assert len(err.strip().splitlines()) == 1 and "usage:" not in err


def test_help_still_shows_the_usage(capsys):
    with pytest.raises(SystemExit) as ended:
        main(["backtest", "--help"])
    assert ended.value.code == 0 and "usage: xlhedge backtest" in capsys.readouterr().out


def test_template_into_a_missing_folder_is_refused_and_creates_nothing(tmp_path, capsys):
    assert main(["template", "--out", str(tmp_path / "nowhere" / "x.xlsm")]) == 1
    assert capsys.readouterr().err.strip() == (
        f"xlhedge: error: no such folder: {tmp_path / 'nowhere'} (create it first, or choose another --out)")
    assert not (tmp_path / "nowhere").exists()


@pytest.fixture
def locked(book):
    """The template with Excel's owner file beside it, as while Excel has it open."""
    (book.parent / f"~${book.name}").write_bytes(b"\x0bExcel user")
    return book


@pytest.mark.parametrize("command", [
    ["refresh", "{book}", "--offline"],
    ["backtest", "{book}"],
    ["template", "--out", "{book}", "--force"],
])
def test_a_workbook_open_in_excel_is_refused_and_left_as_it_was(locked, capsys, command):
    before = locked.read_bytes()
    assert main([a.format(book=locked) for a in command]) == 1
    err = capsys.readouterr().err
    assert err.strip() == (f"xlhedge: error: {locked} is open in Excel (~${locked.name} is beside it): close it in "
                           "Excel first, or it would keep a stale copy and refuse to save")
    assert first_difference(before, locked.read_bytes(), locked.name) is None
    assert sorted(p.name for p in locked.parent.iterdir()) == sorted([locked.name, f"~${locked.name}"])


@pytest.mark.parametrize("command", [["refresh", "{book}", "--offline"], ["backtest", "{book}"]])
def test_a_read_only_workbook_is_refused_and_left_as_it_was(book, capsys, command):
    before = book.read_bytes()
    book.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)  # chmod 444 (refused even for root)
    try:
        assert main([a.format(book=book) for a in command]) == 1
        assert capsys.readouterr().err.strip() == (
            f"xlhedge: error: {book} is read-only: make it writable (file properties) or copy it")
        assert first_difference(before, book.read_bytes(), book.name) is None
    finally:
        book.chmod(0o644)


def test_a_refused_write_names_the_users_file_not_the_temporary_one(book, capsys, monkeypatch):
    real_replace = os.replace

    def refuse(src, dst):  # what Windows says when another program holds the file
        if str(dst) == str(book):
            raise PermissionError(errno.EACCES, "Permission denied", str(src))
        return real_replace(src, dst)

    monkeypatch.setattr(files.os, "replace", refuse)
    before = book.read_bytes()
    assert main(["refresh", str(book), "--offline"]) == 1
    err = capsys.readouterr().err.strip()
    assert err == f"xlhedge: error: cannot replace {book}: permission denied (is it open in Excel?)"
    assert ".xlhedge-" not in err and "xlhedge-build" not in err
    assert first_difference(before, book.read_bytes(), book.name) is None
    assert [p.name for p in book.parent.iterdir()] == [book.name]  # no temporary file left behind


def test_an_unwritable_folder_names_the_folder(tmp_path, monkeypatch, capsys):
    real_mkstemp = files.tempfile.mkstemp

    def refuse(*args, **kwargs):  # the folder refuses new files; the system's temporary folder does not
        if str(kwargs.get("dir")) == str(tmp_path):
            raise PermissionError(errno.EACCES, "Permission denied", str(tmp_path / ".x-abc123.xlsm"))
        return real_mkstemp(*args, **kwargs)

    monkeypatch.setattr(files.tempfile, "mkstemp", refuse)
    monkeypatch.setattr(files.os, "access", lambda path, mode: True)
    assert main(["template", "--out", str(tmp_path / "x.xlsm")]) == 1
    assert capsys.readouterr().err.strip() == f"xlhedge: error: cannot write in {tmp_path}: permission denied"


def test_a_new_template_gets_the_usual_permissions(tmp_path):
    mask = os.umask(0o022)
    os.umask(mask)
    assert main(["template", "--out", str(tmp_path / "x.xlsm")]) == 0
    assert stat.S_IMODE((tmp_path / "x.xlsm").stat().st_mode) == 0o666 & ~mask


def test_an_ordinary_macro_workbook_gets_one_line_and_nothing_more(tmp_path, built_template):
    """openpyxl keeps a workbook's VBA parts in an in-memory zip; left open, it printed
    'Exception ignored in ZipFile.__del__' at exit after the error line."""
    other = tmp_path / "xlhedge.xlsm"
    wb = openpyxl.load_workbook(built_template, keep_vba=True)
    for name in ("Portfolio", "Funding", "Settings"):
        del wb[name]
    wb.save(other)
    for command in (["backtest", str(other)], ["refresh", str(other), "--offline"], ["plan", str(other)]):
        out = subprocess.run([sys.executable, "-m", "xlhedge", *command], capture_output=True, text=True,
                             timeout=120)
        assert out.returncode == 1
        assert out.stderr == ("xlhedge: error: xlhedge.xlsm is not an xlhedge workbook "
                              "(no Portfolio, Funding, Settings sheet)\n"), command


def test_lock_file_and_read_only_checks_by_hand(tmp_path):
    book = tmp_path / "b.xlsm"
    book.write_bytes(b"x")
    files.check_writable(book)  # an ordinary file: fine
    (tmp_path / "~$b.xlsm").write_bytes(b"")
    with pytest.raises(files.NotWritable, match="open in Excel"):
        files.check_writable(book)
    shutil.move(tmp_path / "~$b.xlsm", tmp_path / "~$other.xlsm")  # another workbook's owner file
    files.check_writable(book)
    with pytest.raises(files.NotWritable, match="no such folder"):
        files.check_writable(tmp_path / "missing" / "b.xlsm")
