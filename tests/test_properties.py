"""Invariants of the engine, checked over many generated inputs (hypothesis)."""

import math
from decimal import Decimal

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from xlhedge import engine as e

usd = st.floats(min_value=0, max_value=1e9, allow_nan=False)
positive_price = st.floats(min_value=1e-4, max_value=1e7, allow_nan=False)
move = st.floats(min_value=-1, max_value=5, allow_nan=False)
rate = st.floats(min_value=-0.05, max_value=0.05, allow_nan=False)
interval = st.sampled_from([1.0, 2.0, 4.0, 8.0])


@given(usd, move)
def test_full_hedge_nets_a_common_move_to_zero(value, change):
    assert math.isclose(e.hedge_pnl(value, value, change), 0.0, abs_tol=1e-6 * max(value, 1))


@given(usd, st.floats(min_value=0, max_value=1), move)
def test_partial_hedge_keeps_one_minus_ratio_of_the_move(value, ratio, change):
    got = e.hedge_pnl(value, value * ratio, change)
    assert math.isclose(got, value * (1 - ratio) * change, rel_tol=1e-9, abs_tol=1e-6)


@given(usd, positive_price, st.sampled_from([1.0, 0.1, 0.01, 10.0, 100.0]),
       st.sampled_from([1.0, 0.1, 0.001, 0.01]), st.booleans())
def test_contracts_never_over_hedge_and_miss_less_than_one_lot(
    notional, price, size, step, inverse
):
    got = e.contracts_for_notional(notional, price, size, step, inverse)
    usd_per_contract = size if inverse else price * size
    assert got.hedged_notional <= notional * (1 + 1e-9) + 1e-9
    assert got.residual_notional >= 0
    assert got.residual_notional <= step * usd_per_contract * (1 + 1e-6) + 1e-6
    lots = got.contracts / step
    assert math.isclose(lots, round(lots), abs_tol=1e-6)


@given(st.lists(st.integers(0, 10**9), min_size=1, max_size=20),
       st.sampled_from(["1", "0.1", "0.01", "0.001", "0.0001", "0.00001", "1e-8", "0.5", "0.25", "0.3",
                        "0.15", "2.5", "10", "100"]))
def test_a_count_is_the_number_its_lots_times_its_step_print_as(lots, step):
    """A count is whole lots times the step as the float nearest the exact decimal product (1666 lots of 0.001
    is 1.666, never 1.6660000000000001), whatever the step; worked with Decimal."""
    notional = [(lot + 0.5) * float(step) for lot in lots]  # at a price of 1: the lots and half a lot more
    got = np.atleast_1d(e.contracts_for_notional(notional, 1.0, 1.0, float(step)).contracts)
    assert got.tolist() == [float(Decimal(lot) * Decimal(step)) for lot in lots]


@given(st.lists(usd, min_size=1, max_size=30), st.floats(min_value=0, max_value=1.5))
def test_allocation_sums_to_ratio_times_total(values, ratio):
    alloc = e.allocate_hedge(values, ratio)
    assert math.isclose(float(np.sum(alloc)), ratio * sum(values), rel_tol=1e-9, abs_tol=1e-6)
    total = sum(values)
    if total > 1e-6 and ratio > 1e-6:  # each asset's share of the hedge is its share of the portfolio
        np.testing.assert_allclose(np.asarray(alloc) / (ratio * total), np.asarray(values) / total,
                                   rtol=1e-9, atol=1e-12)


@given(st.sampled_from(["bearish", "neutral", "bullish"]), st.floats(0, 1), rate, interval,
       st.floats(0, 0.01), st.floats(0, 1), st.floats(0.1, 2))
def test_ratio_stays_within_zero_and_cap(outlook, conviction, fr, hours, thr, adj, cap):
    got = e.hedge_ratio(outlook, conviction, fr, hours, thr, adj, cap)
    assert 0 <= got <= cap + 1e-12


@given(st.floats(0, 1), rate, interval)
def test_positive_funding_never_trims_a_short(base, fr, hours):
    got = e.hedge_ratio(base, funding_rate=abs(fr), interval_hours=hours, max_ratio=1.0)
    assert got >= base - 1e-12


@given(usd, rate, interval, st.floats(0, 3650))
def test_short_and_long_costs_are_opposite(notional, fr, hours, days):
    short = e.funding_cost(notional, fr, hours, days, "short")
    long = e.funding_cost(notional, fr, hours, days, "long")
    assert math.isclose(short, -long, abs_tol=1e-9)
    assert (short <= 0) == (fr >= 0) or short == 0


@given(st.floats(0.2, 3.0), st.integers(0, 10_000))
def test_power_of_btc_has_that_beta(power, seed):
    rng = np.random.default_rng(seed)
    btc = 100 * np.exp(np.cumsum(rng.normal(0, 0.03, 40)))
    est = e.estimate_beta(btc**power, btc)
    assert math.isclose(est.beta, power, rel_tol=1e-9)
    assert math.isclose(est.r2, 1.0, rel_tol=1e-9)


def _range_error_by_hand(values, low, high, low_open):
    """What the argument check says of ``values``, one number at a time: None when it accepts them."""
    if any(math.isinf(v) for v in values):
        return "must be a finite number"
    for v in values:  # NaN is let through (a blank cell), as documented
        if v == v and (v < low or (low_open and v == low) or v > high):
            return f"(got {v:g})"
    return None


@given(st.lists(st.one_of(st.floats(min_value=-2, max_value=12), st.sampled_from([math.nan, math.inf, -math.inf])),
                min_size=1, max_size=24),
       st.booleans(), st.sampled_from(["C", "F", "strided"]))
def test_the_argument_check_finds_what_a_loop_over_the_numbers_finds(values, low_open, layout):
    # the check reads an array's least and greatest values one way for contiguous arrays and another for the
    # rest: both must agree with the plain loop
    from xlhedge.engine._checks import check_range

    arr = np.array(values + values, dtype=float)
    arr = {"C": arr, "F": arr.reshape(2, -1).T, "strided": arr[::2]}[layout]
    want = _range_error_by_hand(arr.ravel().tolist(), 0.0, 10.0, low_open)
    try:
        check_range(arr, "x", 0.0, 10.0, low_open=low_open)
        got = None
    except ValueError as err:
        got = str(err)
    assert (got is None) == (want is None), (got, want)
    assert want is None or want in got
