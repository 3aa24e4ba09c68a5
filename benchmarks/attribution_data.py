"""Sentence-level data for a learned attribution scorer, from the METER hand labels.

Every labelled METER text (benchmarks/labels, the scored file of each sample) is split into
sentences as the pipeline stores them; a sentence is positive when it overlaps a labelled
credit span. Each row keeps the sentences before it (whose account a paragraph is) and the
story it belongs to, so cross-validation can hold whole stories out: texts of one story
share phrasings, and a model scored on a story it was trained on would be flattered.

    python benchmarks/attribution_data.py [--data DIR] [--out FILE.jsonl]
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import tempfile
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import DATA, ingest_meter, meter_story
from echoscope.detect.claims.sentences import split_sentences
from echoscope.store import Store
from echoscope.trace.credit_model import MAX_SENTENCES
from meter_cascades import DEVELOPMENT

CACHE = Path(__file__).resolve().parent / ".cache"


def labelled_rows() -> list[dict]:
    """Every scored label row, once per text (the `_b` second opinions are not read)."""
    rows: dict[str, dict] = {}
    for path in DEVELOPMENT:
        with open(path, newline="", encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                rows.setdefault(row["path"], {**row, "sample": path.name})
    return list(rows.values())


def spans_of(text: str, span_field: str) -> list[tuple[int, int]]:
    """Every occurrence of every labelled span in the text."""
    found = []
    for words in (s.strip() for s in span_field.split(" | ")):
        if not words:
            continue
        start = text.find(words)
        while start >= 0:
            found.append((start, start + len(words)))
            start = text.find(words, start + 1)
    return found


def sentence_rows(text: str) -> list[dict]:
    """Each sentence as the scorer reads it (the pipeline caps a text at MAX_SENTENCES):
    its offsets, the two sentences before it, and whether a paragraph break comes between
    it and the one before (a new paragraph may change whose account it is)."""
    sentences = split_sentences(text)[:MAX_SENTENCES]
    return [
        {
            "index": i,
            "start": s.start,
            "end": s.end,
            "text": s.text,
            "before": [sentences[j].text for j in range(max(0, i - 2), i)],
            "new_paragraph": i > 0 and "\n" in text[sentences[i - 1].end : s.start],
        }
        for i, s in enumerate(sentences)
    ]


def meter_texts(data: Path) -> dict[str, str]:
    """Every METER text as the pipeline ingests it (meter_cascades.py's settings), by id."""
    with tempfile.TemporaryDirectory() as tmp, Store(Path(tmp) / "meter.duckdb") as store:
        ingest_meter(store, data, tz=ZoneInfo("Europe/London"), paper_date_offset_days=1)
        return dict(store.con.execute("SELECT id, text FROM documents").fetchall())


def build(texts: dict[str, str]) -> tuple[list[dict], dict]:
    out, stats = [], {"texts": 0, "positive_texts": 0, "spans_not_found": 0, "sentences": 0}
    for row in labelled_rows():
        text = texts.get(row["path"])
        if text is None:
            continue
        positive = "yes" in (
            row["credits_agency"].strip().lower(),
            row["credits_other"].strip().lower(),
        )
        spans = spans_of(text, row["span"]) if positive else []
        if positive and not spans:
            stats["spans_not_found"] += 1
        stats["texts"] += 1
        stats["positive_texts"] += positive
        for s in sentence_rows(text):
            out.append(
                {
                    "path": row["path"],
                    "story": meter_story(row["path"]),
                    "sample": row["sample"],
                    **s,
                    "label": any(b < s["end"] and s["start"] < e for b, e in spans),
                    "text_label": positive,
                }
            )
            stats["sentences"] += 1
    stats["positive_sentences"] = sum(r["label"] for r in out)
    return out, stats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=DATA / "meter-courts")
    parser.add_argument("--out", type=Path, default=CACHE / "attribution_sentences.jsonl")
    args = parser.parse_args()
    rows, stats = build(meter_texts(args.data))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(json.dumps(stats))


if __name__ == "__main__":
    main()
