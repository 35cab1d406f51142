"""HTTP for exchange adapters: timeouts always set, retries with capped backoff, one deadline.

Hand-written rather than urllib3's ``Retry`` because every call here must end
within the caller's overall deadline, including the time spent waiting on a
``Retry-After`` header: urllib3 would sleep past it.
"""

from __future__ import annotations

import contextlib
import json
import sys
import threading
import time
from dataclasses import dataclass

import requests

from xlhedge.market.errors import ExchangeError
from xlhedge.market.tasks import map_values
from xlhedge.version import __version__

RETRY_STATUS = {418, 429, 500, 502, 503, 504}
USER_AGENT = f"xlhedge/{__version__} (+public market data)"

@dataclass(frozen=True)
class Envelope:
    """How an exchange wraps answers: ``{code_key: ok, data_key: ..., msg_key: "..."}``.

    Several exchanges report errors as HTTP 200 with an error code in the body;
    :meth:`Client.data` turns those into :class:`ExchangeError` with the code and message.
    """

    code_key: str
    ok: tuple
    data_key: str
    msg_key: str


#: How long an idle session's connections wait for the next request to the same exchange, in seconds: less than
#: the idle timeouts of exchanges' front servers (60 s and more), so a kept connection is rarely one the server
#: has dropped. A request after a longer pause connects afresh.
KEEP_ALIVE_SECONDS = 50.0
#: Idle sessions kept per server (one per request that was in flight at once).
MAX_IDLE_SESSIONS = 16

_idle: dict[str, list[tuple[float, requests.Session]]] = {}  # origin -> (last used, session), oldest first
_idle_lock = threading.Lock()


def _new_session() -> requests.Session:
    """A session with xlhedge's headers that does not read the environment itself: each :class:`Client` hands
    it :func:`environment_settings`, read once."""
    session = requests.Session()
    session.headers["User-Agent"] = USER_AGENT
    session.headers["Accept"] = "application/json"
    session.trust_env = False
    return session


@contextlib.contextmanager
def _session(origin: str):
    """A session for one request to ``origin`` ("https://fapi.binance.com"), this thread's alone until it ends.

    Sessions outlive the threads of one refresh: the next request to the same server within
    :data:`KEEP_ALIVE_SECONDS` takes a kept one and reuses its open connection (no new TCP and TLS handshake,
    which cost more round trips than the request). requests' sessions are not thread-safe, so a session
    serves one request at a time."""
    with _idle_lock:
        kept = _idle.setdefault(origin, [])
        dropped = _expired(kept, time.monotonic())
        session = kept.pop()[1] if kept else None
    for old in dropped:
        old.close()
    session = session or _new_session()
    try:
        yield session
    finally:
        with _idle_lock:
            now = time.monotonic()
            kept.append((now, session))
            dropped = _expired(kept, now)
        for old in dropped:
            old.close()


def _expired(kept: list[tuple[float, requests.Session]], now: float) -> list[requests.Session]:
    """Take out of ``kept`` (oldest first; the lock held) the sessions idle :data:`KEEP_ALIVE_SECONDS` or more,
    and the oldest beyond :data:`MAX_IDLE_SESSIONS`; they are the caller's to close."""
    dropped = []
    while kept and (len(kept) > MAX_IDLE_SESSIONS or now - kept[0][0] >= KEEP_ALIVE_SECONDS):
        dropped.append(kept.pop(0)[1])
    return dropped


def _origin(url: str) -> str:
    """A URL's scheme and host: "https://fapi.binance.com" of "https://fapi.binance.com/fapi/v1/premiumIndex"."""
    return "/".join(url.split("/", 3)[:3])


def environment_settings(url: str) -> dict:
    """What requests takes from the environment for ``url``: the proxy (HTTP_PROXY, HTTPS_PROXY, ALL_PROXY,
    unless NO_PROXY names the host) and the certificates (REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE), as requests
    itself reads them. Read once per client (one exchange's part of a refresh): requests reads them on every
    request, which scans the whole environment twice (0.8 ms of a 2.3 ms request measured here)."""
    with requests.Session() as session:
        return session.merge_environment_settings(url, {}, None, None, None)


@dataclass
class Client:
    """Calls one exchange within a deadline (``time.monotonic()`` seconds).

    Parameters
    ----------
    exchange : str
        Exchange name, used in error messages.
    base_url : str
        Where its API answers (``https://fapi.binance.com``, or the tests' loopback).
    deadline : float
        Monotonic time by which every call must have returned.
    max_attempts : int
        Tries per request (first try included) for retryable failures.
    backoff : float
        First retry delay in seconds; doubles each retry, capped at ``max_backoff``.
    """

    exchange: str
    deadline: float
    base_url: str = ""
    max_attempts: int = 4
    backoff: float = 0.25
    max_backoff: float = 4.0
    connect_timeout: float = 3.05
    envelope: Envelope | None = None
    min_interval: float = 0.0  # seconds between request starts to one endpoint (the exchange's rate limit)

    def __post_init__(self):
        self._pace = threading.Lock()
        self._next_start: dict[str, float] = {}
        self._missing: dict[str, list] = {}  # what -> [failed calls, calls, first reason]
        self._per_contract: set[str] = set()  # the whats fetched one contract at a time
        self._environment: dict | None = None  # environment_settings of the first request's URL

    def side(self, what: str, call, *args, default=None):
        """``call(*args)`` for a supporting request whose failure must not lose the exchange's rows.

        ``what`` names what the rows lack when it fails ("open interest", "contract sizes"); the
        failure is kept for :meth:`missing` and ``default`` is returned instead.
        """
        failed, reason = False, ""
        try:
            return call(*args)
        except ExchangeError as exc:
            failed, reason = True, f"{exc.endpoint.rstrip('/').rsplit('/', 1)[-1]}: {exc.reason}"
            return default
        finally:
            with self._pace:
                tally = self._missing.setdefault(what, [0, 0, ""])
                tally[0] += failed
                tally[1] += 1
                tally[2] = tally[2] or reason

    def each_side(self, what: str, fetch, symbols: list[str]) -> dict:
        """:meth:`each` of a per-symbol supporting request: a symbol whose call fails gets None."""
        self._per_contract.add(what)
        return self.each(lambda client, s: client.side(what, fetch, client, s), symbols)

    def missing(self) -> str:
        """What this exchange's rows lack because a supporting request failed, in words:
        "no open interest (ticker: HTTP 503)", "no open interest for 2 of 3 contracts (openInterest:
        HTTP 500)"; "" when nothing is missing."""
        parts = []
        for what, (failed, calls, reason) in self._missing.items():
            if failed:
                share = f" for {failed} of {calls} contracts" if what in self._per_contract else ""
                parts.append(f"no {what}{share} ({reason})")
        return "; ".join(parts)

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def get(self, path: str, params: dict | None = None):
        return self._call("GET", path, params=params)

    def post(self, path: str, body: dict):
        return self._call("POST", path, body=body)

    def each(self, fetch, symbols: list[str]) -> dict:
        """``fetch(client, symbol)`` for each symbol, at the same time: {symbol: result}."""
        if not symbols:
            return {}
        return dict(zip(symbols, self.parallel(*[(fetch, self, s) for s in symbols]), strict=True))

    def data(self, path: str, params: dict | None = None):
        """GET and unwrap the exchange's envelope; an error code in the body raises ExchangeError."""
        body = self.get(path, params)
        env = self.envelope
        if env is None:
            return body
        if not isinstance(body, dict) or body.get(env.code_key) not in env.ok:
            code = body.get(env.code_key) if isinstance(body, dict) else type(body).__name__
            msg = str(body.get(env.msg_key, "")) if isinstance(body, dict) else ""
            raise ExchangeError(self.exchange, path, f"{env.code_key} {code}: {msg[:60]}".rstrip(": "))
        return body.get(env.data_key)

    def parallel(self, *calls):
        """Run ``(function, *args)`` calls at the same time; results in order, first error raised."""
        return map_values(lambda call: call[0](*call[1:]), calls, max_workers=len(calls) or 1)

    def _call(self, method: str, path: str, params=None, body=None):
        url = self.base_url + path
        endpoint = path if body is None else f"{path} {body.get('type', '')}".strip()
        last = "no attempt made"
        for attempt in range(self.max_attempts):
            left = self.remaining()
            if left <= 0.05:
                raise ExchangeError(self.exchange, endpoint, f"timed out ({last})", unanswered=True)
            timeout = (min(self.connect_timeout, left), left)
            self._wait_turn(path)
            try:
                if self._environment is None:  # one exchange, one host: the same settings for all its calls
                    self._environment = environment_settings(url)
                with _session(_origin(url)) as session:
                    resp = session.request(method, url, params=params, json=body, timeout=timeout,
                                           **self._environment)
            except requests.Timeout:
                last = "no answer in time"
                continue  # the deadline check above ends the loop
            except requests.ConnectionError:
                last = "cannot connect"
                self._sleep(self._delay(attempt, None), endpoint, last)
                continue
            except requests.RequestException as exc:  # a URL requests cannot use (XLHEDGE_*_URL mistyped)
                raise ExchangeError(self.exchange, endpoint, f"request refused: {type(exc).__name__}",
                                    unanswered=True) from None
            except Exception as exc:  # in a browser the fetch raises JavaScript errors, not requests'
                raise ExchangeError(self.exchange, endpoint, transport_failure(exc), unanswered=True) from None
            if resp.status_code in RETRY_STATUS:
                last = f"HTTP {resp.status_code}"
                if attempt + 1 < self.max_attempts:
                    self._sleep(self._delay(attempt, resp.headers.get("Retry-After")), endpoint, last)
                continue
            if resp.status_code >= 400:
                raise ExchangeError(self.exchange, endpoint, f"HTTP {resp.status_code}{_said(resp)}")
            try:
                return resp.json()
            except (ValueError, json.JSONDecodeError):
                raise ExchangeError(self.exchange, endpoint, "answer is not valid JSON") from None
        raise ExchangeError(self.exchange, endpoint, f"{last} after {self.max_attempts} tries", unanswered=True)

    def _wait_turn(self, path: str) -> None:
        """Space requests to one endpoint ``min_interval`` apart (shared by the client's threads)."""
        if self.min_interval <= 0:
            return
        with self._pace:
            now = time.monotonic()
            start = max(now, self._next_start.get(path, 0.0))
            self._next_start[path] = start + self.min_interval
        if start > now:
            self._sleep(start - now, path, "waiting for the rate limit")

    def _delay(self, attempt: int, retry_after: str | None) -> float:
        delay = min(self.backoff * 2**attempt, self.max_backoff)
        if retry_after:
            with contextlib.suppress(ValueError):  # an HTTP date: keep the backoff
                delay = max(delay, float(retry_after))
        return delay

    def _sleep(self, delay: float, endpoint: str, last: str) -> None:
        if delay >= self.remaining():
            raise ExchangeError(self.exchange, endpoint, f"{last}, and a retry would pass the timeout",
                                unanswered=True)
        time.sleep(delay)


def transport_failure(exc: Exception) -> str:
    """Why a request failed below HTTP, in words: in xlwings Lite (Pyodide) a request the browser blocks
    raises a JavaScript NetworkError, most often a cross-origin (CORS) refusal."""
    name = type(exc).__name__
    if sys.platform == "emscripten" or name in ("JsException", "JsError"):
        return f"blocked by the browser (CORS)? The browser refused the request ({name})"
    return f"the request failed ({name})"


def _said(resp) -> str:
    """": <message>" from an error body like {"code": -1121, "msg": "Invalid symbol."}, else ""."""
    with contextlib.suppress(ValueError, AttributeError):
        body = resp.json()
        for key in ("msg", "message", "retMsg", "error"):
            if isinstance(body, dict) and isinstance(body.get(key), str) and body[key]:
                return f": {body[key][:60]}"
    return ""
