"""Hostile CSV/TSV input and mixed text encodings (issue 25): every bad row ends as a
reject or a warning that says why, every good row beside it is stored, nothing raises.

Each test writes its own small inputs under ``tmp_path``; nothing touches the network.
"""

from __future__ import annotations

import csv
import gzip
import io
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from echoscope.ingest import delimited
from echoscope.ingest.base import RAW_KEEP_BYTES, ReadOptions
from echoscope.ingest.delimited import read_delimited
from echoscope.ingest.encoding import decode_bytes
from echoscope.ingest.pipeline import IngestSummary, ingest
from echoscope.model import Document, Reject
from echoscope.store import Store

KiB = 1024
MiB = 1024 * KiB
JAPANESE = [
    "東京都は水道の供給について新しい計画を発表しました。",
    "裁判所は判決を言い渡した",
    "株価が大幅に下落",
    "病院の医師不足",
    "祭りが三年ぶりに開催",
]


# -- helpers ----------------------------------------------------------------------------
@pytest.fixture
def db(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "hostile_csv.duckdb") as store:
        yield store


def run(store: Store, *sources: Path, **options) -> IngestSummary:
    """Ingest through the public pipeline; language guessing is off to keep tests fast."""
    options.setdefault("detect_language", False)
    return ingest(store, [str(s) for s in sources], ReadOptions(**options))


def read(path: Path, **options) -> tuple[list[Document], list[Reject]]:
    """Read one file straight through the CSV reader."""
    options.setdefault("detect_language", False)
    items = list(read_delimited(path, ReadOptions(**options)))
    assert all(isinstance(i, Document | Reject) for i in items)
    docs = [i for i in items if isinstance(i, Document)]
    return docs, [i for i in items if isinstance(i, Reject)]


def csv_text(header: list[str], rows: list[list[str]], end: str = "\n") -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator=end)
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue()


def good_rows(n: int, start: int = 0) -> list[list[str]]:
    return [[f"r{i}", f"council votes on the budget, item {i}"] for i in range(start, start + n)]


def doc_ids(store: Store) -> set[str]:
    return {row[0] for row in store.con.execute("SELECT id FROM documents").fetchall()}


def rejects(store: Store) -> list[dict]:
    cur = store.con.execute("SELECT origin, position, reason, raw, raw_size FROM rejects")
    cols = [c[0] for c in cur.description]
    return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]


def warnings_of(store: Store, doc_id: str) -> list[str]:
    found = store.get_document(doc_id)
    assert found is not None, doc_id
    meta = found["metadata"]
    if isinstance(meta, str):
        import json

        meta = json.loads(meta)
    return list((meta or {}).get("ingest_warnings", []))


def write_gzip_stream(path: Path, parts: Iterator[bytes]) -> Path:
    """Gzip a stream of byte chunks without holding them in memory."""
    packer = zlib.compressobj(6, zlib.DEFLATED, 31)  # 31: gzip container
    with open(path, "wb") as fh:
        for part in parts:
            fh.write(packer.compress(part))
        fh.write(packer.flush())
    return path


def one_huge_field(prefix: bytes, size: int, suffix: bytes) -> Iterator[bytes]:
    yield prefix
    block = b"a" * MiB
    for _ in range(size // MiB):
        yield block
    yield suffix


# -- 1. no memory bound ------------------------------------------------------------------
def test_gzip_bomb_row_is_one_bounded_reject_and_rows_around_it_survive(tmp_path, db):
    """200 MB of one field in a 200 KB gzip: read line by line under a cap, never whole."""
    before = csv_text(["id", "text"], good_rows(3)).encode()
    after = csv_text(["id", "text"], good_rows(3, start=3)).encode().split(b"\n", 1)[1]
    bomb = write_gzip_stream(
        tmp_path / "bomb.csv.gz", one_huge_field(before + b"big,", 200 * MiB, b"\n" + after)
    )
    assert bomb.stat().st_size < 2 * MiB

    summary = run(db, bomb, max_doc_bytes=64 * KiB)

    assert doc_ids(db) == {f"r{i}" for i in range(6)}
    (reject,) = rejects(db)
    assert reject["position"] == "line 5"
    assert reject["reason"].startswith("row too long")
    assert "limit" in reject["reason"] and "line 6" in reject["reason"]  # says where it resumes
    assert 0 < len(reject["raw"]) <= RAW_KEEP_BYTES
    assert reject["raw"].startswith(b"big,aaaa")
    assert f"{200 * MiB + 5} bytes" in reject["reason"]  # the whole row: 'big,' + field + LF
    assert summary.rejected == 1 and summary.stored == 6


def test_huge_header_is_one_reject_and_the_next_file_is_read(tmp_path, db):
    header = write_gzip_stream(
        tmp_path / "header.csv.gz", one_huge_field(b"id,", 20 * MiB, b"\n1,hello\n")
    )
    neighbour = tmp_path / "ok.csv"
    neighbour.write_text(csv_text(["id", "text"], good_rows(2)), encoding="utf-8")

    run(db, header, neighbour, max_doc_bytes=64 * KiB)

    assert doc_ids(db) == {"r0", "r1"}
    (reject,) = rejects(db)
    assert reject["origin"] == str(header) and reject["position"] == "line 1"
    assert reject["reason"].startswith("header line too long")
    assert len(reject["raw"]) <= RAW_KEEP_BYTES


def test_multiline_quoted_field_over_the_limit_is_rejected(tmp_path):
    """A quoted field growing line by line is bounded too, not only single long lines."""
    paragraph = "x" * 1000 + "\n"
    text = csv_text(["id", "text"], [["r0", "short"], ["huge", paragraph * 200]])
    path = tmp_path / "long.csv"
    path.write_text(text + "r9,after the long one\n", encoding="utf-8")

    docs, bad = read(path, max_doc_bytes=16 * KiB)

    assert "r0" in [d.id for d in docs]
    assert bad[0].position == "line 3" and bad[0].reason.startswith("row too long")
    assert len(bad[0].raw) <= 2 * 16 * KiB + delimited.ROW_SLACK + 1001


def test_decompression_bomb_is_named_and_rows_before_it_kept(tmp_path, db, monkeypatch):
    monkeypatch.setattr(delimited, "EXPANSION_FLOOR", 4 * MiB)
    line = b"," + b"b" * 1000 + b"\n"
    rows = (b"%d" % i + line for i in range(40_000))  # ~40 MB of rows, compresses ~1000:1
    head = csv_text(["id", "text"], good_rows(3)).encode()
    bomb = write_gzip_stream(tmp_path / "many.csv.gz", iter([head, *rows]))
    neighbour = tmp_path / "ok.csv"
    neighbour.write_text(csv_text(["id", "text"], good_rows(1, start=10)), encoding="utf-8")

    summary = run(db, bomb, neighbour)

    ids = doc_ids(db)
    assert {"r0", "r1", "r2", "r10"} <= ids
    assert len(ids) < 40_000  # stopped well before the end
    (reject,) = rejects(db)
    assert "decompression bomb" in reject["reason"]
    assert str(bomb.stat().st_size) in reject["reason"]
    assert summary.status == "done"


def test_ordinary_gzip_csv_is_not_a_bomb(tmp_path):
    rows = good_rows(5000)
    path = tmp_path / "fine.csv.gz"
    path.write_bytes(gzip.compress(csv_text(["id", "text"], rows).encode()))
    docs, bad = read(path)
    assert len(docs) == 5000 and not bad


# -- 2. a stray quote --------------------------------------------------------------------
def test_stray_quote_does_not_swallow_ten_thousand_rows(tmp_path, db):
    lines = ["id,text"] + [f"r{i},row number {i} of the export" for i in range(10_000)]
    lines[11] = 'r10,"a quote that never closes'  # line 12 of the file
    path = tmp_path / "stray.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    summary = run(db, path)

    assert doc_ids(db) == {f"r{i}" for i in range(10_000)} - {"r10"}
    (reject,) = rejects(db)
    assert reject["position"] == "line 12"
    assert "unbalanced quote" in reject["reason"] and "line 12" in reject["reason"]
    assert reject["raw"] == b'r10,"a quote that never closes\n'
    assert summary.stored == 9_999 and summary.rejected == 1


def test_stray_quote_closed_by_a_second_one_costs_only_those_two_lines(tmp_path):
    lines = ["id,date,text"] + [f"r{i},2020-01-01,row {i}" for i in range(12)]
    lines[5] = 'r4,2020-01-01,"he said'
    lines[9] = 'r8,x",2020-01-01,he stopped'
    path = tmp_path / "pair.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    docs, bad = read(path)

    assert sorted(d.id for d in docs) == sorted(f"r{i}" for i in range(12) if i not in (4, 8))
    assert [r.position for r in bad] == ["line 6", "line 10"]
    assert "unbalanced quote" in bad[0].reason
    assert "expected 3 columns" in bad[1].reason


def test_stray_quote_at_the_end_of_the_file(tmp_path):
    lines = ["id,date,text"] + [f"r{i},2020-01-01,row {i}" for i in range(8)]
    lines[6] = 'r5,2020-01-01,"never closed'
    path = tmp_path / "tail.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    docs, bad = read(path)

    assert sorted(d.id for d in docs) == ["r0", "r1", "r2", "r3", "r4", "r6", "r7"]
    assert len(bad) == 1 and "never closes" in bad[0].reason


def test_short_swallow_is_kept_with_a_warning(tmp_path):
    lines = ["id,date,text"] + [f"r{i},2020-01-01,row {i}" for i in range(8)]
    lines[2] = 'r1,2020-01-01,"starts here'
    lines[6] = 'ends here"'
    path = tmp_path / "short.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    docs, bad = read(path)

    merged = next(d for d in docs if d.id == "r1")
    assert any(w.startswith("csv:") and "stray quote" in w for w in merged.warnings)
    assert not bad


def test_long_multiline_text_is_not_mistaken_for_a_stray_quote(tmp_path):
    """A post of 60 lines, a quarter with the row's comma count, stays one post."""
    body = "\n".join(
        f"paragraph {i}, with, two commas" if i % 4 == 0 else f"paragraph {i} plain words"
        for i in range(60)
    )
    path = tmp_path / "long.csv"
    rows = [["r0", "2020-01-01", "before"], ["r1", "2020-01-01", body]]
    rows.append(["r2", "2020-01-01", "after"])
    path.write_text(csv_text(["id", "date", "text"], rows), encoding="utf-8")

    docs, bad = read(path)

    assert [d.id for d in docs] == ["r0", "r1", "r2"] and not bad
    assert docs[1].text == body
    assert not any(w.startswith("csv:") for w in docs[1].warnings)


# -- 3. NUL bytes --------------------------------------------------------------------------
def test_one_nul_byte_costs_at_most_its_row_not_the_file(tmp_path):
    rows = good_rows(100_000)
    data = csv_text(["id", "text"], rows).encode()
    data = data.replace(b'r3,"council', b'r3,"coun\x00cil', 1)  # inside the first 8 KB
    assert data.count(b"\x00") == 1
    path = tmp_path / "nul.csv"
    path.write_bytes(data)

    docs, bad = read(path)

    assert len(docs) == 100_000 and not bad
    r3 = docs[3]
    assert r3.id == "r3" and r3.text == "council votes on the budget, item 3"
    assert any(w.startswith("nul bytes:") and "line 5" in w for w in r3.warnings)


def test_nul_only_line_is_a_reject_and_rows_around_it_stored(tmp_path, db):
    data = csv_text(["id", "text"], good_rows(200)).encode() + b"\x00" * 40 + b"\n"
    data += b"after,after the zeros\n"
    path = tmp_path / "zeros.csv"
    path.write_bytes(data)

    run(db, path)

    assert doc_ids(db) == {f"r{i}" for i in range(200)} | {"after"}
    (reject,) = rejects(db)
    assert reject["position"] == "line 202" and "NUL" in reject["reason"]


def test_real_binary_named_csv_is_still_one_file_reject(tmp_path, db):
    png = tmp_path / "photo.csv"
    png.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 64)
    dump = tmp_path / "dump.csv"
    dump.write_bytes(b"abc\x00\x00\x01def" * 200)
    ok = tmp_path / "ok.csv"
    ok.write_text(csv_text(["id", "text"], good_rows(1)), encoding="utf-8")

    run(db, png, dump, ok)

    assert doc_ids(db) == {"r0"}
    by_origin = {r["origin"]: r for r in rejects(db)}
    assert by_origin[str(png)]["reason"] == "not a CSV file: PNG image"
    assert by_origin[str(dump)]["reason"] == "not a CSV file: binary data (NUL bytes)"
    assert all(r["position"] == "file" for r in by_origin.values())


# -- 4. line endings -----------------------------------------------------------------------
@pytest.mark.parametrize("gz", [False, True])
def test_cr_only_line_endings_are_lines(tmp_path, db, gz):
    text = csv_text(
        ["id", "date", "text"], [[f"r{i}", "2020-01-01", f"row {i}, ok"] for i in range(100)], "\r"
    )
    path = tmp_path / ("mac.csv.gz" if gz else "mac.csv")
    data = text.encode("cp1252")
    path.write_bytes(gzip.compress(data) if gz else data)

    summary = run(db, path)

    assert doc_ids(db) == {f"r{i}" for i in range(100)}
    assert summary.rejected == 0


def test_mixed_line_endings_and_cr_inside_quotes(tmp_path):
    data = b'id,text\r\nr0,crlf row\rr1,cr row\nr2,lf row\r\nr3,"two\rlines"\rr4,last without end'
    path = tmp_path / "mixed.csv"
    path.write_bytes(data)

    docs, bad = read(path)

    assert [d.id for d in docs] == ["r0", "r1", "r2", "r3", "r4"] and not bad
    assert docs[3].text == "two\rlines"
    assert docs[4].text == "last without end"
    assert [d.origin.rsplit(":", 1)[1] for d in docs] == [
        "line 2",
        "line 3",
        "line 4",
        "line 5",
        "line 7",
    ]


def test_cr_at_a_buffer_boundary_is_one_line_end(tmp_path, monkeypatch):
    """CRLF split across two reads must not make an empty line (or a lost row)."""
    monkeypatch.setattr(delimited, "CHUNK", 7)
    data = b"id,text\r\nr0,abcd\r\nr1,efg\r\nr2,hijklm\r\n"
    path = tmp_path / "split.csv"
    path.write_bytes(data)
    docs, bad = read(path)
    assert [d.text for d in docs] == ["abcd", "efg", "hijklm"] and not bad


# -- 5. encodings --------------------------------------------------------------------------
def test_latin1_row_after_64kb_of_utf8_is_read_as_latin1_with_a_warning(tmp_path, db):
    rows = [[f"r{i}", f"caf\u00e9 number {i} " + "x" * 60] for i in range(1500)]
    data = csv_text(["id", "text"], rows).encode("utf-8")
    assert len(data) > 65536
    data += "late,Caf\xe9 fined \xa3250\n".encode("latin-1")
    data += "after,na\u00efve again utf-8\n".encode()
    path = tmp_path / "late.csv"
    path.write_bytes(data)

    run(db, path)

    late = db.get_document("late")
    assert late is not None and late["text"] == "Café fined £250"
    assert any(w.startswith("encoding:") and "cp1252" in w for w in warnings_of(db, "late"))
    assert db.get_document("after")["text"] == "naïve again utf-8"
    assert db.get_document("r0")["text"].startswith("café number 0")
    assert warnings_of(db, "r0") == []


def test_mixed_utf8_and_latin1_rows_are_each_read_right(tmp_path):
    data = b"id,text\n"
    for i in range(20):
        if i % 2:
            data += f"r{i},caf\xe9 \xa3{i} latin\n".encode("latin-1")
        else:
            data += f"r{i},caf\u00e9 \u00a3{i} utf8 \u2014 dash\n".encode()
    path = tmp_path / "mixed.csv"
    path.write_bytes(data)

    docs, bad = read(path)

    assert not bad and len(docs) == 20
    for doc in docs:
        assert "Ã" not in doc.text and "\ufffd" not in doc.text
        assert doc.text.startswith(f"café £{doc.id[1:]}")


def test_shift_jis_file_is_not_read_as_korean(tmp_path):
    rows = [[f"r{i}", text] for i, text in enumerate(JAPANESE)]
    path = tmp_path / "sjis.csv"
    path.write_bytes(csv_text(["id", "text"], rows).encode("shift_jis"))

    docs, bad = read(path)

    assert [d.text for d in docs] == JAPANESE and not bad


@pytest.mark.parametrize("codec", ["shift_jis", "euc_jp"])
@pytest.mark.parametrize("text", JAPANESE)
def test_short_japanese_is_detected_as_japanese(text, codec):
    header = "id,text\n0,"
    decoded, encoding = decode_bytes((header + text + "\n").encode(codec))
    assert decoded == header + text + "\n"
    assert encoding in ("cp932", "euc_jp")


def test_shift_jis_row_in_a_utf8_file(tmp_path):
    rows = [[f"r{i}", "na\u00efve caf\u00e9 " * 10] for i in range(600)]
    data = csv_text(["id", "text"], rows).encode()
    assert len(data) > 65536  # past the head the file's encoding is guessed from
    data += ("jp," + JAPANESE[1] + "\n").encode("shift_jis")
    path = tmp_path / "one_jp.csv"
    path.write_bytes(data)

    docs, bad = read(path)

    jp = next(d for d in docs if d.id == "jp")
    assert jp.text == JAPANESE[1] and not bad
    assert any("cp932" in w for w in jp.warnings)


def test_western_text_is_still_cp1252():
    for raw in ("Caf\xe9 Royal fined \xa3250,000", "Z\xfcrich Stra\xdfe", "Ni\xf1o a\xf1o"):
        assert decode_bytes(raw.encode("latin-1")) == (raw, "cp1252")


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_without_bom_is_read(tmp_path, codec):
    path = tmp_path / "wide.tsv"
    path.write_bytes(csv_text(["id", "text"], [["r0", "caf\u00e9"], ["r1", "plain"]]).encode(codec))
    docs, bad = read(path)
    assert [d.text for d in docs] == ["café", "plain"] and not bad


def test_replacement_character_is_warned(tmp_path):
    """A broken UTF-16 unit becomes U+FFFD: the row is kept and says so."""
    text = "id,text\r\nr0,fine\r\nr1,bro\ud800ken\r\nr2,fine too\r\n"
    path = tmp_path / "broken16.csv"
    path.write_bytes(b"\xff\xfe" + text.encode("utf-16-le", errors="surrogatepass"))

    docs, bad = read(path)

    assert [d.id for d in docs] == ["r0", "r1", "r2"] and not bad
    assert "\ufffd" in docs[1].text
    assert any(w.startswith("encoding: replacement") for w in docs[1].warnings)
    assert docs[0].warnings == [] and docs[2].warnings == []


# -- 6. properties ---------------------------------------------------------------------------
PROPS = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


@PROPS
@given(data=st.binary(max_size=4000), gz=st.booleans())
def test_random_bytes_never_raise(tmp_path, data, gz):
    path = _write(tmp_path, "rand.csv", gzip.compress(data) if gz else data)
    docs, bad = read(path, max_doc_bytes=512)
    assert len(docs) + len(bad) <= data.count(b"\n") + data.count(b"\r") + 2


@PROPS
@given(text=st.text(max_size=600), codec=st.sampled_from(["utf-8", "utf-16", "cp1252"]))
def test_random_unicode_never_raises(tmp_path, text, codec):
    """Any text, lone surrogates included (written with surrogatepass), in any encoding."""
    body = ("id,text\n" + text).encode(codec if codec != "cp1252" else "utf-8", "surrogatepass")
    if codec == "cp1252":
        body = body.decode("utf-8", "surrogatepass").encode("cp1252", "replace")
    docs, bad = read(_write(tmp_path, "uni.csv", body))
    assert all(isinstance(d.text, str) for d in docs)
    assert all(r.reason for r in bad)


_FIELD = st.text(alphabet=st.sampled_from(list("abc xyz,;\"'\n\r\t|é£—東")), max_size=40)


@PROPS
@given(
    extra=st.lists(st.sampled_from(["date", "title", "url", "lang", "note"]), unique=True),
    rows=st.lists(
        st.tuples(st.integers(-1, 1), st.lists(_FIELD, min_size=6, max_size=6)), max_size=25
    ),
    delimiter=st.sampled_from([",", "\t", ";", "|"]),
    end=st.sampled_from(["\n", "\r\n", "\r"]),
)
def test_row_shapes_add_up(tmp_path, extra, rows, delimiter, end):
    """Every row written is one document (text exact) or one reject; nothing else."""
    header = ["id", "text", *extra]
    buf = io.StringIO()
    # Minimal quoting quotes only the line end's own characters: a lone CR in a field of
    # an LF file would be written bare, and any CSV reader splits the row there.
    quoting = csv.QUOTE_MINIMAL if end == "\r\n" else csv.QUOTE_ALL
    writer = csv.writer(buf, delimiter=delimiter, lineterminator=end, quoting=quoting)
    writer.writerow(header)
    expected = []
    for i, (shape, fields) in enumerate(rows):
        row = [f"r{i}", *fields[: len(header) - 1 + shape]]
        writer.writerow(row)
        expected.append((f"r{i}", row[1] if len(row) == len(header) else None))
    path = _write(tmp_path, "shapes.csv", buf.getvalue().encode("utf-8"))

    docs, bad = read(path)

    assert len(docs) + len(bad) == len(rows)
    assert {(d.id, d.text) for d in docs} == {(i, t) for i, t in expected if t is not None}
    assert len(bad) == sum(1 for _, t in expected if t is None)
