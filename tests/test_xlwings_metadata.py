"""What Excel's Insert Function dialog and xlwings' import would see, checked headlessly."""

import inspect
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from xlhedge import udfs

HERE = Path(__file__).parent
EXPECTED = {
    "HEDGE_RATIO": ["outlook", "conviction", "funding_rate", "interval_hours",
                    "cost_threshold", "adjustment", "max_ratio"],
    "FUNDING_COST": ["notional", "funding_rate", "interval_hours", "horizon_days", "side"],
    "BETA_HEDGE": ["alt_notional", "beta_or_alt_prices", "btc_prices", "method", "halflife"],
    "BETA_STATS": ["alt_prices", "btc_prices", "method", "halflife"],
    "FUNDING_APR": ["funding_rate", "interval_hours"],
    "HEDGE_PNL": ["spot_value", "hedge_notional", "price_change", "funding_cost", "leverage", "maintenance_margin",
                  "liquidation_rise"],
    "HEDGE_CONTRACTS": ["notional", "price", "contract_size", "lot_step", "inverse"],
    "HEDGE_ORDER": ["contracts", "lot_step", "symbol", "exchange", "contract_size", "inverse", "coin", "min_qty",
                    "min_notional", "notional"],
    "HEDGE_REBALANCE": ["spot_value", "short_notional", "target_ratio", "band"],
    "LIQ_PRICE": ["entry_price", "leverage", "maintenance_margin_rate", "side", "quantity", "tier_floors", "tier_rates",
                  "tier_amounts", "tiers"],
    "HEDGE_PLAN": ["spot_values", "ratio"],
    "EVENT_RATIO": ["base_ratio", "as_of", "days_before", "hours_after", "floor", "events"],
    "EVENT_NOTE": ["as_of", "days_before", "hours_after", "floor", "events"],
    "CROWDED_RATIO": ["base_ratio", "funding_rate", "percentile", "oi_change", "bump", "min_percentile",
                      "min_oi_rise", "max_ratio"],
    "VENUE_COST": ["notional", "funding_rate", "interval_hours", "horizon_days", "taker_fee"],
    "VENUE_BEST": ["coins", "costs", "contracts", "min_qty", "min_notional", "notional", "open_interest",
                   "max_oi_share"],
    "LOOKUP_VALUES": ["keys", "lookup_keys", "values", "if_missing"],
    "REPEAT_ROWS": ["values", "times", "whole"],
}


@pytest.fixture(scope="module")
def xlwings_view():
    out = subprocess.run(
        [sys.executable, str(HERE / "xlwings_meta.py")],
        capture_output=True, text=True, check=True, cwd=HERE.parent,
        env={**os.environ, "PYTHONPATH": str(HERE.parent)},
    )
    return json.loads(out.stdout)


def test_exported_names_and_arguments():
    assert set(udfs.UDFS) == set(EXPECTED)
    for name, args in EXPECTED.items():
        assert list(inspect.signature(udfs.UDFS[name]).parameters) == args


def test_real_decorators_record_category_and_docs(xlwings_view):
    funcs = xlwings_view["functions"]
    assert set(funcs) == set(EXPECTED)
    for name, info in funcs.items():
        assert info["category"] == "xlhedge"
        assert 20 < len(info["doc"]) <= 255, name  # Excel's description limit
        assert [a["name"] for a in info["args"]] == EXPECTED[name]
        for arg in info["args"]:
            assert not arg["doc"].startswith("Positional argument"), (name, arg["name"])
            assert len(arg["doc"]) <= 255


def test_defaults_and_ranges(xlwings_view):
    ratio = {a["name"]: a for a in xlwings_view["functions"]["HEDGE_RATIO"]["args"]}
    assert not ratio["outlook"]["optional"]
    assert ratio["conviction"]["default"] == 0.5
    assert ratio["max_ratio"]["default"] == 1.0
    plan = {a["name"]: a for a in xlwings_view["functions"]["HEDGE_PLAN"]["args"]}
    assert plan["spot_values"]["options"] == {"ndim": 2}  # a column stays a column
    cost = {a["name"]: a for a in xlwings_view["functions"]["FUNDING_COST"]["args"]}
    # a column stays a column: one rate per notional (array formulas), or a history for one notional
    assert cost["funding_rate"]["options"] == {"ndim": 2}


def test_vba_wrappers_excel_would_import(xlwings_view):
    vba = xlwings_view["vba"]
    for name, args in EXPECTED.items():
        first = f"Optional {args[0]}" if name == "EVENT_NOTE" else args[0]  # every argument optional
        assert f"Function {name}({first}" in vba
        assert f'XLPy.CallUDF("xlhedge.udfs", "{name}"' in vba
    assert "Function HEDGE_RATIO(outlook, Optional conviction" in vba
    assert "Function EVENT_RATIO(base_ratio, Optional as_of" in vba
