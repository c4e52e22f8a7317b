"""Property-based tests: random HTTP exchanges must give WARC records that warcio and FastWARC
read back with true digests, or fail with a clear ValueError; nothing else is acceptable.

The budget comes from the hypothesis profile in tests/conftest.py (``FUZZ_EXAMPLES=N`` for more).
"""

from __future__ import annotations

import gzip
import re
import tempfile
import zlib
from pathlib import Path
from urllib.parse import urlsplit

import brotli
import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from archive.encoding import DecodeError, decode_body
from archive.http import ResponseHead, request_header_block, response_header_block
from archive.records import serialize
from archive.urls import canonical_url
from tests.helpers import (
    fastwarc_check,
    fixed_factory,
    gzip_member_count,
    own_digest_problems,
    read_records,
    warcio_digest_problems,
)

DATE = "2024-05-06T07:08:09.000000Z"

# Header names and values as a server may send them: mostly tokens, sometimes anything at all
# (non-ASCII, CR/LF, NUL, colons, Unicode whitespace in UTF-8).
_nasty_bytes = st.binary(max_size=40)
_utf8 = st.text(max_size=30).map(lambda s: s.encode("utf-8"))
_token = st.from_regex(rb"[A-Za-z0-9!#$%&'*+.^_`|~-]{1,20}", fullmatch=True)
_special = st.sampled_from(
    [
        b"Content-Length",
        b"content-length",
        b"Transfer-Encoding",
        b"Location",
        b"Content-Location",
        b"Set-Cookie",
    ]
)
header_names = st.one_of(_token, _special, _nasty_bytes, _utf8)
header_values = st.one_of(st.from_regex(rb"[ -~]{0,40}", fullmatch=True), _nasty_bytes, _utf8)
headers = st.lists(st.tuples(header_names, header_values), max_size=12)
reasons = st.one_of(
    st.none(), st.text(max_size=30), st.sampled_from(["", "OK", "Not Found", "Fine And Dandy"])
)
protocols = st.sampled_from(["HTTP/1.0", "HTTP/1.1", "HTTP/2", "h2", "", "http/1.1"])
statuses = st.integers(min_value=100, max_value=999)
bodies = st.one_of(st.binary(max_size=3000), st.text(max_size=500).map(lambda s: s.encode("utf-8")))

_host = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?(\.[a-z]{2,6}){0,2}", fullmatch=True)
_url_text = st.text(max_size=20)
urls = st.one_of(
    st.builds(
        lambda scheme, host, port, path, query: (
            f"{scheme}://{host}{port}/{path}" + (f"?{query}" if query is not None else "")
        ),
        st.sampled_from(["http", "https", "HTTP"]),
        _host,
        st.sampled_from(["", ":80", ":443", ":8080", ":0", ":99999"]),
        _url_text,
        st.one_of(st.none(), _url_text),
    ),
    st.text(max_size=60),
)


def _header_lines(block: bytes) -> list[bytes]:
    return block[:-4].split(b"\r\n")[1:]


@given(
    url=urls,
    protocol=protocols,
    status=statuses,
    reason=reasons,
    response_headers=headers,
    request_headers=headers,
    body=bodies,
)
@example(
    url="https://example.com/ur/خبر?q=ی",
    protocol="HTTP/2",
    status=301,
    reason="",
    response_headers=[(b"Location", "https://example.com/ur/خبر".encode()), (b"X\r\nY", b"a\r\n\r\nb")],
    request_headers=[(b"Host", b"example.com\r\n")],
    body=b"\r\n\r\nbody that looks like a header end",
)
def test_random_exchange_gives_records_that_read_back_exactly(
    url: str,
    protocol: str,
    status: int,
    reason: str | None,
    response_headers: list[tuple[bytes, bytes]],
    request_headers: list[tuple[bytes, bytes]],
    body: bytes,
) -> None:
    head = ResponseHead(protocol, status, reason, tuple(response_headers))
    try:
        request_block = request_header_block("GET", url, request_headers)
    except ValueError:
        return  # a clear refusal (not http, bad port, unencodable host) is an acceptable outcome
    # Precondition of the record builders: an absolute http(s) URL, as the crawler always has.
    # warcio reads HTTP heads only under a Target-URI starting with "http:"/"https:"; a URL
    # that is not one should be refused (see test_http's xfail on request_header_block).
    assume(url.startswith(("http://", "https://")) and urlsplit(url).hostname)
    response_block = response_header_block(head, len(body))

    # Header blocks: one line per header given (plus the true Content-Length), no line injected.
    for block in (request_block, response_block):
        assert block.endswith(b"\r\n\r\n") and block.count(b"\r\n\r\n") == 1
        assert b"\n" not in block.replace(b"\r\n", b"") and b"\r" not in block.replace(b"\r\n", b"")
    lines = _header_lines(response_block)
    assert lines[-1] == f"Content-Length: {len(body)}".encode()
    assert sum(1 for line in lines if line.lower().startswith(b"content-length:")) == 1
    lengths = [v for k, v in response_headers if k.lower() == b"content-length"]
    kept_as_x_crawler = len(lengths) if lengths != [str(len(body)).encode()] else 0
    assert len(lines) == len(response_headers) - len(lengths) + kept_as_x_crawler + 1

    factory = fixed_factory()
    response = factory.response(url, DATE, response_block, body, ip="127.0.0.1")
    request = factory.request(url, DATE, request_block)
    request.headers.insert(3, ("WARC-Concurrent-To", response.record_id))
    warcinfo = factory.warcinfo("fuzz.warc.gz", DATE, [("software", "fuzz")])
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "fuzz.warc.gz"
        path.write_bytes(
            serialize(warcinfo)
            + serialize(request, warcinfo_id=warcinfo.record_id)
            + serialize(response, warcinfo_id=warcinfo.record_id)
        )
        assert gzip_member_count(path) == 3
        records = read_records(path)
        assert [r.rec_type for r in records] == ["warcinfo", "request", "response"]
        assert not warcio_digest_problems(path)
        assert not own_digest_problems(records)
        assert fastwarc_check(path).payload_checked == 2
    read_request, read_response = records[1], records[2]
    assert read_request.block == request_block
    assert read_response.block == response_block + body
    assert read_response.payload == body  # warcio finds the same end of headers as we do
    http = read_response.http_headers
    assert http is not None
    assert http.get_statuscode() == str(status)
    assert http.protocol in ("HTTP/1.0", "HTTP/1.1")
    assert len(http.headers) == len(lines)  # warcio sees exactly our header lines
    assert http.get_header("Content-Length") == str(len(body))
    assert read_response.get("WARC-Target-URI") is not None


@given(st.one_of(urls, st.text(), st.binary().map(lambda b: b.decode("latin-1"))))
@example("HTTP://Example.COM:80/a/../b?utm_source=x&b=2&a=1#frag")
@example("https://example.com/a;jsessionid=1?sid=2")
@example("http://[::1]:80/")
def test_canonical_url_is_http_and_idempotent_or_a_value_error(text: str) -> None:
    try:
        url = canonical_url(text)
    except ValueError:
        return
    parts = urlsplit(url)
    assert parts.scheme in ("http", "https")
    assert parts.hostname
    assert not parts.fragment
    assert url.isascii() and not re.search(r"\s", url)
    assert canonical_url(url) == url


_CODINGS = {
    "gzip": lambda d: gzip.compress(d, mtime=0),
    "deflate": zlib.compress,
    "br": brotli.compress,
    "identity": lambda d: d,
}


@given(body=st.binary(max_size=5000), chain=st.lists(st.sampled_from(sorted(_CODINGS)), max_size=3))
def test_decode_undoes_any_chain_of_codings(body: bytes, chain: list[str]) -> None:
    stages = [body]
    for coding in chain:
        stages.append(_CODINGS[coding](stages[-1]))
    # The limit applies to every decoding step: give exactly the largest intermediate size.
    limit = max(len(stage) for stage in stages[:-1]) if chain else len(body)
    assert decode_body(stages[-1], [", ".join(chain).encode()], limit) == body


@given(
    data=st.binary(max_size=2000),
    header=st.sampled_from([b"gzip", b"deflate", b"br", b"gzip, br", b"x-gzip"]),
    limit=st.integers(min_value=0, max_value=4000),
)
def test_decode_of_random_bytes_is_bounded_or_a_decode_error(data: bytes, header: bytes, limit: int) -> None:
    try:
        out = decode_body(data, [header], limit)
    except DecodeError:
        return
    assert isinstance(out, bytes) and len(out) <= limit


@given(body=st.binary(min_size=1, max_size=3000), cut=st.floats(min_value=0.0, max_value=1.0))
def test_decode_of_a_cut_gzip_is_a_prefix_or_a_decode_error(body: bytes, cut: float) -> None:
    data = gzip.compress(body)
    try:
        out = decode_body(data[: int(len(data) * cut)], [b"gzip"], 10_000)
    except DecodeError:
        return
    assert body.startswith(out)


try:
    from archive.language import to_iso639_3
except ImportError:  # archive.language is written separately; the property waits for it
    to_iso639_3 = None


@pytest.mark.skipif(to_iso639_3 is None, reason="archive.language.to_iso639_3 not available")
@given(
    st.one_of(
        st.text(max_size=12),
        st.sampled_from(
            ["ur", "hi", "vi", "en", "zh-cn", "zh-tw", "en-GB", "EN_us", " urd ", "zh", "ZHO", "xx"]
        ),
        st.from_regex(r"[A-Za-z]{2,3}([-_][A-Za-z0-9]{1,8})?", fullmatch=True),
    )
)
def test_to_iso639_3_gives_none_or_a_three_letter_code(code: str) -> None:
    assert to_iso639_3 is not None
    result = to_iso639_3(code)
    if result is not None:
        assert re.fullmatch(r"[a-z]{3}", result), result
        assert to_iso639_3(result) == result
