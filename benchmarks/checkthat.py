"""CheckThat! 2022 task 2A (English): rank fact-checked claims for each tweet with
echoscope's claim matcher, and score the ranking with the official MAP@5.

The verified claims go through the real pipeline: written as JSON Lines documents (title,
subtitle and claim as paragraphs), `echoscope ingest`, then the claims stage. Each tweet
is matched with `ClaimTracer.match` (nearest vectors + BM25, the calibrated matcher); a
verified claim's score combines its matching sentences' probabilities (`any_sentence`:
noisy-or, so a title and a claim that both match count for more than one).

Each tweet ends with its date ("— Name (@handle) January 28, 2021") and each verified
claim has the date of its fact-check, so the headline ranking uses the time-aware
matcher (`trace --near`): a fact-check written days after the tweet is likelier to be
about it than one from years before. The same run also reports the ranking from the
text alone (`text_only`); `--no-dates` makes that the headline and the run file.

    python benchmarks/checkthat.py [--queries F --qrels F --vclaims F] [--run-out FILE]
                                   [--model NAME]

Defaults are the dev-test split in ../shared/data/checkthat2022-2a and the default model;
`--model echoscope-claims-minilm` ranks with the model tuned on train
(benchmarks/train_claim_model.py). Each model's matcher was fitted on train or dev
(benchmarks/train_claim_matcher.py); dev-test is never used to fit anything. The built store is cached under benchmarks/.cache (keyed by the vclaims
file's content), so later runs only embed the tweets.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import re
import subprocess
import sys
import time
from collections import defaultdict
from datetime import datetime
from pathlib import Path

import numpy as np

from _common import DATA, ROOT, echoscope_cli, write_result

SET = DATA / "checkthat2022-2a"
CACHE = ROOT / "benchmarks" / ".cache"
MIN_WORDS = 3  # fact-check titles are short ("Does Video Show a Giant Anaconda?")


def load_queries(path: Path) -> dict[str, str]:
    out = {}
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if "\t" in line:
                qid, text = line.rstrip("\n").split("\t", 1)
                if qid != "tweet_id":
                    out[qid] = text
    return out


_TWEET_DATE = re.compile(r"([A-Z][a-z]+ \d{1,2}, \d{4})\W*$")


def tweet_date(text: str) -> datetime | None:
    """The date an embedded tweet's signature ends with, or None."""
    m = _TWEET_DATE.search(text.strip())
    if not m:
        return None
    try:
        return datetime.strptime(m.group(1), "%B %d, %Y")
    except ValueError:
        return None


def load_qrels(path: Path) -> dict[str, set[str]]:
    out: dict[str, set[str]] = defaultdict(set)
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            parts = line.split()
            if len(parts) >= 4 and parts[3] != "0":
                out[parts[0]].add(parts[2])
    return dict(out)


def vclaim_store(vclaims: Path, work: Path | None = None, model: str | None = None) -> Path:
    """A store holding the verified claims, with the claims stage run with ``model``
    (default: the default model) once; cached by the claims file's content and the model."""
    from echoscope.detect.claims.embed import resolve_model
    from echoscope.detect.claims.stage import SENTENCES_VERSION, ClaimsParams, run_claims
    from echoscope.store import Store

    model = resolve_model(model)[0]
    # "dated": the documents carry their fact-check's date (stores built before did not);
    # a store whose sentences were cut another way is built again
    key = vclaims.read_bytes() + model.encode("utf-8") + b"dated" + SENTENCES_VERSION.encode()
    digest = hashlib.sha1(key).hexdigest()[:12]
    work = work or CACHE / f"checkthat-{digest}"
    work.mkdir(parents=True, exist_ok=True)
    db = work / "vclaims.duckdb"
    done = work / "built"
    if not done.exists():
        db.unlink(missing_ok=True)
        docs = work / "vclaims.jsonl"
        opener = gzip.open if vclaims.suffix == ".gz" else open
        with (
            opener(vclaims, "rt", encoding="utf-8") as src,
            open(docs, "w", encoding="utf-8") as dst,
        ):
            for line in src:
                v = json.loads(line)
                parts = [v.get("title") or "", v.get("subtitle") or "", v.get("vclaim") or ""]
                text = "\n\n".join(p.strip() for p in parts if p and p.strip())
                doc = {"id": v["vclaim_id"], "text": text, "source": "vclaims"}
                if (v.get("date") or "").strip():
                    doc["date"] = v["date"].strip()  # "6 August 2018"
                dst.write(json.dumps(doc) + "\n")
        subprocess.run(
            [*echoscope_cli(), "ingest", str(docs), "--db", str(db), "--quiet"], check=True
        )
        with Store(db) as store:
            run_claims(store, ClaimsParams(model=model, min_words=MIN_WORDS, links=False))
        done.write_text(digest)
    return db


class Ranker:
    """Verified claims ranked for a tweet by echoscope's matcher."""

    def __init__(self, db: Path, matcher_path: str | None = None) -> None:
        from echoscope.detect.claims.match import load_matcher
        from echoscope.store import Store
        from echoscope.trace.claims import ClaimTracer

        self.store = Store(db, read_only=True)
        # the shipped matcher fitted for the store's model, unless a file is named
        matcher = load_matcher(matcher_path) if matcher_path else None
        self.tracer = ClaimTracer(self.store, matcher=matcher)
        pairs = self.store.con.execute(
            "SELECT DISTINCT s.row, d.id FROM claim_sentences s JOIN documents d ON d.seq = s.seq"
        ).fetchall()
        self.docs_of: dict[int, list[str]] = defaultdict(list)
        for row, doc in pairs:
            self.docs_of[row].append(doc)

    def features(
        self, text: str, k: int = 100, near: datetime | None = None
    ) -> list[tuple[str, float, float, float]]:
        """(vclaim id, semantic, lexical, days from ``near``) for every candidate
        sentence and verified claim stating it (days NaN without ``near`` or without the
        claim's date)."""
        rows, sem, lex, _ = self.tracer.match(text, k, floor=0.0)
        gaps = self.tracer.gaps(rows, near) if near is not None else {}
        return [
            (d, float(s), float(x), gaps.get(int(r), {}).get(d, float("nan")))
            for r, s, x in zip(rows, sem, lex, strict=True)
            for d in self.docs_of[int(r)]
        ]

    def rank(
        self, text: str, k: int = 100, near: datetime | None = None
    ) -> list[tuple[str, float]]:
        return self.rank_both(text, k, near)[0]

    def rank_both(
        self, text: str, k: int = 100, near: datetime | None = None
    ) -> tuple[list[tuple[str, float]], list[tuple[str, float]]]:
        """The ranking with the time-aware matcher when ``near`` is given (else the text
        matcher), and the text matcher's ranking of the same candidates."""
        feats = self.features(text, k, near)
        docs = [d for d, *_ in feats]
        sem, lex, gap = (np.array([f[i] for f in feats]) for i in (1, 2, 3))
        text_prob = self.tracer.matcher.probability(sem, lex)
        if near is None:
            ranked = self.ranked(docs, text_prob)
            return ranked, ranked
        prob = self.tracer.matcher_for(near).probability(sem, lex, gap)
        return self.ranked(docs, prob), self.ranked(docs, text_prob)

    @staticmethod
    def ranked(docs: list[str], prob) -> list[tuple[str, float]]:
        """Verified claims by their sentences' probabilities combined (``any_sentence``)."""
        from echoscope.detect.claims.match import any_sentence

        per_doc: dict[str, list[float]] = defaultdict(list)
        for d, p in zip(docs, prob, strict=True):
            per_doc[d].append(float(p))
        scored = {d: any_sentence(ps) for d, ps in per_doc.items()}
        return sorted(scored.items(), key=lambda x: (-x[1], x[0]))


def average_precision(ranked: list[str], relevant: set[str], k: int) -> float:
    hits, total = 0, 0.0
    for i, doc in enumerate(ranked[:k]):
        if doc in relevant:
            hits += 1
            total += hits / (i + 1)
    return total / min(len(relevant), k) if relevant else 0.0


def scores(
    runs: dict[str, list[tuple[str, float]]], qrels: dict[str, set[str]], scored: list[str]
) -> dict[str, float]:
    ranked = {q: [d for d, _ in runs[q]] for q in scored}
    ap5 = [average_precision(ranked[q], qrels[q], 5) for q in scored]
    ap1 = [average_precision(ranked[q], qrels[q], 1) for q in scored]
    rec5 = [len(set(ranked[q][:5]) & qrels[q]) / len(qrels[q]) for q in scored]
    return {
        "map@5": round(float(np.mean(ap5)), 4),
        "map@1": round(float(np.mean(ap1)), 4),
        "recall@5": round(float(np.mean(rec5)), 4),
    }


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--queries", type=Path, default=SET / "devtest_queries.tsv")
    ap.add_argument("--qrels", type=Path, default=SET / "devtest_qrels.tsv")
    ap.add_argument("--vclaims", type=Path, default=SET / "vclaims.jsonl.gz")
    ap.add_argument("--run-out", type=Path, default=None, help="write a TREC run file here")
    ap.add_argument("--matcher", default=None, help="matcher weights JSON (default: shipped)")
    ap.add_argument("--k", type=int, default=100, help="candidates from each index per tweet")
    ap.add_argument("--model", default=None, help="sentence model (default: the default)")
    ap.add_argument(
        "--no-dates",
        action="store_true",
        help="rank by the text alone (the tweets' and fact-checks' dates unused)",
    )
    ap.add_argument("--workdir", type=Path, default=None)
    ap.add_argument("--name", default="checkthat", help="results file name")
    args = ap.parse_args()

    queries = load_queries(args.queries)
    qrels = load_qrels(args.qrels)
    t0 = time.perf_counter()
    db = vclaim_store(args.vclaims, args.workdir, args.model)
    build_s = time.perf_counter() - t0
    ranker = Ranker(db, args.matcher)
    dates = {} if args.no_dates else {q: tweet_date(t) for q, t in queries.items()}
    t0 = time.perf_counter()
    both = {qid: ranker.rank_both(text, args.k, dates.get(qid)) for qid, text in queries.items()}
    rank_s = time.perf_counter() - t0
    runs = {qid: timed for qid, (timed, _) in both.items()}
    text_runs = {qid: text_only for qid, (_, text_only) in both.items()}
    if args.run_out:
        with open(args.run_out, "w", encoding="utf-8") as fh:
            for qid, ranked in runs.items():
                for i, (doc, score) in enumerate(ranked[:10]):
                    fh.write(f"{qid} Q0 {doc} {i + 1} {score:.6f} echoscope\n")
    scored = [q for q in queries if q in qrels]
    matcher = ranker.tracer.matcher
    write_result(
        args.name,
        {
            "queries": len(scored),
            **scores(runs, qrels, scored),
            "dated_queries": sum(dates.get(q) is not None for q in scored),
            "text_only": scores(text_runs, qrels, scored),
            "vclaims": ranker.store.count("documents"),
            "sentences_indexed": len(ranker.tracer.index),
            "model": ranker.tracer.model,
            "matcher": matcher.as_dict(),
            "build_s": round(build_s, 1),
            "rank_ms_per_query": round(rank_s * 1000 / max(1, len(queries)), 1),
            "queries_file": str(args.queries),
            "command": "python benchmarks/checkthat.py " + " ".join(sys.argv[1:]),
        },
    )


if __name__ == "__main__":
    main()
