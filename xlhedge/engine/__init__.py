"""Pure hedge maths: numpy/pandas only, no Excel, no network.

Every function accepts scalars or arrays (numpy broadcasting) and raises
``ValueError`` with a message a user can act on when an input is out of range.

Units: ratios are fractions (0.5 = 50 %), funding rates are per funding
interval as exchanges publish them (0.0001 = 0.01 %), intervals are in hours,
horizons in days, notionals and costs in USD (a cost > 0 means you pay).
"""

from xlhedge.engine.allocation import allocate_hedge
from xlhedge.engine.beta import BetaEstimate, beta_hedge_notional, estimate_beta
from xlhedge.engine.contracts import ContractSizing, contracts_for_notional, order_text
from xlhedge.engine.crowding import (
    crowded_longs,
    crowded_ratio,
    funding_percentile,
    open_interest_change,
    rolling_funding_percentile,
    rolling_open_interest_change,
)
from xlhedge.engine.events import Event, event_ratio, event_window_index, shipped_events
from xlhedge.engine.funding import (
    funding_apr,
    funding_cost,
    rate_per_8h,
    realised_funding_cost,
    short_carry_cost_per_8h,
)
from xlhedge.engine.margin import (
    MaintenanceTiers,
    initial_margin,
    liquidation_move,
    liquidation_price,
    tiered_liquidation_price,
    venue_liquidation_price,
)
from xlhedge.engine.policy import RULES, HedgePolicy, hedge_target
from xlhedge.engine.ratios import (
    OUTLOOK_BANDS,
    base_ratio,
    funding_adjusted_ratio,
    hedge_ratio,
    outlook_band,
)
from xlhedge.engine.rebalance import rebalance_trade
from xlhedge.engine.scenarios import hedge_pnl, scenario_table
from xlhedge.engine.venues import best_venues, meets_minimum, venue_cost

__all__ = [
    "OUTLOOK_BANDS",
    "RULES",
    "BetaEstimate",
    "ContractSizing",
    "Event",
    "HedgePolicy",
    "MaintenanceTiers",
    "allocate_hedge",
    "base_ratio",
    "best_venues",
    "beta_hedge_notional",
    "contracts_for_notional",
    "crowded_longs",
    "crowded_ratio",
    "estimate_beta",
    "event_ratio",
    "event_window_index",
    "funding_adjusted_ratio",
    "funding_apr",
    "funding_cost",
    "funding_percentile",
    "hedge_pnl",
    "hedge_ratio",
    "hedge_target",
    "initial_margin",
    "liquidation_move",
    "liquidation_price",
    "meets_minimum",
    "open_interest_change",
    "order_text",
    "outlook_band",
    "rate_per_8h",
    "realised_funding_cost",
    "rebalance_trade",
    "rolling_funding_percentile",
    "rolling_open_interest_change",
    "scenario_table",
    "shipped_events",
    "short_carry_cost_per_8h",
    "tiered_liquidation_price",
    "venue_cost",
    "venue_liquidation_price",
]
