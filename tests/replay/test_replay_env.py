"""The real pywb and py-wacz run without the PYTHONPATH the command inherited (issue 13, item 1).

A ``sitecustomize.py`` on the inherited ``PYTHONPATH`` stands for any code found there: Python
imports it at start-up in every interpreter that searches the folder. It leaves a mark.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from replay_fixtures import FixtureArchive

from archive.errors import WaczError
from archive.replay import start_wayback
from archive.wacz import validate_wacz

pytestmark = pytest.mark.replay

MARKING = "import os, pathlib; pathlib.Path(os.environ['NA_MARK_DIR'], str(os.getpid())).touch()\n"


@pytest.fixture
def marks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    hooks = tmp_path / "inherited"
    hooks.mkdir()
    (hooks / "sitecustomize.py").write_text(MARKING)
    folder = tmp_path / "marks"
    folder.mkdir()
    monkeypatch.setenv("PYTHONPATH", str(hooks))
    monkeypatch.setenv("NA_MARK_DIR", str(folder))
    monkeypatch.setenv("SCRAPY_SETTINGS_MODULE", "settings")
    return folder


def test_wayback_starts_and_answers_without_the_inherited_pythonpath(
    replay_venv: Path, fixture_archive: FixtureArchive, marks: Path
) -> None:
    server = start_wayback(fixture_archive.layout, port=0, venv=replay_venv)
    try:
        server.wait_ready()
    finally:
        server.stop()
    assert list(marks.iterdir()) == []


def test_wacz_runs_without_the_inherited_pythonpath(replay_venv: Path, tmp_path: Path, marks: Path) -> None:
    bogus = tmp_path / "not-a.wacz"
    bogus.write_bytes(b"not a zip")
    with pytest.raises(WaczError):
        validate_wacz(bogus, venv=replay_venv)
    assert list(marks.iterdir()) == []
