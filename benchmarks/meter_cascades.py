"""METER: who copied whom. Every newspaper article that reuses PA copy should get a PA text
of its own story as parent, and no PA text should get a newspaper as parent.

The pipeline as a user runs it: ingest PA (filing time from the wire header, UK time) and
the newspapers (date from the folder, which the corpus documents as the day *before*
publication: --path-date-offset 1), the reuse stage, then the cascade stage. Parents are
chosen by time bounds and alignment alone; story folders are used only to score.

Also reports how many of those articles credit the agency, by the attribution detector.

    python benchmarks/meter_cascades.py [--data DIR] [--edges-out FILE]
"""

from __future__ import annotations

import argparse
import csv
import sys
import tempfile
import time
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import DATA, ingest_meter, meter_story, write_result
from echoscope.detect.reuse.stage import ReuseParams, run_reuse
from echoscope.store import Store
from echoscope.trace.cascade import MIN_COVERAGE, MIN_MATCHED, run_cascades


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=DATA / "meter-courts")
    parser.add_argument(
        "--edges-out", type=Path, help="write child,parent,confidence,attributed as CSV"
    )
    args = parser.parse_args()
    started = time.perf_counter()
    london = ZoneInfo("Europe/London")
    with tempfile.TemporaryDirectory() as tmp, Store(Path(tmp) / "meter.duckdb") as store:
        ingest_meter(store, args.data, tz=london, paper_date_offset_days=1)
        run_reuse(store, ReuseParams())
        summary = run_cascades(store)
        edges = store.con.execute(
            """
            SELECT c.id AS child, c.source AS child_source, p.id AS parent, p.source AS parent_source,
                   e.confidence, e.attributed, e.credit_kind, e.time_relation, e.strength
            FROM cascade_edges e JOIN documents c ON c.seq = e.child_seq
            LEFT JOIN documents p ON p.seq = e.parent_seq
            """
        ).df()
        # articles that reuse PA copy: a non-boilerplate link to a PA text with the evidence a
        # parent needs (12+ words aligned, or a fifth of the article): a shared stock phrase
        # ("told the court that") is not reuse
        reusers = {
            r[0]
            for r in store.con.execute(
                """
                SELECT CASE WHEN da.source = 'PA' THEN db.id ELSE da.id END
                FROM reuse_links l JOIN documents da ON da.seq = l.seq_a JOIN documents db ON db.seq = l.seq_b
                WHERE NOT l.boilerplate AND (da.source = 'PA') <> (db.source = 'PA')
                  AND (l.matched >= ? OR CASE WHEN da.source = 'PA' THEN l.coverage_b ELSE l.coverage_a END >= ?)
                """,
                [MIN_MATCHED, MIN_COVERAGE],
            ).fetchall()
        }
    # A document sits in one tree per reused passage; its parent is its best edge, chosen
    # as within a tree: certain time order first, then strength.
    rank = edges["time_relation"].map({"before": 0, "overlap": 1, "tie": 2, "unknown": 3}).fillna(9)
    edges = edges.assign(rank=rank).sort_values(
        ["child", "rank", "strength"], ascending=[True, True, False]
    )
    per_doc = edges.drop_duplicates("child")
    papers = per_doc[per_doc["child_source"] != "PA"]
    scored = papers[papers["child"].isin(reusers)]
    right = scored.apply(
        lambda r: (
            isinstance(r["parent"], str)
            and r["parent_source"] == "PA"
            and meter_story(r["parent"]) == meter_story(r["child"])
        ),
        axis=1,
    )
    pa_nodes = edges[edges["child_source"] == "PA"]  # every tree: no PA text under a paper
    wrong_direction = int(
        (pa_nodes["parent_source"].notna() & (pa_nodes["parent_source"] != "PA")).sum()
    )
    from_pa = scored[scored["parent_source"] == "PA"]
    if args.edges_out:
        with open(args.edges_out, "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(["child", "parent", "confidence", "attributed"])
            for r in per_doc[per_doc["parent"].notna()].itertuples():
                w.writerow([r.child, r.parent, r.confidence, bool(r.attributed)])
    write_result(
        "meter_cascades",
        {
            "articles_reusing_pa": len(scored),
            "parent_accuracy": round(float(right.mean()), 4) if len(scored) else None,
            "parent_is_other_newspaper": int(
                (scored["parent_source"].notna() & (scored["parent_source"] != "PA")).sum()
            ),
            "parent_missing": int(scored["parent"].isna().sum()),
            "pa_texts_in_trees": len(pa_nodes),
            "pa_with_newspaper_parent": wrong_direction,
            "direction_accuracy": round(1 - wrong_direction / len(pa_nodes), 4)
            if len(pa_nodes)
            else None,
            "share_crediting_pa": round(float(from_pa["attributed"].mean()), 4)
            if len(from_pa)
            else None,
            "credit_kinds": from_pa["credit_kind"].value_counts().to_dict(),
            "cascade": summary.as_dict(),
            "attribution_hand_labels": "not yet labelled (issue 5 continues)",
            "seconds": round(time.perf_counter() - started, 1),
        },
    )


if __name__ == "__main__":
    main()
