"""Margin and liquidation of an isolated, linear perpetual position."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

from xlhedge.engine import defaults as D
from xlhedge.engine._checks import as_float_array, check_range, scalar_or_array


def initial_margin(notional, leverage):
    """Collateral to post for a position: ``notional / leverage`` (USD)."""
    n = as_float_array(notional, "notional")
    lev = as_float_array(leverage, "leverage")
    check_range(n, "notional", 0.0)
    check_range(lev, "leverage", 1.0, 200.0)
    return scalar_or_array(n / lev)


def liquidation_price(
    entry_price, leverage, maintenance_margin_rate=D.MAINTENANCE_MARGIN, side="short", maintenance_amount=0.0
):
    """Approximate liquidation price of an isolated linear position (no fees).

    Short: ``(entry * (1 + 1/L) + mm_amount/qty) / (1 + m)``; with no
    maintenance amount this is ``entry * (1 + 1/L) / (1 + m)``.
    Long: ``entry * (1 - 1/L) / (1 - m)``.
    The spot holding does not protect an isolated short: only the posted
    margin does.

    Parameters
    ----------
    entry_price : float or array
        Entry price in USD, > 0.
    leverage : float or array
        Leverage L, 1..200 (initial margin = notional / L).
    maintenance_margin_rate : float or array
        Maintenance margin rate m as a fraction (0.004 = 0.4 %), in [0, 0.5).
    side : {"short", "long"}
    maintenance_amount : float or array
        Binance-style maintenance amount per coin of position, in USD
        (the tier's "cum" divided by the quantity); 0 when unknown.

    Returns
    -------
    float or ndarray
        Mark price in USD at which the position is liquidated.

    Examples
    --------
    >>> round(liquidation_price(60_000, 3), 2)   # short at 3x: liquidated ~32.8 % higher
    79681.27
    """
    p = as_float_array(entry_price, "entry_price")
    lev = as_float_array(leverage, "leverage")
    mmr = as_float_array(maintenance_margin_rate, "maintenance_margin_rate")
    amt = as_float_array(maintenance_amount, "maintenance_amount")
    check_range(p, "entry_price", 0.0, low_open=True)
    check_range(lev, "leverage", 1.0, 200.0)
    check_range(mmr, "maintenance_margin_rate", 0.0, 0.5, high_open=True)
    check_range(amt, "maintenance_amount", 0.0)
    key = str(side).strip().lower()
    if key == "short":
        liq = (p * (1.0 + 1.0 / lev) + amt) / (1.0 + mmr)
    elif key == "long":
        liq = np.maximum((p * (1.0 - 1.0 / lev) + amt) / (1.0 - mmr), 0.0)
    else:
        raise ValueError('side must be "short" or "long"')
    return scalar_or_array(liq)


def liquidation_move(leverage, maintenance_margin_rate=D.MAINTENANCE_MARGIN):
    """Price rise, as a fraction, at which an isolated short is liquidated.

    ``(1 + 1/L) / (1 + m) - 1``, the same for every entry price: at 3x and
    0.4 % a short is liquidated by a rise of about 32.8 %.

    Parameters
    ----------
    leverage : float or array
        Leverage L, 1..200.
    maintenance_margin_rate : float or array
        Maintenance margin rate m as a fraction, in [0, 0.5).

    Returns
    -------
    float or ndarray
        The rise (0.328 = +32.8 %) at which the short's liquidation price is reached.

    Examples
    --------
    >>> round(liquidation_move(3, 0.004), 4)
    0.328
    """
    return scalar_or_array(np.asarray(liquidation_price(1.0, leverage, maintenance_margin_rate)) - 1.0)


def _floats(values) -> list[float]:
    """A flat list of floats from a list, a tuple or an array."""
    if isinstance(values, np.ndarray):
        return values.astype(float).ravel().tolist()
    return [float(x) for x in values]


#: Between two tiers in a tier table's :attr:`MaintenanceTiers.text`.
TIER_SEPARATOR = "; "


@dataclass(frozen=True)
class MaintenanceTiers:
    """A venue's maintenance-margin tiers for one contract.

    From ``floors[k]`` USD of position notional (the first floor is 0) the maintenance margin is
    ``notional x rates[k] - amounts[k]`` (the amount is Binance's "cum", Bybit's "mmDeduction": it
    makes the margin continuous across tiers; a venue without one charges the tier's rate on the whole
    position). Build with :meth:`of`.
    """

    floors: tuple[float, ...]
    rates: tuple[float, ...]
    amounts: tuple[float, ...]

    @classmethod
    def of(cls, floors, rates, amounts=None) -> MaintenanceTiers:
        """Checked tiers; ``amounts`` None: the continuous ones, amount[k] = amount[k-1] +
        floors[k] x (rates[k] - rates[k-1]) (how Binance and Bybit derive theirs)."""
        # a venue's table is a handful of tiers, checked on every contract of a refresh: plain Python
        f, r = _floats(floors), _floats(rates)
        if (not f or len(f) != len(r) or f[0] != 0 or any(b <= a for a, b in itertools.pairwise(f))
                or not all(math.isfinite(x) for x in f)):
            raise ValueError("tiers need floors starting at 0 and increasing, one rate per floor")
        bad = next((x for x in r if not 0.0 <= x <= 0.5), None)  # Binance's last bracket is 0.5
        if bad is not None:
            raise ValueError(f"maintenance_margin_rate must be >= 0 and <= 0.5 (got {bad:g})")
        if amounts is None:
            a = [0.0]
            for k in range(1, len(f)):
                a.append(a[-1] + f[k] * (r[k] - r[k - 1]))
        else:
            a = _floats(amounts)
            if len(a) != len(f) or not all(math.isfinite(x) for x in a):
                raise ValueError("tiers need one maintenance amount per floor")
        return cls(tuple(f), tuple(r), tuple(a))

    @classmethod
    def flat(cls, rate: float = D.MAINTENANCE_MARGIN) -> MaintenanceTiers:
        """One tier: the same rate at every size."""
        return cls.of([0.0], [rate])

    @property
    def text(self) -> str:
        """The tiers as one cell holds them: ``floor/rate/amount`` per tier, ``"; "`` between tiers
        (``"0/0.004/0; 50000/0.005/50"``: from 50,000 USD the margin is 0.5% less 50 USD)."""
        return TIER_SEPARATOR.join("/".join(format(x, ".10g") for x in tier)
                                   for tier in zip(self.floors, self.rates, self.amounts, strict=True))

    @classmethod
    def parse(cls, text: str) -> MaintenanceTiers:
        """Tiers from their :attr:`text` (amounts may be left out of every tier: the continuous ones;
        thousands separators are allowed: ``"300,000/0.005/300"``)."""
        tiers = [part.strip() for part in str(text).split(";") if part.strip()]
        try:
            fields = [[float(x.replace(",", "").strip()) for x in tier.split("/")] for tier in tiers]
        except ValueError:
            raise ValueError("write each tier as floor/rate/amount (USD / fraction / USD), ';' between "
                             "tiers") from None
        widths = {len(f) for f in fields}
        if not fields or not widths <= {2, 3} or len(widths) > 1:
            raise ValueError("write each tier as floor/rate/amount, ';' between tiers (an amount in every "
                             "tier, or in none)")
        columns = list(zip(*fields, strict=True))
        return cls.of(columns[0], columns[1], columns[2] if widths == {3} else None)

    def maintenance(self, notional):
        """Maintenance margin (USD) of a position of ``notional`` USD (its tier's rate less its amount)."""
        n = as_float_array(notional, "notional")
        k = np.searchsorted(np.asarray(self.floors), n, side="right") - 1
        return scalar_or_array(n * np.asarray(self.rates)[k] - np.asarray(self.amounts)[k])


def tiered_liquidation_price(entry_price, quantity, leverage, tiers: MaintenanceTiers, side="short"):
    """Liquidation price of an isolated linear position whose maintenance margin is tiered by notional.

    The position is liquidated where its margin plus P&L, ``q x E / L + q x (E - P)`` for a short
    (``q x (P - E)`` for a long), falls to the maintenance margin of its notional at that price,
    ``q x P x rate_k - amount_k`` with tier k the one ``q x P`` falls in (Binance's isolated formula,
    ``LP = (WB + cum + q x E) / (q x (1 + MMR))`` for a short, solved for the tier it lands in). A
    larger position sits in a higher tier and is liquidated closer to its entry.

    Parameters
    ----------
    entry_price : float or array
        USD per coin, > 0.
    quantity : float or array
        Coins in the position, > 0.
    leverage : float or array
        1..200 (the margin posted is the entry notional / leverage).
    tiers : MaintenanceTiers
    side : {"short", "long"}

    Returns
    -------
    float or ndarray
        Mark price (USD) at which the position is liquidated (a long: 0 where it cannot be).

    Examples
    --------
    >>> tiers = MaintenanceTiers.of([0, 50_000, 250_000], [0.004, 0.005, 0.01])
    >>> round(tiered_liquidation_price(40_000, 0.5, 3, tiers), 2)   # 26,560 USD at that price: first tier
    53120.85
    >>> round(tiered_liquidation_price(40_000, 1.0, 3, tiers), 2)   # 53,118 USD: second tier
    53117.74
    """
    e = as_float_array(entry_price, "entry_price")
    q = as_float_array(quantity, "quantity")
    lev = as_float_array(leverage, "leverage")
    check_range(e, "entry_price", 0.0, low_open=True)
    check_range(q, "quantity", 0.0, low_open=True)
    check_range(lev, "leverage", 1.0, 200.0)
    e, q, lev = (x[..., None] for x in np.broadcast_arrays(e, q, lev))
    floor = np.asarray(tiers.floors)
    cap = np.append(floor[1:], np.inf)
    rate, amount = np.asarray(tiers.rates), np.asarray(tiers.amounts)
    key = str(side).strip().lower()
    if key == "short":
        base = q * e * (1.0 + 1.0 / lev)  # the equity is base - q x P
        inside = (base + amount) / (q * (1.0 + rate))
        short_at_floor = base - floor <= floor * rate - amount  # at the tier's floor the margin is short already
    elif key == "long":
        base = q * e * (1.0 - 1.0 / lev)  # the equity is q x P - base
        inside = (base - amount) / (q * (1.0 - rate))
        short_at_floor = floor - base <= floor * rate - amount
    else:
        raise ValueError('side must be "short" or "long"')
    valid = (floor <= q * inside) & (q * inside < cap) & (inside > 0)
    at_floor = short_at_floor & (floor > 0)
    if key == "short":
        liq = np.minimum(np.where(valid, inside, np.inf), np.where(at_floor, floor / q, np.inf)).min(axis=-1)
    else:
        liq = np.maximum(np.where(valid, inside, 0.0), np.where(at_floor, floor / q, 0.0)).max(axis=-1)
    return scalar_or_array(liq)


def venue_liquidation_price(entry_price, quantity, leverage, tiers, maintenance_margin_rate=D.MAINTENANCE_MARGIN,
                            side="short"):
    """Liquidation prices of positions each on its own venue's tiers.

    Parameters
    ----------
    entry_price, quantity, leverage : float or array
        As in :func:`tiered_liquidation_price` (USD per coin, coins, 1..200).
    tiers : array of (MaintenanceTiers or None)
        Each position's tiers; None: the flat ``maintenance_margin_rate`` (:func:`liquidation_price`,
        where the quantity does not matter and may be NaN).
    maintenance_margin_rate : float or array
        The flat rate of the positions without tiers, a fraction.
    side : {"short", "long"}

    Returns
    -------
    float or ndarray
        Mark prices (USD); positions sharing a tier table are computed in one vectorised pass.

    Examples
    --------
    >>> tiers = MaintenanceTiers.parse("0/0.004/0; 50000/0.005/50")
    >>> [round(float(x), 2) for x in venue_liquidation_price(40_000, 1.0, 3, [tiers, None])]  # 2nd tier; flat
    [53117.74, 53120.85]
    """
    e, q, lev, mmr, table = np.broadcast_arrays(
        as_float_array(entry_price, "entry_price"), as_float_array(quantity, "quantity"),
        as_float_array(leverage, "leverage"), as_float_array(maintenance_margin_rate, "maintenance_margin_rate"),
        np.asarray(tiers, dtype=object))
    out = np.asarray(liquidation_price(e, lev, mmr, side), dtype=float).copy() if e.size else np.empty(e.shape)
    groups: dict[MaintenanceTiers, list] = {}
    for idx, item in np.ndenumerate(table):
        if item is not None:
            groups.setdefault(item, []).append(idx)
    for item, where in groups.items():
        rows = tuple(np.array(where).T)
        out[rows] = tiered_liquidation_price(e[rows], q[rows], lev[rows], item, side)
    return scalar_or_array(out)
