"""URL canonicalisation: one article, one URL, one fetch per run.

News sites decorate links with tracking parameters (``utm_*``, ``fbclid``...), fragments
(``#comments``) and sometimes session ids; each variant would otherwise be fetched and
archived again. The canonical form keeps everything that can change the page and drops
what cannot.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from w3lib.url import canonicalize_url, safe_url_string

# Parameters that only track the visitor; removing them never changes the page served.
TRACKING_PARAMS = re.compile(
    r"^(utm_[a-z_]+|fbclid|gclid|dclid|gbraid|wbraid|msclkid|mc_cid|mc_eid|yclid|igshid"
    r"|_hsenc|_hsmi|mkt_tok|ref_src|cmpid|ocid|__twitter_impression|s_cid)$",
    re.IGNORECASE,
)
# Session identifiers in the query string make every visit a new URL (a classic crawler trap).
SESSION_PARAMS = re.compile(r"^(jsessionid|phpsessid|sid|sessionid|aspsessionid\w*)$", re.I)
_PATH_SESSION = re.compile(r";(jsessionid|phpsessid|sid)=[^/?#]*", re.IGNORECASE)

ALLOWED_SCHEMES = ("http", "https")


def canonical_url(url: str) -> str:
    """Canonical form used for de-duplication, state keys and request URLs.

    Raises ``ValueError`` for URLs that are not absolute http(s) URLs with a host.
    """
    safe = safe_url_string(url.strip(), encoding="utf-8")
    parts = urlsplit(safe)
    scheme = parts.scheme.lower()
    if scheme not in ALLOWED_SCHEMES:
        raise ValueError(f"not an http(s) URL: {url!r}")
    if not parts.hostname:
        raise ValueError(f"URL has no host: {url!r}")
    path = _PATH_SESSION.sub("", parts.path) or "/"
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not TRACKING_PARAMS.match(k) and not SESSION_PARAMS.match(k)
    ]
    netloc = parts.netloc.lower()
    if (scheme == "http" and netloc.endswith(":80")) or (scheme == "https" and netloc.endswith(":443")):
        netloc = netloc.rsplit(":", 1)[0]
    rebuilt = urlunsplit((scheme, netloc, path, urlencode(query), ""))
    # w3lib sorts the query and normalises percent-encoding the way Scrapy's fingerprinter does.
    return canonicalize_url(rebuilt, keep_fragments=False)
