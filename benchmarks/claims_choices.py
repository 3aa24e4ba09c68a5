"""The measurements behind the claims stage's choices, on real data:

- ANN library: hnswlib vs FAISS HNSW vs usearch (whichever are installed; `make
  bench-install` adds all three) on MiniLM vectors of the CheckThat! verified claims,
  each copied with small noise to reach --ann-size vectors; build time, recall@10 against
  exact search, p95 single-query latency; same graph settings (M=16, ef 128/64).
- Embedding path: PyTorch fp32 vs PyTorch dynamic int8 on English IRA tweets
  (sentences/s, and cosine of the int8 vectors to the fp32 ones).
- Sentence segmentation speed on English IRA tweets.

    python benchmarks/claims_choices.py [--ann-size 170000] [--tweets 4000]
"""

from __future__ import annotations

import argparse
import csv
import gzip
import time

import numpy as np

from _common import DATA, write_result
from checkthat import SET, vclaim_store
from echoscope.detect.claims.sentences import split_sentences

M, EF_ADD, EF_SEARCH, K = 16, 128, 64, 10


def english_tweets(n: int) -> list[str]:
    csv.field_size_limit(1 << 24)
    out: list[str] = []
    with gzip.open(DATA / "ira-tweets" / "tweets.csv.gz", "rt", encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            if row["language"] == "English":
                out.append(row["content"])
                if len(out) >= n:
                    break
    return out


def ann_vectors(size: int, queries: int) -> tuple[np.ndarray, np.ndarray]:
    from echoscope.detect.claims.stage import read_vectors, state
    from echoscope.store import Store

    with Store(vclaim_store(SET / "vclaims.jsonl.gz"), read_only=True) as store:
        n = store.count("claim_vectors")
        base = read_vectors(store, 0, n, int(state(store)["dim"]))
    rng = np.random.default_rng(0)
    copies = [base] + [
        base + rng.normal(0, 0.05, base.shape).astype(np.float32)
        for _ in range(max(0, -(-size // len(base)) - 1))
    ]
    data = np.vstack(copies)[:size]
    data /= np.linalg.norm(data, axis=1, keepdims=True)
    q = data[rng.choice(len(data), queries, replace=False)]
    q = q + rng.normal(0, 0.03, q.shape).astype(np.float32)
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    return data, q


def timed_queries(search, queries: np.ndarray) -> tuple[list[np.ndarray], float]:
    found, lat = [], []
    for v in queries:
        t = time.perf_counter()
        found.append(np.asarray(search(v)).reshape(-1))
        lat.append(time.perf_counter() - t)
    return found, float(np.percentile(lat, 95) * 1000)


def compare_ann(data: np.ndarray, queries: np.ndarray) -> dict:
    truth = np.argsort(-(queries @ data.T), axis=1)[:, :K]

    def recall(found: list[np.ndarray]) -> float:
        return float(
            np.mean([len(set(f[:K]) & set(t)) / K for f, t in zip(found, truth, strict=True)])
        )

    out: dict[str, dict] = {}
    ids = np.arange(len(data))
    try:
        import hnswlib

        t = time.perf_counter()
        h = hnswlib.Index(space="ip", dim=data.shape[1])
        h.init_index(max_elements=len(data), M=M, ef_construction=EF_ADD)
        h.add_items(data, ids)
        build = time.perf_counter() - t
        h.set_ef(EF_SEARCH)
        found, p95 = timed_queries(lambda v: h.knn_query(v, k=K)[0], queries)
        out["hnswlib"] = {"build_s": build, "recall@10": recall(found), "p95_ms": p95}
    except ImportError:
        out["hnswlib"] = {"skipped": "not installed"}
    try:
        import faiss

        t = time.perf_counter()
        f = faiss.IndexHNSWFlat(data.shape[1], M, faiss.METRIC_INNER_PRODUCT)
        f.hnsw.efConstruction = EF_ADD
        f.add(data)
        build = time.perf_counter() - t
        f.hnsw.efSearch = EF_SEARCH
        found, p95 = timed_queries(lambda v: f.search(v[None, :], K)[1], queries)
        out["faiss_hnsw"] = {"build_s": build, "recall@10": recall(found), "p95_ms": p95}
    except ImportError:
        out["faiss_hnsw"] = {"skipped": "not installed"}
    try:
        from usearch.index import Index

        t = time.perf_counter()
        u = Index(
            ndim=data.shape[1],
            metric="cos",
            dtype="f16",
            connectivity=M,
            expansion_add=EF_ADD,
            expansion_search=EF_SEARCH,
        )
        u.add(ids, data)
        build = time.perf_counter() - t
        found, p95 = timed_queries(lambda v: u.search(v, K).keys, queries)
        out["usearch_f16"] = {"build_s": build, "recall@10": recall(found), "p95_ms": p95}
    except ImportError:
        out["usearch_f16"] = {"skipped": "not installed"}
    return {
        k: {m: round(x, 4) if isinstance(x, float) else x for m, x in v.items()}
        for k, v in out.items()
    }


def compare_embedding(texts: list[str]) -> dict:
    import torch

    from echoscope.detect.claims.embed import Embedder

    emb = Embedder()
    emb.encode(texts[:64])  # warm-up
    t = time.perf_counter()
    fp32 = emb.encode(texts)
    fp32_rate = len(texts) / (time.perf_counter() - t)
    emb._model = torch.ao.quantization.quantize_dynamic(
        emb._model, {torch.nn.Linear}, dtype=torch.qint8
    )
    emb.encode(texts[:64])
    t = time.perf_counter()
    int8 = emb.encode(texts)
    int8_rate = len(texts) / (time.perf_counter() - t)
    cos = np.einsum("ij,ij->i", fp32, int8)
    return {
        "texts": len(texts),
        "fp32_per_s": round(fp32_rate, 1),
        "int8_dynamic_per_s": round(int8_rate, 1),
        "int8_speedup": round(int8_rate / fp32_rate, 2),
        "int8_cosine_to_fp32_mean": round(float(cos.mean()), 4),
        "int8_cosine_to_fp32_min": round(float(cos.min()), 4),
    }


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--ann-size", type=int, default=170_000)
    ap.add_argument("--ann-queries", type=int, default=500)
    ap.add_argument("--tweets", type=int, default=4000, help="tweets embedded for the speed test")
    ap.add_argument("--segment-tweets", type=int, default=100_000)
    args = ap.parse_args()
    data, queries = ann_vectors(args.ann_size, args.ann_queries)
    ann = compare_ann(data, queries)
    print(ann, flush=True)
    tweets = english_tweets(max(args.tweets, args.segment_tweets))
    t = time.perf_counter()
    sentences = sum(len(split_sentences(x)) for x in tweets[: args.segment_tweets])
    segment_s = time.perf_counter() - t
    embedding = compare_embedding(tweets[: args.tweets])
    write_result(
        "claims_choices",
        {
            "ann": {
                "vectors": len(data),
                "queries": len(queries),
                "M": M,
                "ef_construction": EF_ADD,
                "ef_search": EF_SEARCH,
                **ann,
            },
            "embedding": embedding,
            "segmentation": {
                "tweets": args.segment_tweets,
                "sentences": sentences,
                "seconds": round(segment_s, 2),
            },
        },
    )


if __name__ == "__main__":
    main()
