"""A crawl started from the folder that holds the archive, the natural layout (issue 13, item 1).

    cd ~/news && newsarchive crawl sources.toml --archive archive

The folder holds the archive named ``archive`` (made by a first crawl into it), a folder
``crawler/`` and a stray ``settings.py``; the environment may also name
``SCRAPY_SETTINGS_MODULE=settings`` and the folder on ``PYTHONPATH``. The README's install (``pip install -e .``, whose
packages a folder on the path shadows) runs its console script there, and every article of the
demo site must be archived with its text.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from crawler.demo.server import DemoServer
from crawler.demo.sources import demo_articles, demo_sources_toml
from tests.e2e.conftest import FAST

pytestmark = pytest.mark.slow

CONSOLE_SCRIPT = Path(sys.executable).with_name("newsarchive")
STRAY = (
    "import pathlib; pathlib.Path(__file__).with_suffix('.imported').touch(); raise RuntimeError('stray')\n"
)
ONLY_THE_HOME_PAGE = """\
[[sites]]
name = "demo-news"
start_urls = ["{base}/"]
allowed_domains = ["127.0.0.1"]
article_urls = ['/(ur|hi|vi|en)/news/\\d+']
max_depth = 0
max_pages = 1
"""


def _run(folder: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CONSOLE_SCRIPT), *args],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _base_env() -> dict[str, str]:
    return {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHONPATH", "PYTHONSAFEPATH", "SCRAPY_SETTINGS_MODULE")
    }


@pytest.fixture(scope="module")
def first_crawl(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[DemoServer, Path]]:
    """The folder after a first crawl into ``archive`` (the home page only: every article is still new)."""
    if not CONSOLE_SCRIPT.is_file():
        pytest.skip(
            f"no console script {CONSOLE_SCRIPT}: install the product as the README says (pip install -e .)"
        )
    folder = tmp_path_factory.mktemp("news")
    server = DemoServer("127.0.0.1", 0)
    server.start()
    try:
        (folder / "first.toml").write_text(ONLY_THE_HOME_PAGE.format(base=server.base_url.rstrip("/")))
        first = _run(folder, "crawl", "first.toml", "--archive", "archive", *FAST, env=_base_env())
        assert first.returncode == 0, first.stderr
        assert (folder / "archive" / "text").is_dir() and (folder / "archive" / "warc").is_dir()
        (folder / "sources.toml").write_text(demo_sources_toml(server.base_url))
        yield server, folder
    finally:
        server.stop()


def _users_folder(first_crawl: tuple[DemoServer, Path], path: Path) -> Path:
    shutil.copytree(first_crawl[1], path)
    (path / "crawler").mkdir()
    (path / "crawler" / "__init__.py").write_text("")
    (path / "crawler" / "settings.py").write_text(STRAY)
    (path / "settings.py").write_text(STRAY)
    return path


def _texts_of_the_run(folder: Path, env: dict[str, str]) -> dict[str, int]:
    """Article URL -> text length, for the captures the last run wrote."""
    summary = json.loads(max((folder / "archive" / "runs").glob("*.json")).read_text())
    files = {Path(f).name for f in summary["files_written"]}
    listing = _run(folder, "ls", "archive", "--json", env=env)
    assert listing.returncode == 0, listing.stderr
    rows = [json.loads(line) for line in listing.stdout.splitlines()]
    return {
        r["url"]: r["text_length"]
        for r in rows
        if r["file"] in files and r["record_type"] == "response" and "/news/" in r["url"]
    }


@pytest.mark.parametrize(
    ("settings_module", "pythonpath"),
    [(False, False), (True, False), (True, True)],
    ids=["folder", "folder-and-settings-module", "folder-on-pythonpath-and-settings-module"],
)
def test_a_crawl_from_the_archives_folder_archives_every_article_with_text(
    first_crawl: tuple[DemoServer, Path], tmp_path: Path, settings_module: bool, pythonpath: bool
) -> None:
    server, _ = first_crawl
    folder = _users_folder(first_crawl, tmp_path / "news")
    env = _base_env()
    if settings_module:
        env["SCRAPY_SETTINGS_MODULE"] = "settings"
    if pythonpath:
        env["PYTHONPATH"] = str(folder)
    run = _run(folder, "crawl", "sources.toml", "--archive", "archive", *FAST, env=env)
    assert run.returncode == 0, run.stderr
    assert "ImportError" not in run.stderr and "Traceback" not in run.stderr, run.stderr
    assert not list(folder.rglob("*.imported")), "a stray settings module was imported"

    texts = _texts_of_the_run(folder, env)
    expected = {a.url(server.base_url) for a in demo_articles()}
    assert set(texts) == expected and len(expected) == 16
    assert all(length > 0 for length in texts.values()), texts
    log = max((folder / "archive" / "runs").glob("*.log")).read_text(encoding="utf-8")
    assert "text worker" not in log, "no text worker died"
