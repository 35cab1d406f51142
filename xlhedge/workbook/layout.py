"""Where things are in the xlhedge workbook: the contract between the template
builder, the refresh (Excel and headless) and ``xlhedge plan``.

Rows and columns are 1-based as in Excel.
"""

from __future__ import annotations

from dataclasses import dataclass

from xlhedge.backtest import DATA_SOURCES
from xlhedge.engine import defaults as D
from xlhedge.engine.crowding import FUNDING_LOOKBACK_DAYS, OI_CHANGE_DAYS
from xlhedge.market.crowding import COLUMNS as CROWD_MEASURES
from xlhedge.market.exchanges import EXCHANGES  # the drop-downs and checks read L.EXCHANGES

SHEETS = ("Start", "Portfolio", "Hedge", "Venues", "Scenarios", "Backtest", "Funding", "Settings", "xlwings.conf")

# ---------------------------------------------------------------- Portfolio
PORTFOLIO = "Portfolio"
PORTFOLIO_HEADER_ROW = 4
PORTFOLIO_FIRST_ROW = 5
PORTFOLIO_ROWS = 20
PORTFOLIO_LAST_ROW = PORTFOLIO_FIRST_ROW + PORTFOLIO_ROWS - 1
CASH_ROW = PORTFOLIO_LAST_ROW + 2
#: The Portfolio table's columns (key, header, width, format, formula): xlhedge.workbook.spec.
HEDGE_WITH = ("own perp", "BTC perp")
OWN_PERP, BTC_PERP = HEDGE_WITH  # a Portfolio row's "Hedge with" choices
BEST = "best"  # a Portfolio row's exchange: the Venues sheet's best venue for the coin
YES_NO = ("yes", "no")  # the choices of a yes/no switch (Settings, Backtest sheet)

#: What a Portfolio row's exchange may name (its drop-down, and what the readers accept).
ROW_EXCHANGES = (*EXCHANGES, BEST)

# ---------------------------------------------------------------- Settings
SETTINGS = "Settings"
SETTINGS_FIRST_ROW = 4


@dataclass(frozen=True)
class Setting:
    name: str  # defined name
    label: str
    default: object
    fmt: str  # "text", "pct", "pct4", "num", "int", "usd"
    note: str


SETTING_LIST = (
    Setting("Outlook", "Market outlook", "neutral", "text",
            "bearish, neutral or bullish: picks the hedge-ratio band below"),
    Setting("Conviction", "Conviction (0 = low end, 1 = high end)", 0.5, "num",
            "Where inside the band to sit"),
    Setting("FundingAdjust", "Adjust for funding?", "yes", "text",
            "yes: trim the hedge when the short pays a lot, extend it when it is paid a lot"),
    Setting("FundingThreshold", "Funding threshold (short's cost per 8h)", D.FUNDING_THRESHOLD, "pct4",
            "0.05% per 8h: beyond this the ratio is adjusted"),
    Setting("Adjustment", "Adjustment", D.FUNDING_ADJUSTMENT, "pct", "Trim or extend the ratio by this fraction"),
    Setting("MaxRatio", "Maximum hedge ratio", 1.0, "pct",
            "Per coin: 100% = short at most its exposure (coins held; BTC perp: value x beta)"),
    Setting("Leverage", "Leverage on the short", D.LEVERAGE, "num", "Low leverage keeps liquidation far away"),
    Setting("MaintenanceMargin", "Maintenance margin rate", D.MAINTENANCE_MARGIN, "pct4",
            "From the exchange's margin tiers (0.4% is typical for small BTC positions)"),
    Setting("HorizonDays", "Horizon (days)", D.HORIZON_DAYS, "int", "How long you expect to hold the hedge"),
    Setting("RebalanceBand", "Rebalance band", D.REBALANCE_BAND, "pct", "Trade only when the ratio is this far off"),
    Setting("DefaultExchange", "Default exchange", "binance", "text",
            "Where shorts are held unless a Portfolio row names an exchange (or best)"),
    Setting("MaxOIShare", "Largest share of a venue's open interest", D.MAX_OI_SHARE, "pct4",
            "The 'best' venue: your short at most this share of its open interest"),
    Setting("RefreshExchanges", "Exchanges to refresh", "all", "text",
            "all, or some of binance, bybit, okx, hyperliquid, bingx, mexc, weex"),
    Setting("EventRule", "Hedge more around events?", "yes", "text",
            "yes: around each event in the Events table (right) the ratio is at least the floor"),
    Setting("EventDaysBefore", "Event window opens (days before)", 3, "num",
            "From this many days before an event..."),
    Setting("EventHoursAfter", "Event window closes (hours after)", 24, "num", "...until this many hours after it"),
    Setting("EventFloor", "Minimum ratio around an event", 0.8, "pct", "The article suggests 80% to 100%"),
    Setting("BasisWarn", "Warn when the basis is beyond", 0.005, "pct4",
            "Perp mark vs spot index: a wide gap adds to or takes from the hedge"),
    Setting("R2Warn", "Warn when R² with BTC is below", 0.5, "pct",
            "For coins hedged with BTC: the share of their moves BTC explains"),
    Setting("CrowdedRule", "Hedge more when longs look crowded?", "no", "text",
            "yes: hedge more when funding is unusually high and open interest grows"),
    Setting("CrowdedBump", "Raise the ratio by", 0.1, "pct", "Added when the signal fires (capped at the maximum)"),
    Setting("CrowdedPercentile", "Funding at or above its percentile", 0.9, "pct",
            "0.9: the rate is higher than 90% of its last 30 days"),
    Setting("CrowdedOIRise", "...and open interest up by", 0.1, "pct",
            "Over 7 days where published (Binance, Bybit); elsewhere funding alone decides"),
)
SETTING_ROW = {s.name: SETTINGS_FIRST_ROW + i for i, s in enumerate(SETTING_LIST)}
#: Each setting's default, by name: what an empty Settings cell means (one definition, read everywhere).
SETTING_DEFAULT = {s.name: s.default for s in SETTING_LIST}
#: The Events table on the Settings sheet: name, time (UTC), source; shipped rows first, then yours.
EVENTS_COLUMNS = ("J", "K", "L")
EVENTS_FIRST_ROW = SETTINGS_FIRST_ROW
EVENTS_ROWS = 40
EVENTS_LAST_ROW = EVENTS_FIRST_ROW + EVENTS_ROWS - 1
OUTLOOKS = ("bearish", "neutral", "bullish")
#: The taker-fee table under the settings: exchange, fee (yours to edit), source; one row per exchange.
FEE_COLUMNS = ("A", "B", "C")
FEE_TITLE_ROW = SETTINGS_FIRST_ROW + len(SETTING_LIST) + 3
FEE_FIRST_ROW = FEE_TITLE_ROW + 2
FEE_LAST_ROW = FEE_FIRST_ROW + len(EXCHANGES) - 1
#: The maintenance-tier table under the fees: contract (exchange|symbol), tiers (floor/rate/amount; ...), source.
#: Rows here win over the tiers a venue publishes (the Funding sheet's); Binance's are shipped (signed API).
TIER_COLUMNS = ("A", "B", "D")  # the tiers' cells are B:C merged (C is the wide column); the source from D
TIER_TITLE_ROW = FEE_LAST_ROW + 3
TIER_FIRST_ROW = TIER_TITLE_ROW + 2
TIER_ROWS = 12
TIER_LAST_ROW = TIER_FIRST_ROW + TIER_ROWS - 1

# ---------------------------------------------------------------- Funding
FUNDING = "Funding"
STATUS_CELL = "B2"
NOTE_CELL = "A3"
FUNDING_HEADER_ROW = 5
FUNDING_FIRST_ROW = 6
FUNDING_ROWS = 200
FUNDING_LAST_ROW = FUNDING_FIRST_ROW + FUNDING_ROWS - 1
FUNDING_COLUMNS = (  # (key, column letter, header)
    ("exchange", "A", "Exchange"),
    ("symbol", "B", "Symbol"),
    ("base", "C", "Coin"),
    ("quote", "D", "Quote"),
    ("margin", "E", "Margin"),
    ("funding_rate", "F", "Funding rate (per interval)"),
    ("interval_hours", "G", "Interval (h)"),
    ("apr", "H", "APR (longs pay shorts)"),
    ("next_funding_time", "I", "Next funding (UTC)"),
    ("predicted_rate", "J", "Predicted next rate"),
    ("mark_price", "K", "Mark price (USD per coin)"),
    ("index_price", "L", "Index price"),
    ("basis", "M", "Basis (mark / index - 1)"),
    ("open_interest_usd", "N", "Open interest (USD)"),
    ("contract_size", "O", "Contract size (coins; USD if inverse)"),
    ("multiplier", "P", "Coins per unit"),
    ("fetched_at", "Q", "Fetched at (UTC)"),
    ("stale", "R", "Stale?"),
    ("key", "S", "Lookup key (hedge contract)"),
    ("symbol_key", "T", "Lookup key (symbol)"),
    ("lot_step", "U", "Order step (contracts)"),
    ("min_qty", "V", "Smallest order (contracts)"),
    ("min_notional", "W", "Smallest order (USD)"),
    ("max_leverage", "X", "Max leverage"),
    ("maintenance_tiers", "Y", "Maintenance tiers (from USD / rate / amount; ...)"),
)
FUNDING_COL = {key: col for key, col, _ in FUNDING_COLUMNS}
STALE_NO, STALE_YES, STALE_SAMPLE = "no", "yes", "sample"


@dataclass(frozen=True)
class Table:
    """A block of cells the refresh or the backtest owns: its columns and rows (on ``sheet``)."""

    columns: tuple  # (key, column letter, header)
    first_row: int
    last_row: int
    sheet: str = "Funding"

    @property
    def keys(self) -> list[str]:
        return [key for key, _, _ in self.columns]

    @property
    def ref(self) -> str:
        return f"{self.columns[0][1]}{self.first_row}:{self.columns[-1][1]}{self.last_row}"

    def cell(self, key: str, row: int = 0) -> str:
        """The cell of column ``key`` in the table's ``row``-th row (0: the first)."""
        letter = next(col for k, col, _ in self.columns if k == key)
        return f"{letter}{self.first_row + row}"

def letter(position: int) -> str:
    """Column letter of a 0-based position: 0 -> A, 26 -> AA."""
    out, n = "", position + 1
    while n:
        n, rest = divmod(n - 1, 26)
        out = chr(65 + rest) + out
    return out


def position(column: str) -> int:
    """0-based position of a column letter: A -> 0, AA -> 26."""
    n = 0
    for char in column:
        n = n * 26 + ord(char.upper()) - 64
    return n - 1


def _letters_after(column: str, count: int, gap: int = 1) -> list[str]:
    """``count`` column letters starting ``gap`` columns after ``column`` (one empty column between tables)."""
    start = position(column) + gap + 1
    return [letter(start + i) for i in range(count)]


#: The refresh's second table, beside the first: betas to BTC of coins hedged with the BTC perp.
BETA_FIRST_ROW = FUNDING_FIRST_ROW
BETA_ROWS = 40
BETA_LAST_ROW = BETA_FIRST_ROW + BETA_ROWS - 1
BETA_COLUMNS = tuple(  # (key, column letter, header)
    (key, col, header) for (key, header), col in zip((
        ("base", "Coin"), ("beta", "Beta to BTC"), ("r2", "R² (hedge effectiveness)"), ("n", "Daily returns used"),
        ("exchange", "Prices from"), ("estimated_at", "Estimated at (UTC)"), ("stale", "Stale?")),
        _letters_after(FUNDING_COLUMNS[-1][1], 7), strict=True))
BETA_TITLE_CELL = f"{BETA_COLUMNS[0][1]}4"
#: The refresh's third table: the crowded-longs inputs of each portfolio coin's hedge contract.
CROWD_FIRST_ROW = FUNDING_FIRST_ROW
CROWD_ROWS = 40
CROWD_LAST_ROW = CROWD_FIRST_ROW + CROWD_ROWS - 1
_CROWD_HEADERS = {  # the crowding measures (xlhedge.market.crowding.COLUMNS), then the stale mark
    "key": "Contract (exchange|coin)",
    "exchange": "Exchange",
    "base": "Coin",
    "funding_percentile": f"Funding vs its last {FUNDING_LOOKBACK_DAYS} days (percentile)",
    "funding_samples": "Past rates compared",
    "oi_change": f"Open interest change ({OI_CHANGE_DAYS} days)",
    "measured_at": "Measured at (UTC)",
    "stale": "Stale?",
}
CROWD_COLUMNS = tuple(  # (key, column letter, header)
    (key, col, _CROWD_HEADERS[key])
    for key, col in zip([*CROWD_MEASURES, "stale"], _letters_after(BETA_COLUMNS[-1][1], 8), strict=True))
CROWD_TITLE_CELL = f"{CROWD_COLUMNS[0][1]}4"
FUNDING_TABLE = Table(FUNDING_COLUMNS, FUNDING_FIRST_ROW, FUNDING_LAST_ROW)
BETA_TABLE = Table(BETA_COLUMNS, BETA_FIRST_ROW, BETA_LAST_ROW)
CROWD_TABLE = Table(CROWD_COLUMNS, CROWD_FIRST_ROW, CROWD_LAST_ROW)

# ---------------------------------------------------------------- Hedge / Scenarios
HEDGE = "Hedge"
EVENT_NOTE_CELL = "A3"  # Hedge sheet: which event the event rule applies, or the next one
HEDGE_FIRST_ROW = 5
HEDGE_TOTAL_ROW = HEDGE_FIRST_ROW + PORTFOLIO_ROWS + 1


#: The Hedge table's columns (key, header, width, format, formula, total): xlhedge.workbook.spec.
SCENARIOS = "Scenarios"
SCENARIO_MOVES = tuple(round(-0.5 + 0.1 * i, 1) + 0.0 for i in range(11))
SCENARIO_FIRST_ROW = 9

# ---------------------------------------------------------------- Venues
VENUES = "Venues"
VENUE_FIRST_ROW = 6
VENUES_PER_COIN = len(EXCHANGES)  # one row per exchange for each Portfolio row, in EXCHANGES' order
VENUE_ROWS = PORTFOLIO_ROWS * VENUES_PER_COIN
VENUE_LAST_ROW = VENUE_FIRST_ROW + VENUE_ROWS - 1

CONF = "xlwings.conf"
UDF_MODULES = "xlhedge.udfs"

# ---------------------------------------------------------------- Backtest
BACKTEST = "Backtest"
BACKTEST_FIRST_ROW = 5  # first input row (column B), first result row (column E), first series row


BACKTEST_INPUTS = (  # the Backtest sheet's inputs, column B (name, label, default, format, note)
    Setting("start", "Start (UTC date)", "2022-01-01", "text", "The demo data covers 2022-01-01 to 2024-01-01"),
    Setting("end", "End (UTC date)", "2024-01-01", "text", "Included: the last close is the one on this date"),
    Setting("policy", "Policy", "funding", "text",
            "static, funding (HEDGE_RATIO's rule), events (the event rule as well) or sheet (every rule as "
            "the Settings switch it)"),
    Setting("ratio", "Base ratio (blank: outlook's)", None, "pct",
            "0 to 100%: in place of your outlook's, for every policy"),
    Setting("fee", "Taker fee", D.TAKER_FEE, "pct4", "Per trade, fraction of the notional (0.05%)"),
    Setting("slippage", "Slippage", D.SLIPPAGE, "pct4", "Per trade, fraction of the notional"),
    Setting("data", "Data", DATA_SOURCES[0], "text",
            "auto: the default exchange's real history when it answers, else the demo; live: that history "
            "only; demo: bundled (real Binance funding, SYNTHETIC prices)"),
    Setting("top_up", "Top up margin from cash?", "no", "text",
            "yes: add margin instead of being liquidated"),
)
BACKTEST_INPUT_ROW = {item.name: BACKTEST_FIRST_ROW + i for i, item in enumerate(BACKTEST_INPUTS)}
BACKTEST_INPUT_DEFAULT = {item.name: item.default for item in BACKTEST_INPUTS}
#: The results the backtest writes: label in D, value in E.
BACKTEST_RESULTS = Table((("label", "D", "Result"), ("value", "E", "Value")),
                         BACKTEST_FIRST_ROW, BACKTEST_FIRST_ROW + 17, BACKTEST)
BACKTEST_SERIES_ROWS = 1100  # three years of daily closes; longer runs are thinned evenly
BACKTEST_SERIES = Table((("date", "G", "Date (UTC close)"), ("unhedged", "H", "Unhedged (USD)"),
                         ("hedged", "I", "Hedged (USD)")),
                        BACKTEST_FIRST_ROW, BACKTEST_FIRST_ROW + BACKTEST_SERIES_ROWS - 1, BACKTEST)
BACKTEST_STATUS_CELL = "A3"
