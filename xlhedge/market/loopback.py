"""A loopback HTTP server that answers like the four exchanges' public APIs.

Used by the tests and the benchmarks (exchanges are unreachable there) and
handy for trying the refresh offline. It serves the documented response
shapes, including the awkward parts: numbers as strings, empty funding fields
for delivery and pre-launch contracts, non-8h intervals, Bybit's HTTP-200
errors, cursor pagination, and newest-first history pages. Faults (429 with
Retry-After, 500s, slow answers, truncated or non-JSON bodies, dropped
connections) can be queued per exchange and path.

Each exchange lives under its own prefix: ``http://127.0.0.1:PORT/binance``
and so on; :meth:`LoopbackExchanges.env` gives the ``XLHEDGE_*_URL`` values.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections import Counter, defaultdict, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

HOUR_MS = 3_600_000
EPOCH_MS = 1_735_689_600_000  # 2025-01-01T00:00:00Z: first point of generated history


@dataclass
class Contract:
    """One perpetual as the fake exchange lists it."""

    base: str
    rate: str  # as the exchange sends it: a string, possibly ""
    interval_hours: float = 8.0
    mark: float = 100.0


def default_contracts() -> dict[str, list[Contract]]:
    """A small, hand-checkable market: BTC, ETH, SOL on every exchange (SOL pays every 4h)."""
    return {
        "binance": [Contract("BTC", "0.00010000", 8, 60000.0), Contract("ETH", "-0.00005000", 8, 3000.0),
                    Contract("SOL", "0.00020000", 4, 150.0), Contract("NEWCOIN", "", 8, 1.0)],
        "bybit": [Contract("BTC", "0.0001", 8, 60010.0), Contract("ETH", "0.0002", 8, 3001.0),
                  Contract("SOL", "-0.0001", 4, 150.1)],
        "okx": [Contract("BTC", "0.0001", 8, 60005.0), Contract("ETH", "-0.0001", 8, 3000.5),
                Contract("SOL", "0.00005", 4, 150.05)],
        "hyperliquid": [Contract("BTC", "0.0000125", 1, 60002.0), Contract("ETH", "-0.00001", 1, 3000.2),
                        Contract("SOL", "0.00002", 1, 150.02)],
    }


def many_contracts(n: int) -> dict[str, list[Contract]]:
    """``n`` contracts per exchange (for benchmarks): BTC, ETH, then ALT1, ALT2 ..."""
    bases = ["BTC", "ETH"] + [f"ALT{i}" for i in range(1, n - 1)]
    return {
        ex: [Contract(b, f"{0.0001 * ((i % 7) - 3):.8f}", 1 if ex == "hyperliquid" else 8, 10.0 + i)
             for i, b in enumerate(bases[:n])]
        for ex in ("binance", "bybit", "okx", "hyperliquid")
    }


@dataclass
class Fault:
    """What to do instead of a normal answer (used once, or ``times`` times)."""

    status: int = 200
    headers: dict = field(default_factory=dict)
    body: bytes | None = None
    delay: float = 0.0
    drop: bool = False  # close the connection without answering
    times: int = 1


def _hist_rate(symbol: str, t_ms: int) -> float:
    k = (t_ms - EPOCH_MS) // HOUR_MS
    return round(0.0001 * ((k + len(symbol)) % 5 - 1), 8)


#: Beta to BTC of the generated price histories (every other coin: 1.0).
BETAS = {"BTC": 1.0, "ETH": 1.2, "SOL": 1.5}


def _base(symbol: str) -> str:
    for suffix in ("-USDT-SWAP", "USDT"):
        if symbol.endswith(suffix):
            return symbol[: -len(suffix)]
    return symbol


def _hist_close(symbol: str, t_ms: int) -> float:
    """Close at ``t_ms``: log price = beta x a common BTC driver, so log returns regress exactly."""
    k = (t_ms - EPOCH_MS) // HOUR_MS
    driver = 0.03 * math.sin(k * 0.37) + 0.02 * math.sin(k * 0.071) + 0.01 * ((k * 7) % 11 - 5) / 5
    return 100.0 * math.exp(BETAS.get(_base(symbol), 1.0) * driver)


class LoopbackExchanges:
    """The server: start with :meth:`start`, stop with :meth:`stop` (or use as a context manager)."""

    def __init__(self, contracts=None, latency: float = 0.0, page_size: int = 2):
        self.contracts = contracts or default_contracts()
        self.latency = latency
        self.page_size = page_size  # Bybit instruments-info page size, to force cursor pagination
        self.okx_any_supported = True
        self.faults: dict[tuple[str, str], deque] = defaultdict(deque)
        self.hits: Counter = Counter()
        self.now_ms = int(time.time() * 1000) // HOUR_MS * HOUR_MS  # history runs up to the present
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    # ------------------------------------------------------------ control
    def start(self) -> LoopbackExchanges:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # keep test output clean
                pass

            def do_GET(self):
                owner._handle(self, None)

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                owner._handle(self, self.rfile.read(length))

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def env(self) -> dict[str, str]:
        """``XLHEDGE_<EXCHANGE>_URL`` for each exchange, pointing here."""
        return {f"XLHEDGE_{ex.upper()}_URL": f"{self.url}/{ex}" for ex in default_contracts()}

    def fault(self, exchange: str, path: str, fault: Fault) -> None:
        """Queue a fault for the next request(s) to ``/exchange/path`` ("*" for any path)."""
        self.faults[(exchange, path)].append(fault)

    # ------------------------------------------------------------ serving
    def _take_fault(self, exchange: str, path: str) -> Fault | None:
        with self._lock:
            for key in ((exchange, path), (exchange, "*")):
                queue = self.faults.get(key)
                if queue:
                    fault = queue[0]
                    fault.times -= 1
                    if fault.times <= 0:
                        queue.popleft()
                    return fault
        return None

    def _handle(self, handler: BaseHTTPRequestHandler, body: bytes | None) -> None:
        parsed = urlparse(handler.path)
        _, exchange, *rest = parsed.path.split("/", 2)
        path = "/" + (rest[0] if rest else "")
        query = {k: v[-1] for k, v in parse_qs(parsed.query).items()}
        with self._lock:
            self.hits[(exchange, path)] += 1
        if self.latency:
            time.sleep(self.latency)
        fault = self._take_fault(exchange, path)
        if fault is not None:
            if fault.delay:
                time.sleep(fault.delay)
            if fault.drop:
                handler.close_connection = True
                handler.connection.close()
                return
            if fault.body is not None or fault.status != 200:
                self._send(handler, fault.status, fault.body or b'{"msg":"fault"}', fault.headers)
                return
        try:
            payload = self._answer(exchange, path, query, json.loads(body) if body else None)
        except LookupError:
            self._send(handler, 404, b'{"msg":"not found"}')
            return
        self._send(handler, 200, json.dumps(payload).encode())

    @staticmethod
    def _send(handler, status: int, data: bytes, headers: dict | None = None) -> None:
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(data)))
            for key, value in (headers or {}).items():
                handler.send_header(key, value)
            handler.end_headers()
            handler.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _answer(self, exchange: str, path: str, q: dict, body: dict | None):
        route = getattr(self, f"_{exchange}", None)
        if route is None:
            raise LookupError(exchange)
        return route(path, q, body)

    def _next_ms(self, hours: float) -> int:
        step = int(hours * HOUR_MS)
        return (self.now_ms // step + 1) * step

    # ------------------------------------------------------------ exchanges
    def _binance(self, path, q, body):
        cs = self.contracts["binance"]
        if path == "/fapi/v1/premiumIndex":
            if "symbol" in q:  # the per-symbol form
                cs = [c for c in cs if f"{c.base}USDT" == q["symbol"]]
            out = [{"symbol": f"{c.base}USDT", "markPrice": f"{c.mark:.8f}", "indexPrice": f"{c.mark:.8f}",
                    "estimatedSettlePrice": f"{c.mark:.8f}", "lastFundingRate": c.rate,
                    "interestRate": "0.00010000", "nextFundingTime": self._next_ms(c.interval_hours) if c.rate else 0,
                    "time": self.now_ms} for c in cs]
            if "symbol" in q:
                return out[0] if out else {"code": -1121, "msg": "Invalid symbol."}
            out.append({"symbol": "BTCUSDT_260327", "markPrice": "61000.1", "indexPrice": "60000",
                        "estimatedSettlePrice": "60000", "lastFundingRate": "", "interestRate": "",
                        "nextFundingTime": 0, "time": self.now_ms})
            return out
        if path == "/fapi/v1/fundingInfo":
            return [{"symbol": f"{c.base}USDT", "adjustedFundingRateCap": "0.02000000",
                     "adjustedFundingRateFloor": "-0.02000000", "fundingIntervalHours": int(c.interval_hours),
                     "disclaimer": False} for c in cs if c.interval_hours != 8]
        if path == "/fapi/v1/fundingRate":
            return [{"symbol": q["symbol"], "fundingRate": f"{r:.8f}", "fundingTime": t, "markPrice": "1.0"}
                    for t, r in self._series(q["symbol"], 8, int(q["startTime"]), int(q["endTime"]),
                                             int(q.get("limit", 100)), _hist_rate)]
        if path == "/fapi/v1/klines":
            hours = {"1h": 1, "4h": 4, "1d": 24}[q["interval"]]
            return [[t, "1", "1", "1", repr(c), "10", t + hours * HOUR_MS - 1, "10", 5, "5", "5", "0"]
                    for t, c in self._series(q["symbol"], hours, int(q["startTime"]), int(q["endTime"]),
                                             int(q.get("limit", 500)), _hist_close)]
        raise LookupError(path)

    def _bybit(self, path, q, body):
        cs = self.contracts["bybit"]

        def ok(result):
            return {"retCode": 0, "retMsg": "OK", "result": result, "retExtInfo": {}, "time": self.now_ms}

        if q.get("category") != "linear":
            return {"retCode": 10001, "retMsg": "params error: category", "result": {}, "retExtInfo": {}}
        if path == "/v5/market/tickers":
            if "symbol" in q:
                cs = [c for c in cs if f"{c.base}USDT" == q["symbol"]]
            items = [{"symbol": f"{c.base}USDT", "lastPrice": f"{c.mark}", "indexPrice": f"{c.mark}",
                      "markPrice": f"{c.mark}", "fundingRate": c.rate,
                      "nextFundingTime": str(self._next_ms(c.interval_hours)), "openInterest": "1"} for c in cs]
            if "symbol" in q:
                return ok({"category": "linear", "list": items})
            items.append({"symbol": "BTC-26DEC25", "lastPrice": "61000", "markPrice": "61000",
                          "fundingRate": "", "nextFundingTime": "0"})
            return ok({"category": "linear", "list": items})
        if path == "/v5/market/instruments-info":
            items = [{"symbol": f"{c.base}USDT", "contractType": "LinearPerpetual", "status": "Trading",
                      "baseCoin": c.base, "quoteCoin": "USDT", "fundingInterval": int(c.interval_hours * 60),
                      "lotSizeFilter": {"qtyStep": "0.001"}} for c in cs]
            items.append({"symbol": "BTC-26DEC25", "contractType": "LinearFutures", "status": "Trading",
                          "baseCoin": "BTC", "quoteCoin": "USDT", "fundingInterval": 0})
            start = int(q.get("cursor") or 0)
            size = min(int(q.get("limit", 500)), self.page_size)
            page = items[start:start + size]
            cursor = str(start + size) if start + size < len(items) else ""
            return ok({"category": "linear", "list": page, "nextPageCursor": cursor})
        if path == "/v5/market/funding/history":
            rows = self._series(q["symbol"], 8, int(q["startTime"]), int(q["endTime"]),
                                int(q.get("limit", 200)), _hist_rate, newest_first=True)
            return ok({"category": "linear", "list": [
                {"symbol": q["symbol"], "fundingRate": f"{r}", "fundingRateTimestamp": str(t)} for t, r in rows]})
        if path == "/v5/market/kline":
            hours = {"60": 1, "240": 4, "D": 24}[q["interval"]]
            rows = self._series(q["symbol"], hours, int(q["start"]), int(q["end"]),
                                int(q.get("limit", 200)), _hist_close, newest_first=True)
            return ok({"category": "linear", "symbol": q["symbol"],
                       "list": [[str(t), "1", "1", "1", repr(c), "1", "1"] for t, c in rows]})
        raise LookupError(path)

    def _okx(self, path, q, body):
        cs = self.contracts["okx"]

        def ok(data):
            return {"code": "0", "msg": "", "data": data}

        def item(c):
            nxt = self._next_ms(c.interval_hours)
            this = nxt - int(c.interval_hours * HOUR_MS)
            return {"instType": "SWAP", "instId": f"{c.base}-USDT-SWAP", "method": "current_period",
                    "fundingRate": c.rate, "nextFundingRate": "", "fundingTime": str(this),
                    "nextFundingTime": str(nxt), "minFundingRate": "-0.0075", "maxFundingRate": "0.0075",
                    "settState": "settled", "settFundingRate": c.rate, "premium": "0.0001",
                    "ts": str(self.now_ms)}

        if path == "/api/v5/public/funding-rate":
            inst = q.get("instId", "")
            if inst == "ANY":
                if not self.okx_any_supported:
                    return {"code": "51001", "msg": "Instrument ID does not exist", "data": []}
                coin = {"instType": "SWAP", "instId": "BTC-USD-SWAP", "fundingRate": "0.0001",
                        "fundingTime": str(self.now_ms), "nextFundingTime": str(self.now_ms + 8 * HOUR_MS)}
                return ok([item(c) for c in cs] + [coin])
            found = [item(c) for c in cs if f"{c.base}-USDT-SWAP" == inst]
            return ok(found) if found else {"code": "51001", "msg": "Instrument ID does not exist", "data": []}
        if path == "/api/v5/public/mark-price":
            if "instId" in q:
                cs = [c for c in cs if f"{c.base}-USDT-SWAP" == q["instId"]]
            return ok([{"instType": "SWAP", "instId": f"{c.base}-USDT-SWAP", "markPx": f"{c.mark}",
                        "ts": str(self.now_ms)} for c in cs])
        if path == "/api/v5/public/funding-rate-history":
            end = int(q.get("after", self.now_ms)) - 1
            rows = self._series(q["instId"], 8, EPOCH_MS, end, int(q.get("limit", 100)), _hist_rate,
                                newest_first=True)
            return ok([{"instType": "SWAP", "instId": q["instId"], "fundingRate": f"{r}",
                        "realizedRate": f"{r}", "fundingTime": str(t), "method": "current_period"}
                       for t, r in rows])
        if path == "/api/v5/market/history-candles":
            hours = {"1H": 1, "4H": 4, "1Dutc": 24}[q["bar"]]
            end = int(q.get("after", self.now_ms)) - 1
            rows = self._series(q["instId"], hours, EPOCH_MS, end, int(q.get("limit", 100)), _hist_close,
                                newest_first=True)
            return ok([[str(t), "1", "1", "1", repr(c), "1", "1", "1", "1"] for t, c in rows])
        raise LookupError(path)

    def _hyperliquid(self, path, q, body):
        cs = self.contracts["hyperliquid"]
        if path != "/info" or not isinstance(body, dict):
            raise LookupError(path)
        kind = body.get("type")
        if kind == "metaAndAssetCtxs":
            universe = [{"name": c.base, "szDecimals": 4, "maxLeverage": 50} for c in cs]
            universe.append({"name": "OLDCOIN", "szDecimals": 0, "maxLeverage": 3, "isDelisted": True})
            ctxs = [{"funding": c.rate, "openInterest": "100.0", "prevDayPx": f"{c.mark}",
                     "dayNtlVlm": "1000.0", "premium": "0.0001", "oraclePx": f"{c.mark}",
                     "markPx": f"{c.mark}", "midPx": f"{c.mark}", "impactPxs": [f"{c.mark}", f"{c.mark}"],
                     "dayBaseVlm": "10.0"} for c in cs]
            ctxs.append({"funding": "0.0", "markPx": "0.01", "openInterest": "0.0", "prevDayPx": "0.01",
                         "dayNtlVlm": "0.0", "premium": None, "oraclePx": "0.01", "midPx": None,
                         "impactPxs": None})
            return [{"universe": universe, "marginTables": []}, ctxs]
        if kind == "fundingHistory":
            rows = self._series(body["coin"], 1, int(body["startTime"]), int(body.get("endTime", self.now_ms)),
                                500, _hist_rate)
            return [{"coin": body["coin"], "fundingRate": f"{r}", "premium": "0.0", "time": t} for t, r in rows]
        if kind == "candleSnapshot":
            req = body["req"]
            hours = {"1h": 1, "4h": 4, "1d": 24}[req["interval"]]
            rows = self._series(req["coin"], hours, int(req["startTime"]), int(req["endTime"]), 5000,
                                _hist_close)
            return [{"t": t, "T": t + hours * HOUR_MS - 1, "s": req["coin"], "i": req["interval"],
                     "o": "1", "c": repr(c), "h": "1", "l": "1", "v": "1", "n": 1} for t, c in rows]
        raise LookupError(kind)

    def _series(self, symbol, hours, start, end, limit, value, newest_first=False):
        """Points every ``hours`` from EPOCH_MS to now within [start, end], at most ``limit``."""
        step = int(hours * HOUR_MS)
        end = min(end, self.now_ms)
        first = max(EPOCH_MS, start)
        first = EPOCH_MS + -(-(first - EPOCH_MS) // step) * step
        if first > end:
            return []
        count = (end - first) // step + 1
        if newest_first:
            last = first + (count - 1) * step
            times = [last - i * step for i in range(min(limit, count))]
        else:
            times = [first + i * step for i in range(min(limit, count))]
        return [(t, value(symbol, t)) for t in times]
