"""Small but realistic archive directories for the replay tests, written with warcio.

They follow the record layout of the project's writer (capture stream: request, response or
revisit, application/warc-fields metadata; text stream: conversion + JSON metadata) but are
built here byte by byte, so the replay tests depend on warcio alone and can state exactly
what each record holds. Two capture files from two "cron runs": the second one holds the
revisits, which point back into the first.

Besides the articles, ``/exp/...`` URLs hold the revisit-block experiments: an original
response in run 1 and a revisit in run 2 whose HTTP block varies (see :data:`REVISIT_VARIANTS`).
"""

from __future__ import annotations

import gzip
import io
import json
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from warcio.timeutils import iso_date_to_timestamp
from warcio.warcwriter import WARCWriter

from archive.layout import ArchiveLayout

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"  # screenshots and result tables (gitignored)
HOST = "https://news.example"
RUN1_DATE = "2026-11-20T10:00:00.250000Z"
RUN2_DATE = "2026-11-21T10:00:00.500000Z"
PROFILE_IDENTICAL = "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"
PROFILE_NOT_MODIFIED = "http://netpreserve.org/warc/1.1/revisit/server-not-modified"

# Article text (first sentences of the seed articles; real Urdu / Hindi news text).
URDU_1 = (
    "13 ستمبر کو، روسی سلامتی کونسل کے سکریٹری سرگئی شوئیگو کے پیانگ یانگ کے دورے کے ایک حصے کے "
    "طور پر، انہوں نے شمالی کوریا کے صدر کم جونگ ان سے ملاقات کی۔",
    "14 ستمبر کو، کورین سنٹرل نیوز ایجنسی (KCNA) نے ملاقات کی اطلاع دیتے ہوئے کہا کہ دونوں فریقوں "
    "نے دو طرفہ اسٹریٹجک ڈائیلاگ کو مضبوط بنانے کے موضوع پر بات چیت کی۔",
)
HINDI = (
    "नॉर्थ कोरिया ने अप्रैल में पहली बार पुष्टि की कि उसने अपने सैनिकों की एक टुकड़ी को रूसी सैनिकों "
    "के साथ यूक्रेन में अग्रिम पंक्ति में तैनात किया है.",
    "अलास्का शिखर सम्मेलन से पहले व्लादिमीर पुतिन ने किम जोंग के साथ टेलीफोन पर बातचीत की.",
)
URDU_2 = (
    "روسی صدر پوتین چوبیس سال بعد پہلی مرتبہ شمالی کوریا آئے ہیں۔",
    "پوتین کی کابینہ کے بیشتر ارکان روسی وفد کا حصہ ہیں، جو کم جونگ اْن کے ساتھ بات چیت کریں گے۔",
)

# Experiments on the revisit record's HTTP block (run 2), each against an original in run 1.
#   orig_gzip:  the original response was stored gzip-encoded (Content-Encoding: gzip)
#   profile:    revisit profile
#   block:      what the revisit's HTTP block holds:
#     "new-200"       the new response's 200 headers, which match the stored payload
#     "empty"         nothing (Content-Length 0, no Content-Type)
#     "304"           the 304 Not Modified status line and headers actually received
#     "orig-200"      the original response's status line and headers
#     "recompressed"  new 200 headers: Content-Encoding gzip but another Content-Length
#     "now-identity"  new 200 headers without Content-Encoding (server stopped compressing)
#     "now-gzip"      new 200 headers with Content-Encoding gzip (original stored identity)
#     "no-length"     new 200 headers without Content-Length
REVISIT_VARIANTS: dict[str, tuple[bool, str, str]] = {
    "new-200": (True, PROFILE_IDENTICAL, "new-200"),
    "empty": (True, PROFILE_IDENTICAL, "empty"),
    "nm-304": (True, PROFILE_NOT_MODIFIED, "304"),
    "nm-orig-200": (True, PROFILE_NOT_MODIFIED, "orig-200"),
    "nm-empty": (True, PROFILE_NOT_MODIFIED, "empty"),
    "recompressed": (True, PROFILE_IDENTICAL, "recompressed"),
    "now-identity": (True, PROFILE_IDENTICAL, "now-identity"),
    "now-gzip": (False, PROFILE_IDENTICAL, "now-gzip"),
    "no-length": (True, PROFILE_IDENTICAL, "no-length"),
}


@dataclass(slots=True)
class Capture:
    """What a test needs to know about one stored capture."""

    url: str
    date: str
    kind: str  # response / revisit
    status: int
    identity_body: bytes  # the payload after content decoding
    text: str = ""  # article text (conversion record), "" when none
    title: str = ""
    record_id: str = ""
    refers_to: str = ""  # for revisits: the original's record id

    @property
    def timestamp(self) -> str:
        return iso_date_to_timestamp(self.date)


@dataclass(slots=True)
class FixtureArchive:
    layout: ArchiveLayout
    captures: list[Capture] = field(default_factory=list)

    def find(self, url: str, kind: str | None = None) -> list[Capture]:
        return [c for c in self.captures if c.url == url and (kind is None or c.kind == kind)]


def article_html(title: str, paragraphs: tuple[str, ...], lang: str) -> bytes:
    """An article page with boilerplate around the text, like a real news site."""
    body = "\n".join(f"<p>{p}</p>" for p in paragraphs)
    html = (
        f'<!DOCTYPE html>\n<html lang="{lang}" dir="auto"><head><meta charset="utf-8">'
        f"<title>{title}</title><style>body{{font-family:sans-serif}}</style></head>\n"
        '<body><nav><a href="/">Home</a> | <a href="/world/">World</a></nav>\n'
        f"<article><h1>{title}</h1>\n{body}\n</article>\n"
        "<footer>© News Example — all rights reserved</footer></body></html>\n"
    )
    return html.encode("utf-8")


class _Stream:
    """One WARC file being written with warcio (WARC/1.1, per-record gzip, warcinfo first)."""

    def __init__(self, folder: Path, name: str, date: str) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / name
        self._fh = self.path.open("wb")
        self.writer = WARCWriter(self._fh, gzip=True, warc_version="WARC/1.1")
        info = self.writer.create_warcinfo_record(
            name,
            {
                "software": "newsarchive test fixtures (warcio)",
                "format": "WARC File Format 1.1",
                "isPartOf": "replay-tests",
            },
        )
        info.rec_headers.replace_header("WARC-Date", date)
        self.writer.write_record(info)
        self.warcinfo_id = info.rec_headers.get_header("WARC-Record-ID")

    def record(
        self,
        url: str | None,
        rec_type: str,
        date: str,
        block: bytes,
        *,
        content_type: str | None,
        extra: list[tuple[str, str]] = (),
        parse_http: bool = False,
    ) -> str:
        record_id = f"<urn:uuid:{uuid.uuid4()}>"
        headers = {
            "WARC-Record-ID": record_id,
            "WARC-Date": date,
            "WARC-Warcinfo-ID": self.warcinfo_id,
        }
        headers.update(dict(extra))
        if content_type:
            headers["Content-Type"] = content_type
        payload = io.BytesIO(block) if block else None
        if parse_http:
            rec = self.writer.create_warc_record(
                url, rec_type, payload=payload, length=len(block), warc_headers_dict=headers
            )
        else:
            rec = self.writer.create_warc_record(
                url,
                rec_type,
                payload=payload,
                length=len(block),
                warc_headers_dict=headers,
                warc_content_type=content_type or "",
            )
            rec.http_headers = None
        if url is None:
            rec.rec_headers.remove_header("WARC-Target-URI")
        self.writer.write_record(rec)
        return record_id

    def close(self) -> None:
        self._fh.close()


def _sha1(data: bytes) -> str:
    import base64
    import hashlib

    return "sha1:" + base64.b32encode(hashlib.sha1(data).digest()).decode("ascii")


def _http_head(status: str, headers: list[tuple[str, str]]) -> bytes:
    lines = [f"HTTP/1.1 {status}"] + [f"{k}: {v}" for k, v in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _request_head(url: str) -> bytes:
    path = url.split("://", 1)[1]
    host, _, rest = path.partition("/")
    return (
        f"GET /{rest} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: newsarchive-test/0.1\r\n"
        "Accept: text/html,application/xhtml+xml\r\nAccept-Encoding: gzip, deflate, br\r\n\r\n"
    ).encode("ascii")


def _gzip(data: bytes, level: int = 6, mtime: int = 0) -> bytes:
    return gzip.compress(data, compresslevel=level, mtime=mtime)


class ArchiveBuilder:
    """Writes capture events into run-1 / run-2 capture files and their text files."""

    def __init__(self, root: Path) -> None:
        self.layout = ArchiveLayout(root)
        self.layout.create()
        self.archive = FixtureArchive(self.layout)
        self._streams: dict[str, _Stream] = {}

    def stream(self, kind: str, run: int) -> _Stream:
        key = f"{kind}{run}"
        if key not in self._streams:
            date = RUN1_DATE if run == 1 else RUN2_DATE
            stamp = iso_date_to_timestamp(date)
            if kind == "capture":
                folder, name = self.layout.capture_dir, f"NEWSARCHIVE-{stamp}-00000-testhost-{run}.warc.gz"
            else:
                folder = self.layout.text_dir
                name = f"NEWSARCHIVE-TEXT-{stamp}-00000-testhost-{run}.warc.gz"
            self._streams[key] = _Stream(folder, name, date)
        return self._streams[key]

    def response(
        self,
        run: int,
        url: str,
        status: str,
        headers: list[tuple[str, str]],
        stored_body: bytes,
        identity_body: bytes,
        *,
        date: str,
        text: tuple[str, ...] = (),
        title: str = "",
        languages: str = "",
    ) -> Capture:
        capture = self.stream("capture", run)
        head = _http_head(status, [*headers, ("Content-Length", str(len(stored_body)))])
        response_id = capture.record(
            url,
            "response",
            date,
            head + stored_body,
            content_type="application/http; msgtype=response",
            extra=[("WARC-IP-Address", "192.0.2.10"), ("WARC-Payload-Digest", _sha1(stored_body))],
            parse_http=True,
        )
        capture.record(
            url,
            "request",
            date,
            _request_head(url),
            content_type="application/http; msgtype=request",
            extra=[("WARC-Concurrent-To", response_id), ("WARC-IP-Address", "192.0.2.10")],
            parse_http=True,
        )
        capture.record(
            url,
            "metadata",
            date,
            f"fetchTimeMs: 42\r\nlanguages-langdetect: {languages}\r\n".encode(),
            content_type="application/warc-fields",
            extra=[("WARC-Concurrent-To", response_id)],
        )
        body_text = "\n".join(text)
        if text:
            self._text_records(run, url, date, response_id, body_text, title, languages)
        code = int(status.split()[0])
        result = Capture(url, date, "response", code, identity_body, body_text, title, response_id)
        self.archive.captures.append(result)
        return result

    def _text_records(
        self, run: int, url: str, date: str, response_id: str, text: str, title: str, languages: str
    ) -> None:
        stream = self.stream("text", run)
        conversion_id = stream.record(
            url,
            "conversion",
            date,
            text.encode("utf-8"),
            content_type="text/plain; charset=utf-8",
            extra=[("WARC-Refers-To", response_id), ("WARC-Identified-Content-Language", languages)],
        )
        meta = {
            "title": title,
            "date_published": "2026-11-19",
            "languages": [{"code": languages.split(",")[0], "prob": 1.0}],
            "refers_to_response": response_id,
        }
        stream.record(
            url,
            "metadata",
            date,
            json.dumps(meta, ensure_ascii=False).encode("utf-8"),
            content_type="application/json",
            extra=[("WARC-Refers-To", conversion_id), ("WARC-Identified-Content-Language", languages)],
        )

    def revisit(
        self,
        run: int,
        original: Capture,
        *,
        date: str,
        profile: str,
        head: bytes,
        payload_digest: str,
    ) -> Capture:
        stream = self.stream("capture", run)
        extra = [
            ("WARC-IP-Address", "192.0.2.10"),
            ("WARC-Profile", profile),
            ("WARC-Refers-To", original.record_id),
            ("WARC-Refers-To-Target-URI", original.url),
            ("WARC-Refers-To-Date", original.date),
            ("WARC-Payload-Digest", payload_digest),
        ]
        if head:
            extra.append(("WARC-Truncated", "length"))
        revisit_id = stream.record(
            original.url,
            "revisit",
            date,
            head,
            content_type="application/http; msgtype=response" if head else None,
            extra=extra,
            parse_http=bool(head),
        )
        stream.record(
            original.url,
            "request",
            date,
            _request_head(original.url),
            content_type="application/http; msgtype=request",
            extra=[("WARC-Concurrent-To", revisit_id)],
            parse_http=True,
        )
        result = Capture(
            original.url,
            date,
            "revisit",
            200,
            original.identity_body,
            original.text,
            original.title,
            revisit_id,
            original.record_id,
        )
        self.archive.captures.append(result)
        return result

    def close(self) -> FixtureArchive:
        for stream in self._streams.values():
            stream.close()
        return self.archive


HTML_HEADERS = [
    ("Date", "Fri, 20 Nov 2026 10:00:00 GMT"),
    ("Server", "nginx"),
    ("Content-Type", "text/html; charset=utf-8"),
    ("Vary", "Accept-Encoding"),
    ("Set-Cookie", "a=1; Path=/"),
    ("Set-Cookie", "b=2; Path=/"),
    ("ETag", '"v1"'),
]
RUN2_HTTP_DATE = "Sat, 21 Nov 2026 10:00:00 GMT"
REDIRECT_TARGET_PATH = "/ur/%D8%AE%D8%A8%D8%B1-1.html"  # /ur/خبر-1.html


def build_archive(root: Path, *, experiments: bool = True) -> FixtureArchive:
    """Two cron runs of a small news site (and the revisit experiments)."""
    b = ArchiveBuilder(root)
    ur_title = "شمالی کوریا اور روس کی ملاقات"
    ur_html = article_html(ur_title, URDU_1, "ur")
    ur_gz = _gzip(ur_html)
    ur = b.response(
        1,
        f"{HOST}/ur/article-1.html",
        "200 OK",
        [*HTML_HEADERS, ("Content-Encoding", "gzip")],
        ur_gz,
        ur_html,
        date=RUN1_DATE,
        text=URDU_1,
        title=ur_title,
        languages="urd",
    )
    hi_title = "पुतिन ने नॉर्थ कोरिया मिलाया कॉल"
    hi_html = article_html(hi_title, HINDI, "hi")
    b.response(
        1,
        f"{HOST}/hi/article-2.html",
        "200 OK",
        HTML_HEADERS,
        hi_html,
        hi_html,
        date=RUN1_DATE,
        text=HINDI,
        title=hi_title,
        languages="hin",
    )
    ur2_title = "پوتین پیونگ یانگ میں"
    ur2_html = article_html(ur2_title, URDU_2, "ur")
    b.response(
        1,
        HOST + REDIRECT_TARGET_PATH,
        "200 OK",
        [*HTML_HEADERS, ("Content-Encoding", "gzip")],
        _gzip(ur2_html),
        ur2_html,
        date=RUN1_DATE,
        text=URDU_2,
        title=ur2_title,
        languages="urd,eng",
    )
    b.response(
        1,
        f"{HOST}/ur/latest",
        "301 Moved Permanently",
        [
            ("Date", "Fri, 20 Nov 2026 10:00:00 GMT"),
            ("Location", REDIRECT_TARGET_PATH),
            ("Content-Type", "text/html"),
        ],
        b"",
        b"",
        date=RUN1_DATE,
    )
    # run 2: the Urdu article is unchanged and sent with the same bytes -> revisit with new 200 headers
    b.revisit(
        2,
        ur,
        date=RUN2_DATE,
        profile=PROFILE_IDENTICAL,
        head=_http_head(
            "200 OK",
            [
                ("Date", RUN2_HTTP_DATE),
                *HTML_HEADERS[1:],
                ("Content-Encoding", "gzip"),
                ("Content-Length", str(len(ur_gz))),
            ],
        ),
        payload_digest=_sha1(ur_gz),
    )
    if experiments:
        for name, (orig_gzip, profile, block) in REVISIT_VARIANTS.items():
            _experiment(b, name, orig_gzip, profile, block)
    return b.close()


def _experiment(b: ArchiveBuilder, name: str, orig_gzip: bool, profile: str, block: str) -> None:
    url = f"{HOST}/exp/{name}.html"
    paragraphs = (f"Revisit experiment {name}: " + "unchanged article text. " * 20,)
    html = article_html(f"Experiment {name}", paragraphs, "en")
    stored = _gzip(html) if orig_gzip else html
    orig_headers = [*HTML_HEADERS, ("Content-Encoding", "gzip")] if orig_gzip else list(HTML_HEADERS)
    original = b.response(1, url, "200 OK", orig_headers, stored, html, date=RUN1_DATE)
    new_common = [("Date", RUN2_HTTP_DATE), *HTML_HEADERS[1:]]
    if block == "new-200":
        head = _http_head(
            "200 OK", [*new_common, *orig_headers[len(HTML_HEADERS) :], ("Content-Length", str(len(stored)))]
        )
    elif block == "empty":
        head = b""
    elif block == "304":
        received = [("Date", RUN2_HTTP_DATE), ("ETag", '"v1"'), ("Server", "nginx")]
        head = _http_head("304 Not Modified", received)
    elif block == "orig-200":
        head = _http_head("200 OK", [*orig_headers, ("Content-Length", str(len(stored)))])
    elif block == "recompressed":
        other = _gzip(html, level=1, mtime=1_800_000_000)
        assert len(other) != len(stored)
        head = _http_head(
            "200 OK", [*new_common, ("Content-Encoding", "gzip"), ("Content-Length", str(len(other)))]
        )
    elif block == "now-identity":
        head = _http_head("200 OK", [*new_common, ("Content-Length", str(len(html)))])
    elif block == "now-gzip":
        head = _http_head(
            "200 OK", [*new_common, ("Content-Encoding", "gzip"), ("Content-Length", str(len(_gzip(html))))]
        )
    elif block == "no-length":
        head = _http_head("200 OK", [*new_common, ("Content-Encoding", "gzip")])
    else:
        raise ValueError(block)
    b.revisit(2, original, date=RUN2_DATE, profile=profile, head=head, payload_digest=_sha1(stored))
