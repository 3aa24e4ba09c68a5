"""Propagation trees: for every member of a reuse cluster, its most likely parent.

A parent must be able to precede its child given both timestamps and their precision
(``trace.time``). Among the linked documents that can, the parent is the one that
explains most of the child's text (share of the child aligned with it, times identity);
near-ties go to the earliest, the likeliest original. When the times cannot order two
documents (same day, missing dates), the text decides with lower confidence: a copy is
mostly made of the shared passage, its source usually is not. Each edge carries its
confidence, the time relation, the alternatives, and whether the child credits the
parent (``trace.attribution``). Members left without a parent are the roots: the first
appearances.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from echoscope.store import Store
from echoscope.trace.attribution import best_credit, find_credits, is_attributed
from echoscope.trace.time import latest_series

NEAR_TIE = 0.05  # scores within this of the best count as a tie
MIN_MATCHED = 12  # words a link must align to make a parent, unless it covers ...
MIN_COVERAGE = 0.2  # ... this share of the child (a copied short post)
BASE = {"before": 0.95, "overlap": 0.55, "tie": 0.3, "unknown": 0.35}
TEXT_MARGIN = 0.15  # coverage difference needed to orient a pair by text alone


@dataclass
class CascadeSummary:
    clusters: int = 0
    edges: int = 0
    roots: int = 0
    attributed: int = 0
    unattributed: int = 0
    low_confidence: int = 0
    seconds: float = 0.0
    relations: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def run_cascades(store: Store, aliases: dict[str, tuple[str, ...]] | None = None) -> CascadeSummary:
    """Rebuild every propagation tree from the current reuse clusters and links."""
    started = time.perf_counter()
    con = store.con
    summary = CascadeSummary()
    members = con.execute("SELECT DISTINCT cluster_id, seq FROM reuse_clusters").df()
    links = con.execute(
        "SELECT link_id, seq_a, seq_b, kind, coverage_a, coverage_b, identity, "
        "coalesce(matched, 1000000) AS matched FROM reuse_links WHERE NOT boilerplate"
    ).df()
    con.execute("DELETE FROM cascade_edges")
    if members.empty:
        return summary
    docs = (
        con.execute(
            "SELECT d.seq, d.id, d.source, d.url, d.published_at, d.time_precision, d.text, d.links "
            "FROM documents d WHERE d.seq IN (SELECT seq FROM reuse_clusters)"
        )
        .df()
        .set_index("seq")
    )
    docs["latest"] = latest_series(docs["published_at"], docs["time_precision"]).to_numpy()
    docs["earliest"] = pd.to_datetime(docs["published_at"], errors="coerce").astype(
        "datetime64[ns]"
    )
    passages = con.execute(
        "SELECT p.link_id, p.seq_a, p.a_begin, p.a_end, p.seq_b, p.b_begin, p.b_end FROM reuse_passages p"
    ).df()
    # Both directions of every link, with the child's coverage as the parent's strength.
    both = pd.concat(
        [
            links.rename(
                columns={
                    "seq_a": "parent",
                    "seq_b": "child",
                    "coverage_a": "cov_parent",
                    "coverage_b": "cov_child",
                }
            ),
            links.rename(
                columns={
                    "seq_b": "parent",
                    "seq_a": "child",
                    "coverage_b": "cov_parent",
                    "coverage_a": "cov_child",
                }
            ),
        ],
        ignore_index=True,
    )
    by_child = {c: g for c, g in both.groupby("child")}
    rows: list[tuple] = []
    for cluster_id, group in members.groupby("cluster_id"):
        summary.clusters += 1
        in_cluster = set(group["seq"].tolist())
        for child in group["seq"].unique():
            cands = by_child.get(child)
            if cands is not None:
                # a document may sit in several clusters: only parents from this one
                cands = cands[cands["parent"].isin(in_cluster)]
                if cands.empty:
                    cands = None
            edge = _choose_parent(child, cands, docs) if cands is not None else None
            if edge is None:
                rows.append(
                    (
                        int(cluster_id),
                        int(child),
                        None,
                        None,
                        None,
                        None,
                        None,
                        None,
                        None,
                        None,
                        None,
                        None,
                    )
                )
                summary.roots += 1
                continue
            parent, confidence, relation, strength, evidence = edge
            credits = _credits(child, parent, docs, passages, aliases or {})
            attributed = is_attributed(credits)
            best = best_credit(credits)
            evidence["credits"] = [
                {
                    "kind": c.kind,
                    "begin": c.begin,
                    "end": c.end,
                    "text": c.text,
                    "credited": c.credited,
                    "names_parent": c.names_parent,
                }
                for c in credits[:20]
            ]
            rows.append(
                (
                    int(cluster_id),
                    int(child),
                    int(parent),
                    round(confidence, 3),
                    relation,
                    round(strength, 4),
                    attributed,
                    best.kind if best and best.names_parent else None,
                    best.begin if best and best.names_parent else None,
                    best.end if best and best.names_parent else None,
                    best.text[:300] if best and best.names_parent else None,
                    json.dumps(evidence, default=str),
                )
            )
            summary.edges += 1
            summary.attributed += int(attributed)
            summary.unattributed += int(not attributed)
            summary.low_confidence += int(confidence < 0.5)
            summary.relations[relation] = summary.relations.get(relation, 0) + 1
    frame = pd.DataFrame(
        rows,
        columns=[
            "cluster_id",
            "child_seq",
            "parent_seq",
            "confidence",
            "time_relation",
            "strength",
            "attributed",
            "credit_kind",
            "credit_begin",
            "credit_end",
            "credit_text",
            "evidence",
        ],
    )
    con.register("_e", frame)
    try:
        con.execute("INSERT INTO cascade_edges SELECT * FROM _e")
    finally:
        con.unregister("_e")
    summary.seconds = round(time.perf_counter() - started, 2)
    return summary


def _relation(parent: pd.Series, child: pd.Series) -> str:
    """before: the parent certainly ended before the child began; after: the reverse;
    overlap: their time bounds overlap; unknown: a time is missing."""
    if (
        pd.isna(parent["earliest"])
        or pd.isna(child["earliest"])
        or pd.isna(parent["latest"])
        or pd.isna(child["latest"])
    ):
        return "unknown"
    if parent["latest"] <= child["earliest"]:
        return "before"
    if child["latest"] <= parent["earliest"]:
        return "after"
    return "overlap"


def _choose_parent(child: int, cands: pd.DataFrame, docs: pd.DataFrame):
    crow = docs.loc[child]
    scored = []
    for row in cands.itertuples():
        prow = docs.loc[row.parent]
        relation = _relation(prow, crow)
        if relation == "after":
            continue
        if row.matched < MIN_MATCHED and float(row.cov_child) < MIN_COVERAGE:
            continue  # a stock phrase ("told the court that") is not a source
        strength = float(row.cov_child) * float(row.identity or 1.0)
        if relation in ("overlap", "unknown"):
            # Times cannot order them: the copy is the one mostly made of the shared text.
            diff = float(row.cov_child) - float(row.cov_parent)
            if diff <= -TEXT_MARGIN:
                continue  # the candidate looks like the copy
            if diff < TEXT_MARGIN:
                # No direction in the text either (identical posts): take the earlier point
                # time, or the earlier ingested, and say that the evidence is weak.
                pt, ct = prow["earliest"], crow["earliest"]
                earlier = (
                    (pt < ct) if pd.notna(pt) and pd.notna(ct) and pt != ct else row.parent < child
                )
                if not earlier:
                    continue
                relation = "tie"
        gap = (
            (crow["earliest"] - prow["earliest"]).total_seconds()
            if pd.notna(crow["earliest"]) and pd.notna(prow["earliest"])
            else None
        )
        scored.append((strength, relation, int(row.parent), gap, row))
    if not scored:
        return None
    # Certain time order first: a document known to be earlier that shares real text is a
    # better claim than a same-day sibling that may itself be a copy of the same source.
    rank = {"before": 0, "overlap": 1, "tie": 2, "unknown": 3}
    best_rank = min(rank[rel] for _, rel, *_ in scored)
    scored_best = [s for s in scored if rank[s[1]] == best_rank]
    best_strength = max(s[0] for s in scored_best)
    tied = [s for s in scored_best if s[0] >= best_strength - NEAR_TIE]
    # Among near-ties prefer the earliest document, the likeliest original.
    tied.sort(
        key=lambda s: (
            rank[s[1]],
            docs.loc[s[2]]["earliest"]
            if pd.notna(docs.loc[s[2]]["earliest"])
            else pd.Timestamp.max,
            s[2],
        )
    )
    strength, relation, parent, gap, row = tied[0]
    base = BASE[relation]
    confidence = base * (0.5 + 0.5 * min(1.0, strength)) * (1.0 if len(tied) == 1 else 0.8)
    alternatives = sorted(
        (
            {"seq": s[2], "strength": round(s[0], 4), "relation": s[1]}
            for s in scored
            if s[2] != parent
        ),
        key=lambda a: -a["strength"],
    )[:5]
    evidence = {
        "link_id": int(row.link_id),
        "link_kind": row.kind,
        "coverage_child": float(row.cov_child),
        "coverage_parent": float(row.cov_parent),
        "identity": float(row.identity) if row.identity == row.identity else None,
        "gap_seconds": gap,
        "alternatives": alternatives,
    }
    return parent, confidence, relation, strength, evidence


def _credits(
    child: int,
    parent: int,
    docs: pd.DataFrame,
    passages: pd.DataFrame,
    aliases: dict[str, tuple[str, ...]],
):
    crow, prow = docs.loc[child], docs.loc[parent]
    spans = []
    if len(passages):
        a = passages[(passages["seq_a"] == parent) & (passages["seq_b"] == child)]
        b = passages[(passages["seq_b"] == parent) & (passages["seq_a"] == child)]
        spans = list(zip(a["b_begin"], a["b_end"], strict=True)) + list(
            zip(b["a_begin"], b["a_end"], strict=True)
        )
    links = crow["links"] if isinstance(crow["links"], list | np.ndarray) else []
    source = prow["source"] if isinstance(prow["source"], str) else None
    return find_credits(
        crow["text"] if isinstance(crow["text"], str) else "",
        [str(x) for x in links],
        parent_source=source,
        parent_url=prow["url"] if isinstance(prow["url"], str) else None,
        parent_aliases=aliases.get(source or "", ()),
        quoted_spans=spans,
        own_source=crow["source"] if isinstance(crow["source"], str) else None,
        own_aliases=aliases.get(crow["source"], ()) if isinstance(crow["source"], str) else (),
    )


def origins(store: Store, limit: int = 50) -> pd.DataFrame:
    """One row per cluster: first appearance, spread, and how many copies gave credit."""
    return store.con.execute(
        """
        WITH m AS (
            SELECT e.cluster_id, e.child_seq, e.parent_seq, e.attributed, d.id, d.source, d.published_at
            FROM cascade_edges e JOIN documents d ON d.seq = e.child_seq
        ),
        roots AS (
            SELECT cluster_id, arg_min(id, coalesce(published_at, TIMESTAMP '9999-01-01')) AS first_doc,
                   arg_min(source, coalesce(published_at, TIMESTAMP '9999-01-01')) AS first_source,
                   min(published_at) AS first_published, count(*) AS roots
            FROM m WHERE parent_seq IS NULL GROUP BY cluster_id
        )
        SELECT m.cluster_id, r.first_doc, r.first_source, r.first_published,
               count(*) AS documents, count(DISTINCT m.source) AS sources,
               max(m.published_at) - min(m.published_at) AS spread,
               count(*) FILTER (WHERE m.parent_seq IS NOT NULL) AS copies,
               count(*) FILTER (WHERE m.parent_seq IS NOT NULL AND NOT m.attributed) AS unattributed,
               r.roots
        FROM m JOIN roots r USING (cluster_id)
        GROUP BY m.cluster_id, r.first_doc, r.first_source, r.first_published, r.roots
        ORDER BY documents DESC, m.cluster_id
        LIMIT ?
        """,
        [limit],
    ).df()


def tree(store: Store, cluster_id: int) -> pd.DataFrame:
    """Every member of a cluster with its parent and the evidence, in time order."""
    return store.con.execute(
        """
        SELECT c.seq AS seq, c.id AS doc, c.source, c.published_at, c.time_precision,
               p.seq AS parent_seq, p.id AS parent, p.source AS parent_source,
               e.confidence, e.time_relation, e.strength, e.attributed,
               e.credit_kind, e.credit_text, e.evidence
        FROM cascade_edges e
        JOIN documents c ON c.seq = e.child_seq
        LEFT JOIN documents p ON p.seq = e.parent_seq
        WHERE e.cluster_id = ?
        ORDER BY c.published_at NULLS LAST, c.seq
        """,
        [int(cluster_id)],
    ).df()


def source_stats(store: Store) -> pd.DataFrame:
    """Per source: how often it originates, copies, and credits what it copies."""
    return store.con.execute(
        """
        SELECT d.source,
               count(*) FILTER (WHERE e.parent_seq IS NULL) AS originated,
               count(*) FILTER (WHERE e.parent_seq IS NOT NULL) AS copied,
               count(*) FILTER (WHERE e.parent_seq IS NOT NULL AND e.attributed) AS credited,
               count(*) FILTER (WHERE e.parent_seq IS NOT NULL AND NOT e.attributed) AS uncredited
        FROM cascade_edges e JOIN documents d ON d.seq = e.child_seq
        GROUP BY d.source ORDER BY uncredited DESC, copied DESC
        """
    ).df()
