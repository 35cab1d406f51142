"""What a cell of the template says instead of a number (the builder writes these into formulas, the
model returns them, ``plan`` prints them): each message once."""

#: What a Portfolio row's spot value says instead of a number (Portfolio!I, shown again on the Hedge sheet).
MSG_QTY_TEXT = "#VALUE! quantity is text: type a number"
MSG_PRICE_TEXT = "#VALUE! Value at is text: type a number or leave it empty"
MSG_QTY_NEGATIVE = "#VALUE! quantity is negative: type 0 or more"
MSG_NO_PRICE = "#N/A no price on "
MSG_BASIS_ABOVE = "Wide basis: the perp trades above spot (the short gains as the gap closes). "
MSG_BASIS_BELOW = "Wide basis: the perp trades below spot (the short loses as the gap closes). "
MSG_WEAK_CROSS = "Weak cross-hedge: BTC explains little of this coin's moves (see R²)."
MSG_LIQUIDATED = "liquidated: margin lost, coins unhedged"
MSG_NO_PRICE_TAIL = ": refresh market data, check the exchange, or type a price in Value at"
MSG_NO_BETA = "#N/A no beta to BTC for this coin: refresh market data or type one in Beta to BTC"
MSG_NO_RATE = "#N/A no funding rate for this contract: refresh market data or check the exchange"
MSG_CROWDED_ON = "yes: ratio raised (the short is paid)"
MSG_CROWDED_OFF = "yes (rule off in Settings)"
MSG_CROWD_UNKNOWN = "not measured yet: Refresh"
