"""The learned second opinion on credits: it reads whose account a sentence is."""

import json
import re
import shutil
from dataclasses import replace

import numpy as np
import pytest

from echoscope.detect.claims.sentences import Sentence
from echoscope.trace.attribution import Credit, find_credits
from echoscope.trace.credit_model import (
    ADD,
    MAX_TOKENS,
    VETO,
    CreditScorer,
    ScorerError,
    default_scorer,
    review,
    scorer_path,
)


@pytest.fixture(scope="module")
def scorer():
    return default_scorer()


def _credits(text):
    return [
        c for c in find_credits(text, parent_source="PA", own_source="sun") if c.kind != "quote"
    ]


def test_scorer_tells_a_source_from_the_proceedings(scorer):
    pairs = [
        (
            "A man was jailed yesterday.",
            "A police spokesman said last night that inquiries were continuing.",
        ),
        ("", "Scotland Yard said in a statement that the officer had been suspended."),
        ("", "Mr Smith told the jury he had never met the victim."),
        ("", "He was jailed for six years at Leeds Crown Court."),
    ]
    p = scorer.score_pairs(pairs)
    assert p[0] >= ADD and p[1] >= ADD
    assert p[2] < VETO and p[3] < VETO


def test_the_sentence_before_changes_whose_account_it_is(scorer):
    sentence = "According to doctors, the child was struck at least three times."
    alone, in_case = scorer.score_pairs(
        [
            ("", "According to a report by the Audit Commission, waiting lists have doubled."),
            (
                "Opening the case, Mr David Jones, prosecuting, told the court the child "
                "had been left alone.",
                sentence,
            ),
        ]
    )
    assert alone >= VETO  # a named body's report stands
    assert in_case < VETO  # the prosecution's account, told on by the paper


def test_rule_false_alarm_inside_the_case_is_vetoed(scorer):
    text = (
        "Two men were jailed for fraud at Southwark Crown Court today.\n\n"
        "The judge said the scheme had been run according to the conspirators' own plan, "
        "which involved forging documents."
    )
    credits = _credits(text)
    assert [c.text for c in credits] == ["according to"]  # the rules alone take it
    assert review(credits, scorer.score(text)) == []


def test_rule_credit_the_scorer_agrees_with_stands(scorer):
    text = "A man was jailed yesterday.\n\nA police spokesman said last night that inquiries were continuing."
    credits = _credits(text)
    kept = review(credits, scorer.score(text))
    assert credits and [replace(c, score=None) for c in kept] == credits
    assert kept[0].score >= ADD  # the scorer's view travels with the credit as evidence


def test_a_credit_no_rule_knows_is_found(scorer):
    text = (
        "A man who sold fake designer watches at car boot sales was jailed for two years "
        "yesterday.\n\nTrading standards investigators believe the gang made more than two "
        "million pounds from the scheme over five years."
    )
    assert _credits(text) == []
    found = review([], scorer.score(text))
    assert [c.kind for c in found] == ["learned"]
    assert text[found[0].begin : found[0].end].startswith("Trading standards investigators")


def test_review_rules_without_the_model():
    s1 = Sentence(0, 30, "x" * 30)
    s2 = Sentence(31, 60, "y" * 29)
    phrase = Credit("phrase", 5, 12, "said by", None, False)
    agency = Credit("agency", 33, 35, "PA", "PA", True)
    link = Credit("link", None, None, "https://a.example/x", "https://a.example/x", True)
    # a phrase credit in a rejected sentence goes; agency credits and links never do
    kept = review([phrase, agency, link], [(s1, 0.01), (s2, 0.02)])
    assert [(c.kind, c.score) for c in kept] == [("agency", 0.02), ("link", None)]
    # a sure sentence without a credit becomes one, naming the parent if the check says so
    kept = review([], [(s1, 0.95), (s2, 0.5)], names_parent=lambda span: True)
    assert [(c.kind, c.begin, c.end, c.names_parent, c.score) for c in kept] == [
        ("learned", 0, 30, True, 0.95)
    ]
    # ... and not when it only names the document's own outlet ("told the Daily Mail" in the Mail)
    assert review([], [(s1, 0.95)], names_self=lambda span: True) == []
    assert review([], [(s1, 0.95)], names_self=lambda span: False)[0].kind == "learned"
    # a sure sentence that already holds a rule credit is not counted twice
    assert review([phrase], [(s1, 0.95)]) == [replace(phrase, score=0.95)]
    # thresholds are the caller's to set
    assert review([phrase], [(s1, 0.1)], veto=0.05) == [replace(phrase, score=0.1)]


def test_scorer_for_other_base_weights_is_refused(tmp_path):
    path = tmp_path / "scorer.npz"
    shutil.copy(scorer_path(), path)
    with np.load(path) as data:
        arrays = {k: data[k] for k in data.files}
    meta = json.loads(bytes(arrays["__meta__"]).decode())
    meta["base_checksum"] += 1.0
    arrays["__meta__"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    np.savez(path, **arrays)
    with pytest.raises(ScorerError, match="other base weights"):
        CreditScorer(path)
    with pytest.raises(ScorerError, match="missing"):
        CreditScorer(tmp_path / "nothing.npz")


WIRE = (
    "A man who sold fake designer watches at car boot sales across Yorkshire was jailed for "
    "two years at Leeds Crown Court yesterday after a jury found him guilty of twelve counts "
    "of selling counterfeit goods and one count of money laundering."
)


def _wire_and_copy(store, tmp_path, tail: str) -> None:
    """A wire story and a paper's copy of it with ``tail`` added, ingested and aligned."""
    from echoscope.detect.reuse.stage import run_reuse
    from echoscope.ingest.pipeline import ingest

    records = [
        {"id": "wire", "series": "PA", "date": "2025-03-01T08:00:00Z", "text": WIRE},
        {"id": "paper", "series": "ledger", "date": "2025-03-02T06:00:00Z", "text": WIRE + tail},
    ]
    path = tmp_path / "docs.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")
    ingest(store, [str(path)])
    run_reuse(store)


def test_cascade_records_the_scorer_and_its_credits(store, tmp_path):
    from echoscope.trace.cascade import run_cascades

    _wire_and_copy(
        store,
        tmp_path,
        "\n\nTrading standards investigators believe the gang made more than two million "
        "pounds from the scheme over five years.",
    )

    def credit_kinds():
        evidence = store.con.execute(
            "SELECT e.evidence FROM cascade_edges e JOIN documents c ON c.seq = e.child_seq "
            "WHERE c.id = 'paper'"
        ).fetchone()[0]
        return [c["kind"] for c in json.loads(evidence)["credits"]]

    off = run_cascades(store, credit_model=False)
    assert off.credit_model == "off" and off.edges == 1 and credit_kinds() == []
    steps = []
    on = run_cascades(store, progress=lambda step, done, total: steps.append((step, done)))
    assert on.credit_model == "echoscope-attribution-scorer-v1"
    assert on.credits_learned == 1 and credit_kinds() == ["learned"]
    evidence = store.con.execute(
        "SELECT evidence FROM cascade_edges WHERE parent_seq IS NOT NULL"
    ).fetchone()[0]
    assert json.loads(evidence)["credits"][0]["score"] >= ADD
    assert steps and steps[-1][0] == "credit model"
    # it credits the investigators, not the parent: the copy is still unattributed
    assert on.unattributed == 1


def test_training_reads_each_sentence_as_the_pipeline_does():
    """The scorer is trained on rows built by benchmarks/attribution_data.py and read by
    benchmarks/attribution_train.py; the pipeline builds its pairs in credit_model._pair.
    They must give the same text, or the shipped scorer reads what it never learned."""
    import importlib.util
    import sys
    from pathlib import Path

    from echoscope.detect.claims.sentences import split_sentences
    from echoscope.trace.credit_model import _pair

    bench = Path(__file__).resolve().parent.parent / "benchmarks"
    sys.path.insert(0, str(bench))
    try:
        from attribution_data import sentence_rows

        spec = importlib.util.spec_from_file_location(
            "attribution_train", bench / "attribution_train.py"
        )
        train = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(train)
    finally:
        sys.path.remove(str(bench))
    text = (
        "LEEDS: A man was jailed yesterday.  He denied it. <\n"
        'A police spokesman said: "We are pleased."\n\n'
        "Mr J. Smith, prosecuting, told the jury the U.S. firm had paid £3.5m. It was found.\n"
        "According to doctors the child was hurt."
    )
    rows = sentence_rows(text)
    sentences = split_sentences(text)
    assert len(rows) == len(sentences) > 4
    assert any(r["new_paragraph"] for r in rows) and not all(r["new_paragraph"] for r in rows[1:])
    for i, row in enumerate(rows):
        assert train.pair(row) == _pair(text, sentences, i)
        assert text[row["start"] : row["end"]] == row["text"]
    assert train.MAX_TOKENS == MAX_TOKENS


def test_cascade_keeps_the_rules_when_the_scorer_cannot_load(store, tmp_path, monkeypatch):
    from echoscope.trace import credit_model
    from echoscope.trace.cascade import run_cascades

    def broken():
        raise ScorerError("the attribution scorer is missing: /nowhere")

    monkeypatch.setattr(credit_model, "default_scorer", broken)
    _wire_and_copy(store, tmp_path, "\n\nA police spokesman said inquiries were continuing.")
    summary = run_cascades(store)
    assert summary.edges == 1 and summary.credit_model.startswith("off: the attribution scorer")
    evidence = store.con.execute(
        "SELECT evidence FROM cascade_edges WHERE parent_seq IS NOT NULL"
    ).fetchone()[0]
    assert [c["kind"] for c in json.loads(evidence)["credits"]] == ["phrase"]  # the rules stand


def test_cascade_command_shows_a_credit_to_another_source(tmp_path):
    from typer.testing import CliRunner

    from echoscope.cli import app
    from echoscope.store import Store
    from echoscope.trace.cascade import run_cascades

    db = tmp_path / "cli.duckdb"
    with Store(db) as store:
        _wire_and_copy(
            store,
            tmp_path,
            "\n\nA police spokesman said last night that inquiries were continuing.",
        )
        summary = run_cascades(store)
        cluster = store.con.execute("SELECT min(cluster_id) FROM cascade_edges").fetchone()[0]
    # the rule's credit was read and kept (with its score): not counted as overruled
    assert summary.credits_vetoed == 0 and summary.credits_learned == 0
    res = CliRunner().invoke(app, ["cascade", str(cluster), "--db", str(db)])
    assert res.exit_code == 0, res.output
    shown = " ".join(res.output.split())  # the tree wraps at the console's width
    # the copy does not credit the wire, but it does say where a line came from
    said = r"credits another source: phrase: A police spokesman said \((0\.9\d|1\.00)\)"
    assert re.search(r"no credit \(" + said + r"\)", shown)
    # and so does the report
    out = tmp_path / "report.html"
    res = CliRunner().invoke(app, ["report", "--db", str(db), "--out", str(out)])
    assert res.exit_code == 0, res.output
    html = out.read_text(encoding="utf-8")
    assert re.search("✘ none found<br><span class='muted'>" + said, html)
    # a credit's text is the document's: escaped in the terminal and in the page
    with Store(db) as store:
        evidence = {"credits": [{"kind": "learned", "text": "<script>x</script> [bold]y[/bold]"}]}
        store.con.execute("UPDATE cascade_edges SET evidence = ?", [json.dumps(evidence)])
    res = CliRunner().invoke(app, ["cascade", str(cluster), "--db", str(db)])
    assert "learned: <script>x</script> [bold]y[/bold]" in " ".join(res.output.split())
    CliRunner().invoke(app, ["report", "--db", str(db), "--out", str(out)])
    html = out.read_text(encoding="utf-8")
    assert "&lt;script&gt;x&lt;/script&gt; [bold]y[/bold]" in html and "<script>x" not in html
    folder = CliRunner().invoke(app, ["report", "--db", str(db), "--out", str(tmp_path)])
    assert folder.exit_code == 2 and "is a folder" in " ".join(folder.output.split())


def test_other_credit_reads_odd_evidence_safely():
    from echoscope.trace.cascade import other_credit

    odd = (None, float("nan"), "", "not json", "[]", '{"credits": null}', '{"credits": 5}')
    for evidence in (*odd, '{"credits": [null, 3, {"kind": "phrase"}]}'):
        assert other_credit(evidence) is None
    evidence = {
        "credits": [
            {"kind": "quote", "text": "copied words"},
            {"kind": "phrase", "text": "told the Guardian", "names_parent": True},
            {"kind": "learned", "text": "Police think he fled", "score": 1},
        ]
    }
    assert other_credit(json.dumps(evidence)) == "learned: Police think he fled (1.00)"


def test_bf16_only_when_asked_and_native(monkeypatch):
    from echoscope.trace.credit_model import native_bf16

    monkeypatch.setenv("ECHOSCOPE_FP32", "1")
    assert native_bf16() is False
    monkeypatch.delenv("ECHOSCOPE_FP32")

    def no_cpuinfo(*args, **kwargs):
        raise OSError("no /proc/cpuinfo")

    monkeypatch.setattr("builtins.open", no_cpuinfo)
    assert native_bf16() is False  # nothing to tell: fp32


def test_scorer_leaves_other_languages_to_the_rules(store, tmp_path):
    """It learned English court and news copy: a Persian credit is never overruled by it."""
    from echoscope.detect.reuse.stage import run_reuse
    from echoscope.ingest.pipeline import ingest
    from echoscope.trace.cascade import run_cascades

    story = (
        "وزارت بهداشت اعلام کرد که آب آشامیدنی شهر تا اطلاع ثانوی قابل استفاده نیست و مردم باید "
        "از آب بطری استفاده کنند زیرا آزمایش ها نشان داد که مخزن اصلی شهر آلوده شده است."
    )
    records = [
        {"id": "irna", "series": "ایرنا", "date": "2025-03-01T08:00:00Z", "text": story},
        {
            "id": "copy",
            "series": "blog",
            "date": "2025-03-01T10:00:00Z",
            "text": "به گزارش ایرنا، " + story,
        },
    ]
    path = tmp_path / "fa.jsonl"
    path.write_text(
        "\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n", encoding="utf-8"
    )
    ingest(store, [str(path)])
    assert store.con.execute("SELECT DISTINCT language FROM documents").fetchall() == [("fa",)]
    run_reuse(store)
    summary = run_cascades(store)
    assert summary.edges == 1 and summary.attributed == 1
    assert summary.credit_model == "not needed"  # no English copy: the model never loaded
    assert summary.credit_model_skipped == 1
    edge = store.con.execute(
        "SELECT credit_kind, credit_text, evidence FROM cascade_edges WHERE parent_seq IS NOT NULL"
    ).fetchone()
    credits = json.loads(edge[2])["credits"]
    assert "phrase" in {c["kind"] for c in credits} and edge[0] in ("phrase", "names-source")
    assert all("score" not in c for c in credits)


def test_texts_scored_together_score_as_alone(monkeypatch):
    """Sentences of many texts are batched by length; each text keeps its own scores, a
    text given twice is scored once, and a small memo loses nothing of one call."""
    from echoscope.detect.claims.sentences import split_sentences
    from echoscope.trace import credit_model

    texts = [
        "A man was jailed yesterday.\n\nA police spokesman said last night that inquiries "
        "were continuing.",
        WIRE,
        "Mr Smith told the jury he had never met the victim. He was cleared.",
        "",
        " ".join(
            f"Sentence number {i} of a long text." for i in range(credit_model.MAX_SENTENCES + 5)
        ),
    ]
    fresh = CreditScorer()  # an empty memo: every text is scored in the one call
    alone = [fresh.score_texts([t])[0] for t in texts]
    fresh._memo.clear()
    monkeypatch.setattr(credit_model, "MEMO", 2)
    together = fresh.score_texts([*texts, texts[0]])
    assert len(together) == 6 and together[3] == [] and together[5] == together[0]
    assert len(fresh._memo) <= 2
    for text, got, one in zip(texts, together, alone, strict=False):
        sentences = split_sentences(text)[: credit_model.MAX_SENTENCES]
        assert [(s.start, s.end) for s, _ in got] == [(s.start, s.end) for s in sentences]
        assert [s.text for s, _ in got] == [s.text for s in sentences]
        # padding differs between the batches; the scores do not (beyond float rounding)
        assert np.allclose([p for _, p in got], [p for _, p in one], atol=1e-5)
    assert together[0][1][1] >= ADD and together[2][0][1] < VETO


def _two_stories(store, tmp_path) -> None:
    """Two wire stories, each copied by two papers (one copy crediting a spokesman)."""
    from echoscope.detect.reuse.stage import run_reuse
    from echoscope.ingest.pipeline import ingest

    other = (
        "Flood defences along the river Aire failed overnight and three hundred homes in the "
        "lower town were evacuated as water levels rose faster than forecasters had expected."
    )
    records = [
        {"id": "wire1", "series": "PA", "date": "2025-03-01T08:00:00Z", "text": WIRE},
        {"id": "wire2", "series": "PA", "date": "2025-03-01T09:00:00Z", "text": other},
        {
            "id": "copy1a",
            "series": "ledger",
            "date": "2025-03-02T06:00:00Z",
            "text": WIRE + "\n\nA police spokesman said inquiries were continuing.",
        },
        {"id": "copy1b", "series": "mail", "date": "2025-03-02T07:00:00Z", "text": WIRE},
        {
            "id": "copy2a",
            "series": "ledger",
            "date": "2025-03-02T06:30:00Z",
            "text": other + "\n\nThe council said emergency shelters were open.",
        },
        {"id": "copy2b", "series": "mail", "date": "2025-03-02T08:00:00Z", "text": other},
    ]
    path = tmp_path / "docs.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")
    ingest(store, [str(path)])
    run_reuse(store)


def _edges(store) -> list:
    """The reuse trees' edges with their credits (the rest of the evidence left out)."""
    return store.con.execute(
        "SELECT * EXCLUDE (evidence), json_extract(evidence, '$.credits') "
        "FROM cascade_edges ORDER BY cluster_id, child_seq"
    ).fetchall()


def test_cascade_scores_its_children_together_and_builds_the_same_trees(
    store, tmp_path, monkeypatch
):
    """The trees' children are scored in one batch before the parent search; the trees and
    credits are those of reading each child when its edge is made (prefetch off), in
    blocks of any size, and when a batch fails (each child is then read alone)."""
    from echoscope.trace import cascade
    from echoscope.trace.cascade import run_cascades
    from echoscope.trace.credit_model import Reviewer

    _two_stories(store, tmp_path)
    calls = []
    original = CreditScorer.score_texts

    def counting(self, texts, cache=None):
        calls.append(len(texts))
        return original(self, texts, cache)

    monkeypatch.setattr(CreditScorer, "score_texts", counting)
    summary = run_cascades(store)
    batched = _edges(store)
    assert summary.edges == 4 and summary.roots == 2 and calls == [4]  # the copies, at once
    assert any("spokesman" in str(e) for e in batched)

    def same_trees(rows, expected) -> bool:
        """The same edges and credits, each credit's score within 2e-3: scored in another
        batch, a sentence's score moves by float rounding (bf16: up to about 1e-3)."""

        def split(r):
            credits = json.loads(r[-1]) if r[-1] else []
            scores = [c.pop("score", None) for c in credits]
            return (*(str(x)[:12] if isinstance(x, float) else x for x in r[:-1]), credits), scores

        if len(rows) != len(expected):
            return False
        for got, want in zip(rows, expected, strict=True):
            (g, gs), (w, ws) = split(got), split(want)
            if g != w or len(gs) != len(ws):
                return False
            for a, b in zip(gs, ws, strict=True):
                if (a is None) != (b is None) or (a is not None and abs(a - b) > 2e-3):
                    return False
        return True

    for change in ("no prefetch", "blocks of one", "batch fails"):
        calls.clear()
        with monkeypatch.context() as m:
            if change == "no prefetch":
                m.setattr(Reviewer, "prefetch", lambda self, items, chunk=128: None)
            elif change == "blocks of one":
                m.setattr(cascade, "BLOCK", 1)
            else:

                def fails_in_batch(self, texts, cache=None):
                    calls.append(len(texts))
                    if len(texts) > 1:
                        raise RuntimeError("out of memory")
                    return original(self, texts, cache)

                m.setattr(CreditScorer, "score_texts", fails_in_batch)
            store.con.execute("DELETE FROM credit_scores")  # each way scores afresh
            default_scorer()._memo.clear()
            again = run_cascades(store)
        assert same_trees(_edges(store), batched), change
        assert again.credits_learned == summary.credits_learned, change
        expected = {
            "no prefetch": [1] * 4,
            "blocks of one": [2, 2],  # a block per story
            "batch fails": [4] + [1] * 4,
        }
        assert calls == expected[change], change


def test_scores_are_kept_in_the_store_and_read_once(store, tmp_path, monkeypatch):
    """A second run of the cascade stage reads no text the first one read: the scores come
    from the store, bit for bit, and build the same trees. Another scorer (or another way of
    reading) does not take them."""
    from echoscope.trace.cascade import run_cascades

    _two_stories(store, tmp_path)
    sentences = []
    original = CreditScorer.score_pairs

    def counting(self, pairs):
        sentences.append(len(pairs))
        return original(self, pairs)

    monkeypatch.setattr(CreditScorer, "score_pairs", counting)
    scorer = default_scorer()
    scorer._memo.clear()  # what other tests scored in this process
    first = run_cascades(store)
    built = _edges(store)
    assert sum(sentences) > 0 and first.credit_model_reused == 0
    assert store.count("credit_scores") == 4  # the four copies, once each
    kept = store.con.execute("SELECT probs FROM credit_scores").fetchall()
    assert all(0.0 <= p <= 1.0 for (probs,) in kept for p in probs)

    sentences.clear()
    scorer._memo.clear()  # a new process: only the store remembers
    again = run_cascades(store)
    assert sentences == [] and again.credit_model_reused == 4
    assert _edges(store) == built  # the very same scores, not close ones
    assert store.count("credit_scores") == 4

    scorer._memo.clear()
    monkeypatch.setattr(scorer, "identity", "another-scorer")
    other = run_cascades(store)
    assert sum(sentences) > 0 and other.credit_model_reused == 0
    assert store.count("credit_scores") == 8
    assert first.credit_scores_off is None and other.credit_scores_off is None

    # a store that cannot keep them: the copies are scored all the same, and it is said
    store.con.execute("DROP TABLE credit_scores")
    scorer._memo.clear()
    sentences.clear()
    lost = run_cascades(store)
    assert (
        sum(sentences) > 0 and lost.credit_scores_off and "credit_scores" in lost.credit_scores_off
    )
    assert lost.credits_learned == first.credits_learned and lost.edges == first.edges
