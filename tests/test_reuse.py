"""Text reuse: exact offsets on hand-made pairs, normalisation across scripts, the stage
end to end on the demo scenario, incremental runs and boilerplate."""

import json

import numpy as np
import pytest

from echoscope.demo import DATA_DIR
from echoscope.detect.reuse import results
from echoscope.detect.reuse.align import align
from echoscope.detect.reuse.classify import summarize
from echoscope.detect.reuse.lsh import optimal_bands
from echoscope.detect.reuse.minhash import MinHasher, estimate_jaccard
from echoscope.detect.reuse.shingles import shingle_texts, token_hashes
from echoscope.detect.reuse.stage import ReuseError, ReuseParams, run_reuse
from echoscope.detect.text import tokens
from echoscope.ingest.base import ReadOptions
from echoscope.ingest.pipeline import ingest

WIRE = (
    "About 40,000 homes in Harwick were told not to drink tap water on Friday after routine tests "
    "found high levels of a cleaning chemical in the Greyfell reservoir, the regional water authority said.\n\n"
    "The authority said the chemical appeared to have leaked from a storage tank at the Greyfell "
    "treatment works during maintenance on Thursday night.\n\n"
    "Bottled water is being handed out at Harwick Leisure Centre and the Market Street car park from 10am."
)
P1, P2, P3 = WIRE.split("\n\n")


def only(passages):
    assert len(passages) == 1, passages
    return passages[0]


def test_verbatim_copy_offsets_are_exact_slices():
    copy = "HARWICK — " + WIRE + "\n\nShare this story."
    p = only(align(WIRE, copy))
    assert copy[p.b_begin : p.b_end] == WIRE.rstrip(".")
    assert WIRE[p.a_begin : p.a_end] == WIRE.rstrip(".")
    assert p.identity == 1.0


def test_insertion_and_deletion_bridged_in_one_passage():
    edited = P1.replace("on Friday", "on Friday morning, officials confirmed,").replace(
        "routine ", ""
    )
    p = only(align(P1, edited))
    assert p.a_begin == 0 and edited[p.b_begin : p.b_end].startswith("About 40,000 homes")
    assert edited[p.b_begin : p.b_end].endswith("regional water authority said")
    assert 0.85 < p.identity < 1.0


def test_reordered_paragraphs_give_separate_passages():
    reordered = P3 + "\n\n" + P2 + "\n\n" + P1
    found = align(WIRE, reordered)
    spans = sorted((reordered[p.b_begin : p.b_end], WIRE[p.a_begin : p.a_end]) for p in found)
    assert len(found) == 3
    for copied, original in spans:
        assert copied == original  # each paragraph aligned to itself, exactly


def test_short_quote_inside_long_article():
    filler = " ".join(
        f"Unrelated sentence number {i} about council budgets and parking fees." for i in range(40)
    )
    article = filler + " As the agency put it, " + P2 + " " + filler
    p = only(align(WIRE, article))
    assert article[p.b_begin : p.b_end] == P2.rstrip(".")
    assert WIRE[p.a_begin : p.a_end] == P2.rstrip(".")


def test_unrelated_texts_do_not_align():
    other = "Fares on the three ferry routes serving the islands will rise by six percent from April, the operator said."
    assert align(WIRE, other) == []


def test_persian_written_with_arabic_letter_variants():
    persian = "وزارت بهداشت اعلام کرد که آب آشامیدنی شهر تا اطلاع ثانوی قابل استفاده نیست و مردم باید از آب بطری استفاده کنند"
    arabic_style = persian.replace("ی", "ي").replace("ک", "ك").replace("آب", "آبـ", 1)
    arabic_style = "گزارش: " + arabic_style.replace("اعلام", "اعلامً")
    p = only(align(persian, arabic_style))
    assert p.identity == 1.0
    assert arabic_style[p.b_begin : p.b_end].startswith("وزارت")
    assert tokens(persian) == tokens(arabic_style)[1:]


def test_zwnj_and_case_and_width_folded():
    assert tokens("می\u200cخواهم") == tokens("میخواهم")
    assert tokens("ＨＡＲＷＩＣＫ Water") == ["harwick", "water"]


def test_numpy_tokeniser_agrees_with_reference():
    texts = [WIRE, "می‌خواهم كتاب", "東京で会議 hello", "Ｆｕｌｌ width", "", "emoji 😀 here ⚡️"]
    _, offsets = token_hashes(texts)
    for i, text in enumerate(texts):
        assert offsets[i + 1] - offsets[i] == len(tokens(text)), text
    a, b = token_hashes(["The Cat", "the CAT"])
    assert (a[b[0] : b[1]] == a[b[1] : b[2]]).all()


def test_minhash_estimates_jaccard():
    sh = shingle_texts(
        [
            WIRE,
            WIRE.replace("Friday", "Saturday"),
            "totally different text about ferries and fares",
        ],
        3,
    )
    exact = len(set(sh.doc(0)) & set(sh.doc(1))) / len(set(sh.doc(0)) | set(sh.doc(1)))
    sig = MinHasher(256).signatures(sh)
    est = estimate_jaccard(sig, np.array([0, 0]), np.array([1, 2]))
    assert abs(est[0] - exact) < 0.1
    assert est[1] < 0.05
    b, r = optimal_bands(0.5, 128)
    assert b * r <= 128 and 0.35 < (1 / b) ** (1 / r) < 0.65


def test_classification_kinds():
    verbatim = align(WIRE, WIRE)
    assert summarize(verbatim, len(tokens(WIRE)), len(tokens(WIRE))).kind == "verbatim"
    light = (
        P1.replace("About", "Around").replace("regional ", "").replace("routine", "regular")
        + " "
        + P2.replace("appeared to have", "seems to have").replace("on Thursday night", "overnight")
    )
    found = align(P1 + " " + P2, light)
    assert summarize(found, len(tokens(P1 + " " + P2)), len(tokens(light))).kind == "near-verbatim"
    long = (
        " ".join(["Other reporting on the council and its budget for the year ahead."] * 10)
        + " "
        + P2
    )
    found = align(WIRE, long)
    assert summarize(found, len(tokens(WIRE)), len(tokens(long))).kind == "partial"


def _demo_store(store, tmp_path, parts=None):
    from echoscope.demo.run import build_corpus, ingest_corpus

    corpus = build_corpus(tmp_path)
    return corpus, ingest_corpus(store, corpus)


def test_stage_on_demo_matches_ground_truth(store, tmp_path):
    _demo_store(store, tmp_path)
    summary = run_reuse(store)
    truth = json.loads((DATA_DIR / "ground_truth.json").read_text(encoding="utf-8"))
    links = results.links(store)
    found = {
        r["doc_b"]: r["kind"]
        for r in links[links["doc_a"] == truth["origin"]].to_dict(orient="records")
    }
    for copy in truth["copies"]:
        if copy["kind"] == "paraphrase":
            assert copy["doc"] not in found  # re-worded text is the claims stage's job
        else:
            assert found.get(copy["doc"]) == copy["kind"], copy["doc"]
    for doc in truth["independent"]:
        assert doc not in set(links["doc_a"]) | set(links["doc_b"])
    # The coordinated bursts are identical texts: each burst is one cluster of six posts.
    clusters = results.clusters(store)
    for burst in truth["coordination"]["bursts"]:
        ids = set(burst["posts"])
        owning = clusters[clusters["doc"].isin(ids)]["cluster_id"].unique()
        assert len(owning) == 1 and set(clusters[clusters["cluster_id"] == owning[0]]["doc"]) == ids
    assert summary.boilerplate_links == 0
    # passages are exact slices of the stored texts
    pas = results.passages(store)
    docs = store.documents("seq, id, text").set_index("id")["text"]
    for row in pas.itertuples():
        assert docs[row.doc_a][row.a_begin : row.a_end] == row.text_a
        assert docs[row.doc_b][row.b_begin : row.b_end] == row.text_b


def _link_set(store):
    frame = results.links(store, include_boilerplate=True)
    return {(r.doc_a, r.doc_b, r.kind) for r in frame.itertuples()}


def test_incremental_equals_full_run(tmp_path):
    from echoscope.demo.run import ARTICLE_TEMPLATE, build_corpus
    from echoscope.ingest.pathtemplate import PathTemplate
    from echoscope.store import Store

    corpus = build_corpus(tmp_path / "c")
    steps = [
        ([corpus / "wire.jsonl"], ReadOptions()),
        ([corpus / "articles"], ReadOptions(path_template=PathTemplate(ARTICLE_TEMPLATE))),
        ([corpus / "citizen-pulse.rss", corpus / "posts.csv"], ReadOptions()),
    ]
    with Store(tmp_path / "full.duckdb") as full:
        for paths, opts in steps:
            ingest(full, [str(p) for p in paths], opts)
        run_reuse(full)
        expected = _link_set(full)
    with Store(tmp_path / "inc.duckdb") as inc:
        for paths, opts in steps:
            ingest(inc, [str(p) for p in paths], opts)
            run_reuse(inc)  # after every ingest: new documents only
        assert _link_set(inc) == expected
        again = run_reuse(inc)
        assert again.new_documents == 0 and again.links_total == len(expected)
    assert len(expected) > 10


def test_changed_parameters_need_rebuild(store, tmp_path):
    _demo_store(store, tmp_path)
    run_reuse(store)
    with pytest.raises(ReuseError, match="--rebuild"):
        run_reuse(store, ReuseParams(shingle=4))
    s = run_reuse(store, ReuseParams(shingle=4), rebuild=True)
    assert s.new_documents == 25 and s.links_total > 0


def test_boilerplate_kept_out_of_clusters(store, tmp_path):
    footer = "Subscribe to the Harwick Courier for just one pound a week and get every story delivered to your door each morning."
    topics = ["bins", "parking", "library", "derby", "bridge"]
    lines = []
    for i, topic in enumerate(topics):
        body = (
            f"Story {i} about the {topic}: "
            + " ".join(f"{topic}{j} w{i}x{j} v{j}y{i}" for j in range(30))
            + "."
        )
        lines.append(
            json.dumps(
                {
                    "id": f"c{i}",
                    "series": "courier",
                    "date": f"2025-03-0{i + 1}",
                    "text": body + " " + footer,
                }
            )
        )
    lines.append(
        json.dumps(
            {
                "id": "g1",
                "series": "gazette",
                "date": "2025-03-09",
                "text": "Council news. " + footer,
            }
        )
    )
    path = tmp_path / "site.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    ingest(store, [str(path)])
    s = run_reuse(store)
    links = results.links(store, include_boilerplate=True)
    same_source = links[links["source_a"] == links["source_b"]]
    assert len(same_source) >= 3 and same_source["boilerplate"].all()
    assert s.boilerplate_links == len(same_source)
    # The gazette quoting the footer once is not boilerplate (another source), and the
    # courier's own repeats stay out of the clusters.
    assert not links[links["source_a"] != links["source_b"]]["boilerplate"].any()
    clustered = results.clusters(store)
    courier_regions = clustered[clustered["source"] == "courier"]
    assert courier_regions["cluster_id"].nunique() <= 1


def test_lsh_pairs_small_buckets_all_pairs_big_buckets_star():
    from echoscope.detect.reuse.lsh import pairs_from_keys

    keys = np.array([[5, 9], [5, 8], [5, 7], [6, 7], [0, 0]], dtype=np.uint64)
    ids = np.array([10, 11, 12, 13, 14])
    pairs = {tuple(p) for p in pairs_from_keys(keys, ids).tolist()}
    assert pairs == {(10, 11), (10, 12), (11, 12), (12, 13)}  # 14 has no signature
    big = np.array([[42]] * 6, dtype=np.uint64)
    star = {tuple(p) for p in pairs_from_keys(big, np.arange(6), max_bucket=3).tolist()}
    assert star == {(0, i) for i in range(1, 6)}


def test_rank_sources_time_order(store, tmp_path):
    from echoscope.detect.reuse.sources import rank_sources

    lines = [
        {
            "id": "wire-old",
            "series": "PA",
            "date": "2000-01-01T10:00:00Z",
            "text": "The judge jailed the fraudster for six years at Leeds Crown Court.",
        },
        {
            "id": "wire-late",
            "series": "PA",
            "date": "2000-01-03T10:00:00Z",
            "text": "The judge jailed the fraudster for six years at Leeds Crown Court today.",
        },
        {
            "id": "paper",
            "series": "sun",
            "date": "2000-01-01",
            "text": "A fraudster was jailed for six years at Leeds Crown Court by the judge.",
        },
    ]
    path = tmp_path / "t.jsonl"
    path.write_text("\n".join(json.dumps(x) for x in lines), encoding="utf-8")
    ingest(store, [str(path)])
    docs = store.documents("seq, id, text, published_at, time_precision")
    targets, cands = docs[docs["id"] == "paper"], docs[docs["id"] != "paper"].reset_index(drop=True)
    ranked = rank_sources(store, targets, cands)
    # The paper is dated by day: a wire filed that day may precede it, one filed two days later cannot.
    assert ranked["eligible"][0].tolist() == [True, False]
    assert cands["id"][ranked["order"][0][0]] == "wire-old"
    loose = rank_sources(store, targets, cands, time_order=False)
    assert loose["eligible"].all()


def _jsonl_store(store, tmp_path, records, name="r.jsonl"):
    path = tmp_path / name
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")
    ingest(store, [str(path)])


def test_empty_and_tiny_texts_do_not_break_or_link(store, tmp_path):
    _jsonl_store(store, tmp_path, [{"id": "e", "text": ""}])
    assert run_reuse(store).links_total == 0  # a corpus of one empty document
    _jsonl_store(
        store,
        tmp_path,
        [{"id": f"t{i}", "text": t} for i, t in enumerate(["Thanks!", "thanks", "THANKS."])],
        "t.jsonl",
    )
    s = run_reuse(store)
    assert s.links_total == 0  # one word repeated is not reuse


def test_interrupted_stage_is_cleaned_up_on_rerun(store, tmp_path, monkeypatch):
    import echoscope.detect.reuse.stage as stage

    _demo_store(store, tmp_path)

    def boom(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(stage, "_finish", boom)
    with pytest.raises(KeyboardInterrupt):
        run_reuse(store)
    monkeypatch.undo()
    run_reuse(store)
    links = results.links(store, include_boilerplate=True)
    assert not links.duplicated(["seq_a", "seq_b"]).any()
    assert store.con.execute("SELECT count(*) = count(DISTINCT seq) FROM reuse_docs").fetchall()[0][
        0
    ]


def test_orientation_respects_precision(store, tmp_path):
    text = "The council approved the new bridge over the river after a vote of nine to four on Tuesday night."
    _jsonl_store(
        store,
        tmp_path,
        [
            {"id": "paper", "series": "gazette", "date": "2025-03-01", "text": "In brief. " + text},
            {"id": "wire", "series": "wire", "date": "2025-03-01T10:00:00Z", "text": text},
            {
                "id": "later",
                "series": "blog",
                "date": "2025-02-27T09:00:00Z",
                "text": text + " More.",
            },
        ],
    )
    run_reuse(store)
    pairs = {(r.doc_a, r.doc_b) for r in results.links(store).itertuples()}
    # The blog's time bounds end before the others begin: it is A. The day-dated paper and
    # the minute-dated wire overlap on 1 March: indexing order is kept, no false certainty.
    assert ("later", "paper") in pairs and ("later", "wire") in pairs
    assert ("paper", "wire") in pairs


def test_casefold_agrees_between_index_and_aligner():
    h1, _ = token_hashes(["straße"])
    h2, _ = token_hashes(["STRASSE"])
    assert (h1 == h2).all() and tokens("straße") == tokens("STRASSE")


def test_quote_between_documents_sharing_a_masthead_is_not_boilerplate(store, tmp_path):
    masthead = "The Harwick Courier, serving the valley since 1881, independent and proudly local every day."
    quote = "The bridge will close for nine months from June while engineers replace the corroded steel deck and its bearings."
    bodies = [
        f"{masthead} Story one about bins {' '.join(f'alpha{i}' for i in range(40))}. {quote}",
        f"{masthead} Story two about parks {' '.join(f'beta{i}' for i in range(40))}. As we said last week: {quote}",
        f"{masthead} Story three about roads {' '.join(f'gamma{i}' for i in range(40))}.",
        f"{masthead} Story four about schools {' '.join(f'delta{i}' for i in range(40))}.",
    ]
    _jsonl_store(
        store,
        tmp_path,
        [{"id": f"c{i}", "series": "courier", "text": b} for i, b in enumerate(bodies)],
    )
    run_reuse(store)
    links = results.links(store, include_boilerplate=True)
    quoted = links[(links["doc_a"] == "c0") & (links["doc_b"] == "c1")]
    assert len(quoted) == 1 and not quoted["boilerplate"].iloc[0]
    others = links[~((links["doc_a"] == "c0") & (links["doc_b"] == "c1"))]
    assert len(others) >= 3 and others["boilerplate"].all()


def test_filters_do_not_hide_near_copies_of_duplicates(store, tmp_path):
    text = "Police have closed the coast road after a landslide buried two cars near the old quarry on Sunday evening."
    _jsonl_store(
        store,
        tmp_path,
        [
            {"id": "R", "series": "a", "date": "2010-01-01T00:00:00Z", "text": text},
            {"id": "N", "series": "b", "date": "2024-05-01T00:00:00Z", "text": text},
            {"id": "Z", "series": "c", "date": "2024-05-02T00:00:00Z", "text": text + " Updated."},
        ],
    )
    run_reuse(store, ReuseParams(max_days=7))
    pairs = {(r.doc_a, r.doc_b) for r in results.links(store).itertuples()}
    assert ("N", "Z") in pairs and not any("R" in p for p in pairs)
