"""Who did what when: (actor, item, time) rows for each kind of shared item.

An item is what two actors can both "post": the same text (co-text), the same
near-duplicate cluster (co-similar), the same claim in any words (co-claim: a claim
cluster of the claims stage), the same link once tracking parameters are removed
(co-link), the same set of hashtags (co-hashtag), or a repost of the same original
(co-repost). The actor is the document's source (account or outlet).
"""

from __future__ import annotations

import re

import pandas as pd

from echoscope.store import Store
from echoscope.urls import canonical_url

__all__ = ["KINDS", "actions", "canonical_url", "canonical_urls"]

KINDS = ("co-text", "co-similar", "co-claim", "co-link", "co-hashtag", "co-repost")
_HASHTAG = re.compile(r"(?<![\w#])#(\w{2,100})")

_BASE = """
    SELECT d.seq, d.source AS actor, epoch(d.published_at) AS t, {item} AS item
    FROM documents d {join}
    WHERE d.source IS NOT NULL AND d.published_at IS NOT NULL {where}
"""


def canonical_urls(urls: pd.Series) -> pd.Series:
    """``canonical_url`` over a column (for stores read before their links were
    canonicalised at ingest; see ``actions``)."""
    return urls.astype(str).map(canonical_url)


def _frame(store: Store, sql: str) -> pd.DataFrame:
    """A query's rows as a DataFrame by way of Arrow: the frame ``.df()`` gives (for a
    non-empty result), but string columns are not built one Python object at a time,
    which is several times faster on a million rows."""
    return store.con.sql(sql).to_arrow_table().to_pandas()


def _stored_links(store: Store, where: str) -> pd.DataFrame | None:
    """Co-link rows from ``canonical_links`` (distinct per document, in first-seen order),
    or None when a selected document has none computed (NULL: it was stored by an older
    echoscope). That test rides on the same scan: such a row yields one NULL item."""
    if not store.has_column("documents", "canonical_links"):
        return None
    sql = _BASE.format(
        item="unnest(coalesce(d.canonical_links, [NULL::VARCHAR]))",
        join="",
        where=where + " AND (d.canonical_links IS NULL OR len(d.canonical_links) > 0)",
    )
    frame = _frame(store, sql)
    return None if frame["item"].isna().any() else frame


def actions(store: Store, kind: str = "co-text", exclude_reposts: bool = False) -> pd.DataFrame:
    """Rows (seq, actor, t in epoch seconds, item) for one kind of item; link and hashtag
    rows also carry a readable ``label`` (texts are read later, only for what is shown).

    Co-link items are the documents' ``canonical_links``, computed once at ingest, so this
    is one DuckDB query. Rows still without them (a store from an older echoscope that
    has not been opened for writing since) are filled and saved first when the store is
    writable; a read-only store is canonicalised in memory instead, with the same
    result, only slower."""
    if kind not in KINDS:
        raise ValueError(f"unknown network type {kind!r}; types: {', '.join(KINDS)}")
    where = ""
    if exclude_reposts and kind != "co-repost":
        where += " AND coalesce(json_extract_string(d.metadata, '$.is_repost'), 'false') <> 'true'"
    con = store.con
    if kind == "co-text":
        sql = _BASE.format(item="d.content_hash", join="", where=where + " AND length(d.text) > 0")
        return _frame(store, sql)
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
        frame = _stored_links(store, where)
        if frame is None and not store.read_only:
            store.fill_canonical_links()
            frame = _stored_links(store, where)
        if frame is None:  # an older store opened read-only: the same items, made here
            sql = _BASE.format(
                item="unnest(d.links)", join="", where=where + " AND len(d.links) > 0"
            )
            frame = _frame(store, sql).dropna(subset=["item"])
            frame["item"] = canonical_urls(frame["item"])
            frame = frame.drop_duplicates(["seq", "item"]).reset_index(drop=True)
        frame["label"] = frame["item"]
        return frame
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
