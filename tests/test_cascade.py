"""Propagation trees: parents from time bounds and alignment, with honest confidence."""

import json

from echoscope.demo import DATA_DIR
from echoscope.detect.reuse.stage import run_reuse
from echoscope.ingest.pipeline import ingest
from echoscope.trace.cascade import origins, run_cascades, source_stats, timeline, tree

STORY = (
    "The council approved the new bridge over the river Wyre after a vote of nine to four on Tuesday "
    "night, ending a dispute that has lasted for more than six years and cost the town dearly."
)


def _load(store, tmp_path, records):
    path = tmp_path / "docs.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")
    ingest(store, [str(path)])
    run_reuse(store)
    run_cascades(store)
    return {r.doc: r for r in tree(store, 1).itertuples()}


def test_demo_tree_matches_ground_truth(store, tmp_path):
    from echoscope.demo.run import build_corpus, ingest_corpus

    ingest_corpus(store, build_corpus(tmp_path))
    run_reuse(store)
    summary = run_cascades(store)
    truth = json.loads((DATA_DIR / "ground_truth.json").read_text(encoding="utf-8"))
    top = origins(store)
    wire_cluster = top[top["first_doc"] == truth["origin"]]
    assert len(wire_cluster) == 1
    members = {r.doc: r for r in tree(store, int(wire_cluster["cluster_id"].iloc[0])).itertuples()}
    for copy in truth["copies"]:
        if copy["kind"] == "paraphrase":
            continue
        edge = members[copy["doc"]]
        assert edge.parent == truth["origin"]
        assert bool(edge.attributed) == copy["attributed"], copy["doc"]
        assert edge.time_relation == "before" and edge.confidence > 0.45
    root = members[truth["origin"]]
    assert (
        root.parent is None or root.parent != root.parent
    )  # the wire story comes first (NaN: no parent)
    # the wire story spread within hours: counted per hour, totals ending at every member
    spread = timeline(store, [int(wire_cluster["cluster_id"].iloc[0])])
    steps = next(iter(spread.values()))["steps"]
    assert next(iter(spread.values()))["unit"] == "hour"
    assert steps[-1]["total_documents"] == len(members) and steps[0]["documents"] >= 1
    assert [s["start"] for s in steps] == sorted(s["start"] for s in steps)
    stats = source_stats(store).set_index("source")
    assert stats.loc["daily-ledger", "uncredited"] == 1
    assert summary.roots == len(top)


def test_missing_and_tied_times_give_low_confidence_not_confident_guesses(store, tmp_path):
    members = _load(
        store,
        tmp_path,
        [
            {"id": "a", "series": "one", "text": STORY},
            {"id": "b", "series": "two", "text": STORY},
            {
                "id": "c",
                "series": "three",
                "date": "2025-03-01",
                "text": STORY + " Residents cheered.",
            },
            {
                "id": "d",
                "series": "four",
                "date": "2025-03-01",
                "text": STORY + " Traders complained.",
            },
        ],
    )
    for doc, edge in members.items():
        if edge.parent is None or edge.parent != edge.parent:
            continue
        assert edge.time_relation in ("unknown", "tie", "overlap"), doc
        assert edge.confidence < 0.5, doc
    # undated and identical: a date is missing (not a tie), and nothing ordered the pair
    b = members["b"]
    assert b.parent == "a" and b.time_relation == "unknown"
    assert json.loads(b.evidence)["ordered_by"] == "neither"
    # c and d share a day and differ only in their own last sentence: a tie
    assert {members["c"].time_relation, members["d"].time_relation} & {"tie", "overlap"}
    # the cluster's table counts the guesses apart from the confident copies
    row = origins(store).iloc[0]
    assert row["low_confidence"] == row["copies"] == 3 and row["claim"] is None


def test_certain_order_gives_confident_parent(store, tmp_path):
    members = _load(
        store,
        tmp_path,
        [
            {
                "id": "late",
                "series": "gazette",
                "date": "2025-03-03T09:00:00Z",
                "text": "In brief: " + STORY,
            },
            {"id": "wire", "series": "wire", "date": "2025-03-01T08:00:00Z", "text": STORY},
        ],
    )
    assert members["late"].parent == "wire" and members["late"].time_relation == "before"
    assert members["late"].confidence > 0.8
    assert json.loads(members["late"].evidence)["ordered_by"] == "time"
    assert origins(store)["low_confidence"].tolist() == [0]
    assert members["wire"].parent is None or members["wire"].parent != members["wire"].parent
    # how it spread: two days apart, so counted per day, from the wire's day on
    spread = timeline(store, [1])[1]
    assert spread["unit"] == "day" and spread["undated"] == 0
    assert [(s["start"][:10], s["documents"], s["total_sources"]) for s in spread["steps"]] == [
        ("2025-03-01", 1, 1),
        ("2025-03-03", 1, 2),
    ]


def test_copy_linking_to_source_is_attributed_topic_only_is_not(store, tmp_path):
    path = tmp_path / "pages.jsonl"
    records = [
        {
            "id": "src",
            "series": "wire",
            "url": "https://wire.example/bridge",
            "date": "2025-03-01T08:00:00Z",
            "text": STORY,
        },
        {
            "id": "credited",
            "series": "courier",
            "date": "2025-03-01T12:00:00Z",
            "links": ["https://wire.example/bridge"],
            "text": STORY + " More to follow.",
        },
        {
            "id": "silent",
            "series": "ledger",
            "date": "2025-03-01T13:00:00Z",
            "text": "Breaking. " + STORY,
        },
        {
            "id": "topic",
            "series": "blog",
            "date": "2025-03-01T14:00:00Z",
            "text": "A bridge over the Wyre is coming at last, and the town is divided about what it will cost.",
        },
    ]
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")
    ingest(store, [str(path)])
    run_reuse(store)
    run_cascades(store)
    rows = store.con.execute(
        "SELECT c.id, p.id, e.attributed, e.credit_kind FROM cascade_edges e JOIN documents c ON c.seq = e.child_seq "
        "LEFT JOIN documents p ON p.seq = e.parent_seq"
    ).fetchall()
    by_child = {r[0]: r for r in rows}
    assert (
        by_child["credited"][1] == "src"
        and by_child["credited"][2]
        and by_child["credited"][3] == "link"
    )
    assert by_child["silent"][1] == "src" and not by_child["silent"][2]
    assert "topic" not in by_child  # sharing a topic is not a copy, so it has no parent to credit


BACKGROUND = (
    "Harold Benson, a retired surveyor from Kendal, was found dead at his cottage near the "
    "lake in March last year after neighbours raised the alarm about his missing dog."
)


def _filler(seed: str, n: int) -> str:
    """Distinct prose for each document, so only BACKGROUND is shared."""
    words = [f"{seed}{i}word" for i in range(n)]
    return " ".join(" ".join(words[i : i + 12]) + "." for i in range(0, n, 12))


def test_agency_sharing_only_background_with_an_older_paper_is_not_its_copy(store, tmp_path):
    """A wire text that repeats one background line a paper printed weeks before, and says
    nothing of the paper, took that line from the agency's own earlier copy: no parent. If
    it credits the paper, or if the later text is not an agency's, the paper is its parent."""
    paper = {
        "id": "paper",
        "series": "gazette",
        "date": "2025-01-10T08:00:00Z",
        "text": _filler("p", 120) + " " + BACKGROUND + " " + _filler("q", 60),
    }
    wire = {
        "id": "wire",
        "series": "PA",
        "date": "2025-02-10T08:00:00Z",
        "text": _filler("w", 300) + " " + BACKGROUND,
    }
    credited = {
        "id": "wire-credit",
        "series": "Reuters",
        "date": "2025-02-11T08:00:00Z",
        "text": _filler("r", 300) + " " + BACKGROUND + " The Gazette reported the death first.",
    }
    outlet = {
        "id": "courier",
        "series": "courier",
        "date": "2025-02-12T08:00:00Z",
        "text": _filler("c", 300) + " " + BACKGROUND,
    }
    path = tmp_path / "docs.jsonl"
    path.write_text(
        "\n".join(json.dumps(r) for r in (paper, wire, credited, outlet)) + "\n", encoding="utf-8"
    )
    ingest(store, [str(path)])
    run_reuse(store)
    run_cascades(store)
    edges = {
        child: (parent, evidence)
        for child, parent, evidence in store.con.execute(
            "SELECT c.id, p.id, e.evidence FROM cascade_edges e "
            "JOIN documents c ON c.seq = e.child_seq LEFT JOIN documents p ON p.seq = e.parent_seq"
        ).fetchall()
    }
    assert set(edges) == {"paper", "wire", "wire-credit", "courier"}
    # the uncredited wire text is not under the paper (nor anything: all else is later);
    # the paper itself stays a root
    assert edges["wire"][0] is None and edges["paper"][0] is None
    # credited, the pick-up stands; a non-agency outlet is judged on the text alone
    assert edges["wire-credit"][0] == "paper"
    assert edges["courier"][0] in {"paper", "wire", "wire-credit"}


def test_report_and_tree_say_when_a_date_is_missing(store, tmp_path):
    """An undated copy reads "date unknown" with its reason, never a NaT or a tie."""
    from typer.testing import CliRunner

    from echoscope.cli import app
    from echoscope.present.report import write_report

    db = tmp_path / "undated.duckdb"
    from echoscope.store import Store

    with Store(db) as own:
        members = _load(
            own,
            tmp_path,
            [
                {"id": "wire", "series": "wire", "date": "2025-03-01T08:00:00Z", "text": STORY},
                {"id": "undated", "series": "gazette", "text": STORY},
            ],
        )
        assert members["undated"].time_relation == "unknown"
        html = write_report(own, tmp_path / "r.html").read_text(encoding="utf-8")
    assert "NaT" not in html and "date unknown" in html and "a date is missing" in html
    res = CliRunner().invoke(app, ["cascade", "1", "--db", str(db)])
    shown = " ".join(res.output.split())
    assert res.exit_code == 0 and "date unknown" in shown and "(a date is missing)" in shown
    assert "2 documents" in shown


def test_verbatim_republishers_are_traced_to_the_agency_not_the_first_one_read(store, tmp_path):
    """The reuse stage aligns identical texts once, through the first read; in the tree
    every identical copy still has the agency as a candidate, whatever the reading order."""
    wire = STORY + "\n\nReporting by Anna Lind; editing by Tom Ware."
    for order in (("x", "y", "z", "wire"), ("z", "wire", "y", "x")):
        records = {
            "wire": {
                "id": "wire",
                "series": "agency",
                "date": "2025-03-01T08:00:00Z",
                "text": wire,
            },
            "x": {"id": "x", "series": "ex", "date": "2025-03-01T09:00:00Z", "text": STORY},
            "y": {"id": "y", "series": "why", "date": "2025-03-01T10:00:00Z", "text": STORY},
            "z": {"id": "z", "series": "zed", "date": "2025-03-01T11:00:00Z", "text": STORY},
        }
        folder = tmp_path / "-".join(order)
        folder.mkdir()
        from echoscope.store import Store

        with Store(folder / "s.duckdb") as own:
            members = _load(own, folder, [records[k] for k in order])
            methods = set(own.con.execute("SELECT method FROM reuse_links").df()["method"])
        assert "exact" in methods, order  # the copies were aligned through one of them
        for doc in ("x", "y", "z"):
            edge = members[doc]
            assert edge.parent == "wire" and edge.time_relation == "before", (order, doc)
        inherited = [json.loads(members[d].evidence).get("identical_to") for d in "xyz"]
        assert sum(i is not None for i in inherited) == 2, order
