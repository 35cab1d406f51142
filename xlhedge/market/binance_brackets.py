"""Binance's leverage brackets, shipped: its maintenance tiers need a signed request, so xlhedge carries a
dated copy (``xlhedge/data/binance_brackets.json``) and gives every Binance contract it lists its brackets.

The copy is made from the table freqtrade keeps (``freqtrade/exchange/binance_leverage_tiers.json``: ccxt's
``fetch_leverage_tiers`` answer, whose ``info`` is Binance's own bracket) by :func:`brackets_from_ccxt_tiers`;
``python -m xlhedge.market.binance_brackets TIERS.json SOURCE AS_OF`` writes a newer one. A row of the
Settings sheet's tier table still wins over it.
"""

from __future__ import annotations

import json
import sys
from functools import lru_cache
from importlib import resources
from pathlib import Path

from xlhedge.engine.margin import MaintenanceTiers

DATA_FILE = "data/binance_brackets.json"
#: The settlement currencies whose brackets count USD (a dated future settles in "USDT-260327": not one).
USD_SETTLED = ("USDT", "USDC")


def brackets_from_ccxt_tiers(tiers: dict) -> dict[str, str]:
    """Binance symbol -> its brackets as a tier table's text (``notionalFloor/maintMarginRatio/cum`` per
    bracket, from each tier's ``info``), for the USDT- and USDC-settled perpetuals of a ccxt leverage-tiers
    answer (``{"BTC/USDT:USDT": [tier, ...]}``): tiers count USD, and a BTC-settled contract's (ETHBTC) count
    BTC; dated futures (``...:USDT-260327``) are left out.

    Raises ValueError for brackets that are not a tier table (floors not increasing from 0, a rate out of
    range), naming the market."""
    out = {}
    for market, rows in tiers.items():
        pair, _, settle = market.partition(":")
        if settle not in USD_SETTLED or "/" not in pair:
            continue
        base, quote = pair.split("/", 1)
        info = sorted((row["info"] for row in rows), key=lambda b: float(b["notionalFloor"]))
        try:
            table = MaintenanceTiers.of([b["notionalFloor"] for b in info], [b["maintMarginRatio"] for b in info],
                                        [b["cum"] for b in info])
        except ValueError as exc:
            raise ValueError(f"{market}: {exc}") from None
        out[f"{base}{quote}"] = table.text
    return dict(sorted(out.items()))


@lru_cache(maxsize=1)
def shipped() -> dict:
    """The shipped copy: ``{"source": where and when it was read, "as_of": "YYYY-MM-DD", "brackets":
    {symbol: tier text}}``."""
    return json.loads(resources.files("xlhedge").joinpath(DATA_FILE).read_text(encoding="utf-8"))


def shipped_brackets(symbol: str) -> str | None:
    """The shipped brackets of a Binance symbol ("BTCUSDT") as a tier table's text; None: not in the copy."""
    return shipped()["brackets"].get(symbol)


def main(argv: list[str]) -> int:
    """Write the shipped copy from a ccxt leverage-tiers file (for the maintainers: a newer table)."""
    if len(argv) != 3:
        print("usage: python -m xlhedge.market.binance_brackets TIERS.json SOURCE AS_OF", file=sys.stderr)
        return 2
    path, source, as_of = argv
    brackets = brackets_from_ccxt_tiers(json.loads(Path(path).read_text(encoding="utf-8")))
    target = Path(__file__).resolve().parents[1] / DATA_FILE
    target.write_text(json.dumps({"source": source, "as_of": as_of, "brackets": brackets}, ensure_ascii=False,
                                 indent=0) + "\n", encoding="utf-8")
    print(f"{len(brackets)} contracts -> {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
