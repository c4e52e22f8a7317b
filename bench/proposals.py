"""Prototypes of the proposed CPU cuts, applied by monkeypatching, so each can be measured
before its code owner changes the product. Nothing here is imported by the product.

    python -m bench.proposals --list
    python -m bench.proposals --micro links_fast language_1000 ...   stage CPU with/without
    python -m bench.proposals --gold language_1000 ...                gold tests with the patch
    python -m bench.run --patch links_fast --patch language_1000      whole crawl with patches

A patch reaches every process of a crawl (the crawler, the forkserver and the text workers)
through ``bench/patches/sitecustomize.py``, which the harness puts on ``PYTHONPATH`` together
with ``NEWSARCHIVE_BENCH_PATCHES=name,name``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


@dataclass(frozen=True, slots=True)
class Patch:
    owner: str  # the file a real change would touch
    doc: str
    apply: Callable[[], None]


# --- crawler process: the spider's link handling ---------------------------------------------
def _links_fast() -> None:
    """Each distinct href of a page once; canonical_url and is_private_host memoised.

    A site's menus, footers and "most read" boxes repeat the same few hundred links on every
    page; today each occurrence pays urljoin + canonical_url (w3lib) + ipaddress + regexes +
    a stats increment before being dropped.
    """
    from functools import lru_cache

    import crawler.spiders.news as news

    news.canonical_url = lru_cache(maxsize=1 << 17)(news.canonical_url)
    news.is_private_host = lru_cache(maxsize=1 << 12)(news.is_private_host)

    def _links(self, site, response, depth):  # type: ignore[no-untyped-def]
        try:
            hrefs = response.xpath("//a/@href").getall()
        except ValueError:
            return
        done: set[str] = set()
        for href in hrefs:
            href = href.strip()
            if not href or href in done or href.startswith(("#", "javascript:", "mailto:", "tel:", "data:")):
                continue
            done.add(href)
            request = self._follow(site, response.urljoin(href), depth=depth)
            if request is not None:
                yield request

    news.NewsSpider._links = _links


def _links_memo() -> None:
    """links_fast, hrefs read with lxml directly (parsel wraps each of ~230 attribute values per
    page in a Selector object), and the spider remembers links it turned down: a (base, href,
    depth) that was cut (already requested, off-site, denied, beyond max_depth…) is dropped next
    time after one dict lookup, without urljoin or any policy check. Only refusals that cannot
    change during the run are remembered (max_pages and not-due refusals are not)."""
    from urllib.parse import urlsplit

    import crawler.spiders.news as news

    _links_fast()
    follow = news.NewsSpider._follow

    def _links(self, site, response, depth):  # type: ignore[no-untyped-def]
        memo = self.__dict__.setdefault("_bench_refused", {})
        try:
            hrefs = response.selector.root.xpath("//a/@href")  # plain strings: no Selector per link
        except ValueError:
            return
        parts = urlsplit(response.url)
        origin = f"{parts.scheme}://{parts.netloc}"
        done: set[str] = set()
        stats = self.crawler.stats
        counted: list[str] = []
        plain = stats.inc_value

        def counting(key, count=1, start=0):  # type: ignore[no-untyped-def]
            counted.append(key)
            plain(key, count, start)

        for href in hrefs:
            href = href.strip()
            if not href or href in done or href.startswith(("#", "javascript:", "mailto:", "tel:", "data:")):
                continue
            done.add(href)
            if href.startswith(("http://", "https://")):
                key = (site.name, "", href, depth)
            elif href.startswith("/") and not href.startswith("//"):
                key = (site.name, origin, href, depth)
            else:
                key = (site.name, response.url, href, depth)
            reason = memo.get(key)
            if reason is not None:
                if reason:
                    plain(reason)
                continue
            counted.clear()
            stats.inc_value = counting
            try:
                request = follow(self, site, response.urljoin(href), depth=depth)
            finally:
                del stats.inc_value
            if request is not None:
                yield request
                continue
            reason = counted[-1] if counted else ""
            if reason.endswith(("/cut/max_pages", "/skipped/not_due", "/skipped/too_old")):
                continue  # may change during the run: not remembered
            memo[key] = reason

    news.NewsSpider._links = _links


def _release_tree() -> None:
    """Drop the page's parsed tree (~0.5 MB) and decoded text as soon as its links are read.
    Scrapy caches both on the response, and the response stays alive until its article's text
    comes back from a worker: with the workers busy, ~100 responses wait at once."""
    from scrapy.http import TextResponse

    import crawler.spiders.news as news

    original = news.NewsSpider.parse_page

    def parse_page(self, response):  # type: ignore[no-untyped-def]
        yield from original(self, response)
        if isinstance(response, TextResponse):
            response._cached_selector = None
            response._cached_ubody = None

    news.NewsSpider.parse_page = parse_page


def _links_regex() -> None:
    """links_fast, and hrefs found with a regular expression instead of parsing the page with lxml
    (the worker parses it anyway). Changes behaviour at the edges (commented-out links, unquoted
    attributes): measured only to size the lxml parse."""
    import re

    import crawler.spiders.news as news

    _links_fast()
    href_rx = re.compile(r"""<a\s[^>]*?\bhref\s*=\s*["']([^"'>]+)["']""", re.IGNORECASE)
    import html as html_mod

    def _links(self, site, response, depth):  # type: ignore[no-untyped-def]
        done: set[str] = set()
        for href in href_rx.findall(response.text):
            href = html_mod.unescape(href.strip())
            if not href or href in done or href.startswith(("#", "javascript:", "mailto:", "tel:", "data:")):
                continue
            done.add(href)
            request = self._follow(site, response.urljoin(href), depth=depth)
            if request is not None:
                yield request

    news.NewsSpider._links = _links


# --- workers: extraction -----------------------------------------------------------------------
_DROP_TAGS = ("style", "noscript", "template", "svg", "iframe", "link")


def _prestrip() -> None:
    """Before trafilatura sees the tree: drop <style>, <noscript>, <template>, <svg>, <iframe>,
    <link> and every <script> that is not JSON-LD (trafilatura reads JSON-LD for metadata and
    throws the rest away later, after copying the tree twice with them)."""
    from lxml import etree

    import archive.boilerplate as boilerplate

    original = boilerplate.prune_tree

    def prune_tree(tree):  # type: ignore[no-untyped-def]
        for element in [e for e in tree.iter("script") if "ld+json" not in (e.get("type") or "")]:
            parent = element.getparent()
            if parent is not None:
                parent.remove(element)  # script tails are whitespace between tags
        etree.strip_elements(tree, *_DROP_TAGS, with_tail=False)
        return original(tree)

    boilerplate.prune_tree = prune_tree


def _prestrip_chrome() -> None:
    """prestrip, and the page chrome trafilatura discards anyway: <nav>, <footer>, <aside>, <form>."""
    from lxml import etree

    import archive.boilerplate as boilerplate

    _prestrip()
    stripped = boilerplate.prune_tree

    def prune_tree(tree):  # type: ignore[no-untyped-def]
        etree.strip_elements(tree, "nav", "footer", "aside", "form", with_tail=False)
        return stripped(tree)

    boilerplate.prune_tree = prune_tree


def _trafilatura_fast() -> None:
    """trafilatura ``fast=True``: no readability/justext fallback comparison."""
    import archive.text as text

    text.TRAFILATURA_OPTIONS["fast"] = True


# --- workers: language detection ---------------------------------------------------------------
def _language(chars: int) -> Callable[[], None]:
    def apply() -> None:
        import archive.language as language

        language.SAMPLE_CHARS = chars

    return apply


def _langdetect_exact() -> None:
    """Same langdetect results, bit for bit, for less CPU: character normalisation and Unicode
    block lookups memoised (pure functions of one character, called for every character of every
    piece), the two per-n-gram loops over the 55 language probabilities written as list
    comprehensions doing the very same float operations in the same order, and the n-gram
    extraction (NGram.add_char per character) inlined into one loop yielding the same list."""
    from functools import lru_cache

    from langdetect import detector as det
    from langdetect.utils import ngram as ng

    plain = ng.NGram.normalize.__func__
    table: dict[str, str] = {}

    def normalize(cls, ch):  # type: ignore[no-untyped-def]
        out = table.get(ch)
        if out is None:
            out = table[ch] = plain(cls, ch)
        return out

    ng.NGram.normalize = classmethod(normalize)
    ng.unicode_block = lru_cache(maxsize=None)(ng.unicode_block)
    det.unicode_block = lru_cache(maxsize=None)(det.unicode_block)

    def _update_lang_prob(self, prob, word, alpha):  # type: ignore[no-untyped-def]
        if word is None or word not in self.word_lang_prob_map:
            return False
        weight = alpha / self.BASE_FREQ
        prob[:] = [p * (weight + q) for p, q in zip(prob, self.word_lang_prob_map[word], strict=False)]
        return True

    def _normalize_prob(self, prob):  # type: ignore[no-untyped-def]
        sump = sum(prob)
        prob[:] = [p / sump for p in prob]
        return max(0.0, *prob)

    def _extract_ngrams(self):  # type: ignore[no-untyped-def]
        # NGram.add_char + Detector._extract_ngrams inlined: the same grams, in the same order.
        wmap = self.word_lang_prob_map
        norm = ng.NGram.normalize
        result = []
        grams = " "
        capital = False
        for ch in self.text:
            ch = norm(ch)
            last = grams[-1]
            if last == " ":
                grams = " "
                capital = False
                if ch == " ":
                    continue
            elif len(grams) >= 3:
                grams = grams[1:]
            grams += ch
            if ch.isupper():
                if last.isupper():
                    capital = True
            else:
                capital = False
            if capital:
                continue
            w = grams[-1:]
            if w != " " and w in wmap:
                result.append(w)
            if len(grams) < 2:
                continue
            w = grams[-2:]
            if w in wmap:
                result.append(w)
            if len(grams) < 3:
                continue
            if grams in wmap:
                result.append(grams)
        return result

    det.Detector._update_lang_prob = _update_lang_prob
    det.Detector._normalize_prob = _normalize_prob
    det.Detector._extract_ngrams = _extract_ngrams


# --- crawler: pool start ---------------------------------------------------------------------------
def _prestart_pool() -> None:
    """Start (and warm) every text worker when the spider opens, not on the first article:
    ProcessPoolExecutor starts one worker per submitted job, so the first pages wait for the
    imports and the langdetect profiles (several seconds on a busy machine)."""
    import crawler.pipelines as pipelines

    original = pipelines.TextPipeline.open_spider

    def open_spider(self):  # type: ignore[no-untyped-def]
        original(self)
        for _ in range(self.workers):
            self._pool.submit(int)

    pipelines.TextPipeline.open_spider = open_spider


def _warc_store_encoded() -> None:
    """Response records whose payload is already content-encoded (gzip/br: what news sites send)
    are written as a *stored* gzip member (deflate level 0): gzip at level 6 cannot shrink
    compressed bytes (size +0.2 %) but costs ~0.36 ms per 21 kB body. The file stays a valid
    per-record-gzip .warc.gz; other records keep level 6."""
    import zlib

    import archive.records as records
    import archive.writer as writer

    original = records.serialize

    def serialize(record, *, warcinfo_id=None, gzip=True):  # type: ignore[no-untyped-def]
        if not gzip or record.rec_type != "response":
            return original(record, warcinfo_id=warcinfo_id, gzip=gzip)
        head = bytes(record.parts[0][:4096]).lower() if record.parts else b""
        if b"\r\ncontent-encoding:" not in head:
            return original(record, warcinfo_id=warcinfo_id, gzip=gzip)
        plain = original(record, warcinfo_id=warcinfo_id, gzip=False)
        compressor = zlib.compressobj(0, zlib.DEFLATED, 31)
        return compressor.compress(plain) + compressor.flush()

    records.serialize = serialize
    writer.serialize = serialize


def _cache_versions() -> None:
    """``extractor_info()`` and ``detector_info()`` computed once per process, not per article:
    each calls ``importlib.metadata.version()``, which scans the installed distributions."""
    from functools import cache

    import archive.language as language
    import archive.text as text

    text.extractor_info = cache(text.extractor_info)
    language.detector_info = cache(language.detector_info)


def _jobdir_per_run() -> None:
    """Scrapy's disk queue for pending requests (``JOBDIR`` in a fresh temporary folder per run,
    removed at exit): a queued request costs ~3 KB of Python objects in memory (Request, Headers,
    meta, fingerprint and urlparse caches) and a sitemap run queues them all at once."""
    import atexit
    import shutil
    import tempfile

    import crawler.run as run

    original = run.build_settings

    def build_settings(*args, **kwargs):  # type: ignore[no-untyped-def]
        settings = original(*args, **kwargs)
        folder = tempfile.mkdtemp(prefix="newsarchive-jobdir-")
        atexit.register(shutil.rmtree, folder, True)
        settings.set("JOBDIR", folder, priority="cmdline")
        return settings

    run.build_settings = build_settings


def _trace_memory() -> None:
    """Diagnostics, not a proposal: tracemalloc in the crawler process; ``kill -USR2 PID`` writes
    the top allocation sites to ``/tmp/newsarchive-memory-PID.txt``."""
    import signal
    import tracemalloc

    import crawler.run as run

    def dump(signum, frame):  # type: ignore[no-untyped-def]
        snapshot = tracemalloc.take_snapshot()
        current, peak = tracemalloc.get_traced_memory()
        lines = [f"traced now {current / 2**20:.1f} MB, traced peak {peak / 2**20:.1f} MB"]
        for stat in snapshot.statistics("traceback")[:40]:
            lines.append(f"{stat.size / 2**20:.1f} MB in {stat.count} blocks")
            lines.extend("    " + str(f) for f in stat.traceback.format())
        with open(f"/tmp/newsarchive-memory-{os.getpid()}.txt", "w", encoding="utf-8") as fh:
            fh.write("\n".join(lines))

    original = run.run_crawl

    def run_crawl(*args, **kwargs):  # type: ignore[no-untyped-def]
        tracemalloc.start(1)  # the crawler process only: workers never call run_crawl
        signal.signal(signal.SIGUSR2, dump)
        return original(*args, **kwargs)

    run.run_crawl = run_crawl


PATCHES: dict[str, Patch] = {
    "links_fast": Patch("crawler/spiders/news.py", _links_fast.__doc__ or "", _links_fast),
    "links_memo": Patch("crawler/spiders/news.py", _links_memo.__doc__ or "", _links_memo),
    "release_tree": Patch("crawler/spiders/news.py", _release_tree.__doc__ or "", _release_tree),
    "links_regex": Patch("crawler/spiders/news.py", _links_regex.__doc__ or "", _links_regex),
    "prestrip": Patch("archive/text.py (or archive/boilerplate.py)", _prestrip.__doc__ or "", _prestrip),
    "prestrip_chrome": Patch("archive/text.py", _prestrip_chrome.__doc__ or "", _prestrip_chrome),
    "trafilatura_fast": Patch("archive/text.py", _trafilatura_fast.__doc__ or "", _trafilatura_fast),
    "language_1500": Patch("archive/language.py", "SAMPLE_CHARS 2000 -> 1500", _language(1500)),
    "language_1000": Patch("archive/language.py", "SAMPLE_CHARS 2000 -> 1000", _language(1000)),
    "language_600": Patch("archive/language.py", "SAMPLE_CHARS 2000 -> 600", _language(600)),
    "warc_store_encoded": Patch("archive/records.py", _warc_store_encoded.__doc__ or "", _warc_store_encoded),
    "cache_versions": Patch(
        "archive/text.py, archive/language.py", _cache_versions.__doc__ or "", _cache_versions
    ),
    "jobdir_per_run": Patch("crawler/run.py (settings)", _jobdir_per_run.__doc__ or "", _jobdir_per_run),
    "trace_memory": Patch("(diagnostics)", _trace_memory.__doc__ or "", _trace_memory),
    "langdetect_exact": Patch("archive/language.py", _langdetect_exact.__doc__ or "", _langdetect_exact),
    "prestart_pool": Patch("crawler/pipelines.py", _prestart_pool.__doc__ or "", _prestart_pool),
}


def apply(names: list[str]) -> None:
    for name in names:
        if name:
            PATCHES[name].apply()


GOLD_TESTS = ["tests/archive/test_text.py", "tests/archive/test_language.py", "tests/e2e/test_demo_crawl.py"]


def patched_env(names: list[str]) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(REPO / "bench" / "patches"), str(REPO)] + [p for p in [env.get("PYTHONPATH")] if p]
    )
    env["NEWSARCHIVE_BENCH_PATCHES"] = ",".join(names)
    return env


def gold(names: list[str]) -> int:
    """The gold tests, unchanged, with the patches applied in every process (pytest and crawls)."""
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "-p",
        "bench.gold_plugin",
        *GOLD_TESTS,
    ]
    print(f"gold tests with {names or 'no patch'}: {' '.join(cmd)}", flush=True)
    env = patched_env(names)
    env["NEWSARCHIVE_BENCH_PATCHES_DEFER"] = "1"
    return subprocess.run(cmd, cwd=REPO, env=env, check=False).returncode


def diff(names: list[str], site: Path, sample: int) -> dict[str, object]:
    """Does the patch change what is archived? Text, metadata and languages of a sample of the
    benchmark pages and of the demo site's gold articles, before and after, in one process."""
    from archive.language import detect_languages
    from archive.text import extract_article
    from bench.stages import load_sample
    from crawler.demo.site import build_site
    from crawler.demo.sources import demo_articles

    base = "http://127.0.0.1:18765"
    demo = build_site(base)
    pages = [(p["url"], p["html"]) for p in load_sample(site, sample)]
    pages += [(a.url(base), demo.lookup(a.path).body) for a in demo_articles()]

    def run() -> list[tuple[object, ...]]:
        out = []
        for url, body in pages:
            article = extract_article(body, url=url, declared_charset="utf-8")
            langs = tuple(detect_languages(article.text)) if article else ()  # codes and probabilities
            out.append((article, langs))
        return out

    before = run()
    apply(names)
    after = run()
    same_text = sum(
        1 for a, b in zip(before, after, strict=True) if (a[0] and a[0].text) == (b[0] and b[0].text)
    )
    same_meta = sum(1 for a, b in zip(before, after, strict=True) if a[0] == b[0])
    same_lang = sum(1 for a, b in zip(before, after, strict=True) if a[1] == b[1])
    changed = [
        (url, len(a[0].text) if a[0] else 0, len(b[0].text) if b[0] else 0)
        for (url, _), a, b in zip(pages, before, after, strict=True)
        if (a[0] and a[0].text) != (b[0] and b[0].text)
    ]
    result = {
        "pages": len(pages),
        "same_text": same_text,
        "same_text_and_metadata": same_meta,
        "same_languages": same_lang,
        "changed_examples": changed[:5],
    }
    print(f"{'+'.join(names)}: {json.dumps(result, ensure_ascii=False)}", flush=True)
    return result


def micro(names: list[str], site: Path, sample: int, repeats: int, combined: bool) -> dict[str, object]:
    """Stage CPU (bench.stages) without patches, then with each patch (and all together)."""
    variants: list[list[str]] = [[]] + [[n] for n in names]
    if combined and len(names) > 1:
        variants.append(list(names))
    out: dict[str, object] = {}
    for variant in variants:
        label = "+".join(variant) or "baseline"
        res = subprocess.run(
            [
                sys.executable,
                "-m",
                "bench.stages",
                "--site",
                str(site),
                "--sample",
                str(sample),
                "--repeats",
                str(repeats),
            ],
            cwd=REPO,
            env=patched_env(variant),
            check=True,
            capture_output=True,
            text=True,
        )
        data = json.loads(res.stdout)
        out[label] = data
        stages = data["stages_ms"]
        cells = "  ".join(f"{k} {v['median']:.2f}" for k, v in stages.items())
        print(f"{label:<40} {cells}  lang {data['language_agreement']}", flush=True)
    return out


def crawl(variants: list[str], pages: int, extra: list[str]) -> list[dict[str, object]]:
    """Whole full-pipeline crawls (bench.run --only full), one per variant, back to back.

    A variant is ``baseline``, a patch name, a setting ``NAME=VALUE``, or several joined with
    ``+``. CPU ms/page per process is what to compare (robust to other load); pages/s only
    when the machine's other load was the same.
    """
    rows = []
    for variant in ["baseline", *variants]:
        args = [sys.executable, "-m", "bench.run", "--only", "full", "--no-stages", "--pages", str(pages)]
        args += ["--label", "cmp-" + variant.replace("=", "-").replace("+", "_")[:60], *extra]
        for part in variant.split("+"):
            if part == "baseline":
                continue
            args += ["--set", part] if "=" in part else ["--patch", part]
        res = subprocess.run(args, cwd=REPO, check=False, capture_output=True, text=True)
        line = next((ln for ln in res.stderr.splitlines() if ln.startswith("bench: wrote ")), "")
        path = Path(line.removeprefix("bench: wrote ").split(" and ")[0]) if line else None
        if path is None or not path.exists():
            print(f"{variant}: failed\n{res.stderr[-2000:]}", flush=True)
            continue
        full = json.loads(path.read_text(encoding="utf-8"))["runs"]["full"]
        by = full["cpu_ms_per_page_by_process"]
        row = {
            "variant": variant,
            "cpu_ms_per_page": full["cpu_ms_per_page"],
            "crawler_ms": by.get("crawler", 0.0),
            "workers_ms": by.get("worker", 0.0),
            "pages_per_s": full["pages_per_s"],
            "projected_idle_pages_per_s": full["projected_pages_per_s_idle"]["pages_per_s"],
            "other_load_cores": full["machine"]["other_load_cores"],
            "peak_crawler_mb": full["peak_rss"]["crawler_mb"],
            "peak_workers_mb": full["peak_rss"]["workers_mb"],
            "text_ok": full.get("text", {}).get("main_language_as_generated"),
            "results": str(path),
        }
        rows.append(row)
        print(
            f"{variant:<48} total {row['cpu_ms_per_page']:6.2f}  crawler {row['crawler_ms']:6.2f}  "
            f"workers {row['workers_ms']:6.2f}  pages/s {row['pages_per_s']:6.1f} "
            f"(idle proj. {row['projected_idle_pages_per_s']:5.1f})  other load {row['other_load_cores']:.2f}  "
            f"RSS {row['peak_crawler_mb']}/{row['peak_workers_mb']}",
            flush=True,
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("names", nargs="*")
    p.add_argument("--list", action="store_true")
    p.add_argument("--micro", action="store_true", help="stage micro-benchmark per patch")
    p.add_argument("--gold", action="store_true", help="run the gold tests with the patches")
    p.add_argument(
        "--diff", action="store_true", help="compare extracted text/metadata/languages with and without"
    )
    p.add_argument("--combined", action="store_true", help="with --micro: also all patches together")
    p.add_argument("--crawl", action="store_true", help="whole full-pipeline crawl per variant (see crawl())")
    p.add_argument("--pages", type=int, default=2000, help="with --crawl: site size")
    p.add_argument("--site", type=Path, default=REPO / "bench" / "out" / "site-2000")
    p.add_argument("--sample", type=int, default=200)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--json", type=Path, help="write the micro results here")
    args = p.parse_args(argv)
    unknown = [
        part
        for n in args.names
        for part in n.split("+")
        if part not in PATCHES and "=" not in part and not args.crawl
    ]
    if unknown:
        p.error(f"unknown patch(es) {unknown}; --list shows them")
    if args.list or not (args.micro or args.gold or args.diff or args.crawl):
        for name, patch in PATCHES.items():
            print(f"{name:<18} [{patch.owner}] {' '.join(patch.doc.split())}")
        return 0
    code = 0
    if args.micro:
        result = micro(args.names, args.site, args.sample, args.repeats, args.combined)
        if args.json:
            args.json.write_text(json.dumps(result, indent=1), encoding="utf-8")
    if args.crawl:
        rows = crawl(args.names, args.pages, [])
        if args.json:
            args.json.write_text(json.dumps(rows, indent=1), encoding="utf-8")
        return 0
    if args.diff:
        diff(args.names, args.site, args.sample)
    if args.gold:
        code = gold(args.names)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
