"""Redis URLs and clients, with the password kept out of every message.

A Redis URL may carry a password (``redis://:PASSWORD@host:6379/0``, ``rediss://`` for TLS,
``unix://:PASSWORD@/run/redis.sock?db=0``). Everything this package says about a server names
it by :func:`mask_url`, and every exception text that passes through here is scrubbed of the
credentials before it can reach a log, a run summary or the terminal.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from urllib.parse import SplitResult, parse_qs, unquote, urlsplit

import redis
from redis.backoff import ExponentialBackoff, NoBackoff
from redis.retry import Retry

# Also importable from here, as before 0.2 (explicit re-exports).
# Also importable from here, as before 0.2 (explicit re-exports).
from crawler.errors import DistributedError as DistributedError
from crawler.errors import RedisUnavailable as RedisUnavailable

SCHEMES = ("redis", "rediss", "unix")
CONNECT_TIMEOUT = 5.0  # seconds: an unreachable server is reported promptly (exit 69)
SOCKET_TIMEOUT = 30.0  # seconds: one command; a blocked server is an error, not a hang


@dataclass(frozen=True, slots=True)
class RedisTarget:
    """A parsed Redis URL: what to connect to, and how to name it without its secrets."""

    url: str
    masked: str
    secrets: tuple[str, ...]

    def scrub(self, text: str) -> str:
        """``text`` with every credential of the URL replaced by ``***``."""
        for secret in self.secrets:
            if secret:
                text = text.replace(secret, "***")
        return text


def mask_url(url: str) -> str:
    """The URL with its user name and password replaced by ``***`` (for logs and messages)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparsable Redis URL>"
    if "@" not in parts.netloc:
        return url
    _userinfo, _, hostinfo = parts.netloc.rpartition("@")
    return SplitResult(parts.scheme, f"***@{hostinfo}", parts.path, parts.query, "").geturl()


def parse_redis_url(url: str) -> RedisTarget:
    """Validate a Redis URL before any connection is tried; raise :class:`DistributedError`.

    redis-py accepts some mistakes silently (``redis://host/abc`` connects to db 0), so the
    checks are ours. Messages never contain the password.
    """
    url = url.strip()
    masked = mask_url(url)
    try:
        parts = urlsplit(url)
        userinfo = parts.netloc.rpartition("@")[0] if "@" in parts.netloc else ""
        pieces = {userinfo, parts.username or "", parts.password or ""}
        secrets = tuple(s for s in pieces | {unquote(p) for p in pieces} if s)
        # Longest first, so "user:pass" is replaced whole before "pass" alone.
        target = RedisTarget(url, masked, tuple(sorted(secrets, key=len, reverse=True)))
    except ValueError:
        raise DistributedError(f"invalid Redis URL {masked}: cannot be parsed") from None
    if parts.scheme not in SCHEMES:
        raise DistributedError(
            f"invalid Redis URL {masked}: the scheme must be redis://, rediss:// (TLS) or unix://"
        )
    if parts.fragment:
        raise DistributedError(f"invalid Redis URL {masked}: unexpected '#' fragment")
    if parts.scheme == "unix":
        if not parts.path:
            raise DistributedError(f"invalid Redis URL {masked}: unix:// needs a socket path")
    else:
        if not parts.hostname:
            raise DistributedError(f"invalid Redis URL {masked}: no host name")
        try:
            port = parts.port
        except ValueError:
            raise DistributedError(f"invalid Redis URL {masked}: the port is not a number") from None
        if port == 0:
            raise DistributedError(f"invalid Redis URL {masked}: port 0")
        db = parts.path.strip("/")
        if db and not db.isdigit():
            raise DistributedError(f"invalid Redis URL {masked}: the path must be a database number (/0)")
    query = parse_qs(parts.query)
    if "db" in query and not all(v.isdigit() for v in query["db"]):
        raise DistributedError(f"invalid Redis URL {masked}: db= must be a number")
    return target


_clients: dict[str, redis.Redis] = {}
_clients_lock = threading.Lock()


def _new_client(target: RedisTarget, retries: int) -> redis.Redis:
    try:
        return redis.Redis.from_url(
            target.url,
            socket_connect_timeout=CONNECT_TIMEOUT,
            socket_timeout=SOCKET_TIMEOUT,
            health_check_interval=30,
            retry=Retry(ExponentialBackoff(cap=2.0, base=0.1), retries),
            retry_on_error=[redis.ConnectionError, redis.TimeoutError],
            client_name=f"newsarchive-{os.getpid()}",
        )
    except (ValueError, TypeError) as exc:
        raise DistributedError(f"invalid Redis URL {target.masked}: {target.scrub(str(exc))}") from None


def client_for(target: RedisTarget) -> redis.Redis:
    """One client (one connection pool) per URL and process, shared by every component.

    Short connect timeout so an unreachable server fails fast; a few retries with backoff so
    a brief network blip during a cycle does not stop a worker.
    """
    with _clients_lock:
        client = _clients.get(target.url)
        if client is None:
            client = _clients[target.url] = _new_client(target, retries=3)
        return client


def fail_fast(client: redis.Redis) -> None:
    """After Redis was given up for lost: no more retries or long connects (they block the reactor
    while the worker winds down)."""
    client.set_retry(Retry(NoBackoff(), 0))
    client.connection_pool.connection_kwargs["socket_connect_timeout"] = 0.5
    client.connection_pool.connection_kwargs["socket_timeout"] = 1.0


def check_server(target: RedisTarget) -> redis.Redis:
    """Connect and PING; raise :class:`RedisUnavailable` (69) or :class:`DistributedError` (78).

    The check itself does not retry: at start-up an unreachable server is reported at once
    (cron tries again at the next tick).
    """
    probe = _new_client(target, retries=0)
    try:
        probe.ping()
    except redis.AuthenticationError as exc:
        raise RedisUnavailable(
            f"Redis at {target.masked} refused the credentials: {target.scrub(str(exc))}"
        ) from None
    except redis.ResponseError as exc:
        text = target.scrub(str(exc))
        if text.startswith(("NOAUTH", "WRONGPASS", "NOPERM")):
            raise RedisUnavailable(f"Redis at {target.masked} refused the credentials: {text}") from None
        raise RedisUnavailable(f"Redis at {target.masked} answered with an error: {text}") from None
    except (redis.ConnectionError, redis.TimeoutError, OSError) as exc:
        raise RedisUnavailable(f"cannot reach Redis at {target.masked}: {target.scrub(str(exc))}") from None
    except redis.RedisError as exc:
        raise RedisUnavailable(f"Redis at {target.masked}: {target.scrub(str(exc))}") from None
    finally:
        probe.close()
    return client_for(target)
