"""Shared test set-up: no proxy from the environment, and the hypothesis budget.

The fuzz budget is small by default so CI stays fast; ``FUZZ_EXAMPLES=N`` raises it for a
longer local or nightly run (``FUZZ_EXAMPLES=5000 .venv/bin/python -m pytest tests/archive``).
Deadlines are off: a shared CI machine has slow moments, and a slow example is not a bug.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

PROXY_VARIABLES = (
    "http_proxy",
    "https_proxy",
    "ftp_proxy",
    "all_proxy",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "FTP_PROXY",
    "ALL_PROXY",
)


def _fuzz_examples() -> int | None:
    raw = os.environ.get("FUZZ_EXAMPLES", "").strip()
    if not raw:
        return None
    try:
        value = int(raw)
    except ValueError as exc:
        raise pytest.UsageError(f"FUZZ_EXAMPLES must be a positive integer, got {raw!r}") from exc
    if value <= 0:
        raise pytest.UsageError(f"FUZZ_EXAMPLES must be a positive integer, got {raw!r}")
    return value


_COMMON = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow], "print_blob": True}
settings.register_profile("ci", max_examples=40, **_COMMON)
_EXAMPLES = _fuzz_examples()
settings.register_profile("fuzz", max_examples=_EXAMPLES or 40, **_COMMON)
settings.load_profile("fuzz" if _EXAMPLES else "ci")


@pytest.fixture(autouse=True)
def _no_proxy_from_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every request in the tests goes to loopback; a developer's proxy must never see it."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    yield
