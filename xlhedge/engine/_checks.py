"""Shared argument checks for the engine (raise ``ValueError`` naming the argument)."""

from __future__ import annotations

import numpy as np


def as_float_array(value, name: str) -> np.ndarray:
    """Return ``value`` as a float array, rejecting non-numeric input."""
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number") from None
    return arr


def check_finite(arr: np.ndarray, name: str) -> None:
    """Reject NaN and infinities."""
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be a finite number")


def check_range(
    arr: np.ndarray,
    name: str,
    low: float | None = None,
    high: float | None = None,
    *,
    low_open: bool = False,
    high_open: bool = False,
) -> None:
    """Reject values outside ``[low, high]`` (or the open ends asked for), ignoring NaN.

    Compares the array as it is (NaN compares false), without copying out its numbers: the checks run on every
    call of every engine function, so they stay a few array passes."""
    a = np.asarray(arr)
    # the usual case first: no NaN, all inside (a number as it is, an array by its least and greatest values;
    # argmin/argmax give those in a quarter of min/max's time on a sheet's few hundred cells, and point at the
    # first NaN when there is one, as min/max would give NaN; they copy a non-contiguous array, so it is reduced)
    if a.ndim == 0:
        least = most = float(a)
    elif a.size and a.flags.c_contiguous:
        least, most = a.item(a.argmin()), a.item(a.argmax())
    elif a.size:
        least, most = float(a.min()), float(a.max())
    else:
        least = most = np.nan
    if (least == least and most == most and -np.inf < least and most < np.inf
            and (low is None or (least > low if low_open else least >= low))
            and (high is None or (most < high if high_open else most <= high))):
        return
    if np.isinf(a).any():
        raise ValueError(f"{name} must be a finite number")
    bad = None
    if low is not None:
        bad = (a <= low) if low_open else (a < low)
    if high is not None:
        above = (a >= high) if high_open else (a > high)
        bad = above if bad is None else bad | above
    if bad is not None and bad.any():
        lo = "" if low is None else (f"> {low:g}" if low_open else f">= {low:g}")
        hi = "" if high is None else (f"< {high:g}" if high_open else f"<= {high:g}")
        allowed = " and ".join(s for s in (lo, hi) if s)
        raise ValueError(f"{name} must be {allowed} (got {np.atleast_1d(a)[np.atleast_1d(bad)][0]:g})")


def scalar_or_array(arr: np.ndarray):
    """Return a Python float for 0-d arrays, the array otherwise."""
    return float(arr) if np.ndim(arr) == 0 else arr
