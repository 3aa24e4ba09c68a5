"""CSV and TSV files, plain or gzip, read as a stream.

Exports of millions of posts arrive as one compressed CSV; reading it row by row keeps
memory flat whatever its size. Columns are mapped with ``--map`` or recognised by name,
and known social-media layouts are recognised from their header.

Rows are cut from the bytes here rather than by a text wrapper, so that damage stays where
it is: each physical line (LF, CRLF or old-Mac CR) is bounded in size and decoded on its
own (a Latin-1 row in a UTF-8 export is read as Latin-1, not as U+FFFD), NUL bytes cost a
warning rather than the file, and a stray quote that swallows the lines after it is caught
once those lines look like rows, which are then read again as rows.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import sys
from collections import deque
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
    open_binary,
)
from echoscope.ingest.encoding import DecodeError, binary_kind, decode_bytes, utf16_without_bom
from echoscope.ingest.records import FieldResolver, MappingError, record_to_document
from echoscope.ingest.social import detect_layout
from echoscope.model import Document, Reject

MAX_CONSECUTIVE_ERRORS = 1000
CHUNK = 1 << 16
ROW_SLACK = 65536  # a row holds its text plus the other columns and CSV quoting
STRAY_LINES = 20  # a quoted field this many lines long, nearly all of them row-shaped,
STRAY_SHARE = 0.9  # is a stray quote rather than a long text
WARN_ROWLIKE = 3  # a shorter field with this many row-shaped lines gets a warning
MAX_EXPANSION = 100  # gzip expanding more than this many times its size...
EXPANSION_FLOOR = 1 << 30  # ...and past this many bytes is a decompression bomb
MAX_GUESSES = 32  # encoding detections per file for rows that are not UTF-8


def _sniff_encoding(head: bytes) -> str:
    dec = codecs.getincrementaldecoder("utf-8")()
    try:
        dec.decode(head, final=False)
        return "utf-8-sig" if head.startswith(b"\xef\xbb\xbf") else "utf-8"
    except UnicodeDecodeError:
        return decode_bytes(head)[1]


def _wide_encoding(head: bytes) -> str | None:
    """UTF-32 or UTF-16 (with a BOM, or BOM-less and mostly ASCII), which are read
    through a transcoder: their line ends are not single bytes."""
    if head.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        return "utf-32"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    return utf16_without_bom(head)


def _sniff_delimiter(path: Path, header: str) -> str:
    name = path.name.lower().removesuffix(".gz")
    if name.endswith((".tsv", ".tab")) and "\t" in header:
        return "\t"
    counts = {d: header.count(d) for d in (",", "\t", ";", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def read_delimited(
    path: Path, opts: ReadOptions, counter: ByteCounter | None = None
) -> Iterator[Item]:
    origin = str(path)
    try:
        stream = open_binary(path, counter)
    except OSError as exc:
        yield Reject(origin, "file", f"cannot open: {exc}")
        return
    with stream:
        try:
            head = stream.peek(65536)[:65536] if hasattr(stream, "peek") else b""
        except READ_ERRORS as exc:
            yield Reject(origin, "file", describe_read_error(exc))
            return
        wide = _wide_encoding(head)
        source: BinaryIO = stream
        if wide:
            source = io.BufferedReader(_Transcoder(stream, wide), CHUNK)  # type: ignore[assignment]
            encoding = "utf-8"
        else:
            kind = binary_kind(head, stray_nuls=True)
            if kind:
                yield Reject(origin, "file", f"not a CSV file: {kind}", head[:RAW_KEEP_BYTES])
                return
            try:
                encoding = _sniff_encoding(head.replace(b"\x00", b""))
            except DecodeError as exc:
                yield Reject(origin, "file", str(exc), head[:RAW_KEEP_BYTES])
                return
        expand_cap = None
        packed = 0
        if isinstance(stream, gzip.GzipFile):
            try:
                packed = path.stat().st_size
            except OSError:
                pass
            expand_cap = max(EXPANSION_FLOOR, packed * MAX_EXPANSION)
        limit = opts.max_doc_bytes * 2 + ROW_SLACK
        lines = _LineSource(source, limit, expand_cap, packed)
        decoder = _Decoder(encoding, wide)
        yield from _read_rows(lines, decoder, path, origin, opts)


class _Transcoder(io.RawIOBase):
    """A UTF-16/32 stream as UTF-8 bytes, decoded chunk by chunk (bad units become U+FFFD)."""

    def __init__(self, raw: BinaryIO, encoding: str) -> None:
        self._raw = raw
        self._decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
        self._out = b""
        self._done = False

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:  # type: ignore[override]
        while not self._out and not self._done:
            chunk = self._raw.read(CHUNK)
            text = self._decoder.decode(chunk, final=not chunk)
            self._done = not chunk
            self._out = text.encode("utf-8", errors="replace")
        n = min(len(b), len(self._out))
        b[:n] = self._out[:n]
        self._out = self._out[n:]
        return n


@dataclass(slots=True)
class _Line:
    number: int
    data: bytes  # the line with its line end; only the head when ``cut``
    size: int  # bytes of the whole line
    cut: bool = False


class _Bomb(Exception):
    """A compressed file that expands past any plausible export."""


class _LineSource:
    """Physical lines, LF, CRLF or CR-ended, of at most ``limit`` bytes each: a longer line
    comes back cut to its head (with its full size) and reading goes on after it."""

    def __init__(self, stream: BinaryIO, limit: int, expand_cap: int | None, packed: int) -> None:
        self._read = getattr(stream, "read1", stream.read)
        self.limit = limit
        self._cap = expand_cap
        self._packed = packed
        self._buf = b""
        self._pos = 0
        self._lf = self._cr = -1  # next LF / CR at or after _pos; len(_buf) when none
        self._eof = False
        self.expanded = 0
        self.number = 0  # lines handed out so far
        self.partial = b""  # head of the line being read when reading failed
        self.pending: deque[_Line] = deque()  # lines to read again

    def push_back(self, lines: list[_Line]) -> None:
        self.pending.extendleft(reversed(lines))

    def next(self) -> _Line | None:
        if self.pending:
            return self.pending.popleft()
        buf, pos = self._buf, self._pos
        if pos < len(buf):  # fast path: the whole line is in the buffer
            i = self._eol()
            if i >= 0 and (buf[i] == 10 or i + 1 < len(buf)):
                end = i + 2 if buf[i] == 13 and buf[i + 1] == 10 else i + 1
                if end - pos <= self.limit:
                    self._pos = end
                    self.number += 1
                    return _Line(self.number, buf[pos:end], end - pos)
        parts: list[bytes] = []
        self.partial = b""
        try:
            size, cut = self._collect(parts)
        except Exception:
            self.partial = b"".join(parts)[:RAW_KEEP_BYTES]
            raise
        if not size:
            return None
        self.number += 1
        return _Line(self.number, parts[0] if len(parts) == 1 else b"".join(parts), size, cut)

    def _collect(self, parts: list[bytes]) -> tuple[int, bool]:
        size = 0
        cut = False
        while True:
            buf = self._buf
            if self._pos >= len(buf):
                if not self._fill():
                    return size, cut
                continue
            i = self._eol()
            ended = i >= 0 and (buf[i] == 10 or i + 1 < len(buf) or self._eof)
            if ended:
                end = i + 1
                if buf[i] == 13 and end < len(buf) and buf[end] == 10:
                    end += 1
            else:  # no line end yet; a CR at the very end may be half of a CRLF
                end = len(buf) if i < 0 else i
            piece = buf[self._pos : end]
            self._pos = end
            size += len(piece)
            if not cut:
                if size > self.limit:
                    cut = True
                    head = b"".join([*parts, piece])[:RAW_KEEP_BYTES]
                    parts[:] = [head]
                elif piece:
                    parts.append(piece)
            if ended:
                return size, cut
            if not self._fill() and i < 0:
                return size, cut

    def _eol(self) -> int:
        buf, pos = self._buf, self._pos
        if self._lf < pos:
            found = buf.find(b"\n", pos)
            self._lf = found if found >= 0 else len(buf)
        if self._cr < pos:
            found = buf.find(b"\r", pos)
            self._cr = found if found >= 0 else len(buf)
        i = min(self._lf, self._cr)
        return i if i < len(buf) else -1

    def _fill(self) -> bool:
        if self._eof:
            return False
        chunk = self._read(CHUNK)
        if not chunk:
            self._eof = True
            return False
        self.expanded += len(chunk)
        if self._cap is not None and self.expanded > self._cap:
            raise _Bomb(
                f"decompression bomb: over {self.expanded} bytes expanded from "
                f"{self._packed} compressed bytes; rest of file skipped"
            )
        self._buf = self._buf[self._pos :] + chunk
        self._pos = 0
        self._lf = self._cr = -1
        return True


def _strict(data: bytes, encoding: str) -> str | None:
    try:
        return data.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return None


class _Decoder:
    """Decodes each line on its own: as UTF-8 when it is UTF-8 (the one encoding a wrong
    guess almost never passes), else as the file's other encoding, guessed again for a
    line that is not valid in it. Every guess or loss is a warning on the row."""

    def __init__(self, encoding: str, wide: str | None) -> None:
        self.encoding = wide or encoding
        self.wide = wide
        self.fallback = None if encoding.startswith("utf-8") else encoding
        self.guesses = 0

    def decode(self, line: _Line, warnings: list[str]) -> str:
        data = line.data
        if b"\x00" in data:
            nuls = data.count(0)
            data = data.replace(b"\x00", b"")
            warnings.append(f"nul bytes: {nuls} removed from line {line.number} (damaged file?)")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            return self._legacy(data, line.number, warnings)
        if self.wide and "\ufffd" in text:
            warnings.append(
                f"encoding: replacement characters in line {line.number} (invalid {self.wide})"
            )
        return text

    def _legacy(self, data: bytes, number: int, warnings: list[str]) -> str:
        text = _strict(data, self.fallback) if self.fallback else None
        encoding = self.fallback
        if text is None and self.guesses < MAX_GUESSES:
            self.guesses += 1
            try:
                text, encoding = decode_bytes(data)
            except DecodeError:
                text = None
            else:
                self.fallback = encoding
        if text is None:
            encoding = self.fallback or "cp1252"
            text = data.decode(encoding, errors="replace")
            if "\ufffd" in text:
                warnings.append(
                    f"encoding: replacement characters in line {number} "
                    f"(not valid UTF-8 or {encoding})"
                )
                return text
        if encoding != self.encoding:
            warnings.append(f"encoding: line {number} is not UTF-8; read as {encoding}")
        return text


class _TooLong(Exception):
    """The row being read passed the size limit."""


class _StrayQuote(Exception):
    """The quoted field being read has swallowed many lines that look like rows."""


class _Rows:
    """Feeds physical lines to ``csv.reader`` and remembers which lines made the row it
    returns, so that a row can be rejected with its own bytes or its lines read again."""

    def __init__(self, src: _LineSource, decoder: _Decoder, delimiter: str) -> None:
        self.src = src
        self.decoder = decoder
        self.delimiter = delimiter
        self.ncols = 0  # row shape, once the header is known
        self.reset()

    def reset(self) -> None:
        self.lines: list[_Line] = []
        self.rowlike: list[bool] = []  # per continuation line: does it look like a row?
        self.rowlike_count = 0
        self.size = 0
        self.warnings: list[str] = []
        self.open_at_eof = False

    def reader(self) -> Iterator[list[str]]:
        self.reset()
        return csv.reader(self._feed(), delimiter=self.delimiter)

    def _feed(self) -> Iterator[str]:
        while True:
            line = self.src.next()
            if line is None:
                self.open_at_eof = bool(self.lines)
                return
            self.lines.append(line)
            self.size += line.size
            if line.cut or self.size > self.src.limit:
                raise _TooLong
            text = self.decoder.decode(line, self.warnings)
            if len(self.lines) > 1 and self.ncols > 1:  # one column: any line fits
                like = self._looks_like_row(text)
                self.rowlike.append(like)
                self.rowlike_count += like
                n = len(self.rowlike)
                if n >= STRAY_LINES and self.rowlike_count >= STRAY_SHARE * n:
                    raise _StrayQuote
            yield text

    def _looks_like_row(self, text: str) -> bool:
        body = text.rstrip("\r\n")
        if not body or body.count('"') % 2:
            return False
        return len(next(csv.reader([body], delimiter=self.delimiter))) == self.ncols

    @property
    def position(self) -> str:
        return f"line {self.lines[0].number}" if self.lines else f"line {self.src.number + 1}"

    def raw(self, lines: list[_Line] | None = None) -> bytes:
        out = bytearray()
        for line in self.lines if lines is None else lines:
            out += line.data[: RAW_KEEP_BYTES - len(out)]
            if len(out) >= RAW_KEEP_BYTES:
                break
        return bytes(out)

    def too_long(self, origin: str) -> Reject:
        first, last = self.lines[0].number, self.lines[-1].number
        where = f"line {first}" if first == last else f"lines {first}-{last}"
        return Reject(
            origin,
            self.position,
            f"row too long: {self.size} bytes in {where}, over the limit of {self.src.limit} "
            f"bytes (raise it with --max-doc-mb); reading goes on at line {last + 1}",
            self.raw(),
            size=self.size,
        )

    def stray_quote(self, origin: str, at_eof: bool) -> Reject:
        """Reject the lines up to the first row-shaped one the open quote swallowed, and
        put the rest back to be read as rows."""
        cut = 1 + self.rowlike.index(True)
        bad, again = self.lines[:cut], self.lines[cut:]
        first, last = bad[0].number, bad[-1].number
        what = "never closes" if at_eof else f"swallowed {len(self.rowlike)} lines"
        rejected = f"line {first}" if first == last else f"lines {first}-{last}"
        self.src.push_back(again)
        return Reject(
            origin,
            self.position,
            f"unbalanced quote: a quoted field starting on line {first} {what}, "
            f"{self.rowlike_count} of them shaped like rows; {rejected} rejected, "
            f"lines from {again[0].number} read again as rows",
            self.raw(bad),
        )


def _read_rows(
    src: _LineSource, decoder: _Decoder, path: Path, origin: str, opts: ReadOptions
) -> Iterator[Item]:
    # Rows are bounded by _LineSource; csv's own limit must never cut one first.
    csv.field_size_limit(min(sys.maxsize, max(csv.field_size_limit(), src.limit + 1)))
    try:
        first = src.next()
    except _Bomb as exc:
        yield Reject(origin, "line 1", str(exc))
        return
    except READ_ERRORS as exc:
        yield Reject(origin, "line 1", describe_read_error(exc), src.partial)
        return
    if first is None:
        yield Reject(origin, "file", "empty file: no header row")
        return
    if first.cut:
        yield Reject(
            origin,
            "line 1",
            f"header line too long: {first.size} bytes, over the limit of {src.limit} bytes",
            first.data,
            size=first.size,
        )
        return
    header_line = decoder.decode(first, [])
    if not header_line.strip():
        yield Reject(origin, "file", "empty file: no header row", first.data)
        return
    delimiter = _sniff_delimiter(path, header_line)
    src.push_back([first])
    rows = _Rows(src, decoder, delimiter)
    reader = rows.reader()
    try:
        header = next(reader)
    except (StopIteration, csv.Error, _TooLong) as exc:
        reason = "header row too long" if isinstance(exc, _TooLong) else "unreadable header row"
        yield Reject(origin, "header", reason, rows.raw())
        return
    except _Bomb as exc:
        yield Reject(origin, rows.position, str(exc))
        return
    except READ_ERRORS as exc:
        yield Reject(origin, rows.position, describe_read_error(exc), rows.raw() + src.partial)
        return
    header_raw = rows.raw()
    columns = [c.strip().lstrip("\ufeff") for c in header]
    layout = detect_layout(columns)
    mapping = dict(layout.mapping) if layout else {}
    mapping = {k: v for k, v in mapping.items() if v in columns}
    mapping.update(opts.mapping)
    try:
        resolver = FieldResolver(columns, mapping)
    except MappingError as exc:
        yield Reject(origin, "header", str(exc), header_raw)
        return
    if not resolver.has_text:
        yield Reject(
            origin,
            "header",
            "no text column found; name it with --map text=COLUMN (columns: "
            + ", ".join(columns[:40])
            + ")",
            header_raw,
        )
        return
    ncols = rows.ncols = len(columns)
    finish = layout.finish if layout else None
    errors = 0
    while True:
        rows.reset()
        try:
            row = next(reader)
        except StopIteration:
            return
        except _TooLong:
            yield rows.too_long(origin)
            reader = rows.reader()
            continue
        except _StrayQuote:
            yield rows.stray_quote(origin, at_eof=False)
            reader = rows.reader()
            continue
        except _Bomb as exc:
            yield Reject(
                origin, rows.position, str(exc), (rows.raw() + src.partial)[:RAW_KEEP_BYTES]
            )
            return
        except csv.Error as exc:
            errors += 1
            yield Reject(origin, rows.position, f"unreadable CSV row: {exc}", rows.raw())
            if errors > MAX_CONSECUTIVE_ERRORS:
                yield Reject(
                    origin,
                    f"line {src.number + 1}",
                    "too many unreadable rows in a row; rest of file skipped",
                )
                return
            reader = rows.reader()
            continue
        except READ_ERRORS as exc:
            start = rows.lines[0].number if rows.lines else src.number + 1
            yield Reject(
                origin,
                f"line {start}",
                describe_read_error(exc) + f" after line {start - 1}",
                (rows.raw() + src.partial)[:RAW_KEEP_BYTES],
            )
            return
        errors = 0
        if rows.open_at_eof and len(rows.lines) > 1 and rows.rowlike_count:
            yield rows.stray_quote(origin, at_eof=True)
            reader = rows.reader()
            continue
        position = rows.position
        if len(row) != ncols:
            if not row or (len(row) == 1 and not row[0].strip()):
                if any(w.startswith("nul bytes") for w in rows.warnings):
                    yield Reject(
                        origin, position, "only NUL bytes (a zero-filled block?)", rows.raw()
                    )
                continue
            # The line where the stray quote closed is not row-shaped; the others are.
            if rows.rowlike_count >= max(WARN_ROWLIKE, STRAY_SHARE * (len(rows.rowlike) - 1)):
                yield rows.stray_quote(origin, at_eof=rows.open_at_eof)
                reader = rows.reader()
                continue
            yield Reject(
                origin, position, f"expected {ncols} columns, found {len(row)}", rows.raw()
            )
            continue
        yield _document(row, columns, resolver, rows, opts, finish, f"{origin}:{position}")


def _document(row, columns, resolver, rows: _Rows, opts: ReadOptions, finish, where: str):
    record = dict(zip(columns, row, strict=True))
    doc: Document = record_to_document(
        record, resolver, default_tz=opts.tz, default_source=opts.source
    )
    if finish is not None:
        finish(doc, record)
    doc.origin = where
    doc.warnings.extend(rows.warnings)
    first = rows.lines[0].number
    if rows.open_at_eof:
        doc.warnings.append(
            f"csv: the quote opened on line {first} never closes; the row runs to the end"
        )
    elif rows.rowlike_count >= max(WARN_ROWLIKE, STRAY_SHARE * (len(rows.rowlike) - 1)):
        doc.warnings.append(
            f"csv: a quoted field from line {first} spans {len(rows.lines)} lines, "
            f"{rows.rowlike_count} of them shaped like rows (a stray quote?)"
        )
    return doc
