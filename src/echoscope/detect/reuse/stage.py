"""The reuse stage: index new documents, find candidate pairs, align, classify, cluster.

Incremental by construction: the index (set hashes, LSH band keys, shingles) lives in the
store, so documents ingested later are compared with everything indexed before without
recomputing old pairs. Candidate generation is three joins in DuckDB:

- exact: documents with the same shingle set (reposts, syndicated copies);
- minhash: the same LSH band key (near-duplicates above the Jaccard threshold);
- containment: at least ``min_shared`` rare shingles in common, whatever the lengths
  (a quoted paragraph inside a long article, which Jaccard misses).

Every candidate is then aligned; only pairs with at least one passage become links.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from echoscope.detect.reuse.classify import VERBATIM
from echoscope.detect.reuse.clusters import boilerplate_candidates, build_clusters, find_boilerplate
from echoscope.detect.reuse.lsh import optimal_bands
from echoscope.detect.reuse.minhash import MinHasher
from echoscope.detect.text import tokens
from echoscope.engine import LocalEngine
from echoscope.engine.local import AlignTask
from echoscope.store import Store
from echoscope.trace.time import latest_series

# Every parameter that changes which links exist: an incremental run must use the same
# ones as the runs before it, or its links would differ from a full run's.
BOILERPLATE_KEY_WORDS = 12  # passages of repeated text are recognised by their opening words
INDEX_KEYS = (
    "shingle",
    "num_perm",
    "threshold",
    "seed",
    "bands",
    "rows",
    "max_df",
    "min_shared",
    "max_bucket",
    "min_tokens",
    "max_gap",
    "cross_source",
    "max_days",
)
Progress = Callable[[str, int, int], None]  # (step, done, total)


class ReuseError(RuntimeError):
    """The stage cannot run as asked; the message says what to do."""


@dataclass
class ReuseParams:
    """Parameters of the index; changing any of the first five needs a rebuild."""

    shingle: int = 5  # words per shingle
    num_perm: int = 128
    threshold: float = 0.5  # Jaccard similarity the LSH bands target
    seed: int = 1
    max_df: int = 100  # shingles in more documents than this are too common to seed pairs
    min_shared: int = 3  # rare shingles two documents must share to be aligned
    max_bucket: int = 200  # larger LSH buckets are linked as a star
    min_tokens: int = 8  # shortest passage reported (a copied short post is always kept)
    max_gap: int = 20  # tokens of edits bridged inside one passage
    cross_source: bool = False  # only pairs from different sources
    max_days: float | None = None  # only pairs published within this many days
    bands: int = 0
    rows: int = 0
    batch: int = 50_000

    def __post_init__(self) -> None:
        if self.shingle < 1:
            raise ReuseError("--shingle must be at least 1")
        if not 0 < self.threshold < 1:
            raise ReuseError("--threshold must be between 0 and 1")
        if not self.bands or not self.rows:
            self.bands, self.rows = optimal_bands(self.threshold, self.num_perm)

    def index_signature(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in INDEX_KEYS}


@dataclass
class ReuseSummary:
    new_documents: int = 0
    indexed_documents: int = 0
    candidates: dict[str, int] = field(default_factory=dict)
    links_added: int = 0
    links_total: int = 0
    passages_total: int = 0
    clusters: int = 0
    boilerplate_links: int = 0
    kinds: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _state(store: Store) -> dict[str, str]:
    return dict(store.con.execute("SELECT key, value FROM reuse_state").fetchall())


def reset_index(store: Store) -> None:
    for table in (
        "reuse_state",
        "reuse_docs",
        "reuse_bands",
        "reuse_shingles",
        "reuse_links",
        "reuse_passages",
        "reuse_clusters",
    ):
        store.con.execute(f"DELETE FROM {table}")


def run_reuse(
    store: Store,
    params: ReuseParams | None = None,
    engine: LocalEngine | None = None,
    progress: Progress | None = None,
    rebuild: bool = False,
) -> ReuseSummary:
    params = params or ReuseParams()
    engine = engine or LocalEngine()
    summary = ReuseSummary()
    con = store.con
    if rebuild:
        reset_index(store)
    state = _state(store)
    if "index" in state and json.loads(state["index"]) != json.loads(
        json.dumps(params.index_signature())
    ):
        raise ReuseError(
            "the reuse index was built with other parameters "
            f"({state['index']}); run with --rebuild to re-index everything with the new ones"
        )
    last_seq = int(state.get("last_seq", 0))
    _discard_unfinished(store, last_seq)
    max_seq = int(con.execute("SELECT coalesce(max(seq), 0) FROM documents").fetchall()[0][0])
    summary.new_documents = int(
        con.execute("SELECT count(*) FROM documents WHERE seq > ?", [last_seq]).fetchall()[0][0]
    )
    if summary.new_documents == 0:
        summary.links_total = store.count("reuse_links")
        summary.clusters = int(
            con.execute("SELECT count(DISTINCT cluster_id) FROM reuse_clusters").fetchall()[0][0]
        )
        return summary

    # 1. index the new documents
    t0 = time.perf_counter()
    hasher = MinHasher(params.num_perm, params.seed)
    done = 0
    cursor = last_seq
    while True:
        frame = con.execute(
            "SELECT seq, text FROM documents WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?",
            [cursor, max_seq, params.batch],
        ).df()
        if frame.empty:
            break
        seqs = frame["seq"].to_numpy(dtype=np.int64)
        batch = engine.index(
            frame["text"].tolist(), params.shingle, hasher, params.bands, params.rows
        )
        n_sh = np.diff(batch.shingled.offsets)
        docs = pd.DataFrame(
            {
                "seq": seqs,
                "set_hash": batch.set_hash,
                "n_tokens": batch.shingled.n_tokens.astype(np.int32),
                "n_shingles": n_sh.astype(np.int32),
            }
        )
        has = n_sh > 0
        bands = pd.DataFrame(
            {
                "band": np.tile(np.arange(params.bands, dtype=np.int16), int(has.sum())),
                "key": batch.bands[has].reshape(-1),
                "seq": np.repeat(seqs[has], params.bands),
            }
        )
        shingles = pd.DataFrame({"hash": batch.shingled.hashes, "seq": np.repeat(seqs, n_sh)})
        with store.transaction():
            for name, df in (
                ("reuse_docs", docs),
                ("reuse_bands", bands),
                ("reuse_shingles", shingles),
            ):
                con.register("_df", df)
                con.execute(f"INSERT INTO {name} SELECT * FROM _df")
                con.unregister("_df")
        cursor = int(seqs[-1])
        done += len(frame)
        if progress:
            progress("index", done, summary.new_documents)
    summary.indexed_documents = done
    summary.seconds["index"] = round(time.perf_counter() - t0, 2)

    # 2. candidates (new document x any earlier-indexed or new document)
    t0 = time.perf_counter()
    cands = _candidates(store, params, last_seq, max_seq)
    for method in ("exact", "minhash", "containment"):
        summary.candidates[method] = int((cands["method"] == method).sum()) if len(cands) else 0
    summary.seconds["candidates"] = round(time.perf_counter() - t0, 2)

    # 3. align and classify
    t0 = time.perf_counter()
    link_id = int(con.execute("SELECT coalesce(max(link_id), 0) FROM reuse_links").fetchall()[0][0])
    added = 0
    total = len(cands)
    for start in range(0, total, 20_000):
        chunk = cands.iloc[start : start + 20_000]
        links, passages, link_id = _align_chunk(store, engine, params, chunk, link_id)
        _write(store, links, passages)
        added += len(links)
        if progress:
            progress("align", min(start + 20_000, total), total)
    summary.links_added = added
    summary.seconds["align"] = round(time.perf_counter() - t0, 2)

    # 4. boilerplate and clusters over all links
    t0 = time.perf_counter()
    _finish(store, summary)
    con.execute(
        "INSERT OR REPLACE INTO reuse_state VALUES ('index', ?), ('last_seq', ?), ('params', ?)",
        [json.dumps(params.index_signature()), str(max_seq), json.dumps(asdict(params))],
    )
    summary.seconds["clusters"] = round(time.perf_counter() - t0, 2)
    return summary


def _discard_unfinished(store: Store, last_seq: int) -> None:
    """A run that stopped before recording its progress left index rows and links for
    documents after ``last_seq``; remove them so the rerun does not count them twice."""
    con = store.con
    with store.transaction():
        for table in ("reuse_docs", "reuse_bands", "reuse_shingles"):
            con.execute(f"DELETE FROM {table} WHERE seq > ?", [last_seq])
        con.execute("DELETE FROM reuse_passages WHERE seq_a > ? OR seq_b > ?", [last_seq, last_seq])
        con.execute("DELETE FROM reuse_links WHERE seq_a > ? OR seq_b > ?", [last_seq, last_seq])


def _candidates(store: Store, p: ReuseParams, last_seq: int, max_seq: int) -> pd.DataFrame:
    con = store.con
    con.execute("DROP TABLE IF EXISTS _reps")
    # One representative (the first indexed) per distinct shingle set.
    # Identical documents are compared once through their first copy; with metadata
    # filters each copy is compared on its own, since a filter may drop the copy's link.
    collapse = not (p.cross_source or p.max_days is not None)
    con.execute(
        "CREATE TEMP TABLE _reps AS SELECT seq, set_hash, min(seq) OVER (PARTITION BY set_hash) AS rep, "
        f"{'min(seq) OVER (PARTITION BY set_hash)' if collapse else 'seq'} AS probe "
        "FROM reuse_docs WHERE n_shingles > 0"
    )
    exact = con.execute(
        "SELECT r.rep AS a, r.seq AS b, 'exact' AS method, 0 AS shared FROM _reps r "
        "JOIN reuse_docs d ON d.seq = r.seq "
        "WHERE r.seq > ? AND r.seq <= ? AND r.rep <> r.seq AND d.n_tokens >= 3",
        [last_seq, max_seq],
    ).df()
    minhash = con.execute(
        f"""
        WITH rb AS (
            SELECT b.band, b.key, b.seq FROM reuse_bands b JOIN _reps r ON r.seq = b.seq AND r.probe = b.seq
        ),
        buckets AS (SELECT band, key, count(*) AS n, min(seq) AS hub FROM rb GROUP BY band, key HAVING n > 1),
        small AS (
            SELECT DISTINCT o.seq AS a, n.seq AS b FROM rb n
            JOIN buckets k ON k.band = n.band AND k.key = n.key AND k.n <= {int(p.max_bucket)}
            JOIN rb o ON o.band = n.band AND o.key = n.key AND o.seq < n.seq
            WHERE n.seq > ? AND n.seq <= ?
        ),
        big AS (
            SELECT DISTINCT k.hub AS a, n.seq AS b FROM rb n
            JOIN buckets k ON k.band = n.band AND k.key = n.key AND k.n > {int(p.max_bucket)}
            WHERE n.seq > ? AND n.seq <= ? AND n.seq <> k.hub
        )
        SELECT a, b, 'minhash' AS method, 0 AS shared FROM (SELECT * FROM small UNION SELECT * FROM big)
        """,
        [last_seq, max_seq, last_seq, max_seq],
    ).df()
    containment = con.execute(
        f"""
        WITH rs AS (
            SELECT s.hash, s.seq FROM reuse_shingles s JOIN _reps r ON r.seq = s.seq AND r.probe = s.seq
        ),
        df AS (SELECT hash FROM rs GROUP BY hash HAVING count(*) BETWEEN 2 AND {int(p.max_df)}),
        newsh AS (SELECT rs.hash, rs.seq FROM rs JOIN df USING (hash) WHERE rs.seq > ? AND rs.seq <= ?)
        SELECT o.seq AS a, n.seq AS b, 'containment' AS method, count(*) AS shared
        FROM newsh n JOIN df USING (hash) JOIN rs o ON o.hash = n.hash AND o.seq < n.seq
        GROUP BY o.seq, n.seq HAVING count(*) >= {int(p.min_shared)}
        """,
        [last_seq, max_seq],
    ).df()
    con.execute("DROP TABLE IF EXISTS _reps")
    frames = [f for f in (exact, minhash, containment) if len(f)]
    if not frames:
        return pd.DataFrame(columns=["a", "b", "method", "shared"])
    cands = pd.concat(frames, ignore_index=True)
    # One row per pair; the strongest method wins (exact > minhash > containment).
    rank = cands["method"].map({"exact": 0, "minhash": 1, "containment": 2})
    cands = cands.assign(rank=rank, shared=cands["shared"].astype(np.int64))
    shared = cands.groupby(["a", "b"])["shared"].transform("max")
    cands = cands.assign(shared=shared).sort_values(["a", "b", "rank"]).drop_duplicates(["a", "b"])
    cands = cands.drop(columns="rank").reset_index(drop=True)
    return _filter_pairs(store, p, cands)


def _filter_pairs(store: Store, p: ReuseParams, cands: pd.DataFrame) -> pd.DataFrame:
    """Orient each pair earlier -> later and apply the metadata filters."""
    con = store.con
    con.register("_c", cands)
    try:
        out = con.execute(
            """
            SELECT c.a, c.b, c.method, c.shared,
                   da.source AS src_a, db.source AS src_b,
                   da.published_at AS t_a, db.published_at AS t_b,
                   da.time_precision AS p_a, db.time_precision AS p_b
            FROM _c c JOIN documents da ON da.seq = c.a JOIN documents db ON db.seq = c.b
            """
        ).df()
    finally:
        con.unregister("_c")
    if p.cross_source:
        out = out[(out["src_a"] != out["src_b"]) | out["src_a"].isna()]
    if p.max_days is not None:
        gap = (out["t_b"] - out["t_a"]).abs().dt.total_seconds() / 86400.0
        out = out[gap.isna() | (gap <= p.max_days)]
    # The earlier document is A. Swap only when B certainly ended before A began, given
    # both precisions (a day-precision date covers the whole day); unknown times and
    # overlapping bounds keep the indexing order.
    out = out.reset_index(drop=True)
    latest_b = latest_series(out["t_b"], out["p_b"])
    start_a = pd.to_datetime(out["t_a"], errors="coerce").astype("datetime64[ns]")
    swap = (latest_b.notna() & start_a.notna() & (latest_b <= start_a)).to_numpy()
    a = np.where(swap, out["b"], out["a"])
    b = np.where(swap, out["a"], out["b"])
    return pd.DataFrame(
        {"a": a, "b": b, "method": out["method"].to_numpy(), "shared": out["shared"].to_numpy()}
    )


def _align_chunk(
    store: Store, engine: LocalEngine, p: ReuseParams, chunk: pd.DataFrame, link_id: int
):
    con = store.con
    seqs = pd.unique(np.concatenate([chunk["a"].to_numpy(), chunk["b"].to_numpy()]))
    con.register("_s", pd.DataFrame({"seq": seqs}))
    try:
        texts = dict(
            con.execute("SELECT d.seq, d.text FROM documents d JOIN _s USING (seq)").fetchall()
        )
    finally:
        con.unregister("_s")
    link_rows: list[tuple] = []
    passage_rows: list[tuple] = []
    exact = chunk[chunk["method"] == "exact"]
    for a, b, shared in zip(exact["a"], exact["b"], exact["shared"], strict=True):
        # Same shingle set: the whole text is the passage; no alignment needed.
        link_id += 1
        ta, tb = texts[a], texts[b]
        link_rows.append(
            (link_id, int(a), int(b), VERBATIM, "exact", 1, None, 1.0, 1.0, 1.0, int(shared), False)
        )
        passage_rows.append((link_id, int(a), 0, len(ta), int(b), 0, len(tb), None, 1.0))
    rest = chunk[chunk["method"] != "exact"]
    tasks = [
        AlignTask(int(a), int(b), texts[a], texts[b])
        for a, b in zip(rest["a"], rest["b"], strict=True)
    ]
    meta = {
        (int(a), int(b)): (m, int(s))
        for a, b, m, s in zip(rest["a"], rest["b"], rest["method"], rest["shared"], strict=True)
    }
    for results in engine.align(tasks, p.min_tokens, p.max_gap):
        for r in results:
            if not r.passages or r.summary is None:
                continue
            link_id += 1
            method, shared = meta[(r.seq_a, r.seq_b)]
            s = r.summary
            link_rows.append(
                (
                    link_id,
                    r.seq_a,
                    r.seq_b,
                    s.kind,
                    method,
                    s.passages,
                    s.matched,
                    s.identity,
                    s.coverage_a,
                    s.coverage_b,
                    shared,
                    False,
                )
            )
            for ps in r.passages:
                passage_rows.append(
                    (
                        link_id,
                        r.seq_a,
                        ps.a_begin,
                        ps.a_end,
                        r.seq_b,
                        ps.b_begin,
                        ps.b_end,
                        ps.matched,
                        ps.identity,
                    )
                )
    links = pd.DataFrame(
        link_rows,
        columns=[
            "link_id",
            "seq_a",
            "seq_b",
            "kind",
            "method",
            "passages",
            "matched",
            "identity",
            "coverage_a",
            "coverage_b",
            "shared_shingles",
            "boilerplate",
        ],
    )
    passages = pd.DataFrame(
        passage_rows,
        columns=[
            "link_id",
            "seq_a",
            "a_begin",
            "a_end",
            "seq_b",
            "b_begin",
            "b_end",
            "matched",
            "identity",
        ],
    )
    return links, passages, link_id


def _write(store: Store, links: pd.DataFrame, passages: pd.DataFrame) -> None:
    con = store.con
    with store.transaction():
        if len(links):
            con.register("_l", links)
            con.execute("INSERT INTO reuse_links SELECT * FROM _l")
            con.unregister("_l")
        if len(passages):
            con.register("_p", passages)
            con.execute("INSERT INTO reuse_passages SELECT * FROM _p")
            con.unregister("_p")


def _finish(store: Store, summary: ReuseSummary) -> None:
    con = store.con
    links = con.execute(
        "SELECT link_id, seq_a, seq_b, coverage_a, coverage_b FROM reuse_links"
    ).df()
    if len(links):
        sources = dict(
            con.execute(
                "SELECT d.seq, d.source FROM documents d WHERE d.seq IN (SELECT seq_a FROM reuse_links UNION SELECT seq_b FROM reuse_links)"
            ).fetchall()
        )
        cand = boilerplate_candidates(links, sources)
        keys = pd.DataFrame(columns=["link_id", "key"])
        if cand.any():
            con.register("_bl", pd.DataFrame({"link_id": links["link_id"].to_numpy()[cand]}))
            try:
                rows = con.execute(
                    "SELECT p.link_id, substr(d.text, p.a_begin + 1, least(p.a_end - p.a_begin, 400)) "
                    "FROM reuse_passages p JOIN _bl USING (link_id) JOIN documents d ON d.seq = p.seq_a"
                ).fetchall()
            finally:
                con.unregister("_bl")
            keys = pd.DataFrame(
                [(lid, " ".join(tokens(text)[:BOILERPLATE_KEY_WORDS])) for lid, text in rows],
                columns=["link_id", "key"],
            )
        boiler = find_boilerplate(links, sources, keys)
        flagged = pd.DataFrame({"link_id": links["link_id"].to_numpy()[boiler]})
        con.execute("UPDATE reuse_links SET boilerplate = false")
        if len(flagged):
            con.register("_bp", flagged)
            con.execute(
                "UPDATE reuse_links SET boilerplate = true WHERE link_id IN (SELECT link_id FROM _bp)"
            )
            con.unregister("_bp")
        summary.boilerplate_links = int(boiler.sum())
    passages = con.execute(
        "SELECT p.link_id, p.seq_a, p.a_begin, p.a_end, p.seq_b, p.b_begin, p.b_end FROM reuse_passages p "
        "JOIN reuse_links l USING (link_id) WHERE NOT l.boilerplate"
    ).df()
    members = build_clusters(passages)
    with store.transaction():
        con.execute("DELETE FROM reuse_clusters")
        if len(members):
            con.register("_m", members)
            con.execute("INSERT INTO reuse_clusters SELECT * FROM _m")
            con.unregister("_m")
    summary.links_total = store.count("reuse_links")
    summary.passages_total = store.count("reuse_passages")
    summary.clusters = int(members["cluster_id"].nunique()) if len(members) else 0
    summary.kinds = dict(
        con.execute(
            "SELECT kind, count(*) FROM reuse_links GROUP BY kind ORDER BY 2 DESC"
        ).fetchall()
    )
