"""The claims stage: split new documents into sentences, embed each distinct sentence
once, extend the sentence index, match new sentences against all earlier ones, and group
matches into claim clusters.

Incremental like the reuse stage: documents already split are skipped, vectors already in
the store are never recomputed, and the index files grow in place. A run that is stopped
keeps every vector it finished; the next run embeds only what is missing.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import scipy.sparse as sp

from echoscope.detect.claims.embed import (
    DEFAULT_MODEL,
    Embedder,
    clean_for_embedding,
    resolve_model,
)
from echoscope.detect.claims.index import ClaimIndex, index_paths
from echoscope.detect.claims.match import SAME, Matcher, load_matcher
from echoscope.detect.claims.sentences import split_sentences
from echoscope.detect.text import tokens
from echoscope.store import Store

Progress = Callable[[str, int, int], None]  # (step, done, total)

# How sentences are cut and keyed (claim_state "sentences"). A store cut another way would
# give a sentence a second row on the next run, so it is refused until rebuilt.
# 3: closing hashtags left out of the key and the vectors, bylines are not claims.
SENTENCES_VERSION = "3"


class ClaimsError(RuntimeError):
    """The stage cannot run as asked; the message says what to do."""


@dataclass
class ClaimsParams:
    model: str | None = None  # None: the model the store was built with, else the default
    min_words: int = 5  # shorter sentences ("Read more.", "Thanks!") state no claim
    max_chars: int = 600  # longer "sentences" are cut (lists, run-on posts)
    neighbors: int = 20  # nearest sentences checked for each new sentence
    links: bool = True  # match sentences with each other and build clusters
    batch_docs: int = 20_000
    embed_chunk: int = 8192  # vectors are written to the store in chunks of this size


@dataclass
class ClaimsSummary:
    model: str = ""
    new_documents: int = 0
    new_sentences: int = 0
    new_texts: int = 0
    embedded: int = 0
    texts_total: int = 0
    links_added: int = 0
    links_total: int = 0
    clusters: int = 0
    boilerplate: int = 0  # distinct sentences left out of clusters as a source's boilerplate
    seconds: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# A sentence a source repeats word for word in this many of its articles, which have
# little else in common, is its boilerplate (a sign-off, a newsletter promotion, "The
# Associated Press contributed to this report."), not a claim (``boilerplate_rows``).
BOILERPLATE_MIN_DOCS = 3
BOILERPLATE_MAX_SHARE = 0.5  # of an article's characters, and of the sentences two share
BOILERPLATE_MIN_SENTENCES = 3  # the document's claim sentences: an article, not a post
BOILERPLATE_SAMPLE = 12  # a source's articles compared per sentence

_BYLINE = re.compile(r"By\s+(\S[^\n]{0,120})")
_BYLINE_MAX_WORDS = 8
_BYLINE_TOP = 400  # a byline stands on its own line near the top of its document
# lower-case words a byline may hold ("By Our Staff and Agencies", "By PA reporter")
_BYLINE_WORDS = {"and", "&", "of", "the", "for", "in", "at", "reporter", "reporters", "staff"}
_NOT_A_NAME = {
    *[
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
        "today",
        "tonight",
    ],
    *[
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
    ],
    *["november", "december", "christmas", "easter", "election", "order"],
}


def is_byline(text: str) -> bool:
    """A byline names who wrote, it claims nothing; as claims, every story one desk wrote
    would read as one ("By Elena Marsh, Northern Wire Service" and "By Tom Okafor, Northern
    Wire Service", "By PA reporter"). A sentence that opens with "By" stays ("By Monday the
    jury had retired", "By Friday, Russia had lost 40 tanks"); where it stands in its
    document is ``_alone_near_top``'s to say."""
    m = _BYLINE.fullmatch(text.strip())
    if not m:
        return False
    words = m.group(1).replace(",", " ").split()
    return (
        0 < len(words) <= _BYLINE_MAX_WORDS
        and words[-1][-1] not in ".?!:;"
        and all(w[0].isupper() or w in _BYLINE_WORDS for w in words)
        and not any(w.lower() in _NOT_A_NAME or any(c.isdigit() for c in w) for w in words)
    )


def _alone_near_top(text: str, start: int, end: int) -> bool:
    before, after = text[:start].rstrip(" \t"), text[end:].lstrip(" \t\r")
    return (
        start < _BYLINE_TOP
        and (not before or before.endswith("\n"))
        and (not after or after.startswith("\n"))
    )


def text_key(text: str) -> tuple[int, int]:
    """(hash of the sentence's normalised words, number of words)."""
    words = tokens(clean_for_embedding(text))
    digest = hashlib.blake2b(" ".join(words).encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "little"), len(words)


def state(store: Store) -> dict[str, str]:
    return dict(store.con.execute("SELECT key, value FROM claim_state").fetchall())


def _set_state(store: Store, key: str, value: str) -> None:
    store.con.execute("INSERT OR REPLACE INTO claim_state VALUES (?, ?)", [key, value])


def choose_model(store: Store, requested: str | None) -> str:
    """The store's model, refusing a different one: vectors of two models never mix."""
    built = state(store).get("model")
    if requested is None:
        return built or DEFAULT_MODEL
    name, _ = resolve_model(requested)
    if built and built != name:
        raise ClaimsError(
            f"this store's sentence index was built with model {built!r}, not {name!r}; "
            "vectors of two models cannot be compared. Use --model "
            f"{built!r}, or start over with `echoscope analyze --stage claims --rebuild`"
        )
    return name


def cut_by_older_version(store: Store) -> bool:
    """The store holds sentences cut another way than SENTENCES_VERSION cuts them."""
    return state(store).get("sentences") != SENTENCES_VERSION and store.count("claim_texts") > 0


def reset(store: Store) -> None:
    for table in (
        "claim_state",
        "claim_docs",
        "claim_sentences",
        "claim_texts",
        "claim_vectors",
        "claim_links",
        "claim_clusters",
    ):
        store.con.execute(f"DELETE FROM {table}")
    for path in index_paths(store.path):
        path.unlink(missing_ok=True)


def _segment(
    store: Store, params: ClaimsParams, summary: ClaimsSummary, progress: Progress | None
) -> None:
    """Sentences of documents not yet split; new distinct texts get the next row numbers."""
    todo = store.con.execute(
        "SELECT count(*) FROM documents WHERE seq NOT IN (SELECT seq FROM claim_docs)"
    ).fetchall()[0][0]
    if not todo:
        return
    known = dict(store.con.execute("SELECT hash, row FROM claim_texts").fetchall())
    next_row = len(known)
    done = 0
    last = -1
    while True:
        batch = store.con.execute(
            "SELECT seq, text FROM documents WHERE seq > ? AND seq NOT IN "
            "(SELECT seq FROM claim_docs) ORDER BY seq LIMIT ?",
            [last, params.batch_docs],
        ).fetchall()
        if not batch:
            break
        sent_rows: list[tuple[int, int, int, int, int]] = []
        new_texts: list[tuple[int, int, str]] = []
        doc_rows: list[tuple[int, int]] = []
        for seq, text in batch:
            n = 0
            for sent in split_sentences(text or "", max_chars=params.max_chars):
                key, n_words = text_key(sent.text)
                if n_words < params.min_words or (
                    is_byline(sent.text) and _alone_near_top(text, sent.start, sent.end)
                ):
                    continue
                row = known.get(key)
                if row is None:
                    row = known[key] = next_row
                    next_row += 1
                    new_texts.append((row, key, sent.text))
                sent_rows.append((seq, n, sent.start, sent.end, row))
                n += 1
            doc_rows.append((seq, n))
        last = batch[-1][0]
        with store.transaction():
            _insert_rows(
                store,
                "claim_texts",
                ["row", "hash", "text"],
                new_texts,
                [pa.int64(), pa.uint64(), pa.string()],
            )
            _insert_rows(
                store,
                "claim_sentences",
                ["seq", "idx", "begin", "end", "row"],
                sent_rows,
                [pa.int64(), pa.int32(), pa.int32(), pa.int32(), pa.int64()],
            )
            _insert_rows(
                store, "claim_docs", ["seq", "sentences"], doc_rows, [pa.int64(), pa.int32()]
            )
        summary.new_documents += len(batch)
        summary.new_sentences += len(sent_rows)
        summary.new_texts += len(new_texts)
        done += len(batch)
        if progress:
            progress("sentences", done, todo)


def _insert(store: Store, sql: str, arrow: pa.Table) -> None:
    """Run an INSERT that reads the Arrow table as ``_claims_in``."""
    store.con.register("_claims_in", arrow)
    try:
        store.con.execute(sql)
    finally:
        store.con.unregister("_claims_in")


def _insert_rows(
    store: Store, table: str, names: list[str], rows: list[tuple], types: list
) -> None:
    if not rows:
        return
    cols = list(zip(*rows, strict=True))
    arrow = pa.table({n: pa.array(c, type=t) for n, c, t in zip(names, cols, types, strict=True)})
    quoted = ", ".join(f'"{n}"' for n in names)
    _insert(store, f"INSERT INTO {table} ({quoted}) SELECT {quoted} FROM _claims_in", arrow)


def _embed_missing(
    store: Store,
    embedder: Embedder,
    params: ClaimsParams,
    summary: ClaimsSummary,
    progress: Progress | None,
) -> None:
    missing = store.con.execute(
        "SELECT row, text FROM claim_texts WHERE row NOT IN (SELECT row FROM claim_vectors) ORDER BY row"
    ).fetchall()
    total = len(missing)
    for lo in range(0, total, params.embed_chunk):
        part = missing[lo : lo + params.embed_chunk]
        vecs = embedder.encode([t for _, t in part])
        flat = pa.array(vecs.reshape(-1), type=pa.float32())
        arrow = pa.table(
            {
                "row": pa.array([r for r, _ in part], type=pa.int64()),
                "vector": pa.FixedSizeListArray.from_arrays(flat, embedder.dim),
            }
        )
        _insert(
            store, "INSERT INTO claim_vectors SELECT row, vector::FLOAT[] FROM _claims_in", arrow
        )
        summary.embedded += len(part)
        if progress:
            progress("embeddings", min(lo + len(part), total), total)


def read_vectors(store: Store, lo: int, hi: int, dim: int) -> np.ndarray:
    query = "SELECT vector FROM claim_vectors WHERE row >= $lo AND row < $hi ORDER BY row"
    rel = store.con.sql(query, params={"lo": lo, "hi": hi})
    # DuckDB 2 renamed fetch_arrow_table to to_arrow_table
    table = rel.to_arrow_table() if hasattr(rel, "to_arrow_table") else rel.arrow()
    col = table.column("vector").combine_chunks()
    values = col.flatten().to_numpy(zero_copy_only=False).astype(np.float32, copy=False)
    return values.reshape(-1, dim)


def read_texts(store: Store, lo: int, hi: int) -> list[str]:
    return [
        t
        for (t,) in store.con.execute(
            "SELECT text FROM claim_texts WHERE row >= ? AND row < ? ORDER BY row", [lo, hi]
        ).fetchall()
    ]


def open_index(
    store: Store, model: str, dim: int, progress: Progress | None = None, chunk: int = 100_000
) -> ClaimIndex:
    """The index over every embedded row: loaded from disk, extended with rows added since,
    or rebuilt from the store's vectors when the files are missing or stale."""
    rows = store.con.execute("SELECT count(*) FROM claim_vectors").fetchall()[0][0]
    saved = int(state(store).get("index_rows", "-1"))
    index = None
    if 0 <= saved <= rows:
        index = ClaimIndex.load(store.path, dim=dim, model=model, rows=saved)
    if index is None:
        index = ClaimIndex(dim, model)
    start = len(index)
    for lo in range(start, rows, chunk):
        hi = min(rows, lo + chunk)
        index.add(np.arange(lo, hi), read_vectors(store, lo, hi, dim), read_texts(store, lo, hi))
        if progress:
            progress("index", hi - start, rows - start)
    return index


def _link(
    store: Store,
    index: ClaimIndex,
    matcher: Matcher,
    first_new: int,
    params: ClaimsParams,
    summary: ClaimsSummary,
    progress: Progress | None,
) -> None:
    """Match rows from ``first_new`` on against every row; keep pairs at review or above.

    Each row's neighbours and every pair's score are exact (``ClaimIndex.nearest``), so a
    run finds the same links whatever order the graph was built in."""
    n = len(index)
    floor = matcher.semantic_floor()
    step = 20_000
    for lo in range(first_new, n, step):
        rows = np.arange(lo, min(n, lo + step))
        nbr, cos = index.nearest(index.vectors(rows), params.neighbors + 1)
        a = np.repeat(rows, nbr.shape[1])
        b = nbr.reshape(-1)
        c = cos.reshape(-1)
        keep = (a != b) & (c >= floor)
        a, b, c = a[keep], b[keep], c[keep]
        lo_, hi_ = np.minimum(a, b), np.maximum(a, b)
        # a pair found from both ends has one score: its exact cosine is symmetric
        pairs, first = (
            np.unique(np.c_[lo_, hi_], axis=0, return_index=True)
            if len(a)
            else (np.zeros((0, 2), np.int64), np.zeros(0, np.int64))
        )
        if len(pairs):
            sem = c[first]
            lex = index.lexical.pair_scores(pairs[:, 0], pairs[:, 1])
            prob = matcher.probability(sem, lex)
            ok = prob >= matcher.review
            status = np.where(prob >= matcher.same, SAME, "review")
            table = pa.table(
                {
                    "row_a": pairs[ok, 0],
                    "row_b": pairs[ok, 1],
                    "semantic": sem[ok].astype(np.float64),
                    "lexical": lex[ok].astype(np.float64),
                    "score": prob[ok],
                    "status": status[ok],
                }
            )
            before = store.count("claim_links")
            # a pair already found from its other end is not stored twice
            _insert(
                store,
                "INSERT INTO claim_links SELECT t.* FROM _claims_in t "
                "WHERE NOT EXISTS (SELECT 1 FROM claim_links l "
                "WHERE l.row_a = t.row_a AND l.row_b = t.row_b)",
                table,
            )
            summary.links_added += store.count("claim_links") - before
        if progress:
            progress("matches", int(rows[-1]) + 1 - first_new, n - first_new)


def boilerplate_rows(store: Store) -> np.ndarray:
    """Sentences that are some source's template: repeated word for word in at least
    BOILERPLATE_MIN_DOCS of its articles (BOILERPLATE_MIN_SENTENCES claim sentences or more,
    the sentence under BOILERPLATE_MAX_SHARE of the characters) that are otherwise apart:
    each states under BOILERPLATE_MAX_SHARE of its other sentences in at least two others
    that repeat it, word for word or in words the matcher linked (as the same claim or for
    review: when unsure, articles count as related and the line stays). So a sign-off
    closing unrelated stories is boilerplate, and the lines an agency keeps through the
    versions of one story (on METER, PA's "care1nl", "care1nlcorr", "care1sub") are not:
    those versions state most of their sentences in each other.

    Posts are left alone: a slogan an account tweets again and again, with other tags and
    links each time, is its campaign, not its template (on 308k IRA tweets, "Join our
    fight to save America! ➠", posted by 76 accounts, would otherwise be dropped). Each
    source compares BOILERPLATE_SAMPLE of the articles holding a sentence, drawn by a hash
    of their order (not the first ingested, which may all be one story's versions), so a
    line in thousands of articles costs a few dozen comparisons."""
    share, least = BOILERPLATE_MAX_SHARE, BOILERPLATE_MIN_DOCS
    found = store.con.execute(
        f"""
        WITH article AS (
            SELECT c.seq, c.sentences, d.source, length(d.text) AS chars
            FROM claim_docs c JOIN documents d ON d.seq = c.seq
            WHERE d.source IS NOT NULL AND c.sentences >= {BOILERPLATE_MIN_SENTENCES}
        ),
        occ AS (
            SELECT DISTINCT s.row, s.seq, a.source FROM claim_sentences s
            JOIN article a ON a.seq = s.seq WHERE s."end" - s."begin" < {share} * a.chars
        ),
        cand AS (SELECT source, row FROM occ GROUP BY source, row HAVING count(*) >= {least}),
        members AS (
            SELECT * FROM (
                SELECT o.source, o.row, o.seq, row_number() OVER (
                    PARTITION BY o.source, o.row ORDER BY hash(o.seq), o.seq) AS rk
                FROM occ o JOIN cand USING (source, row)
            ) WHERE rk <= {BOILERPLATE_SAMPLE}
        ),
        pairs AS (
            SELECT a.source, a.row, a.seq AS s1, b.seq AS s2 FROM members a
            JOIN members b ON a.source = b.source AND a.row = b.row AND a.seq < b.seq
        ),
        near AS (   -- a sentence and those the matcher linked to it, either way
            SELECT row_a AS r, row_b AS o FROM claim_links
            UNION ALL SELECT row_b, row_a FROM claim_links
        ),
        said AS (   -- s1's other sentences that s2 states too, word for word or re-worded
            SELECT p.source, p.row, p.s1, p.s2, x.row AS r FROM pairs p
            JOIN claim_sentences x ON x.seq = p.s1 AND x.row <> p.row
            JOIN claim_sentences y ON y.seq = p.s2 AND y.row = x.row
            UNION
            SELECT p.source, p.row, p.s1, p.s2, x.row FROM pairs p
            JOIN claim_sentences x ON x.seq = p.s1 AND x.row <> p.row
            JOIN near ON near.r = x.row
            JOIN claim_sentences y ON y.seq = p.s2 AND y.row = near.o
        ),
        shared AS (
            SELECT p.source, p.row, p.s1, p.s2, count(DISTINCT d.r) AS n FROM pairs p
            LEFT JOIN said d ON d.source = p.source AND d.row = p.row AND d.s1 = p.s1
                AND d.s2 = p.s2
            GROUP BY p.source, p.row, p.s1, p.s2
        ),
        apart AS (
            SELECT h.source, h.row, h.s1, h.s2 FROM shared h
            JOIN claim_docs c1 ON c1.seq = h.s1 JOIN claim_docs c2 ON c2.seq = h.s2
            WHERE h.n < {share} * (least(c1.sentences, c2.sentences) - 1)
        ),
        partners AS (
            SELECT source, row, seq, count(*) AS others FROM (
                SELECT source, row, s1 AS seq FROM apart
                UNION ALL SELECT source, row, s2 AS seq FROM apart
            ) GROUP BY source, row, seq
        )
        SELECT DISTINCT row FROM partners WHERE others >= {least - 1}
        GROUP BY source, row HAVING count(*) >= {least}
        """
    ).fetchnumpy()["row"]
    return np.sort(np.asarray(found, dtype=np.int64))


def build_clusters(store: Store) -> int:
    """Claim clusters around central sentences: every member is matched as the same claim
    directly with its cluster's centre, so a chain of near matches (A like B, B like C)
    never joins two different claims. Centres are taken greedily, best connected first;
    each takes the sentences matched with it that no earlier centre took. A sentence left
    with no centre to join is in no cluster (its matches stay in claim_links), unless its
    exact text appears in two or more documents, which is a cluster of its own. A
    source's boilerplate (``boilerplate_rows``) is in no cluster: repeated in every story,
    it would join them all and lead every list of claims. Their count is kept in
    claim_state ``boilerplate``.

    Each member's score is its match with the centre; the centre's is its best match in
    the cluster, or 1.0 when other documents repeat its exact text."""
    n = store.con.execute("SELECT count(*) FROM claim_texts").fetchall()[0][0]
    # in a fixed order: a row's total score is a float sum, whose last bits (and so the
    # order of two centres otherwise tied) would follow the order links were stored in
    links = store.con.execute(
        "SELECT row_a, row_b, score FROM claim_links WHERE status = ? ORDER BY row_a, row_b",
        [SAME],
    ).fetchnumpy()
    repeated = np.asarray(
        store.con.execute(
            "SELECT row FROM claim_sentences GROUP BY row HAVING count(DISTINCT seq) > 1"
        ).fetchnumpy()["row"],
        dtype=np.int64,
    )
    a, b = (np.asarray(links[k], dtype=np.int64) for k in ("row_a", "row_b"))
    s = np.asarray(links["score"], dtype=np.float64)
    boilerplate = boilerplate_rows(store)
    _set_state(store, "boilerplate", str(len(boilerplate)))
    if len(boilerplate):
        keep = ~(np.isin(a, boilerplate) | np.isin(b, boilerplate))
        a, b, s = a[keep], b[keep], s[keep]
        repeated = repeated[~np.isin(repeated, boilerplate)]
    graph = sp.coo_matrix((np.r_[s, s], (np.r_[a, b], np.r_[b, a])), shape=(n, n)).tocsr()
    graph.sort_indices()  # each row's matches summed in column order, however they came
    degree = np.diff(graph.indptr)
    # rounded: totals equal but for float rounding (0.9 + 0.901 + 0.902 summed in two
    # orders) are a tie, which goes to the earlier row, not to the rounding
    weight = np.round(np.asarray(graph.sum(axis=1)).ravel(), 9)
    linked = np.flatnonzero(degree)
    # best connected first; ties by total score, then the earliest row (deterministic)
    order = linked[np.lexsort((linked, -weight[linked], -degree[linked]))]
    centre = np.full(n, -1, dtype=np.int64)
    score = np.zeros(n)
    for row in order:
        if centre[row] >= 0:
            continue
        lo, hi = graph.indptr[row], graph.indptr[row + 1]
        nbr, w = graph.indices[lo:hi], graph.data[lo:hi]
        free = centre[nbr] < 0
        if not free.any():
            continue  # every match already belongs to another centre
        centre[row] = row
        centre[nbr[free]] = row
        score[nbr[free]] = w[free]
        score[row] = float(w[free].max())
    alone = repeated[centre[repeated] < 0]
    centre[alone] = alone
    # a centre whose exact text other documents repeat matches them perfectly
    score[repeated[centre[repeated] == repeated]] = 1.0
    rows = np.flatnonzero(centre >= 0)
    # a cluster is named by its smallest row
    first = np.full(n, n, dtype=np.int64)
    np.minimum.at(first, centre[rows], rows)
    table = pa.table({"cluster_id": first[centre[rows]], "row": rows, "score": score[rows]})
    with store.transaction():
        store.con.execute("DELETE FROM claim_clusters")
        _insert(store, "INSERT INTO claim_clusters SELECT * FROM _claims_in", table)
    return len(np.unique(first[centre[rows]])) if len(rows) else 0


def run_claims(
    store: Store,
    params: ClaimsParams | None = None,
    *,
    progress: Progress | None = None,
    embedder: Embedder | None = None,
    matcher: Matcher | None = None,
) -> ClaimsSummary:
    params = params or ClaimsParams()
    named = resolve_model(params.model)[0] if params.model is not None else None
    if embedder is not None and named is not None and named != embedder.name:
        raise ClaimsError(
            f"params name model {params.model!r} but the embedder is {embedder.name!r}"
        )
    model = choose_model(store, params.model if embedder is None else embedder.name)
    if cut_by_older_version(store):
        raise ClaimsError(
            "this store's claim sentences were cut by an older echoscope (closing hashtags "
            "and bylines were read as claims); new documents would not match them. Start over "
            "with `echoscope analyze --stage claims --rebuild`"
        )
    summary = ClaimsSummary(model=model)
    t0 = time.perf_counter()
    _set_state(store, "sentences", SENTENCES_VERSION)
    _segment(store, params, summary, progress)
    summary.seconds["sentences"] = round(time.perf_counter() - t0, 2)

    need = store.con.execute(
        "SELECT count(*) FROM claim_texts WHERE row NOT IN (SELECT row FROM claim_vectors)"
    ).fetchall()[0][0]
    built = state(store)
    dim = int(built.get("dim", 0))
    if need or not dim:
        t = time.perf_counter()
        embedder = embedder or Embedder(model)
        if dim and embedder.dim != dim:
            raise ClaimsError(
                f"model {model!r} gives {embedder.dim}-d vectors, the store has {dim}-d"
            )
        dim = embedder.dim
        _set_state(store, "model", model)
        _set_state(store, "dim", str(dim))
        _embed_missing(store, embedder, params, summary, progress)
        summary.seconds["embed"] = round(time.perf_counter() - t, 2)

    t = time.perf_counter()
    before = int(built.get("index_rows", "0"))
    index = open_index(store, model, dim, progress)
    if len(index) != index.saved_rows:
        index.save(store.path)
    _set_state(store, "index_rows", str(len(index)))
    summary.texts_total = len(index)
    summary.seconds["index"] = round(time.perf_counter() - t, 2)

    if params.links:
        t = time.perf_counter()
        linked = int(built.get("linked_rows", "0"))
        _link(
            store,
            index,
            matcher or load_matcher(model=model),
            min(before, linked),
            params,
            summary,
            progress,
        )
        _set_state(store, "linked_rows", str(len(index)))
        summary.clusters = build_clusters(store)
        summary.boilerplate = int(state(store).get("boilerplate", "0"))
        summary.seconds["match"] = round(time.perf_counter() - t, 2)
    summary.links_total = store.count("claim_links")
    summary.seconds["total"] = round(time.perf_counter() - t0, 2)
    return summary
