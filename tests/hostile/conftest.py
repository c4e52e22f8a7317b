"""Fixtures of the hostile-input suite: the misbehaving server, and the peak-memory report.

The crawl harness itself is :mod:`tests.hostile.harness` (imported by the tests under that
one name, so the memory figures they record are the ones printed here).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.hostile.harness import MEMORY_REPORT
from tests.hostile.server import HostileServer

# --- the server --------------------------------------------------------------------------------------------


@pytest.fixture
def server() -> Iterator[HostileServer]:
    with HostileServer() as srv:
        yield srv


@pytest.fixture(scope="module")
def module_server() -> Iterator[HostileServer]:
    with HostileServer() as srv:
        yield srv


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if MEMORY_REPORT:
        terminalreporter.section("hostile inputs: peak memory")
        for line in MEMORY_REPORT:
            terminalreporter.write_line(line)
