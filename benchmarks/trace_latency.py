"""Trace latency at scale: index at least a million distinct sentences of English IRA
tweets with the claims stage, then time `trace` queries end to end (embed the query,
nearest vectors, BM25, the matcher, the occurrences read from the store).

Queries are English tweets *after* the indexed ones (new claims a user would paste), so
no query is answered by an exact copy of itself. The index is built with the real
pipeline: the tweets go through `echoscope ingest`, then the claims stage without the
all-pairs matching (which `trace` does not need).

    python benchmarks/trace_latency.py [--sentences 1000000] [--queries 300] [--workdir D]
                                       [--model NAME]
"""

from __future__ import annotations

import argparse
import csv
import gzip
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import psutil

from _common import DATA, echoscope_cli, peak_rss_mb, write_result
from echoscope.detect.claims.embed import resolve_model
from echoscope.detect.claims.sentences import split_sentences
from echoscope.detect.claims.stage import (
    ClaimsParams,
    cut_by_older_version,
    reset,
    run_claims,
    state,
    text_key,
)


def english_tweets(
    target: int, n_queries: int, min_words: int, out: Path
) -> tuple[int, int, list[str]]:
    """Write the shortest prefix of English tweets holding ``target`` distinct claim
    sentences to ``out`` (same columns as the source); return (tweets, sentences, queries)."""
    csv.field_size_limit(1 << 24)
    seen: set[int] = set()
    written = 0
    queries: list[str] = []
    src = DATA / "ira-tweets" / "tweets.csv.gz"
    with (
        gzip.open(src, "rt", encoding="utf-8", newline="") as fh,
        gzip.open(out, "wt", encoding="utf-8", newline="") as dst,
    ):
        reader = csv.reader(fh)
        header = next(reader)
        writer = csv.writer(dst)
        writer.writerow(header)
        lang, content = header.index("language"), header.index("content")
        for row in reader:
            if len(row) != len(header) or row[lang] != "English":
                continue
            if len(seen) < target:
                writer.writerow(row)
                written += 1
                for sent in split_sentences(row[content], max_chars=600):
                    key, n = text_key(sent.text)
                    if n >= min_words:
                        seen.add(key)
            else:
                sents = [
                    s.text
                    for s in split_sentences(row[content])
                    if text_key(s.text)[1] >= min_words
                ]
                if sents and text_key(sents[0])[0] not in seen:
                    queries.append(sents[0])
                if len(queries) >= n_queries:
                    break
    return written, len(seen), queries


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--sentences", type=int, default=1_000_000, help="distinct sentences to index")
    ap.add_argument("--queries", type=int, default=300)
    ap.add_argument("--model", default=None, help="sentence model (default: the default)")
    ap.add_argument(
        "--workdir", type=Path, default=None, help="keep the store here (reused if built)"
    )
    ap.add_argument(
        "--near",
        action="store_true",
        help="trace with the time-aware matcher (as `trace --near`, at the corpus's median "
        "date); writes trace_latency_near.json",
    )
    args = ap.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="echoscope-trace-"))
    work.mkdir(parents=True, exist_ok=True)
    db = work / "trace.duckdb"
    params = ClaimsParams(model=resolve_model(args.model)[0], links=False)
    t0 = time.perf_counter()
    subset = work / "english.csv.gz"
    tweets, distinct, queries = english_tweets(
        args.sentences, args.queries, params.min_words, subset
    )
    print(
        f"{tweets:,} English tweets hold {distinct:,} distinct sentences; {len(queries)} queries",
        flush=True,
    )
    prep_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    if not db.exists():
        subprocess.run(
            [*echoscope_cli(), "ingest", str(subset), "--db", str(db), "--quiet"], check=True
        )
    ingest_s = time.perf_counter() - t0

    from echoscope.store import Store
    from echoscope.trace.claims import ClaimTracer

    def progress(step: str, done: int, total: int) -> None:
        if done == total or done % 50_000 < 8192:
            print(f"  {step}: {done:,}/{total:,}", flush=True)

    t0 = time.perf_counter()
    with Store(db) as store:
        if state(store).get("model", params.model) != params.model:
            print(f"the kept store was built with {state(store)['model']}: starting over")
            reset(store)
        elif cut_by_older_version(store):
            print("the kept store's sentences were cut by an older version: starting over")
            reset(store)
        summary = run_claims(store, params, progress=progress)
    build_s = time.perf_counter() - t0
    print(summary.as_dict(), flush=True)

    with Store(db, read_only=True) as store:
        t0 = time.perf_counter()
        tracer = ClaimTracer(store)
        load_s = time.perf_counter() - t0
        sentences = store.con.execute("SELECT count(*) FROM claim_sentences").fetchall()[0][0]
        rows = len(tracer.index)
        near = None
        if args.near:
            near = store.con.execute(
                "SELECT quantile_disc(published_at, 0.5) FROM documents"
            ).fetchall()[0][0]
        for q in queries[:5]:
            tracer.trace(q, near=near)  # warm-up: first calls pay one-time allocations
        lat, found, same = [], [], []
        for q in queries:
            t = time.perf_counter()
            res = tracer.trace(q, near=near)
            lat.append((time.perf_counter() - t) * 1000)
            found.append(len(res.occurrences))
            same.append(sum(o.status == "same" for o in res.occurrences))
    lat_a = np.asarray(lat)
    write_result(
        "trace_latency_near" if args.near else "trace_latency",
        {
            "near": near.isoformat() if near else None,
            "sentences": int(sentences),
            "distinct_sentences": int(rows),
            "tweets": tweets,
            "queries": len(lat),
            "p50_ms": round(float(np.percentile(lat_a, 50)), 2),
            "p95_ms": round(float(np.percentile(lat_a, 95)), 2),
            "p99_ms": round(float(np.percentile(lat_a, 99)), 2),
            "max_ms": round(float(lat_a.max()), 2),
            "median_occurrences": float(np.median(found)),
            "queries_with_same_claim": int(sum(s > 0 for s in same)),
            "build_s": round(build_s, 1),
            "build_seconds_by_step": summary.seconds,
            "ingest_s": round(ingest_s, 1),
            "prepare_s": round(prep_s, 1),
            "index_load_s": round(load_s, 1),
            "peak_rss_mb": round(max(peak_rss_mb(), psutil.Process().memory_info().rss / 2**20), 1),
            "model": summary.model,
            "command": "python benchmarks/trace_latency.py " + " ".join(sys.argv[1:]),
        },
    )


if __name__ == "__main__":
    main()
