"""pytest plugin for ``bench.proposals --gold``: the gold tests, unchanged, with prototypes applied.

Patches are applied once collection has imported the test modules (see
``bench/patches/sitecustomize.py`` for why not earlier); processes the tests start (crawls,
the forkserver and its workers) get them from ``sitecustomize`` as usual.
"""

from __future__ import annotations

import os
from typing import Any


def pytest_configure(config: Any) -> None:
    os.environ.pop("NEWSARCHIVE_BENCH_PATCHES_DEFER", None)  # child processes patch at start-up


def pytest_collection_finish(session: Any) -> None:
    from bench.proposals import apply

    names = [n for n in os.environ.get("NEWSARCHIVE_BENCH_PATCHES", "").split(",") if n]
    apply(names)
