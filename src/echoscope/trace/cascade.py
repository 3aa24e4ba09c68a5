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

from echoscope.ingest.language import normalize_language
from echoscope.store import Store
from echoscope.trace.attribution import (
    agency_of,
    best_credit,
    find_credits,
    is_attributed,
    names_source,
)
from echoscope.trace.time import latest_series

NEAR_TIE = 0.05  # scores within this of the best count as a tie
MIN_MATCHED = 12  # words a link must align to make a parent, unless it covers ...
MIN_COVERAGE = 0.2  # ... this share of the child (a copied short post)
BASE = {"before": 0.95, "overlap": 0.55, "tie": 0.3, "unknown": 0.35}
# how each time relation reads in the CLI and the report
RELATION_WORDS = {
    "before": "published before it",
    "overlap": "times overlap; the text orders them",
    "tie": "same time, and the text gives no order",
    "unknown": "a date is missing",
}


def relation_words(relation: object) -> str:
    return RELATION_WORDS.get(str(relation), str(relation))


def when_text(value: object) -> str:
    """A publication time as the CLI and the report show it (to the minute), or that there
    is none (None, NaN and NaT alike)."""
    if value is None or value != value or str(value) in ("NaT", "nan", "None"):
        return "date unknown"
    return str(value)[:16]


def _twin(row) -> int | None:
    """The identical copy whose link a candidate row inherited (``_with_identical``)."""
    via = getattr(row, "via", None)
    return None if via is None or via != via else int(via)


TEXT_MARGIN = 0.15  # coverage difference needed to orient a pair by text alone
LOW_CONFIDENCE = 0.5  # a parent below this is a guess the evidence barely supports
INHERIT = 5  # links an identical copy takes over from its twin, strongest first (floods of
# identical posts are common: each copy adds this many candidate rows)


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
    # the same counts for claim clusters (claim_cascade_edges), when the claims stage ran
    claims: dict[str, Any] = field(default_factory=dict)
    # the learned second opinion on credits (trace.credit_model): the model, "not needed"
    # (no copy to check), "off" (not asked for) or "off: why" (it could not load)
    credit_model: str = "off"
    credits_vetoed: int = 0  # rule phrase credits it rejected
    credits_learned: int = 0  # credits it found that no rule did
    credit_model_skipped: int = 0  # copies it did not read: not English, or no language known
    credit_model_reused: int = 0  # copies whose scores an earlier run kept (credit_scores)
    credit_scores_off: str | None = None  # why scores could not be kept, if they could not

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


_EDGE_COLUMNS = [
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
]
CLAIM_CANDIDATES = 10  # earliest documents per sentence considered as a claim's parent


def run_cascades(
    store: Store,
    aliases: dict[str, tuple[str, ...]] | None = None,
    *,
    credit_model: bool = True,
    progress=None,
) -> CascadeSummary:
    """Rebuild every propagation tree: one per reuse cluster (cascade_edges) and one per
    claim cluster (claim_cascade_edges).

    ``credit_model``: the rules' credits get the learned scorer's second opinion
    (``trace.credit_model``), which reads every sentence of each child once and keeps its
    scores in the store, so a later run reads only new texts; off, the rules alone decide
    (faster on a first run over a large corpus)."""
    started = time.perf_counter()
    con = store.con
    summary = CascadeSummary()
    aliases = aliases or {}
    members = con.execute("SELECT DISTINCT cluster_id, seq FROM reuse_clusters").df()
    claim_members = con.execute(
        "SELECT DISTINCT k.cluster_id, s.seq FROM claim_clusters k "
        "JOIN claim_sentences s ON s.row = k.row"
    ).df()
    con.execute("DELETE FROM cascade_edges")
    con.execute("DELETE FROM claim_cascade_edges")
    docs = (
        con.execute(
            "SELECT d.seq, d.id, d.source, d.url, d.published_at, d.time_precision, d.text, d.links, "
            "d.language "
            "FROM documents d WHERE d.seq IN (SELECT seq FROM reuse_clusters) "
            "OR d.seq IN (SELECT s.seq FROM claim_clusters k "
            "JOIN claim_sentences s ON s.row = k.row)"
        )
        .df()
        .set_index("seq")
    )
    docs["latest"] = latest_series(docs["published_at"], docs["time_precision"]).to_numpy()
    docs["earliest"] = pd.to_datetime(docs["published_at"], errors="coerce").astype(
        "datetime64[ns]"
    )
    # one plain dict per document: the parent search reads a few fields of a document many
    # times, and a DataFrame row lookup costs a hundred times a dict's
    docs = docs.to_dict("index")
    reviewer = None
    if credit_model and docs:
        from echoscope.trace.credit_model import Reviewer

        reviewer = Reviewer(len(docs), progress, con=con)

    def prefetch(children: list[int]) -> None:
        """Every child the trees may review, scored in chunks before the search needs them."""
        if reviewer is not None:
            reviewer.prefetch([(c, docs[c]["text"]) for c in children if _scored(docs[c])])

    if not members.empty:
        links = con.execute(
            "SELECT link_id, seq_a, seq_b, kind, method, coverage_a, coverage_b, identity, "
            "coalesce(matched, 1000000) AS matched FROM reuse_links WHERE NOT boilerplate"
        ).df()
        passages = con.execute(
            "SELECT p.link_id, p.seq_a, p.a_begin, p.a_end, p.seq_b, p.b_begin, p.b_end "
            "FROM reuse_passages p"
        ).df()
        # Both directions of every link, with the child's coverage as the parent's strength.
        both = _with_identical(
            pd.concat([_directed(links, "a", "b"), _directed(links, "b", "a")], ignore_index=True),
            links,
        )

        spans = _spans(passages)

        def reuse_credits(child: int, parent: int, row) -> list:
            shared = spans.get((child, parent))
            twin = _twin(row)
            # a copy identical to the one that was aligned: its passages, where the texts
            # are the same to the character
            if shared is None and twin is not None and docs[child]["text"] == docs[twin]["text"]:
                shared = spans.get((twin, parent))
            return _credits(child, parent, docs, shared or [], aliases, reviewer)

        rows = _trees(members, both, docs, reuse_credits, summary, prefetch)
        _insert_edges(con, "cascade_edges", rows)
    if not claim_members.empty:
        cands = _claim_candidates(con)
        counts = CascadeSummary()

        def claim_credits(child: int, parent: int, row) -> list:
            return _credits(
                child,
                parent,
                docs,
                [(int(row.child_begin), int(row.child_end))],
                aliases,
                reviewer,
            )

        rows = _trees(claim_members, cands, docs, claim_credits, counts, prefetch)
        _insert_edges(con, "claim_cascade_edges", rows)
        summary.claims = {
            k: v for k, v in counts.as_dict().items() if k not in ("claims", "seconds")
        }
    if reviewer is not None:
        reviewer.finish()
        summary.credit_model = reviewer.status
        summary.credits_vetoed = len(reviewer.vetoed)
        summary.credits_learned = len(reviewer.learned)
        summary.credit_model_skipped = len(reviewer.skipped)
        if reviewer.cache is not None:
            summary.credit_model_reused = reviewer.cache.reused
            summary.credit_scores_off = reviewer.cache.error
    summary.seconds = round(time.perf_counter() - started, 2)
    return summary


SCORED_LANGUAGES = frozenset({"en"})  # what the credit scorer was trained on (METER)
BLOCK = 4096  # children whose parent search (and credit scoring) is prepared together
AGENCY_PICKUP = 0.2  # share of an agency text a non-agency parent must explain, uncredited


def _unlikely_pickup(child: int, edge: tuple, docs: dict[int, dict], credits_of) -> bool:
    """An agency text whose only earlier source would be a newspaper or post sharing a
    small part of it, without credit. Agencies originate; when one follows up a paper's
    story it says so ("the Sun reported"). A short shared passage with an older article
    is far more often background both took from the agency's own earlier copy, which the
    corpus may lack (METER: PA texts of December repeating a line papers printed in
    November), so that candidate is set aside rather than made a confident parent."""
    parent, _confidence, _relation, strength, _evidence, row = edge
    if strength >= AGENCY_PICKUP:
        return False
    if not agency_of(docs[child]["source"]) or agency_of(docs[parent]["source"]):
        return False
    return not is_attributed(credits_of(child, parent, row))


def _directed(links: pd.DataFrame, parent: str, child: str) -> pd.DataFrame:
    return links.rename(
        columns={
            f"seq_{parent}": "parent",
            f"seq_{child}": "child",
            f"coverage_{parent}": "cov_parent",
            f"coverage_{child}": "cov_child",
        }
    )


def _with_identical(both: pd.DataFrame, links: pd.DataFrame) -> pd.DataFrame:
    """Directed candidate rows, plus those an identical copy inherits from its first copy.

    The reuse stage compares identical documents once, through the first one read (its
    ``exact`` links join each later copy to that one only). For the trees, a later copy
    has every source its twin has: without them a verbatim republisher could only be
    given the first-read republisher as parent, never the agency both took the text
    from. Each copy inherits its twin's strongest INHERIT links (``via`` names the twin;
    the coverages are the twin's, which are its own, the texts being the same)."""
    exact = links.loc[links["method"] == "exact", ["seq_a", "seq_b"]]
    plain = both.assign(via=np.nan)
    if exact.empty:
        return plain
    # either side may be the one aligned (a and b are in time order, not reading order)
    pairs = pd.concat(
        [
            exact.rename(columns={"seq_a": "via", "seq_b": "copy"}),
            exact.rename(columns={"seq_b": "via", "seq_a": "copy"}),
        ],
        ignore_index=True,
    )
    twins = both[both["child"].isin(pairs["via"]) & (both["method"] != "exact")]
    twins = twins.sort_values(["child", "cov_child"], ascending=[True, False], kind="stable")
    twins = twins.groupby("child").head(INHERIT)
    inherited = pairs.merge(twins, left_on="via", right_on="child")
    inherited = inherited[inherited["parent"] != inherited["copy"]]
    inherited = inherited.assign(child=inherited["copy"]).drop(columns="copy")
    return pd.concat([plain, inherited[plain.columns]], ignore_index=True)


def _spans(passages: pd.DataFrame) -> dict[tuple[int, int], list[tuple[int, int]]]:
    """(child, parent) -> the child's side of every passage it shares with the parent,
    gathered once (each copy used to scan every passage)."""
    out: dict[tuple[int, int], list[tuple[int, int]]] = {}
    for side, other in (("b", "a"), ("a", "b")):  # the child as b first, as before
        for child, parent, begin, end in zip(
            passages[f"seq_{side}"],
            passages[f"seq_{other}"],
            passages[f"{side}_begin"],
            passages[f"{side}_end"],
            strict=True,
        ):
            out.setdefault((int(child), int(parent)), []).append((int(begin), int(end)))
    return out


def _claim_candidates(con) -> pd.DataFrame:
    """For each document of each claim cluster, the earlier-or-unordered documents of the
    cluster that state the claim in the same words or in words the matcher linked: the
    closest sentence pair (cosine; 1.0 for the same text) and its match score. The cosine,
    not the score, ranks parents: the matcher's probability saturates near 1 for any clear
    re-wording, while a sentence repeated word for word is a closer source than one
    re-worded. Where the two documents also share reused text, its
    coverages tell the direction when the times cannot (as for reuse trees).

    Each sentence offers at most its CLAIM_CANDIDATES earliest documents as parents, so a
    line repeated by thousands of posts costs thousands of candidates, not millions."""
    return con.execute(
        f"""
        WITH m AS (
            SELECT DISTINCT k.cluster_id, s.seq, s.row, s.begin, s."end"
            FROM claim_clusters k JOIN claim_sentences s ON s.row = k.row
        ),
        t AS (SELECT m.*, d.published_at FROM m JOIN documents d ON d.seq = m.seq),
        early AS (
            SELECT * FROM (
                SELECT *, row_number() OVER (
                    PARTITION BY cluster_id, row ORDER BY published_at NULLS LAST, seq
                ) AS rk FROM t
            ) WHERE rk <= {CLAIM_CANDIDATES}
        ),
        pairs AS (   -- sentence pairs of one cluster: the same text, or a stored match
            SELECT DISTINCT cluster_id, row AS rc, row AS rp, 1.0 AS semantic, 1.0 AS score
            FROM m
            UNION ALL
            SELECT ka.cluster_id, l.row_a, l.row_b, l.semantic, l.score FROM claim_links l
            JOIN claim_clusters ka ON ka.row = l.row_a
            JOIN claim_clusters kb ON kb.row = l.row_b AND kb.cluster_id = ka.cluster_id
            UNION ALL
            SELECT ka.cluster_id, l.row_b, l.row_a, l.semantic, l.score FROM claim_links l
            JOIN claim_clusters ka ON ka.row = l.row_a
            JOIN claim_clusters kb ON kb.row = l.row_b AND kb.cluster_id = ka.cluster_id
        ),
        best AS (
            SELECT c.cluster_id, c.seq AS child, p.seq AS parent,
                   max(x.semantic) AS semantic, arg_max(x.score, x.semantic) AS score,
                   arg_max(x.rc, x.semantic) AS row_child, arg_max(x.rp, x.semantic) AS row_parent,
                   arg_max(c.begin, x.semantic) AS child_begin,
                   arg_max(c."end", x.semantic) AS child_end
            FROM pairs x
            JOIN t c ON c.cluster_id = x.cluster_id AND c.row = x.rc
            JOIN early p ON p.cluster_id = x.cluster_id AND p.row = x.rp
            WHERE c.seq <> p.seq
            GROUP BY 1, 2, 3
        )
        -- two equality joins (one per direction), not one OR join, so each is a hash join
        SELECT b.*, coalesce(f.link_id, r.link_id) AS link_id,
               coalesce(f.coverage_a, r.coverage_b) AS reuse_child,
               coalesce(f.coverage_b, r.coverage_a) AS reuse_parent
        FROM best b
        LEFT JOIN (SELECT * FROM reuse_links WHERE NOT boilerplate) f
            ON f.seq_a = b.child AND f.seq_b = b.parent
        LEFT JOIN (SELECT * FROM reuse_links WHERE NOT boilerplate) r
            ON r.seq_a = b.parent AND r.seq_b = b.child
        """
    ).df()


def _insert_edges(con, table: str, rows: list[tuple]) -> None:
    if not rows:
        return
    frame = pd.DataFrame(rows, columns=_EDGE_COLUMNS)
    con.register("_e", frame)
    try:
        con.execute(f"INSERT INTO {table} SELECT * FROM _e")
    finally:
        con.unregister("_e")


def _trees(
    members: pd.DataFrame,
    cands_all: pd.DataFrame,
    docs: dict[int, dict],
    credits_of,
    summary,
    prefetch=None,
) -> list[tuple]:
    """One edge (or root) per member of every cluster, counted into ``summary``.
    ``prefetch(children)`` is told first which documents may get a parent, whose credits
    will be read."""
    rows: list[tuple] = []
    keyed = "cluster_id" in cands_all.columns  # claim candidates belong to one cluster
    # plain records grouped once: per-child DataFrame slices cost more than the search
    by_child: dict = {}
    for rec in cands_all.itertuples(index=False):
        by_child.setdefault((rec.cluster_id, rec.child) if keyed else rec.child, []).append(rec)
    # a block of clusters at a time: first each child's first choice of parent, so that the
    # children whose credits will be read are known (and scored together) before any is
    # read; blocks keep what is held at once bounded on a large corpus
    block: list = []
    held = 0
    for cluster_id, group in members.groupby("cluster_id"):
        in_cluster = set(group["seq"].tolist())
        kids = []
        for child in group["seq"].unique():
            # a document may sit in several clusters: only parents from this one
            cands = [
                r
                for r in by_child.get((cluster_id, child) if keyed else child, ())
                if r.parent in in_cluster
            ]
            kids.append((child, cands, _choose_parent(child, cands, docs) if cands else None))
        block.append((cluster_id, kids))
        held += len(kids)
        if held >= BLOCK:
            _tree_block(block, docs, credits_of, summary, prefetch, rows)
            block, held = [], 0
    _tree_block(block, docs, credits_of, summary, prefetch, rows)
    return rows


def _tree_block(block: list, docs: dict[int, dict], credits_of, summary, prefetch, rows) -> None:
    """The edges of a block of clusters, whose first choices of parent are made."""
    if prefetch is not None:
        prefetch(
            list(dict.fromkeys(int(c) for _, kids in block for c, _, e in kids if e is not None))
        )
    for cluster_id, kids in block:
        summary.clusters += 1
        for child, cands, edge in kids:
            set_aside = []
            while edge is not None and _unlikely_pickup(child, edge, docs, credits_of):
                set_aside.append(int(edge[0]))
                cands = [r for r in cands if r.parent != edge[0]]
                edge = _choose_parent(child, cands, docs) if cands else None
            if edge is None:
                rows.append((int(cluster_id), int(child), *([None] * 10)))
                summary.roots += 1
                continue
            parent, confidence, relation, strength, evidence, row = edge
            if set_aside:
                evidence["set_aside_agency_pickups"] = set_aside
            credits = credits_of(child, parent, row)
            attributed = is_attributed(credits)
            best = best_credit(credits)
            named = best is not None and best.names_parent
            evidence["credits"] = [
                {
                    "kind": c.kind,
                    "begin": c.begin,
                    "end": c.end,
                    "text": c.text,
                    "credited": c.credited,
                    "names_parent": c.names_parent,
                    **({"score": c.score} if c.score is not None else {}),
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
                    best.kind if named else None,
                    best.begin if named else None,
                    best.end if named else None,
                    best.text[:300] if named else None,
                    json.dumps(evidence, default=str),
                )
            )
            summary.edges += 1
            summary.attributed += int(attributed)
            summary.unattributed += int(not attributed)
            summary.low_confidence += int(confidence < LOW_CONFIDENCE)
            summary.relations[relation] = summary.relations.get(relation, 0) + 1


def _relation(parent: dict, child: dict) -> str:
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


def _choose_parent(child: int, cands: list, docs: dict[int, dict]):
    """The parent of ``child`` among candidate links: reuse links (coverages, identity) or
    claim matches (a score; text direction only from reuse coverages when both share
    reused text). Returns (parent, confidence, relation, strength, evidence, link row)."""
    crow = docs[child]
    claim = hasattr(cands[0], "score")
    scored = []
    for row in cands:
        prow = docs[row.parent]
        relation = _relation(prow, crow)
        if relation == "after":
            continue
        if claim:
            strength = float(row.semantic)
            reused = pd.notna(row.reuse_child) and pd.notna(row.reuse_parent)
            diff = float(row.reuse_child) - float(row.reuse_parent) if reused else 0.0
        else:
            if row.matched < MIN_MATCHED and float(row.cov_child) < MIN_COVERAGE:
                continue  # a stock phrase ("told the court that") is not a source
            strength = float(row.cov_child) * float(row.identity or 1.0)
            diff = float(row.cov_child) - float(row.cov_parent)
        if relation in ("overlap", "unknown"):
            # Times cannot order them: the copy is the one mostly made of the shared text.
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
                # times overlap: a tie; a date missing stays "unknown", as weak as a tie
                relation = "tie" if relation == "overlap" else "undirected"
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
    rank = {"before": 0, "overlap": 1, "tie": 2, "undirected": 2, "unknown": 3}
    best_rank = min(rank[rel] for _, rel, *_ in scored)
    scored_best = [s for s in scored if rank[s[1]] == best_rank]
    best_strength = max(s[0] for s in scored_best)
    tied = [s for s in scored_best if s[0] >= best_strength - NEAR_TIE]
    # Among near-ties prefer the earliest document, the likeliest original.
    tied.sort(
        key=lambda s: (
            rank[s[1]],
            docs[s[2]]["earliest"] if pd.notna(docs[s[2]]["earliest"]) else pd.Timestamp.max,
            s[2],
        )
    )
    strength, relation, parent, gap, row = tied[0]
    # what ordered the pair: certain times, the text (the copy is mostly shared text), or
    # neither (the earlier point time or the earlier read, a guess said to be one)
    ordered_by = {"before": "time", "tie": "neither", "undirected": "neither"}.get(relation, "text")
    if relation == "undirected":
        relation, base = "unknown", BASE["tie"]
    else:
        base = BASE[relation]
    confidence = base * (0.5 + 0.5 * min(1.0, strength)) * (1.0 if len(tied) == 1 else 0.8)
    alternatives = sorted(
        (
            {
                "seq": s[2],
                "strength": round(s[0], 4),
                "relation": "unknown" if s[1] == "undirected" else s[1],
            }
            for s in scored
            if s[2] != parent
        ),
        key=lambda a: -a["strength"],
    )[:5]
    if claim:
        evidence = {
            "basis": "claim",
            "sentence_row_child": int(row.row_child),
            "sentence_row_parent": int(row.row_parent),
            "score": float(row.score),
            "semantic": float(row.semantic),
            "reuse_link_id": int(row.link_id) if pd.notna(row.link_id) else None,
            "gap_seconds": gap,
            "ordered_by": ordered_by,
            "alternatives": alternatives,
        }
    else:
        evidence = {
            "link_id": int(row.link_id),
            "link_kind": row.kind,
            "coverage_child": float(row.cov_child),
            "coverage_parent": float(row.cov_parent),
            "identity": float(row.identity) if row.identity == row.identity else None,
            "gap_seconds": gap,
            "ordered_by": ordered_by,
            "alternatives": alternatives,
        }
        if (twin := _twin(row)) is not None:  # the link is the identical twin's
            evidence["identical_to"] = twin
    return parent, confidence, relation, strength, evidence, row


def _scored(doc: dict) -> bool:
    """Whether the credit scorer reads this document: English text."""
    language = doc.get("language")
    return bool(
        isinstance(doc.get("text"), str)
        and doc["text"]
        and normalize_language(language if isinstance(language, str) else None) in SCORED_LANGUAGES
    )


def _credits(
    child: int,
    parent: int,
    docs: dict[int, dict],
    spans: list[tuple[int, int]],
    aliases: dict[str, tuple[str, ...]],
    reviewer=None,
):
    """Credits in the child to the parent; ``spans`` are the child's copied passages (or
    its sentence stating the claim), a credit when quoted. With a ``reviewer``, the learned
    scorer's second opinion is applied (``trace.credit_model``)."""
    crow, prow = docs[child], docs[parent]
    links = crow["links"] if isinstance(crow["links"], list | np.ndarray) else []
    source = prow["source"] if isinstance(prow["source"], str) else None
    own = crow["source"] if isinstance(crow["source"], str) else None
    text = crow["text"] if isinstance(crow["text"], str) else ""
    credits = find_credits(
        text,
        [str(x) for x in links],
        parent_source=source,
        parent_url=prow["url"] if isinstance(prow["url"], str) else None,
        parent_aliases=aliases.get(source or "", ()),
        quoted_spans=spans,
        own_source=own,
        own_aliases=aliases.get(own or "", ()),
    )
    if reviewer is None or not text:
        return credits
    if not _scored(crow):
        reviewer.skipped.add(child)  # the scorer learned English copy, nothing else
        return credits
    return reviewer.review(
        child,
        text,
        credits,
        names_parent=lambda span: names_source(span, source, aliases.get(source or "", ())),
        names_self=lambda span: names_source(span, own, aliases.get(own or "", ())),
    )


def claim_parents(
    store: Store, cluster_ids: list[int], docs: list[str] | None = None
) -> list[tuple]:
    """The claim trees' edges of some clusters (optionally only for some documents), as
    (cluster, document, parent, parent source, confidence, relation, credited, credit
    kind, credit text); empty for a store from before claim trees."""
    import duckdb

    if not cluster_ids:
        return []
    where = "e.cluster_id IN (" + ",".join("?" * len(cluster_ids)) + ")"
    if docs is not None:
        where += " AND c.id IN (" + ",".join("?" * len(docs)) + ")"
    try:
        return store.con.execute(
            "SELECT e.cluster_id, c.id, p.id, p.source, e.confidence, e.time_relation, "
            "e.attributed, e.credit_kind, e.credit_text FROM claim_cascade_edges e "
            "JOIN documents c ON c.seq = e.child_seq "
            "LEFT JOIN documents p ON p.seq = e.parent_seq WHERE " + where,
            [*map(int, cluster_ids), *(docs or [])],
        ).fetchall()
    except duckdb.CatalogException:
        return []


def _edges_table(claims: bool) -> str:
    return "claim_cascade_edges" if claims else "cascade_edges"


def origins(store: Store, limit: int = 50, claims: bool = False) -> pd.DataFrame:
    """One row per cluster (reuse, or claim with ``claims``): first appearance, spread,
    how many copies gave credit, and how many parents are low-confidence guesses (a tie,
    a missing date). ``limit`` 0: every cluster. Claim clusters carry their claim: the
    sentence at the cluster's centre."""
    claim_text = (
        "(SELECT t.text FROM claim_texts t WHERE t.row = m.cluster_id)" if claims else "NULL"
    )
    return store.con.execute(
        f"""
        WITH m AS (
            SELECT e.cluster_id, e.child_seq, e.parent_seq, e.attributed, e.confidence, d.id,
                   d.source, d.published_at
            FROM {_edges_table(claims)} e JOIN documents d ON d.seq = e.child_seq
        ),
        roots AS (
            SELECT cluster_id, arg_min(id, coalesce(published_at, TIMESTAMP '9999-01-01')) AS first_doc,
                   arg_min(source, coalesce(published_at, TIMESTAMP '9999-01-01')) AS first_source,
                   min(published_at) AS first_published, count(*) AS roots
            FROM m WHERE parent_seq IS NULL GROUP BY cluster_id
        ),
        per AS (
            SELECT m.cluster_id, r.first_doc, r.first_source, r.first_published,
                   count(*) AS documents, count(DISTINCT m.source) AS sources,
                   max(m.published_at) - min(m.published_at) AS spread,
                   count(*) FILTER (WHERE m.parent_seq IS NOT NULL) AS copies,
                   count(*) FILTER (WHERE m.parent_seq IS NOT NULL AND NOT m.attributed) AS unattributed,
                   count(*) FILTER (WHERE m.parent_seq IS NOT NULL AND m.confidence < {LOW_CONFIDENCE})
                       AS low_confidence,
                   r.roots
            FROM m JOIN roots r USING (cluster_id)
            GROUP BY m.cluster_id, r.first_doc, r.first_source, r.first_published, r.roots
            ORDER BY documents DESC, m.cluster_id
            {"LIMIT ?" if limit else ""}
        )
        SELECT per.*, {claim_text.replace("m.cluster_id", "per.cluster_id")} AS claim FROM per
        ORDER BY documents DESC, cluster_id
        """,
        [int(limit)] if limit else [],
    ).df()


def _bucket(spread: pd.Timedelta) -> tuple[str, pd.Timedelta]:
    """A step that shows a cluster's spread in a few dozen rows at most."""
    if spread <= pd.Timedelta(days=2):
        return "hour", pd.Timedelta(hours=1)
    if spread <= pd.Timedelta(days=90):
        return "day", pd.Timedelta(days=1)
    return "week", pd.Timedelta(weeks=1)


def timeline(store: Store, cluster_ids: list[int], claims: bool = False) -> dict[int, dict]:
    """How each cluster spread: documents and sources per hour, day or week (chosen by the
    cluster's span), with running totals. Undated documents are counted apart."""
    if not cluster_ids:
        return {}
    found = store.con.execute(
        f"SELECT e.cluster_id, d.published_at, d.source FROM {_edges_table(claims)} e "
        "JOIN documents d ON d.seq = e.child_seq WHERE e.cluster_id IN ("
        + ",".join("?" * len(cluster_ids))
        + ") ORDER BY e.cluster_id, d.published_at NULLS LAST",
        [int(c) for c in cluster_ids],
    ).df()
    out: dict[int, dict] = {}
    for cid, group in found.groupby("cluster_id"):
        dated = group[group["published_at"].notna()]
        entry: dict[str, Any] = {"undated": int(len(group) - len(dated)), "steps": []}
        out[int(cid)] = entry
        if dated.empty:
            continue
        times = pd.to_datetime(dated["published_at"])
        unit, step = _bucket(times.max() - times.min())
        entry["unit"] = unit
        start = times.min().floor("h" if unit == "hour" else "D")
        seen: set = set()
        total = 0
        for key, chunk in dated.groupby(((times - start) // step).to_numpy()):
            sources = set(chunk["source"].dropna())
            total += len(chunk)
            entry["steps"].append(
                {
                    "start": (start + int(key) * step).isoformat(),
                    "documents": len(chunk),
                    "new_sources": len(sources - seen),
                    "total_documents": total,
                    "total_sources": len(seen | sources),
                }
            )
            seen |= sources
    return out


def other_credit(evidence) -> str | None:
    """The first credit a copy gives to someone other than its parent (a spokesman, another
    outlet), from an edge's evidence, as 'kind: text (score)': an uncredited copy may still
    say where a line came from."""
    try:
        credits = json.loads(evidence).get("credits", []) if isinstance(evidence, str) else []
    except (ValueError, AttributeError):
        return None
    if not isinstance(credits, list):
        return None
    for c in credits:
        if not isinstance(c, dict) or not c.get("text") or c.get("kind") == "quote":
            continue
        if c.get("names_parent"):
            continue
        score = c.get("score")
        shown = f" ({score:.2f})" if isinstance(score, int | float) and score == score else ""
        return f"{c.get('kind') or 'credit'}: {str(c['text'])[:60]}{shown}"
    return None


def tree(store: Store, cluster_id: int, claims: bool = False) -> pd.DataFrame:
    """Every member of a cluster (reuse, or claim with ``claims``) with its parent and the
    evidence, in time order."""
    return store.con.execute(
        f"""
        SELECT c.seq AS seq, c.id AS doc, c.source, c.published_at, c.time_precision,
               p.seq AS parent_seq, p.id AS parent, p.source AS parent_source,
               e.confidence, e.time_relation, e.strength, e.attributed,
               e.credit_kind, e.credit_text, e.evidence
        FROM {_edges_table(claims)} e
        JOIN documents c ON c.seq = e.child_seq
        LEFT JOIN documents p ON p.seq = e.parent_seq
        WHERE e.cluster_id = ?
        ORDER BY c.published_at NULLS LAST, c.seq
        """,
        [int(cluster_id)],
    ).df()


def source_stats(store: Store, claims: bool = False) -> pd.DataFrame:
    """Per source: how often it originates, copies, and credits what it copies, and how
    many of its copies have a parent that is a low-confidence guess. With ``claims``, in
    the claim trees: who stated a claim first and who repeated it, in any words."""
    return store.con.execute(
        f"""
        SELECT d.source,
               count(*) FILTER (WHERE e.parent_seq IS NULL) AS originated,
               count(*) FILTER (WHERE e.parent_seq IS NOT NULL) AS copied,
               count(*) FILTER (WHERE e.parent_seq IS NOT NULL AND e.attributed) AS credited,
               count(*) FILTER (WHERE e.parent_seq IS NOT NULL AND NOT e.attributed) AS uncredited,
               count(*) FILTER (WHERE e.parent_seq IS NOT NULL AND e.confidence < ?)
                   AS low_confidence
        FROM {_edges_table(claims)} e JOIN documents d ON d.seq = e.child_seq
        GROUP BY d.source ORDER BY uncredited DESC, copied DESC, d.source
        """,
        [LOW_CONFIDENCE],
    ).df()
