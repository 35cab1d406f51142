"""The template: reproducible build, contents read back with openpyxl, macros checked with
oletools, every formula evaluated against the real engine, and pages rendered by LibreOffice."""

import re
import subprocess
import sys
import zipfile

import numpy as np
import openpyxl
import pytest

from tests.byte_compare import workbook_difference
from tests.cells import at, ref, single, typed
from tests.conftest import ROOT
from tests.workbook_snapshot import everything_but_funding
from xlhedge import engine
from xlhedge.market.sample import sample_snapshot
from xlhedge.workbook import builder, messages, render, spec, vba
from xlhedge.workbook import layout as L
from xlhedge.workbook.evaluate import evaluate_workbook

COMMITTED = ROOT / "workbook" / "xlhedge.xlsm"


def members(path):
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist()}


def test_build_is_reproducible_and_matches_the_committed_file(built_template, tmp_path):
    from xlhedge.workbook.template import build_template

    again = build_template(tmp_path / "again.xlsm")
    assert workbook_difference(built_template, again) is None
    committed = members(COMMITTED)
    props = committed["docProps/custom.xml"].decode()
    built_with = re.search(r'name="xlwings_version"[^>]*><vt:lpwstr>([^<]+)<', props).group(1)
    same_vba = built_with == vba.xlwings_version()
    found = workbook_difference(COMMITTED, built_template, skip=() if same_vba else ("xl/vbaProject.bin",))
    assert found is None, f"{found}: run `xlhedge template --out workbook/xlhedge.xlsm --force`"
    if not same_vba:
        pytest.skip(f"committed VBA is from xlwings {built_with}, installed is {vba.xlwings_version()}")


def test_sheets_names_validations_chart_and_conf(built_template):
    wb = openpyxl.load_workbook(built_template, keep_vba=True)
    assert wb.sheetnames == list(L.SHEETS)
    names = {n: wb.defined_names[n].attr_text for n in wb.defined_names}
    for setting in L.SETTING_LIST:
        assert names[setting.name] == f"Settings!$B${L.SETTING_ROW[setting.name]}"
    assert names["FundingKeys"] == f"Funding!${L.FUNDING_COL['key']}$6:${L.FUNDING_COL['key']}${L.FUNDING_LAST_ROW}"
    assert names["SymbolKeys"].startswith(f"Funding!${L.FUNDING_COL['symbol_key']}$6")
    assert names["MarkPrices"].startswith(f"Funding!${L.FUNDING_COL['mark_price']}$6")
    settings = wb[L.SETTINGS]
    assert settings[f"B{L.SETTING_ROW['Outlook']}"].value == "neutral"
    assert settings[f"B{L.SETTING_ROW['Conviction']}"].value == 0.5
    rules = {str(dv.sqref): dv for dv in settings.data_validations.dataValidation}
    assert rules[f"B{L.SETTING_ROW['Outlook']}"].formula1 == '"bearish,neutral,bullish"'
    port = {str(dv.sqref): dv for dv in wb[L.PORTFOLIO].data_validations.dataValidation}
    assert port["E5:E24"].formula1 == '"own perp,BTC perp"'
    assert port["G5:G24"].formula1 == '"binance,bybit,okx,hyperliquid,bingx,mexc,weex,best"'
    charts = wb[L.SCENARIOS]._charts
    assert len(charts) == 1
    assert [s.val.numRef.f for s in charts[0].series] == ["Scenarios!$B$9:$B$19", "Scenarios!$C$9:$C$19"]
    conf = wb[L.CONF]
    assert (conf["A1"].value, conf["B1"].value) == ("UDF Modules", "xlhedge.udfs")
    keys = [conf[f"A{r}"].value for r in range(1, 10) if conf[f"A{r}"].value]
    assert all(k in ("UDF Modules", "USE UDF SERVER") or k.startswith("_") for k in keys)  # blanks switched off
    # the Refresh button starts its own Python whatever the ribbon's UDF-server switch says
    assert (conf["A2"].value, conf["B2"].value) == ("USE UDF SERVER", "False")
    portfolio = wb[L.PORTFOLIO]
    typed_in = ("asset", "quantity", "typed_price")
    assert [portfolio[ref(L.PORTFOLIO, k, 5)].value for k in typed_in] == ["BTC", 5, None]  # at the live mark
    assert [portfolio[ref(L.PORTFOLIO, k, 6)].value for k in typed_in] == ["ETH", 50, None]
    assert portfolio[spec.CASH_CELL].value == 100000
    assert portfolio[ref(L.PORTFOLIO, "asset", 5)].protection.locked is False
    assert portfolio[ref(L.PORTFOLIO, "spot_value", 5)].protection.locked is True
    assert portfolio.protection.sheet and wb[L.HEDGE].protection.sheet
    assert not wb[L.FUNDING].protection.sheet  # the refresh writes there
    assert wb[L.HEDGE].freeze_panes == "B5"
    funding = wb[L.FUNDING]
    assert "SAMPLE" in funding[L.STATUS_CELL].value and "2026-11-20" in funding[L.NOTE_CELL].value
    assert funding[f"{L.FUNDING_COL['stale']}6"].value == "sample"


def test_buttons_call_macros_that_exist_in_the_vba_project(built_template):
    snap = everything_but_funding(built_template)
    # Start: Enable functions, Refresh market data; Backtest: Run backtest (the same macro: Python runs the
    # backtest when the button's sheet is the active one)
    assert snap["macros"] == sorted([vba.ENABLE_FUNCTIONS_MACRO, vba.REFRESH_MACRO, vba.REFRESH_MACRO])
    out = subprocess.run([sys.executable, "-m", "oletools.olevba", "--decode", str(built_template)],
                         capture_output=True, text=True, timeout=120)
    source = out.stdout
    assert re.search(r"^Sub ImportPythonUDFs\(\)", source, re.M)
    assert re.search(r"^Sub SampleCall\(\)", source, re.M)
    assert 'RunPython "import " & mymodule & ";" & mymodule & ".main()"' in source


@pytest.fixture
def values(built_template, calculate):
    """The template's formula values: the model's, and in the end-to-end part the general evaluator's."""
    return calculate(built_template)


def test_every_formula_evaluates_without_error(values):
    assert len(values) > 400
    errors = {k: v for k, v in values.items() if isinstance(v, str) and v.startswith("#")}
    assert errors == {}


def _engine_plan(adjust: bool):
    """The same plan computed straight from the engine (not through any formula)."""
    # the USDT contract by its symbol: the sample lists BTCUSDC first, as Binance does
    snap = sample_snapshot(["binance"]).set_index("symbol")
    out = {}
    for asset, qty in (("BTC", 5), ("ETH", 50)):
        rate, hours, mark = snap.loc[f"{asset}USDT", ["funding_rate", "interval_hours", "mark_price"]]
        spot = qty * mark
        ratio = engine.hedge_ratio("neutral", 0.5, rate if adjust else np.nan, hours)
        notional = spot * ratio
        out[asset] = {
            "spot": spot, "ratio": ratio, "notional": notional,
            "contracts": engine.contracts_for_notional(notional, mark, 1.0, 0.001).contracts,
            "margin": engine.initial_margin(notional, 3),
            "liq": engine.liquidation_price(mark, 3, 0.004),
            "cost": engine.funding_cost(notional, rate, hours, 30),
            "apr": engine.funding_apr(rate, hours),
        }
    return out


@pytest.mark.parametrize("adjust", [True, False])
def test_hedge_sheet_equals_the_engine(built_template, adjust, calculate):
    inputs = None if adjust else {("Settings", f"B{L.SETTING_ROW['FundingAdjust']}"): "no"}
    values = calculate(built_template, inputs)
    plan = _engine_plan(adjust)
    for i, asset in enumerate(("BTC", "ETH")):
        r = L.HEDGE_FIRST_ROW + i
        want = plan[asset]
        got = {k: values[at(L.HEDGE, key, r)] for k, key in
               (("spot", "spot_value"), ("ratio", "hedge_ratio"), ("notional", "short_notional"),
                ("contracts", "contracts"), ("margin", "margin"), ("liq", "liquidation_price"),
                ("cost", "funding_cost"), ("apr", "funding_apr"))}
        assert got == pytest.approx(want, rel=1e-12)
        assert values[at(L.HEDGE, "hedged_fraction", r)] == pytest.approx(want["contracts"] / (5, 50)[i])
        # the order in Binance's units: a contract is one coin, the step 0.001 (the sample's order rules)
        assert values[at(L.HEDGE, "order", r)] == f"Sell {want['contracts']:,.3f} {asset}USDT on binance"
    t = L.HEDGE_TOTAL_ROW
    assert values[at(L.HEDGE, "spot_value", t)] == pytest.approx(608_861)  # 5 x 91,250.40 + 50 x 3,052.18
    assert values[at(L.HEDGE, "short_notional", t)] == pytest.approx(sum(p["notional"] for p in plan.values()))
    assert values[at(L.HEDGE, "short_notional", t)] == pytest.approx(243_544.4)  # neutral, conviction 0.5: 40 %
    assert values[at(L.HEDGE, "funding_cost", t)] == pytest.approx(sum(p["cost"] for p in plan.values()))
    assert values[at(L.PORTFOLIO, "spot_value", L.CASH_ROW + 1)] == pytest.approx(708_861)


def test_scenarios_equal_the_engine(values):
    exposure, short, cost = (values[single(key)] for key in ("exposure", "short", "cost"))
    # 5 x 91,250.40 + 50 x 3,052.18 (the sample's marks) = 608,861; 40% of it short
    assert (exposure, short) == pytest.approx((608_861, 243_544.4))
    table = engine.scenario_table(exposure, short, funding_cost=cost, leverage=3, maintenance_margin_rate=0.004)
    for i, row in enumerate(table.itertuples()):
        r = L.SCENARIO_FIRST_ROW + i
        assert values[at(L.SCENARIOS, "unhedged", r)] == pytest.approx(row.unhedged)
        assert values[at(L.SCENARIOS, "hedged", r)] == pytest.approx(row.hedged)
        assert values[at(L.SCENARIOS, "adds", r)] == pytest.approx(row.difference)
        assert bool(values[at(L.SCENARIOS, "short", r)]) == row.liquidated


def test_scenarios_liquidate_the_3x_short_between_30_and_40_percent(values):
    """Worked by hand: 3x, 0.4% maintenance: liquidated at a rise of (1 + 1/3) / 1.004 - 1 = 32.80%.
    +30%: 0.3 x (608,861 - 243,544.4) + 1,928.19 of funding earned = 111,523.17.
    +40%: the short is gone with its margin (243,544.4 / 3 = 81,181.47) and earns no funding:
    0.4 x 608,861 - 81,181.47 = 162,362.93; +50%: 304,430.50 - 81,181.47 = 223,249.03."""
    assert values[single("first_rise")] == pytest.approx(0.328021, abs=1e-6)
    rise = [values[at(L.HEDGE, "liquidation_rise", L.HEDGE_FIRST_ROW + i)] for i in (0, 1)]
    assert rise[0] == pytest.approx(rise[1], rel=1e-12)  # BTC and ETH both in Binance's first bracket, 0.4%
    rows = {round(move, 1): L.SCENARIO_FIRST_ROW + i for i, move in enumerate(L.SCENARIO_MOVES)}
    assert values[at(L.SCENARIOS, "hedged", rows[0.3])] == pytest.approx(111_523.17, abs=0.01)
    assert not values[at(L.SCENARIOS, "short", rows[0.3])]
    assert values[at(L.SCENARIOS, "hedged", rows[0.4])] == pytest.approx(162_362.93, abs=0.01)
    assert values[at(L.SCENARIOS, "hedged", rows[0.5])] == pytest.approx(223_249.03, abs=0.01)
    assert values[at(L.SCENARIOS, "short", rows[0.4])].startswith("liquidated")
    # what the hedge "adds" past liquidation is the lost margin, not a loss growing with the rise
    assert values[at(L.SCENARIOS, "adds", rows[0.4])] == values[at(L.SCENARIOS, "adds", rows[0.5])] == pytest.approx(
        -81_181.47, abs=0.01)


def test_beta_hedged_alt_and_bearish_outlook(built_template, calculate):
    p = L.PORTFOLIO
    inputs = {**typed(p, 7, asset="SOL", quantity=1000, typed_price=150, hedge_with="BTC perp", beta=2),
              ("Settings", f"B{L.SETTING_ROW['Outlook']}"): "bearish",
              ("Settings", f"B{L.SETTING_ROW['Conviction']}"): 1}
    values = calculate(built_template, inputs)
    assert values[at(L.HEDGE, "perp", 7)] == "BTC"
    assert values[at(L.HEDGE, "hedge_ratio", 7)] == pytest.approx(1.0)
    assert values[at(L.HEDGE, "short_notional", 7)] == pytest.approx(300_000)  # $150k of SOL at beta 2: $300k of BTC
    assert values[at(L.HEDGE, "mark_price", 7)] == pytest.approx(91250.4)  # BTC's mark, not SOL's
    assert values[at(L.HEDGE, "btc_exposure", 7)] == pytest.approx(300_000)


@pytest.mark.slow  # the general evaluator on a full portfolio: a compile of its own on a worker without one
def test_one_full_recalculation_calls_python_once_per_column(built_template, monkeypatch):
    """Each xlwings call crosses COM: the template calls each function once per column (array
    formulas), not once per cell: at most 25 calls for the Hedge, Scenarios and Settings sheets and one
    per column of the Venues sheet's 140 rows. Counted on the headless evaluator, which (unlike Excel)
    evaluates both branches of every IF, so Excel makes at most this many calls."""
    from xlhedge import udfs

    calls = []
    for name, func in list(udfs.UDFS.items()):
        def counted(*args, _func=func, _name=name):
            calls.append(_name)
            return _func(*args)
        monkeypatch.setitem(udfs.UDFS, name, counted)
    # a full portfolio: all 20 rows filled, half of them hedged with the BTC perp
    p = L.PORTFOLIO
    inputs = {}
    for i in range(L.PORTFOLIO_ROWS):
        r = L.PORTFOLIO_FIRST_ROW + i
        inputs.update({**typed(p, r, asset="BTC", quantity=1, beta=1.2),
                       at(p, "hedge_with", r): "BTC perp" if i % 2 else "own perp"})
    values = evaluate_workbook(built_template, inputs)
    assert all(isinstance(values[at(L.HEDGE, "contracts", L.HEDGE_FIRST_ROW + i)], float)
               for i in range(L.PORTFOLIO_ROWS))
    venue_calls = len(spec.VENUE_COLUMNS) + 1  # (the ratio compared in B3)
    assert 0 < len(calls) <= 25 + venue_calls, sorted(calls)
    assert calls.count("HEDGE_CONTRACTS") == 2 and calls.count("HEDGE_PNL") == 2  # the Hedge and Venues columns


def test_a_bad_row_shows_its_own_message_and_the_others_compute(built_template, calculate):
    p = L.PORTFOLIO
    # a beta BETA_HEDGE refuses: only that row says so
    inputs = {**typed(p, 7, asset="SOL", quantity=1000, typed_price=150, hedge_with="BTC perp", beta=1e306),
              **typed(p, 8, asset="ADA", quantity=1000, typed_price=1, hedge_with="BTC perp")}
    values = calculate(built_template, inputs)
    h = L.HEDGE
    assert values[at(h, "short_notional", 5)] == pytest.approx(182_500.8)  # BTC: 40% of 5 x 91,250.40
    assert values[at(h, "contracts", 5)] == pytest.approx(2.0)
    assert values[at(h, "short_notional", 7)].startswith("#VALUE! beta must be")
    assert values[at(h, "contracts", 7)] is None  # no short, no contracts; the other rows are untouched
    assert values[at(h, "short_notional", 8)].startswith("#N/A no beta")  # ADA: no beta typed or estimated
    assert values[at(h, "contracts", 6)] == pytest.approx(20.0)  # ETH: 40% of 50


def test_each_settings_note_fits_one_line_of_its_column():
    # column C (64 wide) holds about 82 characters of the italic note on one line: the rendered sheet shows the
    # 82-character EventRule note whole and wrapped an 86-character one into the row below, whose height does
    # not grow, so its last words printed over the next note
    longest = max(L.SETTING_LIST, key=lambda s: len(s.note))
    assert len(longest.note) <= 82, f"{longest.name}: {longest.note!r}"


@pytest.mark.skipif(not render.tools_available(), reason="LibreOffice/pdftoppm not installed")
def test_libreoffice_renders_every_sheet(built_template, tmp_path):
    from PIL import Image

    pdf = render.to_pdf(built_template, tmp_path)
    pages = render.to_pngs(pdf, tmp_path / "png", dpi=50)
    # one page a sheet, the Hedge sheet on six, the Venues sheet on three and the Funding sheet on four (a page
    # more would mean a page is wider or taller than A4)
    assert len(pages) == sum(builder.TemplateBuilder.printed_pages(s) for s in L.SHEETS) == len(L.SHEETS) + 10
    for page in pages:
        img = np.asarray(Image.open(page).convert("L"))
        dark = (img < 128).mean()
        assert 0.001 < dark < 0.5, f"{page.name} looks blank or black ({dark:.4f})"
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
    assert "#NAME?" not in text and "#VALUE!" not in text
    assert "$243,544" in text  # total short on the Hedge sheet
    # the Hedge and Venues sheets' later pages start at the column headers: no slice of the title or notes
    first = 1
    for sheet in L.SHEETS:
        pages = builder.TemplateBuilder.printed_pages(sheet)
        if sheet in (L.HEDGE, L.VENUES, L.FUNDING):
            page_text = [subprocess.run(["pdftotext", "-f", str(n), "-l", str(n), str(pdf), "-"],
                                        capture_output=True, text=True).stdout for n in range(first, first + pages)]
            title = {L.HEDGE: "Hedge plan", L.VENUES: "Venues: where to short", L.FUNDING: "Funding rates, prices"}
            note = {L.HEDGE: "Everything here is calculated", L.VENUES: "One row per exchange",
                    L.FUNDING: "The hedge uses one contract"}
            ending = {L.HEDGE: "never short more than planned.", L.VENUES: "Portfolio row's exchange to short there",
                      L.FUNDING: "to hedge with that contract instead."}  # each note printed whole
            assert title[sheet] in page_text[0] and note[sheet] in page_text[0] and ending[sheet] in page_text[0]
            for later in page_text[1:]:
                assert title[sheet] not in later and note[sheet][:12] not in later, later[:200]
                if sheet != L.FUNDING:
                    assert "BTC" in later and "ETH" in later  # the repeated key column
            if sheet == L.FUNDING:  # the order rules by lookup key, then the betas, then the crowded longs
                assert "binance|BTCUSDT" in page_text[1] and "Betas to BTC" in page_text[2]
                assert "Crowded longs?" in page_text[3] and "Measured at" in page_text[3]
        first += pages


def test_wide_sheets_print_their_later_pages_without_the_title_and_notes(built_template, tmp_path):
    """The Hedge, Venues and Funding sheets print in ranges: the first page from the title down, the others from
    their headers down; the notes merge within the first page's columns. A refresh (openpyxl saving the book)
    keeps the ranges."""
    import shutil

    from xlhedge.refresh import refresh_workbook

    book = shutil.copyfile(built_template, tmp_path / "book.xlsm")
    refresh_workbook(book, offline=True)
    areas = {s: openpyxl.load_workbook(built_template)[s].print_area for s in (L.HEDGE, L.VENUES, L.FUNDING)}
    assert {s: openpyxl.load_workbook(book, keep_vba=True)[s].print_area for s in areas} == areas
    wb = openpyxl.load_workbook(built_template)
    # (sheet, its column headers' row, print ranges, its note's merged cells)
    for sheet, header_row, count, note in ((L.HEDGE, L.HEDGE_FIRST_ROW - 1, 2, "A2"),
                                           (L.VENUES, L.VENUE_FIRST_ROW - 1, 2, "A2"),
                                           (L.FUNDING, L.FUNDING_HEADER_ROW, 4, "A4")):
        ws = wb[sheet]
        ranges = [part.split("!")[1].replace("$", "") for part in ws.print_area.split(",")]
        end = builder.TemplateBuilder.first_page_end(sheet)
        assert len(ranges) == count and ranges[0].startswith("A1:" + end)
        assert re.fullmatch(rf"[A-Z]+{header_row}:[A-Z]+\d+", ranges[1])
        assert openpyxl.utils.column_index_from_string(ranges[1].split(":")[0].rstrip("0123456789")) == \
            openpyxl.utils.column_index_from_string(end) + 1
        assert f"{note}:{end}{note[1:]}" in {str(m) for m in ws.merged_cells.ranges}


def test_committed_workbook_exists_and_is_small():
    assert COMMITTED.exists()
    assert COMMITTED.stat().st_size < 200_000


def _funding_row(path, symbol: str, exchange: str = "binance") -> int:
    ws = openpyxl.load_workbook(path)[L.FUNDING]
    for r in range(L.FUNDING_FIRST_ROW, L.FUNDING_LAST_ROW + 1):
        if (ws[f"{L.FUNDING_COL['exchange']}{r}"].value, ws[f"{L.FUNDING_COL['symbol']}{r}"].value) == (
                exchange, symbol):
            return r
    raise AssertionError(f"{symbol} not in the template's Funding sheet")


@pytest.mark.parametrize("btc_mark, eth_mark", [(12345.67, 987.65), (250000.0, 9999.0)])
def test_the_hedge_is_sized_in_coins_at_any_mark(built_template, btc_mark, eth_mark, calculate):
    """5 BTC and 50 ETH at a neutral 40%: 2 BTC and 20 ETH short, whatever the marks (the sample's own
    marks: test_hedge_sheet_equals_the_engine)."""
    mark = L.FUNDING_COL["mark_price"]
    inputs = {(L.FUNDING, f"{mark}{_funding_row(built_template, 'BTCUSDT')}"): btc_mark,
              (L.FUNDING, f"{mark}{_funding_row(built_template, 'ETHUSDT')}"): eth_mark,
              (L.SETTINGS, f"B{L.SETTING_ROW['FundingAdjust']}"): "no"}
    values = calculate(built_template, inputs)
    r = L.HEDGE_FIRST_ROW
    assert values[at(L.HEDGE, "hedge_ratio", r)] == values[at(L.HEDGE, "hedge_ratio", r + 1)] == pytest.approx(0.4)
    assert values[at(L.HEDGE, "contracts", r)] == pytest.approx(2.0)
    assert values[at(L.HEDGE, "contracts", r + 1)] == pytest.approx(20.0)
    assert values[at(L.HEDGE, "mark_price", r)] == pytest.approx(btc_mark)  # the value and the short use one price
    assert values[at(L.HEDGE, "spot_value", r)] == pytest.approx(5 * btc_mark)
    assert values[at(L.HEDGE, "short_notional", r + 1)] == pytest.approx(0.4 * 50 * eth_mark)
    hedged = [values[at(L.HEDGE, "hedged_fraction", r + i)] for i in (0, 1)]
    assert hedged == pytest.approx([0.4, 0.4])


def test_a_mark_the_refresh_could_not_fetch_is_no_price(built_template, tmp_path, calculate):
    """A partial answer leaves a Funding row's mark blank. The Portfolio's INDEX picks that blank, which
    Excel shows as 0 (so does the formulas evaluator): the spot value says there is no price instead of
    valuing 5 BTC at $0; the sheet (evaluator) and plan (the model) say the same."""
    book = tmp_path / "no-mark.xlsm"
    wb = openpyxl.load_workbook(built_template, keep_vba=True)
    wb[L.FUNDING][f"{L.FUNDING_COL['mark_price']}{_funding_row(built_template, 'BTCUSDT')}"] = None
    wb.save(book)
    got = calculate(book)
    assert got[at(L.PORTFOLIO, "price", 5)] == 0.0
    assert got[at(L.PORTFOLIO, "spot_value", 5)] == (
        "#N/A no price on binance: refresh market data, check the exchange, or type a price in Value at")
    assert got[at(L.PORTFOLIO, "spot_value", 6)] == pytest.approx(50 * 3052.18)  # ETH keeps its mark
    assert got[at(L.HEDGE, "contracts", 5)] is None and got[at(L.HEDGE, "contracts", 6)] == pytest.approx(20.0)


def test_a_typed_value_overrides_the_mark_for_value_and_contracts_alike(built_template, calculate):
    inputs = {at(L.PORTFOLIO, "typed_price", 5): 50000, (L.SETTINGS, f"B{L.SETTING_ROW['FundingAdjust']}"): "no"}
    values = calculate(built_template, inputs)
    r = L.HEDGE_FIRST_ROW
    assert values[at(L.PORTFOLIO, "price", 5)] == 50000
    assert values[at(L.HEDGE, "spot_value", r)] == pytest.approx(250_000)
    assert values[at(L.HEDGE, "mark_price", r)] == 50000
    assert values[at(L.HEDGE, "contracts", r)] == pytest.approx(2.0)  # 40% of 5 coins, not 100k / 91,250 = 1.095
    assert values[at(L.HEDGE, "hedged_fraction", r)] == pytest.approx(0.4)


def test_hedged_fraction_shows_what_rounding_leaves(built_template, calculate):
    """3.3333 BTC at 40% is 1.33332 BTC; rounded down to 0.001: 1.333 short, 1.333 / 3.3333 hedged."""
    inputs = {at(L.PORTFOLIO, "quantity", 5): 3.3333, (L.SETTINGS, f"B{L.SETTING_ROW['FundingAdjust']}"): "no"}
    values = calculate(built_template, inputs)
    r = L.HEDGE_FIRST_ROW
    assert values[at(L.HEDGE, "contracts", r)] == pytest.approx(1.333)
    assert values[at(L.HEDGE, "hedged_fraction", r)] == pytest.approx(1.333 / 3.3333)


def test_an_fomc_date_inside_the_window_lifts_the_ratio_on_the_hedge_sheet(built_template, calculate):
    """2026-12-07 12:00 UTC is 2.3 days before the FOMC decision of 2026-12-09 19:00 UTC: 0.40 -> 0.80."""
    from xlhedge.cell_times import clock_at

    no_adjust = {(L.SETTINGS, f"B{L.SETTING_ROW['FundingAdjust']}"): "no"}
    r = L.HEDGE_FIRST_ROW
    with clock_at("2026-12-07T12:00"):
        values = calculate(built_template, no_adjust)
        off = calculate(built_template, {**no_adjust, (L.SETTINGS, f"B{L.SETTING_ROW['EventRule']}"): "no"})
    assert values[at(L.HEDGE, "hedge_ratio", r)] == values[at(L.HEDGE, "hedge_ratio", r + 1)] == pytest.approx(0.8)
    assert [values[at(L.HEDGE, "contracts", r + i)] for i in (0, 1)] == pytest.approx([4.0, 40.0])
    assert values[single("event_note")] == "FOMC 2026-12-09 19:00 UTC in 2.3 days: at least 80%"
    assert off[at(L.HEDGE, "hedge_ratio", r)] == pytest.approx(0.4) and not off[single("event_note")]
    with clock_at("2026-12-01T12:00"):  # 8 days before: the chosen 40%
        assert calculate(built_template, no_adjust)[at(L.HEDGE, "hedge_ratio", r)] == pytest.approx(0.4)


def test_a_users_own_event_row_counts(built_template, calculate):
    from xlhedge.cell_times import clock_at

    name_col, when_col, _ = L.EVENTS_COLUMNS
    row = L.EVENTS_FIRST_ROW + 20  # the first empty row after the shipped ones
    inputs = {(L.SETTINGS, f"{name_col}{row}"): "ETH upgrade",
              (L.SETTINGS, f"{when_col}{row}"): 46000.5,  # Excel's date number of 2025-12-09 12:00
              (L.SETTINGS, f"B{L.SETTING_ROW['FundingAdjust']}"): "no"}
    with clock_at("2025-12-08T12:00"):
        values = calculate(built_template, inputs)
    assert values[at(L.HEDGE, "hedge_ratio", L.HEDGE_FIRST_ROW)] == pytest.approx(0.8)
    assert values[single("event_note")] == "ETH upgrade 2025-12-09 12:00 UTC in 24 hours: at least 80%"


def test_basis_and_cross_hedge_warnings(built_template, calculate):
    """A BTCUSDT basis of +0.8% (beyond 0.5%) and SOL hedged with BTC at R² 0.32 (below 0.5) are named;
    ETH's basis of +0.026% and an R² of 0.8 are not."""
    ws = openpyxl.load_workbook(built_template)[L.FUNDING]
    btc = next(r for r in range(L.FUNDING_FIRST_ROW, L.FUNDING_LAST_ROW + 1)
               if (ws[f"{L.FUNDING_COL['exchange']}{r}"].value, ws[f"{L.FUNDING_COL['symbol']}{r}"].value)
               == ("binance", "BTCUSDT"))
    b, p = L.BETA_FIRST_ROW, L.PORTFOLIO
    beta = {key: col for key, col, _ in L.BETA_COLUMNS}
    inputs = {(L.FUNDING, f"{L.FUNDING_COL['basis']}{btc}"): 0.008,
              (L.FUNDING, f"{beta['base']}{b}"): "SOL", (L.FUNDING, f"{beta['beta']}{b}"): 1.5,
              (L.FUNDING, f"{beta['r2']}{b}"): 0.32,
              (L.FUNDING, f"{beta['base']}{b + 1}"): "AVAX", (L.FUNDING, f"{beta['beta']}{b + 1}"): 1.2,
              (L.FUNDING, f"{beta['r2']}{b + 1}"): 0.8,
              **typed(p, 7, asset="SOL", quantity=100, typed_price=150, hedge_with="BTC perp"),
              **typed(p, 8, asset="AVAX", quantity=100, typed_price=30, hedge_with="BTC perp")}
    values = calculate(built_template, inputs)
    r = L.HEDGE_FIRST_ROW
    assert values[at(L.HEDGE, "basis", r)] == pytest.approx(0.008)
    assert values[at(L.HEDGE, "check", r)].startswith("Wide basis: the perp trades above spot")
    assert not values[at(L.HEDGE, "check", r + 1)]  # ETH: a small basis
    assert values[at(L.HEDGE, "r2_btc", r + 2)] == pytest.approx(0.32)
    assert "Weak cross-hedge" in values[at(L.HEDGE, "check", r + 2)]  # SOL (and BTC's wide basis: its short is BTC)
    assert values[at(L.HEDGE, "r2_btc", r + 3)] == pytest.approx(0.8)
    assert "Weak cross-hedge" not in values[at(L.HEDGE, "check", r + 3)]


def test_plan_lists_the_checks(built_template, tmp_path):
    from xlhedge.plan import compute_plan, format_table, read_inputs

    book = tmp_path / "checks.xlsm"
    wb = openpyxl.load_workbook(built_template, keep_vba=True)
    b, beta = L.BETA_FIRST_ROW, {key: col for key, col, _ in L.BETA_COLUMNS}
    wb[L.FUNDING][f"{beta['base']}{b}"], wb[L.FUNDING][f"{beta['beta']}{b}"] = "SOL", 1.5
    wb[L.FUNDING][f"{beta['r2']}{b}"] = 0.32
    for col, value in zip("ABCE", ("SOL", 100, 150, "BTC perp"), strict=True):
        wb[L.PORTFOLIO][f"{col}7"] = value
    wb.save(book)
    plan = compute_plan(read_inputs(book))
    assert list(plan["check"]) == ["", "", messages.MSG_WEAK_CROSS]
    assert plan["r2_btc"].iloc[2] == pytest.approx(0.32)
    text = format_table(plan, 30)
    assert f"Checks:\n  SOL: {messages.MSG_WEAK_CROSS}" in text
