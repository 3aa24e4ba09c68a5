"""What every reader shares: options, opening (gzip or not), and counting bytes read.

Only regular files are ever opened: a named pipe would block the run for ever and a
device could feed it without end, so both are refused before any read, and so are
symbolic-link loops when a folder is walked.
"""

from __future__ import annotations

import errno
import gzip
import io
import os
import stat
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


class NotRegularFile(OSError):
    """A path that is a pipe, socket, device or folder: never read as a document."""


def file_kind(mode: int) -> str | None:
    """What a non-regular file is, in words; None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


def open_regular(path: Path) -> BinaryIO:
    """Open a regular file for reading, or raise OSError. The open does not block on a
    FIFO (O_NONBLOCK), and the type is checked on the open descriptor, so a file swapped
    for a pipe after the folder was listed is refused too."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags)
    try:
        kind = file_kind(os.fstat(fd).st_mode)
        if kind is not None:
            raise NotRegularFile(f"{kind}, not a regular file: never read")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def is_gzip(path: Path) -> bool:
    with open_regular(path) as fh:
        return fh.read(2) == b"\x1f\x8b"


def open_binary(path: Path, counter: ByteCounter | None = None) -> BinaryIO:
    """Open ``path`` for reading, decompressing gzip transparently (by content, not name)."""
    raw: BinaryIO = open_regular(path)
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
        with open_regular(path) as fh:
            raw = fh.read(RAW_KEEP_BYTES)
    except (OSError, ValueError):
        raw = b""
    return Reject(origin=str(path), position=position, reason=reason, raw=raw)


@dataclass(frozen=True)
class FolderEntry:
    """One thing found in a folder: a regular file to read, or why it cannot be read."""

    path: Path
    problem: str | None = None


def iter_files(root: Path) -> Iterator[Path]:
    """Readable regular files under ``root`` in a stable order, skipping hidden and OS
    clutter; what cannot be read is left out here and named by ``walk_folder``."""
    for entry in walk_folder(root):
        if entry.problem is None:
            yield entry.path


def walk_folder(root: Path) -> Iterator[FolderEntry]:
    """Everything under ``root`` that a reader would care about, in a stable order: each
    folder's files by name, then its subfolders by name.

    Nothing is opened. A symbolic link is followed only to a regular file inside ``root``;
    a link to a folder inside ``root`` is left out without a word (its files are read at
    their own path, and a link back up would loop), and a loop, a broken link, a link out
    of the folder, a pipe, socket or device, and a folder that cannot be listed each come
    back with the reason, so the caller can reject that one path and go on."""
    try:
        real_root = root.resolve(strict=True)
    except (OSError, RuntimeError) as exc:
        yield FolderEntry(root, f"cannot read folder: {_os_reason(exc)}")
        return
    stack = [root]
    while stack:
        folder = stack.pop()
        try:
            with os.scandir(folder) as it:
                entries = sorted((e for e in it if not _skip(e.name)), key=lambda e: e.name)
        except OSError as exc:
            yield FolderEntry(folder, f"cannot list folder: {_os_reason(exc)}")
            continue
        subfolders: list[Path] = []
        for entry in entries:
            path = Path(entry.path)
            try:
                mode = entry.stat(follow_symlinks=False).st_mode
            except OSError as exc:
                yield FolderEntry(path, f"cannot read: {_os_reason(exc)}")
                continue
            if stat.S_ISLNK(mode):
                found = _follow_link(path, real_root)
                if isinstance(found, str):
                    yield FolderEntry(path, found)
                elif found is not None:
                    yield FolderEntry(path)
            elif stat.S_ISDIR(mode):
                subfolders.append(path)
            elif (kind := file_kind(mode)) is not None:
                yield FolderEntry(path, f"{kind}, not a regular file: skipped, never opened")
            else:
                yield FolderEntry(path)
        stack.extend(reversed(subfolders))


def _follow_link(path: Path, real_root: Path) -> Path | str | None:
    """A symlink's target when it is a regular file inside the folder; None for a folder
    inside it (read where it is); otherwise the reason it is skipped."""
    try:
        target = path.resolve(strict=True)
    except RuntimeError:  # Python 3.11 reports a loop this way
        return "symbolic link loop: not followed"
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "symbolic link loop: not followed"
        if exc.errno == errno.ENOENT:
            return "broken symbolic link: its target does not exist"
        return f"cannot read: {_os_reason(exc)}"
    if not target.is_relative_to(real_root):
        return "symbolic link out of the folder: skipped"
    try:
        mode = target.stat().st_mode
    except OSError as exc:
        return f"cannot read: {_os_reason(exc)}"
    if stat.S_ISDIR(mode):
        return None
    kind = file_kind(mode)
    if kind is not None:
        return f"symbolic link to {kind}: skipped, never opened"
    return target


def _os_reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc)


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
