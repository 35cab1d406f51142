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
    """Reject values outside ``[low, high]`` (or the open ends asked for), ignoring NaN."""
    vals = arr[~np.isnan(arr)] if arr.ndim else (arr if not np.isnan(arr) else np.array([]))
    vals = np.atleast_1d(vals)
    if not np.all(np.isfinite(vals)):
        raise ValueError(f"{name} must be a finite number")
    bad = np.zeros(vals.shape, dtype=bool)
    if low is not None:
        bad |= (vals <= low) if low_open else (vals < low)
    if high is not None:
        bad |= (vals >= high) if high_open else (vals > high)
    if bad.any():
        lo = "" if low is None else (f"> {low:g}" if low_open else f">= {low:g}")
        hi = "" if high is None else (f"< {high:g}" if high_open else f"<= {high:g}")
        allowed = " and ".join(s for s in (lo, hi) if s)
        raise ValueError(f"{name} must be {allowed} (got {vals[bad][0]:g})")


def scalar_or_array(arr: np.ndarray):
    """Return a Python float for 0-d arrays, the array otherwise."""
    return float(arr) if np.ndim(arr) == 0 else arr
