"""Defaults of the hedge settings, declared once.

The engine's keyword defaults, the Excel functions' defaults for an empty
cell, the Settings sheet's shipped values and every reader's fallback for an
empty Settings cell all name these. Units as in the rest of the engine:
fractions (0.004 = 0.4%), rates per 8 h, leverage as a multiple.
"""

#: Maintenance margin rate of a short (0.4%: a common first-tier rate for BTC and ETH).
MAINTENANCE_MARGIN = 0.004
#: Leverage of the short: margin = notional / leverage.
LEVERAGE = 3
#: Rebalance when the hedged fraction leaves the target by more than this (5 points).
REBALANCE_BAND = 0.05
#: The funding rule's threshold: the short's carry cost per 8 h beyond which the ratio is adjusted (0.05%).
FUNDING_THRESHOLD = 0.0005
#: How much the funding rule trims or extends the ratio (a fraction of it).
FUNDING_ADJUSTMENT = 0.3
#: Order step, in contracts, where a venue publishes none (a thousandth of a coin for one-coin contracts).
LOT_STEP = 0.001
#: Taker fee per trade, a fraction of the notional (0.05%).
TAKER_FEE = 0.0005
#: Slippage per trade, a fraction of the notional (0.02%).
SLIPPAGE = 0.0002
#: Days a hedge is expected to be held (the horizon of funding costs and of the venues' comparison).
HORIZON_DAYS = 30
#: The best venue's short may be at most this share of the venue's open interest (1%).
MAX_OI_SHARE = 0.01
