"""The Excel functions, called with what xlwings passes (floats, text, None, lists of lists)."""

import math

import numpy as np
import pytest

from xlhedge import udfs
from xlhedge.cells import MAX_MESSAGE
from xlhedge.udfs import (
    BETA_HEDGE,
    BETA_STATS,
    FUNDING_APR,
    FUNDING_COST,
    HEDGE_CONTRACTS,
    HEDGE_PLAN,
    HEDGE_PNL,
    HEDGE_RATIO,
    HEDGE_REBALANCE,
    LIQ_PRICE,
)


def approx(value):
    return pytest.approx(value, rel=1e-9, abs=1e-9)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("neutral",), 0.40),
        (("Bearish", 1), 1.0),
        (("bullish", 0), 0.10),
        ((1.0, None, -0.001), 0.70),
        ((1.0, None, 0.001), 1.0),
        ((1.0, None, 0.001, 8, 0.0005, 0.3, 1.2), 1.2),
        ((0.5, None, -0.0003, 4), 0.35),
        ((0.5, None, -0.0003, 8), 0.5),
        (("High Bearish Conviction", 1), 1.0),
        (("Neutral/Uncertain",), 0.40),
        (("Mildly Bullish", 1), 0.25),
        (([["neutral"]],), 0.40),  # a 1x1 range read with ndim=2
        (("0.6",), 0.6),
        (("60%",), 0.6),
    ],
)
def test_hedge_ratio_examples(args, expected):
    assert HEDGE_RATIO(*args) == approx(expected)


def test_a_bad_setting_shows_on_every_row_of_a_column_without_funding_rates():
    """The Hedge sheet with FundingAdjust "no" passes blank funding rates beside the interval column. A
    conviction of 2 fails the whole call; row by row, the rows that have an interval say why (the empty row
    stays empty), as when the rates are there; they were all blank before (found by the random portfolios)."""
    message = "#VALUE! conviction must be >= 0 and <= 1 (got 2)"
    hours = [[8.0], [4.0], [None]]
    for rates in ([[""], [""], [""]], [[0.0001], [0.0001], [None]]):
        assert HEDGE_RATIO("bullish", 2, rates, hours) == [[message], [message], [None]]
    # with a good conviction: numbers where there is an interval, a blank rate = no adjustment
    assert HEDGE_RATIO("neutral", 0.5, [[""], [""], [""]], hours) == [[approx(0.4)], [approx(0.4)], [None]]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ((100000, 0.0001), -30),
        ((100000, -0.0001), 30),
        ((100000, 0.0001, 4, 1), -60),
        ((100000, 0.0001, 8, 30), -900),
        ((100000, 0.0001, 8, 1, "long"), 30),
        ((100000, [[0.0001], [0.0002], [-0.0001]]), -20),
        ((100000, [0.0001, 0.0002, -0.0001]), -20),  # a row
        ((100000, [[0.0001], [None], [0.0002], [""], [-0.0001]]), -20),  # empties skipped
        ((100000, np.array([0.0001, 0.0002, -0.0001])), -20),
        ((100000, [[0.0001, 0.0001]], 8, 1, "LONG"), 20),
        ((100000, 0.0001, None, None, None), -30),  # empty optional cells take defaults
    ],
)
def test_funding_cost_examples(args, expected):
    assert FUNDING_COST(*args) == approx(expected)


def test_companion_examples():
    assert BETA_HEDGE(100000, 2) == approx(200000)
    assert FUNDING_APR(0.0001) == approx(0.1095)
    assert FUNDING_APR(0.0001, 1) == approx(0.876)
    assert HEDGE_PNL(100000, 50000, -0.15) == approx(-7500)
    assert HEDGE_PNL(100000, 50000, -0.15, 30) == approx(-7530)
    # 3x: liquidated by a rise of 32.8%; at +50% the 50k short's margin (16,667) is lost, funding stops
    assert HEDGE_PNL(100000, 50000, 0.5, 30, 3) == approx(50000 - 50000 / 3)
    assert HEDGE_PNL(100000, 50000, 0.3, 30, 3, 0.004) == approx(30000 - 15000 - 30)
    assert HEDGE_PNL(100000, 50000, 0.5, 30, None) == approx(25000 - 30)  # blank leverage: never liquidated
    assert HEDGE_CONTRACTS(100000, 60000, 1, 0.001) == approx(1.666)
    assert HEDGE_CONTRACTS(150000, 50000, 100, 1, True) == approx(1500)
    assert HEDGE_CONTRACTS(150000, 50000, 100, 1, "inverse") == approx(1500)
    assert HEDGE_CONTRACTS(100000, 60000, 1, 0) == approx(1.666)  # a step the venue does not publish: 0.001
    assert HEDGE_REBALANCE(120000, 60000, 0.6) == approx(12000)
    assert HEDGE_REBALANCE(100000, 58000, 0.6) == 0
    assert LIQ_PRICE(60000, 3) == approx(60000 * (1 + 1 / 3) / 1.004)
    assert LIQ_PRICE(60000, 3, 0.004, "long") == approx(60000 * (1 - 1 / 3) / 0.996)
    assert HEDGE_PLAN([[250000], [150000]], 0.6) == [[approx(150000)], [approx(90000)]]


class TestSpilling:
    def test_hedge_plan_keeps_shape_and_empties(self):
        assert HEDGE_PLAN([[250000, None, 150000]], 0.6) == [[approx(150000), None, approx(90000)]]
        assert HEDGE_PLAN([[250000], [""], [150000]], 0.6) == [
            [approx(150000)],
            [None],
            [approx(90000)],
        ]
        assert HEDGE_PLAN([250000, 150000], 0.6) == [approx(150000), approx(90000)]  # flat row
        assert HEDGE_PLAN(np.array([[1.0], [2.0]]), 0.5) == [[0.5], [1.0]]

    def test_per_asset_ratio_column(self):
        assert HEDGE_PLAN([[100.0], [200.0]], [[0.5], [0.25]]) == [[50.0], [50.0]]

    def test_hedge_ratio_over_a_column_of_rates(self):
        got = HEDGE_RATIO(0.5, None, [[-0.001], [0.0], [0.001], [None]])
        assert got == [[approx(0.35)], [approx(0.5)], [approx(0.65)], [approx(0.5)]]

    def test_hedge_ratio_over_outlook_labels(self):
        got = HEDGE_RATIO([["bearish", "neutral", "bullish", 0.2, None]], 0)
        assert got == [[approx(0.75), approx(0.30), approx(0.10), approx(0.2), None]]

    def test_row_times_column_broadcasts_to_a_grid(self):
        got = HEDGE_PNL(100000, 50000, [[-0.1, 0.1]], [[0], [10]])
        assert got == [[approx(-5000), approx(5000)], [approx(-5010), approx(4990)]]

    def test_contracts_and_liq_for_a_column(self):
        assert HEDGE_CONTRACTS([[100000], [50000]], [[60000], [2500]]) == [[1.666], [20.0]]
        liq = LIQ_PRICE([[60000], [3000]], 2)
        assert liq == [[approx(90000 / 1.004)], [approx(4500 / 1.004)]]

    def test_funding_cost_for_a_column_of_notionals(self):
        assert FUNDING_COST([[100000], [50000]], 0.0001) == [[approx(-30)], [approx(-15)]]

    def test_beta_hedge_from_prices(self):
        btc = [1.0, 2.0, 1.0, 2.0, 4.0]
        alt = [b**2 for b in btc]  # twice BTC's log returns: beta 2
        assert BETA_HEDGE(100000, [[a] for a in alt], [[b] for b in btc]) == approx(200000)
        assert BETA_HEDGE(100000, [alt], [btc]) == approx(200000)  # rows

    def test_beta_hedge_drops_pairs_with_empty_or_text(self):
        btc = [1.0, 2.0, 1.0, None, 2.0, 4.0, 3.0]
        alt = [1.0, 4.0, 1.0, 9.0, 4.0, "n/a", 9.0]
        assert BETA_HEDGE(1, [[a] for a in alt], [[b] for b in btc]) == approx(2.0)

    def test_beta_hedge_many_alts_spills_a_row(self):
        btc = [1.0, 2.0, 1.0, 2.0, 4.0]
        block = [[b**2, b**0.5] for b in btc]
        got = BETA_HEDGE([[100.0, 100.0]], block, [[b] for b in btc])
        assert got == [[approx(200.0), approx(50.0)]]

    def test_beta_stats_table(self):
        btc = [1.0, 2.0, 1.0, 2.0, 4.0]
        got = BETA_STATS([[b**2] for b in btc], [[b] for b in btc])
        assert got[0] == ["beta", "r2", "correlation", "n", "stderr"]
        beta, r2, corr, n, se = got[1]
        assert (beta, r2, corr, n) == (approx(2.0), approx(1.0), approx(1.0), 4)
        assert se == pytest.approx(0.0, abs=1e-9)

    def test_beta_ewma(self):
        btc = [1.0, 2.0, 1.0, 2.0, 4.0]
        got = BETA_HEDGE(10, [[b**3] for b in btc], [[b] for b in btc], "EWMA", 2)
        assert got == approx(30.0)


BAD_INPUTS = [
    # (function, args, what the message must mention)
    (HEDGE_RATIO, ("sideways",), "outlook"),
    (HEDGE_RATIO, (True,), "TRUE/FALSE"),
    (HEDGE_RATIO, (None,), "#N/A"),
    (HEDGE_RATIO, (1.5,), "max_ratio"),
    (HEDGE_RATIO, (-0.1,), "outlook"),
    (HEDGE_RATIO, ("neutral", 2), "conviction"),
    (HEDGE_RATIO, ("neutral", "high"), "conviction"),
    (HEDGE_RATIO, ("neutral", 0.5, "abc"), "funding_rate"),
    (HEDGE_RATIO, (0.5, None, 0.001, 0), "interval_hours"),
    (HEDGE_RATIO, (0.5, None, None, 8, -1), "cost_threshold"),
    (HEDGE_RATIO, (0.5, None, None, 8, 0.0005, 2), "adjustment"),
    (HEDGE_RATIO, (0.5, [[1, 2]]), "conviction"),
    (HEDGE_RATIO, (float("nan"),), "finite"),
    (FUNDING_COST, (None, 0.0001), "#N/A"),
    (FUNDING_COST, (100000, None), "#N/A"),
    (FUNDING_COST, (-1, 0.0001), "notional"),
    (FUNDING_COST, (100000, 0.0001, 8, 1, "sideways"), "side"),
    (FUNDING_COST, (100000, 0.0001, 0), "interval_hours"),
    (FUNDING_COST, (100000, 0.0001, 8, -1), "horizon_days"),
    (FUNDING_COST, (100000, [[None], [""]]), "#N/A"),
    (FUNDING_COST, (100000, [[0.0001], ["x"]]), "funding_rate"),
    (FUNDING_COST, (False, 0.0001), "TRUE/FALSE"),
    (FUNDING_COST, (float("inf"), 0.0001), "finite"),
    (FUNDING_COST, (1.4e154, [[0.0], [1.4e154]]), "too large"),  # found by the fuzzer: overflow
    (BETA_HEDGE, (100000, "two"), "beta"),
    (BETA_HEDGE, (100000, None), "#N/A beta is empty"),  # a BTC-hedged coin before any beta is known
    (BETA_HEDGE, (-5, 2), "alt_notional"),
    (BETA_HEDGE, (1, [[1.0], [2.0], [3.0]], [[1.0], [2.0]]), "length"),
    (BETA_HEDGE, (1, [[1.0], [2.0]], [[1.0], [2.0]]), "at least 3"),
    (BETA_HEDGE, (1, [[1.0], [2.0], [3.0], [4.0]], [[1.0], [1.0], [1.0], [1.0]]), "move"),
    (BETA_HEDGE, (1, [[1.0], [-2.0], [3.0], [4.0]], [[1.0], [2.0], [3.0], [5.0]]), "positive"),
    (BETA_HEDGE, (1, [[1.0], [2.0], [3.0], [4.0]], [[1.0], [2.0], [3.0], [5.0]], "avg"), "method"),
    (BETA_HEDGE, (1, [[1.0], [2.0], [3.0], [4.0]], [[1.0], [2.0], [3.0], [5.0]], "ewma", 0), "halflife"),
    (BETA_STATS, ([[1.0, 2.0], [3.0, 4.0]], [[1.0, 2.0], [3.0, 4.0]]), "btc_prices"),
    (FUNDING_APR, ("x",), "funding_rate"),
    (FUNDING_APR, (0.0001, -8), "interval_hours"),
    (HEDGE_PNL, (100000, 50000, -1.5), "price_change"),
    (HEDGE_PNL, (100000, 50000, None), "#N/A"),
    (HEDGE_PNL, (100000, [[1, 2]], [[0.1], [0.2], [0.3]], [[1, 2, 3]]), "different sizes"),
    (HEDGE_CONTRACTS, (100000, 0), "price"),
    (HEDGE_CONTRACTS, (100000, 60000, 0), "contract_size"),
    (HEDGE_CONTRACTS, (100000, 60000, 1, -0.01), "lot_step"),  # 0 or blank: not published, 0.001 is used
    (udfs.HEDGE_ORDER, ([[1], [2]], 0.01, [["A"], ["B"], ["C"]], "okx", 0.01, "linear", "BTC"), "sizes"),
    (udfs.HEDGE_ORDER, (2, 0.01, "BTC-USDT-SWAP", "okx", 0.01, "sideways", "BTC"), "inverse"),
    (HEDGE_CONTRACTS, (100000, 60000, 1, 0.001, "maybe"), "inverse"),
    (HEDGE_CONTRACTS, (1e308, 1e-300), "too large"),
    (HEDGE_REBALANCE, (100000, -1, 0.6), "short_notional"),
    (HEDGE_REBALANCE, (100000, 5000, None), "#N/A"),
    (HEDGE_REBALANCE, (100000, 5000, 0.6, -0.1), "band"),
    (LIQ_PRICE, (60000, 0.5), "leverage"),
    (LIQ_PRICE, (60000, 3, 0.6), "maintenance_margin_rate"),
    (LIQ_PRICE, (60000, 3, 0.004, "up"), "side"),
    (LIQ_PRICE, (0, 3), "entry_price"),
    (HEDGE_PNL, (100000, 50000, 0.5, 0, 0.5), "leverage"),
    (udfs.EVENT_RATIO, (0.4, "next week"), "as_of"),
    (udfs.EVENT_RATIO, (0.4, "2026-12-07", 3, 24, -1), "floor"),
    (udfs.EVENT_NOTE, ("2026-12-07", 3, -24), "hours_after"),
    (udfs.EVENT_NOTE, ("2026-12-07", 3, 24, 0.8, [["soon"]]), "events"),
    (udfs.CROWDED_RATIO, (0.4, 0.0003, 1.5), "percentile"),
    (udfs.CROWDED_RATIO, (0.4, 0.0003, 0.95, 0.2, 2), "bump"),
    (udfs.CROWDED_RATIO, ("x", 0.0003, 0.95), "base_ratio"),
    (udfs.VENUE_COST, (100000, 0.0001, 8, 30, -0.001), "taker_fee"),
    (udfs.VENUE_COST, (100000, "high", 8, 30), "funding_rate"),
    (udfs.VENUE_BEST, ([["BTC"]], [[1.0]], [[1.0]], None, None, [[1e5]], None, -1), "max_oi_share"),
    (udfs.VENUE_BEST, ([["BTC"], ["ETH"]], [[1.0]], [[1.0], [2.0], [3.0]]), "different sizes"),
    (udfs.LOOKUP_VALUES, ([["a"]], [["a"], ["b"]], [[1.0]]), "differ in size"),
    (udfs.LOOKUP_VALUES, ([["a"]], [["a"]], [[1.0]], [[1], [2]]), "if_missing"),
    (udfs.REPEAT_ROWS, ([["a"]], 0), "times"),
    (udfs.REPEAT_ROWS, ([["a"]], 2, "maybe"), "whole"),
    (HEDGE_PLAN, ([[1, 2], [3]], 0.5), "rows of different lengths"),
    (HEDGE_PLAN, ([[1.0], 2.0], 0.5), "rows of different lengths"),  # a row that is a number
    (HEDGE_PLAN, ([1.0, [2.0]], 0.5), "rows of different lengths"),  # a number then a row
    (HEDGE_PLAN, ([[100], ["abc"]], 0.5), 'spot_values is text "abc"'),  # in its own row
    (HEDGE_PLAN, ([[100], [True]], 0.5), "TRUE/FALSE"),
    (HEDGE_PLAN, ([], 0.5), "#N/A"),
    (HEDGE_PLAN, ([[-100]], 0.5), "spot_values"),
    (HEDGE_PLAN, ([[[1]]], 0.5), "1-D or 2-D"),
    (HEDGE_PLAN, (object(), 0.5), "spot_values"),
]


def test_a_range_inside_a_cell_is_that_rows_message_the_other_rows_are_worked():
    # rows of one length with a list in a cell: numpy would read the rows as they are, the check must not
    assert HEDGE_PLAN([[1.0, [2.0]], [3.0, 4.0]], 0.5) == [["#VALUE! spot_values must be a 1-D or 2-D range", None],
                                                          [1.5, 2.0]]


@pytest.mark.parametrize(("func", "args", "mention"), BAD_INPUTS)
def test_bad_input_gives_a_cell_message(func, args, mention):
    got = func(*args)
    if isinstance(got, list):  # a column: only the bad row has the message, the others their numbers
        cells = [row[0] for row in got]
        assert isinstance(cells[0], float) and len(cells) == 2
        got = cells[1]
    assert isinstance(got, str), got
    assert got.startswith(("#VALUE! ", "#N/A ")), got
    assert len(got) <= MAX_MESSAGE
    assert "\n" not in got and "Traceback" not in got
    assert mention in got


def test_every_udf_has_a_bad_input_case():
    covered = {func.__name__ for func, _, _ in BAD_INPUTS}
    assert covered == set(udfs.UDFS)


def test_unexpected_error_is_contained(monkeypatch):
    def boom(*args, **kwargs):
        raise KeyError("internal")

    monkeypatch.setattr(udfs.engine, "allocate_hedge", boom)
    got = HEDGE_PLAN([[1.0]], 0.5)
    assert got.startswith("#VALUE! unexpected KeyError")


def test_results_are_plain_python_numbers():
    for value in (HEDGE_RATIO("neutral"), FUNDING_APR(0.0001), HEDGE_PLAN([[1.0]], 0.5)):
        flat = value if isinstance(value, float) else value[0][0]
        assert type(flat) is float and math.isfinite(flat)


def test_liq_price_with_tiers_is_binances_isolated_formula_worked_by_hand():
    """Binance's isolated short: LP = (WB + cum + q x EP) / (q x (1 + MMR)), WB the margin q x EP / L, in the
    bracket the position's notional at LP falls in. Brackets: 0-50,000 USD at 0.4% (cum 0), 50,000-250,000 at
    0.5% (cum 50 = 50,000 x 0.1%), from 250,000 at 1% (cum 1,300). Entry 40,000 at 3x."""
    floors, rates, amounts = [[0], [50_000], [250_000]], [[0.004], [0.005], [0.01]], [[0], [50], [1_300]]
    # 0.5 BTC: WB = 6,666.67; (6,666.67 + 0 + 20,000) / (0.5 x 1.004) = 53,120.85 -> notional 26,560: bracket 1
    # 1 BTC: WB = 13,333.33; (13,333.33 + 50 + 40,000) / (1 x 1.005) = 53,117.74 -> notional 53,118: bracket 2
    # 10 BTC: WB = 133,333.33; (133,333.33 + 1,300 + 400,000) / (10 x 1.01) = 52,933.99 -> 529,340: bracket 3
    got = LIQ_PRICE(40_000, 3, 0.004, "short", [[0.5], [1.0], [10.0]], floors, rates, amounts)
    assert got == [[pytest.approx(26_666.666667 / 0.502)], [pytest.approx(53_383.333333 / 1.005)],
                   [pytest.approx(534_633.333333 / 10.1)]]
    # the one rate of the first bracket would put the 10 BTC short's liquidation 0.35% higher
    flat = LIQ_PRICE(40_000, 3, 0.004)
    assert flat == pytest.approx(53_120.85, abs=0.01) and flat > got[2][0] * 1.0035
    # the amounts left blank: the continuous ones (Binance's cum is built that way): the same prices
    assert LIQ_PRICE(40_000, 3, 0.004, "short", [[0.5], [1.0], [10.0]], floors, rates) == got
    assert LIQ_PRICE(40_000, 3, 0.004, "short", 1, [[10], [5]], [[0.004], [0.005]]).startswith("#VALUE! tiers need")
