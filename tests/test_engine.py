"""Engine numbers worked out by hand (see the comments) and the DOMAIN.md sanity checks."""

import numpy as np
import pytest

from xlhedge import engine as e


class TestRatios:
    @pytest.mark.parametrize(
        ("outlook", "conviction", "expected"),
        [
            ("neutral", 0.5, 0.40),  # 0.30 + 0.5 * 0.20
            ("Bearish", 1.0, 1.00),
            ("bullish", 0.0, 0.10),
            ("  BULLISH ", 1.0, 0.25),
            ("High Bearish Conviction", 0.0, 0.75),
            ("Neutral/Uncertain", 1.0, 0.50),
            ("Mildly Bullish", 0.2, 0.13),  # 0.10 + 0.2 * 0.15
        ],
    )
    def test_outlook_bands(self, outlook, conviction, expected):
        assert e.hedge_ratio(outlook, conviction) == pytest.approx(expected)

    def test_funding_sign_positive_rate_never_trims_a_short(self):
        # +0.1 %/8h: longs pay shorts, the short is paid 0.1 % -> may extend, capped at 1.0
        assert e.hedge_ratio(1.0, funding_rate=0.001) == 1.0
        assert e.hedge_ratio(0.5, funding_rate=0.001) == pytest.approx(0.65)

    def test_costly_funding_trims(self):
        # -0.1 %/8h: the short pays 0.1 % > 0.05 % threshold -> 1.0 * (1 - 0.3)
        assert e.hedge_ratio(1.0, funding_rate=-0.001) == pytest.approx(0.7)

    def test_interval_normalisation(self):
        # -0.03 % per 4h = 0.06 % per 8h > threshold -> trimmed; per 8h it is below
        assert e.hedge_ratio(0.5, funding_rate=-0.0003, interval_hours=4) == pytest.approx(0.35)
        assert e.hedge_ratio(0.5, funding_rate=-0.0003, interval_hours=8) == pytest.approx(0.5)

    def test_max_ratio_allows_over_hedge(self):
        assert e.hedge_ratio(1.0, 0.5, 0.001, 8, 0.0005, 0.3, 1.2) == pytest.approx(1.2)

    def test_vectorised_over_assets(self):
        got = e.hedge_ratio(np.array([0.5, 0.5, 0.5]), funding_rate=np.array([-0.001, 0.0, 0.001]))
        np.testing.assert_allclose(got, [0.35, 0.5, 0.65])

    def test_unknown_rate_means_no_adjustment(self):
        assert e.hedge_ratio(0.8, funding_rate=np.nan) == pytest.approx(0.8)

    @pytest.mark.parametrize(
        ("kwargs", "message"),
        [
            ({"outlook": "sideways"}, "outlook must be"),
            ({"outlook": 1.5}, "outlook must be"),
            ({"outlook": "neutral", "conviction": 1.1}, "conviction"),
            ({"outlook": 0.5, "adjustment": -0.1}, "adjustment"),
            ({"outlook": 0.5, "funding_rate": 0.001, "interval_hours": 0}, "interval_hours"),
        ],
    )
    def test_bad_input(self, kwargs, message):
        with pytest.raises(ValueError, match=message):
            e.hedge_ratio(**kwargs)


class TestFunding:
    def test_constant_rate(self):
        # 100k x 0.01 % x 3 payments = 30, received by a short
        assert e.funding_cost(100_000, 0.0001) == pytest.approx(-30)
        assert e.funding_cost(100_000, -0.0001) == pytest.approx(30)
        assert e.funding_cost(100_000, 0.0001, 4, 1) == pytest.approx(-60)
        assert e.funding_cost(100_000, 0.0001, 8, 30) == pytest.approx(-900)
        assert e.funding_cost(100_000, 0.0001, 8, 1, "long") == pytest.approx(30)
        assert e.funding_cost(100_000, 0.0001, 8, 0.5) == pytest.approx(-15)  # 1.5 payments

    def test_history(self):
        assert e.realised_funding_cost(100_000, [0.0001, 0.0002, -0.0001]) == pytest.approx(-20)
        assert e.realised_funding_cost(100_000, [0.0001, np.nan]) == pytest.approx(-10)
        assert e.realised_funding_cost(100_000, [0.0001], "long") == pytest.approx(10)

    def test_apr_and_normalisation(self):
        assert e.funding_apr(0.0001) == pytest.approx(0.1095)  # 3 x 365 x 0.01 %
        assert e.funding_apr(0.0001, 1) == pytest.approx(0.876)
        assert e.rate_per_8h(0.0001, 1) == pytest.approx(0.0008)
        assert e.short_carry_cost_per_8h(0.0001, 4) == pytest.approx(-0.0002)

    def test_bad_side(self):
        with pytest.raises(ValueError, match="side"):
            e.funding_cost(1, 0.0001, side="flat")


class TestSizing:
    def test_article_allocation(self):
        np.testing.assert_allclose(e.allocate_hedge([250_000, 150_000], 0.6), [150_000, 90_000])

    def test_linear_contracts_floor(self):
        got = e.contracts_for_notional(100_000, 60_000, 1, 0.001)
        assert got.contracts == pytest.approx(1.666)  # 1.6666.. floored
        assert got.hedged_notional == pytest.approx(99_960)
        assert got.residual_notional == pytest.approx(40)

    def test_inverse_contracts(self):
        got = e.contracts_for_notional(150_000, 50_000, 100, 1, inverse=True)
        assert got.contracts == 1500
        assert got.residual_notional == 0

    def test_float_noise_does_not_lose_a_lot(self):
        # 0.3 / 0.1 is 2.9999999999999996 in floats; the answer is 3 lots
        assert e.contracts_for_notional(0.3, 1, 1, 0.1).contracts == pytest.approx(0.3)
        assert e.contracts_for_notional(30_000, 100_000, 1, 0.1).contracts == pytest.approx(0.3)

    def test_rebalance(self):
        assert e.rebalance_trade(120_000, 60_000, 0.6) == pytest.approx(12_000)
        assert e.rebalance_trade(100_000, 58_000, 0.6) == 0
        assert e.rebalance_trade(100_000, 70_000, 0.6) == pytest.approx(-10_000)
        assert e.rebalance_trade(100_000, 55_000, 0.6) == 0  # exactly on the band edge
        assert e.rebalance_trade(0, 5_000, 0.6) == pytest.approx(-5_000)

    def test_liquidation(self):
        # short 3x, mmr 0.4 %: 60000 x (4/3) / 1.004
        assert e.liquidation_price(60_000, 3) == pytest.approx(79_681.2749, rel=1e-9)
        # long 3x: 60000 x (2/3) / 0.996
        assert e.liquidation_price(60_000, 3, side="long") == pytest.approx(40_160.6426, rel=1e-9)
        # DOMAIN.md formula with m = 0: a 1x short is liquidated at double the price
        assert e.liquidation_price(100, 1, 0.0) == pytest.approx(200)
        assert e.initial_margin(90_000, 3) == pytest.approx(30_000)


class TestDomainScenarios:
    def test_half_hedge_halves_the_loss(self):
        # DOMAIN.md: spot 100k, 50 % hedge, -15 %: -15,000 + 7,500 = -7,500 (not ~0)
        assert e.hedge_pnl(100_000, 50_000, -0.15) == pytest.approx(-7_500)

    def test_full_hedge_nets_to_zero(self):
        for move in (-0.5, -0.15, 0.2, 0.5):
            assert e.hedge_pnl(400_000, 400_000, move) == pytest.approx(0, abs=1e-9)

    def test_funding_is_a_cost(self):
        assert e.hedge_pnl(100_000, 100_000, -0.1, funding_cost=-30) == pytest.approx(30)

    def test_scenario_table(self):
        table = e.scenario_table(100_000, 50_000)
        assert list(table["move"]) == pytest.approx([-0.5 + 0.1 * i for i in range(11)])
        row = table.iloc[0]  # -50 %
        assert (row.unhedged, row.hedged, row.difference) == pytest.approx((-50_000, -25_000, 25_000))

    def test_beta_two_needs_twice_the_notional(self):
        assert e.beta_hedge_notional(100_000, 2.0) == pytest.approx(200_000)


class TestLiquidationInScenarios:
    def test_liquidation_move_by_hand(self):
        assert e.liquidation_move(3, 0.004) == pytest.approx(4 / 3 / 1.004 - 1)
        assert e.liquidation_move(1, 0.0) == pytest.approx(1.0)  # 1x, no maintenance: a doubling
        assert e.liquidation_move(3, 0.004) == pytest.approx(e.liquidation_price(60_000, 3, 0.004) / 60_000 - 1)

    def test_a_short_past_its_liquidation_loses_its_margin_and_its_funding(self):
        # 100k of coins, 50k short at 5x: liquidated by a rise of 1.2 / 1.004 - 1 = 19.52%
        assert e.hedge_pnl(100_000, 50_000, 0.15, 100, leverage=5) == pytest.approx(15_000 - 7_500 - 100)
        assert e.hedge_pnl(100_000, 50_000, 0.25, 100, leverage=5) == pytest.approx(25_000 - 10_000)
        # no leverage: the old rule, however far the rise
        assert e.hedge_pnl(100_000, 50_000, 0.25, 100) == pytest.approx(25_000 - 12_500 - 100)
        # falls never liquidate a short
        assert e.hedge_pnl(100_000, 50_000, -0.5, 0, leverage=2) == pytest.approx(-25_000)

    def test_liquidation_never_makes_the_hedge_worse_than_losing_the_margin(self):
        moves = np.linspace(-0.9, 3.0, 400)
        pnl = e.hedge_pnl(100_000, 60_000, moves, 0.0, leverage=3, maintenance_margin_rate=0.005)
        assert np.all(pnl - 100_000 * moves >= -60_000 / 3 - 1e-9)

    def test_scenario_table_marks_the_liquidated_rows(self):
        table = e.scenario_table(100_000, 50_000, leverage=3)
        assert list(table.loc[table.liquidated, "move"]) == pytest.approx([0.4, 0.5])
        assert not e.scenario_table(100_000, 0.0, leverage=3).liquidated.any()  # no short, nothing to liquidate


def test_open_interest_change_at_every_step_by_hand():
    from xlhedge.engine import rolling_open_interest_change

    day = np.timedelta64(1, "D")
    t0 = np.datetime64("2025-01-01T00:00", "ns")
    recorded = t0 + np.array([0, 7, 14]) * day
    values = np.array([[100.0, 50.0], [110.0, np.nan], [121.0, 40.0]])
    steps = t0 + np.array([6, 7, 10, 14, 20]) * day
    got = rolling_open_interest_change(recorded, values, steps)
    # day 6: nothing recorded a week before; day 7: 110/100; day 10: latest 110 against day 3's latest 100;
    # day 14: 121/110 (column 2: the day-7 record is missing, so day 14's window starts at no value)
    want = np.array([[np.nan, np.nan], [0.1, np.nan], [0.1, np.nan], [0.1, np.nan], [0.1, np.nan]])
    assert got == pytest.approx(want, nan_ok=True)
    assert rolling_open_interest_change(recorded, values[:, 0], steps[[3]]) == pytest.approx([0.1])
