"""Excel functions (xlwings UDFs): thin wrappers that validate cells and call the engine.

This is the module named in the workbook's ``xlwings.conf`` ("UDF Modules").
Every function:

* accepts what xlwings passes: a number, text, ``None`` for an empty cell, a
  flat list (a row) or a list of lists (a range), and numpy arrays;
* broadcasts numeric ranges like an Excel array formula and spills the result
  (empty input cells stay empty);
* never raises: bad input returns ``"#VALUE! <what is wrong>"`` and missing
  data ``"#N/A <what is missing>"``, at most 120 characters.

Units: ratios are fractions (0.5 = 50 %), funding rates are per interval as
the exchange publishes them, intervals in hours, horizons in days, USD amounts.
"""

from __future__ import annotations

import functools
import inspect

import numpy as np
import xlwings as xw

from xlhedge import engine
from xlhedge.cell_times import cell_time, event_list
from xlhedge.cells import (
    CellArray,
    CellError,
    broadcast,
    cell_array,
    cell_bool,
    cell_number,
    cell_safe,
    cell_text,
    cell_texts,
    cell_values,
    is_blank,
    is_message,
    looks_numeric,
    parse_number,
    price_series,
    row_by_row,
    text_cells,
    to_cells,
    unwrap_single,
)
from xlhedge.engine import defaults as D

CATEGORY = "xlhedge"
SIDES = ("short", "long")
METHODS = ("ols", "ewma")


def xl_udf(arg_docs: dict[str, str], ranges: tuple[str, ...] = (), rowwise: tuple[str, ...] | None = None):
    """Expose a function to Excel: cell-safe, category "xlhedge", documented arguments.

    ``ranges`` names the arguments read as 2-D (``ndim=2``) so a column stays
    a column when the result spills. ``rowwise`` (default: ``ranges``) names
    the arguments that hold one value per row: when a call over a column fails
    as a whole, it is repeated row by row so each bad row shows its own message
    and the others their numbers (one array formula per column stays usable).
    """
    per_row = ranges if rowwise is None else rowwise

    def decorate(func):
        safe = cell_safe(func)
        signature = inspect.signature(func)

        @functools.wraps(func)
        def wrapped(*args, **kwargs):
            result = safe(*args, **kwargs)
            if not per_row or not is_message(result):
                return result
            try:
                bound = signature.bind(*args, **kwargs)
            except TypeError:
                return result
            rows = row_by_row(safe, dict(bound.arguments), per_row, ranges)
            return result if rows is None else rows

        for name, doc in arg_docs.items():
            options = {"ndim": 2} if name in ranges else {}
            wrapped = xw.arg(name, doc=doc, **options)(wrapped)
        wrapped = xw.func(category=CATEGORY)(wrapped)
        wrapped.arg_docs = arg_docs
        return wrapped

    return decorate


def _elementwise(fn, named: list[tuple[CellArray, str]], **fixed):
    """Broadcast the named cell arrays, apply ``fn``, and shape the result for Excel."""
    arrays = broadcast(*named)
    return to_cells(fn(*arrays, **fixed), *(arr for arr, _ in named))


def _outlook_array(outlook, conviction: float, max_ratio: float) -> CellArray:
    """Base ratios from outlook cells: labels map to their band, numbers are ratios."""
    value = unwrap_single(outlook)
    if isinstance(value, str) and value.strip() and not looks_numeric(value):
        return CellArray(np.asarray(engine.base_ratio(value, conviction)), 0)
    if isinstance(value, (list, tuple, np.ndarray)):
        cells = np.asarray(value, dtype=object)
        if cells.ndim > 2:
            raise CellError("outlook must be a 1-D or 2-D range")
        base = np.empty(cells.shape, dtype=float)
        for idx, item in np.ndenumerate(cells):
            if isinstance(item, str) and item.strip() and not looks_numeric(item):
                base[idx] = engine.base_ratio(item, conviction)
            else:
                base[idx] = parse_number(item, "outlook")
        result = CellArray(base, cells.ndim)
    else:
        result = cell_array(value, "outlook")
    numeric = result.values[~result.blank]
    if numeric.size and (numeric.min() < 0 or numeric.max() > max_ratio):
        bad = numeric[(numeric < 0) | (numeric > max_ratio)][0]
        raise CellError(f"outlook ratio must be between 0 and max_ratio {max_ratio:g} (got {bad:g})")
    return result


@xl_udf(
    {
        "outlook": 'Market view: "bearish", "neutral", "bullish", or a ratio such as 0.6',
        "conviction": "Where in the outlook band to sit: 0 = low end, 1 = high end (default 0.5)",
        "funding_rate": "Funding rate per interval as the exchange shows it, e.g. 0.0001 (optional)",
        "interval_hours": "Hours between funding payments: 8, 4 or 1 (default 8)",
        "cost_threshold": "Short's carry cost per 8h that triggers the adjustment (default 0.0005)",
        "adjustment": "Fraction to cut or raise the ratio by (default 0.3)",
        "max_ratio": "Highest ratio allowed (default 1.0 = never over-hedge)",
    },
    ranges=("outlook", "funding_rate", "interval_hours"),
    # the rows are the outlook's and the interval's (a blank funding rate means "do not adjust", not "no row"),
    # as in a whole-column call, whose blank cells are where either of them is blank
    rowwise=("outlook", "interval_hours"),
)
def HEDGE_RATIO(
    outlook,
    conviction=0.5,
    funding_rate=None,
    interval_hours=8,
    cost_threshold=D.FUNDING_THRESHOLD,
    adjustment=D.FUNDING_ADJUSTMENT,
    max_ratio=1.0,
):
    """Fraction of the spot holding to short (0.6 = 60 %), from an outlook and funding.

    A positive funding rate pays shorts, so it never trims the hedge; a costly
    (negative) rate trims it by `adjustment`; a generous one raises it, up to max_ratio.
    """
    conv = cell_number(conviction, "conviction", 0.5)
    cap = cell_number(max_ratio, "max_ratio", 1.0)
    threshold = cell_number(cost_threshold, "cost_threshold", D.FUNDING_THRESHOLD)
    adj = cell_number(adjustment, "adjustment", 0.3)
    base = _outlook_array(outlook, conv, cap)
    rate = (
        CellArray(np.asarray(np.nan), 0)
        if is_blank(unwrap_single(funding_rate))
        else cell_array(funding_rate, "funding_rate")
    )
    hours = cell_array(interval_hours, "interval_hours", 8.0)
    b, r, h = broadcast((base, "outlook"), (rate, "funding_rate"), (hours, "interval_hours"))
    result = engine.funding_adjusted_ratio(b, r, h, threshold, adj, cap)
    return to_cells(result, base, hours)


@xl_udf(
    {
        "notional": "USD size of the position",
        "funding_rate": "Rate per interval: one cell, one per notional, or past rates for one notional (history)",
        "interval_hours": "Hours between funding payments (default 8)",
        "horizon_days": "Days the position is held (default 1); ignored for a history",
        "side": '"short" (default) or "long"',
    },
    ranges=("notional", "funding_rate", "interval_hours", "horizon_days"),
    rowwise=("notional",),
)
def FUNDING_COST(notional, funding_rate, interval_hours=8, horizon_days=1, side="short"):
    """USD funding paid over the horizon: > 0 you pay, < 0 you earn (a short earns when the
    rate is positive). Rates beside one notional are its history; beside notionals, one each.
    """
    which = cell_text(side, "side", SIDES, "short")
    rate_value = unwrap_single(funding_rate)
    one_notional = not isinstance(unwrap_single(notional), (list, tuple, np.ndarray))
    if isinstance(rate_value, (list, tuple, np.ndarray)) and one_notional:
        history = cell_array(rate_value, "funding_rate").values.ravel()
        history = history[~np.isnan(history)]
        if history.size == 0:
            raise CellError("funding_rate history is empty", "#N/A")
        amount = cell_number(notional, "notional")
        return to_cells(engine.realised_funding_cost(amount, history, which))  # finite, or a message
    if is_blank(rate_value):
        raise CellError("funding_rate is empty; refresh market data or type a rate", "#N/A")
    return _elementwise(
        engine.funding_cost,
        [
            (cell_array(notional, "notional"), "notional"),
            (cell_array(rate_value, "funding_rate"), "funding_rate"),
            (cell_array(interval_hours, "interval_hours", 8.0), "interval_hours"),
            (cell_array(horizon_days, "horizon_days", 1.0), "horizon_days"),
        ],
        side=which,
    )


@xl_udf(
    {
        "alt_notional": "USD value of the alt holding (a row of values for several alts)",
        "beta_or_alt_prices": "The alt's beta to BTC, or a range of its prices (oldest first)",
        "btc_prices": "BTC prices at the same times (leave empty when a beta is given)",
        "method": '"ols" (default) or "ewma" (recent prices weigh more)',
        "halflife": "EWMA half-life in rows (default 30)",
    },
    ranges=("alt_notional", "beta_or_alt_prices", "btc_prices"),
    rowwise=("alt_notional",),
)
def BETA_HEDGE(alt_notional, beta_or_alt_prices, btc_prices=None, method="ols", halflife=30):
    """USD of BTC perpetuals to short against an alt holding: alt notional x beta.

    Beta 2 means the alt moves about twice as much as BTC, so $100k of it needs
    about $200k of BTC short. Give prices instead of a beta to estimate it.
    """
    how = cell_text(method, "method", METHODS, "ols")
    hl = cell_number(halflife, "halflife", 30.0)
    if btc_prices is None or is_blank(unwrap_single(btc_prices)):
        return _elementwise(
            engine.beta_hedge_notional,
            [
                (cell_array(alt_notional, "alt_notional"), "alt_notional"),
                (cell_array(beta_or_alt_prices, "beta"), "beta"),
            ],
        )
    alt, btc = price_series(beta_or_alt_prices, btc_prices, "beta_or_alt_prices")
    est = engine.estimate_beta(alt, btc, how, hl)
    notional = cell_array(alt_notional, "alt_notional")
    if alt.ndim == 1:
        beta = CellArray(np.asarray(est.beta), 0)
    else:  # several alts: one result per alt, in a row
        beta = CellArray(np.reshape(est.beta, (1, -1)), 2)
        if notional.ndim:
            notional = CellArray(notional.values.reshape(1, -1), 2)
    return _elementwise(
        engine.beta_hedge_notional, [(notional, "alt_notional"), (beta, "alt prices")]
    )


BETA_STATS_HEADER = ["beta", "r2", "correlation", "n", "stderr"]


@xl_udf(
    {
        "alt_prices": "The alt's prices, oldest first (a block with one column per alt)",
        "btc_prices": "BTC prices at the same times",
        "method": '"ols" (default) or "ewma"',
        "halflife": "EWMA half-life in rows (default 30)",
    },
    ranges=("alt_prices", "btc_prices"),
    rowwise=(),
)
def BETA_STATS(alt_prices, btc_prices, method="ols", halflife=30):
    """Spills a header row and, per alt, beta, R^2 (hedge effectiveness), correlation, n, std error."""
    how = cell_text(method, "method", METHODS, "ols")
    hl = cell_number(halflife, "halflife", 30.0)
    alt, btc = price_series(alt_prices, btc_prices, "alt_prices")
    est = engine.estimate_beta(alt, btc, how, hl)
    cols = [np.atleast_1d(np.asarray(getattr(est, k), dtype=float)) for k in
            ("beta", "r2", "correlation", "n", "stderr")]
    body = np.column_stack(cols)
    body = np.where(np.isfinite(body), body, np.nan)
    rows = [[None if np.isnan(v) else float(v) for v in row] for row in body]
    return [list(BETA_STATS_HEADER), *rows]


@xl_udf(
    {
        "funding_rate": "Funding rate per interval, e.g. 0.0001",
        "interval_hours": "Hours between funding payments (default 8)",
    },
    ranges=("funding_rate", "interval_hours"),
)
def FUNDING_APR(funding_rate, interval_hours=8):
    """Yearly funding rate as a fraction: rate x 8760 / interval_hours (what longs pay shorts)."""
    return _elementwise(
        engine.funding_apr,
        [
            (cell_array(funding_rate, "funding_rate"), "funding_rate"),
            (cell_array(interval_hours, "interval_hours", 8.0), "interval_hours"),
        ],
    )


@xl_udf(
    {
        "spot_value": "USD value of the spot holding",
        "hedge_notional": "USD notional of the short",
        "price_change": "Price move as a fraction, e.g. -0.15 for a 15% fall",
        "funding_cost": "USD funding paid over the period (default 0; negative = earned)",
        "leverage": "Leverage of the isolated short: a rise to its liquidation price loses its margin "
                    "(blank or 0 = never liquidated)",
        "maintenance_margin": "Maintenance margin rate, e.g. 0.004 (default)",
        "liquidation_rise": "The rise that liquidates the short, e.g. 0.32 (from the venue's tiers; blank: "
                            "from the leverage and the maintenance margin)",
    },
    ranges=("spot_value", "hedge_notional", "price_change", "funding_cost", "leverage", "maintenance_margin",
            "liquidation_rise"),
)
def HEDGE_PNL(spot_value, hedge_notional, price_change, funding_cost=0, leverage=0,
              maintenance_margin=D.MAINTENANCE_MARGIN, liquidation_rise=None):
    """USD profit or loss of spot plus short after a price move, net of funding; with a leverage,
    a short whose liquidation price is reached is closed there and its margin lost."""

    rise = cell_array(liquidation_rise, "liquidation_rise", np.nan).values  # blank: not known, not a blank result

    def pnl(spot, short, change, cost, lev, mmr):
        return engine.hedge_pnl(spot, short, change, cost, np.where(lev == 0, np.nan, lev), mmr, rise)

    return _elementwise(
        pnl,
        [
            (cell_array(spot_value, "spot_value"), "spot_value"),
            (cell_array(hedge_notional, "hedge_notional"), "hedge_notional"),
            (cell_array(price_change, "price_change"), "price_change"),
            (cell_array(funding_cost, "funding_cost", 0.0), "funding_cost"),
            (cell_array(leverage, "leverage", 0.0), "leverage"),
            (cell_array(maintenance_margin, "maintenance_margin", D.MAINTENANCE_MARGIN), "maintenance_margin"),
        ],
    )


@xl_udf(
    {
        "notional": "USD notional to short",
        "price": "Mark price in USD",
        "contract_size": "Coins per contract, or USD face value for inverse (default 1)",
        "lot_step": f"Smallest contract increment (default {D.LOT_STEP:g}; a blank cell in a range: the same)",
        "inverse": 'TRUE, or "inverse", for coin-margined inverse contracts (a cell or a range; default FALSE)',
    },
    ranges=("notional", "price", "contract_size", "lot_step", "inverse"),
)
def HEDGE_CONTRACTS(notional, price, contract_size=1, lot_step=D.LOT_STEP, inverse=False):
    """Contracts to short for a USD notional, in the venue's units, rounded down to the lot step (never
    over-hedges)."""
    step = cell_array(lot_step, "lot_step", D.LOT_STEP)  # blank or 0 in a range: not published
    step = CellArray(np.where(np.isnan(step.values) | (step.values == 0), D.LOT_STEP, step.values), step.ndim)
    flags = _inverse_flags(inverse)

    def contracts(n, p, size, step, inv):
        return engine.contracts_for_notional(n, p, size, step, inv.astype(bool)).contracts

    return _elementwise(
        contracts,
        [
            (cell_array(notional, "notional"), "notional"),
            (cell_array(price, "price"), "price"),
            (cell_array(contract_size, "contract_size", 1.0), "contract_size"),
            (step, "lot_step"),
            (flags, "inverse"),
        ],
    )


def _inverse_flags(inverse) -> CellArray:
    """1.0 for an inverse contract, else 0.0, from TRUE/FALSE, 1/0 or the Funding table's margin text
    ("inverse", "linear"); blank: linear."""
    texts, ndim = cell_texts(inverse, "inverse")
    flags = np.zeros(texts.shape)
    for idx, text in np.ndenumerate(texts):
        word = text.lower()
        if word in ("inverse", "true", "1", "yes"):
            flags[idx] = 1.0
        elif word not in ("", "linear", "false", "0", "no"):
            raise CellError(f'inverse must be TRUE/FALSE or "inverse"/"linear" (got {text[:20]!r})')
    return CellArray(flags, ndim)


@xl_udf(
    {
        "contracts": "Contracts to sell (HEDGE_CONTRACTS)",
        "lot_step": "The venue's order step, in contracts (blank: not published)",
        "symbol": "The contract, e.g. BTC-USDT-SWAP",
        "exchange": "The venue, e.g. okx",
        "contract_size": "Coins per contract, or USD face value for inverse",
        "inverse": 'TRUE or "inverse" for coin-margined contracts',
        "coin": "The coin the contract is on, e.g. BTC",
        "min_qty": "The venue's smallest order, contracts (blank: none published)",
        "min_notional": "The venue's smallest order, USD (blank: none published)",
        "notional": "USD notional of the order",
    },
    ranges=("contracts", "lot_step", "symbol", "exchange", "contract_size", "inverse", "coin", "min_qty",
            "min_notional", "notional"),
)
def HEDGE_ORDER(contracts, lot_step, symbol, exchange, contract_size, inverse, coin, min_qty=None,
                min_notional=None, notional=None):
    """The order to place, in words and the venue's units: "Sell 200.00 BTC-USDT-SWAP on okx (0.01 BTC
    each)", or why there is none (below the venue's minimum, no contract listed)."""
    numbers = {name: cell_array(value, name, float("nan")) for name, value in (
        ("contracts", contracts), ("lot_step", lot_step), ("contract_size", contract_size), ("min_qty", min_qty),
        ("min_notional", min_notional), ("notional", notional))}
    texts = {name: cell_texts(value, name) for name, value in (("symbol", symbol), ("exchange", exchange),
                                                              ("coin", coin))}
    flags = _inverse_flags(inverse)
    ndim = max([a.ndim for a in numbers.values()] + [n for _, n in texts.values()] + [flags.ndim])
    try:
        arrays = np.broadcast_arrays(*(a.values for a in numbers.values()), *(t for t, _ in texts.values()),
                                     flags.values)
    except ValueError:
        raise CellError("ranges of different sizes") from None
    count, step, size, least, least_usd, usd, sym, venue, asset, inv = arrays
    out = np.empty(count.shape, dtype=object)
    for idx in np.ndindex(count.shape):
        where = venue[idx] or "this exchange"  # an empty exchange cell still reads as a sentence
        if not sym[idx] or not size[idx] > 0:  # no contract to count in: say so where there is something to sell
            wanted = not (np.isnan(count[idx]) and np.isnan(usd[idx]))
            out[idx] = f"No {asset[idx]} contract of {where} in the Funding table: refresh" if wanted else None
        elif np.isnan(count[idx]):
            out[idx] = None  # no short: an empty cell
        else:
            out[idx] = engine.order_text(float(count[idx]), float(step[idx]), sym[idx], where, float(size[idx]),
                                         bool(inv[idx]), asset[idx], float(least[idx]), float(least_usd[idx]),
                                         float(usd[idx]))
    return text_cells(out, ndim)  # one blank cell: "" (an empty text)


@xl_udf(
    {
        "spot_value": "USD value of the spot holding now",
        "short_notional": "USD notional of the short held now",
        "target_ratio": "Target hedge ratio, e.g. 0.6",
        "band": "No trade while the actual ratio is within this of the target (default 0.05)",
    },
    ranges=("spot_value", "short_notional", "target_ratio", "band"),
)
def HEDGE_REBALANCE(spot_value, short_notional, target_ratio, band=0.05):
    """USD to add to the short (negative = buy back) to return to target; 0 inside the band."""
    return _elementwise(
        engine.rebalance_trade,
        [
            (cell_array(spot_value, "spot_value"), "spot_value"),
            (cell_array(short_notional, "short_notional", 0.0), "short_notional"),
            (cell_array(target_ratio, "target_ratio"), "target_ratio"),
            (cell_array(band, "band", 0.05), "band"),
        ],
    )


@xl_udf(
    {
        "entry_price": "Entry price in USD",
        "leverage": "Leverage of the isolated position, e.g. 3",
        "maintenance_margin_rate": "Maintenance margin rate, e.g. 0.004 (default)",
        "side": '"short" (default) or "long"',
        "quantity": "Coins in the position (with tiers: which tier it is in)",
        "tier_floors": "The venue's maintenance tiers: each tier's lowest position notional, USD (first 0)",
        "tier_rates": "Each tier's maintenance margin rate, e.g. 0.004",
        "tier_amounts": "Each tier's maintenance amount, USD (blank: the continuous ones)",
        "tiers": 'Or each position\'s tiers in one cell, "floor/rate/amount; ..." as the Funding sheet '
                 "shows them (a column: one per row; blank: the flat rate)",
    },
    ranges=("entry_price", "leverage", "maintenance_margin_rate", "quantity", "tiers"),
    rowwise=("entry_price", "leverage", "maintenance_margin_rate", "quantity", "tiers"),
)
def LIQ_PRICE(entry_price, leverage, maintenance_margin_rate=D.MAINTENANCE_MARGIN, side="short", quantity=None,
              tier_floors=None, tier_rates=None, tier_amounts=None, tiers=None):
    """Price at which an isolated linear position is liquidated (no fees). Your spot does not help. With the
    venue's tiers and the position's coins: the tier its notional falls in at that price."""
    which = cell_text(side, "side", SIDES, "short")
    if not is_blank(unwrap_single(tiers)):
        return _liq_price_on_tiers(entry_price, leverage, maintenance_margin_rate, which, quantity, tiers)
    if is_blank(unwrap_single(tier_floors)):
        return _elementwise(
            engine.liquidation_price,
            [
                (cell_array(entry_price, "entry_price"), "entry_price"),
                (cell_array(leverage, "leverage"), "leverage"),
                (cell_array(maintenance_margin_rate, "maintenance_margin_rate", D.MAINTENANCE_MARGIN), "mmr"),
            ],
            side=which,
        )
    floors = cell_array(tier_floors, "tier_floors").values.ravel()
    rates = cell_array(tier_rates, "tier_rates").values.ravel()
    amounts = None if is_blank(unwrap_single(tier_amounts)) else cell_array(tier_amounts, "tier_amounts").values.ravel()
    keep = ~np.isnan(floors)  # a tier table with blank rows below it
    try:
        tiers = engine.MaintenanceTiers.of(floors[keep], rates[keep], None if amounts is None else amounts[keep])
    except ValueError as exc:
        raise CellError(str(exc)) from None
    return _elementwise(
        lambda e, q, lev: engine.tiered_liquidation_price(e, q, lev, tiers, which),
        [
            (cell_array(entry_price, "entry_price"), "entry_price"),
            (cell_array(quantity, "quantity"), "quantity"),
            (cell_array(leverage, "leverage"), "leverage"),
        ],
    )


def _liq_price_on_tiers(entry_price, leverage, maintenance_margin_rate, side, quantity, tiers):
    """LIQ_PRICE with a tier text per position (blank: the flat rate, where the coins do not matter)."""
    texts, texts_ndim = cell_texts(tiers, "tiers")
    parsed: dict[str, engine.MaintenanceTiers | None] = {"": None}
    for text in texts.reshape(-1):
        if text not in parsed:
            try:
                parsed[text] = engine.MaintenanceTiers.parse(text)
            except ValueError as exc:
                raise CellError(f"tiers: {exc}") from None
    coins = cell_array(quantity, "quantity", np.nan)
    try:
        q, texts = np.broadcast_arrays(coins.values, texts)
    except ValueError:
        raise CellError(f"ranges of different sizes: quantity {coins.values.shape}, tiers {texts.shape}") from None
    if (np.isnan(q) & (texts != "")).any():
        raise CellError("quantity (coins) is needed with tiers: the tier is the position's size")
    tables = np.vectorize(parsed.get, otypes=[object])(texts)
    return _elementwise(
        lambda e, lev, mmr, coins: engine.venue_liquidation_price(e, coins, lev, tables, mmr, side),
        [
            (cell_array(entry_price, "entry_price"), "entry_price"),
            (cell_array(leverage, "leverage"), "leverage"),
            (cell_array(maintenance_margin_rate, "maintenance_margin_rate", D.MAINTENANCE_MARGIN), "mmr"),
            (CellArray(np.where(np.isnan(q), 1.0, q), max(coins.ndim, texts_ndim)), "quantity"),
        ],
    )


@xl_udf(
    {
        "spot_values": "USD value of each holding (a row or column; leave cash out)",
        "ratio": "Hedge ratio, e.g. 0.6 for 60% (one cell, or one per holding)",
    },
    ranges=("spot_values", "ratio"),
)
def HEDGE_PLAN(spot_values, ratio):
    """Spills the USD notional to short for each holding: ratio x value (empty cells stay empty)."""
    return _elementwise(
        engine.allocate_hedge,
        [
            (cell_array(spot_values, "spot_values"), "spot_values"),
            (cell_array(ratio, "ratio"), "ratio"),
        ],
    )

@xl_udf(
    {
        "base_ratio": "The ratio without events, e.g. =HEDGE_RATIO(...)",
        "as_of": "When (UTC): a date or date and time; blank = now",
        "days_before": "The window opens this many days before an event (default 3)",
        "hours_after": "...and closes this many hours after it (default 24)",
        "floor": "Minimum ratio inside a window (default 0.8)",
        "events": "Event dates and times (UTC), or two columns: name, date; blank = the shipped FOMC decisions",
    },
    ranges=("base_ratio",),
)
def EVENT_RATIO(base_ratio, as_of=None, days_before=3, hours_after=24, floor=0.8, events=None):
    """Hedge ratio in force: at least the floor from days_before an event until hours_after it."""
    _, times = event_list(events)
    when = cell_time(as_of, "as_of")
    before = cell_number(days_before, "days_before", 3.0)
    after = cell_number(hours_after, "hours_after", 24.0)
    low = cell_number(floor, "floor", 0.8)

    def ratio(base):
        return engine.event_ratio(base, when, times, before, after, low)

    return _elementwise(ratio, [(cell_array(base_ratio, "base_ratio"), "base_ratio")])


@xl_udf(
    {
        "as_of": "When (UTC): a date or date and time; blank = now",
        "days_before": "The window opens this many days before an event (default 3)",
        "hours_after": "...and closes this many hours after it (default 24)",
        "floor": "Minimum ratio inside a window (default 0.8)",
        "events": "Event dates and times (UTC), or two columns: name, date; blank = the shipped FOMC decisions",
    },
)
def EVENT_NOTE(as_of=None, days_before=3, hours_after=24, floor=0.8, events=None):
    """Why the event rule applies ("FOMC 2026-12-09 19:00 UTC in 2.3 days: at least 80%"), else the next event."""
    names, times = event_list(events)
    when = cell_time(as_of, "as_of")
    low = cell_number(floor, "floor", 0.8)
    before = cell_number(days_before, "days_before", 3.0)
    i = int(engine.event_window_index(when, times, before, cell_number(hours_after, "hours_after", 24.0)))
    inside = i >= 0
    if not inside:  # say what comes next, so the cell is never silently empty
        upcoming = np.flatnonzero(times >= when)
        if not upcoming.size:
            return "No upcoming event: add dates to the Events table"
        i = int(upcoming[np.argmin(times[upcoming])])
    hours = float((times[i] - when) / np.timedelta64(1, "h"))
    stamp = np.datetime_as_string(times[i], unit="m").replace("T", " ")
    span = f"{abs(hours) / 24:.1f} days" if abs(hours) >= 48 else f"{abs(hours):.0f} hours"
    timing = f"in {span}" if hours >= 0 else f"{span} ago"
    if inside:
        return f"{names[i]} {stamp} UTC {timing}: at least {low:.0%}"
    return f"Next: {names[i]} {stamp} UTC {timing}; {low:.0%} from {before:g} days before"


@xl_udf(
    {
        "base_ratio": "The ratio without the signal, e.g. =HEDGE_RATIO(...)",
        "funding_rate": "Current funding rate per interval (the signal needs it > 0: longs pay shorts)",
        "percentile": "Where that rate sits in its own recent history: 0.95 = above 95% of it",
        "oi_change": "Open interest change over the look-back, 0.1 = +10% (blank = not published)",
        "bump": "Added to the ratio when the longs look crowded (default 0.1)",
        "min_percentile": "Funding at or above this percentile of its history (default 0.9)",
        "min_oi_rise": "...and open interest up by at least this (default 0.1)",
        "max_ratio": "Highest ratio allowed (default 1.0)",
    },
    ranges=("base_ratio", "funding_rate", "percentile", "oi_change"),
)
def CROWDED_RATIO(base_ratio, funding_rate, percentile, oi_change=None, bump=0.1, min_percentile=0.9,
                  min_oi_rise=0.1, max_ratio=1.0):
    """Hedge ratio raised by bump when longs look crowded: positive funding high for its own history
    and open interest growing (funding alone where no open-interest history is published)."""
    step = cell_number(bump, "bump", 0.1)
    low_pct = cell_number(min_percentile, "min_percentile", 0.9)
    rise = cell_number(min_oi_rise, "min_oi_rise", 0.1)
    cap = cell_number(max_ratio, "max_ratio", 1.0)
    base = cell_array(base_ratio, "base_ratio")
    optional = [CellArray(np.asarray(np.nan), 0) if is_blank(unwrap_single(v)) else cell_array(v, name)
                for v, name in ((funding_rate, "funding_rate"), (percentile, "percentile"),
                                (oi_change, "oi_change"))]
    b, r, p, o = broadcast((base, "base_ratio"), *zip(optional, ("funding_rate", "percentile", "oi_change"),
                                                       strict=True))
    result = engine.crowded_ratio(b, r, p, o, step, low_pct, rise, cap)
    shapes = (CellArray(np.zeros(a.values.shape), a.ndim) for a in optional)  # their layout, never blank
    return to_cells(result, base, *shapes)  # empty only where the base ratio is


@xl_udf(
    {
        "notional": "USD notional of the short",
        "funding_rate": "The venue's funding rate per its interval, e.g. 0.0001",
        "interval_hours": "The venue's hours between payments (default 8)",
        "horizon_days": f"Days the short is held (default {D.HORIZON_DAYS})",
        "taker_fee": f"The venue's taker fee per trade, fraction of the notional (default {D.TAKER_FEE:g})",
    },
    ranges=("notional", "funding_rate", "interval_hours", "taker_fee"),
)
def VENUE_COST(notional, funding_rate, interval_hours=8, horizon_days=D.HORIZON_DAYS, taker_fee=D.TAKER_FEE):
    """USD a short costs at a venue over the horizon: funding plus the taker fees to open and close it
    (> 0 you pay, < 0 you earn)."""
    days = cell_number(horizon_days, "horizon_days", D.HORIZON_DAYS)
    return _elementwise(
        lambda n, r, h, f: engine.venue_cost(n, r, h, days, f),
        [
            (cell_array(notional, "notional"), "notional"),
            (cell_array(funding_rate, "funding_rate"), "funding_rate"),
            (cell_array(interval_hours, "interval_hours", 8.0), "interval_hours"),
            (cell_array(taker_fee, "taker_fee", D.TAKER_FEE), "taker_fee"),
        ],
    )


@xl_udf(
    {
        "coins": "The coin of each row: rows of one coin compete",
        "costs": "USD cost over the horizon of each row (VENUE_COST; blank: no rate there)",
        "contracts": "Contracts of the order at each venue (HEDGE_CONTRACTS)",
        "min_qty": "Each venue's smallest order, contracts (blank: none published)",
        "min_notional": "Each venue's smallest order, USD (blank: none published)",
        "notional": "USD notional of the short",
        "open_interest": "Each venue's open interest, USD (blank: not published)",
        "max_oi_share": f"Largest share of a venue's open interest the short may be (default {D.MAX_OI_SHARE:g})",
    },
    ranges=("coins", "costs", "contracts", "min_qty", "min_notional", "notional", "open_interest"),
    rowwise=(),
)
def VENUE_BEST(coins, costs, contracts, min_qty=None, min_notional=None, notional=None, open_interest=None,
               max_oi_share=D.MAX_OI_SHARE):
    """Per row: "best" for each coin's cheapest venue whose order meets the minimum and stays within the
    open-interest cap, why a venue cannot be chosen ("below the minimum" ...), else blank."""
    share = cell_number(max_oi_share, "max_oi_share", D.MAX_OI_SHARE)  # (> 0: the engine's check)
    names, ndim = cell_texts(coins, "coins")
    numbers = [cell_array(v, n, float("nan")).values for v, n in (
        (costs, "costs"), (contracts, "contracts"), (min_qty, "min_qty"), (min_notional, "min_notional"),
        (notional, "notional"), (open_interest, "open_interest"))]
    try:
        names, cost, count, least, least_usd, usd, oi = np.broadcast_arrays(names, *numbers)
    except ValueError:
        raise CellError("ranges of different sizes") from None
    meets = engine.meets_minimum(np.nan_to_num(count, nan=0.0), least, least_usd, usd)
    marks = engine.best_venues(names.ravel(), cost.ravel(), np.ravel(meets), usd.ravel(), oi.ravel(), share)
    out = np.where((names.ravel() == "") | np.isnan(usd.ravel()), None, marks).reshape(names.shape)
    return text_cells(out, ndim)


@xl_udf(
    {
        "values": "A column of cells",
        "times": "How many times to repeat each (or, with whole TRUE, the whole column)",
        "whole": "FALSE (default): a, a, b, b; TRUE: a, b, a, b",
    },
    ranges=("values",),
    rowwise=(),
)
def REPEAT_ROWS(values, times, whole=False):
    """A column with each cell repeated ``times`` times (the Venues sheet: one row per venue for each
    coin), or the whole column repeated; blank cells stay blank."""
    n = cell_number(times, "times")
    if not (n >= 1 and float(n).is_integer() and n <= 1000):
        raise CellError(f"times must be a whole number from 1 to 1000 (got {n:g})")
    cells, _ = cell_values(values, "values")
    column = cells.reshape(-1)
    out = np.tile(column, int(n)) if cell_bool(whole, "whole") else np.repeat(column, int(n))
    return [[v] for v in out.tolist()]


@xl_udf(
    {
        "keys": "The keys to look up, e.g. a column of binance|BTC",
        "lookup_keys": "The range the keys are found in (first match, any case)",
        "values": "The range beside it whose values are returned",
        "if_missing": "What a key not found, or a blank value, gives: one cell, or one per key (default: a "
                      "blank cell)",
    },
    ranges=("keys", "lookup_keys", "values"),
    rowwise=(),
)
def LOOKUP_VALUES(keys, lookup_keys, values, if_missing=None):
    """For each key, the value beside its first match in lookup_keys (INDEX/MATCH for a whole column in
    one call); a key not found, or a blank value, gives if_missing (one cell or one per key; default: a
    blank cell)."""
    wanted, ndim = cell_texts(keys, "keys")
    fallback, fallback_ndim = cell_values(if_missing, "if_missing")
    if fallback_ndim and fallback.size != wanted.size:
        raise CellError(f"if_missing must be one cell or one per key ({fallback.size} for {wanted.size} keys)")
    missing = fallback.reshape(wanted.shape) if fallback_ndim else np.full(wanted.shape, fallback.item(),
                                                                           dtype=object)
    found, _ = cell_texts(lookup_keys, "lookup_keys")
    beside, _ = cell_values(values, "values")
    found, beside = found.reshape(-1), beside.reshape(-1)
    if found.size != beside.size:
        raise CellError(f"lookup_keys and values differ in size ({found.size} and {beside.size})")
    position: dict[str, int] = {}
    for i, key in enumerate(found):
        if key:
            position.setdefault(key.casefold(), i)
    out = np.empty(wanted.shape, dtype=object)
    for idx, key in np.ndenumerate(wanted):
        i = position.get(key.casefold()) if key else None
        out[idx] = missing[idx] if i is None or beside[i] is None else beside[i]
    if ndim == 0:
        return "" if out.item() is None else out.item()
    return text_cells(out, ndim)  # the cells as found: numbers stay numbers


#: Every Excel function of this module, by its Excel name.
UDFS = {
    f.__name__: f
    for f in (
        HEDGE_RATIO,
        FUNDING_COST,
        BETA_HEDGE,
        BETA_STATS,
        FUNDING_APR,
        HEDGE_PNL,
        HEDGE_CONTRACTS,
        HEDGE_ORDER,
        HEDGE_REBALANCE,
        LIQ_PRICE,
        HEDGE_PLAN,
        EVENT_RATIO,
        EVENT_NOTE,
        CROWDED_RATIO,
        VENUE_COST,
        VENUE_BEST,
        REPEAT_ROWS,
        LOOKUP_VALUES,
    )
}
