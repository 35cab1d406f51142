"""The sheet specification: each table column of the Portfolio and Hedge sheets declared once, with
its key, header, width, number format and formula.

The builder writes headers, widths, formats and formulas from here; the model computes the same
formulas (:mod:`xlhedge.workbook.formula`); ``plan``, the refresh, the backtest and the tests find
columns by key (``HEDGE_COL["short_notional"]`` -> ``"J"``). A column's letter is its place in the
list, so adding a column is one entry: the columns after it move along by themselves.

The hedge ratio's formula is generated from the engine's hedge-target policy
(:data:`xlhedge.engine.policy.RULES`): one rule after the other, each behind its Settings switch.
"""

from __future__ import annotations

from dataclasses import dataclass

from xlhedge.engine import defaults as D
from xlhedge.engine.crowding import FUNDING_LOOKBACK_DAYS, OI_CHANGE_DAYS
from xlhedge.engine.policy import RULES
from xlhedge.engine.ratios import OUTLOOK_BANDS
from xlhedge.engine.venues import BEST as BEST_VENUE
from xlhedge.workbook import layout as L
from xlhedge.workbook import messages as M
from xlhedge.workbook.formula import (
    ABS,
    AND,
    COUNT,
    IF,
    IFERROR,
    INDEX,
    ISNUMBER,
    ISTEXT,
    LOWER,
    MATCH,
    MIN,
    NOT,
    SUM,
    TRIM,
    UPPER,
    At,
    Cell,
    Each,
    Expr,
    Lit,
    Name,
    Ref,
    Tiled,
    Total,
    Where,
    eq,
    ge,
    gt,
    lt,
)
from xlhedge.workbook.formula import udf as _udf
from xlhedge.workbook.layout import letter


def setting(name: str) -> Expr:
    """A Settings value as the formulas read it: an empty cell is the setting's default
    (``L.SETTING_DEFAULT``, the same default plan and the backtest use), so a function is never handed an
    empty cell, which Excel's clients pass differently (xlwings desktop: nothing; Office.js: null, or 0
    in older desktop builds)."""
    default = L.SETTING_DEFAULT[name]
    return IF(eq(Name(name), ""), default, Name(name))


def udf(name: str, *args) -> Expr:
    """A call of an xlhedge function; a Settings name among its arguments is read with :func:`setting`."""
    return _udf(name, *(setting(a.name) if isinstance(a, Name) and L.SETTING_DEFAULT.get(a.name) is not None
                        else a for a in args))


@dataclass(frozen=True)
class Column:
    """One column of a sheet's table.

    ``fmt``: the builder's format name; ``formula``: None for a column a user types in;
    ``array``: written as one array formula over the whole column (each xlhedge function in it is
    called once for all rows); ``total``: the total row's formula, ``total_fmt`` its format.
    """

    key: str
    header: str
    width: float
    fmt: str
    formula: Expr | None = None
    array: bool = False
    total: Expr | None = None
    total_fmt: str = "total_blank"


def p(key: str) -> Ref:
    """A Portfolio cell of the formula's row."""
    return Ref(L.PORTFOLIO, key)


def h(key: str) -> Ref:
    """A Hedge cell of the formula's row."""
    return Ref(L.HEDGE, key)


def _sum(sheet: str, key: str) -> Expr:
    return SUM(Ref(sheet, key))


# ---------------------------------------------------------------- lookups into the Funding sheet

#: Ranges the formulas look things up in: defined name -> (sheet, column letter, first row, last row).
RANGES = {
    **{name: (L.FUNDING, L.FUNDING_COL[key], L.FUNDING_FIRST_ROW, L.FUNDING_LAST_ROW) for name, key in (
        ("FundingKeys", "key"), ("SymbolKeys", "symbol_key"), ("FundingRates", "funding_rate"),
        ("FundingIntervals", "interval_hours"), ("MarkPrices", "mark_price"), ("Bases", "basis"),
        ("Symbols", "symbol"), ("Margins", "margin"), ("ContractSizes", "contract_size"), ("LotSteps", "lot_step"),
        ("MinQtys", "min_qty"), ("MinNotionals", "min_notional"), ("NextFundings", "next_funding_time"),
        ("PredictedRates", "predicted_rate"), ("OpenInterests", "open_interest_usd"),
        ("PublishedTiers", "maintenance_tiers"))},
    "FeeExchanges": (L.SETTINGS, L.FEE_COLUMNS[0], L.FEE_FIRST_ROW, L.FEE_LAST_ROW),
    "TakerFees": (L.SETTINGS, L.FEE_COLUMNS[1], L.FEE_FIRST_ROW, L.FEE_LAST_ROW),
    "TierContracts": (L.SETTINGS, L.TIER_COLUMNS[0], L.TIER_FIRST_ROW, L.TIER_LAST_ROW),
    "TierTables": (L.SETTINGS, L.TIER_COLUMNS[1], L.TIER_FIRST_ROW, L.TIER_LAST_ROW),
    "BetaR2": (L.FUNDING, L.BETA_COLUMNS[2][1], L.BETA_FIRST_ROW, L.BETA_LAST_ROW),
    "BetaKeys": (L.FUNDING, L.BETA_COLUMNS[0][1], L.BETA_FIRST_ROW, L.BETA_LAST_ROW),
    "BetaValues": (L.FUNDING, L.BETA_COLUMNS[1][1], L.BETA_FIRST_ROW, L.BETA_LAST_ROW),
    **{name: (L.FUNDING, col, L.CROWD_FIRST_ROW, L.CROWD_LAST_ROW) for name, col in (
        (name, next(c for k, c, _ in L.CROWD_COLUMNS if k == key)) for name, key in (
            ("CrowdKeys", "key"), ("CrowdPercentiles", "funding_percentile"), ("CrowdOIChanges", "oi_change")))},
}
#: The Events table (two columns: name, time) on the Settings sheet.
EVENT_RANGE = ("EventList", L.SETTINGS, L.EVENTS_COLUMNS[0], L.EVENTS_COLUMNS[1], L.EVENTS_FIRST_ROW,
               L.EVENTS_LAST_ROW)


def funding_lookup(values: str, key: Expr) -> Expr:
    """The Funding column ``values`` at the contract ``key`` names: the coin's hedge contract
    (``FundingKeys``, e.g. "binance|BTC"), else an exact symbol (``SymbolKeys``, "binance|BTCUSDC").
    The same rule as :func:`xlhedge.market.contracts.resolve`."""
    return INDEX(Name(values), IFERROR(MATCH(key, Name("FundingKeys"), 0), MATCH(key, Name("SymbolKeys"), 0)))


def crowd_lookup(values: str, key: Expr) -> Expr:
    return IFERROR(INDEX(Name(values), MATCH(key, Name("CrowdKeys"), 0)), "")


def yes(setting: str) -> Expr:
    """A yes/no setting is on."""
    return eq(Name(setting), "yes")


# ---------------------------------------------------------------- Portfolio

#: The row's exchange as typed (lower case), else the default exchange; "best": the Venues sheet picks.
_typed_exchange = IF(eq(p("exchange"), ""), Name("DefaultExchange"), LOWER(TRIM(p("exchange"))))
_best_exchange = eq(TRIM(p("exchange")), L.BEST)
#: The row's exchange for its price: a "best" row's is the default exchange (the venues are compared at it).
_exchange = IF(_best_exchange, Name("DefaultExchange"), _typed_exchange)
_not_asset = eq(p("asset"), "")

PORTFOLIO_COLUMNS = (
    Column("asset", "Asset", 12, "in_text"),
    Column("quantity", "Quantity", 12, "in_num"),
    Column("typed_price", "Value at, optional (overrides the mark)", 18, "in_usd"),
    # ISTEXT first: Excel's ISNUMBER("5") is FALSE, some evaluators say TRUE; both agree on ISTEXT
    Column("price", "Price used", 14, "price", IF(
        _not_asset, "", IF(ISTEXT(p("typed_price")), "", IF(
            ISNUMBER(p("typed_price")), p("typed_price"),
            IFERROR(funding_lookup("MarkPrices", _exchange & "|" & UPPER(TRIM(p("asset")))), ""))))),
    Column("hedge_with", "Hedge with", 13, "in_text"),
    Column("beta", "Beta to BTC", 11, "in_num"),
    Column("exchange", "Exchange (blank = default; best = Venues sheet's)", 16, "in_text"),
    Column("current_short", "Short already held (USD)", 16, "in_usd"),
    Column("spot_value", "Spot value (USD)", 17, "usd", IF(
        _not_asset, "", IF(ISTEXT(p("quantity")), M.MSG_QTY_TEXT, IF(ISTEXT(p("typed_price")), M.MSG_PRICE_TEXT, IF(
            NOT(ISNUMBER(p("quantity"))), "", IF(lt(p("quantity"), 0), M.MSG_QTY_NEGATIVE, IF(
                # > 0 too: a blank mark the refresh could not fetch is picked as 0 (Excel shows a blank
                # cell's reference as 0), and a price of 0 is no price
                AND(ISNUMBER(p("price")), gt(p("price"), 0)), p("quantity") * p("price"),
                Lit(M.MSG_NO_PRICE) & _exchange & M.MSG_NO_PRICE_TAIL))))))),
    Column("beta_used", "Beta used (typed, else estimated)", 16, "num", IF(
        _not_asset, "", IF(ISTEXT(p("beta")), "", IF(
            ISNUMBER(p("beta")), p("beta"),
            IFERROR(INDEX(Name("BetaValues"), MATCH(UPPER(TRIM(p("asset"))), Name("BetaKeys"), 0)), ""))))),
)
#: Portfolio column letter by key ("quantity" -> "B").
PORTFOLIO_COL = {c.key: letter(i) for i, c in enumerate(PORTFOLIO_COLUMNS)}
#: Input columns of the Portfolio table (what a user types; never written by code).
PORTFOLIO_INPUTS = tuple(c.key for c in PORTFOLIO_COLUMNS if c.formula is None)
#: The cash cell (typed) and the portfolio total under the table.
CASH_CELL = f"{PORTFOLIO_COL['spot_value']}{L.CASH_ROW}"
PORTFOLIO_TOTAL_CELL = f"{PORTFOLIO_COL['spot_value']}{L.CASH_ROW + 1}"
PORTFOLIO_TOTAL = SUM(p("spot_value")) + Cell(L.PORTFOLIO, CASH_CELL)

# ---------------------------------------------------------------- Hedge: the hedge ratio

_blank = eq(h("asset"), "")
_key = h("exchange") & "|" & h("perp")


def _funding_rule(_previous=None) -> Expr:
    return udf("HEDGE_RATIO", Name("Outlook"), Name("Conviction"), IF(yes("FundingAdjust"), h("funding_rate"), ""),
               h("interval_hours"), Name("FundingThreshold"), Name("Adjustment"), Name("MaxRatio"))


def _crowded_rule(previous: Expr) -> Expr:
    return IF(yes("CrowdedRule"), udf("CROWDED_RATIO", previous, h("funding_rate"), h("funding_percentile"),
                                      h("oi_change"), Name("CrowdedBump"), Name("CrowdedPercentile"),
                                      Name("CrowdedOIRise"), Name("MaxRatio")), previous)


def _event_rule(previous: Expr) -> Expr:
    return IF(yes("EventRule"), udf("EVENT_RATIO", previous, "", Name("EventDaysBefore"), Name("EventHoursAfter"),
                                    Name("EventFloor"), Name("EventList")), previous)


#: Each rule of the engine's hedge-target policy as a formula, applied to the ratio before it.
RULE_FORMULAS = {"funding": _funding_rule, "crowded": _crowded_rule, "events": _event_rule}


def hedge_target_formula() -> Expr:
    """The hedge ratio: the engine's rules (:data:`xlhedge.engine.policy.RULES`) in their order."""
    ratio = None
    for rule in RULES:
        ratio = RULE_FORMULAS[rule](ratio)
    return ratio


# ---------------------------------------------------------------- Hedge

def _unless_blank(expr) -> Expr:
    return IF(_blank, "", expr)


_btc_perp = eq(h("hedge_with"), L.BTC_PERP)
_short = h("spot_value") * h("hedge_ratio")
_crowd_fires = gt(udf("CROWDED_RATIO", 0, h("funding_rate"), h("funding_percentile"), h("oi_change"), 1,
                      Name("CrowdedPercentile"), Name("CrowdedOIRise"), 1), 0)
_crowded = IF(ISNUMBER(h("funding_percentile")), IF(_crowd_fires, IF(yes("CrowdedRule"), M.MSG_CROWDED_ON,
                                                                    M.MSG_CROWDED_OFF), "no"), M.MSG_CROWD_UNKNOWN)
_check = (IF(AND(ISNUMBER(h("basis")), ISNUMBER(Name("BasisWarn"))), IF(
    gt(ABS(h("basis")), Name("BasisWarn")), IF(gt(h("basis"), 0), M.MSG_BASIS_ABOVE, M.MSG_BASIS_BELOW), ""), "")
    & IF(AND(ISNUMBER(h("r2_btc")), ISNUMBER(Name("R2Warn"))), IF(lt(h("r2_btc"), Name("R2Warn")),
                                                                   M.MSG_WEAK_CROSS, ""), ""))
def _venue_number(values: str) -> Expr:
    """A number the Funding table holds for the row's hedge contract (its order rules), else blank."""
    found = funding_lookup(values, _key)
    return _unless_blank(IFERROR(IF(ISNUMBER(found), found, ""), ""))


def _venue_text(values: str) -> Expr:
    """A text the Funding table holds for the row's hedge contract, else blank."""
    return _unless_blank(IFERROR(funding_lookup(values, _key) & "", ""))


_inverse = eq(h("margin_type"), "inverse")
#: The tiers typed on Settings for the row's contract (exchange|symbol), else "".
_typed_tiers = IFERROR(INDEX(Name("TierTables"), MATCH(h("exchange") & "|" & h("symbol"), Name("TierContracts"), 0))
                       & "", "")


def _tiered_liquidation(row) -> Expr:
    """LIQ_PRICE of a row's short (``row``: :func:`h` or :func:`v`) at the Settings leverage, on the tier of its
    coins (short / mark) in the row's maintenance tiers (blank: the flat rate)."""
    return udf("LIQ_PRICE", row("mark_price"), Name("Leverage"), Name("MaintenanceMargin"), "short",
               IFERROR(row("short_notional") / row("mark_price"), ""), "", "", "", row("maintenance_tiers"))


def _with_short_and_mark(expr):
    return (IF(ISNUMBER(h("short_notional")), IF(ISNUMBER(h("mark_price")), expr, ""), ""))

HEDGE_COLUMNS = (
    Column("asset", "Asset", 10, "out_text", IF(eq(p("asset"), ""), "", UPPER(TRIM(p("asset"))))),
    Column("spot_value", "Spot value", 14, "usd", _unless_blank(p("spot_value")),
           total=_sum(L.HEDGE, "spot_value"), total_fmt="total_usd"),
    Column("hedge_with", "Hedge with", 11, "out_text",
           _unless_blank(IF(eq(p("hedge_with"), L.BTC_PERP), L.BTC_PERP, L.OWN_PERP))),
    Column("perp", "Perp", 8, "out_text", _unless_blank(IF(_btc_perp, "BTC", h("asset")))),
    Column("exchange", "Exchange", 12, "out_text", _unless_blank(IF(
        _best_exchange, IFERROR(INDEX(Name("BestVenues"), MATCH(h("asset"), Name("BestKeys"), 0)),
                                Name("DefaultExchange")), _typed_exchange))),
    Column("funding_rate", "Funding rate / interval", 13, "rate",
           _unless_blank(IFERROR(funding_lookup("FundingRates", _key), ""))),
    Column("interval_hours", "Interval (h)", 9, "hours",
           _unless_blank(IFERROR(funding_lookup("FundingIntervals", _key), 8))),
    Column("hedge_ratio", "Hedge ratio", 10, "pct", _unless_blank(hedge_target_formula()), array=True,
           total=IF(gt(Total(L.HEDGE, "spot_value"), 0), Total(L.HEDGE, "short_notional") /
                    Total(L.HEDGE, "spot_value"), ""), total_fmt="total_pct"),
    Column("beta", "Beta", 8, "num", _unless_blank(IF(_btc_perp, p("beta_used"), 1))),
    Column("short_notional", "Short notional (USD)", 15, "usd", _unless_blank(IF(
        ISNUMBER(h("spot_value")), IF(_btc_perp, IF(ISNUMBER(h("beta")), udf("BETA_HEDGE", _short, h("beta")),
                                                    M.MSG_NO_BETA), _short), "")), array=True,
           total=_sum(L.HEDGE, "short_notional"), total_fmt="total_usd"),
    Column("mark_price", "Mark price", 13, "price", _unless_blank(IF(
        eq(h("hedge_with"), L.OWN_PERP), IF(ISNUMBER(p("price")), p("price"), ""),
        IFERROR(funding_lookup("MarkPrices", _key), "")))),
    Column("symbol", "Contract", 15, "out_text", _venue_text("Symbols")),
    Column("margin_type", "Margin", 8, "out_text", _venue_text("Margins")),
    Column("contract_size", "Contract size (coins; USD if inverse)", 11, "num", _venue_number("ContractSizes")),
    Column("lot_step", "Order step (contracts)", 11, "num", _venue_number("LotSteps")),
    Column("min_qty", "Smallest order (contracts)", 11, "num", _venue_number("MinQtys")),
    Column("min_notional", "Smallest order (USD)", 9, "usd", _venue_number("MinNotionals")),
    Column("contracts", "Contracts (the venue's units)", 12, "num", _with_short_and_mark(
        udf("HEDGE_CONTRACTS", h("short_notional"), h("mark_price"), h("contract_size"), h("lot_step"),
            h("margin_type"))), array=True),
    Column("order", "Order to place", 44, "out_text", _with_short_and_mark(
        udf("HEDGE_ORDER", h("contracts"), h("lot_step"), h("symbol"), h("exchange"), h("contract_size"),
            h("margin_type"), h("perp"), h("min_qty"), h("min_notional"), h("short_notional"))), array=True),
    Column("margin", "Margin at leverage", 13, "usd",
           IF(ISNUMBER(h("short_notional")), h("short_notional") / setting("Leverage"), ""),
           total=_sum(L.HEDGE, "margin"), total_fmt="total_usd"),
    Column("maintenance_tiers", "Maintenance tiers (blank: flat rate)", 16,
           "out_text", _unless_blank(IF(eq(_typed_tiers, ""), IFERROR(funding_lookup("PublishedTiers", _key) & "", ""),
                                        _typed_tiers))),
    Column("liquidation_price", "Liquidation price (tier of the short's size)", 14, "price2",
           _with_short_and_mark(_tiered_liquidation(h)), array=True),
    Column("funding_cost", "Funding cost over horizon (<0 = you earn)", 17, "cost", IF(
        ISNUMBER(h("short_notional")), IF(ISNUMBER(h("funding_rate")), udf(
            "FUNDING_COST", h("short_notional"), h("funding_rate"), h("interval_hours"), Name("HorizonDays")),
            M.MSG_NO_RATE), ""), array=True, total=_sum(L.HEDGE, "funding_cost"), total_fmt="total_cost"),
    Column("funding_apr", "Funding APR (longs pay shorts)", 13, "apr", IF(
        ISNUMBER(h("funding_rate")), udf("FUNDING_APR", h("funding_rate"), h("interval_hours")), ""), array=True),
    Column("short_held", "Short held now", 13, "usd", _unless_blank(IF(
        ISTEXT(p("current_short")), 0, IF(ISNUMBER(p("current_short")), p("current_short"), 0))),
           total=_sum(L.HEDGE, "short_held"), total_fmt="total_usd"),
    Column("rebalance", "Rebalance: add to short (USD)", 15, "usd", IF(
        ISNUMBER(h("short_notional")), IF(ISNUMBER(h("spot_value")), IF(gt(h("spot_value"), 0), udf(
            "HEDGE_REBALANCE", h("spot_value"), h("short_held"), h("short_notional") / h("spot_value"),
            Name("RebalanceBand")), ""), ""), ""), array=True,
           total=_sum(L.HEDGE, "rebalance"), total_fmt="total_usd"),
    Column("btc_exposure", "BTC-equivalent exposure", 15, "usd", IF(
        ISNUMBER(h("spot_value")), h("spot_value") * IF(_btc_perp, IF(ISNUMBER(h("beta")), h("beta"), 1), 1), ""),
           total=_sum(L.HEDGE, "btc_exposure"), total_fmt="total_usd"),
    Column("hedged_fraction", "Hedged fraction (coins short / coins held)", 15, "pct", IF(
        AND(ISNUMBER(h("contracts")), ISNUMBER(h("mark_price")), ISNUMBER(h("btc_exposure"))),
        IF(gt(h("btc_exposure"), 0), h("contracts") * h("contract_size") * IF(_inverse, 1, h("mark_price")) /
           h("btc_exposure"), ""), "")),
    Column("liquidation_rise", "Short liquidated by a rise of", 13, "pct", IF(
        AND(ISNUMBER(h("liquidation_price")), ISNUMBER(h("mark_price"))),
        h("liquidation_price") / h("mark_price") - 1, "")),
    Column("basis", "Basis (mark / index - 1)", 11, "basis",
           _unless_blank(IFERROR(funding_lookup("Bases", _key), ""))),
    Column("r2_btc", "R² with BTC (BTC perp)", 10, "pct", _unless_blank(IF(_btc_perp, IF(
        ISNUMBER(p("beta")), "", IFERROR(INDEX(Name("BetaR2"), MATCH(h("asset"), Name("BetaKeys"), 0)), "")), ""))),
    Column("check", "Check", 52, "warn_text", _unless_blank(_check)),
    Column("funding_percentile", f"Funding vs its last {FUNDING_LOOKBACK_DAYS} days (percentile)", 12, "pct",
           _unless_blank(crowd_lookup("CrowdPercentiles", _key))),
    Column("oi_change", f"Open interest change ({OI_CHANGE_DAYS} days)", 11, "pct",
           _unless_blank(crowd_lookup("CrowdOIChanges", _key))),
    Column("crowded", "Crowded longs?", 30, "out_text", _unless_blank(_crowded), array=True),
)
#: Hedge column letter by key ("short_notional" -> "J").
HEDGE_COL = {c.key: letter(i) for i, c in enumerate(HEDGE_COLUMNS)}
HEDGE_LAST_COL = letter(len(HEDGE_COLUMNS) - 1)

# ---------------------------------------------------------------- Venues: where to short

def v(key: str) -> Ref:
    """A Venues cell of the formula's row."""
    return Ref(L.VENUES, key)


def _hedge_row(key: str) -> Each:
    """The Hedge cell of the coin this Venues row is a venue for."""
    return Each(L.HEDGE, key, L.VENUES_PER_COIN)


_no_coin = eq(v("coin"), "")
_venue_key = v("exchange") & "|" & v("perp")


def _listed(values: str) -> Expr:
    """The Funding table's ``values`` for this row's contract (exchange|coin); blank where the venue has
    none."""
    return IF(_no_coin, "", udf("LOOKUP_VALUES", _venue_key, Name("FundingKeys"), Name(values)))


def _both(first: Expr, second: Expr, then: Expr) -> Expr:
    """``then`` where both conditions hold, else blank: nested IFs, since Excel's AND over an array
    formula's columns is one value for the whole column, not one per row."""
    return IF(first, IF(second, then, ""), "")


def _with_venue_short(expr: Expr) -> Expr:
    return _both(ISNUMBER(v("short_notional")), ISNUMBER(v("mark_price")), expr)


#: The price that turns a Venues row's short into coins: for a coin shorted with its own perp the Portfolio's
#: Price used (a typed Value at included), as on the Hedge sheet, so every venue's order is the Hedge sheet's
#: coins in that venue's units; for the BTC perp the venue's own BTC mark (the Hedge sheet's, for the venue it
#: names: it cannot read the Hedge sheet's, which follows the best venue found here).
_coins_price = IF(eq(_hedge_row("hedge_with"), L.OWN_PERP), Each(L.PORTFOLIO, "price", L.VENUES_PER_COIN),
                  v("mark_price"))


#: One row per venue for each Portfolio coin (L.VENUES_PER_COIN rows a coin, in the exchanges' order).
#: Every column is one array formula: each function in it is called once for the whole table.
VENUE_COLUMNS = (
    Column("coin", "Coin", 8, "out_text", _hedge_row("asset"), array=True),
    Column("exchange", "Venue", 11, "out_text",
           IF(_no_coin, "", Tiled("FeeExchanges", L.PORTFOLIO_ROWS)), array=True),
    Column("perp", "Short the perp of", 8, "out_text", IF(_no_coin, "", _hedge_row("perp")), array=True),
    Column("symbol", "Contract", 15, "out_text", _listed("Symbols"), array=True),
    Column("spot_value", "Spot value (USD)", 13, "usd", IF(_no_coin, "", _hedge_row("spot_value")), array=True),
    Column("beta", "Beta (1: own perp)", 8, "num", IF(_no_coin, "", _hedge_row("beta")), array=True),
    Column("short_notional", "Short at your outlook's ratio (USD)", 14, "usd", _both(
        ISNUMBER(v("spot_value")), ISNUMBER(v("beta")), v("spot_value") * At("venue_ratio") * v("beta")),
           array=True),
    Column("funding_rate", "Funding rate / interval", 12, "rate", _listed("FundingRates"), array=True),
    Column("interval_hours", "Interval (h)", 8, "hours", _listed("FundingIntervals"), array=True),
    Column("funding_8h", "Funding per 8 h (longs pay shorts)", 12, "rate", _both(
        ISNUMBER(v("funding_rate")), ISNUMBER(v("interval_hours")), v("funding_rate") * 8 / v("interval_hours")),
           array=True),
    Column("funding_apr", "Funding APR", 10, "apr", IF(ISNUMBER(v("funding_8h")), udf(
        "FUNDING_APR", v("funding_rate"), v("interval_hours")), ""), array=True),
    Column("next_funding", "Next funding (UTC)", 16, "when", _listed("NextFundings"), array=True),
    Column("predicted_rate", "Predicted next rate", 11, "rate", _listed("PredictedRates"), array=True),
    Column("basis", "Basis (mark / index - 1)", 10, "basis", _listed("Bases"), array=True),
    Column("open_interest", "Open interest (USD)", 15, "usd", _listed("OpenInterests"), array=True),
    Column("taker_fee", "Taker fee (Settings)", 9, "rate", IF(_no_coin, "", udf(
        "LOOKUP_VALUES", v("exchange"), Name("FeeExchanges"), Name("TakerFees"), float(D.TAKER_FEE))), array=True),
    Column("net_cost", "Cost over the horizon, fees in (< 0 = you earn)", 15, "cost", _both(
        ISNUMBER(v("short_notional")), ISNUMBER(v("funding_8h")), udf(
            "VENUE_COST", v("short_notional"), v("funding_rate"), v("interval_hours"), Name("HorizonDays"),
            v("taker_fee"))), array=True),
    Column("mark_price", "Mark price", 12, "price", _listed("MarkPrices"), array=True),
    Column("margin_type", "Margin", 8, "out_text", _listed("Margins"), array=True),
    Column("contract_size", "Contract size (coins; USD if inverse)", 10, "size", _listed("ContractSizes"),
           array=True),
    Column("lot_step", "Order step (contracts)", 11, "size", _listed("LotSteps"), array=True),
    Column("min_qty", "Smallest order (contracts)", 11, "size", _listed("MinQtys"), array=True),
    Column("min_notional", "Smallest order (USD)", 9, "usd", _listed("MinNotionals"), array=True),
    Column("contracts", "Contracts (the venue's units)", 12, "num", _with_venue_short(udf(
        "HEDGE_CONTRACTS", v("short_notional"), _coins_price, v("contract_size"), v("lot_step"),
        v("margin_type"))), array=True),
    Column("order", "Order to place", 64, "out_text", _with_venue_short(udf(
        "HEDGE_ORDER", v("contracts"), v("lot_step"), v("symbol"), v("exchange"), v("contract_size"),
        v("margin_type"), v("perp"), v("min_qty"), v("min_notional"), v("short_notional"))), array=True),
    # the tiers typed on Settings for this row's contract (exchange|symbol), else the venue's published ones
    Column("maintenance_tiers", "Maintenance tiers (blank: flat rate)", 14, "out_text", IF(_no_coin, "", udf(
        "LOOKUP_VALUES", v("exchange") & "|" & v("symbol"), Name("TierContracts"), Name("TierTables"),
        _listed("PublishedTiers"))), array=True),
    Column("liquidation_rise", "Short liquidated by a rise of (its tier)", 12, "pct",
           _with_venue_short(_tiered_liquidation(v) / v("mark_price") - 1), array=True),
    Column("best", "Best?", 14, "out_text", IF(_no_coin, "", udf(
        "VENUE_BEST", v("coin"), v("net_cost"), v("contracts"), v("min_qty"), v("min_notional"),
        v("short_notional"), v("open_interest"), Name("MaxOIShare"))), array=True),
    Column("best_key", "Lookup key (best venue of the coin)", 10, "out_text",
           IF(eq(v("best"), BEST_VENUE), v("coin"), ""), array=True),
)
#: Venues column letter by key.
VENUE_COL = {c.key: letter(i) for i, c in enumerate(VENUE_COLUMNS)}
VENUE_LAST_COL = letter(len(VENUE_COLUMNS) - 1)
RANGES.update({name: (L.VENUES, VENUE_COL[key], L.VENUE_FIRST_ROW, L.VENUE_LAST_ROW)
               for name, key in (("BestVenues", "exchange"), ("BestKeys", "best_key"))})

# ---------------------------------------------------------------- Scenarios

def sc(key: str) -> Ref:
    """A Scenarios cell of the formula's row."""
    return Ref(L.SCENARIOS, key)


SCENARIO_COLUMNS = (
    Column("move", "Price move", 42, "pct"),  # the moves are written by the builder (L.SCENARIO_MOVES)
    Column("unhedged", "Unhedged P&L", 16, "usd", udf("HEDGE_PNL", At("exposure"), 0, sc("move")), array=True),
    Column("hedged", "Hedged P&L", 16, "usd", udf("HEDGE_PNL", At("exposure"), At("short"), sc("move"), At("cost"),
                                                  Name("Leverage"), Name("MaintenanceMargin"), At("first_rise")),
           array=True),
    Column("adds", "What the hedge adds", 16, "usd", sc("hedged") - sc("unhedged")),
    Column("short", "Short", 34, "out_text", IF(
        AND(ISNUMBER(At("short")), ISNUMBER(At("first_rise"))),
        IF(AND(gt(At("short"), 0), ge(sc("move"), At("first_rise"))), M.MSG_LIQUIDATED, ""), "")),
)
SCENARIO_COL = {c.key: letter(i) for i, c in enumerate(SCENARIO_COLUMNS)}

# ---------------------------------------------------------------- Settings: the outlook bands

#: The outlook-band table beside the settings (columns E to H): each band and its ratio at your conviction.
BAND_COLUMNS = (
    Column("outlook", "Outlook", 11, "out_text"),
    Column("low", "Low", 8, "pct"),
    Column("high", "High", 8, "pct"),
    Column("ratio", "At your conviction", 12, "pct",
           udf("HEDGE_RATIO", Ref(L.SETTINGS, "outlook"), Name("Conviction")), array=True),
)
BAND_FIRST_COL = 4  # E
BAND_COL = {c.key: letter(BAND_FIRST_COL + i) for i, c in enumerate(BAND_COLUMNS)}

# ---------------------------------------------------------------- single formula cells


@dataclass(frozen=True)
class SingleCell:
    """A formula in one cell, read by key (``At(key)``); ``label``: written in column A beside it."""

    key: str
    sheet: str
    ref: str
    formula: Expr
    fmt: str
    label: str | None = None


#: The Hedge sheet's note on events (A3): which event the event rule applies, or the next one.
EVENT_NOTE = IF(yes("EventRule"), udf("EVENT_NOTE", "", Name("EventDaysBefore"), Name("EventHoursAfter"),
                                       Name("EventFloor"), Name("EventList")), "")
_rise = Ref(L.HEDGE, "liquidation_rise")
#: The Venues sheet's ratio: the outlook's band at your conviction (before the funding, crowding and event
#: rules, which depend on the venue), so every venue is compared at one size.
VENUE_RATIO = udf("HEDGE_RATIO", Name("Outlook"), Name("Conviction"), "", 8, Name("FundingThreshold"),
                  Name("Adjustment"), Name("MaxRatio"))
SINGLE_CELLS = (
    SingleCell("event_note", L.HEDGE, L.EVENT_NOTE_CELL, EVENT_NOTE, "event"),
    SingleCell("venue_ratio", L.VENUES, "E3", VENUE_RATIO, "pct", "Hedge ratio compared (your outlook's):"),
    SingleCell("portfolio_total", L.PORTFOLIO, PORTFOLIO_TOTAL_CELL, PORTFOLIO_TOTAL, "total_usd"),
    SingleCell("exposure", L.SCENARIOS, "B4", Total(L.HEDGE, "btc_exposure"), "usd", "Exposure (USD, BTC-equivalent)"),
    SingleCell("short", L.SCENARIOS, "B5", Total(L.HEDGE, "short_notional"), "usd", "Short notional (USD)"),
    SingleCell("cost", L.SCENARIOS, "B6", Total(L.HEDGE, "funding_cost"), "cost",
               "Funding cost over horizon (USD, <0 = earned)"),
    SingleCell("first_rise", L.SCENARIOS, "B7", IF(eq(COUNT(_rise), 0), "", MIN(_rise)), "pct",
               "Shorts liquidated by a rise of"),
)
SINGLE_CELL = {c.key: c for c in SINGLE_CELLS}

# ---------------------------------------------------------------- where things are

#: Where each table is: sheet -> (first row, rows, key -> letter); what formulas are written against.
TABLES = {
    L.PORTFOLIO: (L.PORTFOLIO_FIRST_ROW, L.PORTFOLIO_ROWS, PORTFOLIO_COL),
    L.HEDGE: (L.HEDGE_FIRST_ROW, L.PORTFOLIO_ROWS, HEDGE_COL),
    L.SCENARIOS: (L.SCENARIO_FIRST_ROW, len(L.SCENARIO_MOVES), SCENARIO_COL),
    L.SETTINGS: (L.SETTINGS_FIRST_ROW, len(OUTLOOK_BANDS), BAND_COL),
    L.VENUES: (L.VENUE_FIRST_ROW, L.VENUE_ROWS, VENUE_COL),
}
TOTAL_ROW = {L.HEDGE: L.HEDGE_TOTAL_ROW}


def where(sheet: str, row: int | None) -> Where:
    """Where a formula of ``sheet`` is written: ``row`` its offset in the sheet's table (None: the whole
    column, or a single cell)."""
    return Where(sheet, row, TABLES, TOTAL_ROW, {c.key: (c.sheet, c.ref) for c in SINGLE_CELLS})


def columns(sheet: str) -> tuple[Column, ...]:
    """The columns of ``sheet``'s table (on Settings: the outlook bands)."""
    return {L.PORTFOLIO: PORTFOLIO_COLUMNS, L.HEDGE: HEDGE_COLUMNS, L.SCENARIOS: SCENARIO_COLUMNS,
            L.SETTINGS: BAND_COLUMNS, L.VENUES: VENUE_COLUMNS}[sheet]
