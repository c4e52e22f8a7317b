"""What a revisit record's HTTP block must contain for pywb 2.10 to replay 200 + the original payload.

pywb (``ResolvingLoader``) takes the *status line and headers from the revisit* and the payload
bytes from the original record; only an empty block makes it fall back to the original's
headers. Nothing reconciles the two, so the block has to describe the stored payload: same
Content-Encoding, same Content-Length (or none). Each variant of
:data:`replay_fixtures.REVISIT_VARIANTS` is fetched three ways — ``id_`` without
Accept-Encoding (pywb decodes), ``id_`` with ``Accept-Encoding: gzip`` (what browsers send;
pywb passes the stored bytes through under the revisit's headers), and ``mp_`` (rewritten
page) — and the observed outcome is pinned here and written to
``test-artifacts/revisit-matrix-pywb.json``.
"""

from __future__ import annotations

import gzip
import json
import zlib

import pytest
from http_get import Reply, get
from replay_fixtures import ARTIFACTS, HOST, REVISIT_VARIANTS

pytestmark = pytest.mark.replay

OK = "ok"
# variant -> (id_ without Accept-Encoding, id_ with Accept-Encoding: gzip, mp_ shows the text)
EXPECTED: dict[str, tuple[str, str, bool]] = {
    # safe: the block describes the stored payload (or is empty)
    "new-200": (OK, OK, True),
    "empty": (OK, OK, True),
    "nm-orig-200": (OK, OK, True),
    "nm-empty": (OK, OK, True),
    "no-length": (OK, OK, True),
    # broken: the 304 status line is replayed as is, with no body
    "nm-304": ("status 304", "status 304", False),
    # broken for browsers: Content-Length of the *new* gzip stream, stored bytes are shorter
    "recompressed": (OK, "short body", True),
    # broken everywhere: stored gzip bytes served as identity under the decoded length
    "now-identity": ("short body", "short body", False),
    # broken for browsers: identity bytes labelled Content-Encoding: gzip
    "now-gzip": (OK, "undecodable gzip", True),
}
_observed: dict[str, dict[str, object]] = {}


def _classify(reply: Reply, expected: bytes) -> str:
    if reply.status != 200:
        return f"status {reply.status}"
    if not reply.complete:
        return "short body"
    body = reply.body
    if reply.header("Content-Encoding") == "gzip":
        try:
            body = gzip.decompress(body)
        except (OSError, EOFError, zlib.error):
            return "undecodable gzip"
    return OK if body == expected else "wrong body"


def test_every_variant_has_an_expectation() -> None:
    assert set(EXPECTED) == set(REVISIT_VARIANTS)


@pytest.mark.parametrize("variant", list(REVISIT_VARIANTS))
def test_revisit_block_variant(wayback, fixture_archive, variant: str) -> None:
    url = f"{HOST}/exp/{variant}.html"
    (revisit,) = fixture_archive.find(url, "revisit")
    base = f"{wayback.collection_url}{revisit.timestamp}"
    plain = get(f"{base}id_/{url}")
    gz = get(f"{base}id_/{url}", accept_encoding="gzip")
    mp = get(f"{base}mp_/{url}", accept_encoding="gzip")
    marker = f"Revisit experiment {variant}".encode()
    observed = (
        _classify(plain, revisit.identity_body),
        _classify(gz, revisit.identity_body),
        mp.status == 200 and marker in mp.body,
    )
    orig_in, (orig_gzip, profile, block) = variant, REVISIT_VARIANTS[variant]
    _observed[orig_in] = {
        "original_stored_gzip": orig_gzip,
        "profile": profile.rsplit("/", 1)[-1],
        "block": block,
        "id_ (no Accept-Encoding)": observed[0],
        "id_ (Accept-Encoding: gzip)": observed[1],
        "mp_ shows text": observed[2],
        "mp_ status": mp.status,
        "id_ headers": {
            k: v
            for k, v in gz.headers.items()
            if k in ("content-encoding", "content-length", "transfer-encoding")
            or k.startswith("x-archive-orig-content")
        },
    }
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "revisit-matrix-pywb.json").write_text(json.dumps(_observed, indent=1), encoding="utf-8")
    assert observed == EXPECTED[variant]
