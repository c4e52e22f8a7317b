"""WACZ packaging (py-wacz) and replay of the WACZ in ReplayWeb.page 2.5.3 in headless Chromium.

The origin "news.example" does not exist: everything the browser shows comes out of the WACZ,
served by ``python -m http.server`` on 127.0.0.1. Screenshots go to ``test-artifacts/``.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from conftest import StaticSite, run_rwp
from replay_fixtures import (
    ARTIFACTS,
    HOST,
    REDIRECT_TARGET_PATH,
    REVISIT_VARIANTS,
    URDU_1,
    URDU_2,
    FixtureArchive,
)

from archive.pages import PAGES_HEADER
from archive.wacz import WaczReport, create_wacz, validate_wacz

pytestmark = pytest.mark.replay

# Only the 304 status line breaks ReplayWeb.page (blank page); unlike pywb, wabac.js copes with
# Content-Encoding / Content-Length in the revisit that do not match the stored payload.
RWP_EXPECTED = {name: name != "nm-304" for name in REVISIT_VARIANTS}


@pytest.fixture(scope="session")
def wacz(replay_venv: Path, fixture_archive: FixtureArchive, tmp_path_factory) -> WaczReport:
    out = tmp_path_factory.mktemp("wacz") / "news.wacz"
    return create_wacz(fixture_archive.layout.root, out, title="replay tests", venv=replay_venv)


@pytest.fixture(scope="session")
def wacz_on_site(wacz: WaczReport, rwp_site: StaticSite) -> str:
    return rwp_site.add(wacz.path)


def test_wacz_holds_the_capture_warcs_and_our_pages(wacz: WaczReport, fixture_archive, replay_venv) -> None:
    assert "Validation succeeded" in validate_wacz(wacz.path, venv=replay_venv)
    with zipfile.ZipFile(wacz.path) as zf:
        names = zf.namelist()
        archived = sorted(n.removeprefix("archive/") for n in names if n.startswith("archive/"))
        assert archived == [p.name for p in fixture_archive.layout.capture_files()]
        assert not any("TEXT" in n for n in names)  # text WARCs are not packaged
        lines = zf.read("pages/pages.jsonl").decode("utf-8").splitlines()
        datapackage = json.loads(zf.read("datapackage.json"))
    header = json.loads(lines[0])
    assert {k: header[k] for k in PAGES_HEADER} == PAGES_HEADER and header["hasText"] is True
    pages = [json.loads(line) for line in lines[1:]]
    assert len(pages) == wacz.pages.pages == 3
    assert {p["url"] for p in pages} == {
        f"{HOST}/ur/article-1.html",
        f"{HOST}/hi/article-2.html",
        HOST + REDIRECT_TARGET_PATH,
    }
    assert URDU_2[1] in lines[-1] or any(URDU_2[1] in p["text"] for p in pages)
    assert datapackage["title"] == "replay tests"
    assert wacz.warcs == 2 and not wacz.index_failed


def _targets(archive: FixtureArchive) -> list[tuple[str, str, str, str]]:
    """(label, url, ts, expected text) for every article capture, plus the redirect."""
    out = []
    for capture in archive.captures:
        if capture.text:
            label = f"{capture.url.rsplit('/', 1)[-1][:20]}-{capture.kind}"
            out.append((label, capture.url, capture.timestamp, capture.text.splitlines()[-1]))
    (redirect,) = archive.find(f"{HOST}/ur/latest")
    out.append(("redirect", redirect.url, redirect.timestamp, URDU_2[0]))
    return out


def test_replaywebpage_renders_every_article_capture(replay_venv, rwp_site, wacz_on_site, fixture_archive):
    targets = _targets(fixture_archive)
    jobs = [
        {
            "mode": "render",
            "source": wacz_on_site,
            "url": url,
            "ts": ts,
            "expected": [text],
            "screenshot": f"rwp-{label}.png",
        }
        for label, url, ts, text in targets
    ]
    results = run_rwp(replay_venv, rwp_site, jobs)
    failures = [
        (t[0], r["missing"], r["screenshot"]) for t, r in zip(targets, results, strict=True) if r["missing"]
    ]
    assert not failures


def test_replaywebpage_revisit_variants(replay_venv, rwp_site, wacz_on_site, fixture_archive) -> None:
    jobs = []
    for name in REVISIT_VARIANTS:
        url = f"{HOST}/exp/{name}.html"
        (revisit,) = fixture_archive.find(url, "revisit")
        jobs.append(
            {
                "mode": "render",
                "source": wacz_on_site,
                "url": url,
                "ts": revisit.timestamp,
                "expected": [f"Revisit experiment {name}"],
                "screenshot": f"rwp-revisit-{name}.png",
                # a variant expected to fail only needs long enough to be sure it does
                "timeout": 90 if RWP_EXPECTED[name] else 10,
            }
        )
    results = run_rwp(replay_venv, rwp_site, jobs)
    observed = {name: not r["missing"] for name, r in zip(REVISIT_VARIANTS, results, strict=True)}
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "revisit-matrix-rwp.json").write_text(json.dumps(observed, indent=1), encoding="utf-8")
    assert observed == RWP_EXPECTED


def test_replaywebpage_full_text_search_finds_an_urdu_sentence(replay_venv, rwp_site, wacz_on_site) -> None:
    # words from the body text (not the title): only pages.jsonl's "text" can match them
    query = " ".join(URDU_1[1].split("،")[1].split()[:4])  # "کورین سنٹرل نیوز ایجنسی"
    (result,) = run_rwp(
        replay_venv,
        rwp_site,
        [
            {
                "mode": "search",
                "source": wacz_on_site,
                "query": query,
                "expected": ["1 page", f"{HOST}/ur/article-1.html"],
                "screenshot": "rwp-search-urdu.png",
            }
        ],
    )
    assert not result["missing"], result["screenshot"]
    assert f"{HOST}/hi/article-2.html" not in result["text"]
