"""One run per archive directory: an exclusive ``flock`` on ``DIR/lock``.

The kernel drops a flock when its holder dies, even by ``kill -9``, so a lock left by a
killed run never blocks the next one (unlike a pid file). The file holds the holder's pid
and start time for humans; the lock itself is the flock, not the file's existence.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from pathlib import Path

from crawler.errors import LockHeld

__all__ = ["ArchiveLock", "LockHeld"]


class ArchiveLock:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def acquire(self) -> None:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = ""
            with contextlib.suppress(OSError):
                holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip()
            os.close(fd)
            raise LockHeld(f"{self.path} is held by another run ({holder or 'unknown holder'})") from None
        os.ftruncate(fd, 0)
        os.pwrite(
            fd, f"pid {os.getpid()} since {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}\n".encode(), 0
        )
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> ArchiveLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
