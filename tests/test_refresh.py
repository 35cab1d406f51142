"""Refresh without Excel: the Funding table is rewritten, nothing else is touched."""

import hashlib
import shutil

import numpy as np
import openpyxl
import pandas as pd
import pytest

from tests.cells import at, type_in
from tests.loopback import Fault
from tests.workbook_snapshot import everything_but_funding, user_inputs
from xlhedge.market import MarketDataError, funding_snapshot
from xlhedge.refresh import refresh_workbook
from xlhedge.workbook import layout as L
from xlhedge.workbook.book import WorkbookError
from xlhedge.workbook.template import formula_results


def records(path, columns, first, last):
    """The filled rows of one of the refresh's tables, as dicts keyed like the layout."""
    ws = openpyxl.load_workbook(path)[L.FUNDING]
    keys = [k for k, _, _ in columns]
    out = []
    for r in range(first, last + 1):
        values = [ws[f"{col}{r}"].value for _, col, _ in columns]
        if values[0]:
            out.append(dict(zip(keys, values, strict=True)))
    return out, ws[L.STATUS_CELL].value, ws[L.NOTE_CELL].value


def funding_rows(path):
    return records(path, L.FUNDING_COLUMNS, L.FUNDING_FIRST_ROW, L.FUNDING_LAST_ROW)


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_live_refresh_writes_the_table_and_keeps_everything_else(book, exchanges):
    before = everything_but_funding(book)
    result = refresh_workbook(book)
    rows, status, note = funding_rows(book)
    assert everything_but_funding(book) == before
    # Portfolio holds BTC and ETH: those bases on all four exchanges
    assert {(r["exchange"], r["base"]) for r in rows} == {
        (ex, b) for ex in L.EXCHANGES for b in ("BTC", "ETH")}
    btc = next(r for r in rows if r["exchange"] == "binance" and r["base"] == "BTC")
    assert btc["funding_rate"] == pytest.approx(0.0001)
    assert btc["apr"] == pytest.approx(0.1095)
    assert btc["mark_price"] == pytest.approx(60000)
    assert btc["stale"] == "no"
    assert btc["key"] == "binance|BTC"
    assert all(r["stale"] == "no" for r in rows)
    assert "binance ok (2 contracts)" in status
    assert "SAMPLE" not in note and "longs pay shorts" in note
    assert result.outcome["okx"].startswith("ok")


def test_failed_exchange_keeps_its_last_good_rows_marked_stale(book, exchanges):
    refresh_workbook(book)
    first, _, _ = funding_rows(book)
    fetched_before = {r["exchange"]: r["fetched_at"] for r in first}
    exchanges.fault("bybit", "/v5/market/tickers", Fault(status=500, times=99))
    exchanges.contracts["binance"][0].rate = "0.00030000"  # BTC moved on Binance
    refresh_workbook(book, timeout=3)
    rows, status, _ = funding_rows(book)
    bybit = [r for r in rows if r["exchange"] == "bybit"]
    assert len(bybit) == 2 and all(r["stale"] == "yes" for r in bybit)
    assert all(r["fetched_at"] == fetched_before["bybit"] for r in bybit)
    assert next(r for r in rows if r["key"] == "binance|BTC")["funding_rate"] == pytest.approx(0.0003)
    assert "bybit FAILED" in status and "Stale rows kept from" in status


def test_no_exchange_answering_keeps_all_rows(book, exchanges):
    refresh_workbook(book)
    first, _, _ = funding_rows(book)

    def down(*args, **kwargs):
        raise MarketDataError("no exchange answered", {ex: "/path: cannot connect after 4 tries"
                                                       for ex in L.EXCHANGES})

    refresh_workbook(book, snapshot=down)
    rows, status, _ = funding_rows(book)
    assert [r["funding_rate"] for r in rows] == [r["funding_rate"] for r in first]
    assert all(r["stale"] == "yes" for r in rows)
    # one short status: each exchange named once, the shared reason said once, and that rows were kept
    assert "no exchange answered" in status and status.count("cannot connect after 4 tries") == 1
    assert all(status.count(ex) == 1 for ex in ("binance", "okx", "weex"))
    assert "marked stale" in status and len(status) < 300


def test_offline_uses_the_dated_sample(book):
    before = everything_but_funding(book)
    result = refresh_workbook(book, offline=True)
    assert everything_but_funding(book) == before
    rows, status, note = funding_rows(book)
    assert result.used_sample
    assert rows and all(r["stale"] == "sample" for r in rows)
    assert "SAMPLE" in status and "SAMPLE DATA from 2026-11-20" in note


def test_empty_table_and_no_network_falls_back_to_sample(book, monkeypatch):
    wb = openpyxl.load_workbook(book, keep_vba=True)
    for row in wb[L.FUNDING].iter_rows(min_row=L.FUNDING_FIRST_ROW, max_row=L.FUNDING_LAST_ROW):
        for cell in row:
            cell.value = None
    wb.save(book)
    for ex in L.EXCHANGES:
        monkeypatch.setenv(f"XLHEDGE_{ex.upper()}_URL", "http://127.0.0.1:9")
    result = refresh_workbook(book, timeout=1)
    rows, status, note = funding_rows(book)
    assert result.used_sample and rows
    assert "no exchange answered" in status and "SAMPLE" in note


def test_refresh_of_one_exchange_leaves_the_others(book, exchanges):
    refresh_workbook(book)
    exchanges.contracts["okx"][0].rate = "0.0009"
    exchanges.contracts["binance"][0].rate = "0.0009"
    refresh_workbook(book, exchanges=["okx"])
    rows, _, _ = funding_rows(book)
    got = {r["key"]: r["funding_rate"] for r in rows}
    assert got["okx|BTC"] == pytest.approx(0.0009)
    assert got["binance|BTC"] == pytest.approx(0.0001)


def test_network_strings_never_become_formulas(book, exchanges, monkeypatch):
    evil = '=HYPERLINK("http://x","y")'

    def snapshot(exchanges_, bases, timeout):
        df = funding_snapshot(["binance"], bases, timeout=timeout)
        df.loc[0, "symbol"] = evil
        return df

    refresh_workbook(book, exchanges=["binance"], snapshot=snapshot)
    ws = openpyxl.load_workbook(book)[L.FUNDING]
    cells = [ws[f"{L.FUNDING_COL['symbol']}{r}"] for r in range(L.FUNDING_FIRST_ROW, L.FUNDING_FIRST_ROW + 10)]
    hit = [c for c in cells if c.value == evil]
    assert hit and hit[0].data_type == "s"
    with __import__("zipfile").ZipFile(book) as z:
        sheet_xml = z.read("xl/worksheets/sheet5.xml").decode()
    assert "<f>HYPERLINK" not in sheet_xml


def test_user_inputs_survive_refreshes_and_file_does_not_grow(book, exchanges):
    wb = openpyxl.load_workbook(book, keep_vba=True)
    type_in(wb[L.PORTFOLIO], 7, asset="SOL", quantity=100)
    wb[L.SETTINGS][f"B{L.SETTING_ROW['Outlook']}"] = "bearish"
    wb.save(book)
    before = user_inputs(book)
    sizes = []
    for _ in range(3):
        refresh_workbook(book)
        sizes.append(book.stat().st_size)
        assert user_inputs(book) == before
    assert max(sizes) - min(sizes) < 200
    rows, _, _ = funding_rows(book)
    assert "SOL" in {r["base"] for r in rows}


def test_a_failure_mid_refresh_leaves_the_file_byte_identical(book, exchanges, monkeypatch):
    original = digest(book)

    def broken_save(self, filename):
        with open(filename, "wb") as fh:
            fh.write(b"half a workbook")
        raise OSError("disk full")

    monkeypatch.setattr(openpyxl.Workbook, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        refresh_workbook(book)
    assert digest(book) == original
    assert [p.name for p in book.parent.iterdir()] == [book.name]  # no temp file left


def test_not_a_workbook(tmp_path):
    missing = tmp_path / "nope.xlsm"
    with pytest.raises(WorkbookError, match="no such file"):
        refresh_workbook(missing)
    text = tmp_path / "notes.xlsm"
    text.write_text("hello")
    with pytest.raises(WorkbookError, match="not an Excel workbook"):
        refresh_workbook(text)
    other = tmp_path / "other.xlsx"
    wb = openpyxl.Workbook()
    wb.active.title = "Budget"
    wb.save(other)
    with pytest.raises(WorkbookError, match="not an xlhedge workbook"):
        refresh_workbook(other)


def test_renamed_copy_refreshes_too(book, exchanges, tmp_path):
    renamed = tmp_path / "My Hedge (2).xlsm"
    shutil.copyfile(book, renamed)
    refresh_workbook(renamed)
    rows, status, _ = funding_rows(renamed)
    assert rows and "Refreshed" in status
    assert pd.notna(rows[0]["fetched_at"])


def _add_sol_hedged_with_btc(book, beta=None):
    wb = openpyxl.load_workbook(book, keep_vba=True)
    p = wb[L.PORTFOLIO]
    type_in(p, 7, asset="SOL", quantity=1000, typed_price=150, hedge_with="BTC perp", beta=beta)
    wb.save(book)


def beta_rows(path):
    return records(path, L.BETA_COLUMNS, L.BETA_FIRST_ROW, L.BETA_LAST_ROW)[0]


def test_refresh_estimates_betas_of_coins_hedged_with_btc(book, exchanges):
    from tests.loopback import BETAS
    from xlhedge.plan import compute_plan, read_inputs

    _add_sol_hedged_with_btc(book)
    result = refresh_workbook(book)
    rows = beta_rows(book)
    assert [r["base"] for r in rows] == ["SOL"]
    assert rows[0]["beta"] == pytest.approx(BETAS["SOL"], rel=1e-9)  # the loopback's prices are built with it
    assert rows[0]["n"] in (179, 180)  # daily closes over 180 days, depending on the hour
    assert rows[0]["exchange"] == "binance" and rows[0]["stale"] == "no"
    assert "Betas to BTC: SOL 1.50 (R² 1.00)" in result.status
    values = formula_results(book)  # the workbook model: test_headless_refresh_stores_every_formula_result
    # holds it to the general evaluator on a refreshed workbook
    assert values[at(L.PORTFOLIO, "beta_used", 7)] == pytest.approx(1.5)
    ratio = values[at(L.HEDGE, "hedge_ratio", 7)]
    # the BTC short = ratio x beta x value
    assert values[at(L.HEDGE, "short_notional", 7)] == pytest.approx(150_000 * ratio * 1.5)
    plan = compute_plan(read_inputs(book)).set_index("asset")
    assert plan.loc["SOL", "short_notional"] == pytest.approx(values[at(L.HEDGE, "short_notional", 7)])


def test_typed_beta_wins_and_failed_estimates_are_kept_stale(book, exchanges):
    _add_sol_hedged_with_btc(book)
    refresh_workbook(book)
    first = beta_rows(book)
    exchanges.fault("binance", "/fapi/v1/klines", Fault(status=500, times=99))
    result = refresh_workbook(book, timeout=2)
    rows = beta_rows(book)
    assert rows[0]["beta"] == first[0]["beta"] and rows[0]["stale"] == "yes"
    assert rows[0]["estimated_at"] == first[0]["estimated_at"]
    assert "Betas not estimated: SOL (" in result.status and "/fapi/v1/klines" in result.status
    _add_sol_hedged_with_btc(book, beta=2.0)
    values = formula_results(book)
    assert values[at(L.PORTFOLIO, "beta_used", 7)] == 2.0


@pytest.mark.slow  # a refreshed book fills cells the template left empty: the general evaluator compiles it anew
def test_headless_refresh_stores_every_formula_result(book, exchanges, tmp_path):
    from tests.calculators import stored_values
    from xlhedge.workbook import render
    from xlhedge.workbook.evaluate import evaluate_workbook

    _add_sol_hedged_with_btc(book)
    refresh_workbook(book)
    values = evaluate_workbook(book)
    stored = stored_values(book, values)
    for (sheet, cell), value in values.items():
        got = stored[sheet, cell]
        assert got == (pytest.approx(value) if isinstance(value, float) else value) or (
            value is None and got in (None, "")), (sheet, cell, got, value)
    ratio = values[at(L.HEDGE, "hedge_ratio", 7)]
    assert stored[at(L.HEDGE, "short_notional", 7)] == pytest.approx(150_000 * ratio * 1.5)
    if render.tools_available():
        import subprocess

        pdf = render.to_pdf(book, tmp_path / "pdf")
        text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
        assert "#NAME?" not in text and "Refreshed" in text


def test_workbook_plan_and_refresh_agree_on_the_contract(book, exchanges):
    """Real Binance answer: BTCUSDC is listed before BTCUSDT and ETHBTC is quoted in BTC."""
    from pathlib import Path

    from xlhedge.plan import compute_plan, read_inputs

    real = Path(__file__).parent / "fixtures" / "real" / "binance" / "premiumIndex.json"
    exchanges.serve_body("binance", "/fapi/v1/premiumIndex", real.read_bytes())
    exchanges.serve_body("binance", "/fapi/v1/fundingInfo", b"[]")
    refresh_workbook(book, exchanges="binance")
    rows, _, _ = funding_rows(book)
    binance = {r["symbol"]: r for r in rows if r["exchange"] == "binance"}
    assert {"BTCUSDC", "BTCUSDT", "ETHBTC", "ETHUSDT", "ETHUSDC"} <= set(binance)
    assert (binance["ETHBTC"]["quote"], binance["ETHBTC"]["margin"]) == ("BTC", "linear")
    assert binance["BTCUSDT"]["key"] == "binance|BTC" and not binance["BTCUSDC"]["key"]
    assert not binance["ETHBTC"]["key"] and binance["ETHBTC"]["symbol_key"] == "binance|ETHBTC"
    assert binance["BTCUSDT"]["basis"] == pytest.approx(93951.8 / 93902.89680851 - 1)

    def hedge_and_plan():
        values = formula_results(book)  # the model; the evaluator checks refreshed books cell for cell above
        plan = compute_plan(read_inputs(book))
        return values, plan

    values, plan = hedge_and_plan()
    r = L.HEDGE_FIRST_ROW
    assert values[at(L.HEDGE, "funding_rate", r)] == pytest.approx(0.00013062)  # BTCUSDT's rate, not BTCUSDC's
    assert values[at(L.HEDGE, "mark_price", r)] == pytest.approx(93951.8)
    assert values[at(L.HEDGE, "funding_rate", r + 1)] == pytest.approx(float(
        next(x for x in __import__("json").loads(real.read_text()) if x["symbol"] == "ETHUSDT")["lastFundingRate"]))
    assert list(plan["contract"][:2]) == ["BTCUSDT", "ETHUSDT"]
    assert plan["funding_rate"].iloc[0] == pytest.approx(values[at(L.HEDGE, "funding_rate", r)])
    assert plan["mark_price"].iloc[0] == pytest.approx(values[at(L.HEDGE, "mark_price", r)])

    wb = openpyxl.load_workbook(book, keep_vba=True)
    type_in(wb[L.PORTFOLIO], 5, asset="BTCUSDC")  # the user names a contract: exactly that one
    wb.save(book)
    values, plan = hedge_and_plan()
    assert values[at(L.HEDGE, "funding_rate", r)] == pytest.approx(0.00018617)
    # no typed price: the named contract's own mark values the coins and sizes the short
    assert values[at(L.PORTFOLIO, "price", 5)] == values[at(L.HEDGE, "mark_price", r)] == pytest.approx(93972.1)
    assert plan["contract"].iloc[0] == "BTCUSDC"
    assert plan["funding_rate"].iloc[0] == pytest.approx(0.00018617)
    assert plan["short_notional"].iloc[0] == pytest.approx(values[at(L.HEDGE, "short_notional", r)])


def test_a_workbook_of_another_layout_is_refused_with_a_clear_message(book):
    wb = openpyxl.load_workbook(book, keep_vba=True)
    header = f"{L.FUNDING_COL['quote']}{L.FUNDING_HEADER_ROW}"  # where 0.1 had its rates
    wb[L.FUNDING][header] = "Funding rate (per interval)"  # the 0.1 layout
    wb.save(book)
    with pytest.raises(WorkbookError, match=r"another version of xlhedge.*xlhedge template --out"):
        refresh_workbook(book, offline=True)


def test_a_partial_answer_is_written_and_the_status_names_what_is_missing(book, exchanges):
    exchanges.fault("mexc", "/api/v1/contract/ticker", Fault(status=503, times=99))
    result = refresh_workbook(book, exchanges="mexc,binance")
    rows, status, _ = funding_rows(book)
    mexc = [r for r in rows if r["exchange"] == "mexc"]
    assert {r["base"] for r in mexc} == {"BTC", "ETH"}  # the portfolio's coins, none lost
    assert all(r["funding_rate"] is not None and r["mark_price"] and r["stale"] == L.STALE_NO for r in mexc)
    assert all(r["open_interest_usd"] is None for r in mexc)
    assert result.outcome["mexc"] == "ok (2 contracts, no open interest (ticker: HTTP 503 after 4 tries))"
    assert "mexc ok (2 contracts, no open interest (ticker: HTTP 503 after 4 tries))" in status
    assert result.outcome["binance"] == "ok (2 contracts)"


def test_a_missing_funding_interval_keeps_the_last_known_one(book, exchanges):
    refresh_workbook(book, exchanges="binance")
    before = {(r["exchange"], r["symbol"]): r["interval_hours"] for r in funding_rows(book)[0]}
    exchanges.fault("binance", "/fapi/v1/fundingInfo", Fault(status=503, times=99))
    result = refresh_workbook(book, exchanges="binance")
    rows = [r for r in funding_rows(book)[0] if r["exchange"] == "binance"]
    assert rows and all(r["stale"] == L.STALE_NO for r in rows)
    assert {(r["exchange"], r["symbol"]): r["interval_hours"] for r in rows} == {
        k: v for k, v in before.items() if k[0] == "binance"}
    assert "no funding intervals (fundingInfo: HTTP 503 after 4 tries)" in result.outcome["binance"]


def test_known_intervals_fill_only_what_did_not_come():
    from xlhedge.refresh import known_intervals

    fresh = pd.DataFrame({"exchange": ["binance"] * 3, "symbol": ["SOLUSDT", "BTCUSDT", "NEWUSDT"],
                          "interval_hours": [float("nan"), 8.0, float("nan")]})
    previous = pd.DataFrame({"exchange": ["binance", "binance", "okx"], "symbol": ["SOLUSDT", "BTCUSDT", "NEWUSDT"],
                             "interval_hours": [4.0, 1.0, 2.0]})
    got = known_intervals(fresh, previous)["interval_hours"].tolist()
    assert got[:2] == [4.0, 8.0] and np.isnan(got[2])  # a fresh value wins; another exchange's never counts


def test_cells_the_refresh_writes_first_look_like_the_templates_and_empty_ones_are_not_written(book):
    """The template formats the Funding table's columns, not its empty cells (a quarter of the load time
    of every command). A row the refresh fills for the first time looks like a row the template filled
    (every style part, column by column); rows a shorter table leaves are emptied, and cells never filled
    are not written at all."""
    from xlhedge.market.sample import sample_snapshot
    from xlhedge.workbook.book import OpenpyxlBook

    sample = sample_snapshot()
    sample["stale"] = "no"
    longer = pd.concat([sample] * 3, ignore_index=True)  # past the rows the template filled
    port = OpenpyxlBook(book)
    port.write_table(longer)
    port.save()
    ws = openpyxl.load_workbook(book)[L.FUNDING]
    shipped, written = L.FUNDING_FIRST_ROW, L.FUNDING_FIRST_ROW + len(longer) - 1
    assert len(sample) < len(longer) and ws[f"A{written}"].value == sample["exchange"].iloc[-1]
    compared = 0
    for _, col, _ in L.FUNDING_COLUMNS:  # against a cell of that column the template wrote
        theirs = next((ws[f"{col}{r}"] for r in range(shipped, shipped + len(sample))
                       if ws[f"{col}{r}"].value is not None), None)
        if theirs is None:  # (a column the sample leaves empty)
            continue
        compared += 1
        mine = ws[f"{col}{theirs.row + 2 * len(sample)}"]  # the same sample row in the third copy
        for part in ("number_format", "border", "font", "fill", "alignment", "protection"):
            assert repr(getattr(mine, part)) == repr(getattr(theirs, part)), (col, part)  # (a Border != itself)
    assert compared >= len(L.FUNDING_COLUMNS) - 2
    port = OpenpyxlBook(book)
    port.write_table(sample)
    port.save()
    ws = openpyxl.load_workbook(book)[L.FUNDING]
    assert ws[f"A{written}"].value is None and ws[f"A{shipped + len(sample) - 1}"].value is not None
    table_width = L.position(L.FUNDING_COLUMNS[-1][1]) + 1
    rows = {row for row, col in ws._cells if row >= L.FUNDING_FIRST_ROW and col <= table_width}
    assert max(rows) == written  # nothing below what was ever filled
    # the column after the table holds a space in every row the table may fill, so that a long text (the tiers)
    # stops at its own column instead of running over the tables beside it; the refresh leaves it
    gap = L.letter(table_width)
    assert all(ws[f"{gap}{r}"].value == " " for r in range(L.FUNDING_FIRST_ROW, L.FUNDING_LAST_ROW + 1))
