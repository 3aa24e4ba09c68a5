"""The reuse stage end to end on all 2,463,944 IRA tweets (every language).

Ingests the CSV into a fresh store (timed apart), then runs
`echoscope analyze --stage reuse` as a child process: indexing, candidates (identical
sets, MinHash LSH, shared rare shingles), alignment of every candidate, classification,
boilerplate and clusters. Peak memory is the child's, read from the kernel.

    python benchmarks/reuse_scale.py [--db EXISTING.duckdb] [--shingle 4]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import DATA, echoscope_cli, write_result

MAPPING = "text=content,source=author,published_at=publish_date,language=language"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--db", type=Path, help="a store that already holds the tweets (skips ingest)"
    )
    parser.add_argument("--shingle", type=int, default=4)
    parser.add_argument("--min-shared", type=int, default=3)
    parser.add_argument("--max-df", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = args.db or Path(tmp) / "ira.duckdb"
        ingest_seconds = None
        if args.db is None:
            t0 = time.perf_counter()
            subprocess.run(
                [
                    *echoscope_cli(),
                    "ingest",
                    str(DATA / "ira-tweets" / "tweets.csv.gz"),
                    "--map",
                    MAPPING,
                    "--db",
                    str(db),
                    "--quiet",
                ],
                check=True,
            )
            ingest_seconds = time.perf_counter() - t0
        argv = [
            *echoscope_cli(),
            "analyze",
            "--stage",
            "reuse",
            "--db",
            str(db),
            "--json",
            "--rebuild",
            "--shingle",
            str(args.shingle),
            "--min-shared",
            str(args.min_shared),
            "--max-df",
            str(args.max_df),
        ]
        print("running:", " ".join(argv), file=sys.stderr)
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        t0 = time.perf_counter()
        proc = subprocess.run(argv, capture_output=True, text=True)
        seconds = time.perf_counter() - t0
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        if proc.returncode != 0:
            sys.exit(f"analyze failed: {proc.stderr[-3000:]}")
        reuse = json.loads(proc.stdout.strip().splitlines()[-1])["reuse"]
    write_result(
        "reuse_scale",
        {
            "documents": reuse["new_documents"],
            "seconds": round(seconds, 1),
            "ingest_seconds": round(ingest_seconds, 1) if ingest_seconds else None,
            "peak_rss_mb": round(max(peak, before) / 1024, 1),
            "candidates": reuse["candidates"],
            "links": reuse["links_total"],
            "clusters": reuse["clusters"],
            "kinds": reuse["kinds"],
            "stage_seconds": reuse["seconds"],
            "params": {
                "shingle": args.shingle,
                "min_shared": args.min_shared,
                "max_df": args.max_df,
            },
        },
    )


if __name__ == "__main__":
    main()
