"""The DuckDB store: documents, rejects and the record of every ingest run.

One file, no server. Writes go in one transaction per batch, so an interrupted ingest
leaves whole batches behind and the next run (which skips ids already stored) completes
it. Only one process may write at a time; DuckDB's file lock enforces that.

Derived columns (``canonical_links``) are computed when a document is written. A store
made before such a column existed gains it on its next writable open, which fills it in
bounded batches and commits each batch; see ``Store.fill_canonical_links``.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from echoscope import __version__
from echoscope.model import Document, Reject
from echoscope.store.schema import DOCUMENT_COLUMNS, MIGRATIONS, SCHEMA_VERSION, TABLES
from echoscope.store.spreadsheet import guard_sql
from echoscope.urls import canonical_links

DEFAULT_DB = "echoscope.duckdb"
RAW_KEEP_BYTES = 1024 * 1024
FILL_BATCH_DOCS = 50_000  # documents per transaction when filling a derived column


COPY_OPTIONS = {
    "parquet": "FORMAT parquet, COMPRESSION zstd",
    "jsonl": "FORMAT json",
    "csv": "FORMAT csv, HEADER true",
}

# Result tables as users want them: document ids, not internal sequence numbers.
EXPORTS = {
    "reuse_links": (
        "SELECT l.link_id, da.id AS doc_a, da.source AS source_a, da.published_at AS published_a, "
        "db.id AS doc_b, db.source AS source_b, db.published_at AS published_b, l.kind, l.method, "
        "l.passages, l.matched, l.identity, l.coverage_a, l.coverage_b, l.boilerplate "
        "FROM reuse_links l JOIN documents da ON da.seq = l.seq_a JOIN documents db ON db.seq = l.seq_b "
        "ORDER BY l.link_id"
    ),
    "reuse_passages": (
        "SELECT p.link_id, da.id AS doc_a, p.a_begin, p.a_end, "
        "substr(da.text, p.a_begin + 1, p.a_end - p.a_begin) AS text_a, db.id AS doc_b, p.b_begin, p.b_end, "
        "substr(db.text, p.b_begin + 1, p.b_end - p.b_begin) AS text_b, p.matched, p.identity "
        "FROM reuse_passages p JOIN documents da ON da.seq = p.seq_a JOIN documents db ON db.seq = p.seq_b "
        "ORDER BY p.link_id, p.a_begin"
    ),
    "reuse_clusters": (
        'SELECT c.cluster_id, d.id AS doc, d.source, d.published_at, c."begin", c."end" '
        "FROM reuse_clusters c JOIN documents d USING (seq) ORDER BY c.cluster_id, d.published_at"
    ),
    "cascade_edges": (
        "SELECT e.cluster_id, c.id AS child, c.source AS child_source, c.published_at AS child_published, "
        "p.id AS parent, p.source AS parent_source, p.published_at AS parent_published, e.confidence, "
        "e.time_relation, e.strength, e.attributed, e.credit_kind, e.credit_begin, e.credit_end, "
        "e.credit_text, e.evidence, e.child_seq, e.parent_seq FROM cascade_edges e JOIN documents c ON c.seq = e.child_seq "
        "LEFT JOIN documents p ON p.seq = e.parent_seq ORDER BY e.cluster_id, c.published_at"
    ),
    "claim_cascade_edges": (
        "SELECT e.cluster_id, c.id AS child, c.source AS child_source, c.published_at AS child_published, "
        "p.id AS parent, p.source AS parent_source, p.published_at AS parent_published, e.confidence, "
        "e.time_relation, e.strength, e.attributed, e.credit_kind, e.credit_begin, e.credit_end, "
        "e.credit_text, e.evidence, e.child_seq, e.parent_seq FROM claim_cascade_edges e JOIN documents c ON c.seq = e.child_seq "
        "LEFT JOIN documents p ON p.seq = e.parent_seq ORDER BY e.cluster_id, c.published_at"
    ),
    "claim_clusters": (
        "SELECT k.cluster_id, d.id AS doc, d.source, d.published_at, s.idx AS sentence_index, "
        's."begin", s."end", substr(d.text, s."begin" + 1, s."end" - s."begin") AS sentence, k.score '
        "FROM claim_clusters k JOIN claim_sentences s ON s.row = k.row JOIN documents d ON d.seq = s.seq "
        "ORDER BY k.cluster_id, d.published_at, d.id, s.idx"
    ),
    "claim_links": (
        "SELECT a.text AS sentence_a, b.text AS sentence_b, l.semantic, l.lexical, l.score, l.status "
        "FROM claim_links l JOIN claim_texts a ON a.row = l.row_a JOIN claim_texts b ON b.row = l.row_b "
        "ORDER BY l.score DESC"
    ),
}


class StoreError(RuntimeError):
    """A store that cannot be opened or used; the message says what to do."""


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class Store:
    def __init__(self, path: str | Path = DEFAULT_DB, *, read_only: bool = False) -> None:
        self.path = Path(path)
        if read_only and not self.path.exists():
            raise StoreError(
                f"no store at {self.path}: run `echoscope ingest` first (or pass --db)"
            )
        if not read_only and self.path.parent and not self.path.parent.exists():
            raise StoreError(f"folder {self.path.parent} does not exist")
        try:
            self.con = duckdb.connect(str(self.path), read_only=read_only)
        except duckdb.IOException as exc:
            msg = str(exc)
            if "lock" in msg.lower():
                raise StoreError(
                    f"{self.path} is in use by another echoscope process; wait for it to finish"
                ) from exc
            raise StoreError(f"cannot open {self.path}: {msg}") from exc
        except duckdb.Error as exc:
            raise StoreError(f"{self.path} is not an echoscope store: {exc}") from exc
        self.read_only = read_only
        if not read_only:
            self._init_schema()
        self._check_version()
        if not read_only:
            self._migrate()

    # -- lifecycle ------------------------------------------------------------------
    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        try:
            self.con.close()
        except duckdb.Error:
            pass

    def _init_schema(self) -> None:
        for ddl in TABLES:
            self.con.execute(ddl)
        row = next(
            iter(
                self.con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchall()
            ),
            None,
        )
        if row is None:
            self.con.execute(
                "INSERT INTO meta VALUES ('schema_version', ?), ('created_by', ?)",
                [str(SCHEMA_VERSION), f"echoscope {__version__}"],
            )

    def _migrate(self) -> None:
        """Bring a store made by an older echoscope up to date in place (idempotent)."""
        for ddl in MIGRATIONS:
            self.con.execute(ddl)
        self.fill_canonical_links()

    def _check_version(self) -> None:
        try:
            row = next(
                iter(
                    self.con.execute(
                        "SELECT value FROM meta WHERE key = 'schema_version'"
                    ).fetchall()
                ),
                None,
            )
        except duckdb.CatalogException as exc:
            raise StoreError(f"{self.path} is not an echoscope store (no meta table)") from exc
        if row and int(row[0]) > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path} was written by a newer echoscope (schema {row[0]}); upgrade echoscope"
            )

    @contextlib.contextmanager
    def transaction(self):
        """All or nothing: commit on success, roll back on any error or interruption."""
        self.con.execute("BEGIN TRANSACTION")
        try:
            yield self.con
            self.con.execute("COMMIT")
        except BaseException:
            self.con.execute("ROLLBACK")
            raise

    # -- ingest runs ----------------------------------------------------------------
    def start_run(self, sources: list[str], options: dict[str, Any]) -> int:
        self.con.execute(
            "UPDATE ingest_runs SET status = 'interrupted', "
            "message = 'did not finish; batches committed before the stop are kept' "
            "WHERE status = 'running'"
        )
        run_id = self.con.execute(
            "SELECT coalesce(max(run_id), 0) + 1 FROM ingest_runs"
        ).fetchall()[0][0]
        self.con.execute(
            "INSERT INTO ingest_runs (run_id, started_at, status, sources, options, version) "
            "VALUES (?, ?, 'running', ?, ?, ?)",
            [run_id, _now(), sources, json.dumps(options, default=str), __version__],
        )
        return int(run_id)

    def finish_run(
        self, run_id: int, status: str, counts: dict[str, int], message: str | None = None
    ) -> None:
        self.con.execute(
            "UPDATE ingest_runs SET finished_at = ?, status = ?, read = ?, stored = ?, "
            "duplicates = ?, rejected = ?, warnings = ?, message = ? WHERE run_id = ?",
            [
                _now(),
                status,
                counts.get("read", 0),
                counts.get("stored", 0),
                counts.get("duplicates", 0),
                counts.get("rejected", 0),
                counts.get("warnings", 0),
                message,
                run_id,
            ],
        )

    def next_seq(self) -> int:
        return int(
            self.con.execute("SELECT coalesce(max(seq), 0) + 1 FROM documents").fetchall()[0][0]
        )

    # -- writing --------------------------------------------------------------------
    def write_batch(
        self,
        run_id: int,
        docs: list[Document],
        rejects: Iterable[Reject],
        counts: dict[str, int] | None = None,
    ) -> int:
        """Store new documents (by id) and rejects atomically; return how many were new."""
        import pyarrow as pa

        now = _now()
        rejects = list(rejects)
        with self.transaction():
            stored = 0
            if docs:
                batch = pa.table(
                    {
                        "ord": pa.array(range(len(docs)), pa.int64()),
                        "id": pa.array([d.id for d in docs], pa.string()),
                        "source": pa.array([d.source for d in docs], pa.string()),
                        "url": pa.array([d.url for d in docs], pa.string()),
                        "published_at": pa.array(
                            [d.published_at for d in docs], pa.timestamp("us")
                        ),
                        "time_source": pa.array([str(d.time_source) for d in docs], pa.string()),
                        "time_precision": pa.array(
                            [str(d.time_precision) for d in docs], pa.string()
                        ),
                        "title": pa.array([d.title for d in docs], pa.string()),
                        "text": pa.array([d.text for d in docs], pa.large_string()),
                        "language": pa.array([d.language for d in docs], pa.string()),
                        "links": pa.array([d.links or None for d in docs], pa.list_(pa.string())),
                        "canonical_links": pa.array(
                            [canonical_links(d.links) for d in docs], pa.list_(pa.string())
                        ),
                        "parent_id": pa.array([d.parent_id for d in docs], pa.string()),
                        "content_hash": pa.array([d.content_hash for d in docs], pa.string()),
                        "metadata": pa.array([_meta_json(d.metadata) for d in docs], pa.string()),
                        "origin": pa.array([d.origin for d in docs], pa.string()),
                    }
                )
                self.con.register("_batch", batch)
                try:
                    first = self.next_seq()
                    stored = self.con.execute(
                        f"""
                        INSERT INTO documents ({", ".join(DOCUMENT_COLUMNS)})
                        SELECT ? + row_number() OVER (ORDER BY ord) - 1,
                               id, source, url, published_at, time_source, time_precision, title,
                               text, language, links, parent_id, content_hash, metadata, origin,
                               ?, ?, canonical_links
                        FROM (
                            SELECT * FROM _batch b
                            WHERE NOT EXISTS (SELECT 1 FROM documents d WHERE d.id = b.id)
                            QUALIFY row_number() OVER (PARTITION BY b.id ORDER BY b.ord) = 1
                        )
                        """,
                        [first, run_id, now],
                    ).fetchall()[0][0]
                finally:
                    self.con.unregister("_batch")
            if rejects:
                self.con.executemany(
                    "INSERT INTO rejects VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [
                        [
                            run_id,
                            r.origin[:4096],
                            (r.position or "")[:4096],
                            r.reason[:4096],
                            r.raw[:RAW_KEEP_BYTES],
                            len(r.raw),
                            now,
                        ]
                        for r in rejects
                    ],
                )
            if counts is not None:
                self.con.execute(
                    "UPDATE ingest_runs SET read = ?, stored = ?, duplicates = ?, rejected = ?, "
                    "warnings = ? WHERE run_id = ?",
                    [
                        counts.get("read", 0),
                        counts.get("stored", 0) + int(stored),
                        counts.get("duplicates", 0),
                        counts.get("rejected", 0),
                        counts.get("warnings", 0),
                        run_id,
                    ],
                )
        return int(stored)

    def missing_canonical_links(self) -> int:
        """Documents whose ``canonical_links`` is not computed (every document of a store
        from before the column, opened read-only); 0 in a store this version has opened
        for writing, unless an older echoscope has written to it since."""
        sql = "SELECT count(*) FROM documents"
        if self.has_column("documents", "canonical_links"):
            sql += " WHERE canonical_links IS NULL"
        return int(self.con.execute(sql).fetchall()[0][0])

    def fill_canonical_links(self, batch_docs: int = FILL_BATCH_DOCS) -> int:
        """Compute ``canonical_links`` where it is missing (a store from an older echoscope,
        or rows an older version wrote), ``batch_docs`` documents per committed transaction
        so memory stays bounded and an interruption keeps the batches done; return how
        many documents were filled. Needs a writable store."""
        import pyarrow as pa

        span = self.con.execute(
            "SELECT min(seq), max(seq) FROM documents WHERE canonical_links IS NULL"
        ).fetchall()[0]
        if span[0] is None:
            return 0
        filled = 0
        # windows of seq (dense, so at most batch_docs rows each) let DuckDB skip row groups
        for lo in range(int(span[0]), int(span[1]) + 1, batch_docs):
            rows = self.con.execute(
                "SELECT seq, links FROM documents WHERE canonical_links IS NULL "
                "AND seq >= ? AND seq < ? ORDER BY seq",
                [lo, lo + batch_docs],
            ).fetchall()
            if not rows:
                continue
            batch = pa.table(
                {
                    "seq": pa.array([r[0] for r in rows], pa.int64()),
                    "canonical_links": pa.array(
                        [canonical_links(r[1]) for r in rows], pa.list_(pa.string())
                    ),
                }
            )
            with self.transaction():
                self.con.register("_canon", batch)
                try:
                    self.con.execute(
                        "UPDATE documents SET canonical_links = c.canonical_links "
                        "FROM _canon c WHERE documents.seq = c.seq"
                    )
                finally:
                    self.con.unregister("_canon")
            filled += len(rows)
        return filled

    def has_column(self, table: str, column: str) -> bool:
        """Whether the store has this column (an older store may lack a newer one)."""
        return bool(
            self.con.execute(
                "SELECT count(*) FROM duckdb_columns() WHERE database_name = current_database() "
                "AND schema_name = 'main' "
                "AND table_name = ? AND column_name = ?",
                [table, column],
            ).fetchall()[0][0]
        )

    # -- reading --------------------------------------------------------------------
    def count(self, table: str) -> int:
        return int(self.con.execute(f"SELECT count(*) FROM {_ident(table)}").fetchall()[0][0])

    def get_document(self, doc_id: str) -> dict[str, Any] | None:
        cur = self.con.execute("SELECT * FROM documents WHERE id = ?", [doc_id])
        row = next(iter(cur.fetchall()), None)
        if row is None:
            return None
        out = dict(zip([c[0] for c in cur.description], row, strict=True))
        out["metadata"] = json.loads(out["metadata"]) if out.get("metadata") else {}
        return out

    def documents(self, columns: str = "*", where: str | None = None, params: list | None = None):
        """Documents as a pandas DataFrame (for the Python API and notebooks)."""
        sql = f"SELECT {columns} FROM documents"
        if where:
            sql += f" WHERE {where}"
        return self.con.execute(sql + " ORDER BY seq", params or []).df()

    def rejects(self):
        return self.con.execute(
            "SELECT run_id, origin, position, reason, raw_size, created_at FROM rejects"
        ).df()

    def stats(self) -> dict[str, Any]:
        con = self.con
        tables = [
            r[0]
            for r in con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' "
                "ORDER BY table_name"
            ).fetchall()
        ]
        lo, hi = con.execute(
            "SELECT min(published_at), max(published_at) FROM documents"
        ).fetchall()[0]
        out: dict[str, Any] = {
            "db": str(self.path),
            "documents": self.count("documents"),
            "rejects": self.count("rejects"),
            "ingest_runs": self.count("ingest_runs"),
            "tables": {t: self.count(t) for t in tables if t != "meta"},
            "date_range": {
                "min": lo.isoformat() if lo else None,
                "max": hi.isoformat() if hi else None,
            },
            "sources": dict(
                con.execute(
                    "SELECT coalesce(source, '(none)'), count(*) AS n FROM documents "
                    "GROUP BY 1 ORDER BY n DESC, 1"
                ).fetchall()
            ),
            "languages": dict(
                con.execute(
                    "SELECT coalesce(language, '(unknown)'), count(*) AS n FROM documents "
                    "GROUP BY 1 ORDER BY n DESC, 1"
                ).fetchall()
            ),
            "time_sources": dict(
                con.execute(
                    "SELECT time_source, count(*) AS n FROM documents GROUP BY 1 ORDER BY n DESC"
                ).fetchall()
            ),
            "reject_reasons": dict(
                con.execute(
                    "SELECT split_part(reason, ':', 1), count(*) AS n FROM rejects "
                    "GROUP BY 1 ORDER BY n DESC LIMIT 50"
                ).fetchall()
            ),
        }
        out["source_count"] = len(out["sources"])
        return out

    def runs(self) -> list[dict[str, Any]]:
        cur = self.con.execute("SELECT * FROM ingest_runs ORDER BY run_id")
        cols = [c[0] for c in cur.description]
        return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]

    # -- exchange -------------------------------------------------------------------
    def export_table(
        self, table: str, out: str | Path, fmt: str, *, spreadsheet_safe: bool = True
    ) -> int:
        """Write a result table, with document ids instead of internal numbers, to
        Parquet, JSON Lines or CSV; return the row count. CSV text cells that a
        spreadsheet would run as formulas are made inert unless ``spreadsheet_safe`` is
        False (see ``store.spreadsheet``)."""
        if table == "documents":
            return self.export_documents(out, fmt, spreadsheet_safe=spreadsheet_safe)
        if table not in EXPORTS:
            raise StoreError(
                f"unknown table {table!r}; exportable: documents, {', '.join(EXPORTS)}"
            )
        fmt = fmt.lower()
        if fmt not in COPY_OPTIONS:
            raise StoreError(f"unknown export format {fmt!r}; use parquet, jsonl or csv")
        select = EXPORTS[table]
        if fmt == "csv" and spreadsheet_safe:
            select = self._guarded(select)
        if fmt == "jsonl" and "e.evidence" in select:
            # evidence as the JSON object it is, not a string inside JSON; its alternatives
            # name documents by the seq that child_seq and parent_seq give
            select = f"SELECT * REPLACE (json(evidence) AS evidence) FROM ({select})"
        self.con.execute(f"COPY ({select}) TO '{_quote(str(out))}' ({COPY_OPTIONS[fmt]})")
        return int(self.con.execute(f"SELECT count(*) FROM ({select})").fetchall()[0][0])

    def export_documents(self, out: str | Path, fmt: str, *, spreadsheet_safe: bool = True) -> int:
        """Write the documents table to Parquet, JSON Lines or CSV; return the row count."""
        out = Path(out)
        fmt = fmt.lower()
        if fmt not in COPY_OPTIONS:
            raise StoreError(f"unknown export format {fmt!r}; use parquet, jsonl or csv")
        # canonical_links is derived from links: left out, and recomputed on import
        derived = ", canonical_links" if self.has_column("documents", "canonical_links") else ""
        if fmt == "csv":
            select = (
                f"SELECT * EXCLUDE (links{derived}), array_to_string(links, ' ') AS links "
                "FROM documents ORDER BY seq"
            )
        elif derived:
            select = "SELECT * EXCLUDE (canonical_links) FROM documents ORDER BY seq"
        else:
            select = "SELECT * FROM documents ORDER BY seq"
        if fmt == "csv" and spreadsheet_safe:
            select = self._guarded(select)
        self.con.execute(f"COPY ({select}) TO '{_quote(str(out))}' ({COPY_OPTIONS[fmt]})")
        return self.count("documents")

    def _guarded(self, select: str) -> str:
        """``select`` with each text column guarded against spreadsheet formulas, in the
        same column order."""
        columns = self.con.execute(f"DESCRIBE {select}").fetchall()
        parts = []
        for name, type_, *_ in columns:
            ident = '"' + name.replace('"', '""') + '"'
            parts.append(f"{guard_sql(ident)} AS {ident}" if type_ == "VARCHAR" else ident)
        return f"SELECT {', '.join(parts)} FROM ({select})"

    def import_parquet(self, path: str | Path, run_id: int | None = None) -> tuple[int, int]:
        """Add documents from a Parquet file (an echoscope export or any table with id and
        text); return (rows read, rows stored). Ids already present are skipped."""
        src = f"read_parquet('{_quote(str(path))}')"
        try:
            cols = {r[0] for r in self.con.execute(f"DESCRIBE SELECT * FROM {src}").fetchall()}
        except duckdb.Error as exc:
            raise StoreError(f"cannot read {path} as Parquet: {exc}") from exc
        missing = {"id", "text"} - cols
        if missing:
            raise StoreError(f"{path} lacks the column(s) {', '.join(sorted(missing))}")

        def col(name: str, default: str) -> str:
            return name if name in cols else f"{default} AS {name}"

        total = int(self.con.execute(f"SELECT count(*) FROM {src}").fetchall()[0][0])
        first = self.next_seq()
        order = "seq" if "seq" in cols else "id"
        with self.transaction():
            stored = self.con.execute(
                f"""
                INSERT INTO documents ({", ".join(DOCUMENT_COLUMNS)})
                SELECT ? + row_number() OVER (ORDER BY {order}) - 1, CAST(id AS VARCHAR),
                       {col("source", "NULL")}, {col("url", "NULL")},
                       {"CAST(published_at AS TIMESTAMP)" if "published_at" in cols else "NULL"},
                       {col("time_source", "'unknown'")}, {col("time_precision", "'unknown'")},
                       {col("title", "NULL")}, coalesce(CAST(text AS VARCHAR), ''),
                       {col("language", "NULL")}, {col("links", "NULL::VARCHAR[]")},
                       {col("parent_id", "NULL")},
                       {col("content_hash", "md5(coalesce(CAST(text AS VARCHAR), ''))")},
                       {"CAST(metadata AS VARCHAR)" if "metadata" in cols else "NULL"}, {col("origin", f"'{_quote(str(path))}'")},
                       ?, ?, NULL
                FROM (
                    SELECT * FROM {src} s
                    WHERE s.id IS NOT NULL
                      AND NOT EXISTS (SELECT 1 FROM documents d WHERE d.id = CAST(s.id AS VARCHAR))
                    QUALIFY row_number() OVER (PARTITION BY s.id) = 1
                )
                """,
                [first, run_id, _now()],
            ).fetchall()[0][0]
        # computed here, never taken from the file, so it always matches this version
        self.fill_canonical_links()
        return total, int(stored)


def _meta_json(meta: dict[str, Any]) -> str | None:
    if not meta:
        return None
    text = json.dumps(meta, ensure_ascii=False, default=str)
    if len(text) > 65536:
        text = json.dumps({"_truncated": True, "keys": list(meta)[:200]}, ensure_ascii=False)
    return text


def _quote(value: str) -> str:
    return value.replace("'", "''")


def _ident(name: str) -> str:
    if not name.replace("_", "").isalnum():
        raise StoreError(f"bad table name {name!r}")
    return name
