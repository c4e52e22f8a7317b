"""End to end: two real ``newsarchive crawl`` runs of the demo site, then pywb and ReplayWeb.page.

Run 1 crawls revision 0 of the demo site; run 2 crawls revision 1 (one article edited, one
added, the rest unchanged -> revisits in run 2's file pointing into run 1's). Every article is
then checked at every capture date through pywb (``id_`` byte-identical to what the origin
served for that revision, ``mp_`` shows every paragraph) and the CDX API; the WACZ of the
same archive is replayed in ReplayWeb.page. The origin is stopped before any replay, so
nothing can come from the live site.
"""

from __future__ import annotations

import html
import json
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import StaticSite, run_rwp
from http_get import get

from archive.layout import ArchiveLayout
from archive.replay import ReplayServer, prepare_replay, start_wayback
from archive.wacz import WaczReport, create_wacz
from crawler.demo.server import DemoServer
from crawler.demo.site import build_site
from crawler.demo.sources import DemoArticle, demo_articles, demo_sources_toml

pytestmark = [pytest.mark.replay, pytest.mark.slow]

FAST = ["--no-autothrottle", "--delay", "0", "--per-host", "8", "--text-workers", "2", "--no-progress"]


@dataclass
class DemoArchive:
    layout: ArchiveLayout
    base_url: str
    runs: list[str]  # capture WARC names, in run order (one file per run at default rotation)


def _crawl(sources: Path, archive: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "crawler.cli", "crawl", str(sources), "--archive", str(archive), *FAST],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]


@pytest.fixture(scope="module")
def demo_archive(tmp_path_factory: pytest.TempPathFactory, replay_venv: Path) -> DemoArchive:
    root = tmp_path_factory.mktemp("demo")
    layout = ArchiveLayout(root / "archive")
    server = DemoServer("127.0.0.1", 0)
    server.start()
    try:
        sources = root / "sources.toml"
        sources.write_text(demo_sources_toml(server.base_url), encoding="utf-8")
        runs = []
        for revision in (0, 1):
            server.revision = revision
            _crawl(sources, layout.root)
            new = [p.name for p in layout.capture_files() if p.name not in runs]
            assert len(new) == 1, new
            runs += new
        base_url = server.base_url
    finally:
        server.stop()  # replay must not be able to reach the origin
    return DemoArchive(layout, base_url, runs)


@pytest.fixture(scope="module")
def demo_wayback(demo_archive: DemoArchive, replay_venv: Path) -> Iterator[ReplayServer]:
    report = prepare_replay(demo_archive.layout)
    assert report.ok, report.failed
    server = start_wayback(demo_archive.layout, port=0, venv=replay_venv)
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


def _articles() -> tuple[dict[str, DemoArticle], dict[str, DemoArticle]]:
    return {a.path: a for a in demo_articles(0)}, {a.path: a for a in demo_articles(1)}


def _cdx(server: ReplayServer, url: str) -> list[dict]:
    reply = get(f"{server.collection_url}cdx?url={url}&output=json")
    assert reply.status == 200
    return [json.loads(line) for line in reply.body.decode("utf-8").splitlines()]


def test_every_article_replays_at_every_capture_date(demo_archive: DemoArchive, demo_wayback) -> None:
    before, after = _articles()
    sites = [build_site(demo_archive.base_url, 0), build_site(demo_archive.base_url, 1)]
    changed = {p for p in after if p in before and after[p].paragraphs != before[p].paragraphs}
    added = {p for p in after if p not in before}
    assert len(changed) == 1 and len(added) == 1
    revisits_checked = 0
    for path, article in after.items():
        url = article.url(demo_archive.base_url)
        rows = _cdx(demo_wayback, url)
        runs = [demo_archive.runs.index(r["filename"]) for r in rows]
        mimes = [r["mime"] for r in rows]
        if path in added:
            assert runs == [1] and mimes == ["text/html"], path
        elif path in changed:
            assert runs == [0, 1] and mimes == ["text/html", "text/html"], path
        else:
            # unchanged: a revisit in run 2's file whose payload lives in run 1's file
            assert runs == [0, 1] and mimes == ["text/html", "warc/revisit"], path
        for row, run in zip(rows, runs, strict=True):
            expected = sites[run].lookup(path).body
            served = get(f"{demo_wayback.collection_url}{row['timestamp']}id_/{url}")
            assert served.status == 200, (path, row["timestamp"])
            assert served.body == expected, (path, row["mime"])
            page = get(f"{demo_wayback.collection_url}{row['timestamp']}mp_/{url}")
            assert page.status == 200
            text = html.unescape(page.body.decode("utf-8"))
            gold = (before if run == 0 else after)[path]
            for paragraph in gold.paragraphs:
                assert paragraph in text, (path, run, paragraph[:40])
            revisits_checked += row["mime"] == "warc/revisit"
    assert revisits_checked == len(before) - 1


def test_redirect_replays_to_the_article(demo_archive: DemoArchive, demo_wayback) -> None:
    rows = [
        r for r in _cdx(demo_wayback, f"{demo_archive.base_url}/*") if r.get("status", "").startswith("3")
    ]
    assert rows, "the demo site's 301 was not archived"
    for row in rows:
        reply = get(f"{demo_wayback.collection_url}{row['timestamp']}mp_/{row['url']}")
        assert reply.status == 301
        location = reply.header("Location") or ""
        assert location.startswith(f"/{demo_wayback.collection}/")
        target = get(demo_wayback.base_url + location)
        assert target.status == 200, location


@pytest.fixture(scope="module")
def demo_wacz(demo_archive: DemoArchive, replay_venv: Path, tmp_path_factory) -> WaczReport:
    out = tmp_path_factory.mktemp("demo-wacz") / "demo.wacz"
    return create_wacz(demo_archive.layout.root, out, title="demo crawl", venv=replay_venv)


def _pages(wacz: Path) -> list[dict]:
    """Pages of a WACZ's pages.jsonl (header line skipped)."""
    with zipfile.ZipFile(wacz) as zf:
        lines = zf.read("pages/pages.jsonl").decode("utf-8").splitlines()
    return [json.loads(line) for line in lines[1:]]


def test_demo_wacz_pages_carry_every_article_text(demo_archive: DemoArchive, demo_wacz: WaczReport) -> None:
    before, after = _articles()
    pages = _pages(demo_wacz.path)
    # one page per full response of an article: every article of run 1, then the changed and
    # the added one in run 2 (revisits add no page: same text, same record)
    changed = {p for p in after if p in before and after[p].paragraphs != before[p].paragraphs}
    assert len(pages) == len(before) + len(changed) + (len(after) - len(before))
    by_url: dict[str, list[dict]] = {}
    for page in pages:
        by_url.setdefault(page["url"], []).append(page)
    for path, article in after.items():
        found = by_url[article.url(demo_archive.base_url)]
        assert any(article.paragraphs[0] in p["text"] for p in found), path


def test_demo_wacz_in_replaywebpage(demo_archive: DemoArchive, demo_wacz, replay_venv, rwp_site: StaticSite):
    source = rwp_site.add(demo_wacz.path)
    before, after = _articles()
    urdu = [a for a in after.values() if a.section == "ur" and a.path in before]
    article = urdu[0]
    url = article.url(demo_archive.base_url)
    assert any(p["url"] == url for p in _pages(demo_wacz.path))
    index_rows = [
        line.split(" ", 2)[1]
        for line in (demo_archive.layout.index_dir / "index.cdxj").read_text(encoding="utf-8").splitlines()
        if f'"url": "{url}"' in line
    ]
    assert len(index_rows) == 2  # the response (run 1) and the revisit (run 2)
    jobs = [
        {
            "mode": "render",
            "source": source,
            "url": url,
            "ts": ts,
            "expected": [article.paragraphs[-1]],
            "screenshot": f"rwp-demo-{n}.png",
        }
        for n, ts in enumerate(index_rows)
    ]
    query = " ".join(article.paragraphs[1].split()[:4])
    jobs.append(
        {
            "mode": "search",
            "source": source,
            "query": query,
            "expected": [url],
            "screenshot": "rwp-demo-search.png",
        }
    )
    results = run_rwp(replay_venv, rwp_site, jobs)
    assert [r["missing"] for r in results] == [[] for _ in jobs], [r["screenshot"] for r in results]
