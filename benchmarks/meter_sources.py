"""METER: for each newspaper article, rank every PA (press agency) text as its source.

The whole echoscope pipeline runs on the folder: ingest both sides with path templates
(PA filing time from the wire header, newspaper date from the folder, day precision), the
reuse stage (candidates, alignment), then `rank_sources`: each PA text gets two separate
scores per article, reuse (share of the article's words aligned word for word with that
PA text) and topic (TF-IDF cosine), ranked by reuse + 0.5 * topic, with PA texts filed
after the article's day (time order) ranked last. Each ingredient is reported alone too.

A ranking is right at 1 when its first PA text is in the article's story folder.

    python benchmarks/meter_sources.py [--data DIR] [--rank-out FILE]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import DATA, ingest_meter, meter_story, write_result
from echoscope.detect.reuse.sources import TOPIC_WEIGHT, rank_sources
from echoscope.detect.reuse.stage import ReuseParams, run_reuse
from echoscope.store import Store


def evaluate(order: np.ndarray, pa_ids: list[str], paper_ids: list[str]) -> tuple[float, float]:
    top1 = 0
    rr = 0.0
    for i, pid in enumerate(paper_ids):
        story = meter_story(pid)
        ranked = [meter_story(pa_ids[j]) == story for j in order[i]]
        if ranked[0]:
            top1 += 1
        if True in ranked:
            rr += 1.0 / (ranked.index(True) + 1)
    return top1 / len(paper_ids), rr / len(paper_ids)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=DATA / "meter-courts")
    parser.add_argument(
        "--rank-out", type=Path, help="write one JSON line per article with its ranking"
    )
    parser.add_argument(
        "--top", type=int, default=20, help="PA texts listed per article in --rank-out"
    )
    args = parser.parse_args()
    pa_dir, paper_dir = args.data / "PA", args.data / "newspapers"
    if not pa_dir.is_dir() or not paper_dir.is_dir():
        sys.exit(f"error: {args.data} must hold PA/ and newspapers/ folders")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp, Store(Path(tmp) / "meter.duckdb") as store:
        ingest_meter(store, args.data)
        t_ingest = time.perf_counter() - started
        summary = run_reuse(store, ReuseParams(shingle=3, min_shared=2, max_df=200, min_tokens=6))
        t_reuse = time.perf_counter() - started - t_ingest
        docs = store.documents("seq, id, source, text, published_at, time_precision")
        pa = docs[docs["source"] == "PA"].reset_index(drop=True)
        papers = docs[docs["source"] != "PA"].reset_index(drop=True)
        ranked = rank_sources(store, papers, pa, topic_weight=TOPIC_WEIGHT, time_order=True)
    reuse, topic = ranked["reuse"], ranked["topic"]
    pa_ids, paper_ids = pa["id"].tolist(), papers["id"].tolist()
    tie = np.tile(np.arange(len(pa)), (len(papers), 1))
    figures = {}
    for name, order in (
        ("reuse", np.lexsort((tie, -topic, -reuse), axis=1)),
        ("topic", np.lexsort((tie, -topic), axis=1)),
        # the same scores without the time-order filter (what rank_sources does with
        # time_order=False), derived here instead of computing every score twice
        ("combined_no_time_order", np.lexsort((tie, -topic, -ranked["score"]), axis=1)),
        ("combined", ranked["order"]),
    ):
        top1, mrr = evaluate(order, pa_ids, paper_ids)
        figures[name] = {"top1": round(top1, 4), "mrr": round(mrr, 4)}
    final_order = ranked["order"]
    no_source = sum(1 for p in paper_ids if meter_story(p) not in {meter_story(q) for q in pa_ids})
    with_reuse = int((reuse.max(axis=1) > 0).sum())
    if args.rank_out:
        with open(args.rank_out, "w", encoding="utf-8") as fh:
            for i, pid in enumerate(paper_ids):
                fh.write(
                    json.dumps(
                        {"article": pid, "ranking": [pa_ids[j] for j in final_order[i][: args.top]]}
                    )
                    + "\n"
                )
    seconds = time.perf_counter() - started
    write_result(
        "meter_sources",
        {
            "data": str(args.data),
            "articles": len(papers),
            "pa_texts": len(pa),
            "top1": figures["combined"]["top1"],
            "mrr": figures["combined"]["mrr"],
            "reuse_only": figures["reuse"],
            "topic_only": figures["topic"],
            "combined_without_time_order": figures["combined_no_time_order"],
            "articles_without_pa_in_folder": no_source,
            "topic_weight": TOPIC_WEIGHT,
            "articles_with_reuse": with_reuse,
            "reuse_links": summary.links_total,
            "seconds": round(seconds, 1),
            "seconds_ingest": round(t_ingest, 1),
            "seconds_reuse": round(t_reuse, 1),
        },
    )


if __name__ == "__main__":
    main()
