"""Run summary: what one crawl did, per site, from the crawler's stats.

Written as JSON next to the archive (``DIR/runs/RUN_ID.json``) so cron users, Scrapyd users
(whose job list shows no exit status) and scripts can see how every run ended.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_COUNTERS = (
    "discovered",
    "fetched",
    "new",
    "changed",
    "unchanged",
    "http_errors",
    "text_failed",
    "text_empty",
    "text_given_up",
    "exchanges",
    "retries",
    "http_429",
    "robots_txt",
)
#: Stats groups ``newsarchive/site/SITE/GROUP/NAME`` -> the attribute that holds them by name.
_GROUPS = {"errors": "errors", "cut": "cut", "skipped": "skipped", "text_failed": "text_failures"}


@dataclass(slots=True)
class SiteSummary:
    name: str
    discovered: int = 0
    fetched: int = 0
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    http_errors: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    cut: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)
    languages: dict[str, int] = field(default_factory=dict)
    # Article pages whose text extraction failed (worker crash, timeout, error), this run
    # (crawl and start-of-run completion), by cause in text_failures; text_given_up: of those,
    # the ones whose last allowed attempt it was. text_empty: the extractor ran and found no text.
    text_failed: int = 0
    text_empty: int = 0
    text_given_up: int = 0
    text_failures: dict[str, int] = field(default_factory=dict)
    # fetched: URLs with a final outcome (a response of any status, after the retries), robots.txt
    # included (robots_txt of them: read by the robots rules, no page of the site); exchanges:
    # every attempt archived; retries: attempts tried again. http_errors (5xx) and http_429:
    # final responses that are errors of the site; 404, 410 and other 4xx are answers.
    exchanges: int = 0
    retries: int = 0
    http_429: int = 0
    robots_txt: int = 0

    @property
    def texts_written(self) -> int:
        return sum(self.languages.values())

    @property
    def text_failure_rate(self) -> float:
        """Share of this run's article pages sent to extraction whose extraction failed."""
        attempted = self.texts_written + self.text_empty + self.text_failed
        return self.text_failed / attempted if attempted else 0.0

    @property
    def error_count(self) -> int:
        """The site's URLs whose final outcome is an error: no response (``errors``), a 5xx or a 429."""
        return sum(self.errors.values()) + self.http_errors + self.http_429

    @property
    def answered(self) -> int:
        """The site's URLs (robots.txt aside) whose final response is no error (2xx, 3xx, 4xx)."""
        return max(0, self.fetched - self.robots_txt - self.http_errors - self.http_429)

    @property
    def robots_unavailable(self) -> int:
        """Requests not made because their host's robots.txt answered 5xx/429 (RFC 9309)."""
        return self.skipped.get("robots_unavailable", 0)

    @property
    def error_rate(self) -> float:
        """Share of the site's URLs (robots.txt aside) whose final outcome is an error."""
        attempts = self.fetched - self.robots_txt + sum(self.errors.values())
        return self.error_count / attempts if attempts > 0 else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "discovered": self.discovered,
            "fetched": self.fetched,
            "new": self.new,
            "changed": self.changed,
            "unchanged": self.unchanged,
            "revisits": self.unchanged,
            "articles_archived": self.new + self.changed,
            "http_errors_5xx": self.http_errors,
            "errors": dict(sorted(self.errors.items())),
            "cut": dict(sorted(self.cut.items())),
            "skipped": dict(sorted(self.skipped.items())),
            "languages": dict(sorted(self.languages.items(), key=lambda kv: -kv[1])),
            "text_failed": self.text_failed,
            "text_empty": self.text_empty,
            "text_given_up": self.text_given_up,
            "text_failures": dict(sorted(self.text_failures.items())),
            "exchanges": self.exchanges,
            "retries": self.retries,
            "http_errors_429": self.http_429,
        }


def site_summaries(
    stats: dict[str, Any], site_names: list[str], languages: dict[tuple[str, str], int]
) -> dict[str, SiteSummary]:
    sites = {name: SiteSummary(name) for name in site_names}
    groups: dict[str, dict[str, dict[str, int]]] = defaultdict(lambda: defaultdict(dict))
    for key, value in stats.items():
        if not key.startswith("newsarchive/site/") or not isinstance(value, int):
            continue
        parts = key.split("/", 4)
        if len(parts) < 4:
            continue
        name = parts[2]
        site = sites.setdefault(name, SiteSummary(name))
        metric = parts[3]
        if metric in _COUNTERS and len(parts) == 4:
            setattr(site, metric, getattr(site, metric) + value)
        elif metric in _GROUPS and len(parts) == 5:
            groups[name][metric][parts[4]] = value
    for name, metrics in groups.items():
        for metric, values in metrics.items():
            getattr(sites[name], _GROUPS[metric]).update(values)
    for (name, lang), count in languages.items():
        sites.setdefault(name, SiteSummary(name)).languages[lang] = count
    return sites


def write_summary(path: Path, summary: dict[str, Any]) -> None:
    """Atomic write: a reader never sees half a summary."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(
        json.dumps(summary, indent=2, ensure_ascii=False, sort_keys=False) + "\n", encoding="utf-8"
    )
    tmp.replace(path)


def human_summary(summary: dict[str, Any]) -> str:
    lines = [
        f"newsarchive run {summary['run_id']}: {summary['outcome']} (exit {summary['exit_code']}) "
        f"in {summary['duration_s']:.1f}s; {summary['totals']['fetched']} pages fetched, "
        f"{summary['totals']['articles_archived']} articles archived, {summary['totals']['revisits']} revisits, "
        f"{summary['totals']['errors']} errors"
    ]
    for name, site in summary["sites"].items():
        langs = ", ".join(f"{k} {v}" for k, v in site["languages"].items()) or "-"
        answers = {"HTTP 5xx": site.get("http_errors_5xx", 0), "HTTP 429": site.get("http_errors_429", 0)}
        errors = ", ".join(f"{k} {v}" for k, v in {**answers, **site["errors"]}.items() if v) or "none"
        lines.append(
            f"  {name}: fetched {site['fetched']}, new {site['new']}, changed {site['changed']}, "
            f"unchanged {site['unchanged']}; languages: {langs}; errors: {errors}"
        )
        if site["cut"]:
            lines.append("    cut by limits: " + ", ".join(f"{k} {v}" for k, v in site["cut"].items()))
        if site["skipped"].get("robots_unavailable"):
            lines.append(
                f"    robots.txt unavailable (5xx/429: disallow all): {site['skipped']['robots_unavailable']} pages not fetched"
            )
        if site.get("text_failed"):
            causes = ", ".join(f"{k} {v}" for k, v in site.get("text_failures", {}).items())
            given_up = f"; {site['text_given_up']} given up" if site.get("text_given_up") else ""
            lines.append(f"    text extraction failed: {site['text_failed']} pages ({causes}){given_up}")
    files = summary.get("files_written", [])
    lines.append(f"  files written: {len(files)} in {summary['archive_dir']}")
    lines.extend(f"    {f}" for f in files)
    return "\n".join(lines)
