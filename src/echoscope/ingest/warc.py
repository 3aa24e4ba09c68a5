"""WARC web archives: one document per archived HTML page.

The WARC date is when the crawler saw the page, an upper bound on publication, so it is
used only when the page itself states no date, and marked as crawl time.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from echoscope.ingest.base import (
    RAW_KEEP_BYTES,
    READ_ERRORS,
    ByteCounter,
    Item,
    ReadOptions,
    describe_read_error,
    host_of,
)
from echoscope.ingest.dates import DateError, parse_date
from echoscope.ingest.encoding import DecodeError, decode_bytes
from echoscope.ingest.html import extract_html
from echoscope.model import Document, Reject, TimeSource


class _Counting:
    def __init__(self, fh, counter: ByteCounter | None) -> None:
        self._fh = fh
        self._counter = counter

    def read(self, n: int = -1) -> bytes:
        data = self._fh.read(n)
        if self._counter is not None:
            self._counter.value += len(data)
        return data

    def readline(self, n: int = -1) -> bytes:
        data = self._fh.readline(n)
        if self._counter is not None:
            self._counter.value += len(data)
        return data


def read_warc(path: Path, opts: ReadOptions, counter: ByteCounter | None = None) -> Iterator[Item]:
    from warcio.archiveiterator import ArchiveIterator
    from warcio.exceptions import ArchiveLoadFailed

    origin = str(path)
    try:
        fh = open(path, "rb")  # noqa: SIM115 - closed below
    except OSError as exc:
        yield Reject(origin, "file", f"cannot open: {exc}")
        return
    count = 0
    try:
        iterator = ArchiveIterator(_Counting(fh, counter))
        while True:
            try:
                record = next(iterator)
            except StopIteration:
                break
            count += 1
            position = f"record {count}"
            try:
                yield from _record(record, origin, position, opts)
            except READ_ERRORS as exc:
                yield Reject(origin, position, describe_read_error(exc))
                return
    except (ArchiveLoadFailed, *READ_ERRORS, ValueError) as exc:
        reason = (
            describe_read_error(exc) if isinstance(exc, READ_ERRORS) else f"invalid WARC: {exc}"
        )
        yield Reject(origin, f"record {count + 1}", reason + f" (after {count} records)")
    finally:
        fh.close()


def _record(record, origin: str, position: str, opts: ReadOptions) -> Iterator[Item]:
    if record.rec_type not in ("response", "resource"):
        return
    url = record.rec_headers.get_header("WARC-Target-URI")
    if record.rec_type == "response":
        if record.http_headers is None:
            return
        status = record.http_headers.get_statuscode()
        if not status or not status.startswith("2"):
            return
        ctype = record.http_headers.get_header("Content-Type") or ""
    else:
        ctype = record.rec_headers.get_header("Content-Type") or ""
    if "html" not in ctype.lower():
        return
    stream = record.content_stream()
    body = stream.read(opts.max_doc_bytes + 1)
    if len(body) > opts.max_doc_bytes:
        yield Reject(
            origin,
            position,
            f"page over the {opts.max_doc_bytes} byte document limit: {url}",
            body[:RAW_KEEP_BYTES],
        )
        return
    charset = None
    for part in ctype.split(";")[1:]:
        key, _, value = part.strip().partition("=")
        if key.lower() == "charset":
            charset = value.strip("\"' ") or None
    try:
        html, _ = decode_bytes(body, declared=charset)
    except DecodeError as exc:
        yield Reject(origin, position, f"{exc} at {url}", body[:RAW_KEEP_BYTES])
        return
    page = extract_html(html, url=url, tz=opts.tz)
    doc = Document(
        text=page.text, url=url, title=page.title, links=page.links, language=page.language
    )
    doc.id = record.rec_headers.get_header("WARC-Record-ID") or None
    doc.origin = f"{origin}:{position}"
    doc.source = opts.source or page.sitename or host_of(url)
    warc_date = record.rec_headers.get_header("WARC-Date")
    if warc_date:
        doc.metadata["crawled_at"] = warc_date
    if page.published_at is not None:
        doc.published_at, doc.time_precision = page.published_at, page.precision
        doc.time_source = TimeSource.METADATA
    elif warc_date:
        try:
            doc.published_at, doc.time_precision = parse_date(warc_date)
            doc.time_source = TimeSource.CRAWL
        except DateError as exc:
            doc.warnings.append(f"date unreadable: {exc}")
    if page.author:
        doc.metadata["author"] = page.author
    yield doc
