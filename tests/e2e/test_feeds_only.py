"""Sites listed with only feeds or only sitemaps, and the age window."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crawler.demo.server import DemoServer
from crawler.demo.sources import demo_articles
from tests.e2e.conftest import FAST, newsarchive

pytestmark = pytest.mark.slow


def _crawl(server: DemoServer, tmp_path: Path, body: str) -> dict:
    sources = tmp_path / "s.toml"
    sources.write_text(body.format(base=server.base_url), encoding="utf-8")
    archive = tmp_path / "a"
    result = newsarchive("crawl", str(sources), "--archive", str(archive), *FAST)
    assert result.code == 0, result.stderr
    return json.loads(next((archive / "runs").glob("*.json")).read_text())


def test_feeds_only_site_archives_the_feed_articles(demo_server: DemoServer, tmp_path: Path) -> None:
    summary = _crawl(
        demo_server,
        tmp_path,
        '[[sites]]\nname = "ur-feed"\nfeeds = ["{base}/feeds/ur.xml", "{base}/feeds/vi.rdf"]\n'
        "article_urls = ['/(ur|vi)/news/\\d+']\nmax_depth = 0\nrecheck_days = 36500\n",
    )
    site = summary["sites"]["ur-feed"]
    expected = [a for a in demo_articles() if a.section in ("ur", "vi")]
    assert site["new"] == len(expected)
    assert set(site["languages"]) == {"urd", "vie"}
    fetched = {s.path for s in demo_server.sent}
    assert not any(p.startswith(("/hi/", "/en/")) for p in fetched), "max_depth 0: no link following"


def test_sitemap_only_site_with_an_age_window(demo_server: DemoServer, tmp_path: Path) -> None:
    """The demo's articles are months old: a 30-day window skips them all, and says so."""
    summary = _crawl(
        demo_server,
        tmp_path,
        '[[sites]]\nname = "news-map"\nsitemaps = ["{base}/sitemap.xml"]\n'
        "article_urls = ['/news/\\d+']\nmax_age_days = 30\n",
    )
    site = summary["sites"]["news-map"]
    assert site["new"] == 0
    assert site["skipped"]["too_old"] == len(demo_articles())
    assert site["discovered"] == len(demo_articles())
