"""Hostile WARC and JSON inputs: a damaged record is a reject naming where it is, and every
good record before and after it is still stored; nothing escapes as an exception.

Each test writes its own small inputs under ``tmp_path``. Property tests are
derandomised and bounded so that they run the same way every time.
"""

from __future__ import annotations

import gzip
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from echoscope.ingest.base import RAW_KEEP_BYTES, ReadOptions
from echoscope.ingest.jsonl import CHUNK, _ArrayLexer, read_jsonl
from echoscope.ingest.pipeline import IngestSummary, ingest
from echoscope.ingest.warc import read_warc
from echoscope.model import Document, Reject
from echoscope.store import Store

KiB = 1024
PROPERTY = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


# -- helpers ----------------------------------------------------------------------------
@pytest.fixture
def db(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "hostile.duckdb") as store:
        yield store


def run(store: Store, *sources: Path, **options) -> IngestSummary:
    options.setdefault("detect_language", False)
    return ingest(store, [str(s) for s in sources], ReadOptions(**options))


def doc_ids(store: Store) -> set[str]:
    return {row[0] for row in store.con.execute("SELECT id FROM documents").fetchall()}


def doc_urls(store: Store) -> set[str | None]:
    return {row[0] for row in store.con.execute("SELECT url FROM documents").fetchall()}


def rejects(store: Store) -> list[dict]:
    cur = store.con.execute("SELECT position, reason, raw, raw_size FROM rejects")
    cols = [c[0] for c in cur.description]
    return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]


def read_all(reader, path: Path, **options) -> list[Document | Reject]:
    options.setdefault("detect_language", False)
    items = list(reader(path, ReadOptions(**options)))
    assert all(isinstance(item, Document | Reject) for item in items)
    return items


def page(i: int) -> bytes:
    words = f"Story number {i} tells of the harbour council, the ferry and the storm. " * 4
    return (
        f"<html><head><title>Story {i}</title></head><body><article><p>{words}</p>"
        "</article></body></html>"
    ).encode()


def warc_record(i: int, url: str | None = "default", gz: bool = False) -> bytes:
    """One response record as a WARC writer would write it (one gzip member when gz)."""
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    buf = io.BytesIO()
    writer = WARCWriter(buf, gzip=gz)
    headers = StatusAndHeaders(
        "200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1"
    )
    target = f"https://news.example/story/{i}" if url == "default" else url
    record = writer.create_warc_record(
        target or "https://placeholder.example/",
        "response",
        payload=io.BytesIO(page(i)),
        http_headers=headers,
        warc_headers_dict={"WARC-Date": "2025-03-16T12:00:00Z"},
    )
    if target is None:
        record.rec_headers.remove_header("WARC-Target-URI")
    writer.write_record(record)
    return buf.getvalue()


def story_urls(indexes) -> set[str]:
    return {f"https://news.example/story/{i}" for i in indexes}


def set_length(record: bytes, delta: int) -> bytes:
    """The record with its WARC Content-Length changed by ``delta``."""
    at = record.index(b"Content-Length: ") + len(b"Content-Length: ")
    end = record.index(b"\r\n", at)
    return record[:at] + str(int(record[at:end]) + delta).encode() + record[end:]


def records(n: int, gz: bool = False) -> list[bytes]:
    return [warc_record(i, gz=gz) for i in range(n)]


# -- 1. a record without WARC-Target-URI --------------------------------------------------
def test_warc_record_without_target_uri_does_not_abort_the_ingest(tmp_path, db):
    """It used to raise inside warcio and end the whole run (exit 3)."""
    parts = records(5)
    parts[2] = warc_record(2, url=None)
    path = tmp_path / "nouri.warc"
    path.write_bytes(b"".join(parts))

    summary = run(db, path)

    assert story_urls([0, 1, 3, 4]) <= doc_urls(db)
    assert summary.stored == 5 and summary.rejected == 0
    assert None in doc_urls(db)
    assert summary.warnings["warc"] == 1  # stored without a URL, and said so


# -- 2. structural damage: lengths, garbage, truncation ----------------------------------
@pytest.mark.parametrize("delta", [3000, 40, -25, 10**9])
def test_wrong_content_length_costs_one_record_not_the_ones_after_it(tmp_path, db, delta):
    """Too long used to swallow the next records silently; now the liar is rejected with
    its offset and reading resumes at the next record header."""
    parts = records(8)
    parts[2] = set_length(parts[2], delta)
    path = tmp_path / "badlength.warc"
    path.write_bytes(b"".join(parts))
    offset = len(parts[0]) + len(parts[1])

    summary = run(db, path)

    assert doc_urls(db) == story_urls([0, 1, 3, 4, 5, 6, 7])
    [reject] = rejects(db)
    assert reject["position"] == "record 3"
    assert f"offset {offset}" in reject["reason"]
    assert "Content-Length" in reject["reason"]
    assert 0 < len(reject["raw"]) <= RAW_KEEP_BYTES
    assert summary.rejected == 1


@pytest.mark.parametrize("newline", [True, False])
def test_garbage_between_warc_records_is_skipped_to_the_next_header(tmp_path, db, newline):
    parts = records(6)
    junk = b"\x00\xffnot a record at all" * 30 + (b"\r\n" if newline else b"")
    path = tmp_path / "junk.warc"
    path.write_bytes(b"".join(parts[:3]) + junk + b"".join(parts[3:]))

    summary = run(db, path)

    assert doc_urls(db) == story_urls(range(6))
    [reject] = rejects(db)
    assert reject["reason"].startswith(f"not a WARC record: {len(junk)} bytes")
    assert reject["position"] == f"offset {sum(map(len, parts[:3]))}"
    assert summary.rejected == 1


def test_truncated_warc_gz_names_the_cut_and_keeps_every_whole_record(tmp_path, db):
    parts = records(6, gz=True)
    whole = b"".join(parts)
    cut_at = sum(map(len, parts[:4])) + len(parts[4]) // 2
    path = tmp_path / "cut.warc.gz"
    path.write_bytes(whole[:cut_at])

    summary = run(db, path)

    assert doc_urls(db) == story_urls(range(4))
    [reject] = rejects(db)
    assert reject["position"] == "record 5"
    assert f"gzip member at byte {sum(map(len, parts[:4]))} ends early" in reject["reason"]
    assert summary.rejected == 1


def test_truncated_plain_warc_is_a_reject(tmp_path, db):
    parts = records(4)
    path = tmp_path / "cut.warc"
    path.write_bytes(b"".join(parts)[: -len(parts[3]) // 3])

    run(db, path)

    assert doc_urls(db) == story_urls(range(3))
    [reject] = rejects(db)
    assert "truncated file" in reject["reason"] and reject["position"] == "record 4"


@pytest.mark.parametrize("where", ["between", "inside"])
def test_corrupt_gzip_member_is_skipped_to_the_next_member(tmp_path, db, where):
    parts = records(6, gz=True)
    if where == "between":
        body = b"".join(parts[:3]) + b"GARBAGE" * 50 + b"".join(parts[3:])
        lost = []
    else:
        member = bytearray(parts[2])
        for k in range(30, 60):
            member[k] ^= 0x5A
        body = b"".join(parts[:2]) + bytes(member) + b"".join(parts[3:])
        lost = [2]
    path = tmp_path / "corrupt.warc.gz"
    path.write_bytes(body)

    summary = run(db, path)

    assert doc_urls(db) == story_urls(i for i in range(6) if i not in lost)
    assert summary.rejected >= 1
    assert any("corrupt gzip data" in r["reason"] for r in rejects(db))


def test_oversized_warc_page_is_rejected_with_bounded_raw_and_reading_goes_on(tmp_path, db):
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    buf = io.BytesIO()
    writer = WARCWriter(buf, gzip=False)
    big = b"<html><body><p>" + b"flood " * (300 * KiB) + b"</p></body></html>"
    headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1")
    writer.write_record(
        writer.create_warc_record(
            "https://news.example/big", "response", payload=io.BytesIO(big), http_headers=headers
        )
    )
    path = tmp_path / "big.warc"
    path.write_bytes(warc_record(0) + buf.getvalue() + warc_record(1))

    run(db, path, max_doc_bytes=256 * KiB)

    assert doc_urls(db) == story_urls([0, 1])
    [reject] = rejects(db)
    assert "document limit" in reject["reason"]
    assert 0 < len(reject["raw"]) <= RAW_KEEP_BYTES


# -- 3. a JSON array with one syntax error -----------------------------------------------
def array_records(n: int = 99) -> list[dict]:
    return [
        {"id": f"r{i}", "text": f"record {i} about the ferry", "tags": [{"k": i}, {"k": 2}]}
        for i in range(n)
    ]


def break_pretty(text: str, kind: str) -> str:
    at = text.index('"id": "r50"')
    end = text.index('\n  },\n  {\n    "id": "r51"')
    if kind == "missing comma in a field list":
        return text[:at] + text[at:].replace('",', '"', 1)
    if kind == "unterminated string":
        return text[:at] + text[at:].replace('ferry"', "ferry", 1)
    if kind == "missing closing brace":
        return text[:end] + text[end + 5 :]
    if kind == "stray closing brace":
        return text[:end] + "\n  }}," + text[end + 5 :]
    raise AssertionError(kind)


@pytest.mark.parametrize(
    "kind",
    [
        "missing comma in a field list",
        "unterminated string",
        "missing closing brace",
        "stray closing brace",
    ],
)
def test_pretty_array_with_one_syntax_error_loses_one_element(tmp_path, db, kind):
    """It used to store 0 of 99 records."""
    path = tmp_path / "array.json"
    path.write_text(break_pretty(json.dumps(array_records(), indent=2), kind))

    summary = run(db, path)

    assert doc_ids(db) == {f"r{i}" for i in range(99) if i != 50}
    [reject] = rejects(db)
    assert reject["position"] == "item 50"
    assert reject["reason"].startswith("malformed JSON")
    assert "byte " in reject["reason"]
    assert reject["raw"].lstrip().startswith(b"{")
    assert summary.rejected == 1


@pytest.mark.parametrize("kind", ["missing colon", "missing closing brace", "open quote"])
def test_one_line_array_with_one_syntax_error_loses_one_element(tmp_path, db, kind):
    text = json.dumps(array_records())
    at = text.index('{"id": "r50"')
    if kind == "missing colon":
        text = text[:at] + text[at:].replace('"id": ', '"id" ', 1)
    elif kind == "missing closing brace":
        end = text.index('}, {"id": "r51"')
        text = text[:end] + text[end + 1 :]
    else:
        text = text[:at] + text[at:].replace('ferry"', "ferry", 1)
    path = tmp_path / "line.json"
    path.write_text(text)

    run(db, path)

    assert doc_ids(db) == {f"r{i}" for i in range(99) if i != 50}
    [reject] = rejects(db)
    assert reject["position"] == "item 50" and reject["reason"].startswith("malformed JSON")


def test_truncated_json_array_keeps_the_elements_before_the_cut(tmp_path, db):
    text = json.dumps(array_records(), indent=2).encode()
    path = tmp_path / "cut.json.gz"
    path.write_bytes(gzip.compress(text[: text.index(b'"id": "r60"') + 5]))

    run(db, path)

    assert doc_ids(db) == {f"r{i}" for i in range(60)}
    [reject] = rejects(db)
    assert reject["position"] == "item 60"
    assert "ends" in reject["reason"]


def test_data_after_the_array_is_a_reject_not_a_loss_of_the_array(tmp_path, db):
    path = tmp_path / "tail.json"
    path.write_text(json.dumps(array_records(5), indent=2) + "\ntrailing words\n")

    run(db, path)

    assert doc_ids(db) == {f"r{i}" for i in range(5)}
    [reject] = rejects(db)
    assert reject["reason"].startswith("data after the end of the JSON array")


# -- 4. memory is bounded per element, not per array ---------------------------------------
def test_oversized_array_element_is_rejected_with_bounded_raw(tmp_path, db):
    records = array_records(4)
    records[2]["text"] = "é" * (200 * KiB)  # 400 KB of UTF-8, over 2*64 KiB + 64 KiB
    path = tmp_path / "big.json"
    path.write_text(json.dumps(records, ensure_ascii=False, indent=1))

    run(db, path, max_doc_bytes=64 * KiB)

    assert doc_ids(db) == {"r0", "r1", "r3"}
    [reject] = rejects(db)
    assert reject["position"] == "item 2"
    assert reject["reason"].startswith("array element too long")
    assert 0 < len(reject["raw"]) <= RAW_KEEP_BYTES
    assert reject["raw_size"] > 400 * KiB


def test_array_lexer_holds_one_element_at_a_time():
    """An array many times the element cap is read with a buffer near the cap."""
    element = json.dumps({"id": "x", "text": "word " * 20_000}).encode()  # ~100 KB
    count = 120  # ~12 MB in all
    data = io.BytesIO(b"[" + b",\n".join([element] * count) + b"]")
    lexer = _ArrayLexer(data.read, cap=256 * KiB)
    lexer.skip_space()
    lexer.pos += 1
    seen, biggest = 0, 0
    while lexer.skip_space() not in (None, b"]"):
        if lexer.peek(1) == b",":
            lexer.pos += 1
            continue
        piece = lexer.element()
        assert piece.status == "ok" and piece.data == element
        seen += 1
        biggest = max(biggest, len(lexer.buf))
    assert seen == count
    assert biggest < 256 * KiB + 3 * CHUNK


# -- 5. lone surrogates outside the text -----------------------------------------------------
LONE = {
    "id": "s1\ud83d",
    "title": "title \udc00",
    "source": "outlet \ud800",
    "url": "https://x.example/\udbff",
    "text": "text with a lone \ud83d surrogate",
    "extra": {"key \ud800": ["\udfff"]},
}


@pytest.mark.parametrize("layout", ["lines", "array"])
def test_lone_surrogates_in_any_field_are_stored_with_a_warning(tmp_path, db, layout):
    good = {"id": "g1", "text": "a good record"}
    path = tmp_path / f"sur.{layout}.json"
    if layout == "lines":
        path.write_text("\n".join(json.dumps(r) for r in (good, LONE, good | {"id": "g2"})))
    else:
        path.write_text(json.dumps([good, LONE, good | {"id": "g2"}], indent=2))

    summary = run(db, path)

    assert doc_ids(db) == {"g1", "g2", "s1\ufffd"}
    assert summary.rejected == 0
    assert summary.warnings["encoding"] == 1
    stored = db.get_document("s1\ufffd")
    assert stored["title"] == "title \ufffd" and stored["source"] == "outlet \ufffd"
    assert "\ufffd" in json.dumps(stored["metadata"], ensure_ascii=False)


def test_jsonl_readers_still_tell_arrays_from_lines(tmp_path):
    lines = tmp_path / "lines.jsonl"
    lines.write_text('[1, 2]\n{"id": "a", "text": "t"}\n')
    one_line = tmp_path / "one.json"
    one_line.write_text('[{"id": "a", "text": "t"},\n{"id": "b", "text": "u"}]\n')

    first = read_all(read_jsonl, lines)
    second = read_all(read_jsonl, one_line)

    assert [i.position for i in first if isinstance(i, Reject)] == ["line 1"]
    assert [i.id for i in second if isinstance(i, Document)] == ["a", "b"]


# -- 6. properties: never raise, keep what came before the damage ----------------------------
@PROPERTY
@given(data=st.binary(max_size=2000), lead=st.sampled_from([b"", b"[", b"WARC/1.0\r\n"]))
def test_random_bytes_never_raise(tmp_path, data, lead):
    path = tmp_path / "random.bin"
    path.write_bytes(lead + data)
    read_all(read_jsonl, path)
    read_all(read_warc, path)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=8,
)
lone_text = st.text(
    alphabet=st.characters(min_codepoint=0, max_codepoint=0xDFFF, exclude_categories=()),
    max_size=20,
)


@PROPERTY
@given(
    records=st.lists(
        st.fixed_dictionaries(
            {"text": lone_text}, optional={"title": lone_text, "id": lone_text, "x": json_values}
        ),
        min_size=1,
        max_size=6,
    ),
    layout=st.sampled_from(["lines", "array", "pretty"]),
)
def test_random_unicode_with_lone_surrogates_is_read(tmp_path, records, layout):
    path = tmp_path / "unicode.json"
    if layout == "lines":
        path.write_text("\n".join(json.dumps(r) for r in records) + "\n")
    else:
        path.write_text(json.dumps(records, indent=2 if layout == "pretty" else None))

    items = read_all(read_jsonl, path)

    docs = [i for i in items if isinstance(i, Document)]
    assert len(docs) == len(records), [i for i in items if isinstance(i, Reject)]
    for doc in docs:
        for value in (doc.text, doc.title, doc.id):
            if value is not None:
                value.encode("utf-8")  # storable


@PROPERTY
@given(
    count=st.integers(min_value=1, max_value=8),
    cut=st.floats(min_value=0.0, max_value=1.0),
    layout=st.sampled_from(["lines", "array", "pretty"]),
)
def test_truncated_json_keeps_every_record_before_the_cut(tmp_path, count, cut, layout):
    records = [{"id": f"r{i}", "text": f"record {i}"} for i in range(count)]
    if layout == "lines":
        parts = [json.dumps(r) + "\n" for r in records]
        text = "".join(parts)
    else:
        text = json.dumps(records, indent=2 if layout == "pretty" else None)
    data = text.encode()[: int(len(text) * cut)]
    path = tmp_path / "cut.json"
    path.write_bytes(data)

    items = read_all(read_jsonl, path)

    ids = [i.id for i in items if isinstance(i, Document)]
    intact = data.count(b"}")  # one closing brace per record
    assert ids[:intact] == [f"r{i}" for i in range(intact)]


@settings(max_examples=25, deadline=None, derandomize=True)
@given(
    cut=st.integers(min_value=0, max_value=10**6),
    gz=st.booleans(),
    flip=st.none() | st.integers(min_value=0, max_value=10**6),
)
def test_truncated_or_flipped_warc_keeps_the_records_before_the_damage(
    tmp_path_factory, cut, gz, flip
):
    parts = RECORDS_GZ if gz else RECORDS_PLAIN
    whole = b"".join(parts)
    data = bytearray(whole[: cut % (len(whole) + 1)])
    damage = len(data)
    if flip is not None and data:
        at = flip % len(data)
        data[at] ^= 0xFF
        damage = min(damage, at)
    path = tmp_path_factory.mktemp("warc") / ("w.warc.gz" if gz else "w.warc")
    path.write_bytes(bytes(data))

    items = read_all(read_warc, path)

    urls = [i.url for i in items if isinstance(i, Document)]
    ends, total = [], 0
    for part in parts:
        total += len(part)
        ends.append(total)
    intact = [i for i, end in enumerate(ends) if end <= damage]
    assert story_urls(intact) <= set(urls)


RECORDS_PLAIN = records(4)
RECORDS_GZ = records(4, gz=True)


def test_many_records_across_read_chunks_frame_cleanly(tmp_path, db):
    """Thousands of small records cross every buffer boundary; none is mis-framed."""
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    buf = io.BytesIO()
    writer = WARCWriter(buf, gzip=False)
    headers = StatusAndHeaders("200 OK", [("Content-Type", "image/png")], protocol="HTTP/1.1")
    for i in range(3000):
        writer.write_record(
            writer.create_warc_record(
                f"https://news.example/img/{i}.png",
                "response",
                payload=io.BytesIO(b"\x89PNG\r\n" + bytes(i % 251 for _ in range(i % 997))),
                http_headers=headers,
            )
        )
    path = tmp_path / "many.warc"
    path.write_bytes(warc_record(0) + buf.getvalue() + warc_record(1) + buf.getvalue())
    assert path.stat().st_size > 3 * CHUNK

    summary = run(db, path)

    assert doc_urls(db) == story_urls([0, 1])
    assert summary.rejected == 0
