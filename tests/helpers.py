"""Shared test helpers (plain functions; fixtures live in conftest.py)."""

from __future__ import annotations

from echoscope.model import Document, TimePrecision, TimeSource
from echoscope.store import Store


def store_docs(store: Store, docs) -> int:
    """Store documents the way a reader would hand them over: (id, source, published_at,
    text), or (id, source, published_at, precision, text). A document without a time has
    an unknown one; with a time and no precision, minute precision."""
    run = store.start_run(["tests"], {})
    batch = []
    for doc in docs:
        doc_id, source, published, *rest = doc
        precision = rest[0] if len(rest) == 2 else None
        batch.append(
            Document(
                text=rest[-1],
                id=doc_id,
                source=source,
                published_at=published,
                time_source=TimeSource.METADATA if published else TimeSource.UNKNOWN,
                time_precision=precision
                or (TimePrecision.MINUTE if published else TimePrecision.UNKNOWN),
                content_hash=f"h-{doc_id}",
            )
        )
    stored = store.write_batch(run, batch, [])
    store.finish_run(run, "done", {"read": len(docs), "stored": stored})
    return stored
