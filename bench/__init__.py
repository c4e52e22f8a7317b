"""Throughput benchmark of newsarchive against bare Scrapy (issue 7); see docs/benchmark.md.

Not part of the product: nothing under ``archive/`` or ``crawler/`` imports it, and the tests
never run it (they never time things). ``bash bench/run.sh --quick`` keeps it working in CI.
"""
