"""JSON Lines (passim-compatible) and JSON arrays, plain or gzip.

passim's input is one JSON object per line with ``id``, ``series`` and ``text``; the same
file must load here unchanged, so those names are the defaults and every other field is
kept as metadata.

A JSON array is read element by element, never whole: its size does not bound memory and
one syntax error costs one element, not the file. Element boundaries are found lexically
(strings, escapes, brackets); when the brackets themselves are broken, reading resumes at
the next line that starts an element at the array's own indentation (or after ``},`` in a
one-line array).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

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

CHUNK = 1 << 20
_BOM = b"\xef\xbb\xbf"
_WS = b" \t\r\n"
_OUT_STR = re.compile(rb'["{}\[\],]')
_IN_STR = re.compile(rb'["\\\x00-\x1f]')
_COMPACT_START = re.compile(rb"\}\s*,\s*(\{)")
# Lone surrogates come from \ud800-\udfff escapes or from UTF-8-encoded surrogates.
_SURROGATE_HINT = re.compile(rb"\\u[dD][89abcdefABCDEF]|\xed[\xa0-\xbf]")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _line_limit(opts: ReadOptions) -> int:
    return opts.max_doc_bytes * 2 + 65536  # JSON escaping can double a text's size


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
            prefix, is_array = (
                _sniff_array(stream, _line_limit(opts)) if first == b"[" else (b"", False)
            )
        except READ_ERRORS as exc:
            yield Reject(origin, "file", describe_read_error(exc))
            return
        source = _Prefixed(prefix, stream)
        if is_array:
            yield from _read_array(source, origin, opts)
            return
        yield from _read_lines(source, origin, opts)  # type: ignore[arg-type]


def _peek_nonspace(stream: BinaryIO) -> bytes:
    head = stream.peek(4096) if hasattr(stream, "peek") else b""
    return head.lstrip(_BOM + _WS)[:1]


def _parses(data: bytes) -> bool:
    try:
        json.loads(data)
    except (ValueError, RecursionError):
        return False
    return True


def _sniff_array(stream: BinaryIO, limit: int) -> tuple[bytes, bool]:
    """Is a file that starts with ``[`` one JSON array, or JSON Lines whose first line is
    an array? Decided from its first lines, which are returned to be read again."""
    first = stream.readline(limit + 1)
    lines = [first]
    head = first.strip().removeprefix(_BOM).strip()
    if len(first) > limit or head == b"[" or head.endswith(b","):
        return first, True
    alone = _parses(head)
    following = b""
    for _ in range(1000):  # blank lines before the second record
        line = stream.readline(limit + 1)
        lines.append(line)
        if not line or line.strip():
            following = line.strip() if len(line) <= limit else b"x"
            break
    prefix = b"".join(lines)
    if alone:
        return prefix, not following  # a one-line array, or a first line that is one
    return prefix, not (following and _parses(following))


class _Prefixed:
    """A binary stream with some bytes already read put back in front of it."""

    def __init__(self, prefix: bytes, stream: BinaryIO) -> None:
        self._prefix = prefix
        self._at = 0
        self._stream = stream

    def read(self, n: int) -> bytes:
        if self._at < len(self._prefix):
            out = self._prefix[self._at : self._at + n]
            self._at += len(out)
            return out
        return self._stream.read(n)

    def readline(self, n: int) -> bytes:
        if self._at < len(self._prefix):
            end = self._prefix.find(b"\n", self._at, self._at + n)
            stop = min(self._at + n, len(self._prefix)) if end < 0 else end + 1
            out = self._prefix[self._at : stop]
            self._at = stop
            if out.endswith(b"\n") or len(out) >= n:
                return out
            return out + self._stream.readline(n - len(out))
        return self._stream.readline(n)


def _read_lines(stream: BinaryIO, origin: str, opts: ReadOptions) -> Iterator[Item]:
    limit = _line_limit(opts)

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


@dataclass
class _Piece:
    """One array element as the lexer saw it."""

    status: str  # "ok", "long" (over the cap), "broken" (brackets or quotes), "eof"
    start: int  # byte offset of its first byte
    data: bytes  # the whole element when "ok", else its head
    size: int  # bytes from its start to where it ended or was cut
    detail: str = ""


class _ArrayLexer:
    """Finds where each array element ends without parsing it, in bounded memory: only
    strings, escapes and brackets matter, so a syntax error inside an element stays there."""

    def __init__(self, read: Callable[[int], bytes], cap: int) -> None:
        self._read = read
        self.cap = cap
        self.buf = bytearray()
        self.pos = 0
        self.base = 0  # byte offset of buf[0]
        self.shift = 0  # bytes dropped from the front of buf by the last ``more``
        self.eof = False
        self.indent: bytes | None = None  # what precedes an element on its line, once seen
        self.lead: bytes | None = None  # how a good element starts, up to its first colon

    @property
    def offset(self) -> int:
        return self.base + self.pos

    def more(self) -> bool:
        self.shift = 0
        if self.eof:
            return False
        data = self._read(CHUNK)
        if not data:
            self.eof = True
            return False
        if self.pos > CHUNK:
            self.shift = self.pos
            del self.buf[: self.pos]
            self.base += self.pos
            self.pos = 0
        self.buf += data
        return True

    def peek(self, n: int) -> bytes:
        while len(self.buf) - self.pos < n and self.more():
            pass
        return bytes(self.buf[self.pos : self.pos + n])

    def skip_space(self) -> bytes | None:
        """Skip whitespace and return the next byte (left unread), or None at the end.
        Learns the indentation of elements from the first one that starts a line."""
        newline = -1
        while True:
            while self.pos < len(self.buf) and self.buf[self.pos] in _WS:
                if self.buf[self.pos] == 0x0A:
                    newline = self.pos
                self.pos += 1
            if self.pos < len(self.buf):
                break
            if not self.more():
                return None
            newline = newline - self.shift if newline >= self.shift else -1
        if self.indent is None and newline >= 0 and self.buf[self.pos] == 0x7B:
            self.indent = bytes(self.buf[newline + 1 : self.pos])
        return bytes(self.buf[self.pos : self.pos + 1])

    def rest(self) -> tuple[bytes, int]:
        """Everything left: its head and its size."""
        head = self.peek(RAW_KEEP_BYTES)
        size = len(self.buf) - self.pos
        self.pos = len(self.buf)
        while self.more():
            size += len(self.buf) - self.pos
            self.pos = len(self.buf)
        return head, size

    def learn(self, element: bytes) -> None:
        """Remember how a good element starts (``{"id":``), to tell the next element's
        start from a nested object's in a one-line array."""
        if self.lead is None and element.startswith(b'{"'):
            colon = element.find(b":", 0, 64)
            if colon > 0:
                self.lead = element[: colon + 1]

    def _pattern(self) -> tuple[re.Pattern[bytes], int]:
        if self.indent is not None:
            return re.compile(b"\n" + re.escape(self.indent) + rb"(\{)"), len(self.indent) + 2
        if self.lead is not None:
            return re.compile(rb",\s*(" + re.escape(self.lead) + b")"), 128
        return _COMPACT_START, 64

    def find_start(self, i: int) -> int | None:
        """Index of the next byte that looks like the start of an element at the array's
        level, searching from index ``i`` and reading on; the position moves with it."""
        pattern, overlap = self._pattern()
        while True:
            found = pattern.search(self.buf, i)
            if found is not None:
                self.pos = found.start(1)
                return self.pos
            self.pos = max(self.pos, len(self.buf) - overlap)
            i = self.pos
            if not self.more():
                self.pos = len(self.buf)
                return None
            i -= self.shift

    def element(self) -> _Piece:
        """Scan one element, up to the ``,`` or ``]`` after it (left unread)."""
        start = self.pos
        first = self.offset
        stack: list[int] = []
        in_str = False
        i = start
        head: bytes | None = None  # set once the element outgrows the cap

        def cut(status: str, end: int, detail: str = "") -> _Piece:
            size = self.base + end - first
            data = head if head is not None else bytes(self.buf[start:end])
            if head is not None and status == "ok":
                status = "long"
            return _Piece(status, first, data, size, detail)

        while True:
            if head is None and i - start > self.cap:
                head = bytes(self.buf[start : start + RAW_KEEP_BYTES])
                if self.indent is not None:
                    found = self._pattern()[0].search(self.buf, start + 1, i)
                    if found is not None:
                        self.pos = found.start(1)
                        return _Piece(
                            "broken",
                            first,
                            head,
                            self.base + self.pos - first,
                            "no closing bracket before the next element",
                        )
            if head is not None:
                self.pos = i  # what is behind may be dropped
            found = (_IN_STR if in_str else _OUT_STR).search(self.buf, i)
            if found is None:
                i = len(self.buf)
                if not self.more():
                    if head is None and not stack and not in_str:
                        self.pos = i  # complete, though the array is cut after it
                        return cut("ok", i)
                    if head is None:  # an open quote or bracket may have run on to here
                        return self._broken(cut, start, head, i, "the input ends")
                    return cut("eof", len(self.buf))
                i -= self.shift
                start -= self.shift
                continue
            j = found.start()
            ch = self.buf[j]
            if in_str:
                if ch == 0x22:
                    in_str = False
                elif ch == 0x5C:
                    if j + 1 >= len(self.buf):
                        i = j
                        if not self.more():
                            return cut("eof", len(self.buf))
                        i -= self.shift
                        start -= self.shift
                        continue
                    j += 1
                else:
                    return self._broken(cut, start, head, j, "a line break inside a string")
                i = j + 1
                continue
            if ch == 0x22:
                in_str = True
            elif ch in (0x7B, 0x5B):
                stack.append(0x7D if ch == 0x7B else 0x5D)
            elif ch in (0x7D, 0x5D):
                if not stack:
                    if ch == 0x7D:
                        return self._broken(cut, start, head, j, "a '}' that closes nothing")
                    self.pos = j
                    return cut("ok", j)
                if stack.pop() != ch:
                    return self._broken(cut, start, head, j, f"a '{chr(ch)}' that does not match")
            elif not stack:  # a comma at the array's level
                self.pos = j
                return cut("ok", j)
            i = j + 1

    def _broken(
        self, cut: Callable[..., _Piece], start: int, head: bytes | None, at: int, what: str
    ) -> _Piece:
        """The brackets or quotes are broken: the element ends where the next one seems to
        start, searched from its own start when it is still held, else from here."""
        detail = f"{what} at byte {self.base + at}"
        piece = cut("broken", at, detail)
        found = self.find_start(start + 1 if head is None else at)
        end = self.offset if found is not None else self.base + len(self.buf)
        piece.size = end - piece.start
        if found is None and self.eof:
            piece.status, piece.detail = "eof", ""
        piece.data = piece.data[:RAW_KEEP_BYTES]
        return piece


def _read_array(stream: _Prefixed, origin: str, opts: ReadOptions) -> Iterator[Item]:
    """Stream a JSON array element by element; memory is bounded by the element cap."""
    cap = _line_limit(opts)
    lexer = _ArrayLexer(stream.read, cap)
    resolvers: dict[frozenset[str], FieldResolver] = {}
    index = 0
    in_array = False
    try:
        if lexer.peek(3) == _BOM:
            lexer.pos += 3
        while True:
            c = lexer.skip_space()
            if c is None:
                if in_array:
                    yield Reject(
                        origin,
                        f"item {index}",
                        f"the JSON array ends early at byte {lexer.offset}: no closing ']' "
                        f"(truncated file?) after {index} items",
                    )
                return
            if not in_array:
                if c == b"[":
                    lexer.pos += 1
                    in_array = True
                    continue
                start = lexer.offset
                head, size = lexer.rest()
                yield Reject(
                    origin,
                    f"byte {start}",
                    f"data after the end of the JSON array ({size} bytes) not read",
                    head,
                    size=size,
                )
                return
            if c in (b",", b"]"):
                lexer.pos += 1
                in_array = c == b","
                continue
            piece = lexer.element()
            position = f"item {index}"
            index += 1
            if piece.status == "ok":
                lexer.learn(piece.data)
                yield from _array_element(piece, lexer, origin, position, opts, resolvers)
            elif piece.status == "long":
                yield Reject(
                    origin,
                    position,
                    f"array element too long ({piece.size} bytes, limit {cap})",
                    piece.data,
                    size=piece.size,
                )
            elif piece.status == "broken":
                yield Reject(
                    origin,
                    position,
                    f"malformed JSON: {piece.detail}; {piece.size} bytes from byte "
                    f"{piece.start} skipped to the next element",
                    piece.data,
                    size=piece.size,
                )
            else:
                yield Reject(
                    origin,
                    position,
                    f"the input ends inside this element (truncated file?) at byte "
                    f"{piece.start + piece.size}",
                    piece.data[:RAW_KEEP_BYTES],
                    size=piece.size,
                )
                return
    except READ_ERRORS as exc:
        yield Reject(origin, f"item {index}", describe_read_error(exc) + f" after {index} items")


def _array_element(
    piece: _Piece,
    lexer: _ArrayLexer,
    origin: str,
    position: str,
    opts: ReadOptions,
    resolvers: dict[frozenset[str], FieldResolver],
) -> Iterator[Item]:
    data = piece.data
    try:
        record = json.loads(data)
    except (ValueError, RecursionError) as exc:
        size = len(data)
        if lexer.indent is not None:
            # A missing comma or bracket can join two elements: split at the next line
            # that starts an element, and read on from there.
            pattern = lexer._pattern()[0]
            found = pattern.search(data, 1)
            if found is not None:
                size = found.start(1)
                lexer.pos -= len(data) - size
                if _parses(data[:size]):
                    yield from _record(
                        json.loads(data[:size]), origin, position, opts, resolvers, data[:size]
                    )
                    return
        yield Reject(
            origin,
            position,
            f"malformed JSON at byte {piece.start}: {exc}",
            data[: min(size, RAW_KEEP_BYTES)],
            size=size,
        )
        return
    yield from _record(record, origin, position, opts, resolvers, data)


def _record(record, origin, position, opts, resolvers, raw: bytes) -> Iterator[Item]:
    if not isinstance(record, dict):
        yield Reject(
            origin,
            position,
            f"expected a JSON object, got {type(record).__name__}",
            raw[:RAW_KEEP_BYTES],
        )
        return
    warning = None
    if _SURROGATE_HINT.search(raw):
        try:
            record, fields = _without_surrogates(record)
        except RecursionError:
            yield Reject(origin, position, "JSON nested too deeply", raw[:RAW_KEEP_BYTES])
            return
        if fields:
            names = ", ".join(sorted(fields)[:10])
            warning = f"encoding: lone UTF-16 surrogates replaced with U+FFFD in {names}"
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
    if warning:
        doc.warnings.append(warning)
    yield doc


def _without_surrogates(record: dict[str, Any]) -> tuple[dict[str, Any], set[str]]:
    """The record with every lone surrogate (unstorable as UTF-8) replaced by U+FFFD, and
    the top-level fields where one was found."""
    fields: set[str] = set()
    out: dict[str, Any] = {}
    for key, value in record.items():
        clean_key, bad_key = _clean(key)
        clean_value, bad_value = _clean(value)
        if bad_key or bad_value:
            fields.add(repr(clean_key)[:80])
        out[clean_key] = clean_value
    return out, fields


def _clean(value: Any) -> tuple[Any, bool]:
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return _LONE_SURROGATE.sub("\ufffd", value), True
        return value, False
    if isinstance(value, list):
        items = [_clean(v) for v in value]
        return [v for v, _ in items], any(bad for _, bad in items)
    if isinstance(value, dict):
        bad = False
        out = {}
        for k, v in value.items():
            k2, bad_k = _clean(k)
            v2, bad_v = _clean(v)
            bad = bad or bad_k or bad_v
            out[k2] = v2
        return out, bad
    return value, False
