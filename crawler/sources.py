"""The sources file: one TOML table per site, validated into frozen dataclasses.

Users' crontabs depend on these keys: extend, never rename. Every error names the file, the
site and the field, so a broken file is fixed in one look.

    [defaults]                  # optional: any per-site key except name and the URL lists
    max_depth = 3

    [[sites]]
    name = "dawn-ur"
    start_urls = ["https://example.org/ur/"]
    allowed_domains = ["example.org"]          # default: the hosts of the URLs given
    article_urls = ['/ur/news/\\d+']           # regexes searched in the full URL
    max_depth = 3
    max_query_variants = 20                   # query strings per path and run; articles exempt
    language = "ur"                           # optional hint, never overrides detection
    feeds = ["https://example.org/ur/rss.xml"]
    sitemaps = ["https://example.org/news-sitemap.xml"]

Sites may share a host (``example.org/ur/`` and ``example.org/en/``): every URL a crawl meets
belongs to one of them, by the one rule of :func:`owner_of`, whichever site's page led to it.
"""

from __future__ import annotations

import functools
import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, overload
from urllib.parse import urlsplit

from archive.urls import canonical_url
from crawler.errors import SourcesError as SourcesError  # also importable from here, as before 0.2

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


@dataclass(frozen=True, slots=True)
class Site:
    name: str
    start_urls: tuple[str, ...]
    allowed_domains: tuple[str, ...]
    article_urls: tuple[re.Pattern[str], ...]
    follow_urls: tuple[re.Pattern[str], ...] = ()
    deny_urls: tuple[re.Pattern[str], ...] = ()
    feeds: tuple[str, ...] = ()
    sitemaps: tuple[str, ...] = ()
    robots_sitemaps: bool = False
    max_depth: int = 3
    max_pages: int = 1000
    language: str | None = None
    max_age_days: float | None = None
    recheck_days: float = 7.0
    #: Distinct query strings (of canonical URLs) followed per scheme, host and path in one run:
    #: a faceted list (``?color=…&size=…&page=…``) costs this many requests, not the page budget.
    #: Links matching ``article_urls`` are exempt (``story.php?id=123``); 0 follows no other
    #: link with a query string.
    max_query_variants: int = 20

    def is_article(self, url: str) -> bool:
        return any(p.search(url) for p in self.article_urls)

    def may_follow(self, url: str) -> bool:
        if any(p.search(url) for p in self.deny_urls):
            return False
        if self.follow_urls and not self.is_article(url):
            return any(p.search(url) for p in self.follow_urls)
        return True

    def in_domain(self, url: str) -> bool:
        host = (urlsplit(url).hostname or "").lower()
        return any(host == d or host.endswith("." + d) for d in self.allowed_domains)


# --- which site owns a URL (shared/conventions.md) ------------------------------------------------


def _netloc_key(scheme: str, host: str, port: int | None) -> str:
    """Host (a leading ``www.`` dropped) and a non-default port: where a start URL's section lives."""
    host = host.lower().removeprefix("www.")
    if port is None or (scheme, port) in (("http", 80), ("https", 443)):
        return host
    return f"{host}:{port}"


def _section_base(path: str) -> str:
    """The path a start URL stands for, without its trailing slash ("" for the whole host).

    ``/urdu`` and ``/ur/`` stand for their folder; a start page named like a file
    (``/ur/index.html``) stands for the folder it is in."""
    folder, _, last = (path or "/").rpartition("/")
    return folder if "." in last else path.rstrip("/")


@dataclass(frozen=True, slots=True)
class _Candidate:
    """A site whose domains contain a host, with its start URLs' sections on that host."""

    site: Site
    bases: tuple[tuple[str, str], ...]  # (path, path + "/"), longest first

    def prefix(self, path: str) -> int:
        """Length of the longest section containing ``path``; -1 when none does."""
        for base, folder in self.bases:
            if not base or path == base or path.startswith(folder):
                return len(base)
        return -1


def _bases(sections: tuple[tuple[str, str], ...], key: str) -> tuple[tuple[str, str], ...]:
    """A site's sections on the host ``key`` (see :func:`_netloc_key`), longest first."""
    paths = sorted({base for k, base in sections if k == key}, key=len, reverse=True)
    return tuple((base, base + "/") for base in paths)


class Owners:
    """Which site owns a URL, for one list of sites (the rule of :func:`owner_of`).

    Built once per run: each site's sections (its start URLs as host and path prefixes) are
    worked out here, and the sites whose domains contain a host are remembered per host, so a
    link costs one ``urlsplit``, a dictionary look-up and the article regexes of the few sites
    on its host.
    """

    HOSTS_REMEMBERED = 10_000  # (scheme, netloc) pairs whose candidate sites are kept (a cache: bounded)

    def __init__(self, sites: Iterable[Site]) -> None:
        self.sites = tuple(sites)
        self._sections = tuple(
            tuple(
                (_netloc_key(p.scheme, p.hostname or "", p.port), _section_base(p.path))
                for p in map(urlsplit, site.start_urls)
            )
            for site in self.sites
        )
        self._by_netloc: dict[tuple[str, str], tuple[_Candidate, ...]] = {}

    def _candidates(self, scheme: str, netloc: str) -> tuple[_Candidate, ...]:
        """The sites whose domains contain the host, in the file's order, with their sections there."""
        parts = urlsplit(f"{scheme}://{netloc}/")
        try:
            port = parts.port
        except ValueError:
            port = None
        host = (parts.hostname or "").lower()
        key = _netloc_key(scheme.lower(), host, port)
        url = f"http://{host}/"
        found = tuple(
            _Candidate(site, _bases(sections, key))
            for site, sections in zip(self.sites, self._sections, strict=True)
            if site.in_domain(url)
        )
        if len(self._by_netloc) >= self.HOSTS_REMEMBERED:
            self._by_netloc.clear()
        self._by_netloc[(scheme, netloc)] = found
        return found

    @overload
    def owner_of(self, url: str, finder: Site) -> Site: ...
    @overload
    def owner_of(self, url: str, finder: Site | None = None) -> Site | None: ...
    def owner_of(self, url: str, finder: Site | None = None) -> Site | None:
        """The site that owns ``url`` (see :func:`owner_of`); never None when a finder is given."""
        parts = urlsplit(url)
        candidates = self._by_netloc.get((parts.scheme, parts.netloc))
        if candidates is None:
            candidates = self._candidates(parts.scheme, parts.netloc)
        if not candidates:
            return finder
        finder_name = finder.name if finder is not None else None
        path = parts.path or "/"
        if len(candidates) == 1:  # one site on the host, the common case: no tie to break
            only = candidates[0]
            if finder_name is None or finder_name == only.site.name:
                return only.site
            return only.site if only.site.is_article(url) or only.prefix(path) >= 0 else finder
        best: Site | None = None
        longest = -2
        for candidate in candidates:  # 1. article_urls, the longest section among them
            if candidate.site.is_article(url):
                length = candidate.prefix(path)
                if length > longest or (length == longest and candidate.site.name == finder_name):
                    best, longest = candidate.site, length
        if best is not None:
            return best
        for candidate in candidates:  # 2. the longest section
            length = candidate.prefix(path)
            if length >= 0 and (
                length > longest or (length == longest and candidate.site.name == finder_name)
            ):
                best, longest = candidate.site, length
        if best is not None:
            return best
        return finder or candidates[0].site  # 3. the finder; nobody found it: the first on the host


@functools.lru_cache(maxsize=8)
def _owners(sites: tuple[Site, ...]) -> Owners:
    return Owners(sites)


def owner_of(sites: Iterable[Site] | Owners, url: str, finder: Site | None = None) -> Site | None:
    """The site that owns ``url``: whose rules judge it, whose budget it counts against, under
    whose name it is archived. The one rule (``shared/conventions.md``), used by the spider,
    the capture middleware and recovery:

    1. among the sites whose ``allowed_domains`` contain the URL, the one whose ``article_urls``
       match it; when several match, the one with the longest start URL section containing it;
    2. otherwise the site whose domains and longest start URL section contain it;
    3. otherwise the site that found the link (``finder``); a URL no site found (robots.txt
       fetched by Scrapy, a page recovery reads back) goes to the first site listed whose domains
       contain it; else None.

    A start URL's section is its host (``www.`` or not, any scheme) and its path as a folder:
    ``https://www.bbc.com/urdu`` contains ``/urdu`` and ``/urdu/articles/…``, not
    ``/urdu-tv``; ``https://example.org/`` contains the whole host. Ties go to the finder when it
    is among them, else to the site listed first. Sites without ``article_urls`` (or with only
    feeds and sitemaps, which have no sections) take part through the rules they have.

    ``sites``: the run's sites, or an :class:`Owners` built from them once (the spider's).
    """
    owners = sites if isinstance(sites, Owners) else _owners(tuple(sites))
    return owners.owner_of(url, finder)


# key -> (type check, description); the order here is the order documented in the README.
_LIST_OF_URLS = ("start_urls", "feeds", "sitemaps")
_LIST_OF_REGEX = ("article_urls", "follow_urls", "deny_urls")
_KNOWN = {
    "name",
    *_LIST_OF_URLS,
    *_LIST_OF_REGEX,
    "allowed_domains",
    "robots_sitemaps",
    "max_depth",
    "max_pages",
    "language",
    "max_age_days",
    "recheck_days",
    "max_query_variants",
}
_DEFAULTABLE = _KNOWN - {"name", *_LIST_OF_URLS}


#: Setting that carries the sites loaded once by ``newsarchive crawl`` (a tuple of :class:`Site`) to
#: the spider, the resolver and the rest of the run; empty under a bare ``scrapy crawl``.
SITES_SETTING = "NEWSARCHIVE_SITES"


def sites_from_settings(settings: Any, path: str | None = None) -> tuple[Site, ...]:
    """The run's sites: those ``newsarchive crawl`` loaded once (:data:`SITES_SETTING`), else the
    sources file ``path`` or ``NEWSARCHIVE_SOURCES`` (``scrapy crawl news -a sources=FILE``), read
    with the settings' ``NEWSARCHIVE_MAX_PAGES`` / ``NEWSARCHIVE_MAX_DEPTH`` as defaults."""
    loaded = settings.get(SITES_SETTING)
    if loaded:
        return tuple(loaded)
    path = path or settings.get("NEWSARCHIVE_SOURCES")
    if not path:
        raise SourcesError("no sources file: pass -a sources=FILE or set NEWSARCHIVE_SOURCES")
    return tuple(
        load_sources(
            Path(path),
            default_max_pages=settings.getint("NEWSARCHIVE_MAX_PAGES"),
            default_max_depth=settings.getint("NEWSARCHIVE_MAX_DEPTH"),
        )
    )


def load_sources(path: Path, *, default_max_pages: int = 1000, default_max_depth: int = 3) -> list[Site]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise SourcesError(f"{path}: cannot read sources file: {exc.strerror or exc}") from exc
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise SourcesError(f"{path}: not UTF-8 text: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise SourcesError(f"{path}: invalid TOML: {exc}") from exc
    return parse_sources(
        data, origin=str(path), default_max_pages=default_max_pages, default_max_depth=default_max_depth
    )


def parse_sources(
    data: dict[str, Any],
    *,
    origin: str = "sources",
    default_max_pages: int = 1000,
    default_max_depth: int = 3,
) -> list[Site]:
    unknown_top = set(data) - {"sites", "defaults"}
    if unknown_top:
        raise SourcesError(f"{origin}: unknown top-level key(s) {sorted(unknown_top)}; expected [[sites]]")
    defaults = data.get("defaults", {})
    if not isinstance(defaults, dict):
        raise SourcesError(f"{origin}: [defaults] must be a table")
    bad_defaults = set(defaults) - _DEFAULTABLE
    if bad_defaults:
        raise SourcesError(f"{origin}: [defaults]: key(s) {sorted(bad_defaults)} cannot have a default")
    sites_raw = data.get("sites")
    if not isinstance(sites_raw, list) or not sites_raw:
        raise SourcesError(f"{origin}: no [[sites]] table: at least one site is required")
    sites: list[Site] = []
    seen: set[str] = set()
    for index, table in enumerate(sites_raw):
        where = f"{origin}: sites[{index}]"
        if not isinstance(table, dict):
            raise SourcesError(f"{where}: must be a table")
        name = table.get("name")
        if isinstance(name, str):
            where = f"{origin}: site {name!r} (sites[{index}])"
        merged = {**defaults, **table}
        site = _parse_site(merged, where, default_max_pages, default_max_depth)
        if site.name in seen:
            raise SourcesError(f"{where}: field 'name': duplicate site name {site.name!r}")
        seen.add(site.name)
        sites.append(site)
    return sites


def _parse_site(t: dict[str, Any], where: str, default_max_pages: int, default_max_depth: int) -> Site:
    unknown = set(t) - _KNOWN
    if unknown:
        raise SourcesError(
            f"{where}: unknown field(s) {sorted(unknown)}; known fields: {', '.join(sorted(_KNOWN))}"
        )
    name = t.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        raise SourcesError(
            f"{where}: field 'name': required, 1-64 characters of letters, digits, '.', '_' or '-'"
        )
    urls = {key: _urls(t, key, where) for key in _LIST_OF_URLS}
    if not any(urls.values()):
        raise SourcesError(f"{where}: field 'start_urls': a site needs start_urls, feeds or sitemaps")
    patterns = {key: _regexes(t, key, where) for key in _LIST_OF_REGEX}
    if not patterns["article_urls"]:
        raise SourcesError(f"{where}: field 'article_urls': required, a list of at least one regex")
    domains = t.get("allowed_domains")
    if domains is None:
        hosts = {urlsplit(u).hostname or "" for key in _LIST_OF_URLS for u in urls[key]}
        domains_t = tuple(sorted(h for h in hosts if h))
    else:
        if not isinstance(domains, list) or not all(isinstance(d, str) and d.strip() for d in domains):
            raise SourcesError(f"{where}: field 'allowed_domains': must be a list of host names")
        domains_t = tuple(d.strip().lower().lstrip(".") for d in domains)
        for d in domains_t:
            if "/" in d or ":" in d:
                raise SourcesError(
                    f"{where}: field 'allowed_domains': {d!r} must be a bare host name (no scheme or port)"
                )
    site = Site(
        name=name,
        start_urls=urls["start_urls"],
        feeds=urls["feeds"],
        sitemaps=urls["sitemaps"],
        allowed_domains=domains_t,
        article_urls=patterns["article_urls"],
        follow_urls=patterns["follow_urls"],
        deny_urls=patterns["deny_urls"],
        robots_sitemaps=_bool(t, "robots_sitemaps", where, False),
        max_depth=_int(t, "max_depth", where, default_max_depth, minimum=0),
        max_pages=_int(t, "max_pages", where, default_max_pages, minimum=1),
        language=_language(t, where),
        max_age_days=_number(t, "max_age_days", where, None),
        recheck_days=_number(t, "recheck_days", where, 7.0) or 0.0,
        max_query_variants=_int(t, "max_query_variants", where, 20, minimum=0),
    )
    for key in _LIST_OF_URLS:
        for url in urls[key]:
            if not site.in_domain(url):
                raise SourcesError(
                    f"{where}: field {key!r}: {url} is outside allowed_domains {list(domains_t)}"
                )
    return site


def _urls(t: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = t.get(key, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        raise SourcesError(f"{where}: field {key!r}: must be a list of URLs")
    out = []
    for item in value:
        if not isinstance(item, str):
            raise SourcesError(f"{where}: field {key!r}: {item!r} is not a string")
        if urlsplit(item.strip()).username is not None:
            # A password here would end up in logs, the state and WARC-Target-URI: not supported.
            raise SourcesError(f"{where}: field {key!r}: URLs with a user name or password are not supported")
        try:
            out.append(canonical_url(item))
        except ValueError as exc:
            raise SourcesError(f"{where}: field {key!r}: {exc}") from exc
    return tuple(out)


def _regexes(t: dict[str, Any], key: str, where: str) -> tuple[re.Pattern[str], ...]:
    value = t.get(key, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        raise SourcesError(f"{where}: field {key!r}: must be a list of regular expressions")
    out = []
    for item in value:
        if not isinstance(item, str) or not item:
            raise SourcesError(f"{where}: field {key!r}: {item!r} is not a non-empty string")
        try:
            out.append(re.compile(item))
        except re.error as exc:
            raise SourcesError(f"{where}: field {key!r}: invalid regex {item!r}: {exc}") from exc
    return tuple(out)


def _int(t: dict[str, Any], key: str, where: str, default: int, *, minimum: int) -> int:
    value = t.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise SourcesError(f"{where}: field {key!r}: must be an integer >= {minimum}, got {value!r}")
    return value


def _number(t: dict[str, Any], key: str, where: str, default: float | None) -> float | None:
    value = t.get(key, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise SourcesError(f"{where}: field {key!r}: must be a number >= 0, got {value!r}")
    return float(value)


def _bool(t: dict[str, Any], key: str, where: str, default: bool) -> bool:
    value = t.get(key, default)
    if not isinstance(value, bool):
        raise SourcesError(f"{where}: field {key!r}: must be true or false, got {value!r}")
    return value


def _language(t: dict[str, Any], where: str) -> str | None:
    value = t.get("language")
    if value is None:
        return None
    if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})?", value):
        raise SourcesError(
            f"{where}: field 'language': expected an ISO 639 code like 'ur' or 'urd', got {value!r}"
        )
    return value.lower()
