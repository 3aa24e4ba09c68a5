"""Each reader on small realistic inputs: the fields land where the document model says."""

import csv
import gzip
import io
import json
from datetime import datetime

import pytest

from echoscope.ingest.base import ReadOptions
from echoscope.ingest.detect import detect_format
from echoscope.ingest.pathtemplate import PathTemplate
from echoscope.ingest.pipeline import ingest
from echoscope.ingest.records import MappingError, parse_mapping


def _docs(store):
    return {d["id"]: d for d in store.documents().to_dict(orient="records")}


def test_passim_jsonl_plain_and_gzip(tmp_path, store):
    records = [
        {
            "id": "a1",
            "series": "gazette",
            "date": "1851-03-04",
            "text": "The steamer arrived at noon.",
            "page": 3,
        },
        {
            "id": "a2",
            "series": "courier",
            "date": "1851-03-05",
            "text": "The steamer arrived at noon, it is said.",
            "seq": 7,
        },
    ]
    plain = tmp_path / "in.jsonl"
    plain.write_text("\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")
    zipped = tmp_path / "more.jsonl.gz"
    with gzip.open(zipped, "wt", encoding="utf-8") as fh:
        fh.write(
            json.dumps(
                {"id": "a3", "series": "gazette", "date": "1851-03-06", "text": "Another item."}
            )
            + "\n"
        )
    summary = ingest(store, [str(plain), str(zipped)])
    assert (summary.read, summary.stored, summary.rejected) == (3, 3, 0)
    docs = _docs(store)
    assert docs["a1"]["source"] == "gazette"
    assert docs["a1"]["published_at"] == datetime(1851, 3, 4)
    assert docs["a1"]["time_precision"] == "day"
    assert docs["a1"]["time_source"] == "metadata"
    assert json.loads(docs["a1"]["metadata"]) == {"page": 3}
    assert json.loads(docs["a2"]["metadata"]) == {"seq": 7}  # passim's own fields are kept
    assert docs["a3"]["text"] == "Another item."


def test_csv_with_mapping_and_tsv(tmp_path, store):
    path = tmp_path / "posts.csv"
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["who", "when", "body", "lang"])
        w.writerow(
            ["acct1", "2016-10-19 00:13:00", "Look at this https://t.co/abc, wow.", "English"]
        )
        w.writerow(["acct2", "2016-10-19 00:14:00", 'Multi-line\n"quoted" text', "Russian"])
    tsv = tmp_path / "more.tsv"
    tsv.write_text(
        "who\twhen\tbody\tlang\nacct3\t2016-10-20\tTab separated\ten\n", encoding="utf-8"
    )
    opts = ReadOptions(
        mapping=parse_mapping("text=body,source=who,published_at=when,language=lang")
    )
    summary = ingest(store, [str(path), str(tsv)], opts)
    assert summary.stored == 3
    docs = sorted(_docs(store).values(), key=lambda d: d["seq"])
    assert [d["source"] for d in docs] == ["acct1", "acct2", "acct3"]
    assert docs[0]["links"] == ["https://t.co/abc"]
    assert docs[0]["language"] == "en" and docs[1]["language"] == "ru"
    assert docs[1]["text"] == 'Multi-line\n"quoted" text'
    assert docs[0]["published_at"] == datetime(2016, 10, 19, 0, 13)


def test_bad_mapping_is_explained(tmp_path, store):
    with pytest.raises(MappingError):
        parse_mapping("text")
    with pytest.raises(MappingError):
        parse_mapping("colour=red")
    path = tmp_path / "x.csv"
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    summary = ingest(store, [str(path)], ReadOptions(mapping={"text": "nosuch"}))
    assert summary.stored == 0 and summary.rejected == 1
    reason = store.con.execute("SELECT reason FROM rejects").fetchone()[0]
    assert "nosuch" in reason and "a, b" in reason


IRA_HEADER = [
    "author",
    "account_category",
    "publish_date",
    "language",
    "post_type",
    "retweet",
    "content",
]


def test_ira_layout_recognised_without_map_and_repeats_kept(tmp_path, store):
    path = tmp_path / "tweets.csv.gz"
    rows = [
        ["10_gop", "RightTroll", "2017-09-01 12:00:00", "English", "", "0", "Same words"],
        ["10_gop", "RightTroll", "2017-09-01 12:00:00", "English", "", "0", "Same words"],
        ["other", "LeftTroll", "2017-09-01 12:01:00", "English", "RETWEET", "1", "Same words"],
        ["x", "NonEnglish", "2016-10-19 00:13:00", "Russian", "R", "1", ""],
    ]
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(IRA_HEADER)
    w.writerows(rows)
    path.write_bytes(gzip.compress(buf.getvalue().encode()))
    summary = ingest(store, [str(path)])
    # Two identical posts by one account in one minute are two posts, not a duplicate.
    assert summary.stored == 4
    assert summary.warnings["empty text"] == 1
    docs = sorted(_docs(store).values(), key=lambda d: d["seq"])
    assert docs[0]["id"] != docs[1]["id"] and docs[1]["id"].endswith("~2")
    assert docs[0]["content_hash"] == docs[2]["content_hash"]
    assert json.loads(docs[2]["metadata"])["is_repost"] is True
    assert json.loads(docs[0]["metadata"])["account_category"] == "RightTroll"
    again = ingest(store, [str(path)])
    assert again.stored == 0 and again.duplicates == 4


def test_twitter_information_operations_layout(tmp_path, store):
    path = tmp_path / "io_tweets.csv"
    header = [
        "tweetid",
        "userid",
        "user_display_name",
        "user_screen_name",
        "tweet_language",
        "tweet_text",
        "tweet_time",
        "in_reply_to_tweetid",
        "quoted_tweet_tweetid",
        "is_retweet",
        "retweet_userid",
        "retweet_tweetid",
        "hashtags",
        "urls",
        "user_mentions",
    ]
    rows = [
        [
            "100",
            "u1",
            "One",
            "acct_one",
            "en",
            "Original claim #tag https://t.co/x",
            "2018-01-01 10:00",
            "",
            "",
            "False",
            "",
            "",
            "[tag]",
            "[https://example.com/story]",
            "[]",
        ],
        [
            "101",
            "u2",
            "Two",
            "acct_two",
            "en",
            "RT @acct_one: Original claim #tag",
            "2018-01-01 10:01",
            "",
            "",
            "True",
            "u1",
            "100",
            "[tag]",
            "[]",
            "[u1]",
        ],
    ]
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    assert ingest(store, [str(path)]).stored == 2
    docs = _docs(store)
    assert docs["100"]["source"] == "acct_one"
    assert docs["100"]["links"] == ["https://example.com/story"]
    assert docs["100"]["url"] == "https://twitter.com/i/web/status/100"
    assert json.loads(docs["100"]["metadata"])["hashtags"] == ["tag"]
    assert docs["101"]["parent_id"] == "100"
    assert json.loads(docs["101"]["metadata"])["parent_kind"] == "retweet"
    assert docs["101"]["published_at"] == datetime(2018, 1, 1, 10, 1)
    assert docs["101"]["time_precision"] == "minute"


def test_folder_with_path_template_wire_header_and_latin1(fixtures, store):
    root = fixtures / "wirefolder"
    pa = ingest(
        store,
        [str(root / "PA")],
        ReadOptions(source="PA", path_template=PathTemplate("{date:%d.%m.%y}/{story}/{name}.txt")),
    )
    papers = ingest(
        store,
        [str(root / "papers")],
        ReadOptions(path_template=PathTemplate("{date:%d.%m.%y}/{story}/{name}_{source}.txt")),
    )
    assert (pa.stored, papers.stored, pa.rejected + papers.rejected) == (
        1,
        2,
        0,
    )  # .DS_Store, Thumbs.db skipped
    docs = _docs(store)
    wire = docs["PA/14.03.25/harwick/harwick1.txt"]
    assert wire["source"] == "PA"
    assert wire["published_at"] == datetime(2025, 3, 14, 9, 5)
    assert (wire["time_source"], wire["time_precision"]) == ("header", "minute")
    assert wire["title"] == "WATER FIRM FINED OVER RESERVOIR LEAK"
    assert "fined £250,000 today" in wire["text"] and "\x19" not in wire["text"]
    meta = json.loads(wire["metadata"])
    assert meta["story"] == "harwick" and meta["name"] == "harwick1"
    sun = docs["papers/14.03.25/harwick/harwick7_sun.txt"]
    assert sun["source"] == "sun"
    assert (sun["time_source"], sun["time_precision"]) == ("path", "day")
    assert sun["text"].startswith("A WATER company was fined £250,000 yesterday")
    assert "\u201cignored repeated warnings\u201d" in sun["text"] and "\r" not in sun["text"]
    assert json.loads(sun["metadata"])["encoding"] == "cp1252"
    again = ingest(
        store,
        [str(root / "papers")],
        ReadOptions(path_template=PathTemplate("{date:%d.%m.%y}/{story}/{name}_{source}.txt")),
    )
    assert again.stored == 0 and again.duplicates == 2


def test_template_mismatch_keeps_document_with_warning(tmp_path, store):
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "loose.txt").write_text(
        "A note that does not follow the layout.", encoding="utf-8"
    )
    summary = ingest(
        store,
        [str(tmp_path / "notes")],
        ReadOptions(path_template=PathTemplate("{date:%Y}/{source}.txt")),
    )
    assert summary.stored == 1
    assert summary.warnings["path does not match template '{date"] == 1 or any(
        k.startswith("path does not match") for k in summary.warnings
    )


PAGE = """<!DOCTYPE html><html lang="en"><head><title>Leak closes reservoir | Courier</title>
<meta property="article:published_time" content="2025-03-14T09:15:00+01:00">
<link rel="canonical" href="https://courier.example/leak"></head>
<body><nav><a href="/">Home</a></nav><article><h1>Leak closes reservoir</h1>
<p>About 40,000 homes in Harwick were told not to drink tap water on Friday after routine tests found a cleaning chemical in the reservoir.</p>
<p>The story was first reported by the <a href="https://wire.example/story">Northern Wire Service</a>, which said engineers closed the outlet valve early in the morning.</p>
</article><footer>Copyright Courier</footer></body></html>"""


def test_html_file_main_text_title_date_links(tmp_path, store):
    path = tmp_path / "page.html"
    path.write_text(PAGE, encoding="utf-8")
    assert ingest(store, [str(path)]).stored == 1
    doc = next(iter(_docs(store).values()))
    assert doc["title"].startswith("Leak closes reservoir")
    assert "About 40,000 homes" in doc["text"] and "Copyright Courier" not in doc["text"]
    assert doc["published_at"] == datetime(2025, 3, 14, 8, 15)
    assert doc["links"] == ["https://wire.example/story"]
    assert doc["url"] == "https://courier.example/leak"
    assert doc["language"] == "en"


def test_warc_response_records(tmp_path, store):
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    path = tmp_path / "crawl.warc.gz"
    with open(path, "wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        for url, body, ctype in [
            ("https://courier.example/leak", PAGE.encode(), "text/html; charset=utf-8"),
            ("https://courier.example/logo.png", b"\x89PNG\r\n", "image/png"),
            (
                "https://other.example/undated",
                b"<html><body><article><p>"
                + b"An undated page about the reservoir leak and the queues for water. " * 5
                + b"</p></article></body></html>",
                "text/html",
            ),
        ]:
            headers = StatusAndHeaders("200 OK", [("Content-Type", ctype)], protocol="HTTP/1.1")
            record = writer.create_warc_record(
                url,
                "response",
                payload=io.BytesIO(body),
                http_headers=headers,
                warc_headers_dict={"WARC-Date": "2025-03-16T12:00:00Z"},
            )
            writer.write_record(record)
    assert detect_format(path) == "warc"
    summary = ingest(store, [str(path)])
    assert (summary.stored, summary.rejected) == (2, 0)  # the PNG is not a page
    docs = {d["url"]: d for d in _docs(store).values()}
    dated = docs["https://courier.example/leak"]
    assert dated["time_source"] == "metadata" and dated["published_at"] == datetime(
        2025, 3, 14, 8, 15
    )
    assert json.loads(dated["metadata"])["crawled_at"] == "2025-03-16T12:00:00Z"
    undated = docs["https://other.example/undated"]
    assert undated["time_source"] == "crawl" and undated["published_at"] == datetime(
        2025, 3, 16, 12, 0
    )
    assert undated["source"] == "other.example"


FEED = """<?xml version="1.0"?><rss version="2.0"><channel><title>Citizen Pulse</title>
<link>https://pulse.example/</link><language>en</language>
<item><title>Harwick poisoned</title><link>https://pulse.example/h</link><guid>https://pulse.example/h</guid>
<pubDate>Fri, 14 Mar 2025 10:02:00 +0100</pubDate>
<description><![CDATA[<p>Tens of thousands were told to stop drinking water. <a href="https://wire.example/story">source</a></p><script>alert(1)</script>]]></description></item>
<item><title>No date here</title><link>https://pulse.example/n</link><description>Undated entry text.</description></item>
</channel></rss>"""


def test_feed_file(tmp_path, store):
    path = tmp_path / "feed.xml"
    path.write_text(FEED, encoding="utf-8")
    assert detect_format(path) == "feed"
    summary = ingest(store, [str(path)])
    assert summary.stored == 2
    docs = _docs(store)
    entry = docs["https://pulse.example/h"]
    assert entry["source"] == "Citizen Pulse"
    assert entry["published_at"] == datetime(2025, 3, 14, 9, 2)
    assert entry["time_source"] == "feed"
    assert "alert" not in entry["text"] and "stop drinking water" in entry["text"]
    assert entry["links"] == ["https://wire.example/story"]
    assert docs["https://pulse.example/n"]["time_source"] == "unknown"


def test_format_detection_by_content(tmp_path):
    cases = {
        "a.dat": ('{"id": 1, "text": "x"}\n', "jsonl"),
        "b.dat": ("id,text,source\n1,x,y\n", "csv"),
        "c.dat": ("<html><body><p>hi</p></body></html>", "html"),
        "d.txt": ("https://a.example/feed\nhttps://b.example/rss\n", "urls"),
        "e.txt": ("Just some text.\n", "text"),
        "f": ("WARC/1.0\r\n", "warc"),
    }
    for name, (content, fmt) in cases.items():
        p = tmp_path / name
        p.write_text(content, encoding="utf-8")
        assert detect_format(p) == fmt, name


def test_path_date_offset_moves_path_dates_only(fixtures, store):
    root = fixtures / "wirefolder"
    opts = ReadOptions(
        path_template=PathTemplate("{date:%d.%m.%y}/{story}/{name}_{source}.txt"),
        path_date_offset_days=1,
    )
    ingest(store, [str(root / "papers")], opts)
    sun = _docs(store)["papers/14.03.25/harwick/harwick7_sun.txt"]
    assert sun["published_at"] == datetime(2025, 3, 15) and sun["time_source"] == "path"
    assert json.loads(sun["metadata"])["path_date"] == "2025-03-14"


def test_ira_quote_tweets_are_not_reposts(tmp_path, store):
    path = tmp_path / "q.csv"
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(IRA_HEADER)
        w.writerow(
            ["a", "RightTroll", "2017-09-01 12:00:00", "English", "Q", "1", "My own words on this"]
        )
        w.writerow(
            ["b", "RightTroll", "2017-09-01 12:01:00", "English", "R", "1", "Someone else's words"]
        )
    ingest(store, [str(path)])
    meta = {d["source"]: json.loads(d["metadata"]) for d in _docs(store).values()}
    assert meta["a"].get("is_quote") is True and "is_repost" not in meta["a"]
    assert meta["b"]["is_repost"] is True
