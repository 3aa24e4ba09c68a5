"""The analyze stages are reproducible: the same input gives the same results, row for row.

Two runs over the same corpus must store the same links, clusters and trees, whatever
order the ANN graph was built in, how many threads built it, the order links were
stored in, or the process's string-hash seed. (Two runs of the claims stage on METER
once differed by 15 claim links: hnswlib inserting with several threads builds a
different graph each time.) Every test is offline and bounded; none depends on timing.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from echoscope.demo.run import build_corpus, ingest_corpus
from echoscope.detect.claims import index as index_mod
from echoscope.detect.claims.index import ClaimIndex
from echoscope.detect.claims.match import Matcher
from echoscope.detect.claims.stage import ClaimsParams, ClaimsSummary, _link, build_clusters
from echoscope.store import Store

# Every table an analyze run writes (src/echoscope/store/schema.py): reuse, claims and
# cascades. The inputs (documents, rejects, ingest runs) are compared too, as a check
# that both stores started the same.
RESULT_TABLES = [
    "reuse_state",
    "reuse_docs",
    "reuse_bands",
    "reuse_shingles",
    "reuse_links",
    "reuse_passages",
    "reuse_clusters",
    "claim_state",
    "claim_docs",
    "claim_sentences",
    "claim_texts",
    "claim_vectors",
    "claim_links",
    "claim_clusters",
    "cascade_edges",
    "claim_cascade_edges",
    "credit_scores",
]
INPUT_TABLES = ["documents", "rejects", "ingest_runs", "meta"]


def table_rows(db: Path) -> dict[str, list[tuple]]:
    """Every row of every table, in one order fixed by the values (ORDER BY ALL)."""
    with Store(db) as store:
        return {
            t: store.con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall()
            for t in RESULT_TABLES + INPUT_TABLES
        }


def analyze(db: Path, hash_seed: int, *extra: str) -> None:
    """`echoscope analyze` in a fresh process: a string-hash seed of its own, so that an
    order taken from iterating a set or dict of strings shows up as a difference."""
    env = os.environ | {"PYTHONHASHSEED": str(hash_seed), "HF_HUB_OFFLINE": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "echoscope", "analyze", "--db", str(db), "--quiet", *extra],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory) -> tuple[dict, dict]:
    """The demo corpus analyzed in two stores (the second twice: once, then --rebuild)."""
    folder = tmp_path_factory.mktemp("demo")
    first, second = folder / "first.duckdb", folder / "second.duckdb"
    with Store(first) as store:
        ingest_corpus(store, build_corpus(folder))
    shutil.copyfile(first, second)
    analyze(first, hash_seed=1)
    analyze(second, hash_seed=2)
    analyze(second, 3, "--rebuild")  # from scratch again, over its own results
    return table_rows(first), table_rows(second)


def tied_alternatives_sorted(rows: list[tuple]) -> list[tuple]:
    """Cascade edges with each edge's evidence "alternatives" in (strength, seq) order."""
    out = []
    for row in rows:
        evidence = json.loads(row[-1]) if row[-1] else None
        if evidence:
            evidence["alternatives"].sort(key=lambda alt: (-alt["strength"], alt["seq"]))
        out.append((*row[:-1], json.dumps(evidence, sort_keys=True)))
    return sorted(out, key=repr)


def test_demo_corpus_analyzed_twice_gives_identical_tables(two_runs):
    a, b = two_runs
    # the comparison means something: every stage found what the demo is about
    for table in ("reuse_links", "claim_links", "claim_clusters", "cascade_edges"):
        assert a[table], f"the demo left {table} empty"
    assert a["claim_cascade_edges"]
    # evidence lists parents tied with the chosen one in no fixed order (see the next test)
    for table in ("cascade_edges", "claim_cascade_edges"):
        a[table], b[table] = tied_alternatives_sorted(a[table]), tied_alternatives_sorted(b[table])
    differ = [t for t in a if a[t] != b[t]]
    assert not differ, f"tables differ between two runs: {differ}"


@pytest.mark.xfail(
    reason="trace/cascade.py sorts an edge's alternative parents by strength alone, in the "
    "order DuckDB's join returned them, which changes from run to run: tied alternatives "
    "(the same sentence in several earlier documents) swap places in the evidence. Needs "
    "key=(-strength, seq) in _choose_parent; not in this engineer's files",
    strict=False,  # the order is a race: some runs agree by chance
)
def test_demo_cascade_evidence_is_identical_as_stored(two_runs):
    a, b = two_runs
    for table in ("cascade_edges", "claim_cascade_edges"):
        assert a[table] == b[table]


# --- the sentence index and the links it gives ------------------------------------------


def hard_vectors(n: int, dim: int, seed: int) -> np.ndarray:
    """Unit vectors in loose groups: many near-ties among neighbours, where an HNSW graph's
    answer depends on how it was built."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(max(1, n // 20), dim))
    v = centres[rng.integers(0, len(centres), n)] + 1.2 * rng.normal(size=(n, dim))
    return (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)


def texts_for(n: int) -> list[str]:
    return [f"statement {i} about harbour {i % 7} and ferry {i % 11}" for i in range(n)]


def index_built_in_order(vectors: np.ndarray, threads: int = 4) -> ClaimIndex:
    """The index as the stage builds it, asked to use several threads."""
    index = ClaimIndex(vectors.shape[1], "test")
    index._hnsw.set_num_threads(threads)
    for lo in range(0, len(vectors), 700):  # in chunks, as open_index adds them
        rows = np.arange(lo, min(len(vectors), lo + 700))
        index.add(rows, vectors[rows], texts_for(len(vectors))[lo : rows[-1] + 1])
    return index


def index_built_shuffled(vectors: np.ndarray, seed: int, threads: int = 4) -> ClaimIndex:
    """The same rows, but the graph built in a shuffled order by several threads (what a
    graph built any other way may look like)."""
    index = ClaimIndex(vectors.shape[1], "test")
    index._hnsw.resize_index(max(len(vectors), 1024))
    perm = np.random.default_rng(seed).permutation(len(vectors))
    index._hnsw.add_items(vectors[perm], perm, num_threads=threads)
    index.lexical.add(texts_for(len(vectors)))
    return index


# links at a cosine of 0.2 or more (review), 0.3 or more (same); no lexical part
COSINE_MATCHER = Matcher(w_semantic=40.0, w_lexical=0.0, bias=-8.0, same=0.98, review=0.5)


def links_of(index: ClaimIndex, db: Path) -> list[tuple]:
    with Store(db) as store:
        _link(store, index, COSINE_MATCHER, 0, ClaimsParams(), ClaimsSummary(), None)
        return store.con.execute("SELECT * FROM claim_links ORDER BY row_a, row_b").fetchall()


def test_links_do_not_depend_on_the_order_or_threads_the_graph_was_built_with(tmp_path):
    vectors = hard_vectors(3000, 32, seed=5)
    ordered = links_of(index_built_in_order(vectors), tmp_path / "a.duckdb")
    shuffled = links_of(index_built_shuffled(vectors, seed=9), tmp_path / "b.duckdb")
    assert len(ordered) > 3000  # many links, many of them near a tie
    assert ordered == shuffled
    # and they are the exact ones: each row's neighbours by float64 cosine, ties by row
    full = vectors.astype(np.float64) @ vectors.astype(np.float64).T
    expected = set()
    for r in range(len(vectors)):
        top = np.lexsort((np.arange(len(vectors)), -full[r]))[: ClaimsParams().neighbors + 1]
        expected |= {(min(r, int(o)), max(r, int(o))) for o in top if o != r and full[r, o] >= 0.2}
    assert {(a, b) for a, b, *_ in ordered} == expected


def test_a_large_index_builds_the_same_graph_every_time(tmp_path, monkeypatch):
    # beyond EXACT_ROWS the graph proposes the candidates: it must be the same graph
    monkeypatch.setattr(index_mod, "EXACT_ROWS", 0)
    # spread evenly in 128 dimensions, the hardest for a graph: built with several threads,
    # two builds answered differently for about 90 of these 4000 rows
    rng = np.random.default_rng(11)
    vectors = rng.normal(size=(4000, 128))
    vectors = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)
    first = links_of(index_built_in_order(vectors, threads=4), tmp_path / "a.duckdb")
    second = links_of(index_built_in_order(vectors, threads=3), tmp_path / "b.duckdb")
    assert len(first) > 3000
    assert first == second


def brute_force(index_vectors: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    full = queries.astype(np.float64) @ index_vectors.astype(np.float64).T
    idx = np.arange(len(index_vectors))
    return np.array([np.lexsort((idx, -row))[:k] for row in full], dtype=np.int64)


# small integer vectors: many exact ties (equal and repeated vectors), the hard case
small_vectors = st.integers(min_value=2, max_value=40).flatmap(
    lambda n: st.lists(
        st.lists(st.integers(-2, 2), min_size=6, max_size=6).filter(any),
        min_size=n,
        max_size=n,
    )
)


@settings(max_examples=40, deadline=None, derandomize=True)
@given(rows=small_vectors, k=st.integers(1, 12), seed=st.integers(0, 2**16), exact=st.booleans())
def test_nearest_is_the_exact_ranking_however_the_graph_was_built(rows, k, seed, exact):
    vectors = np.asarray(rows, dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    saved = index_mod.EXACT_ROWS
    index_mod.EXACT_ROWS = saved if exact else 0  # both paths: all rows, or the graph's
    try:
        built = index_built_in_order(vectors)
        shuffled = index_built_shuffled(vectors, seed)
        k = min(k, len(vectors))
        want = brute_force(vectors, vectors, k)
        for index in (built, shuffled):
            rows_found, cosines = index.nearest(vectors, k)
            if exact or len(vectors) <= k + index_mod.EXTRA:  # the graph returns every row
                assert np.array_equal(rows_found, want)
            # best first, ties to the smaller row, whatever the path
            assert all(
                list(zip(-c, r, strict=True)) == sorted(zip(-c, r, strict=True))
                for r, c in zip(rows_found, cosines, strict=True)
            )
        assert np.array_equal(built.nearest(vectors, k)[0], shuffled.nearest(vectors, k)[0])
    finally:
        index_mod.EXACT_ROWS = saved


# --- claim clusters -----------------------------------------------------------------------


def clusters_from(db: Path, n_rows: int, links: list[tuple[int, int, float]]) -> list[tuple]:
    """build_clusters over ``links`` (all 'same'), stored in the order given."""
    with Store(db) as store:
        store.con.executemany(
            "INSERT INTO claim_texts VALUES (?, ?, ?)", [(r, r, f"t{r}") for r in range(n_rows)]
        )
        store.con.executemany(
            "INSERT INTO claim_links VALUES (?, ?, 1.0, 0.0, ?, 'same')",
            [(a, b, s) for a, b, s in links],
        )
        build_clusters(store)
        return store.con.execute("SELECT * FROM claim_clusters ORDER BY ALL").fetchall()


def test_claim_clusters_do_not_depend_on_the_order_links_were_stored(tmp_path):
    # rows 0 and 1 both match 2, 3 and 4, with the same scores: a tie, broken by the
    # smaller row. Summed in the order stored, 0.9 + 0.901 + 0.902 is 2.7030000000000003
    # one way and 2.703 the other, and the centre (and so the cluster) went with it.
    links = [(0, 2, 0.9), (0, 3, 0.901), (0, 4, 0.902), (1, 2, 0.902), (1, 3, 0.901), (1, 4, 0.9)]
    orders = [links, links[::-1], links[3:] + links[:3], links[:3][::-1] + links[3:][::-1]]
    results = [clusters_from(tmp_path / f"c{i}.duckdb", 5, o) for i, o in enumerate(orders)]
    assert all(r == results[0] for r in results)
    assert {row for _, row, _ in results[0]} == {0, 2, 3, 4}  # the tie goes to row 0


@settings(max_examples=30, deadline=None, derandomize=True)
@given(
    edges=st.lists(
        st.tuples(
            st.integers(0, 11), st.integers(0, 11), st.sampled_from([0.9, 0.901, 0.902, 0.95])
        ),
        min_size=1,
        max_size=30,
    ),
    seed=st.integers(0, 2**16),
)
def test_claim_clusters_are_the_same_for_any_storing_order(tmp_path_factory, edges, seed):
    links = list({(min(a, b), max(a, b)): s for a, b, s in edges if a != b}.items())
    links = [(a, b, s) for (a, b), s in links]
    if not links:
        return
    shuffled = links[:]
    random.Random(seed).shuffle(shuffled)
    folder = tmp_path_factory.mktemp("clusters")
    assert clusters_from(folder / "a.duckdb", 12, links) == clusters_from(
        folder / "b.duckdb", 12, shuffled
    )


@pytest.mark.parametrize("block", [1, 7, 512])
def test_pair_scores_do_not_depend_on_what_is_scored_with_them(block):
    # a pair's exact score is the same alone or in a batch of any size (a BLAS product's
    # last bits change with its shape; these must not)
    vectors = hard_vectors(600, 384, seed=3)
    a, b = vectors[:-1], vectors[1:]
    alone = [index_mod.exact_cosines(a[i : i + 1], b[i : i + 1])[0] for i in range(len(a))]
    batched = np.concatenate(
        [
            index_mod.exact_cosines(a[lo : lo + block], b[lo : lo + block])
            for lo in range(0, len(a), block)
        ]
    )
    assert np.array_equal(np.asarray(alone), batched)
