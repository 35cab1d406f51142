"""Which contract hedges a coin: one canonical perpetual per exchange and coin.

An exchange lists several perpetuals per coin (Binance lists BTCUSDC before
BTCUSDT, and ETHBTC quoted in bitcoin). A USD-valued holding is hedged with
the USDT-margined linear contract, else the USDC-margined one, else the
coin-margined (inverse, USD face value) one; never one quoted in another coin.
A user who wants a particular contract names its symbol instead of the coin.

The rule is a pure function of the table's own columns, so the refresh, the
workbook's lookup keys and ``xlhedge plan`` all get the same answer from the
same rows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: Preference order: lower is better; anything not listed never hedges a USD holding.
RANK = {("USDT", "linear"): 0, ("USDC", "linear"): 1, ("USD", "inverse"): 2}
NOT_CANONICAL = 99


def rank(quote, margin) -> np.ndarray:
    """Preference of each contract (0 best; ``NOT_CANONICAL`` for contracts quoted in another coin)."""
    pairs = zip(pd.Series(quote, dtype=object).astype(str).str.upper(),
                pd.Series(margin, dtype=object).astype(str).str.lower(), strict=True)
    return np.array([RANK.get(p, NOT_CANONICAL) for p in pairs], dtype=int)


def canonical_mask(table: pd.DataFrame) -> np.ndarray:
    """True on the one row per (exchange, base) that hedges the coin; stale rows count like fresh.

    Ties (the same quote and margin listed twice) go to the first row.
    """
    if table.empty:
        return np.zeros(0, dtype=bool)
    ranks = rank(table["quote"], table["margin"])
    frame = pd.DataFrame({"exchange": table["exchange"].to_numpy(), "base": table["base"].to_numpy(),
                          "rank": ranks, "pos": np.arange(len(table))})
    eligible = frame[frame["rank"] < NOT_CANONICAL]
    best = eligible.sort_values(["rank", "pos"], kind="stable").drop_duplicates(["exchange", "base"])
    mask = np.zeros(len(table), dtype=bool)
    mask[best["pos"].to_numpy()] = True
    return mask


def lookup_keys(table: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """The two lookup keys of each row, upper case: ``exchange|COIN`` (canonical rows only, else
    empty) and ``exchange|SYMBOL`` (every row). A Portfolio asset is matched against the first,
    then the second, so "BTC" finds the canonical contract and "BTCUSDC" exactly that one.
    """
    exchange = table["exchange"].astype(str).str.lower()
    coin_key = (exchange + "|" + table["base"].astype(str).str.upper()).where(canonical_mask(table), "")
    symbol_key = exchange + "|" + table["symbol"].astype(str).str.upper()
    return coin_key, symbol_key


def resolve(table: pd.DataFrame, exchanges, assets) -> np.ndarray:
    """Row position in ``table`` of the contract each (exchange, asset) uses; -1 where none.

    ``assets`` are what a user typed in the Portfolio: a coin ("BTC") or an exchange
    symbol ("BTCUSDC"). Same rule as the workbook's lookup.
    """
    coin_key, symbol_key = lookup_keys(table)
    by_coin, by_symbol = _first_positions(coin_key), _first_positions(symbol_key)
    out = []
    for exchange, asset in zip(exchanges, assets, strict=True):
        key = f"{str(exchange).strip().lower()}|{str(asset).strip().upper()}"
        out.append(by_coin.get(key, by_symbol.get(key, -1)))
    return np.array(out, dtype=int)


def _first_positions(keys: pd.Series) -> dict[str, int]:
    """Key -> position of its first row (empty keys skipped), as MATCH(..., 0) finds it."""
    out: dict[str, int] = {}
    for pos, key in enumerate(keys):
        if key and key not in out:
            out[key] = pos
    return out
