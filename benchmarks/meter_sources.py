"""METER: for each newspaper article, rank every PA (press agency) text as its source.

The whole echoscope pipeline runs on the folder: ingest both sides with path templates,
the reuse stage (candidates, alignment), then each PA text gets two separate scores for
each article: reuse (share of the article's words inside passages aligned with that PA
text) and topic (TF-IDF cosine). The ranking orders by reuse + TOPIC_WEIGHT * topic, so
an article that re-typed the agency copy instead of pasting it is still ranked by topic.

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
from _common import DATA, write_result

from echoscope.detect.reuse.stage import ReuseParams, run_reuse
from echoscope.detect.similarity import cosine_matrix
from echoscope.ingest.base import ReadOptions
from echoscope.ingest.pathtemplate import PathTemplate
from echoscope.ingest.pipeline import ingest
from echoscope.store import Store

TOPIC_WEIGHT = 0.5
PA_TEMPLATE = "{date:%d.%m.%y}/{story}/{name}.txt"
PAPER_TEMPLATE = "{date:%d.%m.%y}/{story}/{name}_{source}.txt"


def story_of(doc_id: str) -> str:
    parts = doc_id.split("/")
    return "/".join(parts[1:3])  # <date>/<story>


def evaluate(order: np.ndarray, pa_ids: list[str], paper_ids: list[str]) -> tuple[float, float]:
    top1 = 0
    rr = 0.0
    for i, pid in enumerate(paper_ids):
        story = story_of(pid)
        ranked = [story_of(pa_ids[j]) == story for j in order[i]]
        if ranked[0]:
            top1 += 1
        if True in ranked:
            rr += 1.0 / (ranked.index(True) + 1)
    return top1 / len(paper_ids), rr / len(paper_ids)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DATA / "meter-courts")
    parser.add_argument("--rank-out", type=Path, help="write one JSON line per article with its ranking")
    parser.add_argument("--top", type=int, default=20, help="PA texts listed per article in --rank-out")
    args = parser.parse_args()
    pa_dir, paper_dir = args.data / "PA", args.data / "newspapers"
    if not pa_dir.is_dir() or not paper_dir.is_dir():
        sys.exit(f"error: {args.data} must hold PA/ and newspapers/ folders")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp, Store(Path(tmp) / "meter.duckdb") as store:
        ingest(store, [str(pa_dir)], ReadOptions(source="PA", path_template=PathTemplate(PA_TEMPLATE)))
        ingest(store, [str(paper_dir)], ReadOptions(path_template=PathTemplate(PAPER_TEMPLATE)))
        t_ingest = time.perf_counter() - started
        summary = run_reuse(store, ReuseParams(shingle=3, min_shared=2, max_df=200, min_tokens=6))
        t_reuse = time.perf_counter() - started - t_ingest
        docs = store.documents("seq, id, source, text")
        pa = docs[docs["source"] == "PA"].reset_index(drop=True)
        papers = docs[docs["source"] != "PA"].reset_index(drop=True)
        pa_index = {s: i for i, s in enumerate(pa["seq"])}
        paper_index = {s: i for i, s in enumerate(papers["seq"])}
        reuse = np.zeros((len(papers), len(pa)))
        links = store.con.execute(
            "SELECT seq_a, seq_b, coverage_a, coverage_b FROM reuse_links WHERE NOT boilerplate"
        ).fetchall()
        for a, b, cov_a, cov_b in links:
            if a in pa_index and b in paper_index:
                reuse[paper_index[b], pa_index[a]] = max(reuse[paper_index[b], pa_index[a]], cov_b)
            elif b in pa_index and a in paper_index:
                reuse[paper_index[a], pa_index[b]] = max(reuse[paper_index[a], pa_index[b]], cov_a)
    topic = cosine_matrix(papers["text"].tolist(), pa["text"].tolist())
    combined = reuse + TOPIC_WEIGHT * topic
    pa_ids, paper_ids = pa["id"].tolist(), papers["id"].tolist()
    figures = {}
    for name, scores in (("reuse", reuse), ("topic", topic), ("combined", combined)):
        # ties (e.g. no reuse at all) broken by topic, then by id, so rankings are stable
        order = np.lexsort((np.tile(np.arange(len(pa)), (len(papers), 1)), -topic, -scores), axis=1)
        top1, mrr = evaluate(order, pa_ids, paper_ids)
        figures[name] = {"top1": round(top1, 4), "mrr": round(mrr, 4)}
        if name == "combined":
            final_order = order
    with_reuse = int((reuse.max(axis=1) > 0).sum())
    if args.rank_out:
        with open(args.rank_out, "w", encoding="utf-8") as fh:
            for i, pid in enumerate(paper_ids):
                fh.write(json.dumps({"article": pid, "ranking": [pa_ids[j] for j in final_order[i][: args.top]]}) + "\n")
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
