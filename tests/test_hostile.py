"""Hostile inputs: every bad record ends as a clear reject or message, never a traceback,
and every good record next to it is still stored.

Each test writes its own small inputs under ``tmp_path``; nothing touches the network
except a throw-away HTTP server on 127.0.0.1 started by the test itself. Tests marked
``xfail(strict=True)`` assert the correct behaviour for a bug found while writing them.
"""

from __future__ import annotations

import csv
import gzip
import http.server
import io
import json
import random
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from echoscope.cli import app
from echoscope.ingest import fetch as fetch_mod
from echoscope.ingest.base import ReadOptions
from echoscope.ingest.fetch import FetchError, FetchPolicy, check_address, fetch
from echoscope.ingest.pipeline import IngestSummary, ingest
from echoscope.store import Store

MiB = 1024 * 1024
WORDS = [
    "water",
    "supply",
    "harbour",
    "council",
    "reservoir",
    "minister",
    "storm",
    "ferry",
    "market",
    "school",
    "hospital",
    "railway",
    "strike",
    "budget",
    "election",
    "flood",
    "bridge",
    "police",
    "court",
    "festival",
]
PNG_HEAD = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"


# -- helpers ----------------------------------------------------------------------------
@pytest.fixture
def db(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "hostile.duckdb") as store:
        yield store


def run(store: Store, *sources: Path | str, **options) -> IngestSummary:
    """Ingest through the public pipeline; language guessing is off to keep tests fast."""
    options.setdefault("detect_language", False)
    return ingest(store, [str(s) for s in sources], ReadOptions(**options))


def sentence(rng: random.Random, n: int = 25) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


def reject_rows(store: Store) -> list[dict]:
    cur = store.con.execute(
        "SELECT origin, position, reason, raw, raw_size FROM rejects ORDER BY origin, position"
    )
    cols = [c[0] for c in cur.description]
    return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]


def rejects_for(store: Store, path: Path) -> list[dict]:
    """Rejects whose origin is ``path`` (or a record inside it)."""
    return [r for r in reject_rows(store) if r["origin"].startswith(str(path))]


def doc_ids(store: Store) -> set[str]:
    return {row[0] for row in store.con.execute("SELECT id FROM documents").fetchall()}


def doc(store: Store, doc_id: str) -> dict:
    found = store.get_document(doc_id)
    assert found is not None, f"document {doc_id!r} was not stored"
    return found


def write_lines(path: Path, lines: list[bytes]) -> Path:
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def jline(record: dict) -> bytes:
    return json.dumps(record, ensure_ascii=False).encode("utf-8")


def csv_bytes(header: list[str], rows: list[list[str]]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue().encode("utf-8")


def write_truncated_gzip(path: Path, payload: bytes, keep: float = 0.6) -> Path:
    """Gzip ``payload`` and keep only the first ``keep`` share of the compressed bytes."""
    blob = gzip.compress(payload)
    path.write_bytes(blob[: int(len(blob) * keep)])
    return path


def write_repeated(path: Path, total: int, chunk: bytes) -> Path:
    """Write about ``total`` bytes without holding them in memory."""
    with open(path, "wb") as fh:
        written = 0
        while written < total:
            fh.write(chunk)
            written += len(chunk)
    return path


def good_txt(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def flat(text: str) -> str:
    """CLI output with rich's line wrapping undone."""
    return " ".join(text.split())


def rss(items: list[str], title: str = "Local Feed") -> bytes:
    body = "".join(items)
    return (
        '<?xml version="1.0"?><rss version="2.0"><channel>'
        f"<title>{title}</title><link>http://example.org/</link>{body}</channel></rss>"
    ).encode()


def rss_item(guid: str, title: str, description: str, pub: str | None = None) -> str:
    date = f"<pubDate>{pub}</pubDate>" if pub else ""
    return (
        f"<item><guid>{guid}</guid><title>{title}</title>"
        f"<link>http://example.org/{guid}</link>{date}"
        f"<description>{description}</description></item>"
    )


# -- a throw-away HTTP server on 127.0.0.1 ----------------------------------------------
@dataclass
class LocalServer:
    port: int
    routes: dict[str, tuple[int, dict[str, str], bytes]] = field(default_factory=dict)
    hits: list[str] = field(default_factory=list)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def redirect(self, path: str, location: str) -> str:
        self.routes[path] = (302, {"Location": location, "Content-Length": "0"}, b"")
        return self.base + path


@pytest.fixture
def server() -> Iterator[LocalServer]:
    state = LocalServer(port=0)

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def do_GET(self) -> None:
            state.hits.append(self.path)
            status, headers, body = state.routes.get(
                self.path, (404, {"Content-Type": "text/plain"}, b"not found")
            )
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(body)

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=10)


def serve_feed(server: LocalServer, path: str = "/feed.xml") -> str:
    feed = rss(
        [
            rss_item("local-1", "Harbour closed", "The harbour closed at noon.", _PUB),
            rss_item("local-2", "Ferry cancelled", "The evening ferry was cancelled.", _PUB),
        ]
    )
    server.routes[path] = (200, {"Content-Type": "application/rss+xml"}, feed)
    return server.base + path


_PUB = "Tue, 11 Mar 2025 10:00:00 GMT"


# -- 1. truncated gzip --------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["jsonl", "csv"])
def test_truncated_gzip_keeps_every_record_before_the_cut(tmp_path, db, kind):
    """A download cut short must not cost the records that did arrive, and must say so."""
    rng = random.Random(7)
    if kind == "jsonl":
        payload = b"\n".join(jline({"id": f"r{i}", "text": sentence(rng)}) for i in range(2000))
        first_data_line = 1
    else:
        payload = csv_bytes(["id", "text"], [[f"r{i}", sentence(rng)] for i in range(2000)])
        first_data_line = 2  # line 1 is the header
    cut = write_truncated_gzip(tmp_path / f"cut.{kind}.gz", payload)
    neighbour = write_lines(tmp_path / "neighbour.jsonl", [jline({"id": "n1", "text": "ok"})])

    summary = run(db, cut, neighbour)

    stored_from_cut = sorted(i for i in doc_ids(db) if i.startswith("r"))
    n = len(stored_from_cut)
    assert 1000 <= n < 2000, n  # ~60% of the compressed bytes -> well over half the records
    assert set(stored_from_cut) == {f"r{i}" for i in range(n)}  # an unbroken prefix
    assert "n1" in doc_ids(db)
    rejects = rejects_for(db, cut)
    assert len(rejects) == 1
    assert rejects[0]["reason"].startswith("input ends early")
    assert rejects[0]["position"] == f"line {n + first_data_line}"
    assert summary.rejected == 1
    assert summary.stored == n + 1


def test_gzip_cut_inside_its_header_is_one_reject(tmp_path, db):
    """Five bytes of gzip cannot even be opened; that is a reject, not a crash."""
    stub = tmp_path / "stub.jsonl.gz"
    stub.write_bytes(gzip.compress(b'{"id": "x", "text": "never seen"}\n')[:5])
    neighbour = write_lines(tmp_path / "ok.jsonl", [jline({"id": "ok", "text": "fine"})])

    summary = run(db, stub, neighbour)

    assert doc_ids(db) == {"ok"}
    [reject] = rejects_for(db, stub)
    assert "input ends early" in reject["reason"]
    assert summary.rejected == 1


# -- 2. malformed JSON lines --------------------------------------------------------------
def test_malformed_json_lines_rejected_with_their_line_numbers(tmp_path, db):
    """One broken line in a million must cost one record, and point at the line."""
    bad_utf8 = b'{"id": "u", "text": "caf\xe9 \xff\xfe"}'
    lines = [
        jline({"id": "g1", "text": "first good record"}),  # line 1
        b'{"id": "cut", "text": ',  # line 2: object cut off
        b"[1, 2, 3]",  # line 3: an array on a line
        b"42",  # line 4: a bare number
        bad_utf8,  # line 5: not UTF-8
        jline({"id": "g2", "text": "second good record"}),  # line 6
        b'"just a string"',  # line 7
        b"null",  # line 8
        b'{"id": "g3", "text": "lone surrogate \\ud800 here"}',  # line 9: odd but readable
    ]
    path = write_lines(tmp_path / "mixed.jsonl", lines)

    summary = run(db, path)

    assert doc_ids(db) == {"g1", "g2", "g3"}
    assert "lone surrogate" in doc(db, "g3")["text"]
    by_line = {r["position"]: r for r in rejects_for(db, path)}
    assert set(by_line) == {"line 2", "line 3", "line 4", "line 5", "line 7", "line 8"}
    assert by_line["line 2"]["reason"].startswith("malformed JSON")
    assert by_line["line 3"]["reason"] == "expected a JSON object, got list"
    assert by_line["line 4"]["reason"] == "expected a JSON object, got int"
    assert by_line["line 5"]["reason"].startswith("malformed JSON")
    assert by_line["line 5"]["raw"].rstrip(b"\n") == bad_utf8  # the bytes, unchanged
    for number, row in by_line.items():
        index = int(number.split()[1]) - 1
        assert row["raw"].rstrip(b"\n") == lines[index]
    assert (summary.read, summary.stored, summary.rejected) == (9, 3, 6)


def test_jsonl_whose_first_line_is_an_array_keeps_the_other_lines(tmp_path, db):
    """The position of the bad line must not decide whether the good ones survive."""
    path = write_lines(
        tmp_path / "arrayfirst.jsonl",
        [b"[1, 2]", jline({"id": "a", "text": "good a"}), jline({"id": "b", "text": "good b"})],
    )

    run(db, path)

    assert doc_ids(db) == {"a", "b"}
    [reject] = rejects_for(db, path)
    assert reject["position"] == "line 1"


# -- 3. binary files in a folder ----------------------------------------------------------
def test_binary_files_in_a_folder_are_rejected_and_text_files_stored(tmp_path, db):
    """Scanned folders hold images and junk; they are named and skipped, not decoded."""
    rng = random.Random(3)
    folder = tmp_path / "clippings"
    good_txt(folder, "a.txt", "Harbour council meets on Tuesday about the water supply.")
    good_txt(folder, "b.txt", "The ferry was cancelled because of the storm last night.")
    noise = bytes(rng.randrange(256) for _ in range(4000))
    (folder / "photo.png").write_bytes(PNG_HEAD + noise)
    (folder / "disguised.txt").write_bytes(PNG_HEAD + noise)  # an image with a .txt name
    (folder / "dump.dat").write_bytes(b"abc\x00\x00\x01def" * 200)

    summary = run(db, folder)

    assert doc_ids(db) == {"clippings/a.txt", "clippings/b.txt"}
    assert doc(db, "clippings/a.txt")["text"].startswith("Harbour council")
    by_name = {Path(r["origin"]).name: r for r in rejects_for(db, folder)}
    assert set(by_name) == {"photo.png", "disguised.txt", "dump.dat"}
    for name in ("photo.png", "disguised.txt"):
        assert "PNG image" in by_name[name]["reason"]
        assert by_name[name]["raw"] == PNG_HEAD + noise  # raw kept for inspection
    assert "binary" in by_name["dump.dat"]["reason"]
    assert (summary.stored, summary.rejected) == (2, 3)


# -- 4. a 50 MB document --------------------------------------------------------------------
def test_fifty_megabyte_document_rejected_with_bounded_raw(tmp_path, db):
    """One giant file must not stall the run or bloat the store; its neighbour is kept."""
    folder = tmp_path / "folder"
    good_txt(folder, "small.txt", "A small and perfectly good article about the harbour.")
    huge = write_repeated(folder / "huge.txt", 50 * MiB, b"the quick brown fox jumps\n" * 40_000)
    try:
        summary = run(db, folder)

        assert doc_ids(db) == {"folder/small.txt"}
        [reject] = rejects_for(db, huge)
        assert "too large" in reject["reason"]
        assert "--max-doc-mb" in reject["reason"]
        assert 0 < len(reject["raw"]) <= MiB
        assert reject["raw"].startswith(b"the quick brown fox")
        assert summary.rejected == 1
    finally:
        huge.unlink()


def test_document_limit_can_be_raised(tmp_path, db):
    """A legitimately long document (a full report) is stored once the limit allows it."""
    folder = tmp_path / "reports"
    folder.mkdir()
    big = write_repeated(folder / "report.txt", 11 * MiB, b"flood report paragraph\n" * 10_000)
    try:
        first = run(db, folder)
        assert first.stored == 0
        assert "too large" in rejects_for(db, big)[0]["reason"]

        second = run(db, folder, max_doc_bytes=16 * MiB)
        assert second.stored == 1 and second.rejected == 0
        assert len(doc(db, "reports/report.txt")["text"]) > 10 * MiB
    finally:
        big.unlink()


def test_oversized_json_record_rejected_with_bounded_raw(tmp_path, db):
    """A record whose text is over the limit is rejected; raw kept in the store <= 1 MiB."""
    path = tmp_path / "big.jsonl"
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(json.dumps({"id": "ok", "text": "a normal record"}) + "\n")
        # 3 MiB of UTF-8: over the 2 MiB document limit, under the 4 MiB line limit
        fh.write(json.dumps({"id": "big", "text": "é" * (3 * MiB // 2)}, ensure_ascii=False))
        fh.write("\n" + json.dumps({"id": "ok2", "text": "another normal record"}) + "\n")
        # 6 MiB on one line: over the line limit, refused before JSON parsing
        fh.write(json.dumps({"id": "huge", "text": "é" * (3 * MiB)}, ensure_ascii=False) + "\n")
        fh.write(json.dumps({"id": "ok3", "text": "a third normal record"}) + "\n")

    summary = run(db, path, max_doc_bytes=2 * MiB)

    assert doc_ids(db) == {"ok", "ok2", "ok3"}
    rejects = {r["position"]: r for r in rejects_for(db, path)}
    assert rejects["line 2"]["origin"] == str(path)
    assert rejects["line 2"]["reason"].startswith("document too large")
    assert rejects["line 4"]["reason"].startswith("line too long")
    for row in rejects.values():
        assert 0 < len(row["raw"]) <= MiB
    assert summary.rejected == 2


def test_size_message_states_the_limit_the_user_set(tmp_path, db):
    """The reason must quote the limit in the unit of --max-doc-mb, or it confuses users."""
    big = write_repeated(good_txt(tmp_path / "f", "x.txt", ""), 11 * MiB, b"y" * MiB)
    try:
        run(db, big)  # default limit, the same as --max-doc-mb 10
        [reject] = rejects_for(db, big)
    finally:
        big.unlink()
    assert "10.0 MB" in reject["reason"], reject["reason"]


# -- 5. empty texts -------------------------------------------------------------------------
def test_empty_text_files_are_rejected(tmp_path, db):
    """An empty file is nothing to analyse; it is reported, its neighbours are stored."""
    folder = tmp_path / "drop"
    good_txt(folder, "good.txt", "The bridge reopened after repairs on Monday.")
    (folder / "empty.txt").write_bytes(b"")
    (folder / "blank.txt").write_bytes(b"  \n\n\t  \n")

    summary = run(db, folder)

    assert doc_ids(db) == {"drop/good.txt"}
    by_name = {Path(r["origin"]).name: r for r in rejects_for(db, folder)}
    assert set(by_name) == {"empty.txt", "blank.txt"}
    assert all("empty" in r["reason"] for r in by_name.values())
    assert by_name["blank.txt"]["raw"] == b"  \n\n\t  \n"
    assert summary.rejected == 2


def test_csv_row_with_empty_text_is_stored_with_a_warning(tmp_path, db):
    """A post with no text (an image-only tweet) is still a post: kept, flagged, counted."""
    path = tmp_path / "posts.csv"
    path.write_bytes(
        csv_bytes(
            ["id", "date", "text"],
            [["p1", "2020-05-01", "Council votes on the budget"], ["p2", "2020-05-02", ""]],
        )
    )

    summary = run(db, path)

    assert doc_ids(db) == {"p1", "p2"}
    empty = doc(db, "p2")
    assert empty["text"] == ""
    assert "empty text" in empty["metadata"]["ingest_warnings"]
    assert summary.warnings["empty text"] == 1
    assert summary.rejected == 0


# -- 6. impossible dates ----------------------------------------------------------------------
def _bad_dates() -> dict[str, str]:
    future = (datetime.now(UTC) + timedelta(days=400)).date().isoformat()
    return {
        "feb30": "2019-02-30",
        "year99999": "99999-01-01",
        "words": "not a date",
        "future": future,
    }


@pytest.mark.parametrize("kind", ["csv", "jsonl"])
def test_impossible_dates_are_stored_without_a_date(tmp_path, db, kind):
    """A wrong date is worse than none: the record is kept, undated, with the raw value."""
    bad = _bad_dates()
    rows = [[key, value, f"story {key} about the harbour"] for key, value in bad.items()]
    rows.append(["fine", "2020-05-01", "a story with a good date"])
    if kind == "csv":
        path = tmp_path / "dates.csv"
        path.write_bytes(csv_bytes(["id", "date", "text"], rows))
    else:
        path = write_lines(
            tmp_path / "dates.jsonl",
            [jline({"id": i, "date": d, "text": t}) for i, d, t in rows],
        )

    summary = run(db, path)

    assert doc_ids(db) == {*bad, "fine"}
    for key, raw in bad.items():
        stored = doc(db, key)
        assert stored["published_at"] is None, key
        assert stored["time_source"] == "unknown"
        assert stored["metadata"]["date_raw"] == raw
        assert any(w.startswith("date unreadable") for w in stored["metadata"]["ingest_warnings"])
    assert doc(db, "fine")["published_at"] == datetime(2020, 5, 1)
    assert summary.warnings["date unreadable"] == len(bad)
    assert summary.rejected == 0


def test_impossible_date_in_html_meta_keeps_the_page(tmp_path, db):
    """A page whose meta date is impossible is stored undated, the raw date in metadata."""
    folder = tmp_path / "site"
    page = (
        "<html><head><title>Dated page</title>"
        '<meta property="article:published_time" content="2019-02-30T10:00:00Z"></head>'
        "<body><article><p>" + "The reservoir level fell again this week. " * 5 + "</p>"
        "</article></body></html>"
    )
    good_txt(folder, "page.html", page)

    summary = run(db, folder)

    stored = doc(db, "site/page.html")
    assert stored["published_at"] is None and stored["time_source"] == "unknown"
    assert "2019-02-30" in json.dumps(stored["metadata"])
    assert summary.warnings["date unreadable"] == 1


def test_json_integer_year_is_not_read_as_1970(tmp_path, db):
    """``"date": 2019`` is common in exports; silently turning it into 1970 corrupts timing."""
    path = write_lines(
        tmp_path / "years.jsonl",
        [jline({"id": "y", "date": 2019, "text": "annual report text"})],
    )

    run(db, path)

    published = doc(db, "y")["published_at"]
    assert published is None or published.year == 2019, published


def test_time_without_a_date_is_not_given_todays_date(tmp_path, db):
    """A date is never guessed: '12:00' names no day, so the record must stay undated."""
    path = tmp_path / "times.csv"
    path.write_bytes(
        csv_bytes(["id", "date", "text"], [["t1", "12:00", "noon bulletin"]]),
    )

    summary = run(db, path)

    assert doc(db, "t1")["published_at"] is None
    assert summary.warnings["date unreadable"] == 1


def test_feed_entry_dates_are_checked_for_plausibility(tmp_path, db):
    """Feeds are the main source of publication times; an impossible one must not pass."""
    path = tmp_path / "odd.rss"
    path.write_bytes(
        rss(
            [
                rss_item("f1", "From the future", "text one", "Tue, 01 Jan 2999 00:00:00 GMT"),
                rss_item("f2", "From long ago", "text two", "Mon, 01 Jan 1001 00:00:00 GMT"),
            ]
        )
    )

    summary = run(db, path)

    for entry in ("f1", "f2"):
        stored = doc(db, entry)
        assert stored["published_at"] is None, entry
        assert stored["time_source"] == "unknown"
    assert summary.warnings["date unreadable"] == 2


# -- 7. HTML with scripts -------------------------------------------------------------------------
SCRIPT_MARKERS = (
    "alert(",
    "SECRET_TOKEN",
    "INJECTED-IN-BODY",
    "onload-payload",
    "click-payload",
    "onerror-payload",
    "hidden-style-marker",
    "evil.example",
)


def hostile_page(title: str) -> str:
    body = "The council confirmed on Tuesday that the reservoir is at its lowest level. " * 3
    return f"""<!doctype html><html lang="en"><head><title>{title}</title>
<script>alert('x'); var SECRET_TOKEN = "sk-evil";</script>
<script src="https://evil.example/x.js"></script>
<style>.hidden-style-marker {{ display: none }}</style>
</head><body onload="alert('onload-payload')">
<article><h1>{title}</h1>
<p onclick="steal('click-payload')">{body}</p>
<script>document.write('INJECTED-IN-BODY')</script>
<img src="x.png" onerror="alert('onerror-payload')">
<p>Read the <a href="javascript:alert('js-link')">full</a> report at
<a href="https://example.org/source">the source</a>.</p>
</article></body></html>"""


def test_html_scripts_and_handlers_never_reach_the_text(tmp_path, db):
    """Scripts in a page are not the article: they would create false text matches."""
    folder = tmp_path / "site"
    good_txt(folder, "page.html", hostile_page("Reservoir at record low"))
    good_txt(folder, "saved-as.txt", hostile_page("Saved page title"))  # HTML saved as .txt

    run(db, folder)

    for doc_id, title in (
        ("site/page.html", "Reservoir at record low"),
        ("site/saved-as.txt", "Saved page title"),
    ):
        stored = doc(db, doc_id)
        assert stored["title"] == title
        assert "reservoir is at its lowest level" in stored["text"]
        for marker in SCRIPT_MARKERS:
            assert marker not in stored["text"], (doc_id, marker)
        assert all(link.startswith("http") for link in stored["links"] or [])
        assert "https://example.org/source" in (stored["links"] or [])


def test_page_with_nothing_but_scripts_stores_no_script_text(tmp_path, db):
    """When the main-text extractor finds nothing, the fallback must drop scripts too."""
    folder = tmp_path / "site"
    good_txt(
        folder,
        "empty-shell.html",
        "<html><head><title>Script only</title><script>alert('fallback-head')</script>"
        "</head><body onload=\"alert('onload-payload')\">"
        "<script>document.write('INJECTED-IN-BODY')</script></body></html>",
    )

    run(db, folder)

    stored = doc(db, "site/empty-shell.html")
    assert stored["title"] == "Script only"
    for marker in (*SCRIPT_MARKERS, "fallback-head"):
        assert marker not in stored["text"], marker


def test_feed_summary_scripts_never_reach_the_text(tmp_path, db):
    """Feed summaries are HTML from strangers; their scripts are dropped too."""
    path = tmp_path / "feed.rss"
    summary_html = (
        "<![CDATA[<p onmouseover=\"alert('hover-payload')\">Entry body text.</p>"
        "<script>alert('feed-script')</script>]]>"
    )
    path.write_bytes(rss([rss_item("e1", "Entry one", summary_html, _PUB)]))

    run(db, path)

    stored = doc(db, "e1")
    assert stored["text"] == "Entry body text."
    assert stored["title"] == "Entry one"


def test_feed_summary_comments_never_reach_the_text(tmp_path, db):
    """Comments are invisible; a conditional comment often wraps a script."""
    path = tmp_path / "feed.rss"
    summary_html = (
        "<![CDATA[<p>Entry body text.</p><!-- editor note -->"
        "<!--[if lt IE 9]><script>alert('ie-payload')</script><![endif]-->]]>"
    )
    path.write_bytes(rss([rss_item("e1", "Entry one", summary_html, _PUB)]))

    run(db, path)

    assert doc(db, "e1")["text"] == "Entry body text."


# -- 8. fetching: loopback, private ranges, schemes, redirects, size ------------------------------
def test_loopback_feed_urls_are_refused_and_nothing_is_fetched(tmp_path, db, server):
    """A feed URL must not become a way into the machine's own network (SSRF)."""
    serve_feed(server)
    urls = [
        server.base + "/feed.xml",
        f"http://localhost:{server.port}/feed.xml",
        "http://127.0.0.1:9/feed.xml",
        "http://localhost/feed",
    ]
    neighbour = write_lines(tmp_path / "ok.jsonl", [jline({"id": "ok", "text": "fine"})])

    summary = run(db, *urls, neighbour)

    assert server.hits == []  # refused before any request was sent
    assert doc_ids(db) == {"ok"}
    rejects = {r["origin"]: r for r in reject_rows(db)}
    assert set(rejects) == set(urls)
    for url, row in rejects.items():
        assert "loopback" in row["reason"], url
        assert "--allow-private" in row["reason"], url
    assert summary.rejected == len(urls)


def test_url_list_with_private_and_non_http_urls_is_refused_line_by_line(tmp_path, db, server):
    """A list of feeds from a colleague may point anywhere; each bad line is named."""
    serve_feed(server)
    listing = tmp_path / "feeds.txt"
    listing.write_text(
        "\n".join(
            [
                "# feeds to watch",
                server.base + "/feed.xml",
                "http://localhost/feed",
                "http://10.0.0.1/feed",
                "file:///etc/passwd",
                "ftp://example.com/feed.xml",
            ]
        )
        + "\n",
        encoding="utf-8",
    )

    summary = run(db, listing)

    assert server.hits == []
    positions = {r["position"]: r["reason"] for r in reject_rows(db)}
    assert set(positions) == {f"{listing}:line {n}" for n in (2, 3, 4, 5, 6)}
    assert "loopback" in positions[f"{listing}:line 2"]
    assert "loopback" in positions[f"{listing}:line 3"]
    assert "private" in positions[f"{listing}:line 4"]
    assert "only http and https" in positions[f"{listing}:line 5"]
    assert "only http and https" in positions[f"{listing}:line 6"]
    assert summary.stored == 0


@pytest.mark.parametrize(
    ("ip", "kind"),
    [
        ("10.0.0.1", "private"),
        ("192.168.1.10", "private"),
        ("169.254.169.254", "link-local"),
        ("127.0.0.1", "loopback"),
        ("::ffff:127.0.0.1", "loopback"),
        ("::1", None),
        ("0.0.0.0", "not a unicast"),
        ("224.0.0.1", "not a unicast"),
    ],
)
def test_check_address_refuses_non_public_addresses(ip, kind):
    """Every non-public address class is refused by default, with the class named."""
    with pytest.raises(FetchError, match="refused") as info:
        check_address(ip, allow_private=False)
    if kind is not None:
        assert kind in str(info.value)


@pytest.mark.parametrize("ip", ["8.8.8.8", "2001:4860:4860::8888"])
def test_check_address_allows_public_addresses(ip):
    """Public addresses pass; the guard must not block ordinary feeds."""
    check_address(ip, allow_private=False)


def test_check_address_allow_private_still_refuses_non_unicast():
    """--allow-private opens private ranges, never multicast or 'any' addresses."""
    check_address("10.0.0.1", allow_private=True)
    check_address("127.0.0.1", allow_private=True)
    for ip in ("0.0.0.0", "224.0.0.1", "240.0.0.1"):
        with pytest.raises(FetchError, match="not a unicast"):
            check_address(ip, allow_private=True)


def test_ipv6_loopback_is_named_and_can_be_allowed():
    """http://[::1]:8000/ is as local as 127.0.0.1 and must behave the same."""
    with pytest.raises(FetchError, match=r"loopback.*--allow-private"):
        check_address("::1", allow_private=False)
    check_address("::1", allow_private=True)


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://8.8.8.8/feed.xml",
        "gopher://8.8.8.8/",
        "http://user:secret@8.8.8.8/feed",
        "http:///no-host",
    ],
)
def test_fetch_refuses_other_schemes_credentials_and_missing_hosts(url):
    """Only plain http(s) URLs to a named host are fetched, whatever the policy."""
    with pytest.raises(FetchError, match="refused"):
        fetch(url, FetchPolicy(allow_private=True, timeout_s=2))


def test_allow_private_fetches_a_local_feed(db, server):
    """With --allow-private a feed on the local machine IS read (for intranet archives)."""
    url = serve_feed(server)

    summary = ingest(db, [url], ReadOptions(detect_language=False, fetch=_private()))

    assert server.hits == ["/feed.xml"]
    assert summary.stored == 2 and summary.rejected == 0
    stored = doc(db, "local-1")
    assert stored["title"] == "Harbour closed"
    assert stored["time_source"] == "feed"
    assert stored["published_at"] == datetime(2025, 3, 11, 10, 0)


def _private(**kw) -> FetchPolicy:
    return FetchPolicy(allow_private=True, timeout_s=10, **kw)


@pytest.mark.parametrize(
    ("location", "message"),
    [
        ("file:///etc/passwd", "only http and https"),
        ("ftp://127.0.0.1/feed", "only http and https"),
        ("http://0.0.0.0:1/", "not a unicast"),
        ("http://224.0.0.1/", "not a unicast"),
        ("http://user:pw@127.0.0.1/", "credentials"),
    ],
)
def test_redirect_target_is_checked_again_with_private_allowed(server, location, message):
    """A redirect is a new URL: what the policy refuses stays refused after a 302."""
    url = server.redirect("/go", location)

    with pytest.raises(FetchError, match=message):
        fetch(url, _private())
    assert server.hits == ["/go"]


def test_redirect_loop_is_cut_off(server):
    """A server that redirects forever gets a bounded number of requests."""
    server.redirect("/a", "/b")
    server.redirect("/b", "/a")

    with pytest.raises(FetchError, match="too many redirects"):
        fetch(server.base + "/a", _private(max_redirects=3))
    assert len(server.hits) == 4


@pytest.mark.parametrize(
    ("location", "kind"),
    [
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("http://10.0.0.1/admin", "private"),
        ("http://127.0.0.2:{port}/feed.xml", "loopback"),
        ("http://[::ffff:127.0.0.2]:{port}/feed.xml", "loopback"),
    ],
)
def test_redirect_from_public_server_to_private_address_is_refused(
    server, monkeypatch, location, kind
):
    """The SSRF trick: a public page 302s to an internal address. The test server stands
    in for a public one (only its exact address, 127.0.0.1, is treated as public)."""
    real = fetch_mod.check_address

    def public_test_server(ip: str, allow_private: bool) -> None:
        if ip != "127.0.0.1":
            real(ip, allow_private)

    monkeypatch.setattr(fetch_mod, "check_address", public_test_server)
    serve_feed(server)
    assert fetch(server.base + "/feed.xml", FetchPolicy()).status == 200  # stand-in works
    url = server.redirect("/go", location.format(port=server.port))

    with pytest.raises(FetchError, match=kind):
        fetch(url, FetchPolicy(timeout_s=10))
    assert server.hits == ["/feed.xml", "/go"]


@pytest.mark.parametrize("with_length", [True, False])
def test_response_over_the_size_limit_is_refused(db, server, with_length):
    """A hostile server can send gigabytes; the fetch stops at the limit, declared or not."""
    headers = {"Content-Type": "text/html"}
    body = b"<html><body><p>" + b"x" * 5000 + b"</p></body></html>"
    if with_length:
        headers["Content-Length"] = str(len(body))
    server.routes["/big.html"] = (200, headers, body)

    with pytest.raises(FetchError, match="limit"):
        fetch(server.base + "/big.html", _private(max_bytes=1000))
    summary = ingest(
        db,
        [server.base + "/big.html"],
        ReadOptions(detect_language=False, fetch=_private(max_bytes=1000)),
    )
    assert summary.rejected == 1 and summary.stored == 0
    assert "limit" in reject_rows(db)[0]["reason"]


# -- 9. the command line ---------------------------------------------------------------------------
def cli(*args: str):
    return CliRunner().invoke(app, ["ingest", *args])


def all_bad_jsonl(path: Path) -> Path:
    return write_lines(path, [b'{"id": 1, "text": ', b"not json", b"[1]"])


def test_cli_every_record_bad_exits_1_with_an_error_line_not_a_traceback(tmp_path):
    """Scripts need a failing exit code; users need one line, not a stack trace."""
    bad = all_bad_jsonl(tmp_path / "bad.jsonl")
    proc = subprocess.run(
        [sys.executable, "-m", "echoscope", "ingest", "--db", str(tmp_path / "c.duckdb"), str(bad)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert proc.returncode == 1, proc.stderr
    assert "error: nothing could be read" in flat(proc.stderr)
    assert "Traceback" not in proc.stdout + proc.stderr


def test_cli_missing_path_exits_2(tmp_path):
    """A typo in a path is a user error: exit 2 and say which path."""
    result = cli("--db", str(tmp_path / "c.duckdb"), str(tmp_path / "nope.jsonl"))
    assert result.exit_code == 2
    assert "no such file" in flat(result.output)
    assert "nope.jsonl" in flat(result.output)
    assert "Traceback" not in result.output


def test_cli_map_to_missing_column_names_the_column(tmp_path):
    """A wrong --map must say which column it could not find, not fail silently."""
    posts = tmp_path / "posts.csv"
    posts.write_bytes(csv_bytes(["id", "body"], [["1", "hello there"]]))
    store_path = tmp_path / "c.duckdb"

    result = cli("--db", str(store_path), "--map", "text=nosuchcolumn", str(posts))

    assert result.exit_code == 1
    assert "nosuchcolumn" in flat(result.output)
    assert "Traceback" not in result.output
    with Store(store_path, read_only=True) as store:
        [reject] = reject_rows(store)
    assert "no column 'nosuchcolumn'" in reject["reason"]
    assert "body" in reject["reason"]  # the columns that do exist are listed


def test_cli_good_and_bad_mix_exits_0(tmp_path):
    """Some bad records in a batch are normal: the run succeeds and reports them."""
    folder = tmp_path / "mix"
    good_txt(folder, "good.txt", "The festival opened on Friday despite the rain.")
    (folder / "photo.png").write_bytes(PNG_HEAD + b"\x00" * 64)
    write_lines(folder / "lines.jsonl", [jline({"id": "j", "text": "ok"}), b"{broken"])
    store_path = tmp_path / "c.duckdb"

    result = cli("--db", str(store_path), "--quiet", str(folder))

    assert result.exit_code == 0, result.output
    with Store(store_path, read_only=True) as store:
        assert doc_ids(store) == {"mix/good.txt", "j"}
        assert store.count("rejects") == 2


def test_cli_refused_loopback_url_tells_the_user_about_allow_private(tmp_path):
    """Whoever points echoscope at a local feed must learn how to allow it."""
    result = cli("--db", str(tmp_path / "c.duckdb"), "http://127.0.0.1:9/feed.xml")

    assert result.exit_code == 1
    assert "--allow-private" in flat(result.output)


# -- 10. re-ingesting ----------------------------------------------------------------------------
def hostile_mix(root: Path) -> Path:
    """One folder with every kind of trouble above, next to good records."""
    rng = random.Random(11)
    folder = root / "mix"
    good_txt(folder, "good-1.txt", "The railway strike ended after talks on Sunday.")
    good_txt(folder, "good-2.txt", "Flood defences held along the river overnight.")
    good_txt(folder, "page.html", hostile_page("Reservoir at record low"))
    (folder / "empty.txt").write_bytes(b"")
    (folder / "photo.png").write_bytes(PNG_HEAD + bytes(rng.randrange(256) for _ in range(512)))
    write_lines(
        folder / "lines.jsonl",
        [jline({"text": "no id, good"}), b"[1, 2]", b"42", jline({"text": "no id, good"})],
    )
    (folder / "posts.csv").write_bytes(
        csv_bytes(
            ["date", "text"],
            [["2019-02-30", "bad date post"], ["2020-01-02", ""], ["not a date", "x"]],
        )
    )
    write_truncated_gzip(
        folder / "cut.jsonl.gz",
        b"\n".join(jline({"id": f"z{i}", "text": sentence(rng)}) for i in range(300)),
    )
    (folder / "feeds.txt").write_text("http://127.0.0.1:9/feed.xml\n", encoding="utf-8")
    return folder


def test_reingesting_the_hostile_mix_stores_nothing_new(tmp_path, db):
    """Re-running after a failure must not duplicate: every id derived from bad input is
    stable, and the rejects stay rejects."""
    folder = hostile_mix(tmp_path)

    first = run(db, folder)
    count = db.count("documents")
    second = run(db, folder)

    assert first.stored > 50 and first.rejected >= 6
    assert count == first.stored
    assert second.stored == 0
    assert second.duplicates == first.stored
    assert second.rejected == first.rejected
    assert db.count("documents") == count
    assert {"mix/good-1.txt", "mix/good-2.txt", "mix/page.html"} <= doc_ids(db)
