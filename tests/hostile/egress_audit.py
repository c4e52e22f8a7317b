"""A socket-level egress audit, installed in a process as its ``sitecustomize`` (tests only).

:func:`write_sitecustomize` copies this file into a directory of its own as ``sitecustomize.py``,
with the log path and the allowed hosts written into it, so it needs no environment variable:
a test puts that directory on ``PYTHONPATH`` (or a wrapper script does), and every Python process
started from it -- ``newsarchive`` itself, the workers' forkserver, pywb's ``wayback`` and
py-wacz's ``wacz`` in their own virtualenv -- installs the hook at start-up. Processes *forked*
from one of those (the text workers) inherit it, and say so.

The hook (:func:`sys.addaudithook`) sees every name lookup and every outgoing socket address of
CPython's ``_socket`` (``connect``/``connect_ex``, ``sendto``, ``sendmsg``, ``getaddrinfo``,
``gethostbyname[_ex]``, ``gethostbyaddr``, ``getnameinfo``), whatever library makes it and in
whatever thread. One JSON line per event goes to the log; a target that is neither loopback nor
an allowed host is logged as a violation and then *refused* (``PermissionError``, an
``OSError``), so even a test of old, leaking code never reaches beyond this machine. Unix and
other non-IP sockets are local and allowed.

Standard library only: it runs in the crawler's virtualenv and in ``.venv-replay``.
"""

from __future__ import annotations

import ipaddress
import json
import os
import sys
from pathlib import Path
from typing import Any

#: Lines of the log: {"kind": "hello", "pid", "ppid", "cmdline", "forked"} once per process, then
#: {"kind": "event", "pid", "event", "target", "allowed"} per audited socket event.
_CONFIG_MARK = "# --- configuration written by write_sitecustomize ---"

_RESOLVE_EVENTS = frozenset({"socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyaddr"})
_ADDRESS_EVENTS = frozenset({"socket.connect", "socket.sendto", "socket.sendmsg", "socket.getnameinfo"})
_LOOPBACK_NAMES = frozenset({"localhost", "localhost."})


def is_loopback(host: str) -> bool:
    host = host.strip("[]").split("%", 1)[0]
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


def _cmdline() -> list[str]:
    # sys.argv is not set yet while site imports sitecustomize; /proc has it from the start.
    try:
        raw = Path("/proc/self/cmdline").read_bytes()
    except OSError:
        return list(sys.argv)
    return [part.decode("utf-8", "replace") for part in raw.split(b"\0") if part]


class EgressAudit:
    def __init__(self, log: str, allowed: frozenset[str]) -> None:
        self.log = log
        self.allowed = frozenset(h.lower().rstrip(".") for h in allowed)
        self.fd = -1
        self.pid = -1

    def start(self, *, forked: bool) -> None:
        if self.fd >= 0:
            os.close(self.fd)
        self.fd = os.open(self.log, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)
        self.pid = os.getpid()
        self._write({"kind": "hello", "ppid": os.getppid(), "cmdline": _cmdline(), "forked": forked})

    def _write(self, line: dict[str, Any]) -> None:
        line["pid"] = os.getpid()
        os.write(self.fd, (json.dumps(line, default=repr) + "\n").encode("utf-8"))

    def host_ok(self, host: str) -> bool:
        return is_loopback(host) or host.lower().rstrip(".") in self.allowed

    def __call__(self, event: str, args: tuple[Any, ...]) -> None:
        if not event.startswith("socket."):
            return
        if event in _RESOLVE_EVENTS:
            host = args[0] if args else None
            if isinstance(host, bytes):
                host = host.decode("ascii", "replace")
            if host in (None, ""):  # a passive (bind-side) lookup asks nobody
                return
            target = str(host)
            allowed = self.host_ok(target) or target in ("0.0.0.0", "::")
        elif event in _ADDRESS_EVENTS:
            address = args[-1] if args else None
            if not isinstance(address, tuple) or not address or not isinstance(address[0], str | bytes):
                return  # AF_UNIX path, netlink, ...: not a network destination
            host = address[0].decode("ascii", "replace") if isinstance(address[0], bytes) else address[0]
            port = address[1] if len(address) > 1 else None
            target = f"{host}:{port}"
            allowed = self.host_ok(host)
        else:
            return
        if os.getpid() != self.pid:  # forked without the at-fork hook (should not happen)
            self.start(forked=True)
        self._write({"kind": "event", "event": event, "target": target, "allowed": allowed})
        if not allowed:
            raise PermissionError(
                f"egress audit: {event} to {target} refused (not loopback, not a listed host)"
            )


def install(log: str, allowed: frozenset[str]) -> EgressAudit:
    audit = EgressAudit(log, allowed)
    audit.start(forked=False)
    os.register_at_fork(after_in_child=lambda: audit.start(forked=True))
    sys.addaudithook(audit)
    return audit


def write_sitecustomize(directory: Path, log: Path, allowed: set[str]) -> Path:
    """``directory/sitecustomize.py``: this module, configured; put ``directory`` on PYTHONPATH."""
    directory.mkdir(parents=True, exist_ok=True)
    source = Path(__file__).read_text(encoding="utf-8")
    config = f"\n{_CONFIG_MARK}\ninstall({str(log)!r}, frozenset({sorted(allowed)!r}))\n"
    path = directory / "sitecustomize.py"
    path.write_text(source + config, encoding="utf-8")
    return path


def read_log(log: Path) -> list[dict[str, Any]]:
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines() if line.strip()]
