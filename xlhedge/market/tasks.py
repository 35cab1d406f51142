"""Run independent network calls at the same time, or one after the other where threads do not exist.

Desktop Python fetches the exchanges in parallel threads. In the browser
(xlwings Lite runs Pyodide, ``sys.platform == "emscripten"``) a thread cannot
be started, so the same calls run in order. There each client still checks its
deadline before every request, but a request in flight cannot be cut short:
pyodide-http applies a timeout only inside a web worker, and xlwings Lite runs
Python in the task pane's page, so a stalled exchange holds the refresh until
the browser gives up on the request. Every parallel fetch in
:mod:`xlhedge.market` goes through :func:`map_tasks`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, wait

#: True in a browser (Pyodide): no threads, calls run in order.
SEQUENTIAL = sys.platform == "emscripten"


def map_tasks(fn: Callable, items: Iterable, max_workers: int = 8, timeout: float | None = None,
              ) -> tuple[list, list]:
    """``fn(item)`` for every item: (results in order, indices that did not finish in ``timeout`` s).

    An exception raised by ``fn`` is re-raised by the caller's use of the result, as with
    :meth:`concurrent.futures.Future.result`: here each result is ``(value, exception)``.
    """
    items = list(items)
    if not items:
        return [], []
    if SEQUENTIAL or len(items) == 1:
        return [_capture(fn, item) for item in items], []
    pool = ThreadPoolExecutor(max_workers=min(max_workers, len(items)), thread_name_prefix="xlhedge-market")
    futures = [pool.submit(_capture, fn, item) for item in items]
    done, _ = wait(futures, timeout=timeout)
    pool.shutdown(wait=False, cancel_futures=True)
    results = [f.result() if f in done else (None, TimeoutError()) for f in futures]
    return results, [i for i, f in enumerate(futures) if f not in done]


def _capture(fn: Callable, item):
    try:
        return fn(item), None
    except Exception as exc:  # handed back to the caller, which decides what a failure means
        return None, exc


def map_values(fn: Callable, items: Iterable, max_workers: int = 8) -> list:
    """``[fn(item) ...]`` at the same time where possible; the first exception is raised."""
    results, _ = map_tasks(fn, items, max_workers)
    for _, exc in results:
        if exc is not None:
            raise exc
    return [value for value, _ in results]
