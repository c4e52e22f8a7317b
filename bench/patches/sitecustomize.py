"""Benchmark-only: apply the prototypes named in ``NEWSARCHIVE_BENCH_PATCHES`` in every process.

The harness puts this folder on ``PYTHONPATH`` only for patched runs, so Python imports it at
start-up in the crawler, the forkserver and (by inheritance) every text worker. Under pytest
(``NEWSARCHIVE_BENCH_PATCHES_DEFER`` set) the plugin :mod:`bench.gold_plugin` applies them after
collection instead: importing the product's ``archive`` package this early would clash with the
test package ``tests/archive``.
"""

from __future__ import annotations

import os

_names = [n for n in os.environ.get("NEWSARCHIVE_BENCH_PATCHES", "").split(",") if n]
if _names and not os.environ.get("NEWSARCHIVE_BENCH_PATCHES_DEFER"):
    from bench.proposals import apply

    apply(_names)
