"""One written form per web page, so links written differently can be compared.

It lives outside ``ingest`` and ``detect`` because both use it: the store canonicalises
each document's links once when the document is written (``documents.canonical_links``)
and co-link networks read that column, so the two can never disagree.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from urllib.parse import parse_qsl, urlencode, urlsplit

_TRACKING_KEYS = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "msclkid",
        "mc_cid",
        "mc_eid",
        "igshid",
        "ref_src",
        "yclid",
        "_hsenc",
        "_hsmi",
    }
)


# The common case (http(s), plain host, path without query, fragment, port or userinfo)
# by string operations: the same result as the parsed path below (a test checks), faster,
# which matters because every link of every document goes through here at ingest.
_PLAIN_URL = re.compile(r"(?:[Hh][Tt][Tt][Pp][Ss]?://)?([A-Za-z0-9.-]+)(/[^?#@\[\]\s:]*)?")


def canonical_url(url: str) -> str:
    """The same page written differently gets one form: host lower-cased without 'www.',
    scheme, trailing slash and fragment dropped (a '#!' route is kept), and tracking
    parameters (utm_*, fbclid, gclid...) removed; other parameters kept in order.

    Never raises, since it runs on every link at ingest: a port that is not a number is
    kept as written, and a URL that cannot be split at all (a broken IPv6 host) is kept
    whole, stripped, so it matches only itself."""
    url = url.strip()
    plain = _PLAIN_URL.fullmatch(url)
    if plain:
        return plain[1].lower().removeprefix("www.") + (plain[2] or "").rstrip("/")
    return _canonical_parsed(url)


def _canonical_parsed(url: str) -> str:
    """``canonical_url`` by ``urllib.parse``, for any URL (``url`` already stripped)."""
    try:
        parts = urlsplit(url if "://" in url else "http://" + url)
    except ValueError:
        return url
    host = (parts.hostname or "").lower().removeprefix("www.")
    try:
        port = parts.port
    except ValueError:  # "ex.com:abc", "ex.com:99999"
        host += ":" + parts.netloc.rpartition(":")[2].lower()
    else:
        if port and port not in (80, 443):
            host += f":{port}"
    query = [
        (k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _is_tracking(k)
    ]
    path = parts.path.rstrip("/")
    out = host + path
    if query:
        out += "?" + urlencode(query)
    if parts.fragment.startswith("!"):
        out += "#" + parts.fragment
    return out


def canonical_links(links: Sequence[str | None] | None) -> list[str]:
    """A document's co-link items: the canonical form of each link, each once, in the
    order first seen; [] when it has none."""
    if not links:  # most documents: called for every one at ingest, so kept cheap
        return []
    if len(links) == 1:
        return [] if links[0] is None else [canonical_url(links[0])]
    return list(dict.fromkeys(canonical_url(u) for u in links if u is not None))


def _is_tracking(key: str) -> bool:
    key = key.lower()
    return key.startswith("utm_") or key in _TRACKING_KEYS
