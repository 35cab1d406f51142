"""Shared fixtures: the loopback exchange server and a freshly built template."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from tests.loopback import LoopbackExchanges

ROOT = Path(__file__).resolve().parents[1]

# "now" for every empty as_of (the event rule), here and in the commands the tests start: the time of the
# bundled sample data, so the plans the tests check do not change when an FOMC meeting comes near
os.environ["XLHEDGE_NOW"] = "2026-11-20T08:00"
# no test reaches a real exchange: every exchange's address is a closed local port unless a test points it
# at the loopback server (the `exchanges` fixture) or elsewhere; the commands the tests start inherit it
for _name in ("binance", "bybit", "okx", "hyperliquid", "bingx", "mexc", "weex"):
    os.environ[f"XLHEDGE_{_name.upper()}_URL"] = "http://127.0.0.1:9"
# a retry waits 10 ms, not the quarter second an exchange is given: the loopback answers at once
os.environ["XLHEDGE_RETRY_DELAY"] = "0.01"
# and what the product keeps on disk (history, the exchanges' order rules) goes to a folder of this run's
os.environ["XLHEDGE_CACHE"] = tempfile.mkdtemp(prefix="xlhedge-test-cache-")


@pytest.fixture
def exchanges(monkeypatch, tmp_path_factory):
    """A real HTTP server on 127.0.0.1 answering like the exchanges; env points at it. What the product keeps
    on disk for a day (order rules, tiers, history) goes to this test's own folder: a fresh server is a fresh
    exchange, and what another test fetched before must not answer for it."""
    server = LoopbackExchanges().start()
    for key, value in server.env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("XLHEDGE_CACHE", str(tmp_path_factory.mktemp("xlhedge-cache")))  # beside the test's files
    yield server
    server.stop()


@pytest.fixture(scope="session")
def built_template(tmp_path_factory) -> Path:
    """The template built once per test session (the slow part: two builds and an evaluation)."""
    from xlhedge.workbook.template import build_template

    return build_template(tmp_path_factory.mktemp("template") / "xlhedge.xlsm")


@pytest.fixture(scope="session")
def built_lite(tmp_path_factory) -> Path:
    """The xlwings Lite edition, built once per test session."""
    from xlhedge.workbook.template import build_template

    return build_template(tmp_path_factory.mktemp("lite") / "xlhedge-lite.xlsx", lite=True)


@pytest.fixture(params=["model", pytest.param("evaluator", marks=pytest.mark.slow)])
def calculate(request):
    """``calculate(path, inputs=None) -> {(sheet, cell): value}``: the workbook model in the default part, the
    general evaluator (the independent check of the Excel text) in the end-to-end part; see tests/calculators.py."""
    from tests.calculators import CALCULATORS

    return CALCULATORS[request.param]


@pytest.fixture
def book(built_template, tmp_path) -> Path:
    """A private copy of the template a test may change."""
    target = tmp_path / "xlhedge.xlsm"
    shutil.copyfile(built_template, target)
    return target
