"""Text workers started from the folder that holds the archive import the product, not the folder.

Each scenario is a crawl process of its own (a forkserver is started once per process): a
``python -c`` whose working directory holds an archive named ``archive`` (its ``text/`` folder is
a namespace package ``archive.text`` to a Python that searches the folder), a folder ``crawler/``
and a stray ``settings.py``; like the console script, it does not search that folder itself. It
starts the real worker pool and extracts one real page.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from archive.childenv import product_root

SEED = Path(__file__).resolve().parent.parent / "data" / "seeds" / "001_hi_ndtv.html"

SCRIPT = """
import os, sys
sys.path[:] = [p for p in sys.path if p not in ("", os.getcwd())]  # as the console script: not the folder
import asyncio, json, multiprocessing
from multiprocessing import forkserver
from pathlib import Path
from crawler.extensions.workers import PageWorkers

class Stats:
    def __init__(self):
        self.values = {}
    def inc_value(self, key, count=1, start=0):
        self.values[key] = self.values.get(key, start) + count

if sys.argv[2] == "forkserver-as-inherited":  # started as before the fix, to prove the guard
    multiprocessing.get_context("forkserver").set_forkserver_preload(["crawler.extensions.workerboot"])
    forkserver.ensure_running()
workers = PageWorkers(Stats(), workers=1, timeout=60)
workers.start()
try:
    page = asyncio.run(workers.analyse(Path(sys.argv[1]).read_bytes(), "https://ndtv.example/hi/a/b", "utf-8", want_text=True))
finally:
    workers.close()
print(json.dumps({"error": page.error, "text": page.text.article.text if page.text else None, "stats": workers.stats.values}))
"""


def _user_folder(path: Path) -> Path:
    (path / "archive" / "text").mkdir(parents=True)
    (path / "crawler").mkdir()
    (path / "crawler" / "__init__.py").write_text("")
    (path / "crawler" / "settings.py").write_text("raise RuntimeError('stray crawler/settings.py')\n")
    (path / "settings.py").write_text("raise RuntimeError('stray settings.py')\n")
    return path


def _environment() -> dict[str, str]:
    """The test's environment without PYTHONPATH: the product is found through its editable install."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONSAFEPATH")}
    env["SCRAPY_SETTINGS_MODULE"] = "settings"
    probe = [sys.executable, "-P", "-c", "import crawler.extensions.workers"]
    if subprocess.run(probe, cwd="/", env=env, capture_output=True, check=False).returncode != 0:
        pytest.skip("needs the product installed (pip install -e .): found on a path, no folder shadows it")
    return env


def _extract(tmp_path: Path, mode: str) -> tuple[dict, str]:
    user = _user_folder(tmp_path / "news")
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(SEED), mode],
        cwd=user,
        env=_environment(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout), done.stderr


def test_workers_started_in_the_archives_folder_extract_text(tmp_path: Path) -> None:
    page, stderr = _extract(tmp_path, "as-a-crawl")
    assert page["error"] is None, stderr
    assert page["text"] and len(page["text"]) > 200
    assert "ImportError" not in stderr and "Traceback" not in stderr


def test_a_worker_that_imported_the_folders_archive_runs_no_job_and_says_why(tmp_path: Path) -> None:
    page, stderr = _extract(tmp_path, "forkserver-as-inherited")
    assert page["text"] is None and page["error"]
    # The worker's check names what it imported and from where; the crawl's log says it died starting.
    assert "ForeignCodeError" in stderr and "imported code that is not newsarchive's" in stderr
    assert f"archive from {tmp_path / 'news' / 'archive'}" in stderr
    assert str(product_root()) in stderr
    assert "a text worker died while starting" in stderr
