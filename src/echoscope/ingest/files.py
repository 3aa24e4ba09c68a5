"""Single text or HTML files, and folders of them.

A folder is walked in a stable order; each file becomes one document whose id is its
path under the folder (prefixed with the folder's name, so two folders never collide),
with fields pulled from the path by ``--path-template``. Files of other formats found
in the folder (CSV, JSON Lines, WARC, feeds) go to their own readers.
"""

from __future__ import annotations

import gzip
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

from echoscope.ingest.base import (
    RAW_KEEP_BYTES,
    READ_ERRORS,
    ByteCounter,
    Item,
    ReadOptions,
    describe_read_error,
    file_kind,
    open_regular,
    reject_file,
    walk_folder,
)
from echoscope.ingest.dates import DateError, checked_utc
from echoscope.ingest.encoding import DecodeError, decode_bytes
from echoscope.ingest.html import extract_html, looks_like_html
from echoscope.ingest.wire import find_filing_in_html, is_headline, parse_wire, unwrap
from echoscope.model import Document, Reject, TimePrecision, TimeSource

TEXT_EXT = {".txt", ".text", ".md", ".rst", ".asc", ""}
HTML_EXT = {".html", ".htm", ".xhtml", ".shtml", ".php", ".asp", ".aspx"}


def read_file_bytes(path: Path, opts: ReadOptions, counter: ByteCounter | None) -> bytes | Reject:
    """The bytes of one regular file (gunzipped), or a reject saying why there are none.
    Never reads more than the document limit plus one byte, and never opens a pipe."""
    try:
        info = path.stat()
    except (OSError, RuntimeError) as exc:
        return Reject(str(path), "file", f"cannot read: {_reason(exc)}")
    kind = file_kind(info.st_mode)
    if kind is not None:
        return Reject(str(path), "file", f"{kind}, not a regular file: never read")
    size = info.st_size
    try:
        with open_regular(path) as fh:
            compressed = fh.read(2) == b"\x1f\x8b"
            if not compressed and size > opts.max_doc_bytes:
                fh.seek(0)
                return Reject(
                    str(path),
                    "file",
                    f"file too large: {size / 2**20:.1f} MB over the "
                    f"{opts.max_doc_bytes / 2**20:.1f} MB document limit "
                    "(raise it with --max-doc-mb)",
                    fh.read(RAW_KEEP_BYTES),
                    size=size,
                )
            fh.seek(0)
            if compressed:
                with gzip.GzipFile(fileobj=fh, mode="rb") as unzipped:
                    data = unzipped.read(opts.max_doc_bytes + 1)
                if len(data) > opts.max_doc_bytes:
                    fh.seek(0)
                    return Reject(
                        str(path),
                        "file",
                        "decompressed file over the document size limit",
                        fh.read(RAW_KEEP_BYTES),
                    )
            else:
                data = fh.read(opts.max_doc_bytes + 1)
                if len(data) > opts.max_doc_bytes:  # grew after stat()
                    return Reject(
                        str(path),
                        "file",
                        "file grew over the document size limit while being read",
                        data[:RAW_KEEP_BYTES],
                    )
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
        doc.warnings.extend(page.warnings)
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
            doc.metadata["wire_header"] = filing[1]
            _set_header_time(doc, filing[0], TimePrecision.MINUTE, opts)
        elif page.published_at is not None:
            doc.published_at, doc.time_precision = page.published_at, page.precision
            doc.time_source = TimeSource.METADATA
        elif page.date_raw:
            doc.warnings.append(f"date unreadable: {page.date_error or repr(page.date_raw)}")
            doc.metadata["date_raw"] = page.date_raw
    else:
        wire = parse_wire(text)
        if wire is not None:
            doc.text = wire.text
            doc.title = wire.headline
            doc.metadata["wire_header"] = wire.header
            if wire.filed_at is not None:
                _set_header_time(doc, wire.filed_at, wire.precision, opts)
        else:
            doc.text = text
    _apply_template(doc, rel, opts)
    if doc.source is None:
        doc.source = opts.source
    yield doc


def _set_header_time(
    doc: Document, filed: datetime, precision: TimePrecision, opts: ReadOptions
) -> None:
    """A wire filing time, or a warning when it names no real moment (the path's date,
    if any, then stands)."""
    try:
        doc.published_at = checked_utc(filed, opts.tz)
    except DateError as exc:
        doc.warnings.append(f"date unreadable: wire filing time: {exc}")
        doc.metadata["date_raw"] = doc.metadata.get("wire_header", filed.isoformat())
        return
    doc.time_precision = precision
    doc.time_source = TimeSource.HEADER


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
            try:
                shifted = m.published_at + timedelta(days=opts.path_date_offset_days)
                doc.published_at = checked_utc(shifted, opts.tz)
                doc.time_precision = m.precision
                doc.time_source = TimeSource.PATH
            except (DateError, OverflowError) as exc:
                doc.warnings.append(f"date unreadable: path date: {exc}")
        doc.metadata["path_date"] = m.published_at.date().isoformat()
    doc.metadata.update(fields)


def read_folder(
    root: Path,
    opts: ReadOptions,
    counter: ByteCounter | None,
    dispatch: Callable[[Path, ReadOptions, ByteCounter | None, Path], Iterator[Item]],
) -> Iterator[Item]:
    """Every file under ``root`` through ``dispatch``; what cannot be opened (a pipe, a
    link loop, a file without read permission) is one reject and the walk goes on."""
    for entry in walk_folder(root):
        if entry.problem is not None:
            yield Reject(str(entry.path), "file", entry.problem)
            continue
        try:
            with open_regular(entry.path):
                pass  # a readers' own open would fail the same way, some less gently
        except OSError as exc:
            yield Reject(str(entry.path), "file", f"cannot read: {_reason(exc)}")
            continue
        yield from dispatch(entry.path, opts, counter, root)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc)
