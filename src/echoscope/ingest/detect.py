"""Choosing a reader for each source: by ``--format``, by extension, then by content."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from echoscope.ingest.base import ByteCounter, Item, ReadOptions, open_binary, reject_file
from echoscope.ingest.delimited import read_delimited
from echoscope.ingest.encoding import binary_kind
from echoscope.ingest.feed import (
    is_url_list,
    looks_like_feed,
    read_feed_file,
    read_url,
    read_url_list,
)
from echoscope.ingest.files import read_document_file, read_folder
from echoscope.ingest.html import looks_like_html
from echoscope.ingest.jsonl import read_jsonl
from echoscope.ingest.warc import read_warc
from echoscope.model import Reject

FORMATS = ("jsonl", "csv", "tsv", "text", "html", "warc", "feed", "urls", "folder", "url")

_BY_EXT = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".csv": "csv",
    ".tsv": "csv",
    ".tab": "csv",
    ".warc": "warc",
    ".arc": "warc",
    ".rss": "feed",
    ".atom": "feed",
    ".html": "html",
    ".htm": "html",
    ".xhtml": "html",
    ".shtml": "html",
    ".txt": "text",
    ".text": "text",
    ".md": "text",
}


class SourceError(ValueError):
    """A source argument that names nothing readable."""


def is_url(source: str) -> bool:
    return source.lower().startswith(("http://", "https://"))


def _sniff(path: Path) -> str:
    try:
        with open_binary(path) as fh:
            head = fh.read(8192)
    except (OSError, EOFError):
        return "text"
    if head.startswith(b"WARC/"):
        return "warc"
    if binary_kind(head):
        return "binary"
    text = head.decode("utf-8", errors="replace")
    stripped = text.lstrip("\ufeff \t\r\n")
    if stripped.startswith("{") or (stripped.startswith("[") and "{" in stripped[:200]):
        return "jsonl"
    if stripped.startswith("<"):
        if looks_like_feed(stripped):
            return "feed"
        if looks_like_html(stripped):
            return "html"
    if is_url_list(text.rsplit("\n", 1)[0] if len(head) == 8192 else text):
        return "urls"
    first = stripped.split("\n", 1)[0]
    if first.count(",") >= 2 or first.count("\t") >= 2:
        return "csv"
    return "text"


def detect_format(path: Path) -> str:
    name = path.name.lower()
    if name.endswith(".gz"):
        name = name[:-3]
    if name.endswith((".warc", ".arc")):
        return "warc"
    ext = Path(name).suffix
    fmt = _BY_EXT.get(ext)
    if fmt == "text":
        sniffed = _sniff(path)
        return sniffed if sniffed in ("urls", "html", "binary") else "text"
    if fmt == "html":
        return "html"
    if fmt is not None:
        return fmt
    if ext == ".xml":
        return "feed" if _sniff(path) == "feed" else "html"
    return _sniff(path)


def read_source(
    source: str, opts: ReadOptions, counter: ByteCounter | None = None
) -> Iterator[Item]:
    """Every document and reject from one command-line SOURCE."""
    if is_url(source):
        yield from read_url(source, opts)
        return
    path = Path(source).expanduser()
    if not path.exists():
        raise SourceError(f"no such file or folder: {source}")
    fmt = opts.format
    if path.is_dir():
        if fmt not in (None, "folder", "text", "html"):
            raise SourceError(f"{source} is a folder; --format {fmt} needs a file")
        forced = fmt if fmt in ("text", "html") else None
        yield from read_folder(
            path, opts, counter, lambda p, o, c, root: _read_path(p, o, c, root, forced)
        )
        return
    yield from _read_path(path, opts, counter, None, None if fmt in (None, "auto") else fmt)


def _read_path(
    path: Path, opts: ReadOptions, counter, root: Path | None, fmt: str | None
) -> Iterator[Item]:
    try:
        fmt = fmt or detect_format(path)
    except OSError as exc:
        yield Reject(str(path), "file", f"cannot read: {exc}")
        return
    if fmt == "jsonl":
        yield from read_jsonl(path, opts, counter)
    elif fmt in ("csv", "tsv"):
        yield from read_delimited(path, opts, counter)
    elif fmt == "warc":
        yield from read_warc(path, opts, counter)
    elif fmt == "feed":
        yield from read_feed_file(path, opts, counter)
    elif fmt == "urls":
        yield from read_url_list(path, opts, counter)
    elif fmt in ("text", "html"):
        yield from read_document_file(
            path, opts, counter, root=root, kind=fmt if opts.format else None
        )
    elif fmt == "binary":
        yield reject_file(path, f"not a readable format: {_binary_reason(path)}")
    else:
        raise SourceError(f"unknown format {fmt!r}; formats are: {', '.join(FORMATS)}")


def _binary_reason(path: Path) -> str:
    try:
        with open(path, "rb") as fh:
            return binary_kind(fh.read(8192)) or "binary data"
    except OSError as exc:
        return str(exc)


def input_size(sources: list[str]) -> int:
    """Total bytes of local inputs, for a progress bar (0 when unknown)."""
    total = 0
    for source in sources:
        if is_url(source):
            continue
        path = Path(source).expanduser()
        try:
            if path.is_dir():
                from echoscope.ingest.base import iter_files

                total += sum(p.stat().st_size for p in iter_files(path))
            elif path.exists():
                total += path.stat().st_size
        except OSError:
            pass
    return total
