"""Tune echoscope-claims-minilm (BitFit on the packaged MiniLM) on CheckThat! 2022 2A train.

Each train tweet gives one example: the tweet, the sentence of its verified claim that the
untuned model finds closest (the positive), and the highest-scoring sentence of another
verified claim (a hard negative). Only biases and LayerNorm scales are trained, with an
in-batch contrastive loss (every other tweet's positive and negative are negatives too),
so the result is 31k numbers (125 KB) that ship in the package. Dev and dev-test are
never read here. CPU, a few minutes; fixed seed.

    python benchmarks/train_claim_model.py [--epochs 2] [--lr 1e-3] [--out FILE] [--holdout]

With --holdout it trains on half the train tweets and reports MAP@5 of the untuned and
the tuned model on the other half and dev (the evidence that tuning helps), shipping
nothing.

Then refit its matcher:
    python benchmarks/train_claim_matcher.py --model echoscope-claims-minilm
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from _common import write_result
from checkthat import SET, Ranker, load_qrels, load_queries, vclaim_store

BATCH = 32
TEMPERATURE = 0.05
SEED = 0


def examples(
    ranker: Ranker, queries: dict[str, str], qrels: dict[str, set[str]], negatives: int = 1
):
    """(tweet id, tweet, positive sentence, hard negative sentences) for each train tweet:
    the ``negatives`` highest-scoring sentences of other verified claims."""
    from echoscope.detect.claims.embed import clean_for_embedding

    texts = dict(ranker.store.con.execute("SELECT row, text FROM claim_texts").fetchall())
    out = []
    for qid, rel in sorted(qrels.items()):
        if qid not in queries:
            continue
        rows, sem, _, prob = ranker.tracer.match(queries[qid], 100, floor=0.0)
        good = np.array([any(d in rel for d in ranker.docs_of[int(r)]) for r in rows], dtype=bool)
        if not good.any() or good.all():
            continue
        pos = rows[good][np.argmax(sem[good])]
        negs = rows[~good][np.argsort(-prob[~good], kind="stable")[:negatives]]
        out.append(
            (qid, clean_for_embedding(queries[qid]), texts[int(pos)], [texts[int(n)] for n in negs])
        )
    return out


def held_out_map(
    ranker: Ranker,
    model,
    tweets: list[tuple[str, set[str]]],
    base_params: dict | None = None,
    mixes: tuple[float, ...] = (),
) -> dict[str, float]:
    """MAP@5 of the untuned and the tuned model on tweets neither was trained on: the
    untuned model's candidates (nearest vectors and BM25) rescored with each model's
    cosine and the same lexical score and weights.

    With ``base_params`` (the tuned parameters' values before training) it also scores
    the weight-space mixes base + a * (tuned - base) for each a in ``mixes``, and the
    two-model ensemble (the mean of the untuned and tuned cosines)."""
    import torch

    from checkthat import average_precision
    from echoscope.detect.claims.embed import clean_for_embedding

    texts = dict(ranker.store.con.execute("SELECT row, text FROM claim_texts").fetchall())
    matcher = ranker.tracer.matcher
    cands = [ranker.tracer.match(text, 100, floor=0.0) for text, _ in tweets]
    need = sorted({int(r) for rows, *_ in cands for r in rows})
    at = {r: i for i, r in enumerate(need)}

    def encode(items: list[str]) -> np.ndarray:
        items = [clean_for_embedding(t) or t for t in items]
        return model.encode(items, batch_size=64, normalize_embeddings=True)

    vectors = {"tuned": (encode([texts[r] for r in need]), encode([t for t, _ in tweets]))}
    if base_params:
        params = dict(model.named_parameters())
        trained = {n: params[n].detach().clone() for n in base_params}
        for a in mixes:
            with torch.no_grad():
                for n, b in base_params.items():
                    params[n].copy_(b + a * (trained[n] - b))
            vectors[f"mix {a}"] = (encode([texts[r] for r in need]), encode([t for t, _ in tweets]))
        with torch.no_grad():
            for n, t in trained.items():
                params[n].copy_(t)
    out: dict[str, list[float]] = {"untuned": []} | {name: [] for name in vectors}
    if base_params:
        out["ensemble"] = []
    for i, ((rows, sem, lex, _), (_, rel)) in enumerate(zip(cands, tweets, strict=True)):
        cosines = {"untuned": sem}
        for name, (row_vecs, q_vecs) in vectors.items():
            cosines[name] = row_vecs[[at[int(r)] for r in rows]] @ q_vecs[i]
        if base_params:
            cosines["ensemble"] = (sem + cosines["tuned"]) / 2
        for name, cos in cosines.items():
            prob = matcher.probability(cos, lex)
            docs = [(d, p) for r, p in zip(rows, prob, strict=True) for d in ranker.docs_of[int(r)]]
            ranked = [d for d, _ in ranker.ranked([d for d, _ in docs], [p for _, p in docs])]
            out[name].append(average_precision(ranked, rel, 5))
    return {name: round(float(np.mean(v)), 4) for name, v in out.items()}


def main() -> None:
    import torch
    from sentence_transformers import SentenceTransformer

    from echoscope.detect.claims import tuned
    from echoscope.detect.claims.embed import BASE_MODEL, resolve_model

    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--out", type=Path, default=tuned.params_path())
    ap.add_argument(
        "--holdout",
        action="store_true",
        help="train on half the train tweets, report MAP@5 on the other half and dev, "
        "write benchmarks/results/claim_model_holdout.json, ship nothing",
    )
    ap.add_argument(
        "--mix",
        dest="mixes",
        type=float,
        action="append",
        default=None,
        help="with --holdout: also score base + MIX * (tuned - base) (repeat; default "
        "0.25, 0.5, 0.75) and the two-model ensemble",
    )
    ap.add_argument("--no-mix", action="store_true", help="with --holdout: tuned model only")
    ap.add_argument("--name", default="claim_model_holdout", help="with --holdout: results name")
    ap.add_argument(
        "--negatives", type=int, default=1, help="hard negative sentences per train tweet"
    )
    args = ap.parse_args()
    args.mixes = () if args.no_mix else tuple(args.mixes or (0.25, 0.5, 0.75))

    # examples are mined with the untuned model, so training never depends on its output
    ranker = Ranker(vclaim_store(SET / "vclaims.jsonl.gz", model=BASE_MODEL))
    queries = load_queries(SET / "traindev_queries.tsv")
    qrels = load_qrels(SET / "train_qrels.tsv")
    train = examples(ranker, queries, qrels, args.negatives)
    held: list[tuple[str, set[str]]] = []
    if args.holdout:
        ids = sorted(q for q in qrels if q in queries)
        kept = set(ids[0::2])
        train = [t for t in train if t[0] in kept]
        held = [(queries[q], qrels[q]) for q in ids[1::2]]
        held += [(queries[q], r) for q, r in load_qrels(SET / "dev_qrels.tsv").items()]
    print(f"{len(train)} train examples", flush=True)

    torch.manual_seed(SEED)
    model = SentenceTransformer(resolve_model(BASE_MODEL)[1], device="cpu")
    model.max_seq_length = 128
    params = []
    for name, param in model.named_parameters():
        param.requires_grad = tuned.tunable(name)
        if param.requires_grad:
            params.append(param)
    base_params = {n: p.detach().clone() for n, p in model.named_parameters() if p.requires_grad}
    opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.0)

    def embed(texts: list[str]) -> torch.Tensor:
        prepare = getattr(model, "preprocess", None) or model.tokenize
        features = prepare(texts)
        return torch.nn.functional.normalize(model(features)["sentence_embedding"], dim=1)

    rng = np.random.default_rng(SEED)
    model.train()
    t0 = time.perf_counter()
    for epoch in range(args.epochs):
        order = rng.permutation(len(train))
        losses = []
        for lo in range(0, len(order), BATCH):
            batch = [train[j] for j in order[lo : lo + BATCH]]
            q = embed([b[1] for b in batch])
            d = embed([b[2] for b in batch] + [n for b in batch for n in b[3]])
            loss = torch.nn.functional.cross_entropy(
                q @ d.T / TEMPERATURE, torch.arange(len(batch))
            )
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(float(loss.detach()))
        print(
            f"epoch {epoch + 1}: mean loss {np.mean(losses):.4f} "
            f"({time.perf_counter() - t0:.0f} s)",
            flush=True,
        )
    model.eval()
    if args.holdout:
        with torch.no_grad():
            scores = held_out_map(ranker, model, held, base_params, args.mixes)
        write_result(
            args.name,
            {
                "train_tweets": len(train),
                "held_out_tweets": len(held),
                "map@5": scores,
                "epochs": args.epochs,
                "lr": args.lr,
                "negatives": args.negatives,
                "command": "python benchmarks/train_claim_model.py " + " ".join(sys.argv[1:]),
            },
        )
        return
    tuned.save(
        model,
        args.out,
        {
            "name": tuned.TUNED_MODEL,
            "base": BASE_MODEL,
            "method": "BitFit (biases and LayerNorm), in-batch contrastive loss",
            "trained_on": f"CheckThat! 2022 2A train: {len(train)} tweets",
            "epochs": args.epochs,
            "lr": args.lr,
            "negatives": args.negatives,
            "batch": BATCH,
            "temperature": TEMPERATURE,
            "seed": SEED,
        },
    )
    print(f"wrote {args.out} ({args.out.stat().st_size / 1024:.0f} KB)")


if __name__ == "__main__":
    main()
