"""The ``xlhedge`` command line (also ``python -m xlhedge``)."""

from __future__ import annotations

import argparse
import sys

from xlhedge import __version__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="xlhedge",
        description="Insure spot crypto holdings with short perpetual futures.",
    )
    parser.add_argument("--version", action="version", version=f"xlhedge {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    parser.add_subparsers(dest="command", metavar="COMMAND")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
