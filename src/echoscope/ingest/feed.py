"""RSS and Atom feeds, from a file, a URL, or a text file listing feed URLs.

Feeds are how most outlets announce stories; the entry date is the outlet's own claim of
publication time. URLs go through the guarded fetcher and a page that is not a feed is
read as an HTML article.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from echoscope.ingest.base import RAW_KEEP_BYTES, ByteCounter, Item, ReadOptions, host_of
from echoscope.ingest.dates import check_plausible
from echoscope.ingest.encoding import DecodeError, decode_bytes
from echoscope.ingest.fetch import FetchError, fetch
from echoscope.ingest.files import read_file_bytes
from echoscope.ingest.html import extract_html, outbound_links, text_of_fragment
from echoscope.ingest.language import normalize_language
from echoscope.model import Document, Reject, TimePrecision, TimeSource


def looks_like_feed(head: str) -> bool:
    sample = head[:2048].lower()
    return "<rss" in sample or "<feed" in sample or "<rdf:rdf" in sample


def read_feed_file(
    path: Path, opts: ReadOptions, counter: ByteCounter | None = None
) -> Iterator[Item]:
    data = read_file_bytes(path, opts, counter)
    if isinstance(data, Reject):
        yield data
        return
    yield from parse_feed(data, str(path), opts)


def parse_feed(
    data: bytes, origin: str, opts: ReadOptions, feed_url: str | None = None
) -> Iterator[Item]:
    import feedparser

    parsed = feedparser.parse(data, sanitize_html=True, resolve_relative_uris=False)
    if not parsed.entries:
        reason = "not a feed, or a feed with no entries"
        if parsed.get("bozo"):
            reason += f" ({parsed.get('bozo_exception')})"
        yield Reject(origin, "file", reason, data[:RAW_KEEP_BYTES])
        return
    feed_title = (parsed.feed.get("title") or "").strip() or None
    feed_link = parsed.feed.get("link") or feed_url
    source = opts.source or feed_title or host_of(feed_link)
    language = normalize_language(parsed.feed.get("language"))
    for i, entry in enumerate(parsed.entries):
        position = f"entry {i + 1}"
        html = ""
        if entry.get("content"):
            html = "\n".join(c.get("value", "") for c in entry.content if c.get("value"))
        html = html or entry.get("summary") or ""
        text = text_of_fragment(html)
        doc = Document(text=text, origin=f"{origin}:{position}", source=source, language=language)
        doc.url = entry.get("link")
        doc.id = entry.get("id") or entry.get("guid") or doc.url
        doc.title = (entry.get("title") or "").strip() or None
        stamp = entry.get("published_parsed") or entry.get("updated_parsed")
        if stamp:
            try:
                when = datetime.fromtimestamp(calendar.timegm(stamp), UTC).replace(tzinfo=None)
                doc.published_at = check_plausible(when)
                doc.time_source = TimeSource.FEED
                doc.time_precision = TimePrecision.SECOND
            except (OverflowError, ValueError, OSError) as exc:
                doc.warnings.append(f"date unreadable: feed entry date: {exc}")
                doc.metadata["date_raw"] = str(entry.get("published") or entry.get("updated"))[:200]
        elif entry.get("published") or entry.get("updated"):
            doc.warnings.append(
                f"date unreadable: {entry.get('published') or entry.get('updated')!r}"
            )
        if "<" in html:
            from echoscope.ingest.html import _tree

            doc.links = outbound_links(_tree(f"<div>{html}</div>"), doc.url)
        if entry.get("author"):
            doc.metadata["author"] = entry.get("author")
        tags = [t.get("term") for t in entry.get("tags", []) if t.get("term")]
        if tags:
            doc.metadata["tags"] = tags
        doc.metadata["feed"] = feed_url or origin
        if not doc.text and not doc.title:
            yield Reject(
                origin,
                position,
                "feed entry has neither text nor title",
                str(entry)[:RAW_KEEP_BYTES].encode(),
            )
            continue
        yield doc


def read_url(url: str, opts: ReadOptions) -> Iterator[Item]:
    """Fetch one URL and read it as a feed or as an HTML article."""
    try:
        result = fetch(url, opts.fetch)
    except FetchError as exc:
        yield Reject(url, "url", str(exc))
        return
    ctype = result.content_type.lower()
    try:
        text, _ = decode_bytes(result.body, declared=result.charset)
    except DecodeError as exc:
        yield Reject(
            url,
            "url",
            f"{exc} ({result.content_type or 'no content type'})",
            result.body[:RAW_KEEP_BYTES],
        )
        return
    if any(k in ctype for k in ("rss", "atom", "xml")) or looks_like_feed(text):
        yield from parse_feed(result.body, url, opts, feed_url=result.url)
        return
    if "html" not in ctype and "<html" not in text[:4096].lower():
        yield Reject(
            url,
            "url",
            f"unsupported content type {result.content_type!r}",
            result.body[:RAW_KEEP_BYTES],
        )
        return
    page = extract_html(text, url=result.url, tz=opts.tz)
    if not page.text.strip():
        yield Reject(url, "url", "no main text found in the page", result.body[:RAW_KEEP_BYTES])
        return
    doc = Document(
        text=page.text, url=result.url, title=page.title, links=page.links, language=page.language
    )
    doc.id = page.canonical_url or result.url
    doc.origin = url
    doc.source = opts.source or page.sitename or host_of(result.url)
    if page.published_at is not None:
        doc.published_at, doc.time_precision = page.published_at, page.precision
        doc.time_source = TimeSource.METADATA
    else:
        doc.published_at = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
        doc.time_source = TimeSource.CRAWL
        doc.time_precision = TimePrecision.SECOND
    doc.metadata["fetched_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    if result.redirects:
        doc.metadata["redirects"] = result.redirects
    yield doc


def is_url_list(text: str) -> bool:
    lines = [
        ln.strip() for ln in text.splitlines() if ln.strip() and not ln.strip().startswith("#")
    ]
    return bool(lines) and all(_is_url(ln) for ln in lines)


def _is_url(value: str) -> bool:
    if " " in value:
        return False
    parts = urlsplit(value)
    return parts.scheme in ("http", "https", "ftp", "file") and bool(parts.netloc or parts.path)


def read_url_list(
    path: Path, opts: ReadOptions, counter: ByteCounter | None = None
) -> Iterator[Item]:
    data = read_file_bytes(path, opts, counter)
    if isinstance(data, Reject):
        yield data
        return
    try:
        text, _ = decode_bytes(data)
    except DecodeError as exc:
        yield Reject(str(path), "file", str(exc), data[:RAW_KEEP_BYTES])
        return
    for lineno, line in enumerate(text.splitlines(), 1):
        url = line.strip()
        if not url or url.startswith("#"):
            continue
        for item in read_url(url, opts):
            if isinstance(item, Reject):
                item.position = f"{path}:line {lineno}"
            yield item
