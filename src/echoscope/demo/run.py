"""`echoscope demo`: copy the example corpus out, run every stage available, write the report."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from echoscope.demo import DATA_DIR
from echoscope.detect.claims.stage import run_claims
from echoscope.detect.reuse import results as reuse_results
from echoscope.detect.reuse.stage import ReuseParams, run_reuse
from echoscope.ingest.base import ReadOptions
from echoscope.ingest.pathtemplate import PathTemplate
from echoscope.ingest.pipeline import ingest
from echoscope.present.report import write_report
from echoscope.store import Store
from echoscope.trace.cascade import run_cascades

ARTICLE_TEMPLATE = "{date:%Y-%m-%d}/{source}/{slug}.html"


def build_corpus(dest: Path) -> Path:
    """Copy the example corpus into ``dest``/corpus and return that folder."""
    corpus = dest / "corpus"
    if corpus.exists():
        shutil.rmtree(corpus)
    shutil.copytree(DATA_DIR, corpus, ignore=shutil.ignore_patterns("README.md", "__pycache__"))
    return corpus


def ingest_corpus(store: Store, corpus: Path) -> list[dict[str, Any]]:
    """Ingest the scenario the way a user would: one command per kind of source."""
    steps = [
        ([corpus / "wire.jsonl"], ReadOptions()),
        ([corpus / "articles"], ReadOptions(path_template=PathTemplate(ARTICLE_TEMPLATE))),
        ([corpus / "citizen-pulse.rss"], ReadOptions()),
        ([corpus / "posts.csv"], ReadOptions()),
    ]
    return [ingest(store, [str(p) for p in paths], opts).as_dict() for paths, opts in steps]


def find_coordination(store: Store, window_s: float = 600.0) -> dict[str, Any]:
    """Co-text coordination on the scenario (a 10-minute window, 2+ items, 20 null runs)."""
    from echoscope.detect.coordination.actions import actions
    from echoscope.detect.coordination.groups import add_labels, find_groups
    from echoscope.detect.coordination.network import co_action_edges
    from echoscope.detect.coordination.significance import score_edges, significant

    acts = actions(store, "co-text")
    edges = score_edges(store, acts, co_action_edges(store, acts, window_s, 2), window_s, runs=20)
    groups = find_groups(significant(edges, 20), acts, window_s)
    add_labels(store, groups)
    return {"window_s": window_s, "edges": len(edges), "groups": [g.__dict__ for g in groups]}


def truth_origin(corpus: Path) -> str:
    return json.loads((corpus / "ground_truth.json").read_text(encoding="utf-8"))["origin"]


def trace_claims(store: Store, corpus: Path) -> list[dict[str, Any]]:
    """Trace each claim of the scenario's ground truth, as `echoscope trace` would."""
    from echoscope.trace.claims import ClaimTracer

    tracer = ClaimTracer(store)
    out = []
    for claim in json.loads((corpus / "ground_truth.json").read_text(encoding="utf-8"))["claims"]:
        result = tracer.trace(claim["claim"])
        earliest = result.earliest
        out.append(
            {
                "claim": claim["claim"],
                "occurrences": [
                    {
                        "doc": o.doc_id,
                        "source": o.source,
                        "published_at": str(o.published_at),
                        "status": o.status,
                        "score": o.score,
                        "sentence": o.sentence,
                        "earliest": o.earliest,
                    }
                    for o in result.by_document()
                ],
                "first_found": earliest.doc_id if earliest else None,
                "first_expected": claim["first"],
                "expected": claim["occurrences"],
            }
        )
    return out


def run_demo(workdir: Path, console: Console | None = None) -> dict[str, Any]:
    workdir.mkdir(parents=True, exist_ok=True)
    corpus = build_corpus(workdir)
    db = workdir / "echoscope.duckdb"
    for stale in (db, db.with_suffix(".duckdb.wal")):
        stale.unlink(missing_ok=True)
    with Store(db) as store:
        runs = ingest_corpus(store, corpus)
        reuse = run_reuse(store, ReuseParams())
        claims = run_claims(store)
        traced = trace_claims(store, corpus)
        cascades = run_cascades(store)
        coordination = find_coordination(store)
        links = reuse_results.links(store)
        edges = store.con.execute(
            "SELECT c.id AS doc, p.id AS parent, e.attributed, e.credit_kind, e.confidence "
            "FROM cascade_edges e JOIN documents c ON c.seq = e.child_seq "
            "LEFT JOIN documents p ON p.seq = e.parent_seq ORDER BY c.published_at"
        ).df()
        stats = store.stats()
        report = write_report(
            store, workdir / "report.html", title="echoscope demo: the Harwick water story"
        )
    truth = json.loads((corpus / "ground_truth.json").read_text(encoding="utf-8"))
    result = {
        "corpus": str(corpus),
        "db": str(db),
        "report": str(report),
        "ingest": runs,
        "documents": stats["documents"],
        "rejects": stats["rejects"],
        "sources": stats["sources"],
        "reuse": reuse.as_dict(),
        "claims": claims.as_dict(),
        "traced_claims": traced,
        "cascades": cascades.as_dict(),
        "coordination": coordination,
        "tree_of_origin": [
            {
                "doc": r["doc"],
                "parent": r["parent"],
                "attributed": bool(r["attributed"]),
                "credit": r["credit_kind"],
            }
            for r in edges.to_dict(orient="records")
            if r["parent"] == truth_origin(corpus)
        ],
        "copies_of_origin": [
            {
                "doc": r["doc_b"],
                "kind": r["kind"],
                "identity": r["identity"],
                "coverage": r["coverage_b"],
            }
            for r in links[links["doc_a"] == truth_origin(corpus)].to_dict(orient="records")
        ],
        "ground_truth": str(corpus / "ground_truth.json"),
    }
    if console is not None:
        table = Table(title="ingest")
        for col in ("source", "read", "stored", "duplicates", "rejected"):
            table.add_column(col, justify="right" if col != "source" else "left")
        for run in runs:
            table.add_row(
                Path(run["sources"][0]).name,
                *(str(run[k]) for k in ("read", "stored", "duplicates", "rejected")),
            )
        console.print(table)
        console.print(
            f"{stats['documents']} documents from {stats['source_count']} sources, "
            f"{stats['date_range']['min']} … {stats['date_range']['max']}",
            highlight=False,
        )
        console.print(f"scenario: {truth['scenario']}", highlight=False)
        copies = Table(
            title=f"copies of the wire story {truth['origin']} (reuse stage vs ground truth)"
        )
        for col in ("document", "found", "identity", "covers", "ground truth"):
            copies.add_column(col)
        expected = {c["doc"]: c["kind"] for c in truth["copies"]}
        for row in result["copies_of_origin"]:
            copies.add_row(
                row["doc"],
                row["kind"],
                f"{row['identity']:.2f}",
                f"{row['coverage']:.0%}",
                expected.get(row["doc"], "not a copy"),
            )
        for doc, kind in expected.items():
            if doc not in {r["doc"] for r in result["copies_of_origin"]}:
                copies.add_row(
                    doc, "—", "", "", kind + (" (semantic stage)" if kind == "paraphrase" else "")
                )
        console.print(copies)
        console.print(
            f"reuse: {reuse.links_total} links in {reuse.clusters} clusters "
            + ", ".join(f"{k} {v}" for k, v in reuse.kinds.items()),
            highlight=False,
        )
        for traced_claim in traced:
            found = Table(
                title=f'echoscope trace "{traced_claim["claim"]}" (claims stage vs ground truth)'
            )
            for col in ("", "published", "document", "score", "sentence", "ground truth"):
                found.add_column(col, overflow="fold")
            expected_docs = set(traced_claim["expected"])
            for o in traced_claim["occurrences"]:
                mark = "first" if o["earliest"] else o["status"]
                found.add_row(
                    mark,
                    o["published_at"][:16],
                    o["doc"],
                    f"{o['score']:.2f}",
                    o["sentence"],
                    "states it" if o["doc"] in expected_docs else "—",
                )
            console.print(found)
        tree = Table(
            title="who copied the wire story, and who said so (cascade stage vs ground truth)"
        )
        for col in ("copy", "parent", "credit found", "ground truth"):
            tree.add_column(col)
        credited = {c["doc"]: c["attributed"] for c in truth["copies"]}
        for row in result["tree_of_origin"]:
            found = f"yes ({row['credit']})" if row["attributed"] else "no"
            expect = "credits" if credited.get(row["doc"]) else "no credit"
            tree.add_row(row["doc"], "wire", found, expect)
        console.print(tree)
        accounts = set(truth["coordination"]["accounts"])
        for group in coordination["groups"]:
            found = set(group["members"])
            verdict = (
                "matches the ground truth"
                if found == accounts
                else f"ground truth: {sorted(accounts)}"
            )
            console.print(
                f"coordination: {len(found)} accounts posted the same text within {coordination['window_s']:.0f} s, "
                f"{group['items']} times (score {group['score']}): {', '.join(sorted(found))} ({verdict})",
                highlight=False,
            )
        console.print(
            f"[bold]store[/]  {escape(str(db))}\n[bold]report[/] {escape(str(report))}",
            highlight=False,
        )
    return result
