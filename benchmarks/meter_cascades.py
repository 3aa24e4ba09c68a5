"""METER: who copied whom. Every newspaper article that reuses PA copy should get a PA text
of its own story as parent, and no PA text should get a newspaper as parent.

The pipeline as a user runs it: ingest PA (filing time from the wire header, UK time) and
the newspapers (date from the folder, which the corpus documents as the day *before*
publication: --path-date-offset 1), the reuse stage, then the cascade stage. Parents are
chosen by time bounds and alignment alone; story folders are used only to score.

Also reports how many of those articles credit the agency, by the attribution detector,
and scores that detector against hand labels (benchmarks/labels/README.md says how the
articles were drawn and labelled): precision and recall overall and per class (agency,
other source), on the samples the rules were written from and the credit scorer trained
on (pooled and each, with every disagreement; the rules alone too), and the headline on
text the detector had not seen: a sample labelled after the rules last changed
(--blind-labels), or, as every sample in benchmarks/labels has been read, the replay of
blind rounds 8-13 with the rules and scorer of their day (attribution_hybrid.py), beside
the last round's record of the rules alone (benchmarks/labels/blind_rounds.csv).

    python benchmarks/meter_cascades.py [--data DIR] [--edges-out FILE]
        [--labels CSV ...] [--blind-labels CSV] [--no-credit-model]
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import tempfile
import time
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import DATA, ROOT, ingest_meter, meter_story, write_result
from echoscope.detect.reuse.stage import ReuseParams, run_reuse
from echoscope.store import Store
from echoscope.trace.attribution import Credit, find_credits, names_source
from echoscope.trace.cascade import MIN_COVERAGE, MIN_MATCHED, run_cascades
from echoscope.trace.credit_model import default_scorer, review

LABELS = Path(__file__).resolve().parent / "labels"
# the order of work is in benchmarks/labels/README.md: each sample was labelled blind, scored
# once as the blind sample of the rules then current, then used to write the next rules
DEVELOPMENT = [
    LABELS / f"meter_attribution{s}.csv"
    for s in ("", "_heldout", "_third", "_fourth", "_fifth", "_sixth", "_seventh", "_eighth")
] + [
    LABELS / f"pa_attribution{s}.csv"
    for s in ("", "_second", "_third", "_fourth", "_fifth", "_sixth", "_seventh")
]  # PA wire copy
# every labelled sample has been read: the blind figures are the record of each round,
# scored once with the rules of its commit
BLIND_ROUNDS = LABELS / "blind_rounds.csv"
AGENCY = "PA"  # the would-be parent of every METER newspaper article


def _credits_agency(credits: list[Credit]) -> bool:
    """The detector says the article credits a news agency: an agency credit, or any
    credit that names the agency."""
    return any(c.kind == "agency" or c.names_parent for c in credits)


def _credits_other(credits: list[Credit]) -> bool:
    """The detector says the article credits some other source: a credit naming no agency."""
    return any(not (c.kind == "agency" or c.names_parent) for c in credits)


def _rel(path: Path) -> str:
    """A path as written in results: relative to the project when inside it."""
    path = path.resolve()
    return str(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)


def _ratio(a: int, b: int) -> float | None:
    return round(a / b, 4) if b else None


def prf(pairs: list[tuple[bool, bool]]) -> dict:
    """Counts and precision/recall for (label, detected) pairs; None where undefined (no
    positive detections, or no positive labels)."""
    tp = sum(lab and det for lab, det in pairs)
    fp = sum(det and not lab for lab, det in pairs)
    fn = sum(lab and not det for lab, det in pairs)
    tn = len(pairs) - tp - fp - fn
    return {
        "precision": round(tp / (tp + fp), 4) if tp + fp else None,
        "recall": round(tp / (tp + fn), 4) if tp + fn else None,
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "tn": tn,
    }


def _replay() -> dict | None:
    """The pooled blind replay of rules and scorer (benchmarks/attribution_hybrid.py)."""
    path = ROOT / "benchmarks" / "results" / "attribution_hybrid.json"
    if not path.exists():
        return None
    result = json.loads(path.read_text(encoding="utf-8"))
    return {
        **result["pooled"]["hybrid"],
        "texts": sum(r["texts"] for r in result["rounds"]),
        "rules_alone": result["pooled"]["rules"],
        "from": "benchmarks/results/attribution_hybrid.json",
        "commit": result.get("commit"),
    }


def _blind_rounds() -> list[dict]:
    """Each round's blind score, as recorded when it was computed (the README says how
    to repeat one: check out the round's commit's src/echoscope/trace)."""
    if not BLIND_ROUNDS.exists():
        return []
    with open(BLIND_ROUNDS, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    ints, floats = ("articles", "tp", "fp", "fn", "tn"), ("precision", "recall")
    return [
        {k: int(v) if k in ints else float(v) if k in floats else v for k, v in r.items()}
        for r in rows
    ]


def roles(path: str) -> tuple[str | None, str]:
    """(would-be parent, own outlet) of a labelled METER text, as the detector is run on it.
    The agency's own copy: PA is its own outlet and has no parent to credit. A paper: PA is
    the parent, and the paper itself comes from the file name as the pipeline reads it
    ("..._sun.txt")."""
    if path.startswith("PA/"):
        return None, AGENCY
    return AGENCY, Path(path).stem.rsplit("_", 1)[-1]


def score_attribution(labels_path: Path, texts: dict[str, str], scorer=None) -> dict:
    """The attribution detector against hand labels, article by article.

    Positive label: the article credits the agency or another source of the story.
    Positive detection: find_credits reports any credit, run as the pipeline would with the
    agency as parent, but with no links or quoted spans (the labels are about naming a
    source; quoting alone is not one); with ``scorer``, after the learned second opinion
    (trace.credit_model.review), as the cascade stage runs by default.
    """
    with open(labels_path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    overall, agency, other, disagreements, missing = [], [], [], [], []
    span_hits = 0
    for row in rows:
        text = texts.get(row["path"])
        if text is None:
            missing.append(row["path"])
            continue
        parent, own = roles(row["path"])
        credits = [
            c for c in find_credits(text, parent_source=parent, own_source=own) if c.kind != "quote"
        ]
        if scorer is not None:
            credits = review(
                credits,
                scorer.score(text),
                names_parent=lambda span, parent=parent: names_source(span, parent),
                names_self=lambda span, own=own: names_source(span, own),
            )
        lab_agency = row["credits_agency"].strip().lower() == "yes"
        lab_other = row["credits_other"].strip().lower() == "yes"
        det_agency, det_other = _credits_agency(credits), _credits_other(credits)
        overall.append((lab_agency or lab_other, bool(credits)))
        if (lab_agency or lab_other) and credits:
            # right for the right reason: a detected span overlaps a labelled one
            labelled = [
                (i, i + len(s))
                for s in (x.strip() for x in row["span"].split(" | "))
                if s and (i := text.find(s)) >= 0
            ]
            span_hits += any(
                c.begin is not None and any(c.begin < e and b < c.end for b, e in labelled)
                for c in credits
            )
        agency.append((lab_agency, det_agency))
        other.append((lab_other, det_other))
        if (lab_agency, lab_other) != (det_agency, det_other):
            disagreements.append(
                {
                    "path": row["path"],
                    "label": {
                        "agency": lab_agency,
                        "other": lab_other,
                        "span": row["span"],
                        "note": row["note"],
                    },
                    "detector": [{"kind": c.kind, "text": c.text} for c in credits],
                }
            )
    result = {
        "labels": _rel(labels_path),
        "articles": len(overall),
        "labelled_crediting": sum(lab for lab, _ in overall),
        "labelled_crediting_agency": sum(lab for lab, _ in agency),
        "attribution_precision": prf(overall)["precision"],
        "attribution_recall": prf(overall)["recall"],
        "overall": prf(overall),
        "tp_with_overlapping_span": span_hits,
        "agency": prf(agency),
        "other": prf(other),
        "disagreements": disagreements,
    }
    if missing:
        result["not_in_store"] = missing
    return result


def agency_census(texts: dict[str, str], scorer=None) -> dict:
    """Agency credits the detector finds in every newspaper article. No article in METER
    credits a news agency (benchmarks/labels/README.md: a search of all of them for agency
    names found only "PA" for a personal assistant), so each one found is a false positive:
    the random samples hold no agency credit to measure recall on."""
    found = {}
    for doc_id, text in texts.items():
        credits = find_credits(text or "", parent_source=AGENCY)
        if scorer is not None:
            credits = review(
                credits,
                scorer.score(text or ""),
                names_parent=lambda span: names_source(span, AGENCY),
            )
        if _credits_agency(credits):
            found[doc_id] = [c.text for c in credits if c.kind == "agency" or c.names_parent]
    return {
        "articles": len(texts),
        "detected_agency_credit": len(found),
        "detections": dict(sorted(found.items())),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=DATA / "meter-courts")
    parser.add_argument(
        "--edges-out", type=Path, help="write child,parent,confidence,attributed as CSV"
    )
    parser.add_argument(
        "--labels",
        type=Path,
        action="append",
        default=None,
        help="hand labels the rules were developed on (repeat; default: every sample in "
        "benchmarks/labels, all of which earlier rounds of rules were written from)",
    )
    parser.add_argument(
        "--blind-labels",
        type=Path,
        default=None,
        help="hand labels drawn and labelled after the rules were last changed: scored as "
        "the headline attribution_precision/recall. Without it (all METER articles are "
        "labelled and read) the headline is the last recorded blind round "
        "(benchmarks/labels/blind_rounds.csv)",
    )
    parser.add_argument(
        "--no-credit-model",
        action="store_true",
        help="the attribution rules alone, without the learned scorer's second opinion",
    )
    args = parser.parse_args()
    args.labels = args.labels or DEVELOPMENT
    scorer = None if args.no_credit_model else default_scorer()
    started = time.perf_counter()
    london = ZoneInfo("Europe/London")
    with tempfile.TemporaryDirectory() as tmp, Store(Path(tmp) / "meter.duckdb") as store:
        ingest_meter(store, args.data, tz=london, paper_date_offset_days=1)
        run_reuse(store, ReuseParams())
        t0 = time.perf_counter()
        summary = run_cascades(store, credit_model=not args.no_credit_model)
        cascade_s = time.perf_counter() - t0

        def all_edges() -> list:
            return store.con.execute(
                "SELECT * FROM cascade_edges ORDER BY cluster_id, child_seq"
            ).fetchall()

        built = all_edges()
        # a second run, as a later `analyze` would: the scorer's kept scores are read back
        if scorer is not None:
            scorer._memo.clear()  # only the store remembers, as in a new process
        t0 = time.perf_counter()
        again = run_cascades(store, credit_model=not args.no_credit_model)
        rerun = {
            "cascade_s": round(cascade_s, 1),
            "cascade_again_s": round(time.perf_counter() - t0, 1),
            "scores_reused": again.credit_model_reused,
            "same_edges": all_edges() == built,
        }
        print("cascade stage run twice:", rerun, flush=True)
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
        # the labelled articles' text as the pipeline ingested it
        label_files = [f for f in (*args.labels, args.blind_labels) if f and f.exists()]
        wanted = set()
        for f in label_files:
            with open(f, newline="", encoding="utf-8") as fh:
                wanted |= {row["path"] for row in csv.DictReader(fh)}
        all_text = store.con.execute("SELECT id, source, text FROM documents").fetchall()
        papers_text = {doc_id: text for doc_id, source, text in all_text if source != "PA"}
        texts = {doc_id: text for doc_id, _, text in all_text if doc_id in wanted}
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
    development = [score_attribution(f, texts, scorer) for f in args.labels if f.exists()]
    rules_only = [score_attribution(f, texts) for f in args.labels if f.exists()] if scorer else []
    blind = score_attribution(args.blind_labels, texts, scorer) if args.blind_labels else None
    rounds = _blind_rounds()
    last = rounds[-1] if rounds else None
    replay = _replay() if scorer else None
    pooled = {k: sum(d["overall"][k] for d in development) for k in ("tp", "fp", "fn", "tn")}
    pooled_rules = {k: sum(d["overall"][k] for d in rules_only) for k in ("tp", "fp", "fn", "tn")}
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
            # each, with the evidence the cascade used, so a reader can judge it
            "pa_with_newspaper_parent_edges": [
                {
                    k: (v if isinstance(v, str | int | float | bool) or v is None else str(v))
                    for k, v in r.items()
                    if k
                    in ("child", "parent", "time_relation", "confidence", "strength", "cluster_id")
                }
                for r in pa_nodes[
                    pa_nodes["parent_source"].notna() & (pa_nodes["parent_source"] != "PA")
                ].to_dict("records")
            ],
            "direction_accuracy": round(1 - wrong_direction / len(pa_nodes), 4)
            if len(pa_nodes)
            else None,
            "share_crediting_pa": round(float(from_pa["attributed"].mean()), 4)
            if len(from_pa)
            else None,
            "credit_kinds": from_pa["credit_kind"].value_counts().to_dict(),
            "cascade": summary.as_dict(),
            "cascade_rerun": rerun,
            # the headline: text the detector never saw. A sample scored now (--blind-labels);
            # else the replay of blind rounds 8-13 with rules and scorer as they stood before
            # each (attribution_hybrid.py); else the last round's record of the rules alone
            "attribution_precision": blind["attribution_precision"]
            if blind
            else (replay["precision"] if replay else last and last["precision"]),
            "attribution_recall": blind["attribution_recall"]
            if blind
            else (replay["recall"] if replay else last and last["recall"]),
            "attribution_blind": blind or {"replay_rounds_8_13": replay, "recorded_round": last},
            "credit_model": summary.credit_model,
            "attribution_blind_rounds": rounds,
            # the samples the rules were written from: optimistic, for the disagreements
            "attribution_development": {
                "pooled": {
                    "articles": sum(pooled.values()),
                    "precision": _ratio(pooled["tp"], pooled["tp"] + pooled["fp"]),
                    "recall": _ratio(pooled["tp"], pooled["tp"] + pooled["fn"]),
                    **pooled,
                },
                "samples": development,
            },
            "attribution_development_rules_only": {
                "articles": sum(pooled_rules.values()),
                "precision": _ratio(pooled_rules["tp"], pooled_rules["tp"] + pooled_rules["fp"]),
                "recall": _ratio(pooled_rules["tp"], pooled_rules["tp"] + pooled_rules["fn"]),
                **pooled_rules,
            }
            if rules_only
            else None,
            "agency_census": agency_census(papers_text, scorer),
            "seconds": round(time.perf_counter() - started, 1),
        },
    )


if __name__ == "__main__":
    main()
