"""The records that flow between stages: documents, rejects, and how a date was known.

Readers produce these; the store persists them. Every later stage reads documents by id
and never needs to know which format they came from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class TimeSource(StrEnum):
    """Where a document's published_at came from, best evidence first."""

    HEADER = "header"  # a filing line or HTTP header inside the document itself
    METADATA = "metadata"  # a field of the record (CSV/JSON column, HTML meta tag)
    PATH = "path"  # pulled out of the file path by a path template
    FEED = "feed"  # the entry date of an RSS/Atom feed
    CRAWL = "crawl"  # when a crawler fetched it: an upper bound, not a publication time
    UNKNOWN = "unknown"


class TimePrecision(StrEnum):
    SECOND = "second"
    MINUTE = "minute"
    DAY = "day"
    UNKNOWN = "unknown"


@dataclass(slots=True)
class Document:
    """One article, page, feed entry or post.

    ``published_at`` is naive UTC. ``origin`` says where in the input the record was read
    (file and position) so that any result can be traced back to the raw input.
    """

    text: str
    id: str | None = None
    source: str | None = None
    url: str | None = None
    published_at: datetime | None = None
    time_source: TimeSource = TimeSource.UNKNOWN
    time_precision: TimePrecision = TimePrecision.UNKNOWN
    title: str | None = None
    language: str | None = None
    links: list[str] = field(default_factory=list)
    parent_id: str | None = None
    content_hash: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    origin: str | None = None
    warnings: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Reject:
    """Input that could not be turned into a document, kept with its raw bytes."""

    origin: str
    position: str
    reason: str
    raw: bytes = b""
    size: int | None = None  # bytes of the whole input when ``raw`` holds only its head
