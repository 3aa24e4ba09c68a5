"""The HTML report's claims section, on stores built by the real claims stage: a re-worded
claim listed with its documents in time order and the earliest marked, unrelated text left
out, hostile sentences escaped, times too coarse to order marked as uncertain, a store the
stage never ran on, and the demo's Harwick claim with the wire story first.

One embedder (the packaged model, offline) is shared with the other claims tests.
"""

from __future__ import annotations

import html
import json
import re
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest

from echoscope.detect.claims.stage import run_claims
from echoscope.model import TimePrecision
from echoscope.present import report as report_mod
from echoscope.present.report import write_report
from echoscope.store import Store
from helpers import store_docs

BRIDGE = "The Harbour Bridge will close to all traffic for three weeks of repairs from March 3."
BRIDGE_RADIO = (
    "From March 3 the Harbour Bridge is shut to traffic for three weeks while repairs are done."
)
BRIDGE_BLOG = "Repairs will close the Harbour Bridge to traffic for three weeks from 3 March."
MUSEUM_PAPER = "The town museum will reopen on Saturday after a two-year refurbishment."
MUSEUM_POST = "After two years of refurbishment the town museum reopens this Saturday."
HOSTILE_A = (
    "Council staff were told <script>alert(1)</script> to stay home on Friday because of the storm."
)
HOSTILE_B = (
    '"><img src=x onerror=alert(1)> Council staff were told to stay home on Friday '
    "because of the storm."
)
UNRELATED = "Whisk the eggs with the sugar until pale and fluffy before folding in the flour."

MINUTE, DAY = TimePrecision.MINUTE, TimePrecision.DAY
# (id, source, published_at, precision, text)
DOCS = [
    ("harbour-times/bridge", "harbour-times", datetime(2024, 2, 20, 9, 0), MINUTE,
     BRIDGE + " Drivers are advised to use the ring road instead."),
    ("radio-north/bridge", "radio-north", datetime(2024, 2, 20, 7, 15), MINUTE,
     BRIDGE_RADIO + " Listeners have been calling in all morning."),
    ("river-blog/bridge-works", "river-blog", datetime(2024, 2, 21, 18, 0), MINUTE,
     "Big disruption ahead for commuters on the south side. " + BRIDGE_BLOG),
    # a paper dated only by its day, and a post timed that same morning
    ("weekly-echo/museum", "weekly-echo", datetime(2024, 2, 22), DAY,
     MUSEUM_PAPER + " Tickets are free for residents during the first month."),
    ("social/museum-post", "social", datetime(2024, 2, 22, 10, 30), MINUTE,
     MUSEUM_POST + " Can't wait to see the new dinosaur hall!"),
    ("storm-watch/staff", "storm-watch", datetime(2024, 2, 23, 8, 0), MINUTE, HOSTILE_A),
    ("storm-feed/staff", "storm-feed", datetime(2024, 2, 23, 9, 0), MINUTE, HOSTILE_B),
    ("food-blog/cake", "food-blog", datetime(2024, 2, 19, 12, 0), MINUTE,
     UNRELATED + " Bake for twenty minutes in a hot oven."),
    ("sports-desk/derby", "sports-desk", datetime(2024, 2, 20, 20, 0), MINUTE,
     "United beat City by three goals to one on Saturday evening at the old ground."),
]  # fmt: skip


class _Claims(HTMLParser):
    """The claims section as data: one (heading, notes, rows) per claim, every cell's text
    unescaped, so a test reads what a browser would show."""

    def __init__(self) -> None:
        super().__init__()
        self.in_section = False
        self.claims: list[dict] = []
        self.text = ""
        self.code = ""
        self.in_code = False
        self.in_td = False

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag in ("h2", "h3", "td", "p"):
            self.text = ""
            self.in_td = tag == "td"
        elif tag == "br":
            self.text += " "
        elif tag == "code":
            self.in_code, self.code = True, ""
        elif tag == "tr" and self.in_section and self.claims:
            self.claims[-1]["rows"].append({"cells": [], "doc": None})

    def handle_endtag(self, tag: str) -> None:
        if tag == "h2":
            self.in_section = self.text.strip() == "Claims"
        elif not self.in_section:
            return
        elif tag == "h3":
            self.claims.append({"heading": self.text.strip(), "notes": [], "rows": []})
        elif tag == "code":
            self.in_code = False
            if self.in_td and self.claims:  # a document's id, not one named in a note
                self.claims[-1]["rows"][-1]["doc"] = self.code
        elif tag == "td" and self.claims:
            self.in_td = False
            self.claims[-1]["rows"][-1]["cells"].append(self.text.strip())
        elif tag == "p" and self.claims:
            self.claims[-1]["notes"].append(self.text.strip())

    def handle_data(self, data: str) -> None:
        self.text += data
        if self.in_code:
            self.code += data


def claims_of(html_text: str) -> list[dict]:
    """Each shown claim with rows as dicts: mark, published, source, document (its text
    and ``doc``, the id alone), sentence, score; ``docs`` lists the ids in row order."""
    parser = _Claims()
    parser.feed(html_text)
    keys = ("mark", "published", "source", "document", "sentence", "score")
    tree_keys = (*keys, "repeats", "credit")  # when the cascade stage built claim trees
    for claim in parser.claims:
        claim["rows"] = [
            dict(
                zip(
                    tree_keys if len(r["cells"]) == len(tree_keys) else keys,
                    r["cells"],
                    strict=True,
                ),
                doc=r["doc"],
            )
            for r in claim["rows"]
            if r["cells"]
        ]
        claim["docs"] = [r["doc"] for r in claim["rows"]]
    return parser.claims


def claim_with(claims: list[dict], doc_id: str) -> dict:
    found = [c for c in claims if doc_id in c["docs"]]
    assert len(found) == 1, (doc_id, [c["heading"] for c in claims])
    return found[0]


@pytest.fixture(scope="module")
def written(tmp_path_factory, embedder) -> tuple[Path, str]:
    """A store of the documents above with the claims stage run, and its report."""
    tmp = tmp_path_factory.mktemp("report")
    with Store(tmp / "r.duckdb") as store:
        store_docs(store, DOCS)
        run_claims(store, embedder=embedder)
        out = write_report(store, tmp / "report.html", title="claims test")
    return tmp / "r.duckdb", out.read_text(encoding="utf-8")


def test_rewording_listed_in_time_order_with_the_earliest_first(written):
    _, html_text = written
    assert "<h2>Claims</h2>" in html_text
    claims = claims_of(html_text)
    bridge = claim_with(claims, "radio-north/bridge")
    assert bridge["docs"] == [
        "radio-north/bridge",  # 07:15, before the paper's 09:00
        "harbour-times/bridge",
        "river-blog/bridge-works",
    ]
    assert [r["mark"] for r in bridge["rows"]] == ["first", "", ""]
    assert bridge["heading"].startswith("Claim ") and bridge["heading"].endswith(
        f"“{BRIDGE_RADIO}”"
    )
    # each sentence is the exact stored one, not the whole document
    assert [r["sentence"] for r in bridge["rows"]] == [BRIDGE_RADIO, BRIDGE, BRIDGE_BLOG]
    assert bridge["rows"][0]["published"].startswith("2024-02-20 07:15")
    assert bridge["rows"][0]["source"] == "radio-north"
    assert all(0 < float(r["score"]) <= 1 for r in bridge["rows"])
    assert not any(n.startswith("first:") for n in bridge["notes"])  # no doubt who came first


def test_unrelated_text_is_not_a_claim(written):
    _, html_text = written
    claims = claims_of(html_text)
    shown = {d for c in claims for d in c["docs"]}
    assert not shown & {"food-blog/cake", "sports-desk/derby"}
    assert all(UNRELATED not in c["heading"] for c in claims)
    assert all(len(set(c["docs"])) >= 2 for c in claims)


def test_overlapping_times_are_not_called_certain(written):
    _, html_text = written
    museum = claim_with(claims_of(html_text), "weekly-echo/museum")
    # the day-dated paper sorts first, but the post was timed within that same day
    assert museum["docs"] == ["weekly-echo/museum", "social/museum-post"]
    assert [r["mark"] for r in museum["rows"]] == ["first?", "same time"]
    assert museum["rows"][0]["published"] == "2024-02-22 day"  # shown with its precision
    assert any(
        "weekly-echo/museum" in n and "day precision" in n and "social/museum-post" in n
        for n in museum["notes"]
    ), museum["notes"]


def test_hostile_sentences_are_escaped(written):
    _, html_text = written
    staff = claim_with(claims_of(html_text), "storm-watch/staff")
    sentences = " ".join(r["sentence"] for r in staff["rows"]) + staff["heading"]
    # shown to the reader as text ...
    assert "<script>alert(1)</script>" in sentences
    assert "onerror=alert(1)>" in sentences
    # ... and never as markup
    assert "<script>alert" not in html_text
    assert "<img" not in html_text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html_text
    section = html_text[html_text.index("<h2>Claims</h2>") : html_text.index("<h2>Sources</h2>")]
    assert "<script" not in section and "onerror=alert(1)&gt;" in section


def test_only_the_top_claims_are_shown_with_a_count_of_the_rest(written, monkeypatch, tmp_path):
    db, full = written
    monkeypatch.setattr(report_mod, "CLAIM_CLUSTERS", 1)
    monkeypatch.setattr(report_mod, "CLAIM_DOCS", 2)
    with Store(db) as store:
        text = write_report(store, tmp_path / "top.html").read_text(encoding="utf-8")
    claims = claims_of(text)
    assert len(claims) == 1 and len(claims[0]["docs"]) == 2
    # the most widely stated claim, cut to its two earliest documents
    assert claims[0]["docs"] == ["radio-north/bridge", "harbour-times/bridge"]
    assert any("stated in 3 documents" in n and "earliest 2" in n for n in claims[0]["notes"])
    more = len(claims_of(full)) - 1
    assert f"{more} more are stated in two or more documents" in text


def test_sources_beyond_the_limit_are_counted_not_dropped(written, monkeypatch, tmp_path):
    db, full = written
    every = sources_of(full)
    monkeypatch.setattr(report_mod, "MAX_SOURCES", 2)
    with Store(db) as store:
        text = write_report(store, tmp_path / "two.html").read_text(encoding="utf-8")
    assert sources_of(text) == every[:2] and len(every) > 2
    assert f"The first 2 of {len(every)} sources are shown" in text


def test_report_without_the_claims_stage(store, tmp_path):
    store_docs(store, DOCS)
    text = write_report(store, tmp_path / "plain.html").read_text(encoding="utf-8")
    assert "<h2>Timeline</h2>" in text and "harbour-times/bridge" in text
    assert "<h2>Claims</h2>" not in text and claims_of(text) == []


@pytest.fixture(scope="module")
def demo_report(tmp_path_factory) -> str:
    from echoscope.demo.run import run_demo

    result = run_demo(tmp_path_factory.mktemp("demo") / "demo")
    return Path(result["report"]).read_text(encoding="utf-8")


def sources_of(html_text: str) -> list[list[str]]:
    """The Sources table's body rows, each cell as a browser shows it."""
    section = html_text[html_text.index("<h2>Sources</h2>") :]
    section = section[: section.index("</table>")]
    rows = re.findall(r"<tr>(.*?)</tr>", section, flags=re.S)[2:]  # two header rows
    return [
        [html.unescape(re.sub(r"<[^>]+>", "", cell)) for cell in re.findall(r"<td.*?</td>", r)]
        for r in rows
    ]


def test_demo_report_counts_per_source_who_was_first_and_who_copied_without_credit(
    demo_report,
):
    from echoscope.demo import DATA_DIR

    truth = json.loads((DATA_DIR / "ground_truth.json").read_text(encoding="utf-8"))
    rows = sources_of(demo_report)
    cols = ["documents", "text first", "text copies", "text uncredited"]
    cols += ["claims first", "claim repeats", "claims uncredited"]
    table = {r[0]: dict(zip(cols, r[1:], strict=True)) for r in rows}
    # the wire story is first and copies nobody; each scenario copy is counted once for
    # its outlet, uncredited exactly when the scenario says it gives no credit
    wire = table["Northern Wire Service"]
    assert wire["text first"] == "1" and wire["text copies"] == "0"
    assert int(wire["claims first"]) > 0 and wire["claim repeats"] == "0"
    for copy in truth["copies"]:
        if copy["kind"] == "paraphrase":
            continue
        outlet = table[copy["doc"].split("/")[2]]
        assert outlet["text copies"] == "1", copy["doc"]
        assert outlet["text uncredited"] == ("0" if copy["attributed"] else "1"), copy["doc"]
    # the sources that repeat most without credit lead the table
    uncredited = [
        sum(int(r[c] or 0) for c in ("text uncredited", "claims uncredited"))
        for r in table.values()
    ]
    assert uncredited == sorted(uncredited, reverse=True) and uncredited[0] > 0
    # every source is listed, with its documents, trees or not
    timeline = demo_report[demo_report.index("<h2>Timeline</h2>") :]
    listed = timeline[: timeline.index("</table>")].count("<tr>") - 1  # less its header
    assert sum(int(r["documents"].replace(",", "")) for r in table.values()) == listed > 0


def test_demo_report_shows_the_harwick_claim_with_the_wire_first(demo_report):
    from echoscope.demo import DATA_DIR

    truth = json.loads((DATA_DIR / "ground_truth.json").read_text(encoding="utf-8"))
    expected = next(c for c in truth["claims"] if c["claim"].startswith("About 40,000 homes"))
    claims = claims_of(demo_report)
    # the wire story states many claims; this one is headed by its own sentence
    found = [c for c in claims if "About 40,000 homes in Harwick were told not to" in c["heading"]]
    assert len(found) == 1, [c["heading"] for c in claims]
    harwick = found[0]
    assert harwick["docs"][0] == expected["first"] and harwick["rows"][0]["mark"] == "first"
    assert set(expected["occurrences"]) <= set(harwick["docs"])
    times = [r["published"] for r in harwick["rows"]]
    assert times == sorted(times)
    # the claim's tree: the Courier repeats the wire and credits it by its link, the
    # Ledger repeats it without credit
    rows = {r["doc"]: r for r in harwick["rows"]}
    assert rows[expected["first"]]["repeats"] == "first appearance"
    courier = rows["articles/2025-03-14/harwick-courier/water-supply-cut.html"]
    ledger = rows["articles/2025-03-14/daily-ledger/harwick-homes-without-water.html"]
    assert expected["first"] in courier["repeats"] and courier["credit"].startswith("✔ link")
    assert expected["first"] in ledger["repeats"] and ledger["credit"] == "✘ none found"
