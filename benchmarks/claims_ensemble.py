"""Would two sentence models together rank fact-checks better than the tuned one alone?

A route to the CheckThat! target that echoscope does not ship: each verified claim is
scored by both models (the packaged default and the tuned echoscope-claims-minilm, each
with its own matcher and `any_sentence`), and the two scores are combined, either as a
weighted sum or by a logistic model over per-claim features (each model's combined
probability, best sentence probability and cosine, and the best BM25 score), fitted on
train and scored on dev in five folds over tweets. Train and dev only: dev-test is never
read, so the figures here choose, they do not report.

The tuned model was trained on train, so its train figures are optimistic; dev is the
honest comparison. Shipping the ensemble would mean two indexes and two embeddings per
query in `echoscope trace`.

    python benchmarks/claims_ensemble.py
"""

from __future__ import annotations

import sys
from collections import defaultdict

import numpy as np

from _common import write_result
from checkthat import SET, Ranker, average_precision, load_qrels, load_queries, vclaim_store

TUNED = "echoscope-claims-minilm"
FEATURES = ["any_t", "best_t", "cos_t", "any_d", "best_d", "cos_d", "bm25"]


def per_claim(ranker: Ranker, split: str) -> dict[str, dict[str, list[tuple]]]:
    """tweet -> verified claim -> [(probability, cosine, bm25) of each matching sentence]."""
    queries = load_queries(SET / "traindev_queries.tsv")
    out = {}
    for qid in load_qrels(SET / f"{split}_qrels.tsv"):
        rows, sem, lex, prob = ranker.tracer.match(queries[qid], 100, floor=0.0)
        found: dict[str, list[tuple]] = defaultdict(list)
        for row, p, s, x in zip(rows, prob, sem, lex, strict=True):
            for doc in ranker.docs_of[int(row)]:
                found[doc].append((float(p), float(s), float(x)))
        out[qid] = dict(found)
    return out


def table(
    split: str, tuned_ranker: Ranker, default_ranker: Ranker
) -> dict[str, tuple[list[str], np.ndarray, set[str]]]:
    """tweet -> (candidate claims, their features, the relevant claims)."""
    from echoscope.detect.claims.match import any_sentence

    tuned, default = per_claim(tuned_ranker, split), per_claim(default_ranker, split)
    qrels = load_qrels(SET / f"{split}_qrels.tsv")
    out = {}
    for qid, relevant in qrels.items():
        a, b = tuned.get(qid, {}), default.get(qid, {})
        docs = sorted(set(a) | set(b))
        rows = []
        for d in docs:
            va, vb = a.get(d, []), b.get(d, [])
            rows.append(
                [
                    any_sentence([x[0] for x in va]),
                    max((x[0] for x in va), default=0.0),
                    max((x[1] for x in va), default=0.0),
                    any_sentence([x[0] for x in vb]),
                    max((x[0] for x in vb), default=0.0),
                    max((x[1] for x in vb), default=0.0),
                    max((x[2] for x in va + vb), default=0.0),
                ]
            )
        out[qid] = (docs, np.array(rows), relevant)
    return out


def map5(t: dict, score) -> float:
    aps = []
    for docs, x, relevant in t.values():
        order = np.lexsort((np.array(docs), -score(x)))
        aps.append(average_precision([docs[i] for i in order], relevant, 5))
    return round(float(np.mean(aps)), 4)


def main() -> None:
    from sklearn.linear_model import LogisticRegression

    rankers = [Ranker(vclaim_store(SET / "vclaims.jsonl.gz", model=m)) for m in (TUNED, None)]
    tables = {s: table(s, *rankers) for s in ("train", "dev")}
    result: dict = {"queries": {s: len(t) for s, t in tables.items()}}
    for split, t in tables.items():
        result[split] = {
            "tuned": map5(t, lambda x: x[:, 0]),
            "default": map5(t, lambda x: x[:, 3]),
            **{
                f"tuned+{w}*default": map5(t, lambda x, w=w: x[:, 0] + w * x[:, 3])
                for w in (0.25, 0.5, 0.75, 1.0)
            },
        }
    # a logistic model over all features, fitted on train, scored on dev
    xs, ys = [], []
    for docs, x, relevant in tables["train"].values():
        xs.append(x)
        ys.append(np.array([d in relevant for d in docs]))
    model = LogisticRegression(max_iter=2000).fit(np.vstack(xs), np.concatenate(ys))
    result["dev"]["logistic_fitted_on_train"] = map5(tables["dev"], model.decision_function)
    result["logistic_weights"] = dict(
        zip(FEATURES, (round(float(w), 3) for w in model.coef_[0]), strict=True)
    )
    result["command"] = "python benchmarks/claims_ensemble.py " + " ".join(sys.argv[1:])
    for split in ("train", "dev"):
        print(split, result[split])
    write_result("claims_ensemble", result)


if __name__ == "__main__":
    main()
