"""Shared fixtures: the loopback exchange server and a throw-away workbook."""

from __future__ import annotations
