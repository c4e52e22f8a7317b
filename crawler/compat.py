"""Old module names of ``crawler/`` (before the 0.2 regrouping), kept for one release.

Users name some modules by dotted path: ``NEWSARCHIVE_STATE_STORE``, component dicts
(``--set EXTENSIONS={"crawler.archiver.Archiver": null}``), their own code importing ours.
Each old name is an alias of the *same module object* as the new one, so monkeypatching
either name patches both, and an old key in a component dict converts to the new key
(Scrapy's own ``update_classpath`` rules), so ``None`` under the old key still disables the
component. Every use warns once with :class:`NewsarchiveDeprecationWarning`.

No file stands at the old place: a meta-path finder answers for the old names. This module
imports nothing heavy, because ``crawler/__init__.py`` installs the finder in every process,
text workers included; the Scrapy half is :func:`register_component_paths`, called by the
project settings.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import warnings
from types import ModuleType

#: old module name -> new module name (the compatibility surface; listed in CHANGELOG.md).
MOVED: dict[str, str] = {
    "crawler.archiver": "crawler.extensions.archiver",
    "crawler.capture": "crawler.downloader.capture",
    "crawler.discovery": "crawler.parse.feeds",
    "crawler.handlers": "crawler.downloader.handlers",
    "crawler.links": "crawler.parse.links",
    "crawler.lock": "crawler.run.lock",
    "crawler.pagejob": "crawler.parse.pagejob",
    "crawler.progress": "crawler.extensions.progress",
    "crawler.recovery": "crawler.run.recovery",
    "crawler.replay_cli": "crawler.commands",
    "crawler.resolver": "crawler.downloader.resolver",
    "crawler.scheduler": "crawler.downloader.scheduler",
    "crawler.scope": "crawler.downloader.scope",
    "crawler.summary": "crawler.run.summary",
    "crawler.workerboot": "crawler.extensions.workerboot",
    "crawler.workers": "crawler.extensions.workers",
}


class NewsarchiveDeprecationWarning(Warning):
    """An old name was used; it works for one more release (shown by default, like Scrapy's)."""


def _warn(old: str, new: str) -> None:
    warnings.warn(
        f"{old} is deprecated and will be removed in the next release: use {new}",
        NewsarchiveDeprecationWarning,
        stacklevel=3,
    )


class _AliasLoader(importlib.abc.Loader):
    def __init__(self, target: str) -> None:
        self.target = target
        self._spec: importlib.machinery.ModuleSpec | None = None

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        _warn(spec.name, self.target)
        module = importlib.import_module(self.target)
        self._spec = module.__spec__
        return module

    def exec_module(self, module: ModuleType) -> None:
        # The import system stamped the alias's spec on the real module: give it its own back,
        # so pickling, reloading and multiprocessing see one module under its real name.
        module.__spec__ = self._spec


class _AliasFinder(importlib.abc.MetaPathFinder):
    def find_spec(
        self, fullname: str, path: object = None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        new = MOVED.get(fullname)
        if new is None:
            return None
        return importlib.machinery.ModuleSpec(fullname, _AliasLoader(new))


def install_module_aliases() -> None:
    """Answer imports of the old module names (idempotent)."""
    if not any(isinstance(f, _AliasFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _AliasFinder())


def register_component_paths() -> None:
    """Teach Scrapy's ``update_classpath`` the old paths, so an old key in a component dict
    (``DOWNLOADER_MIDDLEWARES``, ``EXTENSIONS``, ``ITEM_PIPELINES``...) is the new key (with
    Scrapy's own deprecation warning)."""
    from scrapy.utils.deprecate import DEPRECATION_RULES

    for old, new in MOVED.items():
        rule = (old + ".", new + ".")
        if rule not in DEPRECATION_RULES:
            DEPRECATION_RULES.append(rule)
