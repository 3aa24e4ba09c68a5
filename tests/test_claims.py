"""Claims: re-worded claims found across sources and ordered in time, nothing linked to
unrelated text, the matcher and BM25 parts, model identity, the index surviving restarts
and losses, incremental runs, exact sentence offsets, the demo scenario, hostile input.

One embedder (the packaged all-MiniLM-L6-v2, offline) is loaded once and passed to every
run and tracer, so the model is paid for a single time.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest

from echoscope.detect.claims.embed import BASE_MODEL, DEFAULT_MODEL, Embedder
from echoscope.detect.claims.index import index_paths
from echoscope.detect.claims.lexical import BM25
from echoscope.detect.claims.match import REVIEW, SAME, any_sentence, load_matcher
from echoscope.detect.claims.stage import (
    ClaimsError,
    ClaimsParams,
    choose_model,
    reset,
    run_claims,
    state,
    text_key,
)
from echoscope.store import Store
from echoscope.trace.claims import ClaimTracer
from helpers import store_docs

CLAIM = "The city council voted to close the Elm Street library in June."
REWORD_TWEET = "Councillors have decided the Elm Street library will shut this June."
REWORD_BLOG = "Elm Street's library is to close in June after a council vote."
LIBRARY_SENTENCES = {CLAIM, REWORD_TWEET, REWORD_BLOG}

# (id, source, published_at, text)
LIBRARY_DOCS = [
    (
        "elm-times/library-vote",
        "elm-times",
        datetime(2024, 5, 2, 9, 0),
        CLAIM + " Residents said they were disappointed by the decision.",
    ),
    (
        "twitter/1786001",
        "twitter",
        datetime(2024, 5, 2, 7, 30),  # the earliest statement of the claim
        REWORD_TWEET + " So sad!",
    ),
    (
        "riverside-blog/elm-street",
        "riverside-blog",
        datetime(2024, 5, 3, 8, 0),
        "Big changes are coming downtown this summer. " + REWORD_BLOG,
    ),
]
UNRELATED_DOCS = [
    (
        "sports-desk/derby",
        "sports-desk",
        datetime(2024, 5, 1, 20, 0),
        "United beat City by three goals to one on Saturday evening. "
        "Their striker scored twice before half time.",
    ),
    (
        "weather-wire/tuesday",
        "weather-wire",
        datetime(2024, 5, 2, 6, 0),
        "Heavy rain and strong winds are expected across the region on Tuesday. "
        "Forecasters warned of flooding near the river.",
    ),
    (
        "food-blog/sponge-cake",
        "food-blog",
        datetime(2024, 4, 30, 12, 0),  # older than every library document
        "Whisk the eggs with the sugar until pale and fluffy. "
        "Fold in the flour gently and bake for twenty minutes.",
    ),
    (
        "elm-times/road-budget",
        "elm-times",
        datetime(2024, 5, 4, 9, 0),
        "The council also approved a new budget for road repairs next year. "
        "Parking fees in the town centre will rise by ten percent.",
    ),
    (
        "garden-weekly/roses",
        "garden-weekly",
        datetime(2024, 5, 1, 10, 0),
        "Prune your roses in early spring to encourage strong new growth.",
    ),
]
LIBRARY_IDS = {d[0] for d in LIBRARY_DOCS}
UNRELATED_IDS = {d[0] for d in UNRELATED_DOCS}


def rows_of(store: Store, doc_ids) -> set[int]:
    ids = list(doc_ids)
    marks = ",".join("?" * len(ids))
    return {
        r
        for (r,) in store.con.execute(
            f"SELECT s.row FROM claim_sentences s JOIN documents d ON d.seq = s.seq "
            f"WHERE d.id IN ({marks})",
            ids,
        ).fetchall()
    }


def row_of_text(store: Store, text: str) -> int:
    found = store.con.execute("SELECT row FROM claim_texts WHERE text = ?", [text]).fetchall()
    assert len(found) == 1, (text, found)
    return found[0][0]


@pytest.fixture(scope="module")
def library(tmp_path_factory, embedder):
    """A store of the three re-wordings and five unrelated documents, claims already run.
    Tests using it only read."""
    path = tmp_path_factory.mktemp("library") / "library.duckdb"
    with Store(path) as store:
        store_docs(store, LIBRARY_DOCS + UNRELATED_DOCS)
        summary = run_claims(store, embedder=embedder)
        yield store, summary, ClaimTracer(store, embedder=embedder)


def build(path: Path, docs, embedder: Embedder, **params):
    store = Store(path)
    store_docs(store, docs)
    return store, run_claims(store, ClaimsParams(**params), embedder=embedder)


# --- 1, 2: re-wordings found, unrelated text left alone ------------------------------------


def test_trace_finds_every_rewording_in_time_order(library):
    _, summary, tracer = library
    assert summary.new_documents == 8 and summary.model == DEFAULT_MODEL
    result = tracer.trace(CLAIM)

    assert {o.doc_id for o in result.occurrences} == LIBRARY_IDS  # nothing unrelated
    assert {o.sentence for o in result.occurrences} == LIBRARY_SENTENCES
    assert all(o.status in (SAME, REVIEW) for o in result.occurrences)
    assert len(result.occurrences) == 3

    times = [o.published_at for o in result.occurrences]
    assert times == sorted(times)
    marked = [o for o in result.occurrences if o.earliest]
    assert len(marked) == 1 and marked[0] is result.earliest
    assert result.earliest.doc_id == "twitter/1786001"  # the tweet came before the paper
    assert result.earliest.status == SAME
    same_dated = [o for o in result.occurrences if o.status == SAME and o.published_at]
    assert result.earliest.published_at == min(o.published_at for o in same_dated)

    # evidence: the exact sentence and both scores travel with each occurrence
    own = next(o for o in result.occurrences if o.doc_id == "elm-times/library-vote")
    assert own.sentence == CLAIM and own.sentence_index == 0
    assert own.semantic > 0.99 and own.score >= tracer.matcher.same
    as_json = json.loads(json.dumps(result.as_dict()))
    assert as_json["occurrences"][0]["published_at"] == "2024-05-02T07:30:00"
    assert len(tracer.trace(CLAIM, limit=1).occurrences) == 1


def test_a_query_worded_differently_from_all_stored_sentences(library):
    _, _, tracer = library
    result = tracer.trace("Elm Street library closing in June, council decides")
    assert {o.doc_id for o in result.occurrences} == LIBRARY_IDS
    weather = tracer.trace("Flooding is feared as heavy rain and strong winds hit on Tuesday.")
    assert {o.doc_id for o in weather.occurrences} == {"weather-wire/tuesday"}


def test_unrelated_sentences_are_not_linked_and_rewordings_cluster(library):
    store, summary, _ = library
    claim_rows = {row_of_text(store, t) for t in LIBRARY_SENTENCES}
    unrelated = rows_of(store, UNRELATED_IDS)
    assert len(claim_rows) == 3 and unrelated and not claim_rows & unrelated

    links = store.con.execute("SELECT row_a, row_b, status FROM claim_links").fetchall()
    assert summary.links_total == len(links) > 0
    linked = {frozenset((a, b)) for a, b, _ in links}
    for a, b, status in links:
        assert a < b and status in (SAME, REVIEW)
        assert not ({a, b} & claim_rows and {a, b} & unrelated), (a, b)
    # every pair of re-wordings is linked directly
    assert {frozenset((a, b)) for a in claim_rows for b in claim_rows if a < b} <= linked

    clusters: dict[int, set[int]] = {}
    for cid, row in store.con.execute("SELECT cluster_id, row FROM claim_clusters").fetchall():
        clusters.setdefault(cid, set()).add(row)
    holding = [rows for rows in clusters.values() if rows & claim_rows]
    assert len(holding) == 1 and holding[0] == claim_rows
    assert min(claim_rows) in clusters  # a cluster is named by its smallest row


# --- 3, 4: the matcher and the lexical part ------------------------------------------------


def test_matcher_thresholds_monotonic_probability_and_floor(embedder):
    m = load_matcher()
    assert 0 < m.review < m.same < 1
    grid = np.linspace(-0.2, 1.0, 13)
    for lex in (0.0, 0.3, 1.0):
        p = m.probability(grid, np.full_like(grid, lex))
        assert np.all(np.diff(p) > 0)
    for sem in (0.2, 0.6, 0.9):
        lexes = np.linspace(0.0, 1.2, 13)
        p = m.probability(np.full_like(lexes, sem), lexes)
        assert np.all(np.diff(p) > 0)
    assert m.status(m.same) == SAME and m.status(m.review) == REVIEW
    assert m.status(m.review / 2) is None

    floor = m.semantic_floor()
    # the floor is exactly where a full lexical match (1.2) reaches review
    assert m.probability([floor], [1.2])[0] == pytest.approx(m.review, rel=1e-6)
    a, b = embedder.encode([CLAIM, REWORD_TWEET])
    assert floor < float(a @ b)
    assert float(a @ b) > 0.7


def test_time_aware_matcher_lowers_distant_and_undated_candidates(tmp_path):
    m = load_matcher()
    t = m.with_time()
    assert t.w_gap < 0 and t.w_undated < 0 and 0 < t.review < t.same < 1
    sem, lex = np.full(5, 0.7), np.full(5, 0.4)
    gaps = np.array([0.0, 2.0, 30.0, -400.0, 3000.0])
    p = t.probability(sem, lex, gaps)
    assert np.all(np.diff(p) < 0)  # further in time, either way: less likely
    assert t.probability(sem[:1], lex[:1], [2.0])[0] == t.probability(sem[:1], lex[:1], [-2.0])[0]
    undated = t.probability(sem[:1], lex[:1], [np.nan])[0]
    assert undated < p[0] and undated == pytest.approx(
        1 / (1 + np.exp(-(t.w_semantic * 0.7 + t.w_lexical * 0.4 + t.bias + t.w_undated)))
    )
    # the text matcher ignores time: the same with and without gaps
    assert np.array_equal(m.probability(sem, lex, gaps), m.probability(sem, lex))
    # the time term never raises a score, so the semantic floor still holds
    assert t.probability([t.semantic_floor()], [1.2], [0.0])[0] == pytest.approx(t.review)
    # a matcher file without time-aware weights says how to get them
    plain = tmp_path / "plain.json"
    plain.write_text(json.dumps({k: v for k, v in m.as_dict().items() if k != "timed"}))
    with pytest.raises(ValueError, match="no time-aware weights"):
        load_matcher(str(plain)).with_time()


def test_trace_near_a_date_prefers_the_occurrence_posted_near_it(tmp_path, embedder):
    """Two fact-checks state the claim in the same words, one days after the post and
    one years before: without a date they tie, with it the near one scores higher."""
    check = "Fact check: the council did not vote to close the Elm Street library."
    docs = [
        ("checks/2024", "checker", datetime(2024, 5, 4, 12, 0), check),
        ("checks/2019", "checker", datetime(2019, 3, 1, 12, 0), check),
        ("checks/undated", "checker", None, check),
        *UNRELATED_DOCS,
    ]
    store, _ = build(tmp_path / "near.duckdb", docs, embedder)
    with store:
        tracer = ClaimTracer(store, embedder=embedder)
        plain = {o.doc_id: o.score for o in tracer.trace(CLAIM, k=20).occurrences}
        assert plain["checks/2024"] == plain["checks/2019"] == plain["checks/undated"]
        posted = datetime(2024, 5, 2, 9, 0)
        result = tracer.trace(CLAIM, k=20, near=posted)
        timed = {o.doc_id: o.score for o in result.occurrences}
        assert timed["checks/2024"] > timed.get("checks/2019", 0.0)
        assert timed["checks/2024"] > timed.get("checks/undated", 0.0)
        assert result.near == posted and result.as_dict()["near"] == posted.isoformat()
        # the three share one stored sentence; each document keeps its own distance
        (row,) = rows_of(store, ["checks/2024"])
        assert rows_of(store, ["checks/2019", "checks/undated"]) == {row}
        gaps = tracer.gaps(np.array([row]), posted)[row]
        assert gaps["checks/2024"] == pytest.approx(2 + 3 / 24)
        assert gaps["checks/2019"] < -1800 and np.isnan(gaps["checks/undated"])


def test_a_document_matching_in_two_sentences_outranks_one_matching_in_one():
    # a fact-check whose title and claim both match beats one with a single, slightly
    # better sentence; one sentence alone keeps its probability; nothing matched is 0
    both = any_sentence([0.6, 0.5])
    assert both == pytest.approx(0.8)
    assert both > any_sentence([0.7])
    assert any_sentence([0.7]) == pytest.approx(0.7)
    assert any_sentence([]) == 0.0
    assert 0.0 <= any_sentence([1.5, -0.2]) <= 1.0


def test_bm25_rare_words_self_score_and_symmetry():
    # every sentence has exactly five content words, so each is of average length
    sentences = [
        "Greyfell reservoir chemical leak confirmed",  # the only one naming Greyfell
        "Harwick water supply restored today",
        "Harwick water bills rising again",
        "Harwick football club wins cup",
        "Water company chairman resigns suddenly",
    ]
    bm = BM25()
    bm.add(sentences[:2])
    bm.add(sentences[2:])  # appended in two parts, as the index grows
    assert len(bm) == 5

    rows, scores = bm.search("chemical found in the Greyfell water", 5)
    assert rows[0] == 0
    assert list(scores) == sorted(scores, reverse=True) and scores[0] > scores[1]
    assert set(rows) == {0, 1, 2, 4}  # no shared word with the football sentence
    assert bm.search("the of and", 5)[0].size == 0  # only stopwords: nothing

    for i, text in enumerate(sentences):
        assert bm.score(text, np.array([i]))[0] == pytest.approx(1.0, abs=0.02)
    a = np.array([0, 1, 2, 3, 1])
    b = np.array([1, 2, 3, 4, 1])
    ab, ba = bm.pair_scores(a, b), bm.pair_scores(b, a)
    np.testing.assert_allclose(ab, ba, rtol=1e-6)
    assert ab[4] == pytest.approx(1.0, abs=0.02)
    assert ab[1] > ab[2]  # "Harwick water" shared beats "Harwick" alone


# --- 5: one store, one model ---------------------------------------------------------------


def test_a_different_model_is_refused_before_it_is_loaded(tmp_path, embedder, monkeypatch):
    store, _ = build(tmp_path / "m.duckdb", LIBRARY_DOCS, embedder)
    with store:
        other = tmp_path / "other-model"
        other.mkdir()
        (other / "modules.json").write_text("[]", encoding="utf-8")  # loading it would fail

        def no_loading(*args, **kwargs):
            raise AssertionError("a model was loaded before the mismatch was refused")

        monkeypatch.setattr("echoscope.detect.claims.stage.Embedder", no_loading)
        monkeypatch.setattr("echoscope.trace.claims.Embedder", no_loading)

        with pytest.raises(ClaimsError, match=DEFAULT_MODEL):
            choose_model(store, "some/other-model")
        with pytest.raises(ClaimsError, match=DEFAULT_MODEL) as err:
            run_claims(store, ClaimsParams(model=str(other)))
        assert str(other.resolve()) in str(err.value)
        with pytest.raises(ClaimsError, match=DEFAULT_MODEL):
            ClaimTracer(store, model=str(other))
        assert state(store)["model"] == DEFAULT_MODEL

        # the default model under another spelling is the same model; the tuned MiniLM
        # made from it is another one
        assert choose_model(store, "sentence-transformers/all-MiniLM-L6-v2") == DEFAULT_MODEL
        assert choose_model(store, None) == DEFAULT_MODEL
        with pytest.raises(ClaimsError, match=DEFAULT_MODEL):
            choose_model(store, "echoscope-claims-minilm")
        # after a reset the store may be rebuilt with another model
        reset(store)
        assert store.count("claim_vectors") == 0
        assert not any(p.exists() for p in index_paths(store.path))
        assert choose_model(store, "some/other-model") == "some/other-model"


def test_tracer_needs_a_built_index(store, embedder):
    store_docs(store, LIBRARY_DOCS)
    with pytest.raises(ClaimsError, match="no sentence index"):
        ClaimTracer(store, embedder=embedder)


# --- 6: the index survives a restart and a loss --------------------------------------------


def test_index_survives_restart_and_is_rebuilt_without_reembedding(tmp_path, embedder, monkeypatch):
    db = tmp_path / "restart.duckdb"
    store, first = build(db, LIBRARY_DOCS + UNRELATED_DOCS, embedder)
    with store:
        before = [
            (o.doc_id, o.sentence, o.score)
            for o in ClaimTracer(store, embedder=embedder).trace(CLAIM).occurrences
        ]
    assert all(p.exists() and p.stat().st_size > 0 for p in index_paths(db))
    meta = json.loads(index_paths(db)[2].read_text(encoding="utf-8"))
    assert meta == {"rows": first.texts_total, "dim": embedder.dim, "model": DEFAULT_MODEL}

    calls: list[int] = []
    real_encode = embedder.encode

    def counting(texts, *args, **kwargs):
        calls.append(len(texts))
        return real_encode(texts, *args, **kwargs)

    monkeypatch.setattr(embedder, "encode", counting)

    with Store(db) as store:  # reopened: the saved index is used as is
        again = ClaimTracer(store, embedder=embedder).trace(CLAIM)
        assert [(o.doc_id, o.sentence, o.score) for o in again.occurrences] == before
        assert calls == [1]  # only the query

    for p in index_paths(db):
        p.unlink()
    with Store(db) as store:  # lost: rebuilt from the stored vectors
        vectors = store.count("claim_vectors")
        rebuilt = ClaimTracer(store, embedder=embedder).trace(CLAIM)
        assert [(o.doc_id, o.sentence, o.score) for o in rebuilt.occurrences] == before
        assert calls == [1, 1]
        summary = run_claims(store, embedder=embedder)
        assert summary.embedded == 0 and summary.new_documents == 0
        assert summary.links_added == 0 and summary.links_total == first.links_total
        assert store.count("claim_vectors") == vectors == first.texts_total
        assert calls == [1, 1]
    assert all(p.exists() for p in index_paths(db))


def test_corrupt_index_file_means_rebuild_not_crash(tmp_path):
    # in a child process: a crash inside the native index library must fail this test only
    script = textwrap.dedent(
        """
        import sys
        import numpy as np
        from echoscope.detect.claims.index import ClaimIndex, index_paths
        db = sys.argv[1]
        rng = np.random.default_rng(7)
        vecs = rng.normal(size=(12, 8)).astype(np.float32)
        vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
        index = ClaimIndex(8, "m")
        index.add(np.arange(12), vecs, [f"sentence number {i} about ferries" for i in range(12)])
        index.save(db)
        ok = ClaimIndex.load(db, dim=8, model="m", rows=12)
        assert ok is not None and len(ok) == 12
        assert ClaimIndex.load(db, dim=8, model="m", rows=13) is None  # stale row count
        assert ClaimIndex.load(db, dim=8, model="other", rows=12) is None
        hnsw = index_paths(db)[0]
        data = hnsw.read_bytes()
        hnsw.write_bytes(data[: len(data) // 2])
        assert ClaimIndex.load(db, dim=8, model="m", rows=12) is None
        hnsw.write_bytes(b"not an index")
        assert ClaimIndex.load(db, dim=8, model="m", rows=12) is None
        print("survived")
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "c.duckdb")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "survived" in proc.stdout


# --- 7: incremental runs -------------------------------------------------------------------


def test_incremental_run_embeds_only_new_texts_and_links_them_to_old(tmp_path, embedder):
    store, first = build(tmp_path / "inc.duckdb", LIBRARY_DOCS + UNRELATED_DOCS, embedder)
    with store:
        old_rows = first.texts_total
        assert first.embedded == first.new_texts == old_rows
        later = [
            (
                "radio-north/bulletin",
                "radio-north",
                datetime(2024, 5, 5, 8, 0),
                "Listeners heard that the Elm Street library shuts its doors in June following "
                "the council vote. " + CLAIM,  # the second sentence is already known
            ),
            (
                "forum/thread-42",
                "forum",
                datetime(2024, 5, 5, 9, 0),
                # the same words as a known sentence, shouted: not a new text
                "THE CITY COUNCIL VOTED TO CLOSE THE ELM STREET LIBRARY IN JUNE!! "
                "Volunteers plan a protest outside the town hall on Friday.",
            ),
            (
                "forum/thread-43",
                "forum",
                datetime(2024, 5, 5, 9, 5),
                "Volunteers plan a protest outside the town hall on Friday.",  # new, but twice
            ),
        ]
        assert store_docs(store, later) == 3
        second = run_claims(store, embedder=embedder)
        assert second.new_documents == 3
        assert second.new_sentences == 5
        assert second.new_texts == second.embedded == 2
        assert store.count("claim_vectors") == second.texts_total == old_rows + 2

        radio = next(
            r
            for r, t in store.con.execute("SELECT row, text FROM claim_texts").fetchall()
            if t.startswith("Listeners heard")
        )
        assert radio >= old_rows
        old_claim_rows = {row_of_text(store, t) for t in LIBRARY_SENTENCES}
        links = store.con.execute("SELECT row_a, row_b FROM claim_links").fetchall()
        linked_to_radio = {a for a, b in links if b == radio} | {b for a, b in links if a == radio}
        assert old_claim_rows <= linked_to_radio
        assert second.links_added == second.links_total - first.links_total > 0

        result = ClaimTracer(store, embedder=embedder).trace(CLAIM)
        found = {o.doc_id for o in result.occurrences}
        assert found == LIBRARY_IDS | {"radio-north/bulletin", "forum/thread-42"}
        shouted = [o for o in result.occurrences if o.doc_id == "forum/thread-42"]
        assert [o.sentence for o in shouted] == [
            "THE CITY COUNCIL VOTED TO CLOSE THE ELM STREET LIBRARY IN JUNE!!"
        ]

        third = run_claims(store, embedder=embedder)
        assert (third.new_documents, third.embedded, third.links_added) == (0, 0, 0)
        assert third.links_total == second.links_total


def test_links_skipped_once_are_made_on_a_later_run(tmp_path, embedder):
    store, first = build(tmp_path / "nolinks.duckdb", LIBRARY_DOCS, embedder, links=False)
    with store:
        assert first.links_total == 0 and store.count("claim_links") == 0
        second = run_claims(store, embedder=embedder)
        assert second.embedded == 0
        rows = {row_of_text(store, t) for t in LIBRARY_SENTENCES}
        linked = {
            frozenset(p)
            for p in store.con.execute("SELECT row_a, row_b FROM claim_links").fetchall()
        }
        assert {frozenset((a, b)) for a in rows for b in rows if a < b} <= linked


# --- 8, 9: sentences as exact slices -------------------------------------------------------

TRICKY_DOCS = [
    (
        "social/tricky",
        "social",
        datetime(2024, 5, 6, 12, 0),
        "🔥🔥 Breaking 👨\u200d👩\u200d👧: the harbour authority confirmed the new ferry terminal "
        "opens next spring. Café owners near the pier were délighted with the néws today! "
        "  Read more: https://example.com/ferry?id=42\n\n"
        "Mr. Smith of the U.S. Coast Guard said the pier would be inspected on Monday.",
    ),
    (
        "news/persian",
        "news-fa",
        datetime(2024, 5, 6, 13, 0),
        "وزارت بهداشت اعلام کرد که آب آشامیدنی شهر تا اطلاع ثانوی قابل استفاده نیست. "
        "مردم باید از آب بطری استفاده کنند.",
    ),
]


def test_sentence_lookup_returns_exact_slices(library, embedder, tmp_path):
    _, _, tracer = library
    assert tracer.sentence("riverside-blog/elm-street", 1) == REWORD_BLOG
    assert tracer.sentence("twitter/1786001", 0) == REWORD_TWEET
    with pytest.raises(ClaimsError, match="no claim sentence 1"):
        tracer.sentence("twitter/1786001", 1)  # "So sad!" is too short to be kept
    with pytest.raises(ClaimsError):
        tracer.sentence("no/such-document", 0)

    other, _ = build(tmp_path / "tricky.duckdb", TRICKY_DOCS, embedder)
    with other:
        t = ClaimTracer(other, embedder=embedder)
        text = other.get_document("social/tricky")["text"]
        got = [t.sentence("social/tricky", i) for i in range(3)]
        assert got[0].startswith("🔥🔥 Breaking 👨\u200d👩\u200d👧: the harbour")
        assert got[0].endswith("opens next spring.")
        assert got[1] == "Café owners near the pier were délighted with the néws today!"
        assert got[2].startswith("Mr. Smith of the U.S. Coast Guard")
        for s in got:
            assert s in text
        # a trace hands back the same slices, with their offsets
        occ = t.trace("The new ferry terminal will open next spring.").occurrences
        assert occ and occ[0].doc_id == "social/tricky"
        assert text[occ[0].begin : occ[0].end] == occ[0].sentence == got[0]


def test_every_stored_sentence_is_an_exact_slice(tmp_path, embedder):
    store, _ = build(tmp_path / "slices.duckdb", LIBRARY_DOCS + TRICKY_DOCS, embedder)
    with store:
        texts = dict(store.con.execute("SELECT row, hash FROM claim_texts").fetchall())
        found = store.con.execute(
            "SELECT d.id, d.text, s.idx, s.begin, s.end, s.row, "
            "substr(d.text, s.begin + 1, s.end - s.begin) FROM claim_sentences s "
            "JOIN documents d ON d.seq = s.seq ORDER BY d.id, s.idx"
        ).fetchall()
        assert len(found) >= 8
        per_doc: dict[str, list[int]] = {}
        for doc_id, text, idx, begin, end, row, sliced in found:
            piece = text[begin:end]
            assert piece == sliced  # DuckDB and Python agree on the offsets
            assert piece and piece == piece.strip()
            assert text_key(piece)[0] == texts[row]  # the row is this sentence's text
            per_doc.setdefault(doc_id, []).append(idx)
        for doc_id, idxs in per_doc.items():
            assert idxs == list(range(len(idxs))), doc_id
        counts = dict(
            store.con.execute(
                "SELECT d.id, c.sentences FROM claim_docs c JOIN documents d ON d.seq = c.seq"
            ).fetchall()
        )
        assert {k: len(v) for k, v in per_doc.items()} == {k: v for k, v in counts.items() if v}
        assert set(counts) == {d[0] for d in LIBRARY_DOCS + TRICKY_DOCS}


# --- 10: the demo scenario against its ground truth ---------------------------------------


def test_demo_claims_match_the_ground_truth(tmp_path, embedder):
    from echoscope.demo.run import build_corpus, ingest_corpus

    corpus = build_corpus(tmp_path)
    truth = json.loads((corpus / "ground_truth.json").read_text(encoding="utf-8"))
    assert truth["claims"]
    with Store(tmp_path / "demo.duckdb") as store:
        ingest_corpus(store, corpus)
        summary = run_claims(store, embedder=embedder)
        assert summary.new_documents == store.count("documents") > 0
        tracer = ClaimTracer(store, embedder=embedder)
        for claim in truth["claims"]:
            result = tracer.trace(claim["claim"])
            status = {}
            for o in result.occurrences:
                status.setdefault(o.doc_id, set()).add(o.status)
            missing = set(claim["occurrences"]) - set(status)
            assert not missing, (claim["claim"], missing)
            assert all(status[d] & {SAME, REVIEW} for d in claim["occurrences"])
            assert result.earliest is not None
            assert result.earliest.doc_id == claim["first"], claim["claim"]
            assert sum(o.earliest for o in result.occurrences) == 1


# --- 11: empty and hostile input -----------------------------------------------------------


def test_hostile_documents_and_empty_queries(tmp_path, embedder):
    run_on = "the harbour ferry leaves at dawn and returns at dusk " * 4000  # 212 kB, no stop
    hostile = [
        ("empty", None, None, ""),
        ("blank", None, None, " \n\n\t \u200b "),
        ("urls", None, None, "https://example.com/a?b=c http://t.co/xyz www.example.org/p"),
        ("emoji", None, None, "🔥🔥🔥 😂😂 👨\u200d👩\u200d👧 🇬🇧 !!!"),
        ("no-spaces", None, None, "a" * 200_000),
        ("run-on", "blog", datetime(2024, 1, 1), run_on),
    ]
    assert len(run_on) > 200_000
    with Store(tmp_path / "hostile.duckdb") as store:
        store_docs(store, hostile[:4])
        nothing = run_claims(store, embedder=embedder)  # no sentence anywhere
        assert nothing.new_documents == 4
        assert nothing.new_sentences == nothing.embedded == nothing.texts_total == 0
        tracer = ClaimTracer(store, embedder=embedder)
        assert tracer.trace("The ferry leaves at dawn and returns at dusk.").occurrences == []

        store_docs(store, [*hostile[4:], LIBRARY_DOCS[0]])
        summary = run_claims(store, embedder=embedder)
        assert summary.new_documents == 3
        assert store.count("claim_docs") == 7
        per_doc = dict(
            store.con.execute(
                "SELECT d.id, c.sentences FROM claim_docs c JOIN documents d ON d.seq = c.seq"
            ).fetchall()
        )
        assert per_doc["empty"] == per_doc["urls"] == per_doc["emoji"] == 0
        assert per_doc["no-spaces"] == 0  # one 200 kB "word" is no claim
        assert per_doc["run-on"] > 300
        longest = store.con.execute(
            "SELECT max(s.end - s.begin) FROM claim_sentences s "
            "JOIN documents d ON d.seq = s.seq WHERE d.id = 'run-on'"
        ).fetchall()[0][0]
        assert longest <= ClaimsParams().max_chars
        assert summary.embedded < 100  # repeated pieces are embedded once

        tracer = ClaimTracer(store, embedder=embedder)
        result = tracer.trace("The harbour ferry leaves at dawn and returns at dusk.")
        assert result.occurrences and {o.doc_id for o in result.occurrences} == {"run-on"}
        assert {o.doc_id for o in tracer.trace(CLAIM).occurrences} == {"elm-times/library-vote"}
        for empty in ("", "   \n\t "):
            with pytest.raises(ClaimsError, match="empty"):
                tracer.trace(empty)


# --- the tuned claims model -----------------------------------------------------------------


def test_tuned_model_is_the_base_with_its_shipped_parameters(embedder):
    from echoscope.detect.claims import tuned

    base = embedder
    assert base.name == DEFAULT_MODEL == BASE_MODEL
    info = tuned.meta()
    assert info["base"] == BASE_MODEL and info["parameters"] > 0
    tuned_e = Embedder("echoscope-claims-minilm")
    assert tuned_e.name == tuned.TUNED_MODEL and tuned_e.dim == base.dim
    # only biases and LayerNorm scales differ, and every one of them is the shipped value
    tuned_params = dict(tuned_e._model.named_parameters())
    with np.load(tuned.params_path()) as data:
        shipped = {n: data[n] for n in data.files if n != "__meta__"}
    changed = 0
    for name, param in base._model.named_parameters():
        mine = tuned_params[name].detach().numpy()
        if name in shipped:
            assert tuned.tunable(name)
            assert np.array_equal(mine, shipped[name])
            changed += not np.array_equal(mine, param.detach().numpy())
        else:
            assert np.array_equal(mine, param.detach().numpy()), name
    assert changed > len(shipped) // 2
    # the tuned model still reads sentences like the base, but not identically
    texts = [
        "The mayor said the bridge will close for repairs in March.",
        "Vaccines cause autism, claims a viral post.",
    ]
    cos = np.sum(tuned_e.encode(texts) * base.encode(texts), axis=1)
    assert np.all(cos > 0.8) and np.all(cos < 0.9999)


def test_tuned_parameters_refuse_other_base_weights(embedder, tmp_path):
    import torch

    from echoscope.detect.claims import tuned

    model = Embedder(BASE_MODEL)._model  # a fresh copy: the fixture's stays untouched
    with torch.no_grad():
        for name, param in model.named_parameters():
            if name.endswith("word_embeddings.weight"):
                param[0, 0] += 1.0
    with pytest.raises(tuned.TunedModelError, match="other base weights"):
        tuned.apply(model)
    with pytest.raises(tuned.TunedModelError, match="missing"):
        tuned.apply(model, tmp_path / "absent.npz")


def test_each_model_gets_its_own_matcher(tmp_path):
    from echoscope.detect.claims.tuned import TUNED_MODEL

    tuned_m = load_matcher(model=TUNED_MODEL)
    base_m = load_matcher(model=BASE_MODEL)
    assert tuned_m.model == TUNED_MODEL and base_m.model == BASE_MODEL == DEFAULT_MODEL
    assert (tuned_m.w_semantic, tuned_m.same) != (base_m.w_semantic, base_m.same)
    # a model without weights of its own gets the default model's
    assert load_matcher(model="some/other-model") == base_m == load_matcher()
    # a single-matcher file still loads
    one = tmp_path / "m.json"
    one.write_text(json.dumps({**base_m.as_dict(), "note": "extra keys are ignored"}))
    assert load_matcher(str(one)) == base_m


def test_clusters_gather_around_a_centre_and_chains_are_cut(tmp_path):
    """A chain of near matches A-B-C-D-E (each like the next, A not like C) is not one
    claim: the best connected sentence is a centre and takes only what it matches."""
    from echoscope.detect.claims.stage import build_clusters
    from echoscope.store import Store

    with Store(tmp_path / "c.duckdb") as store:
        con = store.con
        for row in range(7):
            con.execute("INSERT INTO claim_texts VALUES (?, ?, ?)", [row, row, f"text {row}"])
            con.execute("INSERT INTO claim_sentences VALUES (?, 0, 0, 6, ?)", [row, row])
        con.execute("INSERT INTO claim_sentences VALUES (99, 0, 0, 6, 6)")  # row 6 twice
        # chain 0-1-2-3-4; 2 also matches 5, so 2 is the best connected centre
        for a, b, s in [(0, 1, 0.9), (1, 2, 0.8), (2, 3, 0.7), (3, 4, 0.95), (2, 5, 0.6)]:
            con.execute("INSERT INTO claim_links VALUES (?, ?, 0.8, 0.5, ?, 'same')", [a, b, s])
        con.execute("INSERT INTO claim_links VALUES (0, 4, 0.5, 0.1, 0.2, 'review')")
        assert build_clusters(store) == 2
        got = con.execute("SELECT cluster_id, row, score FROM claim_clusters").fetchall()
    members: dict[int, dict[int, float]] = {}
    for cid, row, score in got:
        members.setdefault(cid, {})[row] = score
    # centre 2 takes 1, 3, 5 with their scores against it; its own score is its best match
    assert members[1] == {1: 0.8, 2: 0.8, 3: 0.7, 5: 0.6}
    # 0 and 4 are left without a centre; they match each other only by a 'review' link
    # and each other's neighbours are taken, so they are no claim cluster
    assert all(0 not in m and 4 not in m for m in members.values())
    # an exact text in two documents is a cluster of its own, scored 1.0
    assert members[6] == {6: 1.0}


def claim_tree(store: Store, sentence: str):
    """The claim cluster holding ``sentence`` and its tree, indexed by document id."""
    from echoscope.trace.cascade import tree

    (cluster_id,) = {
        cid
        for (cid,) in store.con.execute(
            "SELECT cluster_id FROM claim_clusters WHERE row = ?", [row_of_text(store, sentence)]
        ).fetchall()
    }
    return cluster_id, tree(store, cluster_id, claims=True).set_index("doc")


def test_claim_propagation_tree_with_parents_and_credit(tmp_path, embedder):
    """The cascade stage builds a tree per claim cluster: the earliest statement is the
    root, later ones repeat an earlier one (an identical sentence beats a re-wording), and
    a repetition that names its parent's outlet is credited; `trace` shows the tree."""
    from echoscope.trace.cascade import origins, run_cascades

    credited = (
        "metro-daily/library",
        "metro-daily",
        datetime(2024, 5, 4, 10, 0),
        CLAIM + " The Elm Times reported the vote first.",
    )
    store, _ = build(tmp_path / "t.duckdb", LIBRARY_DOCS + UNRELATED_DOCS + [credited], embedder)
    with store:
        summary = run_cascades(store, {"elm-times": ("Elm Times",)})
        assert summary.claims["edges"] >= 3 and summary.claims["attributed"] >= 1
        cluster_id, rows = claim_tree(store, CLAIM)
        assert set(rows.index) == LIBRARY_IDS | {"metro-daily/library"}
        # the tweet (07:30) is the first statement, in other words than the paper's
        assert not isinstance(rows.loc["twitter/1786001", "parent"], str)  # a root
        assert rows.loc["elm-times/library-vote", "parent"] == "twitter/1786001"
        assert rows.loc["elm-times/library-vote", "time_relation"] == "before"
        assert not rows.loc["elm-times/library-vote", "attributed"]
        # the same sentence word for word beats the earlier re-wording, and the credit
        # names the parent's outlet by its alias
        metro = rows.loc["metro-daily/library"]
        assert metro["parent"] == "elm-times/library-vote" and metro["attributed"]
        assert metro["credit_kind"] == "names-source" and metro["credit_text"] == "Elm Times"
        evidence = json.loads(metro["evidence"])
        assert evidence["basis"] == "claim" and evidence["semantic"] == 1.0
        # nothing unrelated is in a claim tree, and origins lists the claim
        in_trees = {
            d
            for (d,) in store.con.execute(
                "SELECT d.id FROM claim_cascade_edges e JOIN documents d ON d.seq = e.child_seq"
            ).fetchall()
        }
        assert not in_trees & UNRELATED_IDS
        top = origins(store, claims=True).set_index("cluster_id").loc[cluster_id]
        assert top["first_doc"] == "twitter/1786001" and top["copies"] == 3

        result = ClaimTracer(store, embedder=embedder).trace(CLAIM)
        placed = {o.doc_id: o for o in result.by_document() if o.in_tree}
        assert placed["metro-daily/library"].parent_doc == "elm-times/library-vote"
        assert placed["metro-daily/library"].attributed
        assert placed["twitter/1786001"].parent_doc is None


def test_trace_on_a_store_without_claim_trees(library):
    """A store whose cascade stage has not run: trace works, with no tree attached."""
    _, _, tracer = library
    assert not any(o.in_tree for o in tracer.trace(CLAIM).occurrences)


def test_undated_claim_repeats_are_oriented_by_reused_text(tmp_path, embedder):
    """Two undated documents state the claim in the same sentence; one is little more than
    a passage of the other. The times cannot order them, so the shared text does: the
    short one is the copy, with a low confidence."""
    from echoscope.detect.reuse.stage import run_reuse
    from echoscope.trace.cascade import run_cascades

    passage = (
        CLAIM + " The decision followed months of debate about the cost of repairing the old "
        "building, which needs a new roof, new wiring and work on its crumbling front steps."
    )
    original = (
        "Councillors met on Tuesday evening in the town hall to settle the budget for the year. "
        + passage
        + " Other items on the agenda included parking charges near the market, a new cycle "
        "lane along the river, the summer festival and the future of the swimming pool, which "
        "has been closed since the boiler failed in the winter and may not open again."
    )
    docs = [
        ("gazette/budget", "gazette", None, original),
        ("forum/post-9", "forum", None, passage),
    ]
    store, _ = build(tmp_path / "u.duckdb", docs, embedder)
    with store:
        run_reuse(store)
        run_cascades(store)
        _, rows = claim_tree(store, CLAIM)
    post = rows.loc["forum/post-9"]
    assert post["parent"] == "gazette/budget" and post["time_relation"] == "unknown"
    assert post["confidence"] < 0.5
    assert json.loads(post["evidence"])["reuse_link_id"] is not None
    assert not isinstance(rows.loc["gazette/budget", "parent"], str)


def test_a_shared_closing_hashtag_does_not_make_two_posts_one_claim(tmp_path, embedder):
    """Posts of one campaign end with its tag; the tag is not what they claim. Two different
    posts under one tag stay apart (in the demo they were one claim), and one post under
    two tags is one text."""
    from echoscope.demo.run import build_corpus, ingest_corpus
    from echoscope.detect.claims.embed import clean_for_embedding

    cleaned = clean_for_embedding("Who profits from Greyfell? #HarwickCoverUp #water")
    assert cleaned == "Who profits from Greyfell?"
    assert clean_for_embedding("The water is off. #آب_می‌خواهیم 🔥") == "The water is off."
    assert clean_for_embedding("The water is off #Harwick #Greyfell") == "The water is off"
    # a tag inside the sentence, or one tag ending an open sentence, is a word of it; tags
    # alone are all there is to read
    for kept in (
        "#Harwick water is poisoned",
        "Greyfell dumped toxic waste in #Harwick",
        "I stand with #Ukraine",
        "#HarwickCoverUp #Greyfell",
    ):
        assert clean_for_embedding(kept) == kept

    share = "Share before they delete this!"
    docs = [
        ("p1", "a1", datetime(2025, 3, 14, 10, 1), f"{share} #HarwickCoverUp"),
        ("p2", "a2", datetime(2025, 3, 14, 10, 2), f"{share} #Truth #Harwick"),
    ]
    with Store(tmp_path / "tags.duckdb") as store:
        store_docs(store, docs)
        run_claims(store, embedder=embedder)
        rows = store.con.execute("SELECT DISTINCT row FROM claim_sentences").fetchall()
        assert len(rows) == 1  # the same words under other tags: one text

    corpus = build_corpus(tmp_path / "demo")
    with Store(tmp_path / "demo.duckdb") as store:
        ingest_corpus(store, corpus)
        run_claims(store, embedder=embedder)
        members = store.con.execute(
            "SELECT c.cluster_id, t.text FROM claim_clusters c JOIN claim_texts t USING (row)"
        ).fetchall()
    clusters: dict[int, list[str]] = {}
    for cid, text in members:
        clusters.setdefault(cid, []).append(text)
    holding = [texts for texts in clusters.values() if any(share in t for t in texts)]
    assert len(holding) == 1
    # a re-wording of the call may join it ("Share this before it gets taken down."); the
    # campaign's other post, under the same tag, may not
    assert not any("Who profits" in t for t in holding[0]), holding[0]


def test_bylines_are_not_claims(tmp_path, embedder):
    """Two stories by one desk share a byline, not a claim."""
    from echoscope.detect.claims.stage import is_byline

    assert is_byline("By Elena Marsh, Northern Wire Service")
    assert is_byline("By PA reporter") and is_byline("By Our Staff and Agencies")
    for sentence in (
        "By Monday the jury had retired",
        "By the time police arrived the men had fled.",
        "By halting the inquiry, the council saved money",
        "By Friday, Russia had lost 40 tanks",
        "By Election Day Biden Had Won Georgia",
        "By Elena Marsh, who wrote that the water was poisoned",
    ):
        assert not is_byline(sentence), sentence
    docs = [
        (
            "nws/ferry",
            "Northern Wire Service",
            datetime(2025, 3, 14, 8, 0),
            "By Elena Marsh, Northern Wire Service\n\n"
            "Ferry fares to the islands will rise by six percent in April.",
        ),
        (
            "nws/cycle",
            "Northern Wire Service",
            datetime(2025, 3, 14, 9, 0),
            "By Tom Okafor, Northern Wire Service\n\n"
            "The council has approved a new cycle lane along the river road.",
        ),
    ]
    with Store(tmp_path / "bylines.duckdb") as store:
        store_docs(store, docs)
        summary = run_claims(store, embedder=embedder)
        texts = [t for (t,) in store.con.execute("SELECT text FROM claim_texts").fetchall()]
        assert len(texts) == 2 and not any(t.startswith("By ") for t in texts)
        assert summary.clusters == 0 and store.count("claim_links") == 0


def test_a_store_cut_by_an_older_version_is_refused_until_rebuilt(tmp_path, embedder):
    """Sentences keyed another way would get second rows on the next run: say so instead."""
    from echoscope.detect.claims.stage import ClaimsError, reset

    docs = [("d1", "s", datetime(2025, 3, 14, 8, 0), "The council approved the new cycle lane.")]
    with Store(tmp_path / "old.duckdb") as store:
        store_docs(store, docs)
        run_claims(store, embedder=embedder)
        run_claims(store, embedder=embedder)  # the same version: incremental runs go on
        store.con.execute("DELETE FROM claim_state WHERE key = 'sentences'")  # as before it
        with pytest.raises(ClaimsError, match="--rebuild"):
            run_claims(store, embedder=embedder)
        reset(store)
        assert run_claims(store, embedder=embedder).new_texts == 1


def test_a_sources_sign_off_is_boilerplate_not_a_claim(tmp_path, embedder):
    """A line one outlet closes every story with joins no claim cluster (it would join all
    its stories and lead every list of claims); a claim repeated across outlets still
    does, and so do the lines an agency keeps through the versions of one story, and a
    slogan an account posts again and again."""
    sign_off = "Sign up for our free newsletter to get the latest local news every morning."
    credit = "The Associated Press contributed to this report."
    # short stories: two sentences each, then the two template lines
    stories = [
        "Ferry fares to the islands will rise by six percent in April, the operator said. "
        "The company blamed the price of fuel and the cost of new crew quarters.",
        "The council has approved a new cycle lane along the river road after a consultation. "
        "Work on the two-mile route is expected to start in the summer holidays.",
        "A new primary school will open in the north of the town next September. "
        "It will take four hundred pupils from the new housing estates nearby.",
    ]
    background = "The reservoir at Harwick has supplied the town since it was built in 1932."
    versions = [
        "Engineers found a crack in the Harwick dam wall on Monday morning. "
        "Residents below the dam were told to be ready to leave their homes. "
        "The water authority said the crack was being monitored every hour. ",
        "Engineers found a second crack in the Harwick dam wall on Monday afternoon. "
        "People living below the dam were told to be ready to leave their homes. "
        "The water authority said it was monitoring the crack every hour. ",
        "Residents below the Harwick dam were moved out on Monday night. "
        "Those living below the dam had been told to be ready to leave their homes. "
        "The crack was being monitored every hour, the water authority said. ",
    ]
    slogan = "Harwick deserves clean water and the truth about the tanks."
    docs = [
        (
            f"courier/{i}",
            "courier",
            datetime(2025, 3, 10 + i, 8, 0),
            f"{s}\n\n{sign_off}\n\n{credit}",
        )
        for i, s in enumerate(stories)
    ]
    docs += [
        # twice in one outlet is not boilerplate: a follow-up may restate its claim
        ("gazette/1", "gazette", datetime(2025, 3, 11, 9, 0), f"{stories[0]}\n\n{credit}"),
        ("gazette/2", "gazette", datetime(2025, 3, 12, 9, 0), f"{stories[1]}\n\n{credit}"),
    ]
    # an agency's three versions of one story state most of their sentences in each other,
    # re-worded: the line they all keep is the story's, not the agency's template
    docs += [
        (f"wire/dam{i}", "wire", datetime(2025, 3, 17, 8 + i, 0), v + background)
        for i, v in enumerate(versions)
    ]
    # a slogan an account posts again and again, with other tags and links each time: a
    # small part of each post's characters, but a post is not an article with a template
    link = "https://harwick-water-truth.example/campaign/2025/03/please-read-and-share"
    posts = [
        f"{slogan} Day {i} of asking the council about the tanks. {link}/{i}" for i in range(3)
    ]
    docs += [
        (f"x/{i}", "@clean_harwick", datetime(2025, 3, 10 + i, 12, 0), post)
        for i, post in enumerate(posts)
    ]
    assert all(len(slogan) < 0.5 * len(post) for post in posts)
    with Store(tmp_path / "boilerplate.duckdb") as store:
        store_docs(store, docs)
        summary = run_claims(store, embedder=embedder)
        clustered = {
            t
            for (t,) in store.con.execute(
                "SELECT t.text FROM claim_clusters k JOIN claim_texts t ON t.row = k.row"
            ).fetchall()
        }
        assert sign_off not in clustered and credit not in clustered
        assert summary.boilerplate == 2 and state(store)["boilerplate"] == "2"
        assert background in clustered and slogan in clustered
        opening = [story.split(". ")[0] + "." for story in stories[:2]]
        assert set(opening) <= clustered  # stated by the courier and the gazette
        # the sentences are still stored: a search for them still finds them
        texts = {t for (t,) in store.con.execute("SELECT text FROM claim_texts").fetchall()}
        assert {sign_off, credit} <= texts
        # and the report says what was left out
        from echoscope.present.report import write_report

        shown = write_report(store, tmp_path / "r.html").read_text(encoding="utf-8")
        section = shown[shown.index("<h2>Claims</h2>") : shown.index("<h2>Sources</h2>")]
        assert "2 sentences are left out" in section and sign_off not in section
