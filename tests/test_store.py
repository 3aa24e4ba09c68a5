"""The store: idempotent writes, batches that survive interruption, exports and imports."""

import json
import subprocess
import sys

import pytest

import echoscope.ingest.pipeline as pipeline
from echoscope.ingest.pipeline import ingest
from echoscope.model import Document, Reject
from echoscope.store import Store, StoreError
from echoscope.store.schema import SCHEMA_VERSION


def _jsonl(path, n, start=0):
    path.write_text(
        "".join(
            json.dumps(
                {
                    "id": f"d{i}",
                    "series": f"s{i % 3}",
                    "date": "2024-01-01T10:00:00Z",
                    "text": f"document number {i} about the reservoir",
                }
            )
            + "\n"
            for i in range(start, start + n)
        ),
        encoding="utf-8",
    )
    return path


def test_reingest_adds_nothing_and_seq_is_dense(tmp_path, store):
    src = _jsonl(tmp_path / "a.jsonl", 50)
    first = ingest(store, [str(src)], batch_docs=7)
    second = ingest(store, [str(src)], batch_docs=7)
    assert (first.stored, second.stored, second.duplicates) == (50, 0, 50)
    seqs = [r[0] for r in store.con.execute("SELECT seq FROM documents ORDER BY seq").fetchall()]
    assert seqs == list(range(1, 51))
    more = _jsonl(tmp_path / "b.jsonl", 10, start=45)  # 5 old, 5 new
    third = ingest(store, [str(more)])
    assert (third.stored, third.duplicates) == (5, 5)
    assert store.count("documents") == 55
    runs = store.runs()
    assert [r["status"] for r in runs] == ["done", "done", "done"]
    assert runs[0]["stored"] == 50 and runs[1]["duplicates"] == 50


def test_interrupted_ingest_keeps_whole_batches_and_next_run_completes(
    tmp_path, store, monkeypatch
):
    src = _jsonl(tmp_path / "a.jsonl", 30)
    real = pipeline.read_source

    def dying(source, opts, counter=None):
        for i, item in enumerate(real(source, opts, counter)):
            if i == 17:
                raise KeyboardInterrupt
            yield item

    monkeypatch.setattr(pipeline, "read_source", dying)
    with pytest.raises(KeyboardInterrupt):
        ingest(store, [str(src)], batch_docs=5)
    assert store.count("documents") == 15  # three whole batches, nothing half-written
    assert store.runs()[-1]["status"] == "interrupted"
    monkeypatch.setattr(pipeline, "read_source", real)
    again = ingest(store, [str(src)], batch_docs=5)
    assert (again.stored, again.duplicates) == (15, 15)
    assert store.count("documents") == 30


def test_failed_batch_rolls_back(store):
    """A batch is one transaction: if its rejects cannot be written, its documents go too."""
    run = store.start_run(["x"], {})
    broken = Reject(origin=None, position="p", reason="r", raw=b"raw")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        store.write_batch(run, [Document(text="x", id="only", content_hash="h")], [broken])
    assert store.count("documents") == 0
    assert store.write_batch(run, [Document(text="x", id="only", content_hash="h")], []) == 1


def test_parquet_export_import_roundtrip(tmp_path, store):
    ingest(store, [str(_jsonl(tmp_path / "a.jsonl", 20))])
    out = tmp_path / "docs.parquet"
    assert store.export_documents(out, "parquet") == 20
    with Store(tmp_path / "other.duckdb") as other:
        summary = ingest(other, [str(out)])
        assert (summary.read, summary.stored) == (20, 20)
        a = store.documents("id, source, published_at, text, content_hash, time_source")
        b = other.documents("id, source, published_at, text, content_hash, time_source")
        assert a.equals(b)
        assert ingest(other, [str(out)]).stored == 0


def test_jsonl_and_csv_exports_read_back(tmp_path, store):
    ingest(store, [str(_jsonl(tmp_path / "a.jsonl", 5))])
    store.export_documents(tmp_path / "o.jsonl", "jsonl")
    lines = (tmp_path / "o.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 5 and json.loads(lines[0])["id"] == "d0"
    with Store(tmp_path / "again.duckdb") as again:
        assert ingest(again, [str(tmp_path / "o.jsonl")]).stored == 5
    store.export_documents(tmp_path / "o.csv", "csv")
    assert (
        (tmp_path / "o.csv").read_text(encoding="utf-8").splitlines()[0].startswith("seq,id,source")
    )
    with pytest.raises(StoreError):
        store.export_documents(tmp_path / "o.xml", "xml")


def test_stats_counts(tmp_path, store):
    ingest(store, [str(_jsonl(tmp_path / "a.jsonl", 9))])
    s = store.stats()
    assert s["documents"] == 9 and s["rejects"] == 0
    assert s["sources"] == {"s0": 3, "s1": 3, "s2": 3}
    assert s["date_range"]["min"].startswith("2024-01-01T10:00")
    assert s["languages"] == {"en": 9}


def test_newer_schema_refused(tmp_path):
    path = tmp_path / "future.duckdb"
    with Store(path) as s:
        s.con.execute(
            "UPDATE meta SET value = ? WHERE key = 'schema_version'", [str(SCHEMA_VERSION + 1)]
        )
    with pytest.raises(StoreError, match="newer echoscope"):
        Store(path)


def test_not_a_store_and_missing_store(tmp_path):
    with pytest.raises(StoreError, match="run `echoscope ingest` first"):
        Store(tmp_path / "missing.duckdb", read_only=True)
    junk = tmp_path / "junk.duckdb"
    junk.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError):
        Store(junk)


def test_store_locked_by_another_process(tmp_path):
    path = tmp_path / "locked.duckdb"
    Store(path).close()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb,sys,time; c=duckdb.connect({str(path)!r}); print('ok', flush=True); sys.stdin.read()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ok"
        with pytest.raises(StoreError, match="in use"):
            Store(path)
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)


FORMULAS = {
    "f1": ('=HYPERLINK("http://evil.example","click")', "'=HYPERLINK"),
    "f2": ("@SUM(1+1)*cmd|' /C calc'!A0", "'@SUM"),
    "f3": ("+1 555 0100 call now", "'+1 555"),
    "f4": ("- a list item, then text", "'- a list"),
    "f5": ("-3", "-3"),  # a number runs nothing
    "f6": ("@bbc", "@bbc"),  # nor does a bare handle
    "f7": ("Plain text = fine", "Plain text"),
}


def test_csv_exports_make_formulas_inert(tmp_path, store):
    """Hostile text that a spreadsheet would run is written with a leading apostrophe in
    CSV; numbers, handles and plain text are left alone; --csv-raw and JSON keep it all."""
    import csv

    src = tmp_path / "f.jsonl"
    src.write_text(
        "".join(
            json.dumps({"id": k, "date": "2024-01-01T10:00:00Z", "text": t}) + "\n"
            for k, (t, _) in FORMULAS.items()
        ),
        encoding="utf-8",
    )
    assert ingest(store, [str(src)]).stored == len(FORMULAS)

    def read(path):
        with open(path, newline="", encoding="utf-8") as fh:
            return {r["id"]: r for r in csv.DictReader(fh)}

    store.export_documents(tmp_path / "safe.csv", "csv")
    safe = read(tmp_path / "safe.csv")
    for doc_id, (text, start) in FORMULAS.items():
        assert safe[doc_id]["text"].startswith(start)
        assert safe[doc_id]["text"].removeprefix("'") == text
    assert safe["f1"]["published_at"] and safe["f1"]["published_at"][0] != "'"
    assert store.export_documents(tmp_path / "raw.csv", "csv", spreadsheet_safe=False) == 7
    raw = read(tmp_path / "raw.csv")
    assert {k: r["text"] for k, r in raw.items()} == {k: t for k, (t, _) in FORMULAS.items()}
    store.export_documents(tmp_path / "o.jsonl", "jsonl")
    lines = (tmp_path / "o.jsonl").read_text(encoding="utf-8").splitlines()
    assert {json.loads(x)["id"]: json.loads(x)["text"] for x in lines}["f1"] == FORMULAS["f1"][0]
    # a result table goes through the same guard: its columns keep their order and types
    store.export_table("documents", tmp_path / "t.csv", "csv")
    assert read(tmp_path / "t.csv") == safe
