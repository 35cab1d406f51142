"""Every Excel function, fuzzed with what Excel can pass: each call returns a number, an array
of numbers/empties, or a short #VALUE!/#N/A message. None raises."""

import datetime as dt
import inspect
import math
import re

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xlhedge import udfs
from xlhedge.cells import MAX_MESSAGE

scalars = st.one_of(
    st.none(),
    st.just(""),
    st.text(max_size=12),
    st.sampled_from(["bearish", "Neutral", " bullish ", "short", "long", "ols", "EWMA", "TRUE", "50%",
                     "0.0001", "=1+1", "#N/A", "BTC perp"]),
    st.booleans(),
    st.integers(min_value=-10**6, max_value=10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, -0.0, 1e308, -1e308, 5e-324, 0.5, 1.0, 8.0, 100000.0, 0.0001, -0.001, 2.0]),
    st.just(dt.datetime(2026, 1, 1)),
)
rows = st.lists(scalars, min_size=0, max_size=6)
ragged = st.lists(rows, min_size=1, max_size=5)
rectangular = st.integers(1, 5).flatmap(
    lambda w: st.lists(st.lists(scalars, min_size=w, max_size=w), min_size=1, max_size=6))
numeric_block = st.integers(1, 4).flatmap(
    lambda w: st.lists(st.lists(st.floats(0.01, 1e6), min_size=w, max_size=w), min_size=1, max_size=8))
arrays = st.one_of(
    st.builds(np.array, st.lists(st.floats(allow_nan=True), max_size=6)),
    st.builds(lambda b: np.array(b, dtype=float), numeric_block),
)
cell_values = st.one_of(scalars, rows, ragged, rectangular, numeric_block, arrays)


NOTE = re.compile(r"^((Next: )?\S.*? \d{4}-\d\d-\d\d \d\d:\d\d UTC (in [\d.]+ (days|hours)|[\d.]+ (days|hours) ago)"
                  r"(: at least|;) -?\d+%.*|No upcoming event: add dates to the Events table)$")


#: HEDGE_ORDER's answers: the order in words, or why there is none (the symbol is the cell's text, spaces and all).
ORDER = re.compile(r"^(Sell \S+ .+ on .+|Below .+'s minimum .+|No .* contract of .+ in the Funding table: refresh"
                   r"|Nothing to sell on .+: less than one lot)$")


#: VENUE_BEST's answers: the best venue of a coin, why a venue is out, or blank.
VENUE_WORDS = re.compile(r"^(best|below the minimum|over the open-interest cap|no rate|)$")
#: Functions that hand back cells they were given (any value a cell holds), rearranged.
PASS_THROUGH = ("LOOKUP_VALUES", "REPEAT_ROWS")
SENTENCES = {"EVENT_NOTE": NOTE, "HEDGE_ORDER": ORDER, "VENUE_BEST": VENUE_WORDS}


def check_pass_through(result):
    """A message, or the cells given (a list of rows, or one value): it never raises."""
    if isinstance(result, str) and result.startswith(("#VALUE! ", "#N/A ")):
        assert len(result) <= MAX_MESSAGE and "\n" not in result
        return
    assert isinstance(result, (list, str, float, int, bool, dt.datetime)) or result is None, type(result)


def check(result, text_ok=False, sentence=NOTE):
    if text_ok and isinstance(result, str) and (sentence.match(result) or result == ""):  # a sentence, or blank
        return
    if isinstance(result, str):
        assert result.startswith(("#VALUE! ", "#N/A ")), result
        assert len(result) <= MAX_MESSAGE and "\n" not in result
        return
    if isinstance(result, float):
        assert math.isfinite(result)
        return
    assert isinstance(result, list), type(result)
    flat = [x for row in result for x in (row if isinstance(row, list) else [row])]
    for x in flat:
        assert x is None or (isinstance(x, (float, int, str)) and (not isinstance(x, float) or math.isfinite(x)))
        if text_ok and isinstance(x, str) and sentence.match(x):
            continue
        if isinstance(x, str) and x not in ("beta", "r2", "correlation", "n", "stderr"):  # BETA_STATS header
            # a row of a column call that failed on its own (xl_udf's row-by-row fallback)
            assert x.startswith(("#VALUE! ", "#N/A ")) and len(x) <= MAX_MESSAGE and "\n" not in x, x


def fuzz(func):
    n_params = len(inspect.signature(func).parameters)

    @settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.lists(cell_values, min_size=1, max_size=n_params))
    def run(args):
        if func.__name__ in PASS_THROUGH:
            check_pass_through(func(*args))
        else:
            check(func(*args), text_ok=func.__name__ in SENTENCES, sentence=SENTENCES.get(func.__name__, NOTE))

    return run


for _name, _func in udfs.UDFS.items():
    globals()[f"test_fuzz_{_name.lower()}"] = fuzz(_func)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.floats(0.01, 1e6), min_size=2, max_size=2), min_size=1, max_size=40),
       st.sampled_from(["ols", "ewma"]))
def test_fuzz_beta_with_real_price_columns(block, method):
    alt = [[r[0]] for r in block]
    btc = [[r[1]] for r in block]
    check(udfs.BETA_HEDGE(1000.0, alt, btc, method))
    check(udfs.BETA_STATS(alt, btc, method))
