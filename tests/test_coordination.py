"""Co-action networks: a planted group is found exactly, busy independent accounts are not,
and the window is applied at its edges (inclusive, across midnight, in UTC)."""

import json
import random
from datetime import datetime, timedelta

import pandas as pd
import pytest

from echoscope.detect.coordination.actions import actions, canonical_url
from echoscope.detect.coordination.network import auto_window, co_action_edges
from echoscope.ingest.pipeline import ingest


def _write(tmp_path, rows, name="posts.jsonl"):
    path = tmp_path / name
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return path


def _post(i, actor, when, text, **extra):
    return {"id": f"p{i}", "series": actor, "date": when.isoformat() + "Z", "text": text, **extra}


def test_planted_group_found_exactly_among_organic_activity(store, tmp_path):
    rng = random.Random(3)
    start = datetime(2024, 5, 1, 8, 0, 0)
    rows, i = [], 0
    group = [f"op_{k}" for k in range(5)]
    for item in range(8):  # eight pushes, each posted by the five accounts within 40 s
        t0 = start + timedelta(hours=item * 3)
        for k, actor in enumerate(group):
            rows.append(
                _post(
                    i,
                    actor,
                    t0 + timedelta(seconds=10 * k),
                    f"Narrative number {item}: they are hiding the truth about the dam.",
                )
            )
            i += 1
    for n in range(60):  # organic accounts: own words, random times, one popular article each
        actor = f"user_{n}"
        for _ in range(6):
            when = start + timedelta(seconds=rng.randrange(0, 3 * 24 * 3600))
            rows.append(
                _post(i, actor, when, f"{actor} thinks about topic {rng.randrange(10**6)} today")
            )
            i += 1
    ingest(store, [str(_write(tmp_path, rows))])
    edges = co_action_edges(store, actions(store, "co-text"), window_s=60, min_repeat=3)
    members = set(edges["actor_a"]) | set(edges["actor_b"])
    assert members == set(group)
    assert (
        len(edges) == 10 and (edges["items"] == 8).all()
    )  # every pair of the five, on all eight items
    lead = edges[(edges["actor_a"] == "op_0") & (edges["actor_b"] == "op_4")].iloc[0]
    assert lead["a_first"] == 8 and lead["median_delay_s"] == 40


def test_busy_accounts_sharing_popular_links_hours_apart_are_not_linked(store, tmp_path):
    start = datetime(2024, 5, 1, 6, 0, 0)
    rows = []
    for k in range(30):
        url = f"https://news.example/story-{k}?utm_source=twitter"
        rows.append(
            _post(2 * k, "busy_a", start + timedelta(minutes=30 * k), f"Reading {url}", links=[url])
        )
        rows.append(
            _post(
                2 * k + 1,
                "busy_b",
                start + timedelta(minutes=30 * k, hours=2),
                f"Look {url}",
                links=[url],
            )
        )
    ingest(store, [str(_write(tmp_path, rows))])
    acts = actions(store, "co-link")
    assert acts["item"].str.startswith("news.example/story-").all()
    assert co_action_edges(store, acts, window_s=60, min_repeat=2).empty
    wide = co_action_edges(store, acts, window_s=3 * 3600, min_repeat=2)
    assert len(wide) == 1 and wide["items"].iloc[0] == 30


def test_window_edges_inclusive_midnight_and_time_zones(store, tmp_path):
    rows = [
        # exactly 60 s apart, across midnight UTC
        _post(
            1, "a", datetime(2024, 12, 31, 23, 59, 30), "Same words here for the window test one"
        ),
        _post(2, "b", datetime(2025, 1, 1, 0, 0, 30), "Same words here for the window test one"),
        # 61 s apart: outside
        _post(3, "a", datetime(2025, 1, 2, 10, 0, 0), "Same words here for the window test two"),
        _post(4, "b", datetime(2025, 1, 2, 10, 1, 1), "Same words here for the window test two"),
    ]
    # the same instant written in another zone: 2025-01-03 11:00+01:00 == 10:00 UTC
    rows.append(
        {"id": "p5", "series": "a", "date": "2025-01-03T10:00:00Z", "text": "Zone test words"}
    )
    rows.append(
        {"id": "p6", "series": "b", "date": "2025-01-03T11:00:20+01:00", "text": "Zone test words"}
    )
    ingest(store, [str(_write(tmp_path, rows))])
    edges = co_action_edges(store, actions(store, "co-text"), window_s=60, min_repeat=1)
    assert len(edges) == 1 and edges["items"].iloc[0] == 2  # the 60 s pair and the zone pair


@pytest.mark.parametrize("window", [0, 0.5, 1, 59.5, 60, 3600])
def test_edges_match_brute_force_pairing_on_viral_items(store, window):
    """The bucketed join finds exactly the pairs within the window, including on items
    posted hundreds of times and at exact window distances."""
    rng = random.Random(5)
    rows = []
    for i in range(1500):
        item = f"viral{rng.randrange(3)}" if i % 3 else f"item{rng.randrange(400)}"
        t = 1_700_000_000 + rng.randrange(0, 20_000) + rng.choice([0, 0.5, 59.5, 60])
        rows.append({"seq": i, "actor": f"u{rng.randrange(40)}", "t": float(t), "item": item})
    acts = pd.DataFrame(rows)
    expected: dict[tuple[str, str], set[str]] = {}
    for item, group in acts.groupby("item"):
        recs = list(zip(group["actor"], group["t"], strict=True))
        for a, ta in recs:
            for b, tb in recs:
                if a < b and abs(ta - tb) <= window:
                    expected.setdefault((a, b), set()).add(item)
    edges = co_action_edges(store, acts, window_s=window, min_repeat=1)
    got = dict(
        zip(zip(edges["actor_a"], edges["actor_b"], strict=True), edges["items"], strict=True)
    )
    assert got == {k: len(v) for k, v in expected.items()} and got
    # who went first on each item: the pair's closest posts, a tie when as close both ways
    firsts: dict[tuple[str, str], list[int]] = {}
    for item, group in acts.groupby("item"):
        recs = list(zip(group["actor"], group["t"], strict=True))
        for a, b in {(a, b) for a, _ in recs for b, _ in recs if (a, b) in expected}:
            if item not in expected[(a, b)]:
                continue
            deltas = [tb - ta for x, ta in recs for y, tb in recs if (x, y) == (a, b)]
            gap = min(abs(d) for d in deltas if abs(d) <= window)
            signs = {d > 0 for d in deltas if abs(d) == gap and d != 0}
            counts = firsts.setdefault((a, b), [0, 0])
            if signs == {True}:
                counts[0] += 1
            elif signs == {False}:
                counts[1] += 1
    ordered = {
        (a, b): [x, y]
        for a, b, x, y in zip(
            edges["actor_a"], edges["actor_b"], edges["a_first"], edges["b_first"], strict=True
        )
    }
    assert ordered == {k: firsts.get(k, [0, 0]) for k in expected}


def test_hashtag_sets_reposts_and_similar(store, tmp_path):
    t = datetime(2024, 3, 1, 12, 0, 0)
    rows = [
        _post(1, "a", t, "Vote now #Harwick #CoverUp", metadata_note=1),
        _post(2, "b", t + timedelta(seconds=5), "Different words #coverup #harwick"),
        _post(3, "c", t + timedelta(seconds=9), "Only one tag #harwick"),
        {
            "id": "r1",
            "series": "a",
            "date": (t + timedelta(minutes=5)).isoformat() + "Z",
            "text": "RT original",
            "parent_id": "orig",
        },
        {
            "id": "r2",
            "series": "c",
            "date": (t + timedelta(minutes=5, seconds=3)).isoformat() + "Z",
            "text": "RT original!",
            "parent_id": "orig",
        },
    ]
    ingest(store, [str(_write(tmp_path, rows))])
    tags = co_action_edges(store, actions(store, "co-hashtag"), window_s=60, min_repeat=1)
    assert set(zip(tags["actor_a"], tags["actor_b"], strict=True)) == {("a", "b")}
    reposts = co_action_edges(store, actions(store, "co-repost"), window_s=60, min_repeat=1)
    assert set(zip(reposts["actor_a"], reposts["actor_b"], strict=True)) == {("a", "c")}
    assert auto_window(store, actions(store, "co-hashtag")) > 0
    with pytest.raises(ValueError):
        actions(store, "co-telepathy")


def test_canonical_url():
    assert (
        canonical_url("https://www.Example.com/a/b/?utm_source=x&id=3#frag")
        == "example.com/a/b?id=3"
    )
    assert canonical_url("http://example.com/") == "example.com"
    assert canonical_url("https://example.com/p?fbclid=abc") == "example.com/p"
    # several tracking parameters leave no stray separators; other parameters are kept
    assert (
        canonical_url("https://ex.com/a?id=7&utm_source=x&utm_medium=y&p=2") == "ex.com/a?id=7&p=2"
    )
    assert canonical_url("https://forum.ex.com/viewtopic.php?t=123") != canonical_url(
        "https://forum.ex.com/viewtopic.php?t=456"
    )
    assert canonical_url("https://twitter.com/#!/alice/status/1") != canonical_url(
        "https://twitter.com/#!/bob/status/2"
    )
    assert canonical_url("youtu.be/AbC") != canonical_url(
        "youtu.be/aBc"
    )  # only the host is case-folded


def test_truncated_and_upper_case_urls_at_ingest():
    from echoscope.ingest.records import extract_urls

    assert extract_urls("RT @x: hi https://t.co/sK2FOybVOx https://t…") == [
        "https://t.co/sK2FOybVOx"
    ]
    assert extract_urls("cut off https://t.co/sK2F…") == []
    assert extract_urls("READ THIS HTTPS://EXAMPLE.COM/STORY") == ["HTTPS://EXAMPLE.COM/STORY"]


def test_vectorised_canonical_urls_agree_with_the_reference():
    import pandas as pd

    from echoscope.detect.coordination.actions import canonical_urls

    urls = [
        "https://t.co/AbC123",
        "http://www.Example.com/a/",
        "HTTPS://EXAMPLE.COM/STORY",
        "https://ex.com:443/x",
        "https://ex.com/a?id=7&utm_source=x",
        "https://twitter.com/#!/a/1",
        "youtu.be/AbC",
        "https://user@ex.com/p",
    ]
    assert canonical_urls(pd.Series(urls)).tolist() == [canonical_url(u) for u in urls]


def test_plain_url_shortcut_agrees_with_the_parser():
    from echoscope.urls import _canonical_parsed

    urls = [
        "https://t.co/sK2FOybVOx",
        "HTTPS://WWW.EXAMPLE.COM/STORY/",
        "www.Ex.com",
        "https://www.",
        "https://t",
        "ex.com//a//",
        "ex.com/a://b",
        "Ex.com/a://b",
        "https:/ex.com/a",
        "http://./x",
        "http://ex.com/a\x01b",
        "http://ex.com/a\tb",
        "http://ex.com:8080/a",
        "ftp://Ex.com/a/",
        "http://Ex.com/caf\u00e9/",
        "http://b\u00fccher.Example/x",
    ]
    for url in urls:
        assert canonical_url(url) == _canonical_parsed(url.strip()), url


def _mixed_corpus(tmp_path, store):
    """A planted group, plus two busy accounts that share many popular items by chance."""
    rng = random.Random(11)
    start = datetime(2024, 6, 1, 0, 0, 0)
    rows, i = [], 0
    group = ["bot_a", "bot_b", "bot_c", "bot_d"]
    for item in range(6):
        t0 = start + timedelta(days=item, hours=9)
        for k, actor in enumerate(group):
            rows.append(
                _post(
                    i,
                    actor,
                    t0 + timedelta(seconds=15 * k),
                    f"Coordinated message {item} about the dam",
                )
            )
            i += 1
    popular = [f"Popular headline {k} everyone shares" for k in range(20)]
    for day in range(6):
        for actor in ("busy_x", "busy_y"):
            for _ in range(40):  # many posts a day, popular texts, random times
                when = start + timedelta(days=day, seconds=rng.randrange(86400))
                rows.append(_post(i, actor, when, rng.choice(popular)))
                i += 1
    ingest(store, [str(_write(tmp_path, rows, "mixed.jsonl"))])


def test_null_model_separates_coordination_from_busyness(store, tmp_path):
    from echoscope.detect.coordination.groups import find_groups
    from echoscope.detect.coordination.significance import score_edges

    _mixed_corpus(tmp_path, store)
    acts = actions(store, "co-text")
    edges = co_action_edges(store, acts, window_s=300, min_repeat=3)
    busy = edges[(edges["actor_a"] == "busy_x") & (edges["actor_b"] == "busy_y")]
    assert len(busy) == 1  # the busy pair does meet often enough to make an edge ...
    scored = score_edges(store, acts, edges, window_s=300, runs=30, seed=1)
    busy_p = scored[(scored["actor_a"] == "busy_x") & (scored["actor_b"] == "busy_y")]["p"].iloc[0]
    bots = scored[scored["actor_a"].str.startswith("bot") & scored["actor_b"].str.startswith("bot")]
    assert busy_p > 0.05  # ... but chance does as well: not flagged
    assert len(bots) == 6 and (bots["p"] <= 0.05).all()
    groups = find_groups(scored[scored["p"] <= 0.05], acts, 300)
    assert [g.members for g in groups] == [["bot_a", "bot_b", "bot_c", "bot_d"]]
    assert groups[0].first_mover == "bot_a" and groups[0].items == 6
    # the same actions in another row order (a store's scan order is not fixed): the same
    # null model, so a rerun reports the same figures
    for seed in (2, 3):
        mixed = acts.sample(frac=1, random_state=seed).reset_index(drop=True)
        again = score_edges(store, mixed, edges, window_s=300, runs=30, seed=1)
        pd.testing.assert_frame_equal(again, scored)


def test_cli_coordination_on_demo_finds_the_scenario_accounts(tmp_path):
    import xml.etree.ElementTree as ET

    from typer.testing import CliRunner

    from echoscope.cli import app
    from echoscope.demo import DATA_DIR

    runner = CliRunner()
    result = json.loads(runner.invoke(app, ["demo", "--dir", str(tmp_path / "d"), "--json"]).stdout)
    truth = json.loads((DATA_DIR / "ground_truth.json").read_text(encoding="utf-8"))["coordination"]
    res = runner.invoke(
        app,
        [
            "coordination",
            "--db",
            result["db"],
            "--window",
            "10m",
            "--json",
            "--export",
            str(tmp_path / "net.gexf"),
        ],
    )
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert [sorted(g["members"]) for g in data["groups"]] == [sorted(truth["accounts"])]
    assert not set(truth["organic"]) & set(data["groups"][0]["members"])
    top_edges = data["groups"][0]["top_edges"]
    assert top_edges and all({"leader", "follower", "lead_share"} <= set(e) for e in top_edges)
    ET.parse(tmp_path / "net.gexf")
    for ext in ("graphml", "csv"):
        res = runner.invoke(
            app,
            [
                "coordination",
                "--db",
                result["db"],
                "--window",
                "10m",
                "--null-runs",
                "0",
                "--export",
                str(tmp_path / f"net.{ext}"),
            ],
        )
        assert res.exit_code == 0 and (tmp_path / f"net.{ext}").stat().st_size > 0
    bad = runner.invoke(app, ["coordination", "--db", result["db"], "--window", "soon"])
    assert bad.exit_code == 2 and "--window" in bad.output


def test_co_claim_links_accounts_pushing_one_claim_in_different_words(store, tmp_path, embedder):
    """Three accounts post the same claims re-worded within minutes (so co-text sees
    nothing); co-claim, over the claims stage's clusters, links exactly them."""
    from echoscope.detect.claims.stage import run_claims

    start = datetime(2024, 5, 1, 8, 0, 0)
    pushes = [
        (
            "The new dam at Lake Orrin is leaking radioactive water into the river.",
            "Radioactive water is leaking from the new Lake Orrin dam into the river.",
            "The Lake Orrin dam is leaking radioactive water into the river, insiders say.",
        ),
        (
            "Mayor Dunmore secretly sold the town's water rights to a foreign company.",
            "A foreign company was secretly sold the town's water rights by Mayor Dunmore.",
            "Mayor Dunmore has secretly sold our water rights to a foreign firm.",
        ),
        (
            "Schools in Brackwell will close for a month because of toxic mould.",
            "Toxic mould will close Brackwell schools for a month.",
            "Brackwell's schools are closing for a month over toxic mould.",
        ),
    ]
    rows, i = [], 0
    group = ["op_a", "op_b", "op_c"]
    for n, wordings in enumerate(pushes):
        t0 = start + timedelta(hours=5 * n)
        for k, (actor, text) in enumerate(zip(group, wordings, strict=True)):
            rows.append(_post(i, actor, t0 + timedelta(seconds=90 * k), text))
            i += 1
    organic = [
        "Lovely morning for a walk along the canal with the dog.",
        "Our bakery has fresh sourdough loaves on the counter from nine.",
        "The under-twelves won their football match four goals to one.",
        "Roadworks on the ring road will finish by the end of next week.",
        "The library's book sale raised enough money for new shelves.",
        "Heavy rain is expected across the north of the county tonight.",
    ]
    for n, text in enumerate(organic):
        rows.append(_post(i, f"user_{n}", start + timedelta(minutes=37 * n), text))
        i += 1
    ingest(store, [str(_write(tmp_path, rows))])
    assert co_action_edges(store, actions(store, "co-text"), window_s=600, min_repeat=2).empty
    with pytest.raises(ValueError, match="analyze --stage claims"):
        actions(store, "co-claim")
    run_claims(store, embedder=embedder)
    acts = actions(store, "co-claim")
    assert acts["label"].notna().all()
    edges = co_action_edges(store, acts, window_s=600, min_repeat=2)
    assert set(edges["actor_a"]) | set(edges["actor_b"]) == set(group)
    assert len(edges) == 3 and (edges["items"] == 3).all()


def _link_corpus(tmp_path, store):
    """Two accounts share the same two articles within seconds, each written its own way
    (tracking parameters, 'www.', a fragment, a trailing slash); a third shares others."""
    t = datetime(2024, 7, 1, 9, 0, 0)
    rows = [
        _post(
            1,
            "acct_a",
            t,
            "Read this",
            links=["https://www.Example.com/story-1/?utm_source=tw&utm_medium=social"],
        ),
        _post(
            2,
            "acct_b",
            t + timedelta(seconds=20),
            "Must read",
            links=["http://example.com/story-1#comments"],
        ),
        _post(
            3,
            "acct_a",
            t + timedelta(hours=2),
            "And this",
            links=[
                "https://example.com/story-2?id=9&fbclid=XYZ",
                "https://www.example.com/story-2/?id=9",
            ],
        ),
        _post(
            4,
            "acct_b",
            t + timedelta(hours=2, seconds=15),
            "Also https://example.com/story-2?id=9#top",
        ),
        _post(
            5,
            "acct_c",
            t + timedelta(seconds=5),
            "Other",
            links=["https://example.com/story-1?id=3"],
        ),
        _post(6, "acct_c", t + timedelta(hours=2, seconds=5), "No link here"),
    ]
    ingest(store, [str(_write(tmp_path, rows, "links.jsonl"))])


def test_canonical_links_are_stored_at_ingest(store, tmp_path):
    from echoscope.urls import canonical_links

    _link_corpus(tmp_path, store)
    rows = store.con.execute(
        "SELECT id, links, canonical_links FROM documents ORDER BY seq"
    ).fetchall()
    for _, links, stored in rows:  # each link's canonical form, once, in first-seen order
        assert stored == list(dict.fromkeys(canonical_url(u) for u in links or []))
        assert stored == canonical_links(links)
    by_id = {doc_id: stored for doc_id, _, stored in rows}
    assert by_id["p1"] == by_id["p2"] == ["example.com/story-1"]
    assert by_id["p3"] == by_id["p4"] == ["example.com/story-2?id=9"]  # two links, one item
    assert (
        by_id["p5"] == ["example.com/story-1?id=3"] and by_id["p6"] == []
    )  # [], not NULL: NULL means "not computed"
    # a derived column: left out of exports, recomputed when the export is read back
    out = tmp_path / "docs.parquet"
    store.export_documents(out, "parquet")
    store.export_documents(tmp_path / "docs.csv", "csv")
    assert "canonical_links" not in (tmp_path / "docs.csv").read_text().splitlines()[0]
    from echoscope.store import Store

    with Store(tmp_path / "imported.duckdb") as other:
        ingest(other, [str(out)])
        again = other.con.execute("SELECT id, canonical_links FROM documents").fetchall()
    assert dict(again) == by_id


def test_tracking_www_and_fragment_variants_link_accounts_on_co_link(store, tmp_path):
    _link_corpus(tmp_path, store)
    acts = actions(store, "co-link")
    assert set(acts["item"]) == {
        "example.com/story-1",
        "example.com/story-2?id=9",
        "example.com/story-1?id=3",
    }
    assert not acts.duplicated(["seq", "item"]).any()
    assert (acts["label"] == acts["item"]).all()
    edges = co_action_edges(store, acts, window_s=60, min_repeat=2)
    assert set(zip(edges["actor_a"], edges["actor_b"], strict=True)) == {("acct_a", "acct_b")}
    assert edges["items"].tolist() == [2]
    # the raw strings alone would link nobody
    raw = store.con.execute(
        "SELECT d.seq, d.source AS actor, epoch(d.published_at) AS t, unnest(d.links) AS item "
        "FROM documents d"
    ).df()
    assert co_action_edges(store, raw, window_s=60, min_repeat=1).empty


def test_store_from_before_canonical_links_is_filled_with_the_same_edges(tmp_path):
    from echoscope.store import Store

    path = tmp_path / "old.duckdb"
    with Store(path) as store:
        _link_corpus(tmp_path, store)
        fresh = actions(store, "co-link")
        fresh_edges = co_action_edges(store, fresh, window_s=60, min_repeat=1)
        assert len(fresh_edges) == 1
        # rows written without the column (an older echoscope): filled lazily, in batches
        store.con.execute("UPDATE documents SET canonical_links = NULL")
        assert store.missing_canonical_links() == 6
        assert store.fill_canonical_links(batch_docs=4) == 6
        assert store.missing_canonical_links() == 0
        store.con.execute("UPDATE documents SET canonical_links = NULL")
        pd.testing.assert_frame_equal(actions(store, "co-link"), fresh)  # fills, then reads
        assert store.missing_canonical_links() == 0
        # a store made before the column existed
        store.con.execute("ALTER TABLE documents DROP COLUMN canonical_links")
    with Store(path, read_only=True) as store:  # cannot be saved: computed in memory
        assert store.missing_canonical_links() == 6
        acts = actions(store, "co-link")
        pd.testing.assert_frame_equal(acts, fresh, check_dtype=False)
        pd.testing.assert_frame_equal(
            co_action_edges(store, acts, window_s=60, min_repeat=1), fresh_edges
        )
        assert store.missing_canonical_links() == 6
    with Store(path) as store:  # the first writable open adds and fills the column
        assert store.missing_canonical_links() == 0
        stored = store.con.execute(
            "SELECT id, canonical_links FROM documents WHERE canonical_links IS NOT NULL"
        ).fetchall()
        assert dict(stored)["p4"] == ["example.com/story-2?id=9"]
        pd.testing.assert_frame_equal(actions(store, "co-link"), fresh)
        # one row as an older echoscope would have added it, then read without writing
        store.con.execute("UPDATE documents SET canonical_links = NULL WHERE id = 'p4'")
    with Store(path, read_only=True) as store:
        assert store.missing_canonical_links() == 1

        def by_seq(frame):  # DuckDB moved the updated row to the end of the table
            return frame.sort_values(["seq", "item"]).reset_index(drop=True)

        pd.testing.assert_frame_equal(
            by_seq(actions(store, "co-link")), by_seq(fresh), check_dtype=False
        )


def test_malformed_links_never_stop_ingest(store, tmp_path):
    bad = ["http://ex.com:abc/x", "http://ex.com:99999/", "http://[::1/x", "https://", "  "]
    assert [canonical_url(u) for u in bad] == [
        "ex.com:abc/x",
        "ex.com:99999",
        "http://[::1/x",
        "",
        "",
    ]
    t = datetime(2024, 7, 1, 9, 0, 0)
    ingest(store, [str(_write(tmp_path, [_post(1, "a", t, "x", links=bad)], "bad.jsonl"))])
    stored = store.con.execute("SELECT canonical_links FROM documents").fetchall()[0][0]
    assert set(stored) <= {canonical_url(u) for u in bad}
    assert len(actions(store, "co-link")) == len(stored)


# -- who leads whom -------------------------------------------------------------------

HOSTILE = "<b>&\"'lead"  # account names are hostile input: markup, quotes, ampersands


def _acts(posts: list[tuple[str, str, float]]) -> pd.DataFrame:
    """(actor, item, t) rows as ``actions()`` would give them."""
    return pd.DataFrame(
        [{"seq": i, "actor": a, "item": it, "t": float(t)} for i, (a, it, t) in enumerate(posts)]
    )


def _edge(edges: pd.DataFrame, a: str, b: str) -> pd.Series:
    pair = sorted([a, b])
    hit = edges[(edges["actor_a"] == pair[0]) & (edges["actor_b"] == pair[1])]
    assert len(hit) == 1, (a, b)
    return hit.iloc[0]


def _leader_corpus() -> pd.DataFrame:
    """Three planted pairs, each on its own items, an hour apart:
    - alpha always 10-30 s before beta (alpha < beta: the leader is actor_a);
    - zed always 10-30 s before amy (amy < zed: the leader is actor_b);
    - cat and dog take turns going first;
    - eve and fay always post at the same second (ties)."""
    posts: list[tuple[str, str, float]] = []
    t0 = 1_700_000_000.0
    for k, delay in enumerate([10, 15, 20, 25, 30]):
        posts += [("alpha", f"ab{k}", t0 + 3600 * k), ("beta", f"ab{k}", t0 + 3600 * k + delay)]
        posts += [("zed", f"za{k}", t0 + 3600 * k), ("amy", f"za{k}", t0 + 3600 * k + delay)]
    for k in range(6):
        first, second = ("cat", "dog") if k % 2 else ("dog", "cat")
        posts += [(first, f"cd{k}", t0 + 3600 * k), (second, f"cd{k}", t0 + 3600 * k + 20)]
    for k in range(4):
        posts += [("eve", f"ef{k}", t0 + 3600 * k), ("fay", f"ef{k}", t0 + 3600 * k)]
    return _acts(posts)


def test_consistent_leader_is_the_actor_that_acts_first(store):
    edges = co_action_edges(store, _leader_corpus(), window_s=60, min_repeat=2)
    ab = _edge(edges, "alpha", "beta")
    # a_first counts the items actor_a ("alpha") acted on first
    assert (ab["a_first"], ab["b_first"]) == (5, 0)
    assert (ab["leader"], ab["follower"], ab["lead_share"]) == ("alpha", "beta", 1.0)
    za = _edge(edges, "zed", "amy")
    assert (za["actor_a"], za["a_first"], za["b_first"]) == ("amy", 0, 5)
    assert (za["leader"], za["follower"], za["lead_share"]) == ("zed", "amy", 1.0)
    cd = _edge(edges, "cat", "dog")  # alternating: 3 each, share 0.5
    assert pd.isna(cd["leader"]) and pd.isna(cd["follower"]) and cd["lead_share"] == 0.5
    ef = _edge(edges, "eve", "fay")  # ties count for neither: nothing ordered, no share
    assert (ef["items"], ef["a_first"], ef["b_first"]) == (4, 0, 0)
    assert pd.isna(ef["leader"]) and pd.isna(ef["lead_share"])


def test_posts_as_close_both_ways_are_a_tie_not_a_pick(store):
    """gus posts an item twice, 20 s either side of hal's one post: which of them went
    first is undecided, so it counts for neither, however the rows are ordered."""
    t0 = 1_700_000_000.0
    posts = []
    for k in range(3):
        t = t0 + 3600 * k
        posts += [("gus", f"gh{k}", t - 20), ("hal", f"gh{k}", t), ("gus", f"gh{k}", t + 20)]
    posts += [("gus", "gh9", t0 + 90_000), ("hal", "gh9", t0 + 90_010)]  # gus first, by 10 s
    for k in range(2):  # times that are not numbers order nothing and pair with nothing
        posts += [("gus", f"nan{k}", float("nan")), ("hal", f"nan{k}", float("nan"))]
    for order in (posts, posts[::-1]):
        edge = _edge(co_action_edges(store, _acts(order), window_s=60, min_repeat=2), "gus", "hal")
        assert (edge["items"], edge["a_first"], edge["b_first"]) == (4, 1, 0)
        assert edge["median_delay_s"] == 20.0  # the gap is still the closest posts'


def test_lead_rule_thresholds():
    from echoscope.detect.coordination.network import LEAD_MIN, LEAD_SHARE, with_leaders

    assert (LEAD_SHARE, LEAD_MIN) == (0.8, 2)
    edges = pd.DataFrame(
        {
            "actor_a": ["a", "c", "e", "g", "i"],
            "actor_b": ["b", "d", "f", "h", "j"],
            "a_first": [4, 3, 1, 2, 0],
            "b_first": [1, 2, 0, 0, 0],
            "items": [5, 5, 3, 9, 2],  # ties (items - a_first - b_first) do not dilute
        }
    )
    got = with_leaders(edges).fillna({"leader": "", "follower": ""})
    assert got["leader"].tolist() == ["a", "", "", "g", ""]
    assert got["follower"].tolist() == ["b", "", "", "h", ""]
    # 4 of 5 meets 0.8; 3 of 5 does not; 1 of 1 is too few; 2 of 2 (7 ties) is enough
    assert got["lead_share"].tolist()[:4] == [0.8, 0.6, 1.0, 1.0]
    assert pd.isna(got["lead_share"].iloc[4])
    assert "leader" not in edges.columns  # a copy
    stricter = with_leaders(edges, min_share=0.9, min_count=3)
    assert stricter["leader"].isna().all()
    looser = with_leaders(edges, min_share=0.55, min_count=1)
    assert looser["leader"].fillna("").tolist() == ["a", "c", "e", "g", ""]
    with pytest.raises(ValueError):
        with_leaders(edges, min_share=0.5)
    with pytest.raises(ValueError):
        with_leaders(edges, min_count=0)
    empty = with_leaders(edges.iloc[:0])
    assert {"leader", "follower", "lead_share"} <= set(empty.columns) and empty.empty


def _hostile_edges(store) -> pd.DataFrame:
    """HOSTILE always leads 'x&y'; 'q<' and 'r"' take turns (mutual)."""
    posts: list[tuple[str, str, float]] = []
    t0 = 1_700_000_000.0
    for k in range(4):
        posts += [(HOSTILE, f"h{k}", t0 + 3600 * k), ("x&y", f"h{k}", t0 + 3600 * k + 12)]
        first, second = ("q<", 'r"') if k % 2 else ('r"', "q<")
        posts += [(first, f"m{k}", t0 + 3600 * k), (second, f"m{k}", t0 + 3600 * k + 5)]
    edges = co_action_edges(store, _acts(posts), window_s=60, min_repeat=2)
    assert len(edges) == 2
    return edges


def _gexf_edges(path) -> tuple[str, list[tuple[str, str, dict[str, str]]], set[str]]:
    import xml.etree.ElementTree as ET

    ns = {"g": "http://gexf.net/1.3"}
    root = ET.parse(path).getroot()
    graph = root.find("g:graph", ns)
    nodes = {n.get("id") for n in graph.iterfind("g:nodes/g:node", ns)}
    edges = [
        (
            e.get("source"),
            e.get("target"),
            {v.get("for"): v.get("value") for v in e.iterfind("g:attvalues/g:attvalue", ns)},
        )
        for e in graph.iterfind("g:edges/g:edge", ns)
    ]
    return graph.get("defaultedgetype"), edges, nodes


def _graphml_edges(path) -> tuple[str, list[tuple[str, str, dict[str, str]]], set[str]]:
    import xml.etree.ElementTree as ET

    ns = {"g": "http://graphml.graphdrawing.org/xmlns"}
    root = ET.parse(path).getroot()
    keys = {k.get("id"): k.get("attr.name") for k in root.iterfind("g:key", ns)}
    graph = root.find("g:graph", ns)
    nodes = {n.get("id") for n in graph.iterfind("g:node", ns)}
    edges = [
        (
            e.get("source"),
            e.get("target"),
            {keys[d.get("key")]: d.text for d in e.iterfind("g:data", ns)},
        )
        for e in graph.iterfind("g:edge", ns)
    ]
    return graph.get("edgedefault"), edges, nodes


def test_directed_exports_point_from_leader_to_follower(store, tmp_path):
    from echoscope.detect.coordination.export import write_network

    edges = _hostile_edges(store)
    names = {HOSTILE, "x&y", "q<", 'r"'}
    for ext, read, kind in (
        ("gexf", _gexf_edges, "directed"),
        ("graphml", _graphml_edges, "directed"),
    ):
        path = write_network(edges, tmp_path / f"net.{ext}", {HOSTILE: 1}, directed=True)
        text = path.read_text(encoding="utf-8")
        assert "<b>" not in text and "&\"'" not in text  # escaped, not written raw
        default, arcs, nodes = read(path)
        assert default == kind and nodes == names
        by_pair = {(s, t): attrs for s, t, attrs in arcs}
        assert len(arcs) == 3  # the led edge once, the mutual edge once each way
        led = by_pair[(HOSTILE, "x&y")]
        assert (HOSTILE, "x&y") in by_pair and ("x&y", HOSTILE) not in by_pair
        assert led["mutual"] == "false" and led["leader"] == HOSTILE
        assert float(led["lead_share"]) == 1.0
        assert float(led["source_first"]) == 4 and float(led["target_first"]) == 0
        for pair in (("q<", 'r"'), ('r"', "q<")):
            assert by_pair[pair]["mutual"] == "true" and "leader" not in by_pair[pair]
            assert float(by_pair[pair]["source_first"]) == 2
        # undirected: one edge per pair, the leader as an attribute
        path = write_network(edges, tmp_path / f"flat.{ext}", directed=False)
        default, flat, nodes = read(path)
        assert default == "undirected" and nodes == names and len(flat) == 2
        leaders = {frozenset((s, t)): attrs.get("leader") for s, t, attrs in flat}
        assert leaders == {frozenset((HOSTILE, "x&y")): HOSTILE, frozenset(("q<", 'r"')): None}


def test_export_names_that_xml_cannot_carry_as_is(store, tmp_path):
    """Control characters cannot appear in XML at all (not even escaped): replaced;
    newlines and tabs survive (escaped, or a parser would turn them into spaces)."""
    from echoscope.detect.coordination.export import write_network

    t0 = 1_700_000_000.0
    posts = []
    for k in range(3):
        posts += [
            ("two\nlines\t", f"i{k}", t0 + 3600 * k),
            ("ctl\x01x", f"i{k}", t0 + 3600 * k + 9),
        ]
    edges = co_action_edges(store, _acts(posts), window_s=60)
    two, ctl = "two\nlines\t", "ctl\ufffdx"
    for directed in (False, True):
        # undirected: actor_a -> actor_b ("ctl..." sorts first); directed: leader -> follower
        expected = (two, ctl) if directed else (ctl, two)
        for ext, read in (("gexf", _gexf_edges), ("graphml", _graphml_edges)):
            _, arcs, nodes = read(write_network(edges, tmp_path / f"n.{ext}", directed=directed))
            assert nodes == {two, ctl}
            assert [arc[:2] for arc in arcs] == [expected] and arcs[0][2]["leader"] == two


def test_csv_export_has_leader_columns(store, tmp_path):
    from echoscope.detect.coordination.export import write_network

    edges = _hostile_edges(store)
    for directed in (False, True):
        path = write_network(edges, tmp_path / "net.csv", directed=directed)
        back = pd.read_csv(path, keep_default_na=False)
        assert {"leader", "follower", "lead_share"} <= set(back.columns)
        assert len(back) == 2  # one row per pair in both modes
        led = back[back["leader"] != ""].iloc[0]
        assert (led["leader"], led["follower"], led["lead_share"]) == (HOSTILE, "x&y", 1.0)
    # an edge frame from before leaders existed still exports them
    old = edges.drop(columns=["leader", "follower", "lead_share"])
    back = pd.read_csv(write_network(old, tmp_path / "old.csv"), keep_default_na=False)
    assert back["leader"].tolist().count(HOSTILE) == 1
    with pytest.raises(ValueError, match="gexf"):
        write_network(edges, tmp_path / "net.txt")


def test_groups_show_leaders_of_their_strongest_edges(store):
    from echoscope.detect.coordination.groups import find_groups

    acts = _leader_corpus()
    edges = co_action_edges(store, acts, window_s=60, min_repeat=2)
    groups = {tuple(g.members): g for g in find_groups(edges, acts, 60)}
    ab = groups[("alpha", "beta")]
    assert ab.first_mover == "alpha"
    assert ab.top_edges == [
        {
            "actor_a": "alpha",
            "actor_b": "beta",
            "items": 5,
            "leader": "alpha",
            "follower": "beta",
            "lead_share": 1.0,
        }
    ]
    assert groups[("amy", "zed")].top_edges[0]["leader"] == "zed"
    ef = groups[("eve", "fay")].top_edges[0]
    assert ef["leader"] is None and ef["lead_share"] is None  # JSON null, not NaN
    json.dumps([g.__dict__ for g in groups.values()], allow_nan=False)


def test_cli_coordination_leaders_in_json_table_and_directed_export(tmp_path):
    import xml.etree.ElementTree as ET

    from typer.testing import CliRunner

    from echoscope.cli import app
    from echoscope.store import Store

    start = datetime(2024, 5, 1, 8, 0, 0)
    leader, follower = "[bold]" + HOSTILE, "[/]x&y"  # also not rich markup
    rows = []
    for k in range(4):
        t = start + timedelta(hours=k)
        rows.append(_post(2 * k, leader, t, f"Push number {k}: the dam is leaking again."))
        rows.append(
            _post(
                2 * k + 1,
                follower,
                t + timedelta(seconds=20),
                f"Push number {k}: the dam is leaking again.",
            )
        )
    db = str(tmp_path / "cli.duckdb")
    with Store(db) as store:
        ingest(store, [str(_write(tmp_path, rows))])
    runner = CliRunner()
    base = ["coordination", "--db", db, "--null-runs", "0", "--window", "60s"]
    res = runner.invoke(app, [*base, "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["led_edges"] == 1
    edge = data["groups"][0]["top_edges"][0]
    assert (edge["leader"], edge["follower"], edge["lead_share"]) == (leader, follower, 1.0)
    res = runner.invoke(app, [*base, "--directed", "--export", str(tmp_path / "net.gexf")])
    assert res.exit_code == 0, res.output
    assert f"{leader} leads {follower}" in " ".join(res.stdout.split())
    root = ET.parse(tmp_path / "net.gexf").getroot()
    ns = {"g": "http://gexf.net/1.3"}
    assert root.find("g:graph", ns).get("defaultedgetype") == "directed"
    [arc] = root.iterfind("g:graph/g:edges/g:edge", ns)
    assert (arc.get("source"), arc.get("target")) == (leader, follower)


def test_csv_export_makes_formula_names_inert(store, tmp_path):
    """An account named like a formula is written inert in CSV; a handle is not touched."""
    from echoscope.detect.coordination.export import write_network

    t0 = 1_700_000_000.0
    evil, handle = '=HYPERLINK("http://x.example")', "@newsdesk"
    posts = []
    for k in range(3):
        posts += [(evil, f"i{k}", t0 + 3600 * k), (handle, f"i{k}", t0 + 3600 * k + 9)]
    edges = co_action_edges(store, _acts(posts), window_s=60)
    back = pd.read_csv(write_network(edges, tmp_path / "n.csv"), keep_default_na=False)
    names = set(back["actor_a"]) | set(back["actor_b"])
    assert names == {"'" + evil, handle} and back["leader"].tolist() == ["'" + evil]
    raw = pd.read_csv(
        write_network(edges, tmp_path / "raw.csv", spreadsheet_safe=False), keep_default_na=False
    )
    assert set(raw["actor_a"]) | set(raw["actor_b"]) == {evil, handle}


def test_cli_lead_thresholds_are_options(tmp_path):
    """3 of 4 items first is a mutual edge at the default 0.8 share, a led edge at 0.7; a
    share that cannot name a leader is a one-line error."""
    from typer.testing import CliRunner

    from echoscope.cli import app
    from echoscope.store import Store

    start = datetime(2024, 5, 1, 8, 0, 0)
    rows = []
    for k in range(4):
        t = start + timedelta(hours=k)
        first, second = ("alpha", "beta") if k < 3 else ("beta", "alpha")
        text = f"Push number {k}: the dam is leaking again."
        rows.append(_post(2 * k, first, t, text))
        rows.append(_post(2 * k + 1, second, t + timedelta(seconds=20), text))
    db = str(tmp_path / "lead.duckdb")
    with Store(db) as store:
        ingest(store, [str(_write(tmp_path, rows))])
    runner = CliRunner()
    base = ["coordination", "--db", db, "--null-runs", "0", "--window", "60s", "--json"]
    res = runner.invoke(app, base)
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["led_edges"] == 0
    res = runner.invoke(app, [*base, "--lead-share", "0.7"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["led_edges"] == 1
    edge = data["groups"][0]["top_edges"][0]
    assert (edge["leader"], edge["lead_share"]) == ("alpha", 0.75)
    res = runner.invoke(app, [*base, "--lead-share", "0.7", "--lead-min", "4"])
    assert json.loads(res.stdout)["led_edges"] == 0
    res = runner.invoke(app, [*base, "--lead-share", "0.4"])
    assert res.exit_code != 0 and "--lead-share" in res.output
