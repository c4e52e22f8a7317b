"""The layer fences hold by themselves, not only as far as ruff sees.

ruff's banned imports (``archive/ruff.toml``) catch ``import scrapy`` written in ``archive/``,
not an indirect one (an archive module importing a helper that imports Scrapy). So each module
is imported alone in a fresh interpreter and ``sys.modules`` is read afterwards:

* no module of ``archive/`` loads Scrapy, Twisted, ``crawler`` or redis: archives are read,
  indexed and replayed without a crawler (the dependency runs ``crawler -> archive`` only);
* no module of ``crawler.parse`` loads Scrapy or Twisted: it runs in every text worker process,
  which would otherwise each pay for Scrapy and a reactor they never use.

The modules are found with pkgutil, so a module added later is fenced without editing this file.
"""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

ARCHIVE_FORBIDS = ("scrapy", "twisted", "crawler", "redis")
PARSE_FORBIDS = ("scrapy", "twisted")


def _modules(package: str) -> list[str]:
    """The package and every module under it, found on disk (nothing imported here)."""
    path = ROOT.joinpath(*package.split("."))
    return [package, *sorted(info.name for info in pkgutil.walk_packages([str(path)], f"{package}."))]


def _loaded_packages(module: str) -> set[str]:
    """Top-level packages in ``sys.modules`` after importing ``module`` in a fresh interpreter."""
    probe = "import importlib, sys; importlib.import_module(sys.argv[1]); print('\\n'.join(sys.modules))"
    out = subprocess.run(
        [sys.executable, "-c", probe, module], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    return {name.split(".")[0] for name in out.split()}


ARCHIVE_MODULES = _modules("archive")
PARSE_MODULES = _modules("crawler.parse")


def test_discovery_finds_the_modules() -> None:
    assert {"archive", "archive.writer", "archive.text", "archive.replay"} <= set(ARCHIVE_MODULES)
    assert {"crawler.parse", "crawler.parse.feeds", "crawler.parse.pagejob"} <= set(PARSE_MODULES)


@pytest.mark.parametrize("module", ARCHIVE_MODULES)
def test_archive_loads_no_crawler_side(module: str) -> None:
    assert sorted(_loaded_packages(module) & set(ARCHIVE_FORBIDS)) == []


@pytest.mark.parametrize("module", PARSE_MODULES)
def test_parse_loads_no_scrapy(module: str) -> None:
    assert sorted(_loaded_packages(module) & set(PARSE_FORBIDS)) == []


def test_the_probe_sees_indirect_imports() -> None:
    """The spider imports Scrapy, which imports Twisted: the probe must see both (else the tests
    above could pass for a probe that sees nothing)."""
    assert set(PARSE_FORBIDS) <= _loaded_packages("crawler.spiders.news")
