"""The xlhedge command line, run as a user would (a real subprocess) and in-process."""

import json
import os
import subprocess
import sys

import openpyxl
import pytest

from tests.cells import at, ref, type_in, write_own_margin_rule
from tests.loopback import EPOCH_MS, hist_basis
from xlhedge.cli import main
from xlhedge.plan import compute_plan, read_inputs
from xlhedge.workbook import layout as L


def run(*args, env=None, cwd=None):
    return subprocess.run([sys.executable, "-m", "xlhedge", *args], capture_output=True, text=True,
                          timeout=300, env={**os.environ, **(env or {})}, cwd=cwd)


@pytest.mark.slow
def test_demo_without_network(tmp_path):
    dead = {f"XLHEDGE_{ex.upper()}_URL": "http://127.0.0.1:9" for ex in L.EXCHANGES}
    out = run("demo", "--timeout", "2", env=dead, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "no exchange answered; using the bundled SAMPLE snapshot" in out.stdout
    assert "live marks" not in out.stdout and "valued at the marks of the data above" in out.stdout
    assert "$243,544" in out.stdout and "TOTAL" in out.stdout  # 40% of 5 x 91,250.40 + 50 x 3,052.18
    assert (tmp_path / "xlhedge.xlsm").exists()
    assert "Traceback" not in out.stderr


def test_demo_live(tmp_path, exchanges, capsys):
    assert main(["demo", "--out", str(tmp_path / "demo.xlsm")]) == 0
    out = capsys.readouterr().out
    assert "live from binance, bybit, okx, hyperliquid" in out
    # 5 BTC and 50 ETH at the loopback's Binance marks 60,000 and 3,000, 40% short: 2 BTC, 20 ETH
    btc = next(line for line in out.splitlines() if line.strip().startswith("BTC "))
    eth = next(line for line in out.splitlines() if line.strip().startswith("ETH "))
    assert "$300,000" in btc and "$120,000" in btc and " 2 " in btc and "40.0%" in btc
    assert "$150,000" in eth and "$60,000" in eth and " 20 " in eth
    assert "$180,000" in out


def test_plan_formats_match_the_workbook_formulas(book, capsys, calculate):
    assert main(["plan", str(book), "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    values = calculate(book)
    for i, row in enumerate(rows):
        r = L.HEDGE_FIRST_ROW + i
        assert row["short_notional"] == pytest.approx(values[at(L.HEDGE, "short_notional", r)])
        assert row["contracts"] == pytest.approx(values[at(L.HEDGE, "contracts", r)])
        assert row["liquidation_price"] == pytest.approx(values[at(L.HEDGE, "liquidation_price", r)])
        assert row["funding_cost"] == pytest.approx(values[at(L.HEDGE, "funding_cost", r)])
    assert main(["plan", str(book), "--format", "csv"]) == 0
    assert capsys.readouterr().out.startswith("asset,spot_value")


def test_plan_engine_matches_formulas_for_an_edited_book(book, calculate):
    wb = openpyxl.load_workbook(book, keep_vba=True)
    p = wb[L.PORTFOLIO]
    type_in(p, 7, asset="SOL", quantity=1000, typed_price=150, hedge_with="BTC perp", beta=1.8, current_short=20000)
    type_in(p, 5, typed_price=None)  # BTC at the live mark price
    type_in(p, 6, exchange="okx")
    s = wb[L.SETTINGS]
    s[f"B{L.SETTING_ROW['Outlook']}"] = "bearish"
    s[f"B{L.SETTING_ROW['MaxRatio']}"] = 0.8
    wb.save(book)
    plan = compute_plan(read_inputs(book))
    values = calculate(book)
    for i, row in enumerate(plan.itertuples()):
        r = L.HEDGE_FIRST_ROW + i
        for key in ("spot_value", "hedge_ratio", "short_notional", "contracts", "liquidation_price",
                    "funding_cost", "rebalance"):
            assert getattr(row, key) == pytest.approx(values[at(L.HEDGE, key, r)]), (row.asset, key)


def test_funding_command(exchanges, capsys):
    assert main(["funding", "--symbols", "BTC,ETH"]) == 0
    out = capsys.readouterr().out
    assert "BTCUSDT" in out and "+0.0100%" in out and "SOL" not in out
    assert main(["funding", "--symbols", "BTC", "--format", "csv"]) == 0
    csv = capsys.readouterr().out.splitlines()
    assert csv[0].startswith("exchange,symbol,base,quote,margin,contract_size") and len(csv) == 1 + 8
    assert main(["funding", "--exchange", "all", "--symbols", "BTC"]) == 0
    table = capsys.readouterr().out
    header = table.splitlines()[0].split()
    assert header[:4] == ["Exchange", "Symbol", "Quote", "Margin"] and "Basis" in header and "Open" in header
    assert all(ex in table for ex in L.EXCHANGES)
    assert "BTC-USD-SWAP" in table and "inverse" in table  # OKX's coin-margined swap, not the hedge
    assert main(["funding", "--symbols", "SOL", "--exchanges", "okx", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data[0]["interval_hours"] == 4 and data[0]["apr"] == pytest.approx(0.00005 * 8760 / 4)


def test_refresh_and_template_commands(tmp_path, exchanges, capsys):
    out = tmp_path / "b.xlsm"
    assert main(["template", "--out", str(out)]) == 0
    assert main(["refresh", str(out), "--exchanges", "binance,okx"]) == 0
    assert "binance ok" in capsys.readouterr().out


def test_history_command(tmp_path, exchanges):
    target = tmp_path / "h.csv"
    assert main(["history", "price", "--exchange", "binance", "--symbol", "BTCUSDT",
                 "--start", "2025-01-01", "--end", "2025-02-01", "--interval", "1d",
                 "--out", str(target)]) == 0
    lines = target.read_text().splitlines()
    assert lines[0] == "time,open,high,low,close" and len(lines) == 33
    opened, high, low, close = (float(v) for v in lines[1].split(",")[1:])
    assert (opened, high, low) == pytest.approx((round(close * 0.995, 2), round(close * 1.01, 2),
                                                 round(close * 0.985, 2)))  # as the loopback serves them
    assert main(["history", "index", "--exchange", "okx", "--symbol", "BTC", "--start", "2025-01-01",
                 "--end", "2025-02-01", "--out", str(target)]) == 0
    index = target.read_text().splitlines()
    assert index[0] == "time,close" and len(index) == 33
    assert float(index[1].split(",")[1]) == pytest.approx(close / (1 + hist_basis(EPOCH_MS)))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["plan", "missing.xlsm"], "no such file: missing.xlsm (xlhedge template writes a fresh workbook; "
                                   "xlhedge demo one with market data)"),
        (["venues"], "no such file: xlhedge.xlsm (xlhedge template writes a fresh workbook"),
        (["plan"], "no such file: xlhedge.xlsm (xlhedge template writes a fresh workbook"),
        (["refresh", "notes.xlsm"], "not an Excel workbook"),
        (["plan", "other.xlsx"], "not an xlhedge workbook"),
        (["funding", "--exchanges", "ftx"], "unknown exchange 'ftx'"),
        (["history", "funding", "--exchange", "kraken", "--symbol", "X"], "unknown exchange 'kraken'"),
        (["history", "index", "--exchange", "weex", "--symbol", "BTCUSDT"], "weex publishes no index price history"),
        (["history", "funding", "--exchange", "binance", "--symbol", "BTCUSDT", "--start", "yesterday"],
         "start must be a UTC date like 2025-01-31 or 2025-01-31 08:00 (got 'yesterday')"),
        (["plan", "photos.xlsm"], "photos.xlsm is a zip file, not an Excel workbook"),
        (["template", "--out", "notes.xlsm"], "notes.xlsm already exists"),
        (["template", "--out", "notes.txt"], "notes.txt: the workbook is macro-enabled (.xlsm: its buttons run macros);"
                                             " use a name ending in .xlsm"),
        (["template", "--lite", "--out", "x.xlsm"], "x.xlsm: the Lite edition is an .xlsx (it has no VBA)"),
    ],
)
def test_user_errors_are_one_line(tmp_path, monkeypatch, capsys, args, message):
    """In this process (a fresh one for the workbook refusals: test_a_refused_file_is_one_line_to_the_end)."""
    _files_a_user_mistakes_for_workbooks(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert main(args) == 1
    err = capsys.readouterr().err
    assert err.strip() == f"xlhedge: error: {message}" or message in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def _files_a_user_mistakes_for_workbooks(folder):
    import zipfile

    (folder / "notes.xlsm").write_text("not a workbook")
    openpyxl.Workbook().save(folder / "other.xlsx")
    with zipfile.ZipFile(folder / "photos.xlsm", "w") as z:
        z.writestr("holiday.txt", "sun")


def test_a_refused_file_is_one_line_to_the_end(tmp_path):
    """As a user runs it: nothing more on stderr until the process has exited (a file left open would print
    "Exception ignored in ..." at exit)."""
    _files_a_user_mistakes_for_workbooks(tmp_path)
    for args, message in ((["plan", "other.xlsx"], "not an xlhedge workbook"),
                          (["refresh", "notes.xlsm"], "not an Excel workbook")):
        out = run(*args, cwd=tmp_path)
        assert out.returncode == 1 and out.stderr.startswith("xlhedge: error: ") and message in out.stderr
        assert len(out.stderr.strip().splitlines()) == 1 and "Traceback" not in out.stderr


def test_no_network_is_one_line(tmp_path):
    dead = {f"XLHEDGE_{ex.upper()}_URL": "http://127.0.0.1:9" for ex in L.EXCHANGES}
    out = run("funding", "--timeout", "1", env=dead, cwd=tmp_path)
    assert out.returncode == 1
    assert out.stderr.startswith("xlhedge: error: no exchange answered")
    assert "--offline" in out.stderr and len(out.stderr.strip().splitlines()) == 1


def test_refresh_with_no_network_exits_1_and_keeps_the_rows(tmp_path, book):
    dead = {f"XLHEDGE_{ex.upper()}_URL": "http://127.0.0.1:9" for ex in L.EXCHANGES}
    def table(ws):
        cols = [L.FUNDING_COL[k] for k in ("exchange", "symbol", "funding_rate", "mark_price")]
        return sorted(tuple(ws[f"{c}{r}"].value for c in cols) for r in range(L.FUNDING_FIRST_ROW, 60)
                      if ws[f"{L.FUNDING_COL['exchange']}{r}"].value)

    before = table(openpyxl.load_workbook(book)[L.FUNDING])
    out = run("refresh", str(book), "--timeout", "1", env=dead, cwd=tmp_path)
    assert out.returncode == 1 and "Traceback" not in out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("xlhedge: error: no exchange answered (")
    assert all(lines[0].count(ex) == 1 for ex in L.EXCHANGES)  # each exchange once, no repetition
    ws = openpyxl.load_workbook(book)[L.FUNDING]
    assert table(ws) == before  # every row kept
    assert ws[f"{L.FUNDING_COL['stale']}6"].value == "sample"  # the sample keeps its own mark


@pytest.mark.slow
def test_no_command_overwrites_an_edited_workbook_without_force(tmp_path):
    dead = {f"XLHEDGE_{ex.upper()}_URL": "http://127.0.0.1:9" for ex in L.EXCHANGES}
    assert run("demo", "--offline", cwd=tmp_path).returncode == 0
    book = tmp_path / "xlhedge.xlsm"
    wb = openpyxl.load_workbook(book, keep_vba=True)
    type_in(wb[L.PORTFOLIO], 5, quantity=7, typed_price=50000)  # the user's edits: 7 BTC, valued at $50,000
    wb.save(book)
    out = run("demo", "--timeout", "1", env=dead, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "kept your existing xlhedge.xlsm" in out.stdout and "Your portfolio" in out.stdout
    btc = next(line for line in out.stdout.splitlines() if line.strip().startswith("BTC "))
    assert "$350,000" in btc  # 7 BTC at the typed $50,000: the user's plan, not the sample's
    assert " 2.8 " in btc and "$140,000" in btc  # 40% of 7 coins, at the same price
    assert openpyxl.load_workbook(book)[L.PORTFOLIO][ref(L.PORTFOLIO, "quantity", 5)].value == 7
    out = run("template", "--out", "xlhedge.xlsm", cwd=tmp_path)
    assert out.returncode == 1 and "already exists" in out.stderr and "--force" in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1
    assert openpyxl.load_workbook(book)[L.PORTFOLIO][ref(L.PORTFOLIO, "quantity", 5)].value == 7
    assert run("template", "--out", "xlhedge.xlsm", "--force", cwd=tmp_path).returncode == 0
    assert openpyxl.load_workbook(book)[L.PORTFOLIO][ref(L.PORTFOLIO, "quantity", 5)].value == 5


@pytest.mark.slow
def test_plan_into_head_ends_quietly(book, tmp_path):
    out = subprocess.run(f"{sys.executable} -m xlhedge plan {book} | head -1", shell=True, capture_output=True,
                         text=True, timeout=120, cwd=tmp_path)
    assert out.stdout.startswith("Asset") and out.stderr == ""
    # a reader that leaves before anything is written: every write meets a closed pipe
    out = subprocess.run(f"{sys.executable} -m xlhedge plan {book} | true", shell=True, capture_output=True,
                         text=True, timeout=120, cwd=tmp_path)
    assert out.stderr == ""


def test_debug_shows_the_traceback(tmp_path):
    out = run("--debug", "plan", "missing.xlsm", cwd=tmp_path)
    assert out.returncode == 1 and "Traceback" in out.stderr


def test_help_and_version():
    assert run("--version").stdout.strip().startswith("xlhedge ")
    out = run("--help").stdout
    for command in ("demo", "plan", "funding", "refresh", "template", "history"):
        assert command in out


def test_plan_says_when_a_workbook_has_formulas_of_its_own(book, capsys, caplog):
    """A formula of the user's own: the workbook model cannot tell its value, so plan evaluates the workbook
    as it is (the general evaluator) and says so, and nothing else: no log of the evaluator's own (its
    dispatcher logs a step it skips with a traceback, which a terminal would show)."""
    from xlhedge.workbook import template

    assert main(["plan", str(book)]) == 0
    assert "Note: this workbook's formulas" not in capsys.readouterr().out
    margin, short = write_own_margin_rule(book)
    assert template.formula_values(openpyxl.load_workbook(book, keep_vba=True)) is None
    assert main(["plan", str(book)]) == 0
    out = capsys.readouterr().out
    assert "Note: this workbook's formulas are not this xlhedge's template" in out
    assert not [r.getMessage()[:80] for r in caplog.records if r.name.startswith(("schedula", "formulas"))]
    assert "xlhedge template --out NEW.xlsm" in out
    assert main(["venues", str(book)]) == 0  # venues says it too
    assert "Note: this workbook's formulas are not this xlhedge's template" in capsys.readouterr().out
    inputs = read_inputs(book)  # the user's own rule computed: the margin is half the short
    assert inputs.values[(L.HEDGE, margin)] == pytest.approx(inputs.values[(L.HEDGE, short)] / 2)
