"""From one flat record (a JSON object, a CSV row) to a Document.

JSON Lines and CSV readers share this so that a field means the same thing in both:
the user's ``--map`` wins, then well-known column names (passim's ``series``, Twitter's
``tweet_text``...), and every other field is kept as metadata so nothing is lost.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, tzinfo
from typing import Any

from echoscope.ingest.dates import DateError, parse_date
from echoscope.ingest.language import normalize_language
from echoscope.model import Document, TimePrecision, TimeSource

DOC_FIELDS = (
    "id",
    "source",
    "text",
    "published_at",
    "url",
    "title",
    "language",
    "parent_id",
    "links",
)

# Well-known names for each document field, tried in order when --map does not say.
ALIASES: dict[str, tuple[str, ...]] = {
    "id": ("id", "doc_id", "docid", "tweetid", "tweet_id", "guid", "uid"),
    "source": (
        "source",
        "series",
        "author",
        "user_screen_name",
        "screen_name",
        "username",
        "outlet",
        "publisher",
        "account",
        "sitename",
        "site",
        "domain",
        "userid",
    ),
    "text": (
        "text",
        "content",
        "body",
        "tweet_text",
        "full_text",
        "message",
        "article",
        "post_text",
        "description",
    ),
    "published_at": (
        "published_at",
        "date",
        "publish_date",
        "tweet_time",
        "created_at",
        "published",
        "pubdate",
        "timestamp",
        "time",
        "datetime",
    ),
    "url": ("url", "link", "permalink", "uri"),
    "title": ("title", "headline", "heading"),
    "language": ("language", "lang", "tweet_language", "language_code"),
    "parent_id": (
        "parent_id",
        "parent",
        "retweet_tweetid",
        "in_reply_to_tweetid",
        "quoted_tweet_tweetid",
        "reply_to",
    ),
    "links": ("links", "urls", "outlinks"),
}

URL_RE = re.compile(r"https?://[^\s<>\"'\])}]+", re.IGNORECASE)
_TRAILING = ".,;:!?)]}'\"…"


class MappingError(ValueError):
    """A --map option that cannot be applied."""


def parse_mapping(spec: str | list[str] | None) -> dict[str, str]:
    """``text=content,source=author`` -> {"text": "content", "source": "author"}."""
    if not spec:
        return {}
    items: list[str] = []
    for part in [spec] if isinstance(spec, str) else spec:
        items.extend(p for p in part.split(",") if p.strip())
    mapping: dict[str, str] = {}
    for item in items:
        key, sep, column = item.partition("=")
        key, column = key.strip(), column.strip()
        if not sep or not key or not column:
            raise MappingError(f"--map entries look like field=column, not {item!r}")
        if key == "date":
            key = "published_at"
        if key == "series":
            key = "source"
        if key not in DOC_FIELDS:
            raise MappingError(
                f"--map names unknown field {key!r}; fields are: {', '.join(DOC_FIELDS)}"
            )
        mapping[key] = column
    return mapping


@dataclass
class FieldResolver:
    """Decides, once per input, which column feeds which document field."""

    columns: list[str]
    mapping: dict[str, str] = field(default_factory=dict)
    resolved: dict[str, str] = field(init=False)

    def __post_init__(self) -> None:
        lower = {c.lower().strip(): c for c in self.columns}
        self.resolved = {}
        for key, column in self.mapping.items():
            if column not in self.columns and column.lower() not in lower:
                raise MappingError(
                    f"--map {key}={column}: no column {column!r}; columns are: "
                    + ", ".join(self.columns[:40])
                )
            self.resolved[key] = column if column in self.columns else lower[column.lower()]
        used = set(self.resolved.values())
        for key, names in ALIASES.items():
            if key in self.resolved:
                continue
            for name in names:
                col = lower.get(name)
                if col is not None and col not in used:
                    self.resolved[key] = col
                    used.add(col)
                    break

    @property
    def has_text(self) -> bool:
        return "text" in self.resolved


def extract_urls(text: str, limit: int = 500) -> list[str]:
    """http(s) URLs in running text; a URL cut off by the platform ("https://t.co/sK2F…",
    "https://t…") is not a link to anything and is skipped."""
    out: list[str] = []
    seen: set[str] = set()
    for m in URL_RE.finditer(text):
        if text[m.end() : m.end() + 1] == "…" or m.group(0).endswith("…"):
            continue
        url = m.group(0).rstrip(_TRAILING)
        host = url.split("://", 1)[-1].split("/", 1)[0]
        if "." not in host or host.endswith("."):
            continue
        if url not in seen:
            seen.add(url)
            out.append(url)
            if len(out) >= limit:
                break
    return out


def _as_links(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        return [str(v) for v in value if isinstance(v, str) and v.strip()][:500]
    if isinstance(value, str):
        value = value.strip()
        if value.startswith("["):
            try:
                parsed = json.loads(value)
                if isinstance(parsed, list):
                    return [str(v) for v in parsed if isinstance(v, str)][:500]
            except ValueError:
                pass
        return extract_urls(value)
    return []


def _scalar(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = value.strip()
        return value or None
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        return str(value)
    return json.dumps(value, ensure_ascii=False)[:2000]


def record_to_document(
    record: dict[str, Any],
    resolver: FieldResolver,
    *,
    default_tz: tzinfo = UTC,
    default_source: str | None = None,
) -> Document:
    """Map one record to a Document. Never raises on bad values: they become warnings."""
    r = resolver.resolved
    text_value = record.get(r["text"]) if "text" in r else None
    text = (
        text_value
        if isinstance(text_value, str)
        else ("" if text_value is None else str(text_value))
    )
    doc = Document(text=text)
    doc.id = _scalar(record.get(r["id"])) if "id" in r else None
    doc.source = (_scalar(record.get(r["source"])) if "source" in r else None) or default_source
    doc.url = _scalar(record.get(r["url"])) if "url" in r else None
    doc.title = _scalar(record.get(r["title"])) if "title" in r else None
    doc.language = (
        normalize_language(_scalar(record.get(r["language"]))) if "language" in r else None
    )
    doc.parent_id = _scalar(record.get(r["parent_id"])) if "parent_id" in r else None
    if "links" in r:
        doc.links = _as_links(record.get(r["links"]))
    if "published_at" in r:
        raw_date = record.get(r["published_at"])
        if raw_date not in (None, ""):
            try:
                doc.published_at, doc.time_precision = parse_date(raw_date, default_tz)
                doc.time_source = TimeSource.METADATA
            except DateError as exc:
                doc.warnings.append(f"date unreadable: {exc}")
                doc.metadata["date_raw"] = str(raw_date)[:200]
                doc.time_precision = TimePrecision.UNKNOWN
    used = set(r.values())
    for key, value in record.items():
        if key in used or value is None or value == "":
            continue
        doc.metadata[str(key)[:200]] = value
    return doc
