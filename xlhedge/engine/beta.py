"""Minimum-variance (beta) hedge of an alt coin with BTC perpetuals.

The minimum-variance hedge ratio is ``Cov(r_alt, r_btc) / Var(r_btc)``: the
OLS slope of the alt's log returns on BTC's. An alt with beta 2 needs about
$2 of BTC short per $1 held (it moves twice as much), and the hedge removes
only the part of its risk that moves with BTC (R^2 of the regression).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from xlhedge.engine._checks import as_float_array, check_range, scalar_or_array

METHODS = ("ols", "ewma")


@dataclass(frozen=True)
class BetaEstimate:
    """Regression of alt log returns on BTC log returns (one value per alt).

    Attributes
    ----------
    beta : float or ndarray
        Slope: USD of BTC short per USD of alt for a minimum-variance hedge.
    r2 : float or ndarray
        Share of the alt's return variance explained by BTC (hedge effectiveness), 0..1.
    correlation : float or ndarray
        Correlation of the two return series, -1..1.
    n : int or ndarray
        Number of returns used.
    stderr : float or ndarray
        Standard error of beta (with the effective sample size for EWMA).
    intercept : float or ndarray
        Mean return of the alt not explained by BTC, per period.
    method : str
        ``"ols"`` or ``"ewma"``.
    """

    beta: object
    r2: object
    correlation: object
    n: object
    stderr: object
    intercept: object
    method: str


def _weights(n: int, method: str, halflife: float) -> np.ndarray | None:
    if method == "ols":
        return None
    age = np.arange(n - 1, -1, -1, dtype=float)  # newest return has age 0
    return 0.5 ** (age / halflife)


def _fit(x: np.ndarray, y: np.ndarray, w: np.ndarray | None, min_obs: int) -> tuple[np.ndarray, ...]:
    """Weighted least squares of every column of ``y`` (n, k) on ``x`` (n,); ``w=None`` is OLS.

    Uses sums instead of centred copies of ``y`` (returns are small and near zero
    mean, so the cancellation is harmless) to keep 50 x 17,520 fits at a few ms.
    """
    n = x.shape[0]
    if n < min_obs:
        raise ValueError(f"need at least {min_obs} returns (got {n}); give more prices")
    if w is None:
        wsum, wy = float(n), y
        my = y.sum(axis=0) / wsum
        mx = x.sum() / wsum
        xc = x - mx
        sxx = xc @ xc
        wxc = xc
        n_eff = float(n)
    else:
        wsum = w.sum()
        wy = y * w[:, None]
        my = wy.sum(axis=0) / wsum
        mx = w @ x / wsum
        xc = x - mx
        wxc = w * xc
        sxx = wxc @ xc
        n_eff = wsum * wsum / (w @ w)
    if not sxx > 1e-300:
        raise ValueError("btc_prices do not move: beta is undefined")
    sxy = wxc @ y  # the weighted sum of xc is zero, so y needs no centring here
    syy = np.maximum(np.einsum("ij,ij->j", wy, y) - wsum * my * my, 0.0)
    beta = sxy / sxx
    with np.errstate(divide="ignore", invalid="ignore"):
        corr = np.where(syy > 0, sxy / np.sqrt(sxx * syy), 0.0)
    corr = np.clip(corr, -1.0, 1.0)
    ssr = np.maximum(syy - beta * sxy, 0.0)
    stderr = np.sqrt(ssr / sxx / (n_eff - 2.0)) if n_eff > 2.0 else np.full_like(beta, np.nan)
    return beta, corr * corr, corr, np.full(beta.shape, n), stderr, my - beta * mx


def estimate_beta(alt_prices, btc_prices, method="ols", halflife=30.0, min_obs=3) -> BetaEstimate:
    """Estimate the beta of one or many alts to BTC from price histories.

    Rows where a price is missing (NaN) are dropped pairwise (per alt), then
    log returns are taken between consecutive remaining rows.

    Parameters
    ----------
    alt_prices : array, shape (n,) or (n, k)
        Alt prices in USD, oldest first; one column per alt.
    btc_prices : array, shape (n,)
        BTC prices in USD at the same timestamps.
    method : {"ols", "ewma"}
        Plain least squares, or exponentially weighted with half-life
        ``halflife`` periods (recent returns count more).
    halflife : float
        EWMA half-life in periods (rows), > 0.
    min_obs : int
        Fewest returns accepted.

    Returns
    -------
    BetaEstimate
        Scalars for a 1-D ``alt_prices``, arrays of length k otherwise.
    """
    alt = as_float_array(alt_prices, "alt_prices")
    btc = as_float_array(btc_prices, "btc_prices")
    key = str(method).strip().lower()
    if key not in METHODS:
        raise ValueError('method must be "ols" or "ewma"')
    hl = as_float_array(halflife, "halflife")
    check_range(hl, "halflife", 0.0, low_open=True)
    if btc.ndim != 1:
        raise ValueError("btc_prices must be one row or one column")
    single = alt.ndim == 1
    alt2 = alt[:, None] if single else alt
    if alt2.ndim != 2 or alt2.shape[0] != btc.shape[0]:
        raise ValueError(
            f"alt_prices and btc_prices must have the same length ({alt2.shape[0]} vs {btc.shape[0]})"
        )
    for arr, name in ((alt2, "alt_prices"), (btc, "btc_prices")):
        if (arr <= 0).any() or np.isinf(arr).any():  # NaN (missing) passes both tests
            raise ValueError(f"{name} must be positive prices")
    if not (np.isnan(alt2).any() or np.isnan(btc).any()):
        x = np.diff(np.log(btc))
        y = np.diff(np.log(alt2), axis=0)
        parts = _fit(x, y, _weights(x.shape[0], key, float(hl)), min_obs)
    else:
        valid = ~np.isnan(alt2) & ~np.isnan(btc)[:, None]
        cols = []
        for j in range(alt2.shape[1]):
            rows = valid[:, j]
            x = np.diff(np.log(btc[rows]))
            y = np.diff(np.log(alt2[rows, j]))[:, None]
            cols.append(_fit(x, y, _weights(x.shape[0], key, float(hl)), min_obs))
        parts = tuple(np.concatenate([c[i] for c in cols]) for i in range(6))
    if single:
        parts = tuple(p[0] for p in parts)
    beta, r2, corr, n, se, icpt = (scalar_or_array(np.asarray(p)) for p in parts)
    n = int(n) if np.ndim(n) == 0 else np.asarray(n, dtype=int)
    return BetaEstimate(beta, r2, corr, n, se, icpt, key)


def beta_hedge_notional(alt_notional, beta):
    """USD notional of BTC perps to short against an alt holding: ``alt_notional * beta``.

    Parameters
    ----------
    alt_notional : float or array
        USD value of the alt holding, >= 0.
    beta : float or array
        The alt's beta to BTC (see :func:`estimate_beta`).

    Returns
    -------
    float or ndarray
        USD of BTC to short. Beta 2 on $100k of alts -> $200k (not $50k).
        A negative beta gives a negative figure: a long BTC position would hedge.
    """
    n = as_float_array(alt_notional, "alt_notional")
    b = as_float_array(beta, "beta")
    check_range(n, "alt_notional", 0.0)
    check_range(b, "beta", -20.0, 20.0)
    return scalar_or_array(n * b)
