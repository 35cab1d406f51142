"""Where two built workbooks first differ, in a line a failing test can print (never a diff of the file).

pytest renders a failed ``a == b`` on two large byte strings as a full diff: on a
workbook's one-line sheet XML that took minutes. These helpers name the first
differing part and offset instead, with a few bytes of context.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

CONTEXT = 40  # bytes shown either side of the first difference


def first_difference(a: bytes, b: bytes, what: str = "bytes") -> str | None:
    """None when equal, else "<what> differs at byte N: ...a... != ...b..."."""
    if a == b:
        return None
    n = min(len(a), len(b))
    at = next((i for i in range(n) if a[i] != b[i]), n)
    lo = max(at - CONTEXT, 0)
    return (f"{what} differs at byte {at} (sizes {len(a)} and {len(b)}): "
            f"{a[lo:at + CONTEXT]!r} != {b[lo:at + CONTEXT]!r}")


def parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist()}


def workbook_difference(expected: Path, actual: Path, skip: tuple[str, ...] = ()) -> str | None:
    """None when the two workbooks hold the same parts with the same bytes (``skip``: part names left
    out), else where they first differ: a missing or extra part, or a part, byte offset and context."""
    a, b = parts(expected), parts(actual)
    if list(a) != list(b):
        return f"parts differ: only in {expected.name}: {sorted(set(a) - set(b))}, only in {actual.name}: " \
               f"{sorted(set(b) - set(a))}, or in another order"
    for name in a:
        if name in skip:
            continue
        found = first_difference(a[name], b[name], name)
        if found:
            return found
    return first_difference(expected.read_bytes(), actual.read_bytes(), f"{expected.name} (zip framing)") \
        if not skip else None
