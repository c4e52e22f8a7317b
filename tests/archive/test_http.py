"""HTTP header blocks rebuilt for WARC records (WARC findings §3.2; gotchas 5-7 and 9)."""

from __future__ import annotations

import pytest
from warcio.statusandheaders import StatusAndHeadersParser

from archive.http import (
    ResponseHead,
    header_pairs,
    normalise_url_header,
    request_header_block,
    response_header_block,
    status_line,
)


def head(
    *headers: tuple[bytes, bytes], status: int = 200, reason: str | None = "OK", protocol: str = "HTTP/1.1"
):
    return ResponseHead(protocol, status, reason, tuple(headers))


def lines(block: bytes) -> list[bytes]:
    assert block.endswith(b"\r\n\r\n"), "a header block ends with an empty line"
    return block[:-4].split(b"\r\n")


def parse_with_warcio(block: bytes, verify: bool = True):
    """What a replay tool sees: warcio's own HTTP head parser over our bytes."""
    import io

    return StatusAndHeadersParser(["HTTP/1.0", "HTTP/1.1"], verify=verify).parse(io.BytesIO(block))


# --- status line -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reason", "expected"),
    [
        ("OK", b"HTTP/1.1 200 OK"),
        ("Fine And Dandy", b"HTTP/1.1 200 Fine And Dandy"),  # non-standard phrase kept
        ("", b"HTTP/1.1 200 "),  # empty phrase is legal (RFC 9112 §4) and kept empty
        ("okay", b"HTTP/1.1 200 okay"),  # case kept
        (None, b"HTTP/1.1 200 OK"),  # unknown: the standard phrase
    ],
)
def test_status_line_keeps_the_servers_reason_phrase(reason: str | None, expected: bytes) -> None:
    assert status_line("HTTP/1.1", 200, reason) == expected


def test_status_line_unknown_code_without_reason_gets_empty_phrase() -> None:
    assert status_line("HTTP/1.1", 299, None) == b"HTTP/1.1 299 "
    assert status_line("HTTP/1.1", 404, None) == b"HTTP/1.1 404 Not Found"


@pytest.mark.parametrize("protocol", ["HTTP/2", "HTTP/2.0", "h2", "HTTP/3", "", "SPDY/3"])
def test_status_line_writes_anything_but_http1_as_http11(protocol: str) -> None:
    assert status_line(protocol, 204, "No Content") == b"HTTP/1.1 204 No Content"


def test_status_line_keeps_http10_and_normalises_case() -> None:
    assert status_line("HTTP/1.0", 200, "OK") == b"HTTP/1.0 200 OK"
    assert status_line("http/1.0", 200, "OK") == b"HTTP/1.0 200 OK"


def test_status_line_reason_cannot_inject_a_header() -> None:
    line = status_line("HTTP/1.1", 200, "OK\r\nSet-Cookie: evil=1")
    assert b"\r" not in line and b"\n" not in line
    assert line.startswith(b"HTTP/1.1 200 OK")


def test_status_line_reason_outside_latin1_is_replaced_not_raised() -> None:
    line = status_line("HTTP/1.1", 200, "Ünïcode ☃")
    assert line == b"HTTP/1.1 200 \xdcn\xefcode ?"


# --- response header block ---------------------------------------------------------------------


def test_response_block_from_h2_is_http11_and_parses_in_warcio() -> None:
    block = response_header_block(head((b"content-type", b"text/html"), protocol="HTTP/2"), 5)
    assert lines(block)[0] == b"HTTP/1.1 200 OK"
    parsed = parse_with_warcio(block)
    assert parsed.protocol == "HTTP/1.1"
    assert parsed.get_statuscode() == "200"


def test_repeated_headers_stay_separate_and_in_order() -> None:
    block = response_header_block(
        head(
            (b"Set-Cookie", b"a=1; Path=/"),
            (b"Vary", b"Accept-Encoding"),
            (b"Set-Cookie", b"b=2; HttpOnly"),
            (b"Link", b"</a.css>; rel=preload"),
            (b"Link", b"</b.js>; rel=preload"),
        ),
        0,
    )
    assert lines(block)[1:6] == [
        b"Set-Cookie: a=1; Path=/",
        b"Vary: Accept-Encoding",
        b"Set-Cookie: b=2; HttpOnly",
        b"Link: </a.css>; rel=preload",
        b"Link: </b.js>; rel=preload",
    ]
    parsed = parse_with_warcio(block)
    assert [v for k, v in parsed.headers if k.lower() == "set-cookie"] == ["a=1; Path=/", "b=2; HttpOnly"]


def test_header_names_keep_their_case() -> None:
    block = response_header_block(head((b"x-ReQuEsT-id", b"7")), 0)
    assert b"\r\nx-ReQuEsT-id: 7\r\n" in block


@pytest.mark.parametrize("body_length", [0, 1, 12345])
def test_content_length_is_added_when_absent(body_length: int) -> None:
    block = response_header_block(head((b"Content-Type", b"text/html")), body_length)
    assert lines(block).count(f"Content-Length: {body_length}".encode()) == 1
    assert b"X-Crawler-Content-Length" not in block


def test_content_length_that_matches_is_kept_once_without_a_copy() -> None:
    block = response_header_block(head((b"Content-Length", b"10")), 10)
    assert [line for line in lines(block) if b"content-length" in line.lower()] == [b"Content-Length: 10"]


def test_stale_content_length_is_kept_as_x_crawler_and_replaced() -> None:
    block = response_header_block(head((b"Content-Length", b"999")), 10)
    cl = [line for line in lines(block) if b"content-length" in line.lower()]
    assert cl == [b"X-Crawler-Content-Length: 999", b"Content-Length: 10"]
    assert parse_with_warcio(block).get_header("Content-Length") == "10"


def test_several_content_lengths_collapse_to_the_true_one() -> None:
    block = response_header_block(head((b"Content-Length", b"10"), (b"content-length", b"10")), 10)
    real = [line for line in lines(block) if line.lower().startswith(b"content-length:")]
    assert real == [b"Content-Length: 10"]
    assert lines(block).count(b"X-Crawler-Content-Length: 10") == 2


def test_transfer_encoding_is_renamed_because_the_body_is_stored_dechunked() -> None:
    block = response_header_block(head((b"Transfer-Encoding", b"chunked")), 42)
    assert b"\r\nX-Crawler-Transfer-Encoding: chunked\r\n" in block
    assert not any(line.lower().startswith(b"transfer-encoding") for line in lines(block))
    assert lines(block)[-1] == b"Content-Length: 42"


def test_content_encoding_is_kept_because_the_body_is_stored_encoded() -> None:
    block = response_header_block(head((b"Content-Encoding", b"gzip")), 3)
    assert b"\r\nContent-Encoding: gzip\r\n" in block


def test_raw_utf8_location_is_percent_encoded() -> None:
    location = "/ur/خبر-1.html".encode()
    block = response_header_block(head((b"Location", location), status=301, reason="Moved Permanently"), 0)
    assert b"\r\nLocation: /ur/%D8%AE%D8%A8%D8%B1-1.html\r\n" in block
    block.decode("ascii")  # nothing but ASCII remains


def test_absolute_utf8_location_stays_an_absolute_url() -> None:
    location = "https://example.com/ur/خبر?q=ی#top".encode()
    value = normalise_url_header(location)
    assert value == b"https://example.com/ur/%D8%AE%D8%A8%D8%B1?q=%DB%8C#top"
    assert b"%3A" not in value  # warcio's own encoding would give https%3A//...


def test_utf8_content_location_is_percent_encoded_too() -> None:
    block = response_header_block(head((b"Content-Location", "/ہ".encode())), 0)
    assert b"\r\nContent-Location: /%DB%81\r\n" in block


def test_ascii_location_is_untouched() -> None:
    value = b"https://example.com/a?b=c%20d&e=f"
    assert normalise_url_header(value) == value
    block = response_header_block(head((b"Location", value), status=302, reason="Found"), 0)
    assert b"\r\nLocation: " + value + b"\r\n" in block


def test_other_headers_with_raw_utf8_are_kept_byte_for_byte() -> None:
    title = "خبر".encode()
    block = response_header_block(head((b"X-Article-Title", title)), 0)
    assert b"\r\nX-Article-Title: " + title + b"\r\n" in block


def test_header_injection_in_values_is_neutralised() -> None:
    block = response_header_block(
        head((b"X-Evil", b"a\r\nSet-Cookie: stolen=1"), (b"X-Lf", b"b\nLocation: /x"), (b"X-Cr", b"c\rd")), 0
    )
    out = lines(block)
    assert out[1:4] == [b"X-Evil: a  Set-Cookie: stolen=1", b"X-Lf: b Location: /x", b"X-Cr: c d"]
    parsed = parse_with_warcio(block)
    assert parsed.get_header("Set-Cookie") is None
    assert parsed.get_header("Location") is None


def test_header_injection_in_names_is_neutralised() -> None:
    block = response_header_block(head((b"X-A\r\nSet-Cookie", b"x"), (b"Bad:Name", b"y")), 0)
    out = lines(block)
    assert out[1] == b"X-A  Set-Cookie: x"
    assert out[2] == b"BadName: y"  # a colon in a name would split it differently when read back
    assert parse_with_warcio(block).get_header("Set-Cookie") is None


def test_block_ends_with_one_empty_line_and_is_parsable() -> None:
    block = response_header_block(head((b"A", b"1")), 0)
    assert block.count(b"\r\n\r\n") == 1 and block.endswith(b"\r\n\r\n")
    assert parse_with_warcio(block).get_header("A") == "1"


# --- request header block ----------------------------------------------------------------------


def test_request_line_keeps_the_query_string_and_adds_host() -> None:
    block = request_header_block("GET", "https://example.com/news/1?page=2&lang=ur", [(b"Accept", b"*/*")])
    assert lines(block) == [b"GET /news/1?page=2&lang=ur HTTP/1.1", b"Host: example.com", b"Accept: */*"]


def test_request_line_for_an_empty_path_is_slash() -> None:
    assert lines(request_header_block("GET", "http://example.com?q=1", []))[0] == b"GET /?q=1 HTTP/1.1"
    assert lines(request_header_block("GET", "http://example.com", []))[0] == b"GET / HTTP/1.1"


def test_request_line_drops_the_fragment_and_uppercases_the_method() -> None:
    assert lines(request_header_block("head", "http://example.com/a#frag", []))[0] == b"HEAD /a HTTP/1.1"


def test_request_target_is_percent_encoded_ascii() -> None:
    block = request_header_block("GET", "http://example.com/ur/خبر?q=ی", [])
    assert lines(block)[0] == b"GET /ur/%D8%AE%D8%A8%D8%B1?q=%DB%8C HTTP/1.1"


def test_host_keeps_port_and_uses_idna() -> None:
    assert lines(request_header_block("GET", "http://127.0.0.1:8080/", []))[1] == b"Host: 127.0.0.1:8080"
    assert lines(request_header_block("GET", "http://bücher.de/", []))[1] == b"Host: xn--bcher-kva.de"


def test_host_sent_by_the_client_is_not_duplicated() -> None:
    block = request_header_block("GET", "http://example.com/", [(b"host", b"example.com")])
    assert [line for line in lines(block) if line.lower().startswith(b"host:")] == [b"host: example.com"]


def test_host_never_carries_userinfo() -> None:
    block = request_header_block("GET", "http://user:s3cret@example.com/x", [])
    assert b"s3cret" not in block
    assert lines(block)[1] == b"Host: example.com"


@pytest.mark.parametrize("url", ["", "/relative?x=1", "ftp://example.com/f", "http:///no-host"])
def test_request_block_refuses_a_url_that_is_not_absolute_http(url: str) -> None:
    with pytest.raises(ValueError):
        request_header_block("GET", url, [])


def test_request_header_injection_is_neutralised() -> None:
    block = request_header_block("GET", "http://example.com/", [(b"X-A", b"1\r\nHost: evil.example")])
    out = lines(block)
    assert out[2] == b"X-A: 1  Host: evil.example"
    assert [line for line in out if line.lower().startswith(b"host:")] == [b"Host: example.com"]


def test_request_block_parses_in_warcio() -> None:
    import io

    block = request_header_block("POST", "http://example.com/f?x=1", [(b"Content-Type", b"text/plain")])
    parsed = StatusAndHeadersParser([], verify=False).parse(io.BytesIO(block))
    assert parsed.protocol == "POST"
    assert parsed.statusline == "/f?x=1 HTTP/1.1"
    assert parsed.get_header("Host") == "example.com"


# --- helpers -----------------------------------------------------------------------------------


def test_header_pairs_flattens_lists_in_order() -> None:
    pairs = header_pairs([("Set-Cookie", [b"a=1", "b=2"]), (b"Vary", b"x"), ("X", "é")])
    assert pairs == [(b"Set-Cookie", b"a=1"), (b"Set-Cookie", b"b=2"), (b"Vary", b"x"), (b"X", b"\xe9")]


def test_response_head_lookup_is_case_insensitive_and_keeps_all_values() -> None:
    h = head((b"Set-Cookie", b"a"), (b"set-cookie", b"b"))
    assert h.get_all(b"SET-COOKIE") == [b"a", b"b"]
    assert h.get(b"set-cookie") == b"a"
    assert h.get(b"missing") is None
