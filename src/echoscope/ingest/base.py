"""What every reader shares: options, opening (gzip or not), and counting bytes read."""

from __future__ import annotations

import gzip
import io
import os
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, tzinfo
from pathlib import Path
from typing import BinaryIO

from echoscope.ingest.fetch import FetchPolicy
from echoscope.ingest.pathtemplate import PathTemplate
from echoscope.model import Document, Reject

Item = Document | Reject

MAX_DOC_BYTES = 10 * 1024 * 1024
RAW_KEEP_BYTES = 1024 * 1024  # raw bytes kept per reject; the origin says where the rest is


@dataclass
class ReadOptions:
    source: str | None = None
    mapping: dict[str, str] = field(default_factory=dict)
    path_template: PathTemplate | None = None
    tz: tzinfo = UTC
    max_doc_bytes: int = MAX_DOC_BYTES
    fetch: FetchPolicy = field(default_factory=FetchPolicy)
    format: str | None = None
    detect_language: bool = True
    path_date_offset_days: float = 0.0  # a path's date is this many days before publication


class ByteCounter:
    """Shared tally of input bytes consumed, for progress bars."""

    def __init__(self) -> None:
        self.value = 0


class _CountingFile(io.RawIOBase):
    def __init__(self, raw: BinaryIO, counter: ByteCounter) -> None:
        self._raw = raw
        self._counter = counter

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:  # type: ignore[override]
        n = self._raw.readinto(b)  # type: ignore[attr-defined]
        if n:
            self._counter.value += n
        return n or 0

    def close(self) -> None:
        self._raw.close()
        super().close()


def is_gzip(path: Path) -> bool:
    with open(path, "rb") as fh:
        return fh.read(2) == b"\x1f\x8b"


def open_binary(path: Path, counter: ByteCounter | None = None) -> BinaryIO:
    """Open ``path`` for reading, decompressing gzip transparently (by content, not name)."""
    raw: BinaryIO = open(path, "rb")  # noqa: SIM115 - returned to the caller
    if counter is not None:
        raw = io.BufferedReader(_CountingFile(raw, counter), buffer_size=1 << 20)  # type: ignore[assignment]
    head = raw.peek(2)[:2] if hasattr(raw, "peek") else b""
    if head == b"\x1f\x8b":
        return gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[return-value]
    return raw


READ_ERRORS = (EOFError, OSError, zlib.error, gzip.BadGzipFile)


def describe_read_error(exc: BaseException) -> str:
    if isinstance(exc, EOFError):
        return "input ends early (truncated or corrupt compressed file)"
    if isinstance(exc, gzip.BadGzipFile | zlib.error):
        return f"corrupt compressed data: {exc}"
    return f"read error: {exc}"


def host_of(url: str | None) -> str | None:
    """The site a URL is on, without 'www.': the default source name for web pages."""
    if not url:
        return None
    from urllib.parse import urlsplit

    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return None
    return host.removeprefix("www.") or None


def reject_file(path: Path, reason: str, position: str = "file") -> Reject:
    try:
        with open(path, "rb") as fh:
            raw = fh.read(RAW_KEEP_BYTES)
    except OSError:
        raw = b""
    return Reject(origin=str(path), position=position, reason=reason, raw=raw)


def iter_files(root: Path) -> Iterator[Path]:
    """Files under ``root`` in a stable order, skipping hidden and OS clutter."""
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not _skip(d))
        for name in sorted(filenames):
            if not _skip(name):
                yield Path(dirpath) / name


_OS_FILES = {"thumbs.db", "desktop.ini", "__macosx", "icon\r", ".ds_store", "__pycache__"}


def _skip(name: str) -> bool:
    low = name.lower()
    return (
        name.startswith(".")
        or low in _OS_FILES
        or name.startswith("~$")
        or name.endswith("~")
        or low.endswith((".swp", ".tmp", ".part", ".crdownload"))
    )
