"""Running an ingest: readers -> checked documents -> batches in the store.

Every record read is accounted for: stored, skipped as a duplicate (same id already in
the store or earlier in the input) or rejected with its reason and raw bytes. Warnings
(an unreadable date, an empty text) never drop a record.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from echoscope.ingest.base import ByteCounter, ReadOptions
from echoscope.ingest.detect import SourceError, is_url, read_source
from echoscope.ingest.encoding import clean_text
from echoscope.ingest.language import detect_language
from echoscope.ingest.records import extract_urls
from echoscope.model import Document, Reject
from echoscope.store import Store, StoreError

BATCH_DOCS = 20_000
BATCH_CHARS = 64 * 1024 * 1024
MAX_TITLE = 1000
MAX_FIELD = 4096

ProgressFn = Callable[[int, int], None]  # (input bytes consumed, records read)


@dataclass
class IngestSummary:
    run_id: int
    sources: list[str]
    read: int = 0
    stored: int = 0
    duplicates: int = 0
    rejected: int = 0
    warnings: Counter = field(default_factory=Counter)
    reject_reasons: Counter = field(default_factory=Counter)
    undated: int = 0  # documents read with no publication time: trees cannot order them
    seconds: float = 0.0
    status: str = "running"
    message: str | None = None

    @property
    def warning_count(self) -> int:
        return sum(self.warnings.values())

    def counts(self) -> dict[str, int]:
        return {
            "read": self.read,
            "stored": self.stored,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "warnings": self.warning_count,
        }

    def as_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "status": self.status,
            "sources": self.sources,
            **self.counts(),
            "undated": self.undated,
            "warning_kinds": dict(self.warnings.most_common()),
            "reject_reasons": dict(self.reject_reasons.most_common(20)),
            "seconds": round(self.seconds, 3),
            "docs_per_s": round(self.read / self.seconds, 1) if self.seconds else None,
            "message": self.message,
        }


class _Finisher:
    """Checks and completes each document before it is stored."""

    def __init__(self, opts: ReadOptions) -> None:
        self.opts = opts
        self._seen_keys: set[int] = set()
        self._repeats: dict[int, int] = {}

    def __call__(self, doc: Document) -> Document | Reject:
        opts = self.opts
        text = clean_text(doc.text) if doc.text else ""
        try:
            size = len(text.encode("utf-8"))
        except UnicodeEncodeError:  # lone surrogates from a broken JSON escape
            text = text.encode("utf-8", "replace").decode("utf-8")
            size = len(text.encode("utf-8"))
        if size > opts.max_doc_bytes:
            origin, _, position = (doc.origin or "?").rpartition(":")
            if not position.startswith(("line ", "entry ", "record ", "item ")):
                origin, position = doc.origin or "?", "document"
            return Reject(
                origin,
                position,
                f"document too large: {size / 2**20:.1f} MB over the "
                f"{opts.max_doc_bytes / 2**20:.1f} MB limit (raise it with --max-doc-mb)",
                text.encode("utf-8")[: 1024 * 1024],
                size=size,
            )
        doc.text = text
        if not text:
            doc.warnings.append("empty text")
        doc.title = _bound(clean_text(doc.title) if doc.title else None, MAX_TITLE)
        doc.source = _bound(doc.source.strip() if doc.source else None, 500)
        doc.url = _bound(doc.url.strip() if doc.url else None, MAX_FIELD)
        doc.parent_id = _bound(doc.parent_id, MAX_FIELD)
        norm = " ".join(text.split())
        doc.content_hash = hashlib.blake2b(norm.encode("utf-8"), digest_size=16).hexdigest()
        if doc.id is None:
            doc.id = self._derive_id(doc)
        else:
            doc.id = _bound(str(doc.id).strip(), MAX_FIELD) or self._derive_id(doc)
        if doc.language is None and opts.detect_language and text:
            doc.language = detect_language(text)
        if not doc.links and "://" in text:  # cheap test before the URL pattern
            doc.links = extract_urls(text)
        doc.links = [link[:MAX_FIELD] for link in doc.links[:1000]]
        if doc.warnings:
            doc.metadata.setdefault("ingest_warnings", list(doc.warnings))
        return doc

    def _derive_id(self, doc: Document) -> str:
        """A stable id from the content, so the same record ingested again is recognised;
        genuine repeats inside one input (the same post twice) get ``~2``, ``~3``..."""
        key = "\x1f".join(
            [
                doc.source or "",
                doc.published_at.isoformat() if doc.published_at else "",
                doc.url or "",
                doc.title or "",
                doc.content_hash or "",
            ]
        )
        digest = hashlib.blake2b(key.encode("utf-8"), digest_size=10).digest()
        as_int = int.from_bytes(digest[:8], "little")
        base = "h" + digest.hex()
        if as_int not in self._seen_keys:
            self._seen_keys.add(as_int)
            return base
        n = self._repeats.get(as_int, 1) + 1
        self._repeats[as_int] = n
        return f"{base}~{n}"


def reason_key(reason: str) -> str:
    """Group rejects that differ only in numbers or quoted values."""
    key = re.sub(r"'[^']*'|\"[^\"]*\"", "'…'", reason)
    key = re.sub(r"\d+(\.\d+)?", "N", key)
    return key[:120]


def _bound(value: str | None, limit: int) -> str | None:
    if value is None:
        return None
    return value[:limit] or None


def ingest(
    store: Store,
    sources: list[str],
    opts: ReadOptions | None = None,
    progress: ProgressFn | None = None,
    batch_docs: int = BATCH_DOCS,
) -> IngestSummary:
    """Read every source into ``store``. Raises SourceError before writing anything if a
    source does not exist; every other problem becomes a reject."""
    opts = opts or ReadOptions()
    for source in sources:
        if not is_url(source) and not Path(source).expanduser().exists():
            raise SourceError(f"no such file or folder: {source}")
    options = {
        "format": opts.format,
        "source": opts.source,
        "map": opts.mapping,
        "path_template": opts.path_template.template if opts.path_template else None,
        "tz": str(opts.tz),
        "max_doc_bytes": opts.max_doc_bytes,
        "allow_private": opts.fetch.allow_private,
        "path_date_offset_days": opts.path_date_offset_days,
    }
    run_id = store.start_run([str(s) for s in sources], options)
    summary = IngestSummary(run_id=run_id, sources=[str(s) for s in sources])
    started = time.perf_counter()
    counter = ByteCounter()
    finisher = _Finisher(opts)
    docs: list[Document] = []
    rejects: list[Reject] = []
    chars = 0
    last_progress = 0.0

    def flush() -> None:
        nonlocal docs, rejects, chars
        if not docs and not rejects:
            return
        stored = store.write_batch(run_id, docs, rejects, summary.counts())
        summary.stored += stored
        summary.duplicates += len(docs) - stored
        docs, rejects, chars = [], [], 0

    try:
        for source in sources:
            if str(source).lower().endswith(".parquet"):
                flush()
                read, stored = store.import_parquet(source, run_id)
                summary.read += read
                summary.stored += stored
                summary.duplicates += read - stored
                continue
            for item in read_source(str(source), opts, counter):
                summary.read += 1
                if isinstance(item, Document):
                    item = finisher(item)
                if isinstance(item, Reject):
                    summary.rejected += 1
                    summary.reject_reasons[reason_key(item.reason)] += 1
                    rejects.append(item)
                else:
                    for warning in item.warnings:
                        summary.warnings[warning.split(":")[0][:80]] += (
                            1  # warnings name a kind first
                        )
                    summary.undated += item.published_at is None
                    docs.append(item)
                    chars += len(item.text)
                if len(docs) >= batch_docs or chars >= BATCH_CHARS or len(rejects) >= 1000:
                    flush()
                if progress is not None:
                    now = time.perf_counter()
                    if now - last_progress > 0.1:
                        last_progress = now
                        progress(counter.value, summary.read)
        flush()
        if progress is not None:
            progress(counter.value, summary.read)
        summary.status = (
            "done" if summary.read > summary.rejected or summary.read == 0 else "failed"
        )
        if summary.read == 0:
            summary.message = "no records found in the input"
        elif summary.read == summary.rejected:
            summary.message = "nothing could be read: every record was rejected"
    except KeyboardInterrupt:
        summary.status = "interrupted"
        summary.message = (
            "interrupted; run the same command again to complete (stored ids are skipped)"
        )
        raise
    except (SourceError, StoreError) as exc:
        summary.status = "failed"
        summary.message = str(exc)
        raise
    finally:
        summary.seconds = time.perf_counter() - started
        try:
            store.finish_run(run_id, summary.status, summary.counts(), summary.message)
        except Exception:
            pass
    return summary
