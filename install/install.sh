#!/usr/bin/env bash
# xlhedge installer for macOS (Excel) and Linux (command line only).
#
#   bash install/install.sh              install or update (safe to run again)
#   bash install/install.sh --uninstall  remove xlhedge (your workbooks are kept)
#
# Options: --prefix DIR (default ~/.xlhedge), --source SPEC (a path or pip spec;
# default: this checkout), --no-excel (skip the Excel steps on a Mac).
# XLHEDGE_PLATFORM=mac runs the Mac steps on another system (for the tests).
set -euo pipefail

PREFIX="${XLHEDGE_HOME:-$HOME/.xlhedge}"
SOURCE=""
EXCEL=1
UNINSTALL=0
BIN_DIR="$HOME/.local/bin"
DOCS="$HOME/Documents"
PY_MIN="3.11"  # what the pinned xlwings needs (xlhedge/xlwings_setup.py: PYTHON_REQUIRED)

say() { printf '%s\n' "xlhedge: $*"; }
die() { printf '%s\n' "xlhedge: $*" >&2; exit 1; }

while [ $# -gt 0 ]; do
  case "$1" in
    --uninstall) UNINSTALL=1 ;;
    --prefix) PREFIX="$2"; shift ;;
    --source) SOURCE="$2"; shift ;;
    --no-excel) EXCEL=0 ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
  shift
done

VENV="$PREFIX/venv"
PY="$VENV/bin/python"
case "${XLHEDGE_PLATFORM:-$(uname -s)}" in
  Darwin|mac) PLATFORM=mac ;;
  Linux) PLATFORM=linux ;;
  *) die "use install/install.ps1 on Windows" ;;
esac

# The user-level xlwings.conf Excel for Mac reads is in its sandbox:
# ~/Library/Containers/com.microsoft.Excel/Data/xlwings.conf (xlhedge.xlwings_setup knows where).
edit_conf() {  # edit_conf set|remove
  "$PY" -m xlhedge.xlwings_setup "$1-config" --platform mac --interpreter "$PY" >/dev/null
}

# Set when this installer put xlwings' RunPython AppleScript in Excel's scripts folder (it was not
# there before), so that --uninstall removes it and never one another xlwings workbook relies on.
APPLESCRIPT_OURS="$PREFIX/applescript-installed-by-xlhedge"

if [ "$UNINSTALL" = 1 ]; then
  if [ -x "$PY" ] && [ "$PLATFORM" = mac ] && [ "$EXCEL" = 1 ]; then
    edit_conf remove || true
    if [ -e "$APPLESCRIPT_OURS" ]; then
      "$PY" -m xlhedge.xlwings_setup remove-applescript >/dev/null || true
    fi
  fi
  rm -f "$APPLESCRIPT_OURS"
  if [ -L "$BIN_DIR/xlhedge" ]; then rm -f "$BIN_DIR/xlhedge"; fi
  rm -rf "$VENV"
  rmdir "$PREFIX" 2>/dev/null || true
  say "removed. Your workbooks (e.g. $DOCS/xlhedge.xlsm) were left where they are."
  exit 0
fi

# Step: find Python 3.11 or newer.
PYTHON=""
for candidate in python3.13 python3.12 python3.11 python3 python; do
  if command -v "$candidate" >/dev/null 2>&1 &&
     "$candidate" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
    PYTHON="$(command -v "$candidate")"
    break
  fi
done
if [ -z "$PYTHON" ]; then
  if [ "$PLATFORM" = mac ]; then
    die "Python $PY_MIN+ not found. Install it from https://www.python.org/downloads/macos/ (or: brew install python@3.12), then run this again."
  fi
  die "Python $PY_MIN+ not found. Install it with your package manager (e.g. sudo apt install python3 python3-venv), then run this again."
fi
say "using $PYTHON ($("$PYTHON" -c 'import platform; print(platform.python_version())'))"

# Step: a private virtual environment (reused when it already works).
if [ -x "$PY" ] && "$PY" -c 'import sys' 2>/dev/null; then
  say "updating $VENV"
else
  rm -rf "$VENV"
  mkdir -p "$PREFIX"
  "$PYTHON" -m venv "$VENV" || die "could not create a virtual environment (on Debian/Ubuntu: sudo apt install python3-venv)"
fi

# Step: install xlhedge into it.
if [ -z "$SOURCE" ]; then
  HERE="$(cd "$(dirname "$0")/.." && pwd)"
  if [ -f "$HERE/pyproject.toml" ]; then SOURCE="$HERE"; else SOURCE="xlhedge"; fi
fi
"$PY" -m pip install --quiet --upgrade pip >/dev/null 2>&1 || true
"$PY" -m pip install --quiet --upgrade "$SOURCE" || die "pip could not install $SOURCE"

# Step: put the command on the PATH.
mkdir -p "$BIN_DIR"
ln -sfn "$VENV/bin/xlhedge" "$BIN_DIR/xlhedge"
say "installed the command: $BIN_DIR/xlhedge"
case ":$PATH:" in *":$BIN_DIR:"*) ;; *) say "add $BIN_DIR to your PATH to run 'xlhedge' from anywhere" ;; esac

# Step: Excel (macOS only).
# The workbook carries xlwings' own VBA (RunPython, ImportPythonUDFs): no add-in is needed, and
# the add-in's ribbon switch "Use UDF Server" would bypass the bridge. RunPython on a Mac calls an
# AppleScript that must sit in Excel's scripts folder (what 'xlwings runpython install' does).
if [ "$PLATFORM" = mac ] && [ "$EXCEL" = 1 ]; then
  if [ ! -e "$("$PY" -m xlhedge.xlwings_setup applescript-path)" ]; then touch "$APPLESCRIPT_OURS"; fi
  "$PY" -m xlhedge.xlwings_setup install-applescript >/dev/null || die "could not install xlwings' RunPython AppleScript"
  edit_conf set || die "could not write the xlwings settings Excel reads"
  say "wrote $("$PY" -m xlhedge.xlwings_setup config-path --platform mac)"
  "$PY" -m xlhedge.bridge install >/dev/null
  mkdir -p "$DOCS"
  if [ -e "$DOCS/xlhedge.xlsm" ]; then
    say "kept your existing $DOCS/xlhedge.xlsm (a fresh copy: xlhedge template --out FILE)"
  else
    "$VENV/bin/xlhedge" template --out "$DOCS/xlhedge.xlsm" >/dev/null
    say "copied the workbook to $DOCS/xlhedge.xlsm"
  fi
  say "next: open $DOCS/xlhedge.xlsm, allow macros, click 'Refresh market data'. Check the set-up any time with: xlhedge doctor"
  say "note: Excel for Mac runs the Refresh button, but not the xlhedge formulas (classic xlwings UDFs are Windows-only): they show #NAME? there. 'xlhedge plan FILE' prints the same numbers."
else
  if [ "$PLATFORM" = linux ]; then
    say "Linux has no desktop Excel: installed the command line only (no add-in, no workbook copy)."
  fi
  say "next: xlhedge demo   (then: xlhedge plan xlhedge.xlsm, xlhedge funding --symbols BTC,ETH)"
fi
