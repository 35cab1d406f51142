"""The backtest engine: a three-step example worked by hand, equality with a plain loop written
apart (tests/backtest_loop.py), and invariants. The step rules run compiled by numba (desktop) or
as plain Python (XLHEDGE_JIT=0, and where numba is absent: xlwings Lite); both are checked."""

from __future__ import annotations

import os
from unittest import mock

import numba
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.backtest_loop import plain_effectiveness, plain_simulation
from xlhedge.engine import backtest
from xlhedge.engine.backtest import hedge_effectiveness, max_drawdown, simulate
from xlhedge.engine.margin import MaintenanceTiers


def test_three_steps_worked_by_hand():
    # 1 coin at 100, 90, 110; half hedged; 0.1% fee; funding +0.1% then -0.2%
    r = simulate([100, 90, 110], [1], 0.5, [[0], [0.001], [-0.002]], fee_rate=0.001)
    # open: 0.5 coin short at 100, fee 0.05
    # step 1: short gains 0.5 x 10 = 5, receives 0.5 x 90 x 0.001 = 0.045
    # step 2: short loses 0.5 x 20 = 10, pays 0.5 x 110 x 0.002 = 0.11
    assert r.value_unhedged.tolist() == [100, 90, 110]
    assert r.value_hedged.tolist() == pytest.approx([99.95, 94.995, 104.885])
    assert r.funding_cost == pytest.approx(0.065)  # paid 0.11, received 0.045
    assert (r.fees, r.slippage, r.rebalances, r.liquidations) == (pytest.approx(0.05), 0.0, 0, [])
    assert r.short_coins[:, 0].tolist() == [0.5, 0.5, 0.5]


def test_a_liquidated_short_loses_its_margin_and_is_reopened():
    # 3x: liquidated at 100 x (4/3) / 1.004 = 132.80; the price jumps to 140
    r = simulate([100, 140, 150], [1], 1.0)
    assert r.liquidations == [(1, 0)]
    margin = 100 / 3
    assert r.value_hedged[1] == pytest.approx(140 - margin)  # not 140 - 40: the margin is all it loses
    assert r.rebalances == 1 and r.short_coins[1, 0] == 1.0  # re-hedged at 140's close
    assert r.value_hedged[2] == pytest.approx(150 - margin - 10)  # coins at 150; the new short loses 10
    kept = simulate([100, 140, 150], [1], 1.0, top_up=True)
    assert kept.liquidations == [] and kept.top_ups == [(1, 0)]
    assert kept.value_hedged.tolist() == pytest.approx([100, 100, 100])


def test_a_full_static_hedge_without_costs_keeps_the_value_constant():
    rng = np.random.default_rng(7)
    prices = 100 * np.exp(np.cumsum(rng.normal(0, 0.02, (500, 3)), axis=0).clip(-0.6, 0.6))
    r = simulate(prices, [1, 2, 3], 1.0, leverage=1, maintenance_margin=0.0, cash=50)
    assert np.allclose(r.value_hedged, r.value_hedged[0])
    assert r.value_hedged[0] == pytest.approx(prices[0] @ [1, 2, 3] + 50)
    assert r.effectiveness == pytest.approx(1.0) and r.max_drawdown[1] == pytest.approx(0.0, abs=1e-12)


def test_funding_summed_is_the_notional_weighted_rates():
    rng = np.random.default_rng(3)
    prices = 50 + rng.uniform(0, 5, (200, 2))
    rates = np.where(rng.uniform(size=(200, 2)) < 1 / 8, rng.normal(0, 1e-4, (200, 2)), 0.0)
    r = simulate(prices, [10, 4], 0.6, rates, band=1.0)  # never rebalances
    shorts = np.array([10, 4]) * 0.6
    assert r.funding_cost == pytest.approx(-(prices[1:] * rates[1:] * shorts).sum())


def test_effectiveness_and_drawdown_by_hand():
    assert max_drawdown([100, 120, 90, 130, 65]) == pytest.approx(0.5)
    # value changes: unhedged +10, -11 (variance 110.25); hedged +5, -5.25 (variance 5.125^2 = 26.265625)
    assert hedge_effectiveness([100, 110, 99], [100, 105, 99.75]) == pytest.approx(1 - 26.265625 / 110.25)


def _path(kind: str, steps: int = 400) -> np.ndarray:
    """A rising, a falling and a trendless path with the same daily noise (prices stay below twice the
    start: a 1x short is liquidated at double its entry)."""
    noise = np.random.default_rng(11).normal(0, 0.02, steps)
    drift = {"rising": np.log(1.8) / steps, "falling": np.log(0.3) / steps, "flat": 0.0}[kind]
    path = np.cumsum(noise - noise.mean() + drift)
    return 100 * np.exp(path - max(0.0, path.max() - np.log(1.9)))


@pytest.mark.parametrize("kind", ["rising", "falling", "flat"])
@pytest.mark.parametrize("h", [0.4, 1.0])
def test_effectiveness_of_a_static_hedge_is_the_same_on_any_path(kind, h):
    """Ederington on value changes: a static hedge h with a perpetual that tracks spot, no funding, no
    costs, removes 1 - (1 - h)^2 of the variance whatever the trend (on returns it scored 0.49 to 0.83)."""
    prices = _path(kind)
    r = simulate(prices, [3.0], h, band=10, leverage=1.0, maintenance_margin=0.0, cash=1000)
    assert r.liquidations == [] and r.rebalances == 0
    assert r.effectiveness == pytest.approx(1 - (1 - h) ** 2, abs=1e-9)
    assert r.effectiveness == pytest.approx(plain_effectiveness(r.value_unhedged.tolist(), r.value_hedged.tolist()))


@pytest.mark.parametrize("jit", ["1", "0"], ids=["numba", "python"])
def test_a_spike_through_the_liquidation_price_liquidates_though_the_close_does_not(jit):
    # 3x: liquidated at 100 x (4/3) / 1.004 = 132.80; the day trades up to 140 and closes at 101
    with mock.patch.dict(os.environ, {"XLHEDGE_JIT": jit}):
        r = simulate([100, 101, 102], [1], 1.0, highs=[100, 140, 103])
        closes_only = simulate([100, 101, 102], [1], 1.0)
    assert r.liquidations == [(1, 0)] and closes_only.liquidations == []
    margin = 100 / 3
    assert r.value_hedged.tolist() == pytest.approx([100, 101 - margin, 102 - margin - 1])  # re-hedged at 101
    loop = plain_simulation([[100], [101], [102]], [1], [[1.0]] * 3, [[0]] * 3, 0.05, 0, 0, 3.0, 0.004,
                            highs=[[100], [140], [103]])
    assert loop["liquidations"] == [(1, 0)] and loop["value_hedged"] == pytest.approx(r.value_hedged.tolist())


@pytest.mark.parametrize("jit", ["1", "0"], ids=["numba", "python"])
def test_a_larger_short_sits_in_a_higher_tier_and_is_liquidated_closer(jit):
    """Tiers from 0, 50,000 and 250,000 USD at 0.4%, 0.5% and 1% (amounts 0, 50 and 1,300: continuous).
    Opened at 40,000 at 3x. 0.5 BTC: margin 6,666.67; at P the equity is 26,666.67 - 0.5 P and the
    first tier's margin 0.002 P: P = 26,666.67 / 0.502 = 53,120.85 (notional 26,560: first tier, right).
    1 BTC: the first tier would give 53,120.85, a notional of 53,120 (second tier, so not that one);
    the second: 53,333.33 - P = 0.005 P - 50, P = 53,383.33 / 1.005 = 53,117.74 (second tier, right)."""
    from xlhedge.engine import MaintenanceTiers, tiered_liquidation_price

    tiers = MaintenanceTiers.of([0, 50_000, 250_000], [0.004, 0.005, 0.01])
    assert tiers.amounts == (0.0, 50.0, 1300.0)
    assert tiered_liquidation_price(40_000, [0.5, 1.0], 3, tiers) == pytest.approx([26_666.666667 / 0.502,
                                                                                   53_383.333333 / 1.005])
    # a day trading up to 53,119 (between the two) and closing at 41,000
    path = dict(prices=[40_000, 41_000, 41_500], target_ratio=1.0, highs=[40_000, 53_119, 41_600], leverage=3.0,
                maintenance_tiers=tiers)
    with mock.patch.dict(os.environ, {"XLHEDGE_JIT": jit}):
        small = simulate(coins=[0.5], **path)
        large = simulate(coins=[1.0], **path)
        flat = simulate(coins=[1.0], **{**path, "maintenance_tiers": None, "maintenance_margin": 0.004})
    assert small.liquidations == [] and large.liquidations == [(1, 0)] and flat.liquidations == []
    assert large.value_hedged[1] == pytest.approx(41_000 - 40_000 / 3)  # the whole margin lost, then re-hedged
    loop = plain_simulation([[40_000], [41_000], [41_500]], [1.0], [[1.0]] * 3, [[0]] * 3, 0.05, 0, 0, 3.0, 0.0,
                            highs=[[40_000], [53_119], [41_600]],
                            tiers=list(zip(tiers.floors, tiers.rates, tiers.amounts, strict=True)))
    assert loop["liquidations"] == [(1, 0)] and loop["value_hedged"] == pytest.approx(large.value_hedged.tolist())


def test_the_short_is_marked_at_the_perpetual_and_the_holding_at_spot():
    """A known basis: spot 100, 110, 90; the perpetual 1%, 0.5%, 1% above it. Half hedged, funding
    +0.1% at step 1 on the perpetual's notional."""
    r = simulate([100, 110, 90], [1], 0.5, [0, 0.001, 0], perp_prices=[101, 110.55, 90.9])
    # step 1: the short (0.5 at 101) loses 0.5 x 9.55 = 4.775, receives 0.5 x 110.55 x 0.001 = 0.055275
    # step 2: it gains 0.5 x 19.65 = 9.825
    assert r.value_unhedged.tolist() == [100, 110, 90]
    assert r.value_hedged.tolist() == pytest.approx([100, 110 - 4.775 + 0.055275, 90 + 5.05 + 0.055275])
    same = simulate([100, 110, 90], [1], 0.5, [0, 0.001, 0])
    basis = r.value_hedged[-1] - same.value_hedged[-1]  # the basis narrowed from 1.00 to 0.90 under a 0.5 short
    assert basis == pytest.approx(0.5 * ((101 - 100) - (90.9 - 90)) + 0.5 * 0.001 * (110.55 - 110))


@pytest.mark.parametrize("jit", ["1", "0"], ids=["numba", "python"])
@settings(max_examples=40, deadline=None, derandomize=True)
@given(seed=st.integers(0, 10_000), assets=st.integers(1, 4), top_up=st.booleans(),
       band=st.sampled_from([0.0, 0.02, 0.1]), leverage=st.sampled_from([1.5, 3.0, 10.0]), basis=st.booleans(),
       tiered=st.sampled_from(["flat", "continuous", "jumps"]))
def test_equals_the_plain_loop(jit, seed, assets, top_up, band, leverage, basis, tiered):
    rng = np.random.default_rng(seed)
    steps = 120
    prices = 100 * np.exp(np.cumsum(rng.normal(0, 0.05, (steps, assets)), axis=0))
    perp = prices * (1 + rng.normal(0, 0.003, prices.shape)) if basis else prices
    highs = perp * (1 + np.abs(rng.normal(0, 0.03, prices.shape)))
    coins = rng.choice([0.0, 0.5, 3.0], assets)
    targets = np.clip(rng.normal(0.6, 0.3, (steps, assets)), 0, 1.5)
    rates = np.where(rng.uniform(size=(steps, assets)) < 0.3, rng.normal(0, 5e-4, (steps, assets)), 0.0)
    # tiers that shorts of 0.1 to 4.5 coins at ~100 USD cross: with amounts making the margin continuous
    # (Binance, Bybit) or without (the tier's rate on the whole position: the margin jumps at a floor)
    floors, mm = [0.0, 60.0, 200.0, 450.0], [0.01, 0.02, 0.05, 0.08]
    tiers = {"flat": None, "continuous": MaintenanceTiers.of(floors, mm),
             "jumps": MaintenanceTiers.of(floors, mm, [0.0] * 4)}[tiered]
    kwargs = dict(band=band, fee_rate=0.0005, slippage_rate=0.0002, leverage=leverage, maintenance_margin=0.005,
                  cash=10.0, top_up=top_up, maintenance_tiers=tiers)
    with mock.patch.dict(os.environ, {"XLHEDGE_JIT": jit}):
        ours = simulate(prices, coins, targets, rates, perp_prices=perp, highs=highs, **kwargs)
    loop = plain_simulation(prices.tolist(), coins.tolist(), targets.tolist(), rates.tolist(), band, 0.0005,
                            0.0002, leverage, 0.005, cash=10.0, top_up=top_up, perp=perp.tolist(),
                            highs=highs.tolist(),
                            tiers=None if tiers is None else list(zip(tiers.floors, tiers.rates, tiers.amounts,
                                                                      strict=True)))
    assert ours.value_unhedged == pytest.approx(loop["value_unhedged"], rel=1e-12)
    assert ours.value_hedged == pytest.approx(loop["value_hedged"], rel=1e-9)
    for key in ("funding_cost", "fees", "slippage"):
        assert getattr(ours, key) == pytest.approx(loop[key], rel=1e-9, abs=1e-9), key
    assert (ours.rebalances, ours.liquidations, ours.top_ups) == (
        loop["rebalances"], loop["liquidations"], loop["top_ups"])


def test_bad_input_is_refused_in_words():
    with pytest.raises(ValueError, match="at least 2 steps"):
        simulate([100], [1], 0.5)
    with pytest.raises(ValueError, match="target_ratio must be finite and >= 0"):
        simulate([100, 101], [1], -0.5)
    with pytest.raises(ValueError, match="leverage must be >= 1"):
        simulate([100, 101], [1], 0.5, leverage=0.5)
    with pytest.raises(ValueError, match="funding_rates must be finite"):
        simulate([100, 101], [1], 0.5, [0.0, float("inf")])
    with pytest.raises(ValueError, match=r"funding_rates must have one value per step and asset \(2 x 1\)"):
        simulate([100, 101], [1], 0.5, [0.0, 0.1, 0.2])
    # NaN is no payment; a column of rates is one per step
    assert simulate([100, 101], [1], 0.5, [0.0, float("nan")]).funding_cost == 0.0
    assert simulate([100, 101], [1], 0.5, [0.0, 0.01]).funding_cost == pytest.approx(-0.5 * 101 * 0.01)


def test_the_step_rules_are_compiled_where_numba_is_installed_and_python_where_not(monkeypatch):
    assert isinstance(backtest._jit_rules(), numba.core.registry.CPUDispatcher)
    with mock.patch.dict(os.environ, {"XLHEDGE_JIT": "0"}):
        assert backtest._jit_rules() is None
    # as in Pyodide (xlwings Lite): importing numba fails, and the same rules run as Python
    monkeypatch.setattr(backtest, "_COMPILED", None)
    monkeypatch.setitem(__import__("sys").modules, "numba", None)
    assert backtest._jit_rules() is None and backtest._COMPILED is False
    r = simulate([100, 140, 150], [1], 1.0)
    assert r.liquidations == [(1, 0)] and r.value_hedged[1] == pytest.approx(140 - 100 / 3)


def test_a_compiler_broken_on_this_machine_falls_back_to_python_with_a_warning(monkeypatch):
    def broken(*args):
        raise RuntimeError("cannot cache function: no locator available")

    monkeypatch.setattr(backtest, "_COMPILED", broken)
    with pytest.warns(RuntimeWarning, match="runs as plain Python from now on"):
        r = simulate([100, 90, 110], [1], 0.5, [[0], [0.001], [-0.002]], fee_rate=0.001, jit=True)
    assert r.value_hedged.tolist() == pytest.approx([99.95, 94.995, 104.885])  # the hand-worked example
    assert backtest._COMPILED is False and backtest._jit_rules() is None


def test_read_only_prices_reuse_the_one_compiled_layout():
    """numba compiles the step rules once per layout of their arrays, several seconds each (on a fresh
    install, and in every process before its cache is written). A DataFrame's values are often a read-only
    view: they are passed writable, so every run shares one layout."""
    prices = np.array([[100.0, 10.0], [90.0, 11.0], [110.0, 9.0]])
    locked = prices.copy()
    locked.flags.writeable = False
    with mock.patch.dict(os.environ, {"XLHEDGE_JIT": "1"}):
        fresh = simulate(prices, [1, 2], 0.5)
        again = simulate(locked, [1, 2], 0.5)  # (the perpetual tracks it: the same read-only array twice)
    assert again.value_hedged.tolist() == fresh.value_hedged.tolist()
    assert len(backtest._jit_rules().signatures) == 1


def test_a_short_run_is_not_worth_numbas_start_up(monkeypatch):
    """Unless XLHEDGE_JIT says otherwise, a run of fewer than JIT_MIN_CELLS steps x coins (the demo: 2 x 731)
    runs as Python (~30 us a cell) rather than pay about a second to import numba and load the loop."""
    monkeypatch.delenv("XLHEDGE_JIT", raising=False)
    assert backtest.jit_mode() == "auto"
    assert backtest._jit_rules(2 * 731) is None and backtest._jit_rules(backtest.JIT_MIN_CELLS - 1) is None
    assert isinstance(backtest._jit_rules(backtest.JIT_MIN_CELLS), numba.core.registry.CPUDispatcher)
    monkeypatch.setenv("XLHEDGE_JIT", "1")  # every run compiled
    assert isinstance(backtest._jit_rules(3), numba.core.registry.CPUDispatcher)
    monkeypatch.setenv("XLHEDGE_JIT", "0")
    assert backtest._jit_rules(10**9) is None
    small = simulate([100, 90, 110], [1], 0.5, [[0], [0.001], [-0.002]], fee_rate=0.001)  # as Python
    assert small.value_hedged.tolist() == pytest.approx([99.95, 94.995, 104.885])  # the hand-worked example
