"""Every exception ``archive/`` raises on purpose, in one tree (as httpx draws its own).

    ArchiveError                      base: catch this to catch anything the library means to raise
    ├── DecodeError                   a body cannot be content-decoded (corrupt data, unknown coding)
    │   └── DecodedTooLarge           decoding would pass the size bound (a "zip bomb")
    ├── StateError                    the crawl state cannot be opened or used (corrupt, locked, unwritable)
    │   └── StateUnavailable          the state lives in a service that cannot be reached
    ├── ReplayEnvMissing              the replay environment (pywb, py-wacz) is not installed  [RuntimeError]
    ├── ForeignCodeError              a process of the product imported archive/crawler from elsewhere [ImportError]
    └── WaczError                     ``wacz create`` or ``wacz validate`` failed              [RuntimeError]

The library never chooses an exit code: the command layer maps these (``crawler/exitcodes.py``).
The classes are also importable from the modules that raise them (``archive.state.StateError``...).
"""

from __future__ import annotations

__all__ = [
    "ArchiveError",
    "DecodeError",
    "DecodedTooLarge",
    "ForeignCodeError",
    "ReplayEnvMissing",
    "StateError",
    "StateUnavailable",
    "WaczError",
]


class ArchiveError(Exception):
    """Base of every exception raised on purpose by ``archive/``."""


class DecodeError(ArchiveError):
    """The body cannot be decoded (corrupt data or an unsupported coding)."""


class DecodedTooLarge(DecodeError):
    """The decoded body would exceed the configured maximum."""


class StateError(ArchiveError):
    """The state store cannot be opened or used (corrupt, locked, unwritable)."""


class StateUnavailable(StateError):
    """A state store that is a network service cannot be reached.

    Kept apart from :class:`StateError` because the cause is outside the archive: the run stops
    as "service unavailable" (cron retries later), not as a failed archive write.
    """


class ForeignCodeError(ArchiveError, ImportError):
    """A process of the product imported ``archive`` or ``crawler`` from outside the product
    (the working directory, an inherited ``PYTHONPATH``): it refuses to run (:mod:`archive.childenv`)."""


class ReplayEnvMissing(ArchiveError, RuntimeError):
    """The replay virtualenv (pywb, wacz) is not installed."""


class WaczError(ArchiveError, RuntimeError):
    """``wacz create`` or ``wacz validate`` failed; the message carries the tool's output."""
