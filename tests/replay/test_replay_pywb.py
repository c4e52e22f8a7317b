"""Replay of the fixture archive through a real pywb 2.10 (``wayback`` from .venv-replay)."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pytest
from http_get import get
from replay_fixtures import HOST, REDIRECT_TARGET_PATH, URDU_1, URDU_2, FixtureArchive, build_archive

from archive.index import build_indexes
from archive.layout import ArchiveLayout
from archive.replay import config_path, prepare_replay, start_wayback

pytestmark = pytest.mark.replay

ARTICLES = [f"{HOST}/ur/article-1.html", f"{HOST}/hi/article-2.html", HOST + REDIRECT_TARGET_PATH]


def _captures(archive: FixtureArchive, url: str):
    found = archive.find(url)
    assert found, url
    return found


@pytest.mark.parametrize("url", ARTICLES)
def test_id_returns_the_payload_byte_identical_at_every_capture(wayback, fixture_archive, url) -> None:
    for capture in _captures(fixture_archive, url):
        reply = get(f"{wayback.collection_url}{capture.timestamp}id_/{url}")
        assert reply.status == 200, (capture.kind, reply.status)
        # pywb decodes a gzip-stored body for a client that did not offer gzip, and keeps the
        # origin's headers under X-Archive-Orig-*
        assert reply.body == capture.identity_body, capture.kind
        assert reply.header("Memento-Datetime")


def test_id_with_accept_encoding_returns_the_stored_gzip_bytes(wayback, fixture_archive) -> None:
    url = f"{HOST}/ur/article-1.html"
    for capture in _captures(fixture_archive, url):
        reply = get(f"{wayback.collection_url}{capture.timestamp}id_/{url}", accept_encoding="gzip")
        assert reply.status == 200 and reply.complete
        assert reply.header("Content-Encoding") == "gzip"
        assert gzip.decompress(reply.body) == capture.identity_body


@pytest.mark.parametrize("url", ARTICLES)
def test_mp_contains_the_article_text(wayback, fixture_archive, url) -> None:
    for capture in _captures(fixture_archive, url):
        reply = get(f"{wayback.collection_url}{capture.timestamp}mp_/{url}")
        assert reply.status == 200
        html = reply.body.decode("utf-8")
        for paragraph in capture.text.splitlines():
            assert paragraph in html, (capture.kind, paragraph[:40])


def test_revisit_replays_as_the_original_page_with_status_200(wayback, fixture_archive) -> None:
    url = f"{HOST}/ur/article-1.html"
    (revisit,) = fixture_archive.find(url, "revisit")
    (original,) = fixture_archive.find(url, "response")
    assert revisit.timestamp != original.timestamp
    reply = get(f"{wayback.collection_url}{revisit.timestamp}id_/{url}")
    assert reply.status == 200
    assert reply.body == original.identity_body
    # the revisit's own (new) headers are served, and the memento is the revisit's date
    assert reply.header("X-Archive-Orig-Date") == "Sat, 21 Nov 2026 10:00:00 GMT"
    assert "Sat, 21 Nov 2026" in (reply.header("Memento-Datetime") or "")
    # the framed top-level page works too
    assert get(f"{wayback.collection_url}{revisit.timestamp}/{url}").status == 200


def test_cdx_api_lists_every_capture(wayback, fixture_archive) -> None:
    url = f"{HOST}/ur/article-1.html"
    reply = get(f"{wayback.collection_url}cdx?url={url}&output=json")
    assert reply.status == 200
    rows = [json.loads(line) for line in reply.body.decode().splitlines()]
    assert [(r["timestamp"], r["mime"]) for r in rows] == [
        (c.timestamp, "text/html" if c.kind == "response" else "warc/revisit")
        for c in sorted(fixture_archive.find(url), key=lambda c: c.timestamp)
    ]
    everything = get(f"{wayback.collection_url}cdx?url={HOST}/*&output=json")
    assert len(everything.body.decode().splitlines()) == len(fixture_archive.captures)


def test_redirect_with_percent_encoded_non_ascii_location_replays(wayback, fixture_archive) -> None:
    (redirect,) = fixture_archive.find(f"{HOST}/ur/latest")
    reply = get(f"{wayback.collection_url}{redirect.timestamp}mp_/{HOST}/ur/latest")
    assert reply.status == 301
    location = reply.header("Location")
    assert location == f"/{wayback.collection}/{redirect.timestamp}mp_/{HOST}{REDIRECT_TARGET_PATH}"
    target = get(wayback.base_url + location)
    assert target.status == 200
    assert URDU_2[0] in target.body.decode("utf-8")


def test_config_points_at_our_index_and_warcs_relatively(wayback, fixture_archive) -> None:
    text = config_path(fixture_archive.layout).read_text()
    assert '"../indexes/index.cdxj"' in text and '"../warc/"' in text
    assert "/tmp" not in text and str(fixture_archive.layout.root) not in text
    assert wayback.host == "127.0.0.1"
    assert "--bind" in wayback.process.args and "127.0.0.1" in wayback.process.args


def test_new_cron_run_is_visible_without_restart(replay_venv, tmp_path: Path) -> None:
    """Captures of a later run show up after build_indexes: nothing copied, no restart."""
    source = build_archive(tmp_path / "src", experiments=False)
    layout = ArchiveLayout(tmp_path / "live")
    layout.create()
    first, second = source.layout.capture_files()
    shutil.copy2(first, layout.capture_dir / first.name)
    prepare_replay(layout)
    server = start_wayback(layout, port=0, venv=replay_venv)
    try:
        server.wait_ready()
        url = f"{HOST}/ur/article-1.html"
        (revisit,) = source.find(url, "revisit")
        cdx = f"{server.collection_url}cdx?url={url}&output=json"
        assert len(get(cdx).body.splitlines()) == 1

        shutil.copy2(second, layout.capture_dir / second.name)  # the next cron run closes a file
        report = build_indexes(layout)
        assert report.indexed == [second.name]
        assert len(get(cdx).body.splitlines()) == 2
        reply = get(f"{server.collection_url}{revisit.timestamp}mp_/{url}")
        assert reply.status == 200
        assert URDU_1[0] in reply.body.decode("utf-8")
    finally:
        server.stop()
    assert list(layout.replay_dir.iterdir()) != []
    assert not (layout.replay_dir / "collections").exists() or not any(
        (layout.replay_dir / "collections").rglob("*.warc.gz")
    )
