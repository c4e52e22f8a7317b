"""Local faults: an unwritable archive directory, a full disk, a corrupt or locked state file.

What the crawler must do: stop with a clear message and its documented exit code (73 when the
archive directory cannot be written, 74 when writing fails during the run or the state is
unusable), keep every file it already finished valid, leave nothing half-written under a name
that looks complete (a ``.open`` file is fine: the next run repairs it), and finish -- never hang.

The full disk is made two ways: a real 400 KiB tmpfs when this machine lets the tests mount one
(root with CAP_SYS_ADMIN; skipped otherwise), and everywhere an injected ``ENOSPC`` at the
file-write layer (a ``sitecustomize`` that gives ``archive.writer.WarcFileWriter``'s files a
byte budget: the write that crosses it stores what fits, then fails, as write(2) does).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from crawler import exitcodes
from tests.hostile.cases import FILL_PAGES
from tests.hostile.harness import (
    REPO,
    CrawlRun,
    read_records,
    run_crawl,
    site_toml,
    torn_member,
    warc_files,
    warcio_check,
    write_sources,
)
from tests.hostile.server import HostileServer

pytestmark = pytest.mark.slow

TMPFS_SIZE = "400k"
INJECTED_BUDGET = {  # bytes of WARC data the injected "disk" takes before ENOSPC, per stream
    "injected-capture": 150_000,
    "injected-text": 60_000,
}
ROTATE = ("--warc-max-size", "60000")  # small files, so several are finished before the disk fills
SITECUSTOMIZE = '''\
"""Test fault injection (tests/hostile/test_local_faults.py): writes to one stream of WARC files
(capture or text) fail with ENOSPC once a byte budget is spent; the write that crosses it stores
the part that fits first, as write(2) on a full disk does."""
import errno
import os

_left = [int(os.environ["HOSTILE_ENOSPC_BUDGET"])]
_stream = os.environ["HOSTILE_ENOSPC_STREAM"]  # "capture" or "text"


class _FullDisk:
    def __init__(self, raw):
        self._raw = raw

    def write(self, data):
        fits = min(len(data), _left[0])
        if fits:
            self._raw.write(data[:fits])
            _left[0] -= fits
        if fits < len(data):
            self._raw.flush()
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return fits

    def __getattr__(self, name):
        return getattr(self._raw, name)


def _install():
    from archive import writer

    original = writer.WarcFileWriter._open

    def _open(self):
        original(self)
        if self.prefix.endswith("-TEXT") == (_stream == "text"):
            self._file = _FullDisk(self._file)

    writer.WarcFileWriter._open = _open


_install()
'''


def _sources(server: HostileServer, path: Path, start: str, article: str) -> Path:
    return write_sources(path, site_toml("local", start_urls=[server.url(start)], article_urls=[article]))


def _finished_before_the_fault(archive: Path) -> list[Path]:
    """Final WARC files that rotation closed while writing still worked: in each stream (capture,
    text) every file but the newest, which is the one being written when the disk filled. (The
    log cannot tell: on a full disk it may not get that far.)"""
    finished: list[Path] = []
    for stream in ("warc", "text"):
        files = sorted((archive / stream).glob("*.warc.gz"))  # names start with the UTC time and serial
        finished += files[:-1]
    return finished


# --- the archive directory cannot be written ---------------------------------------------------------------


def test_archive_under_a_regular_file_exits_73(server: HostileServer, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a regular file")
    sources = _sources(server, tmp_path / "s.toml", "/trap/session/", "/trap/session/story")
    run = run_crawl(sources, blocker / "archive", server=server, timeout=60)
    assert run.code == exitcodes.CANT_CREATE, run.stderr
    assert "cannot write the archive directory" in run.stderr and str(blocker / "archive") in run.stderr
    assert "Traceback" not in run.stderr
    assert server.log() == [], "nothing is fetched when nothing can be stored"


# --- a full disk -----------------------------------------------------------------------------------------


@dataclass
class DiskFull:
    mode: str
    server: HostileServer
    first: CrawlRun  # the run that hit the full disk
    first_finished: list[Path]  # files rotation closed before the disk filled
    first_files: set[str]  # WARC file names (.open included) it left behind
    served_first: int  # requests the server had answered when it ended
    second: CrawlRun  # the next run, without the fault, on the same archive


def _tmpfs(tmp: Path) -> Iterator[Path]:
    mount_point = tmp / "fs"
    mount_point.mkdir()
    try:
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={TMPFS_SIZE}", "tmpfs", str(mount_point)],
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError as exc:
        pytest.skip(f"cannot run mount: {exc}")
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def _first_run(mode: str, server: HostileServer, sources: Path, tmp: Path) -> CrawlRun:
    if mode == "tmpfs":
        mounts = _tmpfs(tmp)
        fs = next(mounts)
        try:
            run = run_crawl(sources, fs / "archive", *ROTATE, server=server, timeout=90)
            shutil.copytree(fs / "archive", tmp / "archive")  # the disk "grows": the next run has room
        finally:
            next(mounts, None)
        run.archive = tmp / "archive"
        return run
    hook = tmp / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(SITECUSTOMIZE)
    env = {
        "PYTHONPATH": os.pathsep.join((str(hook), str(REPO))),
        "HOSTILE_ENOSPC_BUDGET": str(INJECTED_BUDGET[mode]),
        "HOSTILE_ENOSPC_STREAM": mode.removeprefix("injected-"),
    }
    return run_crawl(sources, tmp / "archive", *ROTATE, server=server, env=env, timeout=90)


@pytest.fixture(scope="module", params=["tmpfs", "injected-capture", "injected-text"])
def disk_full(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DiskFull]:
    tmp = tmp_path_factory.mktemp(f"full-{request.param}")
    with HostileServer() as server:
        sources = _sources(server, tmp / "s.toml", "/fill/", "/fill/a/")
        first = _first_run(request.param, server, sources, tmp)
        first_finished = _finished_before_the_fault(first.archive)
        first_files = {p.name for p in warc_files(first.archive, include_open=True)}
        served_first = len(server.log())
        second = run_crawl(sources, first.archive, server=server, timeout=90)
        yield DiskFull(request.param, server, first, first_finished, first_files, served_first, second)


def _not_on_tmpfs(disk_full: DiskFull) -> None:
    if disk_full.mode == "tmpfs":
        pytest.skip("on a real full disk, which write fails first (WARC, SQLite, log) depends on timing")


def test_disk_full_stops_the_crawl_with_exit_74_and_says_why(
    request: pytest.FixtureRequest, disk_full: DiskFull
) -> None:
    run = disk_full.first
    assert run.code == exitcodes.IO_ERROR, run.stderr
    assert "archive write failed" in run.stderr and "No space left on device" in run.stderr, run.stderr
    if disk_full.mode == "injected-capture":
        # Text is written after its page (worker pool), so a text-file fault may come when every
        # page is already fetched; a capture fault stops the fetching itself.
        fetched = [
            s for s in disk_full.server.log()[: disk_full.served_first] if s.path.startswith("/fill/a/")
        ]
        assert len(fetched) < FILL_PAGES, "the crawl stopped early"


def test_files_finished_before_the_disk_filled_stay_valid(disk_full: DiskFull) -> None:
    assert disk_full.first_finished, "some files were finished before the fault (the test needs that)"
    warcio_check(disk_full.first.archive, disk_full.first_finished)


def test_nothing_half_written_is_left_looking_complete(
    request: pytest.FixtureRequest, disk_full: DiskFull
) -> None:
    _not_on_tmpfs(disk_full)
    finished = [p for p in warc_files(disk_full.first.archive) if p.name in disk_full.first_files]
    warcio_check(disk_full.first.archive, finished)


def test_next_run_repairs_what_was_left_open_and_finishes(disk_full: DiskFull) -> None:
    run = disk_full.second
    assert run.code == exitcodes.OK, run.stderr
    assert not list(run.archive.rglob("*.open")), "the next run repaired or removed every .open file"
    new = [p for p in warc_files(run.archive) if p.name not in disk_full.first_files]
    warcio_check(run.archive, new)


def test_every_page_has_its_text_after_the_next_run(
    request: pytest.FixtureRequest, disk_full: DiskFull
) -> None:
    _not_on_tmpfs(disk_full)
    readable = [p for p in warc_files(disk_full.second.archive) if torn_member(p) is None]
    records = read_records(disk_full.second.archive, readable)
    texts = {r.uri for r in records if r.type == "conversion"}
    assert len(texts) == FILL_PAGES, f"{FILL_PAGES - len(texts)} pages never got their text"


def test_whole_archive_is_valid_after_the_next_run(
    request: pytest.FixtureRequest, disk_full: DiskFull
) -> None:
    _not_on_tmpfs(disk_full)
    warcio_check(disk_full.second.archive)


# --- the state file --------------------------------------------------------------------------------------


@dataclass
class StateFault:
    run: CrawlRun
    state: Path
    before: dict[str, bytes]  # the WARC files of the archive before the run, by name


def _hold(state: Path, *, exclusive_mode: bool) -> sqlite3.Connection:
    """Another process's lock on the state (this test process is "the other process")."""
    holder = sqlite3.connect(state, isolation_level=None)
    if exclusive_mode:
        holder.execute("PRAGMA locking_mode=EXCLUSIVE")  # readers are locked out too
    holder.execute("BEGIN EXCLUSIVE")  # in WAL mode alone: other readers go on, every writer waits
    holder.execute("INSERT OR REPLACE INTO url_state VALUES ('held-by-test', '{}')")
    return holder


@pytest.fixture(scope="module")
def state_faults(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, StateFault]]:
    """One finished archive, copied three times: state overwritten with garbage, state locked with
    an exclusive-mode lock, state write-locked; the three crawls run at once (two of them mostly
    wait on SQLite's 5 s busy timeout)."""
    tmp = tmp_path_factory.mktemp("state")
    with HostileServer() as server:
        sources = _sources(server, tmp / "s.toml", "/trap/session/", "/trap/session/story")
        seed = run_crawl(sources, tmp / "seed", server=server, timeout=60)
        assert seed.code == exitcodes.OK, seed.stderr
        cases: dict[str, tuple[Path, Path, dict[str, bytes]]] = {}
        for name in ("corrupt", "locked", "write-locked"):
            archive = tmp / name
            shutil.copytree(seed.archive, archive)
            before = {p.name: p.read_bytes() for p in warc_files(archive)}
            cases[name] = (archive, archive / "state" / "state.sqlite3", before)
        state = cases["corrupt"][1]
        for path in state.parent.glob("state.sqlite3*"):
            path.unlink()
        state.write_bytes(b"\x00garbage, not SQLite\xff" * 512)
        holders = [
            _hold(cases["locked"][1], exclusive_mode=True),
            _hold(cases["write-locked"][1], exclusive_mode=False),
        ]
        try:
            with ThreadPoolExecutor(max_workers=3) as pool:
                futures = {
                    name: pool.submit(run_crawl, sources, archive, server=server, timeout=30)
                    for name, (archive, _, _) in cases.items()
                }
                runs = {name: future.result() for name, future in futures.items()}
        finally:
            for holder in holders:
                holder.execute("ROLLBACK")
                holder.close()
        yield {name: StateFault(runs[name], state, before) for name, (_, state, before) in cases.items()}


def _assert_untouched(fault: StateFault) -> None:
    files = warc_files(fault.run.archive, include_open=True)
    assert {p.name for p in files} == set(fault.before), "no file added or removed"
    assert all(p.read_bytes() == fault.before[p.name] for p in files), "no file changed"
    warcio_check(fault.run.archive)


def test_corrupt_state_exits_74_naming_the_state_file(state_faults: dict[str, StateFault]) -> None:
    fault = state_faults["corrupt"]
    assert fault.run.code == exitcodes.IO_ERROR, fault.run.stderr
    assert str(fault.state) in fault.run.stderr and "crawl state unusable" in fault.run.stderr
    assert "Traceback" not in fault.run.stderr
    _assert_untouched(fault)


def test_exclusively_locked_state_exits_74_without_hanging(state_faults: dict[str, StateFault]) -> None:
    """It finished inside run_crawl's 30 s limit: SQLite waits 5 s for the lock, then gives up."""
    fault = state_faults["locked"]
    assert fault.run.code == exitcodes.IO_ERROR, fault.run.stderr
    assert str(fault.state) in fault.run.stderr and "locked" in fault.run.stderr, fault.run.stderr
    _assert_untouched(fault)


def test_write_locked_state_exits_74_naming_the_state_file(state_faults: dict[str, StateFault]) -> None:
    fault = state_faults["write-locked"]
    assert fault.run.code == exitcodes.IO_ERROR, fault.run.stderr
    assert str(fault.state) in fault.run.stderr, fault.run.stderr
