"""Contracts for a USD notional, floored to the exchange's lot step."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from xlhedge.engine import defaults as D
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
    steps = np.unique(step).tolist() if np.ndim(step) else [float(step)]  # a venue table has a few steps
    return min(max((_decimals(s) for s in steps if s == s), default=0), 12)  # s == s: not NaN


@functools.lru_cache(maxsize=256)
def _decimals(step: float) -> int:
    """Decimals of one step as printed exactly (a venue has a few steps: each is worked out once)."""
    text = np.format_float_positional(step, trim="-")
    return len(text.split(".")[1]) if "." in text else 0


def _lots_to_contracts(lots: np.ndarray, step: np.ndarray) -> np.ndarray:
    """``lots * step`` as the number it prints as (1666 lots of 0.001: 1.666, not 1.6660000000000001).

    A step of one k-th (0.001, 0.01, 0.5) divides the whole lots by the whole k, which IEEE rounds to the
    nearest double of the exact count; a whole step (1, 10) multiplies exactly. Any other step (0.3) is rounded
    to its decimals."""
    per_unit = np.rint(1.0 / step)
    kth = per_unit * step == 1.0
    if kth.all():
        return lots / per_unit
    contracts = np.divide(lots, per_unit, out=np.asarray(lots * step), where=kth)
    other = ~(kth | (step == np.rint(step)))
    if other.any():
        contracts = np.where(other, np.round(contracts, _step_decimals(step[other] if np.ndim(step) else step)),
                             contracts)
    return contracts


def contracts_for_notional(notional, price, contract_size=1.0, lot_step=D.LOT_STEP, inverse=False):
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
    inverse : bool or array of bool
        True for coin-margined inverse contracts (per contract, for arrays).

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
    usd_per_contract = p * size if inverse is False else np.where(np.asarray(inverse, dtype=bool), size, p * size)
    raw_lots = n / usd_per_contract / step
    # Round away float noise (0.3/0.1 = 2.9999999999999996) before flooring.
    lots = np.floor(raw_lots.round(9))
    contracts = _lots_to_contracts(lots, step)
    hedged = contracts * usd_per_contract
    residual = np.maximum(n - hedged, 0.0)
    return ContractSizing(
        scalar_or_array(contracts), scalar_or_array(hedged), scalar_or_array(residual)
    )


def order_text(contracts, lot_step, symbol: str, exchange: str, contract_size, inverse: bool, coin: str,
               min_qty=float("nan"), min_notional=float("nan"), notional=float("nan")) -> str:
    """The order to place, in words and in the venue's units.

    Parameters
    ----------
    contracts : float
        Contracts to sell (already rounded down to the lot step).
    lot_step : float
        The venue's order step in contracts: the count is written with its decimals. NaN or 0: not
        published (the count was rounded to :data:`~xlhedge.engine.defaults.LOT_STEP`): said.
    symbol, exchange, coin : str
        The contract ("BTC-USDT-SWAP"), the venue and the coin it is on.
    contract_size : float
        Coins per contract, or USD face value per contract when ``inverse``.
    min_qty : float
        The venue's smallest order in contracts (NaN: not published).
    min_notional : float
        The venue's smallest order in USD (NaN: not published).
    notional : float
        USD notional of the order (compared with ``min_notional``).

    Returns
    -------
    str
        "Sell 200 BTC-USDT-SWAP on okx (0.01 BTC each)", "Sell 2.000 BTCUSDT on binance", or why no
        order can be placed ("Below okx's minimum of 0.01 contracts: 0.004").

    Examples
    --------
    >>> order_text(200, 0.01, "BTC-USDT-SWAP", "okx", 0.01, False, "BTC")
    'Sell 200.00 BTC-USDT-SWAP on okx (0.01 BTC each)'
    >>> order_text(2, 0.001, "BTCUSDT", "binance", 1, False, "BTC")
    'Sell 2.000 BTCUSDT on binance'
    >>> order_text(1825, 1, "BTC-USD-SWAP", "okx", 100, True, "BTC")
    'Sell 1,825 BTC-USD-SWAP on okx (USD 100 each)'
    """
    published = lot_step > 0  # NaN or 0: not published
    step = lot_step if published else D.LOT_STEP
    count = f"{contracts:,.{_step_decimals(np.asarray(float(step)))}f}"
    if np.isfinite(min_qty) and min_qty > 0 and contracts < min_qty - 1e-12:
        return f"Below {exchange}'s minimum of {min_qty:g} contracts: {contracts:g}"
    if np.isfinite(min_notional) and min_notional > 0 and np.isfinite(notional) and notional < min_notional:
        return f"Below {exchange}'s minimum order of ${min_notional:,.0f}: ${notional:,.0f}"
    if contracts <= 0:
        return f"Nothing to sell on {exchange}: less than one lot"
    each = f"USD {contract_size:g} each" if inverse else (f"{contract_size:g} {coin} each" if contract_size != 1
                                                           else "")
    notes = [n for n in (each, "" if published else f"order step not published: rounded to {D.LOT_STEP:g}") if n]
    return f"Sell {count} {symbol} on {exchange}" + (f" ({'; '.join(notes)})" if notes else "")
