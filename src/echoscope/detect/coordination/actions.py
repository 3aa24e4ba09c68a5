"""Who did what when: (actor, item, time) rows for each kind of shared item.

An item is what two actors can both "post": the same text (co-text), the same
near-duplicate cluster (co-similar), the same link once tracking parameters are removed
(co-link), the same set of hashtags (co-hashtag), or a repost of the same original
(co-repost). The actor is the document's source (account or outlet).
"""

from __future__ import annotations

import re

import pandas as pd

from echoscope.store import Store

KINDS = ("co-text", "co-similar", "co-link", "co-hashtag", "co-repost")
_TRACKING = re.compile(
    r"(?i)([?&])(utm_[a-z]+|fbclid|gclid|mc_cid|mc_eid|igshid|ref_src|s|t|si)=[^&#]*"
)
_HASHTAG = re.compile(r"(?<![\w#])#(\w{2,100})")
SHORTENERS = frozenset(
    {
        "t.co",
        "bit.ly",
        "goo.gl",
        "ow.ly",
        "tinyurl.com",
        "buff.ly",
        "dlvr.it",
        "ift.tt",
        "is.gd",
        "fb.me",
        "youtu.be",
    }
)

_BASE = """
    SELECT d.seq, d.source AS actor, epoch(d.published_at) AS t, {item} AS item,
           substr(d.text, 1, 160) AS label
    FROM documents d {join}
    WHERE d.source IS NOT NULL AND d.published_at IS NOT NULL {where}
"""


def canonical_url(url: str) -> str:
    """Scheme, 'www.', fragment, trailing slash and tracking parameters removed; host lower-cased."""
    url = url.strip()
    url = re.sub(r"#.*$", "", url)
    url = _TRACKING.sub(r"\1", url)
    url = re.sub(r"[?&]+$", "", url.replace("?&", "?"))
    m = re.match(r"(?i)^[a-z][a-z0-9+.-]*://(?:www\.)?([^/?#]+)(.*)$", url)
    if not m:
        return url.lower()
    host, rest = m.group(1).lower(), m.group(2)
    return host + (rest.rstrip("/") if rest not in ("", "/") else "")


def actions(store: Store, kind: str = "co-text", exclude_reposts: bool = False) -> pd.DataFrame:
    """Rows (seq, actor, t in epoch seconds, item, label) for one kind of item; the label
    is what a person reads (an excerpt of the text, the URL, the hashtags)."""
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
    if kind == "co-repost":
        sql = _BASE.format(
            item="d.parent_id", join="", where=where + " AND d.parent_id IS NOT NULL"
        )
        return con.execute(sql).df()
    if kind == "co-link":
        sql = _BASE.format(item="unnest(d.links)", join="", where=where + " AND len(d.links) > 0")
        frame = con.execute(sql).df()
        frame["item"] = frame["item"].map(canonical_url)
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
