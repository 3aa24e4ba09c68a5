"""WARC web archives: one document per archived HTML page.

The WARC date is when the crawler saw the page, an upper bound on publication, so it is
used only when the page itself states no date, and marked as crawl time.

Archives arrive damaged: a wrong Content-Length, a download cut short, garbage bytes in
the middle, a corrupt gzip member. The framing (where one record ends and the next
begins) is therefore checked here rather than trusted to warcio: a record whose length
disagrees with where the next ``WARC/`` header starts is rejected with its offset, and
reading resumes at the next record header, so one bad record never costs the ones after
it. warcio still parses each record's headers and body, one bounded record at a time.
"""

from __future__ import annotations

import io
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

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

CHUNK = 1 << 20
MAX_HEADER_BYTES = 256 * 1024  # a WARC header block larger than this is not a header
BLOCK_SLACK = 1 << 20  # HTTP headers and transfer framing on top of the page itself
_HEADER_START = re.compile(rb"\nWARC/\d\.\d+\r?\n")  # a record header inside a block
_HEADER_ANYWHERE = re.compile(rb"WARC/\d\.\d+\r?\n")  # after garbage, even mid-line
_GZIP_MAGIC = b"\x1f\x8b\x08"


@dataclass
class _Break:
    """A place where the input could not be read on: the bytes after it are not the
    continuation of the bytes before it (corrupt or truncated gzip data)."""

    reason: str
    final: bool  # nothing can be read after it


def _plain_chunks(fh: BinaryIO, counter: ByteCounter | None) -> Iterator[bytes | _Break]:
    while True:
        try:
            data = fh.read(CHUNK)
        except OSError as exc:
            yield _Break(describe_read_error(exc), final=True)
            return
        if not data:
            return
        if counter is not None:
            counter.value += len(data)
        yield data


def _gzip_chunks(fh: BinaryIO, counter: ByteCounter | None) -> Iterator[bytes | _Break]:
    """Decompress member by member, so that a corrupt member is skipped to the next one
    and a truncated one is reported where it starts (gzip.GzipFile gives up instead)."""
    offset = 0  # file offset of data[0]
    data = b""
    eof = False
    member_start = 0
    fed = False  # the current member has been given input
    decomp = zlib.decompressobj(31)

    def more() -> bytes:
        nonlocal eof
        if eof:
            return b""
        try:
            got = fh.read(CHUNK)
        except OSError:
            got = b""
        if counter is not None:
            counter.value += len(got)
        eof = not got
        return got

    while True:
        if not data:
            data = more()
            if not data:
                if fed:
                    yield _Break(
                        f"gzip member at byte {member_start} ends early (truncated file)",
                        final=True,
                    )
                return
        try:
            out = decomp.decompress(data, CHUNK)
        except zlib.error as exc:
            # Scan for the next member header; whatever lies between is lost, and said.
            bad_at = member_start
            skip_from = max(offset + 1, member_start + 1)
            data = data[skip_from - offset :]
            offset = skip_from
            zeros = True
            while True:
                found = data.find(_GZIP_MAGIC)
                if found >= 0:
                    zeros = zeros and not data[:found].strip(b"\x00")
                    offset += found
                    data = data[found:]
                    break
                keep = data[-2:]
                zeros = zeros and not data[:-2].strip(b"\x00")
                offset += len(data) - len(keep)
                nxt = more()
                if not nxt:
                    zeros = zeros and not keep.strip(b"\x00")
                    offset += len(keep)
                    data = b""
                    break
                data = keep + nxt
            if data or not zeros or fed:
                where = f"up to byte {offset}" if data else "to the end of the file"
                yield _Break(
                    f"corrupt gzip data in the member at byte {bad_at} ({exc}); skipped {where}",
                    final=not data,
                )
            if not data:
                return
            member_start, fed = offset, False
            decomp = zlib.decompressobj(31)
            continue
        fed = True
        if out:
            yield out
        if decomp.eof:
            rest = decomp.unused_data
            offset += len(data) - len(rest)
            data = rest
            member_start, fed = offset, False
            decomp = zlib.decompressobj(31)
        else:
            rest = decomp.unconsumed_tail
            offset += len(data) - len(rest)
            data = rest


class _Stream:
    """Bytes with a read position, pushback and breaks: enough to re-frame records."""

    def __init__(self, chunks: Iterator[bytes | _Break]) -> None:
        self._chunks = chunks
        self._buf = bytearray()
        self._pos = 0
        self.offset = 0  # offset of the next unread byte in the (uncompressed) input
        self.broken: _Break | None = None
        self._done = False

    def _fill(self) -> bool:
        if self.broken is not None or self._done:
            return False
        item = next(self._chunks, None)
        if item is None:
            self._done = True
            return False
        if isinstance(item, _Break):
            self.broken = item
            return False
        if self._pos > CHUNK:
            del self._buf[: self._pos]
            self._pos = 0
        self._buf += item
        return True

    def peek(self, n: int) -> bytes:
        while len(self._buf) - self._pos < n and self._fill():
            pass
        return bytes(self._buf[self._pos : self._pos + n])

    def read(self, n: int) -> bytes:
        while len(self._buf) - self._pos < n and self._fill():
            pass
        out = bytes(self._buf[self._pos : self._pos + n])
        self._pos += len(out)
        self.offset += len(out)
        return out

    def skip(self, n: int) -> int:
        """Drop up to ``n`` bytes without keeping them; returns how many were dropped."""
        dropped = 0
        while dropped < n:
            got = len(self.read(min(CHUNK, n - dropped)))
            if not got:
                break
            dropped += got
        return dropped

    def readline(self, limit: int) -> bytes:
        start = self._pos
        while True:
            end = self._buf.find(b"\n", start, self._pos + limit)
            if end >= 0:
                return self.read(end + 1 - self._pos)
            if len(self._buf) - self._pos >= limit:
                return self.read(limit)
            scanned = len(self._buf) - self._pos  # _fill may move what is unread
            if not self._fill():
                return self.read(limit)
            start = self._pos + scanned

    def unread(self, data: bytes) -> None:
        self._buf[self._pos : self._pos] = data
        self.offset -= len(data)

    def skip_newlines(self) -> bytes:
        """Skip the blank lines between records; returns them, for a pushback."""
        skipped = bytearray()
        while True:
            start = self._pos
            while self._pos < len(self._buf) and self._buf[self._pos] in b"\r\n":
                self._pos += 1
            skipped += self._buf[start : self._pos]
            self.offset += self._pos - start
            if self._pos < len(self._buf) or not self._fill():
                return bytes(skipped)

    def at_end(self) -> bool:
        return not self.peek(1)

    def scan_to_header(self) -> int:
        """Skip to the start of the next line that begins a WARC record; bytes skipped."""
        skipped = 0
        while True:
            found = _HEADER_ANYWHERE.search(self._buf, self._pos)
            if found is not None:
                n = found.start() - self._pos
                self.read(n)
                return skipped + n
            keep = max(len(self._buf) - 16, self._pos)
            skipped += keep - self._pos
            self.read(keep - self._pos)
            if not self._fill():
                return skipped + len(self.read(len(self._buf) - self._pos))

    def take_break(self) -> _Break | None:
        """The break the stream stopped at, if any; reading goes on after it (or ends)."""
        brk, self.broken = self.broken, None
        if brk is not None and brk.final:
            self._done = True
        return brk


def read_warc(path: Path, opts: ReadOptions, counter: ByteCounter | None = None) -> Iterator[Item]:
    origin = str(path)
    try:
        fh = open(path, "rb")  # noqa: SIM115 - closed below
    except OSError as exc:
        yield Reject(origin, "file", f"cannot open: {exc}")
        return
    try:
        try:
            gz = fh.read(2) == b"\x1f\x8b"
            fh.seek(0)
        except OSError as exc:
            yield Reject(origin, "file", describe_read_error(exc))
            return
        chunks = _gzip_chunks(fh, counter) if gz else _plain_chunks(fh, counter)
        stream = _Stream(chunks)
        if stream.peek(64).lstrip(b"\r\n").startswith(b"filedesc://"):
            fh.seek(0)
            yield from _read_arc(fh, origin, opts, counter)
            return
        yield from _read_records(stream, origin, opts, "uncompressed offset" if gz else "offset")
    finally:
        fh.close()


def _read_records(stream: _Stream, origin: str, opts: ReadOptions, where: str) -> Iterator[Item]:
    """Frame records one by one, checking each length against the next header."""
    cap = opts.max_doc_bytes + BLOCK_SLACK
    count = 0
    while True:
        stream.skip_newlines()
        brk = stream.take_break()
        if brk is not None:
            yield Reject(origin, f"after record {count}", brk.reason)
            continue
        if stream.at_end():
            return
        start = stream.offset
        if stream.peek(5) != b"WARC/":
            head = stream.peek(RAW_KEEP_BYTES)
            skipped = stream.scan_to_header()
            yield Reject(
                origin,
                f"{where} {start}",
                f"not a WARC record: {skipped} bytes at {where} {start} skipped "
                f"up to the next record header (after record {count})",
                head[:skipped],
                size=skipped,
            )
            continue
        count += 1
        position = f"record {count}"
        head = _read_header(stream)
        if isinstance(head, str):
            yield Reject(origin, position, f"{head} at {where} {start}")
            if not head.startswith("WARC header cut off"):
                stream.scan_to_header()
            continue
        header, length = head
        if length is None:
            yield Reject(
                origin,
                position,
                f"WARC record at {where} {start} has no valid Content-Length",
                header[:RAW_KEEP_BYTES],
            )
            stream.scan_to_header()
            continue
        block = stream.read(min(length, cap))
        skipped = stream.skip(length - len(block)) if length > cap else 0
        got = len(block) + skipped
        if got < length:
            yield from _short_record(stream, origin, position, where, start, header, block, length)
            continue
        trailer = stream.skip_newlines()
        follows_header = stream.broken is not None or stream.at_end() or stream.peek(5) == b"WARC/"
        inside = _header_inside(block)
        if not follows_header and (len(trailer) < 2 or inside is not None):
            yield Reject(
                origin,
                position,
                f"WARC record at {where} {start}: its Content-Length ({length}) disagrees "
                f"with where the next record starts; resynchronised at the next record header",
                (header + block)[:RAW_KEEP_BYTES],
                size=len(header) + length,
            )
            if inside is not None and not skipped:
                stream.unread(trailer)
                stream.unread(block[inside:])
            else:
                stream.scan_to_header()
            continue
        # A block over the limit is judged on its head alone: a page is refused as too big.
        yield from _record(header, block, origin, position, opts)


def _short_record(
    stream: _Stream,
    origin: str,
    position: str,
    where: str,
    start: int,
    header: bytes,
    block: bytes,
    length: int,
) -> Iterator[Item]:
    """The input ended (or broke) inside a record's block."""
    inside = _header_inside(block)
    raw = (header + block)[:RAW_KEEP_BYTES]
    if inside is not None:
        yield Reject(
            origin,
            position,
            f"WARC record at {where} {start}: its Content-Length ({length}) runs past the "
            f"next record header; resynchronised there",
            raw,
            size=len(header) + inside,
        )
        stream.unread(block[inside:])
        return
    brk = stream.take_break()
    if brk is not None:
        reason = f"WARC record at {where} {start} cut off: {brk.reason}"
    else:
        reason = (
            f"WARC record at {where} {start} cut off: the input ends after "
            f"{len(block)} of its {length} bytes (truncated file)"
        )
    yield Reject(origin, position, reason, raw, size=len(header) + length)


def _header_inside(block: bytes) -> int | None:
    found = _HEADER_START.search(block)
    return found.start() + 1 if found is not None else None


def _read_header(stream: _Stream) -> tuple[bytes, int | None] | str:
    """The header lines of one record and its Content-Length, or why they cannot be read."""
    lines: list[bytes] = []
    size = 0
    length: int | None = None
    while True:
        line = stream.readline(MAX_HEADER_BYTES - size + 1)
        if not line:
            brk = stream.take_break()
            if brk is not None:
                return f"WARC header cut off: {brk.reason}"
            return "WARC header cut off: the input ends inside it (truncated file)"
        lines.append(line)
        size += len(line)
        if size > MAX_HEADER_BYTES:
            return f"WARC header over {MAX_HEADER_BYTES} bytes"
        if not line.strip():
            break
        name, sep, value = line.partition(b":")
        if sep and name.strip().lower() == b"content-length":
            try:
                length = int(value.strip())
            except ValueError:
                length = None
            if length is not None and length < 0:
                length = None
    return b"".join(lines), length


def _read_arc(
    fh: BinaryIO, origin: str, opts: ReadOptions, counter: ByteCounter | None
) -> Iterator[Item]:
    """Old ARC files: warcio frames them; a framing error ends the file with a reject."""
    from warcio.archiveiterator import ArchiveIterator

    count = 0
    try:
        for record in ArchiveIterator(_Counting(fh, counter)):
            count += 1
            yield from _page(record, origin, f"record {count}", opts)
    except Exception as exc:  # warcio raises many kinds on hostile bytes
        reason = describe_read_error(exc) if isinstance(exc, READ_ERRORS) else f"invalid ARC: {exc}"
        yield Reject(origin, f"record {count + 1}", reason + f" (after {count} records)")


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


def _record(header: bytes, block: bytes, origin: str, position: str, opts) -> Iterator[Item]:
    """Parse one framed record with warcio and turn an HTML page into a document."""
    from warcio.recordloader import ArcWarcRecordLoader

    loader = ArcWarcRecordLoader()
    try:
        record = loader.parse_record_stream(
            io.BytesIO(header + block), known_format="warc", no_record_parse=True
        )
        url = record.rec_headers.get_header("WARC-Target-URI") or None
        http = url is None or url.startswith(("http:", "https:"))
        if record.rec_type == "response" and record.length and http:
            record.http_headers = loader.http_parser.parse(record.raw_stream)
    except Exception as exc:  # warcio raises many kinds on hostile bytes
        if record_type(header) not in (b"response", b"resource"):
            return
        yield Reject(
            origin,
            position,
            f"unreadable WARC record headers: {type(exc).__name__}: {exc}",
            (header + block)[:RAW_KEEP_BYTES],
        )
        return
    yield from _page(record, origin, position, opts)


def record_type(header: bytes) -> bytes:
    for line in header.split(b"\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"warc-type":
            return value.strip().lower()
    return b""


def _page(record, origin: str, position: str, opts: ReadOptions) -> Iterator[Item]:
    if record.rec_type not in ("response", "resource"):
        return
    url = record.rec_headers.get_header("WARC-Target-URI") or None
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
    try:
        body = record.content_stream().read(opts.max_doc_bytes + 1)
    except Exception as exc:  # chunked or compressed bodies can be broken in many ways
        yield Reject(
            origin,
            position,
            f"unreadable page body ({type(exc).__name__}: {exc}) at {url}",
        )
        return
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
    if url is None:
        doc.warnings.append("warc: record has no WARC-Target-URI; stored without a URL")
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
