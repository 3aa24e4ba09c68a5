"""Fit the claim matcher's weights and calibrate its thresholds for one sentence model
(CheckThat! 2022 2A).

Weights: a logistic regression over (semantic, lexical) of every candidate verified claim
(its best sentence) for a set of tweets, labelled by whether it is the tweet's. For the
untuned MiniLM they are fitted on *train*; echoscope-claims-minilm has been tuned on
train, where its scores are too good to be typical, so its weights are fitted on *dev*.
Thresholds, on dev: ``same`` is the lowest probability at which at least 90% of the
candidates above it are right, ``review`` the lowest at 50%. Dev-test is never read.

The time-aware variant (``timed``) is fitted the same way with two more scores: log(1 +
days between the tweet and the fact-check) and whether the fact-check has no date.

The shipped file keeps one matcher per model; this replaces the one for ``--model``.

    python benchmarks/train_claim_matcher.py [--model NAME] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from _common import ROOT
from checkthat import SET, Ranker, load_qrels, load_queries, tweet_date, vclaim_store

OUT = ROOT / "src" / "echoscope" / "detect" / "claims" / "data" / "matcher.json"


def dataset(ranker: Ranker, queries: dict[str, str], qrels: dict[str, set[str]], k: int):
    """Rows (semantic, lexical, log(1 + |days apart|), fact-check undated), one per
    candidate verified claim, whether it is the tweet's, and whether the tweet has a date
    (the time-aware matcher is fitted on those only: it is not used for the others)."""
    X, y, dated = [], [], []
    for qid, rel in qrels.items():
        if qid not in queries:
            continue
        near = tweet_date(queries[qid])
        best: dict[str, tuple[float, float, float]] = {}
        for doc, sem, lex, gap in ranker.features(queries[qid], k, near):
            # one example per verified claim: its best sentence (the matcher scores sentences;
            # the ranking then combines a claim's sentences with any_sentence)
            if doc not in best or sem + lex > best[doc][0] + best[doc][1]:
                best[doc] = (sem, lex, gap)
        for doc, (sem, lex, gap) in best.items():
            undated = bool(np.isnan(gap))
            X.append((sem, lex, 0.0 if undated else float(np.log1p(abs(gap))), float(undated)))
            y.append(doc in rel)
            dated.append(near is not None)
    return np.asarray(X), np.asarray(y), np.asarray(dated)


def fit(X: np.ndarray, y: np.ndarray, Xd: np.ndarray, yd: np.ndarray, names: list[str]):
    """Logistic weights on (X, y), thresholds and their figures on dev (Xd, yd)."""
    from sklearn.linear_model import LogisticRegression

    lr = LogisticRegression(C=1.0, max_iter=5000).fit(X, y)
    coef = [float(v) for v in lr.coef_[0]]
    bias = float(lr.intercept_[0])
    prob = 1 / (1 + np.exp(-(Xd @ np.array(coef) + bias)))
    same, review = threshold_at(prob, yd, 0.9), threshold_at(prob, yd, 0.5)
    out = {n: round(c, 4) for n, c in zip(names, coef, strict=True)}
    out |= {"bias": round(bias, 4), "same": round(same, 4), "review": round(review, 4)}
    kept = prob >= same
    out["dev_same_precision"] = round(float(yd[kept].mean()) if kept.any() else 0.0, 4)
    out["dev_same_recall"] = round(float(yd[kept].sum() / max(1, yd.sum())), 4)
    kept = prob >= review
    out["dev_review_recall"] = round(float(yd[kept].sum() / max(1, yd.sum())), 4)
    return out


def threshold_at(prob: np.ndarray, label: np.ndarray, precision: float) -> float:
    order = np.argsort(-prob)
    p, lab = prob[order], label[order]
    prec = np.cumsum(lab) / np.arange(1, len(lab) + 1)
    ok = np.flatnonzero(prec >= precision)
    return float(p[ok[-1]]) if len(ok) else 1.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--k", type=int, default=100)
    ap.add_argument("--model", default=None, help="sentence model (default: the default)")
    args = ap.parse_args()
    from echoscope.detect.claims.embed import DEFAULT_MODEL, resolve_model
    from echoscope.detect.claims.tuned import TUNED_MODEL

    model = resolve_model(args.model)[0]
    fit_on = "dev" if model == TUNED_MODEL else "train"
    queries = load_queries(SET / "traindev_queries.tsv")
    ranker = Ranker(vclaim_store(SET / "vclaims.jsonl.gz", model=model))
    Xd, yd, dd = dataset(ranker, queries, load_qrels(SET / "dev_qrels.tsv"), args.k)
    if fit_on == "dev":
        X, y, dated = Xd, yd, dd
    else:
        X, y, dated = dataset(ranker, queries, load_qrels(SET / "train_qrels.tsv"), args.k)
    where = f"weights on {fit_on} ({int(y.sum())} positive / {len(y)} candidate claims)"
    thresholds = "thresholds on dev at precision 0.9 (same) and 0.5 (review)"
    text = ["w_semantic", "w_lexical"]
    weights = fit(X[:, :2], y, Xd[:, :2], yd, text)
    weights |= {
        "model": ranker.tracer.model,
        "trained_on": f"CheckThat! 2022 2A: {where}, {thresholds}",
    }
    timed = fit(X[dated], y[dated], Xd[dd], yd[dd], [*text, "w_gap", "w_undated"])
    timed["trained_on"] = (
        f"CheckThat! 2022 2A with the tweet's and the fact-check's dates: {where}, {thresholds}"
    )
    weights["timed"] = timed
    others = []
    if args.out.exists():
        raw = json.loads(args.out.read_text(encoding="utf-8"))
        others = [m for m in raw.get("matchers", [raw]) if m.get("model") != model]
    # the default model's matcher comes first: models without their own get it
    matchers = sorted([weights, *others], key=lambda m: m.get("model") != DEFAULT_MODEL)
    args.out.write_text(json.dumps({"matchers": matchers}, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(weights, indent=2))


if __name__ == "__main__":
    main()
