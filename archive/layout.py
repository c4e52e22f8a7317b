"""Where things live inside an archive directory.

An archive directory is one self-contained unit (copy or rsync it as a whole). Every
component asks this module for its paths instead of joining names itself, so the layout
is documented and changed in one place.

    DIR/
      warc/      capture WARCs (request/response/revisit/metadata): the only files replay reads
      text/      text WARCs (conversion + JSON metadata records): never indexed for replay
      state/     crawl state (SQLite) carried from one cron run to the next
      runs/      one JSON summary per run
      indexes/   CDXJ indexes of the capture WARCs
      replay/    the pywb collection built from warc/ and indexes/
      queue/     requests waiting to be fetched, on disk while a crawl runs (removed after it)
      lock       held (flock) by the running crawl
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

CAPTURE_SUFFIX = ".warc.gz"
OPEN_SUFFIX = ".open"


@dataclass(frozen=True, slots=True)
class ArchiveLayout:
    """Paths of one archive directory; nothing is created until :meth:`create` is called."""

    root: Path

    @property
    def capture_dir(self) -> Path:
        return self.root / "warc"

    @property
    def text_dir(self) -> Path:
        return self.root / "text"

    @property
    def state_dir(self) -> Path:
        return self.root / "state"

    @property
    def runs_dir(self) -> Path:
        return self.root / "runs"

    @property
    def index_dir(self) -> Path:
        return self.root / "indexes"

    @property
    def replay_dir(self) -> Path:
        return self.root / "replay"

    @property
    def queue_dir(self) -> Path:
        return self.root / "queue"

    @property
    def lock_path(self) -> Path:
        return self.root / "lock"

    def create(self) -> None:
        for path in (self.capture_dir, self.text_dir, self.state_dir, self.runs_dir):
            path.mkdir(parents=True, exist_ok=True)

    def capture_files(self) -> list[Path]:
        """Closed capture WARCs, oldest first (names start with a UTC timestamp)."""
        return _closed_warcs(self.capture_dir)

    def text_files(self) -> list[Path]:
        """Closed text WARCs, oldest first."""
        return _closed_warcs(self.text_dir)

    def open_files(self) -> list[Path]:
        """Files a crawl was still writing (left behind by a killed run)."""
        found: list[Path] = []
        for folder in (self.capture_dir, self.text_dir):
            if folder.is_dir():
                found.extend(sorted(folder.glob(f"*{CAPTURE_SUFFIX}{OPEN_SUFFIX}")))
        return found


def _closed_warcs(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(folder.glob(f"*{CAPTURE_SUFFIX}"), key=lambda p: p.name)
