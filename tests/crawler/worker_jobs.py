"""Jobs for the worker-pool tests; a module of its own so worker processes can import them."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from crawler.parse.links import PageLinks
from crawler.parse.pagejob import PageAnalysis


def ok(tag: str) -> PageAnalysis:
    """A job that succeeds; its one "link" names it, so the test can tell results apart."""
    return PageAnalysis(links=PageLinks((f"ok {tag}",), 0), text=None)


def crash_once(marker: str) -> PageAnalysis:
    """Dies the first time (as a segfaulting parser would), works the second."""
    path = Path(marker)
    if not path.exists():
        path.write_text("crashed")
        os.kill(os.getpid(), signal.SIGKILL)
    return ok("after crash")


def crash_always() -> PageAnalysis:
    os.kill(os.getpid(), signal.SIGKILL)
    raise AssertionError("unreachable")


def hang(seconds: float) -> PageAnalysis:
    time.sleep(seconds)
    return ok("woke up")


def slow_ok(tag: str, seconds: float) -> PageAnalysis:
    time.sleep(seconds)
    return ok(tag)
