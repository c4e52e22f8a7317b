"""Every exception the crawler side raises on purpose, in one tree; each maps to one exit code.

    CrawlerError                      base of the crawler's own errors
    ├── UsageError                    a command-line value is unusable                      -> 2
    ├── ConfigError                   the sources file or an option is invalid             -> 78
    │   ├── SourcesError              the sources file (the message names site and field)
    │   └── DistributedError          distributed mode cannot run with this configuration
    │       └── RedisUnavailable      Redis unreachable or refused the credentials          -> 69
    ├── ServiceUnavailable            a service the run needs cannot be reached or started  -> 69
    │   └── RedisUnavailable          (both: a DistributedError and a ServiceUnavailable)
    ├── ArchiveDirError               the archive directory cannot be created or written   -> 73
    ├── LockHeld                      another run holds the archive's lock                 -> 75
    ├── ArchiveWriteError             a WARC or state write failed during the run           -> 74
    ├── RecoveryError                 the files a killed run left cannot be repaired        -> 74
    └── ReadFailed                    a read command failed or found nothing                -> 1

    Download skips: a request dropped on purpose, counted, never an error of its site.
    They stay Scrapy's ``IgnoreRequest`` too, so Scrapy routes them to the errback:
    ├── OutOfScope                    left its site's scope (offsite, private address, scheme)
    ├── NotDecodable                  body not content-decodable: archived raw, no text
    └── Truncated                     body cut at the size limit: archived marked truncated

Errors of the library (``archive.errors.ArchiveError``: state, decoding, replay, WACZ) are mapped
by the same table, :func:`crawler.exitcodes.for_error`. The download skips subclass Scrapy's
``IgnoreRequest``; they are built on first use (:func:`__getattr__`) so that the read commands,
which import this module, do not pay for importing Scrapy (~0.25 s).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = [
    "ArchiveDirError",
    "ArchiveWriteError",
    "ConfigError",
    "CrawlerError",
    "DistributedError",
    "DownloadSkipped",
    "LockHeld",
    "NotDecodable",
    "OutOfScope",
    "ReadFailed",
    "RecoveryError",
    "RedisUnavailable",
    "ServiceUnavailable",
    "SourcesError",
    "Truncated",
    "UsageError",
]


class CrawlerError(Exception):
    """Base of every exception the crawler side raises on purpose."""


class UsageError(CrawlerError):
    """A command-line value is unusable (exit code 2, like argparse's own errors)."""


class ConfigError(CrawlerError):
    """The sources file or an option is invalid (exit 78)."""


class SourcesError(ConfigError):
    """The sources file cannot be used; the message names the site and the field."""


class DistributedError(ConfigError):
    """Distributed mode cannot run with this configuration (exit 78: CONFIG)."""


class ServiceUnavailable(CrawlerError):
    """A service the run needs (Redis, the demo site's port) cannot be reached or started (exit 69)."""


class RedisUnavailable(DistributedError, ServiceUnavailable):
    """Redis cannot be reached or refused the credentials (exit 69: UNAVAILABLE)."""


class ArchiveDirError(CrawlerError):
    """The archive directory (or its lock file) cannot be created or written (exit 73)."""


class LockHeld(CrawlerError):
    """Another process holds the archive lock (exit 75)."""


class ArchiveWriteError(CrawlerError):
    """A WARC write failed; the crawl is being stopped (exit 74)."""


class RecoveryError(CrawlerError):
    """The files a killed run left could not be repaired (exit 74); they are left as they were."""


class ReadFailed(CrawlerError):
    """A read command failed or found nothing (exit 1); the message says which."""


if TYPE_CHECKING:
    from scrapy.exceptions import IgnoreRequest

    class DownloadSkipped(CrawlerError, IgnoreRequest):
        """A request dropped on purpose: counted where it is dropped, not an error of the site."""

    class OutOfScope(DownloadSkipped):
        """A request left its site's scope; it is skipped, not an error of the site."""

    class NotDecodable(DownloadSkipped):
        """The body could not be content-decoded (bomb, corrupt data); it was archived raw."""

    class Truncated(DownloadSkipped):
        """The body was cut at the size limit; it was archived as received, marked truncated."""


_SKIPS: dict[str, type[Exception]] = {}


def _build_skips() -> None:
    from scrapy.exceptions import IgnoreRequest

    def make(name: str, base: tuple[type, ...], doc: str) -> type[Exception]:
        cls: type[Exception] = type(name, base, {"__doc__": doc, "__module__": __name__})
        _SKIPS[name] = cls
        return cls

    skipped = make(
        "DownloadSkipped",
        (CrawlerError, IgnoreRequest),
        "A request dropped on purpose: counted where it is dropped, not an error of the site.",
    )
    make("OutOfScope", (skipped,), "A request left its site's scope; it is skipped, not an error of the site.")
    make(
        "NotDecodable",
        (skipped,),
        "The body could not be content-decoded (bomb, corrupt data); it was archived raw.",
    )
    make(
        "Truncated",
        (skipped,),
        "The body was cut at the size limit; it was archived as received, marked truncated.",
    )


def __getattr__(name: str) -> Any:
    if name in ("DownloadSkipped", "OutOfScope", "NotDecodable", "Truncated"):
        if not _SKIPS:
            _build_skips()
        cls = _SKIPS[name]
        globals()[name] = cls
        return cls
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
