"""Nothing at run time talks to a host the user did not list (issue 13, item 5).

Two independent checks, each over the same sequence of real commands -- ``newsarchive crawl``
of a loopback site whose every response sets cookies (its text workers included), then
``index``, ``wacz`` and ``replay`` (pywb answering a few replay requests):

* **proxy canary**: ``HTTP_PROXY``/``HTTPS_PROXY``/``ALL_PROXY`` point at a loopback server that
  only records (``NO_PROXY=127.0.0.1,localhost``, so the crawl itself bypasses it), and
  ``TLDEXTRACT_CACHE`` is an empty directory (a suffix list cached by an earlier run would
  hide the fetch). The canary must see nothing and the cache directory must stay empty.
* **socket audit**: no proxy variables at all; every Python process of the run -- the crawler,
  its forkserver, the forked text workers, ``wayback`` and ``wacz`` -- carries the audit hook
  of :mod:`tests.hostile.egress_audit`, which logs every name lookup and outgoing address and
  refuses any that is neither loopback nor a host of the sources file. No refusal may be
  logged, and each of those processes must have reported in (a check nobody ran proves nothing).

Scrapy's cookies middleware used to download the Public Suffix List from publicsuffix.org (then
a GitHub mirror) on the first cookie of a run; both checks catch that on the old code.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from archive.index import iter_index
from archive.replay import REPLAY_VENV_ENV, ReplayEnvMissing, find_replay_venv
from tests.hostile.egress import ARTICLES, CookieSite, ProxyCanary, get_status, write_replay_shim
from tests.hostile.egress_audit import read_log, write_sitecustomize
from tests.hostile.harness import REPO, CrawlRun, crawl_env, run_crawl, site_toml, write_sources

pytestmark = pytest.mark.slow

HOSTS = ("127.0.0.1", "localhost")  # the hosts of the sources file: one site by address, one by name
PHASES = ("crawl", "index", "wacz", "replay")
TOOL_TIMEOUT = 120.0


def _replay_venv() -> Path | None:
    try:
        return find_replay_venv()
    except ReplayEnvMissing:
        return None


REPLAY_VENV = _replay_venv()
_needs_replay = [
    pytest.mark.replay,
    pytest.mark.skipif(
        REPLAY_VENV is None, reason=".venv-replay is absent: run `bash scripts/setup-replay.sh`"
    ),
]
#: The commands after the crawl; ``wacz`` and ``replay`` run the tools of ``.venv-replay``.
LATER = [pytest.param("index"), *(pytest.param(p, marks=_needs_replay) for p in ("wacz", "replay"))]


@dataclass
class Phase:
    """One command of the sequence: its exit code and output (``extras``: what a test reads besides)."""

    name: str
    code: int | None = None
    output: str = ""
    extras: dict[str, Any] = field(default_factory=dict)


@dataclass
class Commands:
    crawl: CrawlRun
    phases: dict[str, Phase]
    site: CookieSite
    archive: Path


def _newsarchive(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "crawler.cli", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=TOOL_TIMEOUT,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def _replay(archive: Path, env: dict[str, str]) -> Phase:
    """``newsarchive replay DIR --port 0``: wait for its URL, replay every HTML capture, SIGTERM."""
    phase = Phase("replay")
    proc = subprocess.Popen(
        [sys.executable, "-m", "crawler.cli", "replay", str(archive), "--port", "0"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
    overran = threading.Event()

    def kill() -> None:
        overran.set()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)

    watchdog = threading.Timer(TOOL_TIMEOUT, kill)
    watchdog.start()
    try:
        assert proc.stdout is not None and proc.stderr is not None
        lines = []
        for line in proc.stdout:  # "Open URL" is printed once pywb answers
            lines.append(line)
            if line.startswith("Open "):
                break
        match = re.search(r"Open (http://127\.0\.0\.1:\d+/\w+/)", "".join(lines))
        assert match, f"replay did not start (overran: {overran.is_set()}):\n{''.join(lines)}"
        collection = match.group(1)
        statuses: dict[str, int] = {}
        entries = [e for e in iter_index(archive / "indexes" / "index.cdxj") if e.mime == "text/html"]
        assert entries, "nothing to replay"
        for entry in entries:
            for mode in ("mp_", ""):
                url = f"{collection}{entry.timestamp}{mode}/{entry.url}"
                statuses[url] = get_status(url)
        statuses[collection] = get_status(collection)
        phase.extras["statuses"] = statuses
        proc.send_signal(signal.SIGTERM)
        phase.code = proc.wait(30)
        phase.output = "".join(lines) + proc.stdout.read() + proc.stderr.read()
    finally:
        watchdog.cancel()
        if proc.poll() is None:
            kill()
            proc.wait()
    return phase


def _run_sequence(tmp: Path, site: CookieSite, env_for: Callable[[str], dict[str, str]]) -> Commands:
    """Crawl, index, wacz, replay; ``env_for(phase)``, called as each begins, is added to its environment."""
    sources = write_sources(
        tmp / "sources.toml",
        *(
            site_toml(f"cookies-{n}", start_urls=[site.url(host)], article_urls=[r"/news/\d+"], max_depth=2)
            for n, host in enumerate(HOSTS)
        ),
    )
    archive = tmp / "archive"
    crawl = run_crawl(sources, archive, server=None, env=env_for("crawl"))
    phases = {"crawl": Phase("crawl", crawl.code, crawl.stderr)}
    done = _newsarchive(["index", str(archive)], crawl_env(None, env_for("index")))
    phases["index"] = Phase("index", done.returncode, done.stdout + done.stderr)
    if REPLAY_VENV is not None:
        wacz = tmp / "out" / "archive.wacz"
        done = _newsarchive(["wacz", str(archive), "-o", str(wacz)], crawl_env(None, env_for("wacz")))
        phases["wacz"] = Phase("wacz", done.returncode, done.stdout + done.stderr, {"file": wacz})
        phases["replay"] = _replay(archive, crawl_env(None, env_for("replay")))
    return Commands(crawl, phases, site, archive)


def _assert_ran(seq: Commands) -> None:
    crawl = seq.crawl
    assert crawl.code == 0, crawl.stderr
    for n in range(len(HOSTS)):
        site = crawl.site(f"cookies-{n}")
        assert site["articles_archived"] == len(ARTICLES), crawl.summary
        assert site["languages"] == {"eng": len(ARTICLES)}, crawl.summary  # the text workers ran
    for name, phase in seq.phases.items():
        assert phase.code == 0, f"{name} exited {phase.code}:\n{phase.output}"
    if "replay" in seq.phases:
        statuses = seq.phases["replay"].extras["statuses"]
        assert all(code == 200 for code in statuses.values()), statuses


# --- check 1: proxy canary ---------------------------------------------------------------------------------


@dataclass
class Proxied:
    seq: Commands
    canary_by_phase: dict[str, list[str]]
    cache_by_phase: dict[str, list[str]]


@pytest.fixture(scope="module")
def proxied(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proxied]:
    tmp = tmp_path_factory.mktemp("egress-proxy")
    cache = tmp / "tldextract-cache"
    cache.mkdir()
    seen: dict[str, list[str]] = {}
    cached: dict[str, list[str]] = {}
    with ProxyCanary() as canary, CookieSite() as site:
        env = {**canary.env(), "TLDEXTRACT_CACHE": str(cache)}
        running: list[str] = []

        def close_phase() -> None:
            """What the canary and the cache got since the previous phase began."""
            if running:
                seen[running[-1]] = canary.seen[sum(len(v) for v in seen.values()) :]
                before = {p for files in cached.values() for p in files}
                now = {str(p.relative_to(cache)) for p in cache.rglob("*")}
                cached[running[-1]] = sorted(now - before)

        def env_for(phase: str) -> dict[str, str]:
            close_phase()
            running.append(phase)
            return env

        seq = _run_sequence(tmp, site, env_for)
        close_phase()
    yield Proxied(seq, seen, cached)


def test_proxy_canary_crawl_with_cookies(proxied: Proxied) -> None:
    _assert_ran(proxied.seq)
    assert proxied.canary_by_phase["crawl"] == [], "the crawl used the proxy (a host nobody listed)"
    assert proxied.cache_by_phase["crawl"] == [], "the crawl wrote a suffix list to TLDEXTRACT_CACHE"


@pytest.mark.parametrize("phase", LATER)
def test_proxy_canary_index_wacz_replay(proxied: Proxied, phase: str) -> None:
    _assert_ran(proxied.seq)
    assert proxied.canary_by_phase[phase] == [], f"{phase} used the proxy (a host nobody listed)"
    assert proxied.cache_by_phase[phase] == [], f"{phase} wrote to TLDEXTRACT_CACHE"


def test_cookies_were_set_and_sent_back_within_their_site(proxied: Proxied) -> None:
    """The cookie jar still works: each site's own cookies come back to it, no public-suffix or foreign one."""
    requests = proxied.seq.site.requests
    assert {r.host for r in requests} == set(HOSTS)
    for host in HOSTS:
        articles = [r for r in requests if r.host == host and r.path.startswith("/news/")]
        assert len(articles) == len(ARTICLES)
        for request in articles:
            names = {part.split("=", 1)[0].strip() for part in request.cookie.split(";") if part.strip()}
            assert {"sid", "consent"} <= names, request
            assert not names & {"wide", "private", "foreign"}, request


# --- check 2: socket audit ---------------------------------------------------------------------------------


@dataclass
class Audited:
    seq: Commands
    logs: dict[str, list[dict[str, Any]]]


@pytest.fixture(scope="module")
def audited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Audited]:
    tmp = tmp_path_factory.mktemp("egress-audit")
    cache = tmp / "tldextract-cache"
    cache.mkdir()
    logs = {phase: tmp / f"audit-{phase}.jsonl" for phase in PHASES}
    env_for: dict[str, dict[str, str]] = {}
    for phase, log in logs.items():
        hook = tmp / f"hook-{phase}"
        write_sitecustomize(hook, log, set(HOSTS))
        env = {"PYTHONPATH": os.pathsep.join((str(hook), str(REPO))), "TLDEXTRACT_CACHE": str(cache)}
        if REPLAY_VENV is not None:
            env[REPLAY_VENV_ENV] = str(write_replay_shim(tmp / f"replay-venv-{phase}", REPLAY_VENV, hook))
        env_for[phase] = env
    with CookieSite() as site:
        seq = _run_sequence(tmp, site, env_for.__getitem__)
    yield Audited(seq, {phase: read_log(log) for phase, log in logs.items()})


def _processes(log: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    return {line["pid"]: line for line in log if line["kind"] == "hello"}


def _refusals(log: list[dict[str, Any]]) -> list[str]:
    procs = _processes(log)
    return [
        f"{line['event']} {line['target']} by {' '.join(procs.get(line['pid'], {}).get('cmdline', ['?']))[:160]}"
        for line in log
        if line["kind"] == "event" and not line["allowed"]
    ]


def _cmd(hello: dict[str, Any]) -> str:
    return " ".join(hello["cmdline"])


def test_socket_audit_crawl_and_its_workers(audited: Audited) -> None:
    _assert_ran(audited.seq)
    log = audited.logs["crawl"]
    procs = _processes(log)
    crawlers = [p for p in procs.values() if "crawler.cli crawl" in _cmd(p)]
    assert len(crawlers) == 1, f"the crawler did not load the audit hook: {procs}"
    crawler = crawlers[0]["pid"]
    forkservers = [p for p in procs.values() if "forkserver" in _cmd(p) and not p["forked"]]
    assert forkservers, "the workers' forkserver did not load the audit hook (was PYTHONPATH dropped?)"
    workers = [p for p in procs.values() if p["forked"] and p["ppid"] in {f["pid"] for f in forkservers}]
    assert workers, f"no text worker reported in: {procs}"
    # The hook saw the crawl's own traffic: both listed hosts, looked up and connected to.
    events = [line for line in log if line["kind"] == "event" and line["pid"] == crawler]
    port = audited.seq.site.port
    assert any(e["event"] == "socket.connect" and e["target"] == f"127.0.0.1:{port}" for e in events), events
    lookups = {"socket.getaddrinfo", "socket.gethostbyname"}
    assert any(e["event"] in lookups and e["target"] == "localhost" for e in events), events
    assert _refusals(log) == []


@pytest.mark.parametrize("phase", LATER)
def test_socket_audit_index_wacz_replay(audited: Audited, phase: str) -> None:
    _assert_ran(audited.seq)
    log = audited.logs[phase]
    commands = [_cmd(p) for p in _processes(log).values()]
    assert any(f"crawler.cli {phase}" in c for c in commands), commands
    expected = {"index": [], "wacz": ["wacz create", "wacz validate"], "replay": ["wayback --bind 127.0.0.1"]}
    for tool in expected[phase]:
        assert any(tool in c for c in commands), f"{tool} did not load the audit hook: {commands}"
    assert _refusals(log) == []
