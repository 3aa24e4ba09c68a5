"""Trace a claim: every sentence that states it, in any words, ordered in time.

A query is embedded with the store's model and matched against the sentence index two
ways (nearest vectors, best BM25), so a re-wording with new words and a copy with a
changed meaning-bearing word are both caught; the calibrated matcher then decides which
candidates state the same claim and which are for review. Every occurrence carries its
evidence: the matching sentence as an exact slice of the stored text, both scores, and the
document's source and time.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

from echoscope.detect.claims.embed import Embedder
from echoscope.detect.claims.match import REVIEW, SAME, Matcher, load_matcher
from echoscope.detect.claims.stage import ClaimsError, choose_model, open_index, state
from echoscope.store import Store
from echoscope.trace.time import first_ties


@dataclass
class Occurrence:
    doc_id: str
    source: str | None
    published_at: datetime | None
    time_precision: str
    url: str | None
    sentence: str
    sentence_index: int
    begin: int
    end: int
    semantic: float
    lexical: float
    score: float
    status: str  # same | review
    earliest: bool = False
    # its place in the claim's propagation tree (claim_cascade_edges), when built: the
    # document it most likely repeats (None for a first appearance), and whether it credits it
    in_tree: bool = False
    parent_doc: str | None = None
    parent_source: str | None = None
    parent_confidence: float | None = None
    parent_relation: str | None = None
    attributed: bool | None = None
    credit_kind: str | None = None
    credit_text: str | None = None


@dataclass
class TraceResult:
    query: str
    model: str
    occurrences: list[Occurrence] = field(default_factory=list)
    candidates: int = 0
    seconds: float = 0.0
    # whether the times prove the earliest came first, and the documents whose time
    # intervals overlap it (a day-dated paper vs a post timed that same day)
    first_certain: bool = False
    first_ties: list[str] = field(default_factory=list)
    # the query's time, when the time-aware matcher scored the candidates
    near: datetime | None = None

    @property
    def earliest(self) -> Occurrence | None:
        return next((o for o in self.occurrences if o.earliest), None)

    def by_document(self) -> list[Occurrence]:
        """One occurrence per document (its earliest-marked or best sentence), in time order."""
        best: dict[str, Occurrence] = {}
        for o in self.occurrences:
            cur = best.get(o.doc_id)
            if cur is None or (o.earliest, o.score) > (cur.earliest, cur.score):
                best[o.doc_id] = o
        return sorted(best.values(), key=_time_order)

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        if self.near is not None:
            out["near"] = self.near.isoformat()
        for occ in out["occurrences"]:
            if occ["published_at"] is not None:
                occ["published_at"] = occ["published_at"].isoformat()
        return out


def _time_order(o: Occurrence) -> tuple:
    return (o.published_at or datetime.max, -o.score, o.doc_id)


class ClaimTracer:
    """Holds the model and index in memory, so repeated queries cost milliseconds."""

    def __init__(
        self,
        store: Store,
        *,
        model: str | None = None,
        embedder: Embedder | None = None,
        matcher: Matcher | None = None,
    ) -> None:
        built = state(store)
        if not built.get("dim"):
            raise ClaimsError("no sentence index yet: run `echoscope analyze --stage claims`")
        self.store = store
        self.model = choose_model(store, model if embedder is None else embedder.name)
        self.embedder = embedder or Embedder(self.model)
        self.index = open_index(store, self.model, int(built["dim"]))
        self.matcher = matcher or load_matcher(model=self.model)

    def sentence(self, doc_id: str, n: int) -> str:
        """Sentence ``n`` (from 0) of a document, as split by the claims stage."""
        rows = self.store.con.execute(
            "SELECT substr(d.text, s.begin + 1, s.end - s.begin) FROM documents d "
            "JOIN claim_sentences s ON s.seq = d.seq WHERE d.id = ? AND s.idx = ?",
            [doc_id, n],
        ).fetchall()
        if not rows:
            count = self.store.con.execute(
                "SELECT count(*) FROM documents d JOIN claim_sentences s ON s.seq = d.seq "
                "WHERE d.id = ?",
                [doc_id],
            ).fetchall()[0][0]
            raise ClaimsError(
                f"document {doc_id!r} has no claim sentence {n} "
                f"(it has {count}; sentences under the stage's minimum length are not kept)"
            )
        return rows[0][0]

    def matcher_for(self, near: datetime | None) -> Matcher:
        """The text-only matcher, or its time-aware variant for a query dated ``near``."""
        if near is None:
            return self.matcher
        try:
            return self.matcher.with_time()
        except ValueError as exc:
            raise ClaimsError(str(exc)) from exc

    def gaps(self, rows: np.ndarray, near: datetime) -> dict[int, dict[str, float]]:
        """Days from ``near`` to each document holding each row (NaN where undated): a
        sentence stated in several documents is as near as each of them."""
        out: dict[int, dict[str, float]] = {int(r): {} for r in rows}
        if not len(rows):
            return out
        found = self.store.con.execute(
            "SELECT s.row, d.id, d.published_at FROM (SELECT row, seq FROM claim_sentences "
            "WHERE row IN (" + ",".join("?" * len(rows)) + ")) s "
            "JOIN documents d ON d.seq = s.seq",
            [int(r) for r in rows],
        ).fetchall()
        for row, doc, published in found:
            gap = np.nan if published is None else (published - near).total_seconds() / 86400.0
            out[row][doc] = gap
        return out

    def match(
        self,
        text: str,
        k: int = 100,
        floor: float | None = None,
        near: datetime | None = None,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(rows, semantic, lexical, probability) of candidates whose probability is at
        least ``floor`` (default: the review threshold; 0 keeps every candidate). With
        ``near`` (the query's time, naive UTC) the time-aware matcher scores them, and a
        row's probability is that of its nearest document."""
        return self._match(text, k, floor, near)[:4]

    def _match(
        self, text: str, k: int, floor: float | None, near: datetime | None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[int, dict[str, float]]]:
        """``match``, and each kept row's documents' gaps (``gaps``; empty without ``near``)."""
        matcher = self.matcher_for(near)
        qv = self.embedder.encode([text])[0]
        nearest, _ = self.index.nearest(qv[None, :], k)
        lex_rows, _ = self.index.lexical.search(text, k)
        rows = np.unique(np.concatenate([nearest[0], lex_rows]))
        if not len(rows):
            empty = np.zeros(0)
            return rows, empty, empty, empty, {}
        sem = self.index.vectors(rows) @ qv
        lex = self.index.lexical.score(text, rows)
        gaps: dict[int, dict[str, float]] = {}
        if near is None:
            prob = matcher.probability(sem, lex)
        else:
            gaps = self.gaps(rows, near)
            # every (row, document) pair scored at once; a row keeps its best document
            at = np.array([i for i, r in enumerate(rows) for _ in gaps[int(r)]], dtype=np.int64)
            days = np.array([g for r in rows for g in gaps[int(r)].values()], dtype=np.float64)
            prob = np.zeros(len(rows))
            np.maximum.at(prob, at, matcher.probability(sem[at], lex[at], days))
        keep = prob >= (matcher.review if floor is None else floor)
        kept = {int(r): gaps[int(r)] for r in rows[keep]} if gaps else {}
        return rows[keep], sem[keep], lex[keep], prob[keep], kept

    def trace(
        self,
        text: str,
        *,
        k: int = 100,
        review: bool = True,
        limit: int | None = None,
        near: datetime | None = None,
    ) -> TraceResult:
        """Every occurrence of the claim. With ``near`` (the time the query was posted),
        occurrences close to it need less textual evidence than distant ones: for
        matching one post to the fact-check about it, not for finding a claim's origin."""
        t0 = time.perf_counter()
        text = text.strip()
        if not text:
            raise ClaimsError("the claim to trace is empty")
        matcher = self.matcher_for(near)
        rows, sem, lex, prob, gaps = self._match(text, k, None, near)
        result = TraceResult(query=text, model=self.model, candidates=len(rows), near=near)
        if not review:
            keep = prob >= matcher.same
            rows, sem, lex, prob = rows[keep], sem[keep], lex[keep], prob[keep]
        if len(rows):
            by_row = {
                int(r): (float(s), float(lx), float(p))
                for r, s, lx, p in zip(rows, sem, lex, prob, strict=True)
            }
            placeholders = ",".join("?" * len(by_row))
            found = self.store.con.execute(
                "SELECT s.row, s.idx, s.begin, s.end, d.id, d.source, d.published_at, "
                "d.time_precision, d.url, substr(d.text, s.begin + 1, s.end - s.begin) "
                "FROM (SELECT * FROM claim_sentences WHERE row IN (" + placeholders + ")) s "
                "JOIN documents d ON d.seq = s.seq",
                list(by_row),
            ).fetchall()
            for row, idx, begin, end, doc_id, source, published, precision, url, sentence in found:
                s, lx, p = by_row[row]
                if near is not None:  # this document's own distance in time
                    p = float(matcher.probability([s], [lx], [gaps[row][doc_id]])[0])
                    if p < (matcher.review if review else matcher.same):
                        continue
                result.occurrences.append(
                    Occurrence(
                        doc_id=doc_id,
                        source=source,
                        published_at=published,
                        time_precision=precision,
                        url=url,
                        sentence=sentence,
                        sentence_index=idx,
                        begin=begin,
                        end=end,
                        semantic=round(s, 4),
                        lexical=round(lx, 4),
                        score=round(p, 4),
                        status=SAME if p >= matcher.same else REVIEW,
                    )
                )
        result.occurrences.sort(key=_time_order)
        self._attach_tree(result, [int(r) for r in rows])
        dated = [o for o in result.occurrences if o.published_at is not None]
        pool = [o for o in dated if o.status == SAME] or dated
        if pool:
            first = pool[0]
            first.earliest = True
            result.first_ties, result.first_certain = first_ties(
                first.doc_id,
                first.published_at,
                first.time_precision,
                ((o.doc_id, o.published_at) for o in pool[1:]),
            )
        if limit is not None:
            result.occurrences = result.occurrences[:limit]
        result.seconds = round(time.perf_counter() - t0, 4)
        return result

    def _attach_tree(self, result: TraceResult, rows: list[int]) -> None:
        """Each occurrence's parent in the propagation trees of the claim clusters its
        matching sentences belong to (built by the cascade stage). A document in several
        trees takes the edge whose parent is itself an occurrence, most confident first."""
        from echoscope.trace.cascade import claim_parents

        docs = sorted({o.doc_id for o in result.occurrences})
        if not docs or not rows:
            return
        clusters = [
            c
            for (c,) in self.store.con.execute(
                "SELECT DISTINCT cluster_id FROM claim_clusters WHERE row IN ("
                + ",".join("?" * len(rows))
                + ")",
                rows,
            ).fetchall()
        ]
        found = [edge[1:] for edge in claim_parents(self.store, clusters, docs)]
        occurring = set(docs)
        best: dict[str, tuple] = {}
        for edge in found:
            child, parent, confidence = edge[0], edge[1], edge[3]
            rank = (parent is None or parent in occurring, confidence or 1.0)
            if child not in best or rank > best[child][0]:
                best[child] = (rank, edge)
        for o in result.occurrences:
            if o.doc_id not in best:
                continue
            _, (_, parent, source, confidence, relation, attributed, kind, text) = best[o.doc_id]
            o.in_tree = True
            o.parent_doc, o.parent_source = parent, source
            o.parent_confidence, o.parent_relation = confidence, relation
            o.attributed, o.credit_kind, o.credit_text = attributed, kind, text
