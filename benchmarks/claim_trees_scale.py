"""Claim clusters and claim propagation trees at scale: English IRA tweets through the
claims stage with all-pairs matching (each sentence against its 20 nearest), then the
cascade stage's trees. Reports how the clusters come out (count, largest, and what
chaining every `same` link into connected components would have made of them), the time
of each step and the peak memory.

    python benchmarks/claim_trees_scale.py [--sentences 200000] [--workdir D]

The store is kept in --workdir (default benchmarks/.cache/claim-trees-<N>); a kept store
keeps its vectors, and the matching, clusters and trees are redone on every run.
"""

from __future__ import annotations

import argparse
import subprocess
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from _common import ROOT, echoscope_cli, peak_rss_mb, write_result
from echoscope.detect.claims.match import SAME
from echoscope.detect.claims.stage import (
    ClaimsParams,
    cut_by_older_version,
    reset,
    run_claims,
)
from echoscope.store import Store
from echoscope.trace.cascade import run_cascades
from trace_latency import english_tweets


def chained_components(store: Store) -> tuple[int, int]:
    """(components, largest) if every 'same' link were chained, the rule before centres."""
    n = store.con.execute("SELECT count(*) FROM claim_texts").fetchall()[0][0]
    links = store.con.execute(
        "SELECT row_a, row_b FROM claim_links WHERE status = ?", [SAME]
    ).fetchnumpy()
    a, b = np.asarray(links["row_a"]), np.asarray(links["row_b"])
    graph = sp.coo_matrix((np.ones(len(a)), (a, b)), shape=(n, n))
    _, label = connected_components(graph, directed=False)
    sizes = np.bincount(label[np.unique(np.r_[a, b])]) if len(a) else np.zeros(0, int)
    sizes = sizes[sizes > 0]
    return len(sizes), int(sizes.max()) if len(sizes) else 0


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--sentences", type=int, default=200_000, help="distinct sentences")
    ap.add_argument("--workdir", type=Path, default=None)
    args = ap.parse_args()
    work = args.workdir or ROOT / "benchmarks" / ".cache" / f"claim-trees-{args.sentences // 1000}k"
    work.mkdir(parents=True, exist_ok=True)
    db = work / "trace.duckdb"
    if not db.exists():
        subset = work / "english.csv.gz"
        tweets, distinct, _ = english_tweets(args.sentences, 0, ClaimsParams().min_words, subset)
        print(f"{tweets:,} English tweets hold {distinct:,} distinct sentences", flush=True)
        subprocess.run(
            [*echoscope_cli(), "ingest", str(subset), "--db", str(db), "--quiet"], check=True
        )
    with Store(db) as store:
        if cut_by_older_version(store):
            print("the kept store's sentences were cut by an older version: starting over")
            reset(store)
        # embed what is missing (once), without matching
        run_claims(store, ClaimsParams(links=False))
        store.con.execute("DELETE FROM claim_links")
        store.con.execute("DELETE FROM claim_clusters")
        store.con.execute("UPDATE claim_state SET value = '0' WHERE key = 'linked_rows'")
        t0 = time.perf_counter()
        claims = run_claims(store, ClaimsParams(links=True))
        match_s = time.perf_counter() - t0
        print(claims.as_dict(), flush=True)
        sizes = [
            n
            for (n,) in store.con.execute(
                "SELECT count(*) AS n FROM claim_clusters GROUP BY cluster_id ORDER BY n DESC"
            ).fetchall()
        ]
        components, largest_component = chained_components(store)
        t0 = time.perf_counter()
        # the rules alone, as cascade_scale.py: the credit scorer would read every tweet
        cascade = run_cascades(store, credit_model=False)
        cascade_s = time.perf_counter() - t0
        sentences = store.con.execute("SELECT count(*) FROM claim_texts").fetchall()[0][0]
        documents = store.count("documents")
    write_result(
        "claim_trees_scale",
        {
            "documents": documents,
            "sentences": sentences,
            "links": claims.links_total,
            "match_s": round(match_s, 1),
            "claim_clusters": len(sizes),
            "clustered_sentences": int(sum(sizes)),
            "boilerplate_sentences": claims.boilerplate,
            "largest_clusters": sizes[:5],
            "chained_components": components,
            "largest_chained_component": largest_component,
            "trees": cascade.claims,
            "cascade_s": round(cascade_s, 1),
            "peak_rss_mb": peak_rss_mb(),
            "command": "python benchmarks/claim_trees_scale.py"
            + (f" --sentences {args.sentences}" if args.sentences != 200_000 else ""),
        },
    )


if __name__ == "__main__":
    main()
