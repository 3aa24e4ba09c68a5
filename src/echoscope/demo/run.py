"""`echoscope demo`: copy the example corpus out, run every stage available, write the report."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from echoscope.demo import DATA_DIR
from echoscope.ingest.base import ReadOptions
from echoscope.ingest.pathtemplate import PathTemplate
from echoscope.ingest.pipeline import ingest
from echoscope.present.report import write_report
from echoscope.store import Store

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


def run_demo(workdir: Path, console: Console | None = None) -> dict[str, Any]:
    workdir.mkdir(parents=True, exist_ok=True)
    corpus = build_corpus(workdir)
    db = workdir / "echoscope.duckdb"
    for stale in (db, db.with_suffix(".duckdb.wal")):
        stale.unlink(missing_ok=True)
    with Store(db) as store:
        runs = ingest_corpus(store, corpus)
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
        console.print(f"[bold]store[/]  {db}\n[bold]report[/] {report}", highlight=False)
    return result
