"""CSV and TSV files, plain or gzip, read as a stream.

Exports of millions of posts arrive as one compressed CSV; reading it row by row keeps
memory flat whatever its size. Columns are mapped with ``--map`` or recognised by name,
and known social-media layouts are recognised from their header.
"""

from __future__ import annotations

import codecs
import csv
import io
import sys
from collections.abc import Iterator
from pathlib import Path

from echoscope.ingest.base import (
    RAW_KEEP_BYTES,
    READ_ERRORS,
    ByteCounter,
    Item,
    ReadOptions,
    describe_read_error,
    open_binary,
)
from echoscope.ingest.encoding import DecodeError, binary_kind, decode_bytes
from echoscope.ingest.records import FieldResolver, MappingError, record_to_document
from echoscope.ingest.social import detect_layout
from echoscope.model import Reject

MAX_CONSECUTIVE_ERRORS = 1000


def _sniff_encoding(head: bytes) -> str:
    dec = codecs.getincrementaldecoder("utf-8")()
    try:
        dec.decode(head, final=False)
        return "utf-8-sig" if head.startswith(b"\xef\xbb\xbf") else "utf-8"
    except UnicodeDecodeError:
        return decode_bytes(head)[1]


def _sniff_delimiter(path: Path, header: str) -> str:
    name = path.name.lower().removesuffix(".gz")
    if name.endswith((".tsv", ".tab")):
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
        kind = binary_kind(head)
        if kind:
            yield Reject(origin, "file", f"not a CSV file: {kind}", head[:RAW_KEEP_BYTES])
            return
        try:
            encoding = _sniff_encoding(head)
        except DecodeError as exc:
            yield Reject(origin, "file", str(exc), head[:RAW_KEEP_BYTES])
            return
        text = io.TextIOWrapper(stream, encoding=encoding, errors="replace", newline="")
        yield from _read_rows(text, path, origin, opts)


def _read_rows(
    text: io.TextIOWrapper, path: Path, origin: str, opts: ReadOptions
) -> Iterator[Item]:
    csv.field_size_limit(min(sys.maxsize, opts.max_doc_bytes * 4 + 1024))
    try:
        header_line = text.readline()
    except READ_ERRORS as exc:
        yield Reject(origin, "line 1", describe_read_error(exc))
        return
    if not header_line.strip():
        yield Reject(origin, "file", "empty file: no header row")
        return
    delimiter = _sniff_delimiter(path, header_line)
    columns = next(csv.reader([header_line], delimiter=delimiter))
    columns = [c.strip().lstrip("\ufeff") for c in columns]
    layout = detect_layout(columns)
    mapping = dict(layout.mapping) if layout else {}
    mapping = {k: v for k, v in mapping.items() if v in columns}
    mapping.update(opts.mapping)
    try:
        resolver = FieldResolver(columns, mapping)
    except MappingError as exc:
        yield Reject(origin, "header", str(exc), header_line.encode()[:RAW_KEEP_BYTES])
        return
    if not resolver.has_text:
        yield Reject(
            origin,
            "header",
            "no text column found; name it with --map text=COLUMN (columns: "
            + ", ".join(columns[:40])
            + ")",
            header_line.encode()[:RAW_KEEP_BYTES],
        )
        return
    reader = csv.reader(text, delimiter=delimiter)
    ncols = len(columns)
    finish = layout.finish if layout else None
    errors = 0
    while True:
        line_before = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            errors += 1
            yield Reject(origin, f"line {line_before + 1}", f"unreadable CSV row: {exc}")
            if errors > MAX_CONSECUTIVE_ERRORS:
                yield Reject(
                    origin,
                    f"line {reader.line_num + 1}",
                    "too many unreadable rows in a row; rest of file skipped",
                )
                return
            continue
        except READ_ERRORS as exc:
            yield Reject(
                origin,
                f"line {reader.line_num + 2}",
                describe_read_error(exc) + f" after line {reader.line_num + 1}",
            )
            return
        errors = 0
        position = f"line {line_before + 1}"
        if len(row) != ncols:
            if not row or (len(row) == 1 and not row[0].strip()):
                continue
            raw = _raw_row(row, delimiter)
            yield Reject(origin, position, f"expected {ncols} columns, found {len(row)}", raw)
            continue
        record = dict(zip(columns, row, strict=True))
        doc = record_to_document(record, resolver, default_tz=opts.tz, default_source=opts.source)
        if finish is not None:
            finish(doc, record)
        doc.origin = f"{origin}:{position}"
        yield doc


def _raw_row(row: list[str], delimiter: str) -> bytes:
    buf = io.StringIO()
    csv.writer(buf, delimiter=delimiter).writerow(row)
    return buf.getvalue().encode("utf-8", errors="replace")[:RAW_KEEP_BYTES]
