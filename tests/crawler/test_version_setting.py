"""The product's version is a setting, and every User-Agent names it (issue 13, item 7)."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import pytest
from scrapy.settings import Settings

from archive.layout import ArchiveLayout
from crawler.run.crawl import CrawlOptions, build_settings


def _installed_version() -> str:
    try:
        return version("newsarchive")
    except PackageNotFoundError:
        pytest.skip("the product is not installed: no package version to compare with")


def _settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, options: CrawlOptions) -> Settings:
    monkeypatch.setenv("SCRAPY_SETTINGS_MODULE", "crawler.settings")
    return build_settings(
        tmp_path / "s.toml", ArchiveLayout(tmp_path / "a"), options, "run", tmp_path / "log"
    )


def test_the_user_agent_with_contact_names_the_package_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = _installed_version()
    settings = _settings(tmp_path, monkeypatch, CrawlOptions(contact="mailto:ops@example.org"))
    assert settings.get("NEWSARCHIVE_VERSION") == expected
    assert settings.get("USER_AGENT") == f"newsarchive/{expected} (+mailto:ops@example.org)"
    default = _settings(tmp_path, monkeypatch, CrawlOptions()).get("USER_AGENT")
    assert default.startswith(f"newsarchive/{expected} (+"), "the same version with or without --contact"
