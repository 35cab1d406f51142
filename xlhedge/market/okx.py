"""OKX perpetual swaps: funding-rate (instId=ANY), mark price, open interest, index; the instruments'
specifications kept for a day (asked again sooner when a swap is listed that they lack).

In a real answer ``fundingTime`` is the *upcoming* settlement and
``nextFundingTime`` the one after (tests/fixtures/real/okx): the next payment
is ``fundingTime`` and the interval ``nextFundingTime - fundingTime``. The
newest candle of history-candles can still be open (``confirm`` "0"); it is
dropped.
"""

from __future__ import annotations

from xlhedge.engine.margin import MaintenanceTiers
from xlhedge.market.cache import RULES_MAX_AGE_HOURS, kept_for_a_day
from xlhedge.market.errors import ExchangeError
from xlhedge.market.http import Client, Envelope
from xlhedge.market.parsing import (
    INVERSE,
    LINEAR,
    before_oldest,
    collect_pages,
    kept_specifications,
    row,
    tiers_in_contracts,
    to_float,
    to_ms,
    with_new_listings,
)
from xlhedge.market.tasks import map_values

NAME = "okx"
BASE_URL = "https://www.okx.com"  # its public API host (tests: XLHEDGE_OKX_URL)
SYMBOL_FORMAT = "{}-USDT-SWAP"
TAKER_FEE = 0.0005  # per trade, fraction of the notional (the Settings fee table's default); source below
FEE_SOURCE = "ccxt 4.5.90 okx.py: fees.swap.taker (VIP 0); read 2026-11-30"
ENVELOPE = Envelope("code", ("0", 0), "data", "msg")
SUFFIX = "-SWAP"
BARS = {"1h": "1H", "4h": "4H", "1d": "1Dutc"}
INDEX_QUOTES = ("USDT", "USD")  # index-tickers is per quote currency: the linear USDT and the inverse swaps


def inst_id(symbol_or_base: str) -> str:
    """"BTC" -> "BTC-USDT-SWAP"; a full instrument id ("BTC-USDC-SWAP") is kept."""
    text = symbol_or_base.upper()
    return text if text.endswith(SUFFIX) else SYMBOL_FORMAT.format(text)


def _rates(client: Client, bases: list[str] | None) -> list[dict]:
    """Funding of every swap with ``instId=ANY``; older API versions refuse it: then one call per base
    (a coin OKX does not list is left out; when every call fails, so does the exchange)."""
    try:
        return client.data("/api/v5/public/funding-rate", {"instId": "ANY"})
    except ExchangeError:
        if not bases:
            raise
    answers = map_values(lambda b: _answer_or_error(client, "/api/v5/public/funding-rate", {"instId": inst_id(b)}),
                         bases)
    found = [a for a in answers if not isinstance(a, ExchangeError)]
    if not found:
        raise answers[0]
    return [item for part in found for item in part]


def _answer_or_error(client: Client, path: str, params: dict):
    """The answer's data (a list), or the ExchangeError it raised."""
    try:
        return client.data(path, params) or []
    except ExchangeError as exc:
        return exc


def snapshot(client: Client, bases: list[str] | None = None) -> list[dict]:
    """All swaps: funding, mark prices, open interest and index prices sent together, with the instruments'
    specifications (kept for a day).

    Only the funding answer is needed for a row; each other answer that fails leaves its column empty.
    """
    rates, marks, instruments, interest, *indexes = client.parallel(
        (_rates, client, bases),
        (client.side, "mark prices", client.data, "/api/v5/public/mark-price", {"instType": "SWAP"}),
        (client.side, "contract sizes", _specifications, client),
        (client.side, "open interest", client.data, "/api/v5/public/open-interest", {"instType": "SWAP"}),
        *[(client.side, "index prices", client.data, "/api/v5/market/index-tickers", {"quoteCcy": q})
          for q in INDEX_QUOTES],
    )
    marks, interest = marks or [], interest or []
    indexes = [part or [] for part in indexes]
    inst = with_new_listings(client, "contract sizes", instruments or {}, (item.get("instId") for item in rates),
                             lambda hours: _specifications(client, hours))
    mark = {m["instId"]: m.get("markPx") for m in marks}
    oi_usd = {o["instId"]: o.get("oiUsd") for o in interest}
    index = {i["instId"]: i.get("idxPx") for part in indexes for i in part}
    tiers = client.each_side("maintenance tiers", _position_tiers, [
        inst_id(b).removesuffix(SUFFIX) for b in bases or [] if inst_id(b) in inst])  # the portfolio's swaps
    rows = []
    for item in rates:
        symbol = item.get("instId") or ""
        rate = to_float(item.get("fundingRate"))
        next_ms, after_ms = to_ms(item.get("fundingTime")), to_ms(item.get("nextFundingTime"))
        parts = symbol.split("-")
        if not symbol.endswith(SUFFIX) or len(parts) != 3 or rate is None or not next_ms or not after_ms:
            continue
        hours = (after_ms - next_ms) / 3_600_000
        if hours <= 0:
            continue
        base, quote = parts[0], parts[1]
        spec = inst.get(symbol, {})
        margin = spec.get("ctType") or (INVERSE if quote == "USD" else LINEAR)
        rows.append(row(NAME, symbol, base, rate, hours, next_ms, mark.get(symbol), quote=quote, margin=margin,
                        contract_size=spec.get("ctVal"), predicted_rate=item.get("nextFundingRate"),
                        lot_step=spec.get("lotSz"), min_qty=spec.get("minSz"), max_leverage=spec.get("lever"),
                        index=index.get(f"{base}-{quote}"),  # USDT and USD indexes; USDC swaps: empty
                        open_interest_usd=to_float(oi_usd.get(symbol)),
                        tiers=tiers_at_mark(tiers.get(symbol.removesuffix(SUFFIX)), symbol.removesuffix(SUFFIX),
                                            to_float(spec.get("ctVal")), to_float(mark.get(symbol)))))
    return rows


def _specifications(client: Client, max_age_hours: float = RULES_MAX_AGE_HOURS) -> dict[str, dict]:
    """instId -> the swap's specification as the rows use it (the instruments answer's ``ctType``, ``ctVal``,
    ``lotSz``, ``minSz``, ``lever``), kept for a day (``max_age_hours``: sooner)."""
    return kept_specifications(client, "okx-instruments", "/api/v5/public/instruments", {"instType": "SWAP"},
                               "instId", ("ctType", "ctVal", "lotSz", "minSz", "lever"), max_age_hours)


def _position_tiers(client: Client, family: str) -> list[dict]:
    """The swap family's position tiers ("BTC-USDT"), isolated margin; kept for a day (one request a family,
    so only the portfolio's coins are asked)."""
    return kept_for_a_day(f"okx-tiers-{family}", client.base_url, lambda: client.data(
        "/api/v5/public/position-tiers", {"instType": "SWAP", "tdMode": "isolated", "instFamily": family}))


def tiers_at_mark(answer: list[dict] | None, family: str, contract_value: float | None,
                  mark: float | None) -> MaintenanceTiers | None:
    """Position tiers as maintenance tiers: tier k runs from the previous tier's ``maxSz`` (contracts) at its
    ``mmr`` (:func:`~xlhedge.market.parsing.tiers_in_contracts`: USD at the mark, the rate on the whole
    position). None: no answer, or no contract value or mark to size it."""
    rows = sorted((r for r in answer or [] if r.get("instFamily", family) == family), key=lambda r: int(r["tier"]))
    if not rows:
        return None
    return tiers_in_contracts([0.0, *(float(r["maxSz"]) for r in rows[:-1])], [float(r["mmr"]) for r in rows],
                              contract_value, mark)


def _backwards(client: Client, path: str, params: dict, parse_row, start: int, end: int, bar):
    """OKX pages newest first, 100 at a time, with ``after`` = older than this time."""
    rows = collect_pages(
        lambda c: client.data(path, {**params, "after": c, "limit": 100}),
        parse_row, 100, end + 1, lambda c: c > start, lambda r: before_oldest(r) + 1, bar)
    return sorted({r for r in rows if start <= r[0] <= end})


def funding_history(client: Client, symbol: str, start: int, end: int, bar=None):
    """(time ms, realised rate) oldest first."""
    return _backwards(client, "/api/v5/public/funding-rate-history", {"instId": inst_id(symbol)},
                      lambda p: (int(p["fundingTime"]), float(p.get("realizedRate") or p["fundingRate"])),
                      start, end, bar)


def _closed_candle(k):
    """(time ms, open, high, low, close) of a closed candle ([ts, o, h, l, c, ...]); None for the one still open
    (``confirm`` "0")."""
    if len(k) > 8 and str(k[8]) == "0":
        return None
    return int(k[0]), *map(float, k[1:5])


def index_history(client: Client, symbol: str, interval: str, start: int, end: int, bar=None):
    """(time ms, close) of the swap's index ("BTC-USDT" for BTC-USDT-SWAP) oldest first, from
    history-index-candles ([ts, o, h, l, c, confirm]); the open candle is left out."""
    def closed(k):
        return None if len(k) > 5 and str(k[5]) == "0" else (int(k[0]), float(k[4]))

    return _backwards(client, "/api/v5/market/history-index-candles",
                      {"instId": inst_id(symbol).removesuffix(SUFFIX), "bar": BARS[interval]}, closed, start, end, bar)


def price_history(client: Client, symbol: str, interval: str, start: int, end: int, bar=None):
    """(time ms, open, high, low, close) oldest first, from history-candles; the open candle is left out."""
    return _backwards(client, "/api/v5/market/history-candles",
                      {"instId": inst_id(symbol), "bar": BARS[interval]}, _closed_candle, start, end, bar)
