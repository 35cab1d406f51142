"""Beta estimation checked against independent computations."""

import numpy as np
import pytest

from xlhedge.engine import estimate_beta


def _prices(n=400, beta=1.7, noise=0.01, seed=1):
    rng = np.random.default_rng(seed)
    rb = rng.normal(0, 0.02, n)
    ra = beta * rb + rng.normal(0, noise, n)
    btc = 50_000 * np.exp(np.concatenate([[0], np.cumsum(rb)]))
    alt = 3 * np.exp(np.concatenate([[0], np.cumsum(ra)]))
    return alt, btc


def test_hand_worked_exact_beta():
    # log returns of BTC: ln 2, ln 0.5, ln 2; alt = BTC squared -> log returns doubled, beta 2
    btc = np.array([1.0, 2.0, 1.0, 2.0])
    alt = btc**2
    est = estimate_beta(alt, btc)
    assert est.beta == pytest.approx(2.0)
    assert est.r2 == pytest.approx(1.0)
    assert est.n == 3
    assert est.stderr == pytest.approx(0.0, abs=1e-9)


def test_ols_matches_polyfit_and_textbook_stderr():
    alt, btc = _prices()
    x, y = np.diff(np.log(btc)), np.diff(np.log(alt))
    slope, icpt = np.polyfit(x, y, 1)
    resid = y - (slope * x + icpt)
    se = np.sqrt(resid @ resid / (len(x) - 2) / ((x - x.mean()) @ (x - x.mean())))
    est = estimate_beta(alt, btc)
    assert est.beta == pytest.approx(slope, rel=1e-12)
    assert est.intercept == pytest.approx(icpt, abs=1e-12)
    assert est.stderr == pytest.approx(se, rel=1e-9)
    assert est.correlation == pytest.approx(np.corrcoef(x, y)[0, 1], rel=1e-12)
    assert est.r2 == pytest.approx(np.corrcoef(x, y)[0, 1] ** 2, rel=1e-12)


def test_ewma_matches_weighted_lstsq():
    alt, btc = _prices(beta=0.8)
    x, y = np.diff(np.log(btc)), np.diff(np.log(alt))
    w = 0.5 ** (np.arange(len(x))[::-1] / 25.0)
    sw = np.sqrt(w)
    coef, *_ = np.linalg.lstsq(np.column_stack([sw, sw * x]), sw * y, rcond=None)
    est = estimate_beta(alt, btc, "ewma", 25)
    assert est.beta == pytest.approx(coef[1], rel=1e-10)
    assert est.intercept == pytest.approx(coef[0], abs=1e-12)


def test_many_alts_equal_one_at_a_time():
    cols = [_prices(beta=b, seed=7)[0] for b in (0.5, 1.0, 2.5)]
    _, btc = _prices(seed=7)
    together = estimate_beta(np.column_stack(cols), btc)
    for j, col in enumerate(cols):
        assert together.beta[j] == pytest.approx(estimate_beta(col, btc).beta, rel=1e-12)


def test_missing_rows_dropped_pairwise():
    alt, btc = _prices(n=50)
    alt_gap, btc_gap = alt.copy(), btc.copy()
    alt_gap[10] = np.nan
    btc_gap[20] = np.nan
    keep = np.ones(len(alt), bool)
    keep[[10, 20]] = False
    expected = estimate_beta(alt[keep], btc[keep])
    got = estimate_beta(alt_gap, btc_gap)
    assert got.beta == pytest.approx(expected.beta, rel=1e-12)
    assert got.n == len(alt) - 3


@pytest.mark.parametrize(
    ("alt", "btc", "message"),
    [
        ([1, 2, 3], [1, 2, 3, 4], "same length"),
        ([1, 2], [1, 2], "at least 3 returns"),
        ([1, 2, 3, 4], [5, 5, 5, 5], "do not move"),
        ([1, -2, 3, 4], [1, 2, 3, 4], "positive"),
    ],
)
def test_bad_prices(alt, btc, message):
    with pytest.raises(ValueError, match=message):
        estimate_beta(alt, btc)


def test_bad_method():
    with pytest.raises(ValueError, match="method"):
        estimate_beta([1, 2, 3, 4], [1, 2, 4, 3], "median")
