"""A loopback HTTP server that answers like the seven exchanges' public APIs (a test double).

Used by the tests and the benchmarks (exchanges are unreachable there) and
handy for trying the refresh offline. It serves the documented response
shapes, including the awkward parts: numbers as strings, empty funding fields
for delivery and pre-launch contracts, non-8h intervals, Bybit's HTTP-200
errors, cursor pagination, and newest-first history pages. Faults (429 with
Retry-After, 500s, slow answers, truncated or non-JSON bodies, dropped
connections) can be queued per exchange and path. Real captured bodies
(``tests/fixtures/real``) can be served instead of the generated answers with
:meth:`LoopbackExchanges.serve_body`, so the adapters are tested on what the
exchanges really send, through the same HTTP path.

Each exchange lives under its own prefix: ``http://127.0.0.1:PORT/binance``
and so on; :meth:`LoopbackExchanges.env` gives the ``XLHEDGE_*_URL`` values.
"""

from __future__ import annotations

import contextlib
import json
import math
import socket
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
    open_interest: float = 1000.0  # coins

    @property
    def index(self) -> float:
        """Index price: 0.1% under the mark, so the basis is visible (mark / index - 1 = 0.001001)."""
        return round(self.mark / 1.001, 6)


EXCHANGE_NAMES = ("binance", "bybit", "okx", "hyperliquid", "bingx", "mexc", "weex")


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
        "bingx": [Contract("BTC", "0.0001", 8, 60003.0), Contract("ETH", "0.00015", 8, 3000.3),
                  Contract("SOL", "-0.00002", 4, 150.03)],
        "mexc": [Contract("BTC", "0.000091", 8, 60004.0), Contract("ETH", "-0.00003", 8, 3000.4),
                 Contract("SOL", "0.00011", 1, 150.04)],
        "weex": [Contract("BTC", "0.00008", 8, 60006.0), Contract("ETH", "0.00004", 8, 3000.6),
                 Contract("SOL", "-0.00006", 4, 150.06)],
    }


def many_contracts(n: int) -> dict[str, list[Contract]]:
    """``n`` contracts per exchange (for benchmarks): BTC, ETH, then ALT1, ALT2 ..."""
    bases = ["BTC", "ETH"] + [f"ALT{i}" for i in range(1, n - 1)]
    return {
        ex: [Contract(b, f"{0.0001 * ((i % 7) - 3):.8f}", 1 if ex == "hyperliquid" else 8, 10.0 + i)
             for i, b in enumerate(bases[:n])]
        for ex in EXCHANGE_NAMES
    }


#: Contract size (coins per contract) the fake MEXC and OKX declare, as the real ones do.
CONTRACT_SIZES = {"BTC": 0.0001, "ETH": 0.01}


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


def _hist_open_interest(symbol: str, t_ms: int) -> float:
    """Open interest (coins) at ``t_ms``: 1000 growing 2% a day (compounded), so a week adds 14.9%."""
    days = (t_ms - EPOCH_MS) / (24 * HOUR_MS)
    return round(1000.0 * 1.02**days, 6)


#: Beta to BTC of the generated price histories (every other coin: 1.0).
BETAS = {"BTC": 1.0, "ETH": 1.2, "SOL": 1.5}


def _base(symbol: str) -> str:
    for suffix in ("-USDT-SWAP", "-USDT", "_USDT", "USDT"):
        if symbol.endswith(suffix):
            return symbol[: -len(suffix)]
    return symbol


def _hist_high(close: float) -> float:
    """The high of a served candle: 1% above its close (each exchange's own field, so a parser that
    reads the wrong column shows)."""
    return round(close * 1.01, 2)


def _hist_open(close: float) -> float:
    """The open of a served candle: 0.5% under its close (as _hist_high, each exchange's own field)."""
    return round(close * 0.995, 2)


def _hist_low(close: float) -> float:
    """The low of a served candle: 1.5% under its close."""
    return round(close * 0.985, 2)


def _ohlc(close: float) -> list[str]:
    """Open, high, low and close of a served candle, as text (the exchanges send prices as strings)."""
    return [repr(_hist_open(close)), repr(_hist_high(close)), repr(_hist_low(close)), repr(close)]


def _hist_index(symbol: str, t_ms: int) -> float:
    """The index at ``t_ms``: the perpetual's close less a basis that swings between -0.3% and +0.3%
    (close = index x (1 + basis)), so a backtest with both series gains or loses a known amount."""
    return _hist_close(symbol, t_ms) / (1.0 + hist_basis(t_ms))


def hist_basis(t_ms: int) -> float:
    """The perpetual's premium over the index at ``t_ms`` (a fraction)."""
    return 0.003 * math.sin((t_ms - EPOCH_MS) / (24 * HOUR_MS) * 0.9)


def _hist_close(symbol: str, t_ms: int) -> float:
    """Close at ``t_ms``: log price = beta x a common BTC driver, so log returns regress exactly."""
    k = (t_ms - EPOCH_MS) // HOUR_MS
    driver = 0.03 * math.sin(k * 0.37) + 0.02 * math.sin(k * 0.071) + 0.01 * ((k * 7) % 11 - 5) / 5
    return 100.0 * math.exp(BETAS.get(_base(symbol), 1.0) * driver)


class LoopbackExchanges:
    """The server: start with :meth:`start`, stop with :meth:`stop` (or use as a context manager)."""

    def __init__(self, contracts=None, latency: float = 0.0, page_size: int = 2, memo: bool = False):
        self.contracts = contracts or default_contracts()
        self.latency = latency
        # memo: encode each distinct request's answer once and serve the bytes after (the benchmark's
        # exchanges, whose contracts do not change: one interpreter must not be the exchanges' bottleneck)
        self.memo: dict | None = {} if memo else None
        self.page_size = page_size  # Bybit instruments-info and risk-limit page size, to force cursor pagination
        self.okx_any_supported = True
        self.faults: dict[tuple[str, str], deque] = defaultdict(deque)
        self.bodies: dict[tuple[str, str], bytes] = {}
        self.hits: Counter = Counter()
        self.connections = 0  # TCP connections accepted (a kept-alive one serves several requests)
        self._open: set = set()  # the sockets of the connections still open
        self.now_ms = int(time.time() * 1000) // HOUR_MS * HOUR_MS  # history runs up to the present
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    # ------------------------------------------------------------ control
    def start(self) -> LoopbackExchanges:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, *args):  # keep test output clean
                pass

            def setup(self):
                super().setup()
                with owner._lock:
                    owner.connections += 1
                    owner._open.add(self.connection)

            def finish(self):
                with owner._lock:
                    owner._open.discard(self.connection)
                super().finish()

            def do_GET(self):
                owner._handle(self, None)

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                owner._handle(self, self.rfile.read(length))

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def drop_connections(self) -> None:
        """Close every open connection from this side, as a server does with a connection idle too long."""
        with self._lock:
            sockets = list(self._open)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

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
        return {f"XLHEDGE_{ex.upper()}_URL": f"{self.url}/{ex}" for ex in EXCHANGE_NAMES}

    def serve_body(self, exchange: str, path: str, body: bytes) -> None:
        """Answer every request to ``/exchange/path`` with ``body`` (a real captured answer)."""
        self.bodies[(exchange, path)] = body

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
        if (exchange, path) in self.bodies:
            self._send(handler, 200, self.bodies[(exchange, path)])
            return
        key = (exchange, path, tuple(sorted(query.items())), body)
        data = self.memo.get(key) if self.memo is not None else None
        if data is None:
            try:
                payload = self._answer(exchange, path, query, json.loads(body) if body else None)
            except LookupError:
                self._send(handler, 404, b'{"msg":"not found"}')
                return
            data = json.dumps(payload).encode()
            if self.memo is not None:
                self.memo[key] = data
        self._send(handler, 200, data)

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
            out = [{"symbol": f"{c.base}USDT", "markPrice": f"{c.mark:.8f}", "indexPrice": f"{c.index:.8f}",
                    "estimatedSettlePrice": f"{c.mark:.8f}", "lastFundingRate": c.rate,
                    "interestRate": "0.00010000", "nextFundingTime": self._next_ms(c.interval_hours) if c.rate else 0,
                    "time": self.now_ms} for c in cs]
            if "symbol" in q:
                return out[0] if out else {"code": -1121, "msg": "Invalid symbol."}
            out.append({"symbol": "BTCUSDT_260327", "markPrice": "61000.1", "indexPrice": "60000",
                        "estimatedSettlePrice": "60000", "lastFundingRate": "0.00000000", "interestRate": "0.00000000",
                        "nextFundingTime": 0, "time": self.now_ms})
            return out
        if path == "/fapi/v1/exchangeInfo":  # the order rules: steps and minimums as filters (strings)
            return {"timezone": "UTC", "serverTime": self.now_ms, "symbols": [
                {"symbol": f"{c.base}USDT", "contractType": "PERPETUAL", "status": "TRADING", "filters": [
                    {"filterType": "LOT_SIZE", "stepSize": "0.001", "minQty": "0.001", "maxQty": "1000"},
                    {"filterType": "MARKET_LOT_SIZE", "stepSize": "0.001", "minQty": "0.001", "maxQty": "120"},
                    {"filterType": "MIN_NOTIONAL", "notional": "100"}]} for c in cs]}
        if path == "/fapi/v1/fundingInfo":
            return [{"symbol": f"{c.base}USDT", "adjustedFundingRateCap": "0.02000000",
                     "adjustedFundingRateFloor": "-0.02000000", "fundingIntervalHours": int(c.interval_hours),
                     "disclaimer": False} for c in cs if c.interval_hours != 8]
        if path == "/fapi/v1/openInterest":
            found = [c for c in cs if f"{c.base}USDT" == q.get("symbol")]
            if not found:
                raise LookupError(path)
            return {"openInterest": f"{found[0].open_interest:.3f}", "symbol": q["symbol"], "time": self.now_ms}
        if path == "/fapi/v1/fundingRate":
            return [{"symbol": q["symbol"], "fundingRate": f"{r:.8f}", "fundingTime": t, "markPrice": "1.0"}
                    for t, r in self._series(q["symbol"], 8, int(q["startTime"]), int(q["endTime"]),
                                             int(q.get("limit", 100)), _hist_rate)]
        if path == "/futures/data/openInterestHist":  # numbers as the live API sends them (see fixtures)
            return [{"symbol": q["symbol"], "sumOpenInterest": f"{v:.8f}", "sumOpenInterestValue": f"{v * 100:.8f}",
                     "CMCCirculatingSupply": "0", "timestamp": t}
                    for t, v in self._series(q["symbol"], 24, int(q["startTime"]), int(q["endTime"]),
                                             int(q.get("limit", 30)), _hist_open_interest)]
        if path == "/fapi/v1/indexPriceKlines":  # rows shaped like klines; asked by pair
            hours = {"1h": 1, "4h": 4, "1d": 24}[q["interval"]]
            return [[t, "1", "1", "1", repr(c), "0", t + hours * HOUR_MS - 1, "0", 60, "0", "0", "0"]
                    for t, c in self._series(q["pair"], hours, int(q["startTime"]), int(q["endTime"]),
                                             int(q.get("limit", 500)), _hist_index)]
        if path == "/fapi/v1/klines":
            hours = {"1h": 1, "4h": 4, "1d": 24}[q["interval"]]
            return [[t, *_ohlc(c), "10", t + hours * HOUR_MS - 1, "10", 5, "5", "5", "0"]
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
            items = [{"symbol": f"{c.base}USDT", "lastPrice": f"{c.mark}", "indexPrice": f"{c.index}",
                      "markPrice": f"{c.mark}", "fundingRate": c.rate, "openInterest": f"{c.open_interest}",
                      "openInterestValue": f"{c.open_interest * c.mark:.2f}",
                      "nextFundingTime": str(self._next_ms(c.interval_hours)),
                      "fundingIntervalHour": str(int(c.interval_hours))} for c in cs]
            if "symbol" in q:
                return ok({"category": "linear", "list": items})
            items.append({"symbol": "BTC-26DEC25", "lastPrice": "61000", "markPrice": "61000",
                          "fundingRate": "", "nextFundingTime": "0"})
            return ok({"category": "linear", "list": items})
        if path == "/v5/market/instruments-info":
            items = [{"symbol": f"{c.base}USDT", "contractType": "LinearPerpetual", "status": "Trading",
                      "baseCoin": c.base, "quoteCoin": "USDT", "fundingInterval": int(c.interval_hours * 60),
                      "lotSizeFilter": {"qtyStep": "0.001", "minOrderQty": "0.001", "minNotionalValue": "5"},
                      "leverageFilter": {"minLeverage": "1", "maxLeverage": "100.00"}} for c in cs]
            items.append({"symbol": "BTC-26DEC25", "contractType": "LinearFutures", "status": "Trading",
                          "baseCoin": "BTC", "quoteCoin": "USDT", "fundingInterval": 0})
            page, cursor = self._bybit_page(items, q, int(q.get("limit", 500)))
            return ok({"category": "linear", "list": page, "nextPageCursor": cursor})
        if path == "/v5/market/funding/history":
            rows = self._series(q["symbol"], 8, int(q["startTime"]), int(q["endTime"]),
                                int(q.get("limit", 200)), _hist_rate, newest_first=True)
            return ok({"category": "linear", "list": [
                {"symbol": q["symbol"], "fundingRate": f"{r}", "fundingRateTimestamp": str(t)} for t, r in rows]})
        if path == "/v5/market/open-interest":
            rows = self._series(q["symbol"], 24, int(q["startTime"]), int(q["endTime"]),
                                int(q.get("limit", 50)), _hist_open_interest, newest_first=True)
            return ok({"symbol": q["symbol"], "category": "linear", "nextPageCursor": "",
                       "list": [{"openInterest": f"{v:.8f}", "timestamp": str(t)} for t, v in rows]})
        if path == "/v5/market/index-price-kline":
            hours = {"60": 1, "240": 4, "D": 24}[q["interval"]]
            rows = self._series(q["symbol"], hours, int(q["start"]), int(q["end"]),
                                int(q.get("limit", 200)), _hist_index, newest_first=True)
            return ok({"category": "linear", "symbol": q["symbol"],
                       "list": [[str(t), "1", "1", "1", repr(c)] for t, c in rows]})
        if path == "/v5/market/risk-limit":  # three tiers, listed highest first, with their deductions
            tiers = [("3000000", "0.02", "20010"), ("2000000", "0.01", "10"), ("2000", "0.005", "0")]

            def limits(symbol):
                return [{"id": 3 - i, "symbol": symbol, "riskLimitValue": cap, "maintenanceMargin": mm,
                         "initialMargin": "0.01", "isLowestRisk": int(i == 2), "maxLeverage": "100.00",
                         "mmDeduction": cut} for i, (cap, mm, cut) in enumerate(tiers)]
            if "symbol" in q:
                return ok({"category": "linear", "nextPageCursor": "", "list": limits(q["symbol"])})
            # every contract, page_size contracts a page
            symbols, cursor = self._bybit_page([f"{c.base}USDT" for c in cs], q, self.page_size)
            return ok({"category": "linear", "nextPageCursor": cursor,
                       "list": [item for symbol in symbols for item in limits(symbol)]})
        if path == "/v5/market/kline":
            hours = {"60": 1, "240": 4, "D": 24}[q["interval"]]
            rows = self._series(q["symbol"], hours, int(q["start"]), int(q["end"]),
                                int(q.get("limit", 200)), _hist_close, newest_first=True)
            return ok({"category": "linear", "symbol": q["symbol"],
                       "list": [[str(t), *_ohlc(c), "1", "1"] for t, c in rows]})
        raise LookupError(path)

    def _okx(self, path, q, body):
        cs = self.contracts["okx"]

        def ok(data):
            return {"code": "0", "msg": "", "data": data}

        def item(c):
            # as OKX sends it: fundingTime is the upcoming settlement, nextFundingTime the one after
            upcoming = self._next_ms(c.interval_hours)
            return {"instType": "SWAP", "instId": f"{c.base}-USDT-SWAP", "method": "current_period",
                    "formulaType": "noRate", "fundingRate": c.rate, "nextFundingRate": "",
                    "fundingTime": str(upcoming), "nextFundingTime": str(upcoming + int(c.interval_hours * HOUR_MS)),
                    "minFundingRate": "-0.0075", "maxFundingRate": "0.0075", "settState": "settled",
                    "settFundingRate": c.rate, "premium": "0.0001", "ts": str(self.now_ms)}

        if path == "/api/v5/public/position-tiers":  # two tiers, sizes in contracts; isolated asked
            family = q.get("instFamily", "")
            if q.get("instType") != "SWAP" or q.get("tdMode") != "isolated" or \
                    family not in {f"{c.base}-USDT" for c in cs}:
                return {"code": "51000", "msg": "Parameter instFamily error", "data": []}
            return ok([{"baseMaxLoan": "", "imr": imr, "instFamily": family, "instId": "", "maxLever": lever,
                        "maxSz": top, "minSz": low, "mmr": mmr, "optMgnFactor": "0", "quoteMaxLoan": "",
                        "tier": tier, "uly": family}
                       for tier, low, top, mmr, imr, lever in (("2", "1001", "3000", "0.006", "0.0133", "75"),
                                                               ("1", "0", "1000", "0.004", "0.01", "100"))])
        if path == "/api/v5/public/funding-rate":
            inst = q.get("instId", "")
            if inst == "ANY":
                if not self.okx_any_supported:
                    return {"code": "51001", "msg": "Instrument ID does not exist", "data": []}
                coin = {"instType": "SWAP", "instId": "BTC-USD-SWAP", "fundingRate": "0.0001",
                        "fundingTime": str(self._next_ms(8)), "nextFundingTime": str(self._next_ms(8) + 8 * HOUR_MS)}
                return ok([item(c) for c in cs] + [coin])
            found = [item(c) for c in cs if f"{c.base}-USDT-SWAP" == inst]
            return ok(found) if found else {"code": "51001", "msg": "Instrument ID does not exist", "data": []}
        if path == "/api/v5/public/mark-price":
            if "instId" in q:
                cs = [c for c in cs if f"{c.base}-USDT-SWAP" == q["instId"]]
            marks = [{"instType": "SWAP", "instId": f"{c.base}-USDT-SWAP", "markPx": f"{c.mark}",
                      "ts": str(self.now_ms)} for c in cs]
            return ok([*marks, {"instType": "SWAP", "instId": "BTC-USD-SWAP", "markPx": "60001.0",
                                "ts": str(self.now_ms)}])
        if path == "/api/v5/public/instruments":
            specs = [{"instType": "SWAP", "instId": f"{c.base}-USDT-SWAP", "uly": f"{c.base}-USDT",
                      "settleCcy": "USDT", "ctVal": f"{CONTRACT_SIZES.get(c.base, 1)}", "ctValCcy": c.base,
                      "ctType": "linear", "state": "live", "lotSz": "0.01", "minSz": "0.01", "lever": "100"}
                     for c in cs]
            inverse = {"instType": "SWAP", "instId": "BTC-USD-SWAP", "uly": "BTC-USD", "settleCcy": "BTC",
                       "ctVal": "100", "ctValCcy": "USD", "ctType": "inverse", "state": "live", "lotSz": "1",
                       "minSz": "1", "lever": "100"}
            return ok([*specs, inverse])
        if path == "/api/v5/public/open-interest":
            return ok([{"instType": "SWAP", "instId": f"{c.base}-USDT-SWAP", "oi": f"{c.open_interest * 100}",
                        "oiCcy": f"{c.open_interest}", "oiUsd": f"{c.open_interest * c.mark:.2f}",
                        "ts": str(self.now_ms)} for c in cs])
        if path == "/api/v5/market/index-tickers":
            quote = q.get("quoteCcy", "USDT")
            out = [{"instId": f"{c.base}-{quote}", "idxPx": f"{c.index}", "ts": str(self.now_ms)} for c in cs]
            return ok(out)
        if path == "/api/v5/public/funding-rate-history":
            end = int(q.get("after", self.now_ms)) - 1
            rows = self._series(q["instId"], 8, EPOCH_MS, end, int(q.get("limit", 100)), _hist_rate,
                                newest_first=True)
            return ok([{"instType": "SWAP", "instId": q["instId"], "fundingRate": f"{r}",
                        "realizedRate": f"{r}", "fundingTime": str(t), "method": "current_period"}
                       for t, r in rows])
        if path == "/api/v5/market/history-index-candles":  # the index of BTC-USDT-SWAP is BTC-USDT
            hours = {"1H": 1, "4H": 4, "1Dutc": 24}[q["bar"]]
            end = int(q.get("after", self.now_ms)) - 1
            rows = self._series(q["instId"], hours, EPOCH_MS, end, int(q.get("limit", 100)), _hist_index,
                                newest_first=True)
            return ok([[str(t), "1", "1", "1", repr(c), "0" if t + hours * HOUR_MS > self.now_ms else "1"]
                       for t, c in rows])
        if path == "/api/v5/market/history-candles":
            hours = {"1H": 1, "4H": 4, "1Dutc": 24}[q["bar"]]
            end = int(q.get("after", self.now_ms)) - 1
            rows = self._series(q["instId"], hours, EPOCH_MS, end, int(q.get("limit", 100)), _hist_close,
                                newest_first=True)
            # the newest candle is still open: OKX marks it confirm "0"
            return ok([[str(t), *_ohlc(c), "1", "1", "1",
                        "0" if t + hours * HOUR_MS > self.now_ms else "1"] for t, c in rows])
        raise LookupError(path)

    def _hyperliquid(self, path, q, body):
        cs = self.contracts["hyperliquid"]
        if path != "/info" or not isinstance(body, dict):
            raise LookupError(path)
        kind = body.get("type")
        if kind == "metaAndAssetCtxs":
            universe = [{"name": c.base, "szDecimals": 4, "maxLeverage": 50} for c in cs]
            universe.append({"name": "OLDCOIN", "szDecimals": 0, "maxLeverage": 3, "isDelisted": True})
            ctxs = [{"funding": c.rate, "openInterest": f"{c.open_interest}", "prevDayPx": f"{c.mark}",
                     "dayNtlVlm": "1000.0", "premium": "0.0001", "oraclePx": f"{c.index}",
                     "markPx": f"{c.mark}", "midPx": f"{c.mark}", "impactPxs": [f"{c.mark}", f"{c.mark}"],
                     "dayBaseVlm": "10.0"} for c in cs]
            ctxs.append({"funding": "0.0", "markPx": "0.01", "openInterest": "0.0", "prevDayPx": "0.01",
                         "dayNtlVlm": "0.0", "premium": None, "oraclePx": "0.01", "midPx": None,
                         "impactPxs": None})
            return [{"universe": universe, "marginTables": []}, ctxs]
        if kind == "meta":  # BTC on a two-tier table (50x, then 25x from 10,000 USD), the rest one tier of 10x
            universe = [{"name": c.base, "szDecimals": 4, "maxLeverage": 50 if c.base == "BTC" else 10,
                         "marginTableId": 60 if c.base == "BTC" else 10} for c in cs]
            tiers = [{"lowerBound": "0.0", "maxLeverage": 50}, {"lowerBound": "10000.0", "maxLeverage": 25}]
            tables = [[60, {"description": "tiered 50x", "marginTiers": tiers}]]
            return {"universe": universe, "marginTables": tables, "collateralToken": 0}
        if kind == "fundingHistory":
            rows = self._series(body["coin"], 1, int(body["startTime"]), int(body.get("endTime", self.now_ms)),
                                500, _hist_rate)
            return [{"coin": body["coin"], "fundingRate": f"{r}", "premium": "0.0", "time": t} for t, r in rows]
        if kind == "candleSnapshot":
            req = body["req"]
            hours = {"1h": 1, "4h": 4, "1d": 24}[req["interval"]]
            # like the real one: the candle that contains startTime comes first, even if it opened before
            step = hours * HOUR_MS
            first = int(req["startTime"]) // step * step
            rows = self._series(req["coin"], hours, first, int(req["endTime"]), 5000, _hist_close)
            return [{"t": t, "T": t + hours * HOUR_MS - 1, "s": req["coin"], "i": req["interval"],
                     **dict(zip("ohlc", _ohlc(c), strict=True)), "v": "1", "n": 1} for t, c in rows]
        raise LookupError(kind)

    def _bingx(self, path, q, body):
        cs = self.contracts["bingx"]

        def ok(data):
            return {"code": 0, "msg": "", "data": data}

        if path == "/openApi/swap/v2/quote/premiumIndex":
            items = [{"symbol": f"{c.base}-USDT", "markPrice": f"{c.mark}", "indexPrice": f"{c.index}",
                      "lastFundingRate": c.rate, "nextFundingTime": self._next_ms(c.interval_hours),
                      "fundingIntervalHours": int(c.interval_hours)} for c in cs]
            if "symbol" in q:  # the per-symbol form answers one object
                found = [i for i in items if i["symbol"] == q["symbol"]]
                return ok(found[0]) if found else {"code": 109400, "msg": "symbol not exist", "data": {}}
            return ok(items)
        if path == "/openApi/swap/v2/quote/contracts":  # the order rules, numbers as strings
            return ok([{"contractId": str(100 + i), "symbol": f"{c.base}-USDT", "size": "0.0001",
                        "quantityPrecision": "4", "pricePrecision": "1", "tradeMinQuantity": "0.0001",
                        "tradeMinUSDT": "2", "maxLongLeverage": "125", "maxShortLeverage": "100",
                        "currency": "USDT", "asset": c.base, "status": "1"} for i, c in enumerate(cs)])
        if path == "/openApi/swap/v2/quote/openInterest":
            found = [c for c in cs if f"{c.base}-USDT" == q.get("symbol")]
            if not found:
                return {"code": 109400, "msg": "symbol not exist", "data": {}}
            c = found[0]
            return ok({"openInterest": f"{c.open_interest * c.mark:.2f}", "symbol": q["symbol"], "time": self.now_ms})
        if path == "/openApi/swap/v2/quote/fundingRate":
            rows = self._series(q["symbol"], 8, int(q["startTime"]), int(q["endTime"]), int(q.get("limit", 100)),
                                _hist_rate)
            return ok([{"symbol": q["symbol"], "fundingRate": f"{r}", "fundingTime": t} for t, r in reversed(rows)])
        if path == "/openApi/swap/v3/quote/klines":
            hours = {"1h": 1, "4h": 4, "1d": 24}[q["interval"]]
            rows = self._series(q["symbol"], hours, int(q["startTime"]), int(q["endTime"]), int(q.get("limit", 500)),
                                _hist_close)
            return ok([{**dict(zip(("open", "high", "low", "close"), _ohlc(c), strict=True)), "volume": "1",
                        "time": t} for t, c in reversed(rows)])
        raise LookupError(path)

    def _mexc(self, path, q, body):
        cs = self.contracts["mexc"]

        def ok(data):
            return {"success": True, "code": 0, "data": data}

        if path.startswith("/api/v1/contract/funding_rate") and not path.endswith("/history"):
            items = [{"symbol": f"{c.base}_USDT", "fundingRate": float(c.rate), "maxFundingRate": 0.0018,
                      "minFundingRate": -0.0018, "collectCycle": int(c.interval_hours),
                      "nextSettleTime": self._next_ms(c.interval_hours), "timestamp": self.now_ms,
                      "idxPrice": c.index, "fairPrice": c.mark} for c in cs]
            if path != "/api/v1/contract/funding_rate":  # the per-symbol form: .../funding_rate/BTC_USDT
                found = [i for i in items if i["symbol"] == path.rsplit("/", 1)[-1]]
                return ok(found[0]) if found else {"success": False, "code": 1001, "message": "contract not exist"}
            return ok(items)
        if path == "/api/v1/contract/detail":
            return ok([{"symbol": f"{c.base}_USDT", "baseCoin": c.base, "quoteCoin": "USDT", "settleCoin": "USDT",
                        "contractSize": CONTRACT_SIZES.get(c.base, 1.0), "state": 0, "minVol": 1, "volUnit": 1,
                        "maxLeverage": 125} for c in cs])
        if path == "/api/v1/contract/ticker":
            return ok([{"symbol": f"{c.base}_USDT", "fairPrice": c.mark, "indexPrice": c.index,
                        "holdVol": round(c.open_interest / CONTRACT_SIZES.get(c.base, 1.0))} for c in cs])
        if path == "/api/v1/contract/funding_rate/history":
            size, page = int(q.get("page_size", 20)), int(q.get("page_num", 1))
            rows = self._series(q["symbol"], 8, EPOCH_MS, self.now_ms, 10**9, _hist_rate, newest_first=True)
            chunk = rows[(page - 1) * size: page * size]
            return ok({"pageSize": size, "totalCount": len(rows), "totalPage": -(-len(rows) // size),
                       "currentPage": page,
                       "resultList": [{"symbol": q["symbol"], "fundingRate": r, "settleTime": t} for t, r in chunk]})
        if path.startswith("/api/v1/contract/kline/"):
            symbol = path.rsplit("/", 1)[-1]
            hours = {"Min60": 1, "Hour4": 4, "Day1": 24}[q["interval"]]
            value = _hist_index if path.startswith("/api/v1/contract/kline/index_price/") else _hist_close
            rows = self._series(symbol, hours, int(q["start"]) * 1000, int(q["end"]) * 1000, 2000, value)
            return ok({"time": [t // 1000 for t, _ in rows], "open": [_hist_open(c) for _, c in rows],
                       "close": [c for _, c in rows], "high": [_hist_high(c) for _, c in rows],
                       "low": [_hist_low(c) for _, c in rows]})
        raise LookupError(path)

    def _weex(self, path, q, body):
        cs = self.contracts["weex"]
        if path == "/capi/v3/market/premiumIndex":
            if "symbol" in q:
                cs = [c for c in cs if f"{c.base}USDT" == q["symbol"]]
            return [{"symbol": f"{c.base}USDT", "markPrice": f"{c.mark}", "indexPrice": f"{c.index}",
                     "forecastFundingRate": f"{float(c.rate) / 2:.8f}", "lastFundingRate": c.rate,
                     "interestRate": "0.0001", "nextFundingTime": self._next_ms(c.interval_hours),
                     "time": self.now_ms, "collectCycle": int(c.interval_hours * 60)} for c in cs]
        if path == "/capi/v3/market/openInterest":
            found = [c for c in cs if f"{c.base}USDT" == q.get("symbol")]
            if not found:
                return {"code": -1121, "msg": "Invalid symbol."}
            return {"symbol": q["symbol"], "openInterest": f"{found[0].open_interest}", "time": self.now_ms}
        if path == "/capi/v3/market/fundingRate":
            return [{"symbol": q["symbol"], "fundingRate": f"{r:.8f}", "fundingTime": t, "markPrice": "1"}
                    for t, r in self._series(q["symbol"], 8, int(q["startTime"]), int(q["endTime"]),
                                             int(q.get("limit", 100)), _hist_rate)]
        if path == "/capi/v3/market/historyKlines":
            hours = {"1h": 1, "4h": 4, "1d": 24}[q["interval"]]
            return [[t, *_ohlc(c), "10"]
                    for t, c in self._series(q["symbol"], hours, int(q["startTime"]), int(q["endTime"]),
                                             min(int(q.get("limit", 100)), 100), _hist_close)]
        raise LookupError(path)

    def _bybit_page(self, items: list, q: dict, limit: int) -> tuple[list, str]:
        """One page of a Bybit listing, at most ``limit`` and ``page_size`` items, and the cursor of the next
        ("" after the last): the cursor is where the next page starts."""
        start, size = int(q.get("cursor") or 0), min(limit, self.page_size)
        return items[start:start + size], str(start + size) if start + size < len(items) else ""

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


class JsException(Exception):
    """What Pyodide raises when the browser refuses a fetch (a stand-in: the class has that name)."""


def block_like_a_browser(monkeypatch, exchange: str) -> None:
    """Every request to ``exchange``'s loopback raises a JavaScript NetworkError before it leaves, as a
    fetch the browser refuses (CORS) does in xlwings Lite; the other exchanges answer as before."""
    from xlhedge.market import http

    real = http._session

    class Blocking:
        def __init__(self, session):
            self.session = session

        def request(self, method, url, **kwargs):
            if f"/{exchange}" in url:
                raise JsException("NetworkError when attempting to fetch resource.")
            return self.session.request(method, url, **kwargs)

    @contextlib.contextmanager
    def blocking(origin):
        with real(origin) as session:
            yield Blocking(session)

    monkeypatch.setattr(http, "_session", blocking)
