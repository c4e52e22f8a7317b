"""CPU per pipeline stage, timed one stage at a time over a sample of the benchmark's own pages.

The crawl measures the total (crawler + workers); this says where it goes. Each stage is the
product's own code, called the way the crawl calls it, in a fresh interpreter after a warm-up
(imports, langdetect profiles):

=============  ==============================================================  ============
stage          code                                                            process
=============  ==============================================================  ============
decode         ``archive.encoding.decode_body`` (gunzip, bounded)              crawler
warc_capture   ``Archiver.archive_exchange`` (request+response, gzip, state)   crawler
ipc            pickling the job out and the result back (both ends)            both
parse          ``archive.text.parse_html`` (decode once, lxml tree)            worker
links          ``crawler.parse.links.read_links`` (xpath, urljoin, canonical_url)    worker
extraction     ``archive.text.extract_from_page`` (trafilatura + boilerplate)  worker
language       ``archive.language.detect_languages``                           worker
follow         ``NewsSpider._follow`` per link (policy, seen set)              crawler
warc_text      ``Archiver.archive_text`` (conversion + JSON + metadata)        crawler
=============  ==============================================================  ============

CPU time is ``time.process_time`` around the whole sample; each figure is the median over
``repeats`` interleaved passes, divided by the number of pages.

    python -m bench.stages --site DIR --sample 200 --repeats 3 --out stages.json
"""

from __future__ import annotations

import argparse
import json
import pickle
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

STAGES = (
    "decode",
    "warc_capture",
    "ipc",
    "parse",
    "links",
    "extraction",
    "language",
    "follow",
    "warc_text",
)
WHERE = {
    "decode": "crawler",
    "warc_capture": "crawler",
    "ipc": "crawler+worker",
    "parse": "worker",
    "links": "worker",
    "extraction": "worker",
    "language": "worker",
    "follow": "crawler",
    "warc_text": "crawler",
}


class _Stats:
    """Stands in for Scrapy's stats collector (the spider and the archiver only count)."""

    def __init__(self) -> None:
        self._stats: dict[str, int] = {}

    def inc_value(self, key: str, count: int = 1, start: int = 0) -> None:
        self._stats[key] = self._stats.get(key, start) + count


class _FakeCrawler:
    def __init__(self, archiver: Any) -> None:
        self.stats = _Stats()
        self._archiver = archiver

    def get_extension(self, cls: type) -> Any:
        return self._archiver


def load_sample(site_dir: Path, size: int) -> list[dict[str, Any]]:
    """Every k-th page of the site (spread over languages and sizes), raw and gzipped."""
    meta = json.loads((site_dir / "site.json").read_text(encoding="utf-8"))
    pages = meta["pages"]
    step = max(1, len(pages) // max(1, size))
    out = []
    for page in pages[::step][:size]:
        file = site_dir / page["file"]
        out.append(
            {
                "url": "http://127.0.0.1:8000" + page["path"],
                "site_dir": str(site_dir),
                "lang": page["lang"],
                "html": file.read_bytes(),
                "gz": file.with_name(file.name + ".gz").read_bytes(),
            }
        )
    return out


def make_stages(sample: list[dict[str, Any]], workdir: Path) -> dict[str, Callable[[dict[str, Any]], Any]]:
    """The stage functions, each taking one page dict (and caching what later stages need)."""
    from archive.capture import Exchange
    from archive.encoding import decode_body
    from archive.http import ResponseHead
    from archive.language import detect_languages
    from archive.records import warc_date
    from archive.text import extract_from_page, parse_html
    from archive.textjob import TextResult
    from archive.urls import canonical_url
    from crawler.extensions.archiver import Archiver
    from crawler.parse.links import read_links
    from crawler.sources import parse_sources
    from crawler.spiders.news import NewsSpider

    archiver = Archiver(workdir / "archive", stats=_Stats())  # type: ignore[arg-type]
    archiver.open()
    counter = {"n": 0}
    # The spider as it is mid-crawl: every sitemap URL already requested (in ``seen``), links from
    # an article page (depth 1) followed at depth 2, beyond the benchmark site's max_depth 0.
    (site,) = parse_sources(
        {
            "sites": [
                {
                    "name": "bench",
                    "sitemaps": ["http://127.0.0.1:8000/sitemap.xml"],
                    "allowed_domains": ["127.0.0.1"],
                    "article_urls": [r"/(ur|hi|vi|en)/news/\d+"],
                    "max_depth": 0,
                    "max_pages": 10**9,
                }
            ]
        }
    )
    spider = NewsSpider()
    spider.sites = {site.name: site}
    spider.crawler = _FakeCrawler(archiver)  # type: ignore[assignment]
    for page in sample:
        spider.seen.add(canonical_url(page["url"]))
    all_pages = json.loads((Path(sample[0]["site_dir"]) / "site.json").read_text(encoding="utf-8"))["pages"]
    for page in all_pages:
        spider.seen.add(canonical_url("http://127.0.0.1:8000" + page["path"]))

    def decode(page: dict[str, Any]) -> Any:
        return decode_body(page["gz"], [b"gzip"], 32 * 1024 * 1024)

    def parse(page: dict[str, Any]) -> Any:
        page["parsed"] = parse_html(page["html"], url=page["url"], declared_charset="utf-8")
        return page["parsed"]

    def links(page: dict[str, Any]) -> Any:
        page["links"] = read_links(page["parsed"].tree, page["url"])
        return page["links"]

    def follow(page: dict[str, Any]) -> Any:
        return [spider._follow(site, url, depth=2, is_canonical=True) for url in page["links"].urls]

    def warc_capture(page: dict[str, Any]) -> Any:
        counter["n"] += 1
        head = ResponseHead(
            "HTTP/1.1",
            200,
            "OK",
            (
                (b"Server", b"nginx/1.22.1"),
                (b"Date", b"Mon, 23 Nov 2026 10:00:00 GMT"),
                (b"Content-Type", b"text/html; charset=utf-8"),
                (b"Last-Modified", b"Mon, 23 Nov 2026 09:00:00 GMT"),
                (b"Connection", b"keep-alive"),
                (b"Vary", b"Accept-Encoding"),
                (b"ETag", b'W/"6b0492b8-6915"'),
                (b"Content-Encoding", b"gzip"),
            ),
        )
        exchange = Exchange(
            url=f"{page['url']}?n={counter['n']}",  # a new URL each time: a full response, as in the crawl
            method="GET",
            request_headers=(
                (b"Accept", b"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"),
                (b"Accept-Language", b"en"),
                (b"User-Agent", b"newsarchive/0.1.0 (+https://github.com/newsarchive/newsarchive)"),
                (b"Accept-Encoding", b"gzip, deflate, br"),
            ),
            head=head,
            body=page["gz"],
            decoded=page["html"],
            date=warc_date(),
            ip="127.0.0.1",
            fetch_ms=12,
        )
        page["plan"] = archiver.archive_exchange(exchange, site="bench", is_article=True)
        return page["plan"]

    def ipc(page: dict[str, Any]) -> Any:
        job = pickle.loads(pickle.dumps((page["html"], page["url"], "utf-8"), pickle.HIGHEST_PROTOCOL))
        if "result" in page:
            pickle.loads(pickle.dumps(page["result"], pickle.HIGHEST_PROTOCOL))
        return job

    def extraction(page: dict[str, Any]) -> Any:
        page["article"] = extract_from_page(page["parsed"], url=page["url"])  # prunes the tree
        page["parsed"] = None
        return page["article"]

    def language(page: dict[str, Any]) -> Any:
        article = page.get("article")
        page["languages"] = detect_languages(article.text) if article else []
        if article:
            page["result"] = TextResult(article=article, languages=tuple(page["languages"]))
        return page["languages"]

    def warc_text(page: dict[str, Any]) -> Any:
        plan = page["plan"]
        return archiver.archive_text(plan.state, list(plan.metadata_fields), page.get("result"), site="bench")

    stages = {
        "decode": decode,
        "warc_capture": warc_capture,
        "ipc": ipc,
        "parse": parse,
        "links": links,
        "extraction": extraction,
        "language": language,
        "follow": follow,
        "warc_text": warc_text,
    }
    stages["_close"] = lambda page: archiver.close()  # type: ignore[assignment]
    return stages


def measure(sample: list[dict[str, Any]], repeats: int) -> dict[str, Any]:
    from archive.textjob import warm_up

    warm_up()
    with tempfile.TemporaryDirectory(prefix="bench-stages-") as tmp:
        stages = make_stages(sample, Path(tmp))
        for page in sample[:5]:  # warm-up: lazy imports, caches, first-call costs
            for name in STAGES:
                stages[name](page)
        runs: dict[str, list[float]] = {name: [] for name in STAGES}
        for _ in range(repeats):
            for name in STAGES:  # stage order matters: later stages use earlier results
                fn = stages[name]
                start = time.process_time()
                for page in sample:
                    fn(page)
                runs[name].append((time.process_time() - start) * 1000 / len(sample))
        stages["_close"](sample[0])
    agree = sum(1 for p in sample if p.get("languages") and p["languages"][0].detector_code == p["lang"])
    with_text = sum(1 for p in sample if p.get("article"))
    return {
        "method": "micro-benchmark: product functions timed one stage at a time over a sample of the "
        "benchmark pages, time.process_time, median of interleaved repeats",
        "sample_pages": len(sample),
        "repeats": repeats,
        "mean_html_kb": round(statistics.mean(len(p["html"]) for p in sample) / 1000, 1),
        "mean_gzip_kb": round(statistics.mean(len(p["gz"]) for p in sample) / 1000, 1),
        "mean_text_chars": round(
            statistics.mean(len(p["article"].text) for p in sample if p.get("article")) if with_text else 0
        ),
        "pages_with_text": with_text,
        "language_agreement": f"{agree}/{len(sample)}",
        "stages_ms": {
            name: {
                "median": round(statistics.median(v), 3),
                "min": round(min(v), 3),
                "max": round(max(v), 3),
                "process": WHERE[name],
            }
            for name, v in runs.items()
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--patch", action="append", default=[], help="apply a bench.proposals prototype first"
    )
    parser.add_argument("--site", required=True, type=Path)
    parser.add_argument("--sample", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    if args.patch:
        from bench.proposals import apply

        apply(args.patch)
    result = measure(load_sample(args.site, args.sample), args.repeats)
    text = json.dumps(result, indent=1)
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    else:
        print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
