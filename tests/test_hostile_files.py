"""Hostile folders, pages, dates and wire copy (issue 25): every bad input ends as a reject
or a warning with a clear reason, never an abort, a hang or a silent loss, and every good
record beside it is stored.

Each test writes its own small inputs under ``tmp_path`` and mixes the bad input with
good records. Nothing depends on timing: the HTML guards count elements, not seconds.
"""

from __future__ import annotations

import csv
import io
import json
import os
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from echoscope.ingest.base import ReadOptions, walk_folder
from echoscope.ingest.dates import DateError, parse_date
from echoscope.ingest.files import read_document_file
from echoscope.ingest.html import (
    MAX_DEPTH,
    MAX_ELEMENTS,
    extract_html,
    plain_text,
    text_of_fragment,
)
from echoscope.ingest.pathtemplate import PathTemplate
from echoscope.ingest.pipeline import IngestSummary, ingest
from echoscope.model import Reject, TimePrecision
from echoscope.store import Store

GOOD = "The harbour council met on Tuesday to discuss the water supply and the ferry budget."


# -- helpers ----------------------------------------------------------------------------
@pytest.fixture
def db(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "hostile_files.duckdb") as store:
        yield store


def run(store: Store, *sources: Path | str, **options) -> IngestSummary:
    """Ingest through the public pipeline; language guessing is off to keep tests fast."""
    options.setdefault("detect_language", False)
    return ingest(store, [str(s) for s in sources], ReadOptions(**options))


def doc_ids(store: Store) -> set[str]:
    return {row[0] for row in store.con.execute("SELECT id FROM documents").fetchall()}


def doc(store: Store, doc_id: str) -> dict:
    found = store.get_document(doc_id)
    assert found is not None, f"document {doc_id!r} was not stored"
    return found


def meta(row: dict) -> dict:
    value = row["metadata"]
    return json.loads(value) if isinstance(value, str) else (value or {})


def warnings_of(row: dict) -> list[str]:
    return list(meta(row).get("ingest_warnings", []))


def rejects(store: Store) -> dict[str, dict]:
    """Rejects by the file name of their origin."""
    cur = store.con.execute("SELECT origin, position, reason, raw FROM rejects")
    cols = [c[0] for c in cur.description]
    rows = [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]
    return {Path(r["origin"]).name: r for r in rows}


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def csv_bytes(header: list[str], rows: list[list[str]]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue().encode("utf-8")


def page(body: str, head: str = "") -> str:
    return f"<html><head><title>Test page</title>{head}</head><body>{body}</body></html>"


def article(paragraphs: int = 5) -> str:
    return "<article>" + "".join(f"<p>{GOOD} Paragraph {i}.</p>" for i in range(paragraphs))


# -- 1. dates that overflow or name no real offset ---------------------------------------
OVERFLOWING = {
    "plus24": "2020-01-01T10:00:00+24:00",
    "plus2400": "2020-01-01T10:00:00+2400",
    "minus24": "2020-01-01 10:00:00 -24:00",
    "y9999west": "9999-12-31T23:00:00-05:00",
    "y9999naive": "9999-12-31 23:00:00",
    "y0001east": "0001-01-01T00:00:00+01:00",
    "y0001naive": "0001-01-01",
    "rfc0001": "Mon, 01 Jan 0001 00:00:00 +0100",
    "rfc9999": "Fri, 31 Dec 9999 23:00:00 -0500",
}
ZONES = ["UTC", "Pacific/Kiritimati", "America/Anchorage"]


@pytest.mark.parametrize("zone", ZONES)
@pytest.mark.parametrize("kind", ["csv", "jsonl"])
def test_overflowing_dates_leave_records_undated_and_the_run_going(tmp_path, db, kind, zone):
    """An offset of 24 h or year 9999/0001 moved to UTC once aborted the whole ingest."""
    rows = [[key, value, f"story {key} about the harbour"] for key, value in OVERFLOWING.items()]
    rows.insert(0, ["before", "2020-05-01T09:00:00+02:00", "good record before"])
    rows.append(["after", "2020-05-02 10:00:00", "good record after"])
    if kind == "csv":
        path = tmp_path / "dates.csv"
        path.write_bytes(csv_bytes(["id", "date", "text"], rows))
    else:
        path = tmp_path / "dates.jsonl"
        path.write_text(
            "\n".join(json.dumps({"id": i, "date": d, "text": t}) for i, d, t in rows) + "\n"
        )

    summary = run(db, path, tz=ZoneInfo(zone))

    assert summary.status == "done" and summary.rejected == 0
    assert doc_ids(db) == {*OVERFLOWING, "before", "after"}
    assert doc(db, "before")["published_at"] == datetime(2020, 5, 1, 7, 0)
    after = datetime(2020, 5, 2, 10, 0).replace(tzinfo=ZoneInfo(zone))
    assert doc(db, "after")["published_at"] == after.astimezone(UTC).replace(tzinfo=None)
    for key, raw in OVERFLOWING.items():
        stored = doc(db, key)
        assert stored["published_at"] is None, key
        assert meta(stored)["date_raw"] == raw
        [warning] = [w for w in warnings_of(stored) if w.startswith("date unreadable")]
        assert any(word in warning for word in ("offset", "before 1800", "future", "range"))
    assert summary.warnings["date unreadable"] == len(OVERFLOWING)


@pytest.mark.parametrize(
    "raw", ["2020-03-01T10:00:00+24:00", "9999-12-31T23:59:59-01:00", "0001-01-01T00:00+01:00"]
)
def test_overflowing_meta_date_keeps_the_page_and_its_neighbour(tmp_path, db, raw):
    """The same dates in ``article:published_time`` must not take the page down either."""
    folder = tmp_path / "site"
    head = f'<meta property="article:published_time" content="{raw}">'
    write(folder, "bad.html", page(article(), head))
    write(folder, "good.html", page(article(), '<meta name="date" content="2020-05-01">'))

    summary = run(db, folder, tz=ZoneInfo("Pacific/Kiritimati"))

    assert doc_ids(db) == {"site/bad.html", "site/good.html"}
    bad = doc(db, "site/bad.html")
    assert bad["published_at"] is None and bad["time_source"] == "unknown"
    assert GOOD in bad["text"]
    assert meta(bad)["date_raw"] == raw
    assert any(w.startswith("date unreadable") for w in warnings_of(bad))
    assert doc(db, "site/good.html")["published_at"] == datetime(2020, 4, 30, 10, 0)
    assert summary.rejected == 0


@pytest.mark.parametrize("year", ["0001", "9999"])
def test_path_date_at_the_calendars_ends_becomes_a_warning(tmp_path, db, year):
    """A path template reading year 1 or 9999, moved by --tz, once overflowed."""
    root = tmp_path / "archive"
    write(root, f"{year}-01-01/odd.txt", "A story filed under an impossible folder date.")
    write(root, "2020-05-01/fine.txt", "A story filed under an ordinary folder date.")

    summary = run(
        db,
        root,
        tz=ZoneInfo("Pacific/Kiritimati" if year == "0001" else "America/Anchorage"),
        path_template=PathTemplate("{date:%Y-%m-%d}/{name}.txt"),
        path_date_offset_days=-1 if year == "0001" else 1,
    )

    odd = doc(db, f"archive/{year}-01-01/odd.txt")
    assert odd["published_at"] is None and odd["time_source"] == "unknown"
    assert any(w.startswith("date unreadable: path date") for w in warnings_of(odd))
    assert doc(db, "archive/2020-05-01/fine.txt")["time_source"] == "path"
    assert summary.rejected == 0 and summary.stored == 2


def test_wire_header_with_impossible_year_keeps_the_path_date(tmp_path, db):
    """A filing line naming year 0001 is not evidence; the path's date stands."""
    root = tmp_path / "wire"
    header = "  ----------------\n   16:54 01/03/0001: Page 1 (ZSM) COURTS Test\n  ---------\n"
    write(root, "2020-05-01/odd.txt", header + "COURT STORY<\nThe judge spoke.<\n")
    write(root, "2020-05-01/fine.txt", "An ordinary story about the ferry.")

    summary = run(
        db,
        root,
        tz=ZoneInfo("Pacific/Kiritimati"),
        path_template=PathTemplate("{date:%Y-%m-%d}/{name}.txt"),
    )

    odd = doc(db, "wire/2020-05-01/odd.txt")
    assert odd["time_source"] == "path"
    assert odd["published_at"] == datetime(2020, 4, 30, 10, 0)
    assert any("wire filing time" in w for w in warnings_of(odd))
    assert summary.stored == 2 and summary.rejected == 0


# -- 2. folders: link loops, unreadable files, pipes -------------------------------------
def _ingest_in_thread(store: Store, folder: Path, unblock: Path | None) -> IngestSummary:
    """Run the ingest; if it blocks (the FIFO bug), open the pipe's other end so the
    test fails with a message instead of hanging the suite."""
    result: dict = {}

    def target() -> None:
        try:
            result["summary"] = run(store, folder)
        except BaseException as exc:  # re-raised below, in the test's thread
            result["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(60)
    if thread.is_alive() and unblock is not None:
        fd = os.open(unblock, os.O_WRONLY | os.O_NONBLOCK)
        os.close(fd)
        thread.join(60)
        pytest.fail("the ingest blocked on a named pipe in the folder")
    if "error" in result:
        raise result["error"]
    return result["summary"]


def test_symlink_loops_and_broken_links_are_rejects_not_aborts(tmp_path, db):
    folder = tmp_path / "clips"
    write(folder, "a.txt", GOOD)
    write(folder, "sub/b.txt", "The ferry was cancelled because of the storm.")
    (folder / "loop1").symlink_to("loop2")
    (folder / "loop2").symlink_to("loop1")
    (folder / "self.txt").symlink_to("self.txt")
    (folder / "ghost.txt").symlink_to("missing.txt")
    (folder / "sub" / "up").symlink_to("..")  # a folder loop: never descended
    outside = write(tmp_path / "elsewhere", "secret.txt", "not part of the folder")
    (folder / "out.txt").symlink_to(outside)
    (folder / "alias.txt").symlink_to("a.txt")  # a link to a file inside: read as before

    summary = run(db, folder)

    assert doc_ids(db) == {"clips/a.txt", "clips/sub/b.txt", "clips/alias.txt"}
    by_name = rejects(db)
    assert set(by_name) == {"loop1", "loop2", "self.txt", "ghost.txt", "out.txt"}
    for name in ("loop1", "loop2", "self.txt"):
        assert by_name[name]["reason"] == "symbolic link loop: not followed"
    assert "broken symbolic link" in by_name["ghost.txt"]["reason"]
    assert "out of the folder" in by_name["out.txt"]["reason"]
    assert all(r["raw"] == b"" for r in by_name.values())  # nothing outside was read
    assert summary.status == "done" and summary.rejected == 5


def test_named_pipe_in_a_folder_is_never_opened(tmp_path, db):
    """Opening a FIFO for reading blocks until a writer comes: the run hung for ever."""
    folder = tmp_path / "drop"
    write(folder, "a.txt", GOOD)
    write(folder, "z.txt", "The bridge reopened after repairs on Monday.")
    fifo = folder / "pipe.txt"
    os.mkfifo(fifo)
    os.mkfifo(folder / "feed.jsonl")  # a reader other than text would open it too

    summary = _ingest_in_thread(db, folder, fifo)

    assert doc_ids(db) == {"drop/a.txt", "drop/z.txt"}
    by_name = rejects(db)
    assert set(by_name) == {"pipe.txt", "feed.jsonl"}
    assert all("named pipe" in r["reason"] for r in by_name.values())
    assert summary.rejected == 2


def test_socket_in_a_folder_is_a_reject(tmp_path, db):
    folder = tmp_path / "s"
    write(folder, "a.txt", GOOD)
    sock_path = folder / "ctl"
    if len(str(sock_path)) > 100:
        pytest.skip("temporary path too long for a Unix socket")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        server.bind(str(sock_path))
        summary = run(db, folder)
    finally:
        server.close()

    assert doc_ids(db) == {"s/a.txt"}
    assert "a socket" in rejects(db)["ctl"]["reason"]
    assert summary.rejected == 1


def test_unreadable_file_is_a_reject_and_its_neighbours_are_stored(tmp_path, db):
    if os.geteuid() == 0:
        pytest.skip("root reads files whatever their mode")
    folder = tmp_path / "locked"
    write(folder, "a.txt", GOOD)
    for name in ("secret.txt", "secret.jsonl", "noext"):
        write(folder, name, "private").chmod(0)
    try:
        summary = run(db, folder)
    finally:
        for name in ("secret.txt", "secret.jsonl", "noext"):
            (folder / name).chmod(0o600)

    assert doc_ids(db) == {"locked/a.txt"}
    by_name = rejects(db)
    assert set(by_name) == {"secret.txt", "secret.jsonl", "noext"}
    assert all("Permission denied" in r["reason"] for r in by_name.values())
    assert summary.rejected == 3


def test_unreadable_subfolder_is_named_not_silently_skipped(tmp_path, db):
    if os.geteuid() == 0:
        pytest.skip("root lists folders whatever their mode")
    folder = tmp_path / "tree"
    write(folder, "a.txt", GOOD)
    locked = folder / "closed"
    write(locked, "b.txt", "hidden from the walk")
    locked.chmod(0)
    try:
        summary = run(db, folder)
    finally:
        locked.chmod(0o700)

    assert doc_ids(db) == {"tree/a.txt"}
    assert "cannot list folder" in rejects(db)["closed"]["reason"]
    assert summary.rejected == 1


def test_paths_that_cannot_be_opened_give_rejects_from_the_file_reader(tmp_path):
    """Called on a folder, a missing file or a pipe, the file reader answers a reject
    (it once raised IsADirectoryError from its gzip check)."""
    folder_like_a_file = tmp_path / "story.txt"
    folder_like_a_file.mkdir()
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)
    opts = ReadOptions(detect_language=False)
    for path, words in (
        (folder_like_a_file, "a folder"),
        (tmp_path / "gone.txt", "cannot read"),
        (fifo, "named pipe"),
    ):
        [item] = list(read_document_file(path, opts))
        assert isinstance(item, Reject), path
        assert words in item.reason


def test_walk_order_is_stable_and_input_size_skips_what_cannot_be_read(tmp_path):
    folder = tmp_path / "w"
    write(folder, "b.txt", "b")
    write(folder, "a.txt", "a")
    write(folder, "sub/c.txt", "c")
    write(folder, ".hidden", "h")
    (folder / "loop").symlink_to("loop")
    entries = [(e.path.relative_to(folder).as_posix(), e.problem) for e in walk_folder(folder)]
    assert entries == [
        ("a.txt", None),
        ("b.txt", None),
        ("loop", "symbolic link loop: not followed"),
        ("sub/c.txt", None),
    ]
    from echoscope.ingest.detect import input_size

    assert input_size([str(folder)]) == 3


# -- 3 and 4. HTML too deep or too big for the main-text extractor -------------------------
def test_deeply_nested_page_keeps_its_text_with_a_warning(tmp_path, db):
    """lxml stops at 256 levels; a page nested 100,000 deep was stored with no text."""
    folder = tmp_path / "pages"
    deep = 100_000
    lead = "The deep lead paragraph says the reservoir council resigned."
    body = "<article>" + "<div>" * deep + f"<p>{lead}</p>" + "</div>" * deep + "</article>"
    write(folder, "deep.html", page(body))
    write(folder, "shallow.html", page("<div>" * 40 + article() + "</div>" * 40))

    summary = run(db, folder)

    deep_doc = doc(db, "pages/deep.html")
    assert lead in deep_doc["text"]
    assert deep_doc["title"] == "Test page"
    [warning] = [w for w in warnings_of(deep_doc) if w.startswith("html:")]
    assert "nested 100,0" in warning and "plain-text extractor" in warning
    shallow = doc(db, "pages/shallow.html")
    assert GOOD in shallow["text"]
    assert not any(w.startswith("html:") for w in warnings_of(shallow))
    assert summary.stored == 2 and summary.warnings["html"] == 1


def test_page_with_150k_paragraphs_uses_the_fast_extractor(tmp_path, db):
    """An 8 MB page of 150,000 paragraphs took minutes; the guard counts elements."""
    folder = tmp_path / "big"
    paras = "".join(f"<p>Paragraph {i} on the harbour budget vote.</p>" for i in range(150_000))
    body = "<nav>Home News Sport</nav><article>" + paras + "</article><script>alert(1)</script>"
    write(folder, "huge.html", page(body))
    write(folder, "small.html", page(article()))

    summary = run(db, folder)

    huge = doc(db, "big/huge.html")
    assert huge["text"].startswith("Paragraph 0 on the harbour")
    assert huge["text"].endswith("Paragraph 149999 on the harbour budget vote.")
    assert huge["text"].count("\n") == 149_999
    assert "alert(" not in huge["text"] and "Home News" not in huge["text"]
    [warning] = [w for w in warnings_of(huge) if w.startswith("html:")]
    assert f"over the {MAX_ELEMENTS:,}" in warning and "fast plain-text extractor" in warning
    assert not any(w.startswith("html:") for w in warnings_of(doc(db, "big/small.html")))
    assert summary.stored == 2


def test_fast_extractor_drops_scripts_and_hidden_parts_only_when_closed():
    html = (
        "<html><head><title>T</title><style>p{color:red}</style></head><body>"
        "<nav>Menu</nav><h1>Head &amp; line</h1><p>One <b>bold</b> "
        '<a title="x>alert(2)">link</a></p><script>alert(1)</script><!-- note -->'
        "<noscript>enable js</noscript><p>Two</p><div>unclosed <nav>kept text"
    )
    assert plain_text(html) == "Head & line\nOne bold link\nTwo\nunclosed\nkept text"


@pytest.mark.parametrize(
    "hostile",
    [
        "<div " * 100_000,
        "<a b='" * 100_000,
        "<!--" * 100_000,
        "<script>" * 50_000 + "x",
        "</" * 100_000,
        "<![CDATA[" * 50_000,
    ],
)
def test_fast_extractor_is_linear_on_broken_markup(hostile):
    """The standard library's HTML parser takes quadratic time on these (minutes)."""
    assert isinstance(plain_text(hostile), str)
    assert isinstance(extract_html(hostile).text, str)


def test_deep_feed_summary_keeps_its_text():
    fragment = "<div>" * (MAX_DEPTH * 3) + "Summary text survives." + "</div>" * (MAX_DEPTH * 3)
    assert text_of_fragment(fragment) == "Summary text survives."


# -- 5. ambiguous all-numeric dates --------------------------------------------------------
def test_ambiguous_numeric_dates_are_left_undated_with_both_readings(tmp_path, db):
    """``01/02/03`` silently became 2 January 2003; day and month could be either way."""
    rows = [
        ["amb2", "01/02/03", "two-digit year"],
        ["amb4", "01/02/2003", "four-digit year"],
        ["ambtime", "01.02.2003 10:30", "with a time"],
        ["dayfirst", "13/02/2003", "only day first is possible"],
        ["monthfirst", "02/13/2003", "only month first is possible"],
        ["iso", "2003-01-02", "ISO"],
        ["same", "05/05/2005", "either way the same day"],
    ]
    path = tmp_path / "numeric.csv"
    path.write_bytes(csv_bytes(["id", "date", "text"], rows))

    summary = run(db, path)

    assert doc_ids(db) == {r[0] for r in rows}
    for key, raw in (("amb2", "01/02/03"), ("amb4", "01/02/2003"), ("ambtime", "01.02.2003")):
        stored = doc(db, key)
        assert stored["published_at"] is None, key
        [warning] = [w for w in warnings_of(stored) if w.startswith("date unreadable")]
        assert "ambiguous date" in warning and raw in warning
        assert "1 February (day first)" in warning and "January 2 (month first)" in warning
    assert doc(db, "dayfirst")["published_at"] == datetime(2003, 2, 13)
    assert doc(db, "monthfirst")["published_at"] == datetime(2003, 2, 13)
    assert doc(db, "iso")["published_at"] == datetime(2003, 1, 2)
    assert doc(db, "same")["published_at"] == datetime(2005, 5, 5)
    assert summary.warnings["date unreadable"] == 3 and summary.rejected == 0


def test_caller_that_knows_the_order_reads_numeric_dates():
    assert parse_date("01/02/2003", dayfirst=True)[0] == datetime(2003, 2, 1)
    assert parse_date("01/02/2003", dayfirst=False)[0] == datetime(2003, 1, 2)
    with pytest.raises(DateError, match="ambiguous"):
        parse_date("01/02/03")


# -- 6. wire headers in the middle of a text --------------------------------------------------
WIRE_HEADER = "----------------\n16:54 01/03/00: Page 1 (ZSM) COURTS Burstein\n----------------\n"


def test_wire_header_mid_text_is_left_in_the_text_and_the_path_date_kept(tmp_path, db):
    root = tmp_path / "blog"
    lead = "My own lead paragraph about the reservoir."
    write(root, "2020-05-01/post.txt", f"{lead}\n\n{WIRE_HEADER}Quoted agency text.<\n")
    html = page(
        f"<article><p>{lead} {GOOD}</p><p>Quoted: 16:54 01/03/00: Page 1 (ZSM) COURTS B</p>"
        f"<p>{GOOD} More of my own text.</p></article>"
    )
    write(root, "2020-05-01/page.html", html)
    write(root, "2020-05-02/wire.txt", f"  {WIRE_HEADER}COMPOSER IN COURT<\nBy A Reporter<\n")
    wire_page = page(
        "<pre>16:54 01/03/00: Page 1 (ZSM) COURTS Burstein</pre>"
        f"<article><p>{GOOD}</p><p>{GOOD} Second.</p></article>"
    )
    write(root, "2020-05-02/wire.html", wire_page)

    summary = run(db, root, path_template=PathTemplate("{date:%Y-%m-%d}/{name}.{ext}"))

    for name in ("post.txt", "page.html"):
        blog = doc(db, f"blog/2020-05-01/{name}")
        assert blog["text"].startswith(lead), name
        assert "16:54 01/03/00" in blog["text"], name
        assert blog["published_at"] == datetime(2020, 5, 1), name
        assert blog["time_source"] == "path", name
        assert "wire_header" not in meta(blog), name
    for name in ("wire.txt", "wire.html"):  # agency copy at the top still reads its header
        wire = doc(db, f"blog/2020-05-02/{name}")
        assert wire["time_source"] == "header", name
        assert wire["published_at"] == datetime(2000, 3, 1, 16, 54), name
    assert summary.stored == 4 and summary.rejected == 0


# -- 7. properties: parse_date and the HTML extractors never raise ----------------------------
def _check_date_result(raw: object, zone) -> None:
    try:
        value, precision = parse_date(raw, zone)
    except DateError:
        return
    assert value.tzinfo is None
    assert 1800 <= value.year <= datetime.now(UTC).year + 1
    assert isinstance(precision, TimePrecision)


_ZONES = st.one_of(
    st.just(UTC),
    st.sampled_from([ZoneInfo(z) for z in ("Pacific/Kiritimati", "Pacific/Pago_Pago")]),
    st.timedeltas(min_value=-timedelta(hours=23, minutes=59), max_value=timedelta(hours=23)).map(
        lambda d: timezone(timedelta(minutes=d // timedelta(minutes=1)))
    ),
)
_YEARS = st.one_of(
    st.sampled_from([1, 99, 1799, 1800, 1970, 2020, 9998, 9999]), st.integers(0, 9999)
)
_MONTH_NAMES = ["Jan", "Feb", "Mar", "Dec"]


@st.composite
def _dateish(draw) -> str:
    """Date-like strings at the edges: years 1 and 9999, offsets of 24 h and more,
    impossible days, in ISO, RFC 822 and all-numeric forms."""
    year, month = draw(_YEARS), draw(st.integers(0, 13))
    day, hour, minute = draw(st.integers(0, 32)), draw(st.integers(0, 25)), draw(st.integers(0, 61))
    sign = draw(st.sampled_from("+-"))
    off_h, off_m = draw(st.sampled_from([0, 1, 5, 14, 23, 24, 25, 99])), draw(st.integers(0, 99))
    colon = draw(st.sampled_from(["", ":"]))
    offset = draw(st.sampled_from(["", "Z", f"{sign}{off_h:02d}{colon}{off_m:02d}"]))
    form = draw(st.integers(0, 3))
    if form == 0:
        return f"{year:04d}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:00{offset}"
    if form == 1:
        name = _MONTH_NAMES[month % 4]
        return f"Mon, {day:02d} {name} {year:04d} {hour:02d}:{minute:02d}:00 {sign}{off_h:02d}00"
    if form == 2:
        return f"{day}/{month}/{year % 100:02d} {hour}:{minute:02d}{offset}"
    return f"{year:04d}-{month:02d}-{day:02d} {hour:02d}:{minute:02d} {offset}".strip()


@settings(max_examples=300, deadline=None, derandomize=True)
@given(raw=st.one_of(st.text(max_size=70), _dateish()), zone=_ZONES)
def test_parse_date_never_raises_on_strings(raw, zone):
    _check_date_result(raw, zone)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(
    raw=st.one_of(
        st.integers(min_value=-(10**20), max_value=10**20),
        st.floats(allow_nan=True, allow_infinity=True),
        st.booleans(),
        st.none(),
    ),
    zone=_ZONES,
)
def test_parse_date_never_raises_on_numbers(raw, zone):
    _check_date_result(raw, zone)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(
    value=st.one_of(
        st.datetimes(min_value=datetime(9999, 12, 30), timezones=st.one_of(st.none(), _ZONES)),
        st.datetimes(max_value=datetime(1, 1, 2), timezones=st.one_of(st.none(), _ZONES)),
        st.datetimes(timezones=st.one_of(st.none(), st.timezones(), _ZONES)),
    ),
    zone=st.one_of(_ZONES, st.timezones()),
    as_text=st.booleans(),
)
def test_parse_date_never_raises_on_datetimes(value, zone, as_text):
    _check_date_result(value.isoformat() if as_text else value, zone)


_TAGS = ["div", "p", "span", "article", "section", "li", "b", "a", "table", "td", "nav"]


@st.composite
def _nested_pages(draw) -> tuple[str, str]:
    depth = draw(st.integers(min_value=0, max_value=MAX_DEPTH * 2))
    tags = draw(st.lists(st.sampled_from(_TAGS), min_size=1, max_size=6))
    noise = draw(st.text(st.characters(blacklist_characters="<>&"), max_size=40))
    marker = "Marker" + str(draw(st.integers(min_value=0, max_value=10**6)))
    opened = [tags[i % len(tags)] for i in range(depth)]
    closers = draw(st.booleans())
    body = "".join(f"<{t}>{noise}" if i % 7 == 0 else f"<{t}>" for i, t in enumerate(opened))
    body += f" {marker} "
    if closers:
        body += "".join(f"</{t}>" for t in reversed(opened))
    return page(body), marker


@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(case=_nested_pages())
def test_html_extractors_never_raise_on_random_nesting(case):
    html, marker = case
    result = extract_html(html)
    assert isinstance(result.text, str)
    assert isinstance(text_of_fragment(html), str)
    if "<nav>" not in html:  # nav is dropped when closed
        assert marker in plain_text(html)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(html=st.text(alphabet=st.characters(), max_size=300))
def test_html_extractors_never_raise_on_random_unicode(html):
    for text in (extract_html(html).text, text_of_fragment(html), plain_text(html)):
        assert isinstance(text, str)


def test_extract_warning_kind_is_html():
    """The warnings' kind is the word before the colon, which the summary counts."""
    html = page("<div>" * (MAX_DEPTH + 50) + "deep text" + "</div>" * (MAX_DEPTH + 50))
    result = extract_html(html)
    assert "deep text" in result.text
    assert [w.split(":")[0] for w in result.warnings] == ["html"]
