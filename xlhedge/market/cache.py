"""Answers kept on disk: the exchanges' order rules for a day, price and funding history for good.

One folder for both: ``XLHEDGE_CACHE`` when set, else the user's cache folder
(``%LOCALAPPDATA%\\xlhedge``, ``$XDG_CACHE_HOME/xlhedge`` or ``~/.cache/xlhedge``).
A file is replaced atomically, so a failed download never loses what was kept.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import time
from pathlib import Path

from xlhedge.market.errors import MarketDataError

#: How long an exchange's order rules (lot steps, minimums) are used before they are asked again.
RULES_MAX_AGE_HOURS = 24.0
#: How old kept specifications may be when a live answer lists a contract they lack (a listing since): asked
#: again at most this often, so a contract an exchange lists without a specification costs no request each time.
NEW_LISTING_HOURS = 1.0


def cache_root() -> Path:
    """The folder downloads are kept in: ``XLHEDGE_CACHE``, else the user's cache folder's ``xlhedge``."""
    custom = os.environ.get("XLHEDGE_CACHE", "").strip()
    if custom:
        return Path(custom)
    base = os.environ.get("LOCALAPPDATA") or os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "xlhedge"


def write_atomically(path: Path, text: str) -> None:
    """``text`` into ``path`` through a temporary file and a rename (never half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=".tmp", dir=path.parent)  # one per writer
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
            out.write(text)
        os.replace(name, path)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(name)


def kept_for_a_day(name: str, source: str, fetch, max_age_hours: float = RULES_MAX_AGE_HOURS):
    """A JSON answer from the cache while it is younger than ``max_age_hours``, else ``fetch()``'s (kept).

    ``source`` (the base URL asked) is part of the file's name, so answers from two servers never mix.
    When the fetch fails, the kept answer is used whatever its age; with none kept, the error is raised.
    """
    digest = hashlib.sha1(source.encode("utf-8")).hexdigest()[:10]
    path = cache_root() / "rules" / f"{name}-{digest}.json"
    kept = None
    with contextlib.suppress(OSError, ValueError):
        kept = json.loads(path.read_text(encoding="utf-8"))
        if time.time() - path.stat().st_mtime < max_age_hours * 3600:
            return kept
    try:
        answer = fetch()
    except MarketDataError:  # the exchange failed: what was kept serves (a bug in the caller still shows)
        if kept is not None:
            return kept
        raise
    with contextlib.suppress(OSError):  # a read-only cache folder: the answer is still used
        write_atomically(path, json.dumps(answer))
    return answer
