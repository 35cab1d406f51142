"""The ``xlhedge`` command line (also ``python -m xlhedge``).

Errors a user can cause print one line, ``xlhedge: error: ...``, and exit with
status 1; a mistake in the command's words (an unknown option, a value that is
not a number) prints one such line and exits with status 2. ``--help`` shows the
usage; ``--debug`` shows the traceback instead of the line.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from pathlib import Path

from xlhedge.backtest import DATA_SOURCES
from xlhedge.engine import defaults as D
from xlhedge.engine.policy import SHEET_POLICIES
from xlhedge.market.exchanges import EXCHANGES
from xlhedge.version import __version__

FORMATS = ("table", "csv", "json")


class UserError(Exception):
    """A problem the user can fix; printed as one line."""


#: Exit status of a mistake in the command's words (argparse's convention).
USAGE_ERROR = 2


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one ``xlhedge: error:`` line (the usage stays for ``--help``)."""

    def error(self, message: str):
        command = self.prog.split(" ", 1)[1] if " " in self.prog else ""
        hint = f" (xlhedge {command} --help)" if command else " (xlhedge --help)"
        self.exit(USAGE_ERROR, f"xlhedge: error: {message}{hint}\n")


def positive(text: str) -> float:
    """An option value that must be a number above 0 (seconds, sizes)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a number above 0 (got {text})")
    return value


EXCHANGE_HELP = "comma-separated, or all: " + ", ".join(EXCHANGES) + " (default: {default})"


def _add_exchange_args(p, symbols=True, default="$XLHEDGE_EXCHANGES, else all"):
    p.add_argument("--exchanges", "--exchange", dest="exchanges", help=EXCHANGE_HELP.format(default=default))
    if symbols:
        p.add_argument("--symbols", help="coins or symbols to keep, e.g. BTC,ETH,BTCUSDC (default all)")
    p.add_argument("--timeout", type=positive, default=10.0, help="seconds the fetch may take (default 10)")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="xlhedge",
        description="Insure spot crypto holdings with short perpetual futures: hedge plans, funding, "
                    "and the Excel workbook.")
    parser.add_argument("--version", action="version", version=f"xlhedge {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("demo", help="build the workbook, refresh it and print the sample hedge plan")
    p.add_argument("--out", default="xlhedge.xlsm",
                   help="the workbook (default ./xlhedge.xlsm); an existing one is kept and refreshed")
    p.add_argument("--force", action="store_true", help="replace an existing workbook with a fresh template")
    p.add_argument("--offline", action="store_true", help="use the bundled sample data, no network")
    p.add_argument("--timeout", type=positive, default=8.0, help="seconds for the live fetch (default 8)")

    p = sub.add_parser("plan", help="print the hedge plan of a workbook (its Portfolio and Settings)")
    p.add_argument("book", nargs="?", default="xlhedge.xlsm",
                   help="path to an xlhedge workbook (default ./xlhedge.xlsm, as 'xlhedge demo' writes it)")
    p.add_argument("--format", choices=FORMATS, default="table")

    p = sub.add_parser("venues", help="print where to short each coin: every venue's funding, fees, cost "
                                      "and order, the best one marked (a workbook's Venues sheet)")
    p.add_argument("book", nargs="?", default="xlhedge.xlsm",
                   help="path to an xlhedge workbook (default ./xlhedge.xlsm, as 'xlhedge demo' writes it)")
    p.add_argument("--format", choices=FORMATS, default="table")

    p = sub.add_parser("funding", help="print current funding rates from the exchanges")
    _add_exchange_args(p)
    p.add_argument("--format", choices=FORMATS, default="table")
    p.add_argument("--offline", action="store_true", help="show the bundled sample snapshot")

    p = sub.add_parser("refresh", help="refresh a workbook's Funding sheet without Excel")
    p.add_argument("book", help="path to an xlhedge workbook (.xlsm)")
    _add_exchange_args(p, symbols=False, default="the workbook's 'Exchanges to refresh' setting")
    p.add_argument("--offline", action="store_true", help="write the bundled sample snapshot")

    p = sub.add_parser("template", help="write a fresh copy of the workbook template")
    p.add_argument("--out", default="xlhedge.xlsm", help="output path (default ./xlhedge.xlsm)")
    p.add_argument("--force", action="store_true", help="replace the file if it exists (its edits are lost)")
    p.add_argument("--png", metavar="DIR", help="also render each sheet to DIR/sheet-*.png (needs LibreOffice)")
    p.add_argument("--lite", action="store_true",
                   help="the xlwings Lite edition (.xlsx with its Python inside: Mac and Excel on the web); "
                        "default --out xlhedge-lite.xlsx")

    p = sub.add_parser("doctor", help="check the Excel set-up (Python, xlwings, configs, bridge, exchanges)")
    p.add_argument("book", nargs="?", help="also check this workbook (its config sheet and VBA version)")
    p.add_argument("--no-network", action="store_true", help="skip the exchange checks")
    p.add_argument("--timeout", type=positive, default=8.0, help="seconds for the exchange checks (default 8)")

    p = sub.add_parser("upgrade-book", help="give a workbook the VBA of the installed xlwings (keeps your data)")
    p.add_argument("book", help="path to an xlhedge workbook (.xlsm)")

    p = sub.add_parser("backtest", help="replay the hedge on past prices and funding (demo data or live)")
    p.add_argument("book", nargs="?",
                   help="an xlhedge workbook: its Portfolio, Settings and Backtest sheet; the results are "
                        "written into it (default: the sample 5 BTC, 50 ETH, $100k cash, printed only)")
    p.add_argument("--start", help="first close, UTC date, e.g. 2022-01-01 (default: the last 365 days; the demo "
                                   "data: 2022-01-01 to 2024-01-01)")
    p.add_argument("--end", help="last close, UTC date, included (the close stamped on that date)")
    p.add_argument("--policy", choices=SHEET_POLICIES,
                   help="static: the base ratio; funding: the funding rule (and crowded longs when on); events: "
                        "funding and the event rule; sheet: every rule as the Settings switch it (default: the "
                        "Backtest sheet's, else funding)")
    p.add_argument("--ratio", type=float,
                   help="the base ratio, 0 to 1, in place of your outlook's, for every policy: static holds it, "
                        "the rules adjust it")
    p.add_argument("--fee", type=float, help=f"taker fee, fraction of the notional, 0 to 0.05 (default {D.TAKER_FEE})")
    p.add_argument("--slippage", type=float, help=f"fraction of the notional, 0 to 0.05 (default {D.SLIPPAGE})")
    p.add_argument("--data", choices=DATA_SOURCES,
                   help="auto (default): the exchange's real daily history (cached) when it answers, else the "
                        "demo; live: the exchange's only; demo: bundled (real funding, SYNTHETIC prices)")
    p.add_argument("--exchange", help="whose history (default: the workbook's default exchange, else binance)")
    p.add_argument("--ratios", metavar="CSV",
                   help="your own ratios (policy own): a date column, then ratio or one column per coin")

    p = sub.add_parser("history", help="download funding, price or index history to CSV")
    p.add_argument("kind", choices=("funding", "price", "index"),
                   help="price: the perpetual's candles; index: its index's (binance, bybit, okx, mexc)")
    p.add_argument("--exchange", required=True, help=" or ".join([", ".join(EXCHANGES[:-1]), EXCHANGES[-1]]))
    p.add_argument("--symbol", required=True,
                   help="exchange symbol: BTCUSDT (binance, bybit, weex), BTC (okx, hyperliquid), "
                        "BTC-USDT (bingx), BTC_USDT (mexc)")
    p.add_argument("--start", help="UTC date, e.g. 2025-01-01 (default: 30 days / 1 year back)")
    p.add_argument("--end", help="UTC date (default now)")
    p.add_argument("--interval", default="1d", help="candle length for prices: 1h, 4h or 1d")
    p.add_argument("--out", help="CSV file to write (default: print to the screen)")
    p.add_argument("--timeout", type=positive, default=120.0, help="seconds the download may take (default 120)")
    return parser


# ---------------------------------------------------------------- commands

#: What plan and venues say under a workbook whose formulas are not this version's template's.
OWN_FORMULAS_NOTE = ("Note: this workbook's formulas are not this xlhedge's template (edited, or made by an older "
                     "version), so these are its own formulas' numbers (xlhedge doctor BOOK says where). For the "
                     "current rules, copy your Portfolio and Settings into a new workbook: xlhedge template --out "
                     "NEW.xlsm")


def _book(path: str) -> Path:
    book = Path(path)
    if not book.exists():
        raise UserError(f"no such file: {book} (xlhedge template writes a fresh workbook; xlhedge demo one with "
                        "market data)")
    return book


def cmd_template(args) -> int:
    from xlhedge.workbook.template import build_template

    out = Path(args.out)
    if args.lite and args.out == "xlhedge.xlsm":
        out = Path("xlhedge-lite.xlsx")
    out = build_template(out, force=args.force, lite=args.lite)
    print(f"wrote {out}")
    if args.png:
        from xlhedge.workbook import render

        if not render.tools_available():
            raise UserError("rendering needs LibreOffice (soffice) and pdftoppm (poppler-utils)")
        for png in render.render_sheets(out, Path(args.png)):
            print(f"wrote {png}")
    return 0


def cmd_backtest(args) -> int:
    from xlhedge.backtest import BacktestError, format_summary, read_ratios, run_backtest
    from xlhedge.backtest_book import backtest_workbook

    choices = {"start": args.start, "end": args.end, "policy": args.policy, "ratio": args.ratio, "fee": args.fee,
               "slippage": args.slippage, "data": args.data, "exchange": args.exchange}
    try:
        if args.ratios:
            choices.update(policy="own", own=read_ratios(args.ratios))
        if args.book:
            run = backtest_workbook(_book(args.book), **choices)
        else:
            run = run_backtest({"BTC": 5, "ETH": 50}, 100_000, **{k: v for k, v in choices.items() if v is not None})
    except BacktestError as exc:
        raise UserError(str(exc)) from None
    print(format_summary(run))
    if args.book:
        print(f"Written to the Backtest sheet of {args.book}.")
    return 0


def cmd_refresh(args) -> int:
    from xlhedge.refresh import refresh_workbook

    result = refresh_workbook(_book(args.book), args.exchanges, args.offline, args.timeout)
    if result.warning:
        print(f"xlhedge: warning: {result.warning}", file=sys.stderr)
    if not args.offline and not result.answered:
        # the workbook was still written: every row kept, marked stale, and the status says why
        raise UserError(result.status.split(": ", 1)[-1])
    print(result.status)
    return 0


def _print_plan(book: Path, fmt: str) -> None:
    from xlhedge.plan import compute_plan, format_table, read_inputs
    from xlhedge.workbook import layout as L

    inputs = read_inputs(book)
    plan = compute_plan(inputs)
    if fmt == "csv":
        sys.stdout.write(plan.to_csv(index=False))
    elif fmt == "json":
        print(plan.to_json(orient="records", indent=1))
    else:
        horizon = float(inputs.settings["HorizonDays"]) if "HorizonDays" not in inputs.settings_problems else 0.0
        print(format_table(plan, horizon, list(inputs.settings_problems.values())))
        note = inputs.values.get((L.HEDGE, L.EVENT_NOTE_CELL))
        if isinstance(note, str) and note.strip():
            print(f"Event rule: {note}")
        if inputs.own_formulas:
            print(OWN_FORMULAS_NOTE)


def cmd_plan(args) -> int:
    _print_plan(_book(args.book), args.format)
    return 0


def cmd_venues(args) -> int:
    from xlhedge.plan import read_inputs
    from xlhedge.venues import for_export, format_venues, venue_table

    inputs = read_inputs(_book(args.book))
    table = venue_table(inputs)
    if args.format == "csv":
        sys.stdout.write(for_export(table).to_csv(index=False))
    elif args.format == "json":
        print(for_export(table).to_json(orient="records", indent=1))
    else:
        horizon = float(inputs.settings["HorizonDays"]) if "HorizonDays" not in inputs.settings_problems else 0.0
        print(format_venues(table, horizon))
        if inputs.own_formulas:
            print(OWN_FORMULAS_NOTE)
    return 0


def cmd_demo(args) -> int:
    from xlhedge.refresh import refresh_workbook
    from xlhedge.workbook.template import build_template

    out = Path(args.out)
    kept = out.exists() and not args.force
    if kept:
        print(f"Workbook: kept your existing {out}; the refresh changes only its market data "
              "(--force for a fresh template)")
    else:
        build_template(out, force=args.force)
        print(f"Workbook: {out}")
    result = refresh_workbook(out, offline=args.offline, timeout=args.timeout)
    live = [ex for ex, what in result.outcome.items() if what.startswith("ok")]
    if args.offline:
        print("Market data: bundled SAMPLE snapshot (offline), not live prices.")
    elif live:
        print(f"Market data: live from {', '.join(live)}.")
    elif result.used_sample or (result.table["stale"] == "sample").all():
        print("Market data: no exchange answered; using the bundled SAMPLE snapshot from 2026-11-20.")
    else:
        print("Market data: no exchange answered; the workbook's last data is kept, marked stale.")
    if kept:
        print("Your portfolio and settings, from the workbook:\n")
    else:
        marks = "the live marks" if live and not args.offline else "the marks of the data above"
        print(f"Sample portfolio: 5 BTC and 50 ETH valued at {marks}, $100k of cash, neutral outlook "
              "(40%: 2 BTC and 20 ETH short).\n")
    _print_plan(out, "table")
    print(f"\nOpen {out} in Excel to change holdings and settings; see README.md.")
    return 0


def cmd_funding(args) -> int:
    import numpy as np

    from xlhedge.engine import funding_apr, rate_per_8h
    from xlhedge.market import MarketDataError, funding_snapshot
    from xlhedge.market.sample import sample_snapshot

    if args.offline:
        df = sample_snapshot(args.exchanges, args.symbols)
        print(f"SAMPLE data from {df.attrs['sample_as_of']:%Y-%m-%d %H:%M} UTC (offline)", file=sys.stderr)
    else:
        try:
            df = funding_snapshot(args.exchanges, args.symbols, timeout=args.timeout)
        except MarketDataError as exc:
            raise UserError(f"{exc} (try --offline for the bundled sample data)") from None
        for ex, msg in df.attrs.get("errors", {}).items():
            print(f"warning: {ex} failed: {msg}", file=sys.stderr)
        for ex, lacking in df.attrs.get("missing", {}).items():
            print(f"warning: {ex} answered with {lacking}", file=sys.stderr)
    df = df.assign(rate_per_8h=np.asarray(rate_per_8h(df["funding_rate"].to_numpy(float),
                                                      df["interval_hours"].to_numpy(float))),
                   apr=np.asarray(funding_apr(df["funding_rate"].to_numpy(float),
                                              df["interval_hours"].to_numpy(float))))
    if args.format == "csv":
        sys.stdout.write(df.to_csv(index=False))
    elif args.format == "json":
        print(df.to_json(orient="records", date_format="iso", indent=1))
    else:
        if df.empty:
            print("No contracts matched.")
            return 0
        print(funding_table_text(df))
        print("Positive rate: longs pay shorts (a short hedge earns it). Negative: shorts pay. "
              "* = the contract that hedges the coin on that exchange.")
    return 0


def funding_table_text(df) -> str:
    """The snapshot as a readable table; empty fields (not published by the exchange) stay blank."""
    import numpy as np

    from xlhedge.market.contracts import canonical_mask

    def fmt(pattern):
        return lambda x: "" if x is None or not np.isfinite(x) else pattern.format(x)

    def usd_short(x):
        if x is None or not np.isfinite(x):
            return ""
        for size, unit in ((1e9, "bn"), (1e6, "m"), (1e3, "k")):
            if abs(x) >= size:
                return f"${x / size:,.1f}{unit}"
        return f"${x:,.0f}"

    view = df.assign(
        hedge=np.where(canonical_mask(df), "*", ""),
        rate=df["funding_rate"].map(fmt("{:+.4%}")),
        per_8h=df["rate_per_8h"].map(fmt("{:+.4%}")),
        apr_text=df["apr"].map(fmt("{:+.2%}")),
        interval=df["interval_hours"].map(fmt("{:g}h")),
        next=df["next_funding_time"].dt.strftime("%m-%d %H:%M").fillna(""),
        mark=df["mark_price"].map(lambda x: "" if not np.isfinite(x) else f"{x:,.6g}"),
        basis_text=df["basis"].map(fmt("{:+.3%}")),
        oi=df["open_interest_usd"].map(usd_short),
    )[["exchange", "symbol", "hedge", "quote", "margin", "rate", "interval", "per_8h", "apr_text", "next",
       "mark", "basis_text", "oi"]]
    view.columns = ["Exchange", "Symbol", "", "Quote", "Margin", "Rate", "Every", "Per 8h", "APR",
                    "Next (UTC)", "Mark", "Basis", "Open int."]
    return view.to_string(index=False)


def cmd_history(args) -> int:
    from xlhedge.market import funding_history, index_history, price_history

    if args.kind == "funding":
        df = funding_history(args.exchange, args.symbol, args.start, args.end, args.timeout, progress=True)
    else:
        pull = index_history if args.kind == "index" else price_history
        df = pull(args.exchange, args.symbol, args.interval, args.start, args.end, args.timeout, progress=True)
    if args.out:
        df.to_csv(args.out, index=False)
        print(f"wrote {len(df)} rows to {args.out}")
    else:
        sys.stdout.write(df.to_csv(index=False))
    return 0


def cmd_doctor(args) -> int:
    from xlhedge.doctor import FAIL, format_checks, run_checks

    checks = run_checks(_book(args.book) if args.book else None, network=not args.no_network,
                        timeout=args.timeout)
    print(format_checks(checks))
    return 1 if any(c.status == FAIL for c in checks) else 0


def cmd_upgrade_book(args) -> int:
    from xlhedge.workbook.book import load_book, release
    from xlhedge.workbook.vba import replace_vba_project

    book = _book(args.book)
    release(load_book(book))  # an xlhedge workbook, readable: refuse anything else before touching it
    old, new = replace_vba_project(book)
    if old == new:
        print(f"{book}: its VBA is already xlwings {new}; nothing to do")
    else:
        print(f"{book}: VBA replaced, xlwings {old} -> {new}; cells, buttons and charts are unchanged")
    return 0


COMMANDS = {"demo": cmd_demo, "plan": cmd_plan, "venues": cmd_venues, "funding": cmd_funding, "refresh": cmd_refresh,
            "backtest": cmd_backtest, "template": cmd_template, "history": cmd_history, "doctor": cmd_doctor,
            "upgrade-book": cmd_upgrade_book}


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return 0
    try:
        code = COMMANDS[args.command](args)
        sys.stdout.flush()  # here, where a closed pipe is caught, not at interpreter exit
        return code
    except KeyboardInterrupt:
        print("xlhedge: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # "xlhedge plan BOOK | head": the reader left; nothing to report
        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except Exception as exc:
        if args.debug:
            raise
        print(f"xlhedge: error: {_one_line(exc)}", file=sys.stderr)
        return 1


def _one_line(exc: Exception) -> str:
    from xlhedge.market import MarketDataError
    from xlhedge.workbook.book import WorkbookError
    from xlhedge.workbook.files import NotWritable

    if isinstance(exc, (UserError, WorkbookError, MarketDataError, ValueError, FileExistsError, NotWritable)):
        text = str(exc)
    elif isinstance(exc, PermissionError):
        text = f"permission denied: {exc.filename} (is it open in Excel?)"
    elif isinstance(exc, OSError):
        text = f"{exc.strerror or exc}: {exc.filename or ''}".strip()
    else:
        text = f"{type(exc).__name__}: {exc} (run with --debug for details)"
    return " ".join(text.split())[:400]


if __name__ == "__main__":
    sys.exit(main())
