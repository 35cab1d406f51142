"""The sheet specification: one expression gives the Excel text and the value, columns are found
by key, and the hedge ratio's formula is the engine's hedge-target policy."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xlhedge.engine.policy import RULES, HedgePolicy, hedge_target
from xlhedge.workbook import formula as F
from xlhedge.workbook import layout as L
from xlhedge.workbook import spec
from xlhedge.workbook.excel import XlErr


class Table(F.Env):
    """Hand-typed columns and names: an environment for one expression."""

    def __init__(self, columns: dict, names: dict | None = None):
        self.columns, self.names = columns, names or {}

    def column(self, sheet, key):
        return F.Rows(self.columns[(sheet, key)])

    def name(self, name):
        return self.names[name]


def test_one_expression_writes_excel_text_and_computes_the_value():
    a, b = F.Ref("T", "qty"), F.Ref("T", "price")
    expr = F.IF(F.eq(a, ""), "", F.IF(F.ISNUMBER(b), a * b / 2 - 1, F.Lit('say "no"') & a))
    at = F.Where("T", 2, {"T": (5, 3, {"qty": "B", "price": "D"})})
    assert expr.excel(at) == 'IF(B7="","",IF(ISNUMBER(D7),B7*D7/2-1,"say ""no"""&B7))'
    assert expr.excel(F.Where("T", None, at.tables)) == \
        'IF(B5:B7="","",IF(ISNUMBER(D5:D7),B5:B7*D5:D7/2-1,"say ""no"""&B5:B7))'
    # worked by hand: 4*10/2-1 = 19; no price -> the text; an empty quantity -> ""
    got = expr.value(Table({("T", "qty"): [4, 3, None], ("T", "price"): [10, "x", 5]}))
    assert got == [19.0, 'say "no"3', ""]


def test_operators_are_parenthesised_only_where_excel_needs_it():
    x, y, z = F.Lit(1), F.Lit(2), F.Lit(3)
    at = F.Where("T", 0, {})
    assert (x - (y - z)).excel(at) == "1-(2-3)"
    assert ((x - y) - z).excel(at) == "1-2-3"
    assert ((x + y) * z).excel(at) == "(1+2)*3"
    assert (x / (y * z)).excel(at) == "1/(2*3)"
    assert (x - (y - z)).value(Table({})) == 2.0


def test_excel_rules_for_comparisons_conditions_and_lookups():
    env = Table({}, {"Keys": ["binance|BTC", None, "OKX|eth"], "Values": [1.5, 7, None]})
    assert F.eq("Yes", "yes").value(env) is True  # text compares without case
    assert F.gt("a", 10**9).value(env) is True  # text is greater than any number
    assert F.IF("text", 1, 2).value(env) == "#VALUE!"  # a text condition is an error
    assert F.MATCH("okx|ETH", F.Name("Keys"), 0).value(env) == 3
    assert F.MATCH("kraken|BTC", F.Name("Keys"), 0).value(env) == "#N/A"
    # INDEX of an empty cell is a reference to it: ISNUMBER says FALSE, arithmetic reads it as 0
    assert F.INDEX(F.Name("Values"), 3).value(env) is None
    assert F.ISNUMBER(F.INDEX(F.Name("Values"), 3)).value(env) is False
    assert (F.INDEX(F.Name("Values"), 3) + 1).value(env) == 1.0
    assert F.IFERROR(F.INDEX(F.Name("Values"), F.MATCH("x", F.Name("Keys"), 0)), "none").value(env) == "none"
    assert isinstance((F.Lit(1) / 0).value(env), XlErr)


def test_an_xlhedge_function_is_called_once_for_a_whole_column(monkeypatch):
    calls = []
    real = F.udfs.UDFS["FUNDING_APR"]
    monkeypatch.setitem(F.udfs.UDFS, "FUNDING_APR", lambda *a: calls.append(a) or real(*a))
    rates = F.Ref("T", "rate")
    got = F.udf("FUNDING_APR", rates, 8).value(Table({("T", "rate"): [0.0001, None, -0.0002]}))
    assert len(calls) == 1
    assert got[0] == pytest.approx(0.0001 * 3 * 365) and got[1] == ""
    assert got[2] == pytest.approx(-0.0002 * 3 * 365)


def test_columns_are_lettered_by_their_place_so_a_new_one_is_one_entry():
    assert [spec.letter(i) for i in (0, 25, 26, 27, 51, 52)] == ["A", "Z", "AA", "AB", "AZ", "BA"]
    assert spec.HEDGE_COL["short_notional"] == "J" and spec.HEDGE_COL["crowded"] == "AI"
    assert spec.PORTFOLIO_COL["spot_value"] == "I"
    # a column inserted before "short_notional" moves it, and every formula that reads it, one letter on
    columns = list(spec.HEDGE_COLUMNS)
    columns.insert(3, spec.Column("note", "Note", 10, "out_text"))
    moved = {c.key: spec.letter(i) for i, c in enumerate(columns)}
    tables = {**spec.TABLES, L.HEDGE: (L.HEDGE_FIRST_ROW, L.PORTFOLIO_ROWS, moved)}
    margin = next(c for c in spec.HEDGE_COLUMNS if c.key == "margin").formula
    # (an empty setting reads as its default)
    assert margin.excel(F.Where(L.HEDGE, 0, tables)) == 'IF(ISNUMBER(K5),K5/IF(Leverage="",3,Leverage),"")'
    assert margin.excel(spec.where(L.HEDGE, 0)) == 'IF(ISNUMBER(J5),J5/IF(Leverage="",3,Leverage),"")'


def test_every_cell_a_formula_reads_is_declared():
    def refs(expr):
        if isinstance(expr, (F.Ref, F.Total, F.At)):
            yield expr
        for child in (getattr(expr, "args", ()) or ()) + tuple(
                getattr(expr, k) for k in ("a", "b") if hasattr(expr, k)):
            yield from refs(child)

    formulas = [(c.key, e) for sheet in spec.TABLES for c in spec.columns(sheet) for e in (c.formula, c.total)
                if e is not None] + [(c.key, c.formula) for c in spec.SINGLE_CELLS]
    assert len(formulas) > 40
    for key, expr in formulas:
        for ref in refs(expr):
            if isinstance(ref, F.At):
                assert ref.key in spec.SINGLE_CELL, (key, ref.key)
            else:
                assert ref.key in spec.TABLES[ref.sheet][2], (key, ref.key)


def test_single_cells_are_fixed_references_and_totals_point_at_the_total_row():
    hedged = next(c for c in spec.SCENARIO_COLUMNS if c.key == "hedged").formula
    assert hedged.excel(spec.where(L.SCENARIOS, None)) == (
        "HEDGE_PNL($B$4,$B$5,A9:A19,$B$6,IF(Leverage=\"\",3,Leverage),IF(MaintenanceMargin=\"\",0.004,"
        "MaintenanceMargin),$B$7)")  # B7: the first rise that liquidates a short, on its tier
    assert spec.SINGLE_CELL["exposure"].formula.excel(spec.where(L.SCENARIOS, None)) == \
        f"Hedge!{spec.HEDGE_COL['btc_exposure']}{L.HEDGE_TOTAL_ROW}"


def test_the_hedge_ratio_formula_is_the_policy_rules_in_order():
    text = spec.hedge_target_formula().excel(spec.where(L.HEDGE, None))
    assert RULES == ("funding", "crowded", "events")
    # innermost first: HEDGE_RATIO, then CROWDED_RATIO around it, then EVENT_RATIO around that
    assert text.index("EVENT_RATIO(") < text.index("CROWDED_RATIO(") < text.index("HEDGE_RATIO(")
    assert set(spec.RULE_FORMULAS) == set(RULES)


def _sheet_ratio(policy: HedgePolicy, rate, hours, percentile, oi):
    """The Hedge sheet's hedge-ratio formula for one row, computed with the formula model."""
    names = {"Outlook": policy.outlook, "Conviction": policy.conviction,
             "FundingAdjust": "yes" if policy.funding_adjust else "no",
             "FundingThreshold": policy.funding_threshold, "Adjustment": policy.adjustment,
             "MaxRatio": policy.max_ratio, "CrowdedRule": "yes" if policy.crowded else "no",
             "CrowdedBump": policy.crowded_bump, "CrowdedPercentile": policy.crowded_percentile,
             "CrowdedOIRise": policy.crowded_oi_rise, "EventRule": "no"}
    env = Table({(L.HEDGE, "funding_rate"): [rate], (L.HEDGE, "interval_hours"): [hours],
                 (L.HEDGE, "funding_percentile"): [percentile], (L.HEDGE, "oi_change"): [oi]}, names)
    return spec.hedge_target_formula().value(env)[0]


@settings(max_examples=60, deadline=None)
@given(outlook=st.sampled_from(["bearish", "neutral", "bullish"]), conviction=st.floats(0, 1),
       rate=st.one_of(st.none(), st.floats(-0.003, 0.003)), hours=st.sampled_from([1.0, 4.0, 8.0]),
       percentile=st.one_of(st.none(), st.floats(0, 1)), oi=st.one_of(st.none(), st.floats(-0.5, 0.5)),
       adjust=st.booleans(), crowded=st.booleans(), cap=st.sampled_from([0.6, 1.0]))
def test_the_sheet_formula_and_the_engine_policy_give_the_same_ratio(outlook, conviction, rate, hours, percentile,
                                                                     oi, adjust, crowded, cap):
    policy = HedgePolicy(outlook=outlook, conviction=conviction, funding_adjust=adjust, crowded=crowded,
                         max_ratio=cap)
    nan = float("nan")
    engine_ratio = hedge_target(policy, nan if rate is None else rate, hours,
                                nan if percentile is None else percentile, nan if oi is None else oi)
    assert _sheet_ratio(policy, "" if rate is None else rate, hours, "" if percentile is None else percentile,
                        "" if oi is None else oi) == pytest.approx(float(engine_ratio), abs=1e-12)


def test_the_policy_by_hand():
    # neutral at conviction 0.5: 0.30 + 0.5 * 0.20 = 0.40
    assert hedge_target(HedgePolicy()) == pytest.approx(0.40)
    # the short pays 0.1% per 8 h (> 0.05%): cut by 30% -> 0.28; with the rule off it stays 0.40
    assert hedge_target(HedgePolicy(), -0.001) == pytest.approx(0.28)
    assert hedge_target(HedgePolicy(funding_adjust=False), -0.001) == pytest.approx(0.40)
    # paid 0.1% per 8 h: raised 30% -> 0.52; crowded (95th percentile, OI unknown): +0.10 -> 0.62
    assert hedge_target(HedgePolicy(), 0.001) == pytest.approx(0.52)
    assert hedge_target(HedgePolicy(crowded=True), 0.001, 8, 0.95) == pytest.approx(0.62)
    # ... capped at the maximum, and the event floor on top (an event in 2 days)
    assert hedge_target(HedgePolicy(crowded=True, max_ratio=0.6), 0.001, 8, 0.95) == pytest.approx(0.60)
    at, event = np.datetime64("2026-12-07T12:00"), np.datetime64("2026-12-09T19:00")
    assert hedge_target(HedgePolicy(events=True), 0.0, as_of=at, event_times=[event]) == pytest.approx(0.80)
    with pytest.raises(ValueError, match="as_of"):
        hedge_target(HedgePolicy(events=True))
