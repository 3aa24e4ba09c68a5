"""Single text or HTML files, and folders of them.

A folder is walked in a stable order; each file becomes one document whose id is its
path under the folder (prefixed with the folder's name, so two folders never collide),
with fields pulled from the path by ``--path-template``. Files of other formats found
in the folder (CSV, JSON Lines, WARC, feeds) go to their own readers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

from echoscope.ingest.base import (
    RAW_KEEP_BYTES,
    READ_ERRORS,
    ByteCounter,
    Item,
    ReadOptions,
    describe_read_error,
    is_gzip,
    iter_files,
    reject_file,
)
from echoscope.ingest.dates import to_utc
from echoscope.ingest.encoding import DecodeError, decode_bytes
from echoscope.ingest.html import extract_html, looks_like_html
from echoscope.ingest.wire import find_filing_in_html, is_headline, parse_wire, unwrap
from echoscope.model import Document, Reject, TimePrecision, TimeSource

TEXT_EXT = {".txt", ".text", ".md", ".rst", ".asc", ""}
HTML_EXT = {".html", ".htm", ".xhtml", ".shtml", ".php", ".asp", ".aspx"}


def read_file_bytes(path: Path, opts: ReadOptions, counter: ByteCounter | None) -> bytes | Reject:
    try:
        size = path.stat().st_size
    except OSError as exc:
        return Reject(str(path), "file", f"cannot read: {exc}")
    compressed = size >= 2 and is_gzip(path)
    if not compressed and size > opts.max_doc_bytes:
        return reject_file(
            path,
            f"file too large: {size / 2**20:.1f} MB over the {opts.max_doc_bytes / 2**20:.1f} MB "
            "document limit (raise it with --max-doc-mb)",
        )
    try:
        if compressed:
            import gzip

            with gzip.open(path, "rb") as fh:
                data = fh.read(opts.max_doc_bytes + 1)
            if len(data) > opts.max_doc_bytes:
                return reject_file(path, "decompressed file over the document size limit")
        else:
            data = path.read_bytes()
    except READ_ERRORS as exc:
        return reject_file(path, describe_read_error(exc))
    if counter is not None:
        counter.value += size
    return data


def read_document_file(
    path: Path,
    opts: ReadOptions,
    counter: ByteCounter | None = None,
    *,
    root: Path | None = None,
    kind: str | None = None,
) -> Iterator[Item]:
    """One text or HTML file -> one document."""
    data = read_file_bytes(path, opts, counter)
    if isinstance(data, Reject):
        yield data
        return
    origin = str(path)
    if not data.strip():
        yield Reject(origin, "file", "empty file: no text", data[:RAW_KEEP_BYTES])
        return
    try:
        text, encoding = decode_bytes(data)
    except DecodeError as exc:
        yield Reject(origin, "file", f"{exc}; not a text or HTML file", data[:RAW_KEEP_BYTES])
        return
    ext = path.suffix.lower() if path.suffix.lower() != ".gz" else Path(path.stem).suffix.lower()
    if kind is None:
        kind = (
            "html" if ext in HTML_EXT or (ext not in TEXT_EXT and looks_like_html(text)) else "text"
        )
        if kind == "text" and ext in {"", ".txt"} and looks_like_html(text[:4096]) and "</" in text:
            kind = "html"
    rel = path.relative_to(root).as_posix() if root is not None else path.name
    doc_id = f"{root.name}/{rel}" if root is not None else path.name
    doc = Document(text="", id=doc_id, origin=origin)
    doc.metadata["path"] = rel
    if encoding not in ("utf-8", "ascii"):
        doc.metadata["encoding"] = encoding
    if kind == "html":
        page = extract_html(text, tz=opts.tz)
        doc.text = page.text
        doc.title = page.title
        doc.links = page.links
        doc.language = page.language
        doc.url = page.canonical_url
        if page.author:
            doc.metadata["author"] = page.author
        if page.sitename:
            doc.metadata["sitename"] = page.sitename
        filing = find_filing_in_html(text)
        if filing is not None:
            doc.text = unwrap(page.text)
            first_line = doc.text.split("\n", 1)[0].strip()
            if is_headline(first_line):
                doc.title = first_line
            doc.published_at = to_utc(filing[0], opts.tz)
            doc.time_precision = TimePrecision.MINUTE
            doc.time_source = TimeSource.HEADER
            doc.metadata["wire_header"] = filing[1]
        elif page.published_at is not None:
            doc.published_at, doc.time_precision = page.published_at, page.precision
            doc.time_source = TimeSource.METADATA
        elif page.date_raw:
            doc.warnings.append(f"date unreadable: {page.date_raw!r}")
            doc.metadata["date_raw"] = page.date_raw
    else:
        wire = parse_wire(text)
        if wire is not None:
            doc.text = wire.text
            doc.title = wire.headline
            doc.metadata["wire_header"] = wire.header
            if wire.filed_at is not None:
                doc.published_at = to_utc(wire.filed_at, opts.tz)
                doc.time_precision = wire.precision
                doc.time_source = TimeSource.HEADER
        else:
            doc.text = text
    _apply_template(doc, rel, opts)
    if doc.source is None:
        doc.source = opts.source
    yield doc


def _apply_template(doc: Document, rel: str, opts: ReadOptions) -> None:
    if opts.path_template is None:
        return
    m = opts.path_template.match(rel)
    if m is None:
        doc.warnings.append(f"path does not match template {opts.path_template.template!r}")
        return
    fields = dict(m.fields)
    for key in ("source", "title", "language", "url"):
        value = fields.pop(key, None)
        if value and (key == "source" or getattr(doc, key) is None):
            setattr(doc, key, value)
    if "id" in fields:
        doc.id = fields.pop("id")
    fields.pop("ext", None)
    if m.published_at is not None:
        if doc.time_source in (TimeSource.UNKNOWN, TimeSource.CRAWL):
            shifted = m.published_at + timedelta(days=opts.path_date_offset_days)
            doc.published_at = to_utc(shifted, opts.tz)
            doc.time_precision = m.precision
            doc.time_source = TimeSource.PATH
        doc.metadata["path_date"] = m.published_at.date().isoformat()
    doc.metadata.update(fields)


def read_folder(
    root: Path,
    opts: ReadOptions,
    counter: ByteCounter | None,
    dispatch: Callable[[Path, ReadOptions, ByteCounter | None, Path], Iterator[Item]],
) -> Iterator[Item]:
    for path in iter_files(root):
        if path.is_symlink() and not path.resolve().is_relative_to(root.resolve()):
            yield Reject(str(path), "file", "symbolic link out of the folder: skipped")
            continue
        yield from dispatch(path, opts, counter, root)
