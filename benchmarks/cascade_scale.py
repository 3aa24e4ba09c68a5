"""The cascade stage at scale: propagation trees over every reuse cluster of all 2,463,944
IRA tweets, end to end on this machine.

Ingest and the reuse stage (as ``coordination_scale.py`` runs them, timed apart), then
``echoscope analyze --stage cascade`` (timed), with the rules alone by default: the
learned credit scorer reads about 165 sentences a second on 2 cores, so on about a
million copies it would add hours (``--credit-model`` to include it anyway).

    python benchmarks/cascade_scale.py [--db EXISTING.duckdb] [--credit-model]

With ``--db`` (a store with the tweets and the reuse stage done) the stage runs on a copy
of it, so the store can be reused.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import build_ira_store, echoscope_cli, write_result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", type=Path, help="a store with the tweets and the reuse stage done")
    parser.add_argument("--credit-model", action="store_true", help="also run the scorer")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "ira.duckdb"
        ingest_s = reuse_s = None
        if args.db is not None:
            shutil.copy(args.db, db)
        else:
            ingest_s, reuse_s = build_ira_store(db)
        t0 = time.perf_counter()
        proc = subprocess.run(
            [
                *echoscope_cli(),
                "analyze",
                "--stage",
                "cascade",
                "--db",
                str(db),
                "--json",
                *([] if args.credit_model else ["--no-credit-model"]),
            ],
            capture_output=True,
            text=True,
        )
        cascade_s = time.perf_counter() - t0
        if proc.returncode != 0:
            sys.exit(f"cascade stage failed: {proc.stderr[-3000:]}")
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        summary = json.loads(proc.stdout.strip().splitlines()[-1])["cascade"]
    write_result(
        "cascade_scale",
        {
            "tweets": 2463944,
            "credit_model": args.credit_model,
            "seconds_cascade_stage": round(cascade_s, 1),
            "seconds_ingest": round(ingest_s, 1) if ingest_s is not None else None,
            "seconds_reuse_stage": round(reuse_s, 1) if reuse_s is not None else None,
            "peak_rss_mb": round(peak, 1),
            "clusters": summary["clusters"],
            "edges": summary["edges"],
            "roots": summary["roots"],
            "attributed": summary["attributed"],
            "low_confidence": summary["low_confidence"],
            "relations": summary["relations"],
        },
    )


if __name__ == "__main__":
    main()
