"""Refresh the Funding sheet of an xlhedge workbook, in Excel or headlessly.

Both paths run the same steps (:func:`run_refresh`) and differ only in how
cells are read and written:

* in Excel, the "Refresh market data" button runs :func:`refresh_caller`
  through xlwings ``RunPython`` against the calling workbook;
* without Excel, ``xlhedge refresh BOOK.xlsm`` runs :func:`refresh_workbook`,
  which edits the file through openpyxl (``keep_vba=True``) and replaces it
  atomically.

Only the refresh's own cells are written: the Funding table, its status cell
and its note. Rows of an exchange that failed keep their last good values,
marked stale with their original ``fetched_at``. Strings from the network are
written as text, never as formulas.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from xlhedge.engine import funding_apr
from xlhedge.market import MarketDataError, funding_snapshot, parse_exchanges, price_history
from xlhedge.market.betas import estimate_betas
from xlhedge.market.contracts import lookup_keys
from xlhedge.market.crowding import crowding_inputs
from xlhedge.market.errors import shorten, summarize
from xlhedge.market.sample import sample_snapshot
from xlhedge.market.snapshot import COLUMNS, FLOAT_COLUMNS, TIME_COLUMNS
from xlhedge.workbook import layout as L
from xlhedge.workbook.files import check_writable, replaced_atomically

TABLE_COLUMNS = [*COLUMNS, "stale"]
BETA_KEYS = L.BETA_TABLE.keys
CROWD_KEYS = L.CROWD_TABLE.keys
FORMULA_STARTS = ("=", "+", "-", "@")
STATUS_REASON_WIDTH = 70  # characters of an exchange's failure reason in the status cell


class WorkbookError(ValueError):
    """The file is missing, unreadable, or not an xlhedge workbook."""


@dataclass
class RefreshResult:
    """What a refresh did: the table written, per-exchange outcome and the status text."""

    table: pd.DataFrame
    outcome: dict[str, str] = field(default_factory=dict)
    status: str = ""
    used_sample: bool = False
    warning: str = ""  # about the workbook itself (its VBA), not the market data

    @property
    def answered(self) -> list[str]:
        """Exchanges that answered this time."""
        return [ex for ex, what in self.outcome.items() if what.startswith("ok")]


# ---------------------------------------------------------------- the steps

def merge_tables(previous: pd.DataFrame, fresh: pd.DataFrame, requested: list[str],
                 failed: list[str]) -> pd.DataFrame:
    """The new Funding table: fresh rows, plus last good rows of exchanges that failed.

    Rows of exchanges not requested this time stay as they were. Rows of a
    requested exchange that failed stay too, marked stale (sample rows keep
    their "sample" mark). Rows of an exchange that answered are replaced.
    """
    prev = previous.copy()
    keep_untouched = prev[~prev["exchange"].isin(requested)]
    kept_stale = prev[prev["exchange"].isin(failed)].copy()
    kept_stale.loc[kept_stale["stale"] != L.STALE_SAMPLE, "stale"] = L.STALE_YES
    new = fresh.copy()
    new["stale"] = L.STALE_NO
    parts = [p for p in (new, kept_stale, keep_untouched) if len(p)]
    if not parts:
        return pd.DataFrame(columns=TABLE_COLUMNS)
    table = pd.concat(parts, ignore_index=True)[TABLE_COLUMNS]
    return table.sort_values(["base", "exchange"], kind="stable").reset_index(drop=True)


def _fmt_time(ts) -> str:
    return pd.Timestamp(ts).strftime("%Y-%m-%d %H:%M UTC") if ts is not None and not pd.isna(ts) else "?"


def refresh_exchanges(book, exchanges) -> list[str]:
    """The exchanges to refresh: those asked for, else the workbook's setting, else the default set."""
    if exchanges:
        return parse_exchanges(exchanges)
    setting = book.read_setting("RefreshExchanges")
    try:
        return parse_exchanges(setting if isinstance(setting, str) else None)
    except ValueError as exc:
        raise WorkbookError(f"Settings, 'Exchanges to refresh': {exc}") from None


def run_refresh(book, exchanges=None, offline: bool = False, timeout: float = 10.0,
                snapshot: Callable = funding_snapshot, now=None,
                prices: Callable = price_history, crowding: Callable = crowding_inputs) -> RefreshResult:
    """Fetch funding for the workbook's assets and write the Funding table.

    Parameters
    ----------
    book : OpenpyxlBook or XlwingsBook
        Where to read assets and the previous table, and write the new one.
    exchanges : list of str or str, optional
        Exchanges to refresh (default: the workbook's "Exchanges to refresh" setting).
    offline : bool
        Use the bundled sample snapshot instead of the network.
    timeout : float
        Seconds the network fetch may take.
    """
    requested = refresh_exchanges(book, exchanges)
    bases = book.read_assets()
    previous = book.read_table()
    now = now or pd.Timestamp.now(tz="UTC")
    outcome: dict[str, str] = {}
    used_sample = False
    errors: dict[str, str] = {}
    if offline:
        fresh = sample_snapshot(requested, bases)
        table = merge_tables(previous, fresh, requested, [])
        table["stale"] = L.STALE_SAMPLE
        used_sample = True
        outcome = {ex: "sample" for ex in requested}
    else:
        try:
            fresh = snapshot(requested, bases, timeout=timeout)
            errors = fresh.attrs.get("errors", {})
        except MarketDataError as exc:
            fresh, errors = None, exc.errors or {ex: str(exc) for ex in requested}
        failed = [ex for ex in requested if ex in errors]
        for ex in requested:
            if ex in errors:
                outcome[ex] = f"FAILED ({shorten(errors[ex], STATUS_REASON_WIDTH)})"
            else:
                lacking = fresh.attrs.get("missing", {}).get(ex)
                tail = f", {shorten(lacking, STATUS_REASON_WIDTH)}" if lacking else ""
                outcome[ex] = f"ok ({int((fresh['exchange'] == ex).sum())} contracts{tail})"
        if fresh is None and previous.empty:
            fresh = sample_snapshot(requested, bases)
            table = merge_tables(previous, fresh, requested, [])
            table["stale"] = L.STALE_SAMPLE
            used_sample = True
        elif fresh is None:
            table = merge_tables(previous, previous.iloc[0:0], requested, requested)
        else:
            table = merge_tables(previous, fresh, requested, failed)
    answered = any(what.startswith(("ok", "sample")) for what in outcome.values())
    if bases and answered:  # drop coins no longer held; when nothing answered, every row stays
        mine = table["base"].isin(bases) | table["symbol"].astype(str).str.upper().isin(bases)
        table = table[mine | ~table["exchange"].isin(requested)]
    status = _status_text(now, outcome, errors, table, used_sample, offline)
    if not offline:
        status += refresh_betas(book, timeout, prices, now, reachable=answered)
        status += refresh_crowding(book, table, timeout, now, reachable=answered, measure=crowding)
    book.write_table(table.reset_index(drop=True))
    book.write_status(status, _note_text(table))
    return RefreshResult(table.reset_index(drop=True), outcome, status, used_sample)


def merge_betas(previous: pd.DataFrame, fresh: pd.DataFrame, failed: list[str]) -> pd.DataFrame:
    """Fresh betas replace old ones; coins that failed keep their last estimate, marked stale."""
    keep = previous[~previous["base"].isin(fresh["base"])].copy()
    keep.loc[keep["base"].isin(failed), "stale"] = L.STALE_YES
    new = fresh.drop_duplicates("base").assign(stale=L.STALE_NO)
    parts = [p for p in (new, keep) if len(p)]
    table = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=BETA_KEYS)
    return table[BETA_KEYS].sort_values("base", kind="stable").reset_index(drop=True)


def refresh_betas(book, timeout: float, prices: Callable, now, reachable: bool = True) -> str:
    """Estimate betas of the coins hedged with the BTC perp; returns a sentence for the status.

    Every coin that could not be estimated is named with the reason; its last estimate stays,
    marked stale.
    """
    pairs = book.read_btc_hedged()
    if not pairs:
        return ""
    previous = book.read_beta_table()
    if not reachable:
        fresh, errors = previous.iloc[0:0], {base: "no exchange answered" for base, _ in pairs}
    else:
        fresh, errors = estimate_betas(pairs, timeout=max(timeout, 10.0), prices=prices, now=now)
    book.write_beta_table(merge_betas(previous, fresh, list(errors)))
    parts = [f"{r.base} {r.beta:.2f} (R² {r.r2:.2f})" for r in fresh.drop_duplicates("base").itertuples()]
    failed = [f"{base} ({shorten(why, STATUS_REASON_WIDTH)})" for base, why in errors.items()]
    text = " Betas to BTC: " + "; ".join(parts) + "." if parts else ""
    if failed:
        kept = previous[previous["base"].isin(list(errors))]
        tail = f", last estimates kept from {_fmt_time(kept['estimated_at'].min())}" if len(kept) else ""
        text += f" Betas not estimated: {'; '.join(failed)}{tail}."
    return text


def merge_crowding(previous: pd.DataFrame, fresh: pd.DataFrame, failed: list[str], wanted: list[str],
                   ) -> pd.DataFrame:
    """Fresh measures replace old ones; contracts that failed keep their last measure, marked stale;
    contracts no longer hedged are dropped."""
    keep = previous[previous["key"].isin(wanted) & ~previous["key"].isin(fresh["key"])].copy()
    keep.loc[keep["key"].isin(failed), "stale"] = L.STALE_YES
    new = fresh.assign(stale=L.STALE_NO)
    parts = [p for p in (new, keep) if len(p)]
    table = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=CROWD_KEYS)
    return table[CROWD_KEYS].sort_values("key", kind="stable").reset_index(drop=True)


def refresh_crowding(book, table: pd.DataFrame, timeout: float, now, reachable: bool = True,
                     measure: Callable = crowding_inputs) -> str:
    """Measure the crowded-longs inputs of each hedge contract; returns a sentence for the status."""
    contracts = hedge_contracts(*book.read_hedge_rows())
    if not contracts:
        return ""
    previous = book.read_crowding()
    wanted = [f"{ex}|{coin}" for ex, coin in contracts]
    if not reachable:
        fresh, errors = previous.iloc[0:0], dict.fromkeys(wanted, "no exchange answered")
    else:
        fresh, errors = measure(contracts, table, now=now, timeout=max(timeout, 10.0))
    book.write_crowding(merge_crowding(previous, fresh, list(errors), wanted))
    if not errors or not reachable:  # the status already says that no exchange answered
        return ""
    failed = "; ".join(f"{key} ({shorten(why, STATUS_REASON_WIDTH)})" for key, why in errors.items())
    return f" Crowding not measured: {failed}; last measures kept."


def _status_text(now, outcome, errors, table, used_sample, offline) -> str:
    head = f"Refreshed {_fmt_time(now)}"
    if offline:
        return f"{head} from the bundled SAMPLE data (offline), not live prices."
    answered = [ex for ex, what in outcome.items() if what.startswith("ok")]
    if not answered:
        why = summarize({ex: errors.get(ex, "no answer") for ex in outcome})
        if used_sample:
            return f"{head}: no exchange answered ({why}); showing SAMPLE data."
        return (f"{head}: no exchange answered ({why}). Every row kept from "
                f"{_fmt_time(table['fetched_at'].min())}, marked stale.")
    parts = "; ".join(f"{ex} {what}" for ex, what in outcome.items())
    stale = table[table["stale"] == L.STALE_YES]
    tail = f" Stale rows kept from {_fmt_time(stale['fetched_at'].min())}." if len(stale) else ""
    return f"{head}: {parts}.{tail}"


def _note_text(table: pd.DataFrame) -> str:
    sample = table[table["stale"] == L.STALE_SAMPLE]
    if len(sample):
        return (f"SAMPLE DATA from {_fmt_time(sample['fetched_at'].min())}, shipped with xlhedge: "
                "not live. Click 'Refresh market data' for live rates.")
    return "Live data. Positive rate = longs pay shorts: a short hedge earns it."


def _cell_value(value):
    """A frame value as a cell value: naive-UTC datetimes, floats, None for missing."""
    if isinstance(value, pd.Timestamp):
        return None if pd.isna(value) else value.tz_convert("UTC").tz_localize(None).to_pydatetime()
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, (np.floating, np.integer)):
        return float(value)
    return value


def table_rows(table: pd.DataFrame) -> list[list]:
    """Cell values of the Funding table, in column order (datetimes naive UTC)."""
    coin_key, symbol_key = lookup_keys(table) if len(table) else ([], [])
    frame = table.assign(
        apr=funding_apr(table["funding_rate"].to_numpy(float), table["interval_hours"].to_numpy(float))
        if len(table) else [],
        key=coin_key,
        symbol_key=symbol_key,
    )
    return [[_cell_value(v) for v in row] for row in frame[L.FUNDING_TABLE.keys].itertuples(index=False)]


def beta_rows(table: pd.DataFrame) -> list[list]:
    """Cell values of the beta table, in column order."""
    return [[_cell_value(v) for v in row] for row in table[BETA_KEYS].itertuples(index=False)]


def crowd_rows(table: pd.DataFrame) -> list[list]:
    """Cell values of the crowding table, in column order."""
    return [[_cell_value(v) for v in row] for row in table[CROWD_KEYS].itertuples(index=False)]


def _side_table(rows: list[list], keys: list[str], numbers: tuple[str, ...], when: str) -> pd.DataFrame:
    """A side table (betas, crowding) from cell values: rows keyed by text in the first column."""
    records = [dict(zip(keys, r, strict=True)) for r in rows if r and isinstance(r[0], str) and r[0]]
    frame = pd.DataFrame(records, columns=keys)
    for col in numbers:
        frame[col] = pd.to_numeric(frame[col], errors="coerce")
    frame[when] = pd.to_datetime(frame[when], errors="coerce", utc=True)
    frame["stale"] = frame["stale"].fillna(L.STALE_NO).astype(str)
    return frame


def rows_to_crowding(rows: list[list]) -> pd.DataFrame:
    """The previous crowding table from cell values."""
    return _side_table(rows, CROWD_KEYS, ("funding_percentile", "funding_samples", "oi_change"), "measured_at")


def hedge_contracts(rows: list[list], default_exchange) -> list[tuple[str, str]]:
    """(exchange, coin) of the contract each Portfolio row [asset, hedge with, exchange] is hedged with:
    the BTC perp for "BTC perp" rows, else the coin's own."""
    default = str(default_exchange or "binance").strip().lower()
    out = []
    for asset, how, exchange in rows:
        if isinstance(asset, str) and asset.strip():
            ex = exchange.strip().lower() if isinstance(exchange, str) and exchange.strip() else default
            if ex in L.EXCHANGES:
                out.append((ex, "BTC" if str(how).strip() == "BTC perp" else asset.strip().upper()))
    return list(dict.fromkeys(out))


def rows_to_betas(rows: list[list]) -> pd.DataFrame:
    """The previous beta table from cell values."""
    return _side_table(rows, BETA_KEYS, ("beta", "r2", "n"), "estimated_at")


def btc_hedged(rows: list[list], default_exchange) -> list[tuple[str, str]]:
    """(coin, exchange) of Portfolio rows [asset, hedge with, exchange] hedged with the BTC perp."""
    default = str(default_exchange or "binance").strip().lower()
    out = []
    for asset, how, exchange in rows:
        if isinstance(asset, str) and asset.strip() and str(how).strip() == "BTC perp":
            ex = exchange.strip().lower() if isinstance(exchange, str) and exchange.strip() else default
            if ex in L.EXCHANGES and asset.strip().upper() != "BTC":
                out.append((asset.strip().upper(), ex))
    return out


def rows_to_table(rows: list[list]) -> pd.DataFrame:
    """The previous Funding table from cell values (rows without an exchange are skipped)."""
    keys = L.FUNDING_TABLE.keys
    records = [dict(zip(keys, r, strict=True)) for r in rows if r and r[0] not in (None, "")]
    frame = pd.DataFrame(records, columns=keys)
    for col in FLOAT_COLUMNS:
        frame[col] = pd.to_numeric(frame[col], errors="coerce").astype(float)
    for col in TIME_COLUMNS:
        frame[col] = pd.to_datetime(frame[col], errors="coerce", utc=True)
    frame["stale"] = frame["stale"].fillna(L.STALE_NO).astype(str)
    for col in ("exchange", "symbol", "base", "quote", "margin"):
        frame[col] = frame[col].fillna("").astype(str)
    return frame[TABLE_COLUMNS]


def _assets(values) -> list[str]:
    seen = []
    for value in values:
        if isinstance(value, str) and value.strip():
            name = value.strip().upper()
            if name not in seen:
                seen.append(name)
    if "BTC" not in seen:
        seen.append("BTC")  # beta hedges short BTC
    return seen


# ---------------------------------------------------------------- the workbook port

class BookPort:
    """What the refresh and the backtest read and write, in terms of a book's ``_read``/``write_block`` of a
    table block, ``_cell``/``_set_cell`` and ``read_portfolio_column`` (one Portfolio column's values, a row
    each); :class:`OpenpyxlBook` and :class:`XlwingsBook` supply those."""

    def read_assets(self) -> list[str]:
        return _assets(self.read_portfolio_column("asset"))

    def read_table(self) -> pd.DataFrame:
        return rows_to_table(self._read(L.FUNDING_TABLE))

    def write_table(self, table: pd.DataFrame) -> None:
        self.write_block(L.FUNDING_TABLE, table_rows(table)[: L.FUNDING_ROWS])

    def read_hedge_rows(self) -> tuple[list[list], str]:
        """Portfolio rows as [asset, hedge with, exchange], and the default exchange."""
        cols = [self.read_portfolio_column(k) for k in ("asset", "hedge_with", "exchange")]
        return [list(r) for r in zip(*cols, strict=True)], self.read_setting("DefaultExchange")

    def read_btc_hedged(self) -> list[tuple[str, str]]:
        return btc_hedged(*self.read_hedge_rows())

    def read_beta_table(self) -> pd.DataFrame:
        return rows_to_betas(self._read(L.BETA_TABLE))

    def write_beta_table(self, table: pd.DataFrame) -> None:
        self.write_block(L.BETA_TABLE, beta_rows(table)[: L.BETA_ROWS])

    def read_setting(self, name: str):
        return self._cell(L.SETTINGS, f"B{L.SETTING_ROW[name]}")

    def sheet_names(self) -> list[str]:
        return self._sheet_names()

    def write_status(self, status: str, note: str) -> None:
        self._set_cell(L.FUNDING, L.STATUS_CELL, status)
        self._set_cell(L.FUNDING, L.NOTE_CELL, note)

    def write_cell(self, sheet: str, ref: str, value) -> None:
        """One cell (a status line); text stays text."""
        self._set_cell(sheet, ref, value)

    def read_cells(self, sheet: str, refs: list[str]) -> list:
        """Values of single cells (the backtest's inputs)."""
        return [self._cell(sheet, ref) for ref in refs]

    def read_crowding(self) -> pd.DataFrame:
        return rows_to_crowding(self._read(L.CROWD_TABLE))

    def write_crowding(self, table: pd.DataFrame) -> None:
        self.write_block(L.CROWD_TABLE, crowd_rows(table)[: L.CROWD_ROWS])


# ---------------------------------------------------------------- headless (openpyxl)

class OpenpyxlBook(BookPort):
    """Reads and writes the refresh's cells through openpyxl (``keep_vba=True``)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.wb = load_book(self.path)
        self.funding = self.wb[L.FUNDING]
        from xlhedge.workbook.lite import web_extension_parts

        self.web_extension = web_extension_parts(self.path)

    def read_portfolio_column(self, key: str) -> list:
        col, sheet = L.PORTFOLIO_COLUMNS[key][0], self.wb[L.PORTFOLIO]
        return [sheet[f"{col}{r}"].value for r in range(L.PORTFOLIO_FIRST_ROW, L.PORTFOLIO_LAST_ROW + 1)]

    def _read(self, table: L.Table) -> list[list]:
        return [[c.value for c in row] for row in self.wb[table.sheet][table.ref]]

    def write_block(self, table: L.Table, rows: list[list]) -> None:
        """Fill the table's cells, blanking rows past the data; text stays text."""
        for i, cells in enumerate(self.wb[table.sheet][table.ref]):
            values = rows[i] if i < len(rows) else [None] * len(table.columns)
            for cell, value in zip(cells, values, strict=True):
                cell.value = value
                if isinstance(value, str):
                    cell.data_type = "s"  # never a formula, whatever the text starts with


    def _cell(self, sheet: str, ref: str):
        return self.wb[sheet][ref].value

    def _sheet_names(self) -> list[str]:
        return list(self.wb.sheetnames)

    def _set_cell(self, sheet: str, ref: str, value) -> None:
        cell = self.wb[sheet][ref]
        cell.value = value
        if isinstance(value, str):
            cell.data_type = "s"



    def save(self) -> None:
        """Write to a temporary file beside the original, then replace it atomically."""
        try:
            with replaced_atomically(self.path) as tmp:
                self._save_with_results(tmp)
                if self.web_extension:  # the Lite edition: its code parts, which openpyxl drops, byte for byte
                    from xlhedge.workbook.lite import carry_web_extension

                    carry_web_extension(self.path, tmp, self.web_extension)
        finally:
            release(self.wb)


    def _save_with_results(self, path: Path) -> None:
        """Save to ``path`` with every formula's fresh result stored, so viewers without the xlhedge
        functions still show numbers (openpyxl drops them). The template's formulas are computed by
        the workbook model (fast); a workbook with other formulas goes through the general evaluator,
        and a formula it does not know leaves the results out (Excel recalculates anyway)."""
        from xlhedge.workbook.cached import fill_cached_values, put_array_values
        from xlhedge.workbook.model import formula_values

        values = formula_values(self.wb)
        if values is not None:
            put_array_values(self.wb, values)
        self.wb.save(path)
        if values is None:
            from xlhedge.workbook.evaluate import evaluate_workbook

            try:
                values = evaluate_workbook(path)
            except Exception:  # results are a courtesy to viewers, never a reason to fail
                return
            if put_array_values(self.wb, values):
                self.wb.save(path)
        with contextlib.suppress(Exception):
            fill_cached_values(path, values)


def load_book(path: Path):
    """Open an xlhedge workbook with openpyxl, or raise :class:`WorkbookError` saying why not."""
    import zipfile

    import openpyxl

    path = Path(path)
    if not path.exists():
        raise WorkbookError(f"no such file: {path}")
    if not zipfile.is_zipfile(path):
        raise WorkbookError(f"{path.name} is not an Excel workbook (.xlsm/.xlsx)")
    with zipfile.ZipFile(path) as z:
        if "xl/workbook.xml" not in z.namelist():
            raise WorkbookError(f"{path.name} is a zip file, not an Excel workbook (.xlsm/.xlsx)")
    try:
        wb = openpyxl.load_workbook(path, keep_vba=path.suffix.lower() == ".xlsm", keep_links=True)
    except Exception as exc:  # openpyxl raises many types for damaged or hostile files
        raise WorkbookError(f"cannot read {path.name}: {type(exc).__name__}: {str(exc)[:120]}") from None
    try:
        missing = [s for s in (L.PORTFOLIO, L.FUNDING, L.SETTINGS) if s not in wb.sheetnames]
        if missing:
            raise WorkbookError(f"{path.name} is not an xlhedge workbook (no {', '.join(missing)} sheet)")
        check_layout((cell.value for cell in wb[L.FUNDING][L.FUNDING_HEADER_ROW]), path.name)
    except WorkbookError:
        release(wb)
        raise
    return wb


def release(wb) -> None:
    """Close the in-memory zip openpyxl keeps of a workbook's VBA parts. Left to the garbage collector
    at exit, it may be closed after its buffer and print "Exception ignored in ZipFile.__del__"."""
    archive = getattr(wb, "vba_archive", None)
    if archive is not None:
        archive.close()


def check_layout(headers, name: str) -> None:
    """Refuse a workbook whose Funding table has other columns than this version writes."""
    found = [h for h in headers if h not in (None, "")][: len(L.FUNDING_COLUMNS)]
    wanted = [header for _, _, header in L.FUNDING_COLUMNS]
    if found != wanted:
        raise WorkbookError(
            f"{name} was made by another version of xlhedge (its Funding sheet has other columns). "
            "Make a fresh one with 'xlhedge template --out NEW.xlsm' and copy your Portfolio and Settings into it.")


def refresh_workbook(path, exchanges=None, offline=False, timeout=10.0,
                     snapshot: Callable = funding_snapshot, prices: Callable = price_history) -> RefreshResult:
    """Refresh a workbook file without Excel (``xlhedge refresh BOOK.xlsm``).

    The original file is replaced only after the new one is completely written.
    """
    check_writable(Path(path))  # before any download: a workbook open in Excel or read-only is refused
    book = OpenpyxlBook(Path(path))
    try:
        result = run_refresh(book, exchanges, offline, timeout, snapshot, prices=prices)
        book.save()
    finally:
        release(book.wb)
    result.warning = vba_mismatch(Path(path))
    return result


def vba_mismatch(path: Path) -> str:
    """A sentence when the workbook's VBA is for another xlwings than the installed one, else ""."""
    from xlhedge.workbook.vba import workbook_xlwings_version
    from xlhedge.xlwings_setup import XLWINGS_VERSION

    try:
        version = workbook_xlwings_version(path)
    except Exception:  # an unreadable VBA project: doctor says more
        return ""
    if version == XLWINGS_VERSION or path.suffix.lower() != ".xlsm":
        return ""
    found = f"written for xlwings {version}" if version else "without the xlwings VBA module"
    return (f"{path.name}'s buttons are {found}, but xlwings {XLWINGS_VERSION} is installed: Excel cannot "
            f"run them until you run 'xlhedge upgrade-book {path}'")


# ---------------------------------------------------------------- in Excel (xlwings)

def _as_text(value):
    """Strings that Excel would read as formulas are written with a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class XlwingsBook(BookPort):
    """Reads and writes the refresh's cells of an open workbook through xlwings."""

    def __init__(self, book):
        self.book = book
        self.funding = book.sheets[L.FUNDING]
        hr, last = L.FUNDING_HEADER_ROW, L.FUNDING_COLUMNS[-1][1]
        check_layout(self.funding.range(f"A{hr}:{last}{hr}").value, book.name)

    def read_portfolio_column(self, key: str) -> list:
        col = L.PORTFOLIO_COLUMNS[key][0]
        rng = f"{col}{L.PORTFOLIO_FIRST_ROW}:{col}{L.PORTFOLIO_LAST_ROW}"
        return list(self.book.sheets[L.PORTFOLIO].range(rng).options(ndim=1).value)

    def _read(self, table: L.Table) -> list[list]:
        return self.book.sheets[table.sheet].range(table.ref).options(ndim=2).value

    def write_block(self, table: L.Table, rows: list[list]) -> None:
        sheet = self.book.sheets[table.sheet]
        sheet.range(table.ref).clear_contents()
        if rows:
            first = table.columns[0][1]
            sheet.range(f"{first}{table.first_row}").value = [[_as_text(v) for v in row] for row in rows]

    def _cell(self, sheet: str, ref: str):
        return self.book.sheets[sheet].range(ref).value

    def _sheet_names(self) -> list[str]:
        return [s.name for s in self.book.sheets]

    def _set_cell(self, sheet: str, ref: str, value) -> None:
        self.book.sheets[sheet].range(ref).value = _as_text(value)


def refresh_caller(exchanges=None, offline=False, timeout=10.0) -> RefreshResult:
    """Refresh the workbook that called Python (the "Refresh market data" button)."""
    import xlwings as xw

    return run_refresh(XlwingsBook(xw.Book.caller()), exchanges, offline, timeout)


def refresh_from_button(fullname: str | None = None) -> None:
    """What the buttons run (both call the workbook's one macro): in Excel, the backtest when the
    button is on the Backtest sheet, else the refresh of the caller; elsewhere, refresh the file headlessly."""
    if fullname and not _excel_available():
        refresh_workbook(fullname)
        return
    import xlwings as xw

    if xw.Book.caller().sheets.active.name == L.BACKTEST:
        from xlhedge.backtest import backtest_caller

        backtest_caller()
    else:
        refresh_caller()


def _excel_available() -> bool:
    import sys

    return sys.platform in ("win32", "darwin")
