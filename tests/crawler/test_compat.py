"""The old module names of crawler/ (before 0.2) alias the new modules for one release, with a warning."""

from __future__ import annotations

import importlib
import pickle
import subprocess
import sys
import warnings

import pytest
from scrapy.exceptions import IgnoreRequest
from scrapy.settings import Settings
from scrapy.utils.conf import build_component_list
from scrapy.utils.misc import load_object

from crawler import errors
from crawler.compat import MOVED, NewsarchiveDeprecationWarning


@pytest.mark.parametrize(("old", "new"), sorted(MOVED.items()))
def test_an_old_name_is_the_same_module_object(old: str, new: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NewsarchiveDeprecationWarning)
        module = importlib.import_module(old)
    assert module is importlib.import_module(new)
    assert module.__name__ == new and module.__spec__ is not None and module.__spec__.name == new


def test_no_file_stands_at_an_old_place() -> None:
    import crawler

    top = {p.stem for p in __import__("pathlib").Path(crawler.__file__).parent.glob("*.py")}
    assert not top & {old.rsplit(".", 1)[1] for old in MOVED}


def test_importing_an_old_name_warns() -> None:
    # A fresh interpreter: in this one the alias may already be imported (no second warning).
    code = (
        "import warnings; warnings.simplefilter('error');\n"
        "try:\n import crawler.archiver\nexcept Warning as w: print(type(w).__name__, w)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.startswith("NewsarchiveDeprecationWarning crawler.archiver is deprecated")
    assert "crawler.extensions.archiver" in out


def test_an_old_dotted_path_still_loads_the_same_object() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        old = load_object("crawler.archiver.sqlite_state")
    assert old is load_object("crawler.extensions.archiver.sqlite_state")


def test_none_under_an_old_component_key_still_disables_the_component() -> None:
    import crawler.settings  # noqa: F401  (registers the old paths with Scrapy)

    settings = Settings()
    settings.setdict({"EXTENSIONS": {"crawler.extensions.archiver.Archiver": 100}}, priority="project")
    settings.setdict({"EXTENSIONS": {"crawler.archiver.Archiver": None}}, priority="cmdline")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        components = build_component_list(settings.getwithbase("EXTENSIONS"))
    assert "crawler.extensions.archiver.Archiver" not in components


def test_monkeypatching_an_old_name_patches_the_module(monkeypatch: pytest.MonkeyPatch) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        old = importlib.import_module("crawler.links")
    monkeypatch.setattr(old, "NOT_PAGES", ("#",))
    assert importlib.import_module("crawler.parse.links").NOT_PAGES == ("#",)


def test_classes_pickle_under_their_new_module() -> None:
    from crawler.parse.links import PageLinks

    links = PageLinks(("https://example.org/",), 0)
    assert b"crawler.parse.links" in pickle.dumps(links)
    assert pickle.loads(pickle.dumps(links)) == links


@pytest.mark.parametrize("name", ["OutOfScope", "NotDecodable", "Truncated"])
def test_download_skips_are_scrapy_ignores_and_crawler_errors(name: str) -> None:
    cls = getattr(errors, name)
    assert issubclass(cls, IgnoreRequest) and issubclass(cls, errors.CrawlerError)
    assert cls is getattr(errors, name)  # built once
    assert cls.__module__ == "crawler.errors"


def test_the_old_import_sites_re_export_the_same_classes() -> None:
    from archive import errors as archive_errors
    from archive.encoding import DecodeError
    from archive.state import StateError
    from crawler.distributed.connection import RedisUnavailable
    from crawler.downloader.capture import Truncated
    from crawler.downloader.scope import OutOfScope
    from crawler.run.lock import LockHeld
    from crawler.sources import SourcesError

    assert (OutOfScope, Truncated, LockHeld, SourcesError, RedisUnavailable) == (
        errors.OutOfScope,
        errors.Truncated,
        errors.LockHeld,
        errors.SourcesError,
        errors.RedisUnavailable,
    )
    assert (DecodeError, StateError) == (archive_errors.DecodeError, archive_errors.StateError)
