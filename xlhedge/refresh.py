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

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from xlhedge.market import MarketDataError, funding_snapshot, parse_exchanges, price_history
from xlhedge.market.betas import estimate_betas
from xlhedge.market.crowding import crowding_inputs
from xlhedge.market.errors import shorten, summarize
from xlhedge.market.sample import sample_snapshot
from xlhedge.workbook import layout as L
from xlhedge.workbook.book import OpenpyxlBook, WorkbookError, XlwingsBook, release
from xlhedge.workbook.files import check_writable
from xlhedge.workbook.portfolio import btc_hedged, hedge_contracts, market_coins, read_holdings
from xlhedge.workbook.tables import BETA_KEYS, CROWD_KEYS, TABLE_COLUMNS

STATUS_REASON_WIDTH = 70  # characters of an exchange's failure reason in the status cell


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


def known_intervals(fresh: pd.DataFrame, previous: pd.DataFrame) -> pd.DataFrame:
    """Fresh rows whose funding interval did not come (Binance's fundingInfo failed) keep the interval
    the previous table had for the same contract: an interval rarely changes, and without it the rate
    cannot be read. Contracts never seen before stay empty (the status says what is missing)."""
    missing = fresh["interval_hours"].isna()
    if not missing.any() or previous.empty:
        return fresh
    known = previous.dropna(subset=["interval_hours"]).drop_duplicates(["exchange", "symbol"])
    known = known.set_index(["exchange", "symbol"])["interval_hours"]
    keys = pd.MultiIndex.from_frame(fresh.loc[missing, ["exchange", "symbol"]])
    out = fresh.copy()
    out.loc[missing, "interval_hours"] = known.reindex(keys).to_numpy(float)
    return out


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
    holdings = read_holdings(book)  # once: in Excel every read is a call
    bases = market_coins(holdings)
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
            table = merge_tables(previous, known_intervals(fresh, previous), requested, failed)
    answered = any(what.startswith(("ok", "sample")) for what in outcome.values())
    if bases and answered:  # drop coins no longer held; when nothing answered, every row stays
        mine = table["base"].isin(bases) | table["symbol"].astype(str).str.upper().isin(bases)
        table = table[mine | ~table["exchange"].isin(requested)]
    status = _status_text(now, outcome, errors, table, used_sample, offline)
    if not offline:
        status += refresh_betas(book, btc_hedged(holdings), timeout, prices, now, reachable=answered)
        listed = set(zip(table["exchange"], table["base"], strict=True))
        status += refresh_crowding(book, hedge_contracts(holdings, listed), table, timeout, now, reachable=answered,
                                   measure=crowding)
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


def refresh_betas(book, pairs: list[tuple[str, str]], timeout: float, prices: Callable, now,
                  reachable: bool = True) -> str:
    """Estimate betas of the coins hedged with the BTC perp (``pairs``: (coin, exchange)); returns a
    sentence for the status.

    Every coin that could not be estimated is named with the reason; its last estimate stays,
    marked stale.
    """
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


def refresh_crowding(book, contracts: list[tuple[str, str]], table: pd.DataFrame, timeout: float, now,
                     reachable: bool = True, measure: Callable = crowding_inputs) -> str:
    """Measure the crowded-longs inputs of each hedge contract (``contracts``: (exchange, coin)); returns
    a sentence for the status."""
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


# ---------------------------------------------------------------- headless (openpyxl)


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


def refresh_caller(exchanges=None, offline=False, timeout=10.0) -> RefreshResult:
    """Refresh the workbook that called Python (the "Refresh market data" button)."""
    import xlwings as xw

    return run_refresh(XlwingsBook(xw.Book.caller()), exchanges, offline, timeout)
