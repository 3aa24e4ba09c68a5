"""The command line as a user and a script see it: exit codes, JSON output, messages."""

import csv
import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from echoscope.cli import app
from echoscope.demo import DATA_DIR

runner = CliRunner()


def run(*args: str):
    """A command that must succeed: an error it reports (exit 2, or 3 for an internal
    error caught and explained) fails the test here, not in a later assertion."""
    res = runner.invoke(app, list(args), catch_exceptions=False)
    assert res.exit_code == 0, (args, res.output)
    return res


@pytest.fixture
def db(tmp_path) -> str:
    return str(tmp_path / "cli.duckdb")


def test_ingest_json_then_stats_json(db, fixtures):
    res = run(
        "ingest",
        str(fixtures / "wirefolder" / "papers"),
        "--db",
        db,
        "--json",
        "--path-template",
        "{date:%d.%m.%y}/{story}/{name}_{source}.txt",
    )
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout.strip().splitlines()[-1])
    assert summary["stored"] == 2 and summary["rejected"] == 0
    stats = run("stats", "--db", db, "--json")
    data = json.loads(stats.stdout)
    assert isinstance(data["documents"], int) and data["documents"] == 2
    assert isinstance(data["rejects"], int) and data["rejects"] == 0
    assert data["sources"] == {"sun": 1, "times": 1}


def test_human_summary_and_stats_tables(db, fixtures):
    res = run("ingest", str(fixtures / "wirefolder" / "PA"), "--db", db, "--source", "PA")
    assert res.exit_code == 0
    assert "stored" in res.stdout and "duplicates skipped" in res.stdout
    res = run("stats", "--db", db)
    assert re.search(r"1\s+documents", res.stdout) and "PA" in res.stdout


def test_export_formats(db, fixtures, tmp_path):
    run("ingest", str(fixtures / "wirefolder" / "PA"), "--db", db, "-q")
    for fmt in ("parquet", "jsonl", "csv"):
        out = tmp_path / f"docs.{fmt}"
        res = run("export", "--format", fmt, "--out", str(out), "--db", db)
        assert res.exit_code == 0 and out.stat().st_size > 0


def test_export_csv_guards_formulas_unless_raw(db, tmp_path):
    src = tmp_path / "evil.jsonl"
    text = '=HYPERLINK("http://evil.example","open me") and the rest of the post'
    src.write_text(json.dumps({"id": "e1", "text": text}) + "\n", encoding="utf-8")
    assert run("ingest", str(src), "--db", db, "-q").exit_code == 0
    for flags, expected in (([], "'" + text), (["--csv-raw"], text)):
        out = tmp_path / "docs.csv"
        assert run("export", "-f", "csv", "--out", str(out), "--db", db, *flags).exit_code == 0
        with open(out, newline="", encoding="utf-8") as fh:
            assert next(csv.DictReader(fh))["text"] == expected


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--tz", "Mars/Base"], "unknown time zone"),
        (["--format", "docx"], "unknown --format"),
        (["--path-template", "no fields here"], "names no field"),
        (["--map", "colour=red"], "unknown field"),
    ],
)
def test_option_errors_are_one_line(db, fixtures, args, message):
    res = runner.invoke(app, ["ingest", str(fixtures / "wirefolder" / "PA"), "--db", db, *args])
    assert res.exit_code == 2
    assert message in res.output and "Traceback" not in res.output


def test_missing_source_and_missing_store(db, tmp_path):
    res = runner.invoke(app, ["ingest", str(tmp_path / "nope"), "--db", db])
    assert res.exit_code == 2 and "no such file or folder" in res.output
    res = runner.invoke(app, ["stats", "--db", str(tmp_path / "none.duckdb")])
    assert res.exit_code == 2 and "echoscope ingest" in res.output


def test_nothing_readable_exits_1(db, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{not json\n[1,2]\n", encoding="utf-8")
    res = runner.invoke(app, ["ingest", str(bad), "--db", db])
    assert res.exit_code == 1 and "nothing could be read" in res.output
    res = run("rejects", "--db", db, "--json")
    rows = json.loads(res.stdout)
    assert [r["position"] for r in rows] == ["line 1", "line 2"]


def test_version():
    res = run("--version")
    assert res.exit_code == 0 and res.stdout.startswith("echoscope ")


def test_demo_builds_ingests_and_reports(tmp_path):
    res = run("demo", "--dir", str(tmp_path / "demo"), "--json")
    assert res.exit_code == 0, res.output
    result = json.loads(res.stdout)
    truth = json.loads((DATA_DIR / "ground_truth.json").read_text(encoding="utf-8"))
    assert result["rejects"] == 0
    report = Path(result["report"]).read_text(encoding="utf-8")
    assert "Harwick" in report and "<script>alert" not in report
    # Every document the ground truth talks about exists under the id it names.
    from echoscope.store import Store

    with Store(result["db"], read_only=True) as store:
        ids = set(store.documents("id")["id"])
        named = {truth["origin"], *truth["independent"], *(c["doc"] for c in truth["copies"])}
        for claim in truth["claims"]:
            named.update(claim["occurrences"])
        for burst in truth["coordination"]["bursts"]:
            named.update(burst["posts"])
        assert named <= ids, named - ids
        sources = set(store.documents("source")["source"])
        assert set(truth["coordination"]["accounts"]) <= sources
    # Running the demo again starts from a clean store and gives the same counts.
    again = json.loads(run("demo", "--dir", str(tmp_path / "demo"), "--json").stdout)
    assert again["documents"] == result["documents"]


def test_analyze_and_reuse_commands(tmp_path):
    demo_dir = tmp_path / "demo"
    result = json.loads(run("demo", "--dir", str(demo_dir), "--json").stdout)
    db = result["db"]
    # Nothing new since the demo ran the stage: analyze is incremental.
    out = json.loads(run("analyze", "--db", db, "--json").stdout)
    again = out["reuse"]
    assert again["new_documents"] == 0 and again["links_total"] == result["reuse"]["links_total"]
    # credits get the learned scorer's second opinion unless told otherwise
    assert out["cascade"]["credit_model"] == "echoscope-attribution-scorer-v1"
    rules_only = json.loads(
        run("analyze", "--db", db, "--stage", "cascade", "--no-credit-model", "--json").stdout
    )["cascade"]
    assert rules_only["credit_model"] == "off"
    assert rules_only["credits_vetoed"] == rules_only["credits_learned"] == 0
    res = runner.invoke(app, ["analyze", "--db", db, "--shingle", "4"])
    assert res.exit_code == 2 and "--rebuild" in res.output
    res = run(
        "reuse",
        "articles/2025-03-14/daily-ledger/harwick-homes-without-water.html",
        "--db",
        db,
        "--json",
    )
    data = json.loads(res.stdout)
    wire = [link for link in data["links"] if link["other"] == "nws-20250314-harwick-water"]
    assert wire and wire[0]["role"] == "copy" and wire[0]["kind"] == "near-verbatim"
    passage = wire[0]["passages"][0]
    assert (
        "40,000 homes in Harwick" in passage["this"]["text"]
        and "40,000 homes in Harwick" in passage["other"]["text"]
    )
    human = run("reuse", "nws-20250314-harwick-water", "--db", db)
    assert "copied by" in human.stdout and "near-verbatim" in human.stdout
    missing = runner.invoke(app, ["reuse", "no-such-doc", "--db", db])
    assert missing.exit_code == 2 and "no document with id" in missing.output


def test_export_result_tables_with_evidence(tmp_path):
    result = json.loads(run("demo", "--dir", str(tmp_path / "demo"), "--json").stdout)
    for table in ("reuse_links", "reuse_passages", "reuse_clusters", "cascade_edges"):
        out = tmp_path / f"{table}.jsonl"
        res = run(
            "export",
            "--table",
            table,
            "--format",
            "jsonl",
            "--out",
            str(out),
            "--db",
            result["db"],
            "--json",
        )
        assert json.loads(res.stdout)["rows"] > 0
        rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
        assert rows
    edges = [
        json.loads(line)
        for line in (tmp_path / "cascade_edges.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    ledger = next(e for e in edges if e["child"].endswith("harwick-homes-without-water.html"))
    assert ledger["parent"] == "nws-20250314-harwick-water" and ledger["attributed"] is False
    # evidence is an object in JSON Lines, and its alternatives' seq resolve through the
    # exported child_seq / parent_seq
    assert ledger["evidence"]["coverage_child"] > 0.5
    seqs = {e["child_seq"]: e["child"] for e in edges}
    assert seqs[ledger["parent_seq"]] == ledger["parent"]
    for alt in ledger["evidence"]["alternatives"]:
        assert alt["seq"] in seqs
    bad = runner.invoke(
        app,
        ["export", "--table", "secrets", "--out", str(tmp_path / "x.csv"), "--db", result["db"]],
    )
    assert bad.exit_code == 2 and "unknown table" in bad.output


def test_report_command(tmp_path):
    result = json.loads(run("demo", "--dir", str(tmp_path / "demo"), "--json").stdout)
    out = tmp_path / "shared.html"
    res = run(
        "report", "--db", result["db"], "--out", str(out), "--title", "Harwick <water>", "--json"
    )
    assert json.loads(res.stdout)["report"] == str(out)
    html = out.read_text(encoding="utf-8")
    assert "Harwick &lt;water&gt;" in html and "Harwick <water>" not in html
    assert "nws-20250314-harwick-water" in html
    missing = runner.invoke(app, ["report", "--db", str(tmp_path / "none.duckdb")])
    assert missing.exit_code == 2 and "no store" in missing.output


def test_sources_and_aliases(tmp_path):
    result = json.loads(run("demo", "--dir", str(tmp_path / "demo"), "--json").stdout)
    rows = {
        r["source"]: r for r in json.loads(run("sources", "--db", result["db"], "--json").stdout)
    }
    assert (
        rows["daily-ledger"]["uncredited"] == 1 and rows["Northern Wire Service"]["originated"] == 1
    )
    # in the claim trees: the wire states its claims first and repeats nobody; the Courier
    # repeats them with a link to the wire, the Ledger without credit
    claims = {
        r["source"]: r
        for r in json.loads(run("sources", "--claims", "--db", result["db"], "--json").stdout)
    }
    wire, courier = claims["Northern Wire Service"], claims["harwick-courier"]
    assert wire["originated"] > 0 and wire["copied"] == 0
    assert courier["copied"] == courier["credited"] > 0
    assert claims["daily-ledger"]["uncredited"] == claims["daily-ledger"]["copied"] > 0
    shown = " ".join(run("sources", "--claims", "--db", result["db"]).stdout.split())
    assert "stated first" in shown and "repeats" in shown
    aliases = tmp_path / "aliases.tsv"
    aliases.write_text("Northern Wire Service\tthe wire service|NWS\n", encoding="utf-8")
    res = run("analyze", "--db", result["db"], "--aliases", str(aliases), "--json")
    assert json.loads(res.stdout)["cascade"]["edges"] > 0
    missing = runner.invoke(
        app, ["analyze", "--db", result["db"], "--aliases", str(tmp_path / "none.tsv")]
    )
    assert missing.exit_code == 2 and "no aliases file" in missing.output


def test_demo_traces_its_claims_and_trace_command(tmp_path):
    result = json.loads(run("demo", "--dir", str(tmp_path / "demo"), "--json").stdout)
    db = result["db"]
    for traced in result["traced_claims"]:
        found = {o["doc"] for o in traced["occurrences"]}
        assert set(traced["expected"]) <= found, set(traced["expected"]) - found
        assert traced["first_found"] == traced["first_expected"]
    claim = result["traced_claims"][1]["claim"]
    data = json.loads(run("trace", claim, "--db", db, "--json").stdout)
    docs = [o["doc_id"] for o in data["occurrences"]]
    assert set(result["traced_claims"][1]["expected"]) <= set(docs)
    times = [o["published_at"] for o in data["occurrences"]]
    assert times == sorted(times)
    assert [o["doc_id"] for o in data["occurrences"] if o["earliest"]] == [
        result["traced_claims"][1]["first_expected"]
    ]
    # --doc/--sentence traces a stored sentence; the table names the first document.
    res = run("trace", "--doc", "p002", "--db", db)
    assert res.exit_code == 0 and "first" in res.stdout and "BREAKING" in res.stdout
    data = json.loads(run("trace", "--doc", "p002", "--db", db, "--json").stdout)
    assert data["query"].startswith("BREAKING: Harwick water POISONED")
    same = [o["doc_id"] for o in data["occurrences"] if o["status"] == "same"]
    assert {"p002", "p003", "p004", "p005", "p006", "p007"} <= set(same)
    assert [o["doc_id"] for o in data["occurrences"] if o["earliest"]] == ["p002"]
    # --near doc scores the matches as posted at p002's time (the time-aware matcher)
    near = json.loads(run("trace", "--doc", "p002", "--near", "doc", "--db", db, "--json").stdout)
    assert (
        near["near"] is not None
        and near["near"][:10] == data["occurrences"][0]["published_at"][:10]
    )
    assert {"p002", "p003"} <= {o["doc_id"] for o in near["occurrences"]}
    # ... and its propagation: the five accounts repeat p002 without credit
    placed = {o["doc_id"]: o for o in data["occurrences"] if o["in_tree"]}
    assert placed["p002"]["parent_doc"] is None
    for post in ("p003", "p004", "p005", "p006", "p007"):
        assert placed[post]["parent_doc"] == "p002" and placed[post]["attributed"] is False
    assert "propagation" in res.stdout and "repeats harwick_news_now" in res.stdout
    # the wire claim's tree, from `origins --claims` to `cascade --claim`: the outlets
    # repeat the wire, the Courier (which links to it) with credit, the Ledger without
    top = json.loads(run("origins", "--claims", "--db", db, "--json").stdout)
    wire = next(r for r in top if r["first_doc"] == "nws-20250314-harwick-water")
    tree = json.loads(
        run("cascade", str(wire["cluster_id"]), "--claim", "--db", db, "--json").stdout
    )
    by_doc = {r["doc"]: r for r in tree}
    courier = by_doc["articles/2025-03-14/harwick-courier/water-supply-cut.html"]
    ledger = by_doc["articles/2025-03-14/daily-ledger/harwick-homes-without-water.html"]
    assert courier["parent"] == ledger["parent"] == "nws-20250314-harwick-water"
    assert courier["attributed"] and courier["credit_kind"] == "link"
    assert not ledger["attributed"] and ledger["evidence"]["basis"] == "claim"
    res = run("cascade", str(wire["cluster_id"]), "--claim", "--db", db)
    assert res.exit_code == 0 and "no credit" in res.stdout and "claim cluster" in res.stdout
    shown = " ".join(res.stdout.split())
    # a link credit is evidence to follow: printed whole, never cut
    assert courier["credit_text"] in shown.replace(" ", "") or courier["credit_text"] in shown
    assert "(published before it)" in shown and "(times in UTC)" in shown
    # every repetition of the wire's claim is dated to the minute, after the wire: no
    # parent is a guess
    assert wire["claim"] and wire["low_confidence"] == 0 and wire["copies"] >= 2
    # the claims table names each claim; a claim id given without --claim is pointed to it
    listed = run("origins", "--claims", "--db", db)
    assert wire["claim"].split()[0] in listed.stdout and "claim" in listed.stdout
    reuse_ids = {r["cluster_id"] for r in json.loads(run("origins", "--db", db, "--json").stdout)}
    claim_only = next(r["cluster_id"] for r in top if r["cluster_id"] not in reuse_ids)
    wrong = runner.invoke(app, ["cascade", str(claim_only), "--db", db])
    assert wrong.exit_code == 2 and "add --claim" in " ".join(wrong.output.split())
    # --limit 0 lists every cluster; a negative limit is refused
    every = json.loads(run("origins", "--claims", "--limit", "0", "--db", db, "--json").stdout)
    two = json.loads(run("origins", "--claims", "--limit", "2", "--db", db, "--json").stdout)
    assert len(every) == len(top) > 2 and [r["cluster_id"] for r in two] == [
        r["cluster_id"] for r in top[:2]
    ]
    assert runner.invoke(app, ["origins", "--limit", "-1", "--db", db]).exit_code == 2
    # The claim clusters export lists the six identical posts in one cluster, with sentences.
    out = tmp_path / "claims.csv"
    res = run(
        "export", "--table", "claim_clusters", "--format", "csv", "--out", str(out), "--db", db
    )
    assert res.exit_code == 0, res.output
    import csv

    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    breaking = [r for r in rows if r["sentence"].startswith("BREAKING: Harwick water POISONED")]
    assert {r["doc"] for r in breaking} == {"p002", "p003", "p004", "p005", "p006", "p007"}
    assert len({r["cluster_id"] for r in breaking}) == 1
    # Errors are one line, exit 2: no claim, both a claim and --doc, a bad sentence number,
    # and a model other than the store's.
    for args in (
        ["trace", "--db", db],
        ["trace", claim, "--doc", "p002", "--db", db],
        ["trace", "--doc", "p002", "--sentence", "99", "--db", db],
        ["trace", claim, "--model", str(tmp_path), "--db", db],
        ["trace", claim, "--near", "not a date", "--db", db],
        ["trace", claim, "--near", "doc", "--db", db],
    ):
        res = runner.invoke(app, args)
        assert res.exit_code == 2, (args, res.output)


def test_undated_copies_are_counted_at_ingest_and_in_sources(tmp_path):
    """A document without a date is said so when read, and its copy's parent is counted
    as a low-confidence guess per source; source names are printed as text, not markup."""
    story = (
        "The council approved the new bridge over the river Wyre after a vote of nine to four "
        "on Tuesday night, ending a dispute that has lasted for more than six years."
    )
    hostile = "[red]Evil[/red]"
    records = [
        {"id": "wire", "series": "wire", "date": "2025-03-01T08:00:00Z", "text": story},
        {"id": "late", "series": "gazette", "date": "2025-03-02T08:00:00Z", "text": story},
        {"id": "nodate", "series": hostile, "text": story},
    ]
    path = tmp_path / "docs.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")
    db = str(tmp_path / "s.duckdb")
    summary = json.loads(run("ingest", str(path), "--db", db, "--json").stdout)
    assert summary["undated"] == 1
    res = run("ingest", str(path), "--db", str(tmp_path / "t.duckdb"))
    assert "without a date" in res.stdout and "text alone" in " ".join(res.stdout.split())
    run("analyze", "--db", db, "--stage", "reuse", "--quiet")
    # printed, not --quiet: a store with no claims stage has no claim trees to report
    res = run("analyze", "--db", db, "--stage", "cascade", "--no-credit-model")  # exit 0
    assert "cascades: 1 trees" in " ".join(res.stdout.split()) and "claim trees" not in res.stdout
    rows = {r["source"]: r for r in json.loads(run("sources", "--db", db, "--json").stdout)}
    assert rows[hostile]["low_confidence"] == 1 and rows["gazette"]["low_confidence"] == 0
    shown = " ".join(run("sources", "--db", db).stdout.split())
    assert "[red]Evil" in shown  # printed as the text it is, not as markup
    assert "[red]Evil[/red]" in " ".join(run("stats", "--db", db).stdout.split())
    assert runner.invoke(app, ["sources", "--limit", "-1", "--db", db]).exit_code == 2
    # no claims stage ran: no claim trees to count, and it says what to run
    no_claims = runner.invoke(app, ["sources", "--claims", "--db", db])
    assert no_claims.exit_code == 0 and "No claim trees yet" in no_claims.output


def test_markup_in_ids_paths_and_errors_is_printed_as_text(tmp_path):
    """Ids, paths and reasons quote the input: a '[red]' in them is shown, not obeyed."""
    folder = tmp_path / "d[red]R"
    folder.mkdir()
    story = "Water was cut to forty thousand homes in Harwick after tests found a contaminant."
    records = [
        {"id": "a[bold]x[/bold]", "series": "one", "date": "2025-03-01T08:00:00Z", "text": story},
        {"id": "b", "series": "two[red]", "date": "2025-03-02T08:00:00Z", "text": story},
    ]
    path = folder / "docs.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")
    db = str(folder / "s.duckdb")
    ingested = " ".join(run("ingest", str(path), "--db", db).stdout.split())
    assert "d[red]R" in ingested
    assert "d[red]R" in " ".join(run("stats", "--db", db).stdout.split())
    missing = runner.invoke(app, ["reuse", "no[red]such[/red]", "--db", db])
    assert missing.exit_code == 2 and "no[red]such[/red]" in " ".join(missing.output.split())
    run("analyze", "--db", db, "--stage", "reuse", "--quiet")
    shown = " ".join(run("reuse", "b", "--db", db).stdout.split())
    assert "a[bold]x[/bold]" in shown and "two[red]" in shown
