"""Reuse clusters: passages that are copies of each other, across documents.

Each document's reused passages are merged into regions (overlapping spans become one);
an aligned passage links a region of one document to a region of another; a cluster is a
connected set of regions, like passim's. Text a source repeats in many of its own
documents (a masthead, a sign-off) is boilerplate: its links are marked and kept out.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

BOILERPLATE_MIN_DOCS = 3
BOILERPLATE_MAX_COVERAGE = 0.5


def _regions(spans: pd.DataFrame) -> pd.DataFrame:
    """Merge overlapping (seq, begin, end) spans; return spans with a region id column."""
    spans = spans.sort_values(["seq", "begin", "end"]).reset_index(drop=True)
    if spans.empty:
        spans["region"] = np.zeros(0, dtype=np.int64)
        return spans
    # A span opens a new region when it starts a document or begins after every earlier
    # span of that document has ended (running maximum of the ends so far).
    prev_end = spans.groupby("seq")["end"].cummax().groupby(spans["seq"]).shift()
    new_region = prev_end.isna().to_numpy() | (
        spans["begin"].to_numpy() >= prev_end.fillna(-1).to_numpy()
    )
    spans["region"] = np.cumsum(new_region) - 1
    return spans


def boilerplate_candidates(links: pd.DataFrame, sources: dict[int, str | None]) -> np.ndarray:
    """Same-source links that reuse only a small part of each document."""
    if links.empty:
        return np.zeros(0, dtype=bool)
    src_a = links["seq_a"].map(sources)
    src_b = links["seq_b"].map(sources)
    small = (links["coverage_a"] < BOILERPLATE_MAX_COVERAGE) & (
        links["coverage_b"] < BOILERPLATE_MAX_COVERAGE
    )
    return ((src_a == src_b) & src_a.notna() & small).to_numpy()


def find_boilerplate(
    links: pd.DataFrame, sources: dict[int, str | None], passage_keys: pd.DataFrame
) -> np.ndarray:
    """Boolean per link: a same-source link whose every passage is text the source repeats
    in at least BOILERPLATE_MIN_DOCS of its documents (a masthead, a sign-off).

    ``passage_keys`` has link_id and key (the passage's normalised opening words); a
    genuinely quoted paragraph shared by two documents of a source is not boilerplate even
    if the same documents also share a masthead.
    """
    cand = boilerplate_candidates(links, sources)
    out = np.zeros(len(links), dtype=bool)
    if not cand.any() or passage_keys.empty:
        return out
    sub = links[cand][["link_id", "seq_a", "seq_b"]]
    keyed = passage_keys.merge(sub, on="link_id")
    keyed["source"] = keyed["seq_a"].map(sources)
    docs = pd.concat(
        [
            keyed[["source", "key", "seq_a"]].rename(columns={"seq_a": "seq"}),
            keyed[["source", "key", "seq_b"]].rename(columns={"seq_b": "seq"}),
        ]
    )
    spread = docs.drop_duplicates().groupby(["source", "key"]).size().rename("docs").reset_index()
    keyed = keyed.merge(spread, on=["source", "key"])
    repeated = (
        keyed.assign(rep=keyed["docs"] >= BOILERPLATE_MIN_DOCS).groupby("link_id")["rep"].all()
    )
    flagged = set(repeated[repeated].index)
    out[links["link_id"].isin(flagged).to_numpy()] = True
    return out


def build_clusters(passages: pd.DataFrame) -> pd.DataFrame:
    """passages: link_id, seq_a, a_begin, a_end, seq_b, b_begin, b_end (non-boilerplate).
    Returns members: cluster_id, seq, begin, end (one row per region)."""
    if passages.empty:
        return pd.DataFrame(columns=["cluster_id", "seq", "begin", "end"])
    n = len(passages)
    spans = pd.DataFrame(
        {
            "seq": np.concatenate([passages["seq_a"].to_numpy(), passages["seq_b"].to_numpy()]),
            "begin": np.concatenate(
                [passages["a_begin"].to_numpy(), passages["b_begin"].to_numpy()]
            ),
            "end": np.concatenate([passages["a_end"].to_numpy(), passages["b_end"].to_numpy()]),
            "edge": np.concatenate([np.arange(n), np.arange(n)]),
            "side": np.concatenate([np.zeros(n, dtype=np.int8), np.ones(n, dtype=np.int8)]),
        }
    )
    spans = _regions(spans)
    by_edge = spans.sort_values(["edge", "side"])
    ra = by_edge[by_edge["side"] == 0]["region"].to_numpy()
    rb = by_edge[by_edge["side"] == 1]["region"].to_numpy()
    n_regions = int(spans["region"].max()) + 1
    graph = coo_matrix((np.ones(len(ra)), (ra, rb)), shape=(n_regions, n_regions))
    _, labels = connected_components(graph, directed=False)
    regions = spans.groupby("region").agg(
        seq=("seq", "first"), begin=("begin", "min"), end=("end", "max")
    )
    regions["cluster"] = labels[regions.index.to_numpy()]
    # Number clusters by size (largest first), then by first member, for stable ids.
    sizes = regions.groupby("cluster")["seq"].transform("size")
    regions = regions.assign(size=sizes).sort_values(
        ["size", "cluster", "seq", "begin"], ascending=[False, True, True, True]
    )
    order = pd.unique(regions["cluster"])
    remap = {c: i + 1 for i, c in enumerate(order)}
    regions["cluster_id"] = regions["cluster"].map(remap)
    return regions[["cluster_id", "seq", "begin", "end"]].reset_index(drop=True)
