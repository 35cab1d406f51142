"""Portfolio allocation of a hedge across assets."""

from __future__ import annotations

from xlhedge.engine._checks import as_float_array, check_range, scalar_or_array


def allocate_hedge(spot_values, ratio):
    """Short notional per asset for a portfolio hedged at ``ratio``.

    Each asset gets ``ratio`` times its own spot value, which is the same as
    splitting ``ratio * total`` in proportion to the weights. Cash is not
    hedged: leave it out of ``spot_values``. NaN entries (empty cells) stay NaN.

    Parameters
    ----------
    spot_values : array
        USD value of each spot holding, >= 0.
    ratio : float or array
        Hedge ratio as a fraction (0.6 = 60 %), broadcast against ``spot_values``.

    Returns
    -------
    float or ndarray
        USD notional to short for each asset, same shape as the broadcast input.

    Examples
    --------
    >>> allocate_hedge([250_000, 150_000], 0.6).tolist()
    [150000.0, 90000.0]
    """
    values = as_float_array(spot_values, "spot_values")
    check_range(values, "spot_values", 0.0)
    r = as_float_array(ratio, "ratio")
    check_range(r, "ratio", 0.0, 10.0)
    return scalar_or_array(values * r)
