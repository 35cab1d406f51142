"""Contracts for a USD notional, floored to the exchange's lot step."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from xlhedge.engine._checks import as_float_array, check_range, scalar_or_array


@dataclass(frozen=True)
class ContractSizing:
    """Result of :func:`contracts_for_notional`.

    Attributes
    ----------
    contracts : float or ndarray
        Number of contracts, a whole multiple of the lot step.
    hedged_notional : float or ndarray
        USD notional those contracts cover.
    residual_notional : float or ndarray
        USD left unhedged by rounding down (>= 0).
    """

    contracts: object
    hedged_notional: object
    residual_notional: object


def _step_decimals(step: np.ndarray) -> int:
    """Decimals needed to print the lot step exactly (0.001 -> 3)."""
    best = 0
    for s in np.unique(step[~np.isnan(step)]) if np.ndim(step) else [step]:
        text = np.format_float_positional(float(s), trim="-")
        best = max(best, len(text.split(".")[1]) if "." in text else 0)
    return min(best, 12)


def contracts_for_notional(notional, price, contract_size=1.0, lot_step=0.001, inverse=False):
    """How many contracts to short for a USD notional, never over-hedging.

    Linear (USDT-margined) contracts: ``notional / (price * contract_size)``.
    Inverse (coin-margined) contracts with a USD face value ``contract_size``:
    ``notional / contract_size``. Both are rounded *down* to a multiple of
    ``lot_step``; what rounding leaves unhedged is reported.

    Parameters
    ----------
    notional : float or array
        USD notional to hedge, >= 0.
    price : float or array
        Mark price in USD per coin, > 0 (used for linear contracts and to
        value inverse ones).
    contract_size : float or array
        Coins per contract (linear) or USD face value per contract (inverse), > 0.
    lot_step : float or array
        Smallest tradable increment of contracts, > 0.
    inverse : bool
        True for coin-margined inverse contracts.

    Returns
    -------
    ContractSizing
        Contracts, the notional they hedge and the residual, in USD.

    Examples
    --------
    >>> contracts_for_notional(100_000, 60_000).contracts
    1.666
    """
    n = as_float_array(notional, "notional")
    p = as_float_array(price, "price")
    size = as_float_array(contract_size, "contract_size")
    step = as_float_array(lot_step, "lot_step")
    check_range(n, "notional", 0.0)
    check_range(p, "price", 0.0, low_open=True)
    check_range(size, "contract_size", 0.0, low_open=True)
    check_range(step, "lot_step", 0.0, low_open=True)
    usd_per_contract = size if inverse else p * size
    raw_lots = n / usd_per_contract / step
    # Round away float noise (0.3/0.1 = 2.9999999999999996) before flooring.
    lots = np.floor(np.round(raw_lots, 9))
    contracts = np.round(lots * step, _step_decimals(step))
    hedged = contracts * usd_per_contract
    residual = np.maximum(n - hedged, 0.0)
    return ContractSizing(
        scalar_or_array(contracts), scalar_or_array(hedged), scalar_or_array(residual)
    )
