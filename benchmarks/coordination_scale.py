"""Coordination at scale: the co-similar network (near-duplicate clusters from the reuse
stage) over all 2,463,944 IRA tweets with a 1-hour window, end to end on this machine.

Ingest (timed apart), the reuse stage (`echoscope analyze --stage reuse`, timed), then
co-action edges over reuse clusters, a null model (a few shuffled runs) and Leiden
groups (timed). The groups are compared with the accounts' `account_category` from
authors.csv: purity and normalised mutual information. Every account in the data is part
of the operation, so this checks that groups line up with known roles; it is not a
precision test against organic users.

    python benchmarks/coordination_scale.py [--db EXISTING.duckdb] [--null-runs 3]
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import DATA, build_ira_store, echoscope_cli, write_result


def purity_nmi(groups: list[list[str]], label: dict[str, str]) -> tuple[float, float, int]:
    pairs = [(g, label[m]) for g, members in enumerate(groups) for m in members if m in label]
    n = len(pairs)
    if not n:
        return 0.0, 0.0, 0
    by_group: dict[int, Counter] = {}
    for g, c in pairs:
        by_group.setdefault(g, Counter())[c] += 1
    purity = sum(c.most_common(1)[0][1] for c in by_group.values()) / n
    pg = Counter(g for g, _ in pairs)
    pc = Counter(c for _, c in pairs)
    joint = Counter(pairs)
    mi = sum(v / n * math.log((v / n) / ((pg[g] / n) * (pc[c] / n))) for (g, c), v in joint.items())
    hg = -sum(v / n * math.log(v / n) for v in pg.values())
    hc = -sum(v / n * math.log(v / n) for v in pc.values())
    nmi = mi / math.sqrt(hg * hc) if hg > 0 and hc > 0 else 0.0
    return purity, nmi, n


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", type=Path, help="a store with the tweets and the reuse stage done")
    parser.add_argument("--window", type=float, default=3600.0)
    parser.add_argument("--min-repeat", type=int, default=2)
    parser.add_argument("--null-runs", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = args.db or Path(tmp) / "ira.duckdb"
        ingest_s = reuse_s = None
        if args.db is None:
            ingest_s, reuse_s = build_ira_store(db)
        t0 = time.perf_counter()
        proc = subprocess.run(
            [
                *echoscope_cli(),
                "coordination",
                "--db",
                str(db),
                "--type",
                "co-similar",
                "--window",
                f"{args.window:g}",
                "--min-repeat",
                str(args.min_repeat),
                "--null-runs",
                str(args.null_runs),
                "--limit",
                "0",
                "--json",
            ],
            capture_output=True,
            text=True,
        )
        network_s = time.perf_counter() - t0
        if proc.returncode != 0:
            sys.exit(f"coordination failed: {proc.stderr[-3000:]}")
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        result = json.loads(proc.stdout.strip().splitlines()[-1])
    with open(DATA / "ira-tweets" / "authors.csv", newline="", encoding="utf-8") as fh:
        label = {r["author"]: r["account_category"] for r in csv.DictReader(fh)}
    groups = [g["members"] for g in result["groups"]]
    purity, nmi, labelled = purity_nmi(groups, label)
    sizes = sorted((len(g) for g in groups), reverse=True)
    write_result(
        "coordination_scale",
        {
            "tweets": 2463944,
            "type": "co-similar",
            "window_s": args.window,
            "min_repeat": args.min_repeat,
            "null_runs": args.null_runs,
            "seconds": round((reuse_s or 0) + network_s, 1),
            "seconds_reuse_stage": round(reuse_s, 1) if reuse_s else None,
            "seconds_network": round(network_s, 1),
            "seconds_ingest": round(ingest_s, 1) if ingest_s else None,
            "peak_rss_mb": round(peak, 1),
            "actions": result["actions"],
            "edges": result["edges"],
            "significant_edges": result["significant_edges"],
            "groups": len(groups),
            "largest_groups": sizes[:10],
            "accounts_in_groups": labelled,
            "purity": round(purity, 4),
            "nmi": round(nmi, 4),
        },
    )


if __name__ == "__main__":
    main()
