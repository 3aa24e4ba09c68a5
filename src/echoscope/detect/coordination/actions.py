"""Who did what when: (actor, item, time) rows for each kind of shared item.

An item is what two actors can both "post": the same text (co-text), the same
near-duplicate cluster (co-similar), the same claim in any words (co-claim: a claim
cluster of the claims stage), the same link once tracking parameters are removed
(co-link), the same set of hashtags (co-hashtag), or a repost of the same original
(co-repost). The actor is the document's source (account or outlet).
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit

import pandas as pd

from echoscope.store import Store

KINDS = ("co-text", "co-similar", "co-claim", "co-link", "co-hashtag", "co-repost")
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
_HASHTAG = re.compile(r"(?<![\w#])#(\w{2,100})")

_BASE = """
    SELECT d.seq, d.source AS actor, epoch(d.published_at) AS t, {item} AS item
    FROM documents d {join}
    WHERE d.source IS NOT NULL AND d.published_at IS NOT NULL {where}
"""


def canonical_url(url: str) -> str:
    """The same page written differently gets one form: host lower-cased without 'www.',
    scheme, trailing slash and fragment dropped (a '#!' route is kept), and tracking
    parameters (utm_*, fbclid, gclid...) removed; other parameters kept in order."""
    url = url.strip()
    parts = urlsplit(url if "://" in url else "http://" + url)
    host = (parts.hostname or "").lower().removeprefix("www.")
    if parts.port and parts.port not in (80, 443):
        host += f":{parts.port}"
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


def canonical_urls(urls: pd.Series) -> pd.Series:
    """``canonical_url`` over a column: URLs without a query or fragment (nearly all) are
    handled with vectorised string operations, the rest one by one."""
    urls = urls.astype(str).str.strip()
    out = pd.Series(index=urls.index, dtype=object)
    simple = ~urls.str.contains(r"[?#@]|://\[", regex=True)
    parts = urls[simple].str.extract(r"^(?:[A-Za-z][A-Za-z0-9+.-]*://)?([^/]*)(.*)$")
    host = (
        parts[0]
        .str.lower()
        .str.replace(r"^www\.", "", regex=True)
        .str.replace(r":(80|443)$", "", regex=True)
    )
    out[simple] = host + parts[1].str.rstrip("/")
    out[~simple] = urls[~simple].map(canonical_url)
    return out


def _is_tracking(key: str) -> bool:
    key = key.lower()
    return key.startswith("utm_") or key in _TRACKING_KEYS


def actions(store: Store, kind: str = "co-text", exclude_reposts: bool = False) -> pd.DataFrame:
    """Rows (seq, actor, t in epoch seconds, item) for one kind of item; link and hashtag
    rows also carry a readable ``label`` (texts are read later, only for what is shown)."""
    if kind not in KINDS:
        raise ValueError(f"unknown network type {kind!r}; types: {', '.join(KINDS)}")
    where = ""
    if exclude_reposts and kind != "co-repost":
        where += " AND coalesce(json_extract_string(d.metadata, '$.is_repost'), 'false') <> 'true'"
    con = store.con
    if kind == "co-text":
        sql = _BASE.format(item="d.content_hash", join="", where=where + " AND length(d.text) > 0")
        return con.execute(sql).df()
    if kind == "co-similar":
        sql = _BASE.format(
            item="CAST(c.cluster_id AS VARCHAR)",
            join="JOIN (SELECT DISTINCT seq, cluster_id FROM reuse_clusters) c ON c.seq = d.seq",
            where=where,
        )
        return con.execute(sql).df()
    if kind == "co-claim":
        if not con.execute("SELECT count(*) FROM claim_clusters").fetchall()[0][0]:
            raise ValueError("no claim clusters yet: run `echoscope analyze --stage claims` first")
        sql = _BASE.format(
            item="CAST(c.cluster_id AS VARCHAR)",
            join="JOIN (SELECT DISTINCT s.seq, k.cluster_id FROM claim_sentences s "
            "JOIN claim_clusters k ON k.row = s.row) c ON c.seq = d.seq",
            where=where,
        )
        frame = con.execute(sql).df()
        # a cluster is named by its first sentence, which is also its readable label
        labels = dict(
            con.execute(
                "SELECT CAST(k.cluster_id AS VARCHAR), t.text FROM "
                "(SELECT DISTINCT cluster_id FROM claim_clusters) k "
                "JOIN claim_texts t ON t.row = k.cluster_id"
            ).fetchall()
        )
        frame["label"] = frame["item"].map(labels)
        return frame
    if kind == "co-repost":
        sql = _BASE.format(
            item="d.parent_id", join="", where=where + " AND d.parent_id IS NOT NULL"
        )
        return con.execute(sql).df()
    if kind == "co-link":
        sql = _BASE.format(item="unnest(d.links)", join="", where=where + " AND len(d.links) > 0")
        frame = con.execute(sql).df()
        frame["item"] = canonical_urls(frame["item"])
        frame["label"] = frame["item"]
        return frame.drop_duplicates(["seq", "item"]).reset_index(drop=True)
    # co-hashtag: the set of hashtags of a post, from its metadata or its text
    frame = con.execute(
        _BASE.format(item="d.text", join="", where=where).replace(
            "AS item", "AS item, json_extract(d.metadata, '$.hashtags') AS tags"
        )
    ).df()

    def tagset(row) -> str | None:
        tags = {t.lower() for t in _HASHTAG.findall(row["item"] or "")}
        if isinstance(row["tags"], str) and row["tags"].startswith("["):
            tags |= {
                t.strip('" ').lower() for t in row["tags"].strip("[]").split(",") if t.strip('" ')
            }
        return " ".join(sorted(tags)) if tags else None

    frame["item"] = frame.apply(tagset, axis=1)
    frame["label"] = frame["item"]
    return frame.dropna(subset=["item"])[["seq", "actor", "t", "item", "label"]].reset_index(
        drop=True
    )
