"""Ingest benchmark: all 2,463,944 IRA tweets through the real CLI, in a fresh store.

Runs `echoscope ingest tweets.csv.gz --map ...` as a child process and reads its peak
resident memory from the kernel (getrusage of the finished child), so the figure is the
whole command's, DuckDB included.

    python benchmarks/ingest.py [--data DIR] [--limit-check]
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
    parser.add_argument("--data", type=Path, default=DATA / "ira-tweets" / "tweets.csv.gz")
    args = parser.parse_args()
    if not args.data.exists():
        sys.exit(f"error: {args.data} not found (see ../shared/data/README.md)")
    cmd = echoscope_cli()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "ira.duckdb"
        argv = [*cmd, "ingest", str(args.data), "--map", MAPPING, "--db", str(db), "--json"]
        print("running:", " ".join(argv), file=sys.stderr)
        started = time.perf_counter()
        proc = subprocess.run(argv, capture_output=True, text=True)
        seconds = time.perf_counter() - started
        peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        if proc.returncode != 0:
            sys.exit(f"ingest failed ({proc.returncode}): {proc.stderr[-2000:]}")
        summary = json.loads(proc.stdout.strip().splitlines()[-1])
        stats = subprocess.run(
            [*cmd, "stats", "--db", str(db), "--json"], capture_output=True, text=True, check=True
        )
        documents = json.loads(stats.stdout)["documents"]
        again_started = time.perf_counter()
        again = subprocess.run(argv, capture_output=True, text=True)
        again_seconds = time.perf_counter() - again_started
        again_summary = (
            json.loads(again.stdout.strip().splitlines()[-1]) if again.returncode == 0 else {}
        )
        db_mb = db.stat().st_size / 2**20
    write_result(
        "ingest",
        {
            "dataset": str(args.data.name),
            "documents": documents,
            "read": summary["read"],
            "rejected": summary["rejected"],
            "duplicates": summary["duplicates"],
            "warnings": summary["warnings"],
            "seconds": round(seconds, 1),
            "docs_per_s": round(documents / seconds, 1),
            "peak_rss_mb": round(peak_kb / 1024, 1),
            "store_mb": round(db_mb, 1),
            "reingest_stored": again_summary.get("stored"),
            "reingest_seconds": round(again_seconds, 1),
            "command": " ".join(["echoscope", *argv[1:]]).replace(str(db), "IRA.duckdb"),
        },
    )


if __name__ == "__main__":
    main()
