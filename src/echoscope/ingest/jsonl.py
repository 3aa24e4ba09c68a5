"""JSON Lines (passim-compatible) and JSON arrays, plain or gzip.

passim's input is one JSON object per line with ``id``, ``series`` and ``text``; the same
file must load here unchanged, so those names are the defaults and every other field is
kept as metadata.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
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
from echoscope.ingest.records import FieldResolver, MappingError, record_to_document
from echoscope.model import Reject


def read_jsonl(path: Path, opts: ReadOptions, counter: ByteCounter | None = None) -> Iterator[Item]:
    origin = str(path)
    try:
        stream = open_binary(path, counter)
    except OSError as exc:
        yield Reject(origin, "file", f"cannot open: {exc}")
        return
    with stream:
        try:
            first = _peek_nonspace(stream)
        except READ_ERRORS as exc:
            yield Reject(origin, "file", describe_read_error(exc))
            return
        if first == b"[":
            yield from _read_array(stream, origin, opts)
            return
        yield from _read_lines(stream, origin, opts)


def _peek_nonspace(stream: BinaryIO) -> bytes:
    head = stream.peek(4096) if hasattr(stream, "peek") else b""
    return head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]


def _read_lines(stream: BinaryIO, origin: str, opts: ReadOptions) -> Iterator[Item]:
    limit = opts.max_doc_bytes * 2 + 65536  # JSON escaping can double a text's size

    def lines() -> Iterator[bytes]:
        while True:
            line = stream.readline(limit + 1)
            if not line:
                return
            if len(line) > limit and not line.endswith(b"\n"):
                # Too long: keep the head, skip the rest of the line.
                size = len(line)
                try:
                    while True:
                        more = stream.readline(1 << 20)
                        size += len(more)
                        if not more or more.endswith(b"\n"):
                            break
                except READ_ERRORS:
                    pass
                yield _TooLong(line[:RAW_KEEP_BYTES], size)
                continue
            yield line

    yield from _parse_lines(lines(), origin, opts, limit)


class _TooLong(bytes):
    size: int

    def __new__(cls, head: bytes, size: int) -> _TooLong:
        obj = super().__new__(cls, head)
        obj.size = size
        return obj


def _parse_lines(
    lines: Iterator[bytes], origin: str, opts: ReadOptions, limit: int
) -> Iterator[Item]:
    resolvers: dict[frozenset[str], FieldResolver] = {}
    lineno = 0
    iterator = iter(lines)
    while True:
        try:
            line = next(iterator)
        except StopIteration:
            return
        except READ_ERRORS as exc:
            yield Reject(
                origin, f"line {lineno + 1}", describe_read_error(exc) + f" after line {lineno}"
            )
            return
        lineno += 1
        if isinstance(line, _TooLong):
            yield Reject(
                origin,
                f"line {lineno}",
                f"line too long ({line.size} bytes, limit {limit})",
                bytes(line),
            )
            continue
        stripped = line.strip()
        if not stripped:
            continue
        if lineno == 1 and stripped.startswith(b"\xef\xbb\xbf"):
            stripped = stripped[3:]
        try:
            record = json.loads(stripped)
        except (ValueError, RecursionError) as exc:
            yield Reject(origin, f"line {lineno}", f"malformed JSON: {exc}", line[:RAW_KEEP_BYTES])
            continue
        yield from _record(record, origin, f"line {lineno}", opts, resolvers, line)


def _read_array(stream: BinaryIO, origin: str, opts: ReadOptions) -> Iterator[Item]:
    cap = max(opts.max_doc_bytes * 50, 512 * 1024 * 1024)
    try:
        data = stream.read(cap + 1)
    except READ_ERRORS as exc:
        yield Reject(origin, "file", describe_read_error(exc))
        return
    if len(data) > cap:
        yield Reject(
            origin,
            "file",
            f"JSON array over {cap} bytes: convert it to JSON Lines",
            data[:RAW_KEEP_BYTES],
        )
        return
    try:
        records = json.loads(data)
    except (ValueError, RecursionError):
        # Not one JSON array: JSON Lines whose first line happens to be an array.
        yield from _parse_lines(iter(data.splitlines(keepends=True)), origin, opts, len(data) + 1)
        return
    if not isinstance(records, list):
        yield Reject(origin, "file", "expected a JSON array of objects", data[:RAW_KEEP_BYTES])
        return
    resolvers: dict[frozenset[str], FieldResolver] = {}
    for i, record in enumerate(records):
        raw = json.dumps(record, ensure_ascii=False).encode()[:RAW_KEEP_BYTES]
        yield from _record(record, origin, f"item {i}", opts, resolvers, raw)


def _record(record, origin, position, opts, resolvers, raw: bytes) -> Iterator[Item]:
    if not isinstance(record, dict):
        yield Reject(
            origin,
            position,
            f"expected a JSON object, got {type(record).__name__}",
            raw[:RAW_KEEP_BYTES],
        )
        return
    keys = frozenset(record)
    resolver = resolvers.get(keys)
    if resolver is None:
        try:
            resolver = FieldResolver(list(record), opts.mapping)
        except MappingError as exc:
            yield Reject(origin, position, str(exc), raw[:RAW_KEEP_BYTES])
            return
        if len(resolvers) < 1000:
            resolvers[keys] = resolver
    if not resolver.has_text:
        yield Reject(
            origin,
            position,
            "record has no text field (use --map text=FIELD)",
            raw[:RAW_KEEP_BYTES],
        )
        return
    doc = record_to_document(record, resolver, default_tz=opts.tz, default_source=opts.source)
    doc.origin = f"{origin}:{position}"
    yield doc
